//! Rotary position embedding: plain RoPE, or YaRN-scaled (the one scaling the Qwen verifiers
//! use: SWE-Lego's inference adds YaRN x4; Qwen3 configs for long contexts carry it), with the
//! inverse frequencies and the attention factor as transformers computes them
//! (`modeling_rope_utils._compute_yarn_parameters`).

pub(crate) use crate::checkpoint::RopeChoice;

/// YaRN's parameters (config.json's `rope_scaling` / `rope_parameters` with `rope_type: yarn`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Yarn {
    pub(crate) factor: f64,
    /// The context the model was pretrained for (default: `max_position_embeddings`).
    pub(crate) original_max_positions: usize,
    pub(crate) attention_factor: Option<f64>,
    pub(crate) beta_fast: f64,
    pub(crate) beta_slow: f64,
    pub(crate) mscale: Option<f64>,
    pub(crate) mscale_all_dim: Option<f64>,
    pub(crate) truncate: bool,
}

impl Yarn {
    /// YaRN with `factor` over `original_max_positions`, every other parameter at its default.
    pub(crate) fn with_factor(factor: f64, original_max_positions: usize) -> Yarn {
        Yarn {
            factor,
            original_max_positions,
            attention_factor: None,
            beta_fast: 32.0,
            beta_slow: 1.0,
            mscale: None,
            mscale_all_dim: None,
            truncate: true,
        }
    }
}

/// The inverse frequencies of a head of `dim` and the factor cos and sin are scaled by.
pub(crate) fn inv_freq(theta: f64, dim: usize, scaling: Option<&Yarn>) -> (Vec<f32>, f64) {
    // transformers: base ** (arange(0, dim, 2).float() / dim), in f32.
    let pos_freqs: Vec<f64> = (0..dim / 2).map(|i| (theta as f32).powf(2.0 * i as f32 / dim as f32) as f64).collect();
    let Some(y) = scaling else {
        // Plain RoPE, as swerm computed it before YaRN (f64, then f32): bit for bit unchanged.
        let plain = (0..dim / 2).map(|i| (1.0 / theta.powf(2.0 * i as f64 / dim as f64)) as f32).collect();
        return (plain, 1.0);
    };
    let get_mscale = |scale: f64, m: f64| if scale <= 1.0 { 1.0 } else { 0.1 * m * scale.ln() + 1.0 };
    let attention = match (y.attention_factor, y.mscale, y.mscale_all_dim) {
        (Some(a), _, _) => a,
        (None, Some(m), Some(all)) if m != 0.0 && all != 0.0 => get_mscale(y.factor, m) / get_mscale(y.factor, all),
        _ => get_mscale(y.factor, 1.0),
    };
    let correction_dim = |rotations: f64| {
        (dim as f64 * (y.original_max_positions as f64 / (rotations * 2.0 * std::f64::consts::PI)).ln())
            / (2.0 * theta.ln())
    };
    let (mut low, mut high) = (correction_dim(y.beta_fast), correction_dim(y.beta_slow));
    if y.truncate {
        (low, high) = (low.floor(), high.ceil());
    }
    let (low, mut high) = (low.max(0.0), high.min(dim as f64 - 1.0));
    if low == high {
        high += 0.001;
    }
    let inv = pos_freqs
        .iter()
        .enumerate()
        .map(|(i, &p)| {
            let ramp = ((i as f32 - low as f32) / (high as f32 - low as f32)).clamp(0.0, 1.0);
            let extrapolation = 1.0 - ramp;
            let (inter, extra) = (1.0 / (y.factor as f32 * p as f32), 1.0 / p as f32);
            inter * (1.0 - extrapolation) + extra * extrapolation
        })
        .collect();
    (inv, attention)
}

/// The scaling the forward uses: `choice` over config.json's own (`config`) and its
/// `max_position_embeddings`.
pub(crate) fn resolve(choice: RopeChoice, config: Option<Yarn>, max_positions: Option<usize>) -> Option<Yarn> {
    match choice {
        RopeChoice::Config => config,
        RopeChoice::None => None,
        RopeChoice::Yarn(f) => Some(Yarn::with_factor(f, max_positions.unwrap_or(32_768))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// transformers 5.25's `ROPE_INIT_FUNCTIONS["yarn"]` for head_dim 16, theta 1e6, factor 4,
    /// original 4096 (Qwen3Config; printed from torch's f32 tensor).
    #[test]
    fn yarn_as_transformers_computes_it() {
        let want = [
            1.0,
            0.17782793939113617,
            0.023717083036899567,
            0.0028117066249251366,
            0.0002500000118743628,
            4.4456985051510856e-05,
            7.905693564680405e-06,
            1.405853367941745e-06,
        ];
        let (inv, att) = inv_freq(1e6, 16, Some(&Yarn::with_factor(4.0, 4096)));
        assert!((att - 1.138629436111989).abs() < 1e-12, "{att}");
        for (got, want) in inv.iter().zip(want) {
            assert!(((*got as f64) - want).abs() <= 1e-6 * want, "{inv:?}");
        }
        let (_, one) = inv_freq(1e6, 16, None);
        assert_eq!(one, 1.0);
    }
}
