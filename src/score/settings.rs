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
                let kind = if v.pairwise.is_some() { "pairwise judge" } else { "verifier" };
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
        }
    }
}
