//! The sparse MoE feed-forward block of Qwen3-MoE (transformers' Qwen3MoeSparseMoeBlock):
//! router softmax in f32, top-k experts per token, weights renormalized when `norm_topk_prob`,
//! each expert a SwiGLU MLP.
//!
//! One algorithm on every device, with no per-token work on the host (`moe_ops` has the custom
//! ops, with a CPU implementation and a CUDA kernel each), per chunk of at most `CHUNK` tokens:
//! 1. router GEMM, softmax in f32, top-k ids (ties to the lower expert index), the k weights
//!    gathered and renormalized;
//! 2. a stable counting sort of the (token, slot) pairs by expert; the expert offsets are the one
//!    copy to the host;
//! 3. one gather of the hidden rows into expert-sorted order;
//! 4. per expert, the gate/up GEMM, SiLU·up, and the down GEMM on its contiguous slice of rows,
//!    each written into its rows of one preallocated [n, H] buffer (no concatenation; the copy
//!    out of each GEMM's own output remains until a grouped GEMM writes in place);
//! 5. `x[t] + sum_j w[t, j] y[pos[t, j]]`, slot by slot (a fixed order: deterministic), with the
//!    routing weights folded into that one pass (each weighted row in the model dtype, as
//!    transformers forms it, the sum in f32).

use candle_core::{DType, Result, Tensor};

use super::cpu_matmul::matmul_t;
use super::moe_ops::{Combine, Routing, TopK, silu_mul};

/// Tokens per MoE chunk: bounds the gathered buffers (32k tokens x 8 slots x 2048 x 2 bytes =
/// 1 GiB in bf16 for the 30B-A3B shape; unchunked they would be 8 GiB at 256k tokens).
pub(crate) const CHUNK: usize = 32 * 1024;

/// A chunk must stay under this many tokens: candle's index_select takes u32 indices of the
/// (token, slot) rows, and the kernels index rows with 32-bit ints.
pub(crate) const MAX_CHUNK: usize = 262_144;

/// Expert weights stacked over experts: gate and up fused as [E, 2I, H], down as [E, H, I]
/// (transformers 5's in-memory layout; per-expert checkpoints are stacked at load time).
pub(crate) struct Moe {
    pub(crate) router: Tensor,
    pub(crate) gate_up: Tensor,
    pub(crate) down: Tensor,
    pub(crate) top_k: usize,
    pub(crate) norm_topk_prob: bool,
}

impl Moe {
    /// Router and experts of one MoE layer, from per-expert tensors (`experts.N.gate_proj.weight`)
    /// or transformers 5's fused ones (`experts.gate_up_proj`, `experts.down_proj`).
    pub(crate) fn load(vb: &candle_nn::VarBuilder, cfg: &super::config::ModelConfig) -> Result<Moe> {
        let m = cfg.moe.as_ref().expect("moe layer of a moe config");
        let (h, n, e) = (cfg.hidden_size, m.intermediate_size, m.num_experts);
        let router = vb.get((e, h), "gate.weight")?;
        let ex = vb.pp("experts");
        let (gate_up, down) = if ex.contains_tensor("gate_up_proj") {
            (ex.get((e, 2 * n, h), "gate_up_proj")?, ex.get((e, h, n), "down_proj")?)
        } else {
            let mut gu = Vec::with_capacity(e);
            let mut dn = Vec::with_capacity(e);
            for i in 0..e {
                let x = ex.pp(i.to_string());
                gu.push(Tensor::cat(&[x.get((n, h), "gate_proj.weight")?, x.get((n, h), "up_proj.weight")?], 0)?);
                dn.push(x.get((h, n), "down_proj.weight")?);
            }
            (Tensor::stack(&gu, 0)?, Tensor::stack(&dn, 0)?)
        };
        Ok(Moe { router, gate_up, down, top_k: m.top_k, norm_topk_prob: m.norm_topk_prob })
    }

    /// The experts of each token of h [T, H]: ids [T, k] (u32, by descending probability) and
    /// their weights [T, k] (f32).
    pub(crate) fn route(&self, h: &Tensor) -> Result<(Tensor, Tensor)> {
        let logits = matmul_t(h, &self.router)?; // [T, E] in the model dtype, as transformers
        let probs = candle_nn::ops::softmax_last_dim(&logits.to_dtype(DType::F32)?)?;
        let ids = probs.apply_op1_no_bwd(&TopK { k: self.top_k })?;
        let w = probs.gather(&ids, 1)?;
        let w = if self.norm_topk_prob { w.broadcast_div(&w.sum_keepdim(1)?)? } else { w };
        Ok((ids, w))
    }

