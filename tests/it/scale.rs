//! Large reranks keep only each patch's keys and read the selected patches again from their
//! lines (issue 21): the outputs must not change. Checked on generated runs whose patches
//! exercise every normalization rule and every JSON escape, against the inputs themselves and
//! the independent Python reference.

use std::collections::HashMap;
use std::fs;
use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

use crate::util::{check_report, jsonl_file, ok, root, swerm_s};

/// Patches of one instance: variants equal after normalization (CRLF, trailing space, an index
/// line, blank lines around), different changes, blank and null ones, escapes and non-ASCII.
fn variants(i: usize) -> Vec<Value> {
    let body = format!("diff --git a/f{i}.py b/f{i}.py\n--- a/f{i}.py\n+++ b/f{i}.py\n@@ -1 +1 @@\n-old\n+new {i}\n");
    vec![
        json!(body),
        json!(body.replace('\n', "\r\n")),
        json!(format!("\n{}", body.replacen("--- a", "index 1a2b3c4..5d6e7f8 100644\n--- a", 1))),
        json!(body.replace("+new", "+new  ")),
        json!(format!("{body}+\"quoted\" \\ tab\t \u{e9}\u{2028}\u{1f600}\n")),
        json!(body.replace("new", "other")),
        json!("   \n"),
        Value::Null,
    ]
}

/// Every record's patch by (instance, run).
type Patches = HashMap<(String, String), Value>;

/// Writes `runs` runs of `n` instances (one as a JSON array, the rest JSONL, one with CRLF line
/// ends) and a report each; returns the run files, the report files and every record's patch.
fn generate(dir: &Path, runs: usize, n: usize) -> (Vec<String>, Vec<String>, Patches) {
    let mut state = 7u64;
    let mut next = move |m: usize| {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((state >> 33) as usize) % m
    };
    let (mut files, mut reports, mut patches) = (vec![], vec![], HashMap::new());
    for r in 0..runs {
        let run = format!("run-{r}");
        let mut records = vec![];
        let mut resolved = vec![];
        for i in 0..n {
            if next(10) == 0 {
                continue; // a hole
            }
            let iid = format!("gen__pkg-{i:04}");
            let v = variants(i);
            let k = next(v.len());
            patches.insert((iid.clone(), run.clone()), v[k].clone());
            if k < 5 && next(2) == 0 {
                resolved.push(iid.clone());
            }
            records.push(json!({"instance_id": iid, "model_name_or_path": run, "model_patch": v[k]}));
        }
        let (name, text) = match r {
            0 => (format!("{run}.json"), serde_json::to_string_pretty(&records).unwrap()),
            1 => (format!("{run}.jsonl"), records.iter().map(|x| format!("{x}\r\n")).collect()),
            _ => (format!("{run}.jsonl"), records.iter().map(|x| format!("{x}\n")).collect()),
        };
        let path = dir.join(name);
        fs::write(&path, text).unwrap();
        files.push(path.to_string_lossy().into_owned());
        let rp = dir.join(format!("{run}.report.json"));
        fs::write(&rp, json!({"resolved": resolved}).to_string()).unwrap();
        reports.push(rp.to_string_lossy().into_owned());
    }
    (files, reports, patches)
}

#[test]
fn predictions_carry_the_exact_bytes_of_the_selected_records() {
    let d = tempfile::tempdir().unwrap();
    let (runs, reports, patches) = generate(d.path(), 5, 120);
    let out = d.path().join("out");
    let mut args: Vec<String> = vec!["rerank".into()];
    args.extend(runs.iter().cloned());
    args.push("--labels".into());
    args.extend(reports.iter().cloned());
    args.extend(["-o".into(), out.to_string_lossy().into_owned(), "-q".into()]);
    ok(&swerm_s(&args));
    let preds = jsonl_file(&out.join("predictions.jsonl"));
    assert_eq!(preds.len(), 120);
    let mut from_lines = 0;
    for p in &preds {
        let key = (p["instance_id"].as_str().unwrap().to_string(), p["run"].as_str().unwrap().to_string());
        let want = patches.get(&key).cloned().unwrap_or(Value::Null);
        let want = if want.is_null() { json!("") } else { want };
        assert_eq!(p["model_patch"], want, "{key:?}");
        from_lines += (key.1 != "run-0" && want.as_str().is_some_and(|s| !s.trim().is_empty())) as usize;
    }
    assert!(from_lines > 50, "most picks come from JSONL lines, whose texts were dropped: {from_lines}");
    // Every metric, the tie-breaks and each prediction's content keys, against the reference.
    check_report(&[&out]);
    // The consensus scores against the reference's normalization and counting.
    let script = r#"
import json, sys
sys.path.insert(0, sys.argv[1])
import swerm_reference as ref
grid = json.load(open(sys.argv[2]))
print(json.dumps({i: ref.consensus_scores(p) for i, p in grid.items()}))
"#;
    let store = jsonl_file(&out.join("scores.jsonl"));
    let run_names: Vec<String> = (0..5).map(|r| format!("run-{r}")).collect();
    let grid: HashMap<String, Vec<String>> = preds
        .iter()
        .map(|p| {
            let iid = p["instance_id"].as_str().unwrap().to_string();
            let row = run_names
                .iter()
                .map(|r| patches.get(&(iid.clone(), r.clone())).and_then(Value::as_str).unwrap_or("").to_string())
                .collect();
            (iid, row)
        })
        .collect();
    let gp = d.path().join("grid.json");
    fs::write(&gp, serde_json::to_string(&grid).unwrap()).unwrap();
    let o = Command::new("python3").arg("-c").arg(script).arg(root().join("scripts")).arg(&gp).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let want: HashMap<String, Vec<f64>> = serde_json::from_slice(&o.stdout).unwrap();
    for l in &store {
        let iid = l["instance_id"].as_str().unwrap();
        let r = run_names.iter().position(|n| n == l["run"].as_str().unwrap()).unwrap();
        let got = l["score"].as_f64().unwrap();
        assert!((got - want[iid][r]).abs() < 1e-12, "{iid} run-{r}: swerm {got} vs reference {}", want[iid][r]);
    }
}
