//! ROC AUC as the Mann-Whitney U statistic with average ranks for ties (Hanley & McNeil 1982):
//! the chance that a random resolved candidate outscores a random unresolved one, ties 1/2.

/// `None` when either class is absent. `-inf` scores (no score) rank lowest.
pub(crate) fn auc(scores: &[f64], labels: &[bool]) -> Option<f64> {
    let n = scores.len();
    let pos = labels.iter().filter(|&&b| b).count();
    let neg = n - pos;
    if pos == 0 || neg == 0 {
        return None;
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut rank_sum_pos = 0.0;
    let mut a = 0;
    while a < n {
        let mut b = a;
        while b + 1 < n && scores[order[b + 1]] == scores[order[a]] {
            b += 1;
        }
        let avg_rank = (a + b) as f64 / 2.0 + 1.0; // 1-based average rank of the tie group
        rank_sum_pos += avg_rank * order[a..=b].iter().filter(|&&i| labels[i]).count() as f64;
        a = b + 1;
    }
    let u = rank_sum_pos - (pos * (pos + 1)) as f64 / 2.0;
    Some(u / (pos * neg) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::testutil::Lcg;

    fn brute(s: &[f64], y: &[bool]) -> Option<f64> {
        let (mut num, mut den) = (0.0, 0.0);
        for i in 0..s.len() {
            for j in 0..s.len() {
                if y[i] && !y[j] {
                    den += 1.0;
                    num += if s[i] > s[j] {
                        1.0
                    } else if s[i] == s[j] {
                        0.5
                    } else {
                        0.0
                    };
                }
            }
        }
        (den > 0.0).then(|| num / den)
    }

    #[test]
    fn matches_pair_counting() {
        let mut rng = Lcg(5);
        for _ in 0..500 {
            let n = 1 + rng.below(30);
            let s: Vec<f64> = (0..n).map(|_| rng.below(7) as f64 / 6.0).collect();
            let y: Vec<bool> = (0..n).map(|_| rng.below(2) == 1).collect();
            match (auc(&s, &y), brute(&s, &y)) {
                (Some(a), Some(b)) => assert!((a - b).abs() < 1e-12),
                (a, b) => assert_eq!(a, b),
            }
        }
        assert_eq!(auc(&[0.9, 0.1], &[true, false]), Some(1.0));
        assert_eq!(auc(&[0.5, 0.5], &[true, false]), Some(0.5));
    }
}
