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

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use serde::{Deserialize, Deserializer, Serialize};

use super::settings::ScorerSettings;
use super::shard::Shard;
use super::{Scored, VerifierDetail};
use crate::input::stream::{max_line_bytes, read_line_bounded};
use crate::outdir::{self, OutDir};

pub const SCORES: &str = "scores.jsonl";
pub const SETTINGS: &str = "scores.settings.json";
/// `score --calibration`: the store's lines with calibrated scores (derived, rewritten whole).
pub const CALIBRATED: &str = "scores.calibrated.jsonl";
/// `eval` (and `rerank --calibration`): the scores and labels as evaluated, after `--labels`
/// and `--calibration`, in the store's line format (derived, rewritten whole; not a store).
pub const EVALUATED: &str = "scores.evaluated.jsonl";
const FORMAT: &str = "swerm-scores/1";

/// One line of scores.jsonl; the verifier's columns sit beside the others in the file
/// (`LineRepr`, so that a bad value names its own field).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(from = "LineRepr", into = "LineRepr")]
pub struct ScoreLine {
    pub instance_id: String,
    pub run: String,
    /// `null` = no score (ranks last).
    pub score: Option<f64>,
    /// No patch (also true for a missing candidate).
    pub empty: bool,
    /// The run has no record for this instance.
    pub missing: bool,
    pub resolved: Option<bool>,
    pub detail: VerifierDetail,
    /// The candidate's rank in its instance under a tie-break chain (`--tie-break`; higher
    /// first).
    pub tie_rank: Option<f64>,
    /// `crate::patch::content_key` of the candidate's patch (`None` when empty): selection
    /// breaks ties among different patches by it, so `eval` and `select` reproduce `rerank`'s
    /// picks from the store alone. Written as 16 hex digits.
    pub patch_hash: Option<u64>,
    /// `crate::patch::bytes_key` of the exact patch bytes: among tied candidates of equal
    /// content, the smaller decides which bytes predictions.jsonl gets.
    pub patch_bytes_hash: Option<u64>,
}

/// The line as written: every column at the top level.
#[derive(Serialize, Deserialize)]
struct LineRepr {
    instance_id: String,
    run: String,
    /// Required: a line without it is an error, not "no score".
    #[serde(deserialize_with = "nullable")]
    score: Option<f64>,
    #[serde(default)]
    empty: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    missing: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    resolved: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    logit_yes: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    logit_no: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    n_tokens: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    truncated: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    trajectory: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tie_rank: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "hex_u64")]
    patch_hash: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "hex_u64")]
    patch_bytes_hash: Option<u64>,
}

/// `patch_hash` as 16 lower-case hex digits (JSON numbers lose bits past 2^53 in most readers).
mod hex_u64 {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(v: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(x) => s.serialize_str(&format!("{x:016x}")),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(t) if t.len() == 16 => u64::from_str_radix(&t, 16)
                .map(Some)
                .map_err(|_| D::Error::custom(format!("{t:?} is not 16 hex digits"))),
            Some(t) => Err(D::Error::custom(format!("{t:?} is not 16 hex digits"))),
        }
    }
}

impl From<LineRepr> for ScoreLine {
    fn from(r: LineRepr) -> Self {
        let detail = VerifierDetail {
            logit_yes: r.logit_yes,
            logit_no: r.logit_no,
            n_tokens: r.n_tokens,
            truncated: r.truncated,
            trajectory: r.trajectory,
            error: r.error,
        };
        let LineRepr {
            instance_id, run, score, empty, missing, resolved, tie_rank, patch_hash, patch_bytes_hash, ..
        } = r;
        ScoreLine { instance_id, run, score, empty, missing, resolved, detail, tie_rank, patch_hash, patch_bytes_hash }
    }
}

