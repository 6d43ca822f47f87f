//! Outputs after selection and metrics: predictions.jsonl, report.json, report.md, the figures
//! (SVG with a PNG beside each) and the stdout summary, all written through the output directory (`outdir`), which writes every
//! file atomically and removes the outputs a run no longer produces. (scores.jsonl belongs to
//! the score store, `score::store`.)

pub(crate) mod compare;
pub(crate) mod html;
pub(crate) mod json;
pub(crate) mod markdown;
pub(crate) mod plot;
pub(crate) mod png;
pub(crate) mod predictions;
pub(crate) mod summary;
pub(crate) mod tables;

use anyhow::Result;

pub(crate) use crate::calibrate::Applied as AppliedCalibration;
use crate::metrics::Metrics;
use crate::outdir::OutDir;
use crate::score::{ScoreTable, ScorerSettings, VerifierCounts, VerifierDetail};

pub(crate) const REPORT_JSON: &str = "report.json";
pub(crate) const REPORT_MD: &str = "report.md";
pub(crate) const PLOT: &str = "tts.svg";
pub(crate) const RELIABILITY: &str = "reliability.svg";
pub(crate) const PREDICTIONS: &str = "predictions.jsonl";

/// Context that is not a metric but belongs in the report.
pub(crate) struct ReportInfo<'a> {
    /// The scorer, when known (`eval` of a scores file without its header does not know it).
    pub(crate) scorer: Option<&'a ScorerSettings>,
    /// Where the scores came from when the scorer is unknown (`scores from FILE`).
    pub(crate) scores_from: Option<String>,
    pub(crate) run_names: &'a [String],
    pub(crate) ece_bins: usize,
    /// A verifier's totals (rerank and score with --model).
    pub(crate) verifier: Option<VerifierCounts>,
    /// The calibration applied to the scores (`--calibration`).
    pub(crate) calibration: Option<&'a AppliedCalibration>,
    /// The `--tie-break` sources of a scorer other than `--combine`, in order.
    pub(crate) tie_break: Vec<String>,
    /// Prompts that held privileged inputs (`--allow-privileged`; `prompt::privileged`): the
    /// scorer's name carries the mark wherever its numbers appear.
    pub(crate) privileged: usize,
}

impl ReportInfo<'_> {
    /// The scorer's short name, for people.
    pub(crate) fn scorer_name(&self) -> String {
        let name = match (self.scorer, &self.scores_from) {
            (Some(s), _) => s.short(),
            (None, Some(from)) => format!("scores from {from}"),
            (None, None) => "unknown scorer".into(),
        };
        name + &privileged_mark(self.privileged)
    }
}

/// What follows the name of a scorer whose prompts held privileged inputs: `[privileged: 3
/// prompts]` (nothing when none did).
pub(crate) fn privileged_mark(n: usize) -> String {
    match n {
        0 => String::new(),
        n => format!(" [privileged: {}]", crate::text::count(n, "prompt", "prompts")),
    }
}

/// Score lines whose prompt held privileged inputs.
pub(crate) fn privileged_lines<'a>(details: impl IntoIterator<Item = &'a VerifierDetail>) -> usize {
    details.into_iter().filter(|d| d.privileged.is_some()).count()
}

/// What report.html shows of each candidate beyond the score table: its verifier record
/// (grid order; `None` where there is none) and where its patch text comes from.
pub(crate) struct CandidateView<'a> {
    pub(crate) details: Vec<Option<&'a VerifierDetail>>,
    pub(crate) patch: html::data::PatchSource<'a>,
    /// A reasoning judge's samples of each candidate (grid order; empty where none).
    pub(crate) samples: Vec<Vec<html::data::SampleView>>,
}

/// Writes report.json, report.md, report.html, instances.csv and, with labels, report.csv,
/// report.tex, tts.svg and (for probabilities) reliability.svg; removes stale outputs.
pub(crate) fn write_reports(
    out: &mut OutDir,
    m: &Metrics,
    info: &ReportInfo,
    t: &ScoreTable,
    selected: &[usize],
    view: &CandidateView,
) -> Result<()> {
    let svg = plot::render_svg(m, &format!("Test-time scaling ({})", info.scorer_name()))?;
    let rel = plot::reliability_svg(m, &format!("Reliability ({})", info.scorer_name()))?;
    let md = markdown::render(m, info, svg.as_ref().map(|_| PLOT), rel.as_ref().map(|_| RELIABILITY));
    let figures: Vec<html::Figure> = [(PLOT, &svg), (RELIABILITY, &rel)]
        .into_iter()
        .filter_map(|(file, svg)| svg.as_deref().map(|svg| html::Figure { file, svg }))
        .collect();
    // The page (tens of MB at RL scale) is the most expensive render; the PNGs and the
    // instances table (2 MB there) are rendered beside it.
    let (page, (pngs, instances)) = rayon::join(
        || {
            let data = html::data::build(t, selected, &view.details, view.patch, &view.samples);
            let settings = info.scorer.map(|s| serde_json::to_string_pretty(s).expect("settings serialize"));
            html::page("swerm report", &md, &figures, settings.as_deref(), Some(html::PageData::Report(&data)))
        },
        || {
            let pngs = figures.iter().map(|f| png::render(f.svg)).collect::<Vec<_>>();
            (pngs, tables::instances_csv(t, selected))
        },
    );
    out.write(REPORT_JSON, json::render(m, info).as_bytes())?;
    for (f, png) in figures.iter().zip(pngs) {
        write_rendered_figure(out, f.file, f.svg, png)?;
    }
    out.write(REPORT_MD, md.as_bytes())?;
    out.write_parts(html::REPORT_HTML, &page)?;
    out.write(tables::INSTANCES_CSV, instances.as_bytes())?;
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
pub(crate) fn write_figure(out: &mut OutDir, name: &str, svg: &str) -> Result<()> {
    write_rendered_figure(out, name, svg, png::render(svg))
}

/// `write_figure` with the PNG already rendered.
fn write_rendered_figure(out: &mut OutDir, name: &str, svg: &str, png: Result<Vec<u8>>) -> Result<()> {
    out.write(name, svg.as_bytes())?;
    let png_name = png::name_for(name);
    match png {
        Ok(bytes) => out.write(&png_name, &bytes),
        Err(e) => {
            crate::console::caution(None, &format!("{png_name} not written: {e:#}"));
            Ok(())
        }
    }
}
