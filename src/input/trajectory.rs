//! A candidate's trajectory as plain data (chat `Message`s and the problem statement), re-read
//! from its record on demand (`reread::trajectory`, one at a time, never all in memory). Each
//! format's module under `formats/` says how its records become a trajectory; the shared
//! chat-message reading lives here. The prompt stage sees only `Trajectory` values.

use anyhow::{Result, bail};
use serde_json::Value;

use super::fields::{kind, lookup};

/// One chat message, content already flattened to text.
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    pub(crate) role: String,
    pub(crate) content: String,
    pub(crate) tool_calls: Vec<ToolCall>,
}

/// A function call of an assistant message; `arguments` is the JSON text as recorded.
#[derive(Clone, Debug, PartialEq)]
pub struct ToolCall {
    pub(crate) name: String,
    pub(crate) arguments: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Trajectory {
    pub messages: Vec<Message>,
    /// The issue text: `instance.problem_statement` / `problem_statement` when the record has
    /// it, else the first user message.
    pub problem_statement: Option<String>,
    /// The tool definitions the agent was given (OpenAI format), when the record carries them
    /// (a chat record's `tools`): `--preset chat` renders them as the agent's model saw them.
    pub(crate) tools: Option<Value>,
}

impl Message {
    pub(crate) fn new(role: &str, content: &str) -> Self {
        Message { role: role.into(), content: content.into(), tool_calls: Vec::new() }
    }
}

/// The problem statement: `instance.problem_statement` / `problem_statement` when the record has
/// it, else the first user message.
pub(crate) fn problem_statement(v: &Value, messages: &[Message]) -> Option<String> {
    match lookup(v, &["instance", "problem_statement"]).or_else(|| v.get("problem_statement")) {
        Some(Value::String(s)) => Some(s.clone()),
        _ => messages.iter().find(|m| m.role == "user").map(|m| m.content.clone()),
    }
}

/// Flattens message content: a string as is; a list of parts -> the text parts joined with a
/// single space (the SWE-Gym inference loader's rule, docs/spec/verifiers.md); null -> "".
pub(crate) fn flatten_content(c: Option<&Value>, field: &str) -> Result<String> {
    match c {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Array(parts)) => {
            let texts: Vec<&str> = parts
                .iter()
                .filter(|p| p.get("type").and_then(Value::as_str).is_none_or(|t| t == "text"))
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect();
            Ok(texts.join(" "))
        }
        Some(other) => bail!("field `{field}.content`: expected a string or a list of parts, found {}", kind(other)),
    }
}

/// Chat messages (`{role, content, tool_calls?}`) of the list under `field`.
pub(crate) fn chat_messages(a: &[Value], field: &str) -> Result<Vec<Message>> {
    chat_messages_where(a, field, |_| true)
}

/// The messages of `a` that `keep` accepts (errors still name their index in `a`).
pub(crate) fn chat_messages_where(a: &[Value], field: &str, keep: impl Fn(&Value) -> bool) -> Result<Vec<Message>> {
    a.iter()
        .enumerate()
        .filter(|(_, m)| keep(m))
        .map(|(i, m)| {
            let f = format!("{field}[{i}]");
            let role = match m.get("role") {
                Some(Value::String(r)) => r.clone(),
                other => bail!("field `{f}.role`: expected a string, found {}", other.map_or("nothing", kind)),
            };
            let content = flatten_content(m.get("content"), &f)?;
            let tool_calls = match m.get("tool_calls") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(calls)) => calls
                    .iter()
                    .enumerate()
                    .map(|(j, c)| tool_call(c, &format!("{f}.tool_calls[{j}]")))
                    .collect::<Result<_>>()?,
                Some(other) => bail!("field `{f}.tool_calls`: expected a list, found {}", kind(other)),
            };
            Ok(Message { role, content, tool_calls })
        })
        .collect()
}

fn tool_call(c: &Value, f: &str) -> Result<ToolCall> {
    let func = c.get("function").unwrap_or(c);
    let name = match func.get("name") {
        Some(Value::String(s)) => s.clone(),
        other => bail!("field `{f}.function.name`: expected a string, found {}", other.map_or("nothing", kind)),
    };
    let arguments = match func.get("arguments") {
        Some(Value::String(s)) => s.clone(),
        None | Some(Value::Null) => "{}".into(),
        Some(other) => other.to_string(), // already decoded: keep its JSON text
    };
    Ok(ToolCall { name, arguments })
}
