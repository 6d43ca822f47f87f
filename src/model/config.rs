//! config.json -> `ModelConfig` for the three supported architectures (Qwen3-MoE, Qwen3,
//! Qwen2), accepting both classic key names and the ones transformers 5 writes
//! (`rope_parameters`, `num_local_experts`, `dtype`), with bounds that turn absurd sizes into
//! errors before any allocation.

use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use serde::Deserialize;
use serde_json::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arch {
    Qwen3Moe,
    Qwen3,
    Qwen2,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct MoeConfig {
    pub(crate) num_experts: usize,
    pub(crate) top_k: usize,
    pub(crate) intermediate_size: usize,
    pub(crate) norm_topk_prob: bool,
    pub(crate) decoder_sparse_step: usize,
    pub(crate) mlp_only_layers: Vec<usize>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ModelConfig {
    pub(crate) arch: Arch,
    pub(crate) vocab_size: usize,
    pub(crate) hidden_size: usize,
    pub(crate) intermediate_size: usize,
    pub num_layers: usize,
    pub(crate) num_heads: usize,
    pub(crate) num_kv_heads: usize,
    pub(crate) head_dim: usize,
    pub(crate) rms_norm_eps: f64,
    pub(crate) rope_theta: f64,
    /// config.json's YaRN rope scaling, if any (`super::rope`); `--rope-scaling` may replace it.
    pub(crate) rope_scaling: Option<super::rope::Yarn>,
    /// `max_position_embeddings`, if given.
    pub(crate) max_positions: Option<usize>,
    pub(crate) tie_word_embeddings: bool,
    /// Bias on q/k/v (always for Qwen2; `attention_bias` for Qwen3).
    pub(crate) qkv_bias: bool,
    /// Per-head RMSNorm on q and k before RoPE (Qwen3 family).
    pub(crate) qk_norm: bool,
    pub(crate) moe: Option<MoeConfig>,
    /// The checkpoint's stored dtype (`torch_dtype` / `dtype`), if given.
    pub(crate) stored_dtype: Option<String>,
    /// A `*ForSequenceClassification` checkpoint's head (`score.weight`); `None`: the LM head.
    pub(crate) classifier: Option<super::head::Classifier>,
}

impl ModelConfig {
    /// Whether layer `i` uses the MoE block (transformers' Qwen3MoeDecoderLayer rule).
    pub fn is_moe_layer(&self, i: usize) -> bool {
        match &self.moe {
            Some(m) => {
                !m.mlp_only_layers.contains(&i) && m.num_experts > 0 && (i + 1).is_multiple_of(m.decoder_sparse_step)
            }
            None => false,
        }
    }

    /// Weights multiplied per token in the decoder layers (attention projections, the router
    /// and the k active experts, or the dense MLP): FLOPs per token = 2 x this (+ attention).
    pub fn active_linear_params(&self) -> u64 {
        self.decoder_params(|m| m.top_k as u64)
    }

    /// Every parameter (all experts, the embeddings and the head): what the weights take.
    pub(crate) fn total_params(&self) -> u64 {
        let vocab = self.vocab_size as u64 * self.hidden_size as u64;
        self.decoder_params(|m| m.num_experts as u64) + vocab * if self.tie_word_embeddings { 1 } else { 2 }
    }

    /// The decoder layers' linear weights, counting `experts(moe)` experts per MoE layer.
    fn decoder_params(&self, experts: impl Fn(&MoeConfig) -> u64) -> u64 {
        let (h, q, kv) = (
            self.hidden_size as u64,
            (self.num_heads * self.head_dim) as u64,
            (self.num_kv_heads * self.head_dim) as u64,
        );
        let attn = h * q + 2 * h * kv + q * h;
        (0..self.num_layers)
            .map(|i| match (&self.moe, self.is_moe_layer(i)) {
                (Some(m), true) => attn + h * m.num_experts as u64 + experts(m) * 3 * h * m.intermediate_size as u64,
                _ => attn + 3 * h * self.intermediate_size as u64,
            })
            .sum()
    }

    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("{}: cannot read", path.display()))?;
        let v: Value = serde_json::from_str(&text).map_err(|e| anyhow!("{}: invalid JSON: {e}", path.display()))?;
        Self::from_json(&v).map_err(|e| anyhow!("{}: {e}", path.display()))
    }

    /// Reads the HF keys (`RawConfig`), then checks sizes against bounds that turn absurd
    /// values into errors before any allocation.
    pub fn from_json(v: &Value) -> Result<Self> {
        let raw: RawConfig = serde_path_to_error::deserialize(v).map_err(|e| {
            let path = e.path().to_string();
            anyhow!("field `{path}`: {}", e.into_inner())
        })?;
        let (arch, classifies) = raw.arch()?;
        let classifier = if classifies { Some(super::head::Classifier::from_json(v)?) } else { None };
        let hidden_size = need("hidden_size", raw.hidden_size, 1 << 16)?;
        let (num_heads, num_kv_heads, head_dim) = raw.attention_shape(hidden_size)?;
        let rope_theta = raw.rope_theta()?;
        let max_positions = bounded("max_position_embeddings", raw.max_position_embeddings, 1 << 24)?;
        let rope_scaling = raw.yarn(max_positions)?;
        if raw.use_sliding_window == Some(true) {
            bail!("field `use_sliding_window`: sliding-window attention is not supported");
        }
        match raw.hidden_act.as_deref() {
            None | Some("silu") => {}
            Some(a) => bail!("field `hidden_act`: {a:?} is not supported (silu only)"),
        }
        let moe = if arch == Arch::Qwen3Moe { Some(raw.moe()?) } else { None };
        Ok(ModelConfig {
            arch,
            vocab_size: need("vocab_size", raw.vocab_size, 1 << 22)?,
            hidden_size,
            intermediate_size: bounded("intermediate_size", raw.intermediate_size, 1 << 20)?.unwrap_or(0),
            num_layers: need("num_hidden_layers", raw.num_hidden_layers, 1024)?,
            num_heads,
            num_kv_heads,
            head_dim,
            rms_norm_eps: finite("rms_norm_eps", raw.rms_norm_eps)?.unwrap_or(1e-6),
            rope_theta,
            rope_scaling,
            max_positions,
            tie_word_embeddings: raw.tie_word_embeddings.unwrap_or(false),
            qkv_bias: arch == Arch::Qwen2 || raw.attention_bias.unwrap_or(false),
            qk_norm: arch != Arch::Qwen2,
            moe,
            stored_dtype: raw.dtype.or(raw.torch_dtype),
            classifier,
        })
    }
}

