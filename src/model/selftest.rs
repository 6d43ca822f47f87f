//! `swerm selftest --device cuda:N`: this build's device kernels against their CPU
//! implementations on random inputs, one line per check (for `scripts/gpu-check.sh`; cargo and
//! `cargo test` are not on the GPU machine). Routing (top-k ids, the permutation) must be
//! identical; the combine must be bit-identical too (the same f32 sums in the same order); the
//! fused SiLU·up and attention are held to tolerances stated with each check.

use anyhow::{Result, bail};
use candle_core::{DType, Device, Tensor};

use super::attention;
use super::moe_ops::{Combine, Permute, TopK, silu_mul};

struct Report {
    failed: usize,
}

impl Report {
    fn check(&mut self, name: &str, diff: f64, tol: f64) {
        let ok = diff <= tol;
        outln!("{} {name:<58} max diff {diff:.3e} (tolerance {tol:.1e})", if ok { "ok  " } else { "FAIL" });
        self.failed += usize::from(!ok);
    }
}

fn max_abs_diff(a: &Tensor, b: &Tensor) -> Result<f64> {
    let a = a.to_device(&Device::Cpu)?.to_dtype(DType::F32)?;
    let b = b.to_device(&Device::Cpu)?.to_dtype(DType::F32)?;
    Ok((a - b)?.abs()?.flatten_all()?.max(0)?.to_scalar::<f32>()? as f64)
}

fn mismatches(a: &Tensor, b: &Tensor) -> Result<f64> {
    let a = a.to_device(&Device::Cpu)?.flatten_all()?.to_vec1::<u32>()?;
    let b = b.to_device(&Device::Cpu)?.flatten_all()?.to_vec1::<u32>()?;
    if a.len() != b.len() {
        return Ok(f64::INFINITY);
    }
    Ok(a.iter().zip(&b).filter(|(x, y)| x != y).count() as f64)
}

/// The fallback attention (f32 and bf16) and FlashAttention-2 (bf16, when built) on the device
/// against the CPU's f32 attention, over the packed sequences `seqs` (start, length) with
/// (query heads, key-value heads) of 128.
fn attention_checks(
    r: &mut Report,
    dev: &Device,
    seqs: &[(usize, usize)],
    heads: (usize, usize),
    what: &str,
) -> Result<()> {
    let cpu = Device::Cpu;
    let total = seqs.iter().map(|&(s, l)| s + l).max().unwrap_or(0);
    let q = Tensor::randn(0f32, 1.0, (total, heads.0, 128), &cpu)?;
    let kk = Tensor::randn(0f32, 1.0, (total, heads.1, 128), &cpu)?;
    let v = Tensor::randn(0f32, 1.0, (total, heads.1, 128), &cpu)?;
    let want = attention::varlen_causal(&q, &kk, &v, seqs, 1 << 20)?;
    let (qd, kd, vd) = (q.to_device(dev)?, kk.to_device(dev)?, v.to_device(dev)?);
    let got = attention::varlen_causal(&qd, &kd, &vd, seqs, attention::DEFAULT_BUDGET)?;
    r.check(&format!("attention fallback f32 vs CPU ({what})"), max_abs_diff(&want, &got)?, 1e-4);
    let b16 = |t: &Tensor| t.to_dtype(DType::BF16);
    let (qb, kb, vb) = (b16(&qd)?, b16(&kd)?, b16(&vd)?);
    // The f32 reference on the same bf16-rounded inputs; bf16 outputs of unit-scale values are
    // within 2^-8 relative, and the probabilities are rounded to bf16 before P·V: 2e-2 absolute.
    let f32_of_b16 = |t: &Tensor| b16(t)?.to_dtype(DType::F32);
    let want16 = attention::varlen_causal(&f32_of_b16(&q)?, &f32_of_b16(&kk)?, &f32_of_b16(&v)?, seqs, 1 << 20)?;
    let fallback = attention::varlen_causal(&qb, &kb, &vb, seqs, attention::DEFAULT_BUDGET)?;
    r.check(&format!("attention fallback bf16 vs f32 reference ({what})"), max_abs_diff(&want16, &fallback)?, 2e-2);
    match attention::flash_plan(seqs, dev, DType::BF16, 128)? {
        Some(plan) => {
            let fa = attention::attend(&qb, &kb, &vb, seqs, Some(&plan), 0)?;
            r.check(
                &format!("FlashAttention-2 varlen bf16 vs f32 reference ({what})"),
                max_abs_diff(&want16, &fa)?,
                2e-2,
            );
        }
        None => outln!(
            "skip FlashAttention-2 ({what}): not in this build (scripts/build-cuda.sh --flash-attn), or SWERM_NO_FLASH_ATTN set"
        ),
    }
    Ok(())
}

