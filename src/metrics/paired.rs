//! Paired differences between two scorers on the same candidates and labels: best@k (each k),
//! the selected rate and the pooled AUC, scorer minus baseline, with percentile intervals from
//! one instance bootstrap shared by both (Efron & Tibshirani 1993, ch. 13: resampling the
//! instances once for both keeps their correlation, so the interval is that of the difference,
//! narrower than two independent intervals would suggest).
//!
//! The resamples draw instances exactly as `bootstrap::mean_cis` does (SplitMix64 seeded by
//! `--seed`, n draws of `below(n)` per resample), so scripts/swerm_reference.py reproduces them.

use super::bootstrap::quantile;
use super::{MetricsOptions, auc};
use crate::grid::Grid;
use crate::rng::SplitMix64;

/// A difference and its interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct DiffCi {
    pub(crate) diff: f64,
    pub(crate) lo: f64,
    pub(crate) hi: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Differences {
    /// One per k.
    pub(crate) best_at_k: Vec<DiffCi>,
    pub(crate) selected: DiffCi,
    /// `None` when the labels have a single class.
    pub(crate) auc: Option<DiffCi>,
}

/// One scorer's view of the grid: its candidates' ranking scores (`-inf` = no score; pooled
/// AUC), their order within each instance (`ScoreTable::order_key`; best@k), and the credit of
/// its selected candidate.
pub(crate) struct Side<'a> {
    pub(crate) scores: &'a [f64],
    pub(crate) order: &'a [f64],
    /// Each instance's credit for its pick (`select::credit`: the mean label of the picked
    /// patch's copies).
    pub(crate) credit: &'a [f64],
    /// A pairwise judge's contests (best@k recomputes its soft wins within each k-subset).
    pub(crate) contests: Option<&'a [crate::score::pairwise::Contest]>,
}

