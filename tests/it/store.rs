//! The score store and the output directory: scores of different scorers never mix, one
//! process per directory, no stale outputs, messages people can read.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::*;

fn score_args(inputs: &[String], model: &str, out: &Path, extra: &[&str]) -> Vec<String> {
    let mut a = vec!["score".to_string()];
    a.extend(inputs.iter().cloned());
    a.extend(["--model", model, "--device", "cpu", "-q", "-o"].map(String::from));
    a.push(out.to_string_lossy().into_owned());
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

fn rerank_args(inputs: &[String], out: &Path, extra: &[&str]) -> Vec<String> {
    let mut a = vec!["rerank".to_string()];
    a.extend(inputs.iter().cloned());
    a.extend(["-q", "-o"].map(String::from));
    a.push(out.to_string_lossy().into_owned());
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

fn scores_by_key(p: &Path) -> Vec<(String, String, Value)> {
    jsonl_file(p)
        .into_iter()
        .map(|v| (v["instance_id"].as_str().unwrap().into(), v["run"].as_str().unwrap().into(), v["score"].clone()))
        .collect()
}

#[test]
fn scores_of_another_scorer_are_refused_and_kept() {
    // The sequence that used to lose verifier scores: score with a model, rerank with the
    // default consensus scorer into the same directory, rerank with the model again.
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("D");
    let inputs = vec![demo("runs/run-c.jsonl"), demo("runs/run-e.jsonl")];
    let model = tiny("qwen3-moe");
    ok(&swerm_s(&score_args(&inputs, &model, &out, &[])));
    let stored = fs::read(out.join("scores.jsonl")).unwrap();

    let r = swerm_s(&rerank_args(&inputs, &out, &[]));
    let err = String::from_utf8_lossy(&r.stderr).into_owned();
    assert_eq!(r.status.code(), Some(2), "{err}");
    assert!(err.contains("holds scores of verifier qwen3-moe"), "{err}");
    assert!(err.contains("this run scores with consensus"), "{err}");
    assert!(err.contains("use another -o, or --overwrite"), "{err}");
    assert_eq!(fs::read(out.join("scores.jsonl")).unwrap(), stored, "refused: nothing touched");
    assert!(!out.join("report.json").exists());

    // The model again: every score reused, reported under the verifier's name.
    let r = swerm_s(&rerank_args(&inputs, &out, &["--model", &model, "--device", "cpu"]));
    let (stdout, err) = (ok(&r), String::from_utf8_lossy(&r.stderr).into_owned());
    let n = 2 * read_json(&out.join("report.json"))["instances"].as_u64().unwrap();
    assert!(err.contains(&format!("resuming: {n} already scored, 0 to go")), "{err}");
    assert!(stdout.contains("scorer verifier qwen3-moe"), "{stdout}");
    let report = read_json(&out.join("report.json"));
    assert_eq!(report["scorer"], "verifier qwen3-moe");
    assert_eq!(report["scorer_settings"]["kind"], "verifier");
    assert_eq!(report["scorer_settings"]["preset"], "swegym");
    let before: Vec<_> = scores_by_key(&d.path().join("D/scores.jsonl"));
    let mut want = jsonl(&String::from_utf8(stored).unwrap());
    want.sort_by_key(|v| (v["instance_id"].as_str().unwrap().to_string(), v["run"].as_str().unwrap().to_string()));
    assert_eq!(before.len(), want.len());
    for ((i, r, s), w) in before.iter().zip(&want) {
        assert_eq!(
            (i.as_str(), r.as_str(), s),
            (w["instance_id"].as_str().unwrap(), w["run"].as_str().unwrap(), &w["score"])
        );
    }

    // Another preset is another scorer too; --overwrite is the explicit way out.
    let r = swerm_s(&score_args(&inputs, &model, &out, &["--preset", "r2egym"]));
    assert_eq!(r.status.code(), Some(2));
    ok(&swerm_s(&rerank_args(&inputs, &out, &["--overwrite"])));
    let settings = read_json(&out.join("scores.settings.json"));
    assert_eq!(settings["scorer"]["kind"], "consensus");
    assert_eq!(read_json(&out.join("report.json"))["scorer"], "consensus");
    assert!(jsonl_file(&out.join("scores.jsonl")).iter().all(|l| l.get("logit_yes").is_none()));
}

#[test]
fn one_process_per_output_directory_and_the_lock_dies_with_it() {
    let d = tempfile::tempdir().unwrap();
    let inputs = many_candidates(d.path(), 3, 80);
    let out = d.path().join("D");
    let args = score_args(&inputs, &tiny("qwen3-moe"), &out, &["--batch-tokens", "1"]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_swerm"))
        .args(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while lines(&out.join("scores.jsonl")) < 2 {
        assert!(child.try_wait().unwrap().is_none(), "finished before the second process started");
        assert!(start.elapsed() < Duration::from_secs(120), "no progress");
        std::thread::sleep(Duration::from_millis(5));
    }
    let r = swerm_s(&score_args(&inputs, &tiny("qwen3-moe"), &out, &[]));
    let err = String::from_utf8_lossy(&r.stderr).into_owned();
    let still_running = child.try_wait().unwrap().is_none();
    child.kill().unwrap(); // SIGKILL: the kernel releases the lock
    child.wait().unwrap();
    assert!(still_running, "the first process ended too early for this test");
    assert_eq!(r.status.code(), Some(2), "{err}");
    assert!(err.contains("another swerm") && err.contains(&format!("process {}", child.id())), "{err}");
    // After the crash the directory is free again, and the run resumes.
    let r = swerm_s(&score_args(&inputs, &tiny("qwen3-moe"), &out, &[]));
    ok(&r);
    assert!(String::from_utf8_lossy(&r.stderr).contains("resuming:"));
    assert_eq!(lines(&out.join("scores.jsonl")), 240);
}

#[test]
fn outputs_a_run_does_not_produce_are_removed_and_not_announced() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("D");
    rerank_demo(&out, &[]);
    assert!(out.join("tts.svg").exists() && out.join("tts.png").exists());
    // The same runs without labels: no curves, so no plot.
    let slash = format!("{}/", out.display());
    let stdout = ok(&swerm_s(&rerank_args(&demo_runs(), Path::new(&slash), &[])));
    assert!(!out.join("tts.svg").exists(), "a stale plot was left behind");
    assert!(!out.join("tts.png").exists(), "a stale PNG was left behind");
    assert!(!stdout.contains("tts.svg"), "{stdout}");
    assert!(!stdout.contains("//"), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "wrote scores.jsonl, scores.settings.json, predictions.jsonl, report.json, report.md, report.html and instances.csv to {}",
            out.display()
        )),
        "{stdout}"
    );
    let md = fs::read_to_string(out.join("report.md")).unwrap();
    assert!(!md.contains("tts.svg"), "{md}");
}

#[test]
fn summaries_count_right() {
    let d = tempfile::tempdir().unwrap();
    let stdout = rerank_demo(d.path(), &["--bootstrap", "200", "--seed", "3"]);
    // 14 candidates are missing from their run, 3 more have an empty patch (17 without one).
    assert!(
        stdout.starts_with("24 instances x 6 runs = 144 candidates (14 missing, 3 empty); scorer consensus\n"),
        "{stdout}"
    );
    let report = read_json(&d.path().join("report.json"));
    assert_eq!((report["missing_candidates"].as_u64(), report["empty_candidates"].as_u64()), (Some(14), Some(3)));
    // With --bootstrap the stdout table carries the intervals.
    let row1 = stdout.lines().find(|l| l.trim_start().starts_with("1 ")).unwrap();
    let lo = report["ci"]["pass_at_k"]["1"][0].as_f64().unwrap();
    assert!(row1.contains(&format!("({:.1}–", 100.0 * lo)), "{row1}");
    assert!(stdout.contains("selected: 45.8% ("), "{stdout}");
    let one = tempfile::tempdir().unwrap();
    let f = write(one.path(), "solo.jsonl", "{\"instance_id\":\"x\",\"model_patch\":\"+a\",\"resolved\":true}\n");
    let stdout = ok(&swerm(&["rerank", &f, "-q", "-o", one.path().join("o").to_str().unwrap()]));
    assert!(stdout.starts_with("1 instance x 1 run = 1 candidate; scorer consensus"), "{stdout}");
    assert!(stdout.contains("selected: 100.0% (1 of 1 instance)"), "{stdout}");
}

#[test]
fn eval_reads_a_store_directory_and_names_its_scorer() {
    let d = tempfile::tempdir().unwrap();
    let scored = d.path().join("scored");
    ok(&swerm(&[
        "score",
        &tiny("trajectories.jsonl"),
        "--model",
        &tiny("qwen2"),
        "-q",
        "-o",
        scored.to_str().unwrap(),
    ]));
    let ev = d.path().join("ev");
    let stdout = ok(&swerm(&["eval", "--scores", scored.to_str().unwrap(), "-o", ev.to_str().unwrap()]));
    assert!(stdout.contains("scorer verifier qwen2"), "{stdout}");
    assert_eq!(read_json(&ev.join("report.json"))["scorer"], "verifier qwen2");
    // A scores file on its own: the scorer is unknown, its file named instead.
    let lone = d.path().join("lone.jsonl");
    fs::copy(scored.join("scores.jsonl"), &lone).unwrap();
    let stdout = ok(&swerm(&["eval", "--scores", lone.to_str().unwrap(), "-o", ev.to_str().unwrap()]));
    assert!(stdout.contains(&format!("scorer scores from {}", lone.display())), "{stdout}");
}

#[test]
fn shards_merge_to_the_unsharded_result() {
    let d = tempfile::tempdir().unwrap();
    let model = tiny("qwen3-moe");
    let whole = d.path().join("whole");
    ok(&swerm_s(&score_args(&demo_runs(), &model, &whole, &[])));
    let shards: Vec<String> = (1..=3).map(|i| d.path().join(format!("s{i}")).display().to_string()).collect();
    let mut sizes = Vec::new();
    for (i, s) in shards.iter().enumerate() {
        let stdout =
            ok(&swerm_s(&score_args(&demo_runs(), &model, Path::new(s), &["--shard", &format!("{}/3", i + 1)])));
        assert!(stdout.starts_with(&format!("shard {}/3: ", i + 1)), "{stdout}");
        sizes.push(lines(&Path::new(s).join("scores.jsonl")));
    }
    assert_eq!(sizes.iter().sum::<usize>(), lines(&whole.join("scores.jsonl")), "every candidate in exactly one shard");
    assert!(sizes.iter().all(|&n| n > 0), "{sizes:?}");
    // Merged, they report exactly as the unsharded store (eval), select the same patches
    // (select) and compare as equal (compare with a name given three times).
    let eval = |scores: &[&str], out: &Path| -> Value {
        let mut a = vec!["eval".to_string()];
        for s in scores {
            a.extend(["--scores".to_string(), s.to_string()]);
        }
        a.push("--labels".into());
        a.extend(demo_labels_by_name());
        a.extend(["--json".into(), "-o".into(), out.display().to_string()]);
        let mut v: Value = serde_json::from_str(&ok(&swerm_s(&a))).unwrap();
        v.as_object_mut().unwrap().remove("scores_from");
        v
    };
    let parts: Vec<&str> = shards.iter().map(String::as_str).collect();
    assert_eq!(eval(&parts, &d.path().join("e1")), eval(&[whole.to_str().unwrap()], &d.path().join("e2")));
    let select = |scores: &[&str], out: &Path| -> String {
        let mut a = vec!["select".to_string()];
        a.extend(demo_runs());
        for s in scores {
            a.extend(["--scores".to_string(), s.to_string()]);
        }
        a.extend(["-q".into(), "-o".into(), out.display().to_string()]);
        ok(&swerm_s(&a));
        fs::read_to_string(out.join("predictions.jsonl")).unwrap()
    };
    assert_eq!(select(&parts, &d.path().join("p1")), select(&[whole.to_str().unwrap()], &d.path().join("p2")));
    let mut a = vec!["compare".to_string(), format!("whole={}", whole.display())];
    a.extend(shards.iter().map(|s| format!("sharded={s}")));
    a.extend(["--labels".into()]);
    a.extend(demo_labels_by_name());
    a.extend(["--json".into(), "-o".into(), d.path().join("c").display().to_string()]);
    let c: Value = serde_json::from_str(&ok(&swerm_s(&a))).unwrap();
    assert_eq!(c["differences"]["sharded"]["selected"]["diff"], 0.0);
    assert!(c["sources"]["sharded"].as_str().unwrap().contains(" + "));
    // Two of three shards: refused, naming the missing one.
    let err = fails(&["eval", "--scores", parts[0], "--scores", parts[2], "-o", d.path().join("e3").to_str().unwrap()]);
    assert!(err.contains("shard 2/3 of the sharded run is missing"), "{err}");
}

/// A directory copy, links followed (the tiny checkpoints link their shared tokenizer).
fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let t = to.join(p.file_name().unwrap());
        if p.is_dir() { copy_dir(&p, &t) } else { fs::copy(&p, &t).map(|_| ()).unwrap() }
    }
}

