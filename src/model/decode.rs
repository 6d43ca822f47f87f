//! Decoding with a KV cache: the prompts are prefilled packed, as the scorer runs them (one
//! pass, each sequence attending only to itself), every layer's rotated keys and values are kept
//! per sequence, then each step feeds one token to every live sequence in one pass: the
//! projections and feed-forward blocks (dense or MoE) batched over the sequences, each token
//! attending only to its own cache.

use anyhow::Result;
use candle_core::{DType, Tensor};

use super::batch::Batch;
use super::blocks::KvCache;
use super::qwen::{Clock, Model};

/// Sequences being decoded: a cache per layer and sequence (`caches[layer][seq]`), and each
/// sequence's next position.
pub(crate) struct Decoding {
    caches: Vec<Vec<KvCache>>,
    next_pos: Vec<u32>,
}

impl Decoding {
    /// Sequences held.
    pub(crate) fn len(&self) -> usize {
        self.next_pos.len()
    }
}

impl Model {
    /// Prefills the packed `batch` and keeps its keys and values: `copies[i]` sequences of
    /// prompt `i` (samples of one prompt share its prefill), each with room for `extra` generated
    /// tokens. Returns the state (the copies of prompt 0, then of prompt 1, ...) and each
    /// sequence's last hidden state (`[sequences, H]`, before the final norm).
    pub(crate) fn prefill(&self, batch: &Batch, copies: &[usize], extra: usize) -> Result<(Decoding, Tensor)> {
        self.check_batch(batch, &[])?;
        anyhow::ensure!(copies.len() == batch.len(), "one count of copies per prompt");
        let n = self.layers.len();
        let total: usize = copies.iter().sum();
        let mut caches: Vec<Vec<KvCache>> = (0..n).map(|_| Vec::with_capacity(total)).collect();
        let mut keep = |layer: usize, k: &Tensor, v: &Tensor| -> Result<()> {
            for (&(s, l), &c) in batch.seqs.iter().zip(copies) {
                let (k, v) = (k.narrow(0, s, l)?, v.narrow(0, s, l)?);
                for _ in 0..c {
                    caches[layer].push(KvCache::new(&k, &v, extra)?);
                }
            }
            Ok(())
        };
        let mut clock = Clock::new(self);
        let x = self.run_layers(batch, &mut clock, Some(&mut keep))?;
        let each = |f: &dyn Fn(usize, usize) -> u32| -> Vec<u32> {
            batch.seqs.iter().zip(copies).flat_map(|(&(s, l), &c)| std::iter::repeat_n(f(s, l), c)).collect()
        };
        let last = each(&|s, l| (s + l - 1) as u32);
        let h = x.index_select(&Tensor::new(last.as_slice(), &self.device)?, 0)?;
        Ok((Decoding { caches, next_pos: each(&|_, l| l as u32) }, h))
    }

    /// Feeds `tokens[j]` to sequence `seqs[j]` (`seqs` ascending, distinct); returns their
    /// hidden states (`[J, H]`, before the final norm).
    pub(crate) fn step(&self, d: &mut Decoding, seqs: &[usize], tokens: &[u32]) -> Result<Tensor> {
        anyhow::ensure!(seqs.len() == tokens.len() && seqs.windows(2).all(|w| w[0] < w[1]), "bad decoding step");
        let vocab = self.cfg.vocab_size as u32;
        if let Some(bad) = tokens.iter().find(|&&t| t >= vocab) {
            anyhow::bail!("token id {bad} is outside the model's vocabulary ({vocab})");
        }
        let positions: Vec<u32> = seqs.iter().map(|&s| d.next_pos[s]).collect();
        let rope = self.rope(&positions)?;
        let mut x = self.embed.index_select(&Tensor::new(tokens, &self.device)?, 0)?; // [J, H]
        let mut live = vec![false; d.len()];
        seqs.iter().for_each(|&s| live[s] = true);
        for (layer, caches) in self.layers.iter().zip(d.caches.iter_mut()) {
            let mut mine: Vec<&mut KvCache> =
                caches.iter_mut().zip(&live).filter(|(_, l)| **l).map(|(c, _)| c).collect();
            x = layer.step(&x, &rope, &mut mine)?;
        }
        for &s in seqs {
            d.next_pos[s] += 1;
        }
        Ok(x)
    }

    /// Every vocabulary logit of hidden states `h` (`[J, H]`, before the final norm), as
    /// transformers computes them: the final norm in f32, the LM head in the model's dtype, the
    /// result in f32.
    pub(crate) fn vocab_logits(&self, h: &Tensor) -> Result<Vec<Vec<f32>>> {
        let eps = self.cfg.rms_norm_eps as f32;
        let hn = candle_nn::ops::rms_norm(&h.to_dtype(DType::F32)?, &self.norm.to_dtype(DType::F32)?, eps)?;
        let logits = hn.to_dtype(self.dtype)?.matmul(&self.head.t()?)?;
        Ok(logits.to_dtype(DType::F32)?.to_vec2::<f32>()?)
    }

    /// Whether the model has an LM head (a classification head cannot generate).
    pub(crate) fn can_generate(&self) -> bool {
        self.cfg.classifier.is_none()
    }
}
