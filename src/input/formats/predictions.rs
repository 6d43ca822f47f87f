//! SWE-bench predictions (JSONL, a JSON array, or an object keyed by instance id):
//! `instance_id`, `model_name_or_path`, `model_patch` (`""`, `null` or missing = empty). No
//! trajectory: a verifier judges the patch alone.

use anyhow::Result;
use serde_json::Value;

use crate::input::record::opt_string;
use crate::loc::Source;

pub fn patch(v: &Value, src: &Source) -> Result<Option<String>> {
    opt_string(v, &["model_patch"], src)
}
