//! A candidate's trajectory as plain data (chat `Message`s and the problem statement), re-read
//! from its record on demand (one at a time, never all in memory). Each format's module under
//! `formats/` says how its records become a trajectory; the shared chat-message reading lives
//! here. The prompt stage sees only `Trajectory` values.

use std::fs::File;
use std::io::{BufReader, Seek, SeekFrom};

use anyhow::{Context, Result, anyhow, bail};
use serde_json::Value;

use super::record::{self, Format, kind};
use super::stream::{self, Layout, max_line_bytes, read_line_bounded};
use crate::loc::{Pos, Source};

/// One chat message, content already flattened to text.
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    pub role: String,
    pub content: String,
    pub tool_calls: Vec<ToolCall>,
}

/// A function call of an assistant message; `arguments` is the JSON text as recorded.
#[derive(Clone, Debug, PartialEq)]
pub struct ToolCall {
    pub name: String,
    pub arguments: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Trajectory {
    pub messages: Vec<Message>,
    /// The issue text: `instance.problem_statement` / `problem_statement` when the record has
    /// it, else the first user message.
    pub problem_statement: Option<String>,
}

impl Message {
    pub fn new(role: &str, content: &str) -> Self {
        Message { role: role.into(), content: content.into(), tool_calls: Vec::new() }
    }
}

/// Reads the record at `src` again and extracts its trajectory (`None` when the format has none,
/// as for SWE-bench predictions).
pub fn load(src: &Source, format: Format) -> Result<Option<Trajectory>> {
    match format {
        Format::Predictions => return Ok(None),
        Format::AutoCodeRover => return super::formats::acr::trajectory(&src.path),
        _ => {}
    }
    let v = reread(src)?;
    record::trajectory(&v, format).with_context(|| format!("{src}"))
}

/// The JSON value of one record, found again by its position.
pub fn reread(src: &Source) -> Result<Value> {
    let path = &src.path;
    match &src.pos {
        Pos::Line { offset, .. } => {
            let mut f = File::open(path).with_context(|| format!("{}: cannot open", path.display()))?;
            f.seek(SeekFrom::Start(*offset))?;
            let mut buf = Vec::new();
            read_line_bounded(&mut BufReader::new(f), &mut buf, max_line_bytes())?;
            serde_json::from_slice(&buf).map_err(|e| anyhow!("{src}: invalid JSON on re-reading (file changed?): {e}"))
        }
        Pos::File => {
            let (f, _) = stream::open_text(path, 1 << 16)?;
            serde_json::from_reader(f).map_err(|e| anyhow!("{src}: invalid JSON: {e}"))
        }
        Pos::Element(i) => {
            // Stream up to the element and stop there (a marker error ends the stream), so that
            // re-reading element i costs i elements, not the whole array.
            #[derive(Debug)]
            struct Found;
            impl std::fmt::Display for Found {
                fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("found")
                }
            }
            impl std::error::Error for Found {}
            let mut found = None;
            let mut n = 0;
            let res = stream::for_each_record(path, Layout::Array, &mut |_, v| {
                n += 1;
                if n == *i {
                    found = Some(v);
                    return Err(Found.into());
                }
                Ok(())
            });
            match (res, found) {
                (_, Some(v)) => Ok(v),
                (Err(e), None) => Err(e),
                (Ok(()), None) => Err(anyhow!("{src}: record not found on re-reading (file changed?)")),
            }
        }
        Pos::Key(k) => {
            let (f, _) = stream::open_text(path, 1 << 16)?;
            let mut v: Value = serde_json::from_reader(f).map_err(|e| anyhow!("{src}: invalid JSON: {e}"))?;
            v.get_mut(k).map(Value::take).ok_or_else(|| anyhow!("{src}: record not found on re-reading"))
        }
    }
}

/// The problem statement: `instance.problem_statement` / `problem_statement` when the record has
/// it, else the first user message.
pub fn problem_statement(v: &Value, messages: &[Message]) -> Option<String> {
    match record::lookup(v, &["instance", "problem_statement"]).or_else(|| v.get("problem_statement")) {
        Some(Value::String(s)) => Some(s.clone()),
        _ => messages.iter().find(|m| m.role == "user").map(|m| m.content.clone()),
    }
}

/// Flattens message content: a string as is; a list of parts -> the text parts joined with a
/// single space (the SWE-Gym inference loader's rule, ../shared/spec/verifiers.md); null -> "".
pub fn flatten_content(c: Option<&Value>, field: &str) -> Result<String> {
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
pub fn chat_messages(a: &[Value], field: &str) -> Result<Vec<Message>> {
    chat_messages_where(a, field, |_| true)
}

/// The messages of `a` that `keep` accepts (errors still name their index in `a`).
pub fn chat_messages_where(a: &[Value], field: &str, keep: impl Fn(&Value) -> bool) -> Result<Vec<Message>> {
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

#[cfg(test)]
mod reread_tests {
    use super::*;

    #[test]
    fn array_elements_are_found_again() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("a.json");
        std::fs::write(&p, r#"[{"instance_id":"a"},{"instance_id":"b"},{"instance_id":"c"}]"#).unwrap();
        for (i, want) in [(1, "a"), (2, "b"), (3, "c")] {
            let v = reread(&Source { path: p.clone(), pos: Pos::Element(i) }).unwrap();
            assert_eq!(v["instance_id"], want);
        }
        let e = reread(&Source { path: p.clone(), pos: Pos::Element(4) }).unwrap_err();
        assert!(e.to_string().contains("record not found"), "{e}");
    }
}
