//! The one append-only JSONL store that scorers keep their expensive work in: scores.jsonl and
//! pairs.jsonl are each a `Kept` of their own line type, and the next kept record (a decoding
//! judge's generations) will be another. A line type says what one line is of (its key), how it
//! is parsed with its failing field named, and when two copies of it agree (a merge of shards);
//! everything else is here, once:
//!
//! - reading: blank lines skipped, a byte-order mark stripped, a last line without a newline
//!   that does not parse is a torn line (an interrupted run: dropped, said once), any other bad
//!   line an error naming file, line and field, a key given twice an error naming both lines;
//! - resuming: the complete lines kept for reuse, a torn tail cut so that appends start on a
//!   fresh line; afresh (`--overwrite`, another scorer's store), the file emptied;
//! - appending as work finishes (`outdir::Appender`: one write per line, synced every 64);
//! - the final rewrite: this run's lines and every earlier line of another key, sorted by key,
//!   so the file depends neither on the order work finished nor on earlier runs (a store only
//!   grows);
//! - merging stores of several machines (shards): a key in two of them must agree
//!   (`MERGE_TOLERANCE` for scores).

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use serde::Serialize;

use crate::input::stream::{max_line_bytes, read_line_bounded};
use crate::outdir::{self, OutDir};

/// Overlapping values of one key in two stores must agree this closely (engines and batch
/// compositions differ in the last bits; anything more is another scorer).
pub const MERGE_TOLERANCE: f64 = 1e-4;

/// What one line is of: up to three names (an instance and a run; an instance and two runs).
pub(crate) type Key<'a> = (&'a str, &'a str, &'a str);

/// A line type of a kept store.
pub(crate) trait Line: Serialize + Clone + Send + Sync {
    /// The line's key: unique in a store, the order of the final rewrite.
    fn key(&self) -> Key<'_>;
    /// One line's JSON, parsed and checked; the error names the failing field.
    fn parse(text: &[u8]) -> Result<Self, String>;
    /// Whether two lines of one key, from two stores, say the same.
    fn agrees(&self, other: &Self) -> bool;
    /// What the line is of, in words ("instance X of run R").
    fn describe(&self) -> String;
    /// Its values, for a message about two that disagree.
    fn values(&self) -> String;
}

/// The key as owned names, for the table of stored lines.
fn owned(k: Key) -> (String, String, String) {
    (k.0.to_string(), k.1.to_string(), k.2.to_string())
}

/// A file read back.
pub(crate) struct ReadBack<L> {
    pub(crate) lines: Vec<L>,
    /// Bytes of the complete, valid lines.
    complete_bytes: u64,
    /// A torn last line was dropped.
    pub(crate) torn: bool,
}

/// Says that a torn last line was dropped: the one place this message is written.
pub(crate) fn say_torn(path: &Path) {
    crate::console::caution(None, &format!("{}: dropped a torn last line (an interrupted run)", path.display()));
}

/// Reads every line of a store file (see the module's rules). Says so when it drops a torn line.
pub(crate) fn read_lines<L: Line>(path: &Path) -> Result<ReadBack<L>> {
    let f = File::open(path).with_context(|| format!("{}: cannot open", path.display()))?;
    let mut r = BufReader::new(f);
    let mut buf = Vec::new();
    let (mut lines, mut linenos, mut offset, mut lineno) = (Vec::new(), Vec::new(), 0u64, 0usize);
    let torn = loop {
        buf.clear();
        lineno += 1;
        let n = read_line_bounded(&mut r, &mut buf, max_line_bytes())
            .with_context(|| format!("{}:{lineno}", path.display()))?;
        if n == 0 {
            break false;
        }
        let text = buf.strip_prefix(b"\xef\xbb\xbf".as_slice()).unwrap_or(&buf);
        if text.iter().all(u8::is_ascii_whitespace) {
            offset += n as u64;
            continue;
        }
        let parsed = L::parse(text);
        if !buf.ends_with(b"\n") && parsed.is_err() && r.fill_buf()?.is_empty() {
            break true;
        }
        lines.push(parsed.map_err(|e| anyhow!("{}:{lineno}: {e}", path.display()))?);
        linenos.push(lineno);
        offset += n as u64;
    };
    check_unique(path, &lines, &linenos)?;
    if torn {
        say_torn(path);
    }
    Ok(ReadBack { lines, complete_bytes: offset, torn })
}

/// Refuses a key given twice in one file (found by sorting: a million lines need no table of
/// owned keys).
fn check_unique<L: Line>(path: &Path, lines: &[L], linenos: &[usize]) -> Result<()> {
    let mut order: Vec<usize> = (0..lines.len()).collect();
    order.sort_unstable_by(|&x, &y| lines[x].key().cmp(&lines[y].key()).then(x.cmp(&y)));
    for w in order.windows(2) {
        if lines[w[0]].key() == lines[w[1]].key() {
            bail!(
                "{}:{}: duplicate line for {} (first at line {})",
                path.display(),
                linenos[w[1]],
                lines[w[1]].describe(),
                linenos[w[0]]
            );
        }
    }
    Ok(())
}

/// An open kept store of an output directory (its lock is the directory's).
pub(crate) struct Kept<L: Line> {
    path: PathBuf,
    file: outdir::Appender,
    /// Every line already in the store when it was opened, by key.
    previous: HashMap<(String, String, String), L, foldhash::fast::RandomState>,
    /// Lines an afresh opening discarded.
    pub(crate) discarded: usize,
}

