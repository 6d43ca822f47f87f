//! The logistic function and its inverse, shared by the scorers (`--combine --scale logit`,
//! P(YES) from answer logits) and the metrics (calibration).

pub fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// logit(p), p clipped to [1e-12, 1 - 1e-12].
pub fn logit(p: f64) -> f64 {
    let p = p.clamp(1e-12, 1.0 - 1e-12);
    (p / (1.0 - p)).ln()
}
