//! Verifier prompts: a candidate's trajectory (or its patch alone) -> the exact text and token
//! ids the model reads, per preset (`swegym`, `r2egym`, `chat`), rendered with the checkpoint's own
//! chat template, with the preset's truncation policy under `--max-tokens`. Trajectories come
//! from `input::trajectory` as plain data.

mod chat;
pub(crate) mod cot;
pub(crate) mod pairwise;
pub(crate) mod privileged;
pub mod r2egym;
pub(crate) mod shows;
pub mod swegym;
pub mod swelego;
pub mod template;
pub(crate) mod user;

use anyhow::{Context, Result, anyhow, bail};
use serde::{Deserialize, Serialize};
use tokenizers::Tokenizer;

use crate::checkpoint::{Checkpoint, ModelRef, RopeChoice};
use crate::input::Dataset;
use crate::input::issues::Row;
use crate::input::trajectory::{Message, Trajectory};
pub(crate) use shows::{PatchView, Shows};
use template::ChatTemplate;
pub(crate) use user::UserTemplate;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Preset {
    #[serde(rename = "swegym")]
    SweGym,
    #[serde(rename = "r2egym")]
    R2EGym,
    /// SWE-Lego's verifiers (`swelego.rs`).
    #[serde(rename = "swelego")]
    SweLego,
    /// The conversation itself, for classification heads (`chat.rs`).
    #[serde(rename = "chat")]
    Chat,
    /// swerm's prompt for a judge that reasons first (`cot.rs`; needs `--generate`).
    #[serde(rename = "cot")]
    Cot,
    /// A user's template (`--template FILE`, `user.rs`) as the user turn.
    #[serde(rename = "template")]
    Template,
}

impl std::str::FromStr for Preset {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "swegym" => Ok(Preset::SweGym),
            "r2egym" => Ok(Preset::R2EGym),
            "swelego" => Ok(Preset::SweLego),
            "chat" => Ok(Preset::Chat),
            "cot" => Ok(Preset::Cot),
            "template" => Err("a template is given by its file: --template FILE".into()),
            _ => Err(format!("{s:?}: expected swegym, r2egym, swelego, chat or cot")),
        }
    }
}

impl Preset {
    /// The answer strings the preset's checkpoints were trained on.
    pub(crate) fn default_answers(self) -> (&'static str, &'static str) {
        match self {
            Preset::SweGym => (" YES", " NO"),
            // Chat asks no question (a classification head reads it); the pair is unused.
            // swelego reads the maximum over six spellings of each (`swelego::ANSWERS`).
            Preset::R2EGym | Preset::SweLego | Preset::Chat | Preset::Cot | Preset::Template => ("YES", "NO"),
        }
    }

    /// The rope scaling the preset runs its checkpoints with, unless `--rope-scaling` says
    /// otherwise: SWE-Lego's inference adds YaRN x4 whenever config.json has no rope scaling;
    /// every other preset follows config.json.
    pub(crate) fn default_rope(self, ck: &Checkpoint) -> RopeChoice {
        match self {
            Preset::SweLego if !ck.has_rope_scaling() => RopeChoice::Yarn(4.0),
            _ => RopeChoice::Config,
        }
    }
}

/// A prompt ready for the model.
#[derive(Clone, Debug)]
pub(crate) struct Prompt {
    pub(crate) text: String,
    pub(crate) ids: Vec<u32>,
    /// Whether the preset's truncation policy shortened it (never the patch: see `build`).
    pub(crate) truncated: bool,
    /// How it was shortened, when it was.
    pub(crate) cut: Option<Cut>,
    /// What it shows of the candidate: trajectory, issue, patch.
    pub(crate) shows: Shows,
    /// The privileged inputs it holds (`privileged`): what its template reads
    /// (`dataset.test_patch`), the dataset fields found in its text (`test_patch`).
    pub(crate) privileged: Vec<String>,
    /// The turns its text renders (`cot` and `template` prompts that were not cut): what a
    /// chat endpoint is sent instead of the text.
    pub(crate) turns: Option<Vec<(String, String)>>,
}

