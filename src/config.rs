//! Validated settings built once from the command line; the pipeline never sees clap. Values
//! that clap could not type (enums, devices) are already typed by `cli`; what remains is
//! checked here, before any input is read.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Result, bail};

use crate::bench::{BenchConfig, BenchWeights};
use crate::cli;
use crate::input::{InputSpec, LoadOptions, read_instance_list};
use crate::metrics::MetricsOptions;
use crate::metrics::calibrate::{Calibration, Method};
use crate::prompt::Preset;
use crate::report::AppliedCalibration;
use crate::score::combine::{CombineSettings, Source, TieKey};
use crate::score::shard::Shard;
use crate::score::{EngineSettings, ModelFree, VerifierSettings};

pub struct Inputs {
    pub specs: Vec<InputSpec>,
    pub load: LoadOptions,
}

/// The scorer of a run: model-free, or an LM verifier with its settings, run here or on
/// inference engines.
pub enum ScorerChoice {
    ModelFree(ModelFree),
    Verifier(VerifierSettings),
    Remote(VerifierSettings, EngineSettings),
    Combined(CombineSettings),
}

/// `--combine`, `--weight`, `--scale`, `--tie-break`; and the record field a `field:` source
/// needs read.
fn combine_settings(a: &cli::RerankArgs) -> Result<(CombineSettings, Option<String>)> {
    let mut sources: Vec<(String, Source)> = Vec::new();
    for spec in &a.combine {
        let Some((name, what)) = spec.split_once('=').filter(|(n, w)| !n.is_empty() && !w.is_empty()) else {
            bail!("--combine {spec:?}: expected NAME=SOURCE (consensus, field:PATH or a scores file)");
        };
        let src = match what {
            "consensus" => Source::Consensus,
            _ => match what.parse::<ModelFree>() {
                Ok(ModelFree::Field(f)) => Source::Field(f),
                _ => Source::Store(vec![PathBuf::from(what)]),
            },
        };
        match (sources.iter_mut().find(|(n, _)| n == name), src) {
            (Some((_, Source::Store(paths))), Source::Store(more)) => paths.extend(more),
            (Some(_), _) => bail!("--combine: source name {name:?} is given twice"),
            (None, src) => sources.push((name.to_string(), src)),
        }
    }
    if sources.len() < 2 {
        bail!("--combine needs two or more sources");
    }
    let fields: Vec<&String> =
        sources.iter().filter_map(|(_, s)| if let Source::Field(f) = s { Some(f) } else { None }).collect();
    if fields.len() > 1 {
        bail!(
            "--combine: one field: source at a time (score another with `rerank --scorer field:PATH -o DIR` and combine DIR)"
        );
    }
    let index = |name: &str, what: &str| -> Result<usize> {
        sources.iter().position(|(n, _)| n == name).ok_or_else(|| {
            let names: Vec<&str> = sources.iter().map(|(n, _)| n.as_str()).collect();
            anyhow::anyhow!("{what} {name:?}: no --combine source of that name ({})", names.join(", "))
        })
    };
    let mut weights = vec![1.0; sources.len()];
    for w in &a.weight {
        let (name, v) = w.split_once('=').ok_or_else(|| anyhow::anyhow!("--weight {w:?}: expected NAME=W"))?;
        let v: f64 = v
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite())
            .ok_or_else(|| anyhow::anyhow!("--weight {w:?}: W must be a finite number"))?;
        weights[index(name, "--weight")?] = v;
    }
    let mut tie_break = Vec::new();
    for t in a.tie_break.iter().flat_map(|s| s.split(',')) {
        tie_break.push(if t == "run" { TieKey::Run } else { TieKey::Source(index(t, "--tie-break")?) });
    }
    let field = fields.first().map(|f| f.to_string());
    Ok((CombineSettings { sources, weights, scale: a.scale, tie_break }, field))
}

