//! Exact best@k: the expected label of the top-scored candidate among k drawn uniformly
//! without replacement, ties broken uniformly at random (docs/spec/metrics.md). The
//! Monte-Carlo estimates of SWE-Gym and R2E-Gym converge to this value.

use super::passk::comb_ratio;

/// Sort by score descending and group exact ties; a tie group at 1-based sorted positions
/// a..=b with mean label m contributes m * [C(n-a+1, k) - C(n-b, k)] / C(n, k): the chance
/// that the subset lies within positions a..n and meets the group, times the expected label
/// of a uniform pick inside the group. `-inf` stands for "no score" and ranks last.
pub(crate) fn best_at_k(scores: &[f64], labels: &[bool], k: usize) -> f64 {
    let n = scores.len();
    assert!(k >= 1 && k <= n && labels.len() == n);
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&x, &y| scores[y].total_cmp(&scores[x]));
    let mut total = 0.0;
    let mut a = 0; // 0-based start of the current tie group
    while a < n {
        let mut b = a;
        while b + 1 < n && scores[order[b + 1]] == scores[order[a]] {
            b += 1;
        }
        let hits = order[a..=b].iter().filter(|&&i| labels[i]).count();
        if hits > 0 {
            let m = hits as f64 / (b - a + 1) as f64;
            // 1-based positions a+1..=b+1: C(n-a, k) - C(n-b-1, k)
            total += m * (comb_ratio(n - a, n, k) - comb_ratio(n - b - 1, n, k));
        }
        a = b + 1;
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::passk::pass_at_k;
    use crate::metrics::testutil::{Lcg, subsets};

    /// Every k-subset, its maximum score, the mean label over the tied maxima.
    fn brute(scores: &[f64], labels: &[bool], k: usize) -> f64 {
        let subs = subsets(scores.len(), k);
        let sum: f64 = subs
            .iter()
            .map(|s| {
                let top = s.iter().map(|&i| scores[i]).fold(f64::NEG_INFINITY, f64::max);
                let tied: Vec<usize> = s.iter().copied().filter(|&i| scores[i] == top).collect();
                tied.iter().filter(|&&i| labels[i]).count() as f64 / tied.len() as f64
            })
            .sum();
        sum / subs.len() as f64
    }

    fn random_case(rng: &mut Lcg) -> (Vec<f64>, Vec<bool>) {
        let n = 1 + rng.below(9);
        // Few distinct values so that ties are common; some "no score".
        let scores = (0..n)
            .map(|_| match rng.below(6) {
                0 => f64::NEG_INFINITY,
                v => v as f64 / 4.0,
            })
            .collect();
        let labels = (0..n).map(|_| rng.below(2) == 0).collect();
        (scores, labels)
    }

    #[test]
    fn matches_subset_enumeration() {
        let mut rng = Lcg(11);
        for _ in 0..500 {
            let (s, y) = random_case(&mut rng);
            for k in 1..=s.len() {
                let (e, b) = (best_at_k(&s, &y, k), brute(&s, &y, k));
                assert!((e - b).abs() < 1e-12, "{s:?} {y:?} k={k}: {e} vs {b}");
            }
        }
    }

    #[test]
    fn invariants() {
        let mut rng = Lcg(3);
        for _ in 0..300 {
            let (s, y) = random_case(&mut rng);
            let n = s.len();
            let c = y.iter().filter(|&&b| b).count();
            let mean = c as f64 / n as f64;
            assert!((best_at_k(&s, &y, 1) - mean).abs() < 1e-12, "best@1 = pass@1");
            let oracle: Vec<f64> = y.iter().map(|&b| b as u8 as f64).collect();
            let constant = vec![0.5; n];
            for k in 1..=n {
                assert!(best_at_k(&s, &y, k) <= pass_at_k(n, c, k) + 1e-12, "best@k <= pass@k");
                assert!((best_at_k(&oracle, &y, k) - pass_at_k(n, c, k)).abs() < 1e-12, "oracle");
                assert!((best_at_k(&constant, &y, k) - mean).abs() < 1e-12, "constant");
            }
            // best@n = (tie-averaged) label of the top pick.
            let top = s.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let tied: Vec<usize> = (0..n).filter(|&i| s[i] == top).collect();
            let want = tied.iter().filter(|&&i| y[i]).count() as f64 / tied.len() as f64;
            assert!((best_at_k(&s, &y, n) - want).abs() < 1e-12, "best@n");
        }
    }
}

/// best@k under `--combine --tie-break`: the stored ranks give what brute force over the
/// lexicographic keys gives.
#[cfg(test)]
mod tie_break_tests {
    use super::best_at_k;
    use crate::metrics::testutil::{Lcg, subsets};
    use crate::score::combine::{Grid, TieKey, tie_ranks, weighted};

    /// best@k by brute force over the lexicographic keys themselves: every k-subset, its top
    /// key, the mean label over the candidates tied at it.
    fn brute(keys: &[Vec<f64>], labels: &[bool], k: usize) -> f64 {
        let cmp = |a: &Vec<f64>, b: &Vec<f64>| a.partial_cmp(b).unwrap();
        let subs = subsets(keys.len(), k);
        subs.iter()
            .map(|s| {
                let top = s.iter().map(|&i| &keys[i]).max_by(|a, b| cmp(a, b)).unwrap();
                let tied: Vec<usize> = s.iter().copied().filter(|&i| keys[i] == *top).collect();
                tied.iter().filter(|&&i| labels[i]).count() as f64 / tied.len() as f64
            })
            .sum::<f64>()
            / subs.len() as f64
    }

    #[test]
    fn best_at_k_is_exact_under_a_tie_break_chain() {
        let mut rng = Lcg(11);
        for _ in 0..300 {
            let n = 1 + rng.below(7);
            // Coarse values: many ties on the combined score and on the first tie-break.
            let a: Vec<Option<f64>> = (0..n).map(|_| Some(rng.below(3) as f64)).collect();
            let b: Vec<Option<f64>> = (0..n).map(|_| Some(rng.below(2) as f64)).collect();
            let labels: Vec<bool> = (0..n).map(|_| rng.below(2) == 1).collect();
            let empty = vec![false; n];
            // Input order reversed against the grid's: the `run` link follows it.
            let run_order: Vec<usize> = (0..n).rev().collect();
            let g = Grid { n_runs: n, empty: &empty, run_order: &run_order };
            let combined = weighted(std::slice::from_ref(&a), &[1.0], &g);
            for chain in [vec![], vec![TieKey::Source(1)], vec![TieKey::Source(1), TieKey::Run]] {
                let ranks = tie_ranks(&combined, &[a.clone(), b.clone()], &chain, &g);
                let keys: Vec<Vec<f64>> = (0..n)
                    .map(|i| {
                        let mut k = vec![a[i].unwrap()];
                        for t in &chain {
                            k.push(match t {
                                TieKey::Source(_) => b[i].unwrap(),
                                TieKey::Run => -(run_order[i] as f64),
                            });
                        }
                        k
                    })
                    .collect();
                for k in 1..=n {
                    let (got, want) = (best_at_k(&ranks, &labels, k), brute(&keys, &labels, k));
                    assert!((got - want).abs() < 1e-12, "{chain:?} k={k}: {got} vs {want}");
                }
            }
        }
    }
}
