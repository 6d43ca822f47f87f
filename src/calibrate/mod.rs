//! Calibration, one stage between the scores and selection: maps fitted on labelled scores
//! (`fit`: temperature and Platt scaling, cross-validated by instance; cal.json read and
//! written), the measures of calibration (`measures`: ECE, Brier, the reliability bins, which
//! metrics and the fit share), and a map applied (`Applied`): checked against the scorer it
//! was fitted on, then applied to a score table through `score::logit_of`, once per command.
//!
//! Decision: a map acts on non-empty candidates' logits (the answer-logit difference a verifier
//! recorded, else logit(p)); empty candidates are neither fitted nor transformed, and a score
//! outside [0, 1] is an error (these maps are for probabilities).

pub(crate) mod fit;
pub(crate) mod measures;

use anyhow::{Context, Result, bail};

pub(crate) use fit::{Calibration, Data, Method};

use crate::score::store::{self, ScoreLine};
use crate::score::{ScoreTable, ScorerSettings};

/// A cal.json given to a command (`--calibration FILE`), and where it came from.
#[derive(Clone, Debug)]
pub(crate) struct Applied {
    pub(crate) cal: Calibration,
    pub(crate) source: String,
    /// Applied to the very scores it was fitted on (`eval` of its store): its ECE and Brier are
    /// in-sample, and the reports say so.
    pub(crate) in_sample: bool,
}

/// The absolute paths of a store's files from its `origin` (`a/scores.jsonl + b/scores.jsonl`).
pub(crate) fn origin_files(origin: &str) -> Vec<String> {
    origin
        .split(" + ")
        .map(|f| {
            let p = std::path::Path::new(f);
            p.canonicalize().unwrap_or_else(|_| p.to_path_buf()).display().to_string()
        })
        .collect()
}

impl Applied {
    /// Reads `--calibration FILE` (before any input). `source` is its absolute path, so the
    /// reports that name it (report.json, compare.json) can be read from anywhere.
    pub(crate) fn read(path: &std::path::Path) -> Result<Applied> {
        let source = path.canonicalize().unwrap_or_else(|_| path.to_path_buf()).display().to_string();
        Ok(Applied { cal: Calibration::read(path)?, source, in_sample: false })
    }

    pub(crate) fn describe(&self) -> String {
        match self.in_sample {
            true => format!("{} (in-sample: fitted on these scores)", self.cal.describe()),
            false => self.cal.describe(),
        }
    }

    /// Marks the map in-sample when it was fitted on one of the files of `origin` (a store read
    /// back), with a note: its ECE and Brier there are not a held-out estimate.
    pub(crate) fn mark_in_sample(&mut self, origin: &str) {
        let files = origin_files(origin);
        self.in_sample = self.cal.fitted_on.iter().any(|f| files.contains(f));
        if self.in_sample {
            crate::console::note(&format!(
                "--calibration {} was fitted on these scores: the calibrated ECE and Brier are in-sample (its cross-validated numbers, printed by `swerm calibrate`, are the held-out estimate)",
                self.source
            ));
        }
    }

    /// Refuses a map fitted on another scorer's scores (`Calibration::check_scorer`).
    pub(crate) fn check(&self, scores_of: Option<&ScorerSettings>) -> Result<()> {
        self.cal.check_scorer(scores_of).with_context(|| format!("--calibration {}", self.source))
    }

    /// Checks the scorer, then replaces every non-empty candidate's score in `t` with its
    /// calibrated probability; `z` holds each candidate's logit (`score::logit_of`), in grid
    /// order.
    pub(crate) fn apply(
        &self,
        scores_of: Option<&ScorerSettings>,
        t: &mut ScoreTable,
        z: &[Option<f64>],
    ) -> Result<()> {
        self.check(scores_of)?;
        for idx in 0..t.score().len() {
            let Some(s) = t.score()[idx].filter(|_| !t.empty()[idx]) else { continue };
            if !(0.0..=1.0).contains(&s) {
                let (i, r) = t.grid().coords(idx);
                bail!(
                    "--calibration {}: the score of instance {} of run {} is {s}, not a probability in [0, 1]",
                    self.source,
                    t.grid().instances[i],
                    t.grid().runs[r]
                );
            }
            t.set_score(idx, z[idx].map(|z| self.cal.map.apply(z)));
        }
        Ok(())
    }

    /// Store lines with every non-empty candidate's score calibrated (the other columns kept).
    pub(crate) fn apply_to_lines(
        &self,
        scores_of: Option<&ScorerSettings>,
        lines: Vec<ScoreLine>,
    ) -> Result<Vec<ScoreLine>> {
        let t = ScoreTable::from_lines(&lines);
        let mut cal = t.clone();
        self.apply(scores_of, &mut cal, &logits_in_grid(&t, &lines))?;
        let mut scores: Vec<Option<f64>> = vec![None; lines.len()];
        for (idx, k) in store::place(&lines, t.grid()).into_iter().enumerate() {
            if let Some(k) = k {
                scores[k] = cal.score()[idx];
            }
        }
        Ok(lines.into_iter().zip(scores).map(|(l, score)| ScoreLine { score, ..l }).collect())
    }
}

/// The logits of a table's candidates from the store lines it was read from, in grid order
/// (`None` where the store has no line or no score).
pub(crate) fn logits_in_grid(t: &ScoreTable, lines: &[ScoreLine]) -> Vec<Option<f64>> {
    store::place(lines, t.grid())
        .into_iter()
        .map(|k| k.map(|k| &lines[k]).and_then(|l| crate::score::logit_of(l.score, &l.detail)))
        .collect()
}
