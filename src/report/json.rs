//! report.json: every number of `Metrics`, curves keyed by k as a string, fractions in [0, 1];
//! the scorer by its short name (`scorer`) and all its settings (`scorer_settings`).
//!
//! The file is one `Serialize` type, [`Report`], whose fields are written in their declared
//! order: the field list below is the format. Groups that exist only sometimes (a verifier's
//! totals, the label-dependent numbers, the calibration numbers) are flattened options, so that
//! a report without labels has none of their keys.

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use serde_json::Value;

use super::ReportInfo;
use crate::metrics::{Labeled, Metrics};
use crate::score::ScorerSettings;

/// report.json as text.
pub(crate) fn render(m: &Metrics, info: &ReportInfo) -> String {
    let mut s = serde_json::to_string_pretty(&Report::new(m, info)).expect("report serializes");
    s.push('\n');
    s
}

/// report.json as a value (also each scorer's entry in compare.json, and `--json`).
pub(crate) fn to_value(m: &Metrics, info: &ReportInfo) -> Value {
    serde_json::to_value(Report::new(m, info)).expect("report serializes")
}

/// Values keyed by names, in the given order (k as a string, run names, unscored reasons).
pub(super) struct Keyed<V>(pub(super) Vec<(String, V)>);

impl<V: Serialize> Serialize for Keyed<V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// A count that may be fractional (a pick shared by the runs holding copies of its patch, a
/// selected count crediting copies' mean label): written as an integer when it is whole, so
/// report.json keeps its integers where nothing is shared.
#[derive(Clone, Copy, Debug)]
pub(super) struct Share(pub(super) f64);

impl Serialize for Share {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match crate::text::whole(self.0) {
            Some(n) => s.serialize_u64(n),
            None => s.serialize_f64(self.0),
        }
    }
}

/// A curve keyed by k.
fn by_k<V>(ks: &[usize], vals: impl IntoIterator<Item = V>) -> Keyed<V> {
    Keyed(ks.iter().map(|k| k.to_string()).zip(vals).collect())
}

#[derive(Serialize)]
pub(crate) struct Report<'a> {
    instances: usize,
    runs: usize,
    run_names: &'a [String],
    candidates: usize,
    empty_candidates: usize,
    missing_candidates: usize,
    scorer: String,
    /// Prompts that held privileged inputs (`--allow-privileged`); absent when none did.
    #[serde(skip_serializing_if = "is_zero")]
    privileged_prompts: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    scorer_settings: Option<&'a ScorerSettings>,
    #[serde(skip_serializing_if = "Option::is_none")]
    calibration: Option<CalibrationUsed<'a>>,
    #[serde(flatten)]
    verifier: Option<VerifierTotals>,
    unscored_candidates: UnscoredCounts,
    ties: TieCounts,
    k: &'a [usize],
    #[serde(flatten)]
    labeled: Option<LabeledNumbers<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    picks_by_run: Option<Keyed<Share>>,
    notes: &'a [String],
}

#[derive(Serialize)]
struct CalibrationUsed<'a> {
    map: String,
    file: &'a str,
    /// Applied to the scores it was fitted on: the calibrated numbers are in-sample.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    in_sample: bool,
}

#[derive(Serialize)]
struct VerifierTotals {
    truncated_candidates: usize,
    /// Tokens the truncation removed, over every cut prompt.
    removed_tokens: u64,
    /// No trajectory and no issue shown: judged from the patch alone.
    patch_only_candidates: usize,
    /// No trajectory; the issue from `--dataset` and the patch shown.
    issue_and_patch_candidates: usize,
    /// Trajectories that do not show their patch, which the prompt added as a final block.
    patch_added_candidates: usize,
    /// Prompts that do not show the candidate's patch.
    patch_not_shown_candidates: usize,
    scored_tokens: u64,
    error_candidates: usize,
    #[serde(skip_serializing_if = "is_zero")]
    no_verdict_candidates: usize,
    #[serde(skip_serializing_if = "is_zero")]
    engine_misread_candidates: usize,
    /// A reasoning judge (`--generate`): samples, those without a verdict, tokens generated.
    #[serde(skip_serializing_if = "Option::is_none")]
    generation: Option<GenerationTotals>,
}

