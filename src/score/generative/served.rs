//! The reasoning judge on inference engines (`--generate` with `--endpoint`): vLLM's
//! `/v1/completions` writes the samples from the prompt's token ids (`n`, `temperature`,
//! `top_p`, `seed`, `stop`, `max_tokens`, `return_token_ids`), swerm decodes the returned ids
//! with `--model`'s tokenizer and reads the verdict exactly as the local judge does. The
//! `logprob` verdict stops at the marker (a stop string kept in the output) and then reads the
//! answer at the next position with a second request over the prompt and the sample, through the
//! API the endpoint probe chose for the prefill verifier (vLLM's `logprob_token_ids`, else
//! `prompt_logprobs`): exact log-probabilities, never a top-k list.
//!
//! Seeds: a candidate's requests carry seed `base + k` for its sample `k`, `base` derived from
//! `--seed` and the prompt's ids. vLLM gives sample `i` of a request with `n` > 1 and seed `s`
//! the seed `s + i` (its parallel sampling), so the K samples of one request and K requests of
//! one sample each (a resume that misses some) draw the same. The engine's generator is not
//! swerm's: sampled runs on an engine differ from the local ones (another scorer: `engine` in the
//! identity); greedy ones are the same tokens (scripts/engine-check.sh, section 8).
//!
//! OpenAI-compatible chat endpoints (`--endpoint-api chat`: vLLM, SGLang or a hosted API, the
//! key from the environment) take the prompt's turns (`cot`, `--template`; a prompt cut to fit
//! cannot be sent as turns and is refused) with the standard parameters only, and give text:
//! the `parse` verdict alone applies. The text is tokenized with `--model`'s tokenizer for
//! generations.jsonl. Decision: a server that moves the reasoning into `reasoning_content` (or
//! `reasoning`: a reasoning parser is on) is an error, since the verdict rule reads the text
//! after the reasoning and a judge that only sees `content` scores every candidate alike; so is
//! a response whose every sample has no text. A `stop` finish is `eos` without `--stop`
//! strings, else `stop` (the API does not say which).
//!
//! Engines are checked, not trusted: each response's `usage.prompt_tokens` must equal the
//! prompt's length (for a chat endpoint: `--model` must be the served model, whose chat
//! template the server applies), and a response without the generated token ids is an error
//! naming the cause. SGLang endpoints generate through its native `/generate` (`input_ids`,
//! `sampling_params` with `sampling_seed` and `no_stop_trim`, `output_ids` back), one sample per
//! request (`Served::any_sglang`), and read the answer after the marker with
//! `token_ids_logprob`; that path is checked on SGLang's documented shapes only (no SGLang runs
//! here).

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Result, anyhow, bail};
use serde_json::{Value, json};

use super::{GenLine, Generative, Work};
use crate::model::generate::End;
use crate::score::remote::{Api, ChatParts, Client, Failure, Parts};
use crate::score::settings::{GenerationSpec, Verdict};

pub(crate) struct Served {
    /// Each endpoint, with the API that reads answers there (`None`: a chat endpoint).
    endpoints: Vec<(Client, Option<Api>)>,
    model: String,
    answer: [u32; 2],
    concurrency: usize,
    max_len: Option<usize>,
}

/// One generation request: prompt `j` of the batch, its samples `ks` (consecutive), the seed of
/// the first.
struct Request {
    j: usize,
    ks: Vec<usize>,
    seed: Option<u64>,
}

/// One sample as the engine wrote it.
#[derive(Debug)]
struct Sample {
    tokens: Vec<u32>,
    finish: String,
}

impl Served {
    pub(crate) fn new(p: &Parts, spec: &GenerationSpec) -> Result<Self> {
        for (c, api) in &p.endpoints {
            if !matches!(api, Api::VllmTokenIds | Api::PromptLogprobs | Api::Sglang | Api::SglangScore) {
                bail!(
                    "--generate with --endpoint: {} answers through {api}, which cannot generate (score it here, without --endpoint)",
                    c.url
                );
            }
        }
        if spec.verdict == Verdict::Logprob && spec.stop.iter().any(|s| s == &spec.marker) {
            bail!("--stop {:?} is the answer marker: the logprob verdict reads the answer after it", spec.marker);
        }
        Ok(Served {
            endpoints: p.endpoints.iter().map(|(c, a)| (c.clone(), Some(*a))).collect(),
            model: p.model.clone(),
            answer: p.answer,
            concurrency: p.concurrency.max(1),
            max_len: p.max_len,
        })
    }

