//! Causal self-attention over packed variable-length sequences, without a KV cache and without
//! ever materializing a full L x L score matrix for long inputs: each sequence attends only to
//! itself, and its queries are processed in chunks sized so that one chunk's scores stay within
//! `budget` elements. Grouped-query attention shares each key/value head among its query group.

use candle_core::{DType, Device, Result, Tensor};

use super::causal_softmax::CausalSoftmax;

/// Default score budget per chunk: 2^26 elements (256 MiB in f32).
pub(crate) const DEFAULT_BUDGET: usize = 1 << 26;

/// The score budget per chunk of [`varlen_causal`] for a device: large on GPUs, where big
/// matmuls pay. The CPU's prefill uses the fused op instead (`cpu_attention`, its own blocks);
/// a CPU budget only matters to a direct call of the chunked path (tests), small as it was
/// when the CPU ran it (2^20 was fastest of 2^18..2^26 on the tiny checkpoint).
pub(crate) fn default_budget(dev: &Device) -> usize {
    if dev.is_cpu() { 1 << 20 } else { DEFAULT_BUDGET }
}

/// What FlashAttention-2 needs of a pass, made once per forward pass: the device copy of the
/// cumulative sequence lengths (0, len_1, len_1 + len_2, ...) and the longest sequence.
#[cfg_attr(not(feature = "flash-attn"), allow(dead_code))] // never made without the feature
pub(crate) struct FlashPlan {
    cu_seqlens: Tensor,
    max_len: usize,
}

/// The plan when FlashAttention-2 applies to this pass: a build with the `flash-attn` feature, a
/// CUDA device, bf16, the one head dim it is built for, and no `SWERM_NO_FLASH_ATTN` in the
/// environment (the switch `scripts/gpu-check.sh` uses to measure the fallback).
pub(crate) fn flash_plan(
    seqs: &[(usize, usize)],
    dev: &Device,
    dtype: DType,
    head_dim: usize,
) -> Result<Option<FlashPlan>> {
    #[cfg(feature = "flash-attn")]
    if dev.is_cuda()
        && dtype == DType::BF16
        && head_dim == swerm_flash_attn::HEAD_DIM
        && std::env::var_os("SWERM_NO_FLASH_ATTN").is_none()
    {
        let total = seqs.last().map_or(0, |&(s, l)| s + l);
        let cu: Vec<u32> = seqs.iter().map(|&(s, _)| s as u32).chain([total as u32]).collect();
        let max_len = seqs.iter().map(|s| s.1).max().unwrap_or(0);
        return Ok(Some(FlashPlan { cu_seqlens: Tensor::new(cu.as_slice(), dev)?, max_len }));
    }
    let _ = (seqs, dev, dtype, head_dim);
    Ok(None)
}

/// One layer's attention: FlashAttention-2 over the whole pack in one call when there is a
/// plan, the fused CPU kernel (`cpu_attention`) on the CPU, else [`varlen_causal`]. Returns
/// [T, n_heads * D].
pub(crate) fn attend(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    seqs: &[(usize, usize)],
    flash: Option<&FlashPlan>,
    budget: usize,
) -> Result<Tensor> {
    #[cfg(feature = "flash-attn")]
    if let Some(f) = flash {
        let (t, h, d) = q.dims3()?;
        let o = swerm_flash_attn::varlen_causal(q, k, v, &f.cu_seqlens, f.max_len, 1.0 / (d as f32).sqrt())?;
        return o.reshape((t, h * d));
    }
    let _ = flash;
    if q.device().is_cpu() {
        let (q, k, v) = (q.contiguous()?, k.contiguous()?, v.contiguous()?);
        return q.apply_op3_no_bwd(&k, &v, &super::cpu_attention::VarlenCausal { seqs });
    }
    varlen_causal(q, k, v, seqs, budget)
}

/// q: [T, n_heads, D], k and v: [T, n_kv, D]; `seqs` are the (start, len) of each packed
/// sequence. Returns [T, n_heads * D].
pub(crate) fn varlen_causal(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    seqs: &[(usize, usize)],
    budget: usize,
) -> Result<Tensor> {
    let (_, n_heads, hd) = q.dims3()?;
    let n_kv = k.dim(1)?;
    let group = n_heads / n_kv;
    let scale = 1.0 / (hd as f64).sqrt();
    let mut outs = Vec::with_capacity(seqs.len());
    for &(start, len) in seqs {
        // [L, h, D] -> [h, L, D]; queries grouped by their key/value head: [n_kv, group, L, D].
        let qs = q.narrow(0, start, len)?.transpose(0, 1)?.contiguous()?.reshape((n_kv, group, len, hd))?;
        let ks = k.narrow(0, start, len)?.transpose(0, 1)?.contiguous()?; // [n_kv, L, D]
        let vs = v.narrow(0, start, len)?.transpose(0, 1)?.contiguous()?;
        let chunk = (budget / (n_heads * len).max(1)).clamp(1, len);
        let mut a = 0;
        while a < len {
            let c = chunk.min(len - a);
            let b = a + c; // keys 0..b are visible to some query of this chunk
            let qc = qs.narrow(2, a, c)?.contiguous()?.reshape((n_kv, group * c, hd))?;
            let kc = ks.narrow(1, 0, b)?;
            let vc = vs.narrow(1, 0, b)?;
            let raw = qc.matmul(&kc.t()?)?.to_dtype(DType::F32)?.reshape((n_kv, group, c, b))?; // [n_kv, group, c, b]
            let p = if raw.device().is_cpu() {
                raw.apply_op1_no_bwd(&CausalSoftmax { first_pos: a, scale: scale as f32 })?
            } else {
                let scores = (raw * scale)?.broadcast_add(&causal_mask(a, c, b, q.device())?)?;
                candle_nn::ops::softmax_last_dim(&scores)?
            };
            let p = p.to_dtype(q.dtype())?.reshape((n_kv, group * c, b))?;
            let o = p.matmul(&vc.contiguous()?)?; // [n_kv, group*c, D]
            let o = o.reshape((n_heads, c, hd))?.transpose(0, 1)?.reshape((c, n_heads * hd))?;
            outs.push(o);
            a = b;
        }
    }
    Tensor::cat(&outs, 0)
}

