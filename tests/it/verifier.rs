//! The LM verifier against HF transformers: fixtures/tiny holds tiny random checkpoints of the
//! three architectures (real Qwen3 tokenizer) and transformers' prompts and P(YES) for
//! fixtures/tiny/trajectories.jsonl, all made by scripts/make_tiny_checkpoints.py.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::util::*;

const ARCHS: [&str; 4] = ["qwen3-moe", "qwen3", "qwen2", "qwen3-moe-h32"];
const PRESETS: [&str; 2] = ["swegym", "r2egym"];

fn score(model: &str, preset: &str, out: &Path, extra: &[&str]) -> HashMap<Key, Value> {
    score_as(model, preset, "f32", out, extra)
}

fn score_as(model: &str, preset: &str, dtype: &str, out: &Path, extra: &[&str]) -> HashMap<Key, Value> {
    let trajs = tiny("trajectories.jsonl");
    let mut args = vec!["score", &*trajs, "--model", model, "--preset", preset];
    args.extend(["--device", "cpu", "--dtype", dtype, "-q", "-o", out.to_str().unwrap()]);
    args.extend(extra);
    ok(&swerm_env(&args, &[]));
    jsonl(&fs::read_to_string(out.join("scores.jsonl")).unwrap()).into_iter().map(|r| (key(&r), r)).collect()
}

#[test]
fn prompts_are_byte_identical_to_transformers() {
    for arch in ARCHS {
        for preset in PRESETS {
            let want = tiny_expected(arch, preset);
            let got = ok(&swerm_env(
                &["render", &tiny("trajectories.jsonl"), "--model", &tiny(arch), "--preset", preset],
                &[],
            ));
            let got: HashMap<Key, Value> = jsonl(&got).into_iter().map(|r| (key(&r), r)).collect();
            assert_eq!(got.len(), want.len(), "{arch} {preset}: one prompt per non-empty candidate");
            for (k, w) in &want {
                let g = &got[k];
                assert_eq!(g["prompt"], w["prompt"], "{arch} {preset} {k:?}");
                assert_eq!(g["n_tokens"], w["n_tokens"], "{arch} {preset} {k:?}");
            }
        }
    }
}

/// bf16 on the CPU against transformers' f32 references, within the tolerances
/// scripts/bf16_tolerance.py recorded (four times what transformers' own bf16 moves the answer
/// logits; the script says why); scripts/gpu-check.sh holds the CUDA bf16 forward to the same file.
#[test]
fn bf16_scores_stay_within_the_recorded_tolerance() {
    let tol: Value = serde_json::from_str(&fs::read_to_string(tiny("bf16-tolerance.json")).unwrap()).unwrap();
    for arch in ARCHS {
        let (tz, tp) =
            (tol[arch]["logit_diff_tolerance"].as_f64().unwrap(), tol[arch]["p_yes_tolerance"].as_f64().unwrap());
        for preset in PRESETS {
            let dir = tempfile::tempdir().unwrap();
            let got = score_as(&tiny(arch), preset, "bf16", dir.path(), &[]);
            for (k, w) in &tiny_expected(arch, preset) {
                let g = &got[k];
                let z = g["logit_yes"].as_f64().unwrap() - g["logit_no"].as_f64().unwrap();
                let zw = w["logit_yes"].as_f64().unwrap() - w["logit_no"].as_f64().unwrap();
                assert!((z - zw).abs() <= tz, "{arch} {preset} {k:?}: logit difference {z} vs {zw} (tolerance {tz})");
                let dp = (g["score"].as_f64().unwrap() - w["p_yes"].as_f64().unwrap()).abs();
                assert!(dp <= tp, "{arch} {preset} {k:?}: P(YES) off by {dp} (tolerance {tp})");
            }
        }
    }
}

