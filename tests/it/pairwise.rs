//! The pairwise judge (`--pairwise`): its prompts and answers against transformers
//! (fixtures/tiny/pairwise-expected.jsonl, scripts/pairwise_reference.py), both orders of every
//! pair, soft wins and best@k recomputed by scripts/check_report.py from pairs.jsonl, the
//! tournament's bound, the store's resumption, `--max-tokens`, eval and compare of a pairwise
//! store, and the refusals.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::Path;

use serde_json::Value;

use crate::util::*;

const ARCHS: [&str; 3] = ["qwen3-moe", "qwen3", "qwen2"];

type PairKey = (String, String, String);

fn pair_key(v: &Value) -> PairKey {
    let s = |k: &str| v[k].as_str().unwrap().to_string();
    (s("instance_id"), s("a"), s("b"))
}

fn expected(arch: &str) -> HashMap<PairKey, Value> {
    jsonl(&fs::read_to_string(tiny("pairwise-expected.jsonl")).unwrap())
        .into_iter()
        .filter(|r| r["arch"] == arch)
        .map(|r| (pair_key(&r), r))
        .collect()
}

fn inputs() -> String {
    tiny("pairwise-trajectories.jsonl")
}

/// `CMD --pairwise` (score or rerank) in f32 on the CPU; returns stdout.
fn judge(cmd: &str, model: &str, out: &Path, extra: &[&str]) -> String {
    let (i, o) = (inputs(), out.to_str().unwrap());
    let mut args = vec![cmd, &i, "--model", model, "--pairwise", "--device", "cpu", "--dtype", "f32", "-o", o];
    args.extend_from_slice(extra);
    ok(&swerm(&args))
}

/// `score --pairwise` in f32 on the CPU; returns stdout.
fn score(model: &str, out: &Path, extra: &[&str]) -> String {
    judge("score", model, out, extra)
}

fn pairs(dir: &Path) -> HashMap<PairKey, Value> {
    jsonl_file(&dir.join("pairs.jsonl")).into_iter().map(|l| (pair_key(&l), l)).collect()
}

