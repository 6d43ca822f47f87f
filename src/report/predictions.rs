//! predictions.jsonl: one SWE-bench prediction per instance (the chosen candidate's patch,
//! verbatim), usable as the harness's `--predictions_path`.

use anyhow::Result;
use serde_json::{Value, json};

use crate::input::Dataset;
use crate::score::ScoreTable;

/// One line per instance: `instance_id`, `model_name_or_path`, `model_patch` (never null: an
/// instance whose candidates are all empty gets `""`), plus `run` and `score`. A patch whose
/// text the dataset dropped is read again from its line.
pub(crate) fn render(ds: &Dataset, t: &ScoreTable, selected: &[usize], name: &str) -> Result<String> {
    let mut out = String::new();
    for (i, &r) in selected.iter().enumerate() {
        let idx = ds.grid.idx(i, r);
        let line = json!({
            "instance_id": ds.grid.instances[i],
            "model_name_or_path": name,
            "model_patch": ds.patch(idx)?,
            "run": ds.grid.runs[r],
            "score": t.score()[idx].map_or(Value::Null, Value::from),
        });
        out.push_str(&line.to_string());
        out.push('\n');
    }
    Ok(out)
}
