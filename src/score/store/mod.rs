//! The score store, the one owner of `scores.jsonl` and its settings header
//! `scores.settings.json`: the line format (`ScoreLine`), the writer and the reader.
//!
//! `scores.jsonl` holds one line per candidate of ONE scorer. While a scorer runs, lines are
//! appended as candidates finish (a crash loses at most the line being written; a torn last line
//! is dropped on reopening); at the end the file is rewritten whole, in grid order. The header
//! names the scorer and every setting that changes its scores.
//!
//! Decision (scores of different scorers never mix): a directory's store belongs to the scorer
//! that wrote it. A run with other settings is refused before anything is written, naming both
//! settings and the ways out (another `-o`, or `--overwrite`, which discards the stored scores);
//! so nothing scored is ever lost by accident, and never reported under another scorer's name.
//! Keeping several scorers' stores side by side in one directory was the alternative; it would
//! make "the scores of this directory" ambiguous for `eval`, `select` and `compare`.
//!
//! Files: `line` (the line format and its parser), this file (the header, the refusal of another
//! scorer's directory, the open store), `read` (reading stores back and merging them); the
//! lines themselves are kept by `score::kept`, which pairs.jsonl shares.

mod line;
mod read;
#[cfg(test)]
mod tests;

use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use super::Scored;
use super::kept::{self, Kept};
use super::settings::ScorerSettings;
use super::shard::Shard;
use crate::outdir::{self, OutDir};

pub use super::kept::MERGE_TOLERANCE;
pub(crate) use line::{ScoreLine, place};
pub use read::{Stored, read, read_many};

pub(crate) const SCORES: &str = "scores.jsonl";
pub(crate) const SETTINGS: &str = "scores.settings.json";
/// `score --calibration`: the store's lines with calibrated scores (derived, rewritten whole).
pub(crate) const CALIBRATED: &str = "scores.calibrated.jsonl";
/// `eval` (and `rerank --calibration`): the scores and labels as evaluated, after `--labels`
/// and `--calibration`, in the store's line format (derived, rewritten whole; not a store).
pub(crate) const EVALUATED: &str = "scores.evaluated.jsonl";
const FORMAT: &str = "swerm-scores/1";

/// The header file.
#[derive(Serialize, Deserialize)]
struct Header {
    format: String,
    scorer: ScorerSettings,
    /// The part of the candidates this store holds (`--shard I/N`); none = all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    shard: Option<Shard>,
}

/// What a run will store: its scorer, and the shard it scores.
#[derive(Clone, Copy)]
pub struct Want<'a> {
    pub scorer: &'a ScorerSettings,
    pub shard: Option<Shard>,
}

impl Want<'_> {
    fn describe(&self) -> String {
        let shard = self.shard.map(|s| format!(", shard {s}")).unwrap_or_default();
        format!("{} ({}){shard}", self.scorer.short(), self.scorer.full())
    }
}

/// What a directory's store says about its scorer.
enum Existing {
    Nothing,
    /// This scorer's store; `predates`: its header was written before swerm identified
    /// checkpoints and datasets by content (it is compared by path, and upgraded on opening).
    Same {
        predates: bool,
    },
    /// Another scorer's scores (or scores whose scorer is unknown), described for a message.
    Other(String),
}

fn existing(dir: &Path, want: Want) -> Result<Existing> {
    let (scores, meta) = (dir.join(SCORES), dir.join(SETTINGS));
    let text = match fs::read_to_string(&meta) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(if scores.exists() {
                Existing::Other(format!("scores of an unknown scorer ({} is missing)", meta.display()))
            } else {
                Existing::Nothing
            });
        }
        Err(e) => return Err(e).with_context(|| format!("{}: cannot read", meta.display())),
    };
    Ok(match serde_json::from_str::<Header>(&text) {
        Ok(h) if h.scorer == *want.scorer && h.shard == want.shard => {
            let predates = match (&h.scorer, want.scorer) {
                (ScorerSettings::Verifier(old), ScorerSettings::Verifier(now)) => old.predates(now),
                _ => false,
            };
            Existing::Same { predates }
        }
        Ok(h) => Existing::Other(format!("scores of {}", Want { scorer: &h.scorer, shard: h.shard }.describe())),
        Err(e) => Existing::Other(format!("scores whose settings this swerm cannot read ({}: {e})", meta.display())),
    })
}

/// Refuses, before anything is written, a directory holding another scorer's scores.
pub(crate) fn check(dir: &Path, want: Want, overwrite: bool) -> Result<()> {
    refuse(existing(dir, want)?, dir, want, overwrite).map(drop)
}

