//! The verifier model: config.json (`config`), and our own
//! stateless, prefill-only forward pass for Qwen3-MoE / Qwen3 / Qwen2 (`qwen`, a stack of the
//! decoder blocks in `blocks`, each a type with `load` and `forward`), built from
//! candle ops: packed variable-length sequences, causal attention (`attention`: chunked matmuls,
//! or FlashAttention-2 in a `flash-attn` build), top-k MoE routing with no per-token host work
//! (`moe`, its custom ops with CPU and CUDA implementations in `moe_ops`), and the LM head applied
//! to two answer rows at each last position, or a classification head (`head`) to its label
//! rows. `selftest` checks the CUDA kernels against the CPU. Judges that reason first decode:
//! `decode` keeps each block's keys and values (a KV cache) after the packed prefill and feeds
//! one token per sequence per step; `generate` draws the tokens and stops them.

pub(crate) mod attention;
pub(crate) mod batch;
pub(crate) mod blocks;
pub(crate) mod causal_softmax;
pub(crate) mod config;
pub(crate) mod cpu_attention;
pub(crate) mod cpu_matmul;
pub(crate) mod decode;
pub(crate) mod device;
pub(crate) mod generate;
pub(crate) mod head;
pub(crate) mod moe;
pub(crate) mod moe_ops;
pub(crate) mod qwen;
pub(crate) mod rope;
pub(crate) mod selftest;
pub(crate) mod synthetic;

pub(crate) use batch::{Batch, forward_splitting};
pub use config::{Arch, ModelConfig};
pub(crate) use qwen::{Model, Profile};
