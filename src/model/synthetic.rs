//! Random weights of a given shape, generated on the device (no download, no disk): a candle
//! `VarBuilder` backend that answers every tensor request with N(0, 0.02) values (norm weights:
//! 1). Real weights and random ones exercise exactly the same kernels, so throughput and memory
//! measured on them are the real ones.

use candle_core::{DType, Device, Result, Shape, Tensor};
use candle_nn::var_builder::SimpleBackend;
use candle_nn::{Init, VarBuilder};

use super::config::ModelConfig;

struct Random;

impl SimpleBackend for Random {
    fn get(&self, s: Shape, name: &str, _: Init, dtype: DType, dev: &Device) -> Result<Tensor> {
        if name.ends_with("norm.weight") {
            return Tensor::ones(s, dtype, dev);
        }
        // Generated in f32 (curand has no bf16), converted one tensor at a time.
        Tensor::randn(0f32, 0.02, s, dev)?.to_dtype(dtype)
    }
    fn get_unchecked(&self, name: &str, _: DType, _: &Device) -> Result<Tensor> {
        candle_core::bail!("synthetic weights need a shape for {name}")
    }
    /// Fused expert tensors (one allocation per layer) and an untied head.
    fn contains_tensor(&self, name: &str) -> bool {
        !name.contains("experts.0.")
    }
}

pub(crate) fn var_builder(dtype: DType, dev: &Device) -> VarBuilder<'static> {
    VarBuilder::from_backend(Box::new(Random), dtype, dev.clone())
}

/// The names [`shape`] knows.
pub(crate) const SHAPES: [&str; 4] = ["qwen3-30b-a3b", "tiny-moe", "qwen3-0.6b", "qwen3-moe-1024"];

/// Named shapes for `swerm bench --synthetic`.
pub(crate) fn shape(name: &str) -> anyhow::Result<ModelConfig> {
    let v = match name {
        // Qwen3-30B-A3B (the SWE-RM base; docs/spec/performance.md).
        "qwen3-30b-a3b" => serde_json::json!({
            "architectures": ["Qwen3MoeForCausalLM"], "vocab_size": 151936, "hidden_size": 2048,
            "intermediate_size": 6144, "num_hidden_layers": 48, "num_attention_heads": 32,
            "num_key_value_heads": 4, "head_dim": 128, "rms_norm_eps": 1e-6, "rope_theta": 1e6,
            "num_experts": 128, "num_experts_per_tok": 8, "moe_intermediate_size": 768,
            "norm_topk_prob": true, "decoder_sparse_step": 1, "mlp_only_layers": [],
            "tie_word_embeddings": false
        }),
        // A small MoE for CPU runs and tests.
        "tiny-moe" => serde_json::json!({
            "architectures": ["Qwen3MoeForCausalLM"], "vocab_size": 1024, "hidden_size": 64,
            "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
            "num_key_value_heads": 2, "head_dim": 16, "num_experts": 8, "num_experts_per_tok": 2,
            "moe_intermediate_size": 32, "norm_topk_prob": true, "tie_word_embeddings": false
        }),
        // Qwen3-0.6B's shape (dense), the CPU prefill benchmark's (scripts/bench_prefill.py).
        "qwen3-0.6b" => serde_json::json!({
            "architectures": ["Qwen3ForCausalLM"], "vocab_size": 151936, "hidden_size": 1024,
            "intermediate_size": 3072, "num_hidden_layers": 28, "num_attention_heads": 16,
            "num_key_value_heads": 8, "head_dim": 128, "rms_norm_eps": 1e-6, "rope_theta": 1e6,
            "tie_word_embeddings": true
        }),
        // A small Qwen3-MoE of the real layout (hidden 1024, 32 experts, top-4), the CPU prefill
        // benchmark's other shape.
        "qwen3-moe-1024" => serde_json::json!({
            "architectures": ["Qwen3MoeForCausalLM"], "vocab_size": 151936, "hidden_size": 1024,
            "intermediate_size": 3072, "num_hidden_layers": 8, "num_attention_heads": 16,
            "num_key_value_heads": 4, "head_dim": 128, "rms_norm_eps": 1e-6, "rope_theta": 1e6,
            "num_experts": 32, "num_experts_per_tok": 4, "moe_intermediate_size": 512,
            "norm_topk_prob": true, "decoder_sparse_step": 1, "mlp_only_layers": [],
            "tie_word_embeddings": false
        }),
        _ => anyhow::bail!("--synthetic {name}: expected one of {}", SHAPES.join(", ")),
    };
    ModelConfig::from_json(&v)
}
