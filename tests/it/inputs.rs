//! Every input a verifier needs (fixtures/layouts, from scripts/make_layouts.py): issue
//! statements from a SWE-bench-style dataset (parquet, JSONL, the hub cache), AutoCodeRover
//! runs, SWE-bench/experiments submissions with their own labels, harness logs as labels,
//! `field:-PATH`, and the inputs that are refused with the command that reads them.

use std::fs;
use std::path::Path;

use serde_json::Value;

use crate::util::*;

fn layouts() -> Value {
    read_json(Path::new(&fixture("layouts/expected.json")))
}

fn l(p: &str) -> String {
    fixture(&format!("layouts/{p}"))
}

fn prompts(args: &[&str]) -> Vec<Value> {
    let model = tiny_qwen3();
    let mut a = vec!["render"];
    a.extend_from_slice(args);
    a.extend_from_slice(&["--model", &model]);
    jsonl(&ok(&swerm(&a)))
}

fn tiny_qwen3() -> String {
    tiny("qwen3")
}

fn forbidden() -> Vec<String> {
    layouts()["forbidden"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect()
}

#[test]
fn a_dataset_gives_plain_predictions_their_issue() {
    let want = layouts();
    let preds = l("bom/preds-bom.jsonl");
    let parquet_dir = l("dataset/swebench");
    let parquet_file = l("dataset/swebench/data/test-00000-of-00001.parquet");
    let jsonl_file = l("dataset/swebench.jsonl");
    for (dataset, preset) in [(&parquet_dir, "swegym"), (&parquet_file, "r2egym"), (&jsonl_file, "swegym")] {
        let lines = prompts(&[&preds, "--dataset", dataset, "--preset", preset]);
        assert_eq!(lines.len(), 3, "{dataset}");
        for r in lines {
            let prompt = r["prompt"].as_str().unwrap();
            let issue = want["issues"][r["instance_id"].as_str().unwrap()].as_str().unwrap();
            assert!(prompt.contains(issue), "{dataset} {preset}: no issue in {prompt}");
            assert!(prompt.contains("diff --git a/pkg/"), "{dataset} {preset}: no patch");
            for f in forbidden() {
                assert!(!prompt.contains(&f), "{dataset}: {f} reached the prompt");
            }
        }
    }
    // The split is the one asked for; a split that is not there is named.
    for r in prompts(&[&preds, "--dataset", &parquet_dir, "--split", "dev"]) {
        assert!(r["prompt"].as_str().unwrap().contains("DEV_SPLIT_MARKER"), "{r}");
    }
    let err = fails(&["render", &preds, "--dataset", &parquet_dir, "--split", "train", "--model", &tiny_qwen3()]);
    assert!(err.contains("no train split (splits there: dev, test)"), "{err}");
    // Without --dataset the prompt has no issue, and a warning says how to give it.
    let out = swerm(&["render", &preds, "--model", &tiny_qwen3()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("3 candidates have no trajectory") && err.contains("--dataset"), "{err}");
    for r in jsonl(&String::from_utf8_lossy(&out.stdout)) {
        assert!(!r["prompt"].as_str().unwrap().contains("Issue layout"), "{r}");
    }
    // Trajectories keep their own issue text.
    for r in prompts(&[&l("mini/run-mini"), "--dataset", &parquet_dir, "--split", "dev"]) {
        assert!(!r["prompt"].as_str().unwrap().contains("DEV_SPLIT_MARKER"), "{r}");
    }
}

#[test]
fn a_dataset_that_lacks_instances_is_said() {
    let d = tempfile::tempdir().unwrap();
    let preds = l("bom/preds-bom.jsonl");
    let rows = |ids: &[&str]| -> String {
        ids.iter().map(|i| format!("{{\"instance_id\":\"{i}\",\"problem_statement\":\"About {i}\"}}\n")).collect()
    };
    let some = write(d.path(), "some.jsonl", &rows(&["layout__pkg-101", "layout__pkg-202"]));
    let out = swerm(&["render", &preds, "--dataset", &some, "--model", &tiny_qwen3()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("1 instance is not in it (layout__tool-303)"), "{err}");
    let err = fails(&["--strict", "render", &preds, "--dataset", &some, "--model", &tiny_qwen3()]);
    assert!(err.contains("layout__tool-303") && err.contains("--strict"), "{err}");
    let none = write(d.path(), "none.jsonl", &rows(&["other__x-1"]));
    let err = fails(&["render", &preds, "--dataset", &none, "--model", &tiny_qwen3()]);
    assert!(err.contains("none of the 3 instances is among its 1 rows: is it the right dataset and split?"), "{err}");
    let err = fails(&["render", &preds, "--dataset", "no/such-dataset-here", "--model", &tiny_qwen3()]);
    assert!(err.contains("--dataset"), "{err}");
    // The dataset is part of the scores' identity.
    let o = d.path().join("o");
    ok(&swerm(&["score", &preds, "--model", &tiny_qwen3(), "--dataset", &some, "-q", "-o", o.to_str().unwrap()]));
    let settings = read_json(&o.join("scores.settings.json"));
    assert!(settings.to_string().contains("some.jsonl:test"), "{settings}");
    // Rerank reads a dataset for a verifier only.
    let err = fails(&["rerank", &preds, "--dataset", &some, "-o", d.path().join("c").to_str().unwrap()]);
    assert!(err.contains("it needs --model"), "{err}");
}

#[test]
fn a_hub_dataset_is_read_from_the_cache() {
    let d = tempfile::tempdir().unwrap();
    let snap = d.path().join("hub/datasets--layout--swebench/snapshots/0123456789abcdef0123456789abcdef01234567");
    fs::create_dir_all(snap.join("data")).unwrap();
    fs::copy(l("dataset/swebench/data/test-00000-of-00001.parquet"), snap.join("data/test-00000-of-00001.parquet"))
        .unwrap();
    fs::create_dir_all(d.path().join("hub/datasets--layout--swebench/refs")).unwrap();
    fs::write(d.path().join("hub/datasets--layout--swebench/refs/main"), "0123456789abcdef0123456789abcdef01234567")
        .unwrap();
    let home = d.path().to_str().unwrap();
    let env = [("HF_HOME", home), ("HF_HUB_OFFLINE", "1")];
    let out = swerm_env(
        &["render", &l("bom/preds-bom.jsonl"), "--dataset", "layout/swebench", "--model", &tiny_qwen3()],
        &env,
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines = jsonl(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(lines.len(), 3);
    assert!(lines.iter().all(|r| r["prompt"].as_str().unwrap().contains("calling frob() on an empty list")));
    let out =
        swerm_env(&["render", &l("bom/preds-bom.jsonl"), "--dataset", "layout/other", "--model", &tiny_qwen3()], &env);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("not in the cache") && err.contains("HF_HUB_OFFLINE"), "{err}");
}

#[test]
fn autocoderover_runs() {
    let d = tempfile::tempdir().unwrap();
    let run = l("acr/acr-run-x");
    let o = d.path().join("o");
    ok(&swerm(&["rerank", &run, "-q", "-o", o.to_str().unwrap()]));
    // The submitted patch is the last attempt's: the run's own predictions file says the same.
    let theirs: Vec<Value> =
        serde_json::from_str(&fs::read_to_string(format!("{run}/predictions_for_swebench.json")).unwrap()).unwrap();
    let mine = jsonl_file(&o.join("predictions.jsonl"));
    assert_eq!(mine.len(), theirs.len());
    for (a, b) in mine.iter().zip(&theirs) {
        assert_eq!((&a["instance_id"], &a["model_patch"]), (&b["instance_id"], &b["model_patch"]));
    }
    // The prompt: the issue from problem_statement.txt and the conversation that wrote the
    // submitted patch (the last conversation round where the folder has none).
    for r in prompts(&[&run]) {
        let p = r["prompt"].as_str().unwrap();
        let wrote = p.contains("Write a patch for the issue") && p.contains("<patched>");
        assert!(p.contains("maintaining a large project") && (wrote || p.contains("Write a patch guarding")), "{p}");
        assert!(p.contains(layouts()["issues"][r["instance_id"].as_str().unwrap()].as_str().unwrap()));
    }
    // An instance filed under another category submitted nothing: an empty candidate.
    let copy = d.path().join("acr-copy");
    copy_dir(Path::new(&run), &copy);
    let from = fs::read_dir(copy.join("applicable_patch")).unwrap().next().unwrap().unwrap().path();
    fs::create_dir_all(copy.join("raw_patch_but_unmatched")).unwrap();
    fs::rename(&from, copy.join("raw_patch_but_unmatched").join(from.file_name().unwrap())).unwrap();
    let o2 = d.path().join("o2");
    ok(&swerm(&["rerank", copy.to_str().unwrap(), "-q", "-o", o2.to_str().unwrap()]));
    let report = read_json(&o2.join("report.json"));
    assert_eq!((report["instances"].as_u64(), report["empty_candidates"].as_u64()), (Some(3), Some(1)));
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let t = to.join(p.file_name().unwrap());
        if p.is_dir() { copy_dir(&p, &t) } else { fs::copy(&p, &t).map(|_| ()).unwrap() }
    }
}

#[test]
fn submissions_carry_their_labels_and_trajectories() {
    let d = tempfile::tempdir().unwrap();
    let lite = l("experiments/evaluation/lite");
    let o = d.path().join("o");
    let out = swerm(&["rerank", &lite, "-o", o.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("trajs: 1 file in other formats"), "{err}");
    let report = read_json(&o.join("report.json"));
    assert_eq!(report["run_names"], serde_json::json!(["20240402_sweagent_gpt4", "20240509_autocoderover"]));
    // Labels from results/results.json (SWE-agent) and logs/<iid>/report.json (ACR), no --labels.
    assert_eq!(report["resolved_candidates"], 2, "{report}");
    let scores = jsonl_file(&o.join("scores.jsonl"));
    let resolved: Vec<(&str, &str)> = scores
        .iter()
        .filter(|s| s["resolved"] == true)
        .map(|s| (s["run"].as_str().unwrap(), s["instance_id"].as_str().unwrap()))
        .collect();
    assert_eq!(
        resolved,
        [("20240402_sweagent_gpt4", "layout__pkg-101"), ("20240509_autocoderover", "layout__pkg-202")]
    );
    // Trajectories from trajs/ where readable; the others are judged from the patch.
    let lines = prompts(&[&format!("{lite}/20240402_sweagent_gpt4")]);
    let with_traj: Vec<bool> =
        lines.iter().map(|r| r["prompt"].as_str().unwrap().contains("Let me look at frob")).collect();
    assert_eq!(with_traj, [true, true, false]);
}

#[test]
fn harness_logs_are_labels() {
    let d = tempfile::tempdir().unwrap();
    let preds = l("bom/preds-bom.jsonl");
    let logs = l("harness-logs/logs/run_evaluation");
    let o = d.path().join("o");
    ok(&swerm(&["rerank", &preds, "--labels", &format!("{logs}/my-run"), "-q", "-o", o.to_str().unwrap()]));
    let scores = jsonl_file(&o.join("scores.jsonl"));
    let resolved: Vec<&str> =
        scores.iter().filter(|s| s["resolved"] == true).map(|s| s["instance_id"].as_str().unwrap()).collect();
    assert_eq!(resolved, ["layout__tool-303"]);
    // The model folder itself, named by run.
    ok(&swerm(&[
        "rerank",
        &preds,
        "--labels",
        &format!("preds-bom={logs}/my-run/preds-bom"),
        "-q",
        "-o",
        o.to_str().unwrap(),
    ]));
    // A run id holding several models asks for one.
    let err = fails(&[
        "rerank",
        &preds,
        "--labels",
        &format!("{logs}/two-models"),
        "-o",
        d.path().join("x").to_str().unwrap(),
    ]);
    assert!(err.contains("holds the logs of 2 models (model-a, model-b): pass one folder"), "{err}");
}

#[test]
fn what_is_not_a_run_says_what_to_pass() {
    let d = tempfile::tempdir().unwrap();
    let o = |n: &str| d.path().join(n).to_string_lossy().into_owned();
    // A harness report given as an input.
    let results = l("experiments/evaluation/lite/20240402_sweagent_gpt4/results/results.json");
    let err = fails(&["rerank", &results, "-o", &o("a")]);
    assert!(err.contains("a SWE-bench harness report (category-list), not agent runs: pass it with --labels"), "{err}");
    let per_instance = l("harness-logs/logs/run_evaluation/my-run/preds-bom/layout__pkg-101/report.json");
    let err = fails(&["rerank", &per_instance, "-o", &o("b")]);
    assert!(err.contains("pass it with --labels"), "{err}");
    // A folder of runs and their reports side by side.
    let both = d.path().join("data");
    fs::create_dir_all(both.join("predictions")).unwrap();
    fs::create_dir_all(both.join("reports")).unwrap();
    fs::copy(l("bom/preds-bom.jsonl"), both.join("predictions/a.jsonl")).unwrap();
    fs::write(both.join("reports/a.json"), "{\"resolved\": []}").unwrap();
    let err = fails(&["rerank", both.to_str().unwrap(), "-o", &o("c")]);
    assert!(err.contains("holds predictions/ and reports/") && err.contains("--labels RUN="), "{err}");
    // A bare message list whose file name gives no instance id.
    let bare = write(
        d.path(),
        "run.json",
        "[{\"role\":\"user\",\"content\":\"fix it\"},{\"role\":\"assistant\",\"content\":\"ok\"}]",
    );
    let err = fails(&["rerank", &bare, "-o", &o("d")]);
    assert!(err.contains("a bare list of chat messages") && err.contains("<instance_id>.traj.json"), "{err}");
    assert!(!err.contains("duplicate"), "{err}");
}

#[test]
fn a_field_where_lower_is_better() {
    let d = tempfile::tempdir().unwrap();
    let run = |name: &str, cost: f64| {
        write(
            d.path(),
            &format!("{name}.jsonl"),
            &format!(
                "{{\"instance_id\":\"a__b-1\",\"model_patch\":\"diff --git a/{name} b/{name}\\n\",\"cost\":{cost}}}\n"
            ),
        )
    };
    let (cheap, dear) = (run("cheap", 0.5), run("dear", 2.0));
    for (field, want) in [("field:-cost", "cheap"), ("field:cost", "dear")] {
        let o = d.path().join(field.replace(':', "_"));
        ok(&swerm(&["rerank", &cheap, &dear, "--scorer", field, "-q", "-o", o.to_str().unwrap()]));
        let p = jsonl_file(&o.join("predictions.jsonl"));
        assert_eq!(p[0]["run"], want, "{field}");
    }
}