impl<L: Line> Kept<L> {
    /// Opens the store `name` of `out`: emptied when `afresh` (what it held is counted as
    /// discarded), else its complete lines kept for reuse and a torn tail cut.
    pub(crate) fn open(out: &mut OutDir, name: &'static str, afresh: bool) -> Result<Self> {
        let path = out.file(name);
        let mut previous = HashMap::default();
        let mut discarded = 0;
        if afresh || !path.exists() {
            if path.exists() {
                discarded = read_lines::<L>(&path).map(|b| b.lines.len()).unwrap_or(0);
            }
            outdir::write_atomic(&path, b"")?;
        } else {
            let back = read_lines::<L>(&path)?;
            if back.torn {
                let f = OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .with_context(|| format!("{}: cannot open", path.display()))?;
                f.set_len(back.complete_bytes)?;
            }
            previous = back.lines.into_iter().map(|l| (owned(l.key()), l)).collect();
        }
        out.mark_written(name);
        let file = outdir::Appender::open(&path)?;
        Ok(Kept { path, file, previous, discarded })
    }

    /// Lines read back from earlier runs.
    pub(crate) fn reused(&self) -> usize {
        self.previous.len()
    }

    /// The stored line of `key`, if the store holds one.
    pub(crate) fn stored(&self, key: Key) -> Option<&L> {
        self.previous.get(&owned(key))
    }

    /// Appends one line (one `write` call), syncing to disk every 64 lines.
    pub(crate) fn append(&mut self, line: &L) -> Result<()> {
        self.file.append(line)
    }

    pub(crate) fn sync(&mut self) -> Result<()> {
        self.file.sync()
    }

    /// Replaces the file, atomically, with `lines` (this run's) and every earlier line of
    /// another key, sorted by key. Returns the whole store, sorted, and how many earlier lines
    /// were kept beside this run's.
    pub(crate) fn finish(mut self, lines: Vec<L>) -> Result<(Vec<L>, usize)> {
        self.sync()?;
        let mut all: Vec<L> = if self.previous.is_empty() {
            Vec::new()
        } else {
            let mine: std::collections::HashSet<Key, foldhash::fast::RandomState> =
                lines.iter().map(Line::key).collect();
            let keep: Vec<(String, String, String)> = self
                .previous
                .keys()
                .filter(|k| !mine.contains(&(k.0.as_str(), k.1.as_str(), k.2.as_str())))
                .cloned()
                .collect();
            keep.into_iter().filter_map(|k| self.previous.remove(&k)).collect()
        };
        let kept = all.len();
        // A fresh store (the usual case) keeps this run's vector as it is: extending an empty
        // one copied every line into fresh pages (~11% of an RL-scale rerank in `perf`).
        if all.is_empty() {
            all = lines;
        } else {
            all.extend(lines);
        }
        // Usually in order already (a dataset's grid order is this order): then one pass.
        if !all.is_sorted_by(|a, b| a.key() <= b.key()) {
            all.sort_by(|a, b| a.key().cmp(&b.key()));
        }
        let path = std::mem::take(&mut self.path);
        drop(self);
        outdir::write_atomic_parts(&path, &render_parts(&all))?;
        Ok((all, kept))
    }
}

/// The text of a whole store file.
pub(crate) fn render<L: Line>(lines: &[L]) -> String {
    render_parts(lines).concat()
}

/// The text of a whole store file, in consecutive parts (for `outdir::write_atomic_parts`).
fn render_parts<L: Line>(lines: &[L]) -> Vec<String> {
    use rayon::prelude::*;
    // In parallel chunks: a store of a million lines is written in a fraction of a second.
    let chunk = |ls: &[L]| -> String {
        let mut s = String::with_capacity(ls.len() * 160);
        for l in ls {
            s += &serde_json::to_string(l).expect("a store line serializes");
            s.push('\n');
        }
        s
    };
    lines.par_chunks(4096).map(chunk).collect()
}

/// The lines of several stores merged (shards, parts of a run): a key in two stores is kept once
/// when they agree, and is an error naming both when they do not. `origins[k]` names store k.
pub(crate) fn merge<L: Line>(stores: Vec<Vec<L>>, origins: &[String]) -> Result<Vec<L>> {
    if stores.len() == 1 {
        return Ok(stores.into_iter().next().expect("one store"));
    }
    let mut all: Vec<(usize, L)> =
        stores.into_iter().enumerate().flat_map(|(k, ls)| ls.into_iter().map(move |l| (k, l))).collect();
    all.sort_by(|x, y| x.1.key().cmp(&y.1.key()).then(x.0.cmp(&y.0)));
    let mut merged: Vec<(usize, L)> = Vec::with_capacity(all.len());
    for (k, l) in all {
        if let Some((from, m)) = merged.last().filter(|(_, m)| m.key() == l.key()) {
            if !m.agrees(&l) {
                bail!(
                    "{} is in {} ({}) and in {} ({}), which disagree",
                    l.describe(),
                    origins[*from],
                    m.values(),
                    origins[k],
                    l.values()
                );
            }
            continue;
        }
        merged.push((k, l));
    }
    Ok(merged.into_iter().map(|(_, l)| l).collect())
}
