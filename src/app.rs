//! One short function per subcommand, chaining the stages of the pipeline:
//! inputs -> `Dataset` -> scores (through the score store) -> `ScoreTable` -> selection ->
//! metrics -> reports.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};

use crate::cli::Command;
use crate::config::{self, ScorerChoice};
use crate::input::labels::{self, LabelGrid};
use crate::input::{self, Dataset};
use crate::metrics;
use crate::metrics::calibrate::{Calibration, Data, logit};
use crate::outdir::OutDir;
use crate::progress;
use crate::prompt::{Prompter, TooLong};
use crate::report::{self, AppliedCalibration, PREDICTIONS, ReportInfo};
use crate::score::combine::Combined;
use crate::score::shard::Shard;
use crate::score::store::{self, ScoreLine, ScoreStore, Stored, Want};
use crate::score::{self, Remote, ScoreTable, Scored, Scorer, ScorerSettings, Verifier, VerifierCounts};
use crate::select::select;
use crate::text::count;

/// Runs a subcommand; `Ok(false)` when a `--fail-under` gate failed (exit status 1).
pub fn run(cmd: Command, quiet: bool, strict: bool) -> Result<bool> {
    STRICT.store(strict, std::sync::atomic::Ordering::Relaxed);
    QUIET.store(quiet, std::sync::atomic::Ordering::Relaxed);
    match cmd {
        Command::Rerank(a) => rerank(&config::Rerank::from_cli(*a, quiet)?),
        Command::Eval(a) => eval(&config::Eval::from_cli(a)?),
        other => run_other(other, quiet).map(|()| true),
    }
}

fn run_other(cmd: Command, quiet: bool) -> Result<()> {
    match cmd {
        Command::Rerank(_) | Command::Eval(_) => unreachable!("handled by run"),
        Command::Select(a) => select_cmd(&config::Select::from_cli(a, quiet)?),
        Command::Score(a) => score_cmd(&config::Score::from_cli(a, quiet)?),
        Command::Render(a) => render(&config::Render::from_cli(a)?),
        Command::Calibrate(a) => calibrate(&config::Calibrate::from_cli(a)?),
        Command::Compare(a) => compare(&config::Compare::from_cli(a)?),
        Command::Bench(a) => bench(config::bench(a)?),
        Command::Selftest(a) => crate::model::selftest::run(&a.device.resolve()?),
    }
}

/// `--strict`: input and label warnings are errors.
static STRICT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
/// `--quiet`: no informational lines on stderr (warnings and errors still print).
static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// A warning about the inputs or labels: printed on one line, or an error under `--strict`.
fn warn(msg: &str) -> Result<()> {
    if STRICT.load(std::sync::atomic::Ordering::Relaxed) {
        bail!("{msg} (--strict)");
    }
    eprintln!("swerm: warning: {}", crate::text::clip(msg, 190));
    Ok(())
}

/// A warning that `--strict` does not turn into an error (nothing about the inputs is wrong).
fn note(msg: &str) {
    eprintln!("swerm: warning: {}", crate::text::clip(msg, 190));
}

fn load(inputs: &config::Inputs, quiet: bool) -> Result<Dataset> {
    let runs = input::expand_inputs(&inputs.specs)?;
    let files: usize = runs.iter().map(|r| r.files.len()).sum();
    let pb = progress::bar(files as u64, "reading", quiet);
    let ds = input::load(&runs, &inputs.load, &mut |_| pb.inc(1))?;
    pb.finish_and_clear();
    if ds.outside > 0 {
        warn(&format!("{} outside --instances (ignored)", count(ds.outside, "record is", "records are")))?;
    }
    if ds.instances.is_empty() {
        bail!("no candidates in the inputs");
    }
    for r in 0..ds.n_runs() {
        let present: Vec<&input::Candidate> =
            (0..ds.instances.len()).map(|i| &ds.cands[ds.idx(i, r)]).filter(|c| !c.is_hole()).collect();
        if !present.is_empty() && present.iter().all(|c| c.is_empty()) {
            warn(&format!(
                "run {}: no record has a patch ({} read): an agent that submitted nothing, or a file read in the wrong format (see --format)?",
                ds.runs[r],
                count(present.len(), "record", "records")
            ))?;
        }
    }
    if ds.holes > 0 {
        let per_run: Vec<String> = (0..ds.n_runs())
            .filter_map(|r| {
                let missing = (0..ds.instances.len()).filter(|&i| ds.cands[ds.idx(i, r)].is_hole()).count();
                (missing > 0).then(|| format!("{} lacks {missing}", ds.runs[r]))
            })
            .collect();
        warn(&format!(
            "runs cover different instance sets: {} of {} lack some of the {} ({}); a missing prediction counts as unresolved",
            per_run.len(),
            count(ds.n_runs(), "run", "runs"),
            count(ds.instances.len(), "instance", "instances"),
            crate::text::first_few(&per_run, 3),
        ))?;
    }
    Ok(ds)
}

