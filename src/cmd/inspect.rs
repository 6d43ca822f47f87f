//! `swerm inspect MODEL`: what a checkpoint is and expects, before any preset is trusted with
//! it: architecture and size, context and rope, dtype, the answer tokens each preset would read
//! (added `<YES>`/`<NO>`, or the plain spellings, with their ids), whether the chat template
//! inserts a think block, a classification head's labels, and which presets and judges fit it.
//! Read offline from a directory or the hub cache, as `--model` is; no weight is read.

use anyhow::Result;
use serde::Serialize;
use serde_json::Value;

use crate::checkpoint::{ModelRef, RopeChoice};
use crate::model::{Arch, ModelConfig};
use crate::prompt::{Preset, PromptSpec, Prompter};

/// What `inspect` found (the `--json` output; the text output says the same).
#[derive(Serialize)]
struct Inspection {
    model: String,
    architecture: String,
    /// `causal` (YES/NO verifiers, pairwise judges) or `classification` (a critic head).
    kind: &'static str,
    layers: usize,
    hidden_size: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    experts: Option<String>,
    parameters: u64,
    active_parameters: u64,
    /// `max_position_embeddings`.
    context: Option<usize>,
    rope_theta: f64,
    /// config.json's rope scaling (`yarn x4 over 32768`), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    rope_scaling: Option<String>,
    dtype: Option<String>,
    /// The tokenizer adds `<YES>` and `<NO>` (SWE-RM's answers, as described).
    adds_yes_no: bool,
    /// The answer tokens each preset would read, with their ids.
    answers: Vec<Answers>,
    /// Whether the chat template puts a think block before the answer.
    think_block: ThinkBlock,
    #[serde(skip_serializing_if = "Option::is_none")]
    labels: Option<Vec<String>>,
    /// The presets and judges that fit, each with why.
    fits: Vec<Fit>,
    /// Why nothing fits, when nothing does.
    #[serde(skip_serializing_if = "Option::is_none")]
    fits_nothing: Option<String>,
}

#[derive(Serialize)]
struct Answers {
    preset: &'static str,
    yes: Vec<(String, Option<u32>)>,
    no: Vec<(String, Option<u32>)>,
}

#[derive(Serialize)]
struct ThinkBlock {
    /// Rendering `[system, user, assistant "<judgement>"]` without a generation prompt (swegym).
    before_assistant_turn: bool,
    /// Rendering `[system, user]` with the generation prompt (r2egym, swelego).
    after_generation_prompt: bool,
}

#[derive(Serialize)]
struct Fit {
    what: String,
    why: String,
}

pub(crate) fn inspect(model: &ModelRef, json: bool) -> Result<()> {
    let i = examine(model)?;
    if json {
        outln!("{}", serde_json::to_string(&i).expect("serializes"));
    } else {
        out!("{}", text(&i));
    }
    Ok(())
}

