//! Top-1 selection per instance: the highest score wins; an empty patch never beats a
//! non-empty one; ties go to the first run in name order (the grid's run order).

use crate::score::ScoreTable;

/// The chosen run index for every instance.
pub fn select(t: &ScoreTable) -> Vec<usize> {
    (0..t.instances.len())
        .map(|i| {
            // Strictly better only, so an equal candidate later in run order never wins.
            let better = |a: usize, b: usize| {
                let (na, nb) = (!t.empty[a], !t.empty[b]);
                (na && !nb) || (na == nb && t.order_key(a) > t.order_key(b))
            };
            let mut best = t.range(i).start;
            for idx in t.range(i) {
                if better(idx, best) {
                    best = idx;
                }
            }
            best - t.range(i).start
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(score: Vec<Option<f64>>, empty: Vec<bool>) -> ScoreTable {
        let n = score.len();
        ScoreTable {
            within: None,
            runs: (0..n).map(|r| r.to_string()).collect(),
            instances: vec!["i".into()],
            label: vec![None; n],
            missing: vec![false; n],
            score,
            empty,
        }
    }

    #[test]
    fn rules() {
        assert_eq!(select(&table(vec![Some(0.2), Some(0.9), Some(0.9)], vec![false; 3])), vec![1], "max, earliest tie");
        assert_eq!(select(&table(vec![Some(0.9), Some(0.1)], vec![true, false])), vec![1], "empty never wins");
        assert_eq!(select(&table(vec![None, Some(-3.0)], vec![false, false])), vec![1], "no score ranks last");
        assert_eq!(select(&table(vec![Some(0.0), Some(0.0)], vec![true, true])), vec![0], "all empty: first run");
    }
}
