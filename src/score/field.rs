//! The `field:NAME` scorer: a score already present in each record (a dotted path such as
//! `verifier.p_yes` reaches into nested objects). A record without the field is an error
//! unless its patch is empty; holes get no score.

use anyhow::{Result, bail};

use super::{Done, Produced, Scored, Scorer, ScorerSettings, SideStores};
use crate::input::Dataset;

pub(crate) struct FieldScore {
    name: String,
}

impl FieldScore {
    pub(crate) fn new(name: &str) -> Self {
        FieldScore { name: name.to_string() }
    }
}

impl Scorer for FieldScore {
    fn settings(&self) -> ScorerSettings {
        ScorerSettings::Field { field: self.name.clone() }
    }

    fn score(&mut self, ds: &Dataset, todo: &[usize], _: &mut SideStores, done: Done) -> Result<Produced> {
        for &idx in todo {
            let c = &ds.cands[idx];
            let score = match (c.field_score, &c.source) {
                (Some(s), _) => Some(s),
                (None, Some(src)) if !c.is_empty() => {
                    bail!("{src}: field `{}`: missing (needed by --scorer field:{0})", self.name)
                }
                (None, _) => None,
            };
            done(idx, Scored::plain(score))?;
        }
        Ok(Produced::default())
    }
}
