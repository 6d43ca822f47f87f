//! The device-side steps of MoE routing as candle custom ops, each with a CPU implementation and
//! a CUDA kernel (`kernels/moe.cu`, compiled to PTX by `build.rs` under the `cuda` feature) that
//! compute the same thing:
//!
//! - [`TopK`]: the k experts of each token from its f32 router probabilities, by descending
//!   probability, ties to the lower expert index (k rounds of arg-max: one warp per token on
//!   CUDA, the same rounds on the CPU);
//! - [`Permute`]: a stable counting sort of the (token, slot) pairs by expert: each pair's row in
//!   the expert-sorted buffer, each row's pair and token, and the experts' row offsets;
//! - [`Combine`]: `out[t] = x[t] + sum_j w[t, j] y[pos[t, j]]`, the routing weights folded in,
//!   accumulated in f32 in slot order (a fixed order, so deterministic; no `index_add`, which is
//!   serial over rows on CUDA);
//! - [`silu_mul`]: `silu(gate) * up` of a fused gate/up projection (one kernel on CUDA).
//!
//! Decision: the permutation is a *stable* sort (pairs of one expert keep token order) rather
//! than an atomic cursor per expert: the rows an expert's GEMM sees, and so every output, are
//! then the same on every run and on both devices. On CUDA each expert's block scans all pairs
//! (E x n reads of 4 bytes, ~50 us per layer at 32k tokens), cheap next to the GEMMs.

use candle_core::{CpuStorage, CustomOp1, CustomOp3, Layout, Result, Shape, Tensor, WithDType, bail};
use rayon::prelude::*;

/// Top-k expert ids of each row of f32 probabilities [T, E] -> u32 [T, k].
pub(crate) struct TopK {
    pub(crate) k: usize,
}

/// The largest experts of one row, in the order the CUDA kernel finds them: k rounds, each the
/// arg-max over the experts not yet taken, the lower index winning ties. (A NaN probability,
/// which only NaN hidden states produce, never beats a number here or in the kernel.)
fn top_k_row(p: &[f32], k: usize, out: &mut [u32]) {
    // A bit per expert (at most 1024, `check_topk`), on the stack: this runs for every token.
    let mut taken = [0u64; 16];
    for slot in out.iter_mut().take(k) {
        let mut best: Option<(f32, usize)> = None;
        for (e, &v) in p.iter().enumerate() {
            if taken[e / 64] >> (e % 64) & 1 == 1 {
                continue;
            }
            // Experts are visited in increasing index, so `>` keeps the lower index on ties.
            if best.is_none_or(|(b, _)| v > b) {
                best = Some((v, e));
            }
        }
        let (_, e) = best.expect("k <= number of experts");
        taken[e / 64] |= 1 << (e % 64);
        *slot = e as u32;
    }
}

impl CustomOp1 for TopK {
    fn name(&self) -> &'static str {
        "moe-topk"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let CpuStorage::F32(data) = storage else { bail!("moe-topk: f32 probabilities only") };
        let Some((start, end)) = layout.contiguous_offsets() else { bail!("moe-topk: contiguous input only") };
        let (t, e) = layout.shape().dims2()?;
        check_topk(self.k, e)?;
        let mut ids = vec![0u32; t * self.k];
        ids.par_chunks_mut(self.k.max(1))
            .zip(data[start..end].par_chunks(e.max(1)))
            .for_each(|(o, p)| top_k_row(p, self.k, o));
        Ok((CpuStorage::U32(ids), Shape::from_dims(&[t, self.k])))
    }

    #[cfg(feature = "cuda")]
    fn cuda_fwd(&self, s: &candle_core::CudaStorage, l: &Layout) -> Result<(candle_core::CudaStorage, Shape)> {
        let (t, e) = l.shape().dims2()?;
        check_topk(self.k, e)?;
        Ok((cuda::topk(s, l, t, e, self.k)?, Shape::from_dims(&[t, self.k])))
    }
}