#[derive(Serialize)]
struct GenerationTotals {
    samples: usize,
    invalid_samples: usize,
    generated_tokens: u64,
}

#[derive(Serialize)]
struct UnscoredCounts {
    total: usize,
    by_reason: Keyed<usize>,
}

#[derive(Serialize)]
struct TieCounts {
    instances_with_tied_top: usize,
    rule: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    with_mixed_labels: Option<usize>,
}

#[derive(Serialize)]
struct LabeledNumbers<'a> {
    resolved_candidates: usize,
    pass_at_k: Keyed<f64>,
    best_at_k: Keyed<f64>,
    random_at_k: Keyed<f64>,
    selected: Selected,
    per_run: Keyed<PerRun>,
    #[serde(skip_serializing_if = "Option::is_none")]
    best_single_run: Option<BestRun<'a>>,
    mean_run_rate: f64,
    auc: Option<f64>,
    auc_non_empty: Option<f64>,
    auc_per_instance: Option<f64>,
    auc_per_instance_instances: usize,
    #[serde(flatten)]
    calibration: Option<CalibrationNumbers>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ci: Option<Intervals>,
}

#[derive(Serialize)]
struct Selected {
    resolved: Share,
    /// Instances whose picked patch has copies with different labels (credited their mean).
    picked_copies_with_mixed_labels: usize,
    rate: f64,
    expected_under_random_ties: f64,
}

#[derive(Serialize)]
struct PerRun {
    resolved: usize,
    rate: f64,
    picks: Share,
}

#[derive(Serialize)]
struct BestRun<'a> {
    /// Every run at the best rate, in name order (one unless runs tie).
    runs: Vec<&'a str>,
    rate: f64,
}

#[derive(Serialize)]
struct CalibrationNumbers {
    ece: f64,
    ece_bins: usize,
    brier: f64,
    calibration_bins: Vec<Bin>,
}

#[derive(Serialize)]
struct Bin {
    lo: f64,
    hi: f64,
    count: usize,
    mean_score: f64,
    resolved_rate: f64,
}

#[derive(Serialize)]
struct Intervals {
    method: &'static str,
    resamples: usize,
    seed: u64,
    level: f64,
    pass_at_k: Keyed<[f64; 2]>,
    best_at_k: Keyed<[f64; 2]>,
    random_at_k: Keyed<[f64; 2]>,
    selected_rate: [f64; 2],
}

