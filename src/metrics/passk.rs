//! Unbiased pass@k (Chen et al. 2021, "Evaluating Large Language Models Trained on Code",
//! eq. 1 and its numerically stable form in the paper's Figure 3).

/// 1 - C(n-c, k) / C(n, k) for an instance with `n` candidates of which `c` are resolved,
/// computed as 1 - prod_{i=n-c+1..=n} (1 - k/i); 1.0 when n - c < k.
pub(crate) fn pass_at_k(n: usize, c: usize, k: usize) -> f64 {
    assert!(k >= 1 && k <= n && c <= n, "pass_at_k(n={n}, c={c}, k={k})");
    if n - c < k {
        return 1.0;
    }
    let prod: f64 = (n - c + 1..=n).map(|i| 1.0 - k as f64 / i as f64).product();
    1.0 - prod
}

/// C(m, k) / C(n, k) for m <= n, as prod_{j<k} (m-j)/(n-j); 0 when m < k. Avoids huge
/// binomials: every factor is in [0, 1].
pub(crate) fn comb_ratio(m: usize, n: usize, k: usize) -> f64 {
    debug_assert!(m <= n && k <= n);
    if m < k {
        return 0.0;
    }
    (0..k).map(|j| (m - j) as f64 / (n - j) as f64).product()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::testutil::{Lcg, subsets};

    #[test]
    fn matches_subset_enumeration() {
        let mut rng = Lcg(7);
        for _ in 0..300 {
            let n = 1 + rng.below(9);
            let labels: Vec<bool> = (0..n).map(|_| rng.below(3) == 0).collect();
            let c = labels.iter().filter(|&&b| b).count();
            for k in 1..=n {
                let subs = subsets(n, k);
                let hit = subs.iter().filter(|s| s.iter().any(|&i| labels[i])).count();
                let brute = hit as f64 / subs.len() as f64;
                assert!((pass_at_k(n, c, k) - brute).abs() < 1e-12, "n={n} c={c} k={k}");
            }
        }
    }

    #[test]
    fn edges() {
        assert_eq!(pass_at_k(8, 0, 3), 0.0);
        assert_eq!(pass_at_k(8, 8, 1), 1.0);
        assert_eq!(pass_at_k(8, 1, 8), 1.0);
        assert!((pass_at_k(8, 2, 1) - 0.25).abs() < 1e-15);
        assert!((comb_ratio(5, 10, 3) - 10.0 / 120.0).abs() < 1e-15);
    }
}
