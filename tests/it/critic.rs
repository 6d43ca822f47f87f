//! Classification heads (`*ForSequenceClassification`) against HF transformers: the tiny head
//! checkpoints of fixtures/tiny (scripts/make_tiny_checkpoints.py; each on a causal checkpoint's
//! decoder) and transformers' logits and probabilities of every label at each prompt's last
//! token, in float32.

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use serde_json::Value;

use crate::util::*;

/// (checkpoint, its causal base for the bf16 tolerance, labels to score: `None` = the default).
const HEADS: [(&str, &str, &[Option<&str>]); 3] = [
    ("qwen3-moe-cls", "qwen3-moe-h32", &[None, Some("loops")]),
    ("qwen2-cls", "qwen2", &[None, Some("bad")]),
    ("qwen3-cls", "qwen3", &[None]),
];

/// The records a preset's reference rows cover: the chat preset adds the records with tool
/// definitions (one file, so that each record's `run` names its run).
fn inputs(preset: &str, dir: &Path) -> String {
    if preset != "chat" {
        return tiny("trajectories.jsonl");
    }
    chat_inputs(dir)
}

fn score(arch: &str, preset: &str, dtype: &str, label: Option<&str>, out: &Path) -> HashMap<Key, Value> {
    let (trajs, model) = (inputs(preset, out.parent().unwrap()), tiny(arch));
    let mut args = vec!["score", &*trajs, "--model", &*model, "--preset", preset, "--device", "cpu", "--dtype", dtype];
    args.extend(["-q", "-o", out.to_str().unwrap()]);
    if let Some(l) = label {
        args.extend(["--label", l]);
    }
    ok(&swerm(&args));
    jsonl(&fs::read_to_string(out.join("scores.jsonl")).unwrap()).into_iter().map(|r| (key(&r), r)).collect()
}

/// The label index `--label` picks: the one named, else `success`, else the first.
fn label_index(w: &Value, label: Option<&str>) -> usize {
    let labels: Vec<&str> = w["labels"].as_array().unwrap().iter().map(|l| l.as_str().unwrap()).collect();
    let want = label.unwrap_or("success");
    labels.iter().position(|l| *l == want).unwrap_or_else(|| {
        assert!(label.is_none(), "{want} not in {labels:?}");
        0
    })
}

#[test]
fn head_scores_match_transformers_in_f32() {
    for (arch, _, labels) in HEADS {
        for preset in ["swegym", "r2egym", "chat"] {
            let want = tiny_expected(arch, preset);
            assert!(!want.is_empty(), "{arch} {preset}: no reference rows");
            for &label in labels {
                let dir = tempfile::tempdir().unwrap();
                let got = score(arch, preset, "f32", label, &dir.path().join("o"));
                for (k, w) in &want {
                    let (g, i) = (&got[k], label_index(w, label));
                    let (p, z) = (w["probs"][i].as_f64().unwrap(), w["head_logits"][i].as_f64().unwrap());
                    let (gp, gz) = (g["score"].as_f64().unwrap(), g["logit"].as_f64().unwrap());
                    assert!((gp - p).abs() < 1e-4, "{arch} {preset} {label:?} {k:?}: p {gp} vs transformers {p}");
                    assert!((gz - z).abs() < 1e-4, "{arch} {preset} {label:?} {k:?}: logit {gz} vs {z}");
                    assert_eq!(g["n_tokens"], w["n_tokens"], "{arch} {preset} {k:?}: the same prompt");
                    assert!(g.get("logit_yes").is_none(), "a head has no answer tokens");
                }
                let settings = read_json(&dir.path().join("o").join("scores.settings.json"));
                assert_eq!(settings["scorer"]["label"].as_str(), label, "the label named is in the scores' identity");
            }
        }
    }
}

/// bf16 within the tolerance recorded for the head's decoder (its causal base's answer-logit
/// difference tolerance `tz`, fixtures/tiny/bf16-tolerance.json) for the label's logit; the
/// probability within what that allows: a sigmoid moves at most 1/4 of its logit's change, and a
/// two-label softmax share 1/4 of its logits' difference (up to 2 tz), so 0.5 tz bounds both.
#[test]
fn head_scores_in_bf16_stay_within_the_recorded_tolerance() {
    let tol: Value = serde_json::from_str(&fs::read_to_string(tiny("bf16-tolerance.json")).unwrap()).unwrap();
    for (arch, base, _) in HEADS {
        let tz = tol[base]["logit_diff_tolerance"].as_f64().unwrap();
        let tp = 0.5 * tz;
        let dir = tempfile::tempdir().unwrap();
        let got = score(arch, "swegym", "bf16", None, &dir.path().join("o"));
        for (k, w) in &tiny_expected(arch, "swegym") {
            let i = label_index(w, None);
            let dz = (got[k]["logit"].as_f64().unwrap() - w["head_logits"][i].as_f64().unwrap()).abs();
            let dp = (got[k]["score"].as_f64().unwrap() - w["probs"][i].as_f64().unwrap()).abs();
            assert!(dz <= tz && dp <= tp, "{arch} {k:?}: logit off by {dz} (tolerance {tz}), p by {dp} ({tp})");
        }
    }
}

