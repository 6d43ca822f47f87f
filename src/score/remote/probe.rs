//! Before any candidate is sent: what each endpoint serves, whether it tokenizes like
//! `--model`, which API gives the answer tokens' log-probabilities, and whether every replica
//! answers a known prompt the same. A mismatch is refused here, before scoring.

use anyhow::{Result, anyhow, bail};
use serde_json::{Value, json};

use super::api::{Answer, Api, ApiChoice};
use super::client::{Client, Failure};

/// A fixed text with the chat template's markup, code and the answer words: a different
/// tokenizer (another model family, another vocabulary) tokenizes it differently.
pub(crate) const PROBE: &str = "<|im_start|>user\nWas the issue resolved? def f(x):\n    return x or 0  # naïve → 修正\n<|im_end|>\n<|im_start|>assistant\n<judgement>YES</judgement> NO";

/// What `/v1/models` says an endpoint serves.
#[derive(Debug)]
pub(crate) struct Served {
    pub(crate) model: String,
    pub(crate) engine: Option<String>,
    pub(crate) max_len: Option<usize>,
}

pub(crate) fn served(c: &Client, want: Option<&str>) -> Result<Served> {
    let v = c.retrying(|c| c.get("/v1/models")).map_err(|f| anyhow!("{}/v1/models: {}", c.url, f.message()))?;
    let data = v.get("data").and_then(Value::as_array).ok_or_else(|| anyhow!("{}/v1/models: no `data` list", c.url))?;
    let ids: Vec<&str> = data.iter().filter_map(|m| m.get("id").and_then(Value::as_str)).collect();
    let pick = match want {
        Some(w) => data
            .iter()
            .find(|m| m.get("id").and_then(Value::as_str) == Some(w))
            .ok_or_else(|| anyhow!("{} serves {} but not --served-model {w:?}", c.url, ids.join(", ")))?,
        None if data.len() == 1 => &data[0],
        None => bail!("{} serves {} models ({}); choose one with --served-model", c.url, ids.len(), ids.join(", ")),
    };
    Ok(Served {
        model: pick.get("id").and_then(Value::as_str).unwrap_or_default().to_string(),
        engine: pick.get("owned_by").and_then(Value::as_str).map(str::to_string),
        max_len: pick.get("max_model_len").and_then(Value::as_u64).map(|n| n as usize),
    })
}

/// Refuses an endpoint whose tokenizer gives other ids than `ours` (`--model`'s) for
/// [`PROBE`]. Returns false when the endpoint offers no `/tokenize` (SGLang before it had one).
pub(crate) fn same_tokenizer(c: &Client, model: &str, ours: &[u32]) -> Result<bool> {
    let body = json!({"model": model, "prompt": PROBE, "add_special_tokens": false});
    let theirs = match c.retrying(|c| c.post("/tokenize", &body)) {
        Ok(v) => v,
        Err(Failure::Fatal { status: Some(404 | 405), .. }) => return Ok(false),
        Err(f) => bail!("{}/tokenize: {}", c.url, f.message()),
    };
    let theirs: Vec<u64> = theirs
        .get("tokens")
        .and_then(Value::as_array)
        .map(|t| t.iter().filter_map(Value::as_u64).collect())
        .ok_or_else(|| anyhow!("{}/tokenize: no `tokens` list", c.url))?;
    if theirs.iter().copied().ne(ours.iter().map(|&t| t as u64)) {
        let first = theirs.iter().zip(ours).position(|(a, &b)| *a != b as u64).unwrap_or(ours.len().min(theirs.len()));
        bail!(
            "{} serves {model:?}, which tokenizes a known text differently from --model ({} vs {} tokens, first difference at token {first}): it is another model; point --model at the served checkpoint",
            c.url,
            theirs.len(),
            ours.len()
        );
    }
    Ok(true)
}

/// The API to use with an endpoint, and its (yes, no) log-probabilities for `ids`.
pub(crate) fn api(
    c: &Client,
    served: &Served,
    choice: ApiChoice,
    ids: &[u32],
    answer: [u32; 2],
) -> Result<(Api, Answer)> {
    let tries: Vec<Api> = match choice {
        ApiChoice::Chat => bail!("--endpoint-api chat gives text, not answer-token log-probabilities"),
        ApiChoice::Fixed(a) => vec![a],
        ApiChoice::Auto if served.engine.as_deref() == Some("sglang") => vec![Api::Sglang, Api::SglangScore],
        ApiChoice::Auto => vec![Api::VllmTokenIds, Api::PromptLogprobs],
    };
    let mut why = Vec::new();
    for a in tries {
        let (path, body) = a.request(&served.model, ids, answer);
        match c.retrying(|c| c.post(path, &body)) {
            Ok(v) => match a.parse(&v, answer) {
                Ok(got) => match a.check_length(&v, ids.len()) {
                    Ok(checked) => {
                        if !checked {
                            crate::console::caution(
                                None,
                                &format!(
                                    "{} ({a}) reports no count of the prompt tokens it reads: a prompt it truncates cannot be told",
                                    c.url
                                ),
                            );
                        }
                        return Ok((a, got));
                    }
                    Err(m) => why.push(format!("{a}: on a known prompt, {m}")),
                },
                Err(m) => why.push(format!("{a}: {m}")),
            },
            Err(Failure::Retry(m)) => bail!("{}{path}: {m}", c.url),
            Err(Failure::Fatal { msg, .. }) => why.push(format!("{a}: {msg}")),
        }
    }
    bail!("{} gives no exact answer-token log-probabilities ({}); see --endpoint-api", c.url, why.join("; "))
}
