//! `swerm rerank`: read, score, select, report.

use super::finish;
use super::inputs::{label, load};
use super::scoring::{
    TableColumns, build_scorer, finish_store, generation_line, kept_line, pairwise_line, score_stored, verifier_counts,
    verifier_line,
};
use crate::config::{self};
use crate::metrics;
use crate::report::{self, PREDICTIONS, ReportInfo};
use crate::score::store::{self};
use crate::score::{ScoreTable, Scored};
use crate::select::select;
use anyhow::{Result, anyhow};

pub(crate) fn rerank(cfg: &config::Rerank) -> Result<bool> {
    let mut ds = load(&cfg.inputs)?;
    label(&mut ds, &cfg.labels, cfg.inputs.specs.len(), cfg.inputs.load.instances.is_some())?;
    metrics::check_options(&cfg.metrics, ds.grid.n_runs()).map_err(|e| anyhow!(e))?;
    let (mut scorer, mut out) = build_scorer(&cfg.scorer, None, &cfg.out, cfg.overwrite)?;
    let every: Vec<usize> = (0..ds.cands.len()).collect();
    let (st, run) = score_stored(scorer.as_mut(), &ds, &mut out, (None, &every), cfg.overwrite)?;
    let scored: Vec<Scored> = run.scored.into_iter().map(|s| s.expect("every candidate scored")).collect();
    let mut produced = run.produced;
    if !cfg.tie_break.is_empty() {
        // `--tie-break` with a scorer other than --combine: the chain orders its scores.
        let scores: Vec<Option<f64>> = scored.iter().map(|s| s.score).collect();
        produced.tie_rank = Some(crate::score::combine::tie_break_ranks(&scores, &cfg.tie_break, &ds)?);
    }
    let mut table = ScoreTable::from_run(&ds, &scored, &produced);
    let pairwise = produced.pairwise;
    let generation = produced.generation;
    // Decision: the store's rewrite (its lines made, rendered and dropped a chunk at a time,
    // `finish_store`) runs beside calibration, selection, metrics and predictions.jsonl, none of
    // which allocates much; not beside the reports. Beside the reports (tried when the store's
    // lines were all held at once) peak RSS passed the inputs' size at RL scale (225-246 MiB
    // on 241 MiB of predictions, against 206-215 MiB): memory is the must-have. The store's
    // error, if any, is reported first, as when the two ran one after the other.
    let settings = scorer.settings();
    let cal = cfg.calibration.as_ref();
    // The store's columns of the table, copied: calibration changes the table's scores beside.
    let label = table.label().to_vec();
    let tie_rank = table.tie_rank().map(<[f64]>::to_vec);
    let columns = TableColumns { label: &label, tie_rank: tie_rank.as_deref() };
    let (kept, picked) = rayon::join(
        || finish_store(st, &ds, columns, &scored, &every),
        || -> Result<_> {
            if let Some(c) = cal {
                let z: Vec<Option<f64>> = scored.iter().map(|s| crate::score::logit_of(s.score, s.detail())).collect();
                c.apply(Some(&settings), &mut table, &z)?;
            }
            let selected = select(&table);
            let m = metrics::compute(&table, &selected, &cfg.metrics).map_err(|e| anyhow!(e))?;
            let predictions = report::predictions::render(&ds, &table, &selected, &cfg.name)?;
            Ok((selected, m, predictions))
        },
    );
    let kept = kept?;
    let (selected, m, predictions) = picked?;
    let info = ReportInfo {
        scorer: Some(&settings),
        scores_from: None,
        run_names: &ds.grid.runs,
        ece_bins: cfg.metrics.ece_bins,
        verifier: verifier_counts(scorer.as_ref(), &scored),
        calibration: cal,
        tie_break: cfg.tie_break.iter().map(|(n, _)| n.clone()).collect(),
        privileged: report::privileged_lines(scored.iter().map(Scored::detail)),
    };
    out.write(PREDICTIONS, predictions.as_bytes())?;
    if cal.is_some() {
        // The scores selection and metrics used, for an independent check.
        out.write(store::EVALUATED, store::render(&table.lines()).as_bytes())?;
    }
    out.remove_stale(&[store::EVALUATED])?;
    let read_patch = |idx: usize| ds.patch(idx).map(|p| p.into_owned());
    let view = report::CandidateView {
        details: scored.iter().map(|s| Some(s.detail())).collect(),
        patch: Some(&read_patch),
        samples: samples_view(&ds, &scored, generation.as_ref()),
    };
    report::write_reports(&mut out, &m, &info, &table, &selected, &view)?;

    let mut facts = vec![format!("{}; scorer {}", report::summary::counts(&m), info.scorer_name())];
    if let Some(c) = &info.verifier {
        facts.push(verifier_line(c));
    }
    if let Some(o) = &pairwise {
        facts.push(pairwise_line(&o.cost));
    }
    if let Some(g) = &generation {
        facts.push(generation_line(&settings, &g.cost));
    }
    if kept > 0 {
        facts.push(kept_line(kept, &out));
    }
    facts.push(out.summary());
    let done = finish(&m, &info, &facts, &cfg.output);
    // The grid and the scores are freed by the process's exit, not one allocation at a time on
    // one thread (156k candidates at RL scale, each with its own strings); `rerank` is the last
    // thing the process does.
    std::mem::forget((ds, scored, table));
    done
}

/// Each candidate's samples for report.html (grid order): the generations.jsonl lines of its
/// instance and run that read its prompt (`prompt_ids`), by sample index.
fn samples_view(
    ds: &crate::input::Dataset,
    scored: &[Scored],
    generation: Option<&crate::score::generative::GenOutcome>,
) -> Vec<Vec<report::html::data::SampleView>> {
    use std::collections::HashMap;
    let mut out: Vec<Vec<report::html::data::SampleView>> = vec![Vec::new(); scored.len()];
    let Some(g) = generation else { return out };
    let inst: HashMap<&str, usize> = ds.grid.instances.iter().enumerate().map(|(i, s)| (s.as_str(), i)).collect();
    let runs: HashMap<&str, usize> = ds.grid.runs.iter().enumerate().map(|(r, s)| (s.as_str(), r)).collect();
    for l in &g.lines {
        let (Some(&i), Some(&r)) = (inst.get(l.instance_id.as_str()), runs.get(l.run.as_str())) else { continue };
        let idx = ds.grid.idx(i, r);
        if scored[idx].detail().prompt_ids.as_deref() == Some(l.prompt_ids.as_str()) {
            out[idx].push(report::html::data::SampleView::new(l.sample, l.verdict, &l.end, &l.text));
        }
    }
    for s in out.iter_mut() {
        s.sort_by_key(|v| v.k);
    }
    out
}