/// A store is identified by content: shards scored with copies of a checkpoint at two paths
/// merge, a moved checkpoint resumes, another checkpoint is refused, a store written before
/// the digests resumes with a note, and a parquet and a JSONL of the same dataset rows are one
/// dataset.
#[test]
fn stores_are_identified_by_content_not_path() {
    let d = tempfile::tempdir().unwrap();
    let (a, b) = (d.path().join("machine-a/qwen3"), d.path().join("machine-b/models/qwen3"));
    copy_dir(Path::new(&tiny("qwen3")), &a);
    copy_dir(Path::new(&tiny("qwen3")), &b);
    let inputs = vec![tiny("trajectories.jsonl")];
    let (s1, s2) = (d.path().join("s1"), d.path().join("s2"));
    ok(&swerm_s(&score_args(&inputs, a.to_str().unwrap(), &s1, &["--shard", "1/2"])));
    ok(&swerm_s(&score_args(&inputs, b.to_str().unwrap(), &s2, &["--shard", "2/2"])));
    let whole = d.path().join("whole");
    ok(&swerm_s(&score_args(&inputs, &tiny("qwen3"), &whole, &[])));
    let ev = |scores: &[&Path], out: &str| -> Value {
        let mut args = vec!["eval".to_string()];
        for s in scores {
            args.extend(["--scores".to_string(), s.display().to_string()]);
        }
        args.extend(["--json", "-q", "-o"].map(String::from));
        args.push(d.path().join(out).display().to_string());
        let mut v: Value = serde_json::from_str(&ok(&swerm_s(&args))).unwrap();
        v.as_object_mut().unwrap().remove("scores_from");
        v["scorer_settings"].as_object_mut().unwrap().remove("model"); // where it was: information
        v
    };
    assert_eq!(ev(&[&s1, &s2], "e1"), ev(&[&whole], "e2"), "shards from two paths merge");
    // Moved: the store resumes, nothing is scored again.
    let moved = d.path().join("moved/qwen3");
    fs::create_dir_all(moved.parent().unwrap()).unwrap();
    fs::rename(&a, &moved).unwrap();
    let r = swerm_s(&score_args(&inputs, moved.to_str().unwrap(), &s1, &["--shard", "1/2"]));
    let err = String::from_utf8_lossy(&r.stderr).into_owned();
    assert!(r.status.success() && err.contains("resuming:") && err.contains(", 0 to go"), "{err}");
    let header = read_json(&s1.join("scores.settings.json"));
    // The header keeps the path the store was started with: information, not identity.
    assert!(header["scorer"]["model"].as_str().unwrap().ends_with("machine-a/qwen3"), "{header}");
    assert!(header["scorer"]["checkpoint"].as_str().unwrap().starts_with("sha256:"));
    // Other weights at the same path: another scorer.
    let other = d.path().join("other");
    copy_dir(Path::new(&tiny("qwen3")), &other);
    let weights = other.join("model.safetensors");
    let mut bytes = fs::read(&weights).unwrap();
    let n = bytes.len();
    bytes[n - 1] ^= 0x55; // one weight byte, in the last 64 KiB sampled
    fs::write(&weights, bytes).unwrap();
    let mut args = score_args(&inputs, other.to_str().unwrap(), &s1, &["--shard", "1/2"]);
    args.retain(|a| a != "-q");
    let r = swerm_s(&args);
    assert_eq!(r.status.code(), Some(2), "{}", String::from_utf8_lossy(&r.stderr));
    // A store written before the digests: the header without them, the old path identity.
    let old = d.path().join("old");
    copy_dir(&s2, &old);
    let mut h = read_json(&old.join("scores.settings.json"));
    h["scorer"].as_object_mut().unwrap().remove("checkpoint");
    fs::write(old.join("scores.settings.json"), h.to_string()).unwrap();
    let r = swerm_s(&score_args(&inputs, b.to_str().unwrap(), &old, &["--shard", "2/2"]));
    let err = String::from_utf8_lossy(&r.stderr).into_owned();
    assert!(r.status.success() && err.contains(", 0 to go"), "{err}");
    assert!(err.contains("written before swerm identified a checkpoint"), "{err}");
    assert!(read_json(&old.join("scores.settings.json"))["scorer"]["checkpoint"].is_string(), "upgraded");
    // --dataset: the parquet folder and the JSONL export of the same rows are one dataset.
    let preds = fixture("layouts/bom/preds-bom.jsonl");
    let ds = d.path().join("ds");
    let with = |dataset: &str| {
        let mut args = score_args(std::slice::from_ref(&preds), &tiny("qwen3"), &ds, &["--dataset", dataset]);
        args.retain(|a| a != "-q");
        swerm_s(&args)
    };
    ok(&with(&fixture("layouts/dataset/swebench")));
    let r = with(&fixture("layouts/dataset/swebench.jsonl"));
    let err = String::from_utf8_lossy(&r.stderr).into_owned();
    assert!(r.status.success() && err.contains(", 0 to go"), "{err}");
}
