//! End-to-end tests of the `swerm` binary on fixtures the project writes itself
//! (fixtures/demo, from scripts/make_demo.py, with expectations computed by the independent
//! Python reference scripts/swerm_reference.py).

use std::fs;
use std::path::Path;

use serde_json::{Value, json};

use crate::util::*;

#[test]
fn demo_matches_the_independent_reference() {
    let dir = tempfile::tempdir().unwrap();
    let stdout = rerank_demo(dir.path(), &[]);
    let want = read_json(&root().join("fixtures/demo/expected.json"));
    let report = read_json(&dir.path().join("report.json"));
    let m = &want["metrics"];
    for key in ["pass_at_k", "best_at_k", "random_at_k"] {
        let w = m[key].as_object().unwrap();
        assert_eq!(report[key].as_object().unwrap().len(), w.len(), "{key} keys");
        for (k, v) in w {
            close(&report[key][k], v, &format!("{key}[{k}]"));
        }
    }
    for key in ["auc", "auc_non_empty", "auc_per_instance", "ece", "brier"] {
        close(&report[key], &m[key], key);
    }
    close(&report["selected"]["rate"], &m["selected"]["rate"], "selected.rate");
    let sel = &m["selected"]["expected_under_random_ties"];
    close(&report["selected"]["expected_under_random_ties"], sel, "selected.expected");
    // Ties and per-run rates, as the reference enumerates them (the picks per run depend on
    // the exact bytes the demo's formats carry: check_report.py checks them from scores.jsonl).
    assert_eq!(report["ties"]["instances_with_tied_top"], m["ties"][0]);
    assert_eq!(report["ties"]["with_mixed_labels"], m["ties"][1]);
    assert!(m["ties"][1].as_u64().unwrap() > 0, "the demo has ties the tie-break decides");
    for (r, run) in want["runs"].as_array().unwrap().iter().enumerate() {
        let run = run.as_str().unwrap();
        close(&report["per_run"][run]["rate"], &m["run_rates"][r], "per-run rate");
    }
    assert_eq!(report["missing_candidates"], want["holes"]);
    assert_eq!(report["k"], serde_json::json!([1, 2, 4, 6]));

    // Every candidate: the consensus score and label the reference computed.
    let scores = jsonl_file(&dir.path().join("scores.jsonl"));
    assert_eq!(scores.len(), 24 * 6);
    for s in &scores {
        let w = &want["candidates"][s["instance_id"].as_str().unwrap()][s["run"].as_str().unwrap()];
        close(&s["score"], &w["score"], "score");
        assert_eq!(s["resolved"], w["resolved"], "{s}");
    }

    // One prediction per instance, the chosen candidate's patch verbatim.
    let preds = jsonl_file(&dir.path().join("predictions.jsonl"));
    assert_eq!(preds.len(), 24);
    for p in &preds {
        assert_eq!(p["model_name_or_path"], "swerm");
        assert!(p["model_patch"].is_string());
    }
    let md = fs::read_to_string(dir.path().join("report.md")).unwrap();
    assert!(md.contains("| k | pass@k (oracle) | best@k (reranked) | random@k |"), "{md}");
    check_report(&[dir.path()]);
    let svg = fs::read_to_string(dir.path().join("tts.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("best@k"), "svg");
    assert!(stdout.contains("pass@k") && stdout.contains("selected:"), "{stdout}");
}

#[test]
fn predictions_carry_the_patch_verbatim() {
    // run-f writes CRLF patches, run-d (SWE-agent) patches start with a blank line; listed
    // first, run-f wins every tie, and run-d wins where run-f has nothing.
    let dir = tempfile::tempdir().unwrap();
    let (f, d) = (demo("runs/run-f.jsonl"), demo("runs/run-d"));
    ok(&swerm(&["rerank", &f, &d, "--name", "my-reranker", "-q", "-o", dir.path().to_str().unwrap()]));
    let src: Vec<Value> = jsonl_file(Path::new(&f));
    let (mut from_f, mut from_d) = (0, 0);
    for p in jsonl_file(&dir.path().join("predictions.jsonl")) {
        assert_eq!(p["model_name_or_path"], "my-reranker");
        if p["run"] == "run-f" {
            let orig = src.iter().find(|r| r["instance_id"] == p["instance_id"]).unwrap();
            assert_eq!(p["model_patch"], orig["model_patch"]);
            assert!(p["model_patch"].as_str().unwrap().contains("\r\n"));
            from_f += 1;
        } else {
            let traj = read_json(&Path::new(&d).join(format!("{}.traj", p["instance_id"].as_str().unwrap())));
            assert_eq!(p["model_patch"], traj["info"]["submission"]);
            assert!(p["model_patch"].as_str().unwrap().starts_with('\n'));
            from_d += 1;
        }
    }
    assert!(from_f > 0 && from_d > 0, "{from_f} {from_d}");
}

#[test]
fn outputs_are_deterministic_and_bootstrap_is_seeded() {
    let (a, b, c) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    rerank_demo(a.path(), &["--bootstrap", "200", "--seed", "7"]);
    rerank_demo(b.path(), &["--bootstrap", "200", "--seed", "7"]);
    rerank_demo(c.path(), &["--bootstrap", "200", "--seed", "8"]);
    for f in ["scores.jsonl", "predictions.jsonl", "report.json", "report.md", "tts.svg"] {
        assert_eq!(fs::read(a.path().join(f)).unwrap(), fs::read(b.path().join(f)).unwrap(), "{f}");
    }
    let (ra, rc) = (read_json(&a.path().join("report.json")), read_json(&c.path().join("report.json")));
    assert_eq!(ra["ci"]["seed"], 7);
    assert_ne!(ra["ci"]["best_at_k"], rc["ci"]["best_at_k"]);
    let (lo, hi) = (ra["ci"]["best_at_k"]["6"][0].as_f64().unwrap(), ra["ci"]["best_at_k"]["6"][1].as_f64().unwrap());
    let v = ra["best_at_k"]["6"].as_f64().unwrap();
    assert!(lo <= v && v <= hi, "{lo} {v} {hi}");
}

#[test]
fn eval_and_select_reproduce_rerank() {
    let dir = tempfile::tempdir().unwrap();
    rerank_demo(dir.path(), &[]);
    let scores = dir.path().join("scores.jsonl");
    let ev = tempfile::tempdir().unwrap();
    ok(&swerm(&["eval", "--scores", scores.to_str().unwrap(), "-o", ev.path().to_str().unwrap()]));
    let (r1, r2) = (read_json(&dir.path().join("report.json")), read_json(&ev.path().join("report.json")));
    for key in ["pass_at_k", "best_at_k", "random_at_k", "selected", "auc", "auc_per_instance", "ece", "brier"] {
        assert_eq!(r1[key], r2[key], "{key}");
    }
    let sel = tempfile::tempdir().unwrap();
    let mut args = vec!["select".to_string()];
    args.extend(demo_runs());
    args.extend(["--scores".into(), scores.to_string_lossy().into(), "-o".into(), sel.path().to_string_lossy().into()]);
    ok(&swerm_s(&args));
    assert_eq!(
        fs::read(dir.path().join("predictions.jsonl")).unwrap(),
        fs::read(sel.path().join("predictions.jsonl")).unwrap()
    );
}

#[test]
fn eval_pairs_reports_by_run_name() {
    let dir = tempfile::tempdir().unwrap();
    // Rerank without labels, then label in eval.
    let mut args = vec!["rerank".to_string()];
    args.extend(demo_runs());
    args.extend(["-o".into(), dir.path().to_string_lossy().into(), "-q".into()]);
    let stdout = ok(&swerm_s(&args));
    assert!(stdout.contains("note:"), "{stdout}");
    let report = read_json(&dir.path().join("report.json"));
    // Only run-c and run-e carry embedded labels: the label-dependent metrics wait.
    assert!(report.get("pass_at_k").is_none(), "{report}");
    assert!(report["notes"][0].as_str().unwrap().contains("candidates have no label"), "{report}");

    let ev = tempfile::tempdir().unwrap();
    let mut args: Vec<String> =
        vec!["eval".into(), "--scores".into(), dir.path().join("scores.jsonl").to_string_lossy().into()];
    for r in ["a", "b", "c", "d", "e", "f"] {
        args.push("--labels".into());
        args.push(format!("run-{r}={}", demo(&format!("reports/run-{r}.json"))));
    }
    args.extend(["-o".into(), ev.path().to_string_lossy().into()]);
    ok(&swerm_s(&args));
    let want = read_json(&root().join("fixtures/demo/expected.json"));
    let got = read_json(&ev.path().join("report.json"));
    close(&got["best_at_k"]["6"], &want["metrics"]["best_at_k"]["6"], "best@6");
    close(&got["auc"], &want["metrics"]["auc"], "auc");
}

#[test]
fn instances_file_sets_the_denominator() {
    let dir = tempfile::tempdir().unwrap();
    rerank_demo(dir.path(), &["--instances", &demo("instances.txt")]);
    let report = read_json(&dir.path().join("report.json"));
    assert_eq!(report["instances"], 25);
    assert_eq!(report["missing_candidates"], 14 + 6);
    let want = read_json(&root().join("fixtures/demo/expected.json"));
    let p1 = want["metrics"]["pass_at_k"]["1"].as_f64().unwrap() * 24.0 / 25.0;
    close(&report["pass_at_k"]["1"], &Value::from(p1), "pass@1 over 25");
    assert_eq!(jsonl_file(&dir.path().join("predictions.jsonl")).len(), 25);
}

#[test]
fn directory_of_runs_and_field_scorer() {
    let dir = tempfile::tempdir().unwrap();
    // A directory of runs: each file or .traj directory is a run.
    let out = swerm(&["rerank", &demo("runs"), "-o", dir.path().to_str().unwrap(), "-q"]);
    ok(&out);
    let report = read_json(&dir.path().join("report.json"));
    assert_eq!(report["runs"], 6);
    assert_eq!(report["run_names"], serde_json::json!(["run-a", "run-b", "run-c", "run-d", "run-e", "run-f"]));

    // field:NAME ranks by a score in the records; scores outside [0, 1] drop calibration.
    let runs = tempfile::tempdir().unwrap();
    let f1 = runs.path().join("one.jsonl");
    let f2 = runs.path().join("two.jsonl");
    fs::write(&f1, "{\"instance_id\":\"x\",\"model_patch\":\"+a\",\"resolved\":true,\"v\":{\"s\":3.5}}\n{\"instance_id\":\"y\",\"model_patch\":\"+c\",\"resolved\":false,\"v\":{\"s\":-1}}\n").unwrap();
    fs::write(&f2, "{\"instance_id\":\"x\",\"model_patch\":\"+b\",\"resolved\":false,\"v\":{\"s\":-2}}\n").unwrap();
    let o = tempfile::tempdir().unwrap();
    ok(&swerm(&[
        "rerank",
        f1.to_str().unwrap(),
        f2.to_str().unwrap(),
        "--scorer",
        "field:v.s",
        "-o",
        o.path().to_str().unwrap(),
    ]));
    let r = read_json(&o.path().join("report.json"));
    assert_eq!(r["scorer"], "field:v.s");
    assert_eq!(r["best_at_k"]["2"], 0.5); // x: the resolved candidate wins; y: no resolved one
    assert!(r.get("ece").is_none());
    let s = jsonl_file(&o.path().join("scores.jsonl"));
    let hole = s.iter().find(|l| l["instance_id"] == "y" && l["run"] == "two").unwrap();
    assert_eq!(hole["score"], Value::Null);
    assert_eq!(hole["empty"], true);
}

// ---- bad input: exit 2, one line naming file:line and field, nothing written ----

#[test]
fn malformed_json_names_file_and_line() {
    let d = tempfile::tempdir().unwrap();
    let f = write(d.path(), "run.jsonl", "{\"instance_id\":\"a\",\"model_patch\":\"\"}\n{\"instance_id\": \"b\", \n");
    let out = d.path().join("out");
    let err = fails(&["rerank", &f, "-o", out.to_str().unwrap()]);
    assert!(err.contains("run.jsonl:2: invalid JSON"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(!out.exists(), "nothing may be written on error");
}

#[test]
fn wrong_field_types_are_named() {
    let d = tempfile::tempdir().unwrap();
    let f = write(
        d.path(),
        "run.jsonl",
        "{\"instance_id\":\"a\",\"model_patch\":\"x\"}\n\n{\"instance_id\":\"b\",\"model_patch\":7}\n",
    );
    let err = fails(&["rerank", &f, "-o", d.path().join("o").to_str().unwrap()]);
    assert!(err.contains("run.jsonl:3: field `model_patch`: expected a string, found a number"), "{err}");
    let f = write(d.path(), "r2.jsonl", "{\"instance_id\":\"a\",\"model_patch\":\"x\",\"resolved\":\"maybe\"}\n");
    let err = fails(&["rerank", &f, "-o", d.path().join("o").to_str().unwrap()]);
    assert!(err.contains("r2.jsonl:1: field `resolved`"), "{err}");
    let f = write(d.path(), "arr.json", "[{\"instance_id\":\"a\"}, {\"instance_id\": null}]");
    let err = fails(&["rerank", &f, "-o", d.path().join("o").to_str().unwrap()]);
    assert!(err.contains("arr.json: record 2: field `instance_id`"), "{err}");
}

#[test]
fn unreadable_and_unknown_inputs() {
    let d = tempfile::tempdir().unwrap();
    let err = fails(&["rerank", "/nonexistent/run.jsonl", "-o", d.path().to_str().unwrap()]);
    assert!(err.contains("/nonexistent/run.jsonl"), "{err}");
    let f = write(d.path(), "x.jsonl", "{\"foo\": 1}\n");
    let err = fails(&["rerank", &f, "-o", d.path().join("o").to_str().unwrap()]);
    assert!(err.contains("x.jsonl:1: cannot tell the format"), "{err}");
    let f = write(d.path(), "y.jsonl", "not json\n");
    let err = fails(&["rerank", &f, "-o", d.path().join("o").to_str().unwrap()]);
    assert!(err.contains("y.jsonl:1"), "{err}");
}

#[test]
fn duplicates_and_contradictions_are_errors() {
    let d = tempfile::tempdir().unwrap();
    let f = write(
        d.path(),
        "run.jsonl",
        "{\"instance_id\":\"a\",\"model_patch\":\"x\"}\n{\"instance_id\":\"a\",\"model_patch\":\"y\"}\n",
    );
    let err = fails(&["rerank", &f, "-o", d.path().join("o").to_str().unwrap()]);
    assert!(err.contains("run.jsonl:2: duplicate candidate") && err.contains("run.jsonl:1"), "{err}");
    // Across inputs: two files whose records name the same run; the first is named.
    let a = write(d.path(), "a.jsonl", "{\"instance_id\":\"b\",\"run\":\"r\",\"model_patch\":\"x\"}\n");
    let b = write(
        d.path(),
        "b.jsonl",
        "{\"instance_id\":\"c\",\"run\":\"r\",\"model_patch\":\"x\"}\n{\"instance_id\":\"b\",\"run\":\"r\",\"model_patch\":\"y\"}\n",
    );
    let err = fails(&["rerank", &a, &b, "-o", d.path().join("o").to_str().unwrap()]);
    assert!(
        err.contains("b.jsonl:2: duplicate candidate: instance b of run r")
            && err.contains("at ")
            && err.contains("a.jsonl:1"),
        "{err}"
    );

    let f = write(d.path(), "lab.jsonl", "{\"instance_id\":\"a\",\"model_patch\":\"x\",\"resolved\":true}\n");
    let rep = write(d.path(), "rep.json", "{\"resolved\": []}");
    let err = fails(&["rerank", &f, "--labels", &rep, "-o", d.path().join("o").to_str().unwrap()]);
    assert!(err.contains("contradicting labels for instance a of run lab") && err.contains("lab.jsonl:1"), "{err}");
}

#[test]
fn unpaired_and_bad_reports() {
    let d = tempfile::tempdir().unwrap();
    let o = d.path().join("o");
    let mut args = vec!["rerank".to_string()];
    args.extend(demo_runs());
    args.extend(["--labels".into(), demo("reports/run-a.json"), "-o".into(), o.to_string_lossy().into()]);
    let err = fails(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(err.contains("1 label reports for 6 inputs"), "{err}");
    let bad = write(d.path(), "bad.json", "{\"stats\": 3}");
    let err = fails(&["rerank", &demo_runs()[0], "--labels", &bad, "-o", o.to_str().unwrap()]);
    assert!(err.contains("bad.json: not a SWE-bench harness report"), "{err}");
    let err = fails(&["rerank", &demo_runs()[0], "--labels", "nosuchrun=x.json", "-o", o.to_str().unwrap()]);
    assert!(err.contains("no run named \"nosuchrun\""), "{err}");
    assert!(!o.exists());
}

#[test]
fn bad_k_is_an_error() {
    let d = tempfile::tempdir().unwrap();
    let err = fails(&["rerank", &demo_runs()[0], &demo_runs()[1], "-k", "3", "-o", d.path().to_str().unwrap()]);
    assert!(err.contains("-k 3"), "{err}");
}

#[test]
fn help_has_examples() {
    for cmd in ["rerank", "eval", "select"] {
        let out = ok(&swerm(&[cmd, "--help"]));
        assert!(out.contains("Example"), "{cmd}: {out}");
    }
}

#[test]
fn json_output_and_fail_under_gates() {
    let d = tempfile::tempdir().unwrap();
    let mut args: Vec<String> = vec!["rerank".into()];
    args.extend(demo_runs());
    args.push("--labels".into());
    args.extend(demo_reports());
    args.extend(["-q".into(), "--json".into(), "-o".into(), d.path().join("a").to_string_lossy().into()]);
    let out = ok(&swerm_s(&args));
    assert_eq!(out.trim().lines().count(), 1, "{out}");
    let mut v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["gates"], serde_json::json!([]), "no gates given");
    v.as_object_mut().unwrap().remove("gates");
    assert_eq!(v, read_json(&d.path().join("a/report.json")), "stdout is report.json's numbers");
    // Gates: exit 1 below the bound, after writing everything; 0 when met.
    let gate = |g: &[&str], dir: &str| {
        let mut a: Vec<String> = args[..args.len() - 3].to_vec();
        for x in g {
            a.extend(["--fail-under".into(), x.to_string()]);
        }
        a.extend(["-o".into(), d.path().join(dir).to_string_lossy().into()]);
        swerm_s(&a)
    };
    let r = gate(&["selected=0.9", "best@4=0.2"], "b");
    assert_eq!(r.status.code(), Some(1));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(err.contains("selected = 0.4583 is below 0.9") && !err.contains("best@4"), "{err}");
    assert!(d.path().join("b/predictions.jsonl").exists() && d.path().join("b/report.json").exists());
    assert_eq!(gate(&["selected=0.4", "auc=0.7", "pass@6=0.9"], "c").status.code(), Some(0));
    // --json carries every gate's metric, value, threshold and result.
    let mut a: Vec<String> = args[..args.len() - 3].to_vec();
    a.extend(["--json", "--fail-under", "selected=0.9", "--fail-under", "best@4=0.2", "-o"].map(String::from));
    a.push(d.path().join("g").to_string_lossy().into());
    let r = swerm_s(&a);
    assert_eq!(r.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&r.stdout).unwrap();
    let report = read_json(&d.path().join("g/report.json"));
    assert_eq!(
        v["gates"],
        serde_json::json!([
            {"metric": "selected", "value": report["selected"]["rate"], "threshold": 0.9, "passed": false},
            {"metric": "best@4", "value": report["best_at_k"]["4"], "threshold": 0.2, "passed": true},
        ])
    );
    let e = fails(&["rerank", &demo_runs()[0], "--fail-under", "ece=0.1", "-o", d.path().join("e").to_str().unwrap()]);
    assert!(e.contains("higher is better"), "{e}");
    // A bound that is a percentage, a k beyond the runs, a metric without labels: exit 2.
    let e =
        fails(&["rerank", &demo_runs()[0], "--fail-under", "selected=30", "-o", d.path().join("e").to_str().unwrap()]);
    assert!(e.contains("fraction in [0, 1]"), "{e}");
    let r = gate(&["best@7=0.1"], "k7");
    assert_eq!(r.status.code(), Some(2), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(String::from_utf8_lossy(&r.stderr).contains("between 1 and the number of runs (6)"));
    let mut unlabeled: Vec<String> = vec!["rerank".into()];
    unlabeled.extend(demo_runs());
    unlabeled.extend(["-q", "--fail-under", "auc=0.5", "-o"].map(String::from));
    unlabeled.push(d.path().join("u").to_string_lossy().into());
    let r = swerm_s(&unlabeled);
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("could not be computed"));
    assert!(d.path().join("u/report.json").exists(), "the outputs are written first");
    // best@3 and pass@3, not in the default table (1, 2, 4, 6), are computed for the gate:
    // the values a run with -k 3 reports.
    let mut a: Vec<String> = args[..args.len() - 3].to_vec();
    a.extend(["--json", "--fail-under", "best@3=0", "--fail-under", "pass@3=0", "-o"].map(String::from));
    a.push(d.path().join("k3").to_string_lossy().into());
    let v: Value = serde_json::from_str(&ok(&swerm_s(&a))).unwrap();
    assert!(v["best_at_k"].get("3").is_none(), "the table keeps its k values");
    let mut a: Vec<String> = args[..args.len() - 3].to_vec();
    a.extend(["--json", "-k", "3", "-o"].map(String::from));
    a.push(d.path().join("with3").to_string_lossy().into());
    let with3: Value = serde_json::from_str(&ok(&swerm_s(&a))).unwrap();
    assert_eq!(v["gates"][0]["value"], with3["best_at_k"]["3"]);
    assert_eq!(v["gates"][1]["value"], with3["pass_at_k"]["3"]);
}

#[test]
fn completions_and_man_pages_come_from_the_cli() {
    let bash = ok(&swerm(&["completions", "bash"]));
    assert!(bash.contains("rerank") && bash.contains("--labels") && bash.contains("--tie-break"), "{bash}");
    let check = std::process::Command::new("bash").args(["-n", "-c", &bash]).status().unwrap();
    assert!(check.success(), "the bash script parses");
    assert!(ok(&swerm(&["completions", "zsh"])).starts_with("#compdef swerm"));
    assert!(ok(&swerm(&["completions", "fish"])).contains("complete -c swerm"));
    let err = fails(&["completions", "tcsh"]);
    assert!(err.contains("tcsh"), "{err}");
    // Options with a fixed set of values complete to those values, not to file names: bash's
    // completion function asked as bash asks it (`_swerm CMD CUR PREV`), and zsh's and fish's
    // scripts list them.
    let d = tempfile::tempdir().unwrap();
    let script = d.path().join("swerm.bash");
    fs::write(&script, &bash).unwrap();
    let offered = |cmd: &str, opt: &str| -> String {
        let run = format!(
            "source '{}'; COMP_WORDS=(swerm {cmd} {opt} ''); COMP_CWORD=3; COMP_LINE='swerm {cmd} {opt} '; COMP_POINT=${{#COMP_LINE}}; _swerm swerm '' {opt}; echo \"${{COMPREPLY[*]}}\"",
            script.display()
        );
        let out = std::process::Command::new("bash").args(["-c", &run]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    assert_eq!(offered("rerank", "--preset"), "swegym r2egym swelego chat cot");
    assert_eq!(offered("score", "--dtype"), "auto f32 bf16 f16");
    assert_eq!(offered("score", "--endpoint-api"), "auto vllm prompt-logprobs sglang sglang-score classify chat");
    assert_eq!(offered("score", "--verdict"), "logprob parse");
    assert_eq!(offered("rerank", "--format"), "predictions openhands sweagent mini chat acr");
    assert_eq!(offered("rerank", "--scale"), "z logit");
    assert_eq!(offered("calibrate", "--method"), "temperature platt");
    let zsh = ok(&swerm(&["completions", "zsh"]));
    assert!(zsh.contains(":PRESET:(swegym r2egym swelego chat cot)"), "zsh");
    let fish = ok(&swerm(&["completions", "fish"]));
    assert!(fish.contains("-l dtype") && fish.contains("bf16"), "fish");
    // Parsing is each type's own: aliases pass, and a wrong value says what is expected.
    let err = fails(&["rerank", "x", "--preset", "bogus", "-o", "o"]);
    assert!(err.contains("invalid value 'bogus' for '--preset <PRESET>'") && err.contains("expected swegym"), "{err}");
    let page = ok(&swerm(&["man"]));
    assert!(page.contains(".TH swerm 1") && page.contains("rerank"), "{page}");
    let d = tempfile::tempdir().unwrap();
    let out = ok(&swerm(&["man", "--dir", d.path().to_str().unwrap()]));
    assert!(out.contains("swerm-rerank.1") && out.contains("swerm.1"), "{out}");
    let rerank = fs::read_to_string(d.path().join("swerm-rerank.1")).unwrap();
    assert!(rerank.contains(r"\-\-labels") && rerank.contains(r"\-\-fail\-under"), "{rerank}");
}

/// `--device cuda` in a build without CUDA is refused when the settings are built, before any
/// input is read: the error names the device, not the (missing) input.
#[test]
fn a_cuda_device_without_cuda_is_refused_before_reading() {
    if cfg!(feature = "cuda") {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let missing = d.path().join("no-such-run.jsonl");
    let (model, out) = (tiny("qwen3"), d.path().join("out"));
    let (missing, out) = (missing.to_str().unwrap(), out.to_str().unwrap());
    for args in [
        vec!["rerank", missing, "--model", &model, "--device", "cuda:0", "-o", out],
        vec!["score", missing, "--model", &model, "--device", "cuda", "-o", out],
        vec!["selftest", "--device", "cuda:1"],
    ] {
        let e = fails(&args);
        assert!(e.contains("built without CUDA") && !e.contains("no-such-run"), "{args:?}: {e}");
    }
    assert!(!Path::new(out).exists(), "nothing written");
}

/// `--max-tokens` below the floor is refused by the one check every prompt-building command
/// shares, before any input is read.
#[test]
fn max_tokens_floor_is_one_check() {
    let d = tempfile::tempdir().unwrap();
    let (model, out) = (tiny("qwen3"), d.path().join("out"));
    let out = out.to_str().unwrap();
    for cmd in [vec!["render"], vec!["score", "-o", out], vec!["rerank", "-o", out]] {
        let args = [&cmd[..], &["no-such-run.jsonl", "--model", &model, "--max-tokens", "63", "-q"]].concat();
        let e = fails(&args);
        assert!(e.contains("--max-tokens must be at least 64") && !e.contains("no-such-run"), "{cmd:?}: {e}");
    }
}

/// `swerm inspect`: the answer tokens and the presets that fit, for every kind of tiny
/// checkpoint: causal, a classification head, a tokenizer adding <YES>/<NO>, a config with rope
/// scaling, and an architecture swerm does not run.
#[test]
fn inspect_says_what_a_checkpoint_expects() {
    let inspect = |m: &str| -> Value { serde_json::from_str(&ok(&swerm(&["inspect", m, "--json"]))).unwrap() };
    let fits = |v: &Value| -> Vec<String> {
        v["fits"].as_array().unwrap().iter().map(|f| f["what"].as_str().unwrap().to_string()).collect()
    };
    let moe = inspect(&tiny("qwen3-moe"));
    assert_eq!((moe["architecture"].as_str(), moe["kind"].as_str()), (Some("Qwen3MoeForCausalLM"), Some("causal")));
    assert_eq!(
        fits(&moe),
        [
            "--preset swegym",
            "--preset r2egym",
            "--preset swelego",
            "--pairwise",
            "--preset cot --generate N (or --template FILE)"
        ]
    );
    // The ids are the tokenizer's: " YES" = 14080, " NO" = 5664 (docs/spec/verifiers.md).
    let swegym = moe["answers"].as_array().unwrap().iter().find(|a| a["preset"] == "swegym").unwrap();
    assert_eq!((&swegym["yes"][0][1], &swegym["no"][0][1]), (&json!(14080), &json!(5664)));
    assert_eq!(moe["think_block"]["before_assistant_turn"], true, "Qwen3's template");
    assert_eq!(inspect(&tiny("qwen2"))["think_block"]["before_assistant_turn"], false, "ChatML");
    let head = inspect(&tiny("qwen3-moe-cls"));
    assert_eq!(head["kind"], "classification");
    assert_eq!(head["labels"], json!(["resolved_rubric", "success", "loops"]));
    assert_eq!(fits(&head), ["--preset chat"]);
    let d = tempfile::tempdir().unwrap();
    // A tokenizer adding <YES> and <NO> (SWE-RM as described), and rope scaling in config.json.
    let ck = d.path().join("swe-rm-like");
    fs::create_dir(&ck).unwrap();
    for f in ["model.safetensors", "tokenizer_config.json"] {
        fs::copy(Path::new(&tiny("qwen3")).join(f), ck.join(f)).unwrap();
    }
    let mut cfg = read_json(&Path::new(&tiny("qwen3")).join("config.json"));
    cfg["rope_scaling"] = json!({"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 1024});
    fs::write(ck.join("config.json"), cfg.to_string()).unwrap();
    let mut tok: Value = serde_json::from_str(&fs::read_to_string(tiny("tokenizer.json")).unwrap()).unwrap();
    let added = tok["added_tokens"].as_array_mut().unwrap();
    let next = added.iter().map(|t| t["id"].as_u64().unwrap()).max().unwrap() + 1;
    for (i, t) in ["<YES>", "<NO>"].iter().enumerate() {
        added.push(json!({"id": next + i as u64, "content": t, "single_word": false, "lstrip": false,
            "rstrip": false, "normalized": false, "special": true}));
    }
    fs::write(ck.join("tokenizer.json"), tok.to_string()).unwrap();
    let rm = inspect(ck.to_str().unwrap());
    assert_eq!(rm["adds_yes_no"], true);
    assert_eq!(fits(&rm)[0], "--preset swegym (SWE-RM)");
    let first = &rm["answers"][0];
    assert_eq!((&first["yes"][0][0], &first["yes"][0][1]), (&json!("<YES>"), &json!(next)));
    assert_eq!(rm["rope_scaling"], "yarn x4 over 1024");
    assert!(rm["fits"].to_string().contains("rope scaling from config.json"), "{rm}");
    // An architecture swerm does not run: said plainly, in text too.
    let llama = d.path().join("llama");
    fs::create_dir(&llama).unwrap();
    for f in ["tokenizer.json", "tokenizer_config.json"] {
        fs::copy(Path::new(&tiny("qwen3")).join(f), llama.join(f)).unwrap();
    }
    fs::write(llama.join("config.json"), r#"{"architectures": ["LlamaForCausalLM"], "max_position_embeddings": 8192}"#)
        .unwrap();
    let v = inspect(llama.to_str().unwrap());
    assert!(v["fits_nothing"].as_str().unwrap().contains("LlamaForCausalLM is not supported"), "{v}");
    let text = ok(&swerm(&["inspect", llama.to_str().unwrap()]));
    assert!(text.contains("fits no preset"), "{text}");
}
