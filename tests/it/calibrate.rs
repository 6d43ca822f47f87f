//! `swerm calibrate` and `--calibration`: a fit that lowers held-out ECE on overconfident
//! scores, applied by `eval`; clear errors for one class and for scores that are not
//! probabilities.

use std::fs;

use serde_json::Value;

use crate::util::*;

/// The demo's consensus scores made overconfident: p -> sigmoid(4 logit(p)) (empties stay 0).
fn overconfident(dir: &std::path::Path) -> std::path::PathBuf {
    rerank_demo(dir, &[]);
    let text: String = jsonl_file(&dir.join("scores.jsonl"))
        .into_iter()
        .map(|mut l| {
            if let Some(p) = l["score"].as_f64().filter(|_| l["empty"] == false) {
                let z = (p.clamp(1e-6, 1.0 - 1e-6) / (1.0 - p.clamp(1e-6, 1.0 - 1e-6))).ln();
                l["score"] = Value::from(1.0 / (1.0 + (-4.0 * z).exp()));
            }
            format!("{l}\n")
        })
        .collect();
    let p = dir.join("overconfident.jsonl");
    fs::write(&p, text).unwrap();
    p
}

#[test]
fn calibration_lowers_held_out_error_and_is_applied() {
    let d = tempfile::tempdir().unwrap();
    let scores = overconfident(&d.path().join("c"));
    let cal = d.path().join("cal.json");
    let stdout =
        ok(&swerm(&["calibrate", "--scores", scores.to_str().unwrap(), "--folds", "4", "-o", cal.to_str().unwrap()]));
    let c = read_json(&cal);
    let cv = &c["cv"];
    assert!(cv["ece_after"].as_f64() < cv["ece_before"].as_f64(), "{stdout}");
    assert!(cv["brier_after"].as_f64() < cv["brier_before"].as_f64(), "{stdout}");
    assert_eq!(c["tried"].as_array().unwrap().len(), 2);
    if c["method"] == "temperature" {
        assert!(c["temperature"].as_f64().unwrap() > 1.5, "overconfident scores need T > 1: {c}");
    }
    // Applied by eval: calibrated scores, the map named in the report, bins and the diagram.
    let raw = d.path().join("raw");
    let calibrated = d.path().join("cal");
    ok(&swerm(&["eval", "--scores", scores.to_str().unwrap(), "-o", raw.to_str().unwrap()]));
    let out = swerm(&[
        "eval",
        "--scores",
        scores.to_str().unwrap(),
        "--calibration",
        cal.to_str().unwrap(),
        "-o",
        calibrated.to_str().unwrap(),
    ]);
    ok(&out);
    let (r, k) = (read_json(&raw.join("report.json")), read_json(&calibrated.join("report.json")));
    // The map was fitted on these very scores: said once on stderr and in the report; the file
    // is named by its absolute path (readable from the output folder).
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.matches("the calibrated ECE and Brier are in-sample").count(), 1, "{err}");
    assert_eq!(k["calibration"]["in_sample"], true);
    assert_eq!(k["calibration"]["file"], cal.canonicalize().unwrap().display().to_string());
    assert!(fs::read_to_string(calibrated.join("report.md")).unwrap().contains("(in-sample: fitted on these scores)"));
    // The same scores under another path are other scores (the check is by file).
    let copy = d.path().join("copy.jsonl");
    fs::copy(&scores, &copy).unwrap();
    let elsewhere = d.path().join("elsewhere");
    let out = swerm(&[
        "eval",
        "--scores",
        copy.to_str().unwrap(),
        "--calibration",
        cal.to_str().unwrap(),
        "-o",
        elsewhere.to_str().unwrap(),
    ]);
    ok(&out);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("in-sample"));
    assert!(read_json(&elsewhere.join("report.json"))["calibration"].get("in_sample").is_none());
    assert!(k["calibration"]["map"].as_str().unwrap().contains("scaling"), "{k}");
    assert!(k["brier"].as_f64() < r["brier"].as_f64(), "{} vs {}", k["brier"], r["brier"]);
    assert!(k["calibration_bins"].as_array().is_some_and(|b| !b.is_empty()));
    assert!(calibrated.join("reliability.svg").exists());
    // A monotone map keeps the ranking: the same selection and AUC.
    assert_eq!(k["selected"], r["selected"]);
    assert!((k["auc"].as_f64().unwrap() - r["auc"].as_f64().unwrap()).abs() < 1e-12);
    // The Python reference refits both maps with a derivative-free optimizer and redoes the
    // cross-validation; then a compare of the raw and the calibrated set, re-derived there too.
    check_report(&[cal.to_str().unwrap(), scores.to_str().unwrap()]);
    let cmp = d.path().join("cmp");
    let s = scores.to_str().unwrap();
    let cal_arg = format!("cal={}", cal.display());
    ok(&swerm(&[
        "compare",
        &format!("raw={s}"),
        &format!("cal={s}"),
        "--calibration",
        &cal_arg,
        "-o",
        cmp.to_str().unwrap(),
    ]));
    let c = read_json(&cmp.join("compare.json"));
    assert!(c["scorers"]["cal"]["calibration"]["map"].is_string() && c["scorers"]["raw"].get("calibration").is_none());
    assert!(c["scorers"]["cal"]["ece"].as_f64() < c["scorers"]["raw"]["ece"].as_f64());
    // A monotone map selects alike: the two best@k curves coincide, and the figure says so (each
    // scorer has its own line pattern and point shape, but one is drawn over the other).
    let svg = fs::read_to_string(cmp.join("compare.svg")).unwrap();
    assert!(svg.contains("best@k of raw and cal") && svg.contains("coincide"), "compare.svg notes the overlap");
    assert_eq!(c["scorers"]["raw"]["best_at_k"], c["scorers"]["cal"]["best_at_k"]);
    check_report(&[&cmp]);
}