fn examine(model: &ModelRef) -> Result<Inspection> {
    let ck = model.locate(false)?;
    let raw: Value = serde_json::from_str(&std::fs::read_to_string(&ck.config)?)?;
    let architecture = raw
        .get("architectures")
        .and_then(|a| a.get(0))
        .and_then(Value::as_str)
        .or(raw.get("model_type").and_then(Value::as_str))
        .unwrap_or("unknown")
        .to_string();
    let cfg = match ModelConfig::load(&ck.config) {
        Ok(c) => c,
        Err(e) => {
            // A checkpoint swerm cannot run: say so plainly, with what config.json says.
            return Ok(Inspection {
                model: ck.name.clone(),
                architecture,
                kind: "unsupported",
                layers: 0,
                hidden_size: 0,
                experts: None,
                parameters: 0,
                active_parameters: 0,
                context: raw.get("max_position_embeddings").and_then(Value::as_u64).map(|n| n as usize),
                rope_theta: 0.0,
                rope_scaling: None,
                dtype: None,
                adds_yes_no: false,
                answers: Vec::new(),
                think_block: ThinkBlock { before_assistant_turn: false, after_generation_prompt: false },
                labels: None,
                fits: Vec::new(),
                fits_nothing: Some(format!(
                    "{e:#}: swerm runs Qwen3-MoE, Qwen3 and Qwen2 decoders and their classification heads"
                )),
            });
        }
    };
    // A limit given, so no note about the context: only the tokenizer is used here.
    let spec = PromptSpec::new(Preset::SweGym, Some(1 << 30), None, Some(RopeChoice::Config))?;
    let prompter = Prompter::new(&ck, &spec)?;
    let id = |s: &str| -> Option<u32> {
        match prompter.encode(s).ok()?.as_slice() {
            [one] => Some(*one),
            _ => None,
        }
    };
    let adds_yes_no = ck.adds_tokens(&["<YES>", "<NO>"])?;
    let pair = |preset: &'static str, yes: &[&str], no: &[&str]| Answers {
        preset,
        yes: yes.iter().map(|s| (s.to_string(), id(s))).collect(),
        no: no.iter().map(|s| (s.to_string(), id(s))).collect(),
    };
    let mut answers = Vec::new();
    if adds_yes_no {
        answers.push(pair("swegym", &["<YES>"], &["<NO>"]));
    }
    answers.push(pair("swegym", &[" YES"], &[" NO"]));
    answers.push(pair("r2egym", &["YES"], &["NO"]));
    let (ly, ln) = crate::prompt::swelego::ANSWERS;
    let first = |s: &str| prompter.encode(s).ok().and_then(|ids| ids.first().copied());
    answers.push(Answers {
        preset: "swelego",
        yes: ly.iter().map(|s| (s.to_string(), first(s))).collect(),
        no: ln.iter().map(|s| (s.to_string(), first(s))).collect(),
    });
    let think_block = think(&ck)?;
    let labels = cfg.classifier.as_ref().map(|c| c.labels.clone());
    let (fits, fits_nothing) = fits(&cfg, &answers, adds_yes_no, id("A").is_some() && id("B").is_some());
    let m = cfg.moe.as_ref();
    Ok(Inspection {
        model: ck.name.clone(),
        architecture,
        kind: if cfg.classifier.is_some() { "classification" } else { "causal" },
        layers: cfg.num_layers,
        hidden_size: cfg.hidden_size,
        experts: m.map(|m| format!("{} experts, {} active per token", m.num_experts, m.top_k)),
        parameters: cfg.total_params(),
        active_parameters: cfg.active_linear_params(),
        context: cfg.max_positions,
        rope_theta: cfg.rope_theta,
        rope_scaling: cfg.rope_scaling.map(|y| format!("yarn x{} over {}", y.factor, y.original_max_positions)),
        dtype: cfg.stored_dtype.clone(),
        adds_yes_no,
        answers,
        think_block,
        labels,
        fits,
        fits_nothing,
    })
}

/// Whether the chat template inserts `<think>` before the answer, both ways presets render.
fn think(ck: &crate::checkpoint::Checkpoint) -> Result<ThinkBlock> {
    let t = crate::prompt::template::ChatTemplate::from_tokenizer_config(
        &ck.tokenizer_config,
        ck.chat_template.as_deref(),
    )?;
    let before = t.render(&[("system", "S"), ("user", "U"), ("assistant", "<judgement>")], false)?;
    let after = t.render(&[("system", "S"), ("user", "U")], true)?;
    Ok(ThinkBlock {
        before_assistant_turn: before.contains("<think>"),
        after_generation_prompt: after.contains("<think>"),
    })
}