#[test]
fn labels_are_checked_before_scoring() {
    let (trajs, dir) = (tiny("trajectories.jsonl"), tempfile::tempdir().unwrap());
    let out = dir.path().join("o");
    let o = out.to_str().unwrap();
    let e = fails(&["score", &trajs, "--model", &tiny("qwen3-moe-cls"), "--label", "nope", "--device", "cpu", "-o", o]);
    assert!(e.contains("--label nope") && e.contains("resolved_rubric, success, loops"), "{e}");
    let e = fails(&["score", &trajs, "--model", &tiny("qwen3"), "--label", "success", "--device", "cpu", "-o", o]);
    assert!(e.contains("not a classification head"), "{e}");
    // Served too: the config decides before any endpoint is asked (none listens on port 9).
    let e = fails(&[
        "score",
        &trajs,
        "--model",
        &tiny("qwen3"),
        "--label",
        "success",
        "--endpoint",
        "http://127.0.0.1:9",
        "-o",
        o,
    ]);
    assert!(e.contains("--label") && e.contains("not a classification head"), "{e}");
}

/// A head's scores go wherever a verifier's do: a calibration fitted on them, and eval and
/// compare beside a YES/NO verifier's.
#[test]
fn critic_scores_calibrate_and_compare() {
    let d = tempfile::tempdir().unwrap();
    let (critic, verifier) = (d.path().join("critic"), d.path().join("verifier"));
    rerank_demo(&critic, &["--model", &tiny("qwen3-moe-cls"), "--device", "cpu"]);
    rerank_demo(&verifier, &["--model", &tiny("qwen3-moe"), "--device", "cpu"]);
    let cal = d.path().join("cal.json");
    ok(&swerm(&["calibrate", "--scores", critic.to_str().unwrap(), "--folds", "4", "-q", "-o", cal.to_str().unwrap()]));
    let out = d.path().join("eval");
    let c = critic.to_str().unwrap();
    ok(&swerm(&["eval", "--scores", c, "--calibration", cal.to_str().unwrap(), "-q", "-o", out.to_str().unwrap()]));
    assert!(read_json(&out.join("report.json"))["calibration"].is_object());
    let cmp = d.path().join("cmp");
    let args = [format!("critic={c}"), format!("verifier={}", verifier.display())];
    ok(&swerm(&["compare", &args[0], &args[1], "--bootstrap", "50", "-q", "-o", cmp.to_str().unwrap()]));
    let text = check_report(&[&cmp]);
    assert!(!text.contains("FAIL"), "{text}");
    // Combined with the verifier on the logit scale (a head's logit is logit(score)).
    let both = d.path().join("both");
    let (cc, vv) = (format!("c={c}"), format!("v={}", verifier.display()));
    let report = rerank_demo(&both, &["--combine", &cc, "--combine", &vv, "--scale", "logit", "--json"]);
    let report: Value = serde_json::from_str(&report).unwrap();
    assert!(report["scorer"].as_str().unwrap().starts_with("combined"), "{report}");
}

