//! Which scorer a run uses, validated: the model-free ones, the local verifier, the engines
//! behind `--endpoint`, `--combine` and its `--tie-break` chain.

use crate::cli;
use crate::score::combine::{CombineSettings, Source, TieKey};
use crate::score::{EngineSettings, JudgeSettings, LocalRun, ModelFree};
use anyhow::{Result, bail};
use std::path::PathBuf;
use std::time::Duration;

/// The scorer of a run: model-free, or an LM verifier with its settings, run here or on
/// inference engines.
pub(crate) enum ScorerChoice {
    ModelFree(ModelFree),
    /// A verifier run here: what it judges with, and where it runs.
    Verifier(JudgeSettings, LocalRun),
    /// A verifier run on inference engines (the device settings do not apply).
    Remote(JudgeSettings, EngineSettings),
    Combined(CombineSettings),
}
/// `--combine`, `--weight`, `--scale`, `--tie-break`; and the record field a `field:` source
/// needs read.
pub(super) fn combine_settings(a: &cli::RerankArgs) -> Result<(CombineSettings, Option<String>)> {
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
/// `seed`: the sampling seed of a judge that generates (`score --seed`; rerank's `--seed`).
pub(super) fn verifier_choice(model: &str, a: &cli::ModelArgs, seed: u64) -> Result<ScorerChoice> {
    let v = verifier(model, a, seed)?;
    let e = &a.engine;
    if e.endpoints.is_empty() {
        if a.batch_tokens == 0 || a.batch_tokens >= crate::model::qwen::MAX_PASS_TOKENS {
            bail!("--batch-tokens must be between 1 and {}", crate::model::qwen::MAX_PASS_TOKENS - 1);
        }
        a.device.check_build()?;
        return Ok(ScorerChoice::Verifier(
            v,
            LocalRun { batch_tokens: a.batch_tokens, device: a.device, dtype: a.dtype },
        ));
    }
    if e.concurrency == 0 {
        bail!("--concurrency must be at least 1");
    }
    if e.request_timeout == 0 {
        bail!("--request-timeout must be at least 1 second");
    }
    if e.endpoint_api == crate::score::remote::ApiChoice::Chat {
        use crate::prompt::Preset;
        match &v.generation {
            Some(g) if g.verdict == crate::score::Verdict::Parse => {}
            _ => bail!(
                "--endpoint-api chat gives text, not answer-token log-probabilities: it serves a judge that reasons first and whose verdict is parsed (--generate N --verdict parse)"
            ),
        }
        if !matches!(v.prompt.preset, Preset::Cot | Preset::Template) {
            bail!(
                "--endpoint-api chat sends messages: use --preset cot or --template FILE (the {:?} preset's prompt is a prefix of an answer, not turns)",
                v.prompt.preset
            );
        }
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
pub(super) fn verifier(model: &str, a: &cli::ModelArgs, seed: u64) -> Result<JudgeSettings> {
    if a.prompt.pairwise && a.answer_tokens.is_some() {
        bail!("--pairwise answers with the tokens A and B: --answer-tokens does not apply to it");
    }
    if a.prompt.pairwise && a.label.is_some() {
        bail!("--pairwise needs a causal LM (answers A and B): --label is for classification heads");
    }
    let prompt = super::prompt_spec(&a.prompt)?;
    let answers = match &a.answer_tokens {
        None if a.prompt.pairwise => {
            let (x, y) = crate::prompt::pairwise::ANSWERS;
            (x.to_string(), y.to_string())
        }
        None => {
            let (y, n) = prompt.preset.default_answers();
            (y.to_string(), n.to_string())
        }
        // Split at the comma only: spaces are part of the token (" YES, NO").
        Some(s) => match s.split_once(',') {
            Some((y, n)) if !y.is_empty() && !n.is_empty() => (y.to_string(), n.to_string()),
            _ => bail!("--answer-tokens {s:?}: expected YES,NO (two strings separated by a comma)"),
        },
    };
    let g = &a.generate;
    let generation = match g.generate {
        None if prompt.preset == crate::prompt::Preset::Cot => {
            bail!("--preset cot asks the judge to reason before its verdict: give --generate N (new tokens per sample)")
        }
        None => None,
        Some(_) if a.prompt.pairwise => {
            bail!("--generate: a pairwise judge reads A or B after one pass; it does not generate")
        }
        Some(_) if a.label.is_some() => bail!("--generate needs a causal LM: --label is for classification heads"),
        Some(n) => Some(
            crate::score::GenerationSpec::new(
                n,
                g.temperature,
                g.top_p,
                seed,
                g.stop.clone(),
                g.verdict,
                g.samples,
                g.answer_marker.clone(),
            )
            .map_err(anyhow::Error::msg)?,
        ),
    };
    Ok(JudgeSettings {
        generation,
        model: super::model_ref(model, &a.prompt),
        prompt,
        answers,
        answers_given: a.answer_tokens.is_some(),
        label: a.label.clone(),
        issues: super::issue_spec(&a.prompt)?,
    })
}
/// `--tie-break A,B` without `--combine`: each a source (consensus, field:PATH, or a scores
/// file or directory). Run order is refused: run names never decide a pick.
pub(super) fn tie_break_sources(
    a: &cli::RerankArgs,
    score_field: &mut Option<String>,
) -> Result<Vec<(String, Source)>> {
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
