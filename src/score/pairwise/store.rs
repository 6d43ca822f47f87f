//! `pairs.jsonl`, the one owner of a pairwise judge's comparisons: one line per ordered
//! comparison (`instance_id`, `a`, `b` the runs shown as A and B, `p_a`, `logit_a`, `logit_b`,
//! `n_tokens`, `truncated`, or `error` when its prompt could not fit).
//!
//! It follows scores.jsonl's rules (`score::store`): it lives in the output directory beside
//! scores.jsonl, whose header (scores.settings.json) names the judge, under the same lock; lines
//! are appended as comparisons finish (a crash loses at most the line being written, a torn
//! last line is dropped on reopening), and at the end the file is rewritten whole, sorted, with
//! every earlier comparison of other candidates kept (a store only grows; `--overwrite`, or
//! another scorer's header, starts afresh). Stores of several machines (shards) merge; a
//! comparison in two of them must agree within `MERGE_TOLERANCE`.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use serde::{Deserialize, Serialize};

use crate::input::stream::{max_line_bytes, read_line_bounded};
use crate::outdir::{self, OutDir};
use crate::score::store::MERGE_TOLERANCE;

pub(crate) const PAIRS: &str = "pairs.jsonl";

/// One ordered comparison.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PairLine {
    pub(crate) instance_id: String,
    /// The run shown first (as A).
    pub(crate) a: String,
    /// The run shown second (as B).
    pub(crate) b: String,
    /// P(A): A's softmax share over the two answer tokens; `null` with `error`.
    pub(crate) p_a: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) logit_a: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) logit_b: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) n_tokens: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) truncated: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<String>,
}

pub(crate) type PairKey = (String, String, String);

impl PairLine {
    pub(crate) fn key(&self) -> PairKey {
        (self.instance_id.clone(), self.a.clone(), self.b.clone())
    }

    fn check(&self) -> Result<(), String> {
        match (self.p_a, &self.error) {
            (Some(p), _) if !(0.0..=1.0).contains(&p) => Err(format!("field `p_a`: {p} is not a probability")),
            (None, None) => Err("field `p_a`: null without an `error`".into()),
            _ if self.a == self.b => Err(format!("fields `a` and `b`: both are run {:?}", self.a)),
            _ => Ok(()),
        }
    }
}

/// Lines read back, and whether a torn last line was dropped (and where the complete ones end).
struct ReadBack {
    lines: Vec<PairLine>,
    complete_bytes: u64,
    torn: bool,
}

/// A line's key, borrowed.
fn key_of(l: &PairLine) -> (&str, &str, &str) {
    (&l.instance_id, &l.a, &l.b)
}

/// Refuses a comparison given twice in one file (found by sorting: a million lines need no
/// table of owned keys).
fn check_unique(path: &Path, lines: &[PairLine], linenos: &[usize]) -> Result<()> {
    let mut order: Vec<usize> = (0..lines.len()).collect();
    order.sort_unstable_by(|&x, &y| key_of(&lines[x]).cmp(&key_of(&lines[y])).then(x.cmp(&y)));
    for w in order.windows(2) {
        let (first, second) = (&lines[w[0]], &lines[w[1]]);
        if key_of(first) == key_of(second) {
            bail!(
                "{}:{}: duplicate comparison of runs {} (A) and {} (B) on instance {} (first at line {})",
                path.display(),
                linenos[w[1]],
                second.a,
                second.b,
                second.instance_id,
                linenos[w[0]]
            );
        }
    }
    Ok(())
}

fn read_lines(path: &Path) -> Result<ReadBack> {
    let f = File::open(path).with_context(|| format!("{}: cannot open", path.display()))?;
    let mut r = BufReader::new(f);
    let mut buf = Vec::new();
    let (mut out, mut offset, mut lineno) = (Vec::new(), 0u64, 0usize);
    let mut linenos = Vec::new();
    let torn = loop {
        buf.clear();
        lineno += 1;
        let n = read_line_bounded(&mut r, &mut buf, max_line_bytes())
            .with_context(|| format!("{}:{lineno}", path.display()))?;
        if n == 0 {
            break false;
        }
        if buf.iter().all(u8::is_ascii_whitespace) {
            offset += n as u64;
            continue;
        }
        let parsed = serde_json::from_slice::<PairLine>(&buf).map_err(|e| crate::input::stream::json_error(&e));
        let parsed = parsed.and_then(|l| l.check().map(|()| l));
        if !buf.ends_with(b"\n") && parsed.is_err() && r.fill_buf()?.is_empty() {
            break true;
        }
        let line = parsed.map_err(|e| anyhow!("{}:{lineno}: {e}", path.display()))?;
        offset += n as u64;
        out.push(line);
        linenos.push(lineno);
    };
    check_unique(path, &out, &linenos)?;
    Ok(ReadBack { lines: out, complete_bytes: offset, torn })
}

