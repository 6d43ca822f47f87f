//! Validated settings built once from the command line; the pipeline never sees clap. Values
//! that clap could not type (enums, devices) are already typed by `cli`; what remains is
//! checked here, before any input is read.

use std::path::PathBuf;

use anyhow::{Result, bail};

use crate::bench::{BenchConfig, BenchWeights};
use crate::calibrate::Applied as AppliedCalibration;
use crate::calibrate::Method;
use crate::checkpoint::ModelRef;
use crate::cli;
use crate::input::issues::IssueSpec;
use crate::input::{InputSpec, LoadOptions, read_instance_list};
use crate::metrics::MetricsOptions;
use crate::prompt::PromptSpec;
use crate::score::ModelFree;
use crate::score::combine::Source;
use crate::score::shard::Shard;

mod scorer;
pub(crate) use scorer::ScorerChoice;
use scorer::{combine_settings, tie_break_sources, verifier_choice};

/// A subcommand with its settings validated: clap's types end here, and every check that needs
/// no input (flags, files named, whether this build has CUDA for `--device cuda`) is made
/// before any input is read.
pub enum Command {
    Rerank(Box<Rerank>),
    Eval(Box<Eval>),
    Select(Box<Select>),
    Score(Box<Score>),
    Render(Box<Render>),
    Calibrate(Box<Calibrate>),
    Compare(Box<Compare>),
    Bench(Box<BenchConfig>),
    Selftest(crate::model::device::DeviceSpec),
    /// `swerm inspect MODEL [--json]`.
    Inspect(ModelRef, bool),
    Completions(clap_complete::Shell),
    Man(Option<PathBuf>),
}

impl Command {
    pub fn from_cli(c: cli::Command) -> Result<Command> {
        use cli::Command as C;
        Ok(match c {
            C::Rerank(a) => Command::Rerank(Box::new(Rerank::from_cli(*a)?)),
            C::Eval(a) => Command::Eval(Box::new(Eval::from_cli(a)?)),
            C::Select(a) => Command::Select(Box::new(Select::from_cli(a)?)),
            C::Score(a) => Command::Score(Box::new(Score::from_cli(*a)?)),
            C::Render(a) => Command::Render(Box::new(Render::from_cli(*a)?)),
            C::Calibrate(a) => Command::Calibrate(Box::new(Calibrate::from_cli(a)?)),
            C::Compare(a) => Command::Compare(Box::new(Compare::from_cli(a)?)),
            C::Bench(a) => Command::Bench(Box::new(bench(a)?)),
            C::Selftest(a) => {
                a.device.check_build()?;
                Command::Selftest(a.device)
            }
            C::Completions(a) => Command::Completions(a.shell),
            C::Inspect(a) => Command::Inspect(ModelRef { model: a.model, revision: a.revision }, a.json),
            C::Man(a) => Command::Man(a.dir),
        })
    }
}

pub(crate) struct Inputs {
    pub(crate) specs: Vec<InputSpec>,
    pub(crate) load: LoadOptions,
    /// `--dataset`: where prompts find each instance's issue statement.
    pub(crate) issues: Option<IssueSpec>,
    /// A verifier reads prompts of these inputs (score, render, rerank --model).
    pub(crate) prompts: bool,
}

pub struct Rerank {
    pub(crate) inputs: Inputs,
    pub(crate) scorer: ScorerChoice,
    /// `--labels` arguments (`FILE` or `RUN=FILE`: which, depends on the runs' names).
    pub(crate) labels: Vec<String>,
    pub(crate) out: PathBuf,
    pub(crate) overwrite: bool,
    pub(crate) name: String,
    pub(crate) metrics: MetricsOptions,
    pub(crate) calibration: Option<AppliedCalibration>,
    pub(crate) output: Output,
    /// `--tie-break` for a scorer other than `--combine` (whose chain is in its settings).
    pub(crate) tie_break: Vec<(String, Source)>,
}

/// What rerank and eval print at the end, and the gates they check (`--json`, `--fail-under`).
pub(crate) struct Output {
    pub(crate) json: bool,
    pub(crate) fail_under: Vec<crate::metrics::gate::Gate>,
}

impl Output {
    fn from_cli(a: cli::OutputArgs) -> Output {
        Output { json: a.json, fail_under: a.fail_under }
    }
}

