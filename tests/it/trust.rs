//! Numbers that never depend on accidents: a store only grows; ties never follow run names;
//! unscored candidates are counted and left out; labels pair by one rule; a closed stdout keeps
//! the exit status; Ctrl-C and locked stores say what is going on.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::*;

fn score(inputs: &[&str], out: &Path, extra: &[&str]) -> String {
    let mut a: Vec<&str> = vec!["score"];
    a.extend(inputs);
    let model = tiny("qwen3-moe");
    a.extend(["--model", &model, "--device", "cpu", "-q", "-o", out.to_str().unwrap()]);
    a.extend(extra);
    ok(&swerm(&a))
}

/// scores.jsonl as (instance, run) -> the line's text.
fn store_lines(dir: &Path) -> BTreeMap<(String, String), String> {
    fs::read_to_string(dir.join("scores.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            ((v["instance_id"].as_str().unwrap().into(), v["run"].as_str().unwrap().into()), l.to_string())
        })
        .collect()
}

#[test]
fn a_store_only_grows() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("D");
    let (c, e) = (demo("runs/run-c.jsonl"), demo("runs/run-e.jsonl"));
    score(&[&c], &out, &[]);
    let first = store_lines(&out);
    // Another run into the same store: its lines are added, run-c's stay byte for byte.
    let stdout = score(&[&e], &out, &[]);
    let both = store_lines(&out);
    assert!(stdout.contains("also keeps") && stdout.contains("a store only grows"), "{stdout}");
    assert_eq!(both.len(), first.len() + store_lines_of(&e, d.path()).len());
    for (k, line) in &first {
        assert_eq!(&both[k], line, "{k:?} kept as it was");
    }
    // A subset of instances (--instances) scores nothing new and loses nothing.
    let ids: Vec<&str> = first.keys().take(3).map(|(i, _)| i.as_str()).collect();
    let subset = write(d.path(), "three.txt", &(ids.join("\n") + "\n"));
    score(&[&c], &out, &["--instances", &subset]);
    assert_eq!(store_lines(&out), both, "a subset keeps the 182-line store whole");
    // rerank --model on one run keeps the other run's scores too.
    let model = tiny("qwen3-moe");
    ok(&swerm(&["rerank", &c, "--model", &model, "--device", "cpu", "-q", "-o", out.to_str().unwrap()]));
    let after = store_lines(&out);
    assert_eq!(after.len(), both.len());
    assert!(both.keys().all(|k| after.contains_key(k)));
    // eval of the store reads both runs.
    let ev = d.path().join("ev");
    ok(&swerm(&["eval", "--scores", out.to_str().unwrap(), "-q", "-o", ev.to_str().unwrap()]));
    assert_eq!(read_json(&ev.join("report.json"))["runs"], 2);
    // Only --overwrite discards, and says how many lines.
    let r =
        swerm(&["score", &c, "--model", &model, "--device", "cpu", "--overwrite", "-q", "-o", out.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(r.status.success() && err.contains(&format!("--overwrite: discarded {} scores", both.len())), "{err}");
    assert_eq!(store_lines(&out).len(), first.len());
}

/// The candidates of one run (scored alone into a scratch store).
fn store_lines_of(input: &str, scratch: &Path) -> BTreeMap<(String, String), String> {
    let dir = scratch.join(format!("alone-{}", Path::new(input).file_stem().unwrap().to_string_lossy()));
    score(&[input], &dir, &[]);
    store_lines(&dir)
}

/// predictions.jsonl as instance -> patch.
fn picks(dir: &Path) -> BTreeMap<String, String> {
    jsonl_file(&dir.join("predictions.jsonl"))
        .into_iter()
        .map(|p| (p["instance_id"].as_str().unwrap().into(), p["model_patch"].as_str().unwrap().into()))
        .collect()
}

#[test]
fn ties_never_follow_run_names_or_order() {
    let d = tempfile::tempdir().unwrap();
    let plain = d.path().join("plain");
    rerank_demo(&plain, &[]);
    let base = read_json(&plain.join("report.json"));
    assert!(base["ties"]["with_mixed_labels"].as_u64().unwrap() > 0, "the demo has ties that decide labels");
    // The same runs renamed so that name order is reversed, listed in another order, with
    // their reports paired by the new names.
    let letters = ["a", "b", "c", "d", "e", "f"];
    let mut args: Vec<String> = vec!["rerank".into()];
    for (j, (l, path)) in letters.iter().zip(demo_runs()).enumerate().rev() {
        args.push(format!("z{}-{l}={path}", 9 - j));
    }
    args.push("--labels".into());
    for (j, l) in letters.iter().enumerate() {
        args.push(format!("z{}-{l}={}", 9 - j, demo(&format!("reports/run-{l}.json"))));
    }
    let renamed = d.path().join("renamed");
    args.extend(["-q".into(), "-o".into(), renamed.to_string_lossy().into()]);
    ok(&swerm_s(&args));
    let other = read_json(&renamed.join("report.json"));
    assert_eq!(picks(&plain), picks(&renamed), "the same patch bytes for every instance");
    assert_eq!(base["selected"], other["selected"]);
    assert_eq!(base["ties"], other["ties"]);
    check_report(&[&renamed]);
}

/// A run set whose runs often submit the same patch, copies of one patch carrying different
/// labels (scripts/make_copies.py): renaming the runs (so that name order reverses) and listing
/// them in another order leaves the selected rate, the picks and report.json unchanged, and the
/// Python reference recomputes the credit of every pick.
#[test]
fn copies_with_mixed_labels_are_credited_whatever_the_names() {
    let d = tempfile::tempdir().unwrap();
    let runs = d.path().join("runs");
    let status = Command::new("python3")
        .arg(root().join("scripts/make_copies.py"))
        .arg(&runs)
        .status()
        .expect("python3 runs scripts/make_copies.py");
    assert!(status.success());
    let n = 6;
    let path = |r: usize| runs.join(format!("run-{r}.jsonl")).to_string_lossy().into_owned();
    let run = |out: &Path, names: &[(String, usize)]| -> Value {
        let mut a: Vec<String> = vec!["rerank".into()];
        a.extend(names.iter().map(|(name, r)| format!("{name}={}", path(*r))));
        a.extend(["--json", "-q", "-o"].map(String::from));
        a.push(out.to_string_lossy().into());
        serde_json::from_str(&ok(&swerm_s(&a))).unwrap()
    };
    let plain_names: Vec<(String, usize)> = (0..n).map(|r| (format!("run-{r}"), r)).collect();
    // Reversed name order (zz-0 sorts last), listed in a shuffled order.
    let renamed: Vec<(String, usize)> = [3, 0, 5, 1, 4, 2].iter().map(|&r| (format!("z{}-{r}", 9 - r), r)).collect();
    let (a, b) = (d.path().join("plain"), d.path().join("renamed"));
    let (ra, rb) = (run(&a, &plain_names), run(&b, &renamed));
    let mixed = ra["selected"]["picked_copies_with_mixed_labels"].as_u64().unwrap();
    assert!(mixed > 5, "the set has picks whose copies disagree: {}", ra["selected"]);
    // report.json with the renamed runs' names mapped back is the same, number for number.
    let back = |v: &Value| -> Value {
        let mut text = v.to_string();
        for (name, r) in &renamed {
            text = text.replace(&format!("\"{name}\""), &format!("\"run-{r}\""));
        }
        let mut v: Value = serde_json::from_str(&text).unwrap();
        let o = v.as_object_mut().unwrap();
        o.remove("run_names"); // the same names, in each one's name order
        if let Some(Value::Array(best)) = o.get_mut("best_single_run").and_then(|b| b.get_mut("runs")) {
            best.sort_by_key(|v| v.to_string());
        }
        let per_run: BTreeMap<String, Value> = serde_json::from_value(o.remove("per_run").unwrap()).unwrap();
        o.insert("per_run".into(), serde_json::to_value(per_run).unwrap());
        v
    };
    assert_eq!(back(&ra), back(&rb));
    // The selected count is a sum of credits: the mean label of the picked patch's copies,
    // counted here from predictions.jsonl and the inputs.
    let mut labels: BTreeMap<(String, String), Vec<bool>> = BTreeMap::new();
    for r in 0..n {
        for rec in jsonl_file(Path::new(&path(r))) {
            let key =
                (rec["instance_id"].as_str().unwrap().to_string(), rec["model_patch"].as_str().unwrap().to_string());
            labels.entry(key).or_default().push(rec["resolved"].as_bool().unwrap());
        }
    }
    let credit: f64 = jsonl_file(&a.join("predictions.jsonl"))
        .iter()
        .map(|p| {
            let l = &labels
                [&(p["instance_id"].as_str().unwrap().to_string(), p["model_patch"].as_str().unwrap().to_string())];
            l.iter().filter(|&&x| x).count() as f64 / l.len() as f64
        })
        .sum();
    assert!((ra["selected"]["resolved"].as_f64().unwrap() - credit).abs() < 1e-9, "{} vs {credit}", ra["selected"]);
    let shares: f64 = ra["per_run"].as_object().unwrap().values().map(|v| v["picks"].as_f64().unwrap()).sum();
    assert!((shares - 40.0).abs() < 1e-9, "every instance's pick is shared out whole: {shares}");
    check_report(&[&a, &b]);
}

#[test]
fn a_closed_stdout_keeps_the_exit_status() {
    let d = tempfile::tempdir().unwrap();
    for (gate, code) in [("selected=0.1", 0), ("selected=0.9", 1)] {
        let mut args: Vec<String> = vec!["rerank".into()];
        args.extend(demo_runs());
        args.push("--labels".into());
        args.extend(demo_reports());
        args.extend(["--json", "--fail-under", gate, "-q", "-o"].map(String::from));
        args.push(d.path().join(code.to_string()).to_string_lossy().into());
        let mut child = Command::new(env!("CARGO_BIN_EXE_swerm"))
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take()); // `| head -0`: the reader is gone before swerm writes
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{err}");
        assert!(!err.contains("panicked") && !err.contains("Broken pipe"), "{err}");
    }
}