    /// Chat endpoints (`--endpoint-api chat`).
    pub(crate) fn chat(p: &ChatParts) -> Self {
        Served {
            endpoints: p.clients.iter().map(|c| (c.clone(), None)).collect(),
            model: p.model.clone(),
            answer: [0, 0],
            concurrency: p.concurrency,
            max_len: p.max_len,
        }
    }

    pub(crate) fn describe(&self) -> String {
        let urls: Vec<&str> = self.endpoints.iter().map(|(c, _)| c.url.as_str()).collect();
        let api =
            if self.endpoints.iter().all(|(_, a)| a.is_none()) { "/v1/chat/completions" } else { "/v1/completions" };
        format!("generating with {:?} on {} ({api})", self.model, urls.join(", "))
    }

    /// Whether an endpoint is SGLang. Decision: its requests then carry one sample each
    /// (`sampling_seed` = base + k), since how SGLang seeds the samples of one request with
    /// `n` > 1 is not documented; one sample per request is reproducible whatever it does.
    fn any_sglang(&self) -> bool {
        self.endpoints.iter().any(|(_, a)| matches!(a, Some(Api::Sglang | Api::SglangScore)))
    }

    /// The seed of sample 0 of a prompt (`digest`: its ids'); sample k's is this plus k. 31 bits,
    /// so that `base + k` fits every engine's integer seed.
    fn base_seed(g: &Generative, digest: &str) -> Option<u64> {
        g.spec.seed.map(|_| g.rng(digest, 0).next_u64() >> 33)
    }

