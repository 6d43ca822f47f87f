//! `swerm compare`'s outputs: compare.json (each scorer's report.json numbers under
//! `scorers.NAME`, the paired differences to the baseline under `differences.NAME`),
//! compare.md, compare.html (compare.md as a page, the figure inline), compare.svg and
//! compare.candidates.jsonl (every candidate's label and scores, so that
//! scripts/check_report.py can recompute everything).

use std::fmt::Write;

use anyhow::Result;
use serde_json::{Map, Value, json};

use super::html;
use super::json::{Keyed, Report};
use super::plot::{Curve, ORACLE, PALETTE, RANDOM, curves_svg};
use super::{AppliedCalibration, ReportInfo};
use crate::metrics::paired::{DiffCi, Differences};
use crate::metrics::{Metrics, MetricsOptions};
use crate::outdir::OutDir;
use crate::score::{ScoreTable, ScorerSettings};
use crate::text::{count, pct};
use serde::Serialize;

/// One score set in a comparison.
pub(crate) struct Entry {
    pub(crate) name: String,
    /// Where its scores came from.
    pub(crate) source: String,
    pub(crate) scorer: Option<ScorerSettings>,
    /// The calibration applied to its scores (`compare --calibration NAME=FILE`).
    pub(crate) calibration: Option<AppliedCalibration>,
    pub(crate) table: ScoreTable,
    pub(crate) metrics: Metrics,
    /// Against the baseline (`None` for the baseline itself, or without labels).
    pub(crate) differences: Option<Differences>,
    /// Its prompts that held privileged inputs (its name is marked where shown).
    pub(crate) privileged: usize,
    /// Its pick per instance (a run index), for compare.html's instances table.
    pub(crate) selected: Vec<usize>,
}

pub(crate) struct Comparison<'a> {
    pub(crate) baseline: &'a str,
    pub(crate) entries: Vec<Entry>,
    pub(crate) opts: &'a MetricsOptions,
    /// What changes what the numbers compare (score sets whose unscored candidates differ),
    /// shown first in every output.
    pub(crate) warnings: Vec<String>,
}

impl Comparison<'_> {
    fn info<'e>(&self, e: &'e Entry) -> ReportInfo<'e> {
        ReportInfo {
            scorer: e.scorer.as_ref(),
            scores_from: Some(e.source.clone()),
            run_names: &e.table.grid().runs,
            ece_bins: self.opts.ece_bins,
            verifier: None,
            calibration: e.calibration.as_ref(),
            tie_break: Vec::new(),
            privileged: e.privileged,
        }
    }

    fn ks(&self) -> &[usize] {
        &self.entries[0].metrics.ks
    }
}

/// compare's files, each written by one function of this module; the list also names what a
/// run that writes no figure removes.
pub(crate) const COMPARE_JSON: &str = "compare.json";
pub(crate) const COMPARE_MD: &str = "compare.md";
pub(crate) const COMPARE_CANDIDATES: &str = "compare.candidates.jsonl";
pub(crate) const COMPARE_SVG: &str = "compare.svg";

/// Writes every file of the comparison into `out` (the figure and its PNG only with labels;
/// stale ones removed) and returns compare.json's value.
pub(crate) fn write(out: &mut OutDir, c: &Comparison) -> Result<Value> {
    let value = json(c);
    out.write(COMPARE_JSON, (serde_json::to_string_pretty(&value)? + "\n").as_bytes())?;
    let md = markdown(c);
    out.write(COMPARE_MD, md.as_bytes())?;
    out.write(COMPARE_CANDIDATES, candidates(c).as_bytes())?;
    let svg = svg(c)?;
    if let Some(svg) = &svg {
        super::write_figure(out, COMPARE_SVG, svg)?;
    }
    let figures: Vec<html::Figure> = svg.iter().map(|svg| html::Figure { file: COMPARE_SVG, svg }).collect();
    let data = html::data::compare(c);
    let page = html::page("swerm compare", &md, &figures, None, Some(html::PageData::Compare(&data)));
    out.write_parts(html::COMPARE_HTML, &page)?;
    out.remove_stale(&[COMPARE_SVG, &super::png::name_for(COMPARE_SVG)])?;
    Ok(value)
}