/// The presets and judges a checkpoint fits, and why; or why none does.
fn fits(cfg: &ModelConfig, answers: &[Answers], adds_yes_no: bool, ab: bool) -> (Vec<Fit>, Option<String>) {
    let mut out = Vec::new();
    let fit = |what: &str, why: String| Fit { what: what.into(), why };
    if let Some(c) = &cfg.classifier {
        out.push(fit(
            "--preset chat",
            format!(
                "a classification head ({} labels: the score is the probability of --label, default {})",
                c.labels.len(),
                if c.labels.iter().any(|l| l == "success") { "success" } else { "the first" }
            ),
        ));
        return (out, None);
    }
    let single = |a: &Answers| a.yes.iter().chain(&a.no).all(|(_, id)| id.is_some());
    if adds_yes_no {
        out.push(fit(
            "--preset swegym (SWE-RM)",
            "the tokenizer adds <YES> and <NO>: the answers SWE-RM is described with; the default with this checkpoint"
                .into(),
        ));
    }
    for a in answers.iter().filter(|a| a.preset != "swelego" && !(a.preset == "swegym" && a.yes[0].0 == "<YES>")) {
        if single(a) {
            let who = if a.preset == "swegym" {
                "SWE-Gym's verifier (Qwen2.5 32B); SWE-RM's prompt is unpublished: swegym is its closest"
            } else {
                "R2E-Gym's verifier"
            };
            out.push(fit(
                &format!("--preset {}", a.preset),
                format!("{who}; answers {:?}/{:?} are single tokens", a.yes[0].0, a.no[0].0),
            ));
        }
    }
    let lego = answers.iter().find(|a| a.preset == "swelego");
    if lego.is_some_and(|a| a.yes.iter().chain(&a.no).all(|(_, id)| id.is_some())) {
        let note = match (cfg.arch, cfg.rope_scaling) {
            (_, Some(_)) => "rope scaling from config.json",
            (Arch::Qwen3Moe | Arch::Qwen3, None) => "YaRN x4 added by default, as SWE-Lego's inference runs it",
            (Arch::Qwen2, None) => "YaRN x4 added by default (SWE-Lego's verifiers are Qwen3 models)",
        };
        out.push(fit("--preset swelego", format!("SWE-Lego's verifiers (Qwen3-MoE 30B-A3B, Qwen3 8B); {note}")));
    }
    if ab {
        out.push(fit("--pairwise", "A and B are single tokens: the same forward pass judges two candidates".into()));
    }
    if out.is_empty() {
        return (out, Some("no preset's answer strings are single tokens of this tokenizer: give --answer-tokens YES,NO with two single tokens".into()));
    }
    out.push(fit(
        "--preset cot --generate N (or --template FILE)",
        "a judge that reasons before its verdict (docs/spec/judges.md): swerm's own prompt, no checkpoint was trained on it"
            .into(),
    ));
    (out, None)
}

fn text(i: &Inspection) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(s, "{}: {} ({})", i.model, i.architecture, i.kind);
    if let Some(why) = &i.fits_nothing {
        let _ = writeln!(s, "fits no preset: {why}");
        return s;
    }
    let b = |n: u64| match n {
        n if n >= 1_000_000_000 => format!("{:.2}B", n as f64 / 1e9),
        n if n >= 1_000_000 => format!("{:.1}M", n as f64 / 1e6),
        n => format!("{:.1}k", n as f64 / 1e3),
    };
    let _ = writeln!(
        s,
        "size: {} layers, hidden {}{}; {} parameters, {} active per token (decoder linear layers)",
        i.layers,
        i.hidden_size,
        i.experts.as_ref().map(|e| format!(", {e}")).unwrap_or_default(),
        b(i.parameters),
        b(i.active_parameters)
    );
    let _ = writeln!(
        s,
        "context: {} tokens (max_position_embeddings); rope theta {}{}",
        i.context.map_or("unknown".into(), |c| c.to_string()),
        i.rope_theta,
        i.rope_scaling.as_ref().map(|r| format!(", {r}")).unwrap_or_else(|| ", no rope scaling".into())
    );
    let _ = writeln!(s, "dtype: {}", i.dtype.as_deref().unwrap_or("not stated"));
    let _ = writeln!(
        s,
        "chat template: {} think block before the assistant turn (swegym), {} after the generation prompt (r2egym, swelego)",
        if i.think_block.before_assistant_turn { "a" } else { "no" },
        if i.think_block.after_generation_prompt { "a" } else { "no" }
    );
    if let Some(l) = &i.labels {
        let _ = writeln!(s, "head labels: {}", l.join(", "));
    } else {
        let show = |v: &[(String, Option<u32>)]| {
            v.iter()
                .map(|(t, id)| format!("{t:?}={}", id.map_or("(several tokens)".into(), |i| i.to_string())))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let _ =
            writeln!(s, "answer tokens{}:", if i.adds_yes_no { " (the tokenizer adds <YES> and <NO>)" } else { "" });
        for a in &i.answers {
            let _ = writeln!(s, "  {:<8} yes {}  no {}", a.preset, show(&a.yes), show(&a.no));
        }
    }
    let _ = writeln!(s, "fits:");
    for f in &i.fits {
        let _ = writeln!(s, "  {}: {}", f.what, f.why);
    }
    s
}
