//! The LM verifier scorer: each candidate's prompt through the model, score = P(YES) =
//! sigmoid(l_yes - l_no) from the two answer-token logits at the last position
//! (docs/spec/verifiers.md), or, for a classification head, the probability of its label
//! (`--label`; `model::head`). Prompts are built in parallel, packed into `Batch`es of at
//! most `batch_tokens` tokens; an empty candidate scores 0 without a forward pass.

use anyhow::{Context, Result, bail};
use candle_core::{DType, Device};
use rayon::prelude::*;

use super::settings::{GenerationSpec, ScorerSettings, TemplateId, VerifierId};
use super::{Produced, Scored, Scorer, SideStores, VerifierDetail};
use crate::checkpoint::ModelRef;
use crate::input::Dataset;
use crate::input::issues::IssueSpec;
use crate::model::batch::{self, Batch, forward_splitting};
use crate::model::device::{DTypeSpec, DeviceSpec, dtype_name};
use crate::model::head::Classifier;
use crate::model::{Model, ModelConfig};
use crate::prompt::{Prompt, PromptSpec, Prompter, TooLong};

/// What a verifier judges with, and how it reads the answer (validated, clap-free): what its
/// scores depend on, the same whether the forward runs here (`LocalRun`) or on an engine.
#[derive(Clone, Debug)]
pub(crate) struct JudgeSettings {
    pub(crate) model: ModelRef,
    pub(crate) prompt: PromptSpec,
    /// (yes, no) answer strings (unused by a classification head).
    pub(crate) answers: (String, String),
    /// Whether `--answer-tokens` gave `answers`; if not, a checkpoint whose tokenizer adds
    /// `<YES>` and `<NO>` answers with those (`with_checkpoint_answers`).
    pub(crate) answers_given: bool,
    /// `--label`: the label of a classification head to score (default: `success`, else the
    /// first); refused for a causal checkpoint.
    pub(crate) label: Option<String>,
    /// `--dataset`: the issue statements prompts show (part of the scores' identity).
    pub(crate) issues: Option<IssueSpec>,
    /// `--generate`: the judge reasons before its verdict (`score::generative`).
    pub(crate) generation: Option<GenerationSpec>,
}

/// Where the local forward runs: the device, the dtype, the tokens of one forward pass.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LocalRun {
    pub(crate) batch_tokens: usize,
    pub(crate) device: DeviceSpec,
    pub(crate) dtype: DTypeSpec,
}

impl LocalRun {
    /// The device and dtype the verifier will run on.
    pub(crate) fn resolve(&self) -> Result<(Device, DType)> {
        let device = self.device.resolve()?;
        let dtype = self.dtype.resolve(&device);
        Ok((device, dtype))
    }
}

impl JudgeSettings {
    /// The identity of scores computed here in `dtype` (for the score store, checked before
    /// any weight is read).
    pub(crate) fn local_identity(&self, dtype: DType) -> Result<ScorerSettings> {
        self.identity(None, dtype_name(dtype))
    }

    /// SWE-RM's answers: notes say it answers with added tokens `<YES>` and `<NO>`
    /// (docs/spec/judges.md), so when `--answer-tokens` was not given and the checkpoint's
    /// tokenizer adds both, they are the answers, with a note on stderr; otherwise the settings
    /// as they are. Called before the scores' identity is taken, which holds the answers.
    pub(crate) fn with_checkpoint_answers(&self) -> Result<JudgeSettings> {
        if self.answers_given || self.prompt.pairwise.is_some() {
            return Ok(self.clone());
        }
        let ck = self.model.locate(false)?;
        if !ck.adds_tokens(&["<YES>", "<NO>"])? {
            return Ok(self.clone());
        }
        crate::console::note(&format!(
            "{}'s tokenizer adds <YES> and <NO>: they are the answers (--answer-tokens to choose others)",
            ck.name
        ));
        Ok(JudgeSettings { answers: ("<YES>".into(), "<NO>".into()), ..self.clone() })
    }

