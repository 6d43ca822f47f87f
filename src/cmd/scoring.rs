//! Scoring through the score store: the scorer built and checked against the store before
//! any weight is read, every score appended as it arrives, the store lines, the summaries.

use crate::config::ScorerChoice;
use crate::console::caution;
use crate::input::Dataset;
use crate::outdir::OutDir;
use crate::progress;
use crate::score::combine::Combined;
use crate::score::generative::Generative;
use crate::score::pairwise::{Cost, Pairwise};
use crate::score::shard::Shard;
use crate::score::store::{self, ScoreLine, ScoreStore, Want};
use crate::score::{
    self, Produced, Remote, ScoreTable, Scored, Scorer, ScorerSettings, SideStores, Verifier, VerifierCounts,
};
use crate::text::count;
use anyhow::{Result, bail};
use std::time::Instant;

/// A scorer ready to run and its locked output directory. The settings are checked against the
/// store in `out` before any weight is read; an existing `out` is locked before the model
/// loads (a second swerm is refused at once), a new one is only created after it loaded.
pub(super) fn build_scorer(
    choice: &ScorerChoice,
    shard: Option<Shard>,
    out: &std::path::Path,
    overwrite: bool,
) -> Result<(Box<dyn Scorer>, OutDir)> {
    crate::outdir::refuse_file(out)?;
    let early = OutDir::open_if_exists(out)?;
    let want = |scorer| Want { scorer, shard };
    let scorer: Box<dyn Scorer> = match choice {
        ScorerChoice::ModelFree(m) => {
            store::check(out, want(&ScorerSettings::from(m)), overwrite)?;
            score::model_free(m)
        }
        ScorerChoice::Verifier(v, run) => {
            let v = v.with_checkpoint_answers()?;
            let (device, dtype) = run.resolve()?;
            let settings = v.local_identity(dtype)?;
            store::check(out, want(&settings), overwrite)?;
            if v.generation.is_some() {
                Box::new(Generative::load(&v, run, &device, dtype, settings)?)
            } else {
                let verifier = Verifier::load(&v, run, &device, dtype, settings.clone())?;
                match v.prompt.pairwise {
                    Some(p) => Box::new(Pairwise::new(Box::new(verifier), settings, p.pivots)),
                    None => Box::new(verifier),
                }
            }
        }
        ScorerChoice::Combined(c) => {
            let s = Combined::new(c)?;
            store::check(out, want(&s.settings()), overwrite)?;
            Box::new(s)
        }
        ScorerChoice::Remote(v, e) if v.generation.is_some() => {
            let g = Generative::served(&v.with_checkpoint_answers()?, e)?;
            store::check(out, want(&g.settings()), overwrite)?;
            Box::new(g)
        }
        ScorerChoice::Remote(v, e) => {
            let r = Remote::connect(&v.with_checkpoint_answers()?, e)?;
            let r_settings = r.settings();
            store::check(out, want(&r_settings), overwrite)?;
            crate::console::info(&r.describe());
            match v.prompt.pairwise {
                Some(p) => Box::new(Pairwise::new(Box::new(r), r_settings, p.pivots)),
                None => Box::new(r),
            }
        }
    };
    let dir = match early {
        Some(d) => d,
        None => OutDir::open(out)?,
    };
    Ok((scorer, dir))
}

/// Scores of this run: every candidate's (of the shard's, `None` elsewhere), and which were
/// scored now (not reused).
pub(super) struct ScoreRun {
    pub(super) scored: Vec<Option<Scored>>,
    pub(super) fresh: Vec<usize>,
    pub(super) secs: f64,
    /// What the scorer produced beyond the scores (a tie order, a pairwise judge's contests).
    pub(super) produced: Produced,
}