/// config.json as transformers writes it, classic and transformers-5 key names (`null` is the
/// same as absent). Only the keys swerm reads; others are ignored.
#[derive(Debug, Default, Deserialize)]
struct RawConfig {
    #[serde(default)]
    architectures: Option<Vec<String>>,
    model_type: Option<String>,
    vocab_size: Option<u64>,
    hidden_size: Option<u64>,
    intermediate_size: Option<u64>,
    num_hidden_layers: Option<u64>,
    num_attention_heads: Option<u64>,
    num_key_value_heads: Option<u64>,
    head_dim: Option<u64>,
    rms_norm_eps: Option<f64>,
    rope_theta: Option<f64>,
    max_position_embeddings: Option<u64>,
    /// transformers 5 (`rope_parameters`) and classic (`rope_scaling`).
    rope_parameters: Option<RopeParams>,
    rope_scaling: Option<RopeParams>,
    tie_word_embeddings: Option<bool>,
    attention_bias: Option<bool>,
    use_sliding_window: Option<bool>,
    hidden_act: Option<String>,
    #[serde(alias = "num_local_experts")]
    num_experts: Option<u64>,
    num_experts_per_tok: Option<u64>,
    moe_intermediate_size: Option<u64>,
    norm_topk_prob: Option<bool>,
    decoder_sparse_step: Option<u64>,
    mlp_only_layers: Option<Vec<u64>>,
    dtype: Option<String>,
    torch_dtype: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct RopeParams {
    #[serde(alias = "type")]
    rope_type: Option<String>,
    rope_theta: Option<f64>,
    factor: Option<f64>,
    original_max_position_embeddings: Option<u64>,
    attention_factor: Option<f64>,
    beta_fast: Option<f64>,
    beta_slow: Option<f64>,
    mscale: Option<f64>,
    mscale_all_dim: Option<f64>,
    truncate: Option<bool>,
}

fn bounded(k: &str, v: Option<u64>, max: usize) -> Result<Option<usize>> {
    match v {
        Some(n) if n as usize > max || n > usize::MAX as u64 => {
            bail!("field `{k}`: {n} is beyond the supported maximum {max}")
        }
        other => Ok(other.map(|n| n as usize)),
    }
}

fn need(k: &str, v: Option<u64>, max: usize) -> Result<usize> {
    bounded(k, v, max)?.ok_or_else(|| anyhow!("field `{k}`: missing"))
}

fn finite(k: &str, v: Option<f64>) -> Result<Option<f64>> {
    match v {
        Some(x) if !x.is_finite() => bail!("field `{k}`: expected a finite number, found {x}"),
        other => Ok(other),
    }
}

impl RawConfig {
    /// The decoder, and whether the checkpoint is a classification head on it.
    fn arch(&self) -> Result<(Arch, bool)> {
        let first = self.architectures.as_ref().and_then(|a| a.first()).map(String::as_str);
        Ok(match (first, self.model_type.as_deref().unwrap_or("")) {
            (Some("Qwen3MoeForCausalLM"), _) | (None, "qwen3_moe") => (Arch::Qwen3Moe, false),
            (Some("Qwen3ForCausalLM"), _) | (None, "qwen3") => (Arch::Qwen3, false),
            (Some("Qwen2ForCausalLM"), _) | (None, "qwen2") => (Arch::Qwen2, false),
            (Some("Qwen3MoeForSequenceClassification"), _) => (Arch::Qwen3Moe, true),
            (Some("Qwen3ForSequenceClassification"), _) => (Arch::Qwen3, true),
            (Some("Qwen2ForSequenceClassification"), _) => (Arch::Qwen2, true),
            (Some(other), _) => bail!(
                "field `architectures`: {other} is not supported (supported: Qwen3MoeForCausalLM, Qwen3ForCausalLM, Qwen2ForCausalLM and their *ForSequenceClassification heads)"
            ),
            (None, t) => bail!("field `architectures`: missing, and model_type {t:?} is not qwen3_moe, qwen3 or qwen2"),
        })
    }

