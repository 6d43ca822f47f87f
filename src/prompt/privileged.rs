//! The leakage gate: what the SWE-bench harness grades with (the gold `patch`, the
//! `test_patch`, the FAIL_TO_PASS / PASS_TO_PASS lists) must not reach an execution-free judge
//! unnoticed. SWE-bench's submission rules forbid using them; a judge that reads them may still
//! be studied, but only with `--allow-privileged`, and its numbers are marked "privileged"
//! wherever they appear (summary, report.json/md/html, compare).
//!
//! Two checks, both for every judge:
//! - a user template (`--template`) that reads one of those fields (`dataset.patch`, ...), or
//!   reads `dataset` other than by `dataset.FIELD` (a subscript, a loop, the whole row: swerm
//!   cannot tell which fields it shows, so it counts as reading them all): found before anything
//!   is loaded (`template_reads`);
//! - a prompt whose text holds one of those fields of its instance's `--dataset` row verbatim
//!   (`found_in`): a trajectory that carries the harness's test patch, a log with the gold patch
//!   pasted in. Decision: only values of at least [`MIN_CHARS`] characters are looked for (a
//!   short list such as `["test_a"]` names a test an agent may well have run itself), and the
//!   gold patch is not counted when the candidate's own patch holds it (an agent that wrote the
//!   gold patch shows it as its own). Without `--dataset` there is no row to compare with, and
//!   only the template check applies.

use std::collections::HashSet;

use serde_json::Value;

use crate::input::issues::Row;

/// The dataset fields the harness grades with.
pub(crate) const FIELDS: [&str; 4] = ["patch", "test_patch", "FAIL_TO_PASS", "PASS_TO_PASS"];

/// The shortest field value the text check looks for.
pub(crate) const MIN_CHARS: usize = 16;

/// The privileged fields a template reads, from its undeclared variables (`dataset.patch`, ...;
/// `dataset` alone: read otherwise, so every field), in `FIELDS` order, `dataset` last.
pub(crate) fn template_reads(vars: &HashSet<String>) -> Vec<String> {
    let mut out: Vec<String> = FIELDS
        .iter()
        .filter(|f| {
            vars.iter().any(|v| v.strip_prefix("dataset.").is_some_and(|rest| rest.split('.').next() == Some(**f)))
        })
        .map(|f| format!("dataset.{f}"))
        .collect();
    if vars.contains("dataset") {
        out.push("dataset (read by subscript, in a loop or whole: every field counts)".into());
    }
    out
}

/// The privileged fields of `row` whose text `prompt` holds verbatim (see the module's
/// decision), in `FIELDS` order.
pub(crate) fn found_in(prompt: &str, row: &Row, own_patch: &str) -> Vec<&'static str> {
    FIELDS
        .iter()
        .filter(|f| {
            let Some(text) = row.get(**f).and_then(field_text) else {
                return false;
            };
            let text = text.trim();
            text.chars().count() >= MIN_CHARS && prompt.contains(text) && !(**f == "patch" && own_patch.contains(text))
        })
        .copied()
        .collect()
}

/// A field's text: a string as it is, a list as the JSON SWE-bench's exports write it.
fn field_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Array(_) => Some(v.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> Row {
        serde_json::from_value(serde_json::json!({
            "instance_id": "a__b-1",
            "patch": "diff --git a/x.py b/x.py\n-old\n+gold fix\n",
            "test_patch": "diff --git a/tests/test_x.py b/tests/test_x.py\n+def test_gold(): pass\n",
            "FAIL_TO_PASS": "[\"tests/test_x.py::test_gold\"]",
            "PASS_TO_PASS": "[]",
        }))
        .unwrap()
    }

    #[test]
    fn what_a_template_reads() {
        let vars = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<HashSet<_>>();
        assert!(template_reads(&vars(&["issue", "patch", "dataset.problem_statement"])).is_empty());
        assert_eq!(
            template_reads(&vars(&["dataset.test_patch", "dataset.FAIL_TO_PASS"])),
            ["dataset.test_patch", "dataset.FAIL_TO_PASS"]
        );
        assert_eq!(template_reads(&vars(&["dataset.patch.strip"])), ["dataset.patch"]);
        assert!(template_reads(&vars(&["dataset"]))[0].starts_with("dataset (read by subscript"));
        assert!(template_reads(&vars(&["dataset.patches"])).is_empty());
    }

    #[test]
    fn what_a_prompt_holds() {
        let r = row();
        let gold = r["patch"].as_str().unwrap();
        let test = r["test_patch"].as_str().unwrap();
        assert!(found_in("a log, my patch", &r, "my patch").is_empty());
        assert_eq!(found_in(&format!("log\n{test}\nend"), &r, "mine"), ["test_patch"]);
        // The gold patch as the candidate's own: not privileged; pasted into a log: privileged.
        assert!(found_in(&format!("final patch:\n{gold}"), &r, gold).is_empty());
        assert_eq!(found_in(&format!("hint: {gold}"), &r, "mine"), ["patch"]);
        assert_eq!(found_in("F2P: [\"tests/test_x.py::test_gold\"]", &r, ""), ["FAIL_TO_PASS"]);
        // "[]" is below MIN_CHARS: never looked for.
        assert!(found_in("[]", &r, "").is_empty());
    }
}
