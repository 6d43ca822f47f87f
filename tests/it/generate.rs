//! Judges that reason before they answer (`--generate`): the decoding itself is held to
//! transformers' `generate` in src/model/generate.rs; here, the scorer around it through the
//! binary: the logprob verdict equals the prefill verifier where the prompt already ends with the
//! marker, sampled runs are reproducible (again, resumed after kill -9, in two shards),
//! generations.jsonl keeps every sample, and bad combinations are refused.

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use serde_json::Value;

use crate::util::*;

fn scores(dir: &Path) -> HashMap<Key, Value> {
    jsonl_file(&dir.join("scores.jsonl")).into_iter().map(|r| (key(&r), r)).collect()
}

/// A swegym prompt already ends with `<judgement>`: the reasoning judge reads the answer at
/// once, and its scores are the prefill verifier's, bit for bit.
#[test]
fn the_logprob_verdict_at_the_marker_is_the_prefill_verifiers() {
    let d = tempfile::tempdir().unwrap();
    let (trajs, model) = (tiny("trajectories.jsonl"), tiny("qwen3-moe"));
    let (a, b) = (d.path().join("prefill"), d.path().join("reasoning"));
    let base = ["score", &*trajs, "--model", &*model, "--device", "cpu", "-q", "-o"];
    ok(&swerm(&[&base[..], &[a.to_str().unwrap()]].concat()));
    let out = ok(&swerm(&[&base[..], &[b.to_str().unwrap(), "--generate", "8"]].concat()));
    assert!(out.contains("reasoning (generate 8, greedy, 1 sample, logprob)"), "{out}");
    let (x, y) = (scores(&a), scores(&b));
    assert_eq!(x.len(), y.len());
    for (k, v) in &x {
        assert_eq!(v["score"], y[k]["score"], "{k:?}");
        if v["empty"] == false {
            assert_eq!((&y[k]["samples"], &y[k]["invalid_samples"]), (&Value::from(1), &Value::from(0)));
        }
    }
    let g = generations(&b);
    assert!(g.values().all(|l| l["end"] == "marker" && l["tokens"].as_array().unwrap().is_empty()), "{g:?}");
    let header = read_json(&b.join("scores.settings.json"));
    assert_eq!(header["scorer"]["generation"]["max_new"], 8);
    assert!(header["scorer"]["generation"].get("seed").is_none(), "greedy: no seed in the identity");
}

