//! One module per input format: how a record of that format gives its patch, its label and, on
//! demand, its trajectory. Field paths follow the agents' own writer code
//! (docs/spec/formats.md).
//!
//! This module is the one dispatch by format: `Format` (named, detected, from a file name),
//! `extract` (a JSON value of a format -> `Record`) and `trajectory` (-> `Trajectory`). Each
//! format's module says where its fields are; none of them dispatches.

pub(crate) mod acr;
pub(crate) mod chat;
pub(crate) mod mini;
pub(crate) mod openhands;
pub(crate) mod predictions;
pub(crate) mod sweagent;

use std::path::Path;

use anyhow::{Result, bail};
use serde_json::Value;

use super::fields::{self, first_string, kind, lookup, opt_label, traj_instance_id};
use super::record::Record;
use super::trajectory::Trajectory;
use crate::loc::Loc;

/// The input formats of docs/spec/formats.md.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// SWE-bench predictions: `instance_id`, `model_name_or_path`, `model_patch`.
    Predictions,
    /// OpenHands `output.jsonl`: `test_result.git_patch`, `history`, `report.resolved`.
    OpenHands,
    /// SWE-agent `.traj`: `trajectory`, `history`, `info.submission`; instance id = file stem.
    SweAgent,
    /// mini-swe-agent `.traj.json`: `info.submission`, `messages`, `instance_id`.
    MiniSweAgent,
    /// Chat-message records: `instance_id`, `messages` (or `trajectory`), `model_patch`.
    Chat,
    /// AutoCodeRover instance folders (`<iid>_<timestamp>/`), recognised by the run's layout.
    AutoCodeRover,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Format, String> {
        Ok(match s {
            "predictions" | "swebench" => Format::Predictions,
            "openhands" => Format::OpenHands,
            "sweagent" | "swe-agent" | "traj" => Format::SweAgent,
            "mini" | "mini-swe-agent" | "minisweagent" => Format::MiniSweAgent,
            "chat" | "messages" => Format::Chat,
            "acr" | "autocoderover" => Format::AutoCodeRover,
            _ => return Err(format!("{s:?}: expected predictions, openhands, sweagent, mini, chat or acr")),
        })
    }
}

impl Format {
    /// Where a record of this format holds its patch, in order of preference.
    pub(crate) fn patch_paths(self) -> &'static [&'static [&'static str]] {
        match self {
            Format::Predictions => predictions::PATCH,
            Format::OpenHands => openhands::PATCH,
            Format::SweAgent => sweagent::PATCH,
            Format::MiniSweAgent => mini::PATCH,
            Format::Chat => chat::PATCH,
            Format::AutoCodeRover => &[],
        }
    }
    pub(crate) fn name(self) -> &'static str {
        match self {
            Format::Predictions => "predictions",
            Format::OpenHands => "openhands",
            Format::SweAgent => "sweagent",
            Format::MiniSweAgent => "mini",
            Format::Chat => "chat",
            Format::AutoCodeRover => "acr",
        }
    }

    /// Whether records of this format carry a trajectory (SWE-bench predictions do not).
    pub(crate) fn has_trajectory(self) -> bool {
        self != Format::Predictions
    }

    /// The format a file's name gives away (`<iid>.traj`, `<iid>.traj.json`), checked before
    /// the content.
    pub(crate) fn from_file_name(path: &Path) -> Option<Format> {
        let name = path.file_name()?.to_str()?;
        if name.ends_with(".traj.json") {
            Some(Format::MiniSweAgent)
        } else if name.ends_with(".traj") {
            Some(Format::SweAgent)
        } else {
            None
        }
    }

    /// Recognizes a record's format from its keys (the first record of a file decides).
    pub fn detect(v: &Value) -> Option<Format> {
        let o = v.as_object()?;
        let is_list = |k: &str| o.get(k).is_some_and(Value::is_array);
        let info = o.get("info").is_some_and(Value::is_object);
        if is_list("trajectory") && info {
            Some(Format::SweAgent)
        } else if is_list("messages") && info && o.get("trajectory_format").is_some() {
            Some(Format::MiniSweAgent)
        } else if o.contains_key("test_result") || o.contains_key("git_patch") || is_list("history") {
            Some(Format::OpenHands)
        } else if is_list("messages") || is_list("trajectory") {
            Some(Format::Chat)
        } else if o.contains_key("instance_id") || ["org", "repo", "number"].iter().all(|k| o.contains_key(*k)) {
            Some(Format::Predictions)
        } else {
            None
        }
    }
}