    pub(super) fn run(&self, g: &Generative, work: &[Work], labels: &[(&str, &str)]) -> Result<Vec<GenLine>> {
        let spec = &g.spec;
        // The requests: all of a prompt's samples in one (`n`) when none is kept, else one each.
        let mut reqs = Vec::new();
        for (j, (p, digest, ks)) in work.iter().enumerate() {
            if let Some(m) = self.max_len.filter(|&m| p.ids.len() + spec.max_new + 1 > m) {
                bail!(
                    "instance {} of run {}: the prompt has {} tokens and --generate {} more (and the answer one) exceed the endpoints' max_model_len {m}: pass --max-tokens {}",
                    labels[j].0,
                    labels[j].1,
                    p.ids.len(),
                    spec.max_new,
                    m.saturating_sub(spec.max_new + 1)
                );
            }
            let base = Self::base_seed(g, digest);
            if g.reads_at_once(p) {
                reqs.push(Request { j, ks: ks.clone(), seed: None });
            } else if ks.len() > 1 && ks.windows(2).all(|w| w[1] == w[0] + 1) && !self.any_sglang() {
                reqs.push(Request { j, ks: ks.clone(), seed: base.map(|b| b + ks[0] as u64) });
            } else {
                reqs.extend(ks.iter().map(|&k| Request { j, ks: vec![k], seed: base.map(|b| b + k as u64) }));
            }
        }
        // Workers: `concurrency` per endpoint, pulling requests in order.
        let results: Vec<Mutex<Option<Result<Vec<GenLine>>>>> = reqs.iter().map(|_| Mutex::new(None)).collect();
        let next = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for w in 0..self.endpoints.len() * self.concurrency {
                let (client, api) = &self.endpoints[w % self.endpoints.len()];
                let (reqs, results, next) = (&reqs, &results, &next);
                scope.spawn(move || {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(r) = reqs.get(i) else { break };
                        let got = self.one(g, client, *api, &work[r.j], r, labels[r.j]);
                        *results[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(got);
                    }
                });
            }
        });
        // Back in `work` order: each prompt's samples by index.
        let mut by_prompt: Vec<Vec<GenLine>> = work.iter().map(|_| Vec::new()).collect();
        for (r, res) in reqs.iter().zip(results) {
            let lines = res.into_inner().unwrap_or_else(|e| e.into_inner()).expect("every request ran")?;
            by_prompt[r.j].extend(lines);
        }
        Ok(by_prompt
            .into_iter()
            .flat_map(|mut l| {
                l.sort_by_key(|x| x.sample);
                l
            })
            .collect())
    }

    /// One request and, for the logprob verdict, the answer read after each sample's marker.
    fn one(
        &self,
        g: &Generative,
        c: &Client,
        api: Option<Api>,
        work: &Work,
        r: &Request,
        who: (&str, &str),
    ) -> Result<Vec<GenLine>> {
        let Some(api) = api else { return self.one_chat(g, c, work, r, who) };
        let (p, digest, _) = work;
        let what = || format!("{}: instance {} of run {}", c.url, who.0, who.1);
        let samples: Vec<Sample> = if g.reads_at_once(p) {
            r.ks.iter().map(|_| Sample { tokens: Vec::new(), finish: "marker".into() }).collect()
        } else if matches!(api, Api::Sglang | Api::SglangScore) {
            let body = sglang_request(&g.spec, &p.ids, r.seed);
            let v = post(c, "/generate", &body).map_err(|m| anyhow!("{}: {m}", what()))?;
            sglang_sample(&v, p.ids.len()).map(|s| vec![s]).map_err(|m| anyhow!("{}: {m}", what()))?
        } else {
            let body = self.request(&g.spec, &p.ids, r.ks.len(), r.seed);
            let v = post(c, "/v1/completions", &body).map_err(|m| anyhow!("{}: {m}", what()))?;
            check_prompt_tokens(&v, p.ids.len()).map_err(|m| anyhow!("{}: {m}", what()))?;
            samples(&v, r.ks.len()).map_err(|m| anyhow!("{}: {m}", what()))?
        };
        let mut lines = Vec::with_capacity(samples.len());
        for (&k, s) in r.ks.iter().zip(samples) {
            let end = self.end(g, &s);
            let answer = match end {
                End::Marker => {
                    let ids: Vec<u32> = p.ids.iter().chain(&s.tokens).copied().collect();
                    let (path, body) = api.request(&self.model, &ids, self.answer);
                    let v =
                        post(c, path, &body).map_err(|m| anyhow!("{}: the answer after the marker: {m}", what()))?;
                    api.check_length(&v, ids.len()).map_err(|m| anyhow!("{}: {m}", what()))?;
                    let a = api.parse(&v, self.answer).map_err(|m| anyhow!("{}: {m}", what()))?;
                    let lp = match a {
                        crate::score::remote::Answer::LogProbs(lp) => lp,
                        crate::score::remote::Answer::Label(_) => {
                            bail!("{}: a label where answer tokens were asked", what())
                        }
                    };
                    Some((a.score(), Some(lp)))
                }
                _ => None,
            };
            lines.push(g.line(who, k, digest, s.tokens, end, answer)?);
        }
        Ok(lines)
    }

    /// One chat request (`n` samples of the prompt's turns) and each sample's parsed verdict.
    fn one_chat(
        &self,
        g: &Generative,
        c: &Client,
        (p, digest, _): &Work,
        r: &Request,
        who: (&str, &str),
    ) -> Result<Vec<GenLine>> {
        let what = || format!("{}: instance {} of run {}", c.url, who.0, who.1);
        let Some(turns) = &p.turns else {
            bail!(
                "{}: its prompt was cut to fit the token limit, and a chat endpoint takes whole turns: raise --max-tokens, or serve the judge with completions (without --endpoint-api chat)",
                what()
            );
        };
        let messages: Vec<Value> =
            turns.iter().map(|(role, content)| json!({"role": role, "content": content})).collect();
        let spec = &g.spec;
        let mut body = json!({
            "model": self.model, "messages": messages, "n": r.ks.len(), "max_tokens": spec.max_new,
            "temperature": spec.temperature, "top_p": spec.top_p,
        });
        if !spec.stop.is_empty() {
            body["stop"] = json!(spec.stop);
        }
        if let Some(s) = r.seed {
            body["seed"] = s.into();
        }
        let v = post(c, "/v1/chat/completions", &body).map_err(|m| anyhow!("{}: {m}", what()))?;
        check_prompt_tokens(&v, p.ids.len()).map_err(|m| {
            anyhow!("{}: {m} (a chat endpoint applies its own chat template: --model must be the served model)", what())
        })?;
        let texts = chat_texts(&v, r.ks.len()).map_err(|m| anyhow!("{}: {m}", what()))?;
        let mut lines = Vec::with_capacity(texts.len());
        for (&k, (text, finish)) in r.ks.iter().zip(texts) {
            let end = match finish.as_str() {
                "length" => End::Length,
                "stop" if spec.stop.is_empty() => End::Eos,
                _ => End::Stop,
            };
            lines.push(g.line(who, k, digest, g.prompter.encode(&text)?, end, None)?);
        }
        Ok(lines)
    }

    /// vLLM's completion request for `n` samples of `ids`.
    fn request(&self, spec: &GenerationSpec, ids: &[u32], n: usize, seed: Option<u64>) -> Value {
        let mut stop = spec.stop.clone();
        if spec.verdict == Verdict::Logprob {
            stop.push(spec.marker.clone());
        }
        let mut body = json!({
            "model": self.model, "prompt": ids, "n": n, "max_tokens": spec.max_new,
            "temperature": spec.temperature, "top_p": spec.top_p,
            "stop": stop, "include_stop_str_in_output": true, "return_token_ids": true,
            "skip_special_tokens": false,
        });
        if let Some(s) = seed {
            body["seed"] = s.into();
        }
        body
    }

    /// How a sample ended, as the local judge names it: its end-of-sequence token; a stop
    /// string; the marker (the logprob verdict, the text ending with it); its token budget.
    fn end(&self, g: &Generative, s: &Sample) -> End {
        if s.finish == "marker" {
            return End::Marker;
        }
        if s.finish == "eos" || s.tokens.last().is_some_and(|t| g.eos.contains(t)) {
            return End::Eos;
        }
        if s.finish == "stop" {
            let text = g.prompter.decode(&s.tokens).unwrap_or_default();
            if g.spec.verdict == Verdict::Logprob && text.ends_with(g.spec.marker.as_str()) {
                return End::Marker;
            }
            return End::Stop;
        }
        End::Length
    }
}

