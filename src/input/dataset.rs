//! Input paths -> runs -> `Dataset`: every instance gets exactly one candidate per run (a run
//! without a record for an instance contributes an empty, unresolved "hole").

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use super::formats;
use super::layout::RunInput;
use super::record::{self, Format, Record};
use super::stream::{self, Layout};
use crate::loc::{Pos, Source};

/// One candidate: a run's attempt at an instance.
#[derive(Clone, Debug, Default)]
pub struct Candidate {
    /// The patch exactly as the record gave it; `None` for a hole or a `null`/missing patch.
    pub patch: Option<String>,
    /// The label, once embedded labels and reports are applied.
    pub resolved: Option<bool>,
    /// Where the label came from, for contradiction messages.
    pub label_origin: Option<String>,
    pub field_score: Option<f64>,
    /// The record, for re-reading its trajectory; `None` for a hole.
    pub source: Option<Source>,
    pub format: Option<Format>,
}

impl Candidate {
    /// A hole, a `null`/missing patch, or a patch of whitespace only.
    pub fn is_empty(&self) -> bool {
        self.patch.as_deref().is_none_or(|p| p.trim().is_empty())
    }
    pub fn is_hole(&self) -> bool {
        self.source.is_none()
    }
}

/// The candidate grid. Instances are sorted by id, runs by name (that order breaks selection
/// ties), whatever the order of the inputs.
#[derive(Debug, Default)]
pub struct Dataset {
    pub runs: Vec<String>,
    pub instances: Vec<String>,
    /// `instances.len() * runs.len()` candidates, instance-major: `cands[i * runs.len() + r]`.
    pub cands: Vec<Candidate>,
    /// For each run, the index of the input argument it came from.
    pub run_input: Vec<usize>,
    /// Candidates that no record provided.
    pub holes: usize,
    /// Records dropped because their instance is not in `--instances`.
    pub outside: usize,
    /// Each instance's issue statement from `--dataset` (empty without one).
    pub issues: Vec<Option<String>>,
}

impl Dataset {
    pub fn n_runs(&self) -> usize {
        self.runs.len()
    }
    pub fn idx(&self, instance: usize, run: usize) -> usize {
        instance * self.runs.len() + run
    }
    pub fn instance(&self, i: usize) -> &[Candidate] {
        let r = self.runs.len();
        &self.cands[i * r..(i + 1) * r]
    }
    /// Instance `i`'s issue statement from `--dataset`, if one was read and has it.
    pub fn issue(&self, i: usize) -> Option<&str> {
        self.issues.get(i).and_then(Option::as_deref)
    }
    /// (instance index, run index) of a flat candidate index.
    pub fn coords(&self, idx: usize) -> (usize, usize) {
        (idx / self.runs.len(), idx % self.runs.len())
    }
}

#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// Force a format instead of detecting it per file.
    pub format: Option<Format>,
    /// Keep this (dotted) field of each record as its precomputed score.
    pub score_field: Option<String>,
    /// The instance set (`--instances`) and the file it came from; `None` = the union over runs.
    pub instances: Option<(PathBuf, Vec<String>)>,
}

/// The records read so far, by run.
#[derive(Default)]
struct Loader {
    runs: Vec<String>,
    run_input: Vec<usize>,
    run_ix: HashMap<String, usize>,
    records: Vec<(usize, Record, Format)>,
    seen: HashMap<(String, usize), Source>,
}

impl Loader {
    fn add(&mut self, input: &RunInput, rec: Record, f: Format) -> Result<()> {
        let run_name = match (&rec.run, input.explicit) {
            (Some(r), false) => r.clone(),
            _ => input.name.clone(),
        };
        let r = *self.run_ix.entry(run_name.clone()).or_insert_with(|| {
            self.runs.push(run_name.clone());
            self.run_input.push(input.arg);
            self.runs.len() - 1
        });
        if self.run_input[r] != input.arg {
            // Same run name from two command-line inputs: keep one pairing rule.
            self.run_input[r] = usize::MAX;
        }
        let key = (rec.instance_id.clone(), r);
        if let Some(first) = self.seen.get(&key) {
            bail!(
                "{}: duplicate candidate: instance {} of run {run_name} was already given at {first}",
                rec.source,
                rec.instance_id
            );
        }
        self.seen.insert(key, rec.source.clone());
        self.records.push((r, rec, f));
        Ok(())
    }