/// `existing` unless it is another scorer's store and `overwrite` is off.
fn refuse(e: Existing, dir: &Path, want: Want, overwrite: bool) -> Result<Existing> {
    match e {
        Existing::Other(have) if !overwrite => bail!(
            "{} holds {have}; this run scores with {}. Scores of different scorers (or shards) never share a directory: use another -o, or --overwrite to discard the stored scores",
            dir.join(SCORES).display(),
            want.describe()
        ),
        e => Ok(e),
    }
}

/// The open store of an output directory: the kept lines (`score::kept`) under this scorer's
/// header.
///
/// Decision (a store only grows): every line already in the store of the same scorer is kept.
/// A run scores the candidates of its own inputs (reusing stored scores when the scorer is
/// resumable, recomputing them otherwise) and replaces only those candidates' lines; lines of
/// other runs, other instances, subsets and earlier inputs stay. Only `--overwrite` starts
/// afresh, and says how many lines it discarded.
pub struct ScoreStore {
    lines: Kept<ScoreLine>,
    /// Lines read back from an earlier run.
    pub(crate) reused: usize,
    /// Lines `--overwrite` discarded.
    pub(crate) discarded: usize,
    /// The store started afresh (a new directory, another scorer's, or `--overwrite`).
    pub(crate) afresh: bool,
    /// Its header predated content identities and was rewritten with this run's.
    pub(crate) upgraded: bool,
}

impl ScoreStore {
    /// Opens the store of `out` for `want` (refusing another scorer's scores unless
    /// `overwrite`, which discards whatever is stored). The complete lines already there are
    /// kept; [`ScoreStore::stored`] gives their scores back for reuse.
    pub fn open(out: &mut OutDir, want: Want, overwrite: bool) -> Result<Self> {
        let (same, upgraded) = match refuse(existing(out.path(), want)?, out.path(), want, overwrite)? {
            Existing::Same { predates } => (true, predates && !overwrite),
            _ => (false, false),
        };
        let afresh = overwrite || !same;
        let lines = Kept::open(out, SCORES, afresh)?;
        if afresh || upgraded {
            let header = Header { format: FORMAT.into(), scorer: want.scorer.clone(), shard: want.shard };
            let text = serde_json::to_string_pretty(&header).expect("header serializes") + "\n";
            outdir::write_atomic(&out.file(SETTINGS), text.as_bytes())?;
        }
        out.mark_written(SETTINGS);
        let (reused, discarded) = (lines.reused(), lines.discarded);
        Ok(ScoreStore { lines, reused, discarded, afresh, upgraded })
    }

    /// The stored score of a candidate, if the store holds one (an error when its line, whose
    /// names were read on opening, does not parse whole).
    pub(crate) fn stored(&self, instance_id: &str, run: &str) -> Result<Option<Scored>> {
        Ok(self.lines.stored((instance_id, run, ""))?.map(|l| l.scored()))
    }

    /// Appends one line (one `write` call), syncing to disk every 64 lines.
    pub(crate) fn append(&mut self, line: &ScoreLine) -> Result<()> {
        self.lines.append(line)
    }

    pub(crate) fn sync(&mut self) -> Result<()> {
        self.lines.sync()
    }

    /// Replaces the file with `lines` (this run's candidates) and every earlier line of another
    /// candidate, sorted by (instance, run) (`Kept::finish`). Returns the whole store and how
    /// many earlier lines were kept beside this run's.
    pub(crate) fn finish(self, lines: Vec<ScoreLine>) -> Result<Finished> {
        let (lines, kept) = self.lines.finish(lines)?;
        Ok(Finished { lines, kept })
    }

    /// [`ScoreStore::finish`] of `n` lines made on demand: `key(k)` is line k's key, `make(range)`
    /// makes those lines (`kept::Kept::finish_made`). Returns how many earlier lines were kept.
    pub(crate) fn finish_made<'k>(
        self,
        n: usize,
        key: impl Fn(usize) -> crate::score::kept::Key<'k> + Sync,
        make: impl Fn(std::ops::Range<usize>) -> Vec<ScoreLine> + Sync,
    ) -> Result<usize> {
        self.lines.finish_made(n, key, make)
    }
}

/// A store after its final rewrite.
pub(crate) struct Finished {
    /// Every line of the store, sorted by (instance, run).
    pub(crate) lines: Vec<ScoreLine>,
    /// Lines of other candidates kept from earlier runs.
    pub(crate) kept: usize,
}

/// The text of a whole store file.
pub(crate) fn render(lines: &[ScoreLine]) -> String {
    kept::render(lines)
}
