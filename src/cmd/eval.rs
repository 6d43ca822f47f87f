//! `swerm eval`: the report of a store read back (no scoring).

use super::finish;
use super::inputs::label_table;
use super::stored::{line_details, read_scoped, table_of};
use crate::config::{self};
use crate::console::caution;
use crate::metrics;
use crate::outdir::OutDir;
use crate::report::{self, ReportInfo};
use crate::score::store::{self};
use crate::select::select;
use crate::text::count;
use anyhow::{Result, anyhow};

pub(crate) fn eval(cfg: &config::Eval) -> Result<bool> {
    let scoped = read_scoped(&cfg.scores, &cfg.instances)?;
    let stored = &scoped.stored;
    let mut t = table_of(stored, &cfg.scores)?;
    if !cfg.labels.is_empty() {
        label_table(&mut t, &cfg.labels, &stored.origin, scoped.left_out.as_deref())?;
    }
    let mut cal = cfg.calibration.clone();
    if let Some(c) = cal.as_mut() {
        c.mark_in_sample(&stored.origin);
    }
    let cal = cal.as_ref();
    if let Some(c) = cal {
        let z = crate::calibrate::logits_in_grid(&t, &stored.lines);
        c.apply(stored.scorer.as_ref(), &mut t, &z)?;
    }
    metrics::check_options(&cfg.metrics, t.grid().n_runs()).map_err(|e| anyhow!(e))?;
    if t.without_content() > 0 {
        caution(
            None,
            &format!(
                "{}: {} no patch_hash (written before swerm recorded it): their ties fall back to run order",
                stored.origin,
                count(t.without_content(), "non-empty candidate has", "non-empty candidates have")
            ),
        );
    }
    let selected = select(&t);
    let m = metrics::compute(&t, &selected, &cfg.metrics).map_err(|e| anyhow!(e))?;
    let info = ReportInfo {
        scorer: stored.scorer.as_ref(),
        scores_from: Some(stored.origin.clone()),
        run_names: &t.grid().runs,
        ece_bins: cfg.metrics.ece_bins,
        verifier: None,
        calibration: cal,
        tie_break: Vec::new(),
        privileged: report::privileged_lines(stored.lines.iter().map(|l| &l.detail)),
    };
    let mut out = OutDir::open(&cfg.out)?;
    out.write(store::EVALUATED, store::render(&t.lines()).as_bytes())?;
    let view = report::CandidateView { details: line_details(&t, &stored.lines), patch: None, samples: Vec::new() };
    report::write_reports(&mut out, &m, &info, &t, &selected, &view)?;
    let facts = vec![format!("{}; scorer {}", report::summary::counts(&m), info.scorer_name()), out.summary()];
    finish(&m, &info, &facts, &cfg.output)
}
