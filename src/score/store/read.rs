//! Stores read back: one file (or a directory's), or several merged (shards, parts), with
//! the refusals that keep a merge honest.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};

use super::line::{ScoreLine, parse_line};
use super::{Header, SCORES, SETTINGS};
use crate::input::stream::{max_line_bytes, read_line_bounded};
use crate::score::settings::ScorerSettings;
use crate::score::shard::Shard;

/// A store read back (or several, merged).
#[derive(Debug)]
pub struct Stored {
    /// The scores file read (the first, when several were merged).
    pub(crate) path: PathBuf,
    /// Every file read, for messages: `a/scores.jsonl + b/scores.jsonl`.
    pub(crate) origin: String,
    /// The scorer, when the header beside the file names it.
    pub(crate) scorer: Option<ScorerSettings>,
    /// The shard the store holds (`None` after a merge of every shard).
    pub(crate) shard: Option<Shard>,
    pub(crate) lines: Vec<ScoreLine>,
    /// Files whose torn last line (an interrupted run) was dropped.
    pub(crate) torn: Vec<PathBuf>,
}

/// Reads a store: a scores.jsonl file (any name), or a directory holding one. The header is
/// read when the file is a directory's `scores.jsonl` and `scores.settings.json` sits beside it.
pub fn read(path: &Path) -> Result<Stored> {
    let file = if path.is_dir() { path.join(SCORES) } else { path.to_path_buf() };
    if !file.exists() {
        bail!("{}: no such scores file", file.display());
    }
    let back = read_lines(&file)?;
    let header = match file.parent() {
        Some(dir) if file.file_name().is_some_and(|n| n == SCORES) && dir.join(SETTINGS).exists() => {
            let meta = dir.join(SETTINGS);
            let text = fs::read_to_string(&meta).with_context(|| format!("{}: cannot read", meta.display()))?;
            serde_json::from_str::<Header>(&text).ok()
        }
        _ => None,
    };
    let (scorer, shard) = header.map_or((None, None), |h| (Some(h.scorer), h.shard));
    let torn = if back.torn { vec![file.clone()] } else { Vec::new() };
    Ok(Stored { origin: file.display().to_string(), path: file, scorer, shard, lines: back.lines, torn })
}

/// Overlapping scores of one candidate in two stores must agree this closely (engines and
/// batch compositions differ in the last bits; anything more is another scorer).
pub const MERGE_TOLERANCE: f64 = 1e-4;

/// Several stores read as one: shards scored on several machines, or a run scored in parts.
/// Refused: stores of different scorers; a sharded run with a shard missing or given twice;
/// a candidate scored differently (beyond [`MERGE_TOLERANCE`]) or labelled differently in two
/// stores. A candidate in several stores that agree is kept once.
pub fn read_many(paths: &[PathBuf]) -> Result<Stored> {
    let mut all = paths.iter().map(|p| read(p)).collect::<Result<Vec<Stored>>>()?;
    check_shards(&all)?;
    if all.len() == 1 {
        return Ok(all.pop().expect("one store"));
    }
    let first = &all[0];
    for s in &all[1..] {
        if s.scorer != first.scorer {
            let name = |x: &Option<ScorerSettings>| {
                x.as_ref().map_or("an unknown scorer".into(), |x| format!("{} ({})", x.short(), x.full()))
            };
            bail!(
                "{} holds scores of {} but {} holds scores of {}: only one scorer's scores merge",
                first.origin,
                name(&first.scorer),
                s.origin,
                name(&s.scorer)
            );
        }
    }
    let mut merged: Vec<ScoreLine> = Vec::new();
    let mut at: HashMap<(String, String), (usize, usize)> = HashMap::new();
    for (k, s) in all.iter().enumerate() {
        for l in &s.lines {
            let key = (l.instance_id.clone(), l.run.clone());
            match at.get(&key) {
                None => {
                    at.insert(key, (merged.len(), k));
                    merged.push(l.clone());
                }
                Some(&(j, from)) => agree(&merged[j], &all[from].origin, l, &s.origin)?,
            }
        }
    }
    Ok(Stored {
        path: all[0].path.clone(),
        origin: all.iter().map(|s| s.origin.as_str()).collect::<Vec<_>>().join(" + "),
        scorer: all[0].scorer.clone(),
        shard: None,
        lines: merged,
        torn: all.iter().flat_map(|s| s.torn.clone()).collect(),
    })
}