pub(crate) struct Prompter {
    pub(crate) preset: Preset,
    template: ChatTemplate,
    tokenizer: Tokenizer,
    /// The most tokens a prompt may take, and where that limit comes from.
    pub(crate) limit: Option<Limit>,
    /// `--template`, compiled, and the privileged fields it reads.
    user: Option<(user::Compiled, Vec<String>)>,
    /// `--allow-privileged`.
    allow_privileged: bool,
}

/// How a prompt was shortened to fit its limit: the tokens it lost (its full length minus its
/// length, the markers counted) and what was removed, in words (`log`, `thoughts and log`,
/// `log and issue`, `messages`, `logs`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Cut {
    pub(crate) removed: usize,
    pub(crate) what: String,
}

/// A prompt's token limit: `--max-tokens`, or the model's context when none was given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Limit {
    pub(crate) tokens: usize,
    /// True when the limit is the model's `max_position_embeddings`, not `--max-tokens`.
    pub(crate) from_context: bool,
}

impl std::fmt::Display for Limit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.from_context {
            true => write!(f, "the model's context of {} tokens", self.tokens),
            false => write!(f, "--max-tokens {}", self.tokens),
        }
    }
}

const PATCH_ONLY_NOTE: &str = "(No trajectory was recorded for this attempt; the assistant's final patch follows.)";
/// Where a trajectory that does not show its patch gets it (`Prompter::build`).
const ADDED_PATCH_NOTE: &str = "(The assistant's final patch, as submitted, follows.)";

/// The stand-in conversation for a candidate without a trajectory: the issue as the task,
/// when `--dataset` gives it, then its patch as the agent's final answer.
fn patch_only(issue: Option<&str>, patch: &str) -> Vec<Message> {
    let mut m = issue.map(|i| vec![Message::new("user", i)]).unwrap_or_default();
    m.extend(patch_block(PATCH_ONLY_NOTE, patch));
    m
}

/// The final-patch block: a note, then the patch as the assistant's last message.
fn patch_block(note: &str, patch: &str) -> [Message; 2] {
    [Message::new("user", note), Message::new("assistant", patch)]
}

/// What a prompt is, validated once when the settings are built: the preset and the token
/// limit. `--max-tokens` is checked here and nowhere else.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct PromptSpec {
    pub(crate) preset: Preset,
    /// `--max-tokens` (at least [`PromptSpec::MIN_MAX_TOKENS`]); `None`: the model's context.
    pub(crate) max_tokens: Option<usize>,
    /// `--pairwise`: prompts judge two candidates at once (`pairwise`), and the tournament.
    pub(crate) pairwise: Option<pairwise::PairwiseId>,
    /// `--rope-scaling`, when given (else the preset's default: `Preset::default_rope`).
    pub(crate) rope: Option<RopeChoice>,
    /// `--template FILE` (then `preset` is `Template`).
    pub(crate) template: Option<UserTemplate>,
    /// `--allow-privileged`: prompts may hold what the harness grades with (`privileged`).
    pub(crate) allow_privileged: bool,
}

impl PromptSpec {
    /// Below this no preset fits its frame (instructions, issue, answer cue).
    pub(crate) const MIN_MAX_TOKENS: usize = 64;

    pub(crate) fn new(
        preset: Preset,
        max_tokens: Option<usize>,
        pairwise: Option<pairwise::PairwiseId>,
        rope: Option<RopeChoice>,
    ) -> Result<PromptSpec> {
        if max_tokens.is_some_and(|m| m < Self::MIN_MAX_TOKENS) {
            bail!("--max-tokens must be at least {}", Self::MIN_MAX_TOKENS);
        }
        if pairwise.is_some() && preset != Preset::SweGym {
            bail!("--pairwise has its own prompt (an issue and two attempts): --preset does not apply to it");
        }
        Ok(PromptSpec { preset, max_tokens, pairwise, rope, template: None, allow_privileged: false })
    }

