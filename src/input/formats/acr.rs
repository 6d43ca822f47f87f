//! AutoCodeRover results (its ISSTA 2024 release, `results/<run>/`): one folder per instance,
//! `<iid>_<YYYY-MM-DD_HH-MM-SS>/`, sorted into category folders (`applicable_patch/`,
//! `raw_patch_but_unmatched/`, ...) or, in later versions, straight under the run. A folder
//! holds `problem_statement.txt` (the issue), `conversation_round_<N>.json` (chat messages; the
//! highest N holds the whole conversation), `extracted_patch_<N>.diff` (one per patch-writing
//! attempt), `extract_status.json` (one status per attempt) and `debug_agent_write_patch_<N>.json`
//! (the patch-writing agent's conversation through attempt N: the trajectory a judge reads,
//! since the conversation rounds stop before the patch is written).
//!
//! Decision (the submitted patch): under `applicable_patch/`, the last `extracted_patch_<N>.diff`
//! (highest N); under any other category folder, none (ACR submitted nothing: an empty
//! candidate). A folder straight under the run has no category: its patch is the attempt of the
//! last `APPLICABLE_PATCH` in `extract_status.json`. On the real AutoCodeRover runs this project was checked on, this
//! gives exactly the patches of each run's predictions file.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use serde_json::Value;

use crate::input::fields::kind;
use crate::input::record::Record;
use crate::input::trajectory::{self, Message, Trajectory};
use crate::loc::Loc;

/// The category folders ACR sorts its instance folders into.
pub(crate) const CATEGORIES: [&str; 5] = [
    "applicable_patch",
    "matched_but_empty_diff",
    "matched_but_empty_origin",
    "raw_patch_but_unmatched",
    "raw_patch_but_unparsed",
];

const STATEMENT: &str = "problem_statement.txt";

/// `<iid>_<YYYY-MM-DD_HH-MM-SS>` -> `<iid>`.
pub(crate) fn instance_id(dir: &Path) -> Option<String> {
    let name = dir.file_name()?.to_str()?;
    let (iid, stamp) = name.split_at(name.len().checked_sub(20)?);
    let stamp = stamp.as_bytes();
    let shape = b"_0000-00-00_00-00-00";
    let ok = stamp.len() == shape.len()
        && stamp.iter().zip(shape).all(|(c, s)| if *s == b'0' { c.is_ascii_digit() } else { c == s });
    (ok && !iid.is_empty()).then(|| iid.to_string())
}

/// An ACR instance folder: named `<iid>_<timestamp>` and holding `problem_statement.txt`.
pub(crate) fn is_instance_dir(dir: &Path) -> bool {
    dir.is_dir() && instance_id(dir).is_some() && dir.join(STATEMENT).is_file()
}

/// The run folder of the instance folder `dir`: its parent, or the folder above its category
/// folder.
pub(crate) fn run_folder(dir: &Path) -> PathBuf {
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    let parent = dir.parent().unwrap_or(Path::new("/")).to_path_buf();
    match parent.file_name().and_then(|n| n.to_str()) {
        Some(n) if CATEGORIES.contains(&n) => parent.parent().map_or(parent.clone(), Path::to_path_buf),
        _ => parent,
    }
}

/// The numbered files `<prefix><N><suffix>` of a folder, by N.
fn numbered(dir: &Path, prefix: &str, suffix: &str) -> Result<Vec<(u32, PathBuf)>> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).with_context(|| format!("{}: cannot list", dir.display()))? {
        let p = e.with_context(|| format!("{}: cannot list", dir.display()))?.path();
        let n = p
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix(prefix)?.strip_suffix(suffix)?.parse::<u32>().ok());
        if let Some(n) = n {
            out.push((n, p));
        }
    }
    out.sort();
    Ok(out)
}

fn read(p: &Path) -> Result<String> {
    let bytes = fs::read(p).with_context(|| format!("{}: cannot read", p.display()))?;
    String::from_utf8(bytes).map_err(|_| anyhow!("{}: not UTF-8 text", p.display()))
}

/// The attempt ACR submitted for the instance folder `dir` (see the module's decision): its
/// number N and its `extracted_patch_<N>.diff`; `None` when it submitted nothing.
fn submitted(dir: &Path) -> Result<Option<(u32, PathBuf)>> {
    let category = dir.parent().and_then(|p| p.file_name()).and_then(|n| n.to_str()).unwrap_or("");
    let patches = numbered(dir, "extracted_patch_", ".diff")?;
    if category == "applicable_patch" {
        return match patches.last() {
            Some(last) => Ok(Some(last.clone())),
            None => bail!("{}: under applicable_patch/ but no extracted_patch_<N>.diff", dir.display()),
        };
    }
    if CATEGORIES.contains(&category) {
        return Ok(None);
    }
    let status_file = dir.join("extract_status.json");
    if !status_file.is_file() {
        return Ok(None);
    }
    let v: Value = serde_json::from_str(&read(&status_file)?)
        .map_err(|e| anyhow!("{}: invalid JSON: {e}", status_file.display()))?;
    let statuses = match v.get("extract_status") {
        Some(Value::Array(a)) => a,
        other => bail!(
            "{}: field `extract_status`: expected a list, found {}",
            status_file.display(),
            other.map_or("nothing", kind)
        ),
    };
    let Some(last) = statuses.iter().rposition(|s| s.as_str() == Some("APPLICABLE_PATCH")) else {
        return Ok(None);
    };
    let want = last as u32 + 1;
    match patches.into_iter().find(|(n, _)| *n == want) {
        Some(found) => Ok(Some(found)),
        None => bail!(
            "{}: extract_status[{last}] is APPLICABLE_PATCH but there is no extracted_patch_{want}.diff",
            dir.display()
        ),
    }
}

