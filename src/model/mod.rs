//! The verifier model: config.json (`config`), and our own
//! stateless, prefill-only forward pass for Qwen3-MoE / Qwen3 / Qwen2 (`qwen`), built from
//! candle ops: packed variable-length sequences, chunked causal attention (`attention`), top-k
//! MoE routing (`moe`), and the LM head applied to two answer rows at each last position.

pub mod attention;
pub mod batch;
pub mod causal_softmax;
pub mod config;
pub mod device;
pub mod moe;
pub mod moe_ops;
pub mod qwen;
pub mod selftest;
pub mod synthetic;

pub use batch::{Batch, forward_splitting};
pub use config::{Arch, ModelConfig};
pub use qwen::{Model, Profile};
