//! `swerm render`: the exact prompts the verifier reads, as JSONL on stdout.

use super::inputs::load;
use crate::config::{self};
use crate::prompt::{Prompter, TooLong};
use anyhow::Result;

pub(crate) fn render(cfg: &config::Render) -> Result<()> {
    use std::io::Write;
    let ds = load(&cfg.inputs, true)?;
    let prompter = Prompter::for_model(&cfg.model, cfg.prompt)?;
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::new(stdout.lock());
    for idx in 0..ds.cands.len() {
        let (i, r) = ds.grid.coords(idx);
        let line = match prompter.for_candidate(&ds, idx) {
            Ok(None) => continue,
            Ok(Some(p)) => serde_json::json!({
                "instance_id": ds.grid.instances[i],
                "run": ds.grid.runs[r],
                "prompt": p.text,
                "n_tokens": p.ids.len(),
                "truncated": p.truncated,
            }),
            Err(e) if e.downcast_ref::<TooLong>().is_some() => {
                serde_json::json!({"instance_id": ds.grid.instances[i], "run": ds.grid.runs[r], "error": format!("{e:#}")})
            }
            Err(e) => return Err(e),
        };
        if writeln!(w, "{line}").is_err() {
            return Ok(()); // stdout closed (e.g. piped into head)
        }
    }
    let _ = w.flush();
    Ok(())
}
