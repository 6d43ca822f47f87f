//! The engines' APIs for the two answer tokens' exact log-probabilities
//! (docs/spec/engines.md): one request per candidate, token ids in, two numbers out; and
//! vLLM's `/classify` for classification heads (docs/spec/judges.md): token ids in, every
//! label's probability out.
//!
//! SGLang's `/v1/score` answers each label's probability over the whole vocabulary (without
//! `apply_softmax`): both raw values are kept, as their logs (the log-probabilities every other
//! dialect returns), and P(YES) renormalises them over the two labels.
//!
//! Engines are checked, not trusted: each response's own count of the prompt tokens it read
//! must equal the count sent ([`Api::check_length`]), since engines truncate silently, from
//! either side (docs/spec/judges.md).
//!
//! Never approximated from a top-k list: every dialect names the two answer tokens and a
//! response without both is an error. P(YES) = sigmoid(lp_yes - lp_no), the same as the local
//! forward's sigmoid(l_yes - l_no): log-probabilities are the logits shifted by one
//! normaliser, which cancels.

use std::fmt;
use std::str::FromStr;

use serde_json::{Value, json};

/// `--endpoint-api`: how to ask an endpoint for the answer tokens' log-probabilities.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ApiChoice {
    /// vLLM's `logprob_token_ids` when the endpoint honours it, else `prompt_logprobs`;
    /// SGLang's native API when `/v1/models` says the engine is SGLang.
    Auto,
    Fixed(Api),
    /// An OpenAI-compatible `/v1/chat/completions` (vLLM, SGLang or a hosted API): messages in,
    /// text out; only a reasoning judge whose verdict is parsed from its text can use it
    /// (`generative::served`).
    Chat,
}

/// One way of asking.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Api {
    /// vLLM `/v1/completions` with `logprob_token_ids: [Y, N]`: one position, both tokens.
    VllmTokenIds,
    /// `/v1/completions` with two prompts, `ids + [Y]` and `ids + [N]`, and `prompt_logprobs: 0`:
    /// the last prompt position holds each answer token's log-probability (prefix caching makes
    /// the second prompt nearly free).
    PromptLogprobs,
    /// SGLang's native `/generate` with `input_ids` and `token_ids_logprob: [Y, N]`.
    Sglang,
    /// SGLang's `/v1/score`: the prompt's ids as the one item after an empty query,
    /// `label_token_ids: [Y, N]`, no softmax: each label's probability over the vocabulary.
    SglangScore,
    /// vLLM's `/classify` (a pooling runner serving a classification head): `input` as token
    /// ids; `data[0].probs` holds every label's probability, the head's activation applied.
    Classify,
}

/// What one request answers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Answer {
    /// The (yes, no) answer tokens' log-probabilities.
    LogProbs([f64; 2]),
    /// A classification head's probability of the label scored.
    Label(f64),
}

impl Answer {
    /// The score: P(YES), or the label's probability.
    pub(crate) fn score(self) -> f64 {
        match self {
            Answer::LogProbs(lp) => crate::prob::p_yes(lp),
            Answer::Label(p) => p,
        }
    }

    /// The score on the logit scale, which replicas must agree on: lp_yes - lp_no, or
    /// logit(p) (the raw logit is not returned; for a sigmoid head this is it).
    pub(crate) fn z(self) -> f64 {
        match self {
            Answer::LogProbs(lp) => lp[0] - lp[1],
            Answer::Label(p) => crate::prob::logit(p),
        }
    }
}

