//! The remote verifier: the same prompts as the local verifier (tokenizer, chat template and
//! `--max-tokens` truncation of `--model`), sent as token ids to inference engines users already
//! run (vLLM, SGLang), which answer with the two answer tokens' exact log-probabilities, or,
//! for a classification head served by vLLM's pooling runner, its label's probability
//! (`/classify`).
//! swerm keeps the prompts, the resumable score store, selection and metrics; the engines do
//! the forward passes, spread over as many `--endpoint`s as the user has.
//!
//! Decision (identity): endpoint scores are their own scorer, `engine: <served model>` in the
//! store's header, never mixed with the local forward's scores in one store (their dtype and
//! kernels are the engine's). The URLs are not part of it: replicas, machines and shards of one
//! served model give one scorer's scores, which merge.

mod api;
mod client;
mod pool;
mod probe;

use std::collections::HashMap;
use std::time::Duration;

use anyhow::{Result, bail};

pub(crate) use api::{Answer, Api, ApiChoice};
pub(crate) use client::{ApiKey, Client, Failure};
use pool::{Ask, Event, Job, Pool};

use super::settings::ScorerSettings;
use super::verifier::{Done, Judge, JudgeSettings, Name, Reading, prepare};
use super::{Produced, Scored, Scorer, SideStores, VerifierDetail};
use crate::input::Dataset;
use crate::prompt::{Prompt, Prompter};

/// Where and how to reach the engines (validated, clap-free).
#[derive(Clone, Debug)]
pub(crate) struct EngineSettings {
    pub(crate) endpoints: Vec<String>,
    pub(crate) served_model: Option<String>,
    pub(crate) api: ApiChoice,
    /// Requests in flight per endpoint.
    pub(crate) concurrency: usize,
    /// Tries after the first before an endpoint counts as dead.
    pub(crate) retries: u32,
    pub(crate) timeout: Duration,
    /// The first retry's wait; it doubles with each retry.
    pub(crate) backoff: Duration,
    /// Sent as `Authorization: Bearer` (never written or printed).
    pub(crate) api_key: Option<ApiKey>,
}

/// Replicas serving one model may differ in the last bits (batching, kernels, bf16); another
/// model differs by far more. Their logit differences on the probe must agree this closely.
const REPLICA_TOLERANCE: f64 = 0.1;

pub(crate) struct Remote {
    prompter: Prompter,
    endpoints: Vec<(Client, Api)>,
    ask: Ask,
    concurrency: usize,
    /// The smallest `max_model_len` the endpoints report.
    max_len: Option<usize>,
    /// Positions past the prompt the answer needs (1 for answer tokens, 0 for a head).
    reserve: usize,
    settings: ScorerSettings,
}

/// How to ask, decided by `--model`'s config.json (`Reading::of`, as the local scorer): a
/// classification head through `/classify` for its label (the index goes where answer tokens
/// go), a causal LM for its answer tokens through any other API.
fn ask_for(
    v: &JudgeSettings,
    e: &EngineSettings,
    ck: &crate::checkpoint::Checkpoint,
    prompter: &Prompter,
) -> Result<(ApiChoice, [u32; 2])> {
    let cfg = crate::model::ModelConfig::load(&ck.config)?;
    let classify = ApiChoice::Fixed(Api::Classify);
    match Reading::of(v, &cfg, prompter, &ck.name)? {
        Reading::Label(_, label) if e.api == ApiChoice::Auto || e.api == classify => Ok((classify, [label as u32; 2])),
        Reading::Label(..) => bail!(
            "--model {} is a classification head: its endpoints answer /classify (--endpoint-api classify, or auto)",
            ck.name
        ),
        Reading::Answers(_) if e.api == classify => bail!(
            "--endpoint-api classify: --model {} is not a classification head (its config names a causal LM)",
            ck.name
        ),
        Reading::Answers(answer) => Ok((e.api, answer)),
        Reading::MaxOf { .. } => bail!(
            "--preset swelego reads the maximum over six spellings of YES and of NO: the endpoints' APIs are asked for two answer tokens only, so score it here (without --endpoint), or give --answer-tokens YES,NO"
        ),
    }
}

