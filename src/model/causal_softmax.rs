//! A fused causal mask + scale + softmax for the CPU, as a candle custom op: for score rows of
//! queries at positions a..a+c over keys 0..b, row r is scaled and soft-maxed over its visible
//! keys 0..=a+r only; the masked keys get exactly 0 and cost no `exp`. One pass, one output
//! buffer, rows in parallel, and an `exp` that the compiler can vectorize (candle's softmax
//! calls libm's scalar `expf`, which dominated CPU profiles).

use candle_core::{CpuStorage, CustomOp1, Layout, Result, Shape, bail};
use rayon::prelude::*;

pub(crate) struct CausalSoftmax {
    /// Position of the first query row.
    pub(crate) first_pos: usize,
    /// Factor applied to the scores before the softmax.
    pub(crate) scale: f32,
}

impl CustomOp1 for CausalSoftmax {
    fn name(&self) -> &'static str {
        "causal-softmax"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let CpuStorage::F32(data) = storage else { bail!("causal-softmax: f32 scores only") };
        let Some((start, end)) = layout.contiguous_offsets() else { bail!("causal-softmax: contiguous scores only") };
        let dims = layout.dims();
        let (c, b) = match dims {
            [.., c, b] => (*c, *b),
            _ => bail!("causal-softmax: expected [..., queries, keys]"),
        };
        let src = &data[start..end];
        let mut out = vec![0f32; src.len()];
        out.par_chunks_mut(b).zip(src.par_chunks(b)).enumerate().for_each(|(i, (o, x))| {
            let visible = (self.first_pos + i % c + 1).min(b);
            softmax_row(&x[..visible], &mut o[..visible], self.scale);
        });
        Ok((CpuStorage::F32(out), Shape::from_dims(dims)))
    }
}

fn softmax_row(x: &[f32], o: &mut [f32], scale: f32) {
    // Three vectorizable passes: max (8 lanes), exp into the output, sum (8 lanes), scale.
    let max = lanes(x, f32::NEG_INFINITY, f32::max) * scale;
    for (o, &v) in o.iter_mut().zip(x) {
        *o = fast_exp(v * scale - max);
    }
    let inv = 1.0 / lanes(o, 0.0, |a, b| a + b);
    o.iter_mut().for_each(|v| *v *= inv);
}

/// Row `row`'s causal softmax in place: its first `visible` entries (at most all) scaled by
/// `scale` and soft-maxed, the rest set to 0.
pub(crate) fn softmax_in_place(row: &mut [f32], visible: usize, scale: f32) {
    let (x, hidden) = row.split_at_mut(visible.min(row.len()));
    hidden.fill(0.0);
    let max = lanes(x, f32::NEG_INFINITY, f32::max) * scale;
    for v in x.iter_mut() {
        *v = fast_exp(*v * scale - max);
    }
    let inv = 1.0 / lanes(x, 0.0, |a, b| a + b);
    x.iter_mut().for_each(|v| *v *= inv);
}

/// A reduction over 8 independent lanes (so the compiler can use SIMD registers), then across.
#[inline(always)]
fn lanes(x: &[f32], init: f32, f: impl Fn(f32, f32) -> f32) -> f32 {
    let mut acc = [init; 8];
    let mut chunks = x.chunks_exact(8);
    for c in &mut chunks {
        for i in 0..8 {
            acc[i] = f(acc[i], c[i]);
        }
    }
    let tail = chunks.remainder().iter().fold(init, |a, &v| f(a, v));
    acc.iter().fold(tail, |a, &v| f(a, v))
}

/// exp(x) for x <= 0 (Cephes `expf`: x = n ln2 + r with |r| <= ln2/2, a degree-6 polynomial for
/// e^r, 2^n from the exponent bits): within 2 ulp of libm for x in [-87, 0]; 0 below -87.
/// Branch-free and call-free so that loops over it vectorize.
#[inline(always)]
pub(crate) fn fast_exp(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const C1: f32 = 0.693_359_4;
    const C2: f32 = -2.121_944_4e-4;
    // Round to nearest by adding 1.5 * 2^23: the sum's low mantissa bits then hold n as an
    // integer (exact for |x * log2 e| < 2^22), so no libm `roundf` call and no float->int cast.
    const MAGIC: f32 = 12_582_912.0;
    let under = x < -87.0;
    let x = x.max(-87.0);
    let t = x * LOG2E + MAGIC;
    let n_int = (t.to_bits() as i32).wrapping_sub(MAGIC.to_bits() as i32);
    let n = t - MAGIC;
    let r = x - n * C1 - n * C2;
    let mut p = 1.987_569_2e-4f32;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 0.166_666_65;
    p = p * r + 0.5;
    let er = p * r * r + r + 1.0;
    let pow2n = f32::from_bits((n_int.wrapping_add(127) << 23) as u32);
    if under { 0.0 } else { er * pow2n }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Tensor};

    #[test]
    fn exp_is_accurate() {
        let mut worst = 0f32;
        for i in 0..200_000 {
            let x = -87.0 * i as f32 / 200_000.0;
            let (a, b) = (fast_exp(x), x.exp());
            worst = worst.max(((a - b) / b).abs());
        }
        assert!(worst < 3e-7, "relative error {worst}");
        assert_eq!(fast_exp(-200.0), 0.0);
        assert_eq!(fast_exp(0.0), 1.0);
    }

    #[test]
    fn matches_masked_softmax() -> Result<()> {
        let dev = Device::Cpu;
        let (c, b, a) = (5, 9, 4); // queries at positions 4..9 over keys 0..9
        let s = Tensor::randn(0f32, 3.0, (2, c, b), &dev)?;
        let got = s.apply_op1_no_bwd(&CausalSoftmax { first_pos: a, scale: 0.5 })?.to_vec3::<f32>()?;
        let x = s.to_vec3::<f32>()?;
        for h in 0..2 {
            for r in 0..c {
                let vis = a + r + 1;
                let m = x[h][r][..vis].iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v * 0.5));
                let z: f32 = x[h][r][..vis].iter().map(|&v| (v * 0.5 - m).exp()).sum();
                for j in 0..b {
                    let want = if j < vis { (x[h][r][j] * 0.5 - m).exp() / z } else { 0.0 };
                    assert!((got[h][r][j] - want).abs() < 1e-6, "{h} {r} {j}");
                }
            }
        }
        Ok(())
    }
}
