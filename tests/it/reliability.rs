//! Crashes and determinism: a real `kill -9` in the middle of scoring, then the same command
//! again, must reuse every scored candidate, score none twice, and end with the same bytes as an
//! uninterrupted run; outputs must not depend on thread count or on the order of the inputs.

use std::collections::HashSet;
use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::*;

fn keys(p: &Path) -> Vec<(String, String)> {
    fs::read_to_string(p)
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .map(|v| (v["instance_id"].as_str().unwrap().to_string(), v["run"].as_str().unwrap().to_string()))
        .collect()
}

#[test]
fn kill_9_during_score_loses_nothing_and_repeats_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = many_candidates(dir.path(), 3, 40);
    let (full, killed) = (dir.path().join("full"), dir.path().join("killed"));
    let args = |out: &Path| -> Vec<String> {
        let mut a = vec!["score".to_string()];
        a.extend(inputs.iter().cloned());
        a.extend(
            ["--model", &fixture("tiny/qwen3-moe"), "--device", "cpu", "--batch-tokens", "1", "-q", "-o"]
                .map(String::from),
        );
        a.push(out.to_string_lossy().into_owned());
        a
    };
    ok(&Command::new(env!("CARGO_BIN_EXE_swerm")).args(args(&full)).output().unwrap());
    let total = lines(&full.join("scores.jsonl"));
    assert_eq!(total, 120);

    // Kill twice at different points, then finish.
    let mut seen_at_kill = Vec::new();
    for at in [10, 50] {
        if let Some(n) = kill_when(&args(&killed), &killed.join("scores.jsonl"), at) {
            seen_at_kill.push(n);
            // Every complete line is valid JSON; at most the last one is torn.
            let text = fs::read_to_string(killed.join("scores.jsonl")).unwrap();
            let bad = text.lines().filter(|l| serde_json::from_str::<Value>(l).is_err()).count();
            assert!(bad <= 1, "{bad} corrupt lines");
            let k = keys(&killed.join("scores.jsonl"));
            assert_eq!(k.len(), k.iter().collect::<HashSet<_>>().len(), "a candidate was scored twice");
        }
    }
    assert!(!seen_at_kill.is_empty(), "scoring finished before any kill: make the workload bigger");
    let out = Command::new(env!("CARGO_BIN_EXE_swerm")).args(args(&killed)).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{err}");
    // The resumed run scored only what was missing.
    let resumed: usize = err
        .split("resuming: ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no resume message: {err}"));
    assert!(resumed + 1 >= *seen_at_kill.last().unwrap(), "reused {resumed}, had {seen_at_kill:?}");
    assert_eq!(fs::read(full.join("scores.jsonl")).unwrap(), fs::read(killed.join("scores.jsonl")).unwrap());
}

#[test]
fn kill_9_during_rerank_with_a_model_then_rerun() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = many_candidates(dir.path(), 2, 40);
    let (full, killed) = (dir.path().join("full"), dir.path().join("killed"));
    let args = |out: &Path| -> Vec<String> {
        let mut a = vec!["rerank".to_string()];
        a.extend(inputs.iter().cloned());
        a.extend(
            ["--model", &fixture("tiny/qwen2"), "--device", "cpu", "--batch-tokens", "1", "-q", "-o"].map(String::from),
        );
        a.push(out.to_string_lossy().into_owned());
        a
    };
    ok(&Command::new(env!("CARGO_BIN_EXE_swerm")).args(args(&full)).output().unwrap());
    let killed_at = kill_when(&args(&killed), &killed.join("scores.jsonl"), 20);
    assert!(killed_at.is_some(), "rerank finished before the kill");
    // Only the cache exists after the kill: no half-written outputs.
    for f in ["predictions.jsonl", "report.json", "report.md"] {
        assert!(!killed.join(f).exists(), "{f} written before scoring ended");
    }
    ok(&Command::new(env!("CARGO_BIN_EXE_swerm")).args(args(&killed)).output().unwrap());
    for f in ["scores.jsonl", "predictions.jsonl", "report.json", "report.md", "tts.svg"] {
        assert_eq!(fs::read(full.join(f)).unwrap(), fs::read(killed.join(f)).unwrap(), "{f}");
    }
}