pub(crate) fn run(dev: &Device) -> Result<()> {
    if dev.is_cpu() {
        bail!("selftest compares a CUDA device with the CPU: give --device cuda:N");
    }
    let cpu = Device::Cpu;
    let mut r = Report { failed: 0 };
    // Routing at the 30B-A3B shape: 128 experts, top 8, 3000 tokens; rows with exact ties too.
    let (t, e, k) = (3000, 128, 8);
    let logits = Tensor::randn(0f32, 2.0, (t, e), &cpu)?;
    let tied = (logits.narrow(0, 0, 100)? * 0.0)?; // 100 rows of equal probabilities
    let probs = candle_nn::ops::softmax_last_dim(&Tensor::cat(&[tied, logits.narrow(0, 100, t - 100)?], 0)?)?;
    let ids_cpu = probs.apply_op1_no_bwd(&TopK { k })?;
    let ids_dev = probs.to_device(dev)?.apply_op1_no_bwd(&TopK { k })?;
    r.check("moe_topk: expert ids (128 experts, top 8, 100 tied rows)", mismatches(&ids_cpu, &ids_dev)?, 0.0);
    let perm = Permute { experts: e, k };
    let p_cpu = ids_cpu.flatten_all()?.apply_op1_no_bwd(&perm)?;
    let p_dev = ids_cpu.to_device(dev)?.flatten_all()?.apply_op1_no_bwd(&perm)?;
    r.check("moe_count/offsets/permute: stable sort by expert", mismatches(&p_cpu, &p_dev)?, 0.0);
    let n = t * k;
    let pos = p_cpu.narrow(0, 0, n)?.reshape((t, k))?;
    for dtype in [DType::F32, DType::BF16] {
        let x = Tensor::randn(0f32, 1.0, (t, 256), &cpu)?.to_dtype(dtype)?;
        let y = Tensor::randn(0f32, 1.0, (n, 256), &cpu)?.to_dtype(dtype)?;
        let w = Tensor::rand(0f32, 1.0, (t, k), &cpu)?;
        let c_cpu = x.apply_op3_no_bwd(&y, &pos, &Combine { weights: w.clone() })?;
        let on_dev = Combine { weights: w.to_device(dev)? };
        let c_dev = x.to_device(dev)?.apply_op3_no_bwd(&y.to_device(dev)?, &pos.to_device(dev)?, &on_dev)?;
        r.check(
            &format!("moe_combine {dtype:?}: x + weighted sum of 8 rows, f32 in slot order"),
            max_abs_diff(&c_cpu, &c_dev)?,
            0.0,
        );
        let gu = Tensor::randn(0f32, 0.5, (500, 2 * 96), &cpu)?.to_dtype(dtype)?;
        let s_cpu = silu_mul(&gu, 96)?;
        let s_dev = silu_mul(&gu.to_device(dev)?, 96)?;
        // The CPU rounds twice in bf16 (silu, then the product), the kernel once: within 2 bf16
        // ulps of values below 8 in magnitude (2 x 2^-5); f32 within expf's error.
        let tol = if dtype == DType::BF16 { 2.0 / 32.0 } else { 1e-5 };
        r.check(&format!("silu_mul {dtype:?}: fused kernel vs candle ops"), max_abs_diff(&s_cpu, &s_dev)?, tol);
    }
    // Attention over packed sequences, grouped-query, head dim 128: a small case with a
    // one-token sequence, then the 30B-A3B's own heads (32 query, 4 key-value) with one
    // sequence past 4k tokens (FlashAttention's blocks, several of them per sequence).
    attention_checks(&mut r, dev, &[(0, 700), (700, 1), (701, 333), (1034, 990)], (8, 2), "8/2 heads")?;
    let long = [(0, 4500), (4500, 1), (4501, 1200), (5701, 2299)];
    attention_checks(&mut r, dev, &long, (32, 4), "32/4 heads, 4.5k-token sequence")?;
    if r.failed > 0 {
        bail!("{} device check(s) failed", r.failed);
    }
    outln!("all device checks passed");
    Ok(())
}
