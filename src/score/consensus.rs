//! The `consensus` scorer (the default without `--model`): a candidate's score is the share of
//! its instance's non-empty candidates whose normalized patch equals its own (itself included);
//! an empty patch scores 0. Normalization: `crate::patch::normalize`.
//!
//! Decision (equality by key): patches are compared by their content keys (a seeded 64-bit
//! hash of the normalized text, computed once when the patch was read), not by the normalized
//! strings: equal texts always have equal keys, and two different patches of one instance
//! share a key with probability about 2^-64 per pair, far below any count that could change a
//! score. No normalized copy of any patch is kept.

use std::collections::HashMap;

use anyhow::Result;

use super::{Done, Produced, Scored, Scorer, ScorerSettings, SideStores};
use crate::input::Dataset;

pub(crate) struct Consensus;

impl Scorer for Consensus {
    fn settings(&self) -> ScorerSettings {
        ScorerSettings::Consensus
    }

    fn score(&mut self, ds: &Dataset, todo: &[usize], _: &mut SideStores, done: Done) -> Result<Produced> {
        let mut cache: HashMap<usize, Vec<f64>> = HashMap::new();
        for &idx in todo {
            let (i, r) = ds.grid.coords(idx);
            let scores = cache.entry(i).or_insert_with(|| instance_scores(ds, i));
            done(idx, Scored::plain(Some(scores[r])))?;
        }
        Ok(Produced::default())
    }
}

/// The consensus score of every candidate of instance `i`, in run order.
fn instance_scores(ds: &Dataset, i: usize) -> Vec<f64> {
    let keys: Vec<Option<u64>> = ds.instance(i).iter().map(|c| c.keys.content).collect();
    let non_empty = keys.iter().flatten().count();
    let mut counts: HashMap<u64, usize> = HashMap::new();
    for &k in keys.iter().flatten() {
        *counts.entry(k).or_default() += 1;
    }
    keys.iter().map(|k| k.map_or(0.0, |k| counts[&k] as f64 / non_empty as f64)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::Candidate;

    fn ds(patches: &[Option<&str>]) -> Dataset {
        Dataset {
            grid: crate::grid::Grid::new(vec!["i".into()], (0..patches.len()).map(|r| format!("r{r}")).collect()),
            cands: patches.iter().map(|&p| Candidate::of_patch(p)).collect(),
            run_input: (0..patches.len()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn shares_of_non_empty() {
        let d = ds(&[Some("+a\n"), Some("+a\r\n"), Some("+b"), None, Some("  \n")]);
        let mut got = vec![];
        Consensus
            .score(&d, &[0, 1, 2, 3, 4], &mut SideStores::default(), &mut |i, s: Scored| {
                got.push((i, s.score.unwrap()));
                Ok(())
            })
            .unwrap();
        assert_eq!(got, vec![(0, 2.0 / 3.0), (1, 2.0 / 3.0), (2, 1.0 / 3.0), (3, 0.0), (4, 0.0)]);
    }
}
