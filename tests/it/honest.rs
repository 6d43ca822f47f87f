//! Nothing read is dropped in silence, and every count agrees with report.json (issue 35): an
//! empty input file stays a run; a malformed trajectory field is an error naming its line; a
//! full stdout is an error; a subset (`--instances`) is not a warning; a report naming only
//! unresolved instances of a subset still labels its run; eval/compare take `--instances`.

use std::path::Path;

use serde_json::{Value, json};

use crate::util::*;

/// Three runs of predictions over instances i1..i4 with embedded labels; run c holds no record.
fn runs(dir: &Path) -> Vec<String> {
    let rec = |i: &str, p: &str, y: bool| {
        json!({"instance_id": i, "model_name_or_path": "m", "model_patch": p, "resolved": y}).to_string()
    };
    let a = [rec("i1", "+a", true), rec("i2", "+b", false), rec("i3", "+c", false), rec("i4", "+d", true)].join("\n");
    let b = [rec("i1", "+a", true), rec("i2", "+e", true), rec("i3", "+c", false)].join("\n");
    vec![write(dir, "a.jsonl", &(a + "\n")), write(dir, "b.jsonl", &(b + "\n")), write(dir, "c.jsonl", "")]
}

fn rerank(inputs: &[String], out: &Path, extra: &[&str]) -> std::process::Output {
    let mut a: Vec<String> = vec!["rerank".into()];
    a.extend(inputs.iter().cloned());
    a.extend(extra.iter().map(|s| s.to_string()));
    a.extend(["-o".into(), out.display().to_string()]);
    swerm_s(&a)
}

