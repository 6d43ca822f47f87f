//! The inputs of a subcommand: runs read into a `Dataset` (with the warnings a reader
//! needs), and `--labels` applied to a dataset or to a score table read back.

use crate::config::{self};
use crate::console::{self, caution, warn};
use crate::input::issues::IssueSpec;
use crate::input::labels::{self, LabelTarget};
use crate::input::{self, Dataset};
use crate::progress;
use crate::score::ScoreTable;
use crate::text::count;
use anyhow::{Result, bail};
use std::collections::HashSet;

pub(super) fn load(inputs: &config::Inputs) -> Result<Dataset> {
    let runs = input::expand_inputs(&inputs.specs)?;
    for n in runs.iter().filter_map(|r| r.note.as_deref()) {
        caution(Some("layout"), n);
    }
    let files: usize = runs.iter().map(|r| r.files.len()).sum();
    let pb = progress::bar(files as u64, "reading");
    let mut ds = input::load(&runs, &inputs.load, &|_| pb.inc(1))?;
    pb.finish_and_clear();
    // Decision (--instances names the denominator): records outside it and instances a run
    // has no record for are what a subset means, not something wrong with the inputs: they
    // are counted on one line, and --strict does not refuse them.
    let subset = inputs.load.instances.is_some();
    let mut counted = Vec::new();
    if ds.outside > 0 {
        counted.push(format!("{} outside --instances ignored", count(ds.outside, "record", "records")));
    }
    if ds.grid.instances.is_empty() {
        bail!("no candidates in the inputs");
    }
    for (flaw, n, first) in &ds.flaws {
        warn(Some("flaw"), &format!("{}: {flaw} (the first at {first})", count(*n, "record", "records")))?;
    }
    for (run, path) in &ds.no_records {
        warn(
            Some("no records"),
            &format!(
                "run {run}: {} holds no records: a run with no candidates (every instance missing, unresolved)",
                path.display()
            ),
        )?;
    }
    match &inputs.issues {
        Some(spec) => attach_issues(&mut ds, spec)?,
        None if inputs.prompts => {
            let bare =
                ds.cands.iter().filter(|c| !c.is_empty() && c.format.is_some_and(|f| !f.has_trajectory())).count();
            if bare > 0 {
                caution(
                    None,
                    &format!(
                        "{} no trajectory: the verifier sees the patch without the issue; --dataset princeton-nlp/SWE-bench_Verified (or a parquet/JSONL file of the rows) shows it",
                        count(bare, "candidate has", "candidates have")
                    ),
                );
            }
        }
        None => {}
    }
    for r in 0..ds.grid.n_runs() {
        let present: Vec<&input::Candidate> =
            (0..ds.grid.instances.len()).map(|i| &ds.cands[ds.grid.idx(i, r)]).filter(|c| !c.is_missing()).collect();
        if !present.is_empty() && present.iter().all(|c| c.is_empty()) {
            warn(
                Some("no patch"),
                &format!(
                    "run {}: no record has a patch ({} read): an agent that submitted nothing, or a file read in the wrong format (see --format)?",
                    ds.grid.runs[r],
                    count(present.len(), "record", "records")
                ),
            )?;
        }
    }
    let no_records: HashSet<&str> = ds.no_records.iter().map(|(r, _)| r.as_str()).collect();
    let per_run: Vec<String> = (0..ds.grid.n_runs())
        .filter(|&r| !no_records.contains(ds.grid.runs[r].as_str()))
        .filter_map(|r| {
            let missing = (0..ds.grid.instances.len()).filter(|&i| ds.cands[ds.grid.idx(i, r)].is_missing()).count();
            (missing > 0).then(|| format!("{} lacks {missing}", ds.grid.runs[r]))
        })
        .collect();
    if !per_run.is_empty() {
        let lacking = per_run.len();
        let msg = format!(
            "runs cover different instance sets: {lacking} of {} {} some of the {} ({}); missing = unresolved",
            count(ds.grid.n_runs(), "run", "runs"),
            if lacking == 1 { "lacks" } else { "lack" },
            count(ds.grid.instances.len(), "instance", "instances"),
            crate::text::first_few(&per_run, 2),
        );
        match subset {
            true => counted.push(format!(
                "{} count as unresolved",
                count(ds.missing_count, "missing prediction", "missing predictions")
            )),
            false => warn(None, &msg)?,
        }
    }
    if !counted.is_empty() {
        console::info(&format!("--instances: {}", counted.join("; ")));
    }
    Ok(ds)
}