fn check_topk(k: usize, e: usize) -> Result<()> {
    // The kernel keeps the taken experts of a token as one 32-bit mask per lane of a warp.
    if k == 0 || k > e || e > 1024 {
        bail!("moe-topk: top {k} of {e} experts (1 <= k <= experts <= 1024)");
    }
    Ok(())
}

/// The stable counting sort of (token, slot) pairs by expert. Input: the flattened expert ids
/// [n = T * k] (u32). Output: one u32 vector [3n + E + 1] holding, in this order,
/// `row_of_pair` [n], `pair_of_row` [n], `token_of_row` [n] and `offsets` [E + 1] (expert e owns
/// rows offsets[e]..offsets[e + 1]); [`Routing::new`] cuts it into named tensors. (One output
/// because a candle custom op has one; all four are u32.)
pub(crate) struct Permute {
    pub(crate) experts: usize,
    pub(crate) k: usize,
}

/// CPU counting sort: the reference for the kernel's output.
pub(crate) fn permute_cpu(ids: &[u32], experts: usize, k: usize) -> Result<Vec<u32>> {
    let n = ids.len();
    let mut out = vec![0u32; 3 * n + experts + 1];
    let (row_of_pair, rest) = out.split_at_mut(n);
    let (pair_of_row, rest) = rest.split_at_mut(n);
    let (token_of_row, offsets) = rest.split_at_mut(n);
    for &e in ids {
        if e as usize >= experts {
            bail!("moe-permute: expert id {e} out of range ({experts} experts)");
        }
        offsets[e as usize + 1] += 1;
    }
    for e in 0..experts {
        offsets[e + 1] += offsets[e];
    }
    let mut cursor: Vec<u32> = offsets[..experts].to_vec();
    for (p, &e) in ids.iter().enumerate() {
        let r = cursor[e as usize];
        cursor[e as usize] += 1;
        row_of_pair[p] = r;
        pair_of_row[r as usize] = p as u32;
        token_of_row[r as usize] = (p / k) as u32;
    }
    Ok(out)
}

impl CustomOp1 for Permute {
    fn name(&self) -> &'static str {
        "moe-permute"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let CpuStorage::U32(data) = storage else { bail!("moe-permute: u32 ids only") };
        let Some((start, end)) = layout.contiguous_offsets() else { bail!("moe-permute: contiguous ids only") };
        let out = permute_cpu(&data[start..end], self.experts, self.k)?;
        let len = out.len();
        Ok((CpuStorage::U32(out), Shape::from_dims(&[len])))
    }

    #[cfg(feature = "cuda")]
    fn cuda_fwd(&self, s: &candle_core::CudaStorage, l: &Layout) -> Result<(candle_core::CudaStorage, Shape)> {
        let n = l.shape().elem_count();
        let out = cuda::permute(s, l, n, self.experts, self.k)?;
        Ok((out, Shape::from_dims(&[3 * n + self.experts + 1])))
    }
}

/// The routing of one chunk of tokens, on the device, cut out of [`Permute`]'s output.
pub(crate) struct Routing {
    /// [T, k]: the row of each (token, slot) pair in the expert-sorted buffer.
    pub(crate) pos: Tensor,
    /// [n]: the token each row holds (what the one gather reads).
    pub(crate) token_of_row: Tensor,
    /// [E + 1] on the host: expert e owns rows offsets[e]..offsets[e + 1]. The only copy to the
    /// host per layer (516 bytes for 128 experts).
    pub(crate) offsets: Vec<u32>,
}

impl Routing {
    /// Sorts the pairs of `ids` [T, k] by expert.
    pub(crate) fn new(ids: &Tensor, experts: usize) -> Result<Routing> {
        let (t, k) = ids.dims2()?;
        let n = t * k;
        let all = ids.flatten_all()?.apply_op1_no_bwd(&Permute { experts, k })?;
        Ok(Routing {
            pos: all.narrow(0, 0, n)?.reshape((t, k))?,
            // all[n..2n], each row's pair, is not read: the combine walks pos (token-major).
            token_of_row: all.narrow(0, 2 * n, n)?,
            // force_contiguous: a fresh buffer of the E + 1 offsets, so that only they cross to
            // the host (to_vec1 of a view copies the whole underlying buffer first).
            offsets: all.narrow(0, 3 * n, experts + 1)?.force_contiguous()?.to_vec1::<u32>()?,
        })
    }
}

