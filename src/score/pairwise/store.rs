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

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};

use crate::outdir::OutDir;
use crate::score::kept::{self, Kept, Key, Line, MERGE_TOLERANCE};

pub(crate) const PAIRS: &str = "pairs.jsonl";

/// One ordered comparison.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
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
    /// Provenance, as a verifier's score line has it (`VerifierDetail`): the digest of the
    /// prompt's token ids, the tokens cut and what, the answer position and token ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) prompt_ids: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) removed_tokens: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) cut: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) answer_at: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) answer_ids: Option<Vec<u32>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) rope_scaling: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<String>,
}

impl PairLine {
    fn check(&self) -> Result<(), String> {
        match (self.p_a, &self.error) {
            (Some(p), _) if !(0.0..=1.0).contains(&p) => Err(format!("field `p_a`: {p} is not a probability")),
            (None, None) => Err("field `p_a`: null without an `error`".into()),
            _ if self.a == self.b => Err(format!("fields `a` and `b`: both are run {:?}", self.a)),
            _ => Ok(()),
        }
    }
}

impl Line for PairLine {
    fn key(&self) -> Key<'_> {
        (&self.instance_id, &self.a, &self.b)
    }

    fn parse(text: &[u8]) -> Result<Self, String> {
        let line: PairLine = serde_json::from_slice(text).map_err(|e| crate::input::stream::json_error(&e))?;
        line.check().map(|()| line)
    }

    fn agrees(&self, other: &Self) -> bool {
        match (self.p_a, other.p_a) {
            (Some(x), Some(y)) => (x - y).abs() <= MERGE_TOLERANCE,
            (x, y) => x == y,
        }
    }

    fn describe(&self) -> String {
        format!("the comparison of runs {} (A) and {} (B) on instance {}", self.a, self.b, self.instance_id)
    }

    fn values(&self) -> String {
        format!("p_a {:?}", self.p_a)
    }
}

/// The open pairs store of an output directory (its lock is the directory's).
pub(crate) type PairStore = Kept<PairLine>;

/// Opens `out`'s pairs.jsonl: emptied when `afresh` (the score store started afresh:
/// `--overwrite` or a new directory), else its complete lines kept for reuse; Ctrl-C counts its
/// comparisons.
pub(crate) fn open(out: &mut OutDir, afresh: bool) -> Result<PairStore> {
    let st = Kept::open(out, PAIRS, afresh)?;
    crate::interrupt::watch_as(out.file(PAIRS), st.reused(), ["comparison", "comparisons"]);
    Ok(st)
}

/// The pairs.jsonl beside a scores path (a directory, or its scores.jsonl).
pub(crate) fn beside(scores: &Path) -> PathBuf {
    if scores.is_dir() { scores.join(PAIRS) } else { scores.with_file_name(PAIRS) }
}

/// The comparisons of several stores (shards) merged (`kept::merge`): a comparison in two must
/// agree within `MERGE_TOLERANCE`.
pub(crate) fn read_many(paths: &[PathBuf]) -> Result<Vec<PairLine>> {
    let mut stores = Vec::new();
    for p in paths {
        if !p.exists() {
            bail!(
                "{}: missing; the scores beside it are a pairwise judge's, whose best@k needs its comparisons",
                p.display()
            );
        }
        stores.push(kept::read_lines::<PairLine>(p)?.lines);
    }
    let origins: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    kept::merge(stores, &origins)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::OpenOptions;
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
            ..Default::default()
        }
    }

    #[test]
    fn appends_survive_a_torn_line_and_finish_merges() {
        let dir = tempfile::tempdir().unwrap();
        let mut out = OutDir::open(dir.path()).unwrap();
        let mut st = open(&mut out, false).unwrap();
        st.append(&line("r1", "r2", 0.7)).unwrap();
        st.append(&line("r2", "r1", 0.4)).unwrap();
        st.sync().unwrap();
        drop(st);
        // A crash in the middle of a line.
        let p = dir.path().join(PAIRS);
        let mut f = OpenOptions::new().append(true).open(&p).unwrap();
        f.write_all(b"{\"instance_id\": \"x__y-1\", \"a\": \"r1\", \"b").unwrap();
        drop(f);
        let st = open(&mut out, false).unwrap();
        assert_eq!(st.reused(), 2, "the torn line dropped");
        let key = ("x__y-1", "r1", "r2");
        assert_eq!(st.stored(key), Some(&line("r1", "r2", 0.7)));
        let (_, kept) = st.finish(vec![line("r1", "r3", 0.9)]).unwrap();
        assert_eq!(kept, 2);
        let back = read_many(std::slice::from_ref(&p)).unwrap();
        let order: Vec<(String, String)> = back.iter().map(|l| (l.a.clone(), l.b.clone())).collect();
        let want = [("r1", "r2"), ("r1", "r3"), ("r2", "r1")].map(|(a, b)| (a.to_string(), b.to_string()));
        assert_eq!(order, want);
        // Afresh: nothing kept.
        let st = open(&mut out, true).unwrap();
        assert_eq!(st.stored(key), None);
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
        assert_eq!(read_many(&[q.clone(), q]).unwrap().len(), 1);
    }
}