impl Remote {
    /// Checks every endpoint (what it serves, its tokenizer, an API with exact answer
    /// log-probabilities, its answer on a known prompt) before anything is scored.
    pub(crate) fn connect(v: &JudgeSettings, e: &EngineSettings) -> Result<Self> {
        let ck = v.model.locate(false)?;
        let rope = v.prompt.rope_for(&ck);
        if rope != crate::checkpoint::RopeChoice::Config {
            bail!(
                "--rope-scaling {rope}: the endpoints run {} with the rope scaling they were started with, which swerm cannot set or check; start them with it (vLLM: --rope-scaling) and pass --rope-scaling config",
                ck.name
            );
        }
        let prompter = Prompter::new(&ck, &v.prompt)?;
        let (api_choice, answer) = ask_for(v, e, &ck, &prompter)?;
        let probe_ids = prompter.encode(probe::PROBE)?;
        let mut endpoints = Vec::new();
        let (mut one, mut first) = (OneModel::default(), None::<(String, f64)>);
        for url in &e.endpoints {
            let (c, served) = one.reach(e, url)?;
            if !probe::same_tokenizer(&c, &served.model, &probe_ids)? {
                crate::console::caution(
                    None,
                    &format!("{} offers no /tokenize; its tokenizer is not checked against --model", c.url),
                );
            }
            let (api, got) = probe::api(&c, &served, api_choice, &probe_ids, answer)?;
            let z = got.z();
            match &first {
                Some((u, z0)) if (z - z0).abs() > REPLICA_TOLERANCE => bail!(
                    "{} and {u} serve {:?} but answer a known prompt differently (logit difference {z:.4} vs {z0:.4}): they run different weights",
                    c.url,
                    served.model
                ),
                Some(_) => {}
                None => first = Some((c.url.clone(), z)),
            }
            endpoints.push((c, api));
        }
        let (Some(model), max_len) = (one.model, one.max_len) else { bail!("no --endpoint given") };
        let settings = v.identity(Some(&model), "engine")?;
        // A generative answer takes one position past the prompt; a classification does not.
        let reserve = usize::from(api_choice != ApiChoice::Fixed(Api::Classify));
        let ask = Ask { model, answer, retries: e.retries, backoff: e.backoff };
        Ok(Remote { prompter, endpoints, ask, concurrency: e.concurrency.max(1), max_len, reserve, settings })
    }

    /// What a reasoning judge served by these endpoints needs (`generative::served`): the
    /// prompter, each endpoint with the API that reads answers there, the served model's name,
    /// the answer tokens, requests in flight per endpoint, the endpoints' smallest
    /// `max_model_len`, and the scorer's identity.
    pub(crate) fn into_parts(self) -> Parts {
        Parts {
            prompter: self.prompter,
            endpoints: self.endpoints,
            model: self.ask.model,
            answer: self.ask.answer,
            concurrency: self.concurrency,
            max_len: self.max_len,
            settings: self.settings,
        }
    }

    /// Endpoints for a chat API (`--endpoint-api chat`: a reasoning judge whose verdict is
    /// parsed from text): each checked to serve one model (`/v1/models`, or `--served-model`);
    /// no answer-token probe (a chat API gives text). Its identity names the served model and
    /// the chat API (the server applies its own chat template).
    pub(crate) fn connect_chat(v: &JudgeSettings, e: &EngineSettings) -> Result<ChatParts> {
        let ck = v.model.locate(false)?;
        let prompter = Prompter::new(&ck, &v.prompt)?;
        let (mut clients, mut one) = (Vec::new(), OneModel::default());
        for url in &e.endpoints {
            clients.push(one.reach(e, url)?.0);
        }
        let (Some(model), max_len) = (one.model, one.max_len) else { bail!("no --endpoint given") };
        let settings = v.identity(Some(&format!("{model} (chat)")), "engine")?;
        Ok(ChatParts { prompter, clients, model, concurrency: e.concurrency.max(1), max_len, settings })
    }

