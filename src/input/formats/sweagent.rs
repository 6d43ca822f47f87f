//! SWE-agent `.traj` files (0.x flat `<run>/<iid>.traj`, 1.x `<run>/<iid>/<iid>.traj`): one
//! JSON object per instance, the instance id its file name; `info.submission` is the patch,
//! `history` the chat the model saw. History messages with `is_demo: true` are the in-context
//! demonstration (a solved example from another repository), not the agent's work: a verifier
//! never sees them, as SWE-Gym never shows OpenHands' in-context example.

use anyhow::Result;
use serde_json::Value;

use crate::input::trajectory::{self, Trajectory};

/// Where the patch is (`crate::input::fields::first_string`).
pub(crate) const PATCH: &[&[&str]] = &[&["info", "submission"]];

fn is_demo(m: &Value) -> bool {
    m.get("is_demo").and_then(Value::as_bool) == Some(true)
}

pub(crate) fn trajectory(v: &Value) -> Result<Option<Trajectory>> {
    let Some(Value::Array(history)) = v.get("history") else { return Ok(None) };
    let messages = trajectory::chat_messages_where(history, "history", |m| !is_demo(m))?;
    let problem_statement = trajectory::problem_statement(v, &messages);
    Ok(Some(Trajectory { messages, problem_statement, tools: None }))
}
