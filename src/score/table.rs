//! `ScoreTable`: what every stage after scoring works from (selection, metrics, reports): the
//! instance x run grid of score, label, emptiness and missingness, with no patches or
//! trajectories. Built from a scored `Dataset`, or from a score store read back.

use super::store::ScoreLine;
use super::{Scored, Unscored};
use crate::grid::Grid;
use crate::input::Dataset;

#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct ScoreTable {
    grid: Grid,
    /// Instance-major like `Dataset::cands`; `None` = no score (ranks last).
    score: Vec<Option<f64>>,
    label: Vec<Option<bool>>,
    /// No patch: a hole, or a record whose patch is null or blank.
    empty: Vec<bool>,
    /// A hole: the run has no record for the instance (also empty).
    missing: Vec<bool>,
    /// The order within each instance when a tie-break chain set it (`--combine` with
    /// `--tie-break`): higher first, equal values tied. `None`: the score orders.
    tie_rank: Option<Vec<f64>>,
    /// `crate::patch::keys` of each patch (`None`: empty, or a store written before
    /// swerm recorded it): the tie-break of selection among different patches.
    content: Vec<Option<u64>>,
    /// the bytes key of each patch (`crate::patch::keys`) (`None`: empty, or an older store): among
    /// candidates of equal content, the one written to predictions.jsonl is chosen by its bytes,
    /// not its run name.
    raw: Vec<Option<u64>>,
    /// Why each non-empty candidate without a score has none (`None` for every other).
    unscored: Vec<Option<Unscored>>,
    /// A pairwise judge's comparisons, one contest per instance (the scores are their soft
    /// wins): best@k recomputes the wins within each k-subset (`metrics::pairwise`).
    contests: Option<std::sync::Arc<Vec<super::pairwise::Contest>>>,
}

/// Read access: the fields are private, so a table changes only through its constructors and
/// named methods (`set_labels`, `set_score` for calibration); a tie order and contests come
/// with the run that produced them.
impl ScoreTable {
    pub(crate) fn grid(&self) -> &Grid {
        &self.grid
    }
    pub(crate) fn score(&self) -> &[Option<f64>] {
        &self.score
    }
    pub(crate) fn label(&self) -> &[Option<bool>] {
        &self.label
    }
    pub(crate) fn empty(&self) -> &[bool] {
        &self.empty
    }
    pub(crate) fn missing(&self) -> &[bool] {
        &self.missing
    }
    pub(crate) fn tie_rank(&self) -> Option<&[f64]> {
        self.tie_rank.as_deref()
    }
    pub(crate) fn content(&self) -> &[Option<u64>] {
        &self.content
    }
    pub(crate) fn raw(&self) -> &[Option<u64>] {
        &self.raw
    }
    pub(crate) fn unscored(&self) -> &[Option<Unscored>] {
        &self.unscored
    }
    pub(crate) fn contests(&self) -> Option<&[super::pairwise::Contest]> {
        self.contests.as_deref().map(Vec::as_slice)
    }
}

impl ScoreTable {
    /// The table of a scoring run: the dataset (labels included), its scores, and what the run
    /// produced beyond them (a tie order; a pairwise judge's contests, when it judged every
    /// instance). Built whole: nothing is patched in afterwards.
    pub(crate) fn from_run(ds: &Dataset, scored: &[Scored], produced: &super::Produced) -> Self {
        let contests = produced.pairwise.as_ref().and_then(|o| o.contests.iter().cloned().collect::<Option<Vec<_>>>());
        ScoreTable {
            tie_rank: produced.tie_rank.clone(),
            contests: contests.map(std::sync::Arc::new),
            ..Self::from_dataset(ds, scored)
        }
    }

