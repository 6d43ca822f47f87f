//! Test-time-scaling metrics (../shared/spec/metrics.md): `ScoreTable` + selection -> `Metrics`.
//! Each formula lives in its own file as a pure function tested against brute force.

pub mod auc;
pub mod bestk;
pub mod bootstrap;
pub mod calibrate;
pub mod calibration;
pub mod gate;
pub mod paired;
pub mod passk;
#[cfg(test)]
mod testutil;

use crate::score::ScoreTable;

#[derive(Clone, Debug)]
pub struct MetricsOptions {
    /// k values; empty = 1, 2, 4, ... up to N, and N.
    pub ks: Vec<usize>,
    pub ece_bins: usize,
    /// Bootstrap resamples (0 = no CIs).
    pub bootstrap: usize,
    pub seed: u64,
    pub level: f64,
}

impl Default for MetricsOptions {
    fn default() -> Self {
        MetricsOptions { ks: Vec::new(), ece_bins: 15, bootstrap: 0, seed: 0, level: 0.95 }
    }
}

/// The default k values: powers of two below N, then N.
pub fn default_ks(n: usize) -> Vec<usize> {
    let mut ks: Vec<usize> = std::iter::successors(Some(1usize), |k| Some(k * 2)).take_while(|&k| k < n).collect();
    if n >= 1 {
        ks.push(n);
    }
    ks
}

/// Label-dependent numbers (present only when every candidate has a label).
#[derive(Clone, Debug, Default)]
pub struct Labeled {
    pub pass_at_k: Vec<f64>,
    pub best_at_k: Vec<f64>,
    pub random_at_k: Vec<f64>,
    pub selected_resolved: usize,
    pub selected_rate: f64,
    pub resolved_candidates: usize,
    pub auc: Option<f64>,
    /// Mean per-instance AUC and the number of instances with both classes.
    pub auc_per_instance: Option<f64>,
    pub auc_instances: usize,
    pub ece: Option<f64>,
    pub brier: Option<f64>,
    /// The reliability diagram's bins (with ECE).
    pub bins: Vec<calibration::Bin>,
    pub ci: Option<Cis>,
}

/// Percentile bootstrap intervals, one (lo, hi) per k and for the selected rate.
#[derive(Clone, Debug, Default)]
pub struct Cis {
    pub resamples: usize,
    pub seed: u64,
    pub level: f64,
    pub pass_at_k: Vec<(f64, f64)>,
    pub best_at_k: Vec<(f64, f64)>,
    pub random_at_k: Vec<(f64, f64)>,
    pub selected: (f64, f64),
}

#[derive(Clone, Debug, Default)]
pub struct Metrics {
    pub instances: usize,
    pub runs: usize,
    pub candidates: usize,
    /// Candidates with a record but no patch.
    pub empty: usize,
    /// Candidates the run has no record for (also without a patch).
    pub missing: usize,
    pub ks: Vec<usize>,
    pub labeled: Option<Labeled>,
    /// Why some numbers are missing, or what to keep in mind reading them.
    pub notes: Vec<String>,
}

/// Checks `-k` values against the number of runs (before any scoring).
pub fn check_ks(ks: &[usize], n_runs: usize) -> Result<(), String> {
    match ks.iter().find(|&&k| k == 0 || k > n_runs) {
        Some(k) => Err(format!("-k {k}: k must be between 1 and the number of runs ({n_runs})")),
        None => Ok(()),
    }
}

/// Computes every metric; `selected[i]` is the run chosen for instance i.
pub fn compute(t: &ScoreTable, selected: &[usize], opts: &MetricsOptions) -> Result<Metrics, String> {
    let n = t.n_runs();
    let ks = if opts.ks.is_empty() { default_ks(n) } else { opts.ks.clone() };
    check_ks(&ks, n)?;
    let mut m = Metrics {
        instances: t.instances.len(),
        runs: n,
        candidates: t.score.len(),
        empty: t.empty_present(),
        missing: t.holes(),
        ks: ks.clone(),
        labeled: None,
        notes: Vec::new(),
    };
    if t.instances.is_empty() || n == 0 {
        m.notes.push("no candidates: nothing to measure".into());
        return Ok(m);
    }
    match t.labels() {
        Ok(labels) => m.labeled = Some(labeled(t, &labels, selected, &ks, opts, &mut m.notes)),
        Err(missing) if missing == t.label.len() => m.notes.push(
            "no labels (give --labels or inputs with `resolved`): pass@k, best@k, AUC and calibration omitted".into(),
        ),
        Err(missing) => m.notes.push(format!(
            "{missing} of {} candidates have no label: pass@k, best@k, AUC and calibration omitted",
            t.label.len()
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
}

fn rows(t: &ScoreTable, scores: &[f64], labels: &[bool], selected: &[usize], ks: &[usize]) -> Rows {
    let (n, n_inst) = (t.n_runs(), t.instances.len());
    let mut r = Rows {
        pass: vec![vec![0.0; n_inst]; ks.len()],
        best: vec![vec![0.0; n_inst]; ks.len()],
        random: vec![0.0; n_inst],
        selected: vec![0.0; n_inst],
        auc: Vec::new(),
    };
    for i in 0..n_inst {
        let range = t.range(i);
        let (s, y) = (&scores[range.clone()], &labels[range]);
        let c = y.iter().filter(|&&b| b).count();
        for (j, &k) in ks.iter().enumerate() {
            r.pass[j][i] = passk::pass_at_k(n, c, k);
            r.best[j][i] = bestk::best_at_k(s, y, k);
        }
        r.random[i] = c as f64 / n as f64;
        r.selected[i] = y[selected[i]] as u8 as f64;
        r.auc.extend(auc::auc(s, y));
    }
    r
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
    let scores: Vec<f64> = (0..t.score.len()).map(|i| t.rank_score(i)).collect();
    // Within an instance, candidates are ordered by the tie-break chain when one is set.
    let order: Vec<f64> = (0..t.score.len()).map(|i| t.order_key(i)).collect();
    let r = rows(t, &order, labels, selected, ks);
    // Calibration needs probabilities: every candidate scored, all within [0, 1].
    let probs: Option<Vec<f64>> = t.score.iter().map(|s| s.filter(|p| (0.0..=1.0).contains(p))).collect();
    if probs.is_none() {
        notes.push("scores are not all probabilities in [0, 1]: ECE and Brier omitted".into());
    }
    let selected_resolved = r.selected.iter().filter(|&&v| v > 0.0).count();
    Labeled {
        pass_at_k: r.pass.iter().map(|row| mean(row)).collect(),
        best_at_k: r.best.iter().map(|row| mean(row)).collect(),
        random_at_k: vec![mean(&r.random); ks.len()],
        selected_resolved,
        selected_rate: selected_resolved as f64 / t.instances.len() as f64,
        resolved_candidates: labels.iter().filter(|&&b| b).count(),
        auc: auc::auc(&scores, labels),
        auc_per_instance: (!r.auc.is_empty()).then(|| mean(&r.auc)),
        auc_instances: r.auc.len(),
        ece: probs.as_ref().map(|p| calibration::ece(p, labels, opts.ece_bins)),
        brier: probs.as_ref().map(|p| calibration::brier(p, labels)),
        bins: probs.as_ref().map(|p| calibration::bins(p, labels, opts.ece_bins)).unwrap_or_default(),
        ci: (opts.bootstrap > 0).then(|| cis(&r, ks.len(), opts)),
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