/// Gives each instance its issue statement from `--dataset`. No instance found there is an
/// error (the wrong dataset or split); some missing is a warning naming them, since their
/// candidates without a trajectory are then judged from the patch alone.
fn attach_issues(ds: &mut Dataset, spec: &IssueSpec) -> Result<()> {
    let want: HashSet<&str> = ds.grid.instances.iter().map(String::as_str).collect();
    let issues = input::issues::load(spec, &want)?;
    let missing: Vec<String> = ds.grid.instances.iter().filter(|i| !issues.by_id.contains_key(*i)).cloned().collect();
    let name = format!("--dataset {} (split {})", spec.dataset, spec.split);
    if missing.len() == ds.grid.instances.len() {
        bail!(
            "{name}: none of the {} is among its {} rows: is it the right dataset and split?",
            count(ds.grid.instances.len(), "instance", "instances"),
            issues.rows
        );
    }
    if !missing.is_empty() {
        warn(
            None,
            &format!(
                "{name}: {} not in it ({}): candidates without a trajectory there are judged from the patch alone",
                count(missing.len(), "instance is", "instances are"),
                crate::text::first_few(&missing, 3)
            ),
        )?;
    }
    ds.issues = ds.grid.instances.iter().map(|i| issues.by_id.get(i).cloned()).collect();
    let mut fields = issues.fields;
    ds.rows = ds.grid.instances.iter().map(|i| fields.remove(i)).collect();
    Ok(())
}

/// Applies `--labels` to the dataset, printing the warnings.
/// `subset`: `--instances` set the instances (ids outside them are counted, not warned about).
pub(super) fn label(ds: &mut Dataset, args: &[String], n_inputs: usize, subset: bool) -> Result<()> {
    let args = args.iter().map(|s| labels::parse_label_arg(s, &ds.grid.runs)).collect::<Result<Vec<_>>>()?;
    let empty: Vec<bool> = ds.cands.iter().map(|c| c.is_empty()).collect();
    let to = LabelTarget {
        grid: &ds.grid,
        run_input: &ds.run_input,
        n_inputs: Some(n_inputs),
        empty: &empty,
        left_out: &ds.outside_ids,
        subset,
    };
    let mut l = ds.labels();
    apply_labels(&to, &mut l, &args)?;
    ds.set_labels(l);
    Ok(())
}

/// Applies parsed `--labels` to a grid's labels, saying the pairing once and printing the
/// warnings.
pub(super) fn apply_labels(to: &LabelTarget, l: &mut [Option<labels::Label>], args: &[labels::LabelArg]) -> Result<()> {
    let pairs = labels::pair(to, args)?;
    if !pairs.is_empty() {
        console::info(&labels::pairing_line(to, &pairs));
    }
    let applied = labels::apply(to, l, &pairs)?;
    for (kind, w) in &applied.warnings {
        warn(Some(kind), w)?;
    }
    if applied.ignored > 0 {
        console::info(&format!(
            "--instances: {} of the reports outside it ignored",
            count(applied.ignored, "resolved id", "resolved ids")
        ));
    }
    Ok(())
}

/// Labels a score table read back from a store: reports pair with its runs by name, or
/// positionally in name order (each run its own input). `left_out`: the store's instances
/// that `--instances` left out of the table (a report naming only those still fits its run).
pub(super) fn label_table(
    t: &mut ScoreTable,
    args: &[String],
    origin: &str,
    left_out: Option<&[String]>,
) -> Result<()> {
    let args = args.iter().map(|s| labels::parse_label_arg(s, &t.grid().runs)).collect::<Result<Vec<_>>>()?;
    let run_input: Vec<usize> = (0..t.grid().n_runs()).collect();
    let to = LabelTarget {
        grid: t.grid(),
        run_input: &run_input,
        n_inputs: None,
        empty: t.empty(),
        left_out: left_out.unwrap_or_default(),
        subset: left_out.is_some(),
    };
    let origin: std::sync::Arc<str> = origin.into();
    let mut l: Vec<Option<labels::Label>> =
        t.label().iter().map(|l| l.map(|resolved| labels::Label { resolved, origin: origin.clone() })).collect();
    apply_labels(&to, &mut l, &args)?;
    t.set_labels(l.into_iter().map(|l| l.map(|l| l.resolved)).collect());
    Ok(())
}