    /// With a user template (`--template`): its preset, and its privileged reads checked
    /// against `--allow-privileged`; `dataset` given: whether `--dataset` is.
    pub(crate) fn with_template(mut self, t: UserTemplate, dataset: bool) -> Result<PromptSpec> {
        if self.pairwise.is_some() {
            bail!("--template: --pairwise has its own prompt (an issue and two attempts)");
        }
        if t.reads_dataset && !dataset {
            bail!("--template {} reads `dataset`: give --dataset (the rows it reads)", t.path.display());
        }
        if !t.privileged.is_empty() && !self.allow_privileged {
            bail!(
                "--template {} reads {}: what the SWE-bench harness grades with, which an execution-free judge must not see (SWE-bench's rules forbid it); --allow-privileged runs it anyway, and marks its numbers \"privileged\" wherever they appear",
                t.path.display(),
                crate::text::list(&t.privileged)
            );
        }
        self.preset = Preset::Template;
        self.template = Some(t);
        Ok(self)
    }

    /// The rope scaling the forward runs with for checkpoint `ck`: `--rope-scaling`, else the
    /// preset's default (with a note, once, when that differs from config.json).
    pub(crate) fn rope_for(&self, ck: &Checkpoint) -> RopeChoice {
        if let Some(r) = self.rope {
            return r;
        }
        let r = self.preset.default_rope(ck);
        if r != RopeChoice::Config {
            static NOTE: std::sync::Once = std::sync::Once::new();
            NOTE.call_once(|| {
                crate::console::note(&format!(
                    "--preset swelego runs {} with --rope-scaling {r} (SWE-Lego's inference adds YaRN x4 when config.json has no rope scaling); --rope-scaling config keeps config.json's",
                    ck.name
                ))
            });
        }
        r
    }
}

impl Prompter {
    /// A prompter for a checkpoint: its tokenizer and chat template only (no weights are read).
    pub(crate) fn for_model(model: &ModelRef, spec: &PromptSpec) -> Result<Self> {
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
        let (instance, run) = (&ds.grid.instances[i], &ds.grid.runs[r]);
        let patch = c.patch.as_deref().unwrap_or("");
        let j = Judged { traj: traj.as_ref(), patch, issue, who: (instance, run), row: ds.row(i) };
        let mut p = self.build(j).with_context(|| format!("instance {instance} of run {run}"))?;
        p.privileged = self.user.as_ref().map(|(_, reads)| reads.clone()).unwrap_or_default();
        if let Some(row) = ds.row(i) {
            p.privileged.extend(privileged::found_in(&p.text, row, patch).into_iter().map(String::from));
        }
        if !p.privileged.is_empty() && !self.allow_privileged {
            bail!(
                "instance {instance} of run {run}: the prompt holds the {} of its --dataset row, what the SWE-bench harness grades with, which an execution-free judge must not see; --allow-privileged judges it anyway and marks the numbers \"privileged\" (`swerm render --allow-privileged` shows the prompt)",
                crate::text::list(&p.privileged)
            );
        }
        Ok(Some(p))
    }

    pub(crate) fn new(ck: &Checkpoint, spec: &PromptSpec) -> Result<Self> {
        let tokenizer = &ck.tokenizer;
        let tok = Tokenizer::from_file(tokenizer)
            .map_err(|e| anyhow!("{}: cannot load the tokenizer: {e}", tokenizer.display()))?;
        let context = ck.context(spec.rope_for(ck));
        // swelego's budget without --max-tokens: their script's cutoff, within the context.
        let context = match spec.preset {
            Preset::SweLego => Some(context.map_or(swelego::BUDGET, |c| c.min(swelego::BUDGET))),
            _ => context,
        };
        let user = match &spec.template {
            Some(t) => Some((t.compiled()?, t.privileged.clone())),
            None => None,
        };
        Ok(Prompter {
            preset: spec.preset,
            template: ChatTemplate::from_tokenizer_config(&ck.tokenizer_config, ck.chat_template.as_deref())?,
            tokenizer: tok,
            limit: context_limit(spec.max_tokens, context),
            user,
            allow_privileged: spec.allow_privileged,
        })
    }

    pub(crate) fn encode(&self, text: &str) -> Result<Vec<u32>> {
        Ok(self.tokenizer.encode(text, false).map_err(|e| anyhow!("tokenizing: {e}"))?.get_ids().to_vec())
    }

