//! Finds a checkpoint's files: a local directory, or a hub id fetched with hf-hub into the
//! HF_HOME cache (`--revision`; with HF_HUB_OFFLINE=1 only the cache is read). Weights are one
//! `model.safetensors` or the shards named by `model.safetensors.index.json`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use serde_json::Value;

#[derive(Clone, Debug)]
pub struct Checkpoint {
    /// What the user named (a directory or `org/name@revision`), for messages and the cache key.
    pub name: String,
    pub config: PathBuf,
    pub tokenizer: PathBuf,
    pub tokenizer_config: PathBuf,
    /// `chat_template.jinja`, where newer transformers versions save the template.
    pub chat_template: Option<PathBuf>,
    /// Safetensors files, sorted.
    pub weights: Vec<PathBuf>,
}

/// The hub token, as huggingface_hub finds it: `HF_TOKEN` first, then the token file in
/// HF_HOME (`huggingface-cli login`). Only handed to hf-hub's client; never printed.
pub fn hub_token(cache: &hf_hub::Cache) -> Option<String> {
    std::env::var("HF_TOKEN").ok().map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).or_else(|| cache.token())
}

impl Checkpoint {
    /// `max_position_embeddings` of config.json: the longest sequence the model was trained
    /// for (`None` when config.json does not say, or cannot be read: the model stage reports
    /// a bad config.json by itself).
    pub fn max_positions(&self) -> Option<usize> {
        let text = std::fs::read_to_string(&self.config).ok()?;
        let v: serde_json::Value = serde_json::from_str(&text).ok()?;
        v.get("max_position_embeddings")?.as_u64().map(|n| n as usize)
    }
}

/// Where files come from.
enum Source {
    Dir(PathBuf),
    Cache { repo_dir: PathBuf, commit: String },
    Hub(Box<hf_hub::api::sync::ApiRepo>),
}

impl Source {
    fn get(&self, file: &str) -> Result<Option<PathBuf>> {
        match self {
            Source::Dir(d) => present(d.join(file)),
            Source::Cache { repo_dir, commit } => present(repo_dir.join("snapshots").join(commit).join(file)),
            Source::Hub(api) => match api.get(file) {
                Ok(p) => Ok(Some(p)),
                Err(hf_hub::api::sync::ApiError::RequestError(e)) if is_not_found(&e) => Ok(None),
                Err(e) => Err(anyhow!("downloading {file}: {e}")),
            },
        }
    }
}

/// `p` when it is there; `None` when it is not; an error when it is a broken symlink (a
/// checkpoint copied without the file its link points to is not a checkpoint without the file).
fn present(p: PathBuf) -> Result<Option<PathBuf>> {
    if p.exists() {
        return Ok(Some(p));
    }
    match std::fs::read_link(&p) {
        Ok(target) => bail!("{} is a broken symlink (to {}, which does not exist)", p.display(), target.display()),
        Err(_) => Ok(None),
    }
}

fn is_not_found(e: &ureq::Error) -> bool {
    matches!(e, ureq::Error::Status(404, _))
}

