//! Combining score sources into one (R2E-Gym's hybrid selection in swerm's terms): a weighted
//! sum on a stated scale, and an optional tie-break chain.
//!
//! - `Scale::Z`: each source is standardised within its instance (mean 0, standard deviation 1
//!   over the instance's non-empty scored candidates; a source constant on the instance gives
//!   0), so sources of any unit (P(YES), a vote share, tests passed) weigh as their weights say.
//! - `Scale::Logit`: each source as a logit (a verifier's answer-logit difference when recorded,
//!   else logit(p)); for probabilities only.
//!
//! Combined = sum of weight x value. A non-empty candidate that lacks a value of any source
//! gets no combined score (it ranks last); an empty candidate gets none either (selection puts
//! non-empty candidates first anyway).
//!
//! Decision (ties): with `--tie-break A,B,run` candidates are ordered within their instance by
//! (combined, A, B, run order: the run given earlier on the command line first, never by
//! name) compared lexicographically, and that order is
//! stored as a rank (`tie_rank`, equal keys equal rank). Selection and best@k use it; best@k
//! stays exact: it breaks the ties left after the chain uniformly at random, which is what
//! averaging over every k-subset gives (none are left when the chain ends with `run`). Pooled
//! AUC uses the combined score itself (ranks are not comparable across instances).

use std::path::PathBuf;

use anyhow::{Context, Result, bail};

use super::settings::{Scale, SourceId};
use super::store::{self, Stored};
use super::{Consensus, Done, FieldScore, Produced, Scored, Scorer, ScorerSettings, SideStores};
use crate::input::Dataset;
use crate::prob::logit;

/// One link of a tie-break chain: a source (by index) or run order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TieKey {
    Source(usize),
    Run,
}

/// The grid: `n_runs` candidates per instance, instance-major.
pub(crate) struct Grid<'a> {
    pub(crate) n_runs: usize,
    pub(crate) empty: &'a [bool],
    /// Each run's place in the order the user gave the inputs (`Dataset::run_order`): what the
    /// `run` link of a tie-break chain follows (earlier first), never the run's name.
    pub(crate) run_order: &'a [usize],
}

/// Per-instance z-scores of `x` over the non-empty candidates that have a value.
pub(crate) fn z_scores(x: &[Option<f64>], g: &Grid) -> Vec<Option<f64>> {
    let mut out = vec![None; x.len()];
    for start in (0..x.len()).step_by(g.n_runs.max(1)) {
        let idx: Vec<usize> = (start..start + g.n_runs).filter(|&i| !g.empty[i] && x[i].is_some()).collect();
        if idx.is_empty() {
            continue;
        }
        let v: Vec<f64> = idx.iter().map(|&i| x[i].expect("filtered")).collect();
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        let sd = (v.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / v.len() as f64).sqrt();
        for (&i, a) in idx.iter().zip(&v) {
            out[i] = Some(if sd > 0.0 { (a - mean) / sd } else { 0.0 });
        }
    }
    out
}

/// The weighted sum of `values` (each already on the combining scale).
pub(crate) fn weighted(values: &[Vec<Option<f64>>], weights: &[f64], g: &Grid) -> Vec<Option<f64>> {
    (0..g.empty.len())
        .map(|i| {
            if g.empty[i] {
                return None;
            }
            values.iter().zip(weights).map(|(v, w)| v[i].map(|x| w * x)).sum::<Option<f64>>()
        })
        .collect()
}

