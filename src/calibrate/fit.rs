//! Calibration maps for P(YES) scores, fitted on labelled candidates and applied to new ones:
//! temperature scaling p' = sigmoid(z / T) (Guo et al. 2017) and Platt scaling
//! p' = sigmoid(a z + b) (Platt 1999), both on z = logit(p) (the logit difference of the answer
//! tokens when the scores came from a verifier). Each is a maximum-likelihood fit by Newton's
//! method. `cross_validate` reports ECE, Brier and log loss before and after under k-fold
//! cross-validation by instance (a candidate is always judged by a map fitted without its
//! instance), which also picks the method; cal.json is this module's file (`Calibration`).
//!
//! Decisions: empty candidates (no patch: never selected, always unresolved) are neither fitted
//! nor transformed; a score outside [0, 1] is an error (these maps are for probabilities);
//! p = 0 or 1 is clipped to logit +/- 27.6 (1e-12 from the ends).

use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use super::measures::{brier, ece};
use crate::rng::SplitMix64;

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "lowercase")]
pub(crate) enum Map {
    /// p' = sigmoid(z / temperature).
    Temperature { temperature: f64 },
    /// p' = sigmoid(a z + b).
    Platt { a: f64, b: f64 },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Method {
    Temperature,
    Platt,
}

impl std::str::FromStr for Method {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "temperature" => Ok(Method::Temperature),
            "platt" => Ok(Method::Platt),
            _ => Err(format!("{s:?}: expected temperature or platt")),
        }
    }
}

pub(crate) use crate::prob::{logit, sigmoid};

impl Map {
    pub(crate) fn apply(&self, z: f64) -> f64 {
        match *self {
            Map::Temperature { temperature } => sigmoid(z / temperature),
            Map::Platt { a, b } => sigmoid(a * z + b),
        }
    }

    /// Maximum-likelihood fit on logits `z` and labels `y` (Newton's method with step halving;
    /// temperature scaling fits a = 1/T with b = 0).
    pub(crate) fn fit(method: Method, z: &[f64], y: &[bool]) -> Map {
        let with_b = method == Method::Platt;
        let (mut a, mut b) = (1.0, 0.0);
        let mut loss = log_loss_of(z, y, a, b);
        for _ in 0..100 {
            let (mut ga, mut gb, mut haa, mut hab, mut hbb) = (0.0, 0.0, 1e-9, 0.0, 1e-9);
            for (&zi, &yi) in z.iter().zip(y) {
                let p = sigmoid(a * zi + b);
                let (g, w) = (p - yi as u8 as f64, p * (1.0 - p));
                ga += g * zi;
                gb += g;
                haa += w * zi * zi;
                hab += w * zi;
                hbb += w;
            }
            let (da, db) = if with_b {
                let det = haa * hbb - hab * hab;
                ((hbb * ga - hab * gb) / det, (haa * gb - hab * ga) / det)
            } else {
                (ga / haa, 0.0)
            };
            let mut step = 1.0;
            let mut improved = false;
            while step > 1e-10 {
                let (na, nb) = (a - step * da, b - step * db);
                let l = log_loss_of(z, y, na, nb);
                if l <= loss {
                    improved = (loss - l) > 1e-15 * loss.abs().max(1.0);
                    (a, b, loss) = (na, nb, l);
                    break;
                }
                step /= 2.0;
            }
            if !improved {
                break;
            }
        }
        match method {
            // A non-positive slope has no temperature: the scores rank backwards.
            Method::Temperature => Map::Temperature { temperature: 1.0 / a.max(1e-6) },
            Method::Platt => Map::Platt { a, b },
        }
    }
}

fn log_loss_of(z: &[f64], y: &[bool], a: f64, b: f64) -> f64 {
    // -log sigmoid(s) = softplus(-s), computed stably.
    let softplus = |x: f64| if x > 0.0 { x + (-x).exp().ln_1p() } else { x.exp().ln_1p() };
    z.iter().zip(y).map(|(&zi, &yi)| softplus(if yi { -(a * zi + b) } else { a * zi + b })).sum::<f64>()
        / z.len() as f64
}

/// Mean log loss of probabilities (clipped like `logit`).
pub(crate) fn log_loss(p: &[f64], y: &[bool]) -> f64 {
    let z: Vec<f64> = p.iter().map(|&x| logit(x)).collect();
    log_loss_of(&z, y, 1.0, 0.0)
}

/// The candidates a calibration is fitted on: per instance, the logits and labels of its
/// non-empty scored candidates.
pub(crate) struct Data {
    pub(crate) z: Vec<Vec<f64>>,
    pub(crate) y: Vec<Vec<bool>>,
}