#[test]
fn unscored_candidates_are_counted_and_left_out() {
    let d = tempfile::tempdir().unwrap();
    let v = d.path().join("v");
    let model = tiny("qwen3");
    let stdout = rerank_demo(&v, &["--model", &model, "--preset", "r2egym", "--max-tokens", "600", "--device", "cpu"]);
    let report = read_json(&v.join("report.json"));
    let errors = jsonl_file(&v.join("scores.jsonl")).iter().filter(|l| l.get("error").is_some()).count();
    assert!(errors > 0, "some prompts do not fit 600 tokens");
    assert_eq!(report["unscored_candidates"]["total"], errors);
    assert_eq!(report["unscored_candidates"]["by_reason"]["prompt_too_long"], errors);
    assert!(
        stdout.contains(&format!("unscored: {errors} candidates ({errors} prompt over the token limit)")),
        "{stdout}"
    );
    assert!(stdout.contains(&format!("3 empty, {errors} unscored)")), "{stdout}");
    // AUC, ECE and Brier over the scored candidates, as the reference computes them.
    check_report(&[&v]);
    // eval of the store says the same.
    let ev = d.path().join("ev");
    let out = ok(&swerm(&["eval", "--scores", v.to_str().unwrap(), "-q", "-o", ev.to_str().unwrap()]));
    assert!(out.contains(&format!("unscored: {errors} candidates")), "{out}");
    check_report(&[&ev]);
    // Against consensus, which scores everything: compare says so first, --strict refuses.
    let c = d.path().join("c");
    rerank_demo(&c, &[]);
    let cmp = d.path().join("cmp");
    let args = |strict: bool| {
        let mut a =
            vec!["compare".to_string(), format!("consensus={}", c.display()), format!("verifier={}", v.display())];
        a.extend(["--bootstrap", "50", "-q", "-o"].map(String::from));
        a.push(cmp.to_string_lossy().into());
        if strict {
            a.push("--strict".into());
        }
        a
    };
    let r = swerm_s(&args(false));
    let (out, err) = (ok(&r), String::from_utf8_lossy(&r.stderr).into_owned());
    // Said once: on stderr (the files keep it too), not again on stdout.
    assert!(!out.contains("leave different candidates unscored"), "{out}");
    assert_eq!(err.matches("leave different candidates unscored").count(), 1, "{err}");
    assert!(out.contains(&format!("verifier: unscored: {errors} candidates")), "{out}");
    let j = read_json(&cmp.join("compare.json"));
    assert_eq!(j["warnings"].as_array().unwrap().len(), 1);
    assert!(fs::read_to_string(cmp.join("compare.md")).unwrap().contains("> **Warning:**"));
    let r = swerm_s(&args(true));
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("(--strict)"));
}

