//! The Qwen3-MoE / Qwen3 / Qwen2 decoder as a stateless prefill-only scorer: packed sequences
//! in, the two answer-token logits at each sequence's last position out. Tensor names follow
//! the transformers checkpoints (`model.layers.N.self_attn.q_proj.weight`, ...).

use anyhow::{Context, Result, bail};
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;

use super::attention;
use super::batch::Batch;
use super::blocks::{DecoderLayer, KeepKv, Packing, Part, Rope};
use super::config::ModelConfig;

/// Receives each layer's rotated keys and values during a prefill: `(layer, k, v)`.
type KeepLayers<'a> = &'a mut dyn FnMut(usize, &Tensor, &Tensor) -> Result<()>;

pub(crate) struct Model {
    pub(crate) cfg: ModelConfig,
    pub(super) embed: Tensor,
    pub(super) layers: Vec<DecoderLayer>,
    pub(super) norm: Tensor,
    pub(super) head: Tensor,
    inv_freq: Tensor,
    /// YaRN's attention factor on cos and sin (1: plain RoPE).
    rope_attention: f64,
    pub(crate) device: Device,
    pub(crate) dtype: DType,
    /// Attention score budget per chunk (elements).
    pub(crate) attn_budget: usize,
    /// Time per part of the forward pass, when measured (`swerm bench --profile`).
    pub(crate) profile: Option<std::sync::Mutex<Profile>>,
}

/// Seconds spent in attention, in the feed-forward blocks (MoE or dense) and in the rest of the
/// forward pass. Each part ends with a device synchronization, so the kernels it launched are
/// counted in it (which costs a little time: only measured when asked).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Profile {
    pub(crate) attention: f64,
    pub(crate) ffn: f64,
    pub(crate) other: f64,
}

/// The profiling clock of one forward pass.
pub(super) struct Clock<'a> {
    model: &'a Model,
    last: std::time::Instant,
}

impl<'a> Clock<'a> {
    pub(super) fn new(model: &'a Model) -> Self {
        Clock { model, last: std::time::Instant::now() }
    }

    /// Charges the time since the last mark to `part` (a no-op unless profiling).
    pub(super) fn mark(&mut self, part: Part) -> Result<()> {
        let Some(p) = &self.model.profile else { return Ok(()) };
        self.model.device.synchronize()?;
        let now = std::time::Instant::now();
        let dt = (now - self.last).as_secs_f64();
        self.last = now;
        let mut p = p.lock().unwrap_or_else(|e| e.into_inner());
        match part {
            Part::Attention => p.attention += dt,
            Part::Ffn => p.ffn += dt,
            Part::Other => p.other += dt,
        }
        Ok(())
    }
}

impl Model {
    /// Loads the weights (memory-mapped safetensors) in `dtype` on `device`.
    pub fn load(cfg: ModelConfig, weights: &[std::path::PathBuf], dtype: DType, device: &Device) -> Result<Self> {
        // SAFETY: the files are mapped read-only; swerm never writes them while mapped.
        let vb = unsafe { VarBuilder::from_mmaped_safetensors(weights, dtype, device) }
            .with_context(|| format!("reading safetensors {}", weights[0].display()))?;
        Self::from_var_builder(cfg, vb, dtype, device)
    }

