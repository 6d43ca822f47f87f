//! `swerm calibrate`: a calibration map fitted on labelled scores (cal.json).

use super::inputs::label_table;
use super::stored::read_scoped;
use crate::calibrate::{Calibration, Data};
use crate::config::{self};
use crate::score::ScoreTable;
use crate::text::count;
use anyhow::{Result, bail};

/// The (logit, label) pairs of every scored, non-empty candidate, grouped by instance (the
/// cross-validation folds are by instance). A score outside [0, 1] or a missing label is an
/// error naming the candidate.
fn fit_data(t: &ScoreTable, z: &[Option<f64>], source: &str) -> Result<Data> {
    let mut data = Data { z: Vec::new(), y: Vec::new() };
    for i in 0..t.grid().instances.len() {
        let (mut zi, mut yi) = (Vec::new(), Vec::new());
        for idx in t.grid().range(i) {
            let Some(s) = t.score()[idx].filter(|_| !t.empty()[idx]) else { continue };
            let (_, r) = t.grid().coords(idx);
            if !(0.0..=1.0).contains(&s) {
                bail!(
                    "{source}: instance {} of run {} scores {s}: calibration needs P(YES) in [0, 1]",
                    t.grid().instances[i],
                    t.grid().runs[r]
                );
            }
            let Some(y) = t.label()[idx] else {
                bail!(
                    "{source}: instance {} of run {} has no label (give --labels)",
                    t.grid().instances[i],
                    t.grid().runs[r]
                );
            };
            zi.push(z[idx].expect("a score has a logit"));
            yi.push(y);
        }
        if !zi.is_empty() {
            data.z.push(zi);
            data.y.push(yi);
        }
    }
    Ok(data)
}

pub(crate) fn calibrate(cfg: &config::Calibrate) -> Result<()> {
    let scoped = read_scoped(&cfg.scores, &cfg.instances)?;
    let stored = scoped.stored;
    let mut t = ScoreTable::from_lines(&stored.lines);
    let source = stored.origin.clone();
    if !cfg.labels.is_empty() {
        label_table(&mut t, &cfg.labels, &source, scoped.left_out.as_deref())?;
    }
    let data = fit_data(&t, &crate::calibrate::logits_in_grid(&t, &stored.lines), &source)?;
    let mut cal = Calibration::fit(&data, cfg.method, cfg.folds, cfg.seed, cfg.ece_bins, source)?;
    cal.scorer = stored.scorer.clone();
    cal.fitted_on = crate::calibrate::origin_files(&stored.origin);
    cal.write(&cfg.out)?;
    let cv = &cal.cv;
    outln!(
        "{} on {} of {}",
        cal.describe(),
        count(cal.candidates, "candidate", "candidates"),
        count(cal.instances, "instance", "instances")
    );
    outln!(
        "{}-fold cross-validation by instance: ECE {:.3} -> {:.3}, Brier {:.3} -> {:.3}, log loss {:.3} -> {:.3}",
        cv.folds,
        cv.ece_before,
        cv.ece_after,
        cv.brier_before,
        cv.brier_after,
        cv.log_loss_before,
        cv.log_loss_after
    );
    if cv.ece_after >= cv.ece_before && cv.log_loss_after >= cv.log_loss_before {
        outln!(
            "note: the map does not improve held-out calibration: these scores are already about as calibrated as a monotone map can make them"
        );
    }
    outln!("wrote {}", cfg.out.display());
    Ok(())
}