/// `--instances FILE` of a command that reads stores: the file and its ids.
pub(crate) type InstanceList = Option<(PathBuf, Vec<String>)>;

fn instance_list(p: Option<PathBuf>) -> Result<InstanceList> {
    p.map(|p| Ok((p.clone(), read_instance_list(&p)?))).transpose()
}

pub struct Eval {
    /// One store, or shards to merge.
    pub(crate) scores: Vec<PathBuf>,
    pub(crate) instances: InstanceList,
    pub(crate) labels: Vec<String>,
    pub(crate) out: PathBuf,
    pub(crate) metrics: MetricsOptions,
    pub(crate) calibration: Option<AppliedCalibration>,
    pub(crate) output: Output,
}

pub struct Calibrate {
    pub(crate) scores: Vec<PathBuf>,
    pub(crate) instances: InstanceList,
    pub(crate) labels: Vec<String>,
    pub(crate) method: Option<Method>,
    pub(crate) folds: usize,
    pub(crate) seed: u64,
    pub(crate) ece_bins: usize,
    pub(crate) out: PathBuf,
}

impl Calibrate {
    pub(crate) fn from_cli(a: cli::CalibrateArgs) -> Result<Self> {
        if a.folds < 2 {
            bail!("--folds must be at least 2");
        }
        if a.ece_bins == 0 {
            bail!("--ece-bins must be at least 1");
        }
        Ok(Calibrate {
            instances: instance_list(a.read_back.instances)?,
            scores: a.scores,
            labels: a.read_back.labels,
            method: a.method,
            folds: a.folds,
            seed: a.seed,
            ece_bins: a.ece_bins,
            out: a.out,
        })
    }
}

/// Reads a `--calibration` file (before any input).
fn calibration(p: Option<PathBuf>) -> Result<Option<AppliedCalibration>> {
    p.map(|p| AppliedCalibration::read(&p)).transpose()
}

pub struct Select {
    pub(crate) inputs: Inputs,
    pub(crate) scores: Vec<PathBuf>,
    pub(crate) out: PathBuf,
    pub(crate) name: String,
}

pub struct Score {
    pub(crate) inputs: Inputs,
    pub(crate) scorer: ScorerChoice,
    pub(crate) shard: Option<Shard>,
    pub(crate) calibration: Option<AppliedCalibration>,
    pub(crate) out: PathBuf,
    pub(crate) overwrite: bool,
}

pub struct Render {
    pub(crate) inputs: Inputs,
    pub(crate) model: ModelRef,
    pub(crate) prompt: PromptSpec,
    /// Print each prompt's token ids and the position its answer is read at.
    pub(crate) ids: bool,
}

/// The prompt settings of `--preset` and `--max-tokens`, validated (one place for both
/// commands that build prompts: a verifier's and render's).
fn prompt_spec(p: &cli::PromptArgs) -> Result<PromptSpec> {
    let pairwise = p.pairwise.then_some(crate::prompt::pairwise::PairwiseId {
        round_robin_max: crate::prompt::pairwise::ROUND_ROBIN_MAX,
        pivots: p.pivots,
    });
    let spec = PromptSpec::new(p.preset, p.max_tokens, pairwise, p.rope_scaling)?;
    let spec = PromptSpec { allow_privileged: p.allow_privileged, ..spec };
    match &p.template {
        Some(path) => spec.with_template(crate::prompt::UserTemplate::load(path)?, p.dataset.is_some()),
        None => Ok(spec),
    }
}

fn model_ref(model: &str, p: &cli::PromptArgs) -> ModelRef {
    ModelRef { model: model.to_string(), revision: p.revision.clone() }
}

fn inputs(a: cli::InputArgs, score_field: Option<String>, issues: Option<Option<IssueSpec>>) -> Result<Inputs> {
    let instances = instance_list(a.instances)?;
    // Without prompts no stage reads a patch's text: only its keys are kept (the selected
    // patches are read again for predictions.jsonl).
    let load = LoadOptions { format: a.format, score_field, instances, drop_patches: issues.is_none() };
    Ok(Inputs { specs: a.inputs, load, prompts: issues.is_some(), issues: issues.flatten() })
}

