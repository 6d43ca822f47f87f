//! Labels: SWE-bench harness reports (all four shapes) read into `Report`s, paired with runs
//! (positionally with the inputs, or `RUN=FILE`), and applied to a `Dataset` with
//! contradiction checks.

use crate::grid::Grid;
use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use serde_json::Value;

use super::Dataset;
use super::fields::kind;
use crate::text::count;

/// The labels one harness report gives: ids it names explicitly; every other id is unresolved
/// ("an id absent from a run report's resolved list is unresolved").
#[derive(Debug)]
pub(crate) struct Report {
    pub(crate) path: PathBuf,
    pub(crate) shape: &'static str,
    pub(crate) labels: HashMap<String, bool>,
    /// Every id the report names anywhere (resolved, completed, submitted, applied, ...): the
    /// instances it evaluated, whatever their outcome.
    pub(crate) named: HashSet<String>,
}

impl Report {
    pub(crate) fn resolved(&self, iid: &str) -> bool {
        self.labels.get(iid).copied().unwrap_or(false)
    }
}

/// Reads any of the four report shapes of docs/spec/formats.md, or a folder of harness
/// logs (`logs/run_evaluation/<run_id>[/<model>]`, a submission's `logs/`).
pub(crate) fn read_report(path: &Path) -> Result<Report> {
    if path.is_dir() {
        return harness_logs(path);
    }
    let text = fs::read_to_string(path).with_context(|| format!("{}: cannot read", path.display()))?;
    let v: Value = serde_json::from_str(text.trim_start_matches('\u{feff}'))
        .map_err(|e| anyhow!("{}:{}: invalid JSON: {}", path.display(), e.line(), super::stream::json_error(&e)))?;
    let (shape, labels) = parse_report(&v).map_err(|e| anyhow!("{}: {e}", path.display()))?;
    let mut named = named_ids(&v);
    named.extend(labels.keys().cloned());
    Ok(Report { path: path.to_path_buf(), shape, labels, named })
}

/// Every instance id a report names: the strings of its top-level lists (`resolved`,
/// `completed_ids`, `applied`, `no_generation`, ...) and of the lists one level down
/// (`resolved_per_project`), and the keys of a per-instance report. A report parsed already, so
/// its shape is known good.
fn named_ids(v: &Value) -> HashSet<String> {
    let mut out = HashSet::new();
    let strings = |a: &Vec<Value>, out: &mut HashSet<String>| {
        out.extend(a.iter().filter_map(Value::as_str).map(String::from));
    };
    for x in v.as_object().into_iter().flat_map(|o| o.values()) {
        match x {
            Value::Array(a) => strings(a, &mut out),
            Value::Object(o) => o.values().filter_map(Value::as_array).for_each(|a| strings(a, &mut out)),
            _ => {}
        }
    }
    out
}

/// The labels of a harness logs folder: every per-instance report.json of its model folder.
fn harness_logs(dir: &Path) -> Result<Report> {
    let model = super::harness_logs::model_dir(dir)?;
    let mut labels = HashMap::new();
    for f in super::harness_logs::instance_reports(&model)? {
        let r = read_report(&f)?;
        if r.shape != "per-instance" {
            bail!("{}: expected the harness's per-instance report, found a {} report", f.display(), r.shape);
        }
        labels.extend(r.labels);
    }
    let named = labels.keys().cloned().collect();
    Ok(Report { path: model, shape: "harness logs", labels, named })
}

fn id_list(o: &serde_json::Map<String, Value>, key: &str) -> Result<Vec<String>> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) => a
            .iter()
            .enumerate()
            .map(|(i, v)| match v {
                Value::String(s) => Ok(s.clone()),
                other => bail!("field `{key}[{i}]`: expected an instance id string, found {}", kind(other)),
            })
            .collect(),
        Some(other) => bail!("field `{key}`: expected a list of instance ids, found {}", kind(other)),
    }
}

/// The shape of a value that is a harness report rather than agent output; `None` otherwise.
/// (A `preds.json` keyed by instance id whose entries carry `resolved` is output: its entries
/// hold patches.)
pub(crate) fn report_shape(v: &Value) -> Option<&'static str> {
    let o = v.as_object()?;
    let holds_patches = o.values().any(|x| x.get("model_patch").is_some() || x.get("instance_id").is_some());
    if holds_patches || o.contains_key("instance_id") {
        return None;
    }
    parse_report(v).ok().map(|(shape, _)| shape)
}

