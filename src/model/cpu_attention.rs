//! Causal self-attention over packed sequences on the CPU, as one fused candle op.
//!
//! The chunked path (`attention::varlen_causal`) is a dozen candle ops per chunk: transposed
//! copies of q, k and v per sequence, a score budget that at 16k tokens leaves a handful of
//! query rows per chunk (tiny GEMMs that re-read all keys each time), fresh buffers per chunk.
//! Profiled on Qwen3-0.6B's shape at 1k tokens it took ~4x the time its FLOPs need. Here one
//! task is a block of query rows of every head that shares one key/value head (grouped-query
//! attention: the group's rows make one taller GEMM over the same keys), run on rayon's pool:
//!
//! 1. gather the block's queries (`rows = group x block`) into a contiguous f32 buffer;
//! 2. S = Q Kᵀ over the keys the block can see (0..end of the block), one GEMM reading the keys
//!    where they lie in the packed `[T, n_kv, D]` tensor (strided, no copy);
//! 3. each row's causal softmax over its own visible keys (`causal_softmax::softmax_in_place`:
//!    the exact two-pass softmax, scaled, masked keys set to 0);
//! 4. O = P V, one GEMM, scattered into the `[T, heads * D]` output.
//!
//! Memory is linear in the prompt: a task's scores are `rows x (end of block)` f32 in a
//! per-thread buffer reused from task to task (at 16k tokens and 256 rows: 16 MiB per thread).
//! GEMMs are the `gemm` crate's (candle's own CPU matmul backend), single-threaded inside a
//! task. The math is in f32 whatever the storage dtype: bf16/f16 inputs are widened once and
//! the output narrowed once (transformers' CPU SDPA also accumulates bf16 attention in f32).

use std::cell::RefCell;

use candle_core::{CpuStorage, CustomOp3, Layout, Result, Shape, bail};
use rayon::prelude::*;

use super::causal_softmax::softmax_in_place;
use super::cpu_matmul::{gemm_f32, narrow_like, widen};

/// The fused op: q `[T, heads, D]`, k and v `[T, n_kv, D]` (contiguous, one dtype), `seqs` the
/// (start, len) of each packed sequence. Output `[T, heads * D]` in the input dtype.
pub(crate) struct VarlenCausal<'a> {
    pub(crate) seqs: &'a [(usize, usize)],
}

/// Query rows (of all heads of a group together) per task: tall enough for the GEMM's register
/// tiles, small enough that a 16k-token sequence makes hundreds of tasks for load balance.
const ROWS: usize = 256;

thread_local! {
    /// A task's scores, reused by the next task on the same thread.
    static SCORES: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

impl CustomOp3 for VarlenCausal<'_> {
    fn name(&self) -> &'static str {
        "cpu-varlen-causal-attention"
    }

    fn cpu_fwd(
        &self,
        qs: &CpuStorage,
        ql: &Layout,
        ks: &CpuStorage,
        kl: &Layout,
        vs: &CpuStorage,
        vl: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (t, heads, d) = ql.shape().dims3()?;
        let (tk, n_kv, dk) = kl.shape().dims3()?;
        if tk != t || dk != d || vl.shape().dims() != kl.shape().dims() || n_kv == 0 || heads % n_kv != 0 {
            bail!("cpu attention: q {:?}, k {:?}, v {:?} do not fit", ql.dims(), kl.dims(), vl.dims());
        }
        if let Some(&(s, l)) = self.seqs.iter().find(|&&(s, l)| s + l > t) {
            bail!("cpu attention: sequence ({s}, {l}) is past the {t} tokens");
        }
        let w = |s, l, what| widen(s, l, what);
        let (q, k, v) =
            (w(qs, ql, "cpu attention: q")?, w(ks, kl, "cpu attention: k")?, w(vs, vl, "cpu attention: v")?);
        let out = attend(&q, &k, &v, Dims { heads, n_kv, d }, self.seqs);
        Ok((narrow_like(qs, out), Shape::from((t, heads * d))))
    }
}

#[derive(Clone, Copy)]
struct Dims {
    heads: usize,
    n_kv: usize,
    d: usize,
}