/// SGLang's native `/generate` for one sample of `ids` (docs/spec/engines.md): the stop strings
/// kept in the output (`no_stop_trim`), special tokens kept, `sampling_seed` when sampled.
fn sglang_request(spec: &GenerationSpec, ids: &[u32], seed: Option<u64>) -> Value {
    let mut stop = spec.stop.clone();
    if spec.verdict == Verdict::Logprob {
        stop.push(spec.marker.clone());
    }
    let mut sp = json!({
        "max_new_tokens": spec.max_new, "temperature": spec.temperature, "top_p": spec.top_p, "n": 1,
        "stop": stop, "no_stop_trim": true, "skip_special_tokens": false,
    });
    if let Some(s) = seed {
        sp["sampling_seed"] = s.into();
    }
    json!({"input_ids": ids, "sampling_params": sp})
}

/// The sample of a SGLang `/generate` response (an object, or a list of one): `output_ids`,
/// `meta_info.finish_reason` (`{"type": "stop"|"length", "matched": ...}`; a matched token id is
/// the end of sequence) and `meta_info.prompt_tokens`, which must equal what was sent.
fn sglang_sample(v: &Value, sent: usize) -> Result<Sample, String> {
    let v = match v {
        Value::Array(a) if a.len() == 1 => &a[0],
        Value::Array(a) => return Err(format!("the response holds {} samples where one was asked for", a.len())),
        v => v,
    };
    match v.pointer("/meta_info/prompt_tokens").and_then(Value::as_u64) {
        Some(n) if n as usize == sent => {}
        Some(n) => {
            return Err(format!(
                "the engine reports reading {n} prompt tokens where swerm sent {sent}: it truncated or changed the prompt (engines do so silently), so its samples are not this prompt's"
            ));
        }
        None => return Err(
            "the response has no meta_info.prompt_tokens: swerm cannot tell whether the engine read the whole prompt"
                .into(),
        ),
    }
    let ids = v
        .get("output_ids")
        .and_then(Value::as_array)
        .ok_or("the response has no `output_ids` (the generated token ids)")?;
    let tokens: Vec<u32> = ids
        .iter()
        .map(|t| t.as_u64().map(|t| t as u32).ok_or("a token id is not a number"))
        .collect::<Result<_, _>>()?;
    let reason = v.pointer("/meta_info/finish_reason");
    let finish = match reason.and_then(|r| r.get("type")).and_then(Value::as_str) {
        Some("stop") if reason.and_then(|r| r.get("matched")).is_some_and(Value::is_number) => "eos",
        Some(t) => t,
        None => "",
    };
    Ok(Sample { tokens, finish: finish.to_string() })
}

