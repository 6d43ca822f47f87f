//! report.csv, report.tex and instances.csv: written with the report, reproduced by the
//! independent Python reference (scripts/check_report.py), absent or partial without labels.

use std::fs;

use crate::util::*;

fn python_check(dir: &std::path::Path) {
    let text = check_report(&[dir]);
    assert!(text.contains("instances.csv rows"), "{text}");
}

#[test]
fn tables_match_the_reference_with_and_without_labels() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("l");
    rerank_demo(&out, &["--bootstrap", "50"]);
    let csv = fs::read_to_string(out.join("report.csv")).unwrap();
    assert!(csv.starts_with("k,pass_at_k,pass_at_k_lo,pass_at_k_hi,best_at_k"), "{csv}");
    assert_eq!(csv.lines().count(), 1 + 4, "a row per k (1, 2, 4, 6)");
    assert!(csv.lines().skip(1).all(|l| l.split(',').count() == 10 && !l.contains(",,")), "intervals filled: {csv}");
    let tex = fs::read_to_string(out.join("report.tex")).unwrap();
    for part in ["\\toprule", "\\midrule", "\\bottomrule", "{\\scriptsize (", "$n = 24$ instances"] {
        assert!(tex.contains(part), "{part}: {tex}");
    }
    assert!(fs::read_to_string(out.join("report.md")).unwrap().contains("| k |"));
    python_check(&out);
    // Without --labels (some records carry their own): no TTS tables, the per-instance table
    // with what is known, and the same directory loses the stale tables.
    let mut args: Vec<String> = vec!["rerank".into()];
    args.extend(demo_runs());
    args.extend(["-q".into(), "-o".into(), out.display().to_string()]);
    ok(&swerm_s(&args));
    assert!(!out.join("report.csv").exists() && !out.join("report.tex").exists());
    let inst = fs::read_to_string(out.join("instances.csv")).unwrap();
    assert_eq!(inst.lines().count(), 1 + 24);
    python_check(&out);
}