/// The open pairs store of an output directory (its lock is the directory's).
pub(crate) struct PairStore {
    path: PathBuf,
    file: outdir::Appender,
    previous: HashMap<PairKey, PairLine, foldhash::fast::RandomState>,
    pub(crate) dropped_torn_line: bool,
}

impl PairStore {
    /// Opens `out`'s pairs.jsonl: emptied when `afresh` (the score store started afresh:
    /// `--overwrite` or a new directory), else its complete lines kept for reuse.
    pub(crate) fn open(out: &mut OutDir, afresh: bool) -> Result<Self> {
        let path = out.file(PAIRS);
        let mut previous = HashMap::default();
        let mut torn = false;
        if afresh || !path.exists() {
            outdir::write_atomic(&path, b"")?;
        } else {
            let back = read_lines(&path)?;
            torn = back.torn;
            if torn {
                let f = OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .with_context(|| format!("{}: cannot open", path.display()))?;
                f.set_len(back.complete_bytes)?;
            }
            previous = back.lines.into_iter().map(|l| (l.key(), l)).collect();
        }
        out.mark_written(PAIRS);
        crate::interrupt::watch_as(path.clone(), previous.len(), ["comparison", "comparisons"]);
        let file = outdir::Appender::open(&path)?;
        Ok(PairStore { path, file, previous, dropped_torn_line: torn })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The stored comparison, if any.
    pub(crate) fn stored(&self, key: &PairKey) -> Option<&PairLine> {
        self.previous.get(key)
    }

    /// Appends one line (one `write` call), syncing every 64 lines.
    pub(crate) fn append(&mut self, line: &PairLine) -> Result<()> {
        self.file.append(line)
    }

    pub(crate) fn sync(&mut self) -> Result<()> {
        self.file.sync()
    }

    /// Rewrites the file with `lines` (this run's comparisons) and every earlier line of
    /// another comparison, sorted by (instance, a, b); returns how many earlier ones were kept.
    pub(crate) fn finish(mut self, lines: Vec<PairLine>) -> Result<usize> {
        self.sync()?;
        let mine: std::collections::HashSet<PairKey> = lines.iter().map(PairLine::key).collect();
        let mut all: Vec<PairLine> =
            std::mem::take(&mut self.previous).into_values().filter(|l| !mine.contains(&l.key())).collect();
        let kept = all.len();
        all.extend(lines);
        all.sort_by(|x, y| (&x.instance_id, &x.a, &x.b).cmp(&(&y.instance_id, &y.a, &y.b)));
        let text: String = all.iter().map(|l| serde_json::to_string(l).expect("pair line serializes") + "\n").collect();
        outdir::write_atomic(&self.path, text.as_bytes())?;
        Ok(kept)
    }
}

/// The pairs.jsonl beside a scores path (a directory, or its scores.jsonl).
pub(crate) fn beside(scores: &Path) -> PathBuf {
    if scores.is_dir() { scores.join(PAIRS) } else { scores.with_file_name(PAIRS) }
}

/// The comparisons of several stores (shards) merged; a comparison in two must agree within
/// `MERGE_TOLERANCE`. Returns the lines and the files whose torn last line was dropped.
pub(crate) fn read_many(paths: &[PathBuf]) -> Result<(Vec<PairLine>, Vec<PathBuf>)> {
    let mut all: Vec<(usize, PairLine)> = Vec::new();
    let mut torn = Vec::new();
    for (k, p) in paths.iter().enumerate() {
        if !p.exists() {
            bail!(
                "{}: missing; the scores beside it are a pairwise judge's, whose best@k needs its comparisons",
                p.display()
            );
        }
        let back = read_lines(p)?;
        if back.torn {
            torn.push(p.clone());
        }
        if paths.len() == 1 {
            return Ok((back.lines, torn));
        }
        all.extend(back.lines.into_iter().map(|l| (k, l)));
    }
    // Several stores: sorted by comparison, each kept once where they agree.
    all.sort_by(|x, y| key_of(&x.1).cmp(&key_of(&y.1)).then(x.0.cmp(&y.0)));
    let mut merged: Vec<(usize, PairLine)> = Vec::with_capacity(all.len());
    for (k, l) in all {
        if let Some((from, m)) = merged.last().filter(|(_, m)| key_of(m) == key_of(&l)) {
            let same = match (m.p_a, l.p_a) {
                (Some(x), Some(y)) => (x - y).abs() <= MERGE_TOLERANCE,
                (x, y) => x == y,
            };
            if !same {
                bail!(
                    "runs {} (A) and {} (B) on instance {} are compared in {} (p_a {:?}) and in {} (p_a {:?}), which disagree",
                    l.a,
                    l.b,
                    l.instance_id,
                    paths[*from].display(),
                    m.p_a,
                    paths[k].display(),
                    l.p_a
                );
            }
            continue;
        }
        merged.push((k, l));
    }
    Ok((merged.into_iter().map(|(_, l)| l).collect(), torn))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn line(a: &str, b: &str, p: f64) -> PairLine {
        PairLine {
            instance_id: "x__y-1".into(),
            a: a.into(),
            b: b.into(),
            p_a: Some(p),
            logit_a: Some(p.ln()),
            logit_b: Some((1.0 - p).ln()),
            n_tokens: Some(10),
            truncated: Some(false),
            error: None,
        }
    }

    #[test]
    fn appends_survive_a_torn_line_and_finish_merges() {
        let dir = tempfile::tempdir().unwrap();
        let mut out = OutDir::open(dir.path()).unwrap();
        let mut st = PairStore::open(&mut out, false).unwrap();
        st.append(&line("r1", "r2", 0.7)).unwrap();
        st.append(&line("r2", "r1", 0.4)).unwrap();
        st.sync().unwrap();
        drop(st);
        // A crash in the middle of a line.
        let p = dir.path().join(PAIRS);
        let mut f = OpenOptions::new().append(true).open(&p).unwrap();
        f.write_all(b"{\"instance_id\": \"x__y-1\", \"a\": \"r1\", \"b").unwrap();
        drop(f);
        let st = PairStore::open(&mut out, false).unwrap();
        assert!(st.dropped_torn_line);
        let key = ("x__y-1".to_string(), "r1".to_string(), "r2".to_string());
        assert_eq!(st.stored(&key), Some(&line("r1", "r2", 0.7)));
        let kept = st.finish(vec![line("r1", "r3", 0.9)]).unwrap();
        assert_eq!(kept, 2);
        let (back, torn) = read_many(std::slice::from_ref(&p)).unwrap();
        assert!(torn.is_empty());
        let order: Vec<(String, String)> = back.iter().map(|l| (l.a.clone(), l.b.clone())).collect();
        let want = [("r1", "r2"), ("r1", "r3"), ("r2", "r1")].map(|(a, b)| (a.to_string(), b.to_string()));
        assert_eq!(order, want);
        // Afresh: nothing kept.
        let st = PairStore::open(&mut out, true).unwrap();
        assert_eq!(st.stored(&key), None);
    }

    #[test]
    fn bad_lines_and_disagreeing_shards_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.jsonl");
        std::fs::write(&p, "{\"instance_id\": \"i\", \"a\": \"r1\", \"b\": \"r2\", \"p_a\": 1.5}\n").unwrap();
        let e = format!("{:#}", read_many(std::slice::from_ref(&p)).unwrap_err());
        assert!(e.contains("a.jsonl:1") && e.contains("p_a"), "{e}");
        let q = dir.path().join("b.jsonl");
        let r = dir.path().join("c.jsonl");
        std::fs::write(&q, serde_json::to_string(&line("r1", "r2", 0.7)).unwrap() + "\n").unwrap();
        std::fs::write(&r, serde_json::to_string(&line("r1", "r2", 0.71)).unwrap() + "\n").unwrap();
        let e = format!("{:#}", read_many(&[q.clone(), r]).unwrap_err());
        assert!(e.contains("disagree"), "{e}");
        assert_eq!(read_many(&[q.clone(), q]).unwrap().0.len(), 1);
    }
}
