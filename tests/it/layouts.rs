//! The layouts agents write (fixtures/layouts, from scripts/make_layouts.py): detection, run
//! names, non-empty patches, trajectories in the prompt with their issue statement and without
//! demonstrations or bookkeeping; runs named on the command line; nothing read silently as empty.

use std::fs;
use std::path::Path;

use serde_json::Value;

use crate::util::*;

fn layouts() -> Value {
    read_json(Path::new(&fixture("layouts/expected.json")))
}

#[test]
fn every_layout_is_read_as_its_agent_wrote_it() {
    let want = layouts();
    for (layout, runs) in want["layouts"].as_object().unwrap() {
        let d = tempfile::tempdir().unwrap();
        let stdout =
            ok(&swerm(&["rerank", &fixture(&format!("layouts/{layout}")), "-q", "-o", d.path().to_str().unwrap()]));
        let report = read_json(&d.path().join("report.json"));
        assert_eq!(&report["run_names"], runs, "{layout}: {stdout}");
        assert_eq!(report["instances"], want["instances"].as_array().unwrap().len(), "{layout}");
        assert_eq!(
            (report["empty_candidates"].as_u64(), report["missing_candidates"].as_u64()),
            (Some(0), Some(0)),
            "{layout}"
        );
        for p in jsonl_file(&d.path().join("predictions.jsonl")) {
            let patch = p["model_patch"].as_str().unwrap();
            assert!(patch.contains("diff --git a/pkg/"), "{layout}: {p}");
        }
    }
}