    /// The identity of scores computed in `dtype`, here (`engine: None`) or by an engine
    /// serving the model under the name `engine`.
    pub(crate) fn identity(&self, engine: Option<&str>, dtype: &str) -> Result<ScorerSettings> {
        let rope = self.prompt.rope_for(&self.model.locate(false)?);
        Ok(ScorerSettings::Verifier(VerifierId {
            model: self.model.name(),
            checkpoint: Some(self.model.digest()?),
            rope_scaling: (rope != crate::checkpoint::RopeChoice::Config).then(|| rope.to_string()),
            preset: self.prompt.preset,
            answers: [self.answers.0.clone(), self.answers.1.clone()],
            max_tokens: self.prompt.max_tokens,
            dtype: dtype.into(),
            engine: engine.map(str::to_string),
            dataset: self.issues.as_ref().map(IssueSpec::name),
            // A template that reads `dataset` depends on every field of its rows.
            dataset_rows: match &self.prompt.template {
                Some(t) if t.reads_dataset => self.issues.as_ref().map(IssueSpec::fields_digest).transpose()?,
                _ => self.issues.as_ref().map(IssueSpec::digest).transpose()?,
            },
            template: self
                .prompt
                .template
                .as_ref()
                .map(|t| TemplateId { path: t.path.display().to_string(), digest: t.digest.clone() }),
            label: self.label.clone(),
            pairwise: self.prompt.pairwise,
            generation: self.generation.clone(),
        }))
    }
}

/// The prompts of candidates `chunk`, built in parallel. An empty candidate scores 0 without a
/// forward pass, and one whose prompt cannot fit `--max-tokens` gets its error recorded (no
/// score: it ranks last), both through `done` at once; the rest are returned.
pub(crate) fn prepare(
    prompter: &Prompter,
    ds: &Dataset,
    chunk: &[usize],
    done: &mut dyn FnMut(usize, Scored) -> Result<()>,
) -> Result<Vec<(usize, Prompt)>> {
    let prompts: Vec<(usize, Result<Option<Prompt>>)> =
        chunk.par_iter().map(|&idx| (idx, prompter.for_candidate(ds, idx))).collect();
    let mut ready = Vec::new();
    for (idx, p) in prompts {
        match p {
            Ok(Some(p)) => ready.push((idx, p)),
            Ok(None) => {
                let detail = VerifierDetail { n_tokens: Some(0), truncated: Some(false), ..Default::default() };
                done(idx, Scored::new(Some(0.0), detail))?
            }
            Err(e) if e.downcast_ref::<TooLong>().is_some() => {
                let detail = VerifierDetail { error: Some(format!("{e:#}")), ..Default::default() };
                done(idx, Scored::new(None, detail))?
            }
            Err(e) => return Err(e),
        }
    }
    Ok(ready)
}

/// What a forward pass reads at each last position (an endpoint too: `remote`).
pub(super) enum Reading {
    /// The LM head's rows of the (yes, no) answer tokens: P(YES) = their softmax share.
    Answers([u32; 2]),
    /// Several spellings of each answer (swelego): l_yes and l_no are the maxima over the
    /// first tokens of each spelling (`yes` rows, then `no` rows), P(YES) their softmax share.
    MaxOf { yes: Vec<u32>, no: Vec<u32> },
    /// A classification head's label (its index), through the head's activation.
    Label(Classifier, usize),
}

