//! `swerm compare`: score sets side by side on the same candidates, with paired intervals.

use super::inputs::label_table;
use super::stored::{read_scoped, table_of};
use crate::config::{self};
use crate::metrics;
use crate::outdir::OutDir;
use crate::report::AppliedCalibration;
use crate::score::ScoreTable;
use crate::score::store::Stored;
use crate::select::select;
use anyhow::{Context, Result, anyhow, bail};
use std::path::PathBuf;

/// One score set read back for `compare`, labelled.
pub(super) fn compare_set(
    name: &str,
    paths: &[PathBuf],
    labels: &[String],
    instances: &crate::config::InstanceList,
) -> Result<(Stored, ScoreTable)> {
    let scoped = read_scoped(paths, instances).with_context(|| format!("score set {name}"))?;
    let stored = scoped.stored;
    let mut t = table_of(&stored, paths)?;
    if !labels.is_empty() {
        label_table(&mut t, labels, &stored.origin, scoped.left_out.as_deref())?;
    }
    Ok((stored, t))
}

/// Checks that two score sets cover the same candidates; merges their labels (a label in one
/// and none in the other is taken; two that disagree are an error).
pub(super) fn same_candidates(a: (&str, &mut ScoreTable), b: (&str, &ScoreTable)) -> Result<()> {
    let ((na, ta), (nb, tb)) = (a, b);
    if ta.grid().runs != tb.grid().runs || ta.grid().instances != tb.grid().instances || ta.missing() != tb.missing() {
        let key = |t: &ScoreTable| -> std::collections::BTreeSet<(String, String)> {
            (0..t.score().len())
                .filter(|&i| !t.missing()[i])
                .map(|i| {
                    (t.grid().instances[t.grid().coords(i).0].clone(), t.grid().runs[t.grid().coords(i).1].clone())
                })
                .collect()
        };
        let (ka, kb) = (key(ta), key(tb));
        let only_a: Vec<_> = ka.difference(&kb).collect();
        let only_b: Vec<_> = kb.difference(&ka).collect();
        let show = |v: &[&(String, String)]| v.first().map_or(String::new(), |(i, r)| format!(", e.g. {i} of run {r}"));
        bail!(
            "score sets {na} and {nb} cover different candidates: {} only in {na}{}, {} only in {nb}{} (runs {} vs {})",
            only_a.len(),
            show(&only_a),
            only_b.len(),
            show(&only_b),
            ta.grid().runs.join(", "),
            tb.grid().runs.join(", ")
        );
    }
    let mut merged = ta.label().to_vec();
    for (idx, (m, &theirs)) in merged.iter_mut().zip(tb.label()).enumerate() {
        match (*m, theirs) {
            (Some(x), Some(y)) if x != y => {
                let (i, r) = ta.grid().coords(idx);
                bail!(
                    "score sets {na} and {nb} disagree on the label of instance {} of run {}",
                    ta.grid().instances[i],
                    ta.grid().runs[r]
                );
            }
            (None, Some(y)) => *m = Some(y),
            _ => {}
        }
    }
    ta.set_labels(merged);
    Ok(())
}

/// A score set read back, labelled and calibrated.
struct Set {
    name: String,
    stored: Stored,
    table: ScoreTable,
    calibration: Option<AppliedCalibration>,
}

/// Every `--scores` set, calibrated where asked, checked to cover the same candidates, and
/// given the union of their labels.
fn read_sets(cfg: &config::Compare) -> Result<Vec<Set>> {
    let mut sets = Vec::new();
    for (name, paths) in &cfg.sets {
        let (stored, mut table) = compare_set(name, paths, &cfg.labels, &cfg.instances)?;
        let mut calibration = cfg.calibrations.iter().find(|(n, _)| n == name).map(|(_, c)| c.clone());
        if let Some(c) = calibration.as_mut() {
            c.mark_in_sample(&stored.origin);
        }
        if let Some(c) = &calibration {
            let z = crate::calibrate::logits_in_grid(&table, &stored.lines);
            c.apply(stored.scorer.as_ref(), &mut table, &z).with_context(|| format!("score set {name}"))?;
        }
        sets.push(Set { name: name.clone(), stored, table, calibration });
    }
    // Labels: the union over the sets (each set's `resolved` columns and --labels).
    let (first, rest) = sets.split_first_mut().expect("two or more sets");
    for s in rest.iter() {
        same_candidates((&first.name, &mut first.table), (&s.name, &s.table))?;
    }
    let labels = first.table.label().to_vec();
    for s in sets.iter_mut() {
        s.table.set_labels(labels.clone());
    }
    Ok(sets)
}

