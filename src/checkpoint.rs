//! Finds a checkpoint's files: a local directory, or a hub id fetched with hf-hub into the
//! HF_HOME cache (`--revision`; with HF_HUB_OFFLINE=1 only the cache is read). Weights are one
//! `model.safetensors` or the shards named by `model.safetensors.index.json`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use serde_json::Value;

use crate::hub;

#[derive(Clone, Debug)]
pub(crate) struct Checkpoint {
    /// What the user named (a directory or `org/name@revision`), for messages and the cache key.
    pub(crate) name: String,
    pub(crate) config: PathBuf,
    pub(crate) tokenizer: PathBuf,
    pub(crate) tokenizer_config: PathBuf,
    /// `chat_template.jinja`, where newer transformers versions save the template.
    pub(crate) chat_template: Option<PathBuf>,
    /// `generation_config.json` (its end-of-sequence tokens), when the checkpoint has one.
    pub(crate) generation_config: Option<PathBuf>,
    /// Safetensors files, sorted.
    pub(crate) weights: Vec<PathBuf>,
}

impl Checkpoint {
    /// Whether tokenizer.json's `added_tokens` hold every one of `tokens` (by content).
    pub(crate) fn adds_tokens(&self, tokens: &[&str]) -> Result<bool> {
        #[derive(serde::Deserialize)]
        struct Added {
            content: String,
        }
        #[derive(serde::Deserialize)]
        struct Tok {
            #[serde(default)]
            added_tokens: Vec<Added>,
        }
        let path = &self.tokenizer;
        let file = std::fs::File::open(path).with_context(|| format!("{}: cannot read", path.display()))?;
        let tok: Tok = serde_json::from_reader(std::io::BufReader::new(file))
            .map_err(|e| anyhow!("{}: field `added_tokens`: {e}", path.display()))?;
        Ok(tokens.iter().all(|t| tok.added_tokens.iter().any(|a| a.content == *t)))
    }

    /// The end-of-sequence token ids generation stops at, as transformers' `generate` takes
    /// them: `eos_token_id` (one id or a list) of generation_config.json, else of config.json;
    /// none when neither names any.
    pub(crate) fn eos_ids(&self) -> Result<Vec<u32>> {
        for path in self.generation_config.iter().chain([&self.config]) {
            let text = std::fs::read_to_string(path).with_context(|| format!("{}: cannot read", path.display()))?;
            let v: Value = serde_json::from_str(&text).map_err(|e| anyhow!("{}: invalid JSON: {e}", path.display()))?;
            let bad = || anyhow!("{}: field `eos_token_id`: expected a token id or a list of them", path.display());
            let ids: Vec<u32> = match v.get("eos_token_id") {
                None | Some(Value::Null) => continue,
                Some(Value::Array(a)) => {
                    a.iter().map(|x| x.as_u64().map(|n| n as u32).ok_or_else(bad)).collect::<Result<_>>()?
                }
                Some(x) => vec![x.as_u64().ok_or_else(bad)? as u32],
            };
            return Ok(ids);
        }
        Ok(Vec::new())
    }
}

impl Checkpoint {
    /// What identifies scores made with this checkpoint wherever it lies: SHA-256 over
    /// config.json, tokenizer.json, tokenizer_config.json and chat_template.jinja (each named,
    /// sized and whole: they decide the prompts and the shape), and over each weights file (by
    /// name): its size, its safetensors header (every tensor's name, dtype, shape and offsets)
    /// and three 64 KiB samples of its data (after the header, at the middle, at the end).
    ///
    /// Decision (no full hash of the weights): tens of GB would be read before every run. The
    /// header and sizes tell architectures and shardings apart; the samples tell apart two
    /// checkpoints of one architecture (a fine-tune and its base), whose headers are alike. A
    /// checkpoint whose weights are not at hand (a hub id not yet downloaded) is known by its
    /// small files alone, with its `repo@revision` (`ModelRef::digest`).
    pub(crate) fn digest(&self) -> Result<String> {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        let mut small = vec![("config.json", &self.config), ("tokenizer.json", &self.tokenizer)];
        small.push(("tokenizer_config.json", &self.tokenizer_config));
        if let Some(t) = &self.chat_template {
            small.push(("chat_template.jinja", t));
        }
        for (name, path) in small {
            let bytes = std::fs::read(path).with_context(|| format!("{}: cannot read", path.display()))?;
            h.update(format!("{name}\0{}\0", bytes.len()));
            h.update(&bytes);
        }
        for w in &self.weights {
            let name = w.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            h.update(format!("{name}\0"));
            h.update(weights_fingerprint(w)?);
        }
        Ok(format!("sha256:{}", hex(&h.finalize())))
    }
}

