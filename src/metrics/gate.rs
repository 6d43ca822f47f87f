//! `--fail-under METRIC=VALUE` gates for CI jobs: `selected`, `best@K`, `pass@K`, `auc` or
//! `auc_per_instance`, each a fraction in [0, 1]; the run fails (exit status 1, after writing
//! every output) when a metric is below its bound. A bound outside [0, 1] (`selected=30` for
//! 30%) is refused when the arguments are read, a k outside 1..N before any scoring, and a
//! metric that cannot be computed (no labels, one class for AUC) after the outputs are
//! written: all exit status 2, since the gate did not measure anything. best@K and pass@K are
//! computed for any K a gate names, shown in the table or not (`MetricsOptions::gate_ks`).
//! Only metrics where higher is better can be gated this way.

use std::str::FromStr;

use super::Metrics;

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Gated {
    Selected,
    BestAt(usize),
    PassAt(usize),
    Auc,
    AucPerInstance,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Gate {
    pub(crate) metric: Gated,
    pub(crate) name: String,
    pub(crate) min: f64,
}

impl FromStr for Gate {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (name, v) = s.split_once('=').ok_or_else(|| format!("{s:?}: expected METRIC=VALUE, e.g. selected=0.3"))?;
        let min: f64 = v.parse().map_err(|_| format!("{s:?}: {v:?} is not a number"))?;
        if !(0.0..=1.0).contains(&min) {
            return Err(format!("{s:?}: VALUE is a fraction in [0, 1] (selected=0.30 for 30%)"));
        }
        let k = |p: &str| name.strip_prefix(p).and_then(|k| k.parse::<usize>().ok()).filter(|&k| k > 0);
        let metric = match name {
            "selected" => Gated::Selected,
            "auc" => Gated::Auc,
            "auc_per_instance" => Gated::AucPerInstance,
            _ if k("best@").is_some() => Gated::BestAt(k("best@").unwrap()),
            _ if k("pass@").is_some() => Gated::PassAt(k("pass@").unwrap()),
            _ => {
                return Err(format!(
                    "{s:?}: METRIC is selected, best@K, pass@K, auc or auc_per_instance (higher is better)"
                ));
            }
        };
        Ok(Gate { metric, name: name.to_string(), min })
    }
}

impl Gate {
    /// The k a best@K or pass@K gate needs computed.
    pub(crate) fn k(&self) -> Option<usize> {
        match self.metric {
            Gated::BestAt(k) | Gated::PassAt(k) => Some(k),
            _ => None,
        }
    }

    /// The metric's value (`None`: not computed, e.g. without labels).
    pub(crate) fn value(&self, m: &Metrics) -> Option<f64> {
        let l = m.labeled.as_ref()?;
        let at = |k: usize| m.ks.iter().position(|&x| x == k);
        let extra = |k: usize| l.gate_ks.iter().find(|g| g.0 == k);
        match self.metric {
            Gated::Selected => Some(l.selected_rate),
            Gated::BestAt(k) => at(k).map(|j| l.best_at_k[j]).or_else(|| extra(k).map(|g| g.1)),
            Gated::PassAt(k) => at(k).map(|j| l.pass_at_k[j]).or_else(|| extra(k).map(|g| g.2)),
            Gated::Auc => l.auc,
            Gated::AucPerInstance => l.auc_per_instance,
        }
    }
}

/// One gate checked: its metric, value (`None`: not computed), threshold and result.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Checked {
    pub(crate) metric: String,
    pub(crate) value: Option<f64>,
    pub(crate) threshold: f64,
    pub(crate) passed: bool,
}

impl Checked {
    /// Why a failed gate failed (`None` for a passed one or one not computed).
    pub(crate) fn failure(&self) -> Option<String> {
        match self.value {
            Some(v) if !self.passed => Some(format!("{} = {v:.4} is below {}", self.metric, self.threshold)),
            _ => None,
        }
    }

    /// Why a gate could not be checked (`None` when it was).
    pub(crate) fn not_computed(&self) -> Option<String> {
        self.value.is_none().then(|| {
            format!(
                "--fail-under {}: the metric could not be computed (no labels, or a single class for AUC): nothing was gated",
                self.metric
            )
        })
    }
}

/// Every gate checked, in the order given.
pub(crate) fn evaluate(gates: &[Gate], m: &Metrics) -> Vec<Checked> {
    gates
        .iter()
        .map(|g| {
            let value = g.value(m);
            Checked { metric: g.name.clone(), value, threshold: g.min, passed: value.is_some_and(|v| v >= g.min) }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse() {
        assert_eq!("best@4=0.2".parse::<Gate>().unwrap().metric, Gated::BestAt(4));
        assert_eq!("selected=0.3".parse::<Gate>().unwrap().min, 0.3);
        assert!("ece=0.1".parse::<Gate>().unwrap_err().contains("higher is better"));
        assert!(
            "best@0=1".parse::<Gate>().is_err() && "auc".parse::<Gate>().is_err() && "auc=x".parse::<Gate>().is_err()
        );
        assert!("selected=30".parse::<Gate>().unwrap_err().contains("fraction in [0, 1]"));
        assert!("auc=-0.1".parse::<Gate>().is_err() && "auc=1".parse::<Gate>().is_ok());
    }
}
