//! Generation for judges that reason before they answer: the prompts prefilled once (`copies`
//! samples of each share the prefill), then one token per live sequence per step until each
//! stops: at an end-of-sequence token, when the caller says so (a stop string, or the answer
//! marker, after which the answer rows are read at the next position, as the prefill verifier
//! reads them), or at `max_new` tokens.
//!
//! Sampling follows transformers' order: the logits divided by the temperature, the softmax,
//! then the nucleus (the most probable tokens whose probabilities reach `top_p`, the one that
//! crosses included), renormalised; temperature 0 is greedy (the first maximal logit, as
//! `argmax` takes it). Each sequence draws from its own generator, so its tokens do not depend
//! on what it is decoded with, nor on the order of the work.

use anyhow::{Result, bail};
use candle_core::Tensor;

use super::batch::Batch;
use super::qwen::Model;
use crate::rng::SplitMix64;

/// How to draw each token.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Sampling {
    /// At most this many new tokens per sequence.
    pub(crate) max_new: usize,
    /// 0: greedy.
    pub(crate) temperature: f64,
    /// The nucleus: 1 keeps every token.
    pub(crate) top_p: f64,
}

/// What the caller says after each new token of a sequence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Next {
    Continue,
    /// Stop here (a stop string was generated).
    Stop,
    /// Stop here and read the answer rows at the next position (the answer marker was generated).
    Answer,
}

/// Why a sequence ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum End {
    Eos,
    Stop,
    Marker,
    Length,
}

/// One sequence's generation.
#[derive(Clone, Debug)]
pub(crate) struct Generated {
    /// The new tokens (an end-of-sequence token included when it ended there).
    pub(crate) tokens: Vec<u32>,
    pub(crate) end: End,
    /// The answer rows' logits at the position after the marker (`End::Marker` only).
    pub(crate) answer: Option<Vec<f32>>,
}

/// Generates from `prompts`, `copies[i]` sequences of prompt `i` (the sequences numbered in
/// that order, sequence `q` drawing from `rngs[q]`). A prompt marked in `answer_now` already ends
/// with the answer marker: its sequences generate nothing and read the answer rows at once.
/// `next(seq, tokens so far)` is asked after every token that is not an end-of-sequence token
/// (`eos`); `rows` are the answer rows read after the marker.
#[allow(clippy::too_many_arguments)]
pub(crate) fn generate(
    model: &Model,
    prompts: &[&[u32]],
    copies: &[usize],
    answer_now: &[bool],
    s: &Sampling,
    rngs: &mut [SplitMix64],
    eos: &[u32],
    rows: &[u32],
    next: &mut dyn FnMut(usize, &[u32]) -> Next,
) -> Result<Vec<Generated>> {
    let n: usize = copies.iter().sum();
    anyhow::ensure!(rngs.len() == n && answer_now.len() == prompts.len(), "one generator per sequence");
    if !model.can_generate() {
        bail!("a classification head has no LM head to generate with");
    }
    let mut out: Vec<Generated> =
        (0..n).map(|_| Generated { tokens: Vec::new(), end: End::Length, answer: None }).collect();
    if n == 0 {
        return Ok(out);
    }
    // One more position than `max_new`: the answer is read after the marker's last token.
    let (mut d, h) = model.prefill(&Batch::new(prompts), copies, s.max_new + 1)?;
    let now: Vec<bool> = answer_now.iter().zip(copies).flat_map(|(&a, &c)| std::iter::repeat_n(a, c)).collect();
    let select = |h: &Tensor, idx: &[usize]| -> Result<Tensor> {
        let idx: Vec<u32> = idx.iter().map(|&i| i as u32).collect();
        Ok(h.index_select(&Tensor::new(idx.as_slice(), h.device())?, 0)?)
    };
    let at_once: Vec<usize> = (0..n).filter(|&q| now[q]).collect();
    if !at_once.is_empty() {
        for (&q, l) in at_once.iter().zip(model.row_logits(&select(&h, &at_once)?, rows)?) {
            out[q] = Generated { tokens: Vec::new(), end: End::Marker, answer: Some(l) };
        }
    }
    let mut live: Vec<usize> = (0..n).filter(|&q| !now[q]).collect();
    let mut logits = if live.is_empty() { Vec::new() } else { model.vocab_logits(&select(&h, &live)?)? };
    if s.max_new == 0 {
        live.clear();
    }
    while !live.is_empty() {
        let (mut feed, mut answer, mut still) = (Vec::new(), Vec::new(), Vec::new());
        for (j, &q) in live.iter().enumerate() {
            let t = sample(&logits[j], s, &mut rngs[q])?;
            out[q].tokens.push(t);
            if eos.contains(&t) {
                out[q].end = End::Eos;
                continue;
            }
            match next(q, &out[q].tokens) {
                Next::Stop => out[q].end = End::Stop,
                Next::Answer => {
                    out[q].end = End::Marker;
                    feed.push((q, t));
                    answer.push(q);
                }
                Next::Continue if out[q].tokens.len() >= s.max_new => out[q].end = End::Length,
                Next::Continue => {
                    feed.push((q, t));
                    still.push(q);
                }
            }
        }
        if feed.is_empty() {
            break;
        }
        let (seqs, toks): (Vec<usize>, Vec<u32>) = feed.into_iter().unzip();
        let h = model.step(&mut d, &seqs, &toks)?;
        let rows_of = |want: &[usize]| -> Vec<usize> {
            seqs.iter().enumerate().filter(|(_, q)| want.contains(q)).map(|(j, _)| j).collect()
        };
        if !answer.is_empty() {
            for (q, l) in answer.iter().zip(model.row_logits(&select(&h, &rows_of(&answer))?, rows)?) {
                out[*q].answer = Some(l);
            }
        }
        logits = if still.is_empty() { Vec::new() } else { model.vocab_logits(&select(&h, &rows_of(&still))?)? };
        live = still;
    }
    Ok(out)
}

