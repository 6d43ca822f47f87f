//! `x · wᵀ` (a linear layer's product: x `[.., K]`, w `[N, K]` as checkpoints store it), with a
//! CPU path of its own.
//!
//! candle's CPU matmul has no bf16 kernel: it widens *the whole storage* of both operands to f32
//! on one thread, multiplies, and narrows the product back on one thread. For a layer weight
//! that is a view into a bigger tensor (an expert of the fused `[E, 2I, H]` expert weights) the
//! whole fused tensor was widened for every expert: 32x the work on a 32-expert layer. Its f32
//! product also zero-fills the output before the GEMM overwrites it (3% of a prefill's time).
//! Here the operands' own slices are widened in parallel, the product is written by the same
//! `gemm` call candle makes (same kernels, same blocking, so f32 products are the same bits)
//! into an output it does not zero first, and a bf16/f16 product is narrowed in parallel with
//! the same rounding (`from_f32`: to nearest, ties to even). Other devices use candle's matmul.

use candle_core::{CpuStorage, CustomOp2, DType, Layout, Result, Shape, Tensor, bail};
use half::{bf16, f16};
use rayon::prelude::*;

/// `x · wᵀ` for x `[.., K]` and w `[N, K]`: `[.., N]`.
pub(crate) fn matmul_t(x: &Tensor, w: &Tensor) -> Result<Tensor> {
    let cpu_dtype = matches!(x.dtype(), DType::F32 | DType::BF16 | DType::F16);
    if !x.device().is_cpu() || !cpu_dtype || x.dtype() != w.dtype() {
        return match x.rank() {
            2 => x.matmul(&w.t()?),
            _ => x.broadcast_matmul(&w.t()?),
        };
    }
    x.contiguous()?.apply_op2_no_bwd(&w.contiguous()?, &MatMulT)
}

struct MatMulT;

/// A contiguous operand's elements in f32: borrowed when stored in f32, widened in parallel
/// otherwise (its own slice only). `what` names it in errors. Shared with `cpu_attention`.
pub(crate) fn widen<'s>(s: &'s CpuStorage, l: &Layout, what: &str) -> Result<std::borrow::Cow<'s, [f32]>> {
    let Some((a, b)) = l.contiguous_offsets() else { bail!("{what}: not contiguous") };
    Ok(match s {
        CpuStorage::F32(v) => std::borrow::Cow::Borrowed(&v[a..b]),
        CpuStorage::BF16(v) => std::borrow::Cow::Owned(v[a..b].par_iter().map(|x| x.to_f32()).collect()),
        CpuStorage::F16(v) => std::borrow::Cow::Owned(v[a..b].par_iter().map(|x| x.to_f32()).collect()),
        _ => bail!("{what}: f32, bf16 or f16 only"),
    })
}

/// f32 results stored in `like`'s dtype: narrowed in parallel for bf16/f16 (`from_f32`: to
/// nearest, ties to even, as candle narrows), as they are for f32.
pub(crate) fn narrow_like(like: &CpuStorage, y: Vec<f32>) -> CpuStorage {
    match like {
        CpuStorage::BF16(_) => CpuStorage::BF16(y.par_iter().map(|&v| bf16::from_f32(v)).collect()),
        CpuStorage::F16(_) => CpuStorage::F16(y.par_iter().map(|&v| f16::from_f32(v)).collect()),
        _ => CpuStorage::F32(y),
    }
}