    /// `residual + moe(h)`: h, residual [T, H] -> [T, H].
    pub(crate) fn forward(&self, h: &Tensor, residual: &Tensor) -> Result<Tensor> {
        self.forward_in_chunks(h, residual, CHUNK)
    }

    fn forward_in_chunks(&self, h: &Tensor, residual: &Tensor, chunk: usize) -> Result<Tensor> {
        let t = h.dim(0)?;
        if t <= chunk {
            return self.forward_chunk(h, residual);
        }
        let mut outs = Vec::with_capacity(t.div_ceil(chunk));
        for a in (0..t).step_by(chunk) {
            let c = chunk.min(t - a);
            outs.push(self.forward_chunk(&h.narrow(0, a, c)?, &residual.narrow(0, a, c)?)?);
        }
        Tensor::cat(&outs, 0)
    }

    fn forward_chunk(&self, h: &Tensor, residual: &Tensor) -> Result<Tensor> {
        let (t, hidden) = h.dims2()?;
        if t >= MAX_CHUNK {
            candle_core::bail!("an MoE chunk of {t} tokens: at most {} (u32 row indices)", MAX_CHUNK - 1);
        }
        let experts = self.router.dim(0)?;
        let inter = self.down.dim(2)?;
        let (ids, w) = self.route(h)?;
        let r = Routing::new(&ids, experts)?;
        let xs = h.index_select(&r.token_of_row, 0)?; // [n, H], expert-sorted
        let y = Tensor::zeros((xs.dim(0)?, hidden), h.dtype(), h.device())?;
        for e in 0..experts {
            let (a, b) = (r.offsets[e] as usize, r.offsets[e + 1] as usize);
            if a == b {
                continue;
            }
            let x = xs.narrow(0, a, b - a)?;
            let gu = matmul_t(&x, &self.gate_up.get(e)?)?;
            y.slice_set(&matmul_t(&silu_mul(&gu, inter)?, &self.down.get(e)?)?, 0, a)?;
        }
        // The routing weights, [T, k] f32 in slot order, are applied inside the combine.
        let combine = Combine { weights: w.contiguous()? };
        residual.contiguous()?.apply_op3_no_bwd(&y, &r.pos.contiguous()?, &combine)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, IndexOp};

    /// The host-routing implementation this module replaced (sort per token on the host, one
    /// `index_add` per expert), kept as the reference.
    fn host_routing(m: &Moe, h: &Tensor) -> Result<Tensor> {
        let n_exp = m.router.dim(0)?;
        let logits = h.matmul(&m.router.t()?)?;
        let probs = candle_nn::ops::softmax_last_dim(&logits.to_dtype(DType::F32)?)?.to_vec2::<f32>()?;
        let mut rows = vec![Vec::new(); n_exp];
        let mut weights = vec![Vec::new(); n_exp];
        let mut order: Vec<usize> = (0..n_exp).collect();
        for (t, p) in probs.iter().enumerate() {
            order.sort_by(|&a, &b| p[b].total_cmp(&p[a]).then(a.cmp(&b)));
            let top = &order[..m.top_k];
            let sum: f32 = top.iter().map(|&e| p[e]).sum();
            for &e in top {
                rows[e].push(t as u32);
                weights[e].push(if m.norm_topk_prob { p[e] / sum } else { p[e] });
            }
        }
        let inter = m.down.dim(2)?;
        let mut ys = h.zeros_like()?;
        for (e, rows) in rows.iter().enumerate() {
            if rows.is_empty() {
                continue;
            }
            let idx = Tensor::new(rows.as_slice(), h.device())?;
            let w = Tensor::new(weights[e].as_slice(), h.device())?.to_dtype(h.dtype())?.unsqueeze(1)?;
            let x = h.index_select(&idx, 0)?;
            let gu = x.matmul(&m.gate_up.get(e)?.t()?)?;
            let act = (candle_nn::ops::silu(&gu.narrow(1, 0, inter)?)? * gu.narrow(1, inter, inter)?)?;
            ys = ys.index_add(&idx, &act.matmul(&m.down.get(e)?.t()?)?.broadcast_mul(&w)?, 0)?;
        }
        Ok(ys)
    }