/// [`extract`] from a value it may take apart: the patch string is moved out of the value, not
/// copied (the patches are the bulk of every input).
pub(crate) fn extract_owned(mut v: Value, format: Format, src: &Loc, score_field: Option<&str>) -> Result<Record> {
    // The string `first_string` would return, taken and left as "" (still a string, so
    // `extract` takes the same path and checks the same types).
    let mut taken = None;
    for path in format.patch_paths() {
        match fields::lookup_mut(&mut v, path) {
            None | Some(Value::Null) => continue,
            Some(Value::String(s)) => taken = Some(std::mem::take(s)),
            Some(_) => {}
        }
        break;
    }
    let mut rec = extract(&v, format, src, score_field)?;
    if taken.is_some() {
        rec.patch = taken;
    }
    Ok(rec)
}

/// Extracts a `Record` from one JSON value of the given format.
pub fn extract(v: &Value, format: Format, src: &Loc, score_field: Option<&str>) -> Result<Record> {
    let Some(obj) = v.as_object() else {
        bail!("{src}: expected a JSON object, found {}", kind(v));
    };
    let instance_id = match (format, obj.get("instance_id")) {
        (Format::SweAgent | Format::MiniSweAgent, Some(Value::String(s))) if !s.is_empty() => s.clone(),
        (Format::SweAgent | Format::MiniSweAgent, _) => traj_instance_id(&src.path)?,
        (_, Some(Value::String(s))) if !s.is_empty() => s.clone(),
        (Format::Predictions, None) if obj.contains_key("org") && obj.contains_key("number") => {
            predictions::multi_swe_bench_id(v, src)?
        }
        (_, Some(Value::String(_))) => bail!("{src}: field `instance_id`: empty string"),
        (_, Some(other)) => bail!("{src}: field `instance_id`: expected a string, found {}", kind(other)),
        (_, None) => bail!("{src}: field `instance_id`: missing"),
    };
    if format == Format::AutoCodeRover {
        bail!("{src}: --format acr reads AutoCodeRover instance folders (<iid>_<timestamp>/), not JSON records")
    }
    let patch = first_string(v, format.patch_paths(), src)?;
    let run = match obj.get("run") {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        None | Some(Value::Null) => None,
        Some(other) => bail!("{src}: field `run`: expected a string or number, found {}", kind(other)),
    };
    let run = match (run, obj.get("attempt")) {
        (Some(r), _) => Some(r),
        (None, Some(Value::Number(n))) if format == Format::OpenHands => Some(format!("attempt-{n}")),
        _ => None,
    };
    let resolved = match format {
        Format::OpenHands => openhands::label(v, src)?,
        _ => match opt_label(v, &["resolved"], src)? {
            Some(b) => Some(b),
            None => opt_label(v, &["report", "resolved"], src)?,
        },
    };
    let field_score = score_field.map(|spec| field_score(v, spec, src)).transpose()?.flatten();
    let flaw = trajectory_shape(v, format, src)?;
    Ok(Record { instance_id, run, patch, resolved, field_score, source: src.clone(), label_from: None, flaw })
}

/// The fields of a format that hold its trajectory (each a list), and what each entry must be.
fn trajectory_fields(format: Format) -> &'static [(&'static str, Entry)] {
    match format {
        Format::OpenHands => &[("history", Entry::EventOrPair)],
        Format::SweAgent => &[("history", Entry::Object), ("trajectory", Entry::Object)],
        Format::MiniSweAgent => &[("messages", Entry::Object)],
        Format::Chat => &[("messages", Entry::Object), ("trajectory", Entry::Object)],
        Format::Predictions | Format::AutoCodeRover => &[],
    }
}