#[test]
fn prompts_hold_the_issue_and_no_demonstration_or_bookkeeping() {
    let want = layouts();
    let forbidden: Vec<&str> = want["forbidden"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    let patch_only: Vec<&str> = want["patch_only"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    for layout in want["layouts"].as_object().unwrap().keys().filter(|l| !patch_only.contains(&l.as_str())) {
        let out = ok(&swerm(&["render", &fixture(&format!("layouts/{layout}")), "--model", &tiny("qwen3")]));
        let lines = jsonl(&out);
        assert!(!lines.is_empty(), "{layout}");
        for r in lines {
            let prompt = r["prompt"].as_str().unwrap();
            let issue = want["issues"][r["instance_id"].as_str().unwrap()].as_str().unwrap();
            assert!(prompt.contains(issue), "{layout} {}: no issue statement", r["instance_id"]);
            for f in &forbidden {
                assert!(!prompt.contains(f), "{layout} {}: {f} reached the prompt", r["instance_id"]);
            }
            assert!(prompt.contains("ASSISTANT"), "{layout}: the agent's turns are missing");
            // Every layout's patch adds this line: the judge sees what the candidate did.
            assert!(prompt.contains("if not xs: return None"), "{layout} {}: the patch is not shown", r["instance_id"]);
            assert_ne!(r["patch"], "not_shown", "{layout}");
        }
    }
}

/// AutoCodeRover: the trajectory is the conversation that wrote the submitted attempt, cut after
/// the turn that wrote it (the feedback on it, which says whether tests passed, never shown); a
/// folder without that conversation gets its patch added to the prompt.
#[test]
fn autocoderover_prompts_show_the_submitted_attempt() {
    let out = ok(&swerm(&["render", &fixture("layouts/acr/acr-run-x"), "--model", &tiny("qwen3")]));
    let lines = jsonl(&out);
    assert_eq!(lines.len(), 3);
    for r in &lines {
        let prompt = r["prompt"].as_str().unwrap();
        // The submitted attempt (variant `acr`), in ACR's own form.
        assert!(prompt.contains("if not xs: return None  # acr\n"), "{r}");
        assert!(!prompt.contains("ACR_FEEDBACK_MARKER"), "{r}");
        match r["instance_id"].as_str().unwrap() {
            // Two attempts in one conversation: the first one and its feedback come before.
            "layout__pkg-101" => {
                assert_eq!(r["patch"], "shown");
                let (first, second) = (prompt.find("# acr-first").unwrap(), prompt.find("# acr\n").unwrap());
                assert!(first < second && prompt.contains("<patched>"), "{r}");
                assert!(prompt.trim_end().ends_with("<judgement>"));
            }
            "layout__pkg-202" => assert_eq!(r["patch"], "shown"),
            // No write-patch conversation: the rounds, and the patch as a final block.
            _ => {
                assert_eq!(r["patch"], "added");
                assert!(prompt.contains("diff --git a/pkg/layout__tool-303.py"), "{r}");
            }
        }
    }
    // One instance folder given on its own: that instance, as its run folder renders it, under
    // the run folder's name (its conversation rounds are not read as mini-swe-agent lists).
    let one = fixture("layouts/acr/acr-run-x/applicable_patch/layout__pkg-202_2024-04-02_12-31-09");
    let alone = jsonl(&ok(&swerm(&["render", &one, "--model", &tiny("qwen3")])));
    let whole = lines.iter().find(|r| r["instance_id"] == "layout__pkg-202").unwrap();
    assert_eq!(alone.len(), 1);
    assert_eq!((&alone[0]["run"], &alone[0]["prompt"]), (&whole["run"], &whole["prompt"]));
    assert_eq!(alone[0]["run"], "acr-run-x");
    // Instance folders of one run given one by one (a glob over applicable_patch/*/): one run
    // of those instances, as the run folder renders them.
    let two = fixture("layouts/acr/acr-run-x/applicable_patch/layout__pkg-101_2024-04-01_12-30-09");
    let both = jsonl(&ok(&swerm(&["render", &one, &two, "--model", &tiny("qwen3")])));
    assert_eq!(both.len(), 2);
    for r in &both {
        let w = lines.iter().find(|w| w["instance_id"] == r["instance_id"]).unwrap();
        assert_eq!((&r["run"], &r["prompt"]), (&w["run"], &w["prompt"]));
    }
}

#[test]
fn runs_named_on_the_command_line_and_clashing_names() {
    let d = tempfile::tempdir().unwrap();
    let (gpt, qwen) =
        (fixture("layouts/openhands/gpt_maxiter_30_N_v1"), fixture("layouts/openhands/qwen_maxiter_30_N_v1"));
    // Two output.jsonl files: each takes its directory's name.
    let o1 = d.path().join("o1");
    ok(&swerm(&[
        "rerank",
        &format!("{gpt}/output.jsonl"),
        &format!("{qwen}/output.jsonl"),
        "-q",
        "-o",
        o1.to_str().unwrap(),
    ]));
    assert_eq!(
        read_json(&o1.join("report.json"))["run_names"],
        serde_json::json!(["gpt_maxiter_30_N_v1", "qwen_maxiter_30_N_v1"])
    );
    // NAME=PATH: the name everywhere, labels paired by it.
    let o2 = d.path().join("o2");
    let stdout = ok(&swerm(&[
        "rerank",
        &format!("gpt={gpt}/output.jsonl"),
        &format!("qwen={qwen}/output.jsonl"),
        "--labels",
        &format!("gpt={gpt}/report.json"),
        &format!("qwen={qwen}/report.json"),
        "-q",
        "-o",
        o2.to_str().unwrap(),
    ]));
    let report = read_json(&o2.join("report.json"));
    assert_eq!(report["run_names"], serde_json::json!(["gpt", "qwen"]), "{stdout}");
    assert_eq!(report["resolved_candidates"], 1);
    assert!(jsonl_file(&o2.join("scores.jsonl")).iter().all(|l| l["run"] == "gpt" || l["run"] == "qwen"));
    // The same file twice is not two runs: said once, as given.
    let same = format!("{gpt}/output.jsonl");
    let err = fails(&["rerank", &same, &same, "-o", d.path().join("o3").to_str().unwrap()]);
    assert!(err.contains(&format!("{same} is given twice: give each run once")), "{err}");
    assert_eq!(err.matches(&same).count(), 1, "{err}");
    // ... nor is a folder given as `dir` and `dir/`.
    let err = fails(&["rerank", &gpt, &format!("{gpt}/"), "-o", d.path().join("o3").to_str().unwrap()]);
    assert!(err.contains("is given twice (also as") && !err.contains("tells them apart"), "{err}");
    // NAME= on a directory holding several runs is refused.
    let err = fails(&["rerank", &format!("q={qwen}"), "-o", d.path().join("o4").to_str().unwrap()]);
    assert!(err.contains("holds 2 runs") && err.contains("NAME=PATH names one run"), "{err}");
}

#[test]
fn nothing_is_read_silently_as_empty() {
    let d = tempfile::tempdir().unwrap();
    let o = |n: &str| d.path().join(n).to_string_lossy().into_owned();
    let preds = fixture("layouts/bom/preds-bom.jsonl");
    // A forced format under which no record has a patch.
    let err = fails(&["rerank", &preds, "--format", "sweagent", "-o", &o("a")]);
    assert!(err.contains("preds-bom.jsonl: none of its 3 records has a patch under --format sweagent"), "{err}");
    assert!(!Path::new(&o("a")).exists());
    // An --instances file that matches no record.
    let ids = write(d.path(), "lite.txt", "other__x-1\nother__x-2\n");
    let err = fails(&["rerank", &preds, "--instances", &ids, "-o", &o("b")]);
    assert!(err.contains("lite.txt: none of its 2 instance ids has a record"), "{err}");
    // A scores file that matches no candidate.
    let scores = write(d.path(), "s.jsonl", "{\"instance_id\":\"zz\",\"run\":\"nobody\",\"score\":1}\n");
    let err = fails(&["select", &preds, "--scores", &scores, "-o", &o("c")]);
    assert!(err.contains("s.jsonl: no score for any candidate"), "{err}");
    // A run whose every record is empty: legitimate, but said.
    let empty = write(d.path(), "empty-run.jsonl", "{\"instance_id\":\"layout__pkg-101\",\"model_patch\":\"\"}\n");
    let out = swerm(&["rerank", &preds, &empty, "-q", "-o", &o("d")]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("run empty-run: no record has a patch (1 record read)"), "{err}");
}

#[test]
fn json_errors_name_the_files_line_not_a_line_inside_a_record() {
    let d = tempfile::tempdir().unwrap();
    let f =
        write(d.path(), "run.jsonl", "{\"instance_id\":\"a\",\"model_patch\":\"\"}\n{\"instance_id\": \"b\" \"x\"}\n");
    let err = fails(&["rerank", &f, "-o", d.path().join("o").to_str().unwrap()]);
    assert!(err.contains("run.jsonl:2: invalid JSON") && err.contains("(column "), "{err}");
    assert!(!err.contains("line 1 column"), "{err}");
    // A byte-order mark before a report is fine too.
    let runs = d.path().join("r.jsonl");
    fs::write(&runs, "{\"instance_id\":\"a\",\"model_patch\":\"+x\"}\n").unwrap();
    let rep = write(d.path(), "rep.json", "\u{feff}{\"resolved\": [\"a\"]}");
    ok(&swerm(&[
        "rerank",
        runs.to_str().unwrap(),
        "--labels",
        &rep,
        "-q",
        "-o",
        d.path().join("o2").to_str().unwrap(),
    ]));
}
