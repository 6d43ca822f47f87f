//! The reasoning judge (`--generate`): each candidate's prompt is decoded by the local model
//! (`model::generate`: a KV cache, several candidates and samples at once), `--samples K` times,
//! and each sample's verdict is read (`--verdict`): `logprob`, P(YES) over the answer tokens at
//! the position right after the answer marker (a prompt that already ends with it reads them at
//! once, exactly as the prefill verifier does); or `parse`, a value read from the text after the
//! reasoning (`verdict`). The score is the mean of the valid verdicts; a candidate with none is
//! unscored with reason `no_verdict`.
//!
//! Every sample is appended to generations.jsonl as it is produced (`store`) and reused on
//! resume when its prompt is the same. Each sample draws from its own generator, seeded by
//! `--seed`, the prompt's token ids and the sample's index, never by run names or the order of
//! the work: a resumed, re-batched or sharded run draws the same samples.

mod served;
pub(crate) mod store;
pub(crate) mod verdict;

use std::time::Instant;

use anyhow::{Result, bail};
use candle_core::{DType, Device};

use super::settings::{GenerationSpec, ScorerSettings, Verdict};
use super::verifier::{JudgeSettings, Loaded, LocalRun, Reading, prepare};
use super::{Done, Produced, Scored, Scorer, SideStores, VerifierDetail, ids_digest};
use crate::input::Dataset;
use crate::model::Model;
use crate::model::batch::pack;
use crate::model::generate::{End, Next, Sampling, generate};
use crate::prompt::{Prompt, Prompter};
use crate::rng::SplitMix64;
use store::GenLine;

/// What a reasoning run cost and produced beyond the scores (summary, report.json).
#[derive(Clone, Debug, Default)]
pub(crate) struct GenCost {
    /// Samples generated now, and reused from generations.jsonl.
    pub(crate) samples_now: usize,
    pub(crate) samples_reused: usize,
    /// Samples (now or reused) with no verdict.
    pub(crate) invalid: usize,
    /// Tokens generated now.
    pub(crate) tokens: u64,
    /// Seconds spent in prefill and decoding.
    pub(crate) secs: f64,
    /// Earlier samples of other candidates the store keeps.
    pub(crate) kept: usize,
}

/// This run's samples (for the final rewrite of generations.jsonl) and its cost.
#[derive(Default)]
pub(crate) struct GenOutcome {
    pub(crate) lines: Vec<GenLine>,
    pub(crate) cost: GenCost,
}

/// Where the samples are written: the local model, or the endpoints (`served`).
enum Writer {
    Local(Box<Model>),
    Served(served::Served),
}

pub(crate) struct Generative {
    writer: Writer,
    prompter: Prompter,
    reading: Reading,
    spec: GenerationSpec,
    settings: ScorerSettings,
    batch_tokens: usize,
    eos: Vec<u32>,
    rope: Option<String>,
}

impl Generative {
    pub(crate) fn load(
        s: &JudgeSettings,
        run: &LocalRun,
        device: &Device,
        dtype: DType,
        settings: ScorerSettings,
    ) -> Result<Self> {
        let Some(spec) = s.generation.clone() else { bail!("a reasoning judge needs --generate") };
        let l = Loaded::load(s, device, dtype)?;
        if let Reading::Label(..) = l.reading {
            bail!("--generate: --model {} is a classification head, which has no LM head to write with", l.ck.name);
        }
        let eos = l.ck.eos_ids()?;
        Ok(Generative {
            writer: Writer::Local(Box::new(l.model)),
            prompter: l.prompter,
            reading: l.reading,
            spec,
            settings,
            batch_tokens: run.batch_tokens.max(1),
            eos,
            rope: l.rope,
        })
    }

    /// The same judge on inference engines (`--endpoint`): their completions write the samples
    /// (`served`); the answer after the marker is read there too, by the API the probe chose.
    pub(crate) fn served(s: &JudgeSettings, e: &crate::score::remote::EngineSettings) -> Result<Self> {
        use crate::score::remote::{ApiChoice, Remote};
        let Some(spec) = s.generation.clone() else { bail!("a reasoning judge needs --generate") };
        let ck = s.model.locate(false)?;
        let (writer, prompter, answer, settings) = if e.api == ApiChoice::Chat {
            let parts = Remote::connect_chat(s, e)?;
            (served::Served::chat(&parts), parts.prompter, [0, 0], parts.settings)
        } else {
            let parts = Remote::connect(s, e)?.into_parts();
            (served::Served::new(&parts, &spec)?, parts.prompter, parts.answer, parts.settings)
        };
        crate::console::info(&writer.describe());
        Ok(Generative {
            writer: Writer::Served(writer),
            prompter,
            reading: Reading::Answers(answer),
            spec,
            settings,
            // The engines batch for themselves: a chunk's prompts go out together.
            batch_tokens: usize::MAX,
            eos: ck.eos_ids()?,
            rope: None,
        })
    }