/// One task: query positions `a..a + c` of the sequence starting at token `start`, key/value
/// head `g` and its group of query heads.
#[derive(Clone, Copy)]
struct Task {
    start: usize,
    g: usize,
    a: usize,
    c: usize,
}

fn attend(q: &[f32], k: &[f32], v: &[f32], dims: Dims, seqs: &[(usize, usize)]) -> Vec<f32> {
    let Dims { heads, n_kv, d } = dims;
    let group = heads / n_kv;
    let block = (ROWS / group).max(1);
    let mut tasks = Vec::new();
    for &(start, len) in seqs {
        for g in 0..n_kv {
            for a in (0..len).step_by(block) {
                tasks.push(Task { start, g, a, c: block.min(len - a) });
            }
        }
    }
    // The longest rows first, so that the short ones fill the gaps at the end.
    tasks.sort_by_key(|t| std::cmp::Reverse(t.a + t.c));
    let outs: Vec<(Task, Vec<f32>)> = tasks.into_par_iter().map(|task| (task, one_task(q, k, v, dims, task))).collect();
    let t = q.len() / (heads * d);
    let mut out = vec![0f32; t * heads * d];
    for (Task { start, g, a, c }, o) in outs {
        for j in 0..group {
            for i in 0..c {
                let dst = ((start + a + i) * heads + g * group + j) * d;
                out[dst..dst + d].copy_from_slice(&o[(j * c + i) * d..][..d]);
            }
        }
    }
    out
}

/// The task's output rows, `[group * c, D]` (row `j * c + i`: head `g * group + j`, query `a + i`).
fn one_task(q: &[f32], k: &[f32], v: &[f32], dims: Dims, Task { start, g, a, c }: Task) -> Vec<f32> {
    let Dims { heads, n_kv, d } = dims;
    let group = heads / n_kv;
    let rows = group * c;
    let b = a + c; // keys 0..b of the sequence are visible to some row of the block
    let mut qb = vec![0f32; rows * d];
    for j in 0..group {
        for i in 0..c {
            let src = ((start + a + i) * heads + g * group + j) * d;
            qb[(j * c + i) * d..][..d].copy_from_slice(&q[src..src + d]);
        }
    }
    let kv_row = (n_kv * d) as isize; // the stride between tokens in k and v
    let kv0 = (start * n_kv + g) * d; // key/value head g of the sequence's first token
    let scale = 1.0 / (d as f32).sqrt();
    let mut o = vec![0f32; rows * d];
    SCORES.with_borrow_mut(|s| {
        if s.len() < rows * b {
            s.resize(rows * b, 0.0);
        }
        let s = &mut s[..rows * b];
        let none = gemm::Parallelism::None; // a task is one thread's work
        // SAFETY (both products): every pointer/stride pair addresses only inside its slice: qb
        // is [rows, d], s is [rows, b], o is [rows, d]; the keys and values read are tokens
        // start..start + b (<= start + len <= T, checked by the caller) of head g.
        // S[r, j] = sum_x qb[r, x] * k[start + j, g, x]
        unsafe { gemm_f32((rows, b, d), s.as_mut_ptr(), qb.as_ptr(), d, k[kv0..].as_ptr(), (1, kv_row), none) };
        for (r, row) in s.chunks_exact_mut(b).enumerate() {
            softmax_in_place(row, a + r % c + 1, scale);
        }
        // O[r, x] = sum_j P[r, j] * v[start + j, g, x]
        unsafe { gemm_f32((rows, d, b), o.as_mut_ptr(), s.as_ptr(), b, v[kv0..].as_ptr(), (kv_row, 1), none) };
    });
    o
}

#[cfg(test)]
mod tests {
    use candle_core::{DType, Device, Tensor};

    use super::*;

