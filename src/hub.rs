//! The Hugging Face hub, as huggingface_hub reads it: repository ids, the HF_HOME cache
//! (`<kind>s--<org>--<name>/refs/<rev>` naming a `snapshots/<commit>` folder), HF_HUB_OFFLINE,
//! the token, and the hf-hub client for what the cache lacks. Shared by checkpoints (`--model`)
//! and datasets (`--dataset`).

use std::path::PathBuf;

use anyhow::{Result, anyhow};

/// The hub token, as huggingface_hub finds it: `HF_TOKEN` first, then the token file in
/// HF_HOME (`huggingface-cli login`). Only handed to hf-hub's client; never printed.
pub(crate) fn token(cache: &hf_hub::Cache) -> Option<String> {
    token_from(std::env::var("HF_TOKEN").ok(), cache)
}

/// `token` with HF_TOKEN's value given (tests pass it rather than set the process environment,
/// which other test threads read).
fn token_from(env: Option<String>, cache: &hf_hub::Cache) -> Option<String> {
    env.map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).or_else(|| cache.token())
}

/// `org/name`, with the characters the hub allows.
pub(crate) fn is_repo_id(s: &str) -> bool {
    let parts: Vec<&str> = s.split('/').collect();
    parts.len() == 2
        && parts.iter().all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)))
}

pub(crate) fn is_commit(s: &str) -> bool {
    s.len() == 40 && s.chars().all(|c| c.is_ascii_hexdigit())
}

/// HF_HUB_OFFLINE=1 (or `true`): only the cache is read.
pub(crate) fn offline() -> bool {
    std::env::var("HF_HUB_OFFLINE").is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
}

/// A repository's place in the local cache.
pub(crate) struct Cached {
    pub(crate) cache: hf_hub::Cache,
    /// `<cache>/models--org--name` or `<cache>/datasets--org--name`.
    pub(crate) repo_dir: PathBuf,
    /// The commit `rev` resolves to in the cache, when its snapshot folder is there.
    pub(crate) commit: Option<String>,
}

impl Cached {
    pub(crate) fn snapshot(&self) -> Option<PathBuf> {
        self.commit.as_ref().map(|c| self.repo_dir.join("snapshots").join(c))
    }
}

/// Looks `id` at `rev` up in the cache (HF_HOME, HF_HUB_CACHE) without touching the network.
pub(crate) fn cached(id: &str, kind: hf_hub::RepoType, rev: &str) -> Cached {
    let cache = hf_hub::Cache::from_env();
    let prefix = match kind {
        hf_hub::RepoType::Model => "models",
        hf_hub::RepoType::Dataset => "datasets",
        hf_hub::RepoType::Space => "spaces",
    };
    let repo_dir = cache.path().join(format!("{prefix}--{}", id.replace('/', "--")));
    let commit = if is_commit(rev) {
        Some(rev.to_string())
    } else {
        std::fs::read_to_string(repo_dir.join("refs").join(rev)).ok().map(|s| s.trim().to_string())
    };
    let commit = commit.filter(|c| repo_dir.join("snapshots").join(c).is_dir());
    Cached { cache, repo_dir, commit }
}

/// The hf-hub client for `id` at `rev` (downloads go into the cache, with a progress bar).
pub(crate) fn api(
    id: &str,
    kind: hf_hub::RepoType,
    rev: &str,
    cache: &hf_hub::Cache,
) -> Result<hf_hub::api::sync::ApiRepo> {
    let api = hf_hub::api::sync::ApiBuilder::from_env()
        .with_token(token(cache))
        .with_progress(true)
        .build()
        .map_err(|e| anyhow!("{id}: cannot reach the hub: {e}"))?;
    Ok(api.repo(hf_hub::Repo::with_revision(id.to_string(), kind, rev.to_string())))
}

/// A 404 from the hub: the file is not in the repository.
pub(crate) fn is_not_found(e: &ureq::Error) -> bool {
    matches!(e, ureq::Error::Status(404, _))
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
        assert_eq!(token_from(None, &cache).as_deref(), Some("hf_from_file"));
        assert_eq!(token_from(Some("hf_from_env".into()), &cache).as_deref(), Some("hf_from_env"));
        let blank = token_from(Some("  ".into()), &cache);
        assert_eq!(blank.as_deref(), Some("hf_from_file"), "a blank HF_TOKEN is no token");
        assert_eq!(token_from(None, &hf_hub::Cache::new(d.path().join("none").join("hub"))), None);
    }

    #[test]
    fn repo_ids() {
        assert!(is_repo_id("princeton-nlp/SWE-bench_Verified"));
        assert!(!is_repo_id("a/b/c") && !is_repo_id("runs") && !is_repo_id("a b/c"));
    }
}