/// `a` minus `b` over the cells of `grid` (instance-major `labels`).
pub(crate) fn differences(
    a: &Side,
    b: &Side,
    labels: &[bool],
    grid: &Grid,
    ks: &[usize],
    opts: &MetricsOptions,
) -> Differences {
    let (resamples, seed, level) = (opts.bootstrap, opts.seed, opts.level);
    let n_inst = grid.instances.len();
    let per_instance = |s: &Side, i: usize| -> (Vec<f64>, f64) {
        let r = grid.range(i);
        let c = s.contests.map(|c| &c[i]);
        let best = super::instance_best_at_ks(c, &s.order[r.clone()], &labels[r.clone()], (i, ks), seed)
            .into_iter()
            .map(|(b, _)| b)
            .collect();
        (best, s.credit[i])
    };
    // Per-instance differences of the per-instance statistics (rows: each k, then selected).
    let rows: Vec<Vec<f64>> = (0..n_inst)
        .map(|i| {
            let ((ba, sa), (bb, sb)) = (per_instance(a, i), per_instance(b, i));
            ba.iter().zip(&bb).map(|(x, y)| x - y).chain([sa - sb]).collect()
        })
        .collect();
    let mean_of = |idx: &[usize], j: usize| idx.iter().map(|&i| rows[i][j]).sum::<f64>() / idx.len() as f64;
    let auc_of = |idx: &[usize]| -> Option<f64> {
        let pick = |s: &[f64]| -> (Vec<f64>, Vec<bool>) {
            idx.iter().flat_map(|&i| grid.range(i).map(|c| (s[c], labels[c]))).unzip()
        };
        let ((sa, ya), (sb, _)) = (pick(a.scores), pick(b.scores));
        Some(auc::auc(&sa, &ya)? - auc::auc(&sb, &ya)?)
    };
    let all: Vec<usize> = (0..n_inst).collect();
    let n_stats = ks.len() + 1;
    let mut draws: Vec<Vec<f64>> = vec![Vec::with_capacity(resamples); n_stats];
    let mut auc_draws = Vec::with_capacity(resamples);
    let mut rng = SplitMix64(seed);
    for _ in 0..resamples {
        let idx: Vec<usize> = (0..n_inst).map(|_| rng.below(n_inst)).collect();
        for (j, d) in draws.iter_mut().enumerate() {
            d.push(mean_of(&idx, j));
        }
        // A resample with a single class has no AUC: it is left out of the AUC interval.
        auc_draws.extend(auc_of(&idx));
    }
    let ci = |point: f64, mut d: Vec<f64>| -> DiffCi {
        if d.is_empty() {
            return DiffCi { diff: point, lo: f64::NAN, hi: f64::NAN };
        }
        d.sort_by(f64::total_cmp);
        let tail = (1.0 - level) / 2.0;
        DiffCi { diff: point, lo: quantile(&d, tail), hi: quantile(&d, 1.0 - tail) }
    };
    let mut draws = draws.into_iter();
    let best_at_k = (0..ks.len()).map(|j| ci(mean_of(&all, j), draws.next().unwrap())).collect();
    let selected = ci(mean_of(&all, ks.len()), draws.next().unwrap());
    let auc = auc_of(&all).map(|d| ci(d, auc_draws));
    Differences { best_at_k, selected, auc }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::testutil::Lcg;

    #[test]
    fn a_scorer_against_itself_and_an_oracle() {
        let mut rng = Lcg(9);
        let (n_inst, n_runs) = (30, 4);
        let grid =
            Grid::new((0..n_inst).map(|i| i.to_string()).collect(), (0..n_runs).map(|r| r.to_string()).collect());
        let labels: Vec<bool> = (0..n_inst * n_runs).map(|_| rng.below(3) == 0).collect();
        let noise: Vec<f64> = (0..labels.len()).map(|_| rng.below(100) as f64 / 100.0).collect();
        let oracle: Vec<f64> = labels.iter().map(|&y| y as u8 as f64).collect();
        let sel = |s: &[f64]| -> Vec<usize> {
            (0..n_inst)
                .map(|i| {
                    let r = &s[i * n_runs..(i + 1) * n_runs];
                    (0..n_runs).fold(0, |b, j| if r[j] > r[b] { j } else { b })
                })
                .collect()
        };
        let (sn, so) = (sel(&noise), sel(&oracle));
        // Every candidate its own patch: a pick's credit is its label.
        let credit = |sel: &[usize]| -> Vec<f64> {
            sel.iter().enumerate().map(|(i, &r)| labels[grid.idx(i, r)] as u8 as f64).collect()
        };
        let (cn, co) = (credit(&sn), credit(&so));
        let a = Side { scores: &oracle, order: &oracle, credit: &co, contests: None };
        let b = Side { scores: &noise, order: &noise, credit: &cn, contests: None };
        let ks = [1, 2, 4];
        let o = |b| MetricsOptions { bootstrap: b, seed: 1, ..Default::default() };
        let same = differences(&b, &b, &labels, &grid, &ks, &o(200));
        assert!(same.best_at_k.iter().chain([&same.selected]).all(|d| d.diff == 0.0 && d.lo == 0.0 && d.hi == 0.0));
        let d = differences(&a, &b, &labels, &grid, &ks, &o(500));
        assert_eq!(d.best_at_k[0].diff, 0.0, "best@1 does not depend on the scores");
        assert!(d.best_at_k[2].diff >= 0.0 && d.selected.diff >= 0.0, "the oracle never loses: {d:?}");
        assert!(d.best_at_k[2].lo <= d.best_at_k[2].diff && d.best_at_k[2].diff <= d.best_at_k[2].hi);
        let auc = d.auc.unwrap();
        assert!(auc.diff > 0.0 && auc.lo <= auc.diff && auc.diff <= auc.hi, "{auc:?}");
        assert_eq!(d, differences(&a, &b, &labels, &grid, &ks, &o(500)), "seeded");
    }
}