pub(crate) fn compare(cfg: &config::Compare) -> Result<()> {
    use crate::report::compare::{self as cmp, Comparison, Entry};
    let sets = read_sets(cfg)?;
    metrics::check_ks(&cfg.metrics.ks, sets[0].table.grid().n_runs()).map_err(|e| anyhow!(e))?;
    let mut entries = Vec::new();
    for Set { name, stored, table, calibration } in sets {
        let selected = select(&table);
        let m = metrics::compute(&table, &selected, &cfg.metrics).map_err(|e| anyhow!(e))?;
        let source = match stored.origin.contains(" + ") {
            true => stored.origin.clone(),
            false => stored.path.canonicalize().unwrap_or(stored.path.clone()).display().to_string(),
        };
        let privileged = crate::report::privileged_lines(stored.lines.iter().map(|l| &l.detail));
        let e = Entry {
            name,
            source,
            scorer: stored.scorer,
            calibration,
            table,
            metrics: m,
            differences: None,
            privileged,
            selected: selected.clone(),
        };
        entries.push((e, selected));
    }
    paired_differences(&mut entries, cfg);
    let warnings = unscored_differ(&entries.iter().map(|(e, _)| e).collect::<Vec<_>>())?;
    // Marked wherever its numbers appear (after --baseline found its set by the plain name).
    for (e, _) in entries.iter_mut() {
        e.name += &crate::report::privileged_mark(e.privileged);
    }
    let c = Comparison {
        warnings,
        baseline: &cfg.baseline,
        entries: entries.into_iter().map(|(e, _)| e).collect(),
        opts: &cfg.metrics,
    };
    let mut out = OutDir::open(&cfg.out)?;
    let value = cmp::write(&mut out, &c)?;
    if cfg.json {
        outln!("{value}");
    } else {
        out!("{}", cmp::summary(&c));
        outln!("{}", out.summary());
    }
    Ok(())
}

/// Each set's paired differences against the baseline (with labels only).
fn paired_differences(entries: &mut [(crate::report::compare::Entry, Vec<usize>)], cfg: &config::Compare) {
    use crate::metrics::paired::{self, Side};
    let base = entries.iter().position(|(e, _)| e.name == cfg.baseline).expect("checked by config");
    let Ok(y) = entries[base].0.table.labels() else { return };
    let keys = |t: &ScoreTable| -> (Vec<f64>, Vec<f64>) {
        (0..t.score().len()).map(|i| (t.rank_score(i), t.order_key(i))).unzip()
    };
    let credit = |t: &ScoreTable, sel: &[usize]| -> Vec<f64> {
        sel.iter().enumerate().map(|(i, &r)| crate::select::credit(t, &y, i, r)).collect()
    };
    let (base_scores, base_order) = keys(&entries[base].0.table);
    let base_sel = entries[base].1.clone();
    let base_credit = credit(&entries[base].0.table, &base_sel);
    let base_contests = entries[base].0.table.contests().map(<[_]>::to_vec);
    let ks = entries[base].0.metrics.ks.clone();
    for (e, sel) in entries.iter_mut().filter(|(e, _)| e.name != cfg.baseline) {
        let (s, o) = keys(&e.table);
        let c = credit(&e.table, sel);
        let contests = e.table.contests();
        let a = Side { scores: &s, order: &o, credit: &c, contests };
        let b =
            Side { scores: &base_scores, order: &base_order, credit: &base_credit, contests: base_contests.as_deref() };
        e.differences = Some(paired::differences(&a, &b, &y, e.table.grid(), &ks, &cfg.metrics));
    }
}

/// A warning for each score set whose unscored candidates differ from the first set's: ranked
/// last, they make two sets compare different things. An error under `--strict`.
pub(super) fn unscored_differ(entries: &[&crate::report::compare::Entry]) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let Some((first, rest)) = entries.split_first() else { return Ok(out) };
    let n = |e: &crate::report::compare::Entry| e.table.unscored().iter().filter(|u| u.is_some()).count();
    for e in rest {
        let differ =
            first.table.unscored().iter().zip(e.table.unscored()).filter(|(a, b)| a.is_some() != b.is_some()).count();
        if differ > 0 {
            let msg = format!(
                "score sets {} and {} leave different candidates unscored ({} vs {}, {differ} differ): unscored candidates rank last, so the two compare different things",
                first.name,
                e.name,
                n(first),
                n(e)
            );
            crate::console::warn(None, &msg)?;
            out.push(msg);
        }
    }
    Ok(out)
}