/// `dst = lhs · rhs` in f32 through `gemm` (candle's own call: alpha 0, beta 1, nothing read
/// from `dst`): dst is `m x n` row-major, lhs `m x k` with rows `lhs_rs` apart, rhs `k x n`
/// with element (i, j) at `i * rhs_rs + j * rhs_cs`.
///
/// # Safety
/// Every pointer must address the whole of its matrix as described (dst writable, m x n).
pub(crate) unsafe fn gemm_f32(
    (m, n, k): (usize, usize, usize),
    dst: *mut f32,
    lhs: *const f32,
    lhs_rs: usize,
    rhs: *const f32,
    (rhs_rs, rhs_cs): (isize, isize),
    par: gemm::Parallelism,
) {
    // SAFETY: the caller's promise, in gemm's terms (column strides 1 for dst and lhs).
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst,
            1,
            n as isize,
            false,
            lhs,
            1,
            lhs_rs as isize,
            rhs,
            rhs_cs,
            rhs_rs,
            0.0,
            1.0,
            false,
            false,
            false,
            par,
        )
    }
}

impl CustomOp2 for MatMulT {
    fn name(&self) -> &'static str {
        "matmul-t"
    }

    fn cpu_fwd(&self, xs: &CpuStorage, xl: &Layout, ws: &CpuStorage, wl: &Layout) -> Result<(CpuStorage, Shape)> {
        let (n, k) = wl.shape().dims2()?;
        let dims = xl.dims();
        if dims.last() != Some(&k) {
            bail!("matmul_t: x {dims:?} does not end in the weight's {k} inputs ({n} x {k})");
        }
        let m = dims[..dims.len() - 1].iter().product::<usize>();
        let mut out_dims = dims.to_vec();
        *out_dims.last_mut().expect("rank >= 1 checked above") = n;
        let (x, w) = (widen(xs, xl, "matmul_t: x")?, widen(ws, wl, "matmul_t: w")?);
        let mut y = Vec::<f32>::with_capacity(m * n);
        if m * n > 0 {
            let threads = rayon::current_num_threads();
            let par = if threads > 1 { gemm::Parallelism::Rayon(threads) } else { gemm::Parallelism::None };
            // SAFETY: y has room for m x n values and is written whole; x is m x k row-major and
            // w n x k row-major, read as its transpose (k x n: row stride 1, column stride k).
            // Both slices have exactly those lengths (contiguous layouts of those shapes).
            unsafe {
                gemm_f32((m, n, k), y.as_mut_ptr(), x.as_ptr(), k, w.as_ptr(), (1, k as isize), par);
                y.set_len(m * n);
            }
        }
        Ok((narrow_like(xs, y), Shape::from_dims(&out_dims)))
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{Device, IndexOp};

    use super::*;

    #[test]
    fn equals_candles_matmul_bit_for_bit() -> Result<()> {
        let dev = Device::Cpu;
        let x = Tensor::randn(0f32, 1.0, (37, 24), &dev)?;
        // A weight that is a view into a bigger tensor, as an expert of fused expert weights is.
        let fused = Tensor::randn(0f32, 1.0, (3, 40, 24), &dev)?;
        let w = fused.i(1)?;
        for dt in [DType::F32, DType::BF16, DType::F16] {
            let (x, w) = (x.to_dtype(dt)?, w.to_dtype(dt)?);
            let want = x.matmul(&w.t()?)?.to_dtype(DType::F32)?.to_vec2::<f32>()?;
            let got = matmul_t(&x, &w)?;
            assert_eq!(got.dims(), &[37, 40]);
            assert_eq!(got.dtype(), dt);
            assert_eq!(got.to_dtype(DType::F32)?.to_vec2::<f32>()?, want, "{dt:?}");
        }
        // Leading dimensions are kept; a view of fused weights reads only its own rows.
        let x3 = Tensor::randn(0f32, 1.0, (2, 5, 24), &dev)?;
        let want = x3.broadcast_matmul(&fused.i(2)?.t()?)?;
        let got = matmul_t(&x3, &fused.i(2)?)?;
        assert_eq!(got.dims(), &[2, 5, 40]);
        let diff = (got - want)?.abs()?.max_all()?.to_scalar::<f32>()?;
        assert!(diff < 1e-5, "{diff}");
        assert!(matmul_t(&x, &Tensor::zeros((4, 23), DType::F32, &dev)?).is_err());
        Ok(())
    }
}