#[test]
fn labels_pair_by_one_rule() {
    let d = tempfile::tempdir().unwrap();
    // rerank says the pairing once, in the order the inputs were given.
    let mut args: Vec<String> = vec!["rerank".into()];
    args.extend(demo_runs().into_iter().rev());
    args.push("--labels".into());
    args.extend(demo_reports().into_iter().rev());
    args.extend(["-o".into(), d.path().join("r").to_string_lossy().into()]);
    let r = swerm_s(&args);
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(r.status.success(), "{err}");
    assert_eq!(err.matches("swerm: labels: ").count(), 1, "{err}");
    assert!(err.contains("labels: run-f <- run-f.json, run-e <- run-e.json"), "{err}");
    let plain = d.path().join("plain");
    rerank_demo(&plain, &[]);
    assert_eq!(read_json(&plain.join("report.json")), read_json(&d.path().join("r/report.json")));
    // A store keeps no input order: plain files are refused, by name works.
    let store = d.path().join("r").to_string_lossy().into_owned();
    let mut a = vec!["eval", "--scores", &store, "--labels"];
    let reports = demo_reports();
    a.extend(reports.iter().map(String::as_str));
    let ev = d.path().join("ev").to_string_lossy().into_owned();
    a.extend(["-o", &ev]);
    let err = fails(&a);
    assert!(err.contains("keeps no input order") && err.contains("--labels RUN=FILE"), "{err}");
    // A report that names none of the instances pairs with nothing: an error.
    let other = write(d.path(), "other.json", r#"{"resolved": ["elsewhere__x-1"], "unresolved": []}"#);
    let e = fails(&["rerank", &demo_runs()[0], "--labels", &other, "-o", &ev]);
    assert!(e.contains("names 1 instance but none of the 23 instances of run run-a"), "{e}");
}

#[test]
fn eval_of_a_store_being_written_says_so() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("D");
    rerank_demo(&out, &[]);
    // Another swerm (here: this test) holds the directory, as a running `score` does.
    let mut lock = fs::OpenOptions::new().write(true).open(out.join(".swerm.lock")).unwrap();
    lock.lock().unwrap();
    lock.set_len(0).unwrap();
    write!(lock, "4242").unwrap();
    let e = fails(&["eval", "--scores", out.to_str().unwrap(), "-o", d.path().join("ev").to_str().unwrap()]);
    assert!(e.contains("another swerm (process 4242) is still writing these scores"), "{e}");
    lock.unlock().unwrap();
    ok(&swerm(&["eval", "--scores", out.to_str().unwrap(), "-q", "-o", d.path().join("ev").to_str().unwrap()]));
}

