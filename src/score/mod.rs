//! Scorers: `Dataset` candidates -> one `Scored` each, behind the one `Scorer` trait
//! (`consensus`, `field:NAME`, the LM `verifier`); the score store (`store`, the one owner of
//! `scores.jsonl`); and `ScoreTable`, the narrow grid every later stage reads.

pub(crate) mod combine;
mod consensus;
mod field;
pub(crate) mod generative;
pub(crate) mod kept;
pub(crate) mod pairwise;
pub(crate) mod remote;
pub(crate) mod settings;
pub(crate) mod shard;
pub mod store;
pub(crate) mod table;
pub(crate) mod verifier;

pub(crate) use consensus::Consensus;
pub(crate) use field::FieldScore;
pub(crate) use remote::{EngineSettings, Remote};
pub use settings::{GenerationSpec, ModelFree, ScorerSettings, TemplateId, Verdict, VerifierId};
pub(crate) use table::ScoreTable;
pub(crate) use verifier::{JudgeSettings, LocalRun, Verifier};

use anyhow::Result;
use serde::{Deserialize, Serialize};

use crate::input::Dataset;
use crate::prompt::{PatchView, Prompt};

/// One candidate's score. `score: None` means "no score" (a hole under `field:NAME`): it is
/// written as `null` and ranks below every scored candidate.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Scored {
    pub(crate) score: Option<f64>,
    /// What an LM verifier records beside the score; `None` where that is nothing (the other
    /// scorers). Boxed: a detail is ~300 bytes and a score without one 24, and an RL-scale
    /// rerank holds 156k consensus scores (49 MB of empty details before, page-faulted in twice).
    detail: Option<Box<VerifierDetail>>,
}

impl Scored {
    pub(crate) fn plain(score: Option<f64>) -> Self {
        Scored { score, detail: None }
    }

    pub(crate) fn new(score: Option<f64>, detail: VerifierDetail) -> Self {
        let detail = (detail != VerifierDetail::default()).then(|| Box::new(detail));
        Scored { score, detail }
    }

    /// What the scorer recorded beside the score (every field `None` when nothing).
    pub(crate) fn detail(&self) -> &VerifierDetail {
        static NONE: std::sync::LazyLock<VerifierDetail> = std::sync::LazyLock::new(VerifierDetail::default);
        self.detail.as_deref().unwrap_or(&NONE)
    }

    pub(crate) fn into_detail(self) -> VerifierDetail {
        self.detail.map_or_else(VerifierDetail::default, |d| *d)
    }
}

/// An LM verifier's record of one candidate, as typed columns of its score line. An empty
/// candidate scores 0 without a forward pass: no logits, 0 tokens.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct VerifierDetail {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) logit_yes: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) logit_no: Option<f64>,
    /// A classification head's raw logit of the label scored (`--label`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) logit: Option<f64>,
    /// Tokens of the prompt the model read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) n_tokens: Option<usize>,
    /// Whether `--max-tokens` shortened the prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) truncated: Option<bool>,
    /// `Some(false)` when the candidate had no trajectory and was judged from its patch alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) trajectory: Option<bool>,
    /// `Some(false)` when the prompt showed no issue statement (no trajectory stating one, no
    /// `--dataset` row).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) issue: Option<bool>,
    /// How the prompt showed the patch when its trajectory did not (`added`: as a final-patch
    /// block; `not_shown`); absent when the trajectory or the preset showed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) patch: Option<PatchView>,
    /// Provenance: a digest of the prompt's token ids (`sha256:` and 16 hex digits), so two
    /// scores can be told to have read the same tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) prompt_ids: Option<String>,
    /// Tokens the truncation removed (the full prompt's length minus the prompt's), when cut.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) removed_tokens: Option<usize>,
    /// What the truncation removed (`log`, `thoughts and log`, `log and issue`, `messages`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) cut: Option<String>,
    /// The position the answer is read at (0-based: the prompt's last token) and the token ids
    /// (or head rows) read there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) answer_at: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) answer_ids: Option<Vec<u32>>,
    /// `--rope-scaling` when the forward did not follow config.json (`yarn:4`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) rope_scaling: Option<String>,
    /// A reasoning judge (`--generate`): its samples, those without a verdict, and the tokens
    /// they generated (every sample is in generations.jsonl).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) samples: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) invalid_samples: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) generated_tokens: Option<usize>,
    /// The privileged inputs the prompt held (`prompt::privileged`; only with
    /// `--allow-privileged`): what its template read (`dataset.test_patch`), the `--dataset`
    /// fields found in its text (`test_patch`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) privileged: Option<Vec<String>>,
    /// Why the candidate has no score (its prompt cannot fit `--max-tokens`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<String>,
}

