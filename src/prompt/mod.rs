//! Verifier prompts: a candidate's trajectory (or its patch alone) -> the exact text and token
//! ids the model reads, per preset (`swegym`, `r2egym`), rendered with the checkpoint's own
//! chat template, with the preset's truncation policy under `--max-tokens`.

pub mod r2egym;
pub mod swegym;
pub mod template;
pub mod trajectory;

use anyhow::{Context, Result, anyhow, bail};
use serde::{Deserialize, Serialize};
use tokenizers::Tokenizer;

use crate::checkpoint::{self, Checkpoint};
use crate::input::Dataset;
use template::ChatTemplate;
use trajectory::{Message, Trajectory};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Preset {
    #[serde(rename = "swegym")]
    SweGym,
    #[serde(rename = "r2egym")]
    R2EGym,
}

impl std::str::FromStr for Preset {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "swegym" => Ok(Preset::SweGym),
            "r2egym" => Ok(Preset::R2EGym),
            _ => Err(format!("{s:?}: expected swegym or r2egym")),
        }
    }
}

impl Preset {
    pub fn name(self) -> &'static str {
        match self {
            Preset::SweGym => "swegym",
            Preset::R2EGym => "r2egym",
        }
    }
    /// The answer strings the preset's checkpoints were trained on.
    pub fn default_answers(self) -> (&'static str, &'static str) {
        match self {
            Preset::SweGym => (" YES", " NO"),
            Preset::R2EGym => ("YES", "NO"),
        }
    }
}

/// A prompt ready for the model.
#[derive(Clone, Debug)]
pub struct Prompt {
    pub text: String,
    pub ids: Vec<u32>,
    /// Whether the preset's truncation policy shortened it.
    pub truncated: bool,
    /// False when the candidate had no trajectory and was judged from its patch alone.
    pub has_trajectory: bool,
}

pub struct Prompter {
    pub preset: Preset,
    template: ChatTemplate,
    tokenizer: Tokenizer,
    pub max_tokens: Option<usize>,
}

/// The stand-in conversation for a candidate without a trajectory: its patch as the agent's
/// final answer.
fn patch_only(patch: &str) -> Vec<Message> {
    vec![
        Message::new("user", "(No trajectory was recorded for this attempt; the assistant's final patch follows.)"),
        Message::new("assistant", patch),
    ]
}

impl Prompter {
    /// A prompter for a checkpoint: its tokenizer and chat template only (no weights are read).
    pub fn for_model(model: &str, revision: Option<&str>, preset: Preset, max_tokens: Option<usize>) -> Result<Self> {
        let ck = checkpoint::locate(model, revision, false)?;
        Prompter::new(&ck, preset, max_tokens)
    }

    /// The prompt of candidate `idx` of `ds` (`None` for an empty candidate, which is never
    /// shown to a model).
    pub fn for_candidate(&self, ds: &Dataset, idx: usize) -> Result<Option<Prompt>> {
        let c = &ds.cands[idx];
        if c.is_empty() {
            return Ok(None);
        }
        let (i, r) = ds.coords(idx);
        let traj = match (&c.source, c.format) {
            (Some(src), Some(fmt)) => trajectory::load(src, fmt)?,
            _ => None,
        };
        self.build(traj.as_ref(), c.patch.as_deref().unwrap_or(""))
            .map(Some)
            .with_context(|| format!("instance {} of run {}", ds.instances[i], ds.runs[r]))
    }

    pub fn new(ck: &Checkpoint, preset: Preset, max_tokens: Option<usize>) -> Result<Self> {
        let tokenizer = &ck.tokenizer;
        let tok = Tokenizer::from_file(tokenizer)
            .map_err(|e| anyhow!("{}: cannot load the tokenizer: {e}", tokenizer.display()))?;
        if max_tokens.is_some_and(|m| m < 64) {
            bail!("--max-tokens must be at least 64");
        }
        Ok(Prompter {
            preset,
            template: ChatTemplate::from_tokenizer_config(&ck.tokenizer_config, ck.chat_template.as_deref())?,
            tokenizer: tok,
            max_tokens,
        })
    }

    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        Ok(self.tokenizer.encode(text, false).map_err(|e| anyhow!("tokenizing: {e}"))?.get_ids().to_vec())
    }

    /// Token ids of the (yes, no) answer strings; each must be exactly one token.
    pub fn answer_ids(&self, yes: &str, no: &str) -> Result<[u32; 2]> {
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
    fn render(&self, traj: Option<&Trajectory>, patch: &str, condensed_user: Option<&str>) -> Result<String> {
        match self.preset {
            Preset::SweGym => {
                let msgs = match traj {
                    Some(t) if !t.messages.is_empty() => t.messages.clone(),
                    _ => patch_only(patch),
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
            Preset::R2EGym => {
                let user = match condensed_user {
                    Some(u) => u.to_string(),
                    None => self.r2egym_user(traj, patch),
                };
                let text = self.template.render(&[("system", swegym::SYSTEM), ("user", &user)], true)?;
                Ok(text + "<judgement>")
            }
        }
    }

    fn r2egym_user(&self, traj: Option<&Trajectory>, patch: &str) -> String {
        let steps = traj.map(|t| r2egym::steps_from_messages(&t.messages)).unwrap_or_default();
        let problem = traj.and_then(|t| t.problem_statement.clone()).unwrap_or_default();
        r2egym::user_message(&problem, &steps, patch)
    }

    /// Builds the prompt. Over `max_tokens`, `r2egym` condenses the longest thoughts first
    /// (R2E-Gym's policy); if still too long (and always for `swegym`, whose only policy was to
    /// train under 32k tokens) the token sequence keeps its first quarter and its last three
    /// quarters of the budget: the issue at the start, the end of the trajectory and the
    /// `<judgement>` prefix at the end.
    pub fn build(&self, traj: Option<&Trajectory>, patch: &str) -> Result<Prompt> {
        let has_trajectory = traj.is_some_and(|t| !t.messages.is_empty());
        let mut text = self.render(traj, patch, None)?;
        let mut ids = self.encode(&text)?;
        let Some(max) = self.max_tokens else {
            return Ok(Prompt { text, ids, truncated: false, has_trajectory });
        };
        if ids.len() <= max {
            return Ok(Prompt { text, ids, truncated: false, has_trajectory });
        }
        if self.preset == Preset::R2EGym {
            let mut user = self.r2egym_user(traj, patch);
            while ids.len() > max {
                match r2egym::condense_once(&user) {
                    Some(u) => user = u,
                    None => break,
                }
                text = self.render(traj, patch, Some(&user))?;
                ids = self.encode(&text)?;
            }
        }
        if ids.len() > max {
            let head = max / 4;
            let tail = max - head;
            let mut cut = ids[..head].to_vec();
            cut.extend_from_slice(&ids[ids.len() - tail..]);
            ids = cut;
            text = self.tokenizer.decode(&ids, false).map_err(|e| anyhow!("decoding: {e}"))?;
        }
        Ok(Prompt { text, ids, truncated: true, has_trajectory })
    }
}