/// A POST, retried while the failure may pass; the message says why it failed.
fn post(c: &Client, path: &str, body: &Value) -> Result<Value, String> {
    c.retrying(|c| c.post(path, body)).map_err(|f| match f {
        Failure::Retry(m) => format!("{path}: stopped answering: {m}"),
        Failure::Fatal { msg, .. } => format!("{path}: {msg}"),
    })
}

/// The engine's count of the prompt tokens it read against the prompt's length.
fn check_prompt_tokens(v: &Value, sent: usize) -> Result<(), String> {
    match v.pointer("/usage/prompt_tokens").and_then(Value::as_u64) {
        Some(n) if n as usize == sent => Ok(()),
        Some(n) => Err(format!(
            "the engine reports reading {n} prompt tokens where swerm sent {sent}: it truncated or changed the prompt (engines do so silently), so its samples are not this prompt's"
        )),
        None => {
            Err("the response has no usage.prompt_tokens: swerm cannot tell whether the engine read the whole prompt"
                .into())
        }
    }
}

/// The text and finish reason of each of the `n` samples of a chat response, by choice index;
/// refused: the reasoning moved into `reasoning_content` (or `reasoning`), or no text at all.
fn chat_texts(v: &Value, n: usize) -> Result<Vec<(String, String)>, String> {
    let choices = v.get("choices").and_then(Value::as_array).ok_or("the response has no `choices`")?;
    let mut out: Vec<Option<(String, String)>> = (0..n).map(|_| None).collect();
    for c in choices {
        let i = c.get("index").and_then(Value::as_u64).ok_or("a choice has no `index`")? as usize;
        let m = c.get("message").ok_or("a choice has no `message`")?;
        let reasoning = ["reasoning_content", "reasoning"]
            .iter()
            .find(|k| m.get(**k).and_then(Value::as_str).is_some_and(|t| !t.is_empty()));
        if let Some(k) = reasoning {
            return Err(format!(
                "the server moved the judge's reasoning into `{k}` (a reasoning parser is on): the verdict is read from the whole text after the reasoning, so start the server without --reasoning-parser"
            ));
        }
        let text = m.get("content").and_then(Value::as_str).unwrap_or("").to_string();
        let finish = c.get("finish_reason").and_then(Value::as_str).unwrap_or("").to_string();
        let slot = out.get_mut(i).ok_or(format!("a choice has index {i}, past the {n} asked for"))?;
        *slot = Some((text, finish));
    }
    let out: Vec<(String, String)> = out
        .into_iter()
        .enumerate()
        .map(|(i, s)| s.ok_or(format!("the response has no choice {i} of the {n} asked for")))
        .collect::<Result<_, _>>()?;
    if out.iter().all(|(t, _)| t.is_empty()) {
        return Err(format!("none of the {n} samples has any text in `message.content`: the answers are missing"));
    }
    Ok(out)
}