    /// (heads, key/value heads, head dim), consistent for grouped-query attention and RoPE.
    fn attention_shape(&self, hidden_size: usize) -> Result<(usize, usize, usize)> {
        let heads = need("num_attention_heads", self.num_attention_heads, 1024)?;
        let kv = bounded("num_key_value_heads", self.num_key_value_heads, 1024)?.unwrap_or(heads);
        let hd = match bounded("head_dim", self.head_dim, 1024)? {
            Some(d) => d,
            None if heads > 0 => hidden_size / heads,
            None => 0,
        };
        if heads == 0 || kv == 0 || !heads.is_multiple_of(kv) || hd == 0 || !hd.is_multiple_of(2) {
            bail!(
                "inconsistent attention shape: {heads} heads, {kv} key/value heads, head_dim {hd} (heads must be a multiple of key/value heads; head_dim even)"
            );
        }
        Ok((heads, kv, hd))
    }

    /// The rope parameters: transformers 5's `rope_parameters` or the classic `rope_scaling`;
    /// when both are there, the one that scales (a `rope_parameters` left at `default` beside a
    /// yarn `rope_scaling` is transformers 5 carrying the theta).
    fn rope_params(&self) -> Option<&RopeParams> {
        let scales = |p: &&RopeParams| p.rope_type.as_deref().is_some_and(|t| t != "default");
        let (a, b) = (self.rope_parameters.as_ref(), self.rope_scaling.as_ref());
        a.filter(scales).or(b.filter(scales)).or(a).or(b)
    }

    /// Plain RoPE or YaRN; theta from `rope_theta` or inside `rope_parameters` (default 10000).
    fn rope_theta(&self) -> Result<f64> {
        let params = self.rope_params();
        if let Some(kind) = params.and_then(|p| p.rope_type.as_deref()).filter(|k| !["default", "yarn"].contains(k)) {
            bail!("field `rope_scaling`: rope type {kind:?} is not supported (plain RoPE or yarn)");
        }
        let theta = self
            .rope_theta
            .or(params.and_then(|p| p.rope_theta))
            .or(self.rope_parameters.as_ref().and_then(|p| p.rope_theta));
        Ok(finite("rope_theta", theta)?.unwrap_or(10000.0))
    }

    /// The YaRN scaling of `rope_scaling` / `rope_parameters`, transformers' defaults filled in
    /// (the original context defaults to `max_position_embeddings`).
    fn yarn(&self, max_positions: Option<usize>) -> Result<Option<super::rope::Yarn>> {
        let Some(p) = self.rope_params() else { return Ok(None) };
        if p.rope_type.as_deref() != Some("yarn") {
            return Ok(None);
        }
        let original =
            bounded("rope_scaling.original_max_position_embeddings", p.original_max_position_embeddings, 1 << 24)?
                .or(max_positions)
                .ok_or_else(|| {
                    anyhow!(
                        "field `rope_scaling`: yarn needs original_max_position_embeddings or max_position_embeddings"
                    )
                })?;
        let factor = match finite("rope_scaling.factor", p.factor)? {
            Some(f) if f > 0.0 => f,
            Some(f) => bail!("field `rope_scaling.factor`: {f} is not positive"),
            None => match max_positions {
                Some(m) => m as f64 / original as f64,
                None => bail!("field `rope_scaling.factor`: missing"),
            },
        };
        let mut y = super::rope::Yarn::with_factor(factor, original);
        y.attention_factor = finite("rope_scaling.attention_factor", p.attention_factor)?;
        y.beta_fast = finite("rope_scaling.beta_fast", p.beta_fast)?.filter(|&b| b != 0.0).unwrap_or(32.0);
        y.beta_slow = finite("rope_scaling.beta_slow", p.beta_slow)?.filter(|&b| b != 0.0).unwrap_or(1.0);
        y.mscale = finite("rope_scaling.mscale", p.mscale)?;
        y.mscale_all_dim = finite("rope_scaling.mscale_all_dim", p.mscale_all_dim)?;
        y.truncate = p.truncate.unwrap_or(true);
        Ok(Some(y))
    }