/// compare.json: the fields in this order are the format.
#[derive(Serialize)]
struct CompareReport<'a> {
    baseline: &'a str,
    instances: usize,
    runs: usize,
    candidates: usize,
    k: &'a [usize],
    bootstrap: Bootstrap,
    sources: Keyed<&'a str>,
    scorers: Keyed<Report<'a>>,
    differences: Keyed<PairedDifferences<'a>>,
    warnings: &'a [String],
}

#[derive(Serialize)]
struct Bootstrap {
    method: &'static str,
    resamples: usize,
    seed: u64,
    level: f64,
}

#[derive(Serialize)]
struct PairedDifferences<'a> {
    against: &'a str,
    best_at_k: Keyed<Diff>,
    selected: Diff,
    auc: Option<Diff>,
}

#[derive(Serialize)]
struct Diff {
    diff: f64,
    lo: f64,
    hi: f64,
}

impl From<&DiffCi> for Diff {
    fn from(d: &DiffCi) -> Self {
        Diff { diff: d.diff, lo: d.lo, hi: d.hi }
    }
}

/// compare.json as a value (also `compare --json`).
pub(crate) fn json(c: &Comparison) -> Value {
    let first = &c.entries[0].metrics;
    let infos: Vec<ReportInfo> = c.entries.iter().map(|e| c.info(e)).collect();
    let differences = c
        .entries
        .iter()
        .filter_map(|e| {
            let d = e.differences.as_ref()?;
            let best_at_k = Keyed(c.ks().iter().zip(&d.best_at_k).map(|(k, v)| (k.to_string(), v.into())).collect());
            let p = PairedDifferences {
                against: c.baseline,
                best_at_k,
                selected: (&d.selected).into(),
                auc: d.auc.as_ref().map(Diff::from),
            };
            Some((e.name.clone(), p))
        })
        .collect();
    let report = CompareReport {
        baseline: c.baseline,
        instances: first.instances,
        runs: first.runs,
        candidates: first.candidates,
        k: &first.ks,
        bootstrap: Bootstrap {
            method: "paired instance bootstrap, percentile",
            resamples: c.opts.bootstrap,
            seed: c.opts.seed,
            level: c.opts.level,
        },
        sources: Keyed(c.entries.iter().map(|e| (e.name.clone(), e.source.as_str())).collect()),
        scorers: Keyed(
            c.entries.iter().zip(&infos).map(|(e, i)| (e.name.clone(), Report::new(&e.metrics, i))).collect(),
        ),
        differences: Keyed(differences),
        warnings: &c.warnings,
    };
    serde_json::to_value(report).expect("compare.json serializes")
}

/// A signed difference in percentage points with its interval: "+3.2 (−1.0, 7.5)".
fn pp(d: &DiffCi) -> String {
    // "+0.0" rather than "-0.0" for differences that round to zero.
    let f = |x: f64| match format!("{:+.1}", 100.0 * x) {
        z if z == "-0.0" => "+0.0".to_string(),
        v => v,
    };
    format!("{} ({}, {})", f(d.diff), f(d.lo), f(d.hi))
}

fn f3(x: Option<f64>) -> String {
    x.map_or("n/a".into(), |v| format!("{v:.3}"))
}

/// The paired differences against the baseline, one row per other scorer (none without them).
fn differences_table(s: &mut String, c: &Comparison) {
    let diffs: Vec<&Entry> = c.entries.iter().filter(|e| e.differences.is_some()).collect();
    if diffs.is_empty() {
        return;
    }
    let _ = write!(
        s,
        "\nDifferences against `{}` (percentage points; AUC x 100), with intervals:\n\n| scorer |",
        c.baseline
    );
    for k in c.ks() {
        let _ = write!(s, " best@{k} |");
    }
    s.push_str(" selected | AUC |\n|---|");
    s.push_str(&"---:|".repeat(c.ks().len() + 2));
    s.push('\n');
    for e in diffs {
        let d = e.differences.as_ref().expect("filtered");
        let _ = write!(s, "| {} |", e.name);
        for v in &d.best_at_k {
            let _ = write!(s, " {} |", pp(v));
        }
        let _ = writeln!(s, " {} | {} |", pp(&d.selected), d.auc.as_ref().map_or("n/a".into(), pp));
    }
}

