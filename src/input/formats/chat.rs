//! Chat-message records (released verifier and trajectory datasets: SWE-Gym, nebius
//! SWE-rebench-openhands-trajectories): `instance_id`, `messages` (or `trajectory`) of
//! `{role, content, tool_calls?}`, `model_patch`, `resolved`.

use anyhow::Result;
use serde_json::Value;

use crate::input::record::opt_string;
use crate::input::trajectory::{self, Trajectory};
use crate::loc::Source;

pub fn patch(v: &Value, src: &Source) -> Result<Option<String>> {
    opt_string(v, &["model_patch"], src)
}

pub fn trajectory(v: &Value) -> Result<Option<Trajectory>> {
    let (field, list) = match (v.get("messages"), v.get("trajectory")) {
        (Some(Value::Array(a)), _) => ("messages", a),
        (_, Some(Value::Array(a))) => ("trajectory", a),
        _ => return Ok(None),
    };
    let messages = trajectory::chat_messages(list, field)?;
    let problem_statement = trajectory::problem_statement(v, &messages);
    Ok(Some(Trajectory { messages, problem_statement }))
}
