//! The leakage gate and user templates (`--template`, `--allow-privileged`): a prompt that
//! holds what the SWE-bench harness grades with is refused unless allowed, and then marked
//! wherever its numbers appear; a template's variables, its identity, and what it may read.

use std::fs;
use std::path::Path;

use serde_json::{Value, json};

use crate::util::*;

/// The tiny trajectories, with agent-b's log on tiny__pkg-1 carrying the harness's test patch
/// (a tool output that printed it), and a dataset whose rows hold the gold fields.
fn leaky_inputs(dir: &Path) -> (String, String) {
    let test_patch =
        "diff --git a/tests/test_core.py b/tests/test_core.py\n+def test_none():\n+    assert f(None) == 0\n";
    let mut text = String::new();
    for l in fs::read_to_string(tiny("trajectories.jsonl")).unwrap().lines() {
        let mut r: Value = serde_json::from_str(l).unwrap();
        if r["instance_id"] == "tiny__pkg-1" && r["run"] == "agent-b" {
            let msgs = r["messages"].as_array_mut().unwrap();
            msgs.push(json!({"role": "tool", "content": format!("$ git show HEAD:tests.diff\n{test_patch}")}));
        }
        text += &format!("{r}\n");
    }
    let trajs = write(dir, "trajs.jsonl", &text);
    let gold_1 = "diff --git a/pkg/core.py b/pkg/core.py\n--- a/pkg/core.py\n+++ b/pkg/core.py\n@@ -1,2 +1,2 @@\n def f(x):\n-    return x\n+    return x or 0\n";
    let rows = [
        json!({"instance_id": "tiny__pkg-1", "problem_statement": "f(None) should return 0.", "patch": gold_1,
               "test_patch": test_patch, "FAIL_TO_PASS": "[\"tests/test_core.py::test_none\"]", "PASS_TO_PASS": "[]",
               "hints_text": "look at core.py"}),
        json!({"instance_id": "tiny__pkg-2", "problem_statement": "g() crashes on empty input.",
               "patch": "diff --git a/pkg/g.py b/pkg/g.py\n+    return []\n", "test_patch": "diff --git a/tests/test_g.py b/tests/test_g.py\n+def test_empty(): pass\n",
               "FAIL_TO_PASS": "[\"tests/test_g.py::test_empty\"]", "PASS_TO_PASS": "[]", "hints_text": ""}),
    ];
    let ds = write(dir, "test.jsonl", &rows.iter().map(|r| format!("{r}\n")).collect::<String>());
    (trajs, ds)
}

/// A built-in preset whose prompt holds the test patch: refused, naming the candidate and the
/// field; with --allow-privileged, judged and marked in scores.jsonl, the summary, report.json,
/// report.md, eval and compare. agent-a on tiny__pkg-1 wrote the gold patch itself: not
/// privileged.
#[test]
fn a_prompt_holding_the_test_patch_is_refused_then_marked() {
    let d = tempfile::tempdir().unwrap();
    let (trajs, ds) = leaky_inputs(d.path());
    let model = tiny("qwen3");
    let o = d.path().join("o");
    let base = ["rerank", &*trajs, "--model", &*model, "--dataset", &*ds, "-o", o.to_str().unwrap()];
    let err = fails(&base);
    assert!(
        err.contains("instance tiny__pkg-1 of run agent-b")
            && err.contains("test_patch")
            && err.contains("--allow-privileged"),
        "{err}"
    );
    assert!(!o.join("report.json").exists());
    let out = ok(&swerm(&[&base[..], &["--allow-privileged"]].concat()));
    assert!(out.contains("scorer verifier qwen3 [privileged: 1 prompt]"), "{out}");
    assert!(out.contains("PRIVILEGED: 1 prompt held"), "{out}");
    let lines = jsonl_file(&o.join("scores.jsonl"));
    let marked: Vec<(&str, &str, &Value)> = lines
        .iter()
        .filter(|l| l.get("privileged").is_some())
        .map(|l| (l["instance_id"].as_str().unwrap(), l["run"].as_str().unwrap(), &l["privileged"]))
        .collect();
    assert_eq!(marked, [("tiny__pkg-1", "agent-b", &json!(["test_patch"]))]);
    let report = read_json(&o.join("report.json"));
    assert_eq!(report["privileged_prompts"], 1);
    assert!(report["scorer"].as_str().unwrap().ends_with("[privileged: 1 prompt]"));
    assert!(fs::read_to_string(o.join("report.md")).unwrap().contains("[privileged: 1 prompt]"));
    // Read back: eval and compare mark it too; a clean scorer beside it is not marked.
    let e = d.path().join("e");
    let out = ok(&swerm(&["eval", "--scores", o.to_str().unwrap(), "-o", e.to_str().unwrap()]));
    assert!(out.contains("[privileged: 1 prompt]"), "{out}");
    let clean = d.path().join("clean");
    ok(&swerm(&["rerank", &trajs, "--model", &model, "-q", "-o", clean.to_str().unwrap()]));
    let c = d.path().join("c");
    ok(&swerm(&[
        "compare",
        &format!("clean={}", clean.display()),
        &format!("leaky={}", o.display()),
        "-o",
        c.to_str().unwrap(),
    ]));
    let cj = read_json(&c.join("compare.json"));
    let names: Vec<&String> = cj["scorers"].as_object().unwrap().keys().collect();
    assert_eq!(names, ["clean", "leaky [privileged: 1 prompt]"]);
}