#[test]
fn scores_match_transformers_in_f32() {
    for arch in ARCHS {
        for preset in PRESETS {
            let dir = tempfile::tempdir().unwrap();
            let got = score(&tiny(arch), preset, dir.path(), &[]);
            let want = tiny_expected(arch, preset);
            for (k, w) in &want {
                let g = &got[k];
                for (a, b) in [("score", "p_yes"), ("logit_yes", "logit_yes"), ("logit_no", "logit_no")] {
                    let d = (g[a].as_f64().unwrap() - w[b].as_f64().unwrap()).abs();
                    assert!(d < 1e-4, "{arch} {preset} {k:?} {a}: swerm {} vs transformers {}", g[a], w[b]);
                }
                assert_eq!(g["n_tokens"], w["n_tokens"]);
                assert_eq!(g["truncated"], false);
            }
            // The empty candidate scores 0 without a forward pass; the one without messages
            // is judged from its patch alone.
            let empty = &got[&("tiny__pkg-2".to_string(), "agent-a".to_string())];
            assert_eq!((empty["score"].as_f64(), empty["empty"].as_bool()), (Some(0.0), Some(true)));
            assert_eq!(got[&("tiny__pkg-2".to_string(), "agent-b".to_string())]["trajectory"], false);
        }
    }
}