#[test]
fn ctrl_c_says_what_is_saved_and_how_to_resume() {
    let d = tempfile::tempdir().unwrap();
    let inputs = many_candidates(d.path(), 3, 80);
    let out = d.path().join("S");
    let mut args = vec!["score".to_string()];
    args.extend(inputs.iter().cloned());
    args.extend(
        ["--model", &tiny("qwen3-moe"), "--device", "cpu", "--batch-tokens", "2048", "-q", "-o"].map(String::from),
    );
    args.push(out.to_string_lossy().into());
    let child = Command::new(env!("CARGO_BIN_EXE_swerm"))
        .args(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while lines(&out.join("scores.jsonl")) < 5 {
        assert!(start.elapsed() < Duration::from_secs(120), "no progress");
        std::thread::sleep(Duration::from_millis(5));
    }
    let sent = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(sent.success());
    let r = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&r.stderr);
    if r.status.code() == Some(0) {
        return; // finished before the signal arrived: nothing to check
    }
    assert_eq!(r.status.code(), Some(130), "{err}");
    // The count said is what the file holds (one more line may land while the message prints).
    let saved = lines(&out.join("scores.jsonl"));
    let said: usize = err.split("interrupted: ").nth(1).and_then(|t| t.split(' ').next()).unwrap().parse().unwrap();
    assert!(said == saved || said + 1 == saved, "said {said}, file has {saved}: {err}");
    assert!(err.contains("scores saved in"), "{err}");
    assert!(err.contains("run the same command again to resume"), "{err}");
}

