//! Input paths -> runs -> `Dataset`: every instance gets exactly one candidate per run (a run
//! without a record for an instance contributes an empty, unresolved "hole").

use crate::grid::Grid;
use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail};

use super::formats::Format;
use super::read::{self, LoadOptions, Sealed};
use super::run_input::RunInput;
use crate::loc::Loc;
use crate::patch::PatchKeys;

/// The hasher of the maps every record passes through (instance ids are not adversarial input
/// to defend against; SipHash was a visible share of a large rerank).
type FastHash = foldhash::fast::RandomState;

/// One candidate: a run's attempt at an instance.
#[derive(Clone, Debug, Default)]
pub struct Candidate {
    /// The patch exactly as the record gave it; `None` for a hole, a `null`/missing patch, or a
    /// text dropped after reading (`LoadOptions::drop_patches`; [`Dataset::patch`] reads it
    /// again).
    pub(crate) patch: Option<String>,
    /// The patch's content and bytes keys, computed once when it was read.
    pub(crate) keys: PatchKeys,
    /// The record has a patch that is not blank (false for a hole).
    pub(crate) filled: bool,
    /// The label, once embedded labels and reports are applied.
    pub(crate) resolved: Option<bool>,
    /// Where the label came from, for contradiction messages.
    pub(crate) label_origin: Option<std::sync::Arc<str>>,
    pub(crate) field_score: Option<f64>,
    /// The record, for re-reading its trajectory; `None` for a hole.
    pub(crate) source: Option<Loc>,
    pub(crate) format: Option<Format>,
}

impl Candidate {
    /// A candidate holding `patch` (keys computed, text kept), from no file: for tests.
    #[cfg(test)]
    pub(crate) fn of_patch(patch: Option<&str>) -> Candidate {
        let (keys, filled) = crate::patch::summarize(patch);
        Candidate { patch: patch.map(String::from), keys, filled, ..Default::default() }
    }
    /// A hole, a `null`/missing patch, or a patch of whitespace only.
    pub(crate) fn is_empty(&self) -> bool {
        !self.filled
    }
    pub(crate) fn is_missing(&self) -> bool {
        self.source.is_none()
    }
}

/// The candidate grid. Instances are sorted by id, runs by name (that order breaks selection
/// ties), whatever the order of the inputs.
#[derive(Debug, Default)]
pub struct Dataset {
    pub(crate) grid: Grid,
    /// One candidate per cell of the grid (instance-major).
    pub(crate) cands: Vec<Candidate>,
    /// For each run, the index of the input argument it came from.
    pub(crate) run_input: Vec<usize>,
    /// For each run, its place in the order the user gave the inputs (and, within one input,
    /// the order its runs were read in): what `--tie-break run` follows. Runs themselves are
    /// sorted by name.
    pub(crate) run_order: Vec<usize>,
    /// The runs whose input held no record at all (an empty file), with that input's path:
    /// runs with no candidates, kept in N.
    pub(crate) no_records: Vec<(String, std::path::PathBuf)>,
    /// Candidates that no record provided.
    pub(crate) missing_count: usize,
    /// Records dropped because their instance is not in `--instances`.
    pub(crate) outside: usize,
    /// The distinct instance ids of those records.
    pub(crate) outside_ids: Vec<String>,
    /// Records with a flaw they survive (`Record::flaw`): each flaw, how many, the first's place.
    pub(crate) flaws: Vec<(&'static str, usize, String)>,
    /// Each instance's issue statement from `--dataset` (empty without one).
    pub(crate) issues: Vec<Option<String>>,
    /// Each instance's whole row from `--dataset` (a template's `dataset`; the leakage gate's
    /// gold fields); empty without one.
    pub(crate) rows: Vec<Option<super::issues::Row>>,
}

impl Dataset {
    pub(crate) fn instance(&self, i: usize) -> &[Candidate] {
        &self.cands[self.grid.range(i)]
    }
    /// Instance `i`'s issue statement from `--dataset`, if one was read and has it.
    pub(crate) fn issue(&self, i: usize) -> Option<&str> {
        self.issues.get(i).and_then(Option::as_deref)
    }
    /// Instance `i`'s row from `--dataset`, if one was read and has it.
    pub(crate) fn row(&self, i: usize) -> Option<&super::issues::Row> {
        self.rows.get(i).and_then(Option::as_ref)
    }
    /// Candidate `idx`'s patch exactly as its record gave it (`""` for none), read again from
    /// its line when the text was dropped after reading.
    pub(crate) fn patch(&self, idx: usize) -> Result<std::borrow::Cow<'_, str>> {
        use std::borrow::Cow;
        let c = &self.cands[idx];
        match (&c.patch, &c.source, c.format) {
            (Some(p), _, _) => Ok(Cow::Borrowed(p)),
            (None, Some(src), Some(format)) if c.filled => {
                Ok(Cow::Owned(super::reread::patch_at(src, format, c.keys)?))
            }
            _ => Ok(Cow::Borrowed("")),
        }
    }
}

