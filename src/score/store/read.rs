//! Stores read back: one file (or a directory's), or several merged (shards, parts), with
//! the refusals that keep a merge honest.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::line::ScoreLine;
use super::{Header, SCORES, SETTINGS};
use crate::score::kept;
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
}

/// Reads a store: a scores.jsonl file (any name), or a directory holding one. The header is
/// read when the file is a directory's `scores.jsonl` and `scores.settings.json` sits beside it.
pub fn read(path: &Path) -> Result<Stored> {
    let file = if path.is_dir() { path.join(SCORES) } else { path.to_path_buf() };
    if !file.exists() {
        bail!("{}: no such scores file", file.display());
    }
    let back = kept::read_lines::<ScoreLine>(&file)?;
    let header = match file.parent() {
        Some(dir) if file.file_name().is_some_and(|n| n == SCORES) && dir.join(SETTINGS).exists() => {
            let meta = dir.join(SETTINGS);
            let text = fs::read_to_string(&meta).with_context(|| format!("{}: cannot read", meta.display()))?;
            serde_json::from_str::<Header>(&text).ok()
        }
        _ => None,
    };
    let (scorer, shard) = header.map_or((None, None), |h| (Some(h.scorer), h.shard));
    Ok(Stored { origin: file.display().to_string(), path: file, scorer, shard, lines: back })
}

/// Several stores read as one: shards scored on several machines, or a run scored in parts.
/// Refused: stores of different scorers; a sharded run with a shard missing or given twice;
/// a candidate scored differently (beyond `kept::MERGE_TOLERANCE`) or labelled differently in two
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
    let origins: Vec<String> = all.iter().map(|s| s.origin.clone()).collect();
    let (path, scorer) = (all[0].path.clone(), all[0].scorer.clone());
    let lines = kept::merge(all.into_iter().map(|s| s.lines).collect(), &origins)?;
    Ok(Stored { path, origin: origins.join(" + "), scorer, shard: None, lines })
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
