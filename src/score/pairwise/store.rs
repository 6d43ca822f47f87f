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

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::grid::Grid;
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
        check(self.p_a, self.error.is_some(), &self.a, &self.b)
    }
}

/// A comparison line's rules, for the owned line and the borrowed one alike.
fn check(p_a: Option<f64>, error: bool, a: &str, b: &str) -> Result<(), String> {
    match (p_a, error) {
        (Some(p), _) if !(0.0..=1.0).contains(&p) => Err(format!("field `p_a`: {p} is not a probability")),
        (None, false) => Err("field `p_a`: null without an `error`".into()),
        _ if a == b => Err(format!("fields `a` and `b`: both are run {a:?}")),
        _ => Ok(()),
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

/// One line of pairs.jsonl as `eval` reads it back: the names borrowed from the file's bytes
/// (owned only when they hold JSON escapes), every field typed and checked as [`PairLine`]'s
/// (the same `deny_unknown_fields`, the same rules); read to be checked, then dropped.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // every field is parsed (and so checked); eval keeps the key and P(A)
struct PairRef<'a> {
    #[serde(borrow)]
    instance_id: Cow<'a, str>,
    #[serde(borrow)]
    a: Cow<'a, str>,
    #[serde(borrow)]
    b: Cow<'a, str>,
    p_a: Option<f64>,
    logit_a: Option<f64>,
    logit_b: Option<f64>,
    n_tokens: Option<usize>,
    truncated: Option<bool>,
    #[serde(borrow)]
    prompt_ids: Option<Cow<'a, str>>,
    removed_tokens: Option<usize>,
    #[serde(borrow)]
    cut: Option<Cow<'a, str>>,
    answer_at: Option<usize>,
    answer_ids: Option<Vec<u32>>,
    #[serde(borrow)]
    rope_scaling: Option<Cow<'a, str>>,
    #[serde(borrow)]
    error: Option<Cow<'a, str>>,
}

/// A comparison read back, slim (a million of them at RL scale): its key as name indices,
/// its file, where its line starts there, and P(A). A name the grid lacks is [`UNNAMED`] until
/// its line is read again, in order, to give it an index (`read_orders`).
#[derive(Clone, Copy)]
struct Slim {
    key: (u32, u32, u32),
    file: u32,
    at: usize,
    p_a: Option<f64>,
}

/// A key part not yet indexed (a name outside the grid).
const UNNAMED: u32 = u32::MAX;

/// The line of `text` that starts at `at`, parsed again (it parsed once: for the messages and
/// the names outside the grid), with its number.
fn line_at<'t>(path: &Path, text: &'t [u8], at: usize) -> Result<(PairRef<'t>, usize)> {
    let end = memchr::memchr(b'\n', &text[at..]).map_or(text.len(), |i| at + i);
    let lineno = 1 + memchr::memchr_iter(b'\n', &text[..at]).count();
    let line = serde_json::from_slice::<PairRef>(&text[at..end])
        .map_err(|e| anyhow::anyhow!("{}:{lineno}: {}", path.display(), crate::input::stream::json_error(&e)))?;
    Ok((line, lineno))
}

impl PairRef<'_> {
    /// As [`PairLine`], for the messages (`describe`, `values`).
    fn line(&self) -> PairLine {
        PairLine {
            instance_id: self.instance_id.to_string(),
            a: self.a.to_string(),
            b: self.b.to_string(),
            p_a: self.p_a,
            ..Default::default()
        }
    }
}

/// One instance's comparisons: (run shown as A, run shown as B, P(A)), runs as grid indices.
pub(crate) type Orders = Vec<(usize, usize, Option<f64>)>;

/// Names as indices: a grid's, then others in the order `index` meets them.
struct Names<'n> {
    grid: HashMap<&'n str, u32, foldhash::fast::RandomState>,
    more: HashMap<String, u32, foldhash::fast::RandomState>,
}

impl<'n> Names<'n> {
    /// `names` as 0, 1, ...
    fn of(names: &'n [String]) -> Self {
        Names {
            grid: names.iter().enumerate().map(|(i, s)| (s.as_str(), i as u32)).collect(),
            more: Default::default(),
        }
    }

    /// The index of a grid name, else [`UNNAMED`].
    fn get(&self, name: &str) -> u32 {
        self.grid.get(name).copied().unwrap_or(UNNAMED)
    }

    /// The index of `name`, a new one after all others when it is new.
    fn index(&mut self, name: &str) -> u32 {
        if let Some(&i) = self.grid.get(name) {
            return i;
        }
        let next = (self.grid.len() + self.more.len()) as u32;
        *self.more.entry(name.to_string()).or_insert(next)
    }
}