/// A template's variables as documented, rendered under the chat template; what it reads is
/// checked before anything loads; its text is its identity, its path is not.
#[test]
fn a_user_template_renders_its_variables_and_is_gated() {
    let d = tempfile::tempdir().unwrap();
    let (trajs, ds) = leaky_inputs(d.path());
    let model = tiny("qwen3");
    let judge = write(
        d.path(),
        "judge.jinja",
        "[{{ instance_id }} / {{ run }}]\nIssue: {{ issue }}\n{% if dataset.hints_text %}Hints: {{ dataset.hints_text }}\n{% endif %}Turns: {{ messages | length }}\n{{ trajectory }}\nPatch:\n{{ patch }}\nAnswer <judgement>YES or <judgement>NO.",
    );
    let render = ["render", &*trajs, "--model", &*model, "--template", &*judge, "--dataset", &*ds];
    // The trajectory that printed the test patch stops render too, unless allowed.
    assert!(fails(&render).contains("instance tiny__pkg-1 of run agent-b"));
    let out = ok(&swerm(&[&render[..], &["--allow-privileged"]].concat()));
    let rendered = jsonl(&out);
    let one = rendered.iter().find(|r| r["instance_id"] == "tiny__pkg-1" && r["run"] == "agent-a").unwrap();
    let p = one["prompt"].as_str().unwrap();
    assert!(p.starts_with("<|im_start|>user\n[tiny__pkg-1 / agent-a]\nIssue: f(None) returns None"), "{p}");
    assert!(p.contains("Hints: look at core.py\nTurns: "), "{p}");
    assert!(
        p.contains("*** Turn 1 - ASSISTANT ***") && p.contains("+    return x or 0\n\nAnswer <judgement>YES"),
        "{p}"
    );
    assert!(p.ends_with("<|im_end|>\n<|im_start|>assistant\n"), "{p}");
    let marked: Vec<&Value> = rendered.iter().filter(|r| r.get("privileged").is_some()).collect();
    assert_eq!(marked.len(), 1);
    assert_eq!((&marked[0]["run"], &marked[0]["privileged"]), (&json!("agent-b"), &json!(["test_patch"])));
    // Refused before anything loads: a privileged field, `dataset` without --dataset, a name
    // swerm does not give, a syntax error, --preset beside it.
    let leaky = write(d.path(), "leaky.jinja", "{{ issue }}\n{{ dataset.FAIL_TO_PASS }}\n{{ patch }}");
    let o = d.path().join("o");
    let cases: [(&[&str], &str); 5] = [
        (&["--template", &leaky, "--dataset", &ds], "reads dataset.FAIL_TO_PASS"),
        (&["--template", &judge], "reads `dataset`: give --dataset"),
        (&["--template", &write(d.path(), "typo.jinja", "{{ isue }}")], "reads `isue`, which swerm does not give"),
        (&["--template", &write(d.path(), "bad.jinja", "{% if %}")], "invalid Jinja"),
        (&["--template", &judge, "--preset", "r2egym"], "cannot be used with"),
    ];
    for (extra, want) in cases {
        let err = fails(&[&["score", &*trajs, "--model", &*model, "-o", o.to_str().unwrap()][..], extra].concat());
        assert!(err.contains(want), "{extra:?}: {err}");
    }
    assert!(!o.exists());
    // Allowed: every prompt of a template that reads a privileged field is marked.
    let args = |t: &str| -> Vec<String> {
        [
            "score",
            &trajs,
            "--model",
            &model,
            "--dataset",
            &ds,
            "--template",
            t,
            "--allow-privileged",
            "-q",
            "-o",
            o.to_str().unwrap(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    ok(&swerm_s(&args(&leaky)));
    let lines = jsonl_file(&o.join("scores.jsonl"));
    for l in lines.iter().filter(|l| l["empty"] == false) {
        let p = l["privileged"].as_array().unwrap();
        assert!(p.contains(&json!("dataset.FAIL_TO_PASS")), "{l}");
    }
    let header = read_json(&o.join("scores.settings.json"));
    assert_eq!(header["scorer"]["preset"], "template");
    assert_eq!(header["scorer"]["answers"], json!(["YES", "NO"]));
    // The same text elsewhere resumes; another text is another scorer.
    let moved = d.path().join("moved");
    fs::create_dir(&moved).unwrap();
    let same = write(&moved, "leaky.jinja", &fs::read_to_string(&leaky).unwrap());
    let r = swerm_s(&args(&same));
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let other = write(&moved, "other.jinja", "{{ issue }}\n{{ dataset.FAIL_TO_PASS }}\n{{ patch }}\n");
    let r = swerm_s(&args(&other));
    assert!(!r.status.success() && String::from_utf8_lossy(&r.stderr).contains("--overwrite"));
}
