//! Calibration of scores read as probabilities: expected calibration error over equal-width
//! bins (Guo et al. 2017; torchmetrics `BinaryCalibrationError`, l1 norm) and the Brier score.

/// ECE = sum_b (|B_b| / N) * |mean(p in B_b) - mean(y in B_b)| with `bins` equal-width bins.
/// Bin b holds b/B <= p < (b+1)/B, computed as floor(p * B), and p = 1 falls in the last bin.
/// (torchmetrics' `bucketize(right=True)` puts p = 1.0 exactly into an extra bin of its own; a
/// score of exactly 1 is rare for a verifier, and the spec's formula has B bins.)
pub(crate) fn ece(p: &[f64], y: &[bool], bins: usize) -> f64 {
    assert!(bins >= 1 && p.len() == y.len());
    let mut count = vec![0usize; bins];
    let mut conf = vec![0.0; bins];
    let mut acc = vec![0.0; bins];
    for (&pi, &yi) in p.iter().zip(y) {
        let b = ((pi * bins as f64).floor() as usize).min(bins - 1);
        count[b] += 1;
        conf[b] += pi;
        acc[b] += yi as u8 as f64;
    }
    let n = p.len() as f64;
    (0..bins)
        .filter(|&b| count[b] > 0)
        .map(|b| (count[b] as f64 / n) * ((conf[b] - acc[b]) / count[b] as f64).abs())
        .sum()
}

/// One equal-width bin of a reliability diagram.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Bin {
    pub(crate) lo: f64,
    pub(crate) hi: f64,
    pub(crate) count: usize,
    /// Mean score in the bin (confidence).
    pub(crate) mean_score: f64,
    /// Share resolved in the bin (accuracy).
    pub(crate) resolved_rate: f64,
}

/// The non-empty bins of `ece` (same bin rule), for the reliability diagram and report.json.
pub(crate) fn bins(p: &[f64], y: &[bool], bins: usize) -> Vec<Bin> {
    let mut acc = vec![(0usize, 0.0, 0.0); bins];
    for (&pi, &yi) in p.iter().zip(y) {
        let b = ((pi * bins as f64).floor() as usize).min(bins - 1);
        acc[b].0 += 1;
        acc[b].1 += pi;
        acc[b].2 += yi as u8 as f64;
    }
    acc.iter()
        .enumerate()
        .filter(|(_, a)| a.0 > 0)
        .map(|(b, &(n, sp, sy))| Bin {
            lo: b as f64 / bins as f64,
            hi: (b + 1) as f64 / bins as f64,
            count: n,
            mean_score: sp / n as f64,
            resolved_rate: sy / n as f64,
        })
        .collect()
}

/// Mean squared error of p against the 0/1 label (Brier 1950).
pub(crate) fn brier(p: &[f64], y: &[bool]) -> f64 {
    let sum: f64 = p.iter().zip(y).map(|(&pi, &yi)| (pi - yi as u8 as f64).powi(2)).sum();
    sum / p.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed() {
        // Two bins: [0, .5) holds .1, .2 (labels 0, 1); [.5, 1] holds .9, 1.0 (labels 1, 1).
        let p = [0.1, 0.2, 0.9, 1.0];
        let y = [false, true, true, true];
        let want = 0.5 * (0.15f64 - 0.5).abs() + 0.5 * (0.95f64 - 1.0).abs();
        assert!((ece(&p, &y, 2) - want).abs() < 1e-12);
        let b = (0.01 + 0.64 + 0.01 + 0.0) / 4.0;
        assert!((brier(&p, &y) - b).abs() < 1e-12);
        // Perfectly calibrated within each bin.
        assert!(ece(&[0.5, 0.5], &[true, false], 15).abs() < 1e-15);
        // One bin: |mean p - mean y|.
        assert!((ece(&p, &y, 1) - (0.55f64 - 0.75).abs()).abs() < 1e-12);
        // The bins give the same ECE when weighted.
        let b = bins(&p, &y, 2);
        assert_eq!(b.iter().map(|x| x.count).collect::<Vec<_>>(), vec![2, 2]);
        let from_bins: f64 = b.iter().map(|x| x.count as f64 / 4.0 * (x.mean_score - x.resolved_rate).abs()).sum();
        assert!((from_bins - ece(&p, &y, 2)).abs() < 1e-12);
    }
}
