//! report.md: the test-time-scaling table a paper shows (k vs pass@k / best@k / random@k, with
//! CIs when asked), the headline numbers, and the plot.

use std::fmt::Write;

use super::{summary, tables};

use super::ReportInfo;
use crate::metrics::{Labeled, Metrics};
use crate::text::{count, pct};

pub(crate) fn render(m: &Metrics, info: &ReportInfo, plot_file: Option<&str>, reliability: Option<&str>) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# swerm report\n");
    let _ = writeln!(s, "{}; scorer `{}`.\n", summary::counts(m), info.scorer_name());
    if let Some(l) = &m.labeled {
        tts_table(&mut s, m);
        headline(&mut s, m, l, info);
        per_run(&mut s, m, l, info);
        if let Some(p) = plot_file {
            let _ = writeln!(s, "\n![test-time scaling]({p})");
        }
        if let Some(p) = reliability {
            let _ = writeln!(s, "\n![reliability diagram]({p})");
        }
    }
    if !m.notes.is_empty() {
        let _ = writeln!(s, "\nNotes:\n");
        for n in &m.notes {
            let _ = writeln!(s, "- {n}");
        }
    }
    s
}

/// " (lo–hi)" of an interval, in percent; empty without one.
fn ci(v: Option<(f64, f64)>) -> String {
    v.map(|(a, b)| format!(" ({}–{})", pct(a), pct(b))).unwrap_or_default()
}

/// The resolve rates by k.
fn tts_table(s: &mut String, m: &Metrics) {
    let _ = writeln!(s, "Resolve rate (%) by number of candidates k:\n");
    let _ = writeln!(s, "| k | pass@k (oracle) | best@k (reranked) | random@k |");
    let _ = writeln!(s, "|---:|---:|---:|---:|");
    for row in tables::tts_rows(m).unwrap_or_default() {
        let cells: Vec<String> = row.cells.iter().map(|&(v, c)| format!("{}{}", pct(v), ci(c))).collect();
        let _ = writeln!(s, "| {} | {} |", row.k, cells.join(" | "));
    }
    let _ = writeln!(s);
}

/// The selected rate, AUC, calibration, intervals, ties and unscored candidates, a line each.
fn headline(s: &mut String, m: &Metrics, l: &Labeled, info: &ReportInfo) {
    let _ = writeln!(
        s,
        "- Selected (top-1 per instance): **{}%** ({} of {}){}; {}% expected under uniformly random tie-breaking (best@{})",
        pct(l.selected_rate),
        crate::text::amount(l.selected_resolved),
        count(m.instances, "instance", "instances"),
        ci(l.ci.as_ref().map(|c| c.selected)),
        pct(l.selected_expected),
        m.runs
    );
    let f3 = |x: Option<f64>| x.map_or("n/a".to_string(), |v| format!("{v:.3}"));
    let _ = writeln!(
        s,
        "- AUC (pooled, scored candidates): {}; non-empty candidates only: {}; mean per-instance AUC: {} over {} with both outcomes",
        f3(l.auc),
        f3(l.auc_non_empty),
        f3(l.auc_per_instance),
        count(l.auc_instances, "instance", "instances")
    );
    if l.ece.is_some() {
        let _ = writeln!(s, "- ECE ({} bins): {}; Brier: {}", info.ece_bins, f3(l.ece), f3(l.brier));
    }
    if let Some(c) = &l.ci {
        let _ = writeln!(
            s,
            "- Intervals: {:.0}% instance bootstrap, {} resamples, seed {}",
            100.0 * c.level,
            c.resamples,
            c.seed
        );
    }
    if let Some(c) = info.calibration {
        let _ = writeln!(s, "- Scores calibrated with {} ({})", c.describe(), c.source);
    }
    for line in [summary::ties_line(m), summary::unscored_line(m)].into_iter().flatten() {
        let _ = writeln!(s, "- {}{}", line[..1].to_uppercase(), &line[1..]);
    }
}

/// Each run's resolve rate and picks, and the best single run.
fn per_run(s: &mut String, m: &Metrics, l: &Labeled, info: &ReportInfo) {
    let _ = writeln!(
        s,
        "\nPer run (resolved over the {} instances; picks: instances whose selected patch the run holds, a pick shared by the runs holding a copy):\n",
        m.instances
    );
    let _ = writeln!(s, "| run | resolved | rate (%) | picks |");
    let _ = writeln!(s, "|---|---:|---:|---:|");
    let rates = l.run_rates(m.instances);
    for (r, name) in info.run_names.iter().enumerate() {
        let _ =
            writeln!(s, "| {name} | {} | {} | {} |", l.run_resolved[r], pct(rates[r]), crate::text::amount(m.picks[r]));
    }
    if let Some((best, rate)) = l.best_run(m.instances) {
        let below = if l.selected_rate < rate { " The selection is **below** the best single run." } else { "" };
        let _ = writeln!(
            s,
            "\nBest single run{}: {} ({}%); mean over runs: {}%.{below}",
            if best.len() > 1 { "s (tied)" } else { "" },
            crate::text::list(&best.iter().map(|&r| info.run_names[r].clone()).collect::<Vec<_>>()),
            pct(rate),
            pct(l.mean_run_rate(m.instances))
        );
    }
}