    /// The text of token ids, special tokens included (a judge's `</think>` is one).
    pub(crate) fn decode(&self, ids: &[u32]) -> Result<String> {
        self.tokenizer.decode(ids, false).map_err(|e| anyhow!("detokenizing: {e}"))
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

    /// The first token id of each of `spellings`, deduplicated, in order (swelego's answers).
    pub(crate) fn first_token_ids(&self, spellings: &[&str]) -> Result<Vec<u32>> {
        let mut out = Vec::new();
        for s in spellings {
            let id = *self.encode(s)?.first().ok_or_else(|| anyhow!("answer {s:?} has no token"))?;
            if !out.contains(&id) {
                out.push(id);
            }
        }
        Ok(out)
    }

    /// The untruncated prompt text; `add_patch`: the trajectory gets a final-patch block.
    fn render(&self, j: &Judged, condensed_user: Option<&str>, add_patch: bool) -> Result<String> {
        let (traj, patch) = (j.traj, j.patch);
        match self.preset {
            Preset::SweGym => {
                let msgs = match traj {
                    Some(t) if !t.messages.is_empty() => {
                        let mut m = t.messages.clone();
                        if add_patch {
                            m.extend(patch_block(ADDED_PATCH_NOTE, patch));
                        }
                        m
                    }
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
            Preset::Cot | Preset::Template => {
                let turns = self.turns(j, condensed_user)?;
                let refs: Vec<(&str, &str)> = turns.iter().map(|(r, c)| (r.as_str(), c.as_str())).collect();
                self.template.render(&refs, true)
            }
            Preset::SweLego => {
                let msgs = match traj {
                    Some(t) if !t.messages.is_empty() => swelego::convert(&t.messages),
                    _ => j.issue.map(|i| vec![Message::new("user", i)]).unwrap_or_default(),
                };
                let user = swelego::user_message(&msgs, patch);
                let text = self.template.render(&[("system", swelego::system()), ("user", &user)], true)?;
                Ok(text + "<judgement>")
            }
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

    /// The turns a `cot` or `template` prompt renders through the chat template (with its
    /// generation prompt): what a chat endpoint is sent (`Prompt::turns`). `log`: the
    /// template's trajectory as cut to fit, when it was.
    fn turns(&self, j: &Judged, log: Option<&str>) -> Result<Vec<(String, String)>> {
        let traj = j.traj;
        match self.preset {
            Preset::Cot => {
                let msgs = match traj {
                    Some(t) if !t.messages.is_empty() => t.messages.clone(),
                    _ => j.issue.map(|i| vec![Message::new("user", i)]).unwrap_or_default(),
                };
                let log = swegym::strip_icl(&swegym::format_traj(&msgs));
                let user = cot::user_message(&log, j.patch);
                Ok(vec![("system".into(), swegym::SYSTEM.into()), ("user".into(), user)])
            }
            Preset::Template => {
                let (user, _) = self.user.as_ref().ok_or_else(|| anyhow!("the template preset needs --template"))?;
                let log = match (log, traj) {
                    (Some(cut), _) => cut.to_string(),
                    (None, Some(t)) if !t.messages.is_empty() => swegym::strip_icl(&swegym::format_traj(&t.messages)),
                    _ => String::new(),
                };
                let vars = user::Vars {
                    issue: j.problem().unwrap_or(""),
                    trajectory: &log,
                    messages: traj.map_or(&[][..], |t| &t.messages[..]),
                    patch: j.patch,
                    instance_id: j.who.0,
                    run: j.who.1,
                    dataset: j.row,
                };
                Ok(vec![("user".into(), user.render(&vars)?)])
            }
            p => bail!("the {p:?} preset's prompt is not a list of turns"),
        }
    }

    fn r2egym_user(&self, j: &Judged) -> String {
        let steps = j.traj.map(|t| r2egym::steps_from_messages(&t.messages)).unwrap_or_default();
        r2egym::user_message(j.problem().unwrap_or_default(), &steps, j.patch)
    }

    /// Builds the prompt.
    ///
    /// The patch: `r2egym` always ends with its final-patch block, and a candidate without a
    /// trajectory is shown as its patch; a `swegym` trajectory that does not show its patch
    /// (`shows::trajectory_shows`: ACR's conversation rounds, an agent that edited with `sed`)
    /// gets it as a final-patch block at the end of its log; `chat` cannot hold one (see
    /// `build_chat`).
    ///
    /// Under the limit (`--max-tokens`, else the model's context), `r2egym` first condenses the
    /// longest thoughts (R2E-Gym's policy). If the prompt is still too long (and always for
    /// `swegym`, whose only policy was to train under 32k tokens), the middle of the interaction
    /// log is cut: the start through the issue statement and the end (the final-patch block
    /// when there is one, the closing question and the answer cue) are kept whole, then as much
    /// of the end of the trajectory as fits, behind a visible marker saying how much was
    /// removed. A truncated `swegym` log that no longer shows the patch gets the patch block.
    /// Decision (the patch is never cut): the log shrinks first, then the issue statement (its
    /// start is kept); a candidate whose patch and the prompt's frame alone do not fit is a
    /// `TooLong` error (recorded in its score line: unscored), never a silent cut.
    ///
    /// `issue` (from `--dataset`) is shown for a candidate without a trajectory (`traj: None`).
    pub(crate) fn build(&self, j: Judged) -> Result<Prompt> {
        let (traj, patch, issue) = (j.traj, j.patch, j.issue);
        if self.preset == Preset::Chat {
            return self.build_chat(traj, patch, issue);
        }
        let j = Judged { issue: if traj.is_none() { issue } else { None }, ..j };
        let has_trajectory = traj.is_some_and(|t| !t.messages.is_empty());
        let issue_shown = j.problem().is_some_and(|p| !p.trim().is_empty());
        // Only a swegym trajectory can lack the patch; r2egym and the patch-only stand-in hold it.
        let may_lack = self.preset == Preset::SweGym && has_trajectory;
        let mut add = may_lack && !traj.is_some_and(|t| shows::trajectory_shows(t, patch));
        loop {
            let (text, ids, cut) = self.fit(&j, add)?;
            if may_lack && cut.is_some() && !add && !shows::text_shows(&text, patch) {
                add = true;
                continue;
            }
            let patch_view = if add { PatchView::Added } else { PatchView::Shown };
            let shows = Shows { trajectory: has_trajectory, issue: issue_shown, patch: patch_view };
            let turns = match self.preset {
                Preset::Cot | Preset::Template if cut.is_none() => Some(self.turns(&j, None)?),
                _ => None,
            };
            return Ok(Prompt { text, ids, truncated: cut.is_some(), cut, shows, privileged: Vec::new(), turns });
        }
    }

    /// The prompt held to the limit (see `build`), and how it was shortened.
    fn fit(&self, j: &Judged, add_patch: bool) -> Result<(String, Vec<u32>, Option<Cut>)> {
        let mut text = self.render(j, None, add_patch)?;
        let mut ids = self.encode(&text)?;
        let Some(limit) = self.limit.filter(|l| ids.len() > l.tokens) else {
            return Ok((text, ids, None));
        };
        let full = ids.len();
        if self.preset == Preset::Template {
            let (text, ids) = self.cut_template_log(j, ids.len(), limit)?;
            return Ok((text, ids.clone(), Some(Cut { removed: full.saturating_sub(ids.len()), what: "log".into() })));
        }
        let mut what = Vec::new();
        if self.preset == Preset::R2EGym {
            let mut user = self.r2egym_user(j);
            while ids.len() > limit.tokens {
                match r2egym::condense_once(&user) {
                    Some(u) => user = u,
                    None => break,
                }
                if what.is_empty() {
                    what.push("thoughts");
                }
                text = self.render(j, Some(&user), add_patch)?;
                ids = self.encode(&text)?;
            }
        }
        if ids.len() > limit.tokens {
            let issue_cut;
            (text, ids, issue_cut) = self.cut_middle(&text, j.problem(), limit)?;
            what.push("log");
            if issue_cut {
                what.push("issue");
            }
        }
        let cut = Cut {
            removed: full.saturating_sub(ids.len()),
            what: crate::text::list(&what.iter().map(|w| w.to_string()).collect::<Vec<_>>()),
        };
        Ok((text, ids, Some(cut)))
    }

    /// Keeps `text` up to the end of the issue statement and from the end of the interaction
    /// log (or the final-patch block) on, and the last tokens of what lies between that fit in
    /// the limit, after a marker; when even the two ends do not fit, `cut_issue` (then the
    /// returned flag is set: the issue was shortened too).
    fn cut_middle(&self, text: &str, problem: Option<&str>, limit: Limit) -> Result<(String, Vec<u32>, bool)> {
        let max = limit.tokens;
        let log_start = text.find(LOG_START).map_or(0, |i| i + LOG_START.len());
        let issue_start = problem
            .filter(|p| !p.trim().is_empty())
            .and_then(|p| text[log_start..].find(p).map(|i| (log_start + i, log_start + i + p.len())));
        let (issue_start, head_end) = issue_start.unwrap_or((log_start, log_start));
        // The final-patch block (the patch-only stand-in's, or one added to the log) is kept.
        let block = text.rfind(ADDED_PATCH_NOTE).or_else(|| text.rfind(PATCH_ONLY_NOTE));
        let tail_start = block.or_else(|| text.rfind(LOG_END)).filter(|&i| i >= head_end).unwrap_or(text.len());
        let (head, middle, tail) = (&text[..head_end], &text[head_end..tail_start], &text[tail_start..]);
        let fixed = self.encode(head)?.len() + self.encode(tail)?.len() + self.encode(&marker(99_999_999, max))?.len();
        if fixed > max {
            return self.cut_issue(text, (issue_start, head_end, tail_start), limit);
        }
        let mid = self.encode(middle)?;
        let mut keep = (max - fixed).min(mid.len());
        loop {
            let kept = self.decode(&mid[mid.len() - keep..])?;
            let out = format!("{head}{}{kept}{tail}", marker(mid.len() - keep, max));
            let ids = self.encode(&out)?;
            // Tokens can merge differently across the joins: shrink until it fits.
            if ids.len() <= max || keep == 0 {
                if ids.len() > max {
                    return self.cut_issue(text, (issue_start, head_end, tail_start), limit);
                }
                return Ok((out, ids, false));
            }
            keep = keep.saturating_sub(ids.len() - max);
        }
    }

    /// A user template's prompt of `len` tokens held to `limit`: its `trajectory` keeps its
    /// last tokens that fit, behind the marker; what the template shows besides (the issue, the
    /// patch, `messages`, dataset fields) is never cut: a `TooLong` error when it alone does not
    /// fit.
    fn cut_template_log(&self, j: &Judged, len: usize, limit: Limit) -> Result<(String, Vec<u32>)> {
        let max = limit.tokens;
        let log =
            j.traj.filter(|t| !t.messages.is_empty()).map(|t| swegym::strip_icl(&swegym::format_traj(&t.messages)));
        let toks = self.encode(log.as_deref().unwrap_or(""))?;
        let mark = self.encode(&marker(99_999_999, max))?.len();
        let mut keep = toks.len().saturating_sub(len - max + mark);
        loop {
            let kept = format!("{}{}", marker(toks.len() - keep, max), self.decode(&toks[toks.len() - keep..])?);
            let text = self.render(j, Some(&kept), false)?;
            let ids = self.encode(&text)?;
            if ids.len() <= max {
                return Ok((text, ids));
            }
            if keep == 0 {
                let what = "the template's text without its trajectory (the issue, the patch, what else it shows)";
                return Err(TooLong { need: ids.len(), limit, what }.into());
            }
            keep = keep.saturating_sub(ids.len() - max);
        }
    }

    /// The whole interaction log removed and the issue statement (bytes `issue_start..issue_end`
    /// of `text`) shortened to its first tokens that fit, behind markers; the part from
    /// `tail_start` on (the patch block or the log's end, the question, the answer cue) whole.
    /// `TooLong` when that part and the frame alone do not fit.
    fn cut_issue(
        &self,
        text: &str,
        (issue_start, issue_end, tail_start): (usize, usize, usize),
        limit: Limit,
    ) -> Result<(String, Vec<u32>, bool)> {
        let max = limit.tokens;
        let (pre, issue, log, tail) =
            (&text[..issue_start], &text[issue_start..issue_end], &text[issue_end..tail_start], &text[tail_start..]);
        let log_marker = marker(self.encode(log)?.len(), max);
        let fixed = self.encode(pre)?.len()
            + self.encode(tail)?.len()
            + self.encode(&log_marker)?.len()
            + self.encode(&issue_marker(99_999_999, max))?.len();
        let too_long = |need| TooLong {
            need,
            limit,
            what: "the patch and the prompt's frame (instructions, question, answer cue)",
        };
        if fixed > max {
            return Err(too_long(fixed).into());
        }
        let iss = self.encode(issue)?;
        let mut keep = (max - fixed).min(iss.len());
        loop {
            let kept = self.decode(&iss[..keep])?;
            let cut = if keep < iss.len() { issue_marker(iss.len() - keep, max) } else { String::new() };
            let out = format!("{pre}{kept}{cut}{log_marker}{tail}");
            let ids = self.encode(&out)?;
            if ids.len() <= max {
                return Ok((out, ids, keep < iss.len()));
            }
            if keep == 0 {
                return Err(too_long(ids.len()).into());
            }
            keep = keep.saturating_sub(ids.len() - max);
        }
    }
}

/// What one prompt judges: the trajectory (if any), the patch, and the issue from `--dataset`
/// for a candidate without a trajectory; for a user template, the instance and run and the
/// instance's `--dataset` row.
pub(crate) struct Judged<'a> {
    pub(crate) traj: Option<&'a Trajectory>,
    pub(crate) patch: &'a str,
    pub(crate) issue: Option<&'a str>,
    pub(crate) who: (&'a str, &'a str),
    pub(crate) row: Option<&'a Row>,
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
/// (It says `--max-tokens` for the model's context too: changing the words would change the
/// prompts, and with them the scores, of stores already written.)
fn marker(removed: usize, max: usize) -> String {
    format!("\n[... {removed} tokens of the interaction removed by swerm to fit --max-tokens {max} ...]\n")
}

/// What replaces the removed end of an issue statement (only once the whole log is gone).
fn issue_marker(removed: usize, max: usize) -> String {
    format!("\n[... {removed} tokens of the issue removed by swerm to fit --max-tokens {max} ...]\n")
}

/// The prompt limit: `--max-tokens`, else the model's context (`max_position_embeddings`).
///
/// Decision: a prompt longer than the positions the model was trained for is never scored
/// silently (RoPE past its range gives numbers, not judgements). Without `--max-tokens` the
/// model's own context is the limit, with the preset's truncation policy, and a note says so.
/// The store's identity keeps `max_tokens: null` for this case: the limit follows from the
/// checkpoint, which the identity already names.
fn context_limit(max_tokens: Option<usize>, max_positions: Option<usize>) -> Option<Limit> {
    static NOTE: std::sync::Once = std::sync::Once::new();
    match (max_tokens, max_positions) {
        (Some(m), _) => Some(Limit { tokens: m, from_context: false }),
        (None, Some(p)) => {
            NOTE.call_once(|| {
                crate::console::note(&format!("no --max-tokens: prompts are held to the model's context, {p} tokens"))
            });
            Some(Limit { tokens: p.max(64), from_context: true })
        }
        (None, None) => None,
    }
}

/// A candidate whose prompt cannot keep what must be kept (its patch and the prompt's frame)
/// within the limit: an error for that candidate, recorded in its score line.
#[derive(Debug)]
pub(crate) struct TooLong {
    /// Tokens the parts that must be kept take.
    pub(crate) need: usize,
    pub(crate) limit: Limit,
    /// What must be kept, in words.
    pub(crate) what: &'static str,
}

impl std::fmt::Display for TooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} alone take {} tokens, over {}", self.what, self.need, self.limit)
    }
}

impl std::error::Error for TooLong {}
