//! Any bytes as scores.jsonl: read by `eval`/`select`, and reopened by the score store to resume.
#![no_main]
use libfuzzer_sys::fuzz_target;
use swerm::outdir::OutDir;
use swerm::score::ScorerSettings;
use swerm::score::store::{self, ScoreStore, Want};

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("scores.jsonl");
    std::fs::write(&p, data).unwrap();
    let _ = store::read(&p);
    std::fs::write(
        dir.path().join("scores.settings.json"),
        r#"{"format":"swerm-scores/1","scorer":{"kind":"consensus"}}"#,
    )
    .unwrap();
    let mut out = OutDir::open(dir.path()).unwrap();
    let _ = ScoreStore::open(&mut out, Want { scorer: &ScorerSettings::Consensus, shard: None }, false);
});
