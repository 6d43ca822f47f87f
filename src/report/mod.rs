//! Outputs after selection and metrics: predictions.jsonl, report.json, report.md, the figures
//! (SVG with a PNG beside each) and the stdout summary, all written through the output directory (`outdir`), which writes every
//! file atomically and removes the outputs a run no longer produces. (scores.jsonl belongs to
//! the score store, `score::store`.)

pub mod compare;
pub mod json;
pub mod markdown;
pub mod plot;
pub mod png;
pub mod predictions;
pub mod summary;
pub mod tables;

use anyhow::Result;

use crate::metrics::Metrics;
use crate::metrics::calibrate::Calibration;
use crate::outdir::OutDir;
use crate::score::{ScoreTable, ScorerSettings, VerifierCounts};

pub const REPORT_JSON: &str = "report.json";
pub const REPORT_MD: &str = "report.md";
pub const PLOT: &str = "tts.svg";
pub const RELIABILITY: &str = "reliability.svg";
pub const PREDICTIONS: &str = "predictions.jsonl";

/// Context that is not a metric but belongs in the report.
pub struct ReportInfo<'a> {
    /// The scorer, when known (`eval` of a scores file without its header does not know it).
    pub scorer: Option<&'a ScorerSettings>,
    /// Where the scores came from when the scorer is unknown (`scores from FILE`).
    pub scores_from: Option<String>,
    pub run_names: &'a [String],
    pub ece_bins: usize,
    /// A verifier's totals (rerank and score with --model).
    pub verifier: Option<VerifierCounts>,
    /// The calibration applied to the scores (`--calibration`).
    pub calibration: Option<&'a AppliedCalibration>,
    /// The `--tie-break` sources of a scorer other than `--combine`, in order.
    pub tie_break: Vec<String>,
}

/// A calibration map applied to the scores of a report, and the file it came from.
#[derive(Clone, Debug)]
pub struct AppliedCalibration {
    pub cal: Calibration,
    pub source: String,
}

impl AppliedCalibration {
    pub fn describe(&self) -> String {
        self.cal.describe()
    }
}

impl ReportInfo<'_> {
    /// The scorer's short name, for people.
    pub fn scorer_name(&self) -> String {
        match (self.scorer, &self.scores_from) {
            (Some(s), _) => s.short(),
            (None, Some(from)) => format!("scores from {from}"),
            (None, None) => "unknown scorer".into(),
        }
    }
}

/// Writes report.json, report.md, instances.csv and, with labels, report.csv, report.tex,
/// tts.svg and (for probabilities) reliability.svg; removes stale outputs.
pub fn write_reports(
    out: &mut OutDir,
    m: &Metrics,
    info: &ReportInfo,
    t: &ScoreTable,
    selected: &[usize],
) -> Result<()> {
    let svg = plot::render_svg(m, &format!("Test-time scaling ({})", info.scorer_name()))?;
    out.write(REPORT_JSON, json::render(m, info).as_bytes())?;
    if let Some(svg) = &svg {
        write_figure(out, PLOT, svg)?;
    }
    let rel = plot::reliability_svg(m, &format!("Reliability ({})", info.scorer_name()))?;
    if let Some(rel) = &rel {
        write_figure(out, RELIABILITY, rel)?;
    }
    out.write(
        REPORT_MD,
        markdown::render(m, info, svg.as_ref().map(|_| PLOT), rel.as_ref().map(|_| RELIABILITY)).as_bytes(),
    )?;
    out.write(tables::INSTANCES_CSV, tables::instances_csv(t, selected).as_bytes())?;
    if let Some(csv) = tables::tts_csv(m) {
        out.write(tables::REPORT_CSV, csv.as_bytes())?;
    }
    if let Some(tex) = tables::tts_latex(m, info) {
        out.write(tables::REPORT_TEX, tex.as_bytes())?;
    }
    let (plot_png, rel_png) = (png::name_for(PLOT), png::name_for(RELIABILITY));
    out.remove_stale(&[PLOT, &plot_png, RELIABILITY, &rel_png, tables::REPORT_CSV, tables::REPORT_TEX])
}

/// Writes a figure as `name` (SVG) and its PNG copy beside it. A PNG that cannot be rendered is
/// a warning, not an error: the SVG and every other output are written all the same.
pub fn write_figure(out: &mut OutDir, name: &str, svg: &str) -> Result<()> {
    out.write(name, svg.as_bytes())?;
    let png_name = png::name_for(name);
    match png::render(svg) {
        Ok(bytes) => out.write(&png_name, &bytes),
        Err(e) => {
            eprintln!("warning: {png_name} not written: {e:#}");
            Ok(())
        }
    }
}