impl Api {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Api::VllmTokenIds => "vllm",
            Api::PromptLogprobs => "prompt-logprobs",
            Api::Sglang => "sglang",
            Api::SglangScore => "sglang-score",
            Api::Classify => "classify",
        }
    }

    /// (path, body) of the request for prompt `ids`. `answer`: the answer tokens, or for
    /// `Classify` the label's index (twice).
    pub(crate) fn request(self, model: &str, ids: &[u32], answer: [u32; 2]) -> (&'static str, Value) {
        match self {
            Api::VllmTokenIds => (
                "/v1/completions",
                json!({"model": model, "prompt": ids, "max_tokens": 1, "temperature": 0, "logprobs": 2,
                       "logprob_token_ids": answer, "return_tokens_as_token_ids": true}),
            ),
            Api::PromptLogprobs => {
                let with = |a: u32| ids.iter().copied().chain([a]).collect::<Vec<u32>>();
                (
                    "/v1/completions",
                    json!({"model": model, "prompt": [with(answer[0]), with(answer[1])], "max_tokens": 1,
                           "temperature": 0, "prompt_logprobs": 0}),
                )
            }
            Api::Sglang => (
                "/generate",
                json!({"input_ids": ids, "sampling_params": {"max_new_tokens": 1, "temperature": 0},
                       "return_logprob": true, "logprob_start_len": -1, "token_ids_logprob": answer}),
            ),
            Api::SglangScore => (
                "/v1/score",
                json!({"model": model, "query": [], "items": [ids], "label_token_ids": answer, "apply_softmax": false}),
            ),
            Api::Classify => ("/classify", json!({"model": model, "input": [ids]})),
        }
    }

    /// Whether the engine read the prompt it was sent: its own count of prompt tokens
    /// (`usage.prompt_tokens`, SGLang's `meta_info.prompt_tokens`; for two prompts with
    /// `prompt_logprobs`, each one's positions) against `sent`. `Ok(false)`: the response
    /// reports no count (SGLang's `/v1/score` before it had `usage`); `Err`: a different
    /// count, both numbers said.
    pub(crate) fn check_length(self, body: &Value, sent: usize) -> Result<bool, String> {
        let usage = || body.pointer("/usage/prompt_tokens").and_then(Value::as_u64).map(|n| n as usize);
        // (the count the engine reports, the count it would report had it read what was sent,
        // what was sent when that is more than the prompt).
        let counts: Vec<(usize, usize, &str)> = match self {
            Api::VllmTokenIds | Api::Classify | Api::SglangScore => {
                usage().map(|n| (n, sent, "")).into_iter().collect()
            }
            Api::Sglang => body
                .pointer("/meta_info/prompt_tokens")
                .and_then(Value::as_u64)
                .map(|n| (n as usize, sent, ""))
                .into_iter()
                .collect(),
            Api::PromptLogprobs => body
                .get("choices")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|c| c.get("prompt_logprobs").and_then(Value::as_array))
                .map(|p| (p.len(), sent + 1, " (the prompt and an answer token)"))
                .chain(usage().map(|n| (n, 2 * (sent + 1), " (two prompts, each with an answer token)")))
                .collect(),
        };
        match counts.iter().find(|(got, want, _)| got != want) {
            None => Ok(!counts.is_empty()),
            Some((got, want, what)) => Err(format!(
                "the engine reports reading {got} prompt tokens where swerm sent {want}{what}: it truncated or changed the prompt (engines do so silently), so its answer is not this prompt's"
            )),
        }
    }

    /// What a response answers; the error says what is missing.
    pub(crate) fn parse(self, body: &Value, answer: [u32; 2]) -> Result<Answer, String> {
        if self == Api::Classify {
            let probs = body.pointer("/data/0/probs").and_then(Value::as_array).ok_or("no data[0].probs")?;
            let label = answer[0] as usize;
            let p = probs.get(label).and_then(Value::as_f64).ok_or(format!(
                "data[0].probs has {} labels, none at index {label} (is the served head --model's?)",
                probs.len()
            ))?;
            if !(0.0..=1.0).contains(&p) {
                return Err(format!("data[0].probs[{label}] is {p}, not a probability"));
            }
            return Ok(Answer::Label(p));
        }
        self.log_probs(body, answer).map(Answer::LogProbs)
    }

    /// The (yes, no) log-probabilities in a response.
    fn log_probs(self, body: &Value, answer: [u32; 2]) -> Result<[f64; 2], String> {
        match self {
            Api::Classify => unreachable!("parse reads /classify"),
            Api::VllmTokenIds => {
                let top = body
                    .pointer("/choices/0/logprobs/top_logprobs/0")
                    .ok_or("no choices[0].logprobs.top_logprobs[0]")?;
                let get = |a: u32| {
                    top.get(format!("token_id:{a}")).and_then(Value::as_f64).ok_or(format!(
                        "top_logprobs[0] has no `token_id:{a}` (does the engine support logprob_token_ids?)"
                    ))
                };
                Ok([get(answer[0])?, get(answer[1])?])
            }
            Api::PromptLogprobs => {
                let choices = body.get("choices").and_then(Value::as_array).ok_or("no `choices`")?;
                let get = |i: usize, a: u32| {
                    let c = choices
                        .iter()
                        .find(|c| c.get("index").and_then(Value::as_u64) == Some(i as u64))
                        .ok_or(format!("no choice with index {i}"))?;
                    c.get("prompt_logprobs")
                        .and_then(Value::as_array)
                        .and_then(|p| p.last())
                        .and_then(|last| last.get(a.to_string()))
                        .and_then(|e| e.get("logprob").or(Some(e)))
                        .and_then(Value::as_f64)
                        .ok_or(format!("choices[{i}].prompt_logprobs has no entry for token {a} at the last position"))
                };
                Ok([get(0, answer[0])?, get(1, answer[1])?])
            }
            Api::SglangScore => {
                let row = body.pointer("/scores/0").and_then(Value::as_array).ok_or("no scores[0]")?;
                let get = |i: usize| {
                    let p = row.get(i).and_then(Value::as_f64).ok_or(format!("scores[0] has no value {i}"))?;
                    match p {
                        p if p > 0.0 && p <= 1.0 => Ok(p.ln()),
                        0.0 => Err(format!(
                            "scores[0][{i}] is 0: the engine gave label {} no log-probability (or it underflowed)",
                            answer[i]
                        )),
                        p => Err(format!("scores[0][{i}] is {p}, not a probability")),
                    }
                };
                Ok([get(0)?, get(1)?])
            }
            Api::Sglang => {
                let step = body
                    .pointer("/meta_info/output_token_ids_logprobs/0")
                    .and_then(Value::as_array)
                    .ok_or("no meta_info.output_token_ids_logprobs[0]")?;
                let get = |a: u32| {
                    step.iter()
                        .filter_map(Value::as_array)
                        .find(|e| e.get(1).and_then(Value::as_u64) == Some(a as u64))
                        .and_then(|e| e.first())
                        .and_then(Value::as_f64)
                        .ok_or(format!("output_token_ids_logprobs[0] has no entry for token {a}"))
                };
                Ok([get(answer[0])?, get(answer[1])?])
            }
        }
    }
}