/// One token from `logits` (see the module's rule).
pub(crate) fn sample(logits: &[f32], s: &Sampling, rng: &mut SplitMix64) -> Result<u32> {
    let finite = |l: f32| if l.is_nan() { f32::NEG_INFINITY } else { l };
    let (best, max) = logits
        .iter()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |(bi, bm), (i, &l)| if finite(l) > bm { (i, finite(l)) } else { (bi, bm) });
    if max == f32::NEG_INFINITY {
        bail!("the model's next-token logits are not finite");
    }
    if s.temperature == 0.0 {
        return Ok(best as u32);
    }
    let mut p: Vec<(u32, f64)> =
        logits.iter().enumerate().map(|(i, &l)| (i as u32, ((finite(l) - max) as f64 / s.temperature).exp())).collect();
    let total: f64 = p.iter().map(|x| x.1).sum();
    if s.top_p < 1.0 {
        // Most probable first; equal probabilities in index order.
        p.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut cum = 0.0;
        let keep = p.iter().position(|x| {
            cum += x.1 / total;
            cum >= s.top_p
        });
        p.truncate(keep.map_or(p.len(), |k| k + 1));
    }
    let kept: f64 = p.iter().map(|x| x.1).sum();
    let mut u = rng.unit() * kept;
    for &(t, w) in &p {
        if u < w {
            return Ok(t);
        }
        u -= w;
    }
    Ok(p.iter().rev().find(|x| x.1 > 0.0).map_or(best as u32, |x| x.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Brute force: the empirical frequencies of many draws against the nucleus's renormalised
    /// softmax, for a few temperatures and nuclei.
    #[test]
    fn sampling_follows_the_tempered_nucleus() {
        let logits = [2.0f32, 1.0, 0.5, -1.0, f32::NAN, 0.5];
        for (t, top_p) in [(1.0, 1.0), (0.7, 1.0), (1.0, 0.8), (2.0, 0.5)] {
            let s = Sampling { max_new: 1, temperature: t, top_p };
            // The expected distribution, computed directly.
            let w: Vec<f64> =
                logits.iter().map(|&l| if l.is_nan() { 0.0 } else { ((l as f64 - 2.0) / t).exp() }).collect();
            let z: f64 = w.iter().sum();
            let mut order: Vec<usize> = (0..w.len()).collect();
            order.sort_by(|&a, &b| w[b].total_cmp(&w[a]).then(a.cmp(&b)));
            let mut keep = vec![false; w.len()];
            let mut cum = 0.0;
            for &i in &order {
                keep[i] = true;
                cum += w[i] / z;
                if cum >= top_p {
                    break;
                }
            }
            let kz: f64 = (0..w.len()).filter(|&i| keep[i]).map(|i| w[i]).sum();
            let mut rng = SplitMix64(7);
            let draws = 200_000;
            let mut count = vec![0usize; w.len()];
            for _ in 0..draws {
                count[sample(&logits, &s, &mut rng).unwrap() as usize] += 1;
            }
            for i in 0..w.len() {
                let want = if keep[i] { w[i] / kz } else { 0.0 };
                let got = count[i] as f64 / draws as f64;
                assert!((got - want).abs() < 0.005, "T={t} p={top_p} token {i}: {got} vs {want}");
            }
        }
        let greedy = Sampling { max_new: 1, temperature: 0.0, top_p: 1.0 };
        assert_eq!(sample(&[1.0, 3.0, 3.0, 2.0], &greedy, &mut SplitMix64(0)).unwrap(), 1, "the first maximum");
        assert!(sample(&[f32::NAN, f32::NAN], &greedy, &mut SplitMix64(0)).is_err());
    }

    fn tiny(arch: &str, dtype: candle_core::DType) -> Model {
        let d = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/tiny").join(arch);
        let m = crate::checkpoint::ModelRef { model: d.display().to_string(), revision: None };
        let ck = m.locate(true).unwrap();
        let cfg = crate::model::ModelConfig::load(&ck.config).unwrap();
        Model::load(cfg, &ck.weights, dtype, &candle_core::Device::Cpu).unwrap()
    }

    fn ids(v: &serde_json::Value) -> Vec<u32> {
        v.as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as u32).collect()
    }

    /// Greedy decoding of three prompts of different lengths together equals transformers'
    /// `generate(do_sample=False)` token for token (64 new tokens, f32), and the answer logits
    /// read after the marker equal transformers' at that position within 1e-4; in bf16, the
    /// reference's tokens fed through the cache give P(YES) within the recorded bf16 tolerance
    /// (scripts/generate_reference.py, fixtures/tiny/bf16-tolerance.json).
    #[test]
    fn greedy_decoding_equals_transformers() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/tiny");
        let want: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(root.join("generate-expected.json")).unwrap()).unwrap();
        let tol: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(root.join("bf16-tolerance.json")).unwrap()).unwrap();
        for arch in ["qwen3-moe", "qwen3", "qwen2"] {
            let cases = want[arch].as_array().unwrap();
            let prompts: Vec<Vec<u32>> = cases.iter().map(|c| ids(&c["prompt_ids"])).collect();
            let refs: Vec<&[u32]> = prompts.iter().map(Vec::as_slice).collect();
            let rows = ids(&cases[0]["answer_ids"]);
            let n = cases[0]["generated"].as_array().unwrap().len();
            let s = Sampling { max_new: n + 5, temperature: 0.0, top_p: 1.0 };
            let model = tiny(arch, candle_core::DType::F32);
            let mut rngs: Vec<SplitMix64> = (0..refs.len()).map(|i| SplitMix64(i as u64)).collect();
            // The marker "appears" after n tokens: the answer is read at the next position.
            let got = generate(&model, &refs, &[1; 3], &[false; 3], &s, &mut rngs, &[], &rows, &mut |_, t| {
                if t.len() == n { Next::Answer } else { Next::Continue }
            })
            .unwrap();
            for (g, c) in got.iter().zip(cases) {
                assert_eq!(g.tokens, ids(&c["generated"]), "{arch}: tokens");
                assert_eq!(g.end, End::Marker);
                let a = g.answer.as_ref().unwrap();
                for (x, y) in a.iter().zip(c["answer_logits"].as_array().unwrap()) {
                    assert!((*x as f64 - y.as_f64().unwrap()).abs() < 1e-4, "{arch}: answer logit {x} vs {y}");
                }
            }
            // bf16: teacher-forced through the cache, P(YES) against the f32 reference.
            let model = tiny(arch, candle_core::DType::BF16);
            let (mut d, _) = model.prefill(&Batch::new(&refs), &[1; 3], n).unwrap();
            let mut h = None;
            for k in 0..n {
                let toks: Vec<u32> = cases.iter().map(|c| ids(&c["generated"])[k]).collect();
                h = Some(model.step(&mut d, &[0, 1, 2], &toks).unwrap());
            }
            let got = model.row_logits(&h.unwrap(), &rows).unwrap();
            for (g, c) in got.iter().zip(cases) {
                let w = c["answer_logits"].as_array().unwrap();
                let p = |a: f64, b: f64| 1.0 / (1.0 + (b - a).exp());
                let (pg, pw) = (p(g[0] as f64, g[1] as f64), p(w[0].as_f64().unwrap(), w[1].as_f64().unwrap()));
                let t = tol[arch]["p_yes_tolerance"].as_f64().unwrap();
                assert!((pg - pw).abs() <= t, "{arch} bf16: P(YES) {pg} vs {pw} (tolerance {t})");
            }
        }
    }

    /// A sequence's tokens do not depend on what it is decoded with: alone, or beside others
    /// (sampled, so every draw counts), with the same generator.
    #[test]
    fn a_sequence_decodes_the_same_alone_or_together() {
        let model = tiny("qwen3-moe", candle_core::DType::F32);
        let prompts: Vec<Vec<u32>> = vec![(0..40).map(|i| 100 + i * 7).collect(), (0..9).map(|i| 900 + i).collect()];
        let refs: Vec<&[u32]> = prompts.iter().map(Vec::as_slice).collect();
        let s = Sampling { max_new: 24, temperature: 0.8, top_p: 0.95 };
        let run = |refs: &[&[u32]], copies: &[usize], seeds: &[u64]| {
            let mut rngs: Vec<SplitMix64> = seeds.iter().map(|&x| SplitMix64(x)).collect();
            let now = vec![false; refs.len()];
            generate(&model, refs, copies, &now, &s, &mut rngs, &[], &[], &mut |_, _| Next::Continue).unwrap()
        };
        let together = run(&refs, &[2, 2], &[1, 2, 3, 4]);
        let alone = run(&refs[1..], &[1], &[4]);
        assert_eq!(together[3].tokens, alone[0].tokens);
        assert_eq!(together[3].tokens.len(), 24);
        assert_ne!(together[2].tokens, together[3].tokens, "two samples of one prompt differ");
    }
}
