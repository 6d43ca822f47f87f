//! Verifier prompts: a candidate's trajectory (or its patch alone) -> the exact text and token
//! ids the model reads, per preset (`swegym`, `r2egym`, `chat`), rendered with the checkpoint's own
//! chat template, with the preset's truncation policy under `--max-tokens`. Trajectories come
//! from `input::trajectory` as plain data.

mod chat;
pub(crate) mod pairwise;
pub mod r2egym;
pub mod swegym;
pub mod template;

use anyhow::{Context, Result, anyhow, bail};
use serde::{Deserialize, Serialize};
use tokenizers::Tokenizer;

use crate::checkpoint::{Checkpoint, ModelRef};
use crate::input::Dataset;
use crate::input::trajectory::{Message, Trajectory};
use template::ChatTemplate;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Preset {
    #[serde(rename = "swegym")]
    SweGym,
    #[serde(rename = "r2egym")]
    R2EGym,
    /// The conversation itself, for classification heads (`chat.rs`).
    #[serde(rename = "chat")]
    Chat,
}

impl std::str::FromStr for Preset {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "swegym" => Ok(Preset::SweGym),
            "r2egym" => Ok(Preset::R2EGym),
            "chat" => Ok(Preset::Chat),
            _ => Err(format!("{s:?}: expected swegym, r2egym or chat")),
        }
    }
}

impl Preset {
    /// The answer strings the preset's checkpoints were trained on.
    pub(crate) fn default_answers(self) -> (&'static str, &'static str) {
        match self {
            Preset::SweGym => (" YES", " NO"),
            // Chat asks no question (a classification head reads it); the pair is unused.
            Preset::R2EGym | Preset::Chat => ("YES", "NO"),
        }
    }
}

/// A prompt ready for the model.
#[derive(Clone, Debug)]
pub(crate) struct Prompt {
    pub(crate) text: String,
    pub(crate) ids: Vec<u32>,
    /// Whether the preset's truncation policy shortened it.
    pub(crate) truncated: bool,
    /// False when the candidate had no trajectory and was judged from its patch alone.
    pub(crate) has_trajectory: bool,
}

pub(crate) struct Prompter {
    pub(crate) preset: Preset,
    template: ChatTemplate,
    tokenizer: Tokenizer,
    pub(crate) max_tokens: Option<usize>,
}

/// The stand-in conversation for a candidate without a trajectory: the issue as the task,
/// when `--dataset` gives it, then its patch as the agent's final answer.
fn patch_only(issue: Option<&str>, patch: &str) -> Vec<Message> {
    let note = "(No trajectory was recorded for this attempt; the assistant's final patch follows.)";
    match issue {
        Some(issue) => vec![Message::new("user", issue), Message::new("user", note), Message::new("assistant", patch)],
        None => vec![Message::new("user", note), Message::new("assistant", patch)],
    }
}

/// What a prompt is, validated once when the settings are built: the preset and the token
/// limit. `--max-tokens` is checked here and nowhere else.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PromptSpec {
    pub(crate) preset: Preset,
    /// `--max-tokens` (at least [`PromptSpec::MIN_MAX_TOKENS`]); `None`: the model's context.
    pub(crate) max_tokens: Option<usize>,
    /// `--pairwise`: prompts judge two candidates at once (`pairwise`), and the tournament.
    pub(crate) pairwise: Option<pairwise::PairwiseId>,
}

impl PromptSpec {
    /// Below this no preset fits its frame (instructions, issue, answer cue).
    pub(crate) const MIN_MAX_TOKENS: usize = 64;

    pub(crate) fn new(
        preset: Preset,
        max_tokens: Option<usize>,
        pairwise: Option<pairwise::PairwiseId>,
    ) -> Result<PromptSpec> {
        if max_tokens.is_some_and(|m| m < Self::MIN_MAX_TOKENS) {
            bail!("--max-tokens must be at least {}", Self::MIN_MAX_TOKENS);
        }
        if pairwise.is_some() && preset != Preset::SweGym {
            bail!("--pairwise has its own prompt (an issue and two attempts): --preset does not apply to it");
        }
        Ok(PromptSpec { preset, max_tokens, pairwise })
    }
}

impl Prompter {
    /// A prompter for a checkpoint: its tokenizer and chat template only (no weights are read).
    pub(crate) fn for_model(model: &ModelRef, spec: PromptSpec) -> Result<Self> {
        Prompter::new(&model.locate(false)?, spec)
    }

