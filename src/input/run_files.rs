//! What a run's layout adds to the records of its files (`RunInput`'s extras): trajectories
//! from a submission's `trajs/`, its own labels (`results/results.json` or `logs/`), and
//! patches from a mini-swe-agent run's `preds.json` for trajectories that carry none.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Result, anyhow, bail};
use serde_json::Value;

use super::fields::{opt_string, traj_instance_id};
use super::formats::Format;
use super::labels;
use super::read::Sealed;
use super::run_input::RunInput;
use super::stream;
use crate::loc::{Loc, Pos};

/// Applies `input`'s extras to the records read from its files.
pub(super) fn apply(input: &RunInput, records: &mut [Sealed]) -> Result<()> {
    if let Some(preds) = &input.patches
        && records.iter().any(|s| s.rec.patch.is_none())
    {
        let patches = keyed_patches(preds)?;
        for s in records.iter_mut().filter(|s| s.rec.patch.is_none()) {
            let patch = patches.get(&s.rec.instance_id).cloned().flatten();
            s.set_patch(patch);
        }
    }
    if !input.trajs.is_empty() {
        let by_id: HashMap<String, &Path> =
            input.trajs.iter().filter_map(|p| traj_instance_id(p).ok().map(|iid| (iid, p.as_path()))).collect();
        for s in records.iter_mut().filter(|s| !s.format.has_trajectory()) {
            if let Some(p) = by_id.get(&s.rec.instance_id)
                && let Some(f) = Format::from_file_name(p)
            {
                s.rec.source = Loc::file(p);
                s.format = f;
            }
        }
    }
    if let Some(path) = &input.labels {
        let report = labels::read_report(path)?;
        let origin = format!("{} ({})", report.path.display(), report.shape);
        for rec in records.iter_mut().map(|s| &mut s.rec) {
            let resolved = report.resolved(&rec.instance_id);
            if rec.resolved.is_some_and(|r| r != resolved) {
                bail!(
                    "{}: instance {} is resolved={} there but {resolved} in {origin}",
                    rec.source,
                    rec.instance_id,
                    rec.resolved.unwrap_or_default()
                );
            }
            rec.resolved = Some(resolved);
            rec.label_from = Some(origin.clone());
        }
    }
    Ok(())
}

/// `instance_id -> model_patch` of a `preds.json` (an object keyed by instance id).
fn keyed_patches(path: &Path) -> Result<HashMap<String, Option<String>>> {
    let mut out = HashMap::new();
    stream::for_each_record(path, stream::Layout::Object, &mut |src: Loc, v: Value| {
        let Value::Object(map) = v else {
            bail!("{src}: expected an object keyed by instance id");
        };
        for (k, rec) in map {
            let at = Loc { path: src.path.clone(), pos: Pos::Key(k.clone()) };
            out.insert(k, opt_string(&rec, &["model_patch"], &at)?);
        }
        Ok(())
    })
    .map_err(|e| anyhow!("{e:#}"))?;
    Ok(out)
}
