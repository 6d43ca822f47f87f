//! mini-swe-agent runs: `<run>/<iid>/<iid>.traj.json` holding `{"info": {"exit_status",
//! "submission", ...}, "messages": [{role, content}], "trajectory_format": "mini-swe-agent-1",
//! "instance_id"}` (plus a run-level `preds.json`). The patch is `info.submission`. Before
//! `trajectory_format` 1 (and in its `github_issue` runs) the file was a bare list of messages:
//! the instance id is then the file name's, and the patch the run's `preds.json` entry.

use anyhow::Result;
use serde_json::Value;

use std::path::Path;

use crate::input::fields::traj_instance_id;
use crate::input::record::Record;
use crate::input::trajectory::{self, Trajectory};
use crate::loc::Loc;

/// Where the patch is (`crate::input::fields::first_string`).
pub(crate) const PATCH: &[&[&str]] = &[&["info", "submission"]];

/// The record of a bare-list `<iid>.traj.json` (its patch comes from the run's `preds.json`).
pub(crate) fn bare_list_record(path: &Path) -> Result<Record> {
    Ok(Record {
        instance_id: traj_instance_id(path)?,
        run: None,
        patch: None,
        resolved: None,
        field_score: None,
        source: Loc::file(path),
        label_from: None,
        flaw: None,
    })
}

pub(crate) fn trajectory(v: &Value) -> Result<Option<Trajectory>> {
    let list = match (v, v.get("messages")) {
        (Value::Array(list), _) => list,
        (_, Some(Value::Array(list))) => list,
        _ => return Ok(None),
    };
    let messages = trajectory::chat_messages(list, "messages")?;
    let problem_statement = trajectory::problem_statement(v, &messages);
    Ok(Some(Trajectory { messages, problem_statement, tools: None }))
}