/// The records read so far, by run.
#[derive(Default)]
struct Loader {
    runs: Vec<String>,
    run_input: Vec<usize>,
    run_ix: HashMap<String, usize, FastHash>,
    /// Each input's records as read (not moved into one vector: at RL scale that was tens of
    /// megabytes copied into fresh pages, serially), with the run index of each.
    batches: Vec<Batch>,
    /// (instance, run) -> where its record is: (batch, index in the batch).
    seen: HashMap<(String, usize), (usize, usize), FastHash>,
}

/// One input's records, and the run index of each.
struct Batch {
    runs: Vec<usize>,
    records: Vec<Sealed>,
}

impl Loader {
    /// The index of run `name` of `input`, registered on first sight (in input order).
    fn run(&mut self, name: &str, input: &RunInput) -> usize {
        let r = match self.run_ix.get(name) {
            Some(&r) => r,
            None => {
                self.runs.push(name.to_string());
                self.run_input.push(input.arg);
                self.run_ix.insert(name.to_string(), self.runs.len() - 1);
                self.runs.len() - 1
            }
        };
        if self.run_input[r] != input.arg {
            // Same run name from two command-line inputs: keep one pairing rule.
            self.run_input[r] = usize::MAX;
        }
        r
    }

    /// Registers one input's records (in order; the first duplicate candidate is the error).
    fn add(&mut self, input: &RunInput, records: Vec<Sealed>) -> Result<()> {
        let b = self.batches.len();
        let mut runs = Vec::with_capacity(records.len());
        for (k, sealed) in records.iter().enumerate() {
            let rec = &sealed.rec;
            let run_name = match (&rec.run, input.explicit) {
                (Some(r), false) => r,
                _ => &input.name,
            };
            let r = self.run(run_name, input);
            let key = (rec.instance_id.clone(), r);
            if let Some(&(fb, fk)) = self.seen.get(&key) {
                let first = if fb == b { &records[fk] } else { &self.batches[fb].records[fk] };
                bail!(
                    "{}: duplicate candidate: instance {} of run {run_name} was already given at {}",
                    rec.source,
                    rec.instance_id,
                    first.rec.source
                );
            }
            self.seen.insert(key, (b, k));
            runs.push(r);
        }
        self.batches.push(Batch { runs, records });
        Ok(())
    }
}

/// Reads every record of every input and builds the grid. The files are parsed in parallel
/// (`on_file` is called from the reading threads as each file is read, for a progress bar);
/// records are taken in input and file order, so the first error in that order is the one
/// reported.
pub fn load(inputs: &[RunInput], opts: &LoadOptions, on_file: &(dyn Fn(&Path) + Sync)) -> Result<Dataset> {
    use rayon::prelude::*;
    let read: Vec<Result<Vec<Sealed>>> = inputs.par_iter().map(|input| read_input(input, opts, on_file)).collect();
    let mut l = Loader::default();
    l.seen.reserve(read.iter().map(|r| r.as_ref().map_or(0, Vec::len)).sum());
    let mut no_records = Vec::new();
    for (input, records) in inputs.iter().zip(read) {
        let records = records?;
        if records.is_empty() {
            // Decision (nothing read is dropped in silence): an input with no record is a run
            // with no candidates, every instance missing (unresolved), kept in N; the caller
            // warns, naming it.
            l.run(&input.name, input);
            no_records.push((input.name.clone(), input.origin.clone()));
        }
        l.add(input, records)?;
    }
    let mut ds = build(l.runs, l.run_input, l.batches, opts)?;
    ds.no_records = no_records;
    Ok(ds)
}

/// Every file of one input read, in order, with the run's extras applied (`run_files`), and
/// the patch texts the options say to drop dropped.
fn read_input(input: &RunInput, opts: &LoadOptions, on_file: &(dyn Fn(&Path) + Sync)) -> Result<Vec<Sealed>> {
    let mut records = read::read_files(input, opts, on_file)?;
    super::run_files::apply(input, &mut records)?;
    if opts.drop_patches {
        records.iter_mut().for_each(Sealed::drop_text);
    }
    Ok(records)
}

