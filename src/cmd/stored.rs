//! Score stores read back (`eval`, `select`, `calibrate`, `compare`): the merged lines, the
//! logits, and a calibration applied.

use crate::console::warn;
use crate::outdir::OutDir;
use crate::score::pairwise::store as pairs_store;
use crate::score::store::{self, ScoreLine, Stored};
use crate::score::{ScoreTable, VerifierDetail};
use anyhow::{Result, bail};
use std::path::PathBuf;

/// A store read back and restricted to `--instances`: the store, and the store's instances the
/// list left out (`None` without a list), which a label report may still name.
pub(super) struct Scoped {
    pub(super) stored: Stored,
    pub(super) left_out: Option<Vec<String>>,
}

/// The scores of one store, or of several merged (shards); no score at all is an error. With `--instances`, only the lines of its instances are kept:
/// every number of eval, calibrate and compare is then over those instances. An id of the
/// list the store has no line for is left out with a warning (a store from `rerank
/// --instances` holds a line for every id of its list, holes included).
pub(super) fn read_scoped(paths: &[PathBuf], instances: &crate::config::InstanceList) -> Result<Scoped> {
    let mut stored = read_scores(paths)?;
    let Some((file, ids)) = instances else {
        return Ok(Scoped { stored, left_out: None });
    };
    let want: std::collections::HashSet<&str> = ids.iter().map(String::as_str).collect();
    let mut have: std::collections::BTreeSet<String> = Default::default();
    let mut left_out: std::collections::BTreeSet<String> = Default::default();
    for l in &stored.lines {
        match want.contains(l.instance_id.as_str()) {
            true => have.insert(l.instance_id.clone()),
            false => left_out.insert(l.instance_id.clone()),
        };
    }
    if have.is_empty() {
        bail!("{}: none of its {} ids has a line in {}", file.display(), ids.len(), stored.origin);
    }
    stored.lines.retain(|l| want.contains(l.instance_id.as_str()));
    let absent: Vec<String> = ids.iter().filter(|i| !have.contains(*i)).cloned().collect();
    if !absent.is_empty() {
        warn(
            None,
            &format!(
                "{}: {} no line in {} ({}): left out",
                file.display(),
                crate::text::count(absent.len(), "instance has", "instances have"),
                stored.origin,
                crate::text::first_few(&absent, 3)
            ),
        )?;
    }
    Ok(Scoped { stored, left_out: Some(left_out.into_iter().collect()) })
}

/// The scores of one store, or of several merged (shards); no score at all is an error.
pub(super) fn read_scores(paths: &[PathBuf]) -> Result<Stored> {
    for p in paths {
        let dir = if p.is_dir() { Some(p.as_path()) } else { p.parent().filter(|_| p.ends_with(store::SCORES)) };
        if let Some(holder) = dir.and_then(OutDir::held_by_another) {
            let who = if holder.is_empty() { String::new() } else { format!(" (process {holder})") };
            bail!(
                "{}: another swerm{who} is still writing these scores; wait for it to finish (its numbers would be partial)",
                dir.expect("a directory").display()
            );
        }
    }
    let stored = store::read_many(paths)?;
    if stored.lines.is_empty() {
        bail!("{}: no scores", stored.origin);
    }
    Ok(stored)
}

/// The table of a store read back; a pairwise judge's also gets its comparisons (the
/// pairs.jsonl beside each store, merged) for best@k.
pub(super) fn table_of(stored: &Stored, paths: &[PathBuf]) -> Result<ScoreTable> {
    if matches!(&stored.scorer, Some(crate::score::ScorerSettings::Verifier(v)) if v.pairwise.is_some()) {
        let files: Vec<PathBuf> = paths.iter().map(|p| pairs_store::beside(p)).collect();
        let t = ScoreTable::from_lines(&stored.lines);
        let orders = pairs_store::read_orders(&files, t.grid())?;
        return Ok(t.with_contests(orders));
    }
    Ok(ScoreTable::from_lines(&stored.lines))
}

/// Each candidate's stored verifier record, in the table's grid order (`None`: no line).
pub(super) fn line_details<'a>(t: &ScoreTable, lines: &'a [ScoreLine]) -> Vec<Option<&'a VerifierDetail>> {
    lines_in_grid(t, lines).into_iter().map(|l| l.map(|l| &l.detail)).collect()
}

/// The store line of each cell of `t` (`None` for a hole the store has no line for).
fn lines_in_grid<'a>(t: &ScoreTable, lines: &'a [ScoreLine]) -> Vec<Option<&'a ScoreLine>> {
    store::place(lines, t.grid()).into_iter().map(|k| k.map(|k| &lines[k])).collect()
}
