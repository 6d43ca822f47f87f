//! mini-swe-agent runs: `<run>/<iid>/<iid>.traj.json` holding `{"info": {"exit_status",
//! "submission", ...}, "messages": [{role, content}], "trajectory_format": "mini-swe-agent-1",
//! "instance_id"}` (plus a run-level `preds.json`). The patch is `info.submission`.

use anyhow::Result;
use serde_json::Value;

use crate::input::record::opt_string;
use crate::input::trajectory::{self, Trajectory};
use crate::loc::Source;

pub fn patch(v: &Value, src: &Source) -> Result<Option<String>> {
    opt_string(v, &["info", "submission"], src)
}

pub fn trajectory(v: &Value) -> Result<Option<Trajectory>> {
    let Some(Value::Array(list)) = v.get("messages") else { return Ok(None) };
    let messages = trajectory::chat_messages(list, "messages")?;
    let problem_statement = trajectory::problem_statement(v, &messages);
    Ok(Some(Trajectory { messages, problem_statement }))
}