/// The labels of a parsed report value (any of the four shapes), and the shape's name.
pub fn parse_report(v: &Value) -> Result<(&'static str, HashMap<String, bool>)> {
    let Some(o) = v.as_object() else {
        bail!("not a SWE-bench harness report: expected a JSON object, found {}", kind(v));
    };
    let mut labels = HashMap::new();
    if o.contains_key("resolved_ids") {
        // harness >= 2 run report (`schema_version: 2`).
        for key in ["unresolved_ids", "empty_patch_ids", "error_ids"] {
            for id in id_list(o, key)? {
                labels.insert(id, false);
            }
        }
        for id in id_list(o, "resolved_ids")? {
            labels.insert(id, true);
        }
        return Ok(("harness-v2", labels));
    }
    if o.get("resolved").is_some_and(Value::is_array) {
        // category-list report.json / results.json, or the 2024 final_report.json.
        let shape = if o.contains_key("stats") || o.contains_key("resolved_per_project") || o.len() == 1 {
            "final_report"
        } else {
            "category-list"
        };
        for id in id_list(o, "resolved")? {
            labels.insert(id, true);
        }
        return Ok((shape, labels));
    }
    if !o.is_empty() && o.values().all(|x| x.get("resolved").is_some()) {
        // per-instance report.json: {"<iid>": {"resolved": bool, ...}}
        for (id, entry) in o {
            let r = match entry.get("resolved") {
                Some(Value::Bool(b)) => *b,
                Some(other) => bail!("field `{id}.resolved`: expected true/false, found {other}"),
                None => unreachable!(),
            };
            labels.insert(id.clone(), r);
        }
        return Ok(("per-instance", labels));
    }
    bail!(
        "not a SWE-bench harness report: expected `resolved_ids` (harness v2), a `resolved` list (report.json, results.json, final_report.json) or per-instance objects with `resolved`"
    )
}

/// A `--labels` argument: a report paired positionally with the inputs, or with a named run.
#[derive(Clone, Debug)]
pub(crate) enum LabelArg {
    Positional(PathBuf),
    Named(String, PathBuf),
}

/// `RUN=FILE` when the text before the first `=` names a known run; otherwise a path.
pub(crate) fn parse_label_arg(s: &str, runs: &[String]) -> Result<LabelArg> {
    if let Some((run, file)) = s.split_once('=')
        && !Path::new(s).exists()
    {
        if !runs.iter().any(|r| r == run) {
            bail!("--labels {s}: no run named {run:?} (runs: {})", runs.join(", "));
        }
        return Ok(LabelArg::Named(run.to_string(), PathBuf::from(file)));
    }
    Ok(LabelArg::Positional(PathBuf::from(s)))
}

/// A candidate's label and where it came from (for contradiction messages).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Label {
    pub(crate) resolved: bool,
    /// Shared by every label of one report (156k of them at RL scale).
    pub(crate) origin: std::sync::Arc<str>,
}

/// The grid that reports label: runs (with the input argument each came from, for positional
/// pairing), instances, and which candidates have no patch. A `Dataset` gives one; so does a
/// score store read back, so `eval` labels its scores without building a dataset.
pub(crate) struct LabelTarget<'a> {
    pub(crate) grid: &'a Grid,
    /// For each run, the index of the input argument it came from (`usize::MAX` when a run
    /// name spans several inputs).
    pub(crate) run_input: &'a [usize],
    /// How many input arguments positional reports pair with; `None` when the grid has no
    /// input order (a score store read back): reports then pair by name only.
    pub(crate) n_inputs: Option<usize>,
    /// Instance-major, like the dataset: whether each candidate has no patch.
    pub(crate) empty: &'a [bool],
    /// Instances the inputs hold beyond the grid's, left out by `--instances`: a report that
    /// names only those still belongs to the run.
    pub(crate) left_out: &'a [String],
    /// `--instances` set the instances: ids of a report outside them are intended to be ignored
    /// (a count, not a warning).
    pub(crate) subset: bool,
}

