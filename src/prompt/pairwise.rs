//! The pairwise prompt (`--pairwise`): one issue and two attempts, A and B, each its interaction
//! log and its final patch, and the question which one resolves the issue, ending right after
//! the assistant's opening `<choice>` through the checkpoint's chat template; the answers are
//! the tokens `A` and `B` (docs/spec/judges.md: the same forward pass as the YES/NO
//! verifier, two answer tokens).
//!
//! swerm defines this prompt (no released pairwise judge publishes one for SWE-bench
//! trajectories); its strings are fixed here and scripts/pairwise_reference.py writes them
//! again, independently, for the parity test against transformers.
//!
//! Decision (what is cut under `--max-tokens`): the issue and both patches are never cut (the
//! judgement is about them); the two interaction logs share what is left, a log shorter than
//! its half leaving the rest to the other, and each keeps its END (the last steps, where the
//! agent tested and submitted) behind a visible marker. A comparison whose issue and patches
//! alone do not fit is a `TooLong` error for that comparison (recorded in pairs.jsonl).

use anyhow::{Result, anyhow};

use super::swegym::{format_traj, strip_icl};
use super::{PatchView, Prompt, Prompter, Shows, TooLong};
use crate::input::Dataset;

pub(crate) const SYSTEM: &str = "You are an expert judge comparing two attempts by AI assistants to resolve the same software issue. Each attempt is shown as its interaction log and its final patch.

Key evaluation criteria:
1. Does the patch fix the problem the issue describes?
2. Does it handle the edge cases and requirements the issue states?
3. Does it avoid breaking behaviour the issue does not ask to change?
4. Did the assistant verify that the fix works?

Respond only with \"<choice>A</choice>\" or \"<choice>B</choice>\".";

/// `--pairwise`, and what shapes its scores beside the model and prompt: the tournament.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PairwiseId {
    /// Instances with at most this many non-empty candidates get a full round robin.
    pub(crate) round_robin_max: usize,
    /// Pivots of the tournaments above it (`--pivots`).
    pub(crate) pivots: usize,
}

/// Above this many non-empty candidates an instance gets a tournament instead of a full round
/// robin.
pub(crate) const ROUND_ROBIN_MAX: usize = 8;

/// The answer strings, in order (A, B): P(A) is A's softmax share over the two.
pub(crate) const ANSWERS: (&str, &str) = ("A", "B");

/// The assistant's opening: the model's next token is the answer.
const CUE: &str = "<choice>";

const NO_ISSUE: &str = "(The issue statement was not recorded; judge from the attempts.)";
const NO_LOG: &str = "(No trajectory was recorded for this attempt.)";

/// One candidate as a pairwise prompt shows it, read once per instance.
#[derive(Clone, Debug)]
pub(crate) struct Attempt {
    /// The serialized interaction log (SWE-Gym's `format_traj`, in-context example stripped).
    log: String,
    patch: String,
    has_trajectory: bool,
    /// The issue its trajectory states, if any.
    issue: Option<String>,
}

fn attempt_text(label: &str, log: &str, patch: &str) -> String {
    format!(
        "=== ATTEMPT {label}: INTERACTION LOG ===\n{log}\n=== ATTEMPT {label}: END INTERACTION ===\n\n=== ATTEMPT {label}: FINAL PATCH ===\n{patch}\n=== ATTEMPT {label}: END PATCH ==="
    )
}

pub(crate) fn user_message(issue: &str, (log_a, patch_a): (&str, &str), (log_b, patch_b): (&str, &str)) -> String {
    format!(
        "Please compare two attempts to resolve the following issue.\n\n=== ISSUE ===\n{issue}\n=== END ISSUE ===\n\n{}\n\n{}\n\nWhich attempt resolves the issue? Respond with A or B.",
        attempt_text("A", log_a, patch_a),
        attempt_text("B", log_b, patch_b)
    )
}

/// What replaces the removed start of an attempt's log.
fn marker(label: &str, removed: usize, max: usize) -> String {
    format!("[... {removed} tokens of attempt {label}'s interaction removed by swerm to fit --max-tokens {max} ...]\n")
}

impl Prompter {
    /// Candidate `idx` as pairwise prompts show it (`None` for an empty candidate, which is
    /// never shown to a model).
    pub(crate) fn attempt(&self, ds: &Dataset, idx: usize) -> Result<Option<Attempt>> {
        let c = &ds.cands[idx];
        if c.is_empty() {
            return Ok(None);
        }
        let traj = match (&c.source, c.format) {
            (Some(src), Some(fmt)) => crate::input::reread::trajectory(src, fmt)?,
            _ => None,
        };
        let has_trajectory = traj.as_ref().is_some_and(|t| !t.messages.is_empty());
        let log = match &traj {
            Some(t) if has_trajectory => strip_icl(&format_traj(&t.messages)),
            _ => NO_LOG.to_string(),
        };
        let issue = traj.and_then(|t| t.problem_statement);
        let patch = ds.patch(idx)?.into_owned();
        // The leakage gate (`privileged`). Decision: a pairwise judge has no way yet to mark
        // its numbers privileged, so such an attempt is refused even with --allow-privileged.
        let (i, r) = ds.grid.coords(idx);
        if let Some(row) = ds.row(i) {
            let found = super::privileged::found_in(&format!("{}\n{log}", issue.as_deref().unwrap_or("")), row, &patch);
            if !found.is_empty() {
                anyhow::bail!(
                    "instance {} of run {}: its trajectory holds the {} of its --dataset row, what the SWE-bench harness grades with; a pairwise judge does not judge privileged prompts (--allow-privileged applies to pointwise judges, whose numbers it marks)",
                    ds.grid.instances[i],
                    ds.grid.runs[r],
                    crate::text::list(&found.iter().map(|f| f.to_string()).collect::<Vec<_>>())
                );
            }
        }
        Ok(Some(Attempt { log, patch, has_trajectory, issue }))
    }

