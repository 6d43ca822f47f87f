//! Any bytes as an input file (JSONL, JSON array, keyed object, .traj): layout sniffing,
//! streaming, format detection, the whole dataset build.
#![no_main]
use libfuzzer_sys::fuzz_target;
use swerm::input::{LoadOptions, RunInput, load};

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().unwrap();
    for name in ["run.jsonl", "run.json", "x__y-1.traj"] {
        let p = dir.path().join(name);
        std::fs::write(&p, data).unwrap();
        let input = RunInput::new("run".into(), vec![p.clone()], 0, &p);
        let opts = LoadOptions { score_field: Some("score".into()), ..Default::default() };
        let _ = load(&[input], &opts, &|_| {});
    }
});