/// Applies `--labels` to the dataset, printing the warnings.
fn label(ds: &mut Dataset, args: &[String], n_inputs: usize) -> Result<()> {
    let args = args.iter().map(|s| labels::parse_label_arg(s, &ds.runs)).collect::<Result<Vec<_>>>()?;
    let empty: Vec<bool> = ds.cands.iter().map(|c| c.is_empty()).collect();
    let grid = LabelGrid {
        runs: &ds.runs,
        instances: &ds.instances,
        run_input: &ds.run_input,
        n_inputs: Some(n_inputs),
        empty: &empty,
    };
    let mut l = ds.labels();
    apply_labels(&grid, &mut l, &args)?;
    ds.set_labels(l);
    Ok(())
}

/// Applies parsed `--labels` to a grid's labels, saying the pairing once and printing the
/// warnings.
fn apply_labels(grid: &LabelGrid, l: &mut [Option<labels::Label>], args: &[labels::LabelArg]) -> Result<()> {
    let pairs = labels::pair(grid, args)?;
    if !pairs.is_empty() && !QUIET.load(std::sync::atomic::Ordering::Relaxed) {
        eprintln!("swerm: {}", labels::pairing_line(grid, &pairs));
    }
    for w in labels::apply(grid, l, &pairs)? {
        warn(&w)?;
    }
    Ok(())
}

