//! Chat-message records (released verifier and trajectory datasets: SWE-Gym, nebius
//! SWE-rebench-openhands-trajectories): `instance_id`, `messages` (or `trajectory`) of
//! `{role, content, tool_calls?}`, `model_patch`, `resolved`, and the agent's tool
//! definitions as `tools` when the record keeps them.

use anyhow::{Result, bail};
use serde_json::Value;

use crate::input::fields::kind;
use crate::input::trajectory::{self, Trajectory};

/// Where the patch is (`crate::input::fields::first_string`).
pub(crate) const PATCH: &[&[&str]] = &[&["model_patch"]];

pub(crate) fn trajectory(v: &Value) -> Result<Option<Trajectory>> {
    let (field, list) = match (v.get("messages"), v.get("trajectory")) {
        (Some(Value::Array(a)), _) => ("messages", a),
        (_, Some(Value::Array(a))) => ("trajectory", a),
        _ => return Ok(None),
    };
    let messages = trajectory::chat_messages(list, field)?;
    let problem_statement = trajectory::problem_statement(v, &messages);
    let tools = match v.get("tools") {
        None | Some(Value::Null) => None,
        Some(t @ Value::Array(_)) => Some(t.clone()),
        Some(other) => bail!("field `tools`: expected a list of tool definitions, found {}", kind(other)),
    };
    Ok(Some(Trajectory { messages, problem_statement, tools }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parts_tool_calls_and_errors() {
        let v = json!({"instance_id":"x","messages":[
            {"role":"user","content":[{"type":"text","text":"fix"},{"type":"image_url"},{"type":"text","text":"it"}]},
            {"role":"assistant","content":null,"tool_calls":[{"type":"function","function":{"name":"bash","arguments":"{\"command\": \"ls\"}"}}]}
        ]});
        let t = trajectory(&v).unwrap().unwrap();
        assert_eq!(t.messages[0].content, "fix it");
        assert_eq!(t.messages[1].tool_calls[0].name, "bash");
        assert_eq!(t.messages[1].tool_calls[0].arguments, "{\"command\": \"ls\"}");
        assert_eq!(t.problem_statement.as_deref(), Some("fix it"));
        let e = trajectory(&json!({"messages":[{"role":3}]})).unwrap_err();
        assert!(e.to_string().contains("messages[0].role"), "{e}");
        assert_eq!(t.tools, None);
        let tools = json!([{"type": "function", "function": {"name": "bash"}}]);
        let t = trajectory(&json!({"messages": [], "tools": tools})).unwrap().unwrap();
        assert_eq!(t.tools, Some(tools));
        let e = trajectory(&json!({"messages": [], "tools": "bash"})).unwrap_err();
        assert!(e.to_string().contains("field `tools`: expected a list"), "{e}");
    }
}
