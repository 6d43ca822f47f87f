//! The pairwise judge (`--pairwise`): candidates of an instance compared two at a time by the
//! local model or the endpoints (any `Judge`), both orders of every pair, and each candidate
//! scored by its soft wins W (`contest`); every comparison kept in pairs.jsonl (`store`),
//! resumable. As a `Scorer` it hands each candidate its W, so selection, the score store and
//! the reports work as for any scorer; its `Contest`s go on to best@k (`metrics::pairwise`).
//!
//! The schedule per instance of m non-empty candidates: m <= 8, a full round robin (m (m - 1)
//! comparisons); above, a tournament: a ring pass in a seeded order (2m), then the k best by
//! the ring's W as pivots, each compared with every other candidate (at most
//! 2 (k (m - k) + k (k - 1) / 2) more). The ring's order is a hash of the instance and each
//! patch's content, so neither run names nor input order choose who meets whom.

pub(crate) mod contest;
pub(crate) mod store;

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use anyhow::{Context, Result};
use rayon::prelude::*;

use super::verifier::Judge;
use super::{Done, Produced, Scored, Scorer, ScorerSettings, SideStores, VerifierDetail};
use crate::input::Dataset;
use crate::prompt::TooLong;
use crate::prompt::pairwise::{Attempt, instance_issue};
pub(crate) use contest::Contest;
use store::{PairLine, PairStore};

/// Instances whose comparisons are prepared and judged together: enough prompts to fill a
/// forward's batches and the endpoints' queues, few enough that progress shows.
const WINDOW: usize = 16;

/// What a pairwise run cost, for the summary.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Cost {
    pub(crate) instances: usize,
    /// Instances that got a tournament (more than 8 non-empty candidates).
    pub(crate) tournaments: usize,
    /// Ordered comparisons of this run's instances.
    pub(crate) comparisons: usize,
    pub(crate) judged_now: usize,
    pub(crate) reused: usize,
    /// Comparisons whose prompt could not fit (no answer).
    pub(crate) failed: usize,
    /// Prompt tokens read by the comparisons judged now.
    pub(crate) tokens: u64,
    pub(crate) secs: f64,
    /// Comparisons of other candidates kept in pairs.jsonl from earlier runs.
    pub(crate) kept: usize,
}

/// A pairwise run's outcome: each instance's contest (grid order; `None` outside the run's
/// instances, such as another shard's) and its cost.
pub(crate) struct Outcome {
    pub(crate) contests: Vec<Option<Contest>>,
    pub(crate) cost: Cost,
    /// This run's comparisons, for pairs.jsonl's final rewrite (`SideStores::finish`).
    pub(crate) lines: Vec<PairLine>,
}

pub(crate) struct Pairwise {
    judge: Box<dyn Judge>,
    settings: ScorerSettings,
    pivots: usize,
}

impl Pairwise {
    pub(crate) fn new(judge: Box<dyn Judge>, settings: ScorerSettings, pivots: usize) -> Self {
        Pairwise { judge, settings, pivots }
    }
}

/// One instance's comparisons in this run: its candidates' (non-empty ones as `members`) and
/// every ordered judgement so far (`None`: no answer).
struct Plan {
    i: usize,
    members: Vec<usize>,
    results: HashMap<(usize, usize), Option<f64>>,
    tournament: bool,
}

impl Scorer for Pairwise {
    fn settings(&self) -> ScorerSettings {
        self.settings.clone()
    }

    fn score(&mut self, ds: &Dataset, todo: &[usize], side: &mut SideStores, done: Done) -> Result<Produced> {
        let started = Instant::now();
        let store = side.pairs.as_mut().context("a pairwise judge keeps its comparisons in pairs.jsonl: not open")?;
        let instances: Vec<usize> = todo
            .iter()
            .map(|&idx| ds.grid.coords(idx).0)
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut cost = Cost { instances: instances.len(), ..Default::default() };
        let mut contests: Vec<Option<Contest>> = vec![None; ds.grid.instances.len()];
        let mut lines: Vec<PairLine> = Vec::new();
        // A window of instances at a time: their attempts in memory, their comparisons batched.
        for window in instances.chunks(WINDOW) {
            let prompter = self.judge.prompter();
            let attempts: Vec<Vec<Option<Attempt>>> = window
                .par_iter()
                .map(|&i| ds.grid.range(i).map(|idx| prompter.attempt(ds, idx)).collect())
                .collect::<Result<_>>()?;
            let mut plans: Vec<Plan> = window.iter().zip(&attempts).map(|(&i, a)| plan(i, a)).collect();
            let first: Vec<Vec<(usize, usize)>> = plans.iter().map(|p| first_pass(ds, p)).collect();
            let mut w = Window { ds, attempts: &attempts, store, lines: &mut lines, cost: &mut cost };
            w.run(self.judge.as_mut(), &mut plans, &first)?;
            let second: Vec<Vec<(usize, usize)>> = plans.iter().map(|p| second_pass(ds, p, self.pivots)).collect();
            w.run(self.judge.as_mut(), &mut plans, &second)?;
            for p in plans {
                let range = ds.grid.range(p.i);
                let empty: Vec<bool> = range.clone().map(|idx| ds.cands[idx].is_empty()).collect();
                let c = Contest::new(&empty, p.results.iter().map(|(&(a, b), &x)| (a, b, x)));
                let wins = c.wins(&vec![true; c.n]);
                for (r, idx) in range.enumerate() {
                    let s = match wins[r] {
                        Some(w) => Scored::plain(Some(w)),
                        None => Scored::new(
                            None,
                            VerifierDetail {
                                error: Some("every comparison's prompt is over --max-tokens (see pairs.jsonl)".into()),
                                ..Default::default()
                            },
                        ),
                    };
                    done(idx, s)?;
                }
                cost.comparisons += p.results.len();
                cost.tournaments += p.tournament as usize;
                contests[p.i] = Some(c);
            }
        }
        cost.secs = started.elapsed().as_secs_f64();
        Ok(Produced { pairwise: Some(Outcome { contests, cost, lines }), ..Produced::default() })
    }
}

