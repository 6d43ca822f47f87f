//! `swerm bench`: prefill scoring throughput of the verifier forward pass at given context
//! lengths, on random weights of a named shape built on the device (`--synthetic`) or on a real
//! checkpoint (`--model`). Prints tokens/s, seconds per trajectory, the fraction of the FLOP
//! ceiling (docs/spec/performance.md) and peak memory.

use std::time::Instant;

use anyhow::{Context, Result};
use candle_core::Device;

use crate::checkpoint;
use crate::model::device::{DTypeSpec, DeviceSpec, dtype_name, pool};
use crate::model::{Batch, Model, ModelConfig, Profile, forward_splitting, synthetic};
use crate::rng::SplitMix64;

/// What to measure (validated from the command line by `config`).
pub struct BenchConfig {
    pub(crate) weights: BenchWeights,
    pub(crate) contexts: Vec<usize>,
    pub(crate) batch_tokens: usize,
    pub(crate) passes: usize,
    pub(crate) device: DeviceSpec,
    pub(crate) dtype: DTypeSpec,
    /// Keep only this many decoder layers (quick runs of a big shape); the FLOP count follows.
    pub(crate) layers: Option<usize>,
    /// `None`: 790 on CUDA, no ceiling on the CPU.
    pub(crate) peak_tflops: Option<f64>,
    /// Time the parts of the forward pass in one extra, synchronized pass per context.
    pub(crate) profile: bool,
}

/// Random weights of a named shape, or a checkpoint's.
pub(crate) enum BenchWeights {
    Synthetic(String),
    Checkpoint(String),
}

/// One measured context length.
pub(crate) struct Row {
    pub(crate) context: usize,
    pub(crate) seqs_per_pass: usize,
    pub(crate) tokens_per_s: f64,
    pub(crate) s_per_trajectory: f64,
    pub(crate) tflops: f64,
    pub(crate) fraction_of_ceiling: Option<f64>,
    pub(crate) peak_mem_gib: Option<f64>,
    /// Seconds per part of one extra pass (`--profile`).
    pub(crate) profile: Option<Profile>,
}

/// FLOPs to score one token at context `l`: 2 x the active linear weights, plus causal attention
/// (QK^T and PV over l/2 keys on average: 2 x 2 x l/2 x heads x head_dim per layer).
pub(crate) fn flops_per_token(cfg: &ModelConfig, l: usize) -> f64 {
    2.0 * cfg.active_linear_params() as f64 + 2.0 * (cfg.num_layers * l * cfg.num_heads * cfg.head_dim) as f64
}

fn load(cfg: &BenchConfig) -> Result<(Model, Device)> {
    let dev = cfg.device.resolve()?;
    let dtype = cfg.dtype.resolve(&dev);
    let (mut mcfg, weights) = match &cfg.weights {
        BenchWeights::Synthetic(name) => (synthetic::shape(name)?, None),
        BenchWeights::Checkpoint(m) => {
            let ck = checkpoint::locate(m, None, true)?;
            (ModelConfig::load(&ck.config)?, Some(ck.weights))
        }
    };
    if let Some(n) = cfg.layers {
        mcfg.num_layers = n.min(mcfg.num_layers);
    }
    check_memory(&mcfg, dtype, &dev)?;
    let m = match weights {
        None => Model::from_var_builder(mcfg, synthetic::var_builder(dtype, &dev), dtype, &dev)?,
        Some(w) => Model::load(mcfg, &w, dtype, &dev)?,
    };
    Ok((m, dev))
}

/// Refuses, before allocating, a model whose weights do not fit the CPU's available memory (an
/// allocation abort would give no message): the full Qwen3-30B-A3B shape is 61 GB in bf16.
fn check_memory(cfg: &ModelConfig, dtype: candle_core::DType, dev: &Device) -> Result<()> {
    if !dev.is_cpu() {
        return Ok(());
    }
    let need = cfg.total_params() as f64 * dtype.size_in_bytes() as f64;
    let available = std::fs::read_to_string("/proc/meminfo").ok().and_then(|s| {
        let line = s.lines().find(|l| l.starts_with("MemAvailable:"))?;
        line.split_whitespace().nth(1)?.parse::<f64>().ok().map(|kb| kb * 1024.0)
    });
    if let Some(avail) = available
        && need > 0.9 * avail
    {
        let gib = |b: f64| b / (1u64 << 30) as f64;
        anyhow::bail!(
            "{} layers of this shape take {:.1} GiB of weights ({}), and {:.1} GiB of memory is available: use --layers N (e.g. --layers 2)",
            cfg.num_layers,
            gib(need),
            dtype_name(dtype),
            gib(avail)
        );
    }
    Ok(())
}