/// What a trajectory list holds.
#[derive(Clone, Copy)]
enum Entry {
    /// A message or step (an object).
    Object,
    /// An OpenHands event (an object), or a v0 `[action, observation]` pair (a list).
    EventOrPair,
}

/// Checks the shape of a record's trajectory fields when it is read (the trajectory itself is
/// read later, on demand).
///
/// Decision (nothing real read as empty): a trajectory field that is not a list (`42`,
/// `"garbage"`, an object), or a list whose entries are not messages or events (`[1, 2, 3]`),
/// is an error naming the record and the field: judging such a record from its patch alone
/// would hide that its trajectory was lost. `null` is what a writer puts for "none recorded": the
/// record is still usable (judged without a trajectory), so it is a flaw, counted and said.
fn trajectory_shape(v: &Value, format: Format, src: &Loc) -> Result<Option<&'static str>> {
    let mut flaw = None;
    for &(field, entry) in trajectory_fields(format) {
        let (what, ok): (&str, fn(&Value) -> bool) = match entry {
            Entry::Object => ("a list of messages", Value::is_object),
            Entry::EventOrPair => ("a list of events", |e| e.is_object() || e.is_array()),
        };
        match v.get(field) {
            None => {}
            Some(Value::Null) => flaw = Some(null_flaw(field)),
            Some(Value::Array(a)) => {
                if let Some((i, e)) = a.iter().enumerate().find(|(_, e)| !ok(e)) {
                    bail!("{src}: field `{field}[{i}]`: expected a message or an event (an object), found {}", kind(e));
                }
            }
            Some(other) => bail!("{src}: field `{field}`: expected {what}, found {}", kind(other)),
        }
    }
    Ok(flaw)
}

/// The flaw of a trajectory field that is `null`.
fn null_flaw(field: &str) -> &'static str {
    match field {
        "history" => "field `history` is null: judged without a trajectory",
        "messages" => "field `messages` is null: judged without a trajectory",
        _ => "field `trajectory` is null: judged without a trajectory",
    }
}

/// The `field:PATH` score of a record (`-PATH`: lower is better, the score is -value); `None`
/// when the field is absent or null; a boolean is 1 or 0.
fn field_score(v: &Value, spec: &str, src: &Loc) -> Result<Option<f64>> {
    let (name, sign) = match spec.strip_prefix('-') {
        Some(n) => (n, -1.0),
        None => (spec, 1.0),
    };
    let path: Vec<&str> = name.split('.').collect();
    let x = match lookup(v, &path) {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => match n.as_f64() {
            Some(x) if x.is_finite() => Some(x),
            _ => bail!("{src}: field `{name}`: not a finite number"),
        },
        Some(Value::Bool(b)) => Some(if *b { 1.0 } else { 0.0 }),
        Some(other) => bail!("{src}: field `{name}`: expected a number, found {}", kind(other)),
    };
    // `+ 0.0` turns -0 into 0, so that a zero cost prints as 0.
    Ok(x.map(|x| sign * x + 0.0))
}