/// `--preset cot` sampled 2 times per candidate: the same command gives the same samples; a
/// run killed with SIGKILL and resumed gives them too, generating only what was missing; two
/// shards give them too; another temperature is another scorer.
#[test]
fn sampled_generations_are_reproducible_resumed_and_sharded() {
    let d = tempfile::tempdir().unwrap();
    let runs = many_candidates(d.path(), 2, 12);
    let model = tiny("qwen3");
    let args = |out: &Path, extra: &[&str]| -> Vec<String> {
        let mut a: Vec<String> = vec!["score".into()];
        a.extend(runs.iter().cloned());
        for s in ["--model", &model, "--device", "cpu", "--preset", "cot", "--generate", "24", "--temperature", "0.9"] {
            a.push(s.into());
        }
        for s in ["--samples", "2", "--verdict", "parse", "--seed", "5", "--batch-tokens", "1500", "-q", "-o"] {
            a.push(s.into());
        }
        a.push(out.display().to_string());
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let (one, two) = (d.path().join("one"), d.path().join("two"));
    ok(&swerm_s(&args(&one, &[])));
    ok(&swerm_s(&args(&two, &[])));
    let want = generations(&one);
    let judged = scores(&one).values().filter(|s| s["empty"] == false).count();
    assert!(judged >= 12, "{judged}");
    assert_eq!(want.len(), 2 * judged, "every sample of every candidate with a patch");
    let texts: Vec<&str> = want.values().map(|l| l["text"].as_str().unwrap()).collect();
    assert!(texts.iter().any(|t| !t.is_empty()));
    let tokens = |g: &HashMap<(String, String, u64), Value>| -> HashMap<(String, String, u64), Value> {
        g.iter().map(|(k, l)| (k.clone(), l["tokens"].clone())).collect()
    };
    assert_eq!(tokens(&generations(&two)), tokens(&want), "the same command, the same samples");
    // Two samples of one prompt differ (they draw from their own generators).
    let k0 = want.keys().next().unwrap().clone();
    let other = (k0.0.clone(), k0.1.clone(), 1 - k0.2);
    assert_ne!(want[&k0]["tokens"], want[&other]["tokens"]);
    // Killed mid-run, then resumed.
    let killed = d.path().join("killed");
    let at = kill_when(&args(&killed, &[]), &killed.join("generations.jsonl"), 10);
    assert!(at.is_some_and(|n| n < want.len()), "killed before the end: {at:?}");
    let before = lines(&killed.join("generations.jsonl"));
    let r = swerm_s(&args(&killed, &[]));
    let err = String::from_utf8_lossy(&r.stderr).into_owned();
    assert!(r.status.success(), "{err}");
    assert_eq!(tokens(&generations(&killed)), tokens(&want), "resumed: the same samples");
    assert!(before >= 10, "{before}");
    // Two shards.
    let (s1, s2) = (d.path().join("s1"), d.path().join("s2"));
    ok(&swerm_s(&args(&s1, &["--shard", "1/2"])));
    ok(&swerm_s(&args(&s2, &["--shard", "2/2"])));
    let mut sharded = generations(&s1);
    sharded.extend(generations(&s2));
    assert_eq!(tokens(&sharded), tokens(&want), "sharded: the same samples");
    // The scores: the mean of each candidate's valid verdicts (none here: a random model).
    let sc = scores(&one);
    assert!(sc.values().filter(|s| s["empty"] == false).all(|s| s["samples"] == 2), "{sc:?}");
    for s in sc.values().filter(|s| s["empty"] == false) {
        let k = (s["instance_id"].as_str().unwrap().to_string(), s["run"].as_str().unwrap().to_string());
        let v: Vec<f64> = (0..2).filter_map(|i| want[&(k.0.clone(), k.1.clone(), i)]["verdict"].as_f64()).collect();
        match s["score"].as_f64() {
            Some(x) => assert!((x - v.iter().sum::<f64>() / v.len() as f64).abs() < 1e-12),
            None => assert!(v.is_empty() && s["error"].as_str().unwrap().starts_with("no_verdict"), "{s}"),
        }
    }
    // Another temperature changes the samples: another scorer, refused in the same store.
    let mut other_t = args(&one, &[]);
    let t = other_t.iter().position(|a| a == "0.9").unwrap();
    other_t[t] = "0.5".into();
    let r = swerm_s(&other_t);
    assert!(!r.status.success() && String::from_utf8_lossy(&r.stderr).contains("--overwrite"));
}

/// What cannot work is refused before anything is loaded, with the way out.
#[test]
fn bad_generation_settings_are_refused() {
    let d = tempfile::tempdir().unwrap();
    let (trajs, model) = (tiny("trajectories.jsonl"), tiny("qwen3"));
    let o = d.path().join("o");
    let base = ["score", &*trajs, "--model", &*model, "-o", o.to_str().unwrap()];
    let cases: [(&[&str], &str); 6] = [
        (&["--preset", "cot"], "give --generate N"),
        (&["--generate", "8", "--samples", "3"], "greedy decoding gives 3 identical samples"),
        (&["--generate", "0"], "--generate must be at least 1"),
        (&["--generate", "8", "--temperature", "0.7", "--top-p", "0"], "--top-p 0"),
        (&["--generate", "8", "--pairwise"], "does not generate"),
        (&["--temperature", "0.7"], "--generate"),
    ];
    for (extra, want) in cases {
        let err = fails(&[&base[..], extra].concat());
        assert!(err.contains(want), "{extra:?}: {err}");
    }
    assert!(!o.join("scores.jsonl").exists());
    let head = tiny("qwen3-cls");
    let err =
        fails(&["score", &trajs, "--model", &head, "--preset", "chat", "--generate", "8", "-o", o.to_str().unwrap()]);
    assert!(err.contains("classification head"), "{err}");
    let _ = fs::remove_dir_all(&o);
}

/// rerank with a reasoning judge: report.html's candidate view carries each candidate's
/// samples (verdict, how it ended, the end of its text), and the summary their cost.
#[test]
fn report_html_shows_the_samples() {
    let d = tempfile::tempdir().unwrap();
    let o = d.path().join("o");
    let out = ok(&swerm(&[
        "rerank",
        &tiny("trajectories.jsonl"),
        "--model",
        &tiny("qwen3"),
        "--preset",
        "cot",
        "--generate",
        "12",
        "--temperature",
        "0.8",
        "--samples",
        "2",
        "--verdict",
        "parse",
        "-o",
        o.to_str().unwrap(),
    ]));
    assert!(out.contains("reasoning (generate 12, T 0.8, 2 samples, parse): 6 samples now"), "{out}");
    let html = fs::read_to_string(o.join("report.html")).unwrap();
    let gens = jsonl_file(&o.join("generations.jsonl"));
    assert_eq!(gens.len(), 6);
    for g in &gens {
        let view = serde_json::json!({"k": g["sample"], "v": g["verdict"], "e": g["end"], "x": g["text"]});
        // The page embeds its data as JSON (with `<` escaped for the script element).
        let text = view.to_string().replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026");
        assert!(html.contains(&text), "{text} not in report.html");
    }
    assert!(html.contains("Samples of "));
}
