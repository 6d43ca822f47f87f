//! The `swegym` preset (docs/spec/verifiers.md): the SWE-Gym verifier's exact system and
//! user strings and its trajectory serialization (`format_traj` of SWE-Gym's
//! scripts/openhands-verifier notebook, Apache-2.0), with the OpenHands in-context example
//! stripped.

use serde_json::Value;

use crate::input::trajectory::Message;

pub(crate) const SYSTEM: &str = "You are an expert judge evaluating AI assistant interactions. Your task is to determine if the assistant successfully resolved the user's request.

Key evaluation criteria:
1. Did the assistant complete the main task requested by the user?
2. Did the assistant handle all edge cases and requirements specified?
3. Were there any errors or issues in the final solution?
4. Did the assistant verify the solution works as intended?

Respond only with \"<judgement>YES</judgement>\" or \"<judgement>NO</judgement>\".";

pub(crate) fn user_message(traj: &str) -> String {
    format!(
        "Please evaluate the following interaction between an AI assistant and a user:\n\n=== INTERACTION LOG ===\n{traj}\n=== END INTERACTION ===\n\nBased on the above interaction, did the assistant successfully resolve the user's initial request? Respond with YES or NO."
    )
}

/// The OpenHands CodeAct in-context example that SWE-Gym removes (plain substring replacement,
/// prefix then suffix) from the serialized trajectory.
fn icl_strings() -> (String, String) {
    let v: Value = serde_json::from_str(include_str!("openhands_icl.json")).expect("embedded JSON");
    let s = |k: &str| v[k].as_str().expect("embedded string").to_string();
    (s("in_context_learning_example_prefix"), s("in_context_learning_example_suffix"))
}

pub fn strip_icl(text: &str) -> String {
    let (prefix, suffix) = icl_strings();
    text.replace(&prefix, "").replace(&suffix, "")
}

const SEP: &str =
    "----------------------------------------------------------------------------------------------------\n";

/// SWE-Gym's `format_traj`: a leading system message as its own block, consecutive user
/// messages merged with `\n`, then one block per message with a turn header (turn = i // 2 + 1),
/// tool calls as `<function=...>` blocks, and a closing separator. Roles other than user,
/// assistant and tool (the notebook raises on them) are printed upper-cased.
pub fn format_traj(messages: &[Message]) -> String {
    let mut out = String::new();
    let mut rest = messages;
    if let Some(first) = messages.first()
        && first.role == "system"
    {
        out.push_str("*** System Message that describes the assistant's behavior ***\n");
        out.push_str(&first.content);
        out.push('\n');
        rest = &messages[1..];
    }
    let mut merged: Vec<Message> = Vec::new();
    let mut users: Vec<&str> = Vec::new();
    let flush = |users: &mut Vec<&str>, merged: &mut Vec<Message>| {
        if !users.is_empty() {
            merged.push(Message::new("user", &users.join("\n")));
            users.clear();
        }
    };
    for m in rest {
        if m.role == "user" {
            users.push(&m.content);
        } else {
            flush(&mut users, &mut merged);
            merged.push(m.clone());
        }
    }
    flush(&mut users, &mut merged);
    for (i, m) in merged.iter().enumerate() {
        out.push_str(SEP);
        let role = if m.role == "tool" { "TOOL EXECUTION RESULT".to_string() } else { m.role.to_uppercase() };
        out.push_str(&format!("*** Turn {} - {role} ***\n", i / 2 + 1));
        out.push_str(&m.content);
        out.push('\n');
        if m.role == "assistant" {
            for (j, call) in m.tool_calls.iter().enumerate() {
                out.push_str(&format!("### Tool Call {j}\n"));
                out.push_str(&tool_call_text(&call.name, &call.arguments));
                out.push('\n');
            }
        }
    }
    out.push_str(SEP);
    out
}

/// `<function=NAME>` + one `<parameter=K>` per argument + `</function>`. Arguments that are not
/// a JSON object (the notebook raises) are printed raw between the function tags.
pub(crate) fn tool_call_text(name: &str, arguments: &str) -> String {
    let mut s = format!("<function={name}>\n");
    match serde_json::from_str::<Value>(arguments) {
        Ok(Value::Object(args)) => {
            for (k, v) in &args {
                let text = py_str(v);
                let multi = matches!(v, Value::String(x) if x.contains('\n'));
                s.push_str(&format!("<parameter={k}>"));
                if multi {
                    s.push('\n');
                }
                s.push_str(&text);
                if multi {
                    s.push('\n');
                }
                s.push_str("</parameter>\n");
            }
        }
        _ => {
            s.push_str(arguments);
            s.push('\n');
        }
    }
    s.push_str("</function>");
    s
}