impl Dataset {
    /// The dataset's labels, instance-major.
    pub(crate) fn labels(&self) -> Vec<Option<Label>> {
        self.cands
            .iter()
            .map(|c| {
                c.resolved.map(|r| Label { resolved: r, origin: c.label_origin.clone().unwrap_or_else(|| "".into()) })
            })
            .collect()
    }

    pub(crate) fn set_labels(&mut self, labels: Vec<Option<Label>>) {
        for (c, l) in self.cands.iter_mut().zip(labels) {
            c.resolved = l.as_ref().map(|l| l.resolved);
            c.label_origin = l.map(|l| l.origin);
        }
    }
}

/// Pairs each report with the run it labels.
///
/// Decision (one rule in every command): `RUN=FILE` pairs by run name; a plain FILE pairs
/// positionally with the runs in the order the user gave them on the command line (one run per
/// input). A command without such an order (`eval`, `calibrate`, `compare` read runs back from a
/// store, where only names are left) takes plain files only when there is exactly one run and
/// one report, and otherwise asks for `RUN=FILE`, rather than guessing from name order.
pub(crate) fn pair(to: &LabelTarget, args: &[LabelArg]) -> Result<Vec<(usize, PathBuf)>> {
    let positional: Vec<&PathBuf> =
        args.iter().filter_map(|a| if let LabelArg::Positional(p) = a { Some(p) } else { None }).collect();
    let mut pairs: Vec<(usize, PathBuf)> = Vec::new();
    let Some(n_inputs) = to.n_inputs else {
        match (positional.as_slice(), to.grid.runs.as_slice()) {
            ([], _) => {}
            ([p], [_]) => pairs.push((0, (*p).clone())),
            ([p, ..], _) => bail!(
                "--labels {}: these scores were read back from a store, which keeps no input order; pair each report with its run by name, --labels RUN=FILE (runs: {})",
                p.display(),
                crate::text::first_few(&to.grid.runs, 6)
            ),
        }
        return named(to, args, pairs);
    };
    if !positional.is_empty() && positional.len() != n_inputs {
        bail!(
            "{} label reports for {} inputs: give one report per input, in the same order, or pair them by name with --labels RUN=FILE",
            positional.len(),
            n_inputs
        );
    }
    for (arg, path) in positional.iter().enumerate() {
        let runs: Vec<usize> = (0..to.grid.runs.len()).filter(|&r| to.run_input[r] == arg).collect();
        match runs.as_slice() {
            [r] => pairs.push((*r, (*path).clone())),
            [] => bail!("--labels {}: input {} holds no run to pair it with; use RUN=FILE", path.display(), arg + 1),
            _ => bail!(
                "--labels {}: input {} holds {} runs ({}); pair reports by name with --labels RUN=FILE",
                path.display(),
                arg + 1,
                runs.len(),
                runs.iter().map(|&r| to.grid.runs[r].as_str()).collect::<Vec<_>>().join(", ")
            ),
        }
    }
    named(to, args, pairs)
}

/// Adds the `RUN=FILE` pairs to `pairs`.
fn named(to: &LabelTarget, args: &[LabelArg], mut pairs: Vec<(usize, PathBuf)>) -> Result<Vec<(usize, PathBuf)>> {
    for a in args {
        if let LabelArg::Named(run, path) = a {
            let r = to.grid.runs.iter().position(|x| x == run).expect("checked by parse_label_arg");
            pairs.push((r, path.clone()));
        }
    }
    Ok(pairs)
}

/// "labels: run-a <- r1.json, run-b <- r2.json", the pairing said once (long lists shortened).
pub(crate) fn pairing_line(to: &LabelTarget, pairs: &[(usize, PathBuf)]) -> String {
    let items: Vec<String> = pairs
        .iter()
        .map(|(r, p)| {
            let file = p.file_name().map_or_else(|| p.display().to_string(), |f| f.to_string_lossy().into_owned());
            format!("{} <- {file}", to.grid.runs[*r])
        })
        .collect();
    format!("labels: {}", crate::text::first_few(&items, 4))
}