#[test]
fn outputs_do_not_depend_on_threads_or_input_order() {
    let demo = |p: &str| fixture(&format!("demo/{p}"));
    let runs = [
        "runs/run-a.jsonl",
        "runs/run-b.json",
        "runs/run-c.jsonl",
        "runs/run-d",
        "runs/run-e.jsonl",
        "runs/run-f.jsonl",
    ];
    let mut outs = Vec::new();
    for (order, threads) in [(false, "2"), (true, "2"), (false, "1")] {
        let d = tempfile::tempdir().unwrap();
        let mut r: Vec<&str> = runs.to_vec();
        if order {
            r.reverse();
        }
        let mut args: Vec<String> = vec!["rerank".into()];
        args.extend(r.iter().map(|p| demo(p)));
        // Labels paired by name, so that they follow their runs whatever the order.
        for x in ["a", "b", "c", "d", "e", "f"] {
            args.push("--labels".into());
            args.push(format!("run-{x}={}", demo(&format!("reports/run-{x}.json"))));
        }
        args.extend([
            "--model".into(),
            fixture("tiny/qwen3"),
            "--threads".into(),
            threads.into(),
            "-q".into(),
            "-o".into(),
        ]);
        args.push(d.path().to_string_lossy().into_owned());
        ok(&swerm(&args.iter().map(String::as_str).collect::<Vec<_>>()));
        outs.push(d);
    }
    for f in ["scores.jsonl", "predictions.jsonl", "report.json", "report.md", "tts.svg"] {
        let a = fs::read(outs[0].path().join(f)).unwrap();
        assert_eq!(a, fs::read(outs[1].path().join(f)).unwrap(), "{f}: input order changed it");
        assert_eq!(a, fs::read(outs[2].path().join(f)).unwrap(), "{f}: --threads 1 changed it");
    }
}

// ---- hostile checkpoints: a clear error in bounded time and memory ----

fn hostile_model(dir: &Path, weights: &[u8], config: Option<&str>, template: Option<&str>) -> String {
    let m = dir.join("model");
    fs::create_dir_all(&m).unwrap();
    for f in ["config.json", "tokenizer.json", "tokenizer_config.json"] {
        fs::copy(Path::new(&fixture("tiny/qwen2")).join(f), m.join(f)).unwrap();
    }
    fs::write(m.join("model.safetensors"), weights).unwrap();
    if let Some(c) = config {
        fs::write(m.join("config.json"), c).unwrap();
    }
    if let Some(t) = template {
        let mut tc: Value =
            serde_json::from_str(&fs::read_to_string(m.join("tokenizer_config.json")).unwrap()).unwrap();
        tc["chat_template"] = Value::from(t);
        fs::write(m.join("tokenizer_config.json"), tc.to_string()).unwrap();
    }
    m.to_string_lossy().into_owned()
}

fn fails_fast(args: &[&str]) -> String {
    let t = Instant::now();
    let out = swerm(args);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(t.elapsed() < Duration::from_secs(60), "took {:?}", t.elapsed());
    err
}

