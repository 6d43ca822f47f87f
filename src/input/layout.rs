//! Command-line inputs -> runs: which files make up each run and what the run is called.
//!
//! An input is `PATH` or `NAME=PATH`. A file is one run named after its stem (a lone `.traj` or
//! `.traj.json` after the run directory it sits in). A directory is recognised by its layout, as
//! the agents write it (docs/spec/formats.md):
//! - an OpenHands run: `output.jsonl` (one run named after the directory) and
//!   `output.critic_attempt_<k>.jsonl` (a run each, `<dir>.critic_attempt_<k>`);
//! - a SWE-agent 0.x run: `<iid>.traj` files side by side;
//! - a SWE-agent 1.x run `<iid>/<iid>.traj`, or a mini-swe-agent run `<iid>/<iid>.traj.json`:
//!   one run named after the directory, not one per instance folder;
//! - an AutoCodeRover run: `<iid>_<timestamp>/` instance folders, in category folders
//!   (`applicable_patch/`, ...) or straight under the run;
//! - a SWE-bench/experiments submission: `all_preds.jsonl` beside `metadata.yaml`,
//!   `results/` or `logs/` (its labels), and `trajs/` (SWE-agent and mini-swe-agent
//!   trajectories are read from there);
//! - a run with only `preds.json` (or ACR's `predictions_for_swebench.json`);
//! - otherwise (given on the command line) a directory of runs: each `.jsonl`/`.json` file and each
//!   run directory inside is a run.
//!
//! Decision (nothing dropped silently): a folder holding run folders and loose trajectory files
//! (SWE-agent's demonstrations folder) reads every run folder and the loose files as one more
//! run named after the folder, with a note. A folder holding `predictions/` and `reports/`
//! is refused with the command that reads it.
//!
//! Decision (names, run_names.rs): two runs that would share a name (every OpenHands run is an
//! `output.jsonl`) take the name of their nearest parent directory that tells them apart; if
//! none does, the error lists them and asks for `NAME=PATH`. An explicit NAME is the run's name
//! everywhere (records' own `run`/`attempt` fields do not override it).

use std::fs;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::{Context, Result, bail};

use super::formats::Format;
use super::formats::acr;
use super::run_input::RunInput;

/// One command-line input: `PATH` or `NAME=PATH`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct InputSpec {
    pub(crate) name: Option<String>,
    pub(crate) path: PathBuf,
}

impl FromStr for InputSpec {
    type Err = String;
    /// `NAME=PATH` when the text before the first `=` is a plain name (no `/`) and the whole
    /// text is not itself an existing path.
    fn from_str(s: &str) -> Result<Self, String> {
        if let Some((name, path)) = s.split_once('=')
            && !Path::new(s).exists()
        {
            if name.is_empty() || name.contains('/') {
                return Err(format!("{s:?}: expected PATH or NAME=PATH (NAME without `/`)"));
            }
            if path.is_empty() {
                return Err(format!("{s:?}: no path after `{name}=`"));
            }
            return Ok(InputSpec { name: Some(name.to_string()), path: PathBuf::from(path) });
        }
        Ok(InputSpec { name: None, path: PathBuf::from(s) })
    }
}

/// Expands the command-line inputs into runs with unique names.
pub(crate) fn expand_inputs(args: &[InputSpec]) -> Result<Vec<RunInput>> {
    let mut out = Vec::new();
    for (arg, spec) in args.iter().enumerate() {
        let path = &spec.path;
        let meta = fs::metadata(path).with_context(|| format!("{}: cannot read", path.display()))?;
        let mut runs = if meta.is_dir() {
            match run_dir(path, arg)? {
                Some(runs) => runs,
                None => dir_of_runs(path, arg)?,
            }
        } else {
            vec![file_run(path, arg)?]
        };
        if let Some(name) = &spec.name {
            if runs.len() != 1 {
                let names: Vec<&str> = runs.iter().map(|r| r.name.as_str()).collect();
                bail!(
                    "{name}={}: holds {} runs ({}); NAME=PATH names one run",
                    path.display(),
                    runs.len(),
                    names.join(", ")
                );
            }
            runs[0].name = name.clone();
            runs[0].explicit = true;
        }
        out.extend(runs);
    }
    let mut out = instance_folders_as_one_run(out);
    super::run_names::disambiguate(&mut out)?;
    Ok(out)
}

