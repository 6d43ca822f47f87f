//! OpenHands evaluation records (`output.jsonl`), current and v0 (2024):
//! - patch: `test_result.git_patch`, or v0's top-level `git_patch` (or `model_patch`);
//! - label: `resolved`, `report.resolved` (its eval script), or v0's `test_result.result.resolved`;
//! - trajectory: `history` as a list of event dicts, v0's list of `[action, observation]` pairs,
//!   or OpenAI-style messages in some exports; the task from `instance.problem_statement`, or v0's
//!   `instruction`. Memory bookkeeping (`RecallAction`/`RecallObservation`, "Added workspace
//!   context") is not agent work and is dropped.

use anyhow::Result;
use serde_json::Value;

use crate::input::fields::{lookup, opt_label};
use crate::input::trajectory::{self, Message, Trajectory};
use crate::loc::Loc;

/// Where the patch is, in order (`crate::input::fields::first_string`).
pub(crate) const PATCH: &[&[&str]] = &[&["test_result", "git_patch"], &["git_patch"], &["model_patch"]];

pub(crate) fn label(v: &Value, src: &Loc) -> Result<Option<bool>> {
    for path in [&["resolved"][..], &["report", "resolved"], &["test_result", "result", "resolved"]] {
        if let Some(l) = opt_label(v, path, src)? {
            return Ok(Some(l));
        }
    }
    Ok(None)
}

pub(crate) fn trajectory(v: &Value) -> Result<Option<Trajectory>> {
    let Some(Value::Array(history)) = v.get("history") else { return Ok(None) };
    let messages = if history.iter().any(|e| e.get("role").is_some()) {
        trajectory::chat_messages(history, "history")?
    } else if history.iter().any(Value::is_array) {
        v0_messages(history, v.get("instruction").and_then(Value::as_str))
    } else {
        let events: Vec<&Value> = history.iter().collect();
        events_to_messages(&events)
    };
    let problem_statement = match lookup(v, &["instance", "problem_statement"]).or_else(|| v.get("instruction")) {
        Some(Value::String(s)) => Some(s.clone()),
        _ => trajectory::problem_statement(v, &messages),
    };
    Ok(Some(Trajectory { messages, problem_statement, tools: None }))
}

/// v0's list of `[action, observation]` pairs. The task the agent received is the top-level
/// `instruction` (the history usually starts with the agent's first action): it is the first
/// user turn. In a pair the action is the agent's and the observation the environment's,
/// whether or not the events carry `source`; only an action that says `source: "user"` (the
/// task message some versions repeat) is the user's, and it is dropped when it repeats the
/// instruction.
fn v0_messages(history: &[Value], instruction: Option<&str>) -> Vec<Message> {
    let mut out: Vec<Message> = Vec::new();
    let instruction = instruction.filter(|s| !s.trim().is_empty());
    if let Some(task) = instruction {
        out.push(Message::new("user", task));
    }
    for entry in history {
        let Value::Array(pair) = entry else {
            out.extend(events_to_messages(&[entry]));
            continue;
        };
        for (k, e) in pair.iter().enumerate().filter(|(_, e)| e.is_object() && !is_bookkeeping(e)) {
            let content = content_of(e);
            let is_action = k == 0 && e.get("observation").is_none();
            let from_user = e.get("source").and_then(Value::as_str) == Some("user");
            let role = if is_action && !from_user { "assistant" } else { "user" };
            let null_obs = e.get("observation").and_then(Value::as_str) == Some("null");
            if content.is_empty() || null_obs || (role == "user" && is_action && Some(content.as_str()) == instruction)
            {
                continue;
            }
            out.push(Message::new(role, &content));
        }
    }
    out
}

/// Memory/recall events: bookkeeping the agent framework adds, not the agent's work.
fn is_bookkeeping(e: &Value) -> bool {
    let s = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or("");
    s("action") == "recall"
        || s("observation") == "recall"
        || s("message").starts_with("Added workspace context")
        || s("message").starts_with("Retrieving content for:")
}

/// OpenHands events -> messages. Events with `tool_call_metadata` are rebuilt as the
/// function-calling conversation the agent saw (the assistant message with its tool calls from
/// the stored model response, then a `tool` message per observation); other events map by
/// source: agent actions -> assistant, everything else -> user (the pre-function-calling CodeAct
/// layout). A `system` action becomes the system message.
fn events_to_messages(events: &[&Value]) -> Vec<Message> {
    let mut out: Vec<Message> = Vec::new();
    let mut seen_responses: Vec<String> = Vec::new();
    for e in events.iter().copied().filter(|e| e.is_object() && !is_bookkeeping(e)) {
        let text = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let is_obs = e.get("observation").is_some();
        if let Some(meta) = e.get("tool_call_metadata").filter(|m| m.is_object()) {
            if is_obs {
                out.push(Message::new("tool", &content_of(e)));
                continue;
            }
            let resp_id = meta.get("model_response").and_then(|r| r.get("id")).and_then(Value::as_str).unwrap_or("");
            if !resp_id.is_empty() && seen_responses.iter().any(|s| s == resp_id) {
                continue; // one model response can carry several tool calls (several actions)
            }
            seen_responses.push(resp_id.to_string());
            let msg =
                lookup(meta, &["model_response", "choices"]).and_then(|c| c.get(0)).and_then(|c| c.get("message"));
            match msg.and_then(|m| trajectory::chat_messages(std::slice::from_ref(m), "message").ok()) {
                Some(mut m) if !m.is_empty() => out.push(m.remove(0)),
                _ => out.push(Message::new("assistant", &text("message"))),
            }
            continue;
        }
        let role = if text("action") == "system" {
            "system"
        } else if text("source") == "agent" && !is_obs {
            "assistant"
        } else {
            "user"
        };
        let content = content_of(e);
        if content.is_empty() && role != "system" {
            continue;
        }
        out.push(Message::new(role, &content));
    }
    out
}

