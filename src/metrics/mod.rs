//! Test-time-scaling metrics (docs/spec/metrics.md): `ScoreTable` + selection -> `Metrics`.
//! Each formula lives in its own file as a pure function tested against brute force.

pub(crate) mod auc;
pub(crate) mod bestk;
pub(crate) mod bootstrap;
pub(crate) mod gate;
pub(crate) mod paired;
pub(crate) mod pairwise;
pub(crate) mod passk;
#[cfg(test)]
pub(crate) mod testutil;

use crate::calibrate::measures as calibration;
use crate::score::{ScoreTable, Unscored};
use crate::select::{Ties, ties};

#[derive(Clone, Debug)]
pub(crate) struct MetricsOptions {
    /// k values; empty = 1, 2, 4, ... up to N, and N.
    pub(crate) ks: Vec<usize>,
    /// k values a `--fail-under` gate names (computed even when not among `ks`).
    pub(crate) gate_ks: Vec<usize>,
    pub(crate) ece_bins: usize,
    /// Bootstrap resamples (0 = no CIs).
    pub(crate) bootstrap: usize,
    pub(crate) seed: u64,
    pub(crate) level: f64,
}

impl Default for MetricsOptions {
    fn default() -> Self {
        MetricsOptions { ks: Vec::new(), gate_ks: Vec::new(), ece_bins: 15, bootstrap: 0, seed: 0, level: 0.95 }
    }
}

/// The default k values: powers of two below N, then N.
pub(crate) fn default_ks(n: usize) -> Vec<usize> {
    let mut ks: Vec<usize> = std::iter::successors(Some(1usize), |k| Some(k * 2)).take_while(|&k| k < n).collect();
    if n >= 1 {
        ks.push(n);
    }
    ks
}

/// Label-dependent numbers (present only when every candidate has a label).
#[derive(Clone, Debug, Default)]
pub(crate) struct Labeled {
    pub(crate) pass_at_k: Vec<f64>,
    pub(crate) best_at_k: Vec<f64>,
    pub(crate) random_at_k: Vec<f64>,
    /// The picks' credits summed: a pick whose patch has copies with different labels counts
    /// the mean label of its copies (`select::credit`), so this may be fractional.
    pub(crate) selected_resolved: f64,
    pub(crate) selected_rate: f64,
    /// Instances whose picked patch has copies with different labels (a flaky test): their
    /// credit is a fraction.
    pub(crate) mixed_copies: usize,
    /// The selected rate expected under uniformly random tie-breaking: best@N over all N runs.
    pub(crate) selected_expected: f64,
    pub(crate) resolved_candidates: usize,
    /// Each run's own resolved count over the instance set (a missing candidate unresolved).
    pub(crate) run_resolved: Vec<usize>,
    /// Pooled AUC over the scored candidates (unscored ones left out).
    pub(crate) auc: Option<f64>,
    /// Pooled AUC over the scored non-empty candidates (empty and missing candidates are
    /// trivial negatives that flatter the pooled number).
    pub(crate) auc_non_empty: Option<f64>,
    /// Mean per-instance AUC and the number of instances with both classes.
    pub(crate) auc_per_instance: Option<f64>,
    pub(crate) auc_instances: usize,
    pub(crate) ece: Option<f64>,
    pub(crate) brier: Option<f64>,
    /// The reliability diagram's bins (with ECE).
    pub(crate) bins: Vec<calibration::Bin>,
    /// (k, best@k, pass@k) for the k values a gate names that the table does not show.
    pub(crate) gate_ks: Vec<(usize, f64, f64)>,
    pub(crate) ci: Option<Cis>,
}

