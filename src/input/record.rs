//! `Record`: what the pipeline keeps of one input record (instance id, run, patch, embedded
//! label and, when asked, a precomputed score); `formats::extract` makes it from any format.

use crate::loc::Loc;

/// What the pipeline keeps of a record (no trajectory: it is re-read from `source` on demand).
#[derive(Clone, Debug)]
pub struct Record {
    pub(crate) instance_id: String,
    /// The record's own run name (`run`, or OpenHands `attempt`), if it has one.
    pub(crate) run: Option<String>,
    /// The patch; `None` for `null` or missing.
    pub(crate) patch: Option<String>,
    pub(crate) resolved: Option<bool>,
    /// The value of the `field:NAME` scorer's field, when one is asked for.
    pub(crate) field_score: Option<f64>,
    pub(crate) source: Loc,
    /// Where `resolved` came from when not from the record itself (a submission's results).
    pub(crate) label_from: Option<String>,
    /// A known field with a shape the record survives (`history: null`): counted and said.
    pub(crate) flaw: Option<&'static str>,
}