/// The Python reference checks a rerank or eval directory (soft wins and best@k from
/// pairs.jsonl); skipped where no python3 is installed.
fn check_report(dir: &Path) {
    let script = root().join("scripts/check_report.py");
    match std::process::Command::new("python3").arg(script).arg(dir).output() {
        Ok(o) => assert!(
            o.status.success(),
            "check_report.py {}:\n{}{}",
            dir.display(),
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => eprintln!("skipped check_report.py: {e}"),
    }
}

#[test]
fn prompts_and_answers_match_transformers() {
    for arch in ARCHS {
        let want = expected(arch);
        assert!(want.len() >= 8, "{arch}: reference rows");
        let rendered = jsonl(&ok(&swerm(&["render", &inputs(), "--model", &tiny(arch), "--pairwise"])));
        let got: HashMap<PairKey, Value> = rendered.into_iter().map(|l| (pair_key(&l), l)).collect();
        assert_eq!(got.keys().collect::<HashSet<_>>(), want.keys().collect::<HashSet<_>>(), "{arch}: comparisons");
        for (k, w) in &want {
            assert_eq!(got[k]["prompt"], w["prompt"], "{arch} {k:?}: prompt");
            assert_eq!(got[k]["n_tokens"], w["n_tokens"], "{arch} {k:?}: tokens");
        }
        let dir = tempfile::tempdir().unwrap();
        score(&tiny(arch), dir.path(), &["-q"]);
        let stored = pairs(dir.path());
        assert_eq!(stored.len(), want.len(), "{arch}: one line per ordered comparison");
        for (k, w) in &want {
            let g = &stored[k];
            for (a, b) in [("p_a", "p_a"), ("logit_a", "logit_a"), ("logit_b", "logit_b")] {
                let d = (g[a].as_f64().unwrap() - w[b].as_f64().unwrap()).abs();
                assert!(d < 1e-4, "{arch} {k:?} {a}: swerm {} vs transformers {}", g[a], w[b]);
            }
            assert_eq!(g["n_tokens"], w["n_tokens"]);
            // Both orders of every pair.
            assert!(stored.contains_key(&(k.0.clone(), k.2.clone(), k.1.clone())));
        }
    }
}

#[test]
fn rerank_selects_by_soft_wins_and_checks_out_independently() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pw");
    let stdout = judge("rerank", &tiny("qwen3"), &out, &[]);
    // Cost in the summary: 3 + 2 non-empty candidates -> 6 + 2 ordered comparisons.
    assert!(stdout.contains("pairwise: 8 comparisons (4.0 per instance)"), "{stdout}");
    assert!(stdout.contains("prompt tokens read now"), "{stdout}");
    assert!(stdout.contains("best@k of the pairwise judge"), "{stdout}");
    check_report(&out);
    // W from pairs.jsonl, written here too: p(i beats j) averages both orders.
    let p = pairs(&out);
    let scores: HashMap<Key, Value> = jsonl_file(&out.join("scores.jsonl")).into_iter().map(|l| (key(&l), l)).collect();
    let runs = ["agent-a", "agent-b", "agent-c"];
    let beats = |x: &str, y: &str| {
        let f = p[&("tiny__pkg-1".into(), x.into(), y.into())]["p_a"].as_f64().unwrap();
        let b = p[&("tiny__pkg-1".into(), y.into(), x.into())]["p_a"].as_f64().unwrap();
        (f + 1.0 - b) / 2.0
    };
    for x in runs {
        let w: f64 = runs.iter().filter(|&&y| y != x).map(|y| beats(x, y)).sum();
        let s = scores[&("tiny__pkg-1".to_string(), x.to_string())]["score"].as_f64().unwrap();
        assert!((w - s).abs() < 1e-12, "{x}: W {w} vs score {s}");
    }
    // The pick is the largest W.
    let best = runs.iter().max_by(|a, b| {
        let w = |x: &str| runs.iter().filter(|&&y| y != x).map(|y| beats(x, y)).sum::<f64>();
        w(a).total_cmp(&w(b))
    });
    let preds = jsonl_file(&out.join("predictions.jsonl"));
    let pick = preds.iter().find(|p| p["instance_id"] == "tiny__pkg-1").unwrap();
    let recs = jsonl(&fs::read_to_string(inputs()).unwrap());
    let patch = recs.iter().find(|r| r["instance_id"] == "tiny__pkg-1" && r["run"] == *best.unwrap()).unwrap();
    assert_eq!(pick["model_patch"], patch["model_patch"]);

    // eval of the store gives the same numbers; compare takes it beside a pointwise set.
    let ev = dir.path().join("ev");
    ok(&swerm(&["eval", "--scores", out.to_str().unwrap(), "-o", ev.to_str().unwrap(), "-q"]));
    let (a, b) = (read_json(&out.join("report.json")), read_json(&ev.join("report.json")));
    assert_eq!(a["best_at_k"], b["best_at_k"]);
    assert_eq!(a["selected"], b["selected"]);
    let cons = dir.path().join("cons");
    ok(&swerm(&["rerank", &inputs(), "-q", "-o", cons.to_str().unwrap()]));
    let cmp = dir.path().join("cmp");
    ok(&swerm(&[
        "compare",
        &format!("pw={}", out.display()),
        &format!("cons={}", cons.display()),
        "-o",
        cmp.to_str().unwrap(),
        "-q",
    ]));
    let c = read_json(&cmp.join("compare.json"));
    assert_eq!(c["scorers"]["pw"]["best_at_k"], a["best_at_k"], "{}", c["scorers"]["pw"]);

    // Under --tie-break the chain is stored and orders the selection; best@k recomputes W in
    // each subset and averages equal W, so it is the same numbers, and the notes say so.
    let chained = dir.path().join("chained");
    let stdout = judge("rerank", &tiny("qwen3"), &chained, &["--tie-break", "consensus"]);
    let note = "--tie-break orders the selection only";
    assert!(stdout.contains(note), "{stdout}");
    assert!(!a["notes"].to_string().contains(note));
    let t = read_json(&chained.join("report.json"));
    assert!(t["notes"].to_string().contains(note), "{}", t["notes"]);
    assert_eq!(t["best_at_k"], a["best_at_k"]);
    assert!(jsonl_file(&chained.join("scores.jsonl")).iter().all(|l| l["tie_rank"].is_number()));
    check_report(&chained);
}