/// Only hub files are fetched; `weights` are only listed when `with_weights` (render needs none).
pub fn locate(model: &str, revision: Option<&str>, with_weights: bool) -> Result<Checkpoint> {
    let local = Path::new(model);
    let (source, name) = if local.is_dir() {
        (Source::Dir(local.to_path_buf()), model.to_string())
    } else if local.exists() {
        bail!("--model {model}: not a directory (give a checkpoint directory or a hub id such as org/name)");
    } else {
        if !is_hub_id(model) {
            bail!("--model {model}: no such directory, and not a hub id (org/name)");
        }
        let rev = revision.unwrap_or("main");
        let name = format!("{model}@{rev}");
        let offline = std::env::var("HF_HUB_OFFLINE").is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"));
        let cache = hf_hub::Cache::from_env();
        let repo_dir = cache.path().join(format!("models--{}", model.replace('/', "--")));
        let commit = if is_commit(rev) {
            Some(rev.to_string())
        } else {
            std::fs::read_to_string(repo_dir.join("refs").join(rev)).ok().map(|s| s.trim().to_string())
        };
        match commit {
            Some(commit) if repo_dir.join("snapshots").join(&commit).is_dir() => {
                (Source::Cache { repo_dir, commit }, name)
            }
            _ if offline => bail!(
                "--model {model}: revision {rev} is not in the cache {} and HF_HUB_OFFLINE is set",
                cache.path().display()
            ),
            _ => {
                let api = hf_hub::api::sync::ApiBuilder::from_env()
                    .with_token(hub_token(&cache))
                    .with_progress(true)
                    .build()
                    .map_err(|e| anyhow!("--model {model}: cannot reach the hub: {e}"))?;
                let repo = hf_hub::Repo::with_revision(model.to_string(), hf_hub::RepoType::Model, rev.to_string());
                (Source::Hub(Box::new(api.repo(repo))), name)
            }
        }
    };
    let need = |f: &str| -> Result<PathBuf> { source.get(f)?.ok_or_else(|| anyhow!("--model {name}: no {f}")) };
    let config = need("config.json")?;
    let tokenizer = need("tokenizer.json")?;
    let tokenizer_config = need("tokenizer_config.json")?;
    let chat_template = source.get("chat_template.jinja")?;
    let mut weights = Vec::new();
    if with_weights {
        if let Some(index) = source.get("model.safetensors.index.json")? {
            for shard in shard_names(&index)? {
                weights.push(need(&shard)?);
            }
        } else if let Some(single) = source.get("model.safetensors")? {
            weights.push(single);
        } else {
            bail!(
                "--model {name}: no model.safetensors or model.safetensors.index.json (only safetensors weights are read)"
            );
        }
    }
    Ok(Checkpoint { name, config, tokenizer, tokenizer_config, chat_template, weights })
}

fn is_hub_id(s: &str) -> bool {
    let parts: Vec<&str> = s.split('/').collect();
    parts.len() == 2
        && parts.iter().all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)))
}

fn is_commit(s: &str) -> bool {
    s.len() == 40 && s.chars().all(|c| c.is_ascii_hexdigit())
}

/// The shard file names of a `model.safetensors.index.json`, sorted and deduplicated.
fn shard_names(index: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(index).with_context(|| format!("{}: cannot read", index.display()))?;
    let v: Value = serde_json::from_str(&text).map_err(|e| anyhow!("{}: invalid JSON: {e}", index.display()))?;
    let map = v
        .get("weight_map")
        .and_then(Value::as_object)
        .ok_or_else(|| anyhow!("{}: field `weight_map`: missing or not an object", index.display()))?;
    let mut names = BTreeSet::new();
    for (tensor, file) in map {
        let f = file
            .as_str()
            .ok_or_else(|| anyhow!("{}: field `weight_map.{tensor}`: expected a file name", index.display()))?;
        if f.contains('/') || f.contains("..") {
            bail!("{}: field `weight_map.{tensor}`: shard {f:?} is not a plain file name", index.display());
        }
        names.insert(f.to_string());
    }
    Ok(names.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hf_token_comes_before_the_token_file() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("hub")).unwrap();
        std::fs::write(d.path().join("token"), "hf_from_file\n").unwrap();
        let cache = hf_hub::Cache::new(d.path().join("hub"));
        // SAFETY (env): the only test that sets HF_TOKEN; nothing else reads it in the tests.
        unsafe { std::env::remove_var("HF_TOKEN") };
        assert_eq!(hub_token(&cache).as_deref(), Some("hf_from_file"));
        unsafe { std::env::set_var("HF_TOKEN", "hf_from_env") };
        assert_eq!(hub_token(&cache).as_deref(), Some("hf_from_env"));
        unsafe { std::env::set_var("HF_TOKEN", "  ") };
        assert_eq!(hub_token(&cache).as_deref(), Some("hf_from_file"), "a blank HF_TOKEN is no token");
        unsafe { std::env::remove_var("HF_TOKEN") };
        assert_eq!(hub_token(&hf_hub::Cache::new(d.path().join("none").join("hub"))), None);
    }
}