    /// Reads one file of `input`. The format is forced, given by the file name (`.traj`,
    /// `.traj.json`), or detected from the first record.
    fn read_file(&mut self, input: &RunInput, file: &Path, opts: &LoadOptions) -> Result<()> {
        if file.is_dir() {
            // An AutoCodeRover instance folder (the only folder a run's layout hands over).
            return self.add(input, super::formats::acr::record(file)?, Format::AutoCodeRover);
        }
        let layout = stream::sniff_layout(file)?;
        let mut format = opts.format.or_else(|| Format::from_file_name(file));
        if layout == Layout::Array && format == Some(Format::MiniSweAgent) {
            // mini-swe-agent before `trajectory_format` 1: a bare list of messages.
            let rec = formats::mini::bare_list_record(file)?;
            return self.add(input, rec, Format::MiniSweAgent);
        }
        let (mut n, mut with_patch) = (0usize, 0usize);
        stream::for_each_record(file, layout, &mut |src: Source, v: Value| -> Result<()> {
            if n == 0 {
                not_runs(&src, &v)?;
            }
            for (src, v) in split_keyed(src, v) {
                let f = match format {
                    Some(f) => f,
                    None => *format.insert(Format::detect(&v).with_context(|| {
                        format!("{src}: cannot tell the format of this record (no `instance_id`, `messages`, `history` or `trajectory`); use --format")
                    })?),
                };
                let rec = record::extract(&v, f, &src, opts.score_field.as_deref())?;
                n += 1;
                with_patch += rec.patch.as_deref().is_some_and(|p| !p.trim().is_empty()) as usize;
                self.add(input, rec, f)?;
            }
            Ok(())
        })?;
        if let Some(f) = opts.format
            && n > 0
            && with_patch == 0
        {
            bail!(
                "{}: none of its {n} records has a patch under --format {}: is that the right format?",
                file.display(),
                f.name()
            );
        }
        Ok(())
    }
}

/// Reads every record of every input and builds the grid. `on_file` is called before each file.
pub fn load(inputs: &[RunInput], opts: &LoadOptions, on_file: &mut dyn FnMut(&Path)) -> Result<Dataset> {
    let mut l = Loader::default();
    for input in inputs {
        let start = l.records.len();
        for file in &input.files {
            on_file(file);
            l.read_file(input, file, opts)?;
        }
        super::run_files::apply(input, &mut l.records[start..])?;
    }
    build(l.runs, l.run_input, l.records, opts)
}

/// Refuses the first value of a file that is not agent output: a harness report, or a bare list
/// of chat messages without an instance id.
fn not_runs(src: &Source, v: &Value) -> Result<()> {
    if src.pos == Pos::File
        && let Some(shape) = super::labels::report_shape(v)
    {
        bail!("{}: a SWE-bench harness report ({shape}), not agent runs: pass it with --labels", src.path.display());
    }
    let chat = |m: &Value| m.get("role").is_some() && m.get("content").is_some() && m.get("instance_id").is_none();
    if src.pos == Pos::Element(1) && chat(v) {
        bail!(
            "{}: a bare list of chat messages (a mini-swe-agent trajectory before trajectory_format 1) says no instance id: name the file <instance_id>.traj.json",
            src.path.display()
        );
    }
    Ok(())
}

/// A top-level object keyed by instance id (`{"<iid>": {...}, ...}`, the old SWE-bench
/// predictions layout) is split into one record per key; any other value is one record.
fn split_keyed(src: Source, v: Value) -> Vec<(Source, Value)> {
    let keyed = src.pos == Pos::File
        && Format::detect(&v).is_none()
        && v.as_object().is_some_and(|o| !o.is_empty() && o.values().all(Value::is_object));
    if !keyed {
        return vec![(src, v)];
    }
    let Value::Object(map) = v else { unreachable!() };
    map.into_iter()
        .map(|(k, mut rec)| {
            if let Some(o) = rec.as_object_mut() {
                o.entry("instance_id").or_insert_with(|| Value::String(k.clone()));
            }
            (Source { path: src.path.clone(), pos: Pos::Key(k) }, rec)
        })
        .collect()
}

