//! What a user reads: help that lists what is written, hints for near-miss inputs, errors that
//! name the real place, tables that stay aligned.

use std::fs;

use crate::util::*;

#[test]
fn rerank_help_lists_every_file_it_writes() {
    let help = ok(&swerm(&["rerank", "--help"]));
    let d = tempfile::tempdir().unwrap();
    let cal = d.path().join("cal.json");
    let c = d.path().join("c");
    rerank_demo(&c, &[]);
    ok(&swerm(&["calibrate", "--scores", c.to_str().unwrap(), "--folds", "4", "-q", "-o", cal.to_str().unwrap()]));
    // Every file the richest rerank writes is named in its help.
    let out = d.path().join("o");
    rerank_demo(&out, &["--calibration", cal.to_str().unwrap()]);
    for f in fs::read_dir(&out).unwrap() {
        let name = f.unwrap().file_name().to_string_lossy().into_owned();
        if name != ".swerm.lock" {
            assert!(help.contains(&name), "rerank --help does not name {name}:\n{help}");
        }
    }
    // score and render do not promise what only rerank does with --instances.
    for cmd in ["score", "render"] {
        let h = ok(&swerm(&[cmd, "--help"]));
        assert!(h.contains("Only these instances") && !h.contains("count as unresolved"), "{cmd}: {h}");
    }
}

#[test]
fn near_miss_inputs_get_hints() {
    let d = tempfile::tempdir().unwrap();
    let o = d.path().join("o");
    let run = demo_runs()[0].clone();
    let header = write(d.path(), "ids.txt", "instance_id\nacme__ascii-1000\n");
    let e = fails(&["rerank", &run, "--instances", &header, "-o", o.to_str().unwrap()]);
    assert!(e.contains("looks like a column header"), "{e}");
    let json = write(d.path(), "ids.json", "[\"acme__ascii-1000\"]\n");
    let e = fails(&["rerank", &run, "--instances", &json, "-o", o.to_str().unwrap()]);
    assert!(e.contains("looks like JSON") && e.contains("one instance id per line"), "{e}");
    // -o naming a file.
    let file = write(d.path(), "not-a-dir", "x");
    let e = fails(&["rerank", &run, "-o", &file]);
    assert!(e.contains("is a file; -o names an output directory"), "{e}");
    // A line cut inside a string: the error names the end of that line, not column 0 of the next.
    let cut = write(
        d.path(),
        "cut.jsonl",
        "{\"instance_id\":\"a__b-1\",\"model_patch\":\"+x\"}\n{\"instance_id\":\"a__b-2\",\"model_patch\":\"+y\n",
    );
    let e = fails(&["rerank", &cut, "-o", o.to_str().unwrap()]);
    assert!(e.contains("cut.jsonl:2: invalid JSON: EOF while parsing a string (column 41)"), "{e}");
    // A checkpoint whose tokenizer.json is a broken symlink says so.
    let m = d.path().join("model");
    fs::create_dir(&m).unwrap();
    for f in ["config.json", "tokenizer_config.json"] {
        fs::copy(tiny(&format!("qwen3/{f}")), m.join(f)).unwrap();
    }
    std::os::unix::fs::symlink(d.path().join("gone.json"), m.join("tokenizer.json")).unwrap();
    let e = fails(&["render", &run, "--model", m.to_str().unwrap()]);
    assert!(e.contains("tokenizer.json is a broken symlink"), "{e}");
}

#[test]
fn tables_stay_aligned_and_the_selected_rate_has_one_parenthesis() {
    let d = tempfile::tempdir().unwrap();
    let out = rerank_demo(d.path(), &["--bootstrap", "200", "--seed", "3"]);
    let rows: Vec<&str> = out.lines().skip_while(|l| !l.trim_start().starts_with("k ")).skip(1).take(4).collect();
    assert!(rows.iter().any(|r| r.contains("100.0")), "a 100.0% bound in the table: {out}");
    // Every row's rates end at the same columns, and its intervals open at the same columns.
    let marks =
        |r: &str| -> Vec<usize> { r.char_indices().filter(|&(_, c)| c == '%' || c == '(').map(|(i, _)| i).collect() };
    let first = marks(rows[0]);
    for r in &rows {
        assert_eq!(marks(r), first, "misaligned:\n{}", rows.join("\n"));
    }
    let sel = out.lines().find(|l| l.starts_with("selected:")).unwrap();
    assert_eq!(sel.matches('(').count(), 1, "{sel}");
    assert!(sel.contains("(11 of 24 instances; 95% interval"), "{sel}");
}

#[test]
fn an_all_empty_instance_is_credited_to_a_run_with_a_record() {
    let d = tempfile::tempdir().unwrap();
    // Instance x: run a has no record (a hole), run b submitted an empty patch.
    let a = write(d.path(), "a.jsonl", "{\"instance_id\":\"y__y-1\",\"model_patch\":\"+1\",\"resolved\":true}\n");
    let b = write(
        d.path(),
        "b.jsonl",
        "{\"instance_id\":\"x__x-1\",\"model_patch\":\"\",\"resolved\":false}\n{\"instance_id\":\"y__y-1\",\"model_patch\":\"+2\",\"resolved\":false}\n",
    );
    let o = d.path().join("o");
    ok(&swerm(&["rerank", &a, &b, "-q", "-o", o.to_str().unwrap()]));
    let r = read_json(&o.join("report.json"));
    let picks = r["per_run"]["a"]["picks"].as_u64().unwrap() + r["per_run"]["b"]["picks"].as_u64().unwrap();
    assert_eq!(picks, 2, "every pick credited to a run with a record: {r}");
    let csv = fs::read_to_string(o.join("instances.csv")).unwrap();
    assert!(csv.lines().any(|l| l.starts_with("x__x-1,") && l.contains(",b,")), "{csv}");
    check_report(&[&o]);
}

