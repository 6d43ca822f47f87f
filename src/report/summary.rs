//! The summary printed on stdout at the end of `rerank` and `eval`: the counts, the
//! test-time-scaling table (with its intervals under `--bootstrap`), the headline numbers.

use std::fmt::Write;

use crate::metrics::{Labeled, Metrics};
use crate::text::{count, pct};

/// "24 instances x 6 runs = 144 candidates (14 missing, 3 empty)": missing and empty candidates
/// are disjoint, so the counts add up.
pub(crate) fn counts(m: &Metrics) -> String {
    let mut s = format!(
        "{} x {} = {}",
        count(m.instances, "instance", "instances"),
        count(m.runs, "run", "runs"),
        count(m.candidates, "candidate", "candidates")
    );
    let unscored: usize = m.unscored.iter().map(|(_, n)| n).sum();
    let parts: Vec<String> = [(m.missing, "missing"), (m.empty, "empty"), (unscored, "unscored")]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect();
    if !parts.is_empty() {
        let _ = write!(s, " ({})", parts.join(", "));
    }
    s
}

/// What was unscored, and why: "unscored: 30 candidates (24 prompt over the token limit, 6 no
/// value), ranked last and left out of AUC, ECE and Brier"; `None` when every candidate is scored.
pub(crate) fn unscored_line(m: &Metrics) -> Option<String> {
    let total: usize = m.unscored.iter().map(|(_, n)| n).sum();
    (total > 0).then(|| {
        let why: Vec<String> = m.unscored.iter().map(|(u, n)| format!("{n} {}", u.describe())).collect();
        format!(
            "unscored: {} ({}), ranked last and left out of AUC, ECE and Brier",
            count(total, "candidate", "candidates"),
            why.join(", ")
        )
    })
}

/// The tie line: how many instances had a tied top among different patches, how many of those
/// with mixed labels, and the rule that broke them; `None` without ties.
/// Beside it, the instances whose picked patch has copies with different labels (their credit).
pub(crate) fn ties_line(m: &Metrics) -> Option<String> {
    let t = m.ties;
    let copies = m.labeled.as_ref().map_or(0, |l| l.mixed_copies);
    let tied = (t.tied > 0).then(|| {
        let mixed = if m.labeled.is_some() { format!(", {} with mixed labels", t.mixed_labels) } else { String::new() };
        format!(
            "ties: {} of {} have a tied top score among different patches{mixed}; broken by patch content, not run names",
            t.tied,
            count(m.instances, "instance", "instances")
        )
    });
    let copied = (copies > 0).then(|| {
        format!(
            "{} whose picked patch has copies with different labels (a flaky test?): credited the copies' mean label, whatever the run names",
            count(copies, "instance", "instances")
        )
    });
    match (tied, copied) {
        (Some(a), Some(b)) => Some(format!("{a}; {b}")),
        (a, b) => a.or(b),
    }
}

/// "per run: best single run acr-2 21.0%, mean 16.5%", with a warning when the selection is below
/// the best run, and the picks per run when there are few runs.
pub(crate) fn runs_line(m: &Metrics, run_names: &[String]) -> Option<String> {
    let l = m.labeled.as_ref()?;
    let (best, rate) = l.best_run(m.instances)?;
    let names: Vec<String> = best.iter().map(|&r| run_names.get(r).map_or("?".into(), String::clone)).collect();
    let mut s = format!(
        "per run: best single run{} {} {}%, mean {}%",
        if names.len() > 1 { "s (tied)" } else { "" },
        crate::text::first_few(&names, 3),
        pct(rate),
        pct(l.mean_run_rate(m.instances))
    );
    if l.selected_rate < rate {
        s += "; the selection is BELOW the best single run";
    }
    if run_names.len() <= 8 {
        let picks: Vec<String> =
            run_names.iter().zip(&m.picks).map(|(r, &n)| format!("{r} {}", crate::text::amount(n))).collect();
        s += &format!("; picks (copies of one patch share it): {}", picks.join(", "));
    }
    Some(s)
}

