//! `ScoreTable`: what every stage after scoring works from (selection, metrics, reports): the
//! instance x run grid of score, label, emptiness and missingness, with no patches or
//! trajectories. Built from a scored `Dataset`, or from a score store read back.

use super::store::ScoreLine;
use super::{Scored, Unscored};
use crate::grid::Grid;
use crate::input::Dataset;

#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct ScoreTable {
    pub(crate) grid: Grid,
    /// Instance-major like `Dataset::cands`; `None` = no score (ranks last).
    pub(crate) score: Vec<Option<f64>>,
    pub(crate) label: Vec<Option<bool>>,
    /// No patch: a hole, or a record whose patch is null or blank.
    pub(crate) empty: Vec<bool>,
    /// A hole: the run has no record for the instance (also empty).
    pub(crate) missing: Vec<bool>,
    /// The order within each instance when a tie-break chain set it (`--combine` with
    /// `--tie-break`): higher first, equal values tied. `None`: the score orders.
    pub(crate) tie_rank: Option<Vec<f64>>,
    /// `crate::patch::keys` of each patch (`None`: empty, or a store written before
    /// swerm recorded it): the tie-break of selection among different patches.
    pub(crate) content: Vec<Option<u64>>,
    /// the bytes key of each patch (`crate::patch::keys`) (`None`: empty, or an older store): among
    /// candidates of equal content, the one written to predictions.jsonl is chosen by its bytes,
    /// not its run name.
    pub(crate) raw: Vec<Option<u64>>,
    /// Why each non-empty candidate without a score has none (`None` for every other).
    pub(crate) unscored: Vec<Option<Unscored>>,
    /// A pairwise judge's comparisons, one contest per instance (the scores are their soft
    /// wins): best@k recomputes the wins within each k-subset (`metrics::pairwise`).
    pub(crate) contests: Option<std::sync::Arc<Vec<super::pairwise::Contest>>>,
}

impl ScoreTable {
    /// Combines a dataset and its scores. A hole is unresolved (SWE-bench counts a missing
    /// prediction as unresolved) as soon as any candidate carries a label.
    pub(crate) fn from_dataset(ds: &Dataset, scored: &[Scored]) -> Self {
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
                .map(|(s, c)| (s.score.is_none() && !c.is_empty()).then(|| Unscored::of(&s.detail)))
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