impl VerifierDetail {
    /// What a verifier records of the prompt it read (before its answer).
    pub(crate) fn of_prompt(p: &Prompt) -> Self {
        VerifierDetail {
            n_tokens: Some(p.ids.len()),
            truncated: Some(p.truncated),
            trajectory: (!p.shows.trajectory).then_some(false),
            issue: (!p.shows.issue).then_some(false),
            patch: (p.shows.patch != PatchView::Shown).then_some(p.shows.patch),
            prompt_ids: Some(ids_digest(&p.ids)),
            removed_tokens: p.cut.as_ref().map(|c| c.removed),
            cut: p.cut.as_ref().map(|c| c.what.clone()),
            answer_at: p.ids.len().checked_sub(1),
            privileged: (!p.privileged.is_empty()).then(|| p.privileged.clone()),
            ..Default::default()
        }
    }
}

/// `sha256:` and the first 16 hex digits of SHA-256 over the token ids (little-endian u32).
pub(crate) fn ids_digest(ids: &[u32]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for id in ids {
        h.update(id.to_le_bytes());
    }
    format!("sha256:{}", &crate::checkpoint::hex(&h.finalize())[..16])
}

/// A candidate's logit: the answer-logit difference when a verifier recorded both logits, else
/// logit(score). The one "logit of a score" (calibration fits and applies on it; `--combine
/// --scale logit` sums it).
pub(crate) fn logit_of(score: Option<f64>, d: &VerifierDetail) -> Option<f64> {
    d.logit_difference().or_else(|| score.map(crate::prob::logit))
}

impl VerifierDetail {
    /// l_yes - l_no, when both were recorded.
    pub(crate) fn logit_difference(&self) -> Option<f64> {
        self.logit_yes.zip(self.logit_no).map(|(y, n)| y - n)
    }
}

/// Why a non-empty candidate has no score. Unscored candidates are not low scores: they rank
/// last in selection, and AUC, ECE and Brier leave them out (every summary counts them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Unscored {
    /// The verifier could not fit the prompt (`--max-tokens`, or the endpoints' context).
    PromptTooLong,
    /// An engine read another number of prompt tokens than it was sent (`score::remote`).
    EngineMisread,
    /// A reasoning judge's samples gave no verdict (`score::generative`).
    NoVerdict,
    /// No value: a record without the `field:` score, a combined source without a score, or a
    /// candidate the score store does not hold.
    NoValue,
}

impl Unscored {
    /// The reason recorded for a candidate without a score: its `error` says which (a reasoning
    /// judge's starts `no_verdict:`, an engine's misread names what the engine read).
    pub(crate) fn of(detail: &VerifierDetail) -> Self {
        match &detail.error {
            Some(e) if e.starts_with("no_verdict") => Unscored::NoVerdict,
            Some(e) if e.contains("the engine reports reading") => Unscored::EngineMisread,
            Some(_) => Unscored::PromptTooLong,
            None => Unscored::NoValue,
        }
    }

    /// A short name for summaries and report.json.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Unscored::PromptTooLong => "prompt_too_long",
            Unscored::EngineMisread => "engine_misread",
            Unscored::NoVerdict => "no_verdict",
            Unscored::NoValue => "no_value",
        }
    }

    /// The reason in words.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Unscored::PromptTooLong => "prompt over the token limit",
            Unscored::EngineMisread => "the engine read another prompt length",
            Unscored::NoVerdict => "no sample gave a verdict",
            Unscored::NoValue => "no value",
        }
    }
}

/// Totals of a verifier's per-candidate records, for summaries and report.json.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct VerifierCounts {
    /// Prompts `--max-tokens` shortened.
    pub(crate) truncated: usize,
    /// Candidates without a trajectory whose prompt showed no issue either: judged from the
    /// patch alone.
    pub(crate) patch_only: usize,
    /// Candidates without a trajectory shown with the issue from `--dataset`.
    pub(crate) issue_and_patch: usize,
    /// Prompts whose trajectory did not show the patch, which was added as a final-patch block.
    pub(crate) patch_added: usize,
    /// Prompts that do not show the candidate's patch (`chat` preset).
    pub(crate) patch_not_shown: usize,
    /// Tokens the truncation removed, over every cut prompt.
    pub(crate) removed_tokens: u64,
    /// A reasoning judge's samples, those without a verdict, and the tokens they generated.
    pub(crate) samples: usize,
    pub(crate) invalid_samples: usize,
    pub(crate) generated_tokens: u64,
    /// Prompt tokens read by the model.
    pub(crate) tokens: u64,
    /// Candidates left unscored with an error (their prompt cannot fit `--max-tokens`).
    pub(crate) errors: usize,
    /// Candidates left unscored because no sample gave a verdict (a reasoning judge).
    pub(crate) no_verdict: usize,
    /// Candidates left unscored because an engine read another prompt length.
    pub(crate) misread: usize,
    /// Prompts that held privileged inputs (`--allow-privileged`).
    pub(crate) privileged: usize,
}

