//! Helpers shared by the integration tests: fixture paths, running the real `swerm` binary,
//! reading its outputs.

#![allow(dead_code)]

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A path under fixtures/.
pub fn fixture(p: &str) -> String {
    root().join("fixtures").join(p).to_string_lossy().into_owned()
}

/// A path under fixtures/demo/.
pub fn demo(p: &str) -> String {
    fixture(&format!("demo/{p}"))
}

/// A path under fixtures/tiny/.
pub fn tiny(p: &str) -> String {
    fixture(&format!("tiny/{p}"))
}

/// A record's or a score line's (instance_id, run).
pub type Key = (String, String);

pub fn key(v: &Value) -> Key {
    (v["instance_id"].as_str().unwrap().to_string(), v["run"].as_str().unwrap().to_string())
}

/// transformers' reference rows (fixtures/tiny/expected.jsonl) for one checkpoint and preset.
pub fn tiny_expected(arch: &str, preset: &str) -> HashMap<Key, Value> {
    jsonl(&fs::read_to_string(tiny("expected.jsonl")).unwrap())
        .into_iter()
        .filter(|r| r["arch"] == arch && r["preset"] == preset)
        .map(|r| (key(&r), r))
        .collect()
}

/// The chat preset's reference inputs: the tiny trajectories and the records with tool
/// definitions, in one file under `dir` (one file, so that each record's `run` names its run).
pub fn chat_inputs(dir: &Path) -> String {
    let both = dir.join("chat-inputs.jsonl");
    let text = fs::read_to_string(tiny("trajectories.jsonl")).unwrap()
        + &fs::read_to_string(tiny("critic-trajectories.jsonl")).unwrap();
    fs::write(&both, text).unwrap();
    both.to_str().unwrap().to_string()
}

/// The six demo runs, in name order.
pub fn demo_runs() -> Vec<String> {
    ["runs/run-a.jsonl", "runs/run-b.json", "runs/run-c.jsonl", "runs/run-d", "runs/run-e.jsonl", "runs/run-f.jsonl"]
        .iter()
        .map(|p| demo(p))
        .collect()
}

/// The demo runs' harness reports, in the same order.
pub fn demo_reports() -> Vec<String> {
    ["a", "b", "c", "d", "e", "f"].iter().map(|r| demo(&format!("reports/run-{r}.json"))).collect()
}

/// The demo runs' reports as RUN=FILE (commands that read a store pair reports by name).
pub fn demo_labels_by_name() -> Vec<String> {
    ["a", "b", "c", "d", "e", "f"]
        .iter()
        .map(|r| format!("run-{r}={}", demo(&format!("reports/run-{r}.json"))))
        .collect()
}

pub fn swerm(args: &[&str]) -> Output {
    swerm_env(args, &[])
}

pub fn swerm_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_swerm"));
    c.args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run swerm")
}

/// `swerm` with owned arguments.
pub fn swerm_s(args: &[String]) -> Output {
    swerm(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

/// Asserts success; returns stdout.
pub fn ok(out: &Output) -> String {
    assert!(out.status.success(), "swerm failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Asserts exit status 2 and no panic; returns stderr.
pub fn fails(args: &[&str]) -> String {
    let out = swerm(args);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "expected exit 2; stderr: {err}");
    assert!(!err.contains("panicked"), "panic: {err}");
    err
}

pub fn read_json(p: &Path) -> Value {
    serde_json::from_str(&fs::read_to_string(p).unwrap()).unwrap()
}

pub fn jsonl(text: &str) -> Vec<Value> {
    text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

pub fn jsonl_file(p: &Path) -> Vec<Value> {
    jsonl(&fs::read_to_string(p).unwrap())
}

/// Writes `text` to `dir/name`; returns the path.
pub fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    fs::write(&p, text).unwrap();
    p.to_string_lossy().into_owned()
}

pub fn close(a: &Value, b: &Value, what: &str) {
    let (x, y) = (a.as_f64().unwrap_or(f64::NAN), b.as_f64().unwrap_or(f64::NAN));
    assert!((x - y).abs() < 1e-12, "{what}: swerm {a} vs reference {b}");
}

/// `rerank` of the six demo runs with their reports into `out`, plus `extra`; returns stdout.
pub fn rerank_demo(out: &Path, extra: &[&str]) -> String {
    let mut args: Vec<String> = vec!["rerank".into()];
    args.extend(demo_runs());
    args.push("--labels".into());
    args.extend(demo_reports());
    args.extend(["-o".into(), out.to_string_lossy().into_owned(), "--quiet".into()]);
    args.extend(extra.iter().map(|s| s.to_string()));
    ok(&swerm_s(&args))
}

/// `runs` chat runs of `n` instances each, made of the tiny fixture trajectories.
pub fn many_candidates(dir: &Path, runs: usize, n: usize) -> Vec<String> {
    let base: Vec<Value> = fs::read_to_string(fixture("tiny/trajectories.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (0..runs)
        .map(|r| {
            let path = dir.join(format!("run-{r}.jsonl"));
            let text: String = (0..n)
                .map(|i| {
                    let mut rec = base[(i + r) % base.len()].clone();
                    rec["instance_id"] = Value::from(format!("many__inst-{i:03}"));
                    rec.as_object_mut().unwrap().remove("run");
                    format!("{rec}\n")
                })
                .collect();
            fs::write(&path, text).unwrap();
            path.to_string_lossy().into_owned()
        })
        .collect()
}

pub fn lines(p: &Path) -> usize {
    fs::read_to_string(p).map(|t| t.lines().count()).unwrap_or(0)
}

/// Starts `args`, kills it with SIGKILL once `watch` has at least `at` lines; returns the count
/// of complete lines at that moment (None if the process finished first).
pub fn kill_when(args: &[String], watch: &Path, at: usize) -> Option<usize> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_swerm"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "exited before the kill: {status}");
            return None;
        }
        let n = lines(watch);
        if n >= at {
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
            return Some(n);
        }
        assert!(start.elapsed() < Duration::from_secs(300), "no progress");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Runs scripts/check_report.py (the independent Python reference) on `args`; asserts that
/// everything agrees and returns what it printed.
pub fn check_report<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> String {
    let out = Command::new("python3").arg(root().join("scripts/check_report.py")).args(args).output().expect("python3");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success() && !text.contains("BAD"), "{text}{}", String::from_utf8_lossy(&out.stderr));
    text
}

/// A reasoning judge's generations.jsonl in `dir`, by (instance, run, sample).
pub fn generations(dir: &Path) -> HashMap<(String, String, u64), Value> {
    jsonl_file(&dir.join("generations.jsonl"))
        .into_iter()
        .map(|l| {
            let k = (
                l["instance_id"].as_str().unwrap().into(),
                l["run"].as_str().unwrap().into(),
                l["sample"].as_u64().unwrap(),
            );
            (k, l)
        })
        .collect()
}
