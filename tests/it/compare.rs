//! `swerm compare`: per-scorer numbers equal each scorer's own report, paired differences
//! reproduced by the independent Python reference (scripts/check_report.py), clear errors.

use std::fs;
use std::path::Path;

use serde_json::Value;

use crate::util::*;

/// A second score set on the demo candidates: the consensus scores turned upside down (so the
/// two disagree), written as a bare scores file (no header: the scorer is unknown).
fn inverted(from: &Path, to: &Path) {
    let text: String = jsonl_file(from)
        .into_iter()
        .map(|mut l| {
            if let Some(s) = l["score"].as_f64() {
                l["score"] = Value::from(1.0 - s);
            }
            format!("{l}\n")
        })
        .collect();
    fs::write(to, text).unwrap();
}

#[test]
fn compare_matches_each_report_and_the_reference() {
    let d = tempfile::tempdir().unwrap();
    let cons = d.path().join("cons");
    rerank_demo(&cons, &[]);
    let inv = d.path().join("inverted.jsonl");
    inverted(&cons.join("scores.jsonl"), &inv);
    let cmp = d.path().join("cmp");
    let stdout = ok(&swerm(&[
        "compare",
        &format!("consensus={}", cons.display()),
        &format!("inverted={}", inv.display()),
        "--bootstrap",
        "300",
        "--seed",
        "5",
        "-o",
        cmp.to_str().unwrap(),
    ]));
    assert!(stdout.contains("consensus") && stdout.contains("baseline"), "{stdout}");
    let c = read_json(&cmp.join("compare.json"));
    let report = read_json(&cons.join("report.json"));
    for key in ["pass_at_k", "best_at_k", "random_at_k", "selected", "auc", "auc_per_instance", "ece", "brier"] {
        assert_eq!(c["scorers"]["consensus"][key], report[key], "{key}");
    }
    assert_eq!(c["scorers"]["consensus"]["scorer"], "consensus");
    assert!(c["scorers"]["inverted"]["scorer"].as_str().unwrap().starts_with("scores from "));
    assert!(c["differences"].get("consensus").is_none(), "no difference for the baseline");
    let d6 = &c["differences"]["inverted"]["best_at_k"]["6"];
    assert!(d6["lo"].as_f64().unwrap() <= d6["diff"].as_f64().unwrap() && d6["diff"].as_f64() <= d6["hi"].as_f64());
    let d1 = c["differences"]["inverted"]["best_at_k"]["1"]["diff"].as_f64().unwrap();
    assert!(d1.abs() < 1e-12, "best@1 never depends on scores: {d1}");
    for f in ["compare.md", "compare.svg", "compare.candidates.jsonl"] {
        assert!(cmp.join(f).exists(), "{f}");
    }
    // Every number, intervals included, recomputed independently.
    let text = check_report(&[&cmp]);
    assert!(text.lines().filter(|l| l.starts_with("ok ")).count() > 40, "{text}");

    // --json: one JSON object on stdout, the compare.json numbers, nothing else.
    let out = ok(&swerm(&[
        "compare",
        &format!("a={}", cons.display()),
        &format!("b={}", inv.display()),
        "--baseline",
        "b",
        "--json",
        "-o",
        d.path().join("cmp2").to_str().unwrap(),
    ]));
    assert_eq!(out.trim().lines().count(), 1, "{out}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!((v["baseline"].as_str(), v["differences"]["a"]["against"].as_str()), (Some("b"), Some("b")));
}

#[test]
fn compare_refuses_different_candidates_and_bad_names() {
    let d = tempfile::tempdir().unwrap();
    let cons = d.path().join("cons");
    rerank_demo(&cons, &[]);
    let lines: Vec<String> = fs::read_to_string(cons.join("scores.jsonl")).unwrap().lines().map(String::from).collect();
    let fewer = write(d.path(), "fewer.jsonl", &(lines[6..].join("\n") + "\n"));
    let o = d.path().join("o");
    let err = fails(&["compare", &format!("c={}", cons.display()), &format!("f={fewer}"), "-o", o.to_str().unwrap()]);
    assert!(err.contains("score sets c and f cover different candidates"), "{err}");
    let err = fails(&["compare", &format!("c={}", cons.display()), &format!("c={fewer}"), "-o", o.to_str().unwrap()]);
    assert!(err.contains("a name given twice merges its stores"), "{err}");
    let err = fails(&[
        "compare",
        &format!("c={}", cons.display()),
        &format!("f={fewer}"),
        "--baseline",
        "zz",
        "-o",
        o.to_str().unwrap(),
    ]);
    assert!(err.contains("--baseline zz: no score set of that name"), "{err}");
    assert!(!o.exists());
}