impl fmt::Display for Api {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ApiChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "auto" => ApiChoice::Auto,
            "vllm" => ApiChoice::Fixed(Api::VllmTokenIds),
            "prompt-logprobs" => ApiChoice::Fixed(Api::PromptLogprobs),
            "sglang" => ApiChoice::Fixed(Api::Sglang),
            "sglang-score" => ApiChoice::Fixed(Api::SglangScore),
            "classify" => ApiChoice::Fixed(Api::Classify),
            "chat" => ApiChoice::Chat,
            _ => {
                return Err(format!(
                    "{s:?}: expected auto, vllm, prompt-logprobs, sglang, sglang-score, classify or chat"
                ));
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shapes of engines.md (vLLM measured there; SGLang from its documented
    /// `GenerateReqInput` and `meta_info`): each dialect finds both answers, whatever the order.
    #[test]
    fn parses_each_dialect_and_names_what_is_missing() {
        let a = [9, 4];
        let v = json!({"choices": [{"logprobs": {"top_logprobs": [{"token_id:7": -0.1, "token_id:4": -2.5, "token_id:9": -3.0}]}}]});
        assert_eq!(Api::VllmTokenIds.parse(&v, a), Ok(Answer::LogProbs([-3.0, -2.5])));
        let p = json!({"choices": [
            {"index": 1, "prompt_logprobs": [null, {"4": {"logprob": -2.5, "rank": 3}}]},
            {"index": 0, "prompt_logprobs": [null, {"9": {"logprob": -3.0, "rank": 8}}]}]});
        assert_eq!(Api::PromptLogprobs.parse(&p, a), Ok(Answer::LogProbs([-3.0, -2.5])));
        let s = json!({"meta_info": {"output_token_ids_logprobs": [[[-2.5, 4, null], [-3.0, 9, null]]]}});
        assert_eq!(Api::Sglang.parse(&s, a), Ok(Answer::LogProbs([-3.0, -2.5])));
        let top20 = json!({"choices": [{"logprobs": {"top_logprobs": [{"token_id:7": -0.1}]}}]});
        assert!(Api::VllmTokenIds.parse(&top20, a).unwrap_err().contains("token_id:9"));
        assert!(Api::Sglang.parse(&json!({}), a).is_err());
        let (path, body) = Api::PromptLogprobs.request("m", &[1, 2], a);
        assert_eq!(path, "/v1/completions");
        assert_eq!(body["prompt"], json!([[1, 2, 9], [1, 2, 4]]));
        // /classify as vLLM's CPU build answered it (judges.md, and scripts/engine-check.sh).
        let c = json!({"data": [{"index": 0, "label": "loops", "probs": [0.1098, 0.0304, 0.6050], "num_classes": 3}]});
        assert_eq!(Api::Classify.parse(&c, [1, 1]), Ok(Answer::Label(0.0304)));
        assert!(Api::Classify.parse(&c, [3, 3]).unwrap_err().contains("3 labels, none at index 3"));
        assert!(
            Api::Classify
                .parse(&json!({"data": [{"probs": [1.5]}]}), [0, 0])
                .unwrap_err()
                .contains("not a probability")
        );
        let (path, body) = Api::Classify.request("m", &[1, 2], [1, 1]);
        assert_eq!((path, &body["input"]), ("/classify", &json!([[1, 2]])));
        assert_eq!(Answer::Label(0.25).score(), 0.25);
        assert!((Answer::Label(0.25).z() - (1.0f64 / 3.0).ln()).abs() < 1e-12);
    }

    /// SGLang's /v1/score (its `ScoringRequest`/`ScoringResponse`, read in its sources): the
    /// two raw probabilities over the vocabulary, kept as logs; P(YES) renormalised over them.
    #[test]
    fn sglang_score_is_renormalised_and_keeps_both_raw_values() {
        let a = [9, 4];
        let (path, body) = Api::SglangScore.request("m", &[1, 2, 3], a);
        assert_eq!(path, "/v1/score");
        assert_eq!(
            (&body["items"], &body["query"], &body["apply_softmax"]),
            (&json!([[1, 2, 3]]), &json!([]), &json!(false))
        );
        assert_eq!(body["label_token_ids"], json!([9, 4]));
        let v = json!({"scores": [[0.06, 0.02]], "model": "m", "object": "scoring"});
        let Ok(Answer::LogProbs(lp)) = Api::SglangScore.parse(&v, a) else { panic!("parses") };
        assert!((lp[0] - 0.06f64.ln()).abs() < 1e-15 && (lp[1] - 0.02f64.ln()).abs() < 1e-15);
        // Renormalised over the two labels: 0.06 / (0.06 + 0.02), not 0.06.
        assert!((Answer::LogProbs(lp).score() - 0.75).abs() < 1e-12);
        let zero = json!({"scores": [[0.0, 0.5]]});
        assert!(Api::SglangScore.parse(&zero, a).unwrap_err().contains("label 9 no log-probability"));
        assert!(Api::SglangScore.parse(&json!({"scores": [[1.5, 0.5]]}), a).unwrap_err().contains("not a probability"));
        assert!(Api::SglangScore.parse(&json!({"scores": []}), a).is_err());
    }

    /// Each dialect's count of the prompt tokens read, against the count sent: equal, absent
    /// (unchecked), or different (both numbers in the error).
    #[test]
    fn prompt_lengths_are_checked_in_every_dialect() {
        let usage = |n: u64| json!({"usage": {"prompt_tokens": n}});
        for api in [Api::VllmTokenIds, Api::Classify, Api::SglangScore] {
            assert_eq!(api.check_length(&usage(41), 41), Ok(true), "{api}");
            let e = api.check_length(&usage(37), 41).unwrap_err();
            assert!(e.contains("reading 37 prompt tokens where swerm sent 41"), "{api}: {e}");
        }
        assert_eq!(Api::SglangScore.check_length(&json!({"scores": [[0.1, 0.2]]}), 41), Ok(false));
        let meta = |n: u64| json!({"meta_info": {"prompt_tokens": n}});
        assert_eq!(Api::Sglang.check_length(&meta(41), 41), Ok(true));
        assert!(Api::Sglang.check_length(&meta(40), 41).unwrap_err().contains("reading 40"));
        // Two prompts of 41 + 1 tokens: each one's positions, and usage over both.
        let pl = |a: usize, b: usize, u: u64| {
            json!({"choices": [{"index": 0, "prompt_logprobs": vec![Value::Null; a]},
                               {"index": 1, "prompt_logprobs": vec![Value::Null; b]}],
                   "usage": {"prompt_tokens": u}})
        };
        assert_eq!(Api::PromptLogprobs.check_length(&pl(42, 42, 84), 41), Ok(true));
        assert!(
            Api::PromptLogprobs
                .check_length(&pl(42, 30, 72), 41)
                .unwrap_err()
                .contains("reading 30 prompt tokens where swerm sent 42 (the prompt and an answer token)")
        );
        assert!(Api::PromptLogprobs.check_length(&pl(42, 42, 80), 41).unwrap_err().contains("reading 80"));
    }
}