    /// Combines a dataset and its scores. A hole is unresolved (SWE-bench counts a missing
    /// prediction as unresolved) as soon as any candidate carries a label.
    fn from_dataset(ds: &Dataset, scored: &[Scored]) -> Self {
        let any_label = ds.cands.iter().any(|c| c.resolved.is_some());
        ScoreTable {
            grid: ds.grid.clone(),
            score: scored.iter().map(|s| s.score).collect(),
            label: ds
                .cands
                .iter()
                .map(|c| c.resolved.or(if any_label && c.is_missing() { Some(false) } else { None }))
                .collect(),
            empty: ds.cands.iter().map(|c| c.is_empty()).collect(),
            missing: ds.cands.iter().map(|c| c.is_missing()).collect(),
            tie_rank: None,
            content: ds.cands.iter().map(|c| c.keys.content).collect(),
            raw: ds.cands.iter().map(|c| c.keys.raw).collect(),
            unscored: scored
                .iter()
                .zip(&ds.cands)
                .map(|(s, c)| (s.score.is_none() && !c.is_empty()).then(|| Unscored::of(s.detail())))
                .collect(),
            contests: None,
        }
    }

    /// The grid of stored lines: runs by name, instances sorted; a pair with no line is a hole
    /// (missing, no score, unresolved when any label is present). Lines must be unique per
    /// (instance, run); the store's reader guarantees it.
    pub(crate) fn from_lines(lines: &[ScoreLine]) -> Self {
        let mut runs: Vec<String> = lines.iter().map(|l| l.run.clone()).collect();
        runs.sort();
        runs.dedup(); // by name, as `input::name_order` orders a dataset's runs
        let mut instances: Vec<String> = lines.iter().map(|l| l.instance_id.clone()).collect();
        instances.sort();
        instances.dedup();
        let grid = Grid::new(instances, runs);
        let n = grid.cells();
        let any_label = lines.iter().any(|l| l.resolved.is_some());
        let mut t = ScoreTable {
            score: vec![None; n],
            label: vec![any_label.then_some(false); n],
            empty: vec![true; n],
            missing: vec![true; n],
            grid,
            // Tie ranks only when every line has one (a store grown by runs with and without a
            // tie-break chain falls back to the scores: a half-ranked instance means nothing).
            tie_rank: (!lines.is_empty() && lines.iter().all(|l| l.tie_rank.is_some()))
                .then(|| vec![f64::NEG_INFINITY; n]),
            content: vec![None; n],
            raw: vec![None; n],
            unscored: vec![None; n],
            contests: None,
        };
        for (idx, k) in super::store::place(lines, &t.grid).into_iter().enumerate() {
            let Some(l) = k.map(|k| &lines[k]) else { continue };
            t.score[idx] = l.score;
            t.label[idx] = l.resolved;
            t.empty[idx] = l.empty || l.missing;
            t.missing[idx] = l.missing;
            t.content[idx] = l.patch_hash;
            t.raw[idx] = l.patch_bytes_hash;
            t.unscored[idx] = (l.score.is_none() && !t.empty[idx]).then(|| Unscored::of(&l.detail));
            if let (Some(w), Some(r)) = (t.tie_rank.as_mut(), l.tie_rank) {
                w[idx] = r;
            }
        }
        t
    }

    /// The table with a pairwise judge's comparisons (pairs.jsonl, read back by
    /// `pairwise::store::read_orders` in this table's grid): their contests give best@k.
    pub(crate) fn with_contests(self, orders: Vec<super::pairwise::store::Orders>) -> Self {
        use rayon::prelude::*;
        // In parallel: 2,438 instances of a tournament over 64 runs are ~90 ms on one core.
        let contests = orders
            .into_par_iter()
            .enumerate()
            .map(|(i, o)| super::pairwise::contest::Contest::new(&self.empty[self.grid.range(i)], o))
            .collect();
        ScoreTable { contests: Some(std::sync::Arc::new(contests)), ..self }
    }

    /// Replaces the labels (harness reports applied to a table read back; compare's labels
    /// merged across score sets). The one way labels change after a table is built.
    pub(crate) fn set_labels(&mut self, labels: Vec<Option<bool>>) {
        assert_eq!(labels.len(), self.label.len(), "one label per cell");
        self.label = labels;
    }