/// A safetensors file's size, header and three 64 KiB samples of its data (`Checkpoint::digest`).
fn weights_fingerprint(path: &Path) -> Result<Vec<u8>> {
    use std::io::{Read, Seek, SeekFrom};
    let err = || format!("{}: cannot read", path.display());
    let mut f = std::fs::File::open(path).with_context(err)?;
    let size = f.metadata().with_context(err)?.len();
    let mut out = size.to_le_bytes().to_vec();
    let mut len = [0u8; 8];
    f.read_exact(&mut len)
        .with_context(|| format!("{}: not a safetensors file (shorter than 8 bytes)", path.display()))?;
    let header_len = u64::from_le_bytes(len);
    if header_len > size.saturating_sub(8) || header_len > 100 << 20 {
        bail!("{}: not a safetensors file: header too large ({header_len} bytes in a file of {size})", path.display());
    }
    let mut header = vec![0u8; header_len as usize];
    f.read_exact(&mut header).with_context(err)?;
    out.extend_from_slice(&header);
    const SAMPLE: u64 = 64 << 10;
    let data = 8 + header_len;
    let mid = data + (size - data) / 2;
    for at in [data, mid.saturating_sub(SAMPLE / 2).max(data), size.saturating_sub(SAMPLE).max(data)] {
        f.seek(SeekFrom::Start(at)).with_context(err)?;
        let mut buf = Vec::with_capacity(SAMPLE as usize);
        (&mut f).take(SAMPLE).read_to_end(&mut buf).with_context(err)?;
        out.extend_from_slice(&buf);
    }
    Ok(out)
}

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `--rope-scaling`: what the forward uses, whatever config.json says.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum RopeChoice {
    /// config.json's own (the default).
    #[default]
    Config,
    /// Plain RoPE.
    None,
    /// YaRN with this factor over `max_position_embeddings` (SWE-Lego's inference).
    Yarn(f64),
}

impl std::str::FromStr for RopeChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "config" => Ok(RopeChoice::Config),
            "none" => Ok(RopeChoice::None),
            _ => match s.strip_prefix("yarn:").map(str::parse::<f64>) {
                Some(Ok(f)) if f.is_finite() && f > 1.0 => Ok(RopeChoice::Yarn(f)),
                _ => Err(format!("{s:?}: expected config, none or yarn:FACTOR (a factor above 1, such as yarn:4)")),
            },
        }
    }
}

impl std::fmt::Display for RopeChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RopeChoice::Config => f.write_str("config"),
            RopeChoice::None => f.write_str("none"),
            RopeChoice::Yarn(x) => write!(f, "yarn:{x}"),
        }
    }
}

impl Checkpoint {
    /// The context the forward handles under `rope`: `max_position_embeddings`, or with YaRN
    /// (config.json's, or `--rope-scaling yarn:F`) the original context times the factor.
    /// `None` when config.json says neither (or cannot be read: the model stage reports that).
    pub(crate) fn context(&self, rope: RopeChoice) -> Option<usize> {
        let text = std::fs::read_to_string(&self.config).ok()?;
        let v: Value = serde_json::from_str(&text).ok()?;
        let max = v.get("max_position_embeddings").and_then(Value::as_u64).map(|n| n as usize);
        let yarn =
            rope_params(&v).filter(|p| p.get("rope_type").or(p.get("type")).and_then(Value::as_str) == Some("yarn"));
        let own = yarn.and_then(|p| {
            let original =
                p.get("original_max_position_embeddings").and_then(Value::as_u64).map(|n| n as usize).or(max)?;
            let factor = p.get("factor").and_then(Value::as_f64).unwrap_or(max? as f64 / original as f64);
            Some((original as f64 * factor) as usize)
        });
        match rope {
            RopeChoice::Config => own.or(max),
            RopeChoice::None => max,
            RopeChoice::Yarn(f) => max.map(|m| (m as f64 * f) as usize),
        }
    }

    /// Whether config.json carries YaRN rope scaling of its own.
    pub(crate) fn has_rope_scaling(&self) -> bool {
        let Ok(text) = std::fs::read_to_string(&self.config) else { return false };
        let Ok(v) = serde_json::from_str::<Value>(&text) else { return false };
        rope_params(&v).is_some()
    }
}

/// config.json's rope parameters that scale (`rope_parameters` or `rope_scaling` with a type
/// other than `default`), as `ModelConfig` picks them.
fn rope_params(v: &Value) -> Option<&Value> {
    let scales =
        |p: &&Value| p.get("rope_type").or(p.get("type")).and_then(Value::as_str).is_some_and(|t| t != "default");
    v.get("rope_parameters").filter(scales).or(v.get("rope_scaling").filter(scales))
}