/// The text of an event: `args.content` for messages, `content` for observations; for other
/// actions (v0 `run`, `write`, ...) the thought and the command or code; else `message`.
fn content_of(e: &Value) -> String {
    let s = |v: Option<&Value>| v.and_then(Value::as_str).filter(|s| !s.is_empty()).map(String::from);
    if let Some(c) = s(lookup(e, &["args", "content"])).or_else(|| s(e.get("content"))) {
        return c;
    }
    let thought = s(lookup(e, &["args", "thought"]));
    let act = s(lookup(e, &["args", "command"])).or_else(|| s(lookup(e, &["args", "code"])));
    match (thought, act) {
        (Some(t), Some(a)) => format!("{t}\n\n{a}"),
        (None, Some(a)) => a,
        (Some(t), None) => s(e.get("message")).map_or(t.clone(), |m| format!("{t}\n\n{m}")),
        (None, None) => s(e.get("message")).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn events_become_messages() {
        let v = json!({"instance":{"problem_statement":"P"},"history":[
            {"source":"agent","action":"system","args":{"content":"SYS"}},
            {"source":"user","action":"message","args":{"content":"task"}},
            {"source":"user","action":"recall","args":{"query":"task"}},
            {"source":"environment","observation":"recall","message":"Added workspace context","content":"repo notes"},
            {"source":"agent","action":"run","message":"Running","tool_call_metadata":{"model_response":{"id":"r1","choices":[{"message":{"role":"assistant","content":"look","tool_calls":[{"function":{"name":"execute_bash","arguments":"{}"}}]}}]}}},
            {"source":"agent","observation":"run","content":"out","tool_call_metadata":{"function_name":"execute_bash"}},
            {"source":"agent","action":"finish","message":"done"}
        ]});
        let t = trajectory(&v).unwrap().unwrap();
        let roles: Vec<&str> = t.messages.iter().map(|m| m.role.as_str()).collect();
        assert_eq!(roles, ["system", "user", "assistant", "tool", "assistant"]);
        assert!(t.messages.iter().all(|m| !m.content.contains("repo notes")), "recall dropped");
        assert_eq!(t.messages[2].tool_calls.len(), 1);
        assert_eq!(t.messages[3].content, "out");
        assert_eq!(t.problem_statement.as_deref(), Some("P"));
    }

    #[test]
    fn v0_records() {
        let v = json!({"instance_id":"a__b-1","instruction":"Fix the bug","git_patch":"diff --git a/x b/x",
        "test_result":{"result":{"resolved":true}},
        "history":[
            [{"source":"user","action":"message","args":{"content":"Fix the bug"}},{"source":"user","observation":"null","content":""}],
            [{"source":"agent","action":"run","args":{"command":"ls","thought":"Look around."},"message":"Running command: ls"},
             {"source":"agent","observation":"run","content":"x.py","extras":{"command":"ls"}}]
        ]});
        let src = Loc::line("o.jsonl", 1, 0);
        assert_eq!(crate::input::fields::first_string(&v, PATCH, &src).unwrap().as_deref(), Some("diff --git a/x b/x"));
        assert_eq!(label(&v, &src).unwrap(), Some(true));
        let t = trajectory(&v).unwrap().unwrap();
        let got: Vec<(&str, &str)> = t.messages.iter().map(|m| (m.role.as_str(), m.content.as_str())).collect();
        assert_eq!(got, [("user", "Fix the bug"), ("assistant", "Look around.\n\nls"), ("user", "x.py")]);
        assert_eq!(t.problem_statement.as_deref(), Some("Fix the bug"));
        // The usual v0 history: no user turn (the task is only `instruction`), no `source`.
        let v = json!({"instance_id":"a__b-1","instruction":"Fix the bug","history":[
            [{"action":"run","args":{"command":"ls","thought":"Look."}},{"observation":"run","content":"x.py"}],
            [{"action":"finish","args":{"thought":"Done."}},{"observation":"null","content":""}]
        ]});
        let t = trajectory(&v).unwrap().unwrap();
        let got: Vec<(&str, &str)> = t.messages.iter().map(|m| (m.role.as_str(), m.content.as_str())).collect();
        assert_eq!(
            got,
            [("user", "Fix the bug"), ("assistant", "Look.\n\nls"), ("user", "x.py"), ("assistant", "Done.")]
        );
    }
}
