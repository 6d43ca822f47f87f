//! Classification heads (`Qwen3ForSequenceClassification`, `Qwen2ForSequenceClassification`,
//! `Qwen3MoeForSequenceClassification`): the decoder of the causal model plus `score.weight`
//! `[num_labels, hidden]` (no bias), read at each sequence's last token after the final norm
//! (docs/spec/judges.md). OpenHands' critic is one: 26 sigmoid labels, `success` first.
//!
//! What config.json says about the head: `id2label` (or `num_labels`: labels `LABEL_0`, ...,
//! as transformers names them), and `problem_type`, which decides the probability a label's
//! logit becomes.

use anyhow::{Result, bail};
use serde_json::Value;

/// How a label's logit becomes the probability swerm ranks and calibrates by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Activation {
    /// sigmoid of the label's own logit: `multi_label_classification` (the critic's BCE), one
    /// label, and `regression` (a raw reward: the sigmoid keeps its order and gives a number in
    /// [0, 1] for calibration).
    Sigmoid,
    /// The label's softmax share over all labels: `single_label_classification`.
    Softmax,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Classifier {
    /// Label names by index (the rows of `score.weight`).
    pub(crate) labels: Vec<String>,
    pub(crate) activation: Activation,
}

impl Classifier {
    /// The head config.json describes. Without `problem_type`, one label is a sigmoid and
    /// several a softmax, as transformers' text-classification pipeline decides.
    pub(crate) fn from_json(v: &Value) -> Result<Self> {
        let labels = labels(v)?;
        let activation = match v.get("problem_type").and_then(Value::as_str) {
            Some("multi_label_classification") | Some("regression") => Activation::Sigmoid,
            Some("single_label_classification") => Activation::Softmax,
            Some(other) => bail!(
                "field `problem_type`: {other:?} is not one of multi_label_classification, single_label_classification, regression"
            ),
            None if labels.len() == 1 => Activation::Sigmoid,
            None => Activation::Softmax,
        };
        Ok(Classifier { labels, activation })
    }

    /// The label `--label` names; by default `success` when the head has it, else the first.
    pub(crate) fn pick(&self, name: Option<&str>) -> Result<usize> {
        let want = name.unwrap_or("success");
        match self.labels.iter().position(|l| l == want) {
            Some(i) => Ok(i),
            None if name.is_none() => Ok(0),
            None => bail!("--label {want}: the head has no such label (it has {})", self.labels.join(", ")),
        }
    }

    /// The rows of the head a score needs: the label's alone for a sigmoid, every row for a
    /// softmax (its share needs them all).
    pub(crate) fn rows(&self, label: usize) -> Vec<u32> {
        match self.activation {
            Activation::Sigmoid => vec![label as u32],
            Activation::Softmax => (0..self.labels.len() as u32).collect(),
        }
    }

    /// The probability of `label` from the logits of `rows(label)`, and the label's raw logit.
    pub(crate) fn probability(&self, label: usize, logits: &[f32]) -> (f64, f64) {
        match self.activation {
            Activation::Sigmoid => {
                let z = logits[0] as f64;
                (crate::prob::sigmoid(z), z)
            }
            Activation::Softmax => {
                let z: Vec<f64> = logits.iter().map(|&l| l as f64).collect();
                let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let sum: f64 = z.iter().map(|l| (l - max).exp()).sum();
                ((z[label] - max).exp() / sum, z[label])
            }
        }
    }
}

/// Label names from `id2label` (keys `"0"`, `"1"`, ... every index once), else `LABEL_i` for
/// `num_labels`, else transformers' default of two labels.
fn labels(v: &Value) -> Result<Vec<String>> {
    let n = v.get("num_labels").and_then(Value::as_u64);
    let Some(map) = v.get("id2label").and_then(Value::as_object) else {
        return Ok((0..n.unwrap_or(2)).map(|i| format!("LABEL_{i}")).collect());
    };
    let mut labels = vec![None; map.len()];
    for (k, name) in map {
        let i: usize = match k.parse() {
            Ok(i) if i < map.len() => i,
            _ => bail!("field `id2label`: key {k:?} is not an index below {}", map.len()),
        };
        let Some(name) = name.as_str() else { bail!("field `id2label.{k}`: expected a string") };
        labels[i] = Some(name.to_string());
    }
    if let Some(n) = n.filter(|&n| n as usize != labels.len()) {
        bail!("field `num_labels`: {n}, but `id2label` has {} labels", labels.len());
    }
    if labels.is_empty() {
        bail!("field `id2label`: no labels");
    }
    Ok(labels.into_iter().map(|l| l.expect("every index below len, each once")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn labels_and_activations() {
        let critic = Classifier::from_json(&json!({
            "id2label": {"1": "sycophancy", "0": "success", "2": "loops"},
            "problem_type": "multi_label_classification"
        }))
        .unwrap();
        assert_eq!(critic.labels, ["success", "sycophancy", "loops"]);
        assert_eq!((critic.pick(None).unwrap(), critic.pick(Some("loops")).unwrap()), (0, 2));
        assert!(critic.pick(Some("nope")).unwrap_err().to_string().contains("success, sycophancy, loops"));
        assert_eq!(critic.rows(2), [2]);
        let (p, z) = critic.probability(2, &[0.7]);
        let z32 = 0.7f32 as f64;
        assert!((p - 1.0 / (1.0 + (-z32).exp())).abs() < 1e-15 && z == z32);

        let single = Classifier::from_json(&json!({"num_labels": 3})).unwrap();
        assert_eq!((single.activation, single.pick(None).unwrap()), (Activation::Softmax, 0), "no success: first");
        assert_eq!(single.rows(1), [0, 1, 2]);
        let (p, _) = single.probability(1, &[1.0, 2.0, 0.5]);
        let e = [1.0f64.exp(), 2.0f64.exp(), 0.5f64.exp()];
        assert!((p - e[1] / e.iter().sum::<f64>()).abs() < 1e-12);

        let reward = Classifier::from_json(&json!({"id2label": {"0": "LABEL_0"}})).unwrap();
        assert_eq!(reward.activation, Activation::Sigmoid, "one label: a sigmoid");
        let e = |v| Classifier::from_json(&v).unwrap_err().to_string();
        assert!(e(json!({"id2label": {"0": "a", "5": "b"}})).contains("key \"5\""));
        assert!(e(json!({"id2label": {"0": "a"}, "num_labels": 2})).contains("num_labels"));
        assert!(e(json!({"num_labels": 2, "problem_type": "ranking"})).contains("problem_type"));
    }
}