/// The record of one instance folder.
pub(crate) fn record(dir: &Path) -> Result<Record> {
    let instance_id = instance_id(dir).ok_or_else(|| {
        anyhow!("{}: not an AutoCodeRover instance folder (<iid>_<YYYY-MM-DD_HH-MM-SS>)", dir.display())
    })?;
    let patch = match submitted(dir)? {
        Some((_, p)) => Some(read(&p)?),
        None => None,
    };
    Ok(Record {
        instance_id,
        run: None,
        patch,
        resolved: None,
        field_score: None,
        source: Loc::file(dir),
        label_from: None,
        flaw: None,
    })
}

/// A JSON file holding a list of chat messages, as `Message`s.
fn messages_of(p: &Path) -> Result<Vec<Message>> {
    let v: Value = serde_json::from_str(&read(p)?).map_err(|e| anyhow!("{}: invalid JSON: {e}", p.display()))?;
    let Value::Array(list) = v else {
        bail!("{}: expected a list of chat messages, found {}", p.display(), kind(&v));
    };
    trajectory::chat_messages(&list, "messages").with_context(|| p.display().to_string())
}

/// The conversation in which ACR's patch-writing agent wrote attempt `n`, through the turn that
/// wrote it.
///
/// Decision (which file, where to cut): `debug_agent_write_patch_<M>.json` holds the
/// patch-writing agent's whole conversation (its retrieval turns included) through attempt M
/// and the feedback on it, one assistant turn per attempt at its end (attempt k is the
/// (M - k + 1)-th assistant turn from the end). Runs that validate patches keep only the last
/// attempt's file, so attempt n is read from the first file with M >= n, and the conversation
/// is cut right after the turn that wrote attempt n: the feedback on it (which, in runs that
/// run the tests, tells whether they passed) is never shown. `None` when no such file holds
/// the attempt: the trajectory is then the conversation rounds, and the prompt builder shows
/// the patch itself.
fn write_patch_conversation(dir: &Path, n: u32) -> Result<Option<Vec<Message>>> {
    let files = numbered(dir, "debug_agent_write_patch_", ".json")?;
    let Some((m, path)) = files.into_iter().find(|(m, _)| *m >= n) else {
        return Ok(None);
    };
    let mut messages = messages_of(&path)?;
    let turns: Vec<usize> = (0..messages.len()).filter(|&i| messages[i].role == "assistant").collect();
    let from_end = (m - n + 1) as usize;
    if turns.len() < from_end {
        return Ok(None);
    }
    messages.truncate(turns[turns.len() - from_end] + 1);
    Ok(Some(messages))
}

/// The trajectory of an instance folder, with the issue from `problem_statement.txt`: the
/// conversation that wrote the submitted patch (`write_patch_conversation`), else (nothing
/// submitted, or no such file) the last conversation round.
pub(crate) fn trajectory(dir: &Path) -> Result<Option<Trajectory>> {
    let problem_statement = Some(read(&dir.join(STATEMENT))?);
    let wrote = match submitted(dir)? {
        Some((n, _)) => write_patch_conversation(dir, n)?,
        None => None,
    };
    let messages = match wrote {
        Some(m) => m,
        None => match numbered(dir, "conversation_round_", ".json")?.last() {
            None => Vec::new(),
            Some((_, p)) => messages_of(p)?,
        },
    };
    Ok(Some(Trajectory { messages, problem_statement, tools: None }))
}

/// The instance folders of an ACR run folder (in category folders or straight under it);
/// empty when `dir` is not one.
pub(crate) fn instance_dirs(entries: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in entries.iter().filter(|p| p.is_dir()) {
        if is_instance_dir(p) {
            out.push(p.clone());
        } else if p.file_name().and_then(|n| n.to_str()).is_some_and(|n| CATEGORIES.contains(&n)) {
            let mut inner: Vec<PathBuf> = fs::read_dir(p)
                .with_context(|| format!("{}: cannot list", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|q| is_instance_dir(q))
                .collect();
            inner.sort();
            out.extend(inner);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_ids_from_folder_names() {
        let id = |s: &str| instance_id(Path::new(s));
        assert_eq!(id("x/django__django-11422_2024-04-06_13-48-23").as_deref(), Some("django__django-11422"));
        assert_eq!(id("django__django-11422"), None);
        assert_eq!(id("a_2024-04-06_13-48-2x"), None);
        assert_eq!(id("_2024-04-06_13-48-23"), None);
    }
}