    /// The table as store lines (every candidate, holes included, in grid order): what `eval`
    /// evaluated, after `--labels` and `--calibration`, for an independent check.
    pub(crate) fn lines(&self) -> Vec<ScoreLine> {
        (0..self.score.len())
            .map(|idx| {
                let (i, r) = self.grid.coords(idx);
                ScoreLine {
                    instance_id: self.grid.instances[i].clone(),
                    run: self.grid.runs[r].clone(),
                    score: self.score[idx],
                    empty: self.empty[idx],
                    missing: self.missing[idx],
                    resolved: self.label[idx],
                    detail: Default::default(),
                    tie_rank: self.tie_rank.as_ref().map(|w| w[idx]),
                    patch_hash: self.content[idx],
                    patch_bytes_hash: self.raw[idx],
                }
            })
            .collect()
    }

    /// The score used for ranking: `None` ranks below everything.
    pub(crate) fn rank_score(&self, idx: usize) -> f64 {
        self.score[idx].unwrap_or(f64::NEG_INFINITY)
    }

    /// The key that orders candidates within their instance (selection, best@k, per-instance
    /// AUC): the tie-break rank when there is one, else the score.
    pub(crate) fn order_key(&self, idx: usize) -> f64 {
        self.tie_rank.as_ref().map_or_else(|| self.rank_score(idx), |w| w[idx])
    }

    /// All labels when every candidate has one; otherwise the number without.
    pub(crate) fn labels(&self) -> Result<Vec<bool>, usize> {
        let missing = self.label.iter().filter(|l| l.is_none()).count();
        if missing > 0 { Err(missing) } else { Ok(self.label.iter().map(|l| l.unwrap()).collect()) }
    }

    /// Candidates with a record but no patch (holes not counted).
    pub(crate) fn empty_present(&self) -> usize {
        self.empty.iter().zip(&self.missing).filter(|&(&e, &m)| e && !m).count()
    }

    /// Non-empty candidates without a content key: their store predates `patch_hash`, and
    /// their ties fall back to run order.
    pub(crate) fn without_content(&self) -> usize {
        self.empty.iter().zip(&self.content).filter(|&(&e, c)| !e && c.is_none()).count()
    }

    /// Unscored non-empty candidates, by reason (reasons in a fixed order, zero counts left out).
    pub(crate) fn unscored_counts(&self) -> Vec<(Unscored, usize)> {
        let mut c: std::collections::BTreeMap<Unscored, usize> = Default::default();
        for u in self.unscored.iter().flatten() {
            *c.entry(*u).or_default() += 1;
        }
        c.into_iter().collect()
    }

    /// Sets a score after the table was built (calibration), keeping `unscored` in step.
    pub(crate) fn set_score(&mut self, idx: usize, score: Option<f64>) {
        self.score[idx] = score;
        if score.is_some() {
            self.unscored[idx] = None;
        } else if !self.empty[idx] && self.unscored[idx].is_none() {
            self.unscored[idx] = Some(Unscored::NoValue);
        }
    }

    pub(crate) fn missing_count(&self) -> usize {
        self.missing.iter().filter(|&&m| m).count()
    }
}

/// A table's columns, as the stages' tests write tables by hand (the fields themselves are
/// private).
#[cfg(test)]
pub(crate) struct Columns {
    pub(crate) grid: Grid,
    pub(crate) score: Vec<Option<f64>>,
    pub(crate) label: Vec<Option<bool>>,
    pub(crate) empty: Vec<bool>,
    pub(crate) missing: Vec<bool>,
    pub(crate) tie_rank: Option<Vec<f64>>,
    pub(crate) content: Vec<Option<u64>>,
    pub(crate) raw: Vec<Option<u64>>,
    pub(crate) unscored: Vec<Option<Unscored>>,
    pub(crate) contests: Option<std::sync::Arc<Vec<super::pairwise::Contest>>>,
}

#[cfg(test)]
impl From<Columns> for ScoreTable {
    fn from(c: Columns) -> Self {
        let Columns { grid, score, label, empty, missing, tie_rank, content, raw, unscored, contests } = c;
        ScoreTable { grid, score, label, empty, missing, tie_rank, content, raw, unscored, contests }
    }
}

#[cfg(test)]
impl ScoreTable {
    pub(crate) fn into_columns(self) -> Columns {
        let ScoreTable { grid, score, label, empty, missing, tie_rank, content, raw, unscored, contests } = self;
        Columns { grid, score, label, empty, missing, tie_rank, content, raw, unscored, contests }
    }
}
