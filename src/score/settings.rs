//! What identifies a scorer: `ScorerSettings` holds every setting that changes the scores (the
//! score store's header, report.json's `scorer_settings`) and gives the short name people read
//! (summaries, plot titles, report.json's `scorer`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::prompt::Preset;
use crate::prompt::pairwise::PairwiseId;

/// The scale `--combine` sources are summed on (`score::combine`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scale {
    Z,
    Logit,
}

impl FromStr for Scale {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "z" => Ok(Scale::Z),
            "logit" => Ok(Scale::Logit),
            _ => Err(format!("{s:?}: expected z (per-instance z-scores) or logit")),
        }
    }
}

impl fmt::Display for Scale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Scale::Z => "z",
            Scale::Logit => "logit",
        })
    }
}

/// One source in the combined scorer's identity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SourceId {
    pub(crate) name: String,
    pub(crate) weight: f64,
    /// `consensus`, `field:PATH`, or the store's scorer and files.
    pub(crate) source: String,
}

/// A scorer that needs no model: `consensus` or `field:NAME` (`--scorer`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ModelFree {
    Consensus,
    /// A score already in each record, by dotted path (`verifier.p_yes`).
    Field(String),
}

impl FromStr for ModelFree {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "consensus" => Ok(ModelFree::Consensus),
            _ => match s.strip_prefix("field:") {
                Some(f) if !f.is_empty() && f.split('.').all(|p| !p.is_empty()) => Ok(ModelFree::Field(f.to_string())),
                _ => Err(format!("{s:?}: expected `consensus` or `field:NAME` (NAME a dotted path such as v.p_yes)")),
            },
        }
    }
}

/// Everything about an LM verifier that changes its scores.
///
/// Decision (identity by content, not path): the checkpoint is identified by `checkpoint`, a
/// digest of its files (`Checkpoint::digest`), and `--dataset` by `dataset_rows`, a digest of
/// the rows it supplies (`IssueSpec::digest`); `model` and `dataset` keep where they were, as
/// information. So shards scored at different paths merge, a moved checkpoint resumes, and a
/// parquet and a JSONL of the same rows are one dataset. A store written before the digests
/// (its header has none) is compared as it was then, by path (`same_as`), and resumes with a
/// note.
#[derive(Clone, Debug, Eq, Serialize, Deserialize)]
pub struct VerifierId {
    /// The checkpoint as named: an absolute directory, or `org/name@revision` (information).
    pub(crate) model: String,
    /// The checkpoint's content digest (identity); absent in stores written before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) checkpoint: Option<String>,
    /// `--rope-scaling` when the forward does not follow config.json (`yarn:4`, `none`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) rope_scaling: Option<String>,
    pub(crate) preset: Preset,
    /// The (yes, no) answer strings.
    pub(crate) answers: [String; 2],
    pub(crate) max_tokens: Option<usize>,
    /// The dtype the forward pass ran in (`f32`, `bf16`, `f16`; `engine` when an engine ran it).
    pub(crate) dtype: String,
    /// The served model name when inference engines (`--endpoint`) scored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) engine: Option<String>,
    /// `--dataset` (`NAME:SPLIT`, a local dataset by its absolute path) when prompts showed its
    /// issue statements; absent when they did not (information).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) dataset: Option<String>,
    /// The digest of the rows `--dataset` supplies (identity); absent without one, and in stores
    /// written before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) dataset_rows: Option<String>,
    /// `--label`, as given, when a classification head was scored by a named label (the
    /// default label is fixed by the checkpoint, which `model` names).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) label: Option<String>,
    /// `--pairwise`: a pairwise judge's tournament (its answers are `A` and `B`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) pairwise: Option<PairwiseId>,
    /// `--generate`: a judge that reasons before it answers, and how its samples are drawn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) generation: Option<GenerationSpec>,
    /// `--template FILE`: the user template the prompts were rendered with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) template: Option<TemplateId>,
}

/// A user template in a scorer's identity: its text's digest (identity) and its path
/// (information: a moved template with the same text is the same scorer).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TemplateId {
    pub(crate) path: String,
    pub(crate) digest: String,
}

impl PartialEq for TemplateId {
    fn eq(&self, o: &Self) -> bool {
        self.digest == o.digest
    }
}

impl Eq for TemplateId {}

/// How a judge that reasons first is decoded and read (`--generate` and its options): every
/// setting here changes its scores.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GenerationSpec {
    /// At most this many new tokens per sample.
    pub(crate) max_new: usize,
    /// 0: greedy.
    pub(crate) temperature: f64,
    pub(crate) top_p: f64,
    /// The sampling seed; absent when greedy (nothing is drawn).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) seed: Option<u64>,
    /// Generation stops at any of these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) stop: Vec<String>,
    pub(crate) verdict: Verdict,
    /// Samples per candidate; the score is the mean of the valid ones.
    pub(crate) samples: usize,
    /// Where the `logprob` verdict reads the answer: the next position after this text.
    pub(crate) marker: String,
}