    /// Builds the model from any source of named tensors (a checkpoint, or random weights).
    pub(crate) fn from_var_builder(cfg: ModelConfig, vb: VarBuilder, dtype: DType, device: &Device) -> Result<Self> {
        if device.is_cpu() {
            crate::memory::keep_freed_memory();
        }
        let (h, hd) = (cfg.hidden_size, cfg.head_dim);
        let m = vb.pp("model");
        let embed = m.get((cfg.vocab_size, h), "embed_tokens.weight")?;
        let layers = (0..cfg.num_layers)
            .map(|i| DecoderLayer::load(&m.pp(format!("layers.{i}")), &cfg, i))
            .collect::<Result<_>>()?;
        let norm = m.get(h, "norm.weight")?;
        let head = if let Some(c) = &cfg.classifier {
            vb.get((c.labels.len(), h), "score.weight")?
        } else if cfg.tie_word_embeddings || !vb.contains_tensor("lm_head.weight") {
            if !cfg.tie_word_embeddings {
                bail!("no lm_head.weight in the checkpoint and tie_word_embeddings is false");
            }
            embed.clone()
        } else {
            vb.get((cfg.vocab_size, h), "lm_head.weight")?
        };
        // RoPE inverse frequencies as transformers computes them (YaRN-scaled when configured),
        // and the factor cos and sin are scaled by (1 without YaRN).
        let (inv, rope_attention) = super::rope::inv_freq(cfg.rope_theta, hd, cfg.rope_scaling.as_ref());
        let inv_freq = Tensor::new(inv.as_slice(), device)?;
        Ok(Model {
            cfg,
            embed,
            layers,
            norm,
            head,
            inv_freq,
            rope_attention,
            device: device.clone(),
            dtype,
            attn_budget: attention::default_budget(device),
            profile: None,
        })
    }

    /// Refuses what the forward pass cannot score: an empty sequence, a token outside the
    /// vocabulary, a head row that does not exist, a pass over `MAX_PASS_TOKENS`, or one too
    /// long for the fallback attention.
    pub(super) fn check_batch(&self, batch: &Batch, rows: &[u32]) -> Result<()> {
        if batch.seqs.iter().any(|&(_, l)| l == 0) {
            bail!("cannot score an empty token sequence");
        }
        let vocab = self.cfg.vocab_size as u32;
        if let Some(bad) = batch.ids.iter().find(|&&t| t >= vocab) {
            bail!("token id {bad} is outside the model's vocabulary ({vocab})");
        }
        let n_rows = self.head.dim(0)? as u32;
        if let Some(bad) = rows.iter().find(|&&r| r >= n_rows) {
            bail!("head row {bad} is outside the model's head ({n_rows} rows)");
        }
        if batch.ids.len() >= MAX_PASS_TOKENS {
            bail!(
                "a forward pass of {} tokens: at most {} (rope and rms_norm index tokens with 32-bit ints); lower --batch-tokens",
                batch.ids.len(),
                MAX_PASS_TOKENS - 1
            );
        }
        check_slow_attention(&self.device, self.dtype, batch)
    }

    /// Scores a packed batch: for each sequence, the logits of `answer` ([yes, no] token ids)
    /// at its last position. Every sequence attends only to itself, so its logits do not depend
    /// on the others in the batch.
    pub(crate) fn answer_logits(&self, batch: &Batch, answer: [u32; 2]) -> Result<Vec<[f32; 2]>> {
        Ok(self.last_logits(batch, &answer)?.into_iter().map(|r| [r[0], r[1]]).collect())
    }

    /// For each sequence of a packed batch, the head's `rows` at its last position: answer
    /// tokens of the LM head, or labels of a classification head.
    pub(crate) fn last_logits(&self, batch: &Batch, rows: &[u32]) -> Result<Vec<Vec<f32>>> {
        self.check_batch(batch, rows)?;
        let mut clock = Clock { model: self, last: std::time::Instant::now() };
        let x = self.run_layers(batch, &mut clock, None)?;
        let last: Vec<u32> = batch.seqs.iter().map(|&(s, l)| (s + l - 1) as u32).collect();
        let hl = x.index_select(&Tensor::new(last.as_slice(), &self.device)?, 0)?;
        let logits = self.row_logits(&hl, rows)?;
        clock.mark(Part::Other)?;
        Ok(logits)
    }

    /// Cos and sin of the rotary embedding at `positions` (`[T, D/2]`, in the model dtype).
    pub(super) fn rope(&self, positions: &[u32]) -> Result<Rope> {
        let pos: Vec<f32> = positions.iter().map(|&p| p as f32).collect();
        let freqs =
            Tensor::new(pos.as_slice(), &self.device)?.unsqueeze(1)?.broadcast_mul(&self.inv_freq.unsqueeze(0)?)?;
        let (cos, sin) = if self.rope_attention == 1.0 {
            (freqs.cos()?, freqs.sin()?)
        } else {
            ((freqs.cos()? * self.rope_attention)?, (freqs.sin()? * self.rope_attention)?)
        };
        Ok(Rope { cos: cos.to_dtype(self.dtype)?, sin: sin.to_dtype(self.dtype)? })
    }