pub(crate) fn markdown(c: &Comparison) -> String {
    let first = &c.entries[0].metrics;
    let mut s = String::from("# swerm compare\n\n");
    for w in &c.warnings {
        let _ = writeln!(s, "> **Warning:** {w}\n");
    }
    let _ = writeln!(
        s,
        "{} x {}; baseline `{}`; paired instance bootstrap, {} resamples, seed {}, {:.0}% intervals.\n",
        count(first.instances, "instance", "instances"),
        count(first.runs, "run", "runs"),
        c.baseline,
        c.opts.bootstrap,
        c.opts.seed,
        100.0 * c.opts.level
    );
    let Some(oracle) = first.labeled.as_ref() else {
        s.push_str("No labels: give --labels or score sets with `resolved` to compare.\n");
        return s;
    };
    s.push_str("Resolve rate (%) by number of candidates k:\n\n| k | pass@k (oracle) |");
    for e in &c.entries {
        let _ = write!(s, " best@k {} |", e.name);
    }
    s.push_str(" random@k |\n|---:|---:|");
    s.push_str(&"---:|".repeat(c.entries.len() + 1));
    s.push('\n');
    for (j, k) in c.ks().iter().enumerate() {
        let _ = write!(s, "| {k} | {} |", pct(oracle.pass_at_k[j]));
        for e in &c.entries {
            let _ = write!(s, " {} |", e.metrics.labeled.as_ref().map_or("n/a".into(), |l| pct(l.best_at_k[j])));
        }
        let _ = writeln!(s, " {} |", pct(oracle.random_at_k[j]));
    }
    s.push_str("\n| scorer | selected (%) | AUC | per-instance AUC | ECE | Brier |\n|---|---:|---:|---:|---:|---:|\n");
    for e in &c.entries {
        if let Some(l) = &e.metrics.labeled {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} |",
                e.name,
                pct(l.selected_rate),
                f3(l.auc),
                f3(l.auc_per_instance),
                f3(l.ece),
                f3(l.brier)
            );
        }
    }
    differences_table(&mut s, c);
    s.push_str("\n![best@k by scorer](compare.svg)\n");
    s
}

/// Each scorer's best@k (with its bootstrap band) in its own colour, line pattern and point
/// shape, the oracle, random and the best single run; a note names scorers whose curves
/// coincide (a calibrated set and its raw one select alike), since one hides the other.
pub(crate) fn svg(c: &Comparison) -> Result<Option<String>> {
    use super::plot::{Dash, Shape, best_run_line};
    let first = &c.entries[0].metrics;
    let Some(oracle) = first.labeled.as_ref() else { return Ok(None) };
    let mut curves = vec![Curve {
        name: "pass@k (oracle)".into(),
        values: &oracle.pass_at_k,
        color: ORACLE,
        band: None,
        dash: Dash::Dashed,
        shape: Shape::Circle,
    }];
    let mut drawn: Vec<(&str, &[f64])> = Vec::new();
    for (i, e) in c.entries.iter().enumerate() {
        if let Some(l) = &e.metrics.labeled {
            curves.push(Curve {
                name: format!("best@k {}", e.name),
                values: &l.best_at_k,
                color: PALETTE[i % PALETTE.len()],
                band: l.ci.as_ref().map(|ci| ci.best_at_k.as_slice()),
                dash: Dash::nth(i),
                shape: Shape::nth(i),
            });
            drawn.push((&e.name, &l.best_at_k));
        }
    }
    curves.push(Curve {
        name: "random@k".into(),
        values: &oracle.random_at_k,
        color: RANDOM,
        band: None,
        dash: Dash::Dashed,
        shape: Shape::Circle,
    });
    let notes = coinciding(&drawn);
    let reference = best_run_line(oracle, first.instances);
    let title = format!("Best-of-k by scorer, n = {} instances", first.instances);
    curves_svg(&title, c.ks(), &curves, None, reference.as_ref(), &notes).map(Some)
}

