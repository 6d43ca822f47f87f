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
mod inspect;
mod render;
mod rerank;
mod score;
mod scoring;
mod select;
mod shell;
mod stored;

/// Runs a subcommand (`console::configure` has set `-q` and `--strict`); `Ok(false)` when a
/// `--fail-under` gate failed (exit status 1).
pub fn run(cmd: Command) -> Result<bool> {
    let r = match cmd {
        Command::Rerank(c) => rerank::rerank(&c),
        Command::Eval(c) => eval::eval(&c),
        other => run_other(other).map(|()| true),
    };
    crate::console::say_held();
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
        Command::Inspect(model, json) => inspect::inspect(&model, json),
        Command::Man(dir) => shell::man(dir.as_deref()),
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
        crate::console::say(&format!("--fail-under: {f}"));
    }
    Ok(failed.is_empty())
}