/// `x + sum_j w[t, j] * y[pos[t, j]]`: x [T, H] (the residual), y [n, H] (expert outputs in
/// expert-sorted rows), pos [T, k] u32 -> [T, H] in x's dtype; `weights` [T, k] f32 are the
/// routing weights, folded in here rather than applied to y in a pass of their own: each
/// weighted row is rounded to the model dtype, as transformers forms it (`expert(x) * weight`),
/// and the rows are summed in f32 in slot order, with one final rounding. (Summing the f32
/// products unrounded moved the tiny MoE's bf16 logits further from transformers' f32 ones,
/// 0.22 against 0.16 at most; the recorded tolerance is 0.224.)
pub(crate) struct Combine {
    pub(crate) weights: Tensor,
}

/// `x` rounded to `T` and back (exact for f32): the weighted expert row in the model's dtype, as
/// transformers forms it (`expert(x) * routing_weight`) before adding it up.
fn round_to<T: WithDType>(x: f32) -> f32 {
    T::from_f64(x as f64).to_f64() as f32
}

fn combine_cpu<T: WithDType>(x: &[T], y: &[T], pos: &[u32], w: &[f32], h: usize, k: usize) -> Vec<T> {
    let mut out = vec![T::zero(); x.len()];
    let rows = out.par_chunks_mut(h).zip(x.par_chunks(h)).zip(pos.par_chunks(k).zip(w.par_chunks(k)));
    rows.for_each_init(
        || vec![0f32; h],
        |acc, ((o, xr), (pr, wr))| {
            acc.fill(0.0);
            for (&r, &wj) in pr.iter().zip(wr) {
                let yr = &y[r as usize * h..(r as usize + 1) * h];
                // A product, then a sum (no fused multiply-add): what the kernel does.
                acc.iter_mut().zip(yr).for_each(|(a, v)| *a += round_to::<T>(wj * v.to_f64() as f32));
            }
            // f32 -> f64 is exact, so from_f64 rounds to T exactly as a direct f32 -> T would.
            o.iter_mut()
                .zip(xr)
                .zip(acc.iter())
                .for_each(|((o, xv), a)| *o = T::from_f64((xv.to_f64() as f32 + a) as f64));
        },
    );
    out
}

impl CustomOp3 for Combine {
    fn name(&self) -> &'static str {
        "moe-combine"
    }

    fn cpu_fwd(
        &self,
        xs: &CpuStorage,
        xl: &Layout,
        ys: &CpuStorage,
        yl: &Layout,
        ps: &CpuStorage,
        pl: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (t, h, n, k) = combine_dims(xl, yl, pl)?;
        let (Some((x0, x1)), Some((y0, y1)), Some((p0, p1))) =
            (xl.contiguous_offsets(), yl.contiguous_offsets(), pl.contiguous_offsets())
        else {
            bail!("moe-combine: contiguous inputs only")
        };
        let CpuStorage::U32(pos) = ps else { bail!("moe-combine: u32 positions only") };
        let pos = &pos[p0..p1];
        if let Some(bad) = pos.iter().find(|&&r| r as usize >= n) {
            bail!("moe-combine: row {bad} out of range ({n} rows)");
        }
        self.check_weights(t, k)?;
        let (ws, wl) = self.weights.storage_and_layout();
        let (candle_core::Storage::Cpu(CpuStorage::F32(w)), Some((w0, w1))) = (&*ws, wl.contiguous_offsets()) else {
            bail!("moe-combine: the weights must be contiguous f32 on the CPU")
        };
        let w = &w[w0..w1];
        let out = match (xs, ys) {
            (CpuStorage::F32(x), CpuStorage::F32(y)) => {
                CpuStorage::F32(combine_cpu(&x[x0..x1], &y[y0..y1], pos, w, h, k))
            }
            (CpuStorage::BF16(x), CpuStorage::BF16(y)) => {
                CpuStorage::BF16(combine_cpu(&x[x0..x1], &y[y0..y1], pos, w, h, k))
            }
            (CpuStorage::F16(x), CpuStorage::F16(y)) => {
                CpuStorage::F16(combine_cpu(&x[x0..x1], &y[y0..y1], pos, w, h, k))
            }
            _ => bail!("moe-combine: x and y must share a float dtype"),
        };
        Ok((out, Shape::from_dims(&[t, h])))
    }

    #[cfg(feature = "cuda")]
    fn cuda_fwd(
        &self,
        xs: &candle_core::CudaStorage,
        xl: &Layout,
        ys: &candle_core::CudaStorage,
        yl: &Layout,
        ps: &candle_core::CudaStorage,
        pl: &Layout,
    ) -> Result<(candle_core::CudaStorage, Shape)> {
        let (t, h, _, k) = combine_dims(xl, yl, pl)?;
        self.check_weights(t, k)?;
        let (ws, wl) = self.weights.storage_and_layout();
        let candle_core::Storage::Cuda(ws) = &*ws else { bail!("moe-combine: the weights must be on the device") };
        Ok((cuda::combine(xs, xl, ys, yl, ps, pl, (ws, &wl), t, h, k)?, Shape::from_dims(&[t, h])))
    }
}