fn build(runs: Vec<String>, run_input: Vec<usize>, mut batches: Vec<Batch>, opts: &LoadOptions) -> Result<Dataset> {
    use rayon::prelude::*;
    let (order, new_index) = name_order(&runs);
    let run_input: Vec<usize> = order.iter().map(|&o| run_input[o]).collect();
    // Runs were registered in input order: a run's old index is its place in that order.
    let run_order = order.clone();
    let runs: Vec<String> = order.iter().map(|&o| runs[o].clone()).collect();
    for r in batches.iter_mut().flat_map(|b| b.runs.iter_mut()) {
        *r = new_index[*r];
    }
    let records = || batches.iter().flat_map(|b| &b.records);
    let mut instances: Vec<String> = match &opts.instances {
        Some((_, ids)) => ids.clone(),
        None => {
            // Distinct ids first (there are N records per id), then sorted.
            let distinct: HashSet<&str, FastHash> = records().map(|s| s.rec.instance_id.as_str()).collect();
            distinct.into_iter().map(String::from).collect()
        }
    };
    instances.sort();
    instances.dedup();
    let ix: HashMap<&str, usize, FastHash> = instances.iter().enumerate().map(|(i, s)| (s.as_str(), i)).collect();
    let n_runs = runs.len();
    let records_empty = records().next().is_none();
    // Each input's records made candidates in parallel (the lookups, and the frees of what a
    // record holds beyond them), then put in their cells in input order: serially, one cell
    // after the other, the 156k records at RL scale took 0.05 s.
    let placed: Vec<Placed> = batches
        .into_par_iter()
        .map(|b| {
            let mut p = Placed::default();
            for (r, Sealed { rec, format, keys, filled: has_patch, .. }) in b.runs.into_iter().zip(b.records) {
                if let Some(f) = rec.flaw {
                    count_flaw(&mut p.flaws, f, 1, || rec.source.to_string());
                }
                let Some(&i) = ix.get(rec.instance_id.as_str()) else {
                    p.outside.push(rec.instance_id);
                    continue;
                };
                let label_origin =
                    rec.resolved.map(|_| rec.label_from.clone().unwrap_or_else(|| rec.source.to_string()).into());
                let c = Candidate {
                    patch: rec.patch,
                    keys,
                    filled: has_patch,
                    resolved: rec.resolved,
                    label_origin,
                    field_score: rec.field_score,
                    source: Some(rec.source),
                    format: Some(format),
                };
                p.cells.push((i * n_runs + r, c));
            }
            p
        })
        .collect();
    let mut cands = vec![Candidate::default(); instances.len() * n_runs];
    let mut outside = 0;
    let mut outside_ids: HashSet<String, FastHash> = HashSet::default();
    let mut flaws: Vec<(&'static str, usize, String)> = Vec::new();
    let mut filled = 0;
    for p in placed {
        for (f, n, first) in p.flaws {
            count_flaw(&mut flaws, f, n, || first);
        }
        outside += p.outside.len();
        outside_ids.extend(p.outside);
        filled += p.cells.len();
        for (cell, c) in p.cells {
            cands[cell] = c;
        }
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
    let missing_count = cands.len() - filled;
    let mut outside_ids: Vec<String> = outside_ids.into_iter().collect();
    outside_ids.sort();
    Ok(Dataset {
        grid: Grid::new(instances, runs),
        cands,
        run_input,
        run_order,
        no_records: Vec::new(),
        missing_count,
        outside,
        outside_ids,
        flaws,
        issues: Vec::new(),
        rows: Vec::new(),
    })
}

/// One input's records as candidates in their cells (`build`), with what did not fit: the
/// ids outside the instance set and the flaws, each kind with its count and first source.
#[derive(Default)]
struct Placed {
    cells: Vec<(usize, Candidate)>,
    outside: Vec<String>,
    flaws: Vec<(&'static str, usize, String)>,
}

/// Counts `n` records with flaw `f`; a kind seen first keeps `first()`, where it was seen.
fn count_flaw(
    flaws: &mut Vec<(&'static str, usize, String)>,
    f: &'static str,
    n: usize,
    first: impl FnOnce() -> String,
) {
    match flaws.iter_mut().find(|(g, ..)| *g == f) {
        Some((_, m, _)) => *m += n,
        None => flaws.push((f, n, first())),
    }
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