/// Before/after numbers under cross-validation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Cv {
    pub(crate) folds: usize,
    pub(crate) seed: u64,
    pub(crate) ece_bins: usize,
    pub(crate) candidates: usize,
    pub(crate) ece_before: f64,
    pub(crate) ece_after: f64,
    pub(crate) brier_before: f64,
    pub(crate) brier_after: f64,
    pub(crate) log_loss_before: f64,
    pub(crate) log_loss_after: f64,
}

/// The fold of each instance: a SplitMix64 Fisher-Yates shuffle of 0..n (`j = below(i + 1)`
/// for i from n-1 down to 1), then position mod `folds`.
pub(crate) fn folds_of(n: usize, folds: usize, seed: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    let mut rng = SplitMix64(seed);
    for i in (1..n).rev() {
        order.swap(i, rng.below(i + 1));
    }
    let mut fold = vec![0; n];
    for (pos, &inst) in order.iter().enumerate() {
        fold[inst] = pos % folds;
    }
    fold
}

/// Out-of-fold probabilities of `method` and the before/after numbers.
pub(crate) fn cross_validate(d: &Data, method: Method, folds: usize, seed: u64, bins: usize) -> Cv {
    let fold = folds_of(d.z.len(), folds, seed);
    let (mut before, mut after, mut labels) = (Vec::new(), Vec::new(), Vec::new());
    for f in 0..folds {
        let train = |keep: bool| -> (Vec<f64>, Vec<bool>) {
            let pick = (0..d.z.len()).filter(|&i| (fold[i] == f) != keep);
            let idx: Vec<usize> = pick.collect();
            (idx.iter().flat_map(|&i| d.z[i].clone()).collect(), idx.iter().flat_map(|&i| d.y[i].clone()).collect())
        };
        let (tz, ty) = train(true);
        let (vz, vy) = train(false);
        if vz.is_empty() {
            continue;
        }
        let map = Map::fit(method, &tz, &ty);
        before.extend(vz.iter().map(|&z| sigmoid(z)));
        after.extend(vz.iter().map(|&z| map.apply(z)));
        labels.extend(vy);
    }
    Cv {
        folds,
        seed,
        ece_bins: bins,
        candidates: labels.len(),
        ece_before: ece(&before, &labels, bins),
        ece_after: ece(&after, &labels, bins),
        brier_before: brier(&before, &labels),
        brier_after: brier(&after, &labels),
        log_loss_before: log_loss(&before, &labels),
        log_loss_after: log_loss(&after, &labels),
    }
}

/// cal.json.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Calibration {
    /// The map fitted on every candidate.
    #[serde(flatten)]
    pub(crate) map: Map,
    /// The chosen method's cross-validated numbers.
    pub(crate) cv: Cv,
    /// Every method tried, by cross-validated log loss (the lowest is chosen unless forced).
    pub(crate) tried: Vec<(Method, Cv)>,
    /// What it was fitted on.
    pub(crate) instances: usize,
    pub(crate) candidates: usize,
    pub(crate) source: String,
    /// The scorer whose scores the map was fitted on (when the store named it): applying the
    /// map to another scorer's scores is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) scorer: Option<crate::score::ScorerSettings>,
    /// The score files it was fitted on, as absolute paths (`in_sample_for`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) fitted_on: Vec<String>,
}

impl Calibration {
    /// Fits on `d`: every method under cross-validation (or only `forced`), the lowest
    /// cross-validated log loss wins, then the winner is fitted on all of `d`.
    pub(crate) fn fit(
        d: &Data,
        forced: Option<Method>,
        folds: usize,
        seed: u64,
        bins: usize,
        source: String,
    ) -> Result<Self> {
        let all_y: Vec<bool> = d.y.iter().flatten().copied().collect();
        if all_y.iter().all(|&y| y) || all_y.iter().all(|&y| !y) {
            bail!(
                "calibration needs both resolved and unresolved candidates; these {} are all of one class",
                all_y.len()
            );
        }
        if folds < 2 || folds > d.z.len() {
            bail!("--folds {folds}: between 2 and the number of instances ({})", d.z.len());
        }
        let methods = forced.map_or(vec![Method::Temperature, Method::Platt], |m| vec![m]);
        let tried: Vec<(Method, Cv)> = methods.iter().map(|&m| (m, cross_validate(d, m, folds, seed, bins))).collect();
        let (method, cv) =
            tried.iter().min_by(|a, b| a.1.log_loss_after.total_cmp(&b.1.log_loss_after)).cloned().expect("one method");
        let z: Vec<f64> = d.z.iter().flatten().copied().collect();
        Ok(Calibration {
            map: Map::fit(method, &z, &all_y),
            cv,
            tried,
            instances: d.z.len(),
            candidates: z.len(),
            fitted_on: Vec::new(),
            source,
            scorer: None,
        })
    }

