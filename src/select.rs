//! Top-1 selection per instance, and what the ties at the top were.
//!
//! The rule: the highest order key wins (the score, or the tie-break chain's rank); a non-empty
//! patch always beats an empty one; among different patches tied at the top, the smallest
//! content key (`crate::patch::keys`, a seeded hash of the normalized patch) wins, so
//! the pick never depends on run names or input order. Among candidates of the same content,
//! the hash of the exact bytes decides (so predictions.jsonl is byte-identical whatever the run
//! names); only byte-identical patches, or a store without content keys (written before swerm
//! recorded them), fall back to run order.
//!
//! Decision (credit goes to the patch, not to a name): the pick is a patch, and the runs that
//! produced the same content hold copies of it. When copies carry different labels (a flaky
//! test), the pick is credited with the mean label of its copies (`credit`), as best@k averages
//! tied candidates, and the per-run picks table shares one pick among the runs holding a copy
//! (`pick_shares`). So neither the selected rate nor the picks depend on run names or order.

use crate::score::ScoreTable;

/// The chosen run index for every instance.
pub(crate) fn select(t: &ScoreTable) -> Vec<usize> {
    (0..t.grid().instances.len())
        .map(|i| {
            let mut best = t.grid().range(i).start;
            for idx in t.grid().range(i) {
                if better(t, idx, best) {
                    best = idx;
                }
            }
            best - t.grid().range(i).start
        })
        .collect()
}

/// Whether candidate `a` strictly beats candidate `b` of the same instance.
fn better(t: &ScoreTable, a: usize, b: usize) -> bool {
    let (na, nb) = (!t.empty()[a], !t.empty()[b]);
    if na != nb {
        return na;
    }
    // Among empty candidates, one with a record (a run that submitted nothing) before a hole,
    // so an all-empty instance's pick is credited to a run that has a record for it.
    if !na && t.missing()[a] != t.missing()[b] {
        return !t.missing()[a];
    }
    // `==` as best@k groups ties (so 0.0 and -0.0 tie, as they do there).
    let (ka, kb) = (t.order_key(a), t.order_key(b));
    if ka != kb {
        return ka > kb;
    }
    let first = |x: Option<u64>, y: Option<u64>| match (x, y) {
        (Some(x), Some(y)) if x != y => Some(x < y),
        (Some(_), None) => Some(true),
        (None, Some(_)) => Some(false),
        _ => None,
    };
    first(t.content()[a], t.content()[b]).or_else(|| first(t.raw()[a], t.raw()[b])).unwrap_or(false)
}

/// The candidates of instance `i` holding the patch of candidate `pick` (flat indices): every
/// non-empty candidate of its content key; the pick alone when it is empty or has no key (a
/// store written before swerm recorded keys).
pub(crate) fn copies(t: &ScoreTable, i: usize, pick: usize) -> Vec<usize> {
    match t.content()[pick].filter(|_| !t.empty()[pick]) {
        None => vec![pick],
        Some(k) => t.grid().range(i).filter(|&c| !t.empty()[c] && t.content()[c] == Some(k)).collect(),
    }
}

/// The label instance `i`'s pick (run `pick_run`) is credited with: the mean label of its
/// copies (`labels` instance-major, every candidate labelled).
pub(crate) fn credit(t: &ScoreTable, labels: &[bool], i: usize, pick_run: usize) -> f64 {
    let c = copies(t, i, t.grid().idx(i, pick_run));
    c.iter().filter(|&&x| labels[x]).count() as f64 / c.len() as f64
}

/// Whether instance `i`'s pick has copies that disagree on the label.
pub(crate) fn mixed_copies(t: &ScoreTable, labels: &[bool], i: usize, pick_run: usize) -> bool {
    let c = copies(t, i, t.grid().idx(i, pick_run));
    c.iter().any(|&x| labels[x]) && c.iter().any(|&x| !labels[x])
}

/// How many instances' picks each run holds: a pick shared equally by the runs holding a copy
/// of its patch; a pick that is a hole (no run has a record for the instance) credited to none.
pub(crate) fn pick_shares(t: &ScoreTable, selected: &[usize]) -> Vec<f64> {
    let mut shares = vec![0.0; t.grid().n_runs()];
    for (i, &r) in selected.iter().enumerate() {
        let pick = t.grid().idx(i, r);
        if t.missing()[pick] {
            continue;
        }
        let c = copies(t, i, pick);
        for x in &c {
            shares[t.grid().coords(*x).1] += 1.0 / c.len() as f64;
        }
    }
    shares
}