/// A scorer ready to run and its locked output directory. The settings are checked against the
/// store in `out` before any weight is read; an existing `out` is locked before the model
/// loads (a second swerm is refused at once), a new one is only created after it loaded.
fn build_scorer(
    choice: &ScorerChoice,
    shard: Option<Shard>,
    out: &std::path::Path,
    overwrite: bool,
    quiet: bool,
) -> Result<(Box<dyn Scorer>, OutDir)> {
    let early = OutDir::open_if_exists(out)?;
    let want = |scorer| Want { scorer, shard };
    let scorer: Box<dyn Scorer> = match choice {
        ScorerChoice::ModelFree(m) => {
            store::check(out, want(&ScorerSettings::from(m)), overwrite)?;
            score::model_free(m)
        }
        ScorerChoice::Verifier(v) => {
            let (device, dtype, settings) = v.resolve()?;
            store::check(out, want(&settings), overwrite)?;
            Box::new(Verifier::load(v, &device, dtype, settings)?)
        }
        ScorerChoice::Combined(c) => {
            let s = Combined::new(c)?;
            store::check(out, want(&s.settings()), overwrite)?;
            Box::new(s)
        }
        ScorerChoice::Remote(v, e) => {
            let r = Remote::connect(v, e)?;
            store::check(out, want(&r.settings()), overwrite)?;
            if !quiet {
                eprintln!("swerm: {}", r.describe());
            }
            Box::new(r)
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
struct ScoreRun {
    scored: Vec<Option<Scored>>,
    fresh: Vec<usize>,
    secs: f64,
}

/// Scores every candidate through the store in `out`: a resumable scorer reuses what is
/// there; every finished candidate is appended as it arrives.
/// Scores the candidates `mine` (all, or a shard's) through the store in `out`: a resumable
/// scorer reuses what is there; every finished candidate is appended as it arrives. `scored`
/// holds `mine`'s scores in the end, `None` elsewhere.
fn score_stored(
    scorer: &mut dyn Scorer,
    ds: &Dataset,
    out: &mut OutDir,
    (shard, mine): (Option<Shard>, &[usize]),
    overwrite: bool,
    quiet: bool,
) -> Result<(ScoreStore, ScoreRun)> {
    let want = Want { scorer: &scorer.settings(), shard };
    let mut st = ScoreStore::open(out, want, overwrite)?;
    if st.discarded > 0 {
        eprintln!(
            "swerm: --overwrite: discarded {} stored in {}",
            count(st.discarded, "score", "scores"),
            out.file(store::SCORES).display()
        );
    }
    if st.dropped_torn_line {
        note(&format!("{}: dropped a torn last line (an interrupted run)", out.file(store::SCORES).display()));
    }
    let mut scored: Vec<Option<Scored>> = vec![None; ds.cands.len()];
    if scorer.resumable() {
        for &idx in mine {
            let (i, r) = ds.coords(idx);
            scored[idx] = st.stored(&ds.instances[i], &ds.runs[r]);
        }
    }
    let todo: Vec<usize> = mine.iter().copied().filter(|&i| scored[i].is_none()).collect();
    if todo.len() < mine.len() {
        eprintln!("swerm: resuming: {} already scored, {} to go", mine.len() - todo.len(), todo.len());
    }
    crate::interrupt::watch(out.file(store::SCORES), st.reused);
    let pb = progress::bar(todo.len() as u64, "scoring", quiet);
    let started = Instant::now();
    let mut tokens = 0u64;
    scorer.score(ds, &todo, &mut |idx, s| {
        st.append(&line(ds, None, idx, &s))?;
        tokens += s.detail.n_tokens.unwrap_or(0) as u64;
        scored[idx] = Some(s);
        pb.inc(1);
        pb.set_message(format!("{:.0} tokens/s", tokens as f64 / started.elapsed().as_secs_f64().max(1e-9)));
        Ok(())
    })?;
    st.sync()?;
    pb.finish_and_clear();
    if let Some(i) = mine.iter().find(|&&i| scored[i].is_none()) {
        bail!("the scorer left candidate {i} unscored");
    }
    Ok((st, ScoreRun { scored, fresh: todo, secs: started.elapsed().as_secs_f64() }))
}

/// The store line of candidate `idx`; labels from `table` when given (the final rewrite).
fn line(ds: &Dataset, table: Option<&ScoreTable>, idx: usize, s: &Scored) -> ScoreLine {
    let (i, r) = ds.coords(idx);
    let c = &ds.cands[idx];
    ScoreLine {
        instance_id: ds.instances[i].clone(),
        run: ds.runs[r].clone(),
        score: s.score,
        empty: c.is_empty(),
        missing: c.is_hole(),
        resolved: table.map_or(c.resolved, |t| t.label[idx]),
        detail: s.detail.clone(),
        tie_rank: table.and_then(|t| t.within.as_ref()).map(|w| w[idx]),
        patch_hash: c.patch.as_deref().and_then(crate::patch::content_key),
        patch_bytes_hash: c.patch.as_deref().and_then(crate::patch::bytes_key),
    }
}

/// The store lines of candidates `which`.
fn lines_of(ds: &Dataset, table: &ScoreTable, scored: &[Scored], which: &[usize]) -> Vec<ScoreLine> {
    which.iter().map(|&idx| line(ds, Some(table), idx, &scored[idx])).collect()
}

fn verifier_counts(scorer: &dyn Scorer, scored: &[Scored]) -> Option<VerifierCounts> {
    matches!(scorer.settings(), ScorerSettings::Verifier(_))
        .then(|| VerifierCounts::of(scored.iter().map(|s| &s.detail)))
}

/// The end of rerank and eval: the summary (or, with --json, report.json's numbers alone) on
/// stdout, then the gates.
fn finish(m: &metrics::Metrics, info: &ReportInfo, facts: &[String], output: &crate::cli::OutputArgs) -> bool {
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
    let failed: Vec<String> = gates.iter().filter_map(metrics::gate::Checked::failure).collect();
    for f in &failed {
        eprintln!("swerm: --fail-under: {f}");
    }
    failed.is_empty()
}

pub fn rerank(cfg: &config::Rerank) -> Result<bool> {
    let mut ds = load(&cfg.inputs, cfg.quiet)?;
    label(&mut ds, &cfg.labels, cfg.inputs.specs.len())?;
    metrics::check_ks(&cfg.metrics.ks, ds.n_runs()).map_err(|e| anyhow!(e))?;
    let (mut scorer, mut out) = build_scorer(&cfg.scorer, None, &cfg.out, cfg.overwrite, cfg.quiet)?;
    let every: Vec<usize> = (0..ds.cands.len()).collect();
    let (st, run) = score_stored(scorer.as_mut(), &ds, &mut out, (None, &every), cfg.overwrite, cfg.quiet)?;
    let scored: Vec<Scored> = run.scored.into_iter().map(|s| s.expect("every candidate scored")).collect();
    let mut table = ScoreTable::from_dataset(&ds, &scored);
    table.within = scorer.within();
    if !cfg.tie_break.is_empty() {
        table.within = Some(crate::score::combine::tie_break_ranks(&table.score, &cfg.tie_break, &ds)?);
    }
    let kept = st.finish(&mut out, &lines_of(&ds, &table, &scored, &every))?.kept;
    let cal = cfg.calibration.as_ref();
    if let Some(c) = cal {
        c.cal.check_scorer(Some(&scorer.settings())).with_context(|| format!("--calibration {}", c.source))?;
        let z: Vec<Option<f64>> = scored.iter().map(|s| z_of(s.score, &s.detail)).collect();
        calibrate_table(&mut table, &z, c)?;
    }

    let selected = select(&table);
    let m = metrics::compute(&table, &selected, &cfg.metrics).map_err(|e| anyhow!(e))?;
    let settings = scorer.settings();
    let info = ReportInfo {
        scorer: Some(&settings),
        scores_from: None,
        run_names: &ds.runs,
        ece_bins: cfg.metrics.ece_bins,
        verifier: verifier_counts(scorer.as_ref(), &scored),
        calibration: cal,
        tie_break: cfg.tie_break.iter().map(|(n, _)| n.clone()).collect(),
    };
    out.write(PREDICTIONS, report::predictions::render(&ds, &table, &selected, &cfg.name).as_bytes())?;
    if cal.is_some() {
        // The scores selection and metrics used, for an independent check.
        out.write(store::EVALUATED, store::render(&table.lines()).as_bytes())?;
    }
    out.remove_stale(&[store::EVALUATED])?;
    report::write_reports(&mut out, &m, &info, &table, &selected)?;

    let mut facts = vec![format!("{}; scorer {}", report::summary::counts(&m), info.scorer_name())];
    if let Some(c) = &info.verifier {
        facts.push(verifier_line(c));
    }
    if kept > 0 {
        facts.push(kept_line(kept, &out));
    }
    facts.push(out.summary());
    Ok(finish(&m, &info, &facts, &cfg.output))
}

/// Says that the store also holds earlier scores of candidates outside this run's inputs.
fn kept_line(kept: usize, out: &OutDir) -> String {
    format!(
        "{} also keeps {} of other candidates from earlier runs (a store only grows; --overwrite starts afresh)",
        out.file(store::SCORES).display(),
        count(kept, "score", "scores")
    )
}

fn verifier_line(c: &VerifierCounts) -> String {
    let mut s = format!(
        "{} read; {} truncated, {} judged from the patch alone",
        count(c.tokens as usize, "prompt token", "prompt tokens"),
        count(c.truncated, "prompt", "prompts"),
        count(c.patch_only, "candidate", "candidates")
    );
    if c.errors > 0 {
        s += &format!(
            "; {} left unscored: the issue statement does not fit --max-tokens (see `error` in scores.jsonl)",
            count(c.errors, "candidate", "candidates")
        );
    }
    s
}

pub fn score_cmd(cfg: &config::Score) -> Result<()> {
    let ds = load(&cfg.inputs, cfg.quiet)?;
    let mine: Vec<usize> = match cfg.shard {
        None => (0..ds.cands.len()).collect(),
        Some(s) => (0..ds.cands.len()).filter(|&idx| s.holds(&ds.instances[ds.coords(idx).0])).collect(),
    };
    let (mut scorer, mut out) = build_scorer(&cfg.scorer, cfg.shard, &cfg.out, cfg.overwrite, cfg.quiet)?;
    if let Some(c) = &cfg.calibration {
        c.cal.check_scorer(Some(&scorer.settings())).with_context(|| format!("--calibration {}", c.source))?;
    }
    let (st, run) = score_stored(scorer.as_mut(), &ds, &mut out, (cfg.shard, &mine), cfg.overwrite, cfg.quiet)?;
    // Labels do not depend on scores: a table over placeholders gives every line's label.
    let scored: Vec<Scored> = run.scored.into_iter().map(Option::unwrap_or_default).collect();
    let table = ScoreTable::from_dataset(&ds, &scored);
    let finished = st.finish(&mut out, &lines_of(&ds, &table, &scored, &mine))?;
    if let Some(c) = &cfg.calibration {
        out.write(store::CALIBRATED, store::render(&calibrated_lines(finished.lines, c)?).as_bytes())?;
    }
    out.remove_stale(&[store::CALIBRATED])?;
    let all = VerifierCounts::of(mine.iter().map(|&i| &scored[i].detail));
    let now = VerifierCounts::of(run.fresh.iter().map(|&i| &scored[i].detail));
    let n_instances = mine.iter().map(|&idx| ds.coords(idx).0).collect::<std::collections::BTreeSet<_>>().len();
    let part = cfg.shard.map(|s| format!("shard {s}: ")).unwrap_or_default();
    outln!(
        "{part}{} x {}: {} scored now, {} reused; {}",
        count(n_instances, "instance", "instances"),
        count(ds.runs.len(), "run", "runs"),
        run.fresh.len(),
        mine.len() - run.fresh.len(),
        verifier_line(&all)
    );
    if !run.fresh.is_empty() {
        outln!(
            "scoring took {:.3} s: {:.0} tokens/s over the {} scored now",
            run.secs,
            now.tokens as f64 / run.secs.max(1e-9),
            count(run.fresh.len(), "candidate", "candidates")
        );
    }
    if finished.kept > 0 {
        outln!("{}", kept_line(finished.kept, &out));
    }
    outln!("{}", out.summary());
    Ok(())
}

pub fn render(cfg: &config::Render) -> Result<()> {
    use std::io::Write;
    let ds = load(&cfg.inputs, true)?;
    let prompter = Prompter::for_model(&cfg.model, cfg.revision.as_deref(), cfg.preset, cfg.max_tokens)?;
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::new(stdout.lock());
    for idx in 0..ds.cands.len() {
        let (i, r) = ds.coords(idx);
        let line = match prompter.for_candidate(&ds, idx) {
            Ok(None) => continue,
            Ok(Some(p)) => serde_json::json!({
                "instance_id": ds.instances[i],
                "run": ds.runs[r],
                "prompt": p.text,
                "n_tokens": p.ids.len(),
                "truncated": p.truncated,
            }),
            Err(e) if e.downcast_ref::<TooLong>().is_some() => {
                serde_json::json!({"instance_id": ds.instances[i], "run": ds.runs[r], "error": format!("{e:#}")})
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

/// The scores of one store, or of several merged (shards), with the torn-line warnings; no
/// score at all is an error.
fn read_scores(paths: &[PathBuf]) -> Result<Stored> {
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
    for p in &stored.torn {
        note(&format!("{}: dropped a torn last line (an interrupted run)", p.display()));
    }
    if stored.lines.is_empty() {
        bail!("{}: no scores", stored.origin);
    }
    Ok(stored)
}

pub fn eval(cfg: &config::Eval) -> Result<bool> {
    let stored = read_scores(&cfg.scores)?;
    let mut t = ScoreTable::from_lines(&stored.lines);
    if !cfg.labels.is_empty() {
        label_table(&mut t, &cfg.labels, &stored.origin)?;
    }
    let cal = cfg.calibration.as_ref();
    if let Some(c) = cal {
        c.cal.check_scorer(stored.scorer.as_ref()).with_context(|| format!("--calibration {}", c.source))?;
        let z = line_logits(&t, &stored.lines);
        calibrate_table(&mut t, &z, c)?;
    }
    metrics::check_ks(&cfg.metrics.ks, t.n_runs()).map_err(|e| anyhow!(e))?;
    if t.without_content() > 0 {
        note(&format!(
            "{}: {} no patch_hash (written before swerm recorded it): their ties fall back to run order",
            stored.origin,
            count(t.without_content(), "non-empty candidate has", "non-empty candidates have")
        ));
    }
    let selected = select(&t);
    let m = metrics::compute(&t, &selected, &cfg.metrics).map_err(|e| anyhow!(e))?;
    let info = ReportInfo {
        scorer: stored.scorer.as_ref(),
        scores_from: Some(stored.origin.clone()),
        run_names: &t.runs,
        ece_bins: cfg.metrics.ece_bins,
        verifier: None,
        calibration: cal,
        tie_break: Vec::new(),
    };
    let mut out = OutDir::open(&cfg.out)?;
    out.write(store::EVALUATED, store::render(&t.lines()).as_bytes())?;
    report::write_reports(&mut out, &m, &info, &t, &selected)?;
    let facts = vec![format!("{}; scorer {}", report::summary::counts(&m), info.scorer_name()), out.summary()];
    Ok(finish(&m, &info, &facts, &cfg.output))
}

/// Labels a score table read back from a store: reports pair with its runs by name, or
/// positionally in name order (each run its own input).
fn label_table(t: &mut ScoreTable, args: &[String], origin: &str) -> Result<()> {
    let args = args.iter().map(|s| labels::parse_label_arg(s, &t.runs)).collect::<Result<Vec<_>>>()?;
    let run_input: Vec<usize> = (0..t.n_runs()).collect();
    let grid =
        LabelGrid { runs: &t.runs, instances: &t.instances, run_input: &run_input, n_inputs: None, empty: &t.empty };
    let mut l: Vec<Option<labels::Label>> =
        t.label.iter().map(|l| l.map(|resolved| labels::Label { resolved, origin: origin.to_string() })).collect();
    apply_labels(&grid, &mut l, &args)?;
    t.label = l.into_iter().map(|l| l.map(|l| l.resolved)).collect();
    Ok(())
}

pub fn select_cmd(cfg: &config::Select) -> Result<()> {
    let ds = load(&cfg.inputs, cfg.quiet)?;
    let stored = read_scores(&cfg.scores)?;
    let lookup: HashMap<(&str, &str), Option<f64>> =
        stored.lines.iter().map(|l| ((l.instance_id.as_str(), l.run.as_str()), l.score)).collect();
    let (mut unscored, mut non_empty) = (0, 0);
    let scored: Vec<Scored> = (0..ds.cands.len())
        .map(|idx| {
            let (i, r) = ds.coords(idx);
            let s = lookup.get(&(ds.instances[i].as_str(), ds.runs[r].as_str())).copied().flatten();
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
            ds.runs.join(", ")
        );
    }
    if unscored > 0 {
        warn(&format!(
            "{} no score in {} (ranked last)",
            count(unscored, "non-empty candidate has", "non-empty candidates have"),
            stored.origin
        ))?;
    }
    let table = ScoreTable::from_dataset(&ds, &scored);
    let selected = select(&table);
    let mut out = OutDir::open(&cfg.out)?;
    out.write(PREDICTIONS, report::predictions::render(&ds, &table, &selected, &cfg.name).as_bytes())?;
    outln!("{} ({})", out.summary(), count(selected.len(), "prediction", "predictions"));
    Ok(())
}

/// A candidate's logit: the answer-token logit difference when a verifier recorded it, else
/// logit(score).
fn z_of(score: Option<f64>, d: &crate::score::VerifierDetail) -> Option<f64> {
    match (d.logit_yes, d.logit_no) {
        (Some(y), Some(n)) => Some(y - n),
        _ => score.map(logit),
    }
}

/// The logits of a table read back from a store, in grid order.
fn line_logits(t: &ScoreTable, lines: &[ScoreLine]) -> Vec<Option<f64>> {
    let at: HashMap<(&str, &str), &ScoreLine> =
        lines.iter().map(|l| ((l.instance_id.as_str(), l.run.as_str()), l)).collect();
    (0..t.score.len())
        .map(|idx| {
            let (i, r) = t.coords(idx);
            at.get(&(t.instances[i].as_str(), t.runs[r].as_str())).and_then(|l| z_of(l.score, &l.detail))
        })
        .collect()
}

/// Store lines with every non-empty candidate's score calibrated (the columns kept).
fn calibrated_lines(lines: Vec<ScoreLine>, c: &AppliedCalibration) -> Result<Vec<ScoreLine>> {
    let t = ScoreTable::from_lines(&lines);
    let mut cal = t.clone();
    calibrate_table(&mut cal, &line_logits(&t, &lines), c)?;
    let at: HashMap<(&str, &str), usize> = (0..t.score.len())
        .map(|idx| {
            let (i, r) = t.coords(idx);
            ((t.instances[i].as_str(), t.runs[r].as_str()), idx)
        })
        .collect();
    let scores: Vec<Option<f64>> =
        lines.iter().map(|l| cal.score[at[&(l.instance_id.as_str(), l.run.as_str())]]).collect();
    Ok(lines.into_iter().zip(scores).map(|(l, score)| ScoreLine { score, ..l }).collect())
}

/// Replaces every non-empty candidate's score with its calibrated probability.
fn calibrate_table(t: &mut ScoreTable, z: &[Option<f64>], c: &AppliedCalibration) -> Result<()> {
    for idx in 0..t.score.len() {
        let Some(s) = t.score[idx].filter(|_| !t.empty[idx]) else { continue };
        if !(0.0..=1.0).contains(&s) {
            let (i, r) = t.coords(idx);
            bail!(
                "--calibration {}: the score of instance {} of run {} is {s}, not a probability in [0, 1]",
                c.source,
                t.instances[i],
                t.runs[r]
            );
        }
        t.set_score(idx, z[idx].map(|z| c.cal.map.apply(z)));
    }
    Ok(())
}

pub fn calibrate(cfg: &config::Calibrate) -> Result<()> {
    let stored = read_scores(&cfg.scores)?;
    let mut t = ScoreTable::from_lines(&stored.lines);
    let source = stored.origin.clone();
    if !cfg.labels.is_empty() {
        label_table(&mut t, &cfg.labels, &source)?;
    }
    let z = line_logits(&t, &stored.lines);
    let mut data = Data { z: Vec::new(), y: Vec::new() };
    for i in 0..t.instances.len() {
        let (mut zi, mut yi) = (Vec::new(), Vec::new());
        for idx in t.range(i) {
            let Some(s) = t.score[idx].filter(|_| !t.empty[idx]) else { continue };
            let (_, r) = t.coords(idx);
            if !(0.0..=1.0).contains(&s) {
                bail!(
                    "{source}: instance {} of run {} scores {s}: calibration needs P(YES) in [0, 1]",
                    t.instances[i],
                    t.runs[r]
                );
            }
            let Some(y) = t.label[idx] else {
                bail!("{source}: instance {} of run {} has no label (give --labels)", t.instances[i], t.runs[r]);
            };
            zi.push(z[idx].expect("a score has a logit"));
            yi.push(y);
        }
        if !zi.is_empty() {
            data.z.push(zi);
            data.y.push(yi);
        }
    }
    let mut cal = Calibration::fit(&data, cfg.method, cfg.folds, cfg.seed, cfg.ece_bins, source)?;
    cal.scorer = stored.scorer.clone();
    let text = serde_json::to_string_pretty(&cal)? + "\n";
    crate::outdir::write_atomic(&cfg.out, text.as_bytes())?;
    let cv = &cal.cv;
    outln!(
        "{} on {} of {}",
        cal.describe(),
        count(cal.candidates, "candidate", "candidates"),
        count(cal.instances, "instance", "instances")
    );
    outln!(
        "{}-fold cross-validation by instance: ECE {:.3} -> {:.3}, Brier {:.3} -> {:.3}, log loss {:.3} -> {:.3}",
        cv.folds,
        cv.ece_before,
        cv.ece_after,
        cv.brier_before,
        cv.brier_after,
        cv.log_loss_before,
        cv.log_loss_after
    );
    if cv.ece_after >= cv.ece_before && cv.log_loss_after >= cv.log_loss_before {
        outln!(
            "note: the map does not improve held-out calibration: these scores are already about as calibrated as a monotone map can make them"
        );
    }
    outln!("wrote {}", cfg.out.display());
    Ok(())
}

/// One score set read back for `compare`, labelled.
fn compare_set(name: &str, paths: &[PathBuf], labels: &[String]) -> Result<(Stored, ScoreTable)> {
    let stored = read_scores(paths).with_context(|| format!("score set {name}"))?;
    let mut t = ScoreTable::from_lines(&stored.lines);
    if !labels.is_empty() {
        label_table(&mut t, labels, &stored.origin)?;
    }
    Ok((stored, t))
}

/// Checks that two score sets cover the same candidates; merges their labels (a label in one
/// and none in the other is taken; two that disagree are an error).
fn same_candidates(a: (&str, &mut ScoreTable), b: (&str, &ScoreTable)) -> Result<()> {
    let ((na, ta), (nb, tb)) = (a, b);
    if ta.runs != tb.runs || ta.instances != tb.instances || ta.missing != tb.missing {
        let key = |t: &ScoreTable| -> std::collections::BTreeSet<(String, String)> {
            (0..t.score.len())
                .filter(|&i| !t.missing[i])
                .map(|i| (t.instances[t.coords(i).0].clone(), t.runs[t.coords(i).1].clone()))
                .collect()
        };
        let (ka, kb) = (key(ta), key(tb));
        let only_a: Vec<_> = ka.difference(&kb).collect();
        let only_b: Vec<_> = kb.difference(&ka).collect();
        let show = |v: &[&(String, String)]| v.first().map_or(String::new(), |(i, r)| format!(", e.g. {i} of run {r}"));
        bail!(
            "score sets {na} and {nb} cover different candidates: {} only in {na}{}, {} only in {nb}{} (runs {} vs {})",
            only_a.len(),
            show(&only_a),
            only_b.len(),
            show(&only_b),
            ta.runs.join(", "),
            tb.runs.join(", ")
        );
    }
    for idx in 0..ta.label.len() {
        match (ta.label[idx], tb.label[idx]) {
            (Some(x), Some(y)) if x != y => {
                let (i, r) = ta.coords(idx);
                bail!(
                    "score sets {na} and {nb} disagree on the label of instance {} of run {}",
                    ta.instances[i],
                    ta.runs[r]
                );
            }
            (None, Some(y)) => ta.label[idx] = Some(y),
            _ => {}
        }
    }
    Ok(())
}

pub fn compare(cfg: &config::Compare) -> Result<()> {
    use crate::metrics::paired::{self, Side};
    use crate::report::compare::{self as cmp, Comparison, Entry};
    /// A score set read back, labelled and calibrated.
    struct Set {
        name: String,
        stored: Stored,
        table: ScoreTable,
        calibration: Option<AppliedCalibration>,
    }
    let mut sets = Vec::new();
    for (name, paths) in &cfg.sets {
        let (stored, mut table) = compare_set(name, paths, &cfg.labels)?;
        let calibration = cfg.calibrations.iter().find(|(n, _)| n == name).map(|(_, c)| c.clone());
        if let Some(c) = &calibration {
            c.cal.check_scorer(stored.scorer.as_ref()).with_context(|| format!("--calibration {name}={}", c.source))?;
            let z = line_logits(&table, &stored.lines);
            calibrate_table(&mut table, &z, c).with_context(|| format!("score set {name}"))?;
        }
        sets.push(Set { name: name.clone(), stored, table, calibration });
    }
    // Labels: the union over the sets (each set's `resolved` columns and --labels).
    let (first, rest) = sets.split_first_mut().expect("two or more sets");
    for s in rest.iter() {
        same_candidates((&first.name, &mut first.table), (&s.name, &s.table))?;
    }
    let labels = first.table.label.clone();
    metrics::check_ks(&cfg.metrics.ks, first.table.n_runs()).map_err(|e| anyhow!(e))?;
    let mut entries = Vec::new();
    for Set { name, stored, mut table, calibration } in sets {
        table.label = labels.clone();
        let selected = select(&table);
        let m = metrics::compute(&table, &selected, &cfg.metrics).map_err(|e| anyhow!(e))?;
        let source = match stored.origin.contains(" + ") {
            true => stored.origin.clone(),
            false => stored.path.canonicalize().unwrap_or(stored.path.clone()).display().to_string(),
        };
        let e = Entry { name, source, scorer: stored.scorer, calibration, table, metrics: m, differences: None };
        entries.push((e, selected));
    }
    let base = entries.iter().position(|(e, _)| e.name == cfg.baseline).expect("checked by config");
    if let Ok(y) = entries[base].0.table.labels() {
        let keys = |t: &ScoreTable| -> (Vec<f64>, Vec<f64>) {
            (0..t.score.len()).map(|i| (t.rank_score(i), t.order_key(i))).unzip()
        };
        let (base_scores, base_order) = keys(&entries[base].0.table);
        let base_sel = entries[base].1.clone();
        let ks = entries[base].0.metrics.ks.clone();
        for (e, sel) in entries.iter_mut().filter(|(e, _)| e.name != cfg.baseline) {
            let (s, o) = keys(&e.table);
            let a = Side { scores: &s, order: &o, selected: sel };
            let b = Side { scores: &base_scores, order: &base_order, selected: &base_sel };
            e.differences = Some(paired::differences(&a, &b, &y, e.table.n_runs(), &ks, &cfg.metrics));
        }
    }
    let warnings = unscored_differ(&entries.iter().map(|(e, _)| e).collect::<Vec<_>>())?;
    let c = Comparison {
        warnings,
        baseline: &cfg.baseline,
        entries: entries.into_iter().map(|(e, _)| e).collect(),
        opts: &cfg.metrics,
    };
    let mut out = OutDir::open(&cfg.out)?;
    let value = cmp::json(&c);
    out.write("compare.json", (serde_json::to_string_pretty(&value)? + "\n").as_bytes())?;
    out.write("compare.md", cmp::markdown(&c).as_bytes())?;
    out.write("compare.candidates.jsonl", cmp::candidates(&c).as_bytes())?;
    if let Some(svg) = cmp::svg(&c)? {
        crate::report::write_figure(&mut out, "compare.svg", &svg)?;
    }
    out.remove_stale(&["compare.svg", &crate::report::png::name_for("compare.svg")])?;
    if cfg.json {
        outln!("{value}");
    } else {
        out!("{}", cmp::summary(&c));
        outln!("{}", out.summary());
    }
    Ok(())
}

/// A warning for each score set whose unscored candidates differ from the first set's: ranked
/// last, they make two sets compare different things. An error under `--strict`.
fn unscored_differ(entries: &[&crate::report::compare::Entry]) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let Some((first, rest)) = entries.split_first() else { return Ok(out) };
    let n = |e: &crate::report::compare::Entry| e.table.unscored.iter().filter(|u| u.is_some()).count();
    for e in rest {
        let differ =
            first.table.unscored.iter().zip(&e.table.unscored).filter(|(a, b)| a.is_some() != b.is_some()).count();
        if differ > 0 {
            let msg = format!(
                "score sets {} and {} leave different candidates unscored ({} vs {}, {differ} differ): unscored candidates rank last, so the two compare different things",
                first.name,
                e.name,
                n(first),
                n(e)
            );
            if STRICT.load(std::sync::atomic::Ordering::Relaxed) {
                bail!("{msg} (--strict)");
            }
            eprintln!("swerm: warning: {msg}");
            out.push(msg);
        }
    }
    Ok(out)
}

pub fn bench(cfg: crate::bench::BenchConfig) -> Result<()> {
    let rows = crate::bench::run(&cfg)?;
    out!("{}", crate::bench::table(&rows, cfg.peak_tflops));
    Ok(())
}
