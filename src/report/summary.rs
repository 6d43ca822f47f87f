//! The summary printed on stdout at the end of `rerank` and `eval`: the counts, the
//! test-time-scaling table (with its intervals under `--bootstrap`), the headline numbers.

use std::fmt::Write;

use crate::metrics::Metrics;
use crate::text::{count, pct};

/// "24 instances x 6 runs = 144 candidates (14 missing, 3 empty)": missing and empty candidates
/// are disjoint, so the counts add up.
pub fn counts(m: &Metrics) -> String {
    let mut s = format!(
        "{} x {} = {}",
        count(m.instances, "instance", "instances"),
        count(m.runs, "run", "runs"),
        count(m.candidates, "candidate", "candidates")
    );
    let parts: Vec<String> = [(m.missing, "missing"), (m.empty, "empty")]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect();
    if !parts.is_empty() {
        let _ = write!(s, " ({})", parts.join(", "));
    }
    s
}

/// A rate with its interval when there is one: "45.4%" or "45.4% (31.7–60.1)".
fn cell(x: f64, ci: Option<(f64, f64)>) -> String {
    match ci {
        Some((lo, hi)) => format!("{}% ({}–{})", pct(x), pct(lo), pct(hi)),
        None => format!("{}%", pct(x)),
    }
}

pub fn render(m: &Metrics, facts: &[String]) -> String {
    let mut s = String::new();
    for f in facts {
        let _ = writeln!(s, "{f}");
    }
    if let Some(l) = &m.labeled {
        let c = l.ci.as_ref();
        let rows: Vec<[String; 4]> =
            m.ks.iter()
                .enumerate()
                .map(|(j, k)| {
                    [
                        k.to_string(),
                        cell(l.pass_at_k[j], c.map(|c| c.pass_at_k[j])),
                        cell(l.best_at_k[j], c.map(|c| c.best_at_k[j])),
                        cell(l.random_at_k[j], c.map(|c| c.random_at_k[j])),
                    ]
                })
                .collect();
        let w = rows.iter().flat_map(|r| r[1..].iter().map(|x| x.chars().count())).max().unwrap_or(0).max(8);
        let _ = writeln!(s, "\n{:>5}  {:>w$}  {:>w$}  {:>w$}", "k", "pass@k", "best@k", "random@k");
        for r in &rows {
            let _ = writeln!(s, "{:>5}  {:>w$}  {:>w$}  {:>w$}", r[0], r[1], r[2], r[3]);
        }
        let _ = writeln!(
            s,
            "\nselected: {} ({} of {})",
            cell(l.selected_rate, c.map(|c| c.selected)),
            l.selected_resolved,
            count(m.instances, "instance", "instances")
        );
        let f3 = |x: Option<f64>| x.map_or("n/a".to_string(), |v| format!("{v:.3}"));
        let _ = write!(s, "AUC {}  per-instance AUC {}", f3(l.auc), f3(l.auc_per_instance));
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
    for n in &m.notes {
        let _ = writeln!(s, "note: {n}");
    }
    s
}
