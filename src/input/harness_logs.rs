//! SWE-bench harness logs as labels: `logs/run_evaluation/<run_id>/<model>/<iid>/report.json`
//! (the per-instance report shape) beside `patch.diff` and `test_output.txt`. Users point at the
//! run id's folder (one model below it) or at one model's folder; a SWE-bench/experiments
//! submission's `logs/<iid>/report.json` is a model folder too. An instance folder without a
//! report.json (the harness could not run its tests) and an instance with no folder are
//! unresolved, as in the harness's own run report.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

fn subdirs(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out: Vec<PathBuf> = fs::read_dir(dir)
        .with_context(|| format!("{}: cannot list", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    out.sort();
    Ok(out)
}

/// A model folder: instance folders, some holding `report.json`.
fn is_model_dir(dir: &Path) -> Result<bool> {
    Ok(subdirs(dir)?.iter().any(|d| d.join("report.json").is_file()))
}

/// The model folder of a harness logs folder: `dir` itself, or its one model folder.
pub(crate) fn model_dir(dir: &Path) -> Result<PathBuf> {
    if is_model_dir(dir)? {
        return Ok(dir.to_path_buf());
    }
    let models: Vec<PathBuf> = subdirs(dir)?.into_iter().filter(|d| is_model_dir(d).unwrap_or(false)).collect();
    match models.as_slice() {
        [one] => Ok(one.clone()),
        [] => bail!(
            "{}: no harness logs there (expected <iid>/report.json folders, or <model>/<iid>/report.json below logs/run_evaluation/<run_id>)",
            dir.display()
        ),
        many => {
            let names: Vec<String> =
                many.iter().filter_map(|m| m.file_name()).map(|n| n.to_string_lossy().into_owned()).collect();
            bail!(
                "{}: holds the logs of {} models ({}): pass one folder, e.g. {}",
                dir.display(),
                many.len(),
                names.join(", "),
                many[0].display()
            )
        }
    }
}

/// The per-instance `report.json` files of a model folder (instance folders without one are
/// unresolved).
pub(crate) fn instance_reports(model_dir: &Path) -> Result<Vec<PathBuf>> {
    Ok(subdirs(model_dir)?.into_iter().map(|inst| inst.join("report.json")).filter(|f| f.is_file()).collect())
}