/// Rerank reads `--dataset` for a verifier only: the other scorers read no prompts.
fn rerank_issues(model: &Option<String>, p: &cli::PromptArgs) -> Result<Option<Option<IssueSpec>>> {
    match model {
        None if p.dataset.is_some() => {
            bail!("--dataset gives a verifier's prompts their issue statements: it needs --model")
        }
        None => Ok(None),
        Some(_) => issue_spec(p).map(Some),
    }
}

/// `--dataset` and `--split`, checked here (the dataset itself is read with the inputs).
fn issue_spec(p: &cli::PromptArgs) -> Result<Option<IssueSpec>> {
    match &p.dataset {
        Some(d) if d.trim().is_empty() => bail!("--dataset: empty"),
        Some(d) => Ok(Some(IssueSpec { dataset: d.clone(), split: p.split.clone() })),
        None => Ok(None),
    }
}

fn metrics(a: cli::MetricArgs) -> Result<MetricsOptions> {
    if a.ece_bins == 0 {
        bail!("--ece-bins must be at least 1");
    }
    if a.k.contains(&0) {
        bail!("-k 0: k must be at least 1");
    }
    let mut ks = a.k;
    ks.sort_unstable();
    ks.dedup();
    Ok(MetricsOptions {
        ks,
        gate_ks: Vec::new(),
        ece_bins: a.ece_bins,
        bootstrap: a.bootstrap,
        seed: a.seed,
        level: 0.95,
    })
}

/// The metrics options with the k values `--fail-under` gates name.
fn gated(mut m: MetricsOptions, o: &cli::OutputArgs) -> MetricsOptions {
    m.gate_ks = o.fail_under.iter().filter_map(|g| g.k()).collect();
    m.gate_ks.sort_unstable();
    m.gate_ks.dedup();
    m
}

impl Rerank {
    pub(crate) fn from_cli(a: cli::RerankArgs) -> Result<Self> {
        if a.model.is_none() && a.model_args.prompt.pairwise {
            bail!("--pairwise needs --model (the judge that compares two candidates)");
        }
        let (scorer, mut score_field) = match &a.model {
            _ if !a.combine.is_empty() => {
                let (c, field) = combine_settings(&a)?;
                (ScorerChoice::Combined(c), field)
            }
            Some(m) => (verifier_choice(m, &a.model_args, a.metrics.seed)?, None),
            None => {
                let field = match &a.scorer {
                    ModelFree::Field(f) => Some(f.clone()),
                    ModelFree::Consensus => None,
                };
                (ScorerChoice::ModelFree(a.scorer.clone()), field)
            }
        };
        let tie_break = if matches!(scorer, ScorerChoice::Combined(_)) {
            Vec::new()
        } else {
            tie_break_sources(&a, &mut score_field)?
        };
        Ok(Rerank {
            tie_break,
            scorer,
            inputs: inputs(a.input, score_field, rerank_issues(&a.model, &a.model_args.prompt)?)?,
            labels: a.labels,
            out: a.out,
            overwrite: a.overwrite,
            name: a.name,
            metrics: gated(metrics(a.metrics)?, &a.output),
            calibration: calibration(a.calibration)?,
            output: Output::from_cli(a.output),
        })
    }
}

impl Eval {
    pub(crate) fn from_cli(a: cli::EvalArgs) -> Result<Self> {
        Ok(Eval {
            instances: instance_list(a.read_back.instances)?,
            calibration: calibration(a.calibration)?,
            scores: a.scores,
            labels: a.read_back.labels,
            out: a.out,
            metrics: gated(metrics(a.metrics)?, &a.output),
            output: Output::from_cli(a.output),
        })
    }
}

impl Select {
    pub(crate) fn from_cli(a: cli::SelectArgs) -> Result<Self> {
        Ok(Select { inputs: inputs(a.input, None, None)?, scores: a.scores, out: a.out, name: a.name })
    }
}

impl Score {
    pub(crate) fn from_cli(a: cli::ScoreArgs) -> Result<Self> {
        Ok(Score {
            scorer: verifier_choice(&a.model, &a.model_args, a.seed)?,
            shard: a.shard,
            calibration: calibration(a.calibration)?,
            inputs: inputs(a.input, None, Some(issue_spec(&a.model_args.prompt)?))?,
            out: a.out,
            overwrite: a.overwrite,
        })
    }
}

