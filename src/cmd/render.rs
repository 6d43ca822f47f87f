//! `swerm render`: the exact prompts the verifier reads, as JSONL on stdout (with `--pairwise`,
//! one line per comparison).

use super::inputs::load;
use crate::config::{self};
use crate::input::Dataset;
use crate::prompt::pairwise::instance_issue;
use crate::prompt::{Prompt, Prompter, TooLong};
use anyhow::Result;
use serde_json::{Value, json};

pub(crate) fn render(cfg: &config::Render) -> Result<()> {
    use std::io::Write;
    let ds = load(&cfg.inputs, true)?;
    let prompter = Prompter::for_model(&cfg.model, cfg.prompt)?;
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::new(stdout.lock());
    let mut emit = |line: Value| -> bool { writeln!(w, "{line}").is_ok() };
    let open = if cfg.prompt.pairwise.is_some() {
        pairs(&ds, &prompter, &mut emit)?
    } else {
        singles(&ds, &prompter, &mut emit)?
    };
    // `open` false: stdout closed (e.g. piped into head).
    if open {
        let _ = w.flush();
    }
    Ok(())
}

/// A prompt's line, or its `error` when it cannot fit `--max-tokens`; other errors stop.
fn line(mut base: Value, p: Result<Prompt>) -> Result<Value> {
    match p {
        Ok(p) => {
            base["prompt"] = p.text.into();
            base["n_tokens"] = p.ids.len().into();
            base["truncated"] = p.truncated.into();
        }
        Err(e) if e.downcast_ref::<TooLong>().is_some() => base["error"] = format!("{e:#}").into(),
        Err(e) => return Err(e),
    }
    Ok(base)
}

/// One line per non-empty candidate.
fn singles(ds: &Dataset, prompter: &Prompter, emit: &mut dyn FnMut(Value) -> bool) -> Result<bool> {
    for idx in 0..ds.cands.len() {
        let (i, r) = ds.grid.coords(idx);
        let p = match prompter.for_candidate(ds, idx) {
            Ok(None) => continue,
            Ok(Some(p)) => Ok(p),
            Err(e) => Err(e),
        };
        if !emit(line(json!({"instance_id": ds.grid.instances[i], "run": ds.grid.runs[r]}), p)?) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// One line per comparison known before judging: every ordered pair of a round robin, a
/// tournament's ring pass (its pivots' comparisons depend on the judge's answers; a note says
/// how many instances have them).
fn pairs(ds: &Dataset, prompter: &Prompter, emit: &mut dyn FnMut(Value) -> bool) -> Result<bool> {
    let mut tournaments = 0;
    for i in 0..ds.grid.instances.len() {
        let attempts = ds.grid.range(i).map(|idx| prompter.attempt(ds, idx)).collect::<Result<Vec<_>>>()?;
        let issue = instance_issue(ds.issue(i), &attempts);
        let (list, tournament) = crate::score::pairwise::first_comparisons(ds, i);
        tournaments += tournament as usize;
        for (a, b) in list {
            let (x, y) = (attempts[a].as_ref().expect("non-empty"), attempts[b].as_ref().expect("non-empty"));
            let base = json!({"instance_id": ds.grid.instances[i], "a": ds.grid.runs[a], "b": ds.grid.runs[b]});
            if !emit(line(base, prompter.for_pair(issue, x, y))?) {
                return Ok(false);
            }
        }
    }
    if tournaments > 0 {
        eprintln!(
            "swerm: note: {} more than {} non-empty candidates: their ring pass is shown; the pivots' comparisons follow from the judge's answers",
            crate::text::count(tournaments, "instance has", "instances have"),
            crate::prompt::pairwise::ROUND_ROBIN_MAX
        );
    }
    Ok(true)
}