/// The verifier of `--model`: on the endpoints when `--endpoint` is given, else here.
fn verifier_choice(model: &str, a: &cli::ModelArgs) -> Result<ScorerChoice> {
    let v = verifier(model, a)?;
    let e = &a.engine;
    if e.endpoints.is_empty() {
        return Ok(ScorerChoice::Verifier(v));
    }
    if e.concurrency == 0 {
        bail!("--concurrency must be at least 1");
    }
    if e.request_timeout == 0 {
        bail!("--request-timeout must be at least 1 second");
    }
    let engine = EngineSettings {
        endpoints: e.endpoints.clone(),
        served_model: e.served_model.clone(),
        api: e.endpoint_api,
        concurrency: e.concurrency,
        retries: e.retries,
        timeout: Duration::from_secs(e.request_timeout),
        backoff: Duration::from_millis(250),
        api_key: crate::score::remote::ApiKey::from_env(e.api_key_env.as_deref())?,
    };
    Ok(ScorerChoice::Remote(v, engine))
}

pub struct Rerank {
    pub inputs: Inputs,
    pub scorer: ScorerChoice,
    /// `--labels` arguments (`FILE` or `RUN=FILE`: which, depends on the runs' names).
    pub labels: Vec<String>,
    pub out: PathBuf,
    pub overwrite: bool,
    pub name: String,
    pub metrics: MetricsOptions,
    pub quiet: bool,
    pub calibration: Option<AppliedCalibration>,
    pub output: cli::OutputArgs,
    /// `--tie-break` for a scorer other than `--combine` (whose chain is in its settings).
    pub tie_break: Vec<(String, Source)>,
}

pub struct Eval {
    /// One store, or shards to merge.
    pub scores: Vec<PathBuf>,
    pub labels: Vec<String>,
    pub out: PathBuf,
    pub metrics: MetricsOptions,
    pub calibration: Option<AppliedCalibration>,
    pub output: cli::OutputArgs,
}

pub struct Calibrate {
    pub scores: Vec<PathBuf>,
    pub labels: Vec<String>,
    pub method: Option<Method>,
    pub folds: usize,
    pub seed: u64,
    pub ece_bins: usize,
    pub out: PathBuf,
}