impl PartialEq for GenerationSpec {
    fn eq(&self, o: &Self) -> bool {
        self.max_new == o.max_new
            && self.temperature.to_bits() == o.temperature.to_bits()
            && self.top_p.to_bits() == o.top_p.to_bits()
            && self.seed == o.seed
            && self.stop == o.stop
            && self.verdict == o.verdict
            && self.samples == o.samples
            && self.marker == o.marker
    }
}

impl Eq for GenerationSpec {}

/// How a generated sample's verdict is read (`--verdict`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// P(YES) over the answer tokens at the position after the answer marker.
    Logprob,
    /// A value read from the text after the reasoning (`score::generative::verdict`).
    Parse,
}

impl FromStr for Verdict {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "logprob" => Ok(Verdict::Logprob),
            "parse" => Ok(Verdict::Parse),
            _ => Err(format!("{s:?}: expected logprob or parse")),
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Logprob => "logprob",
            Verdict::Parse => "parse",
        })
    }
}

impl GenerationSpec {
    /// The options checked: a token budget, a temperature and nucleus that make sense, and
    /// several samples only when they can differ.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        max_new: usize,
        temperature: f64,
        top_p: f64,
        seed: u64,
        stop: Vec<String>,
        verdict: Verdict,
        samples: usize,
        marker: String,
    ) -> Result<Self, String> {
        if max_new == 0 {
            return Err("--generate must be at least 1 (new tokens per sample)".into());
        }
        if !(temperature.is_finite() && temperature >= 0.0) {
            return Err(format!("--temperature {temperature}: expected 0 (greedy) or more"));
        }
        if !(top_p > 0.0 && top_p <= 1.0) {
            return Err(format!("--top-p {top_p}: expected a value in (0, 1]"));
        }
        if samples == 0 {
            return Err("--samples must be at least 1".into());
        }
        if samples > 1 && temperature == 0.0 {
            return Err(format!(
                "--samples {samples} with --temperature 0: greedy decoding gives {samples} identical samples; set a temperature (SWE-World's judge samples at 0.7)"
            ));
        }
        if stop.iter().any(String::is_empty) || marker.is_empty() {
            return Err("--stop and --answer-marker take non-empty strings".into());
        }
        let seed = (temperature > 0.0).then_some(seed);
        Ok(GenerationSpec { max_new, temperature, top_p, seed, stop, verdict, samples, marker })
    }

    /// In words, for the scorer's name (`generate 512, T 0.7, 3 samples, parse`).
    pub(crate) fn describe(&self) -> String {
        let t = if self.temperature == 0.0 { "greedy".to_string() } else { format!("T {}", self.temperature) };
        format!(
            "generate {}, {t}, {} sample{}, {}",
            self.max_new,
            self.samples,
            if self.samples == 1 { "" } else { "s" },
            self.verdict
        )
    }
}

impl PartialEq for VerifierId {
    /// The same scores: the digests where both sides have them, the paths otherwise (a store
    /// written before the digests); every other setting as it is.
    fn eq(&self, o: &Self) -> bool {
        let by = |a: &Option<String>, b: &Option<String>, x: &Option<String>, y: &Option<String>| match (a, b) {
            (Some(a), Some(b)) => a == b,
            _ => x == y,
        };
        let model = match (&self.checkpoint, &o.checkpoint) {
            (Some(a), Some(b)) => a == b,
            _ => self.model == o.model,
        };
        model
            && by(&self.dataset_rows, &o.dataset_rows, &self.dataset, &o.dataset)
            && self.dataset.is_some() == o.dataset.is_some()
            && self.preset == o.preset
            && self.answers == o.answers
            && self.max_tokens == o.max_tokens
            && self.dtype == o.dtype
            && self.engine == o.engine
            && self.label == o.label
            && self.pairwise == o.pairwise
            && self.rope_scaling == o.rope_scaling
            && self.generation == o.generation
            && self.template == o.template
    }
}

impl VerifierId {
    /// Whether this identity lacks a digest `now` has (its store was written before them).
    pub(crate) fn predates(&self, now: &VerifierId) -> bool {
        (self.checkpoint.is_none() && now.checkpoint.is_some())
            || (self.dataset_rows.is_none() && now.dataset_rows.is_some())
    }
}

// A handful exist per run (one per store): their size does not matter, boxing would only add
// noise at every match.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum ScorerSettings {
    Consensus,
    Field {
        field: String,
    },
    Verifier(VerifierId),
    /// `--combine`: weighted sources on a scale, and the tie-break chain.
    Combined {
        sources: Vec<SourceId>,
        scale: Scale,
        tie_break: Vec<String>,
    },
}