/// The `n` samples of a completion response, by choice index.
fn samples(v: &Value, n: usize) -> Result<Vec<Sample>, String> {
    let choices = v.get("choices").and_then(Value::as_array).ok_or("the response has no `choices`")?;
    let mut out: Vec<Option<Sample>> = (0..n).map(|_| None).collect();
    for c in choices {
        let i = c.get("index").and_then(Value::as_u64).ok_or("a choice has no `index`")? as usize;
        let tokens = c.get("token_ids").and_then(Value::as_array).ok_or(
            "a choice has no `token_ids`: the engine does not return the generated ids (vLLM does with return_token_ids, since 0.10)",
        )?;
        let tokens: Vec<u32> = tokens
            .iter()
            .map(|t| t.as_u64().map(|t| t as u32).ok_or("a token id is not a number"))
            .collect::<Result<_, _>>()?;
        let finish = c.get("finish_reason").and_then(Value::as_str).unwrap_or("").to_string();
        let slot = out.get_mut(i).ok_or(format!("a choice has index {i}, past the {n} asked for"))?;
        *slot = Some(Sample { tokens, finish });
    }
    out.into_iter()
        .enumerate()
        .map(|(i, s)| s.ok_or(format!("the response has no choice {i} of the {n} asked for")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The chat shapes of vLLM 0.32 (`reasoning`; `reasoning_content` before) and of OpenAI:
    /// text by index; the reasoning moved out of the text, or no text at all, refused with the
    /// cause.
    #[test]
    fn chat_answers_and_what_is_refused() {
        let v = json!({"choices": [
            {"index": 1, "message": {"role": "assistant", "content": "<think>b</think>NO"}, "finish_reason": "stop"},
            {"index": 0, "message": {"role": "assistant", "content": "YES", "reasoning": null}, "finish_reason": "length"},
        ]});
        let t = chat_texts(&v, 2).unwrap();
        assert_eq!(
            t,
            [("YES".to_string(), "length".to_string()), ("<think>b</think>NO".to_string(), "stop".to_string())]
        );
        assert!(chat_texts(&v, 3).unwrap_err().contains("no choice 2"));
        for k in ["reasoning_content", "reasoning"] {
            let v = json!({"choices": [{"index": 0, "message": {"content": "YES", k: "the thinking"}}]});
            let e = chat_texts(&v, 1).unwrap_err();
            assert!(e.contains(k) && e.contains("reasoning parser"), "{e}");
        }
        let v =
            json!({"choices": [{"index": 0, "message": {"content": null}}, {"index": 1, "message": {"content": ""}}]});
        assert!(chat_texts(&v, 2).unwrap_err().contains("the answers are missing"));
        let v = json!({"usage": {"prompt_tokens": 9}});
        assert!(
            check_prompt_tokens(&v, 10).unwrap_err().contains("reports reading 9 prompt tokens where swerm sent 10")
        );
        assert!(check_prompt_tokens(&json!({}), 10).is_err());
    }

    /// SGLang's `/generate` shapes (`GenerateReqInput`, `SamplingParams`, the response's
    /// `output_ids` and `meta_info`): the request, a sample, an end of sequence, a short read.
    #[test]
    fn sglang_generation_shapes() {
        let spec =
            GenerationSpec::new(8, 0.7, 0.9, 3, vec!["END".into()], Verdict::Logprob, 2, "<judgement>".into()).unwrap();
        let body = sglang_request(&spec, &[1, 2, 3], Some(41));
        assert_eq!(body["input_ids"], json!([1, 2, 3]));
        let sp = &body["sampling_params"];
        assert_eq!((&sp["max_new_tokens"], &sp["n"], &sp["sampling_seed"]), (&json!(8), &json!(1), &json!(41)));
        assert_eq!((&sp["stop"], &sp["no_stop_trim"]), (&json!(["END", "<judgement>"]), &json!(true)));
        let v = json!({"text": "ab", "output_ids": [7, 8], "meta_info": {"prompt_tokens": 3, "completion_tokens": 2,
                       "finish_reason": {"type": "length", "length": 2}}});
        let s = sglang_sample(&v, 3).unwrap();
        assert_eq!((s.tokens, s.finish.as_str()), (vec![7, 8], "length"));
        let eos = json!([{"output_ids": [7], "meta_info": {"prompt_tokens": 3, "finish_reason": {"type": "stop", "matched": 151645}}}]);
        assert_eq!(sglang_sample(&eos, 3).unwrap().finish, "eos");
        let stop = json!({"output_ids": [7], "meta_info": {"prompt_tokens": 3, "finish_reason": {"type": "stop", "matched": "END"}}});
        assert_eq!(sglang_sample(&stop, 3).unwrap().finish, "stop");
        assert!(sglang_sample(&v, 5).unwrap_err().contains("reports reading 3 prompt tokens where swerm sent 5"));
        assert!(sglang_sample(&json!({"meta_info": {"prompt_tokens": 3}}), 3).unwrap_err().contains("output_ids"));
    }

    #[test]
    fn completion_samples_by_index() {
        let v = json!({"choices": [
            {"index": 1, "token_ids": [5, 6], "finish_reason": "stop"},
            {"index": 0, "token_ids": [7], "finish_reason": "length"},
        ]});
        let s = samples(&v, 2).unwrap();
        assert_eq!((s[0].tokens.clone(), s[1].tokens.clone()), (vec![7], vec![5, 6]));
        let v = json!({"choices": [{"index": 0, "text": "x", "finish_reason": "length"}]});
        assert!(samples(&v, 1).unwrap_err().contains("return_token_ids"));
    }
}