    /// The prompt judging `a` against `b` (A first). `issue` is the instance's issue: the
    /// dataset's (`--dataset`), else the first attempt's (in grid order) that states one, so
    /// both orders of a pair show the same issue.
    pub(crate) fn for_pair(&self, issue: Option<&str>, a: &Attempt, b: &Attempt) -> Result<Prompt> {
        let issue = issue.unwrap_or(NO_ISSUE);
        // Both attempts' patches are shown whole, in their final-patch blocks.
        let shows = Shows {
            trajectory: a.has_trajectory && b.has_trajectory,
            issue: issue != NO_ISSUE,
            patch: PatchView::Shown,
        };
        let (text, ids) = self.render_pair(issue, (&a.log, &a.patch), (&b.log, &b.patch))?;
        let Some(limit) = self.limit.filter(|l| ids.len() > l.tokens) else {
            return Ok(Prompt { text, ids, truncated: false, cut: None, shows, privileged: Vec::new(), turns: None });
        };
        let (max, full) = (limit.tokens, ids.len());
        let too_long = |need| TooLong { need, limit, what: "the issue, both patches and the prompt's frame" };
        let (la, lb) = (self.encode(&a.log)?, self.encode(&b.log)?);
        let fixed = self
            .render_pair(issue, (&marker("A", 99_999_999, max), &a.patch), (&marker("B", 99_999_999, max), &b.patch))?
            .1
            .len();
        if fixed > max {
            return Err(too_long(fixed).into());
        }
        let avail = max - fixed;
        let (mut ka, mut kb) = share(avail, la.len(), lb.len());
        loop {
            let log_a = self.kept("A", &la, ka, max)?;
            let log_b = self.kept("B", &lb, kb, max)?;
            let (text, ids) = self.render_pair(issue, (&log_a, &a.patch), (&log_b, &b.patch))?;
            if ids.len() <= max {
                let cut = Some(super::Cut { removed: full.saturating_sub(ids.len()), what: "logs".into() });
                return Ok(Prompt { text, ids, truncated: true, cut, shows, privileged: Vec::new(), turns: None });
            }
            if ka == 0 && kb == 0 {
                return Err(too_long(ids.len()).into());
            }
            // Tokens merge differently across the joins: take the excess from the longer part.
            let excess = ids.len() - max;
            if ka >= kb {
                ka = ka.saturating_sub(excess);
            } else {
                kb = kb.saturating_sub(excess);
            }
        }
    }

    /// The last `keep` tokens of a log behind a marker (the whole log when it keeps them all).
    fn kept(&self, label: &str, log: &[u32], keep: usize, max: usize) -> Result<String> {
        let text = self.tokenizer.decode(&log[log.len() - keep..], false).map_err(|e| anyhow!("decoding: {e}"))?;
        if keep == log.len() {
            return Ok(text);
        }
        Ok(format!("{}{text}", marker(label, log.len() - keep, max)))
    }

    fn render_pair(&self, issue: &str, a: (&str, &str), b: (&str, &str)) -> Result<(String, Vec<u32>)> {
        let user = user_message(issue, a, b);
        let text = self.template.render(&[("system", SYSTEM), ("user", &user), ("assistant", CUE)], false)?;
        let cut = text.rfind(CUE).ok_or_else(|| {
            anyhow!("the chat template dropped the assistant's `{CUE}` prefix; cannot build a pairwise prompt")
        })?;
        let text = text[..cut + CUE.len()].to_string();
        let ids = self.encode(&text)?;
        Ok((text, ids))
    }
}

/// The issue of an instance's pairwise prompts: the dataset's, else the first attempt's (grid
/// order) that states one.
pub(crate) fn instance_issue<'a>(dataset: Option<&'a str>, attempts: &'a [Option<Attempt>]) -> Option<&'a str> {
    dataset.or_else(|| attempts.iter().flatten().find_map(|a| a.issue.as_deref()))
}

/// How `avail` tokens are shared by two logs of `a` and `b` tokens: a log shorter than its half
/// keeps all of it and leaves the rest to the other.
fn share(avail: usize, a: usize, b: usize) -> (usize, usize) {
    let half = avail / 2;
    match (a <= half, b <= half) {
        (true, _) => (a, (avail - a).min(b)),
        (_, true) => ((avail - b).min(a), b),
        _ => (half, avail - half),
    }
}

#[cfg(test)]
mod tests {
    use super::share;

    #[test]
    fn logs_share_the_budget() {
        assert_eq!(share(100, 10, 500), (10, 90));
        assert_eq!(share(100, 500, 10), (90, 10));
        assert_eq!(share(100, 500, 500), (50, 50));
        assert_eq!(share(101, 500, 500), (50, 51));
        assert_eq!(share(100, 20, 30), (20, 30));
        for avail in 0..40 {
            for a in 0..40 {
                for b in 0..40 {
                    let (x, y) = share(avail, a, b);
                    assert!(x <= a && y <= b && x + y <= avail, "{avail} {a} {b}");
                    // Nothing is left unused that a log could take.
                    assert!(x + y == avail.min(a + b), "{avail} {a} {b} -> {x} {y}");
                }
            }
        }
    }
}
