//! The blocks of a Qwen decoder, each a type with `load` (from its checkpoint tensors, named as
//! transformers names them) and `forward`, as candle's own model files build them: the
//! attention block, the dense MLP, the MoE block (`moe::Moe`), and the decoder layer that holds
//! them between its two RMSNorms. `qwen::Model` stacks the layers.
//!
//! Every forward here is a prefill over packed sequences (`ranges`): tokens of one sequence
//! attend only to earlier tokens of the same sequence. The attention block computes its keys and
//! values in `project`, apart from `attend`, so that a decoding pass can keep them (a KV cache)
//! and attend new tokens to them.

use anyhow::{Result, bail};
use candle_core::Tensor;
use candle_nn::VarBuilder;

use super::attention::{self, FlashPlan};
use super::config::ModelConfig;
use super::moe::Moe;

/// A linear layer, `x · wᵀ + b`, its product through `cpu_matmul::matmul_t` (candle's matmul off
/// the CPU).
struct Linear {
    w: Tensor,
    b: Option<Tensor>,
}

impl Linear {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let y = super::cpu_matmul::matmul_t(x, &self.w)?;
        match &self.b {
            Some(b) => y.broadcast_add(b),
            None => Ok(y),
        }
    }
}

fn linear(vb: &VarBuilder, i: usize, o: usize, name: &str, bias: bool) -> candle_core::Result<Linear> {
    let w = vb.get((o, i), &format!("{name}.weight"))?;
    let b = if bias { Some(vb.get(o, &format!("{name}.bias"))?) } else { None };
    Ok(Linear { w, b })
}

/// Rotary position embedding of one pass: cos and sin per token, `[T, D/2]`, in the model dtype.
pub(crate) struct Rope {
    pub(crate) cos: Tensor,
    pub(crate) sin: Tensor,
}

impl Rope {
    /// `x` (`[T, heads, D]`) rotated by its tokens' positions.
    fn apply(&self, x: &Tensor) -> Result<Tensor> {
        Ok(candle_nn::rotary_emb::rope_thd(&x.unsqueeze(0)?.contiguous()?, &self.cos, &self.sin)?.squeeze(0)?)
    }
}

/// What one attention call needs beyond its input: the packed sequences, the FlashAttention
/// plan when built for it, and the score budget of the chunked fallback.
pub(crate) struct Packing<'a> {
    pub(crate) ranges: &'a [(usize, usize)],
    pub(crate) flash: Option<&'a FlashPlan>,
    pub(crate) budget: usize,
}

/// Grouped-query self-attention with optional per-head q/k RMSNorm (Qwen3) and q/k/v biases
/// (Qwen2).
pub(crate) struct SelfAttention {
    q: Linear,
    k: Linear,
    v: Linear,
    o: Linear,
    q_norm: Option<Tensor>,
    k_norm: Option<Tensor>,
    num_heads: usize,
    num_kv_heads: usize,
    head_dim: usize,
    eps: f32,
}

impl SelfAttention {
    /// From `self_attn.*`.
    pub(crate) fn load(a: &VarBuilder, cfg: &ModelConfig) -> Result<Self> {
        let (h, hd) = (cfg.hidden_size, cfg.head_dim);
        let (nq, nkv) = (cfg.num_heads * hd, cfg.num_kv_heads * hd);
        Ok(SelfAttention {
            q: linear(a, h, nq, "q_proj", cfg.qkv_bias)?,
            k: linear(a, h, nkv, "k_proj", cfg.qkv_bias)?,
            v: linear(a, h, nkv, "v_proj", cfg.qkv_bias)?,
            o: linear(a, nq, h, "o_proj", false)?,
            q_norm: if cfg.qk_norm { Some(a.get(hd, "q_norm.weight")?) } else { None },
            k_norm: if cfg.qk_norm { Some(a.get(hd, "k_norm.weight")?) } else { None },
            num_heads: cfg.num_heads,
            num_kv_heads: cfg.num_kv_heads,
            head_dim: hd,
            eps: cfg.rms_norm_eps as f32,
        })
    }

    /// Queries, keys and values of the normed input `h` (`[T, H]`), rotated: `[T, heads, D]`
    /// each (keys and values are what a KV cache would keep).
    pub(crate) fn project(&self, h: &Tensor, rope: &Rope) -> Result<(Tensor, Tensor, Tensor)> {
        let (t, hd) = (h.dim(0)?, self.head_dim);
        let mut q = self.q.forward(h)?.reshape((t, self.num_heads, hd))?;
        let mut k = self.k.forward(h)?.reshape((t, self.num_kv_heads, hd))?;
        let v = self.v.forward(h)?.reshape((t, self.num_kv_heads, hd))?;
        if let (Some(qn), Some(kn)) = (&self.q_norm, &self.k_norm) {
            q = candle_nn::ops::rms_norm(&q.contiguous()?, qn, self.eps)?;
            k = candle_nn::ops::rms_norm(&k.contiguous()?, kn, self.eps)?;
        }
        Ok((rope.apply(&q)?, rope.apply(&k)?, v.contiguous()?))
    }

