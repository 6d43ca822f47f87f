//! `rerank --combine`: a verifier, consensus and an execution signal from the records combined
//! with weights on a stated scale and a tie-break chain (R2E-Gym's hybrid selection); numbers
//! reproduced by the Python reference (scripts/check_report.py, tie ranks included).

use std::path::Path;

use serde_json::{Value, json};

use crate::util::*;

/// Four runs of three instances; `exec.passed` is the tests an agent's own run passed.
/// Instance a: runs 0 and 1 write the same patch (consensus 0.5 each), run 1 passes more tests.
/// Instance b: every patch differs (consensus ties), runs 2 and 3 pass 5 tests (a tie the
/// chain breaks by run order). Instance c: run 3 writes nothing.
fn runs(dir: &Path) -> Vec<String> {
    let rec = |i: &str, patch: &str, passed: f64, resolved: bool| json!({"instance_id": i, "model_patch": patch, "resolved": resolved, "exec": {"passed": passed}});
    let table = [
        [rec("a", "+x", 1.0, false), rec("b", "+p", 0.0, false), rec("c", "+u", 2.0, true)],
        [rec("a", "+x", 3.0, true), rec("b", "+q", 1.0, false), rec("c", "+u", 1.0, true)],
        [rec("a", "+y", 2.0, false), rec("b", "+r", 5.0, true), rec("c", "+v", 0.0, false)],
        [rec("a", "+z", 0.0, false), rec("b", "+s", 5.0, false), rec("c", "", 0.0, false)],
    ];
    table
        .iter()
        .enumerate()
        .map(|(r, recs)| {
            write(dir, &format!("run-{r}.jsonl"), &recs.iter().map(|v| format!("{v}\n")).collect::<String>())
        })
        .collect()
}

fn rerank(inputs: &[String], out: &Path, extra: &[&str]) -> std::process::Output {
    let mut a: Vec<String> = vec!["rerank".into()];
    a.extend(inputs.iter().cloned());
    a.extend(extra.iter().map(|s| s.to_string()));
    a.extend(["-q".into(), "-o".into(), out.display().to_string()]);
    swerm_s(&a)
}