    fn moe(&self) -> Result<MoeConfig> {
        let num_experts = need("num_experts", self.num_experts, 4096)?;
        let top_k = need("num_experts_per_tok", self.num_experts_per_tok, 4096)?;
        if top_k == 0 || top_k > num_experts {
            bail!("field `num_experts_per_tok`: {top_k} is not between 1 and num_experts ({num_experts})");
        }
        Ok(MoeConfig {
            num_experts,
            top_k,
            intermediate_size: need("moe_intermediate_size", self.moe_intermediate_size, 1 << 20)?,
            norm_topk_prob: self.norm_topk_prob.unwrap_or(false),
            decoder_sparse_step: bounded("decoder_sparse_step", self.decoder_sparse_step, 1024)?.unwrap_or(1).max(1),
            mlp_only_layers: self.mlp_only_layers.iter().flatten().map(|&n| n as usize).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn moe_json() -> Value {
        json!({"architectures":["Qwen3MoeForCausalLM"],"vocab_size":151936,"hidden_size":2048,"intermediate_size":6144,
               "num_hidden_layers":48,"num_attention_heads":32,"num_key_value_heads":4,"head_dim":128,"rms_norm_eps":1e-6,
               "rope_theta":1000000.0,"num_experts":128,"num_experts_per_tok":8,"moe_intermediate_size":768,
               "norm_topk_prob":true,"decoder_sparse_step":1,"mlp_only_layers":[],"tie_word_embeddings":false,"torch_dtype":"bfloat16"})
    }

    #[test]
    fn qwen3_30b_a3b_shape() {
        let c = ModelConfig::from_json(&moe_json()).unwrap();
        assert_eq!(c.arch, Arch::Qwen3Moe);
        assert_eq!(c.moe.as_ref().unwrap().num_experts, 128);
        assert!(c.qk_norm && !c.qkv_bias && c.is_moe_layer(0));
        // docs/spec/performance.md: 2.73B active parameters per token in the 48 layers.
        let active = c.active_linear_params() as f64 / 1e9;
        assert!((active - 2.73).abs() < 0.05, "{active}");
        assert_eq!(c.stored_dtype.as_deref(), Some("bfloat16"));
    }

    #[test]
    fn transformers5_keys() {
        let mut v = moe_json();
        let o = v.as_object_mut().unwrap();
        o.remove("rope_theta");
        o.remove("num_experts");
        o.insert("num_local_experts".into(), json!(64));
        o.insert("rope_parameters".into(), json!({"rope_type":"default","rope_theta":1e7}));
        let c = ModelConfig::from_json(&v).unwrap();
        assert_eq!((c.moe.unwrap().num_experts, c.rope_theta), (64, 1e7));
    }

    #[test]
    fn clear_errors() {
        let e = |v: Value| ModelConfig::from_json(&v).unwrap_err().to_string();
        assert!(e(json!({"architectures":["LlamaForCausalLM"]})).contains("LlamaForCausalLM is not supported"));
        let mut v = moe_json();
        v["hidden_size"] = json!(1u64 << 40);
        assert!(e(v).contains("field `hidden_size`"));
        let mut v = moe_json();
        v["rope_scaling"] = json!({"rope_type":"linear","factor":4.0});
        assert!(e(v).contains("\"linear\" is not supported"));
        let mut v = moe_json();
        v["max_position_embeddings"] = json!(40960);
        v["rope_scaling"] = json!({"rope_type":"yarn","factor":4.0,"original_max_position_embeddings":32768});
        let y = ModelConfig::from_json(&v).unwrap().rope_scaling.unwrap();
        assert_eq!((y.factor, y.original_max_positions, y.beta_fast), (4.0, 32768, 32.0));
        let mut v = moe_json();
        v["num_key_value_heads"] = json!(5);
        assert!(e(v).contains("inconsistent attention shape"));
    }
}
