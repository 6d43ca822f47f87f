//! scripts/gpu-check.sh, run here as a check of the script itself (no GPU: the device steps fail
//! fast, the CPU steps run): it ends by its deadline, leaves at most 8 small files in $OUT with the
//! table in gpu-check.md, and lists what a short deadline skipped. Also the invariants the GPU
//! path states as errors.

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use crate::util::*;

fn gpu_check(out: &Path, work: &Path, deadline: &str) -> (Option<i32>, f64) {
    let t = Instant::now();
    let r = Command::new("bash")
        .arg(root().join("scripts/gpu-check.sh"))
        .env("OUT", out)
        .env("WORK", work)
        .env("SWERM", env!("CARGO_BIN_EXE_swerm"))
        .env("PARITY_DEVICE", "cpu")
        .env("GPU_CHECK_DEADLINE_S", deadline)
        .output()
        .expect("bash");
    (r.status.code(), t.elapsed().as_secs_f64())
}

fn files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> =
        fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into()).collect();
    v.sort();
    v
}

#[test]
fn the_gpu_check_fits_the_device_tool() {
    let d = tempfile::tempdir().unwrap();
    let (out, work) = (d.path().join("out"), d.path().join("work"));
    let (code, secs) = gpu_check(&out, &work, "90");
    assert!(secs < 90.0, "ended by its deadline: {secs} s");
    let names = files(&out);
    assert!(names.len() <= 8, "{names:?}");
    for n in &names {
        assert!(fs::metadata(out.join(n)).unwrap().len() < 1 << 20, "{n} is small");
    }
    let md = fs::read_to_string(out.join("gpu-check.md")).unwrap();
    assert!(md.contains("| step | result | seconds | note |"), "{md}");
    assert!(md.contains("| (a) parity | ok |"), "{md}");
    assert!(md.contains("| (0) selftest | FAIL (exit 2) | 0 | the device could not be opened"), "{md}");
    assert!(md.contains("| 256 |") && md.contains("| 1024 |"), "bench rows: {md}");
    assert_eq!(code, Some(1), "the selftest failed (no device here)");
    // Parity stores and logs stay out of $OUT.
    assert!(work.join("parity/qwen3-moe-swegym-f32/scores.jsonl").exists());
}

#[test]
fn a_short_deadline_skips_and_says_so() {
    let d = tempfile::tempdir().unwrap();
    let (out, work) = (d.path().join("out"), d.path().join("work"));
    let (code, secs) = gpu_check(&out, &work, "2");
    assert!(secs < 20.0, "{secs} s");
    assert_eq!(code, Some(3), "steps skipped, none failed");
    let md = fs::read_to_string(out.join("gpu-check.md")).unwrap();
    for step in ["(0) selftest", "(a) parity", "(b) bench", "(c) 256k fit"] {
        assert!(md.contains(&format!("| {step} | skipped | 0 | deadline")), "{step}: {md}");
    }
}

#[test]
fn passes_and_chunks_past_32_bit_indices_are_refused() {
    let d = tempfile::tempdir().unwrap();
    let o = d.path().join("o");
    let e = fails(&[
        "score",
        &demo("runs/run-c.jsonl"),
        "--model",
        &tiny("qwen3"),
        "--batch-tokens",
        "600000",
        "-o",
        o.to_str().unwrap(),
    ]);
    assert!(e.contains("--batch-tokens must be between 1 and 524287"), "{e}");
    let e = fails(&["bench", "--synthetic", "tiny-moe", "--context", "600000", "--device", "cpu"]);
    assert!(e.contains("a forward pass holds at most 524287 tokens"), "{e}");
}