    /// A seeded normal tensor: the same numbers on every run, so no test flips on a draw.
    fn randn(seed: u64, std: f32, shape: &[usize], dev: &Device) -> Result<Tensor> {
        let mut rng = crate::rng::SplitMix64(seed);
        let n: usize = shape.iter().product();
        let v: Vec<f32> = (0..n).map(|_| std * rng.normal() as f32).collect();
        Tensor::from_vec(v, shape, dev)
    }

    fn random_moe(e: usize, h: usize, i: usize, k: usize, norm: bool, dev: &Device) -> Result<Moe> {
        Ok(Moe {
            router: randn(1, 1.0, &[e, h], dev)?,
            gate_up: randn(2, 0.2, &[e, 2 * i, h], dev)?,
            down: randn(3, 0.2, &[e, h, i], dev)?,
            top_k: k,
            norm_topk_prob: norm,
        })
    }

    fn max_diff(a: &Tensor, b: &Tensor) -> f32 {
        (a - b).unwrap().abs().unwrap().max_all().unwrap().to_dtype(DType::F32).unwrap().to_scalar::<f32>().unwrap()
    }

    #[test]
    fn device_routing_equals_host_routing() -> Result<()> {
        let dev = Device::Cpu;
        for (e, k, norm, t) in [(8, 2, true, 37), (16, 4, false, 5), (6, 6, true, 11), (4, 1, true, 1)] {
            let m = random_moe(e, 24, 10, k, norm, &dev)?;
            let h = randn(11, 1.0, &[t, 24], &dev)?;
            let x = randn(12, 1.0, &[t, 24], &dev)?;
            let want = (&x + host_routing(&m, &h)?)?;
            let got = m.forward(&h, &x)?;
            assert!(max_diff(&got, &want) < 1e-5, "e={e} k={k}: {}", max_diff(&got, &want));
        }
        Ok(())
    }

    #[test]
    fn ties_go_to_the_lower_expert_and_chunks_do_not_change_the_result() -> Result<()> {
        let dev = Device::Cpu;
        // A zero router: every probability equal, so experts 0..k are chosen for every token.
        let mut m = random_moe(8, 16, 8, 3, true, &dev)?;
        m.router = m.router.zeros_like()?;
        let h = randn(13, 1.0, &[9, 16], &dev)?;
        let (ids, w) = m.route(&h)?;
        assert!(ids.to_vec2::<u32>()?.iter().all(|r| r == &[0, 1, 2]));
        assert!(w.to_vec2::<f32>()?.iter().flatten().all(|&v| (v - 1.0 / 3.0).abs() < 1e-7));
        let want = (&h + host_routing(&m, &h)?)?;
        assert!(max_diff(&m.forward(&h, &h)?, &want) < 1e-5);
        // Token rows are independent: a token's output does not depend on its chunk-mates.
        let m = random_moe(8, 16, 8, 2, true, &dev)?;
        let h = randn(14, 1.0, &[9, 16], &dev)?;
        let all = m.forward(&h, &h)?;
        let alone = m.forward(&h.i(4..5)?, &h.i(4..5)?)?;
        assert!(max_diff(&all.i(4..5)?, &alone) < 1e-6);
        let chunked = m.forward_in_chunks(&h, &h, 4)?;
        assert!(max_diff(&all, &chunked) < 1e-6);
        Ok(())
    }

    #[test]
    fn bf16_stays_within_bf16_rounding_of_the_host_path() -> Result<()> {
        let dev = Device::Cpu;
        let m = random_moe(8, 32, 16, 2, true, &dev)?;
        let h = randn(15, 1.0, &[13, 32], &dev)?;
        let want = (&h + host_routing(&m, &h)?)?;
        let mb = Moe {
            router: m.router.to_dtype(DType::BF16)?,
            gate_up: m.gate_up.to_dtype(DType::BF16)?,
            down: m.down.to_dtype(DType::BF16)?,
            ..m
        };
        let hb = h.to_dtype(DType::BF16)?;
        let got = mb.forward(&hb, &hb)?.to_dtype(DType::F32)?;
        let scale = want.abs()?.max_all()?.to_scalar::<f32>()?;
        // A few bf16 roundings (2^-8 relative each) along the way; routing decisions can flip
        // only between nearly equal experts, which the random router makes unlikely at this size.
        assert!(max_diff(&got, &want) < 0.05 * scale, "{} vs scale {scale}", max_diff(&got, &want));
        Ok(())
    }
}