    /// One line for people: which endpoints, which API.
    pub(crate) fn describe(&self) -> String {
        let each: Vec<String> = self.endpoints.iter().map(|(c, a)| format!("{} ({a})", c.url)).collect();
        format!("scoring {:?} on {}", self.ask.model, each.join(", "))
    }
}

/// What the endpoints reached so far serve: one model (the first's), and the smallest
/// `max_model_len` any of them reports.
#[derive(Default)]
struct OneModel {
    model: Option<String>,
    max_len: Option<usize>,
}

impl OneModel {
    /// A client for `url` and what its `/v1/models` says, refused when it serves another model
    /// than the endpoints before it.
    fn reach(&mut self, e: &EngineSettings, url: &str) -> Result<(Client, probe::Served)> {
        let c = Client::new(url, e.timeout, e.retries, e.backoff, e.api_key.clone())?;
        let served = probe::served(&c, e.served_model.as_deref())?;
        if let Some(m) = &self.model
            && *m != served.model
        {
            bail!(
                "{} serves {:?} but {} serves {m:?}: every --endpoint must serve one model",
                c.url,
                served.model,
                e.endpoints[0]
            );
        }
        self.max_len = match (self.max_len, served.max_len) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.model = Some(served.model.clone());
        Ok((c, served))
    }
}

/// A connected `Remote`, taken apart (`Remote::into_parts`).
pub(crate) struct Parts {
    pub(crate) prompter: Prompter,
    pub(crate) endpoints: Vec<(Client, Api)>,
    pub(crate) model: String,
    pub(crate) answer: [u32; 2],
    pub(crate) concurrency: usize,
    pub(crate) max_len: Option<usize>,
    pub(crate) settings: ScorerSettings,
}

/// Chat endpoints, connected (`Remote::connect_chat`).
pub(crate) struct ChatParts {
    pub(crate) prompter: Prompter,
    pub(crate) clients: Vec<Client>,
    pub(crate) model: String,
    pub(crate) concurrency: usize,
    pub(crate) max_len: Option<usize>,
    pub(crate) settings: ScorerSettings,
}

/// What is kept of a prompt while its request is in flight: what the verifier records of it.
type Sent = VerifierDetail;

impl Scorer for Remote {
    fn settings(&self) -> ScorerSettings {
        self.settings.clone()
    }

    fn resumable(&self) -> bool {
        true
    }

    fn score(&mut self, ds: &Dataset, todo: &[usize], _: &mut SideStores, done: Done) -> Result<Produced> {
        let pool = Pool::start(&self.endpoints, self.concurrency, &self.ask);
        let mut finished = 0;
        let r = self.drive(&pool, ds, todo, &mut |idx, s| {
            finished += 1;
            done(idx, s)
        });
        pool.stop();
        r.map_err(|e| left_unscored(e, todo.len() - finished, "candidate", "candidates"))?;
        Ok(Produced::default())
    }
}

impl Judge for Remote {
    fn prompter(&self) -> &Prompter {
        &self.prompter
    }

    fn judge(&mut self, prompts: Vec<(usize, Prompt)>, name: Name, done: Done) -> Result<()> {
        let pool = Pool::start(&self.endpoints, self.concurrency, &self.ask);
        let total = prompts.len();
        let mut finished = 0;
        let r = (|| {
            let mut sent = HashMap::new();
            let mut counting = |idx, s| {
                finished += 1;
                done(idx, s)
            };
            self.send(&pool, prompts, &mut sent, name, &mut counting)?;
            self.drain(&pool, &mut sent, name, &mut counting)
        })();
        pool.stop();
        r.map_err(|e| left_unscored(e, total - finished, "comparison", "comparisons"))
    }
}

/// Every endpoint stopped answering: what is saved is saved, and a rerun resumes.
#[derive(Debug)]
struct Gone(String);

impl std::fmt::Display for Gone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}; every --endpoint stopped answering; the scores finished so far are saved: rerun to resume",
            self.0
        )
    }
}

impl std::error::Error for Gone {}

/// `e` with how many of the call's items were left without an answer, when every endpoint
/// went away (the count of the whole call, not only of the requests in flight).
fn left_unscored(e: anyhow::Error, left: usize, one: &str, many: &str) -> anyhow::Error {
    match e.downcast_ref::<Gone>() {
        Some(_) => e.context(format!("{} left to score", crate::text::count(left, one, many))),
        None => e,
    }
}

