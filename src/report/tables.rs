//! Tables for papers and spreadsheets: `report.csv` (the test-time-scaling table as numbers),
//! `report.tex` (the same as a booktabs table) and `instances.csv` (one row per instance:
//! solvable by any run, the run chosen, whether it resolves, the scores).

use std::fmt::Write;

use super::ReportInfo;
use crate::metrics::Metrics;
use crate::score::ScoreTable;
use crate::text::pct;

pub(crate) const REPORT_CSV: &str = "report.csv";
pub(crate) const REPORT_TEX: &str = "report.tex";
pub(crate) const INSTANCES_CSV: &str = "instances.csv";

/// One CSV field (RFC 4180: quoted when it holds a comma, a quote or a line break).
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

fn num(x: Option<f64>) -> String {
    x.map(|v| v.to_string()).unwrap_or_default()
}

/// One k of the test-time-scaling table: pass@k, best@k and random@k, each with its
/// bootstrap interval when there is one.
pub(crate) struct TtsRow {
    pub(crate) k: usize,
    pub(crate) cells: [(f64, Option<(f64, f64)>); 3],
}

/// The rows of the test-time-scaling table (report.md, report.csv, report.tex); `None`
/// without labels.
pub(crate) fn tts_rows(m: &Metrics) -> Option<Vec<TtsRow>> {
    let l = m.labeled.as_ref()?;
    let c = l.ci.as_ref();
    let rows = m.ks.iter().enumerate().map(|(j, &k)| TtsRow {
        k,
        cells: [
            (l.pass_at_k[j], c.map(|c| c.pass_at_k[j])),
            (l.best_at_k[j], c.map(|c| c.best_at_k[j])),
            (l.random_at_k[j], c.map(|c| c.random_at_k[j])),
        ],
    });
    Some(rows.collect())
}

/// k, then each of pass@k, best@k, random@k as a fraction with its interval bounds (empty
/// without `--bootstrap`). `None` without labels.
pub(crate) fn tts_csv(m: &Metrics) -> Option<String> {
    let mut s = String::from(
        "k,pass_at_k,pass_at_k_lo,pass_at_k_hi,best_at_k,best_at_k_lo,best_at_k_hi,random_at_k,random_at_k_lo,random_at_k_hi\n",
    );
    for row in tts_rows(m)? {
        let _ = write!(s, "{}", row.k);
        for (v, ci) in row.cells {
            let _ = write!(s, ",{v},{},{}", num(ci.map(|c| c.0)), num(ci.map(|c| c.1)));
        }
        s.push('\n');
    }
    Some(s)
}

/// Text safe inside LaTeX.
fn tex(s: &str) -> String {
    let mut o = String::new();
    for c in s.chars() {
        match c {
            '\\' => o.push_str("\\textbackslash{}"),
            '&' | '%' | '$' | '#' | '_' | '{' | '}' => {
                o.push('\\');
                o.push(c);
            }
            '~' => o.push_str("\\textasciitilde{}"),
            '^' => o.push_str("\\textasciicircum{}"),
            _ => o.push(c),
        }
    }
    o
}

/// The test-time-scaling table as a booktabs `table` (needs `\usepackage{booktabs}`), resolve
/// rates in percent, intervals beside them when bootstrapped. `None` without labels.
pub(crate) fn tts_latex(m: &Metrics, info: &ReportInfo) -> Option<String> {
    let rows = tts_rows(m)?;
    let selected = m.labeled.as_ref()?.selected_rate;
    let ci = |v: Option<(f64, f64)>| {
        v.map(|(a, b)| format!(" {{\\scriptsize ({}--{})}}", pct(a), pct(b))).unwrap_or_default()
    };
    let mut s = String::new();
    let _ = writeln!(s, "% swerm report.tex: \\usepackage{{booktabs}}");
    let _ = writeln!(s, "\\begin{{table}}[t]\n\\centering");
    let _ = writeln!(s, "\\begin{{tabular}}{{rrrr}}\n\\toprule");
    let _ = writeln!(s, "$k$ & pass@$k$ (oracle) & best@$k$ (reranked) & random@$k$ \\\\\n\\midrule");
    for row in rows {
        let cells: Vec<String> = row.cells.iter().map(|&(v, c)| format!("{}{}", pct(v), ci(c))).collect();
        let _ = writeln!(s, "{} & {} \\\\", row.k, cells.join(" & "));
    }
    let _ = writeln!(s, "\\bottomrule\n\\end{{tabular}}");
    let _ = writeln!(
        s,
        "\\caption{{Resolve rate (\\%) with $k$ candidates per instance, scorer {}; $n = {}$ instances, {} runs. Selected (top-1): {}\\%.}}",
        tex(&info.scorer_name()),
        m.instances,
        m.runs,
        pct(selected)
    );
    let _ = writeln!(s, "\\end{{table}}");
    Some(s)
}

/// One row per instance: `solvable` (any run resolves it), the chosen run, `resolved` (the
/// chosen candidate's label), its score, then every run's score (`score:RUN`). Labels and
/// scores absent are empty fields.
pub(crate) fn instances_csv(t: &ScoreTable, selected: &[usize]) -> String {
    let mut s = String::from("instance_id,solvable,chosen_run,resolved,chosen_score");
    for r in &t.grid().runs {
        let _ = write!(s, ",{}", field(&format!("score:{r}")));
    }
    s.push('\n');
    let b = |x: Option<bool>| x.map(|v| v.to_string()).unwrap_or_default();
    for (i, &r) in selected.iter().enumerate() {
        let range = t.grid().range(i);
        let labels: Option<Vec<bool>> = t.label()[range.clone()].iter().copied().collect();
        let solvable = labels.map(|l| l.iter().any(|&x| x));
        let chosen = range.start + r;
        let _ = write!(
            s,
            "{},{},{},{},{}",
            field(&t.grid().instances[i]),
            b(solvable),
            field(&t.grid().runs[r]),
            b(t.label()[chosen]),
            num(t.score()[chosen])
        );
        for idx in range {
            let _ = write!(s, ",{}", num(t.score()[idx]));
        }
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("plain"), "plain");
        assert_eq!(tex("field:v.p_yes 50% & #1"), "field:v.p\\_yes 50\\% \\& \\#1");
    }
}