/// The rank of every candidate within its instance under (combined, chain...), higher first:
/// 0 for the last, equal keys equal rank (dense).
pub(crate) fn tie_ranks(combined: &[Option<f64>], values: &[Vec<Option<f64>>], chain: &[TieKey], g: &Grid) -> Vec<f64> {
    let v = |x: Option<f64>| x.unwrap_or(f64::NEG_INFINITY);
    let keys: Vec<Vec<f64>> = (0..combined.len())
        .map(|i| {
            let links = chain.iter().map(|t| match *t {
                TieKey::Source(j) => v(values[j][i]),
                TieKey::Run => -(g.run_order[i % g.n_runs] as f64),
            });
            std::iter::once(v(combined[i])).chain(links).collect()
        })
        .collect();
    let cmp = |a: usize, b: usize| {
        keys[a]
            .iter()
            .zip(&keys[b])
            .map(|(x, y)| x.total_cmp(y))
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    };
    let mut ranks = vec![0.0; combined.len()];
    for start in (0..combined.len()).step_by(g.n_runs.max(1)) {
        let mut idx: Vec<usize> = (start..start + g.n_runs).collect();
        idx.sort_by(|&a, &b| cmp(a, b));
        let mut r = 0.0;
        for w in 0..idx.len() {
            if w > 0 && cmp(idx[w], idx[w - 1]).is_ne() {
                r += 1.0;
            }
            ranks[idx[w]] = r;
        }
    }
    ranks
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn z_scores_and_weights() {
        let empty = [false, false, false, true];
        let g = Grid { n_runs: 4, empty: &empty, run_order: &[0, 1, 2, 3] };
        let z = z_scores(&[Some(1.0), Some(2.0), Some(3.0), Some(9.0)], &g);
        let s = (2.0f64 / 3.0).sqrt();
        assert_eq!(z, vec![Some(-1.0 / s), Some(0.0), Some(1.0 / s), None]);
        assert_eq!(z_scores(&[Some(5.0), Some(5.0), None, None], &g), vec![Some(0.0), Some(0.0), None, None]);
        let w = weighted(
            &[vec![Some(1.0), None, Some(2.0), Some(1.0)], vec![Some(3.0), Some(1.0), Some(0.5), Some(1.0)]],
            &[2.0, -1.0],
            &g,
        );
        assert_eq!(w, vec![Some(-1.0), None, Some(3.5), None]);
    }
}

/// Where a combined source's scores come from.
#[derive(Clone, Debug)]
pub(crate) enum Source {
    Consensus,
    /// A score in each record (`field:PATH`), such as an execution signal (tests passed).
    Field(String),
    /// A score store (a scores.jsonl or its directory; several merge).
    Store(Vec<PathBuf>),
}

/// `--combine NAME=SOURCE --weight NAME=W --scale S --tie-break A,B,run` (validated).
#[derive(Clone, Debug)]
pub(crate) struct CombineSettings {
    pub(crate) sources: Vec<(String, Source)>,
    pub(crate) weights: Vec<f64>,
    pub(crate) scale: Scale,
    pub(crate) tie_break: Vec<TieKey>,
}

pub(crate) struct Combined {
    settings: CombineSettings,
    identity: ScorerSettings,
    stores: Vec<Option<Stored>>,
}

impl Combined {
    /// Reads the stores among the sources (their scorers are part of the identity).
    pub(crate) fn new(c: &CombineSettings) -> Result<Self> {
        let mut stores = Vec::new();
        let mut ids = Vec::new();
        for ((name, src), &weight) in c.sources.iter().zip(&c.weights) {
            let (what, stored) = match src {
                Source::Consensus => ("consensus".to_string(), None),
                Source::Field(f) => (format!("field:{f}"), None),
                Source::Store(paths) => {
                    let s = store::read_many(paths).with_context(|| format!("--combine {name}"))?;
                    let who = s.scorer.as_ref().map_or("scores".to_string(), |x| x.short());
                    (format!("{who} from {}", s.origin), Some(s))
                }
            };
            ids.push(SourceId { name: name.clone(), weight, source: what });
            stores.push(stored);
        }
        let tie_break = c
            .tie_break
            .iter()
            .map(|t| match t {
                TieKey::Source(j) => c.sources[*j].0.clone(),
                TieKey::Run => "run".into(),
            })
            .collect();
        let identity = ScorerSettings::Combined { sources: ids, scale: c.scale, tie_break };
        Ok(Combined { settings: c.clone(), identity, stores })
    }

    /// One source's values over the dataset's candidates, on the combining scale.
    fn values(&self, j: usize, ds: &Dataset, g: &Grid) -> Result<Vec<Option<f64>>> {
        let (name, src) = &self.settings.sources[j];
        let raw = source_values(&format!("--combine {name}"), src, self.stores[j].as_ref(), ds)?;
        match self.settings.scale {
            Scale::Z => Ok(z_scores(&raw.iter().map(|r| r.0).collect::<Vec<_>>(), g)),
            Scale::Logit => raw
                .iter()
                .enumerate()
                .map(|(idx, &(s, z))| match (s, z) {
                    (_, Some(z)) => Ok(Some(z)),
                    (Some(p), None) if (0.0..=1.0).contains(&p) => Ok(Some(logit(p))),
                    (Some(p), None) if !ds.cands[idx].is_empty() => {
                        let (i, r) = ds.grid.coords(idx);
                        bail!(
                            "--combine {name}: instance {} of run {} scores {p}, not a probability: use --scale z",
                            ds.grid.instances[i],
                            ds.grid.runs[r]
                        )
                    }
                    _ => Ok(None),
                })
                .collect(),
        }
    }
}

