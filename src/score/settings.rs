//! What identifies a scorer: `ScorerSettings` holds every setting that changes the scores (the
//! score store's header, report.json's `scorer_settings`) and gives the short name people read
//! (summaries, plot titles, report.json's `scorer`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::combine::{Scale, SourceId};
use crate::prompt::Preset;
use crate::prompt::pairwise::PairwiseId;

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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifierId {
    /// The checkpoint: an absolute directory, or `org/name@revision`.
    pub(crate) model: String,
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
    /// issue statements; absent when they did not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) dataset: Option<String>,
    /// `--label`, as given, when a classification head was scored by a named label (the
    /// default label is fixed by the checkpoint, which `model` names).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) label: Option<String>,
    /// `--pairwise`: a pairwise judge's tournament (its answers are `A` and `B`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) pairwise: Option<PairwiseId>,
}

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
            preset: Preset::SweGym,
            answers: [" YES".into(), " NO".into()],
            max_tokens: None,
            dtype: "f32".into(),
            engine: None,
            dataset: None,
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

    fn vid() -> VerifierId {
        VerifierId {
            model: String::new(),
            preset: Preset::R2EGym,
            answers: ["YES".into(), "NO".into()],
            max_tokens: Some(100),
            dtype: "bf16".into(),
            label: None,
            engine: None,
            dataset: None,
            pairwise: None,
        }
    }
}