/// SWE-RM's answers: a checkpoint whose tokenizer adds `<YES>` and `<NO>` answers with them by
/// default (with a note), exactly as if `--answer-tokens "<YES>,<NO>"` had been given;
/// `--answer-tokens` still chooses.
#[test]
fn added_yes_no_tokens_are_the_default_answers() {
    let d = tempfile::tempdir().unwrap();
    let ck = d.path().join("swe-rm-like");
    fs::create_dir(&ck).unwrap();
    for f in ["config.json", "model.safetensors", "tokenizer_config.json"] {
        fs::copy(Path::new(&tiny("qwen3")).join(f), ck.join(f)).unwrap();
    }
    let mut tok: Value = serde_json::from_str(&fs::read_to_string(tiny("tokenizer.json")).unwrap()).unwrap();
    let added = tok["added_tokens"].as_array_mut().unwrap();
    let next = added.iter().map(|t| t["id"].as_u64().unwrap()).max().unwrap() + 1;
    for (i, t) in ["<YES>", "<NO>"].iter().enumerate() {
        added.push(serde_json::json!({"id": next + i as u64, "content": t, "single_word": false, "lstrip": false,
            "rstrip": false, "normalized": false, "special": true}));
    }
    fs::write(ck.join("tokenizer.json"), tok.to_string()).unwrap();
    let run = |name: &str, extra: &[&str]| -> (String, Vec<Value>, Value) {
        let out = d.path().join(name);
        let (trajs, model) = (tiny("trajectories.jsonl"), ck.to_str().unwrap().to_string());
        let mut args = vec!["score", &*trajs, "--model", &*model, "--device", "cpu", "-o", out.to_str().unwrap()];
        args.extend(extra);
        let r = swerm(&args);
        ok(&r);
        let lines = jsonl(&fs::read_to_string(out.join("scores.jsonl")).unwrap());
        (String::from_utf8_lossy(&r.stderr).into_owned(), lines, read_json(&out.join("scores.settings.json")))
    };
    let (note, by_default, settings) = run("default", &[]);
    assert!(note.contains("adds <YES> and <NO>: they are the answers"), "{note}");
    assert_eq!(settings["scorer"]["answers"], serde_json::json!(["<YES>", "<NO>"]));
    let (quiet, explicit, _) = run("explicit", &["--answer-tokens", "<YES>,<NO>"]);
    assert!(!quiet.contains("adds <YES>"), "{quiet}");
    let logits = |ls: &[Value]| -> Vec<(Value, Value)> {
        ls.iter().map(|l| (l["logit_yes"].clone(), l["logit_no"].clone())).collect()
    };
    assert_eq!(logits(&by_default), logits(&explicit), "the same two rows of the head");
    let (_, plain, settings) = run("plain", &["--answer-tokens", " YES, NO"]);
    assert_eq!(settings["scorer"]["answers"], serde_json::json!([" YES", " NO"]));
    assert_ne!(logits(&plain), logits(&by_default));
}

/// `--preset chat`: the conversation and its tools through the checkpoint's chat template, no
/// generation prompt, byte-identical to transformers' `apply_chat_template` (Qwen3's template
/// with tools and tool calls, and plain ChatML).
#[test]
fn chat_prompts_are_byte_identical_to_transformers() {
    let dir = tempfile::tempdir().unwrap();
    let trajs = inputs("chat", dir.path());
    for arch in ["qwen3-moe-cls", "qwen2-cls"] {
        let want = tiny_expected(arch, "chat");
        let got = ok(&swerm(&["render", &trajs, "--model", &tiny(arch), "--preset", "chat"]));
        let got: HashMap<Key, Value> = jsonl(&got).into_iter().map(|r| (key(&r), r)).collect();
        assert_eq!(got.len(), want.len(), "{arch}: one prompt per non-empty candidate");
        for (k, w) in &want {
            assert_eq!(got[k]["prompt"], w["prompt"], "{arch} {k:?}");
            assert_eq!(got[k]["n_tokens"], w["n_tokens"], "{arch} {k:?}");
        }
    }
    let tools = &tiny_expected("qwen3-moe-cls", "chat")[&("tiny__critic-1".to_string(), "agent-a".to_string())];
    assert!(tools["prompt"].as_str().unwrap().contains("<tools>\n{\"type\": \"function\""), "the fixture has tools");
}

/// Over `--max-tokens`, the chat preset keeps the task (its first user message) and the last
/// messages, and says how many between were removed; a YES/NO checkpoint refuses the preset.
#[test]
fn chat_truncation_keeps_the_task_and_the_end() {
    let trajs = tiny("critic-trajectories.jsonl");
    let full = ok(&swerm(&["render", &trajs, "--model", &tiny("qwen3-moe-cls"), "--preset", "chat"]));
    let full: Vec<Value> = jsonl(&full);
    let n = full[0]["n_tokens"].as_u64().unwrap();
    let max = (n - 40).to_string();
    let cut =
        ok(&swerm(&["render", &trajs, "--model", &tiny("qwen3-moe-cls"), "--preset", "chat", "--max-tokens", &max]));
    let cut = &jsonl(&cut)[0];
    let p = cut["prompt"].as_str().unwrap();
    assert!(cut["n_tokens"].as_u64().unwrap() <= n - 40, "{p}");
    assert!(p.contains("x should be 2, not 1 (naïve café).") && p.contains("<tools>"), "task and tools kept: {p}");
    assert!(p.contains("messages of the interaction removed by swerm to fit --max-tokens"), "{p}");
    assert!(p.ends_with("finished\n</tool_response><|im_end|>\n"), "the end kept: {p}");
    let d = tempfile::tempdir().unwrap();
    let o = d.path().join("o");
    let e = fails(&[
        "score",
        &trajs,
        "--model",
        &tiny("qwen3"),
        "--preset",
        "chat",
        "--device",
        "cpu",
        "-o",
        o.to_str().unwrap(),
    ]);
    assert!(e.contains("--preset chat asks no question"), "{e}");
}