/// Percentile bootstrap intervals, one (lo, hi) per k and for the selected rate.
#[derive(Clone, Debug, Default)]
pub(crate) struct Cis {
    pub(crate) resamples: usize,
    pub(crate) seed: u64,
    pub(crate) level: f64,
    pub(crate) pass_at_k: Vec<(f64, f64)>,
    pub(crate) best_at_k: Vec<(f64, f64)>,
    pub(crate) random_at_k: Vec<(f64, f64)>,
    pub(crate) selected: (f64, f64),
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Metrics {
    pub(crate) instances: usize,
    pub(crate) runs: usize,
    pub(crate) candidates: usize,
    /// Candidates with a record but no patch.
    pub(crate) empty: usize,
    /// Candidates the run has no record for (also without a patch).
    pub(crate) missing: usize,
    pub(crate) ks: Vec<usize>,
    /// Unscored non-empty candidates by reason.
    pub(crate) unscored: Vec<(Unscored, usize)>,
    /// Ties at the top among different patches.
    pub(crate) ties: Ties,
    /// How many instances' picks came from each run: a pick shared by the runs holding a copy
    /// of its patch (`select::pick_shares`).
    pub(crate) picks: Vec<f64>,
    pub(crate) labeled: Option<Labeled>,
    /// Why some numbers are missing, or what to keep in mind reading them.
    pub(crate) notes: Vec<String>,
}

/// Checks `-k` values against the number of runs (before any scoring).
pub(crate) fn check_ks(ks: &[usize], n_runs: usize) -> Result<(), String> {
    match ks.iter().find(|&&k| k == 0 || k > n_runs) {
        Some(k) => Err(format!("-k {k}: k must be between 1 and the number of runs ({n_runs})")),
        None => Ok(()),
    }
}

/// `-k` and the k values of `--fail-under` gates, against the number of runs.
pub(crate) fn check_options(opts: &MetricsOptions, n_runs: usize) -> Result<(), String> {
    check_ks(&opts.ks, n_runs)?;
    match opts.gate_ks.iter().find(|&&k| k == 0 || k > n_runs) {
        Some(k) => {
            Err(format!("--fail-under best@{k}/pass@{k}: k must be between 1 and the number of runs ({n_runs})"))
        }
        None => Ok(()),
    }
}

/// Computes every metric; `selected[i]` is the run chosen for instance i.
pub(crate) fn compute(t: &ScoreTable, selected: &[usize], opts: &MetricsOptions) -> Result<Metrics, String> {
    let n = t.grid().n_runs();
    let ks = if opts.ks.is_empty() { default_ks(n) } else { opts.ks.clone() };
    check_ks(&ks, n)?;
    let mut m = Metrics {
        instances: t.grid().instances.len(),
        runs: n,
        candidates: t.score().len(),
        empty: t.empty_present(),
        missing: t.missing_count(),
        ks: ks.clone(),
        unscored: t.unscored_counts(),
        ties: ties(t),
        picks: crate::select::pick_shares(t, selected),
        labeled: None,
        notes: Vec::new(),
    };
    if t.grid().instances.is_empty() || n == 0 {
        m.notes.push("no candidates: nothing to measure".into());
        return Ok(m);
    }
    match t.labels() {
        Ok(labels) => m.labeled = Some(labeled(t, &labels, selected, &ks, opts, &mut m.notes)),
        Err(missing) if missing == t.label().len() => m.notes.push(
            "no labels (give --labels or inputs with `resolved`): pass@k, best@k, AUC and calibration omitted".into(),
        ),
        Err(missing) => m.notes.push(format!(
            "{missing} of {} candidates have no label: pass@k, best@k, AUC and calibration omitted",
            t.label().len()
        )),
    }
    Ok(m)
}

/// Per-instance values of each statistic (rows), whose means are the reported numbers (so the
/// bootstrap resamples them): pass@k and best@k for each k, random@k, selected.
struct Rows {
    pass: Vec<Vec<f64>>,
    best: Vec<Vec<f64>>,
    random: Vec<f64>,
    selected: Vec<f64>,
    /// AUC of each instance having both outcomes.
    auc: Vec<f64>,
    /// For each k, the instances whose pairwise best@k is a Monte-Carlo estimate.
    estimated: Vec<usize>,
}

fn rows(t: &ScoreTable, scores: &[f64], labels: &[bool], selected: &[usize], ks: &[usize], seed: u64) -> Rows {
    let (n, n_inst) = (t.grid().n_runs(), t.grid().instances.len());
    let mut r = Rows {
        pass: vec![vec![0.0; n_inst]; ks.len()],
        best: vec![vec![0.0; n_inst]; ks.len()],
        random: vec![0.0; n_inst],
        selected: vec![0.0; n_inst],
        auc: Vec::new(),
        estimated: vec![0; ks.len()],
    };
    // best@k per instance and k, in parallel (a pairwise judge's draws subsets).
    let best: Vec<Vec<(f64, bool)>> = {
        use rayon::prelude::*;
        (0..n_inst)
            .into_par_iter()
            .map(|i| {
                let range = t.grid().range(i);
                let (s, y) = (&scores[range.clone()], &labels[range]);
                let contest = t.contests().map(|c| &c[i]);
                instance_best_at_ks(contest, s, y, (i, ks), seed)
            })
            .collect()
    };
    for i in 0..n_inst {
        let range = t.grid().range(i);
        let (s, y) = (&scores[range.clone()], &labels[range]);
        let c = y.iter().filter(|&&b| b).count();
        for (j, &k) in ks.iter().enumerate() {
            r.pass[j][i] = passk::pass_at_k(n, c, k);
            let (v, exact) = best[i][j];
            r.best[j][i] = v;
            r.estimated[j] += !exact as usize;
        }
        r.random[i] = c as f64 / n as f64;
        r.selected[i] = crate::select::credit(t, labels, i, selected[i]);
        // Over the instance's scored candidates, as the pooled AUC.
        let (ss, ys): (Vec<f64>, Vec<bool>) = t
            .grid()
            .range(i)
            .zip(s.iter().zip(y))
            .filter(|(idx, _)| t.score()[*idx].is_some())
            .map(|(_, (&a, &b))| (a, b))
            .unzip();
        r.auc.extend(auc::auc(&ss, &ys));
    }
    r
}

/// best@k of instance `i` for each of `ks`: the closed form over its candidates' `order` keys,
/// or, for a pairwise judge (its `contest`), the soft wins recomputed within each k-subset
/// (Monte-Carlo draws seeded by `seed`, the instance and k where the subsets are too many); and
/// whether each is exact.
pub(crate) fn instance_best_at_ks(
    contest: Option<&crate::score::pairwise::Contest>,
    order: &[f64],
    labels: &[bool],
    (i, ks): (usize, &[usize]),
    seed: u64,
) -> Vec<(f64, bool)> {
    match contest {
        Some(c) => {
            let mut o = c.opponents();
            ks.iter()
                .map(|&k| {
                    let seed = crate::hash::mix(seed ^ crate::hash::mix((i as u64) << 20 | k as u64));
                    pairwise::best_at_k(c, &mut o, labels, k, seed)
                })
                .collect()
        }
        None => ks.iter().map(|&k| (bestk::best_at_k(order, labels, k), true)).collect(),
    }
}

fn mean(row: &[f64]) -> f64 {
    row.iter().sum::<f64>() / row.len() as f64
}

fn cis(r: &Rows, nk: usize, opts: &MetricsOptions) -> Cis {
    let mut all: Vec<Vec<f64>> = r.pass.iter().chain(&r.best).cloned().collect();
    all.push(r.random.clone());
    all.push(r.selected.clone());
    let c = bootstrap::mean_cis(&all, opts.bootstrap, opts.seed, opts.level);
    Cis {
        resamples: opts.bootstrap,
        seed: opts.seed,
        level: opts.level,
        pass_at_k: c[..nk].to_vec(),
        best_at_k: c[nk..2 * nk].to_vec(),
        random_at_k: vec![c[2 * nk]; nk],
        selected: c[2 * nk + 1],
    }
}

fn labeled(
    t: &ScoreTable,
    labels: &[bool],
    selected: &[usize],
    ks: &[usize],
    opts: &MetricsOptions,
    notes: &mut Vec<String>,
) -> Labeled {
    // Within an instance, candidates are ordered by the tie-break chain when one is set.
    let order: Vec<f64> = (0..t.score().len()).map(|i| t.order_key(i)).collect();
    let r = rows(t, &order, labels, selected, ks, opts.seed);
    if t.contests().is_some() {
        notes.push(pairwise_note(ks, &r.estimated, t.grid().instances.len(), opts.seed, t.tie_rank().is_some()));
    }
    // AUC, ECE and Brier are over the scored candidates: an unscored one is not a low score.
    let scored: Vec<usize> = (0..t.score().len()).filter(|&i| t.score()[i].is_some()).collect();
    let unscored = t.score().len() - scored.len();
    let pick = |which: &[usize]| -> (Vec<f64>, Vec<bool>) {
        which.iter().map(|&i| (t.score()[i].expect("scored"), labels[i])).unzip()
    };
    let (s_all, y_all) = pick(&scored);
    let non_empty: Vec<usize> = scored.iter().copied().filter(|&i| !t.empty()[i]).collect();
    let (s_ne, y_ne) = pick(&non_empty);
    // Calibration needs probabilities: every scored candidate within [0, 1].
    let probs = (!s_all.is_empty() && s_all.iter().all(|p| (0.0..=1.0).contains(p))).then_some(&s_all);
    if probs.is_none() && !s_all.is_empty() {
        notes.push("scores are not all probabilities in [0, 1]: ECE and Brier omitted".into());
    }
    // The counts agree with the unscored line (non-empty candidates without a score); empty
    // candidates without one (a combined scorer gives them none) are said apart, with what
    // that does to the pooled AUC.
    let what = if probs.is_some() { "AUC, ECE and Brier" } else { "AUC" };
    let unscored_non_empty = t.unscored().iter().flatten().count();
    if unscored_non_empty > 0 {
        notes.push(format!(
            "{} left out of {what} (selection ranks them last)",
            crate::text::count(unscored_non_empty, "unscored candidate", "unscored candidates")
        ));
    }
    let empty_unscored = unscored - unscored_non_empty;
    if empty_unscored > 0 {
        notes.push(format!(
            "{} no score from this scorer: left out of {what} too, so the pooled AUC is over non-empty candidates only",
            crate::text::count(empty_unscored, "empty candidate has", "empty candidates have")
        ));
    }
    let selected_resolved: f64 = r.selected.iter().sum();
    let mixed_copies =
        (0..t.grid().instances.len()).filter(|&i| crate::select::mixed_copies(t, labels, i, selected[i])).count();
    let n = t.grid().n_runs();
    let expected: Vec<f64> = (0..t.grid().instances.len())
        .map(|i| bestk::best_at_k(&order[t.grid().range(i)], &labels[t.grid().range(i)], n))
        .collect();
    let extra: Vec<usize> = opts.gate_ks.iter().copied().filter(|k| !ks.contains(k) && *k <= n).collect();
    let gate_ks = if extra.is_empty() {
        Vec::new()
    } else {
        let g = rows(t, &order, labels, selected, &extra, opts.seed);
        extra.iter().enumerate().map(|(j, &k)| (k, mean(&g.best[j]), mean(&g.pass[j]))).collect()
    };
    Labeled {
        pass_at_k: r.pass.iter().map(|row| mean(row)).collect(),
        best_at_k: r.best.iter().map(|row| mean(row)).collect(),
        random_at_k: vec![mean(&r.random); ks.len()],
        selected_resolved,
        selected_rate: selected_resolved / t.grid().instances.len() as f64,
        mixed_copies,
        selected_expected: mean(&expected),
        resolved_candidates: labels.iter().filter(|&&b| b).count(),
        run_resolved: (0..n)
            .map(|run| (0..t.grid().instances.len()).filter(|&i| labels[i * n + run]).count())
            .collect(),
        auc: auc::auc(&s_all, &y_all),
        auc_non_empty: auc::auc(&s_ne, &y_ne),
        auc_per_instance: (!r.auc.is_empty()).then(|| mean(&r.auc)),
        auc_instances: r.auc.len(),
        ece: probs.map(|p| calibration::ece(p, &y_all, opts.ece_bins)),
        brier: probs.map(|p| calibration::brier(p, &y_all)),
        bins: probs.map(|p| calibration::bins(p, &y_all, opts.ece_bins)).unwrap_or_default(),
        gate_ks,
        ci: (opts.bootstrap > 0).then(|| cis(&r, ks.len(), opts)),
    }
}

/// How a pairwise judge's best@k was computed, and, under a tie-break chain (`chained`), that
/// the chain orders the selection only.
///
/// Decision: best@k does not follow `--tie-break` for a pairwise judge. The chain's stored rank
/// (`tie_rank`) orders candidates by the soft wins of the *whole* set first; inside a k-subset
/// the soft wins are recomputed, so that rank would carry in opponents outside the subset. Equal
/// soft wins in a subset are averaged (uniform tie-breaking, as the spec defines best@k), and
/// the report says so rather than implying the chain was used.
fn pairwise_note(ks: &[usize], estimated: &[usize], instances: usize, seed: u64, chained: bool) -> String {
    let mc: Vec<String> = ks
        .iter()
        .zip(estimated)
        .filter(|(_, e)| **e > 0)
        .map(|(k, e)| format!("k={k} ({e} of {instances} instances)"))
        .collect();
    let how = if mc.is_empty() {
        "exact by enumeration of every k-subset".to_string()
    } else {
        format!(
            "exact by enumeration where an instance has at most {} k-subsets, else the mean over {} seeded draws (seed {seed}): {}",
            pairwise::EXACT_MAX,
            pairwise::DRAWS,
            mc.join(", ")
        )
    };
    let chain = if chained {
        "; --tie-break orders the selection only: equal soft wins within a k-subset are averaged"
    } else {
        ""
    };
    format!("best@k of the pairwise judge recomputes the soft wins within each k-subset; {how}{chain}")
}

impl Labeled {
    /// Each run's resolved rate over the instance set.
    pub(crate) fn run_rates(&self, instances: usize) -> Vec<f64> {
        self.run_resolved.iter().map(|&c| c as f64 / instances.max(1) as f64).collect()
    }

    /// The best single runs (every run at the best rate: which of equals is "the" best would
    /// follow their names) and that rate.
    pub(crate) fn best_run(&self, instances: usize) -> Option<(Vec<usize>, f64)> {
        let rates = self.run_rates(instances);
        let best = rates.iter().copied().fold(None, |b: Option<f64>, x| Some(b.map_or(x, |b| b.max(x))))?;
        Some(((0..rates.len()).filter(|&r| rates[r] == best).collect(), best))
    }

    /// The mean of the runs' resolved rates (pass@1 when every run covers every instance), from
    /// the integer counts, so that the order of the runs cannot move its last bits.
    pub(crate) fn mean_run_rate(&self, instances: usize) -> f64 {
        let total: usize = self.run_resolved.iter().sum();
        total as f64 / (self.run_resolved.len().max(1) * instances.max(1)) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_k_values() {
        assert_eq!(default_ks(8), vec![1, 2, 4, 8]);
        assert_eq!(default_ks(5), vec![1, 2, 4, 5]);
        assert_eq!(default_ks(1), vec![1]);
        assert_eq!(default_ks(16), vec![1, 2, 4, 8, 16]);
    }
}