#[test]
fn an_empty_input_file_is_a_run_without_candidates() {
    let d = tempfile::tempdir().unwrap();
    let inputs = runs(d.path());
    let r = rerank(&inputs, &d.path().join("o"), &["--json"]);
    let err = String::from_utf8_lossy(&r.stderr).into_owned();
    assert!(r.status.success(), "{err}");
    assert!(err.contains("run c:") && err.contains("c.jsonl holds no records"), "{err}");
    let v: Value = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(v["runs"], 3, "kept in N");
    assert_eq!(v["run_names"], json!(["a", "b", "c"]));
    assert_eq!(v["missing_candidates"], 4 + 1, "every instance of c, and i4 of b");
    // pass@1 counts c's four misses as unresolved: (2 + 1 + 0) / 12 resolved... per instance.
    let want_pass1 = (2.0 / 3.0 + 1.0 / 3.0 + 0.0 + 1.0 / 3.0) / 4.0;
    assert!((v["pass_at_k"]["1"].as_f64().unwrap() - want_pass1).abs() < 1e-12, "{v}");
    // --strict refuses it; positional labels pair with the three inputs (not "the pairing").
    let r = rerank(&inputs, &d.path().join("s"), &["--strict"]);
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("holds no records"));
    let (ra, rb) = (
        write(d.path(), "ra.json", r#"{"resolved": ["i1", "i4"]}"#),
        write(d.path(), "rb.json", r#"{"resolved": ["i1", "i2"]}"#),
    );
    let rc = write(d.path(), "rc.json", r#"{"resolved": []}"#);
    let r = rerank(&inputs, &d.path().join("l"), &["--labels", &ra, &rb, &rc, "-q"]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    check_report(&[d.path().join("o")]);
}

#[test]
fn a_malformed_trajectory_field_is_an_error_or_a_counted_flaw() {
    let d = tempfile::tempdir().unwrap();
    for (history, want) in [
        ("42", "field `history`: expected a list of events, found a number"),
        ("\"garbage\"", "field `history`: expected a list of events, found a string"),
        ("[1,2,3]", "field `history[0]`: expected a message or an event"),
    ] {
        let line = format!(r#"{{"instance_id":"i1","test_result":{{"git_patch":"+a"}},"history":{history}}}"#);
        let f = write(
            d.path(),
            "oh.jsonl",
            &format!("{{\"instance_id\":\"i0\",\"test_result\":{{\"git_patch\":\"+b\"}},\"history\":[]}}\n{line}\n"),
        );
        let e = fails(&["rerank", &f, "-o", d.path().join("o").to_str().unwrap()]);
        assert!(e.contains("oh.jsonl:2: ") && e.contains(want), "{e}");
    }
    // null: a record still usable, judged without a trajectory, counted once.
    let null = |i: &str| format!(r#"{{"instance_id":"{i}","test_result":{{"git_patch":"+a"}},"history":null}}"#);
    let f = write(d.path(), "null.jsonl", &format!("{}\n{}\n", null("i1"), null("i2")));
    let r = swerm(&["rerank", &f, "-q", "-o", d.path().join("n").to_str().unwrap()]);
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(r.status.success(), "{err}");
    assert!(err.contains("2 records: field `history` is null: judged without a trajectory (the first at"), "{err}");
    assert_eq!(err.matches("history` is null").count(), 1, "one line for the kind: {err}");
    // Across two inputs (read in parallel): one count, the first in input order named.
    let g = write(d.path(), "a-null.jsonl", &format!("{}\n", null("i3")));
    let r = swerm(&["rerank", &f, &g, "-q", "-o", d.path().join("n2").to_str().unwrap()]);
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(r.status.success(), "{err}");
    assert!(err.contains("3 records: field `history` is null: judged without a trajectory (the first at"), "{err}");
    assert!(err.contains("null.jsonl:1") && !err.contains("a-null.jsonl:1"), "the first input's record: {err}");
}

#[test]
fn a_full_stdout_is_an_error() {
    if !Path::new("/dev/full").exists() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let inputs = runs(d.path());
    let full = || std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
    let mut a: Vec<String> = vec!["rerank".into()];
    a.extend(inputs[..2].iter().cloned());
    a.extend(["--json", "-q", "-o", d.path().join("o").to_str().unwrap()].map(String::from));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_swerm")).args(&a).stdout(full()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("writing to standard output"), "{out:?}");
    let render = ["render", &tiny("trajectories.jsonl"), "--model", &tiny("qwen3")];
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_swerm")).args(render).stdout(full()).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn a_subset_is_neither_a_warning_nor_a_label_error() {
    let d = tempfile::tempdir().unwrap();
    let inputs = runs(d.path());
    let two = &inputs[..2];
    // i2 and i3: run a resolved neither. Its report names them (applied, completed) but
    // resolves only i1 and i4, outside the subset.
    let rep_a = write(d.path(), "ra.json", r#"{"resolved": ["i1", "i4"], "applied": ["i1", "i2", "i3", "i4"]}"#);
    let rep_b = write(
        d.path(),
        "rb.json",
        r#"{"resolved_ids": ["i1", "i2"], "unresolved_ids": ["i3"], "completed_ids": ["i1", "i2", "i3"]}"#,
    );
    let ids = write(d.path(), "ids.txt", "i2\ni3\ni9\n");
    let strip = |s: &str| {
        let v: Vec<String> = s
            .lines()
            .map(|l| {
                let mut v: Value = serde_json::from_str(l).unwrap();
                v.as_object_mut().unwrap().remove("resolved");
                v.to_string()
            })
            .collect();
        v.join("\n") + "\n"
    };
    let plain: Vec<String> = two
        .iter()
        .enumerate()
        .map(|(k, p)| write(d.path(), &format!("p{k}.jsonl"), &strip(&std::fs::read_to_string(p).unwrap())))
        .collect();
    let mut args: Vec<&str> = plain.iter().map(String::as_str).collect();
    let out = d.path().join("o");
    args.extend(["--labels", &rep_a, &rep_b, "--instances", &ids, "--strict", "--json"]);
    let r = rerank(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>(), &out, &[]);
    let err = String::from_utf8_lossy(&r.stderr).into_owned();
    assert!(r.status.success(), "--strict accepts an intended subset: {err}");
    assert!(!err.contains("warning"), "{err}");
    assert!(err.contains("--instances:") && err.contains("missing predictions count as unresolved"), "{err}");
    assert!(
        err.contains("records outside --instances ignored")
            && err.contains("resolved ids of the reports outside it ignored"),
        "{err}"
    );
    let v: Value = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(v["instances"], 3);
    assert_eq!(v["missing_candidates"], 2, "i9 of both runs");
    // A report that names none of the run's instances at all is still an error.
    let other = write(d.path(), "other.json", r#"{"resolved": ["x1"], "applied": ["x1", "x2"]}"#);
    let bad = d.path().join("bad");
    let mut args: Vec<&str> = plain.iter().map(String::as_str).collect();
    args.extend(["--labels", &other, &rep_b, "-o", bad.to_str().unwrap()]);
    let mut a = vec!["rerank"];
    a.extend(args);
    let e = fails(&a);
    assert!(e.contains("other.json: names 2 instances but none of"), "{e}");
}

#[test]
fn eval_and_compare_take_instances() {
    let d = tempfile::tempdir().unwrap();
    let inputs = runs(d.path());
    let (full, sub) = (d.path().join("full"), d.path().join("sub"));
    ok(&rerank(&inputs[..2], &full, &["-q"]));
    let ids = write(d.path(), "ids.txt", "i1\ni2\n");
    let mut a: Vec<String> = inputs[..2].to_vec();
    a.extend(["--instances".into(), ids.clone(), "-q".into()]);
    ok(&rerank(&a, &sub, &[]));
    let want = read_json(&sub.join("report.json"));
    let ev = d.path().join("ev");
    ok(&swerm(&["eval", "--scores", full.to_str().unwrap(), "--instances", &ids, "-q", "-o", ev.to_str().unwrap()]));
    let got = read_json(&ev.join("report.json"));
    for k in ["instances", "candidates", "pass_at_k", "best_at_k", "selected", "auc"] {
        assert_eq!(got[k], want[k], "{k}");
    }
    // compare: the pilot (2 instances) against the full store, on the pilot's instances.
    let cmp = d.path().join("cmp");
    let bad = swerm(&[
        "compare",
        &format!("pilot={}", sub.display()),
        &format!("all={}", full.display()),
        "-o",
        cmp.to_str().unwrap(),
    ]);
    assert_eq!(bad.status.code(), Some(2), "different candidates without --instances");
    ok(&swerm(&[
        "compare",
        &format!("pilot={}", sub.display()),
        &format!("all={}", full.display()),
        "--instances",
        &ids,
        "-q",
        "-o",
        cmp.to_str().unwrap(),
    ]));
    let c = read_json(&cmp.join("compare.json"));
    assert_eq!(c["scorers"]["pilot"]["selected"], c["scorers"]["all"]["selected"], "{c}");
    // calibrate too.
    let cal = d.path().join("cal.json");
    ok(&swerm(&[
        "calibrate",
        "--scores",
        full.to_str().unwrap(),
        "--instances",
        &ids,
        "--folds",
        "2",
        "-o",
        cal.to_str().unwrap(),
    ]));
    assert_eq!(read_json(&cal)["instances"], 2);
}

/// The chat preset (a critic's own conversation) cannot hold an added patch: a conversation that
/// does not show its patch, or whose showing messages the limit dropped, counts as not shown,
/// on each line and in render's count.
#[test]
fn chat_prompts_count_a_patch_not_shown() {
    let render = |max: &str| {
        let args = [
            "render",
            &tiny("trajectories.jsonl"),
            "--model",
            &tiny("qwen3-cls"),
            "--preset",
            "chat",
            "--max-tokens",
            max,
        ];
        let out = swerm(&args);
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        let lines = jsonl(&ok(&out));
        let view = |run: &str| {
            lines.iter().find(|r| r["instance_id"] == "tiny__pkg-1" && r["run"] == run).unwrap()["patch"].clone()
        };
        (view("agent-a"), view("agent-b"), err)
    };
    // agent-a edited with str_replace (its new_str holds the added line); agent-b never did.
    let (a, b, err) = render("2000");
    assert_eq!((a.as_str(), b.as_str()), (Some("shown"), Some("not_shown")));
    assert!(err.contains("patch not shown: 1;"), "{err}");
    let (a, _, err) = render("200");
    assert_eq!(a, "not_shown", "the message that showed it was dropped");
    assert!(err.contains("patch not shown: 2;"), "{err}");
}