/// Ties at the top of the instances.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Ties {
    /// Instances whose top order key is shared by candidates of two or more different patches.
    pub(crate) tied: usize,
    /// Of those, the instances whose tied candidates disagree on the label (the tie-break
    /// decides the selected rate there).
    pub(crate) mixed_labels: usize,
}

/// The candidates of instance `i` (flat indices), best first: the order `select` picks by, so
/// the first is the selected one. Candidates the rule cannot tell apart keep run order.
pub(crate) fn ranking(t: &ScoreTable, i: usize) -> Vec<usize> {
    let mut order: Vec<usize> = t.grid().range(i).collect();
    order.sort_by(|&a, &b| {
        if better(t, a, b) {
            std::cmp::Ordering::Less
        } else if better(t, b, a) {
            std::cmp::Ordering::Greater
        } else {
            std::cmp::Ordering::Equal
        }
    });
    order
}

/// Whether instance `i`'s top order key is shared by candidates of two or more different
/// patches (`Some`), and if so whether those tied candidates disagree on the label (the
/// tie-break decides the selected rate there). Empty candidates never count; a candidate
/// without a content key counts as its own patch.
pub(crate) fn tie_at(t: &ScoreTable, i: usize) -> Option<bool> {
    let live: Vec<usize> = t.grid().range(i).filter(|&idx| !t.empty()[idx]).collect();
    let top = live.iter().map(|&idx| t.order_key(idx)).max_by(f64::total_cmp)?;
    let tied: Vec<usize> = live.into_iter().filter(|&idx| t.order_key(idx) == top).collect();
    let mut keys: Vec<Option<u64>> = Vec::new();
    for &idx in &tied {
        if t.content()[idx].is_none() || !keys.contains(&t.content()[idx]) {
            keys.push(t.content()[idx]);
        }
    }
    if keys.len() < 2 {
        return None;
    }
    let labels: Vec<Option<bool>> = tied.iter().map(|&idx| t.label()[idx]).collect();
    Some(labels.contains(&Some(true)) && labels.contains(&Some(false)))
}

