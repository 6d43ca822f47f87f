//! best@k of a pairwise judge: a candidate's soft wins depend on who else is in the set, so
//! the closed form of `bestk` (one fixed score per candidate) does not apply. best@k is the
//! expected label of the top-W candidate when W is recomputed within a uniformly drawn
//! k-subset (a non-empty candidate before an empty one, as selection; equal W averaged, ties
//! broken uniformly at random): exact by enumeration where an instance has at most
//! [`EXACT_MAX`] k-subsets, else the mean over [`DRAWS`] seeded uniform draws.

use crate::score::pairwise::Contest;
use crate::score::pairwise::contest::Opponents;

/// Instances with at most this many k-subsets are enumerated.
pub(crate) const EXACT_MAX: u64 = 5000;
/// Draws of the Monte-Carlo estimate elsewhere.
pub(crate) const DRAWS: usize = 2000;

/// C(n, k), saturating.
fn choose(n: usize, k: usize) -> u64 {
    let k = k.min(n - k.min(n));
    let mut c: u128 = 1;
    for i in 0..k {
        c = c * (n - i) as u128 / (i + 1) as u128;
        if c > u64::MAX as u128 {
            return u64::MAX;
        }
    }
    c as u64
}

/// The expected label of the pick among `list` (W recomputed there; `w` a reused buffer): the
/// mean label of the members tied at the top. For contests `Contest::ranked` does not take.
fn pick_label(c: &Contest, m: &mut Opponents, labels: &[bool], list: &[usize], w: &mut Vec<Option<f64>>) -> f64 {
    // Members of one label (at RL scale most draws of a rarely solved instance have no resolved
    // member): the pick has that label, 0/c or c/c to the bit, whoever it is.
    let resolved: usize = list.iter().map(|&r| labels[r] as usize).sum();
    if resolved == 0 || resolved == list.len() {
        return (resolved > 0) as u8 as f64;
    }
    let (mut sum, mut count) = (0usize, 0usize);
    c.tops(m, list, w, |r| {
        sum += labels[r] as usize;
        count += 1;
    });
    sum as f64 / count.max(1) as f64
}

/// best@k of one instance, and whether it is exact (else a `DRAWS`-draw estimate, seeded by
/// `seed`); `m` is the contest's `opponents()`, reused across k.
pub(crate) fn best_at_k(c: &Contest, m: &mut Opponents, labels: &[bool], k: usize, seed: u64) -> (f64, bool) {
    let n = c.n;
    assert_eq!(labels.len(), n, "one label per candidate");
    if k == 0 || k > n {
        return (0.0, true);
    }
    // Every candidate with one label (an instance no rollout solved, the common case at RL
    // scale, or one every rollout solved): every pick has that label, whatever the draws, so
    // the value is what the enumeration or the draws would give, to the bit (0/c or c/c, summed
    // and divided), and whether it is exact stays as they would say.
    if labels.iter().all(|&y| y == labels[0]) {
        return (if labels[0] { 1.0 } else { 0.0 }, choose(n, k) <= EXACT_MAX);
    }
    c.sets_of(m, Some(k));
    if let Some(r) = c.ranked(m, labels) {
        // The same subsets on the candidates' ranks (the swaps move places, not names, so a
        // draw on ranks holds the ranks of the draw on candidates), each a bit set.
        if choose(n, k) > EXACT_MAX {
            return (rank_draws(k, seed, r.rank(), |set| r.share(set)), false);
        }
        return subsets(n, k, seed, r.rank(), |list| r.share(list.iter().fold(0u64, |s, &x| s | 1 << x)));
    }
    let mut w = Vec::with_capacity(k);
    let names: Vec<usize> = (0..n).collect();
    subsets(n, k, seed, &names, |list| pick_label(c, m, labels, list, &mut w))
}