    /// One decoding step: each row `i` of `q`, `k`, `v` (`[J, heads, D]`, one new token per
    /// sequence) is sequence `caches[i]`'s next token: its key and value join that cache, and its
    /// query attends to the whole cache (scores and softmax in f32). Then the output projection:
    /// `[J, H]`.
    pub(crate) fn attend_cached(
        &self,
        q: &Tensor,
        k: &Tensor,
        v: &Tensor,
        caches: &mut [&mut KvCache],
    ) -> Result<Tensor> {
        let (_, heads, d) = q.dims3()?;
        let group = heads / self.num_kv_heads;
        let scale = 1.0 / (d as f64).sqrt();
        let mut outs = Vec::with_capacity(caches.len());
        for (i, c) in caches.iter_mut().enumerate() {
            c.push(&k.get(i)?, &v.get(i)?)?;
            let (keys, values) = c.filled()?; // [n_kv, L, D]
            let qi = q.get(i)?.reshape((self.num_kv_heads, group, d))?;
            let s = (qi.matmul(&keys.t()?)?.to_dtype(candle_core::DType::F32)? * scale)?; // [n_kv, group, L]
            let p = candle_nn::ops::softmax_last_dim(&s)?.to_dtype(q.dtype())?;
            outs.push(p.matmul(&values)?.reshape((1, heads * d))?);
        }
        Ok(self.o.forward(&Tensor::cat(&outs, 0)?)?)
    }

    /// Causal attention of the projected `q`, `k`, `v` within each packed sequence, then the
    /// output projection: `[T, H]`.
    pub(crate) fn attend(&self, q: &Tensor, k: &Tensor, v: &Tensor, p: &Packing) -> Result<Tensor> {
        let a = attention::attend(q, k, v, p.ranges, p.flash, p.budget)?;
        Ok(self.o.forward(&a)?)
    }
}

/// The SwiGLU feed-forward block of a dense layer: down(silu(gate(h)) * up(h)).
pub(crate) struct DenseMlp {
    gate: Linear,
    up: Linear,
    down: Linear,
}

impl DenseMlp {
    /// From `mlp.*` (layer `i`, for the message when the config says no width).
    pub(crate) fn load(f: &VarBuilder, cfg: &ModelConfig, i: usize) -> Result<Self> {
        if cfg.intermediate_size == 0 {
            bail!("config.json: field `intermediate_size`: missing (layer {i} is dense)");
        }
        let (h, n) = (cfg.hidden_size, cfg.intermediate_size);
        Ok(DenseMlp {
            gate: linear(f, h, n, "gate_proj", false)?,
            up: linear(f, h, n, "up_proj", false)?,
            down: linear(f, n, h, "down_proj", false)?,
        })
    }

    pub(crate) fn forward(&self, h: &Tensor) -> Result<Tensor> {
        Ok(self.down.forward(&(candle_nn::ops::silu(&self.gate.forward(h)?)? * self.up.forward(h)?)?)?)
    }
}

/// A layer's feed-forward block.
pub(crate) enum Mlp {
    Dense(DenseMlp),
    Moe(Moe),
}

impl Mlp {
    /// `residual` plus the block's output of the normed `h`.
    pub(crate) fn forward_residual(&self, h: &Tensor, residual: &Tensor) -> Result<Tensor> {
        match self {
            Mlp::Dense(d) => Ok((residual + d.forward(h)?)?),
            // The MoE adds its output to the residual itself (one fused pass).
            Mlp::Moe(m) => Ok(m.forward(h, residual)?),
        }
    }
}

/// Which part of a layer's forward a profiling mark closes.
#[derive(Clone, Copy)]
pub(crate) enum Part {
    Attention,
    Ffn,
    Other,
}

/// One decoder layer: x + attn(norm1(x)), then + mlp(norm2(.)).
/// Receives one layer's rotated keys and values during a prefill (a KV cache keeps them).
pub(crate) type KeepKv<'a> = &'a mut dyn FnMut(&Tensor, &Tensor) -> Result<()>;