    /// The prompt of candidate `idx` of `ds` (`None` for an empty candidate, which is never
    /// shown to a model).
    pub(crate) fn for_candidate(&self, ds: &Dataset, idx: usize) -> Result<Option<Prompt>> {
        let c = &ds.cands[idx];
        if c.is_empty() {
            return Ok(None);
        }
        let (i, r) = ds.grid.coords(idx);
        let traj = match (&c.source, c.format) {
            (Some(src), Some(fmt)) => crate::input::reread::trajectory(src, fmt)?,
            _ => None,
        };
        // `--dataset`: the issue for a candidate without a trajectory, or whose trajectory does
        // not say it.
        let (traj, issue) = match (traj, ds.issue(i)) {
            (Some(mut t), Some(issue)) if t.problem_statement.is_none() => {
                t.problem_statement = Some(issue.to_string());
                (Some(t), None)
            }
            (None, issue) => (None, issue),
            (t, _) => (t, None),
        };
        self.build(traj.as_ref(), c.patch.as_deref().unwrap_or(""), issue)
            .map(Some)
            .with_context(|| format!("instance {} of run {}", ds.grid.instances[i], ds.grid.runs[r]))
    }

    pub(crate) fn new(ck: &Checkpoint, spec: PromptSpec) -> Result<Self> {
        let tokenizer = &ck.tokenizer;
        let tok = Tokenizer::from_file(tokenizer)
            .map_err(|e| anyhow!("{}: cannot load the tokenizer: {e}", tokenizer.display()))?;
        let max_tokens = context_limit(spec.max_tokens, ck.max_positions());
        Ok(Prompter {
            preset: spec.preset,
            template: ChatTemplate::from_tokenizer_config(&ck.tokenizer_config, ck.chat_template.as_deref())?,
            tokenizer: tok,
            max_tokens,
        })
    }

    pub(crate) fn encode(&self, text: &str) -> Result<Vec<u32>> {
        Ok(self.tokenizer.encode(text, false).map_err(|e| anyhow!("tokenizing: {e}"))?.get_ids().to_vec())
    }

    /// Token ids of the (yes, no) answer strings; each must be exactly one token.
    pub(crate) fn answer_ids(&self, yes: &str, no: &str) -> Result<[u32; 2]> {
        let one = |s: &str| -> Result<u32> {
            match self.encode(s)?.as_slice() {
                [id] => Ok(*id),
                ids => bail!(
                    "answer token {s:?} is {} tokens in this tokenizer ({ids:?}); --answer-tokens needs single tokens",
                    ids.len()
                ),
            }
        };
        Ok([one(yes)?, one(no)?])
    }

    /// The untruncated prompt text.
    fn render(&self, j: &Judged, condensed_user: Option<&str>) -> Result<String> {
        let (traj, patch) = (j.traj, j.patch);
        match self.preset {
            Preset::SweGym => {
                let msgs = match traj {
                    Some(t) if !t.messages.is_empty() => t.messages.clone(),
                    _ => patch_only(j.issue, patch),
                };
                let log = swegym::strip_icl(&swegym::format_traj(&msgs));
                let user = swegym::user_message(&log);
                let text = self
                    .template
                    .render(&[("system", swegym::SYSTEM), ("user", &user), ("assistant", "<judgement>")], false)?;
                // Cut right after the last `<judgement>`: the model's next token is the answer.
                let cut = text.rfind("<judgement>").ok_or_else(|| {
                    anyhow!(
                        "the chat template dropped the assistant's `<judgement>` prefix; cannot build a swegym prompt"
                    )
                })?;
                Ok(text[..cut + "<judgement>".len()].to_string())
            }
            Preset::Chat => unreachable!("build() renders chat prompts in chat.rs"),
            Preset::R2EGym => {
                let user = match condensed_user {
                    Some(u) => u.to_string(),
                    None => self.r2egym_user(j),
                };
                let text = self.template.render(&[("system", swegym::SYSTEM), ("user", &user)], true)?;
                Ok(text + "<judgement>")
            }
        }
    }

    fn r2egym_user(&self, j: &Judged) -> String {
        let steps = j.traj.map(|t| r2egym::steps_from_messages(&t.messages)).unwrap_or_default();
        r2egym::user_message(j.problem().unwrap_or_default(), &steps, j.patch)
    }

    /// Builds the prompt. Over `max_tokens`, `r2egym` first condenses the longest thoughts
    /// (R2E-Gym's policy). If the prompt is still too long (and always for `swegym`, whose only
    /// policy was to train under 32k tokens), the middle of the interaction log is cut: the
    /// start through the issue statement and the end (for `r2egym` the final patch, for both
    /// the closing question and the `<judgement>` prefix) are kept whole, then as much of the
    /// end of the trajectory as fits, behind a visible marker saying how much was removed.
    /// Decision: a prompt that cannot keep the issue statement and that end within the budget
    /// is a `TooLong` error for its candidate (recorded in the scores), never a silent cut.
    ///
    /// `issue` (from `--dataset`) is shown for a candidate without a trajectory (`traj: None`).
    pub(crate) fn build(&self, traj: Option<&Trajectory>, patch: &str, issue: Option<&str>) -> Result<Prompt> {
        if self.preset == Preset::Chat {
            return self.build_chat(traj, patch, issue);
        }
        let j = Judged { traj, patch, issue: if traj.is_none() { issue } else { None } };
        let has_trajectory = traj.is_some_and(|t| !t.messages.is_empty());
        let mut text = self.render(&j, None)?;
        let mut ids = self.encode(&text)?;
        let Some(max) = self.max_tokens.filter(|&m| ids.len() > m) else {
            return Ok(Prompt { text, ids, truncated: false, has_trajectory });
        };
        if self.preset == Preset::R2EGym {
            let mut user = self.r2egym_user(&j);
            while ids.len() > max {
                match r2egym::condense_once(&user) {
                    Some(u) => user = u,
                    None => break,
                }
                text = self.render(&j, Some(&user))?;
                ids = self.encode(&text)?;
            }
        }
        if ids.len() > max {
            (text, ids) = self.cut_middle(&text, j.problem(), max)?;
        }
        Ok(Prompt { text, ids, truncated: true, has_trajectory })
    }

