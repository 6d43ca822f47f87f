//! The store's tests: lines, growth, torn lines, refusals, merges.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::line::parse_line;
use super::*;
use crate::score::VerifierDetail;

fn line(iid: &str, score: f64) -> ScoreLine {
    ScoreLine {
        instance_id: iid.into(),
        run: "r".into(),
        score: Some(score),
        empty: false,
        missing: false,
        resolved: None,
        detail: VerifierDetail::default(),
        tie_rank: None,
        patch_hash: None,
        patch_bytes_hash: None,
    }
}

fn want(s: &ScorerSettings) -> Want<'_> {
    Want { scorer: s, shard: None }
}

#[test]
fn resume_drops_torn_line_and_refuses_other_settings() {
    let d = tempfile::tempdir().unwrap();
    let (a, b) = (ScorerSettings::Consensus, ScorerSettings::Field { field: "x".into() });
    {
        let mut out = OutDir::open(d.path()).unwrap();
        let mut s = ScoreStore::open(&mut out, want(&a), false).unwrap();
        assert_eq!(s.reused, 0);
        s.append(&line("i1", 0.5)).unwrap();
        s.append(&line("i2", 0.25)).unwrap();
    }
    // A crash in the middle of a third line.
    let p = d.path().join(SCORES);
    let mut f = OpenOptions::new().append(true).open(&p).unwrap();
    f.write_all(b"{\"instance_id\":\"i3\",\"ru").unwrap();
    drop(f);
    let mut out = OutDir::open(d.path()).unwrap();
    let mut s = ScoreStore::open(&mut out, want(&a), false).unwrap();
    assert_eq!(s.reused, 2, "the torn line dropped");
    assert_eq!(s.stored("i2", "r").unwrap().unwrap().score, Some(0.25));
    s.append(&line("i3", 1.0)).unwrap();
    drop(s);
    let text = fs::read_to_string(&p).unwrap();
    assert_eq!(text.lines().count(), 3);
    assert!(text.lines().all(|l| parse_line(l.as_bytes()).is_ok()));
    let e = ScoreStore::open(&mut out, want(&b), false).err().unwrap().to_string();
    assert!(e.contains("holds scores of consensus") && e.contains("field:x") && e.contains("--overwrite"), "{e}");
    assert_eq!(fs::read_to_string(&p).unwrap(), text, "a refused run changes nothing");
    let s = ScoreStore::open(&mut out, want(&b), true).unwrap();
    assert_eq!((s.reused, s.discarded), (0, 3), "--overwrite starts afresh and counts what it discards");
    assert!(fs::read_to_string(&p).unwrap().is_empty());
    drop(s);
    assert!(read(d.path()).unwrap().scorer == Some(b));
}

#[test]
fn a_store_only_grows() {
    let d = tempfile::tempdir().unwrap();
    let c = ScorerSettings::Consensus;
    let run = |lines: &[ScoreLine]| {
        let mut out = OutDir::open(d.path()).unwrap();
        let st = ScoreStore::open(&mut out, want(&c), false).unwrap();
        st.finish(lines.to_vec()).unwrap()
    };
    let f = run(&[line("b", 0.5), line("a", 0.25)]);
    assert_eq!((f.kept, f.lines.len()), (0, 2));
    // Another run's candidates (another instance here) join the two already there; a
    // candidate scored again replaces its own line only.
    let f = run(&[line("c", 1.0), line("a", 0.75)]);
    assert_eq!(f.kept, 1);
    let back = read(d.path()).unwrap();
    let got: Vec<(&str, Option<f64>)> = back.lines.iter().map(|l| (l.instance_id.as_str(), l.score)).collect();
    assert_eq!(got, vec![("a", Some(0.75)), ("b", Some(0.5)), ("c", Some(1.0))]);
    assert_eq!(f.lines, back.lines, "finish returns the store as written");
}