/// [c, b] additive mask for queries at positions a..a+c over keys 0..b: 0 where key <= query,
/// -inf elsewhere. Built on the device from two index ranges (nothing of size c x b is made on
/// the host or copied over).
fn causal_mask(a: usize, c: usize, b: usize, dev: &Device) -> Result<Tensor> {
    let queries = Tensor::arange(a as u32, (a + c) as u32, dev)?.unsqueeze(1)?; // [c, 1]
    let keys = Tensor::arange(0u32, b as u32, dev)?.unsqueeze(0)?; // [1, b]
    let hidden = keys.broadcast_gt(&queries)?;
    let zeros = Tensor::zeros((c, b), DType::F32, dev)?;
    hidden.where_cond(&Tensor::full(f32::NEG_INFINITY, (c, b), dev)?, &zeros)
}

/// Three packed sequences as (start, length).
#[cfg(test)]
pub(super) type Seqs3 = [(usize, usize); 3];

/// Packed random q, k, v (37 tokens, 4 heads over 2 KV heads, head dim 8) and their three
/// sequences (20, 1 and 16 tokens): the inputs the attention paths are compared on (for tests).
#[cfg(test)]
pub(super) fn packed_sample() -> Result<(Tensor, Tensor, Tensor, Seqs3)> {
    let dev = Device::Cpu;
    let (t, h, kv, d) = (37, 4, 2, 8);
    let q = Tensor::randn(0f32, 1.0, (t, h, d), &dev)?;
    let k = Tensor::randn(0f32, 1.0, (t, kv, d), &dev)?;
    let v = Tensor::randn(0f32, 1.0, (t, kv, d), &dev)?;
    Ok((q, k, v, [(0, 20), (20, 1), (21, 16)]))
}

/// The unchunked reference: full L x L scores per sequence (for tests).
#[cfg(test)]
fn reference(q: &Tensor, k: &Tensor, v: &Tensor, seqs: &[(usize, usize)]) -> Result<Tensor> {
    let (_, n_heads, hd) = q.dims3()?;
    let group = n_heads / k.dim(1)?;
    let mut outs = Vec::new();
    for &(start, len) in seqs {
        let qs = q.narrow(0, start, len)?.transpose(0, 1)?.to_dtype(DType::F32)?; // [h, L, D]
        let ks = k.narrow(0, start, len)?.transpose(0, 1)?.to_dtype(DType::F32)?;
        let vs = v.narrow(0, start, len)?.transpose(0, 1)?.to_dtype(DType::F32)?;
        let mut heads = Vec::new();
        for h in 0..n_heads {
            let qh = qs.get(h)?;
            let kh = ks.get(h / group)?;
            let s =
                (qh.matmul(&kh.t()?)? / (hd as f64).sqrt())?.broadcast_add(&causal_mask(0, len, len, q.device())?)?;
            heads.push(candle_nn::ops::softmax(&s, candle_core::D::Minus1)?.matmul(&vs.get(h / group)?)?);
        }
        outs.push(Tensor::stack(&heads, 1)?.reshape((len, n_heads * hd))?);
    }
    Tensor::cat(&outs, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mask_hides_exactly_the_later_keys() -> Result<()> {
        let m = causal_mask(2, 3, 6, &Device::Cpu)?.to_vec2::<f32>()?;
        for (r, row) in m.iter().enumerate() {
            for (j, &v) in row.iter().enumerate() {
                assert_eq!(v == f32::NEG_INFINITY, j > 2 + r, "query {} key {j}", 2 + r);
                assert!(v == 0.0 || v == f32::NEG_INFINITY);
            }
        }
        Ok(())
    }

    #[test]
    fn chunked_equals_unchunked() -> Result<()> {
        let (q, k, v, seqs) = packed_sample()?;
        let want = reference(&q, &k, &v, &seqs)?;
        for budget in [1, 7, 64, 500, DEFAULT_BUDGET] {
            let got = varlen_causal(&q, &k, &v, &seqs, budget)?;
            let diff = (got - &want)?.abs()?.max_all()?.to_scalar::<f32>()?;
            assert!(diff < 1e-5, "budget {budget}: {diff}");
        }
        // A sequence's output does not depend on what it is packed with.
        let alone = varlen_causal(&q.narrow(0, 21, 16)?, &k.narrow(0, 21, 16)?, &v.narrow(0, 21, 16)?, &[(0, 16)], 64)?;
        let packed = varlen_causal(&q, &k, &v, &seqs, 64)?.narrow(0, 21, 16)?;
        assert_eq!(alone.to_vec2::<f32>()?, packed.to_vec2::<f32>()?);
        Ok(())
    }
}