/// The selected rate, and the rate expected under uniformly random tie-breaking when it differs.
fn selected_expected(l: &crate::metrics::Labeled) -> String {
    if (l.selected_expected - l.selected_rate).abs() > 1e-9 {
        format!("; {}% expected under random tie-breaking", pct(l.selected_expected))
    } else {
        String::new()
    }
}

/// A rate and, apart, its interval when there is one: ("45.4%", "(31.7–60.1)"), so that a
/// table can right-align the rates and left-align the intervals (aligned at 100.0% too).
fn cell(x: f64, ci: Option<(f64, f64)>) -> (String, String) {
    (format!("{}%", pct(x)), ci.map_or(String::new(), |(lo, hi)| format!("({}–{})", pct(lo), pct(hi))))
}

pub(crate) fn render(m: &Metrics, run_names: &[String], facts: &[String]) -> String {
    let mut s = String::new();
    for f in facts {
        let _ = writeln!(s, "{f}");
    }
    if let Some(l) = &m.labeled {
        tts_table(&mut s, m, l);
        headline(&mut s, m, l);
    }
    let lines = [runs_line(m, run_names), ties_line(m), unscored_line(m)];
    for line in lines.into_iter().flatten() {
        let _ = writeln!(s, "{line}");
    }
    for n in &m.notes {
        let _ = writeln!(s, "note: {n}");
    }
    s
}

/// The k / pass@k / best@k / random@k table, each value with its interval when there is one,
/// columns as wide as their widest cell.
fn tts_table(s: &mut String, m: &Metrics, l: &Labeled) {
    let c = l.ci.as_ref();
    let rows: Vec<[(String, String); 3]> =
        m.ks.iter()
            .enumerate()
            .map(|(j, _)| {
                [
                    cell(l.pass_at_k[j], c.map(|c| c.pass_at_k[j])),
                    cell(l.best_at_k[j], c.map(|c| c.best_at_k[j])),
                    cell(l.random_at_k[j], c.map(|c| c.random_at_k[j])),
                ]
            })
            .collect();
    let we = rows.iter().flatten().map(|(e, _)| e.chars().count()).max().unwrap_or(0).max(6);
    let wi = rows.iter().flatten().map(|(_, i)| i.chars().count()).max().unwrap_or(0);
    let col = |(e, i): &(String, String)| {
        if wi == 0 { format!("{e:>we$}") } else { format!("{e:>we$} {i:<wi$}") }
    };
    let w = if wi == 0 { we.max(8) } else { we + 1 + wi };
    let _ = writeln!(s, "\n{:>5}  {:>w$}  {:>w$}  {:>w$}", "k", "pass@k", "best@k", "random@k");
    for (k, r) in m.ks.iter().zip(&rows) {
        let line = format!("{k:>5}  {:>w$}  {:>w$}  {:>w$}", col(&r[0]), col(&r[1]), col(&r[2]));
        let _ = writeln!(s, "{}", line.trim_end());
    }
}

/// The selected rate, AUC and calibration numbers, and the intervals' method.
fn headline(s: &mut String, m: &Metrics, l: &Labeled) {
    let c = l.ci.as_ref();
    let interval = c.map_or(String::new(), |c| {
        format!("; {:.0}% interval {}–{}", 100.0 * c.level, pct(c.selected.0), pct(c.selected.1))
    });
    let _ = writeln!(
        s,
        "\nselected: {}% ({} of {}{interval}){}",
        pct(l.selected_rate),
        crate::text::amount(l.selected_resolved),
        count(m.instances, "instance", "instances"),
        selected_expected(l)
    );
    let f3 = |x: Option<f64>| x.map_or("n/a".to_string(), |v| format!("{v:.3}"));
    let _ =
        write!(s, "AUC {} (non-empty {})  per-instance AUC {}", f3(l.auc), f3(l.auc_non_empty), f3(l.auc_per_instance));
    if l.ece.is_some() {
        let _ = write!(s, "  ECE {}  Brier {}", f3(l.ece), f3(l.brier));
    }
    let _ = writeln!(s);
    if let Some(c) = c {
        let _ = writeln!(
            s,
            "({:.0}% instance-bootstrap intervals, {} resamples, seed {})",
            100.0 * c.level,
            c.resamples,
            c.seed
        );
    }
}