impl Combine {
    fn check_weights(&self, t: usize, k: usize) -> Result<()> {
        if self.weights.dims() != [t, k] || self.weights.dtype() != candle_core::DType::F32 {
            bail!("moe-combine: weights {:?} {:?}, expected [{t}, {k}] f32", self.weights.dims(), self.weights.dtype());
        }
        Ok(())
    }
}

fn combine_dims(xl: &Layout, yl: &Layout, pl: &Layout) -> Result<(usize, usize, usize, usize)> {
    let (t, h) = xl.shape().dims2()?;
    let (n, hy) = yl.shape().dims2()?;
    let (tp, k) = pl.shape().dims2()?;
    if hy != h || tp != t {
        bail!("moe-combine: x [{t}, {h}], y [{n}, {hy}] and pos [{tp}, {k}] do not fit");
    }
    Ok((t, h, n, k))
}

/// `silu(gu[:, ..i]) * gu[:, i..]` for a fused gate/up output gu [R, 2i] -> [R, i]: candle ops on
/// the CPU (what the forward always did there), one kernel on CUDA (f32 inside, one rounding).
pub(crate) fn silu_mul(gu: &Tensor, i: usize) -> Result<Tensor> {
    #[cfg(feature = "cuda")]
    if gu.device().is_cuda() {
        return gu.apply_op1_no_bwd(&SiluMul);
    }
    candle_nn::ops::silu(&gu.narrow(1, 0, i)?)? * gu.narrow(1, i, i)?
}

#[cfg(feature = "cuda")]
struct SiluMul;

#[cfg(feature = "cuda")]
impl CustomOp1 for SiluMul {
    fn name(&self) -> &'static str {
        "silu-mul"
    }

    fn cpu_fwd(&self, _: &CpuStorage, _: &Layout) -> Result<(CpuStorage, Shape)> {
        bail!("silu-mul: the CPU path uses candle ops")
    }

    fn cuda_fwd(&self, s: &candle_core::CudaStorage, l: &Layout) -> Result<(candle_core::CudaStorage, Shape)> {
        let (r, two_i) = l.shape().dims2()?;
        Ok((cuda::silu_mul(s, l, r, two_i / 2)?, Shape::from_dims(&[r, two_i / 2])))
    }
}

