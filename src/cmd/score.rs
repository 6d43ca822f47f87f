//! `swerm score`: scores into a store (resumable, shardable), nothing else.

use super::inputs::load;
use super::scoring::{
    TableColumns, build_scorer, generation_line, kept_line, lines_of, pairwise_line, score_stored, verifier_line,
};
use crate::config::{self};
use crate::score::store::{self};
use crate::score::{ScoreTable, Scored, VerifierCounts};
use crate::text::count;
use anyhow::Result;

pub(crate) fn score_cmd(cfg: &config::Score) -> Result<()> {
    let ds = load(&cfg.inputs)?;
    let mine: Vec<usize> = match cfg.shard {
        None => (0..ds.cands.len()).collect(),
        Some(s) => (0..ds.cands.len()).filter(|&idx| s.holds(&ds.grid.instances[ds.grid.coords(idx).0])).collect(),
    };
    let (mut scorer, mut out) = build_scorer(&cfg.scorer, cfg.shard, &cfg.out, cfg.overwrite)?;
    if let Some(c) = &cfg.calibration {
        c.check(Some(&scorer.settings()))?;
    }
    let (st, run) = score_stored(scorer.as_mut(), &ds, &mut out, (cfg.shard, &mine), cfg.overwrite)?;
    let pairwise = run.produced.pairwise;
    let generation = run.produced.generation;
    // Labels do not depend on scores: a table over placeholders gives every line's label.
    let scored: Vec<Scored> = run.scored.into_iter().map(Option::unwrap_or_default).collect();
    let table = ScoreTable::from_run(&ds, &scored, &Default::default());
    let finished = st.finish(lines_of(&ds, TableColumns::of(&table), &scored, &mine))?;
    if let Some(c) = &cfg.calibration {
        out.write(store::CALIBRATED, store::render(&c.apply_to_lines(None, finished.lines)?).as_bytes())?;
    }
    out.remove_stale(&[store::CALIBRATED])?;
    let all = VerifierCounts::of(mine.iter().map(|&i| scored[i].detail()));
    let now = VerifierCounts::of(run.fresh.iter().map(|&i| scored[i].detail()));
    let n_instances = mine.iter().map(|&idx| ds.grid.coords(idx).0).collect::<std::collections::BTreeSet<_>>().len();
    let part = cfg.shard.map(|s| format!("shard {s}: ")).unwrap_or_default();
    let grid =
        format!("{part}{} x {}", count(n_instances, "instance", "instances"), count(ds.grid.runs.len(), "run", "runs"));
    if let Some(o) = &pairwise {
        let unscored = mine.iter().filter(|&&i| scored[i].score.is_none() && !ds.cands[i].is_empty()).count();
        let left = if unscored > 0 {
            format!("; {} left unscored", count(unscored, "candidate", "candidates"))
        } else {
            String::new()
        };
        outln!("{grid}: soft wins of {}{left}", count(mine.len(), "candidate", "candidates"));
        outln!("{}", pairwise_line(&o.cost));
    } else {
        outln!(
            "{grid}: {} scored now, {} reused; {}",
            run.fresh.len(),
            mine.len() - run.fresh.len(),
            verifier_line(&all)
        );
    }
    if !run.fresh.is_empty() && pairwise.is_none() {
        outln!(
            "scoring took {:.3} s: {:.0} tokens/s over the {} scored now",
            run.secs,
            now.tokens as f64 / run.secs.max(1e-9),
            count(run.fresh.len(), "candidate", "candidates")
        );
    }
    if let Some(g) = &generation {
        outln!("{}", generation_line(&scorer.settings(), &g.cost));
    }
    if finished.kept > 0 {
        outln!("{}", kept_line(finished.kept, &out));
    }
    outln!("{}", out.summary());
    Ok(())
}