/// Where files come from.
enum Files {
    Dir(PathBuf),
    Cache { repo_dir: PathBuf, commit: String },
    Hub(Box<hf_hub::api::sync::ApiRepo>),
}

impl Files {
    fn get(&self, file: &str) -> Result<Option<PathBuf>> {
        match self {
            Files::Dir(d) => present(d.join(file)),
            Files::Cache { repo_dir, commit } => present(repo_dir.join("snapshots").join(commit).join(file)),
            Files::Hub(api) => match api.get(file) {
                Ok(p) => Ok(Some(p)),
                Err(hf_hub::api::sync::ApiError::RequestError(e)) if hub::is_not_found(&e) => Ok(None),
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

/// A verifier checkpoint as the user named it (`--model`, `--revision`): a local folder or a
/// hub id at a revision. Validated once, when the settings are built; located when used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelRef {
    pub(crate) model: String,
    pub(crate) revision: Option<String>,
}

impl ModelRef {
    /// Finds its files ([`locate`]).
    pub(crate) fn locate(&self, with_weights: bool) -> Result<Checkpoint> {
        locate(&self.model, self.revision.as_deref(), with_weights)
    }

    /// The name scores made with it are shown by (information, not identity: `digest` is): a
    /// local folder's canonical path, else `<hub id>@<revision>` (`main` when none was given).
    pub(crate) fn name(&self) -> String {
        match Path::new(&self.model).canonicalize() {
            Ok(p) if p.is_dir() => p.display().to_string(),
            _ => format!("{}@{}", self.model, self.revision.as_deref().unwrap_or("main")),
        }
    }

    /// What identifies its scores (`Checkpoint::digest`): the same files at another path give
    /// the same digest. Weights are only listed where they are at hand (a local folder, the
    /// hub cache); a hub checkpoint not downloaded yet is digested by its small files and named
    /// `repo@revision`, so nothing large is fetched before the store is checked.
    pub(crate) fn digest(&self) -> Result<String> {
        if Path::new(&self.model).is_dir() {
            return self.locate(true)?.digest();
        }
        let ck = match self.locate_cached_weights() {
            Some(ck) => ck,
            None => self.locate(false)?,
        };
        let d = ck.digest()?;
        Ok(if ck.weights.is_empty() { format!("{d}+{}", self.name()) } else { d })
    }

    /// The checkpoint with its weights when they are all in the hub cache already.
    fn locate_cached_weights(&self) -> Option<Checkpoint> {
        let rev = self.revision.as_deref().unwrap_or("main");
        hub::cached(&self.model, hf_hub::RepoType::Model, rev).commit?;
        self.locate(true).ok()
    }
}

/// Only hub files are fetched; `weights` are only listed when `with_weights` (render needs none).
pub(crate) fn locate(model: &str, revision: Option<&str>, with_weights: bool) -> Result<Checkpoint> {
    let local = Path::new(model);
    let (source, name) = if local.is_dir() {
        (Files::Dir(local.to_path_buf()), model.to_string())
    } else if local.exists() {
        bail!("--model {model}: not a directory (give a checkpoint directory or a hub id such as org/name)");
    } else {
        if !hub::is_repo_id(model) {
            bail!("--model {model}: no such directory, and not a hub id (org/name)");
        }
        let rev = revision.unwrap_or("main");
        let name = format!("{model}@{rev}");
        let cached = hub::cached(model, hf_hub::RepoType::Model, rev);
        match cached.commit {
            Some(commit) => (Files::Cache { repo_dir: cached.repo_dir, commit }, name),
            None if hub::offline() => bail!(
                "--model {model}: revision {rev} is not in the cache {} and HF_HUB_OFFLINE is set",
                cached.cache.path().display()
            ),
            None => {
                let repo =
                    hub::api(model, hf_hub::RepoType::Model, rev, &cached.cache).map_err(|e| anyhow!("--model {e}"))?;
                (Files::Hub(Box::new(repo)), name)
            }
        }
    };
    let need = |f: &str| -> Result<PathBuf> { source.get(f)?.ok_or_else(|| anyhow!("--model {name}: no {f}")) };
    let config = need("config.json")?;
    let tokenizer = need("tokenizer.json")?;
    let tokenizer_config = need("tokenizer_config.json")?;
    let chat_template = source.get("chat_template.jinja")?;
    let generation_config = source.get("generation_config.json")?;
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
    Ok(Checkpoint { name, config, tokenizer, tokenizer_config, chat_template, generation_config, weights })
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
