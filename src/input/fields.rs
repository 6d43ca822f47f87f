//! Reading a record's fields: JSON values by key path, with errors that name the field and its
//! type, and the instance id that a trajectory file's name gives.

use std::path::Path;

use anyhow::{Result, bail};
use serde_json::Value;

use crate::loc::Loc;

/// The instance id of a `.traj` / `.traj.json` file: its file name without the extension.
pub(crate) fn traj_instance_id(path: &Path) -> Result<String> {
    let name = path.file_name().and_then(|s| s.to_str()).unwrap_or("");
    let stem = name.strip_suffix(".traj.json").or_else(|| name.strip_suffix(".traj")).unwrap_or(name);
    let stem = stem.strip_suffix(".json").unwrap_or(stem);
    match stem {
        "" => bail!("{}: cannot take an instance id from this file name", path.display()),
        s => Ok(s.to_string()),
    }
}

/// Follows a path of object keys.
pub(crate) fn lookup<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(v, |v, k| v.as_object()?.get(*k))
}

pub(super) fn lookup_mut<'a>(v: &'a mut Value, path: &[&str]) -> Option<&'a mut Value> {
    path.iter().try_fold(v, |v, k| v.as_object_mut()?.get_mut(*k))
}

/// The string at the first of `paths` that holds a non-null value (`None` when none does).
pub(crate) fn first_string(v: &Value, paths: &[&[&str]], src: &Loc) -> Result<Option<String>> {
    for path in paths {
        if let Some(s) = opt_string(v, path, src)? {
            return Ok(Some(s));
        }
    }
    Ok(None)
}

pub(crate) fn opt_string(v: &Value, path: &[&str], src: &Loc) -> Result<Option<String>> {
    match lookup(v, path) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => bail!("{src}: field `{}`: expected a string, found {}", path.join("."), kind(other)),
    }
}

/// A label: `true`/`false`, `0`/`1`, or `null`/missing.
pub(crate) fn opt_label(v: &Value, path: &[&str], src: &Loc) -> Result<Option<bool>> {
    match lookup(v, path) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::Number(n)) if n.as_f64() == Some(0.0) => Ok(Some(false)),
        Some(Value::Number(n)) if n.as_f64() == Some(1.0) => Ok(Some(true)),
        Some(other) => bail!("{src}: field `{}`: expected true/false or 0/1, found {other}", path.join(".")),
    }
}

/// A JSON value's type, for messages.
pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