/// Scores the candidates `mine` (all, or a shard's) through the store in `out`: a resumable
/// scorer reuses what is there; every finished candidate is appended as it arrives. `scored`
/// holds `mine`'s scores in the end, `None` elsewhere.
pub(super) fn score_stored(
    scorer: &mut dyn Scorer,
    ds: &Dataset,
    out: &mut OutDir,
    (shard, mine): (Option<Shard>, &[usize]),
    overwrite: bool,
) -> Result<(ScoreStore, ScoreRun)> {
    let want = Want { scorer: &scorer.settings(), shard };
    let mut st = ScoreStore::open(out, want, overwrite)?;
    if st.discarded > 0 {
        crate::console::say(&format!(
            "--overwrite: discarded {} stored in {}",
            count(st.discarded, "score", "scores"),
            out.file(store::SCORES).display()
        ));
    }
    if st.upgraded {
        caution(
            None,
            &format!(
                "{}: written before swerm identified a checkpoint and a dataset by their content (not their path): its scores are reused, and the header now records the digests",
                out.file(store::SETTINGS).display()
            ),
        );
    }
    let mut scored: Vec<Option<Scored>> = vec![None; ds.cands.len()];
    if scorer.resumable() {
        for &idx in mine {
            let (i, r) = ds.grid.coords(idx);
            scored[idx] = st.stored(&ds.grid.instances[i], &ds.grid.runs[r])?;
        }
    }
    let todo: Vec<usize> = mine.iter().copied().filter(|&i| scored[i].is_none()).collect();
    if todo.len() < mine.len() {
        crate::console::say(&format!("resuming: {} already scored, {} to go", mine.len() - todo.len(), todo.len()));
    }
    crate::interrupt::watch(out.file(store::SCORES), st.reused);
    // The stores the scorer keeps beside scores.jsonl (a pairwise judge's pairs.jsonl, its
    // expensive part, watched by Ctrl-C instead).
    let mut side = SideStores::open(out, &scorer.settings(), st.afresh)?;
    let pb = progress::bar(todo.len() as u64, "scoring");
    let started = Instant::now();
    let mut tokens = 0u64;
    // A scorer that does not resume (consensus, fields, --combine: its scores cost nothing
    // and depend on the whole grid) never reads a stored line back, so its lines are written
    // once, by the final rewrite, not appended and synced one by one.
    let append = scorer.resumable();
    let mut produced = scorer.score(ds, &todo, &mut side, &mut |idx, s| {
        if append {
            st.append(&line(ds, None, idx, &s))?;
        }
        tokens += s.detail().n_tokens.unwrap_or(0) as u64;
        scored[idx] = Some(s);
        pb.inc(1);
        if tokens > 0 {
            let secs = started.elapsed().as_secs_f64().max(1e-9);
            pb.set_message(format!("{} tokens/s", crate::progress::rate(tokens as f64 / secs)));
        }
        Ok(())
    })?;
    st.sync()?;
    side.finish(&mut produced)?;
    pb.finish_and_clear();
    if let Some(i) = mine.iter().find(|&&i| scored[i].is_none()) {
        bail!("the scorer left candidate {i} unscored");
    }
    Ok((st, ScoreRun { scored, fresh: todo, secs: started.elapsed().as_secs_f64(), produced }))
}

/// What the final rewrite of a store takes from a score table, beside the scores: each
/// candidate's label and tie-break rank (grid order).
#[derive(Clone, Copy)]
pub(super) struct TableColumns<'a> {
    pub(super) label: &'a [Option<bool>],
    pub(super) tie_rank: Option<&'a [f64]>,
}

impl<'a> TableColumns<'a> {
    pub(super) fn of(t: &'a ScoreTable) -> Self {
        TableColumns { label: t.label(), tie_rank: t.tie_rank() }
    }
}

/// The store line of candidate `idx`; labels and tie ranks from the table's columns when given
/// (the final rewrite); the patch keys are the candidate's, computed when it was read.
pub(super) fn line(ds: &Dataset, table: Option<TableColumns>, idx: usize, s: &Scored) -> ScoreLine {
    let (i, r) = ds.grid.coords(idx);
    let c = &ds.cands[idx];
    ScoreLine {
        instance_id: ds.grid.instances[i].clone(),
        run: ds.grid.runs[r].clone(),
        score: s.score,
        empty: c.is_empty(),
        missing: c.is_missing(),
        resolved: table.map_or(c.resolved, |t| t.label[idx]),
        detail: s.detail().clone(),
        tie_rank: table.and_then(|t| t.tie_rank).map(|w| w[idx]),
        patch_hash: c.keys.content,
        patch_bytes_hash: c.keys.raw,
    }
}

/// The store lines of candidates `which`.
pub(super) fn lines_of(ds: &Dataset, table: TableColumns, scored: &[Scored], which: &[usize]) -> Vec<ScoreLine> {
    use rayon::prelude::*;
    which.par_iter().map(|&idx| line(ds, Some(table), idx, &scored[idx])).collect()
}

/// The store's final rewrite with the lines of candidates `which` (`ScoreStore::finish_made`:
/// made a chunk at a time, each dropped once written out, not held all at once). Returns how
/// many earlier lines were kept beside them.
pub(super) fn finish_store(
    st: ScoreStore,
    ds: &Dataset,
    table: TableColumns,
    scored: &[Scored],
    which: &[usize],
) -> Result<usize> {
    let key = |k: usize| {
        let (i, r) = ds.grid.coords(which[k]);
        (ds.grid.instances[i].as_str(), ds.grid.runs[r].as_str(), "")
    };
    st.finish_made(which.len(), key, |range| lines_of(ds, table, scored, &which[range]))
}