#[test]
fn hostile_checkpoints_are_clear_errors() {
    let good = fs::read(Path::new(&fixture("tiny/qwen2")).join("model.safetensors")).unwrap();
    let header = |h: &str| {
        let mut b = (h.len() as u64).to_le_bytes().to_vec();
        b.extend_from_slice(h.as_bytes());
        b.extend_from_slice(&[0u8; 64]);
        b
    };
    let cases: Vec<(&str, Vec<u8>, Option<&str>, &str)> = vec![
        ("truncated", good[..good.len() / 2].to_vec(), None, "not fully covered"),
        ("1 TiB header", [(1u64 << 40).to_le_bytes().to_vec(), b"{}".to_vec()].concat(), None, "header too large"),
        (
            "1e12-element tensor",
            header(
                r#"{"model.embed_tokens.weight":{"dtype":"F32","shape":[1000000,1000000],"data_offsets":[0,4000000000000]}}"#,
            ),
            None,
            "not fully covered",
        ),
        (
            "absurd config",
            good.clone(),
            Some(r#"{"architectures":["Qwen2ForCausalLM"],"hidden_size":1099511627776}"#),
            "hidden_size",
        ),
        (
            "config/weights mismatch",
            good.clone(),
            Some(
                r#"{"architectures":["Qwen2ForCausalLM"],"vocab_size":151936,"hidden_size":64,"num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,"intermediate_size":64,"tie_word_embeddings":true}"#,
            ),
            "shape mismatch",
        ),
    ];
    for (what, weights, config, want) in cases {
        let d = tempfile::tempdir().unwrap();
        let m = hostile_model(d.path(), &weights, config, None);
        let o = d.path().join("out");
        let err =
            fails_fast(&["score", &fixture("tiny/trajectories.jsonl"), "--model", &m, "-q", "-o", o.to_str().unwrap()]);
        assert!(err.contains(want), "{what}: {err}");
        assert!(!o.exists(), "{what}: output directory created before the model loaded");
    }
}

#[test]
fn hostile_chat_templates_are_clear_errors() {
    let good = fs::read(Path::new(&fixture("tiny/qwen2")).join("model.safetensors")).unwrap();
    for (tmpl, want) in [
        ("{% for i in range(1000000000) %}{{ i }}{% endfor %}", "range has too many elements"),
        ("{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}", "fuel"),
        ("{% include '/etc/passwd' %}", "template"),
        ("{{ messages[0].content.__class__ }}", ""),
        ("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "recursion"),
    ] {
        let d = tempfile::tempdir().unwrap();
        let m = hostile_model(d.path(), &good, None, Some(tmpl));
        let out = swerm(&["render", &fixture("tiny/trajectories.jsonl"), "--model", &m]);
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(!err.contains("panicked"), "{tmpl}: {err}");
        if out.status.success() {
            // Harmless templates may render; nothing of the file system may leak.
            assert!(!String::from_utf8_lossy(&out.stdout).contains("root:"), "{tmpl}");
        } else {
            assert_eq!(out.status.code(), Some(2));
            assert!(err.to_lowercase().contains(want), "{tmpl}: {err}");
        }
    }
}

// ---- mismatched data: the warnings a user would want ----

#[test]
fn mismatched_data_warns() {
    let d = tempfile::tempdir().unwrap();
    let a = d.path().join("a.jsonl");
    let b = d.path().join("b.jsonl");
    fs::write(&a, "{\"instance_id\":\"x\",\"model_patch\":\"+1\"}\n{\"instance_id\":\"y\",\"model_patch\":\"+2\"}\n")
        .unwrap();
    fs::write(&b, "{\"instance_id\":\"x\",\"model_patch\":\"+3\"}\n").unwrap();
    // b's report claims y resolved, but b has no patch for y; it also names a stranger.
    let ra = d.path().join("ra.json");
    let rb = d.path().join("rb.json");
    fs::write(&ra, r#"{"resolved":["x"]}"#).unwrap();
    fs::write(&rb, r#"{"resolved":["y","zzz"]}"#).unwrap();
    let o = d.path().join("o");
    let out = swerm(&[
        "rerank",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--labels",
        ra.to_str().unwrap(),
        rb.to_str().unwrap(),
        "-q",
        "-o",
        o.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("runs cover different instance sets: 1 of 2 runs lacks some of the 2 instances (b lacks 1); missing = unresolved"),
        "{err}"
    );
    assert!(err.lines().all(|l| l.chars().count() < 200), "{err}");
    assert!(err.contains("rb.json: 1 resolved id is not among the 2 instances"), "{err}");
    assert!(err.contains("rb.json: marks 1 instance resolved for which run b has no patch"), "{err}");
    // --strict: the same warnings are errors (exit 2).
    let strict = swerm(&[
        "rerank",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--labels",
        ra.to_str().unwrap(),
        rb.to_str().unwrap(),
        "-q",
        "--strict",
        "-o",
        d.path().join("strict").to_str().unwrap(),
    ]);
    assert_eq!(strict.status.code(), Some(2));
    let err = String::from_utf8_lossy(&strict.stderr);
    assert!(err.contains("runs cover different instance sets") && err.contains("(--strict)"), "{err}");
}

#[test]
fn an_over_long_line_is_an_error_not_an_allocation() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("big.jsonl");
    let long = format!("{{\"instance_id\":\"x\",\"model_patch\":\"{}\"}}\n", "a".repeat(5000));
    fs::write(&f, format!("{{\"instance_id\":\"w\",\"model_patch\":\"\"}}\n{long}")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_swerm"))
        .args(["rerank", f.to_str().unwrap(), "-o", d.path().join("o").to_str().unwrap()])
        .env("SWERM_MAX_LINE_BYTES", "1000")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("big.jsonl:2") && err.contains("longer than 1000 bytes"), "{err}");
}

#[test]
fn an_over_long_whole_file_record_is_an_error() {
    let d = tempfile::tempdir().unwrap();
    let run = d.path().join("run");
    fs::create_dir_all(&run).unwrap();
    let traj = format!("{{\"trajectory\":[],\"history\":[],\"info\":{{\"submission\":\"{}\"}}}}", "a".repeat(5000));
    fs::write(run.join("x__y-1.traj"), traj).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_swerm"))
        .args(["rerank", run.to_str().unwrap(), "-o", d.path().join("o").to_str().unwrap()])
        .env("SWERM_MAX_LINE_BYTES", "1000")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("x__y-1.traj: a single JSON record"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