impl Reading {
    /// What checkpoint `name` (its config `cfg`) is asked: a classification head its label
    /// (`--label`), a causal LM its answer tokens; refused: `--label` or `--preset chat` (which
    /// asks no question) for a causal LM.
    pub(super) fn of(s: &JudgeSettings, cfg: &ModelConfig, prompter: &Prompter, name: &str) -> Result<Self> {
        Ok(match &cfg.classifier {
            Some(_) if s.prompt.pairwise.is_some() => bail!(
                "--pairwise: {name} is a classification head; a pairwise judge needs a causal LM that answers A or B"
            ),
            Some(c) => {
                let label = c.pick(s.label.as_deref()).with_context(|| format!("--model {name}"))?;
                Reading::Label(c.clone(), label)
            }
            None if s.label.is_some() => {
                bail!("--label: {name} is not a classification head (its config names a causal LM)")
            }
            None if s.prompt.preset == crate::prompt::Preset::Chat => bail!(
                "--preset chat asks no question, so {name} (a causal LM) has nothing to answer YES/NO to: use it with a classification head"
            ),
            None if s.prompt.preset == crate::prompt::Preset::SweLego && !s.answers_given => {
                let (yes, no) = crate::prompt::swelego::ANSWERS;
                Reading::MaxOf { yes: prompter.first_token_ids(&yes)?, no: prompter.first_token_ids(&no)? }
            }
            None => Reading::Answers(prompter.answer_ids(&s.answers.0, &s.answers.1)?),
        })
    }

    pub(super) fn rows(&self) -> Vec<u32> {
        match self {
            Reading::Answers(a) => a.to_vec(),
            Reading::MaxOf { yes, no } => yes.iter().chain(no).copied().collect(),
            Reading::Label(c, label) => c.rows(*label),
        }
    }

    /// The score and the logits a store keeps, from the logits of `rows()`.
    pub(super) fn score(&self, logits: &[f32]) -> (f64, VerifierDetail) {
        match self {
            Reading::Answers(_) => {
                let l = [logits[0], logits[1]];
                let d =
                    VerifierDetail { logit_yes: Some(l[0] as f64), logit_no: Some(l[1] as f64), ..Default::default() };
                (p_yes(l), d)
            }
            Reading::MaxOf { yes, .. } => {
                let max = |l: &[f32]| l.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let l = [max(&logits[..yes.len()]), max(&logits[yes.len()..])];
                let d =
                    VerifierDetail { logit_yes: Some(l[0] as f64), logit_no: Some(l[1] as f64), ..Default::default() };
                (p_yes(l), d)
            }
            Reading::Label(c, label) => {
                let (p, z) = c.probability(*label, logits);
                (p, VerifierDetail { logit: Some(z), ..Default::default() })
            }
        }
    }
}

pub(crate) struct Verifier {
    model: Model,
    prompter: Prompter,
    reading: Reading,
    /// Token budget of one forward pass.
    batch_tokens: usize,
    settings: ScorerSettings,
    /// `--rope-scaling` when the forward does not follow config.json (recorded per score).
    rope: Option<String>,
}

impl Verifier {
    /// Loads the checkpoint on the device `LocalRun::resolve` chose.
    pub fn load(
        s: &JudgeSettings,
        run: &LocalRun,
        device: &Device,
        dtype: DType,
        settings: ScorerSettings,
    ) -> Result<Self> {
        let l = Loaded::load(s, device, dtype)?;
        let (model, prompter, reading, rope) = (l.model, l.prompter, l.reading, l.rope);
        Ok(Verifier { model, prompter, reading, batch_tokens: run.batch_tokens.max(1), settings, rope })
    }
}

/// A checkpoint loaded for judging: the model, its prompter, what it reads, the rope choice.
pub(super) struct Loaded {
    pub(super) ck: crate::checkpoint::Checkpoint,
    pub(super) model: Model,
    pub(super) prompter: Prompter,
    pub(super) reading: Reading,
    /// `--rope-scaling` when the forward does not follow config.json.
    pub(super) rope: Option<String>,
}