#[test]
fn an_interrupted_run_redoes_nothing_it_finished() {
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first");
    score(&tiny("qwen3"), &first, &[]);
    let all = fs::read_to_string(first.join("pairs.jsonl")).unwrap();
    let n = all.lines().count();
    // A run killed after three comparisons, in the middle of writing a fourth.
    let again = dir.path().join("again");
    fs::create_dir_all(&again).unwrap();
    fs::copy(first.join("scores.settings.json"), again.join("scores.settings.json")).unwrap();
    let kept: String = all.lines().take(3).map(|l| format!("{l}\n")).collect();
    let torn = &all.lines().nth(3).unwrap()[..40];
    fs::write(again.join("pairs.jsonl"), format!("{kept}{torn}")).unwrap();
    fs::write(again.join("scores.jsonl"), "").unwrap();
    let out = score(&tiny("qwen3"), &again, &[]);
    assert!(out.contains(&format!("{} now, 3 reused", n - 3)), "{out}");
    let (a, b) = (pairs(&first), pairs(&again));
    assert_eq!(a.len(), b.len());
    for (k, x) in &a {
        let d = (x["p_a"].as_f64().unwrap() - b[k]["p_a"].as_f64().unwrap()).abs();
        assert!(d < 1e-6, "{k:?}");
    }
    let s = |d: &Path| jsonl_file(&d.join("scores.jsonl"));
    assert_eq!(s(&first).len(), s(&again).len());
    for (x, y) in s(&first).iter().zip(s(&again)) {
        assert_eq!(key(x), key(&y));
        assert!((x["score"].as_f64().unwrap_or(-1.0) - y["score"].as_f64().unwrap_or(-1.0)).abs() < 1e-6);
    }
    // A finished run judges nothing again.
    let out = score(&tiny("qwen3"), &again, &[]);
    assert!(out.contains(&format!("0 now, {n} reused")), "{out}");
    // Another judge's directory is refused; --overwrite starts afresh.
    let e = fails(&["score", &inputs(), "--model", &tiny("qwen3"), "-o", again.to_str().unwrap()]);
    assert!(e.contains("never share a directory"), "{e}");
}

#[test]
fn tournaments_stay_within_their_bound() {
    let dir = tempfile::tempdir().unwrap();
    // 12 runs of 2 instances: 9 non-empty candidates each, above the round robin's 8.
    let runs = many_candidates(dir.path(), 12, 2);
    let out = dir.path().join("t");
    let mut args: Vec<String> = vec!["rerank".into()];
    args.extend(runs.iter().cloned());
    args.extend(
        ["--model", &tiny("qwen3"), "--pairwise", "--pivots", "2", "--device", "cpu", "--dtype", "f32", "-o"]
            .map(String::from),
    );
    args.push(out.to_string_lossy().into_owned());
    let stdout = ok(&swerm_s(&args));
    assert!(stdout.contains("2 tournaments of ring + pivots"), "{stdout}");
    let p = jsonl_file(&out.join("pairs.jsonl"));
    let (m, k) = (9, 2);
    let bound = 2 * (m + k * (m - k) + k * (k - 1) / 2);
    for inst in ["many__inst-000", "many__inst-001"] {
        let mine: Vec<&Value> = p.iter().filter(|l| l["instance_id"] == inst).collect();
        assert!(mine.len() <= bound && mine.len() < m * (m - 1), "{inst}: {} comparisons, bound {bound}", mine.len());
        // Every comparison in both orders; each run met at least two others (the ring).
        let set: HashSet<(String, String)> =
            mine.iter().map(|l| (l["a"].as_str().unwrap().into(), l["b"].as_str().unwrap().into())).collect();
        assert!(set.iter().all(|(a, b)| set.contains(&(b.clone(), a.clone()))));
        let mut met: HashMap<&str, usize> = HashMap::new();
        for (a, _) in &set {
            *met.entry(a.as_str()).or_default() += 1;
        }
        assert_eq!(met.len(), m, "{inst}: every non-empty candidate compared");
        assert!(met.values().all(|&c| c >= 2));
        // k pivots met all 8 others.
        assert!(met.values().filter(|&&c| c == m - 1).count() >= k, "{met:?}");
    }
    assert!(stdout.contains(&format!("pairwise: {} comparisons", p.len())), "{stdout}");
    check_report(&out);
}

