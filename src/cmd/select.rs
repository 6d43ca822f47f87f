//! `swerm select`: predictions.jsonl from a store and the inputs (for the patches).

use super::inputs::load;
use super::stored::read_scores;
use crate::config::{self};
use crate::console::warn;
use crate::outdir::OutDir;
use crate::report::{self, PREDICTIONS};
use crate::score::{ScoreTable, Scored};
use crate::select::select;
use crate::text::count;
use anyhow::{Result, bail};

pub(crate) fn select_cmd(cfg: &config::Select) -> Result<()> {
    let ds = load(&cfg.inputs)?;
    let stored = read_scores(&cfg.scores)?;
    let placed = crate::score::store::place(&stored.lines, &ds.grid);
    let (mut unscored, mut non_empty) = (0, 0);
    let scored: Vec<Scored> = (0..ds.cands.len())
        .map(|idx| {
            let s = placed[idx].and_then(|k| stored.lines[k].score);
            if !ds.cands[idx].is_empty() {
                non_empty += 1;
                unscored += s.is_none() as usize;
            }
            Scored::plain(s)
        })
        .collect();
    if non_empty > 0 && unscored == non_empty {
        bail!(
            "{}: no score for any candidate of the inputs (are the run names the same as when it was scored? runs: {})",
            stored.origin,
            ds.grid.runs.join(", ")
        );
    }
    if unscored > 0 {
        warn(
            None,
            &format!(
                "{} no score in {} (ranked last)",
                count(unscored, "non-empty candidate has", "non-empty candidates have"),
                stored.origin
            ),
        )?;
    }
    // A tie-break chain's order, when the store recorded one for every candidate (as rerank
    // selected by it).
    let tie_rank: Option<Vec<f64>> = placed.iter().map(|k| k.and_then(|k| stored.lines[k].tie_rank)).collect();
    let table = ScoreTable::from_run(&ds, &scored, &crate::score::Produced { tie_rank, ..Default::default() });
    let selected = select(&table);
    let mut out = OutDir::open(&cfg.out)?;
    out.write(PREDICTIONS, report::predictions::render(&ds, &table, &selected, &cfg.name)?.as_bytes())?;
    outln!("{} ({})", out.summary(), count(selected.len(), "prediction", "predictions"));
    Ok(())
}