impl Remote {
    fn drive(&self, pool: &Pool, ds: &Dataset, todo: &[usize], done: Done) -> Result<()> {
        let mut sent: HashMap<usize, Sent> = HashMap::new();
        let name = |idx: usize| {
            let (i, r) = ds.grid.coords(idx);
            format!("instance {} of run {}", ds.grid.instances[i], ds.grid.runs[r])
        };
        for chunk in todo.chunks(256) {
            let ready = prepare(&self.prompter, ds, chunk, done)?;
            self.send(pool, ready, &mut sent, &name, done)?;
        }
        self.drain(pool, &mut sent, &name, done)
    }

    /// Queues `ready`, receiving answers whenever enough are queued to keep every worker busy
    /// (few enough to bound memory); a prompt over the endpoints' context is an `error` for it.
    fn send(
        &self,
        pool: &Pool,
        ready: Vec<(usize, Prompt)>,
        sent: &mut HashMap<usize, Sent>,
        name: Name,
        done: Done,
    ) -> Result<()> {
        let cap = 2 * self.endpoints.len() * self.concurrency;
        for (idx, p) in ready {
            if let Some(m) = self.max_len.filter(|&m| p.ids.len() + self.reserve > m) {
                let msg = format!(
                    "the prompt has {} tokens and the endpoints take at most {m} (their max_model_len{}): pass --max-tokens {}",
                    p.ids.len(),
                    if self.reserve > 0 { ", one for the answer" } else { "" },
                    m - self.reserve
                );
                done(idx, Scored::new(None, VerifierDetail { error: Some(msg), ..Default::default() }))?;
                continue;
            }
            let answer_ids = Some(if self.reserve > 0 { self.ask.answer.to_vec() } else { vec![self.ask.answer[0]] });
            sent.insert(idx, VerifierDetail { answer_ids, ..VerifierDetail::of_prompt(&p) });
            pool.push(Job { idx, ids: p.ids });
            while pool.waiting() >= cap {
                self.receive(pool, sent, name, done)?;
            }
        }
        Ok(())
    }

    /// Closes the queue and receives every answer still out.
    fn drain(&self, pool: &Pool, sent: &mut HashMap<usize, Sent>, name: Name, done: Done) -> Result<()> {
        pool.close();
        while !sent.is_empty() {
            self.receive(pool, sent, name, done)?;
        }
        Ok(())
    }

    fn receive(&self, pool: &Pool, sent: &mut HashMap<usize, Sent>, name: Name, done: Done) -> Result<()> {
        match pool.events.recv() {
            Err(_) => Err(Gone("the work queue closed".into()).into()),
            Ok(Event::Done { idx, answer }) => {
                let base = sent.remove(&idx).expect("a result answers a prompt sent");
                let detail = match answer {
                    Answer::LogProbs(lp) => VerifierDetail { logit_yes: Some(lp[0]), logit_no: Some(lp[1]), ..base },
                    // The engine returns probabilities only: logit(p), the raw logit for a
                    // sigmoid head (for a softmax head, the logit of its share).
                    Answer::Label(_) => VerifierDetail { logit: Some(answer.z()), ..base },
                };
                done(idx, Scored::new(Some(answer.score()), detail))
            }
            Ok(Event::Refused { idx, msg }) => {
                let base = sent.remove(&idx).expect("a result answers a prompt sent");
                done(idx, Scored::new(None, VerifierDetail { error: Some(msg), ..base }))
            }
            Ok(Event::Fatal { idx, endpoint, msg }) => bail!("{endpoint}: {}: {msg}", name(idx)),
            Ok(Event::Dead { endpoint, reason }) => {
                if pool.alive() == 0 {
                    return Err(Gone(format!("{endpoint}: {reason}")).into());
                }
                crate::console::caution(
                    None,
                    &format!("{endpoint} stopped answering ({reason}); its work goes to the other endpoints"),
                );
                Ok(())
            }
        }
    }
}