/// "best@k of a and b coincide" for each group of scorers whose curves are equal at every k.
fn coinciding(drawn: &[(&str, &[f64])]) -> Vec<String> {
    let mut seen = vec![false; drawn.len()];
    let mut notes = Vec::new();
    for i in 0..drawn.len() {
        if seen[i] {
            continue;
        }
        let same: Vec<usize> = (i..drawn.len())
            .filter(|&j| {
                drawn[j].1.len() == drawn[i].1.len()
                    && drawn[j].1.iter().zip(drawn[i].1).all(|(a, b)| (a - b).abs() < 1e-12)
            })
            .collect();
        if same.len() > 1 {
            for &j in &same {
                seen[j] = true;
            }
            let names: Vec<String> = same.iter().map(|&j| drawn[j].0.to_string()).collect();
            notes.push(format!("best@k of {} coincide (drawn over each other)", crate::text::list(&names)));
        }
    }
    notes
}

/// compare.candidates.jsonl: one line per candidate with its label, every scorer's score and,
/// for sets ordered by a tie-break chain, their `tie_ranks`.
pub(crate) fn candidates(c: &Comparison) -> String {
    let t = &c.entries[0].table;
    let mut out = String::new();
    for idx in 0..t.score().len() {
        let (i, r) = t.grid().coords(idx);
        let scores: Map<String, Value> =
            c.entries.iter().map(|e| (e.name.clone(), e.table.score()[idx].map_or(Value::Null, Value::from))).collect();
        let mut line = json!({
            "instance_id": t.grid().instances[i],
            "run": t.grid().runs[r],
            "resolved": t.label()[idx],
            "empty": t.empty()[idx],
            "missing": t.missing()[idx],
            "scores": scores,
        });
        if let Some(h) = t.content()[idx] {
            line["patch_hash"] = format!("{h:016x}").into();
        }
        if let Some(h) = t.raw()[idx] {
            line["patch_bytes_hash"] = format!("{h:016x}").into();
        }
        // The within-instance order of the sets a tie-break chain ordered (`--combine`).
        let ranks: Map<String, Value> = c
            .entries
            .iter()
            .filter_map(|e| Some((e.name.clone(), Value::from(e.table.tie_rank().as_ref()?[idx]))))
            .collect();
        if !ranks.is_empty() {
            line["tie_ranks"] = Value::Object(ranks);
        }
        out.push_str(&line.to_string());
        out.push('\n');
    }
    out
}

/// The stdout summary: one row per scorer.
pub(crate) fn summary(c: &Comparison) -> String {
    // The warnings went to stderr once, as they were found (`console::warn`); the files keep them.
    let mut s = String::new();
    let k_last = *c.ks().last().unwrap_or(&1);
    let _ = writeln!(
        s,
        "{:<16} {:>10} {:>9} {:>7} {:>7}   vs {} (best@{k_last}, selected)",
        "scorer",
        format!("best@{k_last}"),
        "selected",
        "AUC",
        "ECE",
        c.baseline
    );
    for e in &c.entries {
        let Some(l) = &e.metrics.labeled else { continue };
        let vs = e.differences.as_ref().map_or(String::from("baseline"), |d| {
            format!("{}, {}", pp(d.best_at_k.last().expect("k")), pp(&d.selected))
        });
        let _ = writeln!(
            s,
            "{:<16} {:>9}% {:>8}% {:>7} {:>7}   {vs}",
            e.name,
            pct(*l.best_at_k.last().expect("k")),
            pct(l.selected_rate),
            f3(l.auc),
            f3(l.ece)
        );
    }
    // Unscored candidates rank last and stay out of AUC/ECE: say how many each set has.
    for e in &c.entries {
        if let Some(line) = super::summary::unscored_line(&e.metrics) {
            let _ = writeln!(s, "{}: {line}", e.name);
        }
    }
    s
}