/// Launches of the kernels in `kernels/moe.cu`.
#[cfg(feature = "cuda")]
mod cuda;

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Device};

    #[test]
    fn top_k_takes_the_largest_and_breaks_ties_to_the_lower_index() {
        let mut out = [0u32; 3];
        top_k_row(&[0.1, 0.3, 0.3, 0.05, 0.25], 3, &mut out);
        assert_eq!(out, [1, 2, 4]);
        top_k_row(&[0.25; 8], 3, &mut out);
        assert_eq!(out, [0, 1, 2]);
        // Against a full sort (the previous host routing) on random rows with many ties.
        let mut rng = crate::rng::SplitMix64(7);
        for _ in 0..500 {
            let p: Vec<f32> = (0..16).map(|_| (rng.next_u64() % 5) as f32 / 4.0).collect();
            let mut order: Vec<usize> = (0..16).collect();
            order.sort_by(|&a, &b| p[b].total_cmp(&p[a]).then(a.cmp(&b)));
            let mut got = [0u32; 4];
            top_k_row(&p, 4, &mut got);
            assert_eq!(got.map(|e| e as usize), order[..4], "{p:?}");
        }
    }

    #[test]
    fn permutation_is_a_stable_sort_by_expert() -> Result<()> {
        let ids = [2u32, 0, 1, 2, 0, 2]; // 3 tokens x 2 slots, 3 experts
        let out = permute_cpu(&ids, 4, 2)?;
        let (rop, rest) = out.split_at(6);
        let (por, rest) = rest.split_at(6);
        let (tor, off) = rest.split_at(6);
        assert_eq!(off, [0, 2, 3, 6, 6]);
        assert_eq!(por, [1, 4, 2, 0, 3, 5]);
        assert_eq!(tor, [0, 2, 1, 0, 1, 2]);
        assert_eq!(rop, [3, 0, 2, 4, 1, 5]);
        assert!(permute_cpu(&[4], 4, 1).is_err());
        // Through the op, cut into tensors.
        let r = Routing::new(&Tensor::from_slice(&ids, (3, 2), &Device::Cpu)?, 4)?;
        assert_eq!(r.offsets, off);
        assert_eq!(r.pos.to_vec2::<u32>()?, [[3, 0], [2, 4], [1, 5]]);
        assert_eq!(r.token_of_row.to_vec1::<u32>()?, tor);
        Ok(())
    }

    #[test]
    fn combine_adds_the_rows_of_each_token_to_the_residual() -> Result<()> {
        let dev = Device::Cpu;
        let x = Tensor::new(&[[1f32, 2.0], [3.0, 4.0]], &dev)?;
        let y = Tensor::new(&[[10f32, 20.0], [100.0, 200.0], [1000.0, 2000.0]], &dev)?;
        let pos = Tensor::new(&[[2u32, 0], [1, 1]], &dev)?;
        let ones = Combine { weights: Tensor::ones((2, 2), DType::F32, &dev)? };
        let got = x.apply_op3_no_bwd(&y, &pos, &ones)?;
        assert_eq!(got.to_vec2::<f32>()?, [[1011.0, 2022.0], [203.0, 404.0]]);
        // bf16: accumulated in f32 and rounded once (bf16 steps would lose the small term).
        let (xb, yb) = (x.to_dtype(DType::BF16)?, y.to_dtype(DType::BF16)?);
        let got = xb.apply_op3_no_bwd(&yb, &pos, &ones)?.to_dtype(DType::F32)?;
        assert_eq!(got.to_vec2::<f32>()?, [[1012.0, 2024.0], [203.0, 404.0]]);
        // The routing weights multiply each slot's row.
        let w = Combine { weights: Tensor::new(&[[0.5f32, 0.25], [2.0, 0.0]], &dev)? };
        let got = x.apply_op3_no_bwd(&y, &pos, &w)?;
        assert_eq!(got.to_vec2::<f32>()?, [[503.5, 1007.0], [203.0, 404.0]]);
        let bad = Tensor::new(&[[3u32, 0], [1, 1]], &dev)?;
        assert!(x.apply_op3_no_bwd(&y, &bad, &ones).is_err());
        let short = Combine { weights: Tensor::ones((2, 1), DType::F32, &dev)? };
        assert!(x.apply_op3_no_bwd(&y, &pos, &short).is_err(), "weights of the wrong shape");
        Ok(())
    }
}
