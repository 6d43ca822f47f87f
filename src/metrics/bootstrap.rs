//! Seeded instance-level bootstrap (Efron & Tibshirani 1993): resample instances with
//! replacement, recompute each per-instance mean, report percentile intervals.

use crate::rng::SplitMix64;

/// The q-quantile (0..=1) of sorted data by linear interpolation between closest ranks
/// (numpy's default `linear` method).
pub(crate) fn quantile(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * q;
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Percentile intervals at `level` (e.g. 0.95) for the mean of each row of `per_instance`
/// (rows = statistics, columns = instances), over `resamples` resamples seeded with `seed`.
/// Every row sees the same resampled instance sets.
pub(crate) fn mean_cis(per_instance: &[Vec<f64>], resamples: usize, seed: u64, level: f64) -> Vec<(f64, f64)> {
    let n = per_instance.first().map_or(0, Vec::len);
    if n == 0 || resamples == 0 {
        return vec![(f64::NAN, f64::NAN); per_instance.len()];
    }
    let mut rng = SplitMix64(seed);
    let mut draws: Vec<Vec<f64>> = vec![Vec::with_capacity(resamples); per_instance.len()];
    let mut sums = vec![0.0; per_instance.len()];
    for _ in 0..resamples {
        sums.iter_mut().for_each(|s| *s = 0.0);
        for _ in 0..n {
            let i = rng.below(n);
            for (s, row) in sums.iter_mut().zip(per_instance) {
                *s += row[i];
            }
        }
        for (d, s) in draws.iter_mut().zip(&sums) {
            d.push(s / n as f64);
        }
    }
    let tail = (1.0 - level) / 2.0;
    draws
        .into_iter()
        .map(|mut d| {
            d.sort_by(f64::total_cmp);
            (quantile(&d, tail), quantile(&d, 1.0 - tail))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_like_numpy() {
        let d = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile(&d, 0.0), 1.0);
        assert_eq!(quantile(&d, 1.0), 4.0);
        assert!((quantile(&d, 0.5) - 2.5).abs() < 1e-15);
        assert!((quantile(&d, 0.025) - 1.075).abs() < 1e-12);
    }

    #[test]
    fn seeded_and_sane() {
        let row: Vec<f64> = (0..200).map(|i| (i % 3 == 0) as u8 as f64).collect();
        let mean = row.iter().sum::<f64>() / 200.0;
        let a = mean_cis(std::slice::from_ref(&row), 500, 42, 0.95);
        let b = mean_cis(std::slice::from_ref(&row), 500, 42, 0.95);
        let c = mean_cis(&[row], 500, 43, 0.95);
        assert_eq!(a, b);
        assert_ne!(a, c);
        let (lo, hi) = a[0];
        assert!(lo < mean && mean < hi && hi - lo < 0.2, "{lo} {mean} {hi}");
        // A constant statistic has a zero-width interval.
        assert_eq!(mean_cis(&[vec![0.25; 10]], 50, 1, 0.9), vec![(0.25, 0.25)]);
    }
}