    /// Attention computed directly from its definition, in f64: for each head and query, the
    /// softmax over the keys at or before it in its sequence of the scaled dot products.
    fn brute(q: &[f32], k: &[f32], v: &[f32], dims: Dims, seqs: &[(usize, usize)]) -> Vec<f64> {
        let Dims { heads, n_kv, d } = dims;
        let t = q.len() / (heads * d);
        let mut out = vec![0f64; t * heads * d];
        for &(start, len) in seqs {
            for h in 0..heads {
                let g = h / (heads / n_kv);
                for i in 0..len {
                    let qi = &q[((start + i) * heads + h) * d..][..d];
                    let s: Vec<f64> = (0..=i)
                        .map(|j| {
                            let kj = &k[((start + j) * n_kv + g) * d..][..d];
                            qi.iter().zip(kj).map(|(&x, &y)| x as f64 * y as f64).sum::<f64>() / (d as f64).sqrt()
                        })
                        .collect();
                    let m = s.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                    let z: f64 = s.iter().map(|x| (x - m).exp()).sum();
                    for (j, sj) in s.iter().enumerate() {
                        let vj = &v[((start + j) * n_kv + g) * d..][..d];
                        let p = (sj - m).exp() / z;
                        for x in 0..d {
                            out[((start + i) * heads + h) * d + x] += p * vj[x] as f64;
                        }
                    }
                }
            }
        }
        out
    }

    #[test]
    fn equals_the_definition_for_packed_grouped_heads() -> Result<()> {
        let dev = Device::Cpu;
        // Sequences longer and shorter than a task's block, one of a single token; group sizes
        // 1, 2 and 4 (a block of 256, 128 or 64 queries).
        for (heads, n_kv, d) in [(2, 2, 8), (4, 2, 16), (8, 2, 8)] {
            let seqs = [(0, 300), (300, 1), (301, 70)];
            let t = 371;
            let q = Tensor::randn(0f32, 1.0, (t, heads, d), &dev)?;
            let k = Tensor::randn(0f32, 1.0, (t, n_kv, d), &dev)?;
            let v = Tensor::randn(0f32, 1.0, (t, n_kv, d), &dev)?;
            let flat = |x: &Tensor| x.flatten_all().and_then(|x| x.to_vec1::<f32>());
            let want = brute(&flat(&q)?, &flat(&k)?, &flat(&v)?, Dims { heads, n_kv, d }, &seqs);
            let got = flat(&q.apply_op3_no_bwd(&k, &v, &VarlenCausal { seqs: &seqs })?)?;
            let worst = got.iter().zip(&want).map(|(&g, &w)| (g as f64 - w).abs()).fold(0f64, f64::max);
            assert!(worst < 2e-6, "heads {heads}/{n_kv}: {worst}");
            // bf16 storage: the same math on the rounded inputs, the output rounded once.
            let round = |x: &Tensor| x.to_dtype(DType::BF16);
            let (qb, kb, vb) = (round(&q)?, round(&k)?, round(&v)?);
            let f = |x: &Tensor| x.to_dtype(DType::F32).and_then(|x| flat(&x));
            let want = brute(&f(&qb)?, &f(&kb)?, &f(&vb)?, Dims { heads, n_kv, d }, &seqs);
            let got = f(&qb.apply_op3_no_bwd(&kb, &vb, &VarlenCausal { seqs: &seqs })?)?;
            for (&g, &w) in got.iter().zip(&want) {
                assert!((g as f64 - w).abs() <= w.abs() / 128.0 + 1e-6, "bf16: {g} vs {w}");
            }
        }
        Ok(())
    }

    #[test]
    fn equals_the_chunked_path() -> Result<()> {
        let (q, k, v, seqs) = super::super::attention::packed_sample()?;
        let want = super::super::attention::varlen_causal(&q, &k, &v, &seqs, 64)?;
        let got = q.apply_op3_no_bwd(&k, &v, &VarlenCausal { seqs: &seqs })?;
        let diff = (got - want)?.abs()?.max_all()?.to_scalar::<f32>()?;
        assert!(diff < 1e-5, "{diff}");
        Ok(())
    }

    #[test]
    fn refuses_shapes_that_do_not_fit() -> Result<()> {
        let dev = Device::Cpu;
        let q = Tensor::zeros((5, 3, 4), DType::F32, &dev)?;
        let k = Tensor::zeros((5, 2, 4), DType::F32, &dev)?;
        assert!(q.apply_op3_no_bwd(&k, &k, &VarlenCausal { seqs: &[(0, 5)] }).is_err()); // 3 heads over 2
        let k = Tensor::zeros((5, 3, 4), DType::F32, &dev)?;
        assert!(q.apply_op3_no_bwd(&k, &k, &VarlenCausal { seqs: &[(2, 4)] }).is_err()); // past T
        Ok(())
    }
}
