//! The logistic function and its inverse, shared by the scorers (`--combine --scale logit`,
//! P(YES) from answer logits) and the metrics (calibration).

pub(crate) fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// P(YES) from the two answer logits or log-probabilities `[yes, no]`: the softmax share of
/// YES over the two, computed as sigmoid(yes - no). The local and the remote verifier both
/// score with it.
pub(crate) fn p_yes(l: [f64; 2]) -> f64 {
    sigmoid(l[0] - l[1])
}

/// logit(p), p clipped to [1e-12, 1 - 1e-12].
pub(crate) fn logit(p: f64) -> f64 {
    let p = p.clamp(1e-12, 1.0 - 1e-12);
    (p / (1.0 - p)).ln()
}