    /// The generator of sample `k` of a prompt (`digest`: its token ids').
    fn rng(&self, digest: &str, k: usize) -> SplitMix64 {
        let d = u64::from_str_radix(digest.trim_start_matches("sha256:"), 16).unwrap_or(0);
        let seed = self.spec.seed.unwrap_or(0);
        SplitMix64(crate::hash::mix(seed ^ crate::hash::mix(d ^ (k as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))))
    }

    /// What to do after each token: stop at a `--stop` string; with the logprob verdict, read
    /// the answer when the text reaches the marker (a marker fused with the next token into one
    /// token cannot be read there: the sample stops, without a verdict).
    fn next(&self, tokens: &[u32]) -> Next {
        let longest = self.spec.stop.iter().map(String::len).chain([self.spec.marker.len()]).max().unwrap_or(0);
        // Every token is at least one byte: the last `longest + 1` tokens hold any new match.
        let tail = self.prompter.decode(&tokens[tokens.len().saturating_sub(longest + 1)..]).unwrap_or_default();
        if self.spec.stop.iter().any(|s| tail.contains(s.as_str())) {
            return Next::Stop;
        }
        if self.spec.verdict == Verdict::Logprob {
            if tail.ends_with(self.spec.marker.as_str()) {
                return Next::Answer;
            }
            if tail.contains(self.spec.marker.as_str()) {
                return Next::Stop;
            }
        }
        Next::Continue
    }

    /// Generates the `pending` samples of `work`'s prompts (one batch), here or on the
    /// endpoints; returns the lines in `work` order.
    fn run(&self, work: &[Work], labels: &[(&str, &str)]) -> Result<Vec<GenLine>> {
        match &self.writer {
            Writer::Local(model) => self.run_local(model, work, labels),
            Writer::Served(s) => s.run(self, work, labels),
        }
    }

    fn run_local(&self, model: &Model, work: &[Work], labels: &[(&str, &str)]) -> Result<Vec<GenLine>> {
        let prompts: Vec<&[u32]> = work.iter().map(|(p, _, _)| p.ids.as_slice()).collect();
        let copies: Vec<usize> = work.iter().map(|(_, _, k)| k.len()).collect();
        let now: Vec<bool> = work.iter().map(|(p, _, _)| self.reads_at_once(p)).collect();
        let mut rngs: Vec<SplitMix64> = work.iter().flat_map(|(_, d, ks)| ks.iter().map(|&k| self.rng(d, k))).collect();
        let sampling =
            Sampling { max_new: self.spec.max_new, temperature: self.spec.temperature, top_p: self.spec.top_p };
        let rows = self.reading.rows();
        let got =
            generate(model, &prompts, &copies, &now, &sampling, &mut rngs, &self.eos, &rows, &mut |_, t| self.next(t))?;
        let mut lines = Vec::with_capacity(got.len());
        let mut g = got.into_iter();
        for ((_, digest, ks), who) in work.iter().zip(labels) {
            for &k in ks {
                let s = g.next().expect("one generation per sample");
                let answer = s.answer.as_ref().map(|a| {
                    let (p, d) = self.reading.score(a);
                    (p, d.logit_yes.zip(d.logit_no).map(|(y, n)| [y, n]))
                });
                lines.push(self.line(*who, k, digest, s.tokens, s.end, answer)?);
            }
        }
        Ok(lines)
    }

    /// Whether a prompt's verdict is read at once: the logprob verdict, and the prompt already
    /// ends with the marker (swegym's `<judgement>`).
    fn reads_at_once(&self, p: &Prompt) -> bool {
        self.spec.verdict == Verdict::Logprob && p.text.ends_with(self.spec.marker.as_str())
    }

    /// Sample `k`'s line: its text (without a final end-of-sequence token), its verdict (the
    /// answer read after the marker, `answer`: P(YES) and the two logits; or the text parsed).
    fn line(
        &self,
        (iid, run): (&str, &str),
        k: usize,
        digest: &str,
        tokens: Vec<u32>,
        end: End,
        answer: Option<(f64, Option<[f64; 2]>)>,
    ) -> Result<GenLine> {
        let shown: &[u32] = match tokens.last() {
            Some(t) if end == End::Eos && self.eos.contains(t) => &tokens[..tokens.len() - 1],
            _ => &tokens,
        };
        let text = self.prompter.decode(shown)?;
        let (verdict, logits) = match (self.spec.verdict, answer) {
            (Verdict::Logprob, Some((p, l))) => (Some(p), l),
            (Verdict::Logprob, None) => (None, None),
            (Verdict::Parse, _) => (verdict::parse(&text), None),
        };
        let end = match end {
            End::Eos => "eos",
            End::Stop => "stop",
            End::Marker => "marker",
            End::Length => "length",
        };
        Ok(GenLine::new(
            iid,
            run,
            k,
            text,
            tokens,
            end,
            (self.spec.seed, self.spec.temperature),
            verdict,
            logits,
            digest.to_string(),
        ))
    }
}

/// One prompt's share of a batch: the prompt, its ids' digest, the samples still to draw.
pub(crate) type Work<'a> = (&'a Prompt, String, Vec<usize>);