impl ScorerSettings {
    /// The name people read: `consensus`, `field:v.p_yes`, `verifier qwen3-moe`.
    pub(crate) fn short(&self) -> String {
        match self {
            ScorerSettings::Consensus => "consensus".into(),
            ScorerSettings::Field { field } => format!("field:{field}"),
            ScorerSettings::Combined { sources, scale, .. } => {
                let parts: Vec<String> = sources.iter().map(|s| format!("{}·{}", s.weight, s.name)).collect();
                format!("combined {} ({scale})", parts.join(" + "))
            }
            ScorerSettings::Verifier(v) => {
                let name = v.model.split('@').next().unwrap_or(&v.model);
                let name = name.trim_end_matches('/').rsplit('/').next().unwrap_or(name);
                let kind = match (&v.pairwise, &v.generation) {
                    (Some(_), _) => "pairwise judge",
                    (None, Some(_)) => "reasoning judge",
                    (None, None) => "verifier",
                };
                match &v.engine {
                    None => format!("{kind} {name}"),
                    Some(_) => format!("{kind} {name} (engine)"),
                }
            }
        }
    }

    /// Every setting, as one line of JSON (for messages).
    pub(crate) fn full(&self) -> String {
        serde_json::to_string(self).expect("settings serialize")
    }
}

impl From<&ModelFree> for ScorerSettings {
    fn from(m: &ModelFree) -> Self {
        match m {
            ModelFree::Consensus => ScorerSettings::Consensus,
            ModelFree::Field(f) => ScorerSettings::Field { field: f.clone() },
        }
    }
}

impl fmt::Display for ScorerSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.short())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_parsing() {
        assert_eq!("consensus".parse::<ModelFree>(), Ok(ModelFree::Consensus));
        assert_eq!("field:v.p".parse::<ModelFree>(), Ok(ModelFree::Field("v.p".into())));
        assert!("field:".parse::<ModelFree>().is_err() && "field:a..b".parse::<ModelFree>().is_err());
        assert!("vibes".parse::<ModelFree>().is_err());
        let v = ScorerSettings::Verifier(VerifierId {
            model: "/m/tiny/qwen3-moe".into(),
            checkpoint: None,
            rope_scaling: None,
            preset: Preset::SweGym,
            answers: [" YES".into(), " NO".into()],
            max_tokens: None,
            dtype: "f32".into(),
            engine: None,
            dataset: None,
            dataset_rows: None,
            label: None,
            pairwise: None,
            generation: None,
            template: None,
        });
        assert_eq!(v.short(), "verifier qwen3-moe");
        let back: ScorerSettings = serde_json::from_str(&v.full()).unwrap();
        assert_eq!(back, v);
        assert_eq!(ScorerSettings::Field { field: "a.b".into() }.full(), r#"{"kind":"field","field":"a.b"}"#);
        let hub = VerifierId { model: "SWE-Gym/OpenHands-32B-Verifier@main".into(), ..vid() };
        assert_eq!(ScorerSettings::Verifier(hub).short(), "verifier OpenHands-32B-Verifier");
        let pw = VerifierId { pairwise: Some(PairwiseId { round_robin_max: 8, pivots: 3 }), ..vid() };
        assert_eq!(ScorerSettings::Verifier(pw).short(), "pairwise judge ");
    }

    /// Content decides where both sides have digests; paths only for a store without them.
    #[test]
    fn identity_by_content() {
        let at = |model: &str, ck: Option<&str>| VerifierId {
            model: model.into(),
            checkpoint: ck.map(String::from),
            ..vid()
        };
        assert_eq!(at("/a/m", Some("sha256:1")), at("/b/m", Some("sha256:1")), "moved: the same");
        assert_ne!(at("/a/m", Some("sha256:1")), at("/a/m", Some("sha256:2")), "same path, other files");
        assert_eq!(at("/a/m", None), at("/a/m", Some("sha256:1")), "an old store, same path");
        assert_ne!(at("/a/m", None), at("/b/m", Some("sha256:1")), "an old store, another path");
        assert!(at("/a/m", None).predates(&at("/a/m", Some("sha256:1"))));
        let ds = |name: &str, rows: Option<&str>| VerifierId {
            dataset: Some(name.into()),
            dataset_rows: rows.map(String::from),
            ..vid()
        };
        assert_eq!(ds("/x/lite.parquet:test", Some("r")), ds("/y/lite.jsonl:test", Some("r")));
        assert_ne!(ds("/x/lite.parquet:test", Some("r")), ds("/x/lite.parquet:test", Some("s")));
        assert_ne!(ds("/x/lite.parquet:test", Some("r")), vid(), "with and without --dataset");
    }

    fn vid() -> VerifierId {
        VerifierId {
            model: String::new(),
            checkpoint: None,
            rope_scaling: None,
            preset: Preset::R2EGym,
            answers: ["YES".into(), "NO".into()],
            max_tokens: Some(100),
            dtype: "bf16".into(),
            label: None,
            engine: None,
            dataset: None,
            dataset_rows: None,
            pairwise: None,
            generation: None,
            template: None,
        }
    }
}