/// `--preset swelego` (SWE-Lego's verifiers) against transformers (scripts/make_tiny_checkpoints.py,
/// written from the SWE-Lego spec): byte-identical prompts, and P(YES) (the softmax of the
/// maxima over six spellings of each answer) within 1e-4 in f32, with the preset's default rope
/// scaling (YaRN x4: the tiny configs have none) and with --rope-scaling none.
#[test]
fn swelego_matches_transformers_with_and_without_rope_scaling() {
    for arch in ["qwen3-moe", "qwen3", "qwen2"] {
        for (name, rope) in [("swelego", None), ("swelego@rope=none", Some("none"))] {
            let want = tiny_expected(arch, name);
            assert_eq!(want.len(), 3, "{arch} {name}: the reference rows");
            let extra: Vec<&str> = rope.map(|r| vec!["--rope-scaling", r]).unwrap_or_default();
            let (trajs, model) = (tiny("trajectories.jsonl"), tiny(arch));
            let mut args = vec!["render", &*trajs];
            args.extend(["--model", &model, "--preset", "swelego"]);
            args.extend(&extra);
            let rendered: HashMap<Key, Value> =
                jsonl(&ok(&swerm_env(&args, &[]))).into_iter().map(|r| (key(&r), r)).collect();
            let dir = tempfile::tempdir().unwrap();
            let got = score(&model, "swelego", dir.path(), &extra);
            for (k, w) in &want {
                assert_eq!(rendered[k]["prompt"], w["prompt"], "{arch} {name} {k:?}");
                let g = &got[k];
                // The rope each score was computed with is in its line (the config's has none).
                assert_eq!(g["rope_scaling"], rope.unwrap_or("yarn:4"), "{arch} {name} {k:?}");
                // MaxOf reads six spellings of each answer: all twelve ids are recorded.
                assert_eq!(g["answer_ids"].as_array().map(Vec::len), Some(12), "{g}");
                for (a, b) in [("score", "p_yes"), ("logit_yes", "logit_yes"), ("logit_no", "logit_no")] {
                    let d = (g[a].as_f64().unwrap() - w[b].as_f64().unwrap()).abs();
                    assert!(d < 1e-4, "{arch} {name} {k:?} {a}: swerm {} vs transformers {}", g[a], w[b]);
                }
            }
        }
        // The rope scaling changes the scores (the test above tells them apart), and is part of
        // the store's identity.
        let (x, y) = (tiny_expected(arch, "swelego"), tiny_expected(arch, "swelego@rope=none"));
        assert!(
            x.iter().any(|(k, w)| (w["p_yes"].as_f64().unwrap() - y[k]["p_yes"].as_f64().unwrap()).abs() > 1e-3),
            "{arch}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    score(&tiny("qwen3"), "swelego", dir.path(), &[]);
    let header = read_json(&dir.path().join("scores.settings.json"));
    assert_eq!(header["scorer"]["rope_scaling"], "yarn:4", "{header}");
}

#[test]
fn answer_token_overrides_match_transformers() {
    // The swegym prompt scored with the r2egym answer pair, and the reverse.
    for (preset, yes, no) in [("swegym", "YES", "NO"), ("r2egym", " YES", " NO")] {
        let dir = tempfile::tempdir().unwrap();
        let pair = format!("{yes},{no}");
        let got = score(&tiny("qwen3-moe"), preset, dir.path(), &["--answer-tokens", &pair]);
        for (k, w) in tiny_expected("qwen3-moe", preset) {
            let (ly, ln) = (w["answer_logits"][yes].as_f64().unwrap(), w["answer_logits"][no].as_f64().unwrap());
            let p = 1.0 / (1.0 + (ln - ly).exp());
            let g = &got[&k];
            assert!((g["score"].as_f64().unwrap() - p).abs() < 1e-4, "{preset} {pair:?} {k:?}: {} vs {p}", g["score"]);
            assert!((g["logit_yes"].as_f64().unwrap() - ly).abs() < 1e-4);
        }
    }
}

#[test]
fn packing_does_not_change_scores_and_runs_are_reproducible() {
    let (a, b, c) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let model = tiny("qwen3-moe");
    score(&model, "swegym", a.path(), &["--batch-tokens", "1"]); // one sequence per pass
    score(&model, "swegym", b.path(), &["--batch-tokens", "100000"]); // all in one pass
    score(&model, "swegym", c.path(), &["--batch-tokens", "100000"]);
    let read = |d: &Path| fs::read(d.join("scores.jsonl")).unwrap();
    assert_eq!(read(b.path()), read(c.path()), "scoring twice gives identical bytes");
    let (one, packed) =
        (jsonl(&String::from_utf8(read(a.path())).unwrap()), jsonl(&String::from_utf8(read(b.path())).unwrap()));
    for (x, y) in one.iter().zip(&packed) {
        assert_eq!(key(x), key(y));
        let d = (x["score"].as_f64().unwrap() - y["score"].as_f64().unwrap()).abs();
        assert!(d < 1e-6, "{x} vs {y}");
    }
}

#[test]
fn score_resumes_and_refuses_other_settings() {
    let dir = tempfile::tempdir().unwrap();
    let model = tiny("qwen3");
    let full = score(&model, "swegym", dir.path(), &[]);
    let path = dir.path().join("scores.jsonl");
    let complete = fs::read(&path).unwrap();
    // Keep two lines and a torn third, as a crash would leave them.
    let text = String::from_utf8(complete.clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    fs::write(&path, format!("{}\n{}\n{}", lines[0], lines[1], &lines[2][..10])).unwrap();
    let out = swerm_env(
        &[
            "score",
            &tiny("trajectories.jsonl"),
            "--model",
            &model,
            "--device",
            "cpu",
            "-o",
            dir.path().to_str().unwrap(),
        ],
        &[],
    );
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{err}");
    assert!(err.contains("torn last line"), "{err}");
    assert_eq!(fs::read(&path).unwrap(), complete, "resumed result equals the uninterrupted one");
    assert_eq!(full.len(), 4);

    let out = swerm_env(
        &[
            "score",
            &tiny("trajectories.jsonl"),
            "--model",
            &model,
            "--preset",
            "r2egym",
            "-o",
            dir.path().to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("holds scores of verifier qwen3"));
}

#[test]
fn hub_ids_load_from_the_offline_cache() {
    // A Hugging Face cache laid out as huggingface_hub writes it, holding the qwen2 fixture.
    let home = tempfile::tempdir().unwrap();
    let repo = home.path().join("hub/models--tiny-org--tiny-qwen2");
    let commit = "0123456789abcdef0123456789abcdef01234567";
    let snap = repo.join("snapshots").join(commit);
    fs::create_dir_all(&snap).unwrap();
    fs::create_dir_all(repo.join("refs")).unwrap();
    fs::write(repo.join("refs/main"), commit).unwrap();
    for f in fs::read_dir(tiny("qwen2")).unwrap() {
        let f = f.unwrap().path();
        fs::copy(&f, snap.join(f.file_name().unwrap())).unwrap();
    }
    let env = [("HF_HOME", home.path().to_str().unwrap()), ("HF_HUB_OFFLINE", "1")];
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let args = |m: &str, o: &Path| {
        vec![
            "score".to_string(),
            tiny("trajectories.jsonl"),
            "--model".into(),
            m.into(),
            "-q".into(),
            "-o".into(),
            o.to_string_lossy().into(),
        ]
    };
    let run = |args: Vec<String>| swerm_env(&args.iter().map(String::as_str).collect::<Vec<_>>(), &env);
    ok(&run(args("tiny-org/tiny-qwen2", a.path())));
    ok(&run(args(&tiny("qwen2"), b.path())));
    let strip = |d: &Path| {
        jsonl(&fs::read_to_string(d.join("scores.jsonl")).unwrap())
            .into_iter()
            .map(|r| r["score"].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(a.path()), strip(b.path()));
    // By commit hash too; a missing revision or repo is a clear error offline.
    let mut by_commit = args("tiny-org/tiny-qwen2", tempfile::tempdir().unwrap().path());
    by_commit.extend(["--revision".into(), commit.into()]);
    ok(&run(by_commit));
    let mut missing = args("tiny-org/tiny-qwen2", tempfile::tempdir().unwrap().path());
    missing.extend(["--revision".into(), "v9".into()]);
    let out = run(missing);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("HF_HUB_OFFLINE"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn bad_models_and_answers_are_clear_errors() {
    let d = tempfile::tempdir().unwrap();
    let o = d.path().join("o");
    let trajs = tiny("trajectories.jsonl");
    let run = |extra: &[&str]| {
        let mut args = vec!["score", &*trajs, "-o", o.to_str().unwrap()];
        args.extend(extra);
        let out = swerm_env(&args, &[]);
        assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let e = run(&["--model", &tiny("qwen3"), "--answer-tokens", "Definitely,NO"]);
    assert!(e.contains("\"Definitely\" is 2 tokens") || e.contains("tokens in this tokenizer"), "{e}");
    let e = run(&["--model", "/no/such/dir"]);
    assert!(e.contains("not a hub id") || e.contains("no such directory"), "{e}");
    // A checkpoint of an unsupported architecture.
    let bad = d.path().join("llama");
    fs::create_dir_all(&bad).unwrap();
    for f in ["tokenizer.json", "tokenizer_config.json", "model.safetensors"] {
        let src = Path::new(&tiny("qwen2")).join(f);
        fs::copy(src, bad.join(f)).unwrap();
    }
    fs::write(bad.join("config.json"), r#"{"architectures":["LlamaForCausalLM"],"hidden_size":32}"#).unwrap();
    let e = run(&["--model", bad.to_str().unwrap()]);
    assert!(e.contains("LlamaForCausalLM is not supported"), "{e}");
    assert!(e.contains("config.json"), "{e}");
}

#[test]
fn rerank_with_a_model_reports_and_selects() {
    let dir = tempfile::tempdir().unwrap();
    let demo = |p: &str| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo").join(p).to_string_lossy().into_owned()
    };
    let out = ok(&swerm_env(
        &[
            "rerank",
            &demo("runs/run-c.jsonl"),
            &demo("runs/run-e.jsonl"),
            "--labels",
            &demo("reports/run-c.json"),
            &demo("reports/run-e.json"),
            "--model",
            &tiny("qwen3-moe"),
            "--device",
            "cpu",
            "-q",
            "-o",
            dir.path().to_str().unwrap(),
        ],
        &[],
    ));
    assert!(out.contains("scorer verifier qwen3-moe"), "{out}");
    let report: Value = serde_json::from_str(&fs::read_to_string(dir.path().join("report.json")).unwrap()).unwrap();
    assert!(report["auc"].is_number() && report["ece"].is_number(), "{report}");
    assert_eq!(report["truncated_candidates"], 0);
    let scores = jsonl(&fs::read_to_string(dir.path().join("scores.jsonl")).unwrap());
    assert_eq!(scores.len() as u64, 2 * report["instances"].as_u64().unwrap());
    assert!(scores.iter().all(|s| s["score"].as_f64().is_some_and(|p| (0.0..=1.0).contains(&p))));
    assert!(scores.iter().filter(|s| s["empty"] == false).all(|s| s["n_tokens"].as_u64().unwrap() > 50));
}

/// The issue statement of each fixture trajectory: its `problem_statement`, else its first
/// user message.
fn issues() -> HashMap<Key, String> {
    jsonl(&fs::read_to_string(tiny("trajectories.jsonl")).unwrap())
        .iter()
        .filter_map(|r| {
            let text = r["problem_statement"].as_str().map(String::from).or_else(|| {
                r["messages"].as_array()?.iter().find(|m| m["role"] == "user")?["content"].as_str().map(String::from)
            })?;
            Some((key(r), text))
        })
        .collect()
}

/// `swerm render` of the fixture trajectories with the tiny Qwen3 under `--max-tokens`.
fn render_qwen3(preset: &str, max_tokens: &str) -> String {
    let args = [
        "render",
        &tiny("trajectories.jsonl"),
        "--model",
        &tiny("qwen3"),
        "--preset",
        preset,
        "--max-tokens",
        max_tokens,
    ];
    ok(&swerm_env(&args, &[]))
}

#[test]
fn max_tokens_keeps_the_issue_and_marks_the_cut() {
    // (preset, budget): swegym fits its fixed parts (the final-patch block added to a trajectory
    // that does not show its patch included) in 350 tokens, r2egym (system prompt twice, the
    // final patch) needs about 600.
    for (preset, max) in [("swegym", 350), ("r2egym", 600)] {
        let dir = tempfile::tempdir().unwrap();
        let got = score(&tiny("qwen3"), preset, dir.path(), &["--max-tokens", &max.to_string()]);
        let want = tiny_expected("qwen3", preset);
        let long: Vec<&Key> =
            want.iter().filter(|(_, w)| w["n_tokens"].as_u64().unwrap() > max).map(|(k, _)| k).collect();
        assert!(!long.is_empty(), "{preset}: no prompt over {max} tokens to cut");
        for k in &long {
            assert_eq!(got[*k]["truncated"], true, "{preset} {k:?}: {}", got[*k]);
            assert!(got[*k]["n_tokens"].as_u64().unwrap() <= max);
        }
        assert_eq!(got.values().filter(|g| g["truncated"] == true).count(), long.len(), "{preset}");
        let rendered = render_qwen3(preset, &max.to_string());
        let issues = issues();
        let patches = fixture_patches();
        for r in jsonl(&rendered) {
            let prompt = r["prompt"].as_str().unwrap();
            // Wherever the full prompt shows the issue (swegym shows none for a patch alone), the
            // cut one shows it too.
            if let Some(issue) =
                issues.get(&key(&r)).filter(|i| want[&key(&r)]["prompt"].as_str().unwrap().contains(i.as_str()))
            {
                assert!(prompt.contains(issue.as_str()), "{preset} {r}: the issue statement was cut");
            }
            assert_eq!(prompt.contains("tokens of the interaction removed by swerm"), r["truncated"] == true, "{r}");
            assert!(prompt.ends_with("<judgement>"));
            // The patch is never cut: every line of it (its header included) is in the prompt.
            let patch = &patches[&key(&r)];
            assert!(patch.lines().all(|l| prompt.contains(l)), "{preset} {r}: the patch was cut");
            assert_ne!(r["patch"], "not_shown", "{r}");
        }
    }
}

/// The fixture trajectories' patches, by (instance, run).
fn fixture_patches() -> HashMap<Key, String> {
    jsonl(&std::fs::read_to_string(tiny("trajectories.jsonl")).unwrap())
        .iter()
        .map(|r| (key(r), r["model_patch"].as_str().unwrap().to_string()))
        .collect()
}

/// Under a limit the log goes first, then the end of the issue; the patch block stays whole,
/// and a candidate whose patch and frame alone do not fit is unscored with that reason.
#[test]
fn the_patch_is_never_cut() {
    let d = tempfile::tempdir().unwrap();
    let issue = "frob() raises IndexError on an empty list. ".repeat(40);
    let patch = "diff --git a/m.py b/m.py\n--- a/m.py\n+++ b/m.py\n@@ -1,2 +1,4 @@\n def frob(xs):\n+    if not xs:\n+        return None\n     return xs[0]\n";
    let rec = json!({
        "instance_id": "long__issue-1", "run": "r", "model_patch": patch,
        "messages": [
            {"role": "system", "content": "You are a careful engineer."},
            {"role": "user", "content": issue},
            {"role": "assistant", "content": "Looking around. ".repeat(60)},
            {"role": "user", "content": "OK."},
            {"role": "assistant", "content": "Done: frob guards the empty list now."},
        ],
    });
    let bare = json!({"instance_id": "long__issue-1", "run": "s", "model_patch": patch, "messages": []});
    let input = d.path().join("long.jsonl");
    std::fs::write(&input, format!("{rec}\n{bare}\n")).unwrap();
    let render = |max: &str| {
        let args = ["render", input.to_str().unwrap(), "--model", &tiny("qwen3"), "--max-tokens", max];
        jsonl(&ok(&swerm_env(&args, &[])))
    };
    let lines = render("400");
    let traj = lines.iter().find(|r| r["run"] == "r").unwrap();
    let prompt = traj["prompt"].as_str().unwrap();
    // The log is gone, the issue keeps its start, the added patch block is whole.
    assert!(prompt.contains("tokens of the interaction removed by swerm"), "{prompt}");
    assert!(prompt.contains("tokens of the issue removed by swerm"), "{prompt}");
    assert!(prompt.contains("frob() raises IndexError on an empty list. frob()"), "{prompt}");
    assert!(patch.lines().all(|l| prompt.contains(l)), "{prompt}");
    assert_eq!((traj["patch"].as_str(), traj["truncated"].as_bool()), (Some("added"), Some(true)));
    assert!(traj["n_tokens"].as_u64().unwrap() <= 400);
    // The patch-only candidate fits whole.
    let bare = lines.iter().find(|r| r["run"] == "s").unwrap();
    assert!(patch.lines().all(|l| bare["prompt"].as_str().unwrap().contains(l)), "{bare}");
    // Where even the patch and the frame do not fit: an error naming them, no prompt.
    for r in render("150") {
        let e = r["error"].as_str().unwrap_or_else(|| panic!("{r}"));
        assert!(e.contains("the patch and the prompt's frame") && e.contains("over --max-tokens 150"), "{e}");
    }
}

#[test]
fn a_prompt_whose_issue_cannot_fit_is_an_error_for_that_candidate() {
    // r2egym at 300 tokens: the system prompt, the issue and the final patch alone are longer.
    let dir = tempfile::tempdir().unwrap();
    let got = score(&tiny("qwen3"), "r2egym", dir.path(), &["--max-tokens", "300"]);
    let errors: Vec<&Value> = got.values().filter(|g| g.get("error").is_some()).collect();
    assert_eq!(errors.len(), 3, "every non-empty candidate: {got:?}");
    for e in &errors {
        assert!(e["score"].is_null(), "{e}");
        assert!(e["error"].as_str().unwrap().contains("over --max-tokens 300"), "{e}");
    }
    let rendered = render_qwen3("r2egym", "300");
    assert!(jsonl(&rendered).iter().all(|r| r["error"].is_string() && r.get("prompt").is_none()), "{rendered}");
}

#[test]
fn bench_runs_on_a_synthetic_shape() {
    let out = ok(&swerm_env(
        &[
            "bench",
            "--synthetic",
            "tiny-moe",
            "--context",
            "32,96",
            "--batch-tokens",
            "128",
            "--passes",
            "1",
            "--device",
            "cpu",
        ],
        &[],
    ));
    let rows: Vec<Vec<&str>> = out
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().collect())
        .filter(|f: &Vec<&str>| f.first().is_some_and(|x| x.parse::<usize>().is_ok()))
        .collect();
    assert_eq!(rows.len(), 2, "{out}");
    assert_eq!((rows[0][0], rows[0][1]), ("32", "4"), "128 tokens per pass = 4 sequences of 32");
    assert!(rows.iter().all(|r| r[2].parse::<f64>().unwrap() > 0.0), "{out}");
    let bad = swerm_env(&["bench", "--synthetic", "gpt-5", "--device", "cpu"], &[]);
    assert_eq!(bad.status.code(), Some(2));
}

/// Provenance in every score line: a digest of the prompt's token ids (computed here from
/// `render --ids`), the answer's position and token ids, and for a cut prompt what was removed
/// and how many tokens; report.json sums the tokens removed, report.html's data carries both.
#[test]
fn every_score_line_records_what_the_model_read() {
    use sha2::{Digest, Sha256};
    let dir = tempfile::tempdir().unwrap();
    let (trajs, model, max) = (tiny("trajectories.jsonl"), tiny("qwen3"), "350");
    let got = score(&model, "swegym", dir.path(), &["--max-tokens", max]);
    let args = ["render", &*trajs, "--model", &model, "--preset", "swegym", "--max-tokens", max, "--ids"];
    let rendered = jsonl(&ok(&swerm_env(&args, &[])));
    let full = tiny_expected("qwen3", "swegym");
    let uncut: HashMap<Key, Value> =
        jsonl(&ok(&swerm_env(&args[..6], &[]))).into_iter().map(|r| (key(&r), r["patch"].clone())).collect();
    let tok: Value = serde_json::from_str(&fs::read_to_string(tiny("tokenizer.json")).unwrap()).unwrap();
    // swegym reads " YES" and " NO" (after "<judgement>"), each one token.
    let answer = json!([tok["model"]["vocab"]["ĠYES"], tok["model"]["vocab"]["ĠNO"]]);
    let mut cut = 0;
    for r in &rendered {
        let g = &got[&key(r)];
        let ids: Vec<u32> = r["ids"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as u32).collect();
        assert_eq!((ids.len() as u64, &r["answer_at"]), (r["n_tokens"].as_u64().unwrap(), &json!(ids.len() - 1)));
        let mut h = Sha256::new();
        ids.iter().for_each(|i| h.update(i.to_le_bytes()));
        let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(g["prompt_ids"], format!("sha256:{}", &hex[..16]), "{g}");
        assert_eq!((&g["answer_at"], &g["answer_ids"], &g["n_tokens"]), (&r["answer_at"], &answer, &r["n_tokens"]));
        assert!(g.get("rope_scaling").is_none(), "the config's rope: nothing to record");
        if g["truncated"] == true {
            cut += 1;
            assert_eq!(
                (&g["cut"], &r["cut"], &r["removed_tokens"]),
                (&json!("log"), &json!("log"), &g["removed_tokens"])
            );
            let removed = g["removed_tokens"].as_u64().unwrap();
            let (n, whole) = (g["n_tokens"].as_u64().unwrap(), full[&key(r)]["n_tokens"].as_u64().unwrap());
            // The full prompt's length less the cut one's (when the cut made swegym add a
            // final-patch block, the full prompt with that block is the longer one).
            if r["patch"] == uncut[&key(r)] {
                assert_eq!(removed, whole - n, "{g}");
            } else {
                assert!(removed > whole - n, "{g}");
            }
        } else {
            assert!(g.get("cut").is_none() && g.get("removed_tokens").is_none(), "{g}");
        }
    }
    assert!(cut > 0, "no prompt cut at --max-tokens {max}");
    let removed: u64 = got.values().filter_map(|g| g["removed_tokens"].as_u64()).sum();
    // rerank reports the sum, and the line saying what the verifier read says it.
    let out = dir.path().join("rerank");
    let args = ["rerank", &*trajs, "--model", &model, "--device", "cpu", "--max-tokens", max, "-o"];
    let r = swerm_env(&[&args[..], &[out.to_str().unwrap()]].concat(), &[]);
    let err = String::from_utf8_lossy(&r.stderr).into_owned();
    assert!(r.status.success(), "{err}");
    let report = read_json(&out.join("report.json"));
    assert_eq!((&report["truncated_candidates"], &report["removed_tokens"]), (&json!(cut), &json!(removed)));
    let said = String::from_utf8_lossy(&r.stdout);
    assert!(said.contains(&format!("{cut} prompts cut ({removed} tokens removed; never the patch)")), "{said}");
    let html = fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains(&format!("\"rm\":{}", got.values().find_map(|g| g["removed_tokens"].as_u64()).unwrap())));
}