/// `subsets`' draws for at most 64 candidates named by rank (`ranks`: each one's), each draw
/// a bit set of ranks: the same generator calls and swaps on a fixed array, with no bounds
/// checks left in the loop (a quarter of a pairwise eval at RL scale was this loop).
fn rank_draws(k: usize, seed: u64, ranks: &[u8], mut label: impl FnMut(u64) -> f64) -> f64 {
    let n = ranks.len();
    assert!(n <= 64 && k <= n);
    let mut perm = [0u8; 64];
    perm[..n].copy_from_slice(ranks);
    let mut rng = crate::rng::SplitMix64(seed);
    let mut total = 0.0;
    for _ in 0..DRAWS {
        let mut set = 0u64;
        for t in 0..k {
            let j = t + rng.below(n - t);
            let (a, b) = (perm[t & 63], perm[j & 63]);
            perm[j & 63] = a;
            perm[t & 63] = b;
            set |= 1 << (b & 63);
        }
        total += label(set);
    }
    total / DRAWS as f64
}

/// The mean of `label` over the k-subsets of `names` (n of them), and whether it is exact:
/// every subset, in lexicographic order of its places, where there are at most [`EXACT_MAX`];
/// else [`DRAWS`] uniform draws seeded by `seed`.
fn subsets<T: Copy>(n: usize, k: usize, seed: u64, names: &[T], mut label: impl FnMut(&[T]) -> f64) -> (f64, bool) {
    if choose(n, k) <= EXACT_MAX {
        let mut idx: Vec<usize> = (0..k).collect();
        let mut list: Vec<T> = Vec::with_capacity(k);
        let (mut total, mut count) = (0.0, 0u64);
        loop {
            list.clear();
            list.extend(idx.iter().map(|&i| names[i]));
            total += label(&list);
            count += 1;
            let Some(p) = (0..k).rev().find(|&p| idx[p] < n - k + p) else { break };
            idx[p] += 1;
            for q in p + 1..k {
                idx[q] = idx[q - 1] + 1;
            }
        }
        return (total / count as f64, true);
    }
    let mut rng = crate::rng::SplitMix64(seed);
    let mut perm: Vec<T> = names.to_vec();
    let mut total = 0.0;
    for _ in 0..DRAWS {
        // A uniform k-subset: the first k of a partial Fisher-Yates shuffle.
        for t in 0..k {
            let j = t + rng.below(n - t);
            perm.swap(t, j);
        }
        total += label(&perm[..k]);
    }
    (total / DRAWS as f64, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::pairwise::contest::round_robin;

    /// A contest from a random judge, with some empty candidates.
    fn random_contest(n: usize, seed: u64) -> (Contest, Vec<bool>) {
        let mut r = crate::rng::SplitMix64(seed);
        let empty: Vec<bool> = (0..n).map(|_| r.below(5) == 0).collect();
        let members: Vec<usize> = (0..n).filter(|&i| !empty[i]).collect();
        // Coarse probabilities so that equal soft wins (ties) happen.
        let orders: Vec<(usize, usize, Option<f64>)> =
            round_robin(&members).into_iter().map(|(a, b)| (a, b, Some(r.below(3) as f64 / 2.0))).collect();
        let labels = (0..n).map(|i| !empty[i] && r.below(2) == 0).collect();
        (Contest::new(&empty, orders), labels)
    }

    /// The definition written out: every k-subset by bitmask, the round robin's p matrix summed
    /// inside it, the top by (non-empty, W), ties averaged.
    fn brute(c: &Contest, labels: &[bool], k: usize) -> f64 {
        let n = c.n;
        let mut p = vec![vec![0.0; n]; n];
        for &(i, j, x) in &c.beats {
            p[i][j] = x;
            p[j][i] = 1.0 - x;
        }
        let (mut total, mut count) = (0.0, 0);
        for mask in 0u32..(1 << n) {
            if mask.count_ones() as usize != k {
                continue;
            }
            let inside: Vec<usize> = (0..n).filter(|&i| mask >> i & 1 == 1).collect();
            let w: Vec<f64> = inside.iter().map(|&i| inside.iter().map(|&j| p[i][j]).sum()).collect();
            let key = |t: usize| (!c.empty[inside[t]] as u8, w[t]);
            let best = (0..inside.len())
                .map(key)
                .fold((0u8, f64::NEG_INFINITY), |a, b| if b.0 > a.0 || (b.0 == a.0 && b.1 > a.1) { b } else { a });
            let tied: Vec<usize> =
                (0..inside.len()).filter(|&t| key(t).0 == best.0 && (key(t).1 - best.1).abs() < 1e-9).collect();
            total += tied.iter().filter(|&&t| labels[inside[t]]).count() as f64 / tied.len() as f64;
            count += 1;
        }
        total / count as f64
    }

    #[test]
    fn enumeration_matches_the_definition() {
        for seed in 0..40 {
            let n = 2 + (seed as usize % 7);
            let (c, labels) = random_contest(n, seed);
            for k in 1..=n {
                let (got, exact) = best_at_k(&c, &mut c.opponents(), &labels, k, 0);
                assert!(exact);
                let want = brute(&c, &labels, k);
                assert!((got - want).abs() < 1e-12, "seed {seed} n {n} k {k}: {got} vs {want}");
            }
            // best@1 is the mean label; best@n is the full contest's pick, ties averaged.
            let mean = labels.iter().filter(|&&y| y).count() as f64 / n as f64;
            assert!((best_at_k(&c, &mut c.opponents(), &labels, 1, 0).0 - mean).abs() < 1e-12);
        }
    }

    #[test]
    fn one_label_everywhere_is_that_label_as_the_draws_say() {
        // The shortcut against the definition, and the exactness the general path reports.
        for (n, k) in [(6, 3), (16, 8), (20, 5)] {
            let (c, _) = random_contest(n, 5);
            for y in [false, true] {
                let labels = vec![y; n];
                let got = best_at_k(&c, &mut c.opponents(), &labels, k, 3);
                assert_eq!(got, (brute(&c, &labels, k), choose(n, k) <= EXACT_MAX), "n {n} k {k}");
            }
        }
        assert!(choose(16, 8) > EXACT_MAX && choose(6, 3) <= EXACT_MAX);
    }

    #[test]
    fn rank_sets_give_the_lists_values_to_the_bit() {
        // Tournaments of up to 64 candidates (a ring and 3 pivots, some empty and unscored),
        // labels at rates from rare to common: best@k on ranks (`Contest::ranked`, the draws
        // on a fixed array) equals the general path on candidate lists, enumerated or drawn.
        let mut r = crate::rng::SplitMix64(21);
        for (case, n) in [12, 20, 33, 64, 64, 48].into_iter().enumerate() {
            let empty: Vec<bool> = (0..n).map(|_| r.below(9) == 0).collect();
            let members: Vec<usize> = (0..n).filter(|&i| !empty[i]).collect();
            let mut done = std::collections::HashSet::new();
            let mut pairs = crate::score::pairwise::contest::ring(&members);
            done.extend(pairs.iter().copied());
            pairs.extend(crate::score::pairwise::contest::pivots(&members[..3], &members, &done));
            let orders: Vec<(usize, usize, Option<f64>)> =
                pairs.into_iter().map(|(a, b)| (a, b, (r.below(20) != 0).then(|| r.unit()))).collect();
            let c = Contest::new(&empty, orders);
            let labels: Vec<bool> = (0..n).map(|_| r.below(10) < [1, 4, 9][case % 3]).collect();
            for k in [1, 2, 3, 4, 8, n / 2, n - 1, n] {
                let ranked = best_at_k(&c, &mut c.opponents(), &labels, k, 7);
                let lists = best_at_k(&c, &mut c.lists_only(), &labels, k, 7);
                assert_eq!((ranked.0.to_bits(), ranked.1), (lists.0.to_bits(), lists.1), "n {n} k {k}");
            }
        }
    }

    #[test]
    fn monte_carlo_is_seeded_and_close() {
        // 16 candidates, k = 8: C(16, 8) = 12870 subsets, above the enumeration limit.
        let (c, labels) = random_contest(16, 99);
        let (a, exact) = best_at_k(&c, &mut c.opponents(), &labels, 8, 1);
        assert!(!exact);
        assert_eq!(best_at_k(&c, &mut c.opponents(), &labels, 8, 1).0, a, "the same seed draws the same subsets");
        let want = brute(&c, &labels, 8);
        // 2000 draws of a [0, 1] variable: the standard error is at most 0.0112.
        assert!((a - want).abs() < 0.05, "{a} vs {want}");
        assert_eq!(choose(16, 8), 12870);
        assert_eq!(choose(5, 0), 1);
        assert_eq!(choose(200, 100), u64::MAX);
    }
}