/// The trajectory of one record of the given format (`None` when it has none).
pub fn trajectory(v: &Value, format: Format) -> Result<Option<Trajectory>> {
    match format {
        Format::Predictions => Ok(None),
        Format::OpenHands => openhands::trajectory(v),
        Format::SweAgent => sweagent::trajectory(v),
        Format::MiniSweAgent => mini::trajectory(v),
        Format::Chat => chat::trajectory(v),
        Format::AutoCodeRover => bail!("AutoCodeRover trajectories are read from their folder"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn src() -> Loc {
        Loc::line("runs/a.jsonl", 3, 0)
    }

    #[test]
    fn detects_each_format() {
        assert_eq!(Format::detect(&json!({"instance_id":"x","model_patch":""})), Some(Format::Predictions));
        assert_eq!(Format::detect(&json!({"instance_id":"x","test_result":{}})), Some(Format::OpenHands));
        assert_eq!(Format::detect(&json!({"instance_id":"x","messages":[]})), Some(Format::Chat));
        assert_eq!(Format::detect(&json!({"trajectory":[],"info":{}})), Some(Format::SweAgent));
        assert_eq!(Format::detect(&json!({"foo":1})), None);
    }

    #[test]
    fn openhands_fields() {
        let v =
            json!({"instance_id":"a__b-1","test_result":{"git_patch":"diff"},"report":{"resolved":true},"attempt":2});
        let r = extract(&v, Format::OpenHands, &src(), None).unwrap();
        assert_eq!(r.patch.as_deref(), Some("diff"));
        assert_eq!(r.resolved, Some(true));
        assert_eq!(r.run.as_deref(), Some("attempt-2"));
    }

    #[test]
    fn errors_name_line_and_field() {
        let e = extract(&json!({"instance_id": 5}), Format::Predictions, &src(), None).unwrap_err();
        assert_eq!(e.to_string(), "runs/a.jsonl:3: field `instance_id`: expected a string, found a number");
        let e = extract(&json!({"instance_id":"x","model_patch":[1]}), Format::Predictions, &src(), None).unwrap_err();
        assert!(e.to_string().contains("field `model_patch`"), "{e}");
        let e = extract(&json!({"instance_id":"x","resolved":"yes"}), Format::Predictions, &src(), None).unwrap_err();
        assert!(e.to_string().contains("field `resolved`"), "{e}");
        let e =
            extract(&json!({"instance_id":"x","s":{"v":"hi"}}), Format::Predictions, &src(), Some("s.v")).unwrap_err();
        assert!(e.to_string().contains("field `s.v`"), "{e}");
    }

    /// A trajectory field of the wrong shape is an error naming the line and the field; `null`
    /// is a flaw the record survives.
    #[test]
    fn trajectory_fields_have_their_shape() {
        let rec = |h: Value| json!({"instance_id": "x", "test_result": {"git_patch": "+a"}, "history": h});
        for (bad, want) in [
            (json!(42), "field `history`: expected a list of events, found a number"),
            (json!("garbage"), "field `history`: expected a list of events, found a string"),
            (json!({"a": 1}), "field `history`: expected a list of events, found an object"),
            (json!([1, 2, 3]), "field `history[0]`: expected a message or an event"),
        ] {
            let e = extract(&rec(bad), Format::OpenHands, &src(), None).unwrap_err().to_string();
            assert!(e.starts_with("runs/a.jsonl:3: ") && e.contains(want), "{e}");
        }
        let r = extract(&rec(Value::Null), Format::OpenHands, &src(), None).unwrap();
        assert_eq!(r.flaw, Some("field `history` is null: judged without a trajectory"));
        for ok in [json!([]), json!([{"action": "run"}, [{"action": "run"}, {"observation": "x"}]])] {
            assert_eq!(extract(&rec(ok), Format::OpenHands, &src(), None).unwrap().flaw, None);
        }
        let chat =
            json!({"instance_id": "x", "model_patch": "+a", "messages": [{"role": "user", "content": "c"}, "hi"]});
        let e = extract(&chat, Format::Chat, &src(), None).unwrap_err().to_string();
        assert!(e.contains("field `messages[1]`"), "{e}");
    }

    #[test]
    fn labels_accept_bool_and_01() {
        let r = extract(&json!({"instance_id":"x","resolved":1}), Format::Chat, &src(), None).unwrap();
        assert_eq!(r.resolved, Some(true));
        let r = extract(&json!({"instance_id":"x","resolved":0,"s":{"v":0.25}}), Format::Chat, &src(), Some("s.v"))
            .unwrap();
        assert_eq!((r.resolved, r.field_score), (Some(false), Some(0.25)));
    }
}