#[test]
fn bad_lines_name_file_line_and_field() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("s.jsonl");
    let good = serde_json::to_string(&line("a", 0.5)).unwrap();
    for (bad, want) in [
        (r#"{"instance_id":"b","run":"r","score":"high"}"#, ":2: field `score`: invalid type: string"),
        (r#"{"instance_id":"b","run":"r"}"#, ":2: missing field `score`"),
        (r#"{"instance_id":"b","run":"r","score":1,"n_tokens":-1}"#, ":2: field `n_tokens`"),
        (r#"{"instance_id":"b","run":"r","score":1} x"#, ":2: invalid JSON"),
        (&good, ":2: duplicate line for instance a of run r (first at line 1)"),
    ] {
        fs::write(&p, format!("{good}\n{bad}\n")).unwrap();
        let e = read(&p).unwrap_err().to_string();
        assert!(e.contains(want), "{bad}: {e}");
    }
    // A BOM and blank lines are fine; a torn last line is dropped (and said, by `kept`).
    fs::write(&p, format!("\u{feff}{good}\n\n{{\"instance_id\":\"b")).unwrap();
    let s = read(&p).unwrap();
    assert_eq!((s.lines.len(), s.scorer), (1, None));
}

#[test]
fn resuming_reads_every_line_and_refuses_a_key_twice() {
    let d = tempfile::tempdir().unwrap();
    let c = ScorerSettings::Consensus;
    let open = || {
        let mut out = OutDir::open(d.path()).unwrap();
        ScoreStore::open(&mut out, want(&c), false)
    };
    // Names with JSON escapes, found again by their parsed names.
    let mut odd = line("a\"b\u{e9}", 0.75);
    odd.run = "r\\1".into();
    drop(open().unwrap().finish(vec![line("a", 0.5), odd.clone()]).unwrap());
    let s = open().unwrap();
    assert_eq!(s.reused, 2);
    assert_eq!(s.stored("a\"b\u{e9}", "r\\1").unwrap().unwrap().score, Some(0.75));
    assert!(s.stored("a\"b", "r\\1").unwrap().is_none() && s.stored("a", "r").unwrap().is_some());
    // Finishing with one of them again keeps the other.
    let f = s.finish(vec![line("a", 0.25)]).unwrap();
    assert_eq!(f.kept, 1);
    assert_eq!(f.lines, vec![line("a", 0.25), odd]);
    // A key given twice in the file, or a line without its names: refused on opening, naming
    // the lines. A bad value beside good names: refused where the line is used (resumed or kept
    // by the final rewrite), not when this run replaces it.
    let p = d.path().join(SCORES);
    let good = serde_json::to_string(&line("a", 0.5)).unwrap();
    let other = serde_json::to_string(&line("b", 0.5)).unwrap();
    fs::write(&p, format!("{good}\n{other}\n{good}\n")).unwrap();
    let e = open().err().unwrap().to_string();
    assert!(e.contains("scores.jsonl:3: duplicate line for instance a of run r (first at line 1)"), "{e}");
    fs::write(&p, format!("{good}\n{{\"instance_id\":\"b\",\"score\":1}}\n")).unwrap();
    let e = open().err().unwrap().to_string();
    assert!(e.contains("scores.jsonl:2: missing field `run`"), "{e}");
    fs::write(&p, format!("{good}\n{{\"instance_id\":\"b\",\"run\":\"r\",\"score\":\"x\"}}\n")).unwrap();
    let s = open().unwrap();
    let e = s.stored("b", "r").unwrap_err().to_string();
    assert!(e.contains("scores.jsonl:2: field `score`"), "{e}");
    let e = s.finish(vec![line("a", 0.5)]).err().unwrap().to_string();
    assert!(e.contains("scores.jsonl:2: field `score`"), "{e}");
    let f = open().unwrap().finish(vec![line("a", 0.5), line("b", 1.0)]).unwrap();
    assert_eq!((f.kept, f.lines.len()), (0, 2), "replaced: never used");
}

/// Writes a store of `lines` for `scorer` (and `shard`) into a new directory under `root`.
fn store_in(root: &Path, name: &str, scorer: &ScorerSettings, shard: Option<Shard>, lines: &[ScoreLine]) -> PathBuf {
    let dir = root.join(name);
    let mut out = OutDir::open(&dir).unwrap();
    let st = ScoreStore::open(&mut out, Want { scorer, shard }, false).unwrap();
    st.finish(lines.to_vec()).unwrap();
    dir
}

#[test]
fn stores_merge_only_when_they_agree() {
    let d = tempfile::tempdir().unwrap();
    let c = ScorerSettings::Consensus;
    let sh = |s: &str| Some(s.parse::<Shard>().unwrap());
    let s1 = store_in(d.path(), "s1", &c, sh("1/2"), &[line("a", 0.5), line("b", 0.25)]);
    let s2 = store_in(d.path(), "s2", &c, sh("2/2"), &[line("c", 1.0)]);
    let m = read_many(&[s1.clone(), s2.clone()]).unwrap();
    let ids: Vec<&str> = m.lines.iter().map(|l| l.instance_id.as_str()).collect();
    assert_eq!((ids, m.shard, m.scorer), (vec!["a", "b", "c"], None, Some(c.clone())));
    assert!(m.origin.contains(" + "));
    let e = read_many(std::slice::from_ref(&s1)).unwrap_err().to_string();
    assert!(e.contains("shard 2/2 of the sharded run is missing"), "{e}");
    let e = read_many(&[s1.clone(), s1.clone(), s2.clone()]).unwrap_err().to_string();
    assert!(e.contains("shard 1/2 is given twice"), "{e}");
    // Overlap: equal within the tolerance is kept once; beyond it is refused.
    let w1 = store_in(d.path(), "w1", &c, None, &[line("a", 0.5), line("b", 0.25)]);
    let w2 = store_in(d.path(), "w2", &c, None, &[line("b", 0.25 + 1e-6), line("c", 1.0)]);
    assert_eq!(read_many(&[w1.clone(), w2]).unwrap().lines.len(), 3);
    let w3 = store_in(d.path(), "w3", &c, None, &[line("b", 0.3)]);
    let e = read_many(&[w1.clone(), w3]).unwrap_err().to_string();
    assert!(e.contains("instance b of run r") && e.contains("disagree"), "{e}");
    let other = store_in(d.path(), "f", &ScorerSettings::Field { field: "x".into() }, None, &[line("z", 0.5)]);
    let e = read_many(&[w1.clone(), other]).unwrap_err().to_string();
    assert!(e.contains("only one scorer's scores merge"), "{e}");
    let e = read_many(&[w1, s2]).unwrap_err().to_string();
    assert!(e.contains("holds every candidate but another store holds a shard of 2"), "{e}");
    // A shard's directory refuses another shard's run.
    let mut out = OutDir::open(&s1).unwrap();
    let e = ScoreStore::open(&mut out, Want { scorer: &c, shard: sh("2/2") }, false).err().unwrap().to_string();
    assert!(e.contains("shard 1/2") && e.contains("shard 2/2"), "{e}");
}

#[test]
fn lines_round_trip() {
    let mut l = line("a", 0.125);
    l.resolved = Some(true);
    l.detail = VerifierDetail {
        logit_yes: Some(1.5),
        logit_no: Some(-0.25),
        logit: None,
        n_tokens: Some(12),
        truncated: Some(false),
        trajectory: Some(false),
        issue: Some(false),
        patch: Some(crate::prompt::PatchView::Added),
        prompt_ids: Some("sha256:0123456789abcdef".into()),
        removed_tokens: Some(40),
        cut: Some("log and issue".into()),
        answer_at: Some(11),
        answer_ids: Some(vec![9454, 2753]),
        rope_scaling: Some("yarn:4".into()),
        samples: Some(3),
        invalid_samples: Some(1),
        generated_tokens: Some(700),
        privileged: Some(vec!["test_patch".into()]),
        error: None,
    };
    let text = serde_json::to_string(&l).unwrap();
    assert_eq!(
        text,
        r#"{"instance_id":"a","run":"r","score":0.125,"empty":false,"resolved":true,"logit_yes":1.5,"logit_no":-0.25,"n_tokens":12,"truncated":false,"trajectory":false,"issue":false,"patch":"added","prompt_ids":"sha256:0123456789abcdef","removed_tokens":40,"cut":"log and issue","answer_at":11,"answer_ids":[9454,2753],"rope_scaling":"yarn:4","samples":3,"invalid_samples":1,"generated_tokens":700,"privileged":["test_patch"]}"#
    );
    assert_eq!(parse_line(text.as_bytes()).unwrap(), l);
    let hole = ScoreLine { score: None, empty: true, missing: true, ..line("b", 0.0) };
    assert_eq!(
        serde_json::to_string(&hole).unwrap(),
        r#"{"instance_id":"b","run":"r","score":null,"empty":true,"missing":true}"#
    );
}

/// Lines meet the grid by name, in any order: each cell gets its own line, a cell without one
/// gets none, and a line outside the grid is left out.
#[test]
fn lines_are_placed_by_name() {
    let at = |iid: &str, run: &str| ScoreLine { run: run.into(), ..line(iid, 0.5) };
    let lines = [at("b", "r2"), at("a", "r1"), at("zz", "r1"), at("b", "r1")];
    let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let cells = place(&lines, &crate::grid::Grid::new(names(&["a", "b"]), names(&["r1", "r2"])));
    assert_eq!(cells, [Some(1), None, Some(3), Some(0)]);
}

/// `finish_made` writes the file `finish` writes and keeps as many earlier lines: a fresh
/// store of several chunks, a rerun replacing every line, a rerun beside earlier lines of other
/// instances (merged) and lines out of key order (sorted).
#[test]
fn finish_made_writes_what_finish_writes() {
    let c = ScorerSettings::Consensus;
    let many: Vec<ScoreLine> = (0..10_000).map(|k| line(&format!("i{k:05}"), k as f64 / 1e4)).collect();
    let others: Vec<ScoreLine> = ["h", "j", "zz"].iter().map(|i| line(i, 0.5)).collect();
    let mut shuffled = many[..100].to_vec();
    shuffled.reverse();
    let cases: [(&str, &[ScoreLine], &[ScoreLine]); 6] = [
        ("fresh", &[], &many),
        ("rerun", &many, &many),
        ("rerun of more", &many[..50], &many),
        ("rerun of fewer", &many, &many[..50]),
        ("beside others", &others, &many[..50]),
        ("out of order", &[], &shuffled),
    ];
    for (what, before, now) in cases {
        let files: Vec<(String, usize)> = (0..2)
            .map(|made| {
                let d = tempfile::tempdir().unwrap();
                if !before.is_empty() {
                    let mut out = OutDir::open(d.path()).unwrap();
                    ScoreStore::open(&mut out, want(&c), false).unwrap().finish(before.to_vec()).unwrap();
                }
                let mut out = OutDir::open(d.path()).unwrap();
                let st = ScoreStore::open(&mut out, want(&c), false).unwrap();
                let kept = if made == 1 {
                    let key = |k: usize| (now[k].instance_id.as_str(), now[k].run.as_str(), "");
                    st.finish_made(now.len(), key, |range| now[range].to_vec()).unwrap()
                } else {
                    st.finish(now.to_vec()).unwrap().kept
                };
                (fs::read_to_string(d.path().join(SCORES)).unwrap(), kept)
            })
            .collect();
        assert!(
            files[0] == files[1],
            "{what}: finish_made wrote another store (kept {} vs {})",
            files[1].1,
            files[0].1
        );
        assert!(files[0].0.lines().count() >= now.len(), "{what}");
    }
}

/// The names of a line as swerm writes it are read without a parser, and give the key its
/// parse gives; names with escapes, another field order and a line without its newline are
/// parsed; a torn line is still refused (and dropped as torn by the reader).
#[test]
fn keys_of_written_lines_are_their_parsed_keys() {
    use crate::score::kept::{Line, fingerprint};
    for (i, r) in [("a__b-1", "run-1"), ("q\"uote", "r\\s"), ("é", "r\n"), ("", "")] {
        let mut l = line(i, 0.5);
        l.run = r.into();
        let text = serde_json::to_string(&l).unwrap() + "\n";
        let want = fingerprint((i, r, ""));
        assert_eq!(ScoreLine::parse_key(text.as_bytes()), Ok(want), "{text}");
        assert_eq!(ScoreLine::parse_key(text.trim_end().as_bytes()), Ok(want), "{text}");
    }
    assert!(ScoreLine::parse_key(br#"{"instance_id":"a","run":"r","sc"#).is_err());
    let other_order = b"{\"run\":\"r\",\"instance_id\":\"a\",\"score\":1}\n";
    assert_eq!(ScoreLine::parse_key(other_order), Ok(fingerprint(("a", "r", ""))));
}