    /// Writes cal.json (atomically).
    pub(crate) fn write(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self).expect("a calibration serializes") + "\n";
        crate::outdir::write_atomic(path, text.as_bytes())
    }

    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("{}: cannot read", path.display()))?;
        let mut de = serde_json::Deserializer::from_str(text.trim_start_matches('\u{feff}'));
        serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let at = e.path().to_string();
            anyhow::anyhow!(
                "{}: field `{at}`: {} (not a cal.json written by swerm calibrate?)",
                path.display(),
                e.into_inner()
            )
        })
    }

    /// Refuses to apply the map to the scores of a scorer other than the one it was fitted on
    /// (a map fitted on one verifier's logits means nothing for another's). Unknown on either
    /// side (a cal.json from an older swerm, a scores file without its header) passes.
    pub(crate) fn check_scorer(&self, scores_of: Option<&crate::score::ScorerSettings>) -> Result<()> {
        if let (Some(fitted), Some(applied)) = (&self.scorer, scores_of)
            && fitted != applied
        {
            anyhow::bail!(
                "the map was fitted on scores of {} ({}) and cannot calibrate scores of {} ({}): fit one on this scorer's labelled scores with swerm calibrate",
                fitted.short(),
                fitted.full(),
                applied.short(),
                applied.full()
            );
        }
        Ok(())
    }

    /// "temperature T = 1.83" / "Platt a = 0.71, b = -0.42".
    pub(crate) fn describe(&self) -> String {
        match self.map {
            Map::Temperature { temperature } => format!("temperature scaling, T = {temperature:.4}"),
            Map::Platt { a, b } => format!("Platt scaling, a = {a:.4}, b = {b:.4}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::testutil::Lcg;

    /// Scores that are overconfident: the true probability is sigmoid(z / 3).
    fn overconfident(n_inst: usize, seed: u64) -> Data {
        let mut rng = Lcg(seed);
        let (mut z, mut y) = (Vec::new(), Vec::new());
        for _ in 0..n_inst {
            let zi: Vec<f64> = (0..4).map(|_| (rng.below(2001) as f64 - 1000.0) / 100.0).collect();
            let yi = zi.iter().map(|&x| (rng.below(10_000) as f64) / 10_000.0 < sigmoid(x / 3.0)).collect();
            z.push(zi);
            y.push(yi);
        }
        Data { z, y }
    }

    #[test]
    fn fits_recover_the_truth_and_lower_the_error() {
        let d = overconfident(400, 3);
        let z: Vec<f64> = d.z.iter().flatten().copied().collect();
        let y: Vec<bool> = d.y.iter().flatten().copied().collect();
        let Map::Temperature { temperature } = Map::fit(Method::Temperature, &z, &y) else { panic!() };
        assert!((temperature - 3.0).abs() < 0.5, "{temperature}");
        let Map::Platt { a, b } = Map::fit(Method::Platt, &z, &y) else { panic!() };
        assert!((a - 1.0 / 3.0).abs() < 0.06 && b.abs() < 0.2, "{a} {b}");
        // The fit is a minimum: nudging the parameter raises the loss.
        let l = |t: f64| log_loss_of(&z, &y, 1.0 / t, 0.0);
        assert!(l(temperature) <= l(temperature * 1.01) && l(temperature) <= l(temperature * 0.99));
        let cal = Calibration::fit(&d, None, 5, 1, 15, "test".into()).unwrap();
        assert!(cal.cv.ece_after < cal.cv.ece_before && cal.cv.brier_after < cal.cv.brier_before, "{:?}", cal.cv);
        assert_eq!(cal.tried.len(), 2);
        let one = Data { z: vec![vec![1.0, 2.0]], y: vec![vec![true, true]] };
        assert!(Calibration::fit(&one, None, 2, 1, 15, "x".into()).unwrap_err().to_string().contains("one class"));
    }

    #[test]
    fn folds_partition_the_instances() {
        let f = folds_of(23, 5, 9);
        for k in 0..5 {
            let n = f.iter().filter(|&&x| x == k).count();
            assert!(n == 4 || n == 5, "{f:?}");
        }
        assert_eq!(f, folds_of(23, 5, 9));
        assert_ne!(f, folds_of(23, 5, 10));
    }
}