fn build(
    runs: Vec<String>,
    run_input: Vec<usize>,
    mut records: Vec<(usize, Record, Format)>,
    opts: &LoadOptions,
) -> Result<Dataset> {
    let (order, new_index) = name_order(&runs);
    let run_input: Vec<usize> = order.iter().map(|&o| run_input[o]).collect();
    let runs: Vec<String> = order.iter().map(|&o| runs[o].clone()).collect();
    for (r, _, _) in records.iter_mut() {
        *r = new_index[*r];
    }
    let mut instances: Vec<String> = match &opts.instances {
        Some((_, ids)) => ids.clone(),
        None => records.iter().map(|(_, r, _)| r.instance_id.clone()).collect(),
    };
    instances.sort();
    instances.dedup();
    let ix: HashMap<&str, usize> = instances.iter().enumerate().map(|(i, s)| (s.as_str(), i)).collect();
    let n_runs = runs.len();
    let records_empty = records.is_empty();
    let mut cands = vec![Candidate::default(); instances.len() * n_runs];
    let mut outside = 0;
    let mut filled = 0;
    for (r, rec, format) in records {
        let Some(&i) = ix.get(rec.instance_id.as_str()) else {
            outside += 1;
            continue;
        };
        filled += 1;
        let label_origin = rec.resolved.map(|_| rec.label_from.clone().unwrap_or_else(|| rec.source.to_string()));
        cands[i * n_runs + r] = Candidate {
            patch: rec.patch,
            resolved: rec.resolved,
            label_origin,
            field_score: rec.field_score,
            source: Some(rec.source),
            format: Some(format),
        };
    }
    if let Some((path, ids)) = &opts.instances
        && filled == 0
        && !records_empty
    {
        bail!(
            "{}: none of its {} instance ids has a record in the inputs (is it the right split?)",
            path.display(),
            ids.len()
        );
    }
    let holes = cands.len() - filled;
    Ok(Dataset { runs, instances, cands, run_input, holes, outside, issues: Vec::new() })
}

/// The canonical run order, by name: outputs and selection ties then do not depend on the order
/// in which inputs were listed (with shell globs the two orders are the same anyway). Returns
/// the old indices in the new order, and each old index's new position.
pub fn name_order(runs: &[String]) -> (Vec<usize>, Vec<usize>) {
    let mut order: Vec<usize> = (0..runs.len()).collect();
    order.sort_by(|&a, &b| runs[a].cmp(&runs[b]));
    let mut new_index = vec![0; runs.len()];
    for (new, &old) in order.iter().enumerate() {
        new_index[old] = new;
    }
    (order, new_index)
}

/// Reads an `--instances` file: one id per line; blank lines and `#` comments are skipped.
pub fn read_instance_list(path: &Path) -> Result<Vec<String>> {
    let text = fs::read_to_string(path).with_context(|| format!("{}: cannot read", path.display()))?;
    let first = text.trim_start_matches('\u{feff}').trim_start();
    if first.starts_with('[') || first.starts_with('{') {
        bail!(
            "{}: looks like JSON; --instances takes one instance id per line (from a JSON list: jq -r '.[]' FILE > ids.txt)",
            path.display()
        );
    }
    let ids: Vec<String> = text
        .trim_start_matches('\u{feff}')
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect();
    if ids.is_empty() {
        bail!("{}: no instance ids", path.display());
    }
    if ["instance_id", "instance_ids", "instance", "id", "ids"].contains(&ids[0].to_ascii_lowercase().as_str()) {
        bail!(
            "{}: the first line, {:?}, looks like a column header; --instances takes one instance id per line, no header",
            path.display(),
            ids[0]
        );
    }
    Ok(ids)
}