impl Render {
    pub(crate) fn from_cli(a: cli::RenderArgs) -> Result<Self> {
        Ok(Render {
            prompt: prompt_spec(&a.prompt)?,
            model: model_ref(&a.model, &a.prompt),
            inputs: inputs(a.input, None, Some(issue_spec(&a.prompt)?))?,
            ids: a.ids,
        })
    }
}

pub struct Compare {
    /// (name, its stores), names unique; several stores under one name merge (shards).
    pub(crate) sets: Vec<(String, Vec<PathBuf>)>,
    /// Calibrations to apply, by set name.
    pub(crate) calibrations: Vec<(String, AppliedCalibration)>,
    pub(crate) labels: Vec<String>,
    pub(crate) instances: InstanceList,
    pub(crate) baseline: String,
    pub(crate) out: PathBuf,
    pub(crate) json: bool,
    pub(crate) metrics: MetricsOptions,
}

impl Compare {
    pub(crate) fn from_cli(a: cli::CompareArgs) -> Result<Self> {
        let mut sets: Vec<(String, Vec<PathBuf>)> = Vec::new();
        for spec in a.sets {
            let name = match spec.name {
                Some(n) => n,
                None => spec
                    .path
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .ok_or_else(|| {
                        anyhow::anyhow!("{}: give the score set a name: NAME=SCORES", spec.path.display())
                    })?,
            };
            match sets.iter_mut().find(|(n, _)| *n == name) {
                Some((_, paths)) => paths.push(spec.path),
                None => sets.push((name, vec![spec.path])),
            }
        }
        if sets.len() < 2 {
            bail!("compare needs two or more score sets (a name given twice merges its stores)");
        }
        let baseline = a.baseline.unwrap_or_else(|| sets[0].0.clone());
        if !sets.iter().any(|(n, _)| *n == baseline) {
            let names: Vec<&str> = sets.iter().map(|(n, _)| n.as_str()).collect();
            bail!("--baseline {baseline}: no score set of that name ({})", names.join(", "));
        }
        if a.bootstrap == 0 {
            bail!("--bootstrap must be at least 1: compare reports paired intervals");
        }
        let metrics = metrics(cli::MetricArgs { k: a.k, ece_bins: a.ece_bins, bootstrap: a.bootstrap, seed: a.seed })?;
        let mut calibrations = Vec::new();
        for c in &a.calibration {
            let Some((name, file)) = c.split_once('=').filter(|(n, f)| !n.is_empty() && !f.is_empty()) else {
                bail!("--calibration {c:?}: expected NAME=FILE (a score set's name and a cal.json)");
            };
            if !sets.iter().any(|(n, _)| n == name) {
                bail!("--calibration {c}: no score set named {name:?}");
            }
            if calibrations.iter().any(|(n, _)| n == name) {
                bail!("--calibration: score set {name:?} is given two calibrations");
            }
            let cal = calibration(Some(PathBuf::from(file)))?.expect("a file was given");
            calibrations.push((name.to_string(), cal));
        }
        Ok(Compare {
            sets,
            calibrations,
            labels: a.read_back.labels,
            instances: instance_list(a.read_back.instances)?,
            baseline,
            out: a.out,
            json: a.json,
            metrics,
        })
    }
}

pub(crate) fn bench(a: cli::BenchArgs) -> Result<BenchConfig> {
    a.device.check_build()?;
    if a.context.is_empty() || a.context.contains(&0) || a.batch_tokens == 0 {
        bail!("--context and --batch-tokens must be positive");
    }
    let max = crate::model::qwen::MAX_PASS_TOKENS;
    if a.batch_tokens >= max || a.context.iter().any(|&c| c >= max) {
        bail!("--context and --batch-tokens: a forward pass holds at most {} tokens", max - 1);
    }
    let weights = match (a.synthetic, a.model) {
        (Some(name), None) => BenchWeights::Synthetic(name),
        (None, Some(m)) => BenchWeights::Checkpoint(m),
        _ => bail!("give exactly one of --synthetic NAME and --model DIR"),
    };
    Ok(BenchConfig {
        weights,
        contexts: a.context,
        batch_tokens: a.batch_tokens,
        passes: a.passes,
        device: a.device,
        dtype: a.dtype,
        layers: a.layers,
        peak_tflops: a.peak_tflops,
        profile: a.profile,
    })
}
