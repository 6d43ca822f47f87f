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
//! Engines are checked, not trusted: each response's `usage.prompt_tokens` must equal the
//! prompt's length, and a response without the generated token ids is an error naming the
//! cause. SGLang and OpenAI-compatible chat endpoints are not served yet (refused at start).

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Result, anyhow, bail};
use serde_json::{Value, json};

use super::{GenLine, Generative, Work};
use crate::model::generate::End;
use crate::score::remote::{Api, Client, Failure, Parts};
use crate::score::settings::{GenerationSpec, Verdict};

pub(crate) struct Served {
    endpoints: Vec<(Client, Api)>,
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
struct Sample {
    tokens: Vec<u32>,
    finish: String,
}

impl Served {
    pub(crate) fn new(p: &Parts, spec: &GenerationSpec) -> Result<Self> {
        for (c, api) in &p.endpoints {
            if !matches!(api, Api::VllmTokenIds | Api::PromptLogprobs) {
                bail!(
                    "--generate with --endpoint: {} answers through {api}; a reasoning judge is served by vLLM's /v1/completions only so far (score it here, without --endpoint)",
                    c.url
                );
            }
        }
        if spec.verdict == Verdict::Logprob && spec.stop.iter().any(|s| s == &spec.marker) {
            bail!("--stop {:?} is the answer marker: the logprob verdict reads the answer after it", spec.marker);
        }
        Ok(Served {
            endpoints: p.endpoints.clone(),
            model: p.model.clone(),
            answer: p.answer,
            concurrency: p.concurrency.max(1),
            max_len: p.max_len,
        })
    }

    pub(crate) fn describe(&self) -> String {
        let urls: Vec<&str> = self.endpoints.iter().map(|(c, _)| c.url.as_str()).collect();
        format!("generating with {:?} on {} (/v1/completions)", self.model, urls.join(", "))
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
            } else if ks.len() > 1 && ks.windows(2).all(|w| w[1] == w[0] + 1) {
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
        api: Api,
        (p, digest, _): &Work,
        r: &Request,
        who: (&str, &str),
    ) -> Result<Vec<GenLine>> {
        let what = || format!("{}: instance {} of run {}", c.url, who.0, who.1);
        let samples: Vec<Sample> = if g.reads_at_once(p) {
            r.ks.iter().map(|_| Sample { tokens: Vec::new(), finish: "marker".into() }).collect()
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
        if s.tokens.last().is_some_and(|t| g.eos.contains(t)) {
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