#[test]
fn max_tokens_keeps_the_issue_and_both_patches() {
    let recs = jsonl(&fs::read_to_string(inputs()).unwrap());
    let issue = "f(None) returns None; it should return 0.";
    let lines =
        jsonl(&ok(&swerm(&["render", &inputs(), "--model", &tiny("qwen3"), "--pairwise", "--max-tokens", "900"])));
    let mut cut = 0;
    for l in lines.iter().filter(|l| l["instance_id"] == "tiny__pkg-1") {
        let text = l["prompt"].as_str().unwrap();
        assert!(l["n_tokens"].as_u64().unwrap() <= 900, "{l}");
        assert!(text.contains(issue) && text.ends_with("<choice>"));
        for run in [&l["a"], &l["b"]] {
            let patch = recs.iter().find(|r| r["instance_id"] == "tiny__pkg-1" && r["run"] == *run).unwrap();
            assert!(text.contains(patch["model_patch"].as_str().unwrap()), "{run}'s patch is whole");
        }
        if l["truncated"] == true {
            cut += 1;
            assert!(text.contains("removed by swerm to fit --max-tokens 900"));
        }
    }
    assert!(cut >= 2, "some prompts were condensed");
    // Too small for the issue and the patches: an error for the comparison, never a cut issue.
    let lines =
        jsonl(&ok(&swerm(&["render", &inputs(), "--model", &tiny("qwen3"), "--pairwise", "--max-tokens", "300"])));
    assert!(
        lines.iter().all(|l| l["error"].as_str().is_some_and(|e| e.contains("over --max-tokens 300"))),
        "{lines:?}"
    );
    let dir = tempfile::tempdir().unwrap();
    let stdout = score(&tiny("qwen3"), dir.path(), &["--max-tokens", "300"]);
    assert!(stdout.contains("8 comparisons over the token limit"), "{stdout}");
    let s = jsonl_file(&dir.path().join("scores.jsonl"));
    let unscored = s.iter().filter(|l| l["score"].is_null()).count();
    assert_eq!(unscored, 5, "every non-empty candidate is unscored: {s:?}");
}

#[test]
fn refusals() {
    let m = tiny("qwen3");
    let e = fails(&["score", &inputs(), "--model", &m, "--pairwise", "--answer-tokens", "Y,N", "-o", "/tmp/x"]);
    assert!(e.contains("--answer-tokens does not apply"), "{e}");
    let e = fails(&["score", &inputs(), "--model", &m, "--pairwise", "--preset", "r2egym", "-o", "/tmp/x"]);
    assert!(e.contains("--preset does not apply"), "{e}");
    let e = fails(&["score", &inputs(), "--model", &tiny("qwen3-cls"), "--pairwise", "-o", "/tmp/x"]);
    assert!(e.contains("pairwise") && e.contains("classification head"), "{e}");
    let e = fails(&["rerank", &inputs(), "--pairwise", "-o", "/tmp/x"]);
    assert!(e.contains("--pairwise needs --model"), "{e}");
    let out = swerm(&["render", &inputs(), "--model", &m, "--pivots", "2"]);
    assert_eq!(out.status.code(), Some(2), "--pivots without --pairwise");
}