/// Python's `str()` of a decoded JSON value: strings as they are, everything else as `repr`.
pub(crate) fn py_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => py_repr(other),
    }
}

/// Python's `repr()` of a decoded JSON value (`True`, `None`, `[1, 'a']`, `{'k': 1.0}`).
pub(crate) fn py_repr(v: &Value) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(b) => (if *b { "True" } else { "False" }).into(),
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => i.to_string(),
            (_, Some(u), _) => u.to_string(),
            (_, _, Some(f)) => py_float(f),
            _ => n.to_string(),
        },
        Value::String(s) => py_str_repr(s),
        Value::Array(a) => format!("[{}]", a.iter().map(py_repr).collect::<Vec<_>>().join(", ")),
        Value::Object(o) => {
            format!(
                "{{{}}}",
                o.iter().map(|(k, v)| format!("{}: {}", py_str_repr(k), py_repr(v))).collect::<Vec<_>>().join(", ")
            )
        }
    }
}

/// Python's float repr: the shortest round-trip digits, scientific when the exponent is below
/// -4 or at least 16, and `.0` on integral values.
fn py_float(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return (if f > 0.0 { "inf" } else { "-inf" }).into();
    }
    let sci = format!("{f:e}"); // shortest digits: "1.5e-7", "1e16"
    let (mant, exp) = sci.split_once('e').expect("{:e} has an exponent");
    let exp: i32 = exp.parse().expect("exponent");
    if !(-4..16).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mant}e{sign}{:02}", exp.abs())
    } else {
        let s = format!("{f}");
        if s.contains('.') { s } else { format!("{s}.0") }
    }
}

/// Python's `repr()` of a string: single quotes unless the text has a single quote and no
/// double quote; backslash, the quote, \t \n \r escaped; other control characters as \xNN.
/// (Python also escapes non-printable non-ASCII characters; those are kept as they are here.)
fn py_str_repr(s: &str) -> String {
    let q = if s.contains('\'') && !s.contains('"') { '"' } else { '\'' };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(q);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c == q => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || (0x7f..0xa0).contains(&(c as u32)) => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push(q);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::trajectory::ToolCall;
    use serde_json::json;

    #[test]
    fn python_reprs() {
        assert_eq!(py_str(&json!("a\nb")), "a\nb");
        assert_eq!(py_str(&json!(120)), "120");
        assert_eq!(py_str(&json!(1.0)), "1.0");
        assert_eq!(py_str(&json!(1e-5)), "1e-05");
        assert_eq!(py_str(&json!(1e16)), "1e+16");
        assert_eq!(py_str(&json!(0.25)), "0.25");
        assert_eq!(py_str(&json!([true, null, 1, "a"])), "[True, None, 1, 'a']");
        assert_eq!(py_str(&json!({"k": ["it's", "x\"y"]})), "{'k': [\"it's\", 'x\"y']}");
        assert_eq!(py_str(&json!(["a\tb\\"])), "['a\\tb\\\\']");
    }

    #[test]
    fn the_notebook_layout() {
        let mut a = Message::new("assistant", "Let me look.");
        a.tool_calls
            .push(ToolCall { name: "bash".into(), arguments: r#"{"command": "ls\n-la", "timeout": 120}"#.into() });
        let msgs = vec![
            Message::new("system", "SYS"),
            Message::new("user", "u1"),
            Message::new("user", "u2"),
            a,
            Message::new("tool", "out"),
        ];
        let sep = "-".repeat(100);
        let want = format!(
            "*** System Message that describes the assistant's behavior ***\nSYS\n{sep}\n*** Turn 1 - USER ***\nu1\nu2\n{sep}\n*** Turn 1 - ASSISTANT ***\nLet me look.\n### Tool Call 0\n<function=bash>\n<parameter=command>\nls\n-la\n</parameter>\n<parameter=timeout>120</parameter>\n</function>\n{sep}\n*** Turn 2 - TOOL EXECUTION RESULT ***\nout\n{sep}\n"
        );
        assert_eq!(format_traj(&msgs), want);
        assert_eq!(format_traj(&[]), format!("{sep}\n"));
    }
}