impl From<ScoreLine> for LineRepr {
    fn from(l: ScoreLine) -> Self {
        let d = l.detail;
        LineRepr {
            instance_id: l.instance_id,
            run: l.run,
            score: l.score,
            empty: l.empty,
            missing: l.missing,
            resolved: l.resolved,
            logit_yes: d.logit_yes,
            logit_no: d.logit_no,
            n_tokens: d.n_tokens,
            truncated: d.truncated,
            trajectory: d.trajectory,
            error: d.error,
            tie_rank: l.tie_rank,
            patch_hash: l.patch_hash,
            patch_bytes_hash: l.patch_bytes_hash,
        }
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn nullable<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    Option::<f64>::deserialize(d)
}

impl ScoreLine {
    pub fn scored(&self) -> Scored {
        Scored { score: self.score, detail: self.detail.clone() }
    }
}

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
    Same,
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
        Ok(h) if h.scorer == *want.scorer && h.shard == want.shard => Existing::Same,
        Ok(h) => Existing::Other(format!("scores of {}", Want { scorer: &h.scorer, shard: h.shard }.describe())),
        Err(e) => Existing::Other(format!("scores whose settings this swerm cannot read ({}: {e})", meta.display())),
    })
}

/// Refuses, before anything is written, a directory holding another scorer's scores.
pub fn check(dir: &Path, want: Want, overwrite: bool) -> Result<()> {
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

/// The open store of an output directory.
///
/// Decision (a store only grows): every line already in the store of the same scorer is kept.
/// A run scores the candidates of its own inputs (reusing stored scores when the scorer is
/// resumable, recomputing them otherwise) and replaces only those candidates' lines; lines of
/// other runs, other instances, subsets and earlier inputs stay. Only `--overwrite` starts
/// afresh, and says how many lines it discarded.
pub struct ScoreStore {
    path: PathBuf,
    file: File,
    since_sync: usize,
    /// Every line already in the store when it was opened, by (instance, run).
    previous: HashMap<(String, String), ScoreLine>,
    /// Lines read back from an earlier run.
    pub reused: usize,
    /// Lines `--overwrite` discarded.
    pub discarded: usize,
    /// A torn last line (an interrupted run) was dropped.
    pub dropped_torn_line: bool,
}

impl ScoreStore {
    /// Opens the store of `out` for `want` (refusing another scorer's scores unless
    /// `overwrite`, which discards whatever is stored). The complete lines already there are
    /// kept; [`ScoreStore::stored`] gives their scores back for reuse.
    pub fn open(out: &mut OutDir, want: Want, overwrite: bool) -> Result<Self> {
        let path = out.file(SCORES);
        let same = matches!(refuse(existing(out.path(), want)?, out.path(), want, overwrite)?, Existing::Same);
        let mut previous = HashMap::new();
        let (mut torn, mut discarded) = (false, 0);
        if overwrite || !same {
            if path.exists() {
                discarded = read_lines(&path).map(|b| b.lines.len()).unwrap_or(0);
            }
            outdir::write_atomic(&path, b"")?;
        } else if path.exists() {
            let back = read_lines(&path)?;
            torn = back.torn;
            if torn {
                // Cut the torn tail so that appends start on a fresh line.
                let f = OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .with_context(|| format!("{}: cannot open", path.display()))?;
                f.set_len(back.complete_bytes)?;
            }
            previous = back.lines.into_iter().map(|l| ((l.instance_id.clone(), l.run.clone()), l)).collect();
        }
        if !same || overwrite {
            let header = Header { format: FORMAT.into(), scorer: want.scorer.clone(), shard: want.shard };
            let text = serde_json::to_string_pretty(&header).expect("header serializes") + "\n";
            outdir::write_atomic(&out.file(SETTINGS), text.as_bytes())?;
        }
        out.mark_written(SCORES);
        out.mark_written(SETTINGS);
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .with_context(|| format!("{}: cannot open", path.display()))?;
        let reused = previous.len();
        Ok(ScoreStore { path, file, since_sync: 0, previous, reused, discarded, dropped_torn_line: torn })
    }

    /// The stored score of a candidate, if the store holds one.
    pub fn stored(&self, instance_id: &str, run: &str) -> Option<Scored> {
        self.previous.get(&(instance_id.to_string(), run.to_string())).map(ScoreLine::scored)
    }

    /// Appends one line (one `write` call), syncing to disk every 64 lines.
    pub fn append(&mut self, line: &ScoreLine) -> Result<()> {
        let text = serde_json::to_string(line).expect("score line serializes") + "\n";
        self.file.write_all(text.as_bytes()).with_context(|| format!("{}: cannot write", self.path.display()))?;
        crate::interrupt::saved_one();
        self.since_sync += 1;
        if self.since_sync >= 64 {
            self.sync()?;
        }
        Ok(())
    }

    pub fn sync(&mut self) -> Result<()> {
        self.since_sync = 0;
        self.file.sync_data().with_context(|| format!("{}: cannot sync", self.path.display()))
    }

    /// Replaces the file, atomically, with `lines` (this run's candidates) and every earlier
    /// line of another candidate, sorted by (instance, run) so that the result depends neither on
    /// the order in which candidates finished nor on the order of earlier runs. Returns the
    /// whole store and how many earlier lines were kept beside this run's.
    pub fn finish(mut self, out: &mut OutDir, lines: &[ScoreLine]) -> Result<Finished> {
        self.sync()?;
        let mine: std::collections::HashSet<(&str, &str)> =
            lines.iter().map(|l| (l.instance_id.as_str(), l.run.as_str())).collect();
        let mut all: Vec<ScoreLine> = std::mem::take(&mut self.previous)
            .into_values()
            .filter(|l| !mine.contains(&(l.instance_id.as_str(), l.run.as_str())))
            .collect();
        let kept = all.len();
        all.extend(lines.iter().cloned());
        all.sort_by(|a, b| (&a.instance_id, &a.run).cmp(&(&b.instance_id, &b.run)));
        drop(self);
        out.write(SCORES, render(&all).as_bytes())?;
        Ok(Finished { lines: all, kept })
    }
}

/// A store after its final rewrite.
pub struct Finished {
    /// Every line of the store, sorted by (instance, run).
    pub lines: Vec<ScoreLine>,
    /// Lines of other candidates kept from earlier runs.
    pub kept: usize,
}

/// The text of a whole store file.
pub fn render(lines: &[ScoreLine]) -> String {
    lines.iter().map(|l| serde_json::to_string(l).expect("score line serializes") + "\n").collect()
}

/// A store read back (or several, merged).
#[derive(Debug)]
pub struct Stored {
    /// The scores file read (the first, when several were merged).
    pub path: PathBuf,
    /// Every file read, for messages: `a/scores.jsonl + b/scores.jsonl`.
    pub origin: String,
    /// The scorer, when the header beside the file names it.
    pub scorer: Option<ScorerSettings>,
    /// The shard the store holds (`None` after a merge of every shard).
    pub shard: Option<Shard>,
    pub lines: Vec<ScoreLine>,
    /// Files whose torn last line (an interrupted run) was dropped.
    pub torn: Vec<PathBuf>,
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

struct ReadBack {
    lines: Vec<ScoreLine>,
    /// Bytes of complete, valid lines.
    complete_bytes: u64,
    torn: bool,
}

/// Reads every line; blank lines are skipped; a last line without a newline that does not parse
/// is a torn line (dropped, reported); any other bad line is an error naming file, line and field.
/// A repeated (instance, run) is an error naming both lines.
fn read_lines(path: &Path) -> Result<ReadBack> {
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

/// One line, with the failing field named (`field `score`: invalid type: ...`).
fn parse_line(text: &[u8]) -> Result<ScoreLine, String> {
    let mut de = serde_json::Deserializer::from_slice(text);
    let line: ScoreLine = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        // serde_json appends the position inside the line; the line number says enough.
        let msg = inner.to_string();
        let msg = msg.rsplit_once(" at line ").map_or(msg.as_str(), |(m, _)| m).to_string();
        if inner.is_syntax() || inner.is_eof() {
            format!("invalid JSON: {msg}")
        } else if path == "." {
            msg
        } else {
            format!("field `{path}`: {msg}")
        }
    })?;
    de.end().map_err(|e| format!("invalid JSON: {e}"))?;
    if line.score.is_some_and(|s| !s.is_finite()) {
        return Err("field `score`: not a finite number".into());
    }
    Ok(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(iid: &str, score: f64) -> ScoreLine {
        ScoreLine {
            instance_id: iid.into(),
            run: "r".into(),
            score: Some(score),
            empty: false,
            missing: false,
            resolved: None,
            detail: VerifierDetail::default(),
            tie_rank: None,
            patch_hash: None,
            patch_bytes_hash: None,
        }
    }

    fn want(s: &ScorerSettings) -> Want<'_> {
        Want { scorer: s, shard: None }
    }

    #[test]
    fn resume_drops_torn_line_and_refuses_other_settings() {
        let d = tempfile::tempdir().unwrap();
        let (a, b) = (ScorerSettings::Consensus, ScorerSettings::Field { field: "x".into() });
        {
            let mut out = OutDir::open(d.path()).unwrap();
            let mut s = ScoreStore::open(&mut out, want(&a), false).unwrap();
            assert_eq!(s.reused, 0);
            s.append(&line("i1", 0.5)).unwrap();
            s.append(&line("i2", 0.25)).unwrap();
        }
        // A crash in the middle of a third line.
        let p = d.path().join(SCORES);
        let mut f = OpenOptions::new().append(true).open(&p).unwrap();
        f.write_all(b"{\"instance_id\":\"i3\",\"ru").unwrap();
        drop(f);
        let mut out = OutDir::open(d.path()).unwrap();
        let mut s = ScoreStore::open(&mut out, want(&a), false).unwrap();
        assert_eq!((s.reused, s.dropped_torn_line), (2, true));
        assert_eq!(s.stored("i2", "r").unwrap().score, Some(0.25));
        s.append(&line("i3", 1.0)).unwrap();
        drop(s);
        let text = fs::read_to_string(&p).unwrap();
        assert_eq!(text.lines().count(), 3);
        assert!(text.lines().all(|l| parse_line(l.as_bytes()).is_ok()));
        let e = ScoreStore::open(&mut out, want(&b), false).err().unwrap().to_string();
        assert!(e.contains("holds scores of consensus") && e.contains("field:x") && e.contains("--overwrite"), "{e}");
        assert_eq!(fs::read_to_string(&p).unwrap(), text, "a refused run changes nothing");
        let s = ScoreStore::open(&mut out, want(&b), true).unwrap();
        assert_eq!((s.reused, s.discarded), (0, 3), "--overwrite starts afresh and counts what it discards");
        assert!(fs::read_to_string(&p).unwrap().is_empty());
        drop(s);
        assert!(read(d.path()).unwrap().scorer == Some(b));
    }

    #[test]
    fn a_store_only_grows() {
        let d = tempfile::tempdir().unwrap();
        let c = ScorerSettings::Consensus;
        let run = |lines: &[ScoreLine]| {
            let mut out = OutDir::open(d.path()).unwrap();
            let st = ScoreStore::open(&mut out, want(&c), false).unwrap();
            st.finish(&mut out, lines).unwrap()
        };
        let f = run(&[line("b", 0.5), line("a", 0.25)]);
        assert_eq!((f.kept, f.lines.len()), (0, 2));
        // Another run's candidates (another instance here) join the two already there; a
        // candidate scored again replaces its own line only.
        let f = run(&[line("c", 1.0), line("a", 0.75)]);
        assert_eq!(f.kept, 1);
        let back = read(d.path()).unwrap();
        let got: Vec<(&str, Option<f64>)> = back.lines.iter().map(|l| (l.instance_id.as_str(), l.score)).collect();
        assert_eq!(got, vec![("a", Some(0.75)), ("b", Some(0.5)), ("c", Some(1.0))]);
        assert_eq!(f.lines, back.lines, "finish returns the store as written");
    }

    #[test]
    fn bad_lines_name_file_line_and_field() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("s.jsonl");
        let good = serde_json::to_string(&line("a", 0.5)).unwrap();
        for (bad, want) in [
            (r#"{"instance_id":"b","run":"r","score":"high"}"#, ":2: field `score`: invalid type: string"),
            (r#"{"instance_id":"b","run":"r"}"#, ":2: missing field `score`"),
            (r#"{"instance_id":"b","run":"r","score":1,"n_tokens":-1}"#, ":2: field `n_tokens`"),
            (r#"{"instance_id":"b","run":"r","score":1} x"#, ":2: invalid JSON"),
            (&good, ":2: duplicate line for instance a of run r (first at line 1)"),
        ] {
            fs::write(&p, format!("{good}\n{bad}\n")).unwrap();
            let e = read(&p).unwrap_err().to_string();
            assert!(e.contains(want), "{bad}: {e}");
        }
        // A BOM and blank lines are fine; a torn last line is dropped and reported.
        fs::write(&p, format!("\u{feff}{good}\n\n{{\"instance_id\":\"b")).unwrap();
        let s = read(&p).unwrap();
        assert_eq!((s.lines.len(), s.torn.len(), s.scorer), (1, 1, None));
    }

    /// Writes a store of `lines` for `scorer` (and `shard`) into a new directory under `root`.
    fn store_in(
        root: &Path,
        name: &str,
        scorer: &ScorerSettings,
        shard: Option<Shard>,
        lines: &[ScoreLine],
    ) -> PathBuf {
        let dir = root.join(name);
        let mut out = OutDir::open(&dir).unwrap();
        let st = ScoreStore::open(&mut out, Want { scorer, shard }, false).unwrap();
        st.finish(&mut out, lines).unwrap();
        dir
    }

    #[test]
    fn stores_merge_only_when_they_agree() {
        let d = tempfile::tempdir().unwrap();
        let c = ScorerSettings::Consensus;
        let sh = |s: &str| Some(s.parse::<Shard>().unwrap());
        let s1 = store_in(d.path(), "s1", &c, sh("1/2"), &[line("a", 0.5), line("b", 0.25)]);
        let s2 = store_in(d.path(), "s2", &c, sh("2/2"), &[line("c", 1.0)]);
        let m = read_many(&[s1.clone(), s2.clone()]).unwrap();
        let ids: Vec<&str> = m.lines.iter().map(|l| l.instance_id.as_str()).collect();
        assert_eq!((ids, m.shard, m.scorer), (vec!["a", "b", "c"], None, Some(c.clone())));
        assert!(m.origin.contains(" + "));
        let e = read_many(std::slice::from_ref(&s1)).unwrap_err().to_string();
        assert!(e.contains("shard 2/2 of the sharded run is missing"), "{e}");
        let e = read_many(&[s1.clone(), s1.clone(), s2.clone()]).unwrap_err().to_string();
        assert!(e.contains("shard 1/2 is given twice"), "{e}");
        // Overlap: equal within the tolerance is kept once; beyond it is refused.
        let w1 = store_in(d.path(), "w1", &c, None, &[line("a", 0.5), line("b", 0.25)]);
        let w2 = store_in(d.path(), "w2", &c, None, &[line("b", 0.25 + 1e-6), line("c", 1.0)]);
        assert_eq!(read_many(&[w1.clone(), w2]).unwrap().lines.len(), 3);
        let w3 = store_in(d.path(), "w3", &c, None, &[line("b", 0.3)]);
        let e = read_many(&[w1.clone(), w3]).unwrap_err().to_string();
        assert!(e.contains("instance b of run r") && e.contains("disagree"), "{e}");
        let other = store_in(d.path(), "f", &ScorerSettings::Field { field: "x".into() }, None, &[line("z", 0.5)]);
        let e = read_many(&[w1.clone(), other]).unwrap_err().to_string();
        assert!(e.contains("only one scorer's scores merge"), "{e}");
        let e = read_many(&[w1, s2]).unwrap_err().to_string();
        assert!(e.contains("holds every candidate but another store holds a shard of 2"), "{e}");
        // A shard's directory refuses another shard's run.
        let mut out = OutDir::open(&s1).unwrap();
        let e = ScoreStore::open(&mut out, Want { scorer: &c, shard: sh("2/2") }, false).err().unwrap().to_string();
        assert!(e.contains("shard 1/2") && e.contains("shard 2/2"), "{e}");
    }

    #[test]
    fn lines_round_trip() {
        let mut l = line("a", 0.125);
        l.resolved = Some(true);
        l.detail = VerifierDetail {
            logit_yes: Some(1.5),
            logit_no: Some(-0.25),
            n_tokens: Some(12),
            truncated: Some(false),
            trajectory: Some(false),
            error: None,
        };
        let text = serde_json::to_string(&l).unwrap();
        assert_eq!(
            text,
            r#"{"instance_id":"a","run":"r","score":0.125,"empty":false,"resolved":true,"logit_yes":1.5,"logit_no":-0.25,"n_tokens":12,"truncated":false,"trajectory":false}"#
        );
        assert_eq!(parse_line(text.as_bytes()).unwrap(), l);
        let hole = ScoreLine { score: None, empty: true, missing: true, ..line("b", 0.0) };
        assert_eq!(
            serde_json::to_string(&hole).unwrap(),
            r#"{"instance_id":"b","run":"r","score":null,"empty":true,"missing":true}"#
        );
    }
}