/// Counts the instances with a tied top among different patches (`tie_at`).
pub(crate) fn ties(t: &ScoreTable) -> Ties {
    let mut out = Ties::default();
    for mixed in (0..t.grid().instances.len()).filter_map(|i| tie_at(t, i)) {
        out.tied += 1;
        out.mixed_labels += mixed as usize;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::Unscored;
    use crate::score::table::Columns;

    fn table(score: Vec<Option<f64>>, empty: Vec<bool>, content: Vec<Option<u64>>) -> ScoreTable {
        let n = score.len();
        ScoreTable::from(Columns {
            tie_rank: None,
            grid: crate::grid::Grid::new(vec!["i".into()], (0..n).map(|r| r.to_string()).collect()),
            label: vec![None; n],
            missing: vec![false; n],
            unscored: score.iter().zip(&empty).map(|(s, e)| (s.is_none() && !e).then_some(Unscored::NoValue)).collect(),
            score,
            empty,
            raw: vec![None; content.len()],
            content,
            contests: None,
        })
    }

    #[test]
    fn rules() {
        let s = |v: &[f64]| v.iter().map(|&x| Some(x)).collect::<Vec<_>>();
        let c = |v: &[u64]| v.iter().map(|&x| Some(x)).collect::<Vec<_>>();
        assert_eq!(select(&table(s(&[0.2, 0.9, 0.9]), vec![false; 3], c(&[1, 7, 5]))), vec![2], "tie: smaller key");
        assert_eq!(select(&table(s(&[0.2, 0.9, 0.9]), vec![false; 3], c(&[1, 5, 5]))), vec![1], "same patch: first");
        assert_eq!(select(&table(s(&[0.9, 0.1]), vec![true, false], vec![None, Some(3)])), vec![1], "empty never wins");
        let t = table(vec![None, Some(-3.0)], vec![false, false], c(&[1, 2]));
        assert_eq!(select(&t), vec![1], "no score ranks last");
        assert_eq!(select(&table(s(&[0.0, 0.0]), vec![true, true], vec![None; 2])), vec![0], "all empty: first run");
    }

    /// Renaming or reordering runs permutes the grid's columns; the chosen patch must follow
    /// its content, not its column, for every permutation (brute force over all of them).
    #[test]
    fn pick_independent_of_run_order() {
        let scores = [Some(0.5), Some(0.9), None, Some(0.9), Some(0.9), Some(0.1)];
        let keys = [Some(40), Some(30), Some(10), Some(20), Some(20), Some(5)];
        let empty = [false, false, false, false, false, false];
        let perms = permutations(6);
        for p in &perms {
            let t = table(p.iter().map(|&r| scores[r]).collect(), p.iter().map(|&r| empty[r]).collect(), {
                p.iter().map(|&r| keys[r]).collect()
            });
            let pick = p[select(&t)[0]];
            assert_eq!(keys[pick], Some(20), "{p:?}");
            assert_eq!(ties(&t), Ties { tied: 1, mixed_labels: 0 });
            // The whole ranking follows content too, and starts with the pick; brute force: no
            // later candidate beats an earlier one.
            let order = ranking(&t, 0);
            assert_eq!(order[0], select(&t)[0]);
            let ranked_keys: Vec<Option<u64>> = order.iter().map(|&c| keys[p[c]]).collect();
            assert_eq!(ranked_keys, [Some(20), Some(20), Some(30), Some(40), Some(5), Some(10)], "{p:?}");
            for (x, &a) in order.iter().enumerate() {
                assert!(order[x + 1..].iter().all(|&b| !better(&t, b, a)), "{p:?}");
            }
        }
    }

    fn permutations(n: usize) -> Vec<Vec<usize>> {
        if n == 0 {
            return vec![vec![]];
        }
        let mut out = Vec::new();
        for p in permutations(n - 1) {
            for at in 0..=p.len() {
                let mut q = p.clone();
                q.insert(at, n - 1);
                out.push(q);
            }
        }
        out
    }

    /// Copies of one patch with different labels: the credit and the picks shares are the same
    /// for every permutation of the runs (brute force over all of them), and equal to the mean
    /// label of the copies, counted by hand.
    #[test]
    fn copies_are_credited_as_a_group() {
        // Runs 0, 2, 3 hold patch 7 (labels yes, no, no); run 1 another patch; run 4 empty.
        let scores = [Some(0.9), Some(0.5), Some(0.9), Some(0.9), None];
        let keys = [Some(7), Some(8), Some(7), Some(7), None];
        let empty = [false, false, false, false, true];
        let labels = [true, true, false, false, false];
        for p in permutations(5) {
            let mut t = table(p.iter().map(|&r| scores[r]).collect(), p.iter().map(|&r| empty[r]).collect(), {
                p.iter().map(|&r| keys[r]).collect()
            });
            let y: Vec<bool> = p.iter().map(|&r| labels[r]).collect();
            t.set_labels(y.iter().map(|&b| Some(b)).collect());
            let sel = select(&t);
            assert_eq!(keys[p[sel[0]]], Some(7), "{p:?}");
            assert!((credit(&t, &y, 0, sel[0]) - 1.0 / 3.0).abs() < 1e-12, "{p:?}");
            assert!(mixed_copies(&t, &y, 0, sel[0]));
            let shares = pick_shares(&t, &sel);
            for (col, &run) in p.iter().enumerate() {
                let want = if keys[run] == Some(7) { 1.0 / 3.0 } else { 0.0 };
                assert!((shares[col] - want).abs() < 1e-12, "{p:?}: run {run} holds {}", shares[col]);
            }
        }
    }

    #[test]
    fn tie_counts() {
        let mut t = table(
            vec![Some(0.9), Some(0.9), Some(0.9), Some(0.2)],
            vec![false; 4],
            vec![Some(1), Some(1), Some(2), Some(3)],
        );
        t.set_labels(vec![Some(true), Some(true), Some(false), Some(true)]);
        assert_eq!(ties(&t), Ties { tied: 1, mixed_labels: 1 });
        let mut c = t.into_columns();
        c.content = vec![Some(1), Some(1), Some(1), Some(3)];
        let t = ScoreTable::from(c);
        assert_eq!(ties(&t), Ties { tied: 0, mixed_labels: 0 }, "one patch at the top is no tie");
        let mut c = t.into_columns();
        c.empty = vec![true, true, false, false];
        c.content[2] = Some(9);
        assert_eq!(ties(&ScoreTable::from(c)), Ties::default(), "empty candidates never tie");
    }
}