#[test]
fn score_writes_calibrated_scores_beside_its_own() {
    let d = tempfile::tempdir().unwrap();
    let c = d.path().join("cal.json");
    fs::write(&c, r#"{"method":"platt","a":0.5,"b":-0.25,"cv":{"folds":2,"seed":0,"ece_bins":15,"candidates":2,"ece_before":0.1,"ece_after":0.1,"brier_before":0.1,"brier_after":0.1,"log_loss_before":0.1,"log_loss_after":0.1},"tried":[],"instances":2,"candidates":2,"source":"x"}"#).unwrap();
    let out = d.path().join("s");
    let trajs = tiny("trajectories.jsonl");
    let args = ["score", &trajs, "--model", &tiny("qwen3-moe"), "--device", "cpu", "-q", "-o", out.to_str().unwrap()];
    ok(&swerm(&[&args[..], &["--calibration", c.to_str().unwrap()]].concat()));
    let raw = jsonl_file(&out.join("scores.jsonl"));
    let cal = jsonl_file(&out.join("scores.calibrated.jsonl"));
    assert_eq!(raw.len(), cal.len());
    for (r, k) in raw.iter().zip(&cal) {
        assert_eq!((&r["instance_id"], &r["run"], &r["logit_yes"]), (&k["instance_id"], &k["run"], &k["logit_yes"]));
        match (r["logit_yes"].as_f64(), r["logit_no"].as_f64()) {
            (Some(y), Some(n)) => {
                let want = 1.0 / (1.0 + (-(0.5 * (y - n) - 0.25)).exp());
                assert!((k["score"].as_f64().unwrap() - want).abs() < 1e-12, "{k}");
            }
            _ => assert_eq!(k["score"], r["score"], "an empty candidate keeps its score"),
        }
    }
    check_report(&[out.to_str().unwrap(), c.to_str().unwrap()]);
    // A run without --calibration removes the derived file rather than leave it stale.
    ok(&swerm(&args));
    assert!(!out.join("scores.calibrated.jsonl").exists());
}

#[test]
fn calibration_errors_are_clear() {
    let d = tempfile::tempdir().unwrap();
    let one = write(
        d.path(),
        "one.jsonl",
        "{\"instance_id\":\"a\",\"run\":\"r\",\"score\":0.2,\"resolved\":false}\n{\"instance_id\":\"b\",\"run\":\"r\",\"score\":0.7,\"resolved\":false}\n{\"instance_id\":\"c\",\"run\":\"r\",\"score\":0.9,\"resolved\":false}\n",
    );
    let cal = d.path().join("cal.json");
    let err = fails(&["calibrate", "--scores", &one, "--folds", "2", "-o", cal.to_str().unwrap()]);
    assert!(err.contains("all of one class"), "{err}");
    let big = write(d.path(), "big.jsonl", "{\"instance_id\":\"a\",\"run\":\"r\",\"score\":3.5,\"resolved\":true}\n");
    let err = fails(&["calibrate", "--scores", &big, "--folds", "2", "-o", cal.to_str().unwrap()]);
    assert!(err.contains("calibration needs P(YES) in [0, 1]"), "{err}");
    let bad = write(d.path(), "bad.json", "{\"method\":\"zigzag\"}");
    let err = fails(&["eval", "--scores", &one, "--calibration", &bad, "-o", d.path().join("o").to_str().unwrap()]);
    assert!(err.contains("bad.json") && err.contains("swerm calibrate"), "{err}");
    assert!(!cal.exists());
    // A map records the scorer it was fitted on; another scorer's scores are refused.
    let dir = d.path().join("consensus");
    let scores = overconfident(&dir);
    fs::copy(&scores, dir.join("scores.jsonl")).unwrap(); // the store, with its consensus header
    ok(&swerm(&["calibrate", "--scores", dir.to_str().unwrap(), "--folds", "4", "-o", cal.to_str().unwrap()]));
    assert_eq!(read_json(&cal)["scorer"]["kind"], "consensus");
    let trajs = tiny("trajectories.jsonl");
    let o = d.path().join("v");
    let err = fails(&[
        "score",
        &trajs,
        "--model",
        &tiny("qwen3"),
        "--calibration",
        cal.to_str().unwrap(),
        "-o",
        o.to_str().unwrap(),
    ]);
    assert!(
        err.contains("fitted on scores of consensus") && err.contains("cannot calibrate scores of verifier qwen3"),
        "{err}"
    );
}