/// Shards merge only all together, each once.
fn check_shards(all: &[Stored]) -> Result<()> {
    let Some(n) = all.iter().find_map(|s| s.shard.map(|x| x.count)) else { return Ok(()) };
    let mut have: Vec<Option<&str>> = vec![None; n as usize];
    for s in all {
        match s.shard {
            Some(x) if x.count != n => {
                bail!("{} holds shard {x} but another store holds a shard of {n}: shards of one split merge", s.origin)
            }
            None => bail!(
                "{} holds every candidate but another store holds a shard of {n}: merge the shards alone",
                s.origin
            ),
            Some(x) => {
                if let Some(other) = have[x.index as usize - 1].replace(&s.origin) {
                    bail!("shard {x} is given twice: {other} and {}", s.origin);
                }
            }
        }
    }
    let missing: Vec<String> =
        (1..=n).filter(|&i| have[i as usize - 1].is_none()).map(|i| format!("{i}/{n}")).collect();
    if !missing.is_empty() {
        bail!(
            "shard {} of the sharded run is missing (given: {})",
            missing.join(", "),
            all.iter().map(|s| s.origin.as_str()).collect::<Vec<_>>().join(", ")
        );
    }
    Ok(())
}

fn agree(a: &ScoreLine, a_from: &str, b: &ScoreLine, b_from: &str) -> Result<()> {
    let same_score = match (a.score, b.score) {
        (Some(x), Some(y)) => (x - y).abs() <= MERGE_TOLERANCE,
        (x, y) => x == y,
    };
    let same_label = a.resolved.is_none() || b.resolved.is_none() || a.resolved == b.resolved;
    if !same_score || !same_label {
        bail!(
            "instance {} of run {} is in {a_from} (score {:?}, resolved {:?}) and in {b_from} (score {:?}, resolved {:?}), which disagree",
            a.instance_id,
            a.run,
            a.score,
            a.resolved,
            b.score,
            b.resolved
        );
    }
    Ok(())
}

pub(super) struct ReadBack {
    pub(super) lines: Vec<ScoreLine>,
    /// Bytes of complete, valid lines.
    pub(super) complete_bytes: u64,
    pub(super) torn: bool,
}

/// Reads every line; blank lines are skipped; a last line without a newline that does not parse
/// is a torn line (dropped, reported); any other bad line is an error naming file, line and field.
/// A repeated (instance, run) is an error naming both lines.
pub(super) fn read_lines(path: &Path) -> Result<ReadBack> {
    let f = File::open(path).with_context(|| format!("{}: cannot open", path.display()))?;
    let mut r = BufReader::new(f);
    let mut buf = Vec::new();
    let (mut out, mut offset, mut lineno) = (Vec::new(), 0u64, 0usize);
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    loop {
        buf.clear();
        lineno += 1;
        let n = read_line_bounded(&mut r, &mut buf, max_line_bytes())
            .with_context(|| format!("{}:{lineno}", path.display()))?;
        if n == 0 {
            return Ok(ReadBack { lines: out, complete_bytes: offset, torn: false });
        }
        let text = buf.strip_prefix(b"\xef\xbb\xbf".as_slice()).unwrap_or(&buf);
        if text.iter().all(u8::is_ascii_whitespace) {
            offset += n as u64;
            continue;
        }
        let parsed = parse_line(text);
        if !buf.ends_with(b"\n") && parsed.is_err() && r.fill_buf()?.is_empty() {
            return Ok(ReadBack { lines: out, complete_bytes: offset, torn: true });
        }
        let line = parsed.map_err(|e| anyhow!("{}:{lineno}: {e}", path.display()))?;
        if let Some(first) = seen.insert((line.instance_id.clone(), line.run.clone()), lineno) {
            bail!(
                "{}:{lineno}: duplicate line for instance {} of run {} (first at line {first})",
                path.display(),
                line.instance_id,
                line.run
            );
        }
        offset += n as u64;
        out.push(line);
    }
}