/// A pointwise verifier's totals (a pairwise judge's are its `Cost`).
pub(super) fn verifier_counts(scorer: &dyn Scorer, scored: &[Scored]) -> Option<VerifierCounts> {
    matches!(scorer.settings(), ScorerSettings::Verifier(v) if v.pairwise.is_none())
        .then(|| VerifierCounts::of(scored.iter().map(Scored::detail)))
}

/// What a pairwise run cost, in one line.
pub(super) fn pairwise_line(c: &Cost) -> String {
    let per = c.comparisons as f64 / c.instances.max(1) as f64;
    let mut s = format!(
        "pairwise: {} ({per:.1} per instance{}), {} now, {} reused; {} read now in {:.1} s",
        count(c.comparisons, "comparison", "comparisons"),
        if c.tournaments > 0 {
            format!("; {} of ring + pivots", count(c.tournaments, "tournament", "tournaments"))
        } else {
            String::new()
        },
        c.judged_now,
        c.reused,
        count(c.tokens as usize, "prompt token", "prompt tokens"),
        c.secs
    );
    if c.failed > 0 {
        s += &format!(
            "; {} over the token limit (see `error` in pairs.jsonl)",
            count(c.failed, "comparison", "comparisons")
        );
    }
    if c.kept > 0 {
        s += &format!("; pairs.jsonl also keeps {} from earlier runs", count(c.kept, "comparison", "comparisons"));
    }
    s
}

/// What a reasoning judge's run drew and cost, in one line.
pub(super) fn generation_line(settings: &ScorerSettings, c: &crate::score::generative::GenCost) -> String {
    let how = match settings {
        ScorerSettings::Verifier(v) => v.generation.as_ref().map(|g| g.describe()),
        _ => None,
    };
    let mut s = format!(
        "reasoning ({}): {} now, {} reused, {} without a verdict; {} generated now in {:.1} s ({:.1} decode tokens/s)",
        how.unwrap_or_default(),
        count(c.samples_now, "sample", "samples"),
        c.samples_reused,
        c.invalid,
        count(c.tokens as usize, "token", "tokens"),
        c.secs,
        c.tokens as f64 / c.secs.max(1e-9)
    );
    if c.kept > 0 {
        s += &format!("; generations.jsonl also keeps {} from earlier runs", count(c.kept, "sample", "samples"));
    }
    s
}

/// Says that the store also holds earlier scores of candidates outside this run's inputs.
pub(super) fn kept_line(kept: usize, out: &OutDir) -> String {
    format!(
        "{} also keeps {} of other candidates from earlier runs (a store only grows; --overwrite starts afresh)",
        out.file(store::SCORES).display(),
        count(kept, "score", "scores")
    )
}

pub(super) fn verifier_line(c: &VerifierCounts) -> String {
    let mut s = format!(
        "{} read; {} cut ({} removed; never the patch), {} judged from the patch alone (no trajectory, no issue)",
        count(c.tokens as usize, "prompt token", "prompt tokens"),
        count(c.truncated, "prompt", "prompts"),
        count(c.removed_tokens as usize, "token", "tokens"),
        count(c.patch_only, "candidate", "candidates")
    );
    if c.issue_and_patch > 0 {
        s += &format!(
            ", {} from the issue (--dataset) and the patch (no trajectory)",
            count(c.issue_and_patch, "candidate", "candidates")
        );
    }
    s += &format!("; patch not shown: {}", count(c.patch_not_shown, "prompt", "prompts"));
    if c.patch_added > 0 {
        s += &format!(
            " ({} whose trajectory does not show the patch got it as a final-patch block)",
            count(c.patch_added, "prompt", "prompts")
        );
    }
    for (n, why) in [
        (c.errors, "the prompt cannot fit the token limit"),
        (c.no_verdict, "no sample gave a verdict"),
        (c.misread, "the engine read another prompt length"),
    ] {
        if n > 0 {
            s += &format!(
                "; {} left unscored: {why} (see `error` in scores.jsonl)",
                count(n, "candidate", "candidates")
            );
        }
    }
    if c.privileged > 0 {
        s += &format!(
            "; PRIVILEGED: {} held what the SWE-bench harness grades with (--allow-privileged; `privileged` in scores.jsonl)",
            count(c.privileged, "prompt", "prompts")
        );
    }
    s
}