/// Peak memory so far: the CUDA memory pool's high-water mark of memory in use (weights and
/// activations, over the whole run), the process's
/// peak RSS on the CPU.
fn peak_mem_gib(dev: &Device, peak: &mut Option<f64>) {
    let now = match dev {
        Device::Cpu => std::fs::read_to_string("/proc/self/status").ok().and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
            line.split_whitespace().nth(1)?.parse::<f64>().ok().map(|kb| kb / (1024.0 * 1024.0))
        }),
        _ => pool::peak_bytes(dev).map(|b| b as f64 / (1u64 << 30) as f64),
    };
    if let Some(n) = now {
        *peak = Some(peak.map_or(n, |p: f64| p.max(n)));
    }
}

pub(crate) fn run(cfg: &BenchConfig) -> Result<(Vec<Row>, Option<f64>)> {
    let t0 = Instant::now();
    let (mut model, dev) = load(cfg).context("building the model")?;
    let peak = cfg.peak_tflops.or((!dev.is_cpu()).then_some(790.0));
    crate::console::info(&format!(
        "bench: {} layers, {:.2}B active linear parameters per token, {:?} {}, built in {:.1} s",
        model.cfg.num_layers,
        model.cfg.active_linear_params() as f64 / 1e9,
        dev.location(),
        dtype_name(model.dtype),
        t0.elapsed().as_secs_f64()
    ));
    let vocab = model.cfg.vocab_size;
    let mut rng = SplitMix64(7);
    let mut rows = Vec::new();
    let mut peak_mem = None;
    for &l in &cfg.contexts {
        let n = (cfg.batch_tokens / l).max(1);
        let seqs: Vec<Vec<u32>> = (0..n).map(|_| (0..l).map(|_| rng.below(vocab) as u32).collect()).collect();
        let refs: Vec<&[u32]> = seqs.iter().map(Vec::as_slice).collect();
        let batch = Batch::new(&refs);
        let mut forward = |b: &Batch| model.answer_logits(b, [0, 1]);
        // `--passes 0`: the one cold pass is the measurement (a fit check).
        let timed = cfg.passes.max(1);
        if cfg.passes > 0 {
            forward_splitting(&batch, &mut forward)?; // warm-up (kernels, allocator)
        }
        let t = Instant::now();
        for _ in 0..timed {
            // The logits are copied to the host, so the device is synchronized per pass.
            forward_splitting(&batch, &mut forward)?;
        }
        let secs = t.elapsed().as_secs_f64();
        peak_mem_gib(&dev, &mut peak_mem);
        let profile = if cfg.profile {
            model.profile = Some(std::sync::Mutex::new(Profile::default()));
            forward_splitting(&batch, &mut |b: &Batch| model.answer_logits(b, [0, 1]))?;
            model.profile.take().map(|m| m.into_inner().unwrap_or_else(|e| e.into_inner()))
        } else {
            None
        };
        let tokens = (timed * n * l) as f64;
        let tps = tokens / secs;
        let tflops = tps * flops_per_token(&model.cfg, l) / 1e12;
        rows.push(Row {
            context: l,
            seqs_per_pass: n,
            tokens_per_s: tps,
            s_per_trajectory: secs / (timed * n) as f64,
            tflops,
            fraction_of_ceiling: peak.map(|p| tflops / p),
            peak_mem_gib: peak_mem,
            profile,
        });
    }
    Ok((rows, peak))
}

pub(crate) fn table(rows: &[Row], peak_tflops: Option<f64>) -> String {
    let mut s = format!(
        "{:>8} {:>6} {:>11} {:>10} {:>9} {:>12} {:>10}\n",
        "context", "seqs", "tokens/s", "s/traj", "TFLOP/s", "of ceiling", "peak mem"
    );
    for r in rows {
        s.push_str(&format!(
            "{:>8} {:>6} {:>11.0} {:>10.3} {:>9.2} {:>12} {:>10}\n",
            r.context,
            r.seqs_per_pass,
            r.tokens_per_s,
            r.s_per_trajectory,
            r.tflops,
            r.fraction_of_ceiling.map_or("n/a".into(), |f| format!("{:.1}%", 100.0 * f)),
            r.peak_mem_gib.map_or("n/a".into(), |g| format!("{g:.2} GiB"))
        ));
    }
    for r in rows {
        if let Some(p) = r.profile {
            let total = (p.attention + p.ffn + p.other).max(f64::MIN_POSITIVE);
            s.push_str(&format!(
                "profile {:>7}: attention {:.1}%, feed-forward (MoE) {:.1}%, other {:.1}% of {:.3} s\n",
                r.context,
                100.0 * p.attention / total,
                100.0 * p.ffn / total,
                100.0 * p.other / total,
                total
            ));
        }
    }
    s.push_str(&match peak_tflops {
        Some(p) => format!("(ceiling: {p} TFLOP/s; 790 is the measured dense bf16 figure of an H100/H200)\n"),
        None => "(no ceiling on the CPU: give --peak-tflops F for a fraction of F TFLOP/s)\n".to_string(),
    });
    s
}