#[test]
fn hybrid_selection_with_weights_and_a_tie_break_chain() {
    let d = tempfile::tempdir().unwrap();
    let inputs = runs(d.path());
    let out = d.path().join("h");
    let args = [
        "--combine",
        "c=consensus",
        "--combine",
        "t=field:exec.passed",
        "--weight",
        "c=2",
        "--tie-break",
        "t,run",
        "--json",
    ];
    let r = rerank(&inputs, &out, &args);
    let report: Value = serde_json::from_str(&ok(&r)).unwrap();
    assert_eq!(report["scorer"], "combined 2·c + 1·t (z)");
    // a: run 1 (consensus 0.5 with run 0, and more tests); b: consensus ties, 5 tests tie
    // between runs 2 and 3, run order picks run 2; c: runs 0 and 1 agree and run 0 passes more.
    let preds = jsonl_file(&out.join("predictions.jsonl"));
    let patch = |i: &str| preds.iter().find(|p| p["instance_id"] == i).unwrap()["model_patch"].clone();
    assert_eq!((patch("a"), patch("b"), patch("c")), (json!("+x"), json!("+r"), json!("+u")));
    let inst = std::fs::read_to_string(out.join("instances.csv")).unwrap();
    assert!(inst.contains("\na,true,run-1,true,") && inst.contains("\nb,true,run-2,true,"), "{inst}");
    // The pick of a is patch +x, which runs 0 (unresolved) and 1 (resolved) both wrote: it is
    // credited their mean label, 0.5, whichever copy the chain preferred.
    assert!((report["selected"]["rate"].as_f64().unwrap() - 2.5 / 3.0).abs() < 1e-12, "{report}");
    assert_eq!(report["selected"]["picked_copies_with_mixed_labels"], 1);
    // `run` follows the order the inputs were given, not names: listed in reverse, run 3 (the
    // earlier given) wins b's tie.
    let reversed: Vec<String> = inputs.iter().rev().cloned().collect();
    let rev_out = d.path().join("rev");
    ok(&rerank(&reversed, &rev_out, &args));
    let preds = jsonl_file(&rev_out.join("predictions.jsonl"));
    assert_eq!(preds.iter().find(|p| p["instance_id"] == "b").unwrap()["model_patch"], "+s");
    let settings = read_json(&out.join("scores.settings.json"));
    assert_eq!(settings["scorer"]["kind"], "combined");
    assert_eq!(settings["scorer"]["tie_break"], json!(["t", "run"]));
    check_report(&[&out]);
    // Without the chain the b tie is left to chance in best@4 (0.5 there), while selection
    // takes the earlier run: the same pick, best@4 (1 + 0.5 + 1) / 3 instead of 1.
    let plain = d.path().join("p");
    let r: Value = serde_json::from_str(&ok(&rerank(
        &inputs,
        &plain,
        &args[..6].iter().copied().chain(["--json"]).collect::<Vec<_>>(),
    )))
    .unwrap();
    assert_eq!(report["best_at_k"]["4"], 1.0);
    assert!((r["best_at_k"]["4"].as_f64().unwrap() - 2.5 / 3.0).abs() < 1e-12, "{r}");
    assert_eq!(r["selected"]["rate"], report["selected"]["rate"]);
    check_report(&[&plain]);
    // compare honours each set's tie ranks (best@k and the paired differences).
    let cmp = d.path().join("cmp");
    let c: Value = serde_json::from_str(&ok(&swerm(&[
        "compare",
        &format!("chain={}", out.display()),
        &format!("plain={}", plain.display()),
        "--json",
        "-o",
        cmp.to_str().unwrap(),
    ])))
    .unwrap();
    assert_eq!(c["scorers"]["chain"]["best_at_k"]["4"], 1.0);
    assert!((c["differences"]["plain"]["best_at_k"]["4"]["diff"].as_f64().unwrap() + 0.5 / 3.0).abs() < 1e-12, "{c}");
    check_report(&[&cmp]);
}

#[test]
fn combine_with_a_verifier_store_and_clear_errors() {
    let d = tempfile::tempdir().unwrap();
    let inputs = runs(d.path());
    let v = d.path().join("v");
    let mut a: Vec<String> = vec!["score".into()];
    a.extend(inputs.iter().cloned());
    a.extend(["--model", &tiny("qwen3-moe"), "--device", "cpu", "-q", "-o", v.to_str().unwrap()].map(String::from));
    ok(&swerm_s(&a));
    let out = d.path().join("o");
    let vs = format!("v={}", v.display());
    let r = rerank(
        &inputs,
        &out,
        &["--combine", &vs, "--combine", "c=consensus", "--scale", "logit", "--tie-break", "c,run"],
    );
    ok(&r);
    let rep = read_json(&out.join("report.json"));
    assert_eq!(rep["scorer"], "combined 1·v + 1·c (logit)");
    check_report(&[&out]);
    let err = |extra: &[&str]| {
        let r = rerank(&inputs, &d.path().join("e"), extra);
        assert_eq!(r.status.code(), Some(2));
        String::from_utf8_lossy(&r.stderr).into_owned()
    };
    let e = err(&["--combine", "c=consensus", "--combine", "t=field:exec.passed", "--scale", "logit"]);
    assert!(e.contains("not a probability: use --scale z"), "{e}");
    let e = err(&["--combine", "c=consensus", "--combine", &vs, "--weight", "x=2"]);
    assert!(e.contains("--weight \"x\": no --combine source of that name (c, v)"), "{e}");
    let e = err(&["--combine", "c=consensus"]);
    assert!(e.contains("two or more sources"), "{e}");
    let e = err(&["--combine", "c=consensus", "--combine", &vs, "--tie-break", "c,nope"]);
    assert!(e.contains("--tie-break \"nope\""), "{e}");
}