impl Scorer for Generative {
    fn settings(&self) -> ScorerSettings {
        self.settings.clone()
    }

    fn resumable(&self) -> bool {
        true
    }

    fn score(&mut self, ds: &Dataset, todo: &[usize], side: &mut SideStores, done: Done) -> Result<Produced> {
        let Some(st) = side.generations.as_mut() else { bail!("a reasoning judge needs generations.jsonl open") };
        let started = Instant::now();
        let k_all = self.spec.samples;
        let mut out = GenOutcome::default();
        for chunk in todo.chunks(64) {
            let ready = prepare(&self.prompter, ds, chunk, done)?;
            // Per candidate: its samples reused (same prompt), and the ones still to draw.
            let mut have: Vec<Vec<Option<GenLine>>> = Vec::with_capacity(ready.len());
            let mut digests = Vec::with_capacity(ready.len());
            for (idx, p) in &ready {
                let (i, r) = ds.grid.coords(*idx);
                let (iid, run) = (&ds.grid.instances[i], &ds.grid.runs[r]);
                let d = ids_digest(&p.ids);
                let reuse: Vec<Option<GenLine>> = (0..k_all)
                    .map(|k| Ok(st.stored((iid, run, &k.to_string()))?.filter(|l| l.prompt_ids == d)))
                    .collect::<Result<_>>()?;
                out.cost.samples_reused += reuse.iter().flatten().count();
                // Reused samples are this run's too (the store's final rewrite keeps them as such).
                out.lines.extend(reuse.iter().flatten().cloned());
                have.push(reuse);
                digests.push(d);
            }
            // Decode batches: prompts packed by their tokens and their samples' share of the
            // budget (each sample holds its own cache).
            let pending: Vec<usize> = (0..ready.len()).filter(|&j| have[j].iter().any(Option::is_none)).collect();
            let lens: Vec<usize> = pending
                .iter()
                .map(|&j| ready[j].1.ids.len() * have[j].iter().filter(|l| l.is_none()).count())
                .collect();
            for range in pack(&lens, self.batch_tokens) {
                let js = &pending[range];
                let work: Vec<Work> = js
                    .iter()
                    .map(|&j| {
                        let ks = (0..k_all).filter(|&k| have[j][k].is_none()).collect();
                        (&ready[j].1, digests[j].clone(), ks)
                    })
                    .collect();
                let labels: Vec<(&str, &str)> = js
                    .iter()
                    .map(|&j| {
                        let (i, r) = ds.grid.coords(ready[j].0);
                        (ds.grid.instances[i].as_str(), ds.grid.runs[r].as_str())
                    })
                    .collect();
                // The lines come in `work` order: each candidate's pending samples in turn.
                let mut lines = self.run(&work, &labels)?.into_iter();
                for (&j, (_, _, ks)) in js.iter().zip(&work) {
                    for &k in ks {
                        let line = lines.next().expect("a line per pending sample");
                        st.append(&line)?;
                        out.cost.samples_now += 1;
                        out.cost.tokens += line.tokens.len() as u64;
                        out.lines.push(line.clone());
                        have[j][k] = Some(line);
                    }
                }
            }
            // Every candidate of the chunk now has its samples: its score.
            for (j, (idx, p)) in ready.iter().enumerate() {
                let lines: Vec<&GenLine> = have[j].iter().flatten().collect();
                anyhow::ensure!(lines.len() == k_all, "candidate {idx}: {} of {k_all} samples", lines.len());
                let valid: Vec<f64> = lines.iter().filter_map(|l| l.verdict).collect();
                let invalid = lines.len() - valid.len();
                out.cost.invalid += invalid;
                let generated: usize = lines.iter().map(|l| l.tokens.len()).sum();
                let mut detail = VerifierDetail {
                    samples: Some(lines.len()),
                    invalid_samples: Some(invalid),
                    generated_tokens: Some(generated),
                    rope_scaling: self.rope.clone(),
                    answer_ids: (self.spec.verdict == Verdict::Logprob).then(|| self.reading.rows()),
                    ..VerifierDetail::of_prompt(p)
                };
                let score = if valid.is_empty() {
                    detail.error = Some(format!(
                        "no_verdict: none of its {} gave a verdict ({})",
                        crate::text::count(lines.len(), "sample", "samples"),
                        match self.spec.verdict {
                            Verdict::Logprob => format!("no sample wrote the answer marker {:?}", self.spec.marker),
                            Verdict::Parse => "no reward/score JSON or YES/NO after the reasoning".to_string(),
                        }
                    ));
                    None
                } else {
                    // The logits of a lone logprob sample are the candidate's.
                    if let [l] = lines.as_slice() {
                        detail.logit_yes = l.logit_yes;
                        detail.logit_no = l.logit_no;
                    }
                    Some(valid.iter().sum::<f64>() / valid.len() as f64)
                };
                done(*idx, Scored::new(score, detail))?;
            }
        }
        st.sync()?;
        out.cost.secs = started.elapsed().as_secs_f64();
        Ok(Produced { generation: Some(out), ..Produced::default() })
    }
}