pub(crate) struct DecoderLayer {
    ln1: Tensor,
    attn: SelfAttention,
    ln2: Tensor,
    mlp: Mlp,
    eps: f32,
}

impl DecoderLayer {
    /// Layer `i` from `model.layers.{i}.*`.
    pub(crate) fn load(l: &VarBuilder, cfg: &ModelConfig, i: usize) -> Result<Self> {
        let h = cfg.hidden_size;
        let mlp = if cfg.is_moe_layer(i) {
            Mlp::Moe(Moe::load(&l.pp("mlp"), cfg)?)
        } else {
            Mlp::Dense(DenseMlp::load(&l.pp("mlp"), cfg, i)?)
        };
        Ok(DecoderLayer {
            ln1: l.get(h, "input_layernorm.weight")?,
            attn: SelfAttention::load(&l.pp("self_attn"), cfg)?,
            ln2: l.get(h, "post_attention_layernorm.weight")?,
            mlp,
            eps: cfg.rms_norm_eps as f32,
        })
    }

    /// The layer over the packed hidden states `x` (`[T, H]`); `mark` closes each part of the
    /// work for profiling; `keep`, when given, receives the layer's rotated keys and values
    /// (`[T, n_kv, D]` each: what a KV cache holds).
    pub(crate) fn forward(
        &self,
        x: &Tensor,
        rope: &Rope,
        p: &Packing,
        mark: &mut dyn FnMut(Part) -> Result<()>,
        keep: Option<KeepKv<'_>>,
    ) -> Result<Tensor> {
        let h = candle_nn::ops::rms_norm(x, &self.ln1, self.eps)?;
        let (q, k, v) = self.attn.project(&h, rope)?;
        if let Some(keep) = keep {
            keep(&k, &v)?;
        }
        mark(Part::Other)?;
        let a = self.attn.attend(&q, &k, &v, p)?;
        mark(Part::Attention)?;
        let x = (x + a)?;
        let h = candle_nn::ops::rms_norm(&x, &self.ln2, self.eps)?;
        mark(Part::Other)?;
        let x = self.mlp.forward_residual(&h, &x)?;
        mark(Part::Ffn)?;
        Ok(x)
    }
}

impl DecoderLayer {
    /// One decoding step of the layer: row `i` of `x` (`[J, H]`) is the next token of the
    /// sequence whose cache is `caches[i]`.
    pub(crate) fn step(&self, x: &Tensor, rope: &Rope, caches: &mut [&mut KvCache]) -> Result<Tensor> {
        let h = candle_nn::ops::rms_norm(x, &self.ln1, self.eps)?;
        let (q, k, v) = self.attn.project(&h, rope)?;
        let x = (x + self.attn.attend_cached(&q, &k, &v, caches)?)?;
        let h = candle_nn::ops::rms_norm(&x, &self.ln2, self.eps)?;
        self.mlp.forward_residual(&h, &x)
    }
}

/// One sequence's keys and values in one attention block, `[n_kv, capacity, D]` each, filled up
/// to `len`: allocated once (the prompt and every token it may generate), written in place.
pub(crate) struct KvCache {
    k: Tensor,
    v: Tensor,
    len: usize,
}

impl KvCache {
    /// A cache holding `k` and `v` (`[L, n_kv, D]`, a prompt's) with room for `extra` more.
    pub(crate) fn new(k: &Tensor, v: &Tensor, extra: usize) -> Result<Self> {
        let (len, n_kv, d) = k.dims3()?;
        let make = |x: &Tensor| -> Result<Tensor> {
            let buf = Tensor::zeros((n_kv, len + extra, d), x.dtype(), x.device())?;
            buf.slice_set(&x.transpose(0, 1)?.contiguous()?, 1, 0)?;
            Ok(buf)
        };
        Ok(KvCache { k: make(k)?, v: make(v)?, len })
    }

    /// Appends one token's key and value (`[n_kv, D]` each).
    fn push(&mut self, k: &Tensor, v: &Tensor) -> Result<()> {
        if self.len == self.k.dim(1)? {
            bail!("KV cache full at {} tokens", self.len);
        }
        self.k.slice_set(&k.unsqueeze(1)?.contiguous()?, 1, self.len)?;
        self.v.slice_set(&v.unsqueeze(1)?.contiguous()?, 1, self.len)?;
        self.len += 1;
        Ok(())
    }

    /// The keys and values so far, `[n_kv, len, D]` each (views into the buffers).
    fn filled(&self) -> Result<(Tensor, Tensor)> {
        Ok((self.k.narrow(1, 0, self.len)?, self.v.narrow(1, 0, self.len)?))
    }
}
