//! report.json: every number of `Metrics`, curves keyed by k as a string, fractions in [0, 1];
//! the scorer by its short name (`scorer`) and all its settings (`scorer_settings`).

use serde_json::{Map, Value, json};

use super::ReportInfo;
use crate::metrics::Metrics;

fn by_k(ks: &[usize], vals: impl IntoIterator<Item = Value>) -> Value {
    Value::Object(ks.iter().map(|k| k.to_string()).zip(vals).collect())
}

/// report.json as text.
pub fn render(m: &Metrics, info: &ReportInfo) -> String {
    let mut s = serde_json::to_string_pretty(&to_value(m, info)).expect("report serializes");
    s.push('\n');
    s
}

/// report.json as a value (also each scorer's entry in compare.json).
pub fn to_value(m: &Metrics, info: &ReportInfo) -> Value {
    let mut o = Map::new();
    o.insert("instances".into(), m.instances.into());
    o.insert("runs".into(), m.runs.into());
    o.insert("run_names".into(), info.run_names.into());
    o.insert("candidates".into(), m.candidates.into());
    o.insert("empty_candidates".into(), m.empty.into());
    o.insert("missing_candidates".into(), m.missing.into());
    o.insert("scorer".into(), info.scorer_name().into());
    if let Some(s) = info.scorer {
        o.insert("scorer_settings".into(), serde_json::to_value(s).expect("settings serialize"));
    }
    if let Some(c) = info.calibration {
        o.insert("calibration".into(), json!({"map": c.describe(), "file": c.source}));
    }
    if let Some(c) = &info.verifier {
        o.insert("truncated_candidates".into(), c.truncated.into());
        o.insert("patch_only_candidates".into(), c.patch_only.into());
        o.insert("scored_tokens".into(), c.tokens.into());
        o.insert("error_candidates".into(), c.errors.into());
    }
    let unscored: usize = m.unscored.iter().map(|(_, n)| n).sum();
    let by_reason: Map<String, Value> = m.unscored.iter().map(|(u, n)| (u.name().to_string(), (*n).into())).collect();
    o.insert("unscored_candidates".into(), json!({"total": unscored, "by_reason": by_reason}));
    let content = "the smallest seeded hash of the normalized patch (patch_hash) wins";
    let rule = match info.tie_break.as_slice() {
        [] => format!("among different patches tied at the top, {content}"),
        chain => format!("ordered by --tie-break {}; among different patches still tied, {content}", chain.join(",")),
    };
    let mut ties = json!({"instances_with_tied_top": m.ties.tied, "rule": rule});
    if m.labeled.is_some() {
        ties["with_mixed_labels"] = m.ties.mixed_labels.into();
    }
    o.insert("ties".into(), ties);
    o.insert("k".into(), m.ks.clone().into());
    if let Some(l) = &m.labeled {
        o.insert("resolved_candidates".into(), l.resolved_candidates.into());
        o.insert("pass_at_k".into(), by_k(&m.ks, l.pass_at_k.iter().map(|&x| x.into())));
        o.insert("best_at_k".into(), by_k(&m.ks, l.best_at_k.iter().map(|&x| x.into())));
        o.insert("random_at_k".into(), by_k(&m.ks, l.random_at_k.iter().map(|&x| x.into())));
        o.insert(
            "selected".into(),
            json!({"resolved": l.selected_resolved, "rate": l.selected_rate, "expected_under_random_ties": l.selected_expected}),
        );
        let rates = l.run_rates(m.instances);
        let per_run: Map<String, Value> = info
            .run_names
            .iter()
            .enumerate()
            .map(|(r, name)| {
                (name.clone(), json!({"resolved": l.run_resolved[r], "rate": rates[r], "picks": m.picks[r]}))
            })
            .collect();
        o.insert("per_run".into(), per_run.into());
        if let Some((best, rate)) = l.best_run(m.instances) {
            o.insert("best_single_run".into(), json!({"run": info.run_names[best], "rate": rate}));
        }
        o.insert("mean_run_rate".into(), l.mean_run_rate(m.instances).into());
        o.insert("auc".into(), l.auc.into());
        o.insert("auc_non_empty".into(), l.auc_non_empty.into());
        o.insert("auc_per_instance".into(), l.auc_per_instance.into());
        o.insert("auc_per_instance_instances".into(), l.auc_instances.into());
        if let (Some(e), Some(b)) = (l.ece, l.brier) {
            o.insert("ece".into(), e.into());
            o.insert("ece_bins".into(), info.ece_bins.into());
            o.insert("brier".into(), b.into());
            let bins: Vec<Value> = l
                .bins
                .iter()
                .map(|b| json!({"lo": b.lo, "hi": b.hi, "count": b.count, "mean_score": b.mean_score, "resolved_rate": b.resolved_rate}))
                .collect();
            o.insert("calibration_bins".into(), bins.into());
        }
        if let Some(c) = &l.ci {
            let pairs = |v: &[(f64, f64)]| by_k(&m.ks, v.iter().map(|&(a, b)| json!([a, b])));
            o.insert(
                "ci".into(),
                json!({
                    "method": "instance bootstrap, percentile",
                    "resamples": c.resamples,
                    "seed": c.seed,
                    "level": c.level,
                    "pass_at_k": pairs(&c.pass_at_k),
                    "best_at_k": pairs(&c.best_at_k),
                    "random_at_k": pairs(&c.random_at_k),
                    "selected_rate": [c.selected.0, c.selected.1],
                }),
            );
        }
    }
    if m.labeled.is_none() {
        let picks: Map<String, Value> =
            info.run_names.iter().zip(&m.picks).map(|(name, n)| (name.clone(), (*n).into())).collect();
        o.insert("picks_by_run".into(), picks.into());
    }
    o.insert("notes".into(), m.notes.clone().into());
    Value::Object(o)
}