#[test]
fn prompts_never_pass_the_model_context_silently() {
    let d = tempfile::tempdir().unwrap();
    // The tiny Qwen3 with a 400-token context.
    let m = d.path().join("short");
    fs::create_dir(&m).unwrap();
    for f in fs::read_dir(tiny("qwen3")).unwrap() {
        let f = f.unwrap().path();
        fs::copy(&f, m.join(f.file_name().unwrap())).unwrap();
    }
    let mut cfg = read_json(&m.join("config.json"));
    cfg["max_position_embeddings"] = 400.into();
    fs::write(m.join("config.json"), cfg.to_string()).unwrap();
    let out = d.path().join("o");
    let trajs = tiny("trajectories.jsonl");
    // (A note: -q would silence it; the store's `truncated` and `error` say it per candidate.)
    let r = swerm(&["score", &trajs, "--model", m.to_str().unwrap(), "--device", "cpu", "-o", out.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(r.status.success(), "{err}");
    assert!(err.contains("prompts are held to the model's context, 400 tokens"), "{err}");
    let lines = jsonl_file(&out.join("scores.jsonl"));
    assert!(lines.iter().all(|l| l["n_tokens"].as_u64().unwrap_or(0) <= 400), "no prompt past the context");
    assert!(lines.iter().any(|l| l["truncated"] == true || l.get("error").is_some()), "the limit was needed");
}

#[test]
fn tie_break_by_a_named_secondary_score_for_any_scorer() {
    let d = tempfile::tempdir().unwrap();
    let v = d.path().join("v");
    rerank_demo(&v, &["--model", &tiny("qwen3-moe"), "--device", "cpu"]);
    let out = d.path().join("o");
    rerank_demo(&out, &["--tie-break", v.to_str().unwrap()]);
    let report = read_json(&out.join("report.json"));
    assert!(report["ties"]["rule"].as_str().unwrap().starts_with("ordered by --tie-break"), "{report}");
    // Brute force: each pick has the top consensus score, and among those the top verifier score.
    let key = |l: &Value| (l["instance_id"].as_str().unwrap().to_string(), l["run"].as_str().unwrap().to_string());
    let cons: BTreeMap<_, _> = jsonl_file(&out.join("scores.jsonl")).iter().map(|l| (key(l), l.clone())).collect();
    let ver: BTreeMap<_, _> = jsonl_file(&v.join("scores.jsonl")).iter().map(|l| (key(l), l.clone())).collect();
    let f = |x: &Value| x.as_f64().unwrap_or(f64::NEG_INFINITY);
    let csv = fs::read_to_string(out.join("instances.csv")).unwrap();
    let head: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let col = |name: &str| head.iter().position(|h| *h == name).unwrap();
    let (ci, cr) = (col("instance_id"), col("chosen_run"));
    let mut decided = 0;
    for row in csv.lines().skip(1) {
        let cells: Vec<&str> = row.split(',').collect();
        let (iid, chosen) = (cells[ci], cells[cr]);
        let live: Vec<&Value> = cons.values().filter(|l| l["instance_id"] == iid && l["empty"] == false).collect();
        let top = live.iter().map(|l| f(&l["score"])).fold(f64::NEG_INFINITY, f64::max);
        let tied: Vec<&&Value> = live.iter().filter(|l| f(&l["score"]) == top).collect();
        let best_v = tied.iter().map(|l| f(&ver[&key(l)]["score"])).fold(f64::NEG_INFINITY, f64::max);
        let winners: Vec<&str> =
            tied.iter().filter(|l| f(&ver[&key(l)]["score"]) == best_v).map(|l| l["run"].as_str().unwrap()).collect();
        if !live.is_empty() {
            assert!(winners.contains(&chosen), "{iid}: chose {chosen}, winners {winners:?}");
        }
        decided += (tied.len() > 1 && winners.len() < tied.len()) as usize;
    }
    assert!(decided > 0, "some consensus ties were there to break");
    // The order is stored: eval of the store reproduces the selection; the reference agrees.
    check_report(&[&out]);
    let ev = d.path().join("ev");
    ok(&swerm(&["eval", "--scores", out.to_str().unwrap(), "-q", "-o", ev.to_str().unwrap()]));
    assert_eq!(read_json(&ev.join("report.json"))["selected"], report["selected"]);
    let e = fails(&["rerank", &demo_runs()[0], "--tie-break", "run", "-o", d.path().join("x").to_str().unwrap()]);
    assert!(e.contains("never by run names"), "{e}");
}
