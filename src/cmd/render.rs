//! `swerm render`: the exact prompts the verifier reads, as JSONL on stdout (with `--pairwise`,
//! one line per comparison).

use super::inputs::load;
use crate::config::{self};
use crate::input::Dataset;
use crate::prompt::pairwise::instance_issue;
use crate::prompt::{PatchView, Prompt, Prompter, TooLong};
use anyhow::Result;
use serde_json::{Value, json};

pub(crate) fn render(cfg: &config::Render) -> Result<()> {
    use std::io::Write;
    let ds = load(&cfg.inputs)?;
    let prompter = Prompter::for_model(&cfg.model, &cfg.prompt)?;
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::new(stdout.lock());
    let mut emit = |line: Value| -> bool {
        match writeln!(w, "{line}") {
            Ok(()) => true,
            Err(e) => {
                crate::console::failed(&e);
                false
            }
        }
    };
    let mut tally = Shown::default();
    let open = if cfg.prompt.pairwise.is_some() {
        pairs(&ds, &prompter, &mut emit, &mut tally, cfg.ids)?
    } else {
        singles(&ds, &prompter, &mut emit, &mut tally, cfg.ids)?
    };
    // `open` false: stdout closed (piped into head: quietly) or failed (`console::check`).
    if open {
        if let Err(e) = w.flush() {
            crate::console::failed(&e);
        }
        crate::console::info(&format!(
            "{} rendered; patch not shown: {}; {} added as a final-patch block (their trajectory does not show it)",
            crate::text::count(tally.prompts, "prompt", "prompts"),
            tally.not_shown,
            tally.added
        ));
    }
    Ok(())
}

/// How many prompts showed their patch how (for the closing line on stderr).
#[derive(Default)]
struct Shown {
    prompts: usize,
    added: usize,
    not_shown: usize,
}

/// A prompt's line, or its `error` when it cannot fit the token limit; other errors stop.
/// `patch`: `shown` (the trajectory or the preset's final-patch block shows it), `added` (the
/// trajectory does not: the prompt added a final-patch block) or `not_shown`.
fn line(mut base: Value, p: Result<Prompt>, tally: &mut Shown, ids: bool) -> Result<Value> {
    match p {
        Ok(p) => {
            tally.prompts += 1;
            tally.added += (p.shows.patch == PatchView::Added) as usize;
            tally.not_shown += (p.shows.patch == PatchView::NotShown) as usize;
            base["prompt"] = p.text.into();
            base["n_tokens"] = p.ids.len().into();
            base["truncated"] = p.truncated.into();
            base["patch"] = serde_json::to_value(p.shows.patch).expect("serializes");
            if !p.privileged.is_empty() {
                base["privileged"] = p.privileged.clone().into();
            }
            if let Some(c) = &p.cut {
                base["cut"] = c.what.clone().into();
                base["removed_tokens"] = c.removed.into();
            }
            if ids {
                // The answer is read at the last position: the token the model's next-token
                // logits are taken after.
                base["answer_at"] = (p.ids.len() - 1).into();
                base["ids"] = p.ids.clone().into();
            }
        }
        Err(e) if e.downcast_ref::<TooLong>().is_some() => base["error"] = format!("{e:#}").into(),
        Err(e) => return Err(e),
    }
    Ok(base)
}

/// One line per non-empty candidate.
fn singles(
    ds: &Dataset,
    prompter: &Prompter,
    emit: &mut dyn FnMut(Value) -> bool,
    tally: &mut Shown,
    ids: bool,
) -> Result<bool> {
    for idx in 0..ds.cands.len() {
        let (i, r) = ds.grid.coords(idx);
        let p = match prompter.for_candidate(ds, idx) {
            Ok(None) => continue,
            Ok(Some(p)) => Ok(p),
            Err(e) => Err(e),
        };
        if !emit(line(json!({"instance_id": ds.grid.instances[i], "run": ds.grid.runs[r]}), p, tally, ids)?) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// One line per comparison known before judging: every ordered pair of a round robin, a
/// tournament's ring pass (its pivots' comparisons depend on the judge's answers; a note says
/// how many instances have them).
fn pairs(
    ds: &Dataset,
    prompter: &Prompter,
    emit: &mut dyn FnMut(Value) -> bool,
    tally: &mut Shown,
    ids: bool,
) -> Result<bool> {
    let mut tournaments = 0;
    for i in 0..ds.grid.instances.len() {
        let attempts = ds.grid.range(i).map(|idx| prompter.attempt(ds, idx)).collect::<Result<Vec<_>>>()?;
        let issue = instance_issue(ds.issue(i), &attempts);
        let (list, tournament) = crate::score::pairwise::first_comparisons(ds, i);
        tournaments += tournament as usize;
        for (a, b) in list {
            let (x, y) = (attempts[a].as_ref().expect("non-empty"), attempts[b].as_ref().expect("non-empty"));
            let base = json!({"instance_id": ds.grid.instances[i], "a": ds.grid.runs[a], "b": ds.grid.runs[b]});
            if !emit(line(base, prompter.for_pair(issue, x, y), tally, ids)?) {
                return Ok(false);
            }
        }
    }
    if tournaments > 0 {
        crate::console::note(&format!(
            "{} more than {} non-empty candidates: their ring pass is shown; the pivots' comparisons follow from the judge's answers",
            crate::text::count(tournaments, "instance has", "instances have"),
            crate::prompt::pairwise::ROUND_ROBIN_MAX
        ));
    }
    Ok(true)
}