/// One source's raw values over the dataset's candidates: (score, answer-logit difference when
/// a verifier store recorded it). `stored` is the source's store, read already.
fn source_values(
    name: &str,
    src: &Source,
    stored: Option<&Stored>,
    ds: &Dataset,
) -> Result<Vec<(Option<f64>, Option<f64>)>> {
    let all: Vec<usize> = (0..ds.cands.len()).collect();
    let mut raw: Vec<(Option<f64>, Option<f64>)> = vec![(None, None); ds.cands.len()];
    match src {
        Source::Consensus | Source::Field(_) => {
            let mut s: Box<dyn Scorer> = match src {
                Source::Field(f) => Box::new(FieldScore::new(f)),
                _ => Box::new(Consensus),
            };
            s.score(ds, &all, &mut SideStores::default(), &mut |idx, sc| {
                raw[idx] = (sc.score, None);
                Ok(())
            })?;
        }
        Source::Store(_) => {
            let st = stored.expect("a store source is read first");
            let placed = super::store::place(&st.lines, &ds.grid);
            let mut absent = 0;
            for idx in all {
                match placed[idx].map(|k| &st.lines[k]) {
                    Some(l) => raw[idx] = (l.score, l.detail.logit_difference()),
                    None => absent += !ds.cands[idx].is_empty() as usize,
                }
            }
            if absent > 0 {
                crate::console::caution(
                    None,
                    &format!("{name}: {absent} non-empty candidates have no score in {} (they rank last)", st.origin),
                );
            }
        }
    }
    Ok(raw)
}

/// `--tie-break` for a scorer other than `--combine`: the rank of every candidate within its
/// instance under (the scorer's score, then each source's value in turn), as `tie_ranks` gives.
/// Candidates still tied after the chain fall to the content rule of selection.
pub(crate) fn tie_break_ranks(primary: &[Option<f64>], sources: &[(String, Source)], ds: &Dataset) -> Result<Vec<f64>> {
    let empty: Vec<bool> = ds.cands.iter().map(|c| c.is_empty()).collect();
    let g = Grid { n_runs: ds.grid.n_runs(), empty: &empty, run_order: &ds.run_order };
    let mut values = Vec::new();
    for (name, src) in sources {
        let stored = match src {
            Source::Store(paths) => Some(store::read_many(paths).with_context(|| format!("--tie-break {name}"))?),
            _ => None,
        };
        values.push(
            source_values(&format!("--tie-break {name}"), src, stored.as_ref(), ds)?.into_iter().map(|v| v.0).collect(),
        );
    }
    let chain: Vec<TieKey> = (0..sources.len()).map(TieKey::Source).collect();
    Ok(tie_ranks(primary, &values, &chain, &g))
}

impl Scorer for Combined {
    fn settings(&self) -> ScorerSettings {
        self.identity.clone()
    }

    fn score(&mut self, ds: &Dataset, todo: &[usize], _: &mut SideStores, done: Done) -> Result<Produced> {
        let empty: Vec<bool> = ds.cands.iter().map(|c| c.is_empty()).collect();
        let g = Grid { n_runs: ds.grid.n_runs(), empty: &empty, run_order: &ds.run_order };
        let values = (0..self.settings.sources.len()).map(|j| self.values(j, ds, &g)).collect::<Result<Vec<_>>>()?;
        let combined = weighted(&values, &self.settings.weights, &g);
        let tie_rank =
            (!self.settings.tie_break.is_empty()).then(|| tie_ranks(&combined, &values, &self.settings.tie_break, &g));
        for &idx in todo {
            done(idx, Scored::plain(combined[idx]))?;
        }
        Ok(Produced { tie_rank, ..Produced::default() })
    }
}