/// AutoCodeRover instance folders of one run given one by one (a glob over its
/// `applicable_patch/*/`) are that run's instances, as its folder given whole is: one run, not
/// a run given several times.
fn instance_folders_as_one_run(runs: Vec<RunInput>) -> Vec<RunInput> {
    let folders = |r: &RunInput| !r.explicit && r.files.iter().all(|f| acr::is_instance_dir(f));
    let mut out: Vec<RunInput> = Vec::with_capacity(runs.len());
    for r in runs {
        match out.iter_mut().find(|o| folders(o) && folders(&r) && o.origin == r.origin) {
            Some(o) => o.files.extend(r.files),
            None => out.push(r),
        }
    }
    out
}

fn list(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .with_context(|| format!("{}: cannot list directory", dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()
        .with_context(|| format!("{}: cannot list directory", dir.display()))?;
    entries.sort();
    Ok(entries)
}

fn file_name(p: &Path) -> &str {
    p.file_name().and_then(|s| s.to_str()).unwrap_or("")
}

fn name_of(p: &Path) -> Result<String> {
    let p = p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
    match file_name(&p) {
        "" => bail!("{}: cannot take a run name from this path", p.display()),
        s => Ok(s.to_string()),
    }
}

fn run(name: String, files: Vec<PathBuf>, arg: usize, origin: &Path) -> RunInput {
    RunInput::new(name, files, arg, origin)
}

/// A file given on its own: named after its stem; a `.traj` / `.traj.json` after its run
/// directory (`<run>/<iid>.traj`, `<run>/<iid>/<iid>.traj`).
fn file_run(p: &Path, arg: usize) -> Result<RunInput> {
    let name = file_name(p);
    if let Some(iid) = name.strip_suffix(".traj.json").or_else(|| name.strip_suffix(".traj")) {
        let parent = p.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let parent = parent.canonicalize().unwrap_or_else(|_| parent.to_path_buf());
        let run_dir = match parent.parent() {
            Some(up) if file_name(&parent) == iid => up.to_path_buf(),
            _ => parent,
        };
        return Ok(run(name_of(&run_dir)?, vec![p.to_path_buf()], arg, &run_dir));
    }
    match p.file_stem().and_then(|s| s.to_str()) {
        Some(s) if !s.is_empty() => Ok(run(s.to_string(), vec![p.to_path_buf()], arg, p)),
        _ => bail!("{}: cannot take a run name from this file name", p.display()),
    }
}

/// The runs of a run directory in one of the agents' layouts; `None` when `dir` is not one.
fn run_dir(dir: &Path, arg: usize) -> Result<Option<Vec<RunInput>>> {
    // One AutoCodeRover instance folder given on its own: a run of that instance, named after
    // its run folder, as a `.traj` file given alone is (its conversation rounds are not a
    // folder of mini-swe-agent message lists).
    if acr::is_instance_dir(dir) {
        let run_dir = acr::run_folder(dir);
        return Ok(Some(vec![run(name_of(&run_dir)?, vec![dir.to_path_buf()], arg, &run_dir)]));
    }
    let entries = list(dir)?;
    let name = name_of(dir)?;
    // OpenHands: output.jsonl and critic attempts beside it.
    if entries.iter().any(|p| file_name(p) == "output.jsonl") {
        return Ok(Some(openhands_runs(dir, &entries, &name, arg)));
    }
    // SWE-agent 0.x: <iid>.traj side by side (and, in a mixed folder, run folders beside them).
    let trajs: Vec<PathBuf> =
        entries.iter().filter(|p| p.is_file() && file_name(p).ends_with(".traj")).cloned().collect();
    if !trajs.is_empty() {
        return loose_trajectories(dir, &entries, &name, trajs, arg).map(Some);
    }
    // A SWE-bench/experiments submission: all_preds.jsonl with its labels and trajectories.
    if let Some(sub) = submission(dir, &entries, &name, arg)? {
        return Ok(Some(vec![sub]));
    }
    // SWE-agent 1.x and mini-swe-agent: <iid>/<iid>.traj or <iid>/<iid>.traj.json.
    let nested: Vec<PathBuf> = entries
        .iter()
        .filter(|p| p.is_dir())
        .filter_map(|d| {
            let iid = file_name(d);
            [format!("{iid}.traj"), format!("{iid}.traj.json")].into_iter().map(|f| d.join(f)).find(|f| f.is_file())
        })
        .collect();
    if !nested.is_empty() {
        let mut r = run(name, nested, arg, dir);
        r.patches = entries.iter().find(|p| file_name(p) == "preds.json").cloned();
        return Ok(Some(vec![r]));
    }
    // AutoCodeRover: <iid>_<timestamp>/ instance folders, in category folders or not.
    let acr = acr::instance_dirs(&entries)?;
    if !acr.is_empty() {
        return Ok(Some(vec![run(name, acr, arg, dir)]));
    }
    for preds in ["preds.json", "predictions_for_swebench.json"] {
        if let Some(p) = entries.iter().find(|p| file_name(p) == preds) {
            return Ok(Some(vec![run(name, vec![p.clone()], arg, dir)]));
        }
    }
    Ok(None)
}

/// An OpenHands run folder: `output.jsonl` (the run) and `output.critic_attempt_<k>.jsonl`.
fn openhands_runs(dir: &Path, entries: &[PathBuf], name: &str, arg: usize) -> Vec<RunInput> {
    let mut runs = Vec::new();
    for p in entries.iter().filter(|p| p.is_file()) {
        let f = file_name(p);
        if f == "output.jsonl" {
            runs.push(run(name.to_string(), vec![p.clone()], arg, dir));
        } else if let Some(k) = f.strip_prefix("output.critic_attempt_").and_then(|r| r.strip_suffix(".jsonl")) {
            runs.push(run(format!("{name}.critic_attempt_{k}"), vec![p.clone()], arg, dir));
        }
    }
    runs
}

/// A folder of `.traj` files (one run named after it), with the run folders beside them read
/// as runs too (a note says so).
fn loose_trajectories(
    dir: &Path,
    entries: &[PathBuf],
    name: &str,
    trajs: Vec<PathBuf>,
    arg: usize,
) -> Result<Vec<RunInput>> {
    let mut runs = Vec::new();
    for sub in entries.iter().filter(|p| p.is_dir()) {
        if let Some(inner) = run_dir(sub, arg)? {
            runs.extend(inner);
        }
    }
    let mut loose = run(name.to_string(), trajs, arg, dir);
    if !runs.is_empty() {
        loose.note = Some(format!(
            "{}: holds {} and {} loose trajectory files: the loose files are one more run, {name}",
            dir.display(),
            crate::text::count(runs.len(), "run folder", "run folders"),
            loose.files.len()
        ));
    }
    runs.push(loose);
    Ok(runs)
}

/// A SWE-bench/experiments submission folder (`evaluation/<split>/<date>_<name>/`):
/// `all_preds.jsonl` beside `metadata.yaml`, `results/` or `logs/`; `None` otherwise. Its labels
/// are `results/results.json`, else its `logs/`; its `trajs/` files in a format swerm reads
/// (`<iid>.traj`, `<iid>.traj.json`, also one folder down) give the trajectories.
fn submission(dir: &Path, entries: &[PathBuf], name: &str, arg: usize) -> Result<Option<RunInput>> {
    let has = |f: &str| entries.iter().any(|p| file_name(p) == f);
    if !has("all_preds.jsonl") || !(has("metadata.yaml") || has("results") || has("logs")) {
        return Ok(None);
    }
    let mut r = run(name.to_string(), vec![dir.join("all_preds.jsonl")], arg, dir);
    let results = dir.join("results").join("results.json");
    r.labels = if results.is_file() { Some(results) } else { Some(dir.join("logs")).filter(|l| l.is_dir()) };
    let trajs = dir.join("trajs");
    if trajs.is_dir() {
        let mut found = Vec::new();
        let mut other = 0usize;
        for p in list(&trajs)? {
            let inner = if p.is_dir() { list(&p)? } else { vec![p] };
            for f in inner {
                if f.is_file() && Format::from_file_name(&f).is_some() {
                    found.push(f);
                } else {
                    other += 1;
                }
            }
        }
        if other > 0 {
            r.note = Some(format!(
                "{}: {} in other formats (logs, Markdown, other agents' own) not read; those candidates are judged from their patch",
                trajs.display(),
                crate::text::count(other, "file", "files")
            ));
        }
        r.trajs = found;
    }
    Ok(Some(r))
}

/// A directory of runs: each `.jsonl`/`.json` file and each run directory inside.
fn dir_of_runs(dir: &Path, arg: usize) -> Result<Vec<RunInput>> {
    if dir.join("predictions").is_dir() && dir.join("reports").is_dir() {
        let d = dir.display();
        bail!(
            "{d}: holds predictions/ and reports/, runs and their labels: pass them apart, e.g. swerm rerank {d}/predictions/* --labels RUN={d}/reports/FILE ..."
        );
    }
    let mut out = Vec::new();
    for p in list(dir)? {
        if p.is_dir() {
            match run_dir(&p, arg)? {
                Some(runs) => out.extend(runs),
                None => bail!(
                    "{}: not a run directory (expected output.jsonl, <iid>.traj files, <iid>/<iid>.traj or <iid>/<iid>.traj.json folders, AutoCodeRover <iid>_<timestamp>/ folders, all_preds.jsonl or preds.json)",
                    p.display()
                ),
            }
        } else if ["jsonl", "json", "ndjson"].contains(&p.extension().and_then(|e| e.to_str()).unwrap_or("")) {
            out.push(file_run(&p, arg)?);
        }
    }
    if out.is_empty() {
        bail!("{}: no runs found (expected .jsonl/.json files or run directories)", dir.display());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_specs() {
        assert_eq!("a=b/c.jsonl".parse(), Ok(InputSpec { name: Some("a".into()), path: "b/c.jsonl".into() }));
        assert_eq!("b/c.jsonl".parse(), Ok(InputSpec { name: None, path: "b/c.jsonl".into() }));
        assert!("=x".parse::<InputSpec>().is_err() && "a=".parse::<InputSpec>().is_err());
        assert_eq!(
            "x/y=z".parse::<InputSpec>().unwrap_err(),
            "\"x/y=z\": expected PATH or NAME=PATH (NAME without `/`)"
        );
    }

    #[test]
    fn clashing_names_take_their_parent_directory() {
        let d = tempfile::tempdir().unwrap();
        for p in ["exp1/gpt/output.jsonl", "exp2/gpt/output.jsonl", "a/x/r.jsonl", "b/x/r.jsonl"] {
            let f = d.path().join(p);
            fs::create_dir_all(f.parent().unwrap()).unwrap();
            fs::write(&f, "").unwrap();
        }
        let spec = |p: &str| InputSpec { name: None, path: d.path().join(p) };
        let runs = expand_inputs(&[spec("exp1/gpt/output.jsonl"), spec("exp2/gpt/output.jsonl")]).unwrap();
        assert_eq!(runs.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["exp1", "exp2"]);
        // Run directories holding output.jsonl are named after themselves.
        let runs = expand_inputs(&[spec("exp1/gpt"), spec("a/x/r.jsonl")]).unwrap();
        assert_eq!(runs.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["gpt", "r"]);
        let runs = expand_inputs(&[spec("a/x/r.jsonl"), spec("b/x/r.jsonl")]).unwrap();
        assert_eq!(runs.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        // The same file twice is one input given twice (named by NAME=PATH, it may be two runs).
        let e = expand_inputs(&[spec("a/x/r.jsonl"), spec("a/x/r.jsonl")]).unwrap_err().to_string();
        assert!(e.ends_with("a/x/r.jsonl is given twice: give each run once"), "{e}");
        let named = expand_inputs(&[
            InputSpec { name: Some("one".into()), path: d.path().join("a/x/r.jsonl") },
            InputSpec { name: Some("two".into()), path: d.path().join("a/x/r.jsonl") },
        ])
        .unwrap();
        assert_eq!((named[0].name.as_str(), named[1].explicit), ("one", true));
    }
}