impl VerifierCounts {
    pub(crate) fn of<'a>(details: impl IntoIterator<Item = &'a VerifierDetail>) -> Self {
        let mut c = VerifierCounts::default();
        for d in details {
            c.truncated += (d.truncated == Some(true)) as usize;
            let bare = d.trajectory == Some(false);
            c.patch_only += (bare && d.issue == Some(false)) as usize;
            c.issue_and_patch += (bare && d.issue != Some(false)) as usize;
            c.patch_added += (d.patch == Some(PatchView::Added)) as usize;
            c.patch_not_shown += (d.patch == Some(PatchView::NotShown)) as usize;
            c.removed_tokens += d.removed_tokens.unwrap_or(0) as u64;
            c.samples += d.samples.unwrap_or(0);
            c.invalid_samples += d.invalid_samples.unwrap_or(0);
            c.generated_tokens += d.generated_tokens.unwrap_or(0) as u64;
            c.tokens += d.n_tokens.unwrap_or(0) as u64;
            c.privileged += d.privileged.is_some() as usize;
            match d.error.as_ref().map(|_| Unscored::of(d)) {
                Some(Unscored::NoVerdict) => c.no_verdict += 1,
                Some(Unscored::EngineMisread) => c.misread += 1,
                Some(_) => c.errors += 1,
                None => {}
            }
        }
        c
    }
}

/// Where a scorer hands each candidate's score as soon as it has it (callers save work as it
/// happens).
pub(crate) type Done<'a> = &'a mut dyn FnMut(usize, Scored) -> Result<()>;

/// What a scoring run produced beyond each candidate's score (which went to `done`): what the
/// scorer knows about the whole grid. `ScoreTable::from_run` takes it as it is.
#[derive(Default)]
pub(crate) struct Produced {
    /// A tie-break chain's order within each instance (`--combine --tie-break`): higher first.
    pub(crate) tie_rank: Option<Vec<f64>>,
    /// A pairwise judge's contests, cost and this run's comparisons (for pairs.jsonl).
    pub(crate) pairwise: Option<pairwise::Outcome>,
    /// A reasoning judge's samples and cost (for generations.jsonl).
    pub(crate) generation: Option<generative::GenOutcome>,
}

/// The stores a scorer keeps its expensive work in beside scores.jsonl (`score::kept`), opened
/// by the command that owns the output directory and finished by it after scoring. Which a
/// scorer needs follows from its settings (`SideStores::open`).
#[derive(Default)]
pub(crate) struct SideStores {
    /// pairs.jsonl, for a pairwise judge.
    pub(crate) pairs: Option<pairwise::store::PairStore>,
    /// generations.jsonl, for a reasoning judge.
    pub(crate) generations: Option<generative::store::GenStore>,
}

impl SideStores {
    /// The side stores of a scorer with `settings` in `out`: emptied when the score store
    /// started afresh, else resumed.
    pub(crate) fn open(out: &mut crate::outdir::OutDir, settings: &ScorerSettings, afresh: bool) -> Result<Self> {
        let pairwise = matches!(settings, ScorerSettings::Verifier(v) if v.pairwise.is_some());
        let generates = matches!(settings, ScorerSettings::Verifier(v) if v.generation.is_some());
        Ok(SideStores {
            pairs: if pairwise { Some(pairwise::store::open(out, afresh)?) } else { None },
            generations: if generates { Some(generative::store::open(out, afresh)?) } else { None },
        })
    }

    /// Rewrites each side store with this run's records (`Kept::finish`), recording in
    /// `produced` how many earlier ones each kept.
    pub(crate) fn finish(self, produced: &mut Produced) -> Result<()> {
        if let (Some(st), Some(o)) = (self.pairs, produced.pairwise.as_mut()) {
            o.cost.kept = st.finish(std::mem::take(&mut o.lines))?.1;
        }
        if let (Some(st), Some(o)) = (self.generations, produced.generation.as_mut()) {
            // The whole store stays in `o.lines` (report.html shows each candidate's samples).
            (o.lines, o.cost.kept) = st.finish(std::mem::take(&mut o.lines))?;
        }
        Ok(())
    }
}

/// Something that scores candidates.
pub(crate) trait Scorer {
    /// The scorer and every setting that changes its scores (the store refuses to mix two).
    fn settings(&self) -> ScorerSettings;

    /// Whether scores already in the store may be reused (an expensive scorer whose score of a
    /// candidate depends on that candidate alone); cheap scorers recompute everything.
    fn resumable(&self) -> bool {
        false
    }

    /// Scores the candidates `todo` (flat indices into `ds.cands`), calling `done` for each as
    /// soon as it is scored; `side` holds the stores the settings call for, open. Returns what
    /// the run produced beyond the scores.
    fn score(&mut self, ds: &Dataset, todo: &[usize], side: &mut SideStores, done: Done) -> Result<Produced>;
}

/// Builds a model-free scorer.
pub(crate) fn model_free(which: &ModelFree) -> Box<dyn Scorer> {
    match which {
        ModelFree::Consensus => Box::new(Consensus),
        ModelFree::Field(f) => Box::new(FieldScore::new(f)),
    }
}