/// Instance `i`'s plan: its non-empty candidates, nothing judged yet.
fn plan(i: usize, attempts: &[Option<Attempt>]) -> Plan {
    let members: Vec<usize> = (0..attempts.len()).filter(|&r| attempts[r].is_some()).collect();
    let tournament = members.len() > contest::ROUND_ROBIN_MAX;
    Plan { i, members, results: HashMap::new(), tournament }
}

/// The comparisons of instance `i` known before any is judged (what `render --pairwise`
/// prints): a full round robin, or a tournament's ring pass (its pivots depend on the answers),
/// and whether it is a tournament.
pub(crate) fn first_comparisons(ds: &Dataset, i: usize) -> (Vec<(usize, usize)>, bool) {
    let members: Vec<usize> =
        ds.grid.range(i).enumerate().filter(|(_, idx)| !ds.cands[*idx].is_empty()).map(|(r, _)| r).collect();
    let p = Plan { i, tournament: members.len() > contest::ROUND_ROBIN_MAX, members, results: HashMap::new() };
    (first_pass(ds, &p), p.tournament)
}

/// The first pass: a full round robin, or a tournament's ring in its seeded order.
fn first_pass(ds: &Dataset, p: &Plan) -> Vec<(usize, usize)> {
    if !p.tournament {
        return contest::round_robin(&p.members);
    }
    let start = ds.grid.range(p.i).start;
    let seed = crate::hash::fnv1a(ds.grid.instances[p.i].as_bytes());
    let mut order = p.members.clone();
    order.sort_by_key(|&r| {
        let k = &ds.cands[start + r].keys;
        (crate::hash::mix(seed ^ k.content.unwrap_or(0)), k.raw, r)
    });
    contest::ring(&order)
}

/// A tournament's second pass: the ring's `k` best (by W; equal W by patch content) against
/// everyone. Nothing for a round robin.
fn second_pass(ds: &Dataset, p: &Plan, k: usize) -> Vec<(usize, usize)> {
    if !p.tournament {
        return Vec::new();
    }
    let start = ds.grid.range(p.i).start;
    let n = ds.grid.n_runs();
    let empty: Vec<bool> = (0..n).map(|r| ds.cands[start + r].is_empty()).collect();
    let c = Contest::new(&empty, p.results.iter().map(|(&(a, b), &x)| (a, b, x)));
    let w = c.wins(&vec![true; n]);
    let mut ranked = p.members.clone();
    ranked.sort_by(|&a, &b| {
        let (wa, wb) = (w[a].unwrap_or(f64::NEG_INFINITY), w[b].unwrap_or(f64::NEG_INFINITY));
        let key = |r: usize| (ds.cands[start + r].keys.content, ds.cands[start + r].keys.raw, r);
        wb.total_cmp(&wa).then_with(|| key(a).cmp(&key(b)))
    });
    let done: HashSet<(usize, usize)> = p.results.keys().copied().collect();
    contest::pivots(&ranked[..k.min(ranked.len())], &p.members, &done)
}

/// What one window of instances judges with: its attempts, the store, this run's lines.
struct Window<'a> {
    ds: &'a Dataset,
    attempts: &'a [Vec<Option<Attempt>>],
    store: &'a mut PairStore,
    lines: &'a mut Vec<PairLine>,
    cost: &'a mut Cost,
}

/// One comparison to judge now: (plan, run shown as A, run shown as B).
type Job = (usize, usize, usize);