impl<'a> Report<'a> {
    pub(crate) fn new(m: &'a Metrics, info: &'a ReportInfo) -> Self {
        let content = "the smallest seeded hash of the normalized patch (patch_hash) wins";
        let rule = match info.tie_break.as_slice() {
            [] => format!("among different patches tied at the top, {content}"),
            chain => {
                format!("ordered by --tie-break {}; among different patches still tied, {content}", chain.join(","))
            }
        };
        Report {
            instances: m.instances,
            runs: m.runs,
            run_names: info.run_names,
            candidates: m.candidates,
            empty_candidates: m.empty,
            missing_candidates: m.missing,
            scorer: info.scorer_name(),
            privileged_prompts: info.privileged,
            scorer_settings: info.scorer,
            calibration: info.calibration.map(|c| CalibrationUsed {
                map: c.cal.describe(),
                file: &c.source,
                in_sample: c.in_sample,
            }),
            verifier: info.verifier.as_ref().map(|c| VerifierTotals {
                truncated_candidates: c.truncated,
                removed_tokens: c.removed_tokens,
                patch_only_candidates: c.patch_only,
                issue_and_patch_candidates: c.issue_and_patch,
                patch_added_candidates: c.patch_added,
                patch_not_shown_candidates: c.patch_not_shown,
                scored_tokens: c.tokens,
                error_candidates: c.errors,
                no_verdict_candidates: c.no_verdict,
                engine_misread_candidates: c.misread,
                generation: (c.samples > 0).then_some(GenerationTotals {
                    samples: c.samples,
                    invalid_samples: c.invalid_samples,
                    generated_tokens: c.generated_tokens,
                }),
            }),
            unscored_candidates: UnscoredCounts {
                total: m.unscored.iter().map(|(_, n)| n).sum(),
                by_reason: Keyed(m.unscored.iter().map(|(u, n)| (u.name().to_string(), *n)).collect()),
            },
            ties: TieCounts {
                instances_with_tied_top: m.ties.tied,
                rule,
                with_mixed_labels: m.labeled.is_some().then_some(m.ties.mixed_labels),
            },
            k: &m.ks,
            labeled: m.labeled.as_ref().map(|l| LabeledNumbers::new(m, l, info)),
            picks_by_run: m
                .labeled
                .is_none()
                .then(|| Keyed(info.run_names.iter().cloned().zip(m.picks.iter().map(|&p| Share(p))).collect())),
            notes: &m.notes,
        }
    }
}

impl<'a> LabeledNumbers<'a> {
    fn new(m: &Metrics, l: &Labeled, info: &'a ReportInfo) -> Self {
        let rates = l.run_rates(m.instances);
        let per_run = info
            .run_names
            .iter()
            .enumerate()
            .map(|(r, name)| {
                (name.clone(), PerRun { resolved: l.run_resolved[r], rate: rates[r], picks: Share(m.picks[r]) })
            })
            .collect();
        let calibration = match (l.ece, l.brier) {
            (Some(ece), Some(brier)) => Some(CalibrationNumbers {
                ece,
                ece_bins: info.ece_bins,
                brier,
                calibration_bins: l
                    .bins
                    .iter()
                    .map(|b| Bin {
                        lo: b.lo,
                        hi: b.hi,
                        count: b.count,
                        mean_score: b.mean_score,
                        resolved_rate: b.resolved_rate,
                    })
                    .collect(),
            }),
            _ => None,
        };
        let pairs = |v: &[(f64, f64)]| by_k(&m.ks, v.iter().map(|&(a, b)| [a, b]));
        LabeledNumbers {
            resolved_candidates: l.resolved_candidates,
            pass_at_k: by_k(&m.ks, l.pass_at_k.iter().copied()),
            best_at_k: by_k(&m.ks, l.best_at_k.iter().copied()),
            random_at_k: by_k(&m.ks, l.random_at_k.iter().copied()),
            selected: Selected {
                resolved: Share(l.selected_resolved),
                picked_copies_with_mixed_labels: l.mixed_copies,
                rate: l.selected_rate,
                expected_under_random_ties: l.selected_expected,
            },
            per_run: Keyed(per_run),
            best_single_run: l
                .best_run(m.instances)
                .map(|(best, rate)| BestRun { runs: best.iter().map(|&r| info.run_names[r].as_str()).collect(), rate }),
            mean_run_rate: l.mean_run_rate(m.instances),
            auc: l.auc,
            auc_non_empty: l.auc_non_empty,
            auc_per_instance: l.auc_per_instance,
            auc_per_instance_instances: l.auc_instances,
            calibration,
            ci: l.ci.as_ref().map(|c| Intervals {
                method: "instance bootstrap, percentile",
                resamples: c.resamples,
                seed: c.seed,
                level: c.level,
                pass_at_k: pairs(&c.pass_at_k),
                best_at_k: pairs(&c.best_at_k),
                random_at_k: pairs(&c.random_at_k),
                selected_rate: [c.selected.0, c.selected.1],
            }),
        }
    }
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}