    /// The decoder layers over a packed batch: the hidden states of every token (`[T, H]`,
    /// before the final norm). `keep(layer, k, v)`, when given, receives each layer's rotated keys
    /// and values.
    pub(super) fn run_layers(
        &self,
        batch: &Batch,
        clock: &mut Clock,
        mut keep: Option<KeepLayers<'_>>,
    ) -> Result<Tensor> {
        let dev = &self.device;
        // Positions restart at 0 in each sequence.
        let rope = self.rope(&batch.positions)?;
        let flash = attention::flash_plan(&batch.seqs, dev, self.dtype, self.cfg.head_dim)?;
        let packing = Packing { ranges: &batch.seqs, flash: flash.as_ref(), budget: self.attn_budget };
        let mut x = self.embed.index_select(&Tensor::new(batch.ids.as_slice(), dev)?, 0)?; // [T, H]
        for (i, layer) in self.layers.iter().enumerate() {
            let mut keep_layer = keep.as_mut().map(|f| move |k: &Tensor, v: &Tensor| f(i, k, v));
            let keep_ref = keep_layer.as_mut().map(|f| f as KeepKv<'_>);
            x = layer.forward(&x, &rope, &packing, &mut |part| clock.mark(part), keep_ref)?;
        }
        Ok(x)
    }

    /// The head's `rows` of hidden states `h` (`[J, H]`, before the final norm).
    /// The final norm and the head's rows in f32, whatever the model dtype: bf16 logits would
    /// quantise P(YES) (steps of 2^-8 relative in each logit) and create ties between candidates
    /// that the model tells apart. A few rows: the cost is nothing.
    pub(crate) fn row_logits(&self, h: &Tensor, rows: &[u32]) -> Result<Vec<Vec<f32>>> {
        let eps = self.cfg.rms_norm_eps as f32;
        let hl = candle_nn::ops::rms_norm(&h.to_dtype(DType::F32)?, &self.norm.to_dtype(DType::F32)?, eps)?;
        let rows = self.head.index_select(&Tensor::new(rows, &self.device)?, 0)?.to_dtype(DType::F32)?; // [R, H]
        Ok(hl.matmul(&rows.t()?)?.to_vec2::<f32>()?)
    }
}

/// Tokens of one forward pass must stay under this (candle's rope and rms_norm kernels index
/// elements with 32-bit ints: 2^19 tokens x 32 heads x 128 = 2^31).
pub(crate) const MAX_PASS_TOKENS: usize = 1 << 19;

/// The fallback attention (f32 or f16 on CUDA, where FlashAttention takes bf16 only) does
/// O(L^2) work in chunks of plain matmuls: fine for short trajectories, hours for long ones.
/// Past 4,096 tokens it warns (once); past 32,768 it refuses, naming the way out.
fn check_slow_attention(dev: &candle_core::Device, dtype: DType, batch: &Batch) -> Result<()> {
    static WARNED: std::sync::Once = std::sync::Once::new();
    if !dev.is_cuda() || dtype == DType::BF16 {
        return Ok(());
    }
    let longest = batch.seqs.iter().map(|&(_, l)| l).max().unwrap_or(0);
    if longest > 32_768 {
        bail!(
            "a {longest}-token trajectory in {dtype:?} on CUDA: the fallback attention would take hours; use --dtype bf16 (FlashAttention-2)"
        );
    }
    if longest > 4096 {
        WARNED.call_once(|| {
            crate::console::caution(
                None,
                &format!(
                    "{dtype:?} on CUDA uses the fallback attention ({longest}-token trajectories are slow); --dtype bf16 uses FlashAttention-2"
                ),
            )
        });
    }
    Ok(())
}