/// Each grid instance's comparisons as (run shown as A, run shown as B, P(A)) in `grid`'s
/// indices: the pairs.jsonl of several stores (shards) merged, by the rules of
/// `kept::read_lines` and `kept::merge` and with their messages (a key twice in one file is an
/// error naming both lines; a key in two files must agree within `MERGE_TOLERANCE`, the first
/// file's line is kept). Comparisons of instances or runs not in the grid are read and checked,
/// then left out.
///
/// What `eval` of a pairwise judge's store waits on at RL scale (1.2M comparisons): reading every
/// line into an owned `PairLine` and comparing keys as three strings took ~2.3 s. Here each file
/// is mapped (`kept::StoreText`), its lines parsed in parallel (every field checked) into a [`Slim`] record of
/// 40 bytes, names looked up as indices while parsing (interned once; a name outside the grid
/// is indexed afterwards, in order of appearance), and only the lines a message needs are
/// read again.
pub(crate) fn read_orders(paths: &[PathBuf], grid: &Grid) -> Result<Vec<Orders>> {
    let mut texts = Vec::with_capacity(paths.len());
    for p in paths {
        if !p.exists() {
            bail!(
                "{}: missing; the scores beside it are a pairwise judge's, whose best@k needs its comparisons",
                p.display()
            );
        }
        texts.push(kept::StoreText::open(p)?);
    }
    // Names as indices: the grid's first, then any other name in order of appearance.
    let (mut inst, mut run) = (Names::of(&grid.instances), Names::of(&grid.runs));
    let mut all: Vec<Slim> = Vec::new();
    for (k, (p, text)) in paths.iter().zip(&texts).enumerate() {
        let (slims, _, torn) = kept::parse_lines(p, text, |line, at, _| {
            let l = serde_json::from_slice::<PairRef>(line).map_err(|e| crate::input::stream::json_error(&e))?;
            check(l.p_a, l.error.is_some(), &l.a, &l.b)?;
            let key = (inst.get(&l.instance_id), run.get(&l.a), run.get(&l.b));
            Ok(Slim { key, file: k as u32, at, p_a: l.p_a })
        })?;
        if torn {
            kept::say_torn(p);
        }
        // One file (the usual case): its records as they are, not copied into a new vector.
        if all.is_empty() {
            all = slims;
        } else {
            all.extend(slims);
        }
    }
    let unnamed = |s: &Slim| s.key.0 == UNNAMED || s.key.1 == UNNAMED || s.key.2 == UNNAMED;
    for s in all.iter_mut().filter(|s| unnamed(s)) {
        let (l, _) = line_at(&paths[s.file as usize], &texts[s.file as usize], s.at)?;
        s.key = (inst.index(&l.instance_id), run.index(&l.a), run.index(&l.b));
    }
    // A key twice in one file: the first file (in order) with one, at its first such key.
    // (A store is written sorted by names, and the grid's indices follow the names' order: a
    // file of grid names is in this order already.)
    if !all.is_sorted_by_key(|s| (s.file, s.key, s.at)) {
        all.par_sort_unstable_by_key(|s| (s.file, s.key, s.at));
    }
    if let Some(w) = all.windows(2).find(|w| w[0].key == w[1].key && w[0].file == w[1].file) {
        let (path, text) = (&paths[w[0].file as usize], &texts[w[0].file as usize]);
        let ((_, first), (second, lineno)) = (line_at(path, text, w[0].at)?, line_at(path, text, w[1].at)?);
        return Err(kept::twice(path, lineno, &second.line().describe(), first));
    }
    // Merged: per key, the first file's line, and every other copy must agree with it.
    // (One file: sorted by key already, each key once.)
    if paths.len() > 1 {
        all.par_sort_unstable_by_key(|s| (s.key, s.file));
    }
    let mut orders = vec![Vec::new(); grid.instances.len()];
    let (n_inst, n_runs) = (grid.instances.len() as u32, grid.runs.len() as u32);
    for group in all.chunk_by(|x, y| x.key == y.key) {
        let kept_line = &group[0];
        for other in &group[1..] {
            let agree = match (kept_line.p_a, other.p_a) {
                (Some(x), Some(y)) => (x - y).abs() <= MERGE_TOLERANCE,
                (x, y) => x == y,
            };
            if !agree {
                let at = |s: &Slim| line_at(&paths[s.file as usize], &texts[s.file as usize], s.at);
                let (mine, theirs) = (at(kept_line)?.0.line(), at(other)?.0.line());
                bail!(
                    "{} is in {} ({}) and in {} ({}), which disagree",
                    theirs.describe(),
                    paths[kept_line.file as usize].display(),
                    mine.values(),
                    paths[other.file as usize].display(),
                    theirs.values()
                );
            }
        }
        let (i, a, b) = kept_line.key;
        if i < n_inst && a < n_runs && b < n_runs {
            orders[i as usize].push((a as usize, b as usize, kept_line.p_a));
        }
    }
    Ok(orders)
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
        assert_eq!(st.stored(key).unwrap(), Some(line("r1", "r2", 0.7)));
        let (_, kept) = st.finish(vec![line("r1", "r3", 0.9)]).unwrap();
        assert_eq!(kept, 2);
        // Read back in a grid's indices (runs r1, r2, r3; an instance the store does not have).
        let grid = Grid::new(vec!["x__y-1".into(), "other".into()], vec!["r3".into(), "r1".into(), "r2".into()]);
        let mut back = read_orders(std::slice::from_ref(&p), &grid).unwrap();
        back[0].sort_by_key(|&(a, b, _)| (a, b));
        assert_eq!(back, vec![vec![(1, 0, Some(0.9)), (1, 2, Some(0.7)), (2, 1, Some(0.4))], vec![]]);
        // Afresh: nothing kept.
        let st = open(&mut out, true).unwrap();
        assert_eq!(st.stored(key).unwrap(), None);
    }

    #[test]
    fn bad_lines_and_disagreeing_shards_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let grid = Grid::new(vec!["x__y-1".into()], vec!["r1".into(), "r2".into()]);
        let read = |paths: &[PathBuf]| read_orders(paths, &grid).map_err(|e| format!("{e:#}"));
        let p = dir.path().join("a.jsonl");
        let good = serde_json::to_string(&line("r1", "r2", 0.7)).unwrap() + "\n";
        // A bad line after good ones and a blank line: its own line number.
        let many = good.repeat(3) + "\n" + "{\"instance_id\": \"i\", \"a\": \"r1\", \"b\": \"r2\", \"p_a\": 1.5}\n";
        std::fs::write(&p, &many).unwrap();
        let e = read(std::slice::from_ref(&p)).unwrap_err();
        assert!(e.contains("a.jsonl:5") && e.contains("p_a") && e.contains("not a probability"), "{e}");
        for (text, field) in [
            (
                "{\"instance_id\": \"i\", \"a\": \"r1\", \"b\": \"r2\", \"p_a\": 0.5, \"n_tokens\": \"ten\"}",
                "expected usize",
            ),
            (
                "{\"instance_id\": \"i\", \"a\": \"r1\", \"b\": \"r2\", \"p_a\": 0.5, \"extra\": 1}",
                "unknown field `extra`",
            ),
            ("{\"instance_id\": \"i\", \"a\": \"r1\", \"b\": \"r1\", \"p_a\": 0.5}", "both are run"),
            ("{\"instance_id\": \"i\", \"a\": \"r1\", \"b\": \"r2\", \"p_a\": null}", "without an `error`"),
        ] {
            std::fs::write(&p, format!("{good}{text}\n")).unwrap();
            let e = read(std::slice::from_ref(&p)).unwrap_err();
            assert!(e.contains("a.jsonl:2") && e.contains(field), "{field}: {e}");
            // The same line last and without its newline: a torn line, dropped.
            std::fs::write(&p, format!("{good}{text}")).unwrap();
            assert_eq!(read(std::slice::from_ref(&p)).unwrap()[0].len(), 1, "{field}");
        }
        // A key twice in one file names both lines, even for an instance outside the grid.
        let other = serde_json::to_string(&PairLine { instance_id: "elsewhere".into(), ..line("r1", "r9", 0.2) })
            .unwrap()
            + "\n";
        std::fs::write(&p, format!("{other}{good}{other}")).unwrap();
        let e = read(std::slice::from_ref(&p)).unwrap_err();
        assert!(
            e.contains("a.jsonl:3: duplicate line") && e.contains("first at line 1") && e.contains("elsewhere"),
            "{e}"
        );
        // Escaped names are the same names.
        std::fs::write(&p, good.replace("\"r1\"", "\"\\u0072\\u0031\"")).unwrap();
        assert_eq!(read(std::slice::from_ref(&p)).unwrap(), vec![vec![(0, 1, Some(0.7))]]);
        let q = dir.path().join("b.jsonl");
        let r = dir.path().join("c.jsonl");
        std::fs::write(&q, &good).unwrap();
        std::fs::write(&r, serde_json::to_string(&line("r1", "r2", 0.71)).unwrap() + "\n").unwrap();
        let e = read(&[q.clone(), r.clone()]).unwrap_err();
        assert!(e.contains("disagree") && e.contains("b.jsonl") && e.contains("c.jsonl"), "{e}");
        assert_eq!(read(&[q.clone(), q.clone()]).unwrap(), vec![vec![(0, 1, Some(0.7))]]);
        // Within the tolerance, the first file's value is kept.
        std::fs::write(&r, serde_json::to_string(&line("r1", "r2", 0.70005)).unwrap() + "\n").unwrap();
        assert_eq!(read(&[r, q]).unwrap(), vec![vec![(0, 1, Some(0.70005))]]);
    }
}