impl Window<'_> {
    /// Judges the comparisons `pairs[w]` of each plan (reusing stored ones), recording each
    /// answer in its plan, pairs.jsonl and this run's lines.
    fn run(&mut self, judge: &mut dyn Judge, plans: &mut [Plan], pairs: &[Vec<(usize, usize)>]) -> Result<()> {
        let jobs = self.reuse(plans, pairs)?;
        let (ready, too_long) = self.prompts(judge.prompter(), plans, &jobs)?;
        let got = self.judge(judge, plans, &jobs, ready, too_long)?;
        for (j, p) in got {
            let (w, a, b) = jobs[j];
            plans[w].results.insert((a, b), p);
        }
        Ok(())
    }

    /// Takes the comparisons pairs.jsonl holds already into their plans; the rest, to judge.
    fn reuse(&mut self, plans: &mut [Plan], pairs: &[Vec<(usize, usize)>]) -> Result<Vec<Job>> {
        let mut jobs = Vec::new();
        for (w, (p, list)) in plans.iter_mut().zip(pairs).enumerate() {
            for &(a, b) in list {
                let (i, ra, rb) = names(self.ds, p.i, a, b);
                match self.store.stored((i, ra, rb))? {
                    Some(line) => {
                        p.results.insert((a, b), line.p_a);
                        self.cost.reused += 1;
                        self.cost.failed += line.p_a.is_none() as usize;
                        self.lines.push(line);
                    }
                    None => jobs.push((w, a, b)),
                }
            }
        }
        Ok(jobs)
    }

    /// The prompts of `jobs` (in parallel), by job index; a comparison whose prompt cannot fit
    /// gets its error as its result; any other error stops, naming the comparison.
    #[allow(clippy::type_complexity)]
    fn prompts(
        &self,
        prompter: &crate::prompt::Prompter,
        plans: &[Plan],
        jobs: &[Job],
    ) -> Result<(Vec<(usize, crate::prompt::Prompt)>, Vec<(usize, Scored)>)> {
        let ds = self.ds;
        let built: Vec<Result<crate::prompt::Prompt>> = jobs
            .par_iter()
            .map(|&(w, a, b)| {
                let at = &self.attempts[w];
                let issue = instance_issue(ds.issue(plans[w].i), at);
                let (x, y) = (at[a].as_ref().expect("a member"), at[b].as_ref().expect("a member"));
                prompter.for_pair(issue, x, y)
            })
            .collect();
        let (mut ready, mut too_long) = (Vec::new(), Vec::new());
        for (j, p) in built.into_iter().enumerate() {
            match p {
                Ok(p) => ready.push((j, p)),
                Err(e) if e.downcast_ref::<TooLong>().is_some() => {
                    let detail = VerifierDetail { error: Some(format!("{e:#}")), ..Default::default() };
                    too_long.push((j, Scored::new(None, detail)));
                }
                Err(e) => {
                    let (w, a, b) = jobs[j];
                    let i = plans[w].i;
                    let what =
                        format!("instance {}: runs {} and {}", ds.grid.instances[i], ds.grid.runs[a], ds.grid.runs[b]);
                    return Err(e.context(what));
                }
            }
        }
        Ok((ready, too_long))
    }

    /// Judges the prompts `ready` and records every result (theirs and the `too_long` errors)
    /// in pairs.jsonl, this run's lines and the cost, as each arrives; returns (job, P(A)).
    fn judge(
        &mut self,
        judge: &mut dyn Judge,
        plans: &[Plan],
        jobs: &[Job],
        ready: Vec<(usize, crate::prompt::Prompt)>,
        too_long: Vec<(usize, Scored)>,
    ) -> Result<Vec<(usize, Option<f64>)>> {
        let ds = self.ds;
        let mut got: Vec<(usize, Option<f64>)> = Vec::new();
        let name = |j: usize| {
            let (w, a, b) = jobs[j];
            format!(
                "instance {}: runs {} (A) and {} (B)",
                ds.grid.instances[plans[w].i], ds.grid.runs[a], ds.grid.runs[b]
            )
        };
        let mut record = |j: usize, s: Scored| -> Result<()> {
            let (w, a, b) = jobs[j];
            let (i, ra, rb) = names(ds, plans[w].i, a, b);
            let (instance_id, ra, rb) = (i.to_string(), ra.to_string(), rb.to_string());
            let p_a = s.score;
            let d = s.into_detail();
            let line = PairLine {
                instance_id,
                a: ra,
                b: rb,
                p_a,
                logit_a: d.logit_yes,
                logit_b: d.logit_no,
                n_tokens: d.n_tokens,
                truncated: d.truncated,
                prompt_ids: d.prompt_ids,
                removed_tokens: d.removed_tokens,
                cut: d.cut,
                answer_at: d.answer_at,
                answer_ids: d.answer_ids,
                rope_scaling: d.rope_scaling,
                error: d.error,
            };
            self.store.append(&line)?;
            self.cost.judged_now += 1;
            self.cost.failed += p_a.is_none() as usize;
            self.cost.tokens += d.n_tokens.unwrap_or(0) as u64;
            self.lines.push(line);
            got.push((j, p_a));
            Ok(())
        };
        for (j, s) in too_long {
            record(j, s)?;
        }
        judge.judge(ready, &name, &mut record)?;
        Ok(got)
    }
}

/// A comparison's key in pairs.jsonl: (instance, run shown as A, run shown as B).
fn names(ds: &Dataset, i: usize, a: usize, b: usize) -> (&str, &str, &str) {
    (&ds.grid.instances[i], &ds.grid.runs[a], &ds.grid.runs[b])
}