    /// Keeps `text` up to the end of the issue statement and from the end of the interaction
    /// log on, and the last tokens of what lies between that fit in `max`, after a marker.
    fn cut_middle(&self, text: &str, problem: Option<&str>, max: usize) -> Result<(String, Vec<u32>)> {
        let log_start = text.find(LOG_START).map_or(0, |i| i + LOG_START.len());
        let head_end = problem
            .filter(|p| !p.trim().is_empty())
            .and_then(|p| text[log_start..].find(p).map(|i| log_start + i + p.len()))
            .unwrap_or(log_start);
        let tail_start = text.rfind(LOG_END).filter(|&i| i >= head_end).unwrap_or(text.len());
        let (head, middle, tail) = (&text[..head_end], &text[head_end..tail_start], &text[tail_start..]);
        let fixed = self.encode(head)?.len() + self.encode(tail)?.len() + self.encode(&marker(99_999_999, max))?.len();
        if fixed > max {
            return Err(TooLong { need: fixed, max }.into());
        }
        let mid = self.encode(middle)?;
        let mut keep = (max - fixed).min(mid.len());
        loop {
            let kept = self.tokenizer.decode(&mid[mid.len() - keep..], false).map_err(|e| anyhow!("decoding: {e}"))?;
            let out = format!("{head}{}{kept}{tail}", marker(mid.len() - keep, max));
            let ids = self.encode(&out)?;
            // Tokens can merge differently across the joins: shrink until it fits.
            if ids.len() <= max || keep == 0 {
                if ids.len() > max {
                    return Err(TooLong { need: ids.len(), max }.into());
                }
                return Ok((out, ids));
            }
            keep = keep.saturating_sub(ids.len() - max);
        }
    }
}

/// What one prompt judges: the trajectory (if any), the patch, and the issue from `--dataset`
/// for a candidate without a trajectory.
struct Judged<'a> {
    traj: Option<&'a Trajectory>,
    patch: &'a str,
    issue: Option<&'a str>,
}

impl Judged<'_> {
    /// The issue statement: the trajectory's, else the dataset's.
    fn problem(&self) -> Option<&str> {
        self.traj.and_then(|t| t.problem_statement.as_deref()).or(self.issue)
    }
}

/// Where the interaction log starts and ends in both presets' user message.
const LOG_START: &str = "=== INTERACTION LOG ===\n";
const LOG_END: &str = "\n=== END INTERACTION ===";

/// What replaces the removed part of a trajectory: visible to the model and in `swerm render`.
fn marker(removed: usize, max: usize) -> String {
    format!("\n[... {removed} tokens of the interaction removed by swerm to fit --max-tokens {max} ...]\n")
}

/// The prompt limit: `--max-tokens`, else the model's context (`max_position_embeddings`).
///
/// Decision: a prompt longer than the positions the model was trained for is never scored
/// silently (RoPE past its range gives numbers, not judgements). Without `--max-tokens` the
/// model's own context is the limit, with the preset's truncation policy, and a note says so.
/// The store's identity keeps `max_tokens: null` for this case: the limit follows from the
/// checkpoint, which the identity already names.
fn context_limit(max_tokens: Option<usize>, max_positions: Option<usize>) -> Option<usize> {
    static NOTE: std::sync::Once = std::sync::Once::new();
    match (max_tokens, max_positions) {
        (Some(m), _) => Some(m),
        (None, Some(p)) => {
            NOTE.call_once(|| {
                eprintln!(
                    "swerm: note: no --max-tokens: prompts are held to the model's context, {p} tokens (max_position_embeddings)"
                )
            });
            Some(p.max(64))
        }
        (None, None) => None,
    }
}

/// A candidate whose prompt cannot keep its issue statement (and, for `r2egym`, its final
/// patch) within `--max-tokens`: an error for that candidate, recorded in its score line.
#[derive(Debug)]
pub(crate) struct TooLong {
    /// Tokens the parts that must be kept take.
    pub(crate) need: usize,
    pub(crate) max: usize,
}

impl std::fmt::Display for TooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the issue statement and the end of the prompt alone take {} tokens, over --max-tokens {}",
            self.need, self.max
        )
    }
}

impl std::error::Error for TooLong {}