#[test]
fn bench_on_the_cpu_has_no_gpu_ceiling_and_checks_memory_first() {
    let out = ok(&swerm(&["bench", "--synthetic", "tiny-moe", "--context", "256", "--device", "cpu", "--passes", "1"]));
    assert!(out.contains("n/a") && out.contains("no ceiling on the CPU") && !out.contains("790"), "{out}");
    let out = ok(&swerm(&[
        "bench",
        "--synthetic",
        "tiny-moe",
        "--context",
        "256",
        "--device",
        "cpu",
        "--passes",
        "1",
        "--peak-tflops",
        "2",
    ]));
    assert!(!out.contains("n/a  ") && out.contains("(ceiling: 2 TFLOP/s"), "{out}");
    let e = fails(&["bench", "--synthetic", "qwen3-30b-a3b", "--context", "256", "--device", "cpu", "--dtype", "f32"]);
    assert!(e.contains("GiB of weights") && e.contains("--layers"), "{e}");
}

/// `<text x=".." ...>TEXT` of an SVG: (x, text).
fn svg_texts(svg: &str) -> Vec<(f64, String)> {
    svg.split("<text ")
        .skip(1)
        .filter_map(|t| {
            let x: f64 = t.split("x=\"").nth(1)?.split('"').next()?.parse().ok()?;
            let body = t.split('>').nth(1)?.split('<').next()?.trim().to_string();
            Some((x, body))
        })
        .collect()
}

#[test]
fn figures_keep_labels_off_the_data() {
    let d = tempfile::tempdir().unwrap();
    rerank_demo(d.path(), &["--bootstrap", "100", "--seed", "1"]);
    let svg = fs::read_to_string(d.path().join("tts.svg")).unwrap();
    let texts = svg_texts(&svg);
    let plot_right = 760.0; // the plot's width; the legend has its own panel right of it
    for name in [
        "pass@k (oracle)",
        "best@k (reranked)",
        "random@k",
        "best single run 54.2%",
        "95% bootstrap band",
        "selected 45.8% (k = 6)",
    ] {
        let (x, _) = texts.iter().find(|(_, t)| t == name).unwrap_or_else(|| panic!("no legend entry {name:?}"));
        assert!(*x >= plot_right, "{name} at x = {x}, on the plot");
    }
    assert!(texts.iter().any(|(_, t)| t.contains("log2 scale")), "the k axis says log2");
    let ticks: Vec<&String> = texts.iter().map(|(_, t)| t).filter(|t| t.ends_with('%') && t.len() <= 4).collect();
    assert!(ticks.len() >= 5 && ticks.iter().all(|t| !t.contains('.')), "{ticks:?}");
    // The selected marker (the first black triangle) sits right of every curve point.
    let max_cx = svg
        .split("<circle cx=\"")
        .skip(1)
        .filter_map(|t| t.split('"').next()?.parse::<f64>().ok())
        .filter(|&x| x < plot_right) // the legend's swatches carry their curve's point shape
        .fold(0.0f64, f64::max);
    let tri = svg.split("fill=\"#000000\" points=\"").nth(1).expect("the selected marker");
    let xs: Vec<f64> =
        tri.split('"').next().unwrap().split_whitespace().filter_map(|p| p.split(',').next()?.parse().ok()).collect();
    let centre = xs.iter().sum::<f64>() / xs.len() as f64;
    assert!(centre > max_cx + 12.0, "marker at {centre}, last point at {max_cx}");
    // A dashed curve's swatch is dashed: two strokes of random@k's grey in the legend panel.
    let grey_strokes = svg.matches("stroke=\"#7F7F7F\"").count();
    assert!(grey_strokes >= 2, "{grey_strokes}");
    // The reliability diagram names each bin's count.
    let rel = fs::read_to_string(d.path().join("reliability.svg")).unwrap();
    let counts = svg_texts(&rel).iter().filter(|(_, t)| t.starts_with("n=")).count();
    let report = read_json(&d.path().join("report.json"));
    assert_eq!(counts, report["calibration_bins"].as_array().unwrap().len());
    // ... and no two of those counts overlap (12px text: ~7px a character, 13px high).
    let boxes: Vec<[f64; 4]> = rel
        .split("<text ")
        .skip(1)
        .filter_map(|t| {
            let num = |k: &str| -> Option<f64> { t.split(&format!("{k}=\"")).nth(1)?.split('"').next()?.parse().ok() };
            let body = t.split('>').nth(1)?.split('<').next()?.trim().to_string();
            body.starts_with("n=").then(|| {
                let (x, y) = (num("x").unwrap(), num("y").unwrap());
                [x, y, x + 7.0 * body.len() as f64, y + 13.0]
            })
        })
        .collect();
    for (i, a) in boxes.iter().enumerate() {
        for b in &boxes[i + 1..] {
            let overlap = a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3];
            assert!(!overlap, "bin counts overlap: {a:?} {b:?}");
        }
    }
    // The best single run is a reference line across the plot (the summary's comparison).
    assert!(svg.contains("stroke=\"#5A3C14\""), "the reference line's colour");
}