/// What applying reports found worth telling.
#[derive(Debug, Default)]
pub(crate) struct Applied {
    /// Warnings worth showing the user, each with its kind (one report gives one of a kind;
    /// several reports several).
    pub(crate) warnings: Vec<(&'static str, String)>,
    /// Resolved ids outside `--instances`, ignored as intended.
    pub(crate) ignored: usize,
}

/// Applies the label arguments to `labels` (the grid's, instance-major), refusing
/// contradictions.
pub(crate) fn apply(to: &LabelTarget, labels: &mut [Option<Label>], pairs: &[(usize, PathBuf)]) -> Result<Applied> {
    let mut out = Applied::default();
    for (r, path) in pairs {
        let report = read_report(path)?;
        apply_report(to, labels, *r, &report, &mut out)?;
    }
    Ok(out)
}

/// One report's labels for run `r`.
fn apply_report(
    to: &LabelTarget,
    labels: &mut [Option<Label>],
    r: usize,
    report: &Report,
    out: &mut Applied,
) -> Result<()> {
    let path = report.path.display();
    let origin: std::sync::Arc<str> = format!("{path} ({})", report.shape).into();
    let known: HashSet<&str> = to.grid.instances.iter().map(String::as_str).collect();
    let names_any = report.named.iter().any(|id| known.contains(id.as_str()))
        || to.left_out.iter().any(|id| report.named.contains(id));
    if !report.named.is_empty() && !names_any {
        bail!(
            "{path}: names {} but none of the {} of run {} (a report of another benchmark split, or paired with the wrong run?)",
            count(report.named.len(), "instance", "instances"),
            count(to.grid.instances.len(), "instance", "instances"),
            to.grid.runs[r]
        );
    }
    let strangers = report.labels.iter().filter(|(id, res)| **res && !known.contains(id.as_str())).count();
    if strangers > 0 {
        let msg = format!(
            "{path}: {} not among the {} (ignored)",
            count(strangers, "resolved id is", "resolved ids are"),
            count(to.grid.instances.len(), "instance", "instances")
        );
        match to.subset {
            true => out.ignored += strangers,
            false => out.warnings.push(("report names other instances", msg)),
        }
    }
    let mut resolved_empty = 0;
    for (i, iid) in to.grid.instances.iter().enumerate() {
        let label = report.resolved(iid);
        let idx = i * to.grid.runs.len() + r;
        if let Some(old) = &labels[idx]
            && old.resolved != label
        {
            bail!(
                "contradicting labels for instance {iid} of run {}: {} says resolved={}, {origin} says resolved={label}",
                to.grid.runs[r],
                old.origin,
                old.resolved
            );
        }
        resolved_empty += (label && to.empty[idx]) as usize;
        labels[idx] = Some(Label { resolved: label, origin: origin.clone() });
    }
    if resolved_empty > 0 {
        out.warnings.push((
            "resolved without a patch",
            format!(
                "{path}: marks {} resolved for which run {} has no patch: is it paired with the right run?",
                count(resolved_empty, "instance", "instances"),
                to.grid.runs[r]
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn four_shapes() {
        let (s, l) = parse_report(&json!({"schema_version":2,"resolved_ids":["a"],"unresolved_ids":["b"]})).unwrap();
        assert_eq!((s, l["a"], l["b"]), ("harness-v2", true, false));
        let (s, l) = parse_report(&json!({"generated":["a","b"],"applied":["a"],"resolved":["a"]})).unwrap();
        assert_eq!((s, l.len(), l["a"]), ("category-list", 1, true));
        let (s, l) = parse_report(&json!({"stats":{},"resolved":["x"],"resolved_per_project":{}})).unwrap();
        assert_eq!((s, l["x"]), ("final_report", true));
        let (s, l) = parse_report(&json!({"a":{"resolved":false,"tests_status":{}},"b":{"resolved":true}})).unwrap();
        assert_eq!((s, l["a"], l["b"]), ("per-instance", false, true));
    }

    #[test]
    fn bad_reports_are_named() {
        let e = parse_report(&json!({"foo": 1})).unwrap_err().to_string();
        assert!(e.starts_with("not a SWE-bench harness report"), "{e}");
        let e = parse_report(&json!({"resolved_ids": [1]})).unwrap_err().to_string();
        assert!(e.contains("field `resolved_ids[0]`"), "{e}");
        let e = parse_report(&json!({"a": {"resolved": "yes"}})).unwrap_err().to_string();
        assert!(e.contains("field `a.resolved`"), "{e}");
    }
}