impl Loaded {
    pub(super) fn load(s: &JudgeSettings, device: &Device, dtype: DType) -> Result<Self> {
        let ck = s.model.locate(true)?;
        let mut cfg = ModelConfig::load(&ck.config)?;
        let choice = s.prompt.rope_for(&ck);
        cfg.rope_scaling = crate::model::rope::resolve(choice, cfg.rope_scaling, cfg.max_positions);
        let rope = (choice != crate::checkpoint::RopeChoice::Config).then(|| choice.to_string());
        let prompter = Prompter::new(&ck, &s.prompt)?;
        let reading = Reading::of(s, &cfg, &prompter, &ck.name)?;
        let model = Model::load(cfg, &ck.weights, dtype, device).with_context(|| format!("--model {}", ck.name))?;
        Ok(Loaded { ck, model, prompter, reading, rope })
    }
}

/// P(YES) from the two logits, in f64.
pub(crate) fn p_yes(l: [f32; 2]) -> f64 {
    crate::prob::p_yes([l[0] as f64, l[1] as f64])
}

impl Scorer for Verifier {
    fn settings(&self) -> ScorerSettings {
        self.settings.clone()
    }

    fn resumable(&self) -> bool {
        true
    }

    fn score(&mut self, ds: &Dataset, todo: &[usize], _: &mut SideStores, done: Done) -> Result<Produced> {
        // Prompts for a window of candidates at a time (bounded memory), built in parallel.
        for chunk in todo.chunks(256) {
            let ready = prepare(&self.prompter, ds, chunk, done)?;
            self.judge(ready, &|_| String::new(), done)?;
        }
        Ok(Produced::default())
    }
}

impl Judge for Verifier {
    fn prompter(&self) -> &Prompter {
        &self.prompter
    }

    fn judge(&mut self, prompts: Vec<(usize, Prompt)>, _name: Name, done: Done) -> Result<()> {
        let lens: Vec<usize> = prompts.iter().map(|(_, p)| p.ids.len()).collect();
        for range in batch::pack(&lens, self.batch_tokens) {
            self.run_batch(&prompts[range], done)?;
        }
        Ok(())
    }
}

/// A forward pass over ready prompts, here or on the endpoints: what the pointwise verifier
/// runs per candidate and the pairwise judge per comparison (`pairwise`).
pub(crate) trait Judge {
    /// The prompts' builder (tokenizer, chat template, `--max-tokens`).
    fn prompter(&self) -> &Prompter;

    /// Judges `prompts` (each under a caller's key), calling `done` with each one's result:
    /// the first answer's share as the score and both logits (`logit_yes`, `logit_no`), or an
    /// `error` when an endpoint cannot take the prompt. `name` says what a key is in messages.
    fn judge(&mut self, prompts: Vec<(usize, Prompt)>, name: Name, done: Done) -> Result<()>;
}

/// What a key of [`Judge::judge`] is, in words (`instance X of run R`).
pub(crate) type Name<'a> = &'a (dyn Fn(usize) -> String + Sync);
/// Where [`Judge::judge`] hands each result.
pub(crate) use super::Done;

impl Verifier {
    fn run_batch(&self, prompts: &[(usize, Prompt)], done: &mut dyn FnMut(usize, Scored) -> Result<()>) -> Result<()> {
        let seqs: Vec<&[u32]> = prompts.iter().map(|(_, p)| p.ids.as_slice()).collect();
        let rows = self.reading.rows();
        let logits = forward_splitting(&Batch::new(&seqs), &mut |b| self.model.last_logits(b, &rows))?;
        for ((idx, p), l) in prompts.iter().zip(logits) {
            let (score, logits) = self.reading.score(&l);
            let detail = VerifierDetail {
                logit_yes: logits.logit_yes,
                logit_no: logits.logit_no,
                logit: logits.logit,
                answer_ids: Some(rows.clone()),
                rope_scaling: self.rope.clone(),
                ..VerifierDetail::of_prompt(p)
            };
            done(*idx, Scored::new(Some(score), detail))?;
        }
        Ok(())
    }
}
