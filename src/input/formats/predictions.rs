//! SWE-bench predictions (JSONL, a JSON array, or an object keyed by instance id):
//! `instance_id`, `model_name_or_path`, `model_patch` (`""`, `null` or missing = empty). No
//! trajectory: a verifier judges the patch alone (with the issue from `--dataset`).
//! Multi-SWE-bench predictions name the instance by `org`, `repo` and `number` and hold the
//! patch in `fix_patch`; the instance id is `<org>__<repo>-<number>`, as its harness writes it.

use anyhow::{Result, bail};
use serde_json::Value;

use crate::input::fields::kind;
use crate::loc::Loc;

/// Where the patch is, in order (`crate::input::fields::first_string`).
pub(crate) const PATCH: &[&[&str]] = &[&["model_patch"], &["fix_patch"]];

/// `<org>__<repo>-<number>` of a Multi-SWE-bench record.
pub(crate) fn multi_swe_bench_id(v: &Value, src: &Loc) -> Result<String> {
    let part = |k: &str| -> Result<String> {
        match v.get(k) {
            Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
            Some(Value::Number(n)) if k == "number" => Ok(n.to_string()),
            Some(other) => bail!("{src}: field `{k}`: expected a non-empty string, found {}", kind(other)),
            None => bail!("{src}: field `{k}`: missing (a Multi-SWE-bench record has org, repo and number)"),
        }
    };
    Ok(format!("{}__{}-{}", part("org")?, part("repo")?, part("number")?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn multi_swe_bench_records() {
        let src = Loc::line("p.jsonl", 1, 0);
        let v = json!({"org": "cli", "repo": "cli", "number": 513, "fix_patch": "diff --git a/x b/x"});
        assert_eq!(multi_swe_bench_id(&v, &src).unwrap(), "cli__cli-513");
        assert_eq!(crate::input::fields::first_string(&v, PATCH, &src).unwrap().as_deref(), Some("diff --git a/x b/x"));
        let e = multi_swe_bench_id(&json!({"org": "cli", "number": 1}), &src).unwrap_err().to_string();
        assert_eq!(e, "p.jsonl:1: field `repo`: missing (a Multi-SWE-bench record has org, repo and number)");
    }
}
