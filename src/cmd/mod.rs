//! One file per subcommand, each a short function chaining the stages of the pipeline:
//! inputs -> `Dataset` -> scores (through the score store) -> `ScoreTable` -> selection ->
//! metrics -> reports. `main` parses the command line (`cli`), `config` validates it into
//! settings, and `run` here hands each subcommand to its file. What several subcommands share
//! sits beside them: reading the inputs and labels (`inputs`), scoring through the store
//! (`scoring`), reading stores back (`stored`); the warnings and the end of a report are here.

use anyhow::{Result, bail};

use crate::config::Command;
use crate::metrics;
use crate::report::{self, ReportInfo};

mod bench;
mod calibrate;
mod compare;
mod eval;
mod inputs;
mod render;
mod rerank;
mod score;
mod scoring;
mod select;
mod shell;
mod stored;

/// Runs a subcommand; `Ok(false)` when a `--fail-under` gate failed (exit status 1).
pub fn run(cmd: Command, quiet: bool, strict: bool) -> Result<bool> {
    STRICT.store(strict, std::sync::atomic::Ordering::Relaxed);
    QUIET.store(quiet, std::sync::atomic::Ordering::Relaxed);
    let r = match cmd {
        Command::Rerank(c) => rerank::rerank(&c),
        Command::Eval(c) => eval::eval(&c),
        other => run_other(other).map(|()| true),
    };
    say_held();
    // Output lost to a full disk is an error, whatever the command's own outcome.
    let passed = r?;
    crate::console::check()?;
    Ok(passed)
}

fn run_other(cmd: Command) -> Result<()> {
    match cmd {
        Command::Rerank(_) | Command::Eval(_) => unreachable!("handled by run"),
        Command::Select(c) => select::select_cmd(&c),
        Command::Score(c) => score::score_cmd(&c),
        Command::Render(c) => render::render(&c),
        Command::Calibrate(c) => calibrate::calibrate(&c),
        Command::Compare(c) => compare::compare(&c),
        Command::Bench(c) => bench::bench(*c),
        Command::Selftest(device) => crate::model::selftest::run(&device.resolve()?),
        Command::Completions(shell) => shell::completions(shell),
        Command::Man(dir) => shell::man(dir.as_deref()),
    }
}

/// `--strict`: input and label warnings are errors.
pub(super) static STRICT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// `--quiet`: no informational lines on stderr (warnings and errors still print).
pub(super) static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// A warning about the inputs or labels: printed on one line, or an error under `--strict`.
pub(super) fn warn(msg: &str) -> Result<()> {
    warn_as(None, msg)
}

/// `warn` for one of several warnings of a kind (one per run, one per report): under
/// `--quiet` a kind is said once, at the end, with how many there were.
pub(super) fn warn_as(kind: Option<&'static str>, msg: &str) -> Result<()> {
    if STRICT.load(std::sync::atomic::Ordering::Relaxed) {
        bail!("{msg} (--strict)");
    }
    say(kind, msg);
    Ok(())
}

/// A warning that `--strict` does not turn into an error (nothing about the inputs is wrong).
pub(super) fn note(msg: &str) {
    say(None, msg);
}

/// `note` of a kind (see `warn_as`).
pub(super) fn note_as(kind: &'static str, msg: &str) {
    say(Some(kind), msg);
}

/// Warnings of a kind held back under `--quiet`: (kind, the first message, how many).
static HELD: std::sync::Mutex<Vec<(&'static str, String, usize)>> = std::sync::Mutex::new(Vec::new());

fn say(kind: Option<&'static str>, msg: &str) {
    match kind {
        Some(k) if QUIET.load(std::sync::atomic::Ordering::Relaxed) => {
            let mut held = HELD.lock().unwrap_or_else(|e| e.into_inner());
            match held.iter_mut().find(|(h, ..)| *h == k) {
                Some((.., n)) => *n += 1,
                None => held.push((k, msg.to_string(), 1)),
            }
        }
        _ => eprintln!("swerm: warning: {}", crate::text::clip(msg, 190)),
    }
}

/// Says the warnings held back under `--quiet`: one line per kind.
fn say_held() {
    let held = std::mem::take(&mut *HELD.lock().unwrap_or_else(|e| e.into_inner()));
    for (_, first, n) in held {
        let more =
            if n > 1 { format!(" (and {} like it)", crate::text::count(n - 1, "more", "more")) } else { String::new() };
        eprintln!("swerm: warning: {}{more}", crate::text::clip(&first, 160));
    }
}

/// The end of rerank and eval: the summary (or, with --json, report.json's numbers alone) on
/// stdout, then the gates: `Ok(false)` when one failed (exit status 1), an error when one
/// could not be computed (exit status 2: nothing was gated), both after every output was
/// written.
pub(super) fn finish(
    m: &metrics::Metrics,
    info: &ReportInfo,
    facts: &[String],
    output: &crate::config::Output,
) -> Result<bool> {
    let gates = metrics::gate::evaluate(&output.fail_under, m);
    if output.json {
        let mut v = report::json::to_value(m, info);
        v["gates"] = gates
            .iter()
            .map(|g| serde_json::json!({"metric": g.metric, "value": g.value, "threshold": g.threshold, "passed": g.passed}))
            .collect::<Vec<_>>()
            .into();
        outln!("{v}");
    } else {
        out!("{}", report::summary::render(m, info.run_names, facts));
    }
    if let Some(e) = gates.iter().find_map(metrics::gate::Checked::not_computed) {
        bail!("{e}");
    }
    let failed: Vec<String> = gates.iter().filter_map(metrics::gate::Checked::failure).collect();
    for f in &failed {
        eprintln!("swerm: --fail-under: {f}");
    }
    Ok(failed.is_empty())
}