impl Calibrate {
    pub fn from_cli(a: cli::CalibrateArgs) -> Result<Self> {
        if a.folds < 2 {
            bail!("--folds must be at least 2");
        }
        if a.ece_bins == 0 {
            bail!("--ece-bins must be at least 1");
        }
        Ok(Calibrate {
            scores: a.scores,
            labels: a.labels,
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
    p.map(|p| Ok(AppliedCalibration { cal: Calibration::read(&p)?, source: p.display().to_string() })).transpose()
}

pub struct Select {
    pub inputs: Inputs,
    pub scores: Vec<PathBuf>,
    pub out: PathBuf,
    pub name: String,
    pub quiet: bool,
}

pub struct Score {
    pub inputs: Inputs,
    pub scorer: ScorerChoice,
    pub shard: Option<Shard>,
    pub calibration: Option<AppliedCalibration>,
    pub out: PathBuf,
    pub overwrite: bool,
    pub quiet: bool,
}

pub struct Render {
    pub inputs: Inputs,
    pub model: String,
    pub revision: Option<String>,
    pub preset: Preset,
    pub max_tokens: Option<usize>,
}

fn inputs(a: cli::InputArgs, score_field: Option<String>) -> Result<Inputs> {
    let instances = match a.instances {
        Some(p) => Some((p.clone(), read_instance_list(&p)?)),
        None => None,
    };
    Ok(Inputs { specs: a.inputs, load: LoadOptions { format: a.format, score_field, instances } })
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
    Ok(MetricsOptions { ks, ece_bins: a.ece_bins, bootstrap: a.bootstrap, seed: a.seed, level: 0.95 })
}

fn verifier(model: &str, a: &cli::ModelArgs) -> Result<VerifierSettings> {
    let answers = match &a.answer_tokens {
        None => {
            let (y, n) = a.prompt.preset.default_answers();
            (y.to_string(), n.to_string())
        }
        // Split at the comma only: spaces are part of the token (" YES, NO").
        Some(s) => match s.split_once(',') {
            Some((y, n)) if !y.is_empty() && !n.is_empty() => (y.to_string(), n.to_string()),
            _ => bail!("--answer-tokens {s:?}: expected YES,NO (two strings separated by a comma)"),
        },
    };
    if a.batch_tokens == 0 || a.batch_tokens >= crate::model::qwen::MAX_PASS_TOKENS {
        bail!("--batch-tokens must be between 1 and {}", crate::model::qwen::MAX_PASS_TOKENS - 1);
    }
    if a.prompt.max_tokens.is_some_and(|m| m < 64) {
        bail!("--max-tokens must be at least 64");
    }
    Ok(VerifierSettings {
        model: model.to_string(),
        revision: a.prompt.revision.clone(),
        preset: a.prompt.preset,
        max_tokens: a.prompt.max_tokens,
        answers,
        batch_tokens: a.batch_tokens,
        device: a.device,
        dtype: a.dtype,
    })
}

/// `--tie-break A,B` without `--combine`: each a source (consensus, field:PATH, or a scores
/// file or directory). Run order is refused: run names never decide a pick.
fn tie_break_sources(a: &cli::RerankArgs, score_field: &mut Option<String>) -> Result<Vec<(String, Source)>> {
    let mut out = Vec::new();
    for t in a.tie_break.iter().flat_map(|s| s.split(',')).filter(|t| !t.is_empty()) {
        let src = match t {
            "run" => bail!(
                "--tie-break run: without --combine, ties among different patches are broken by their content, never by run names; name a source (consensus, field:PATH or a scores file)"
            ),
            "consensus" => Source::Consensus,
            _ => match t.parse::<ModelFree>() {
                Ok(ModelFree::Field(f)) => {
                    match score_field {
                        Some(g) if *g != f => bail!(
                            "--tie-break {t}: the records give one field: score at a time, and {g} is already read"
                        ),
                        _ => *score_field = Some(f.clone()),
                    }
                    Source::Field(f)
                }
                _ => Source::Store(vec![PathBuf::from(t)]),
            },
        };
        out.push((t.to_string(), src));
    }
    Ok(out)
}

impl Rerank {
    pub fn from_cli(a: cli::RerankArgs, quiet: bool) -> Result<Self> {
        let (scorer, mut score_field) = match &a.model {
            _ if !a.combine.is_empty() => {
                let (c, field) = combine_settings(&a)?;
                (ScorerChoice::Combined(c), field)
            }
            Some(m) => (verifier_choice(m, &a.model_args)?, None),
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
            inputs: inputs(a.input, score_field)?,
            labels: a.labels,
            out: a.out,
            overwrite: a.overwrite,
            name: a.name,
            metrics: metrics(a.metrics)?,
            quiet,
            calibration: calibration(a.calibration)?,
            output: a.output,
        })
    }
}

impl Eval {
    pub fn from_cli(a: cli::EvalArgs) -> Result<Self> {
        Ok(Eval {
            calibration: calibration(a.calibration)?,
            scores: a.scores,
            labels: a.labels,
            out: a.out,
            metrics: metrics(a.metrics)?,
            output: a.output,
        })
    }
}

impl Select {
    pub fn from_cli(a: cli::SelectArgs, quiet: bool) -> Result<Self> {
        Ok(Select { inputs: inputs(a.input, None)?, scores: a.scores, out: a.out, name: a.name, quiet })
    }
}

impl Score {
    pub fn from_cli(a: cli::ScoreArgs, quiet: bool) -> Result<Self> {
        Ok(Score {
            scorer: verifier_choice(&a.model, &a.model_args)?,
            shard: a.shard,
            calibration: calibration(a.calibration)?,
            inputs: inputs(a.input, None)?,
            out: a.out,
            overwrite: a.overwrite,
            quiet,
        })
    }
}

impl Render {
    pub fn from_cli(a: cli::RenderArgs) -> Result<Self> {
        if a.prompt.max_tokens.is_some_and(|m| m < 64) {
            bail!("--max-tokens must be at least 64");
        }
        Ok(Render {
            inputs: inputs(a.input, None)?,
            model: a.model,
            revision: a.prompt.revision,
            preset: a.prompt.preset,
            max_tokens: a.prompt.max_tokens,
        })
    }
}

pub struct Compare {
    /// (name, its stores), names unique; several stores under one name merge (shards).
    pub sets: Vec<(String, Vec<PathBuf>)>,
    /// Calibrations to apply, by set name.
    pub calibrations: Vec<(String, AppliedCalibration)>,
    pub labels: Vec<String>,
    pub baseline: String,
    pub out: PathBuf,
    pub json: bool,
    pub metrics: MetricsOptions,
}

impl Compare {
    pub fn from_cli(a: cli::CompareArgs) -> Result<Self> {
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
        Ok(Compare { sets, calibrations, labels: a.labels, baseline, out: a.out, json: a.json, metrics })
    }
}

pub fn bench(a: cli::BenchArgs) -> Result<BenchConfig> {
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
