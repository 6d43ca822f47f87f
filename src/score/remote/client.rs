//! One endpoint's HTTP client (ureq: blocking, keep-alive, rustls; already in the build for
//! hf-hub), with every failure sorted into "try again" and "stop".

use std::time::Duration;

use anyhow::{Result, bail};
use serde_json::Value;

/// Why a request failed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Connection refused or reset, a timeout, 408, 429 or 5xx: the endpoint may come back.
    Retry(String),
    /// Any other answer (400, 404, ...): asking again would get the same.
    Fatal { status: Option<u16>, msg: String },
}

impl Failure {
    pub(crate) fn message(&self) -> &str {
        match self {
            Failure::Retry(m) | Failure::Fatal { msg: m, .. } => m,
        }
    }
}

/// An API key for endpoints started with one (vLLM's `--api-key`), sent as
/// `Authorization: Bearer`. It is never shown: its `Debug` prints the variable it came from, and
/// messages built from server answers have it scrubbed out.
#[derive(Clone)]
pub(crate) struct ApiKey {
    key: String,
    /// The environment variable it was read from, for messages.
    pub(crate) from: String,
}

impl ApiKey {
    /// The key from `var` when given (it must be set), else from `SWERM_API_KEY`, then
    /// `OPENAI_API_KEY` (as OpenAI-compatible clients do); `None` when neither is set.
    pub(crate) fn from_env(var: Option<&str>) -> Result<Option<ApiKey>> {
        Self::from_vars(var, &|v| std::env::var(v).ok())
    }

    /// `from_env` over the variables `lookup` gives (tests pass their own rather than set the
    /// process environment, which other test threads read).
    fn from_vars(var: Option<&str>, lookup: &dyn Fn(&str) -> Option<String>) -> Result<Option<ApiKey>> {
        let get = |v: &str| lookup(v).filter(|k| !k.trim().is_empty());
        match var {
            Some(v) => match get(v) {
                Some(key) => Ok(Some(ApiKey { key: key.trim().to_string(), from: v.to_string() })),
                None => bail!("--api-key-env {v}: the environment variable {v} is not set"),
            },
            None => Ok(["SWERM_API_KEY", "OPENAI_API_KEY"]
                .iter()
                .find_map(|v| get(v).map(|key| ApiKey { key: key.trim().to_string(), from: v.to_string() }))),
        }
    }

    /// `text` with every occurrence of the key replaced.
    pub(crate) fn scrub(&self, text: &str) -> String {
        text.replace(&self.key, "[api key]")
    }
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ApiKey(from ${})", self.from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_api_key_is_never_shown() {
        let k = ApiKey { key: "sk-secret-123".into(), from: "SWERM_API_KEY".into() };
        assert_eq!(format!("{k:?}"), "ApiKey(from $SWERM_API_KEY)");
        assert_eq!(k.scrub("echo: Bearer sk-secret-123!"), "echo: Bearer [api key]!");
        let env = |v: &str| match v {
            "MY_KEY" => Some(" sk-x ".to_string()),
            "OPENAI_API_KEY" => Some("sk-openai".to_string()),
            _ => None,
        };
        let got = ApiKey::from_vars(Some("MY_KEY"), &env).unwrap().unwrap();
        assert_eq!((got.key.as_str(), got.from.as_str()), ("sk-x", "MY_KEY"));
        let e = ApiKey::from_vars(Some("NO_SUCH_VAR"), &env).unwrap_err().to_string();
        assert!(e.contains("NO_SUCH_VAR is not set"), "{e}");
        let fallback = ApiKey::from_vars(None, &env).unwrap().unwrap();
        assert_eq!(fallback.from, "OPENAI_API_KEY", "SWERM_API_KEY unset: the OpenAI variable");
    }

    #[test]
    fn endpoint_urls_with_or_without_v1() {
        let s = Duration::from_secs(1);
        for (given, base) in [
            ("http://10.0.0.5:8000", "http://10.0.0.5:8000"),
            ("http://10.0.0.5:8000/v1", "http://10.0.0.5:8000"),
            ("https://llm.example.org/v1/", "https://llm.example.org"),
            ("https://llm.example.org/", "https://llm.example.org"),
        ] {
            assert_eq!(Client::new(given, s, 0, s, None).unwrap().url, base);
        }
        assert!(Client::new("llm.example.org:8000", s, 0, s, None).is_err());
    }
}

#[derive(Clone)]
pub(crate) struct Client {
    /// The base URL without a trailing slash (`http://host:port`).
    pub(crate) url: String,
    agent: ureq::Agent,
    key: Option<ApiKey>,
    /// Tries after the first for [`Client::retrying`], and the first wait (it doubles).
    pub(crate) retries: u32,
    pub(crate) backoff: Duration,
}

impl Client {
    pub(crate) fn new(
        url: &str,
        timeout: Duration,
        retries: u32,
        backoff: Duration,
        key: Option<ApiKey>,
    ) -> Result<Self> {
        let url = url.trim_end_matches('/');
        let url = url.strip_suffix("/v1").unwrap_or(url);
        if !(url.starts_with("http://") || url.starts_with("https://"))
            || url.split("//").nth(1).is_none_or(str::is_empty)
        {
            bail!("--endpoint {url:?}: expected a URL such as http://127.0.0.1:8000");
        }
        let agent = ureq::AgentBuilder::new().timeout_connect(Duration::from_secs(10)).timeout(timeout).build();
        Ok(Client { url: url.to_string(), agent, key, retries, backoff })
    }

    /// `f` again after failures that may pass, waiting `backoff * 2^(n-1)` (at most 30 s)
    /// before try n + 1.
    pub(crate) fn retrying(&self, mut f: impl FnMut(&Client) -> Result<Value, Failure>) -> Result<Value, Failure> {
        let mut n = 0;
        loop {
            match f(self) {
                Err(Failure::Retry(_)) if n < self.retries => {
                    n += 1;
                    std::thread::sleep(backoff(self.backoff, n));
                }
                r => return r,
            }
        }
    }

    pub(crate) fn get(&self, path: &str) -> Result<Value, Failure> {
        self.answer(self.authorized(self.agent.get(&format!("{}{path}", self.url))).call())
    }

    pub(crate) fn post(&self, path: &str, body: &Value) -> Result<Value, Failure> {
        let req = self.agent.post(&format!("{}{path}", self.url)).set("Content-Type", "application/json");
        self.answer(self.authorized(req).send_string(&body.to_string()))
    }

    fn authorized(&self, req: ureq::Request) -> ureq::Request {
        match &self.key {
            Some(k) => req.set("Authorization", &format!("Bearer {}", k.key)),
            None => req,
        }
    }

    /// The answer, with 401/403 said in words (the key refused, or none given; never retried:
    /// a refused key stays refused) and the key scrubbed from every message.
    fn answer(&self, r: Result<ureq::Response, ureq::Error>) -> Result<Value, Failure> {
        let scrub = |m: String| self.key.as_ref().map_or_else(|| m.clone(), |k| k.scrub(&m));
        match answer(r) {
            Err(Failure::Fatal { status: Some(code @ (401 | 403)), .. }) => {
                let msg = match &self.key {
                    Some(k) => format!(
                        "HTTP {code}: the API key (from ${}) was refused; check the key the server was started with",
                        k.from
                    ),
                    None => format!(
                        "HTTP {code}: the endpoint wants an API key; put it in SWERM_API_KEY (or name another variable with --api-key-env)"
                    ),
                };
                Err(Failure::Fatal { status: Some(code), msg })
            }
            Err(Failure::Fatal { status, msg }) => Err(Failure::Fatal { status, msg: scrub(msg) }),
            Err(Failure::Retry(m)) => Err(Failure::Retry(scrub(m))),
            ok => ok,
        }
    }
}

fn answer(r: Result<ureq::Response, ureq::Error>) -> Result<Value, Failure> {
    match r {
        Ok(resp) => {
            let text = resp.into_string().map_err(|e| Failure::Retry(format!("reading the response: {e}")))?;
            serde_json::from_str(&text).map_err(|e| Failure::Fatal {
                status: None,
                msg: format!("the response is not JSON ({e}): {}", snippet(&text)),
            })
        }
        Err(ureq::Error::Status(code, resp)) => {
            let text = resp.into_string().unwrap_or_default();
            let msg = format!("HTTP {code}: {}", snippet(&text));
            if code >= 500 || code == 408 || code == 429 {
                Err(Failure::Retry(msg))
            } else {
                Err(Failure::Fatal { status: Some(code), msg })
            }
        }
        Err(ureq::Error::Transport(t)) => Err(Failure::Retry(transport(&t))),
    }
}

/// A transport failure without its URL (every caller names the endpoint and path already):
/// its kind, its message and the cause, `Connection Failed: Connect error: connection refused`.
fn transport(t: &ureq::Transport) -> String {
    let mut s = t.kind().to_string();
    if let Some(m) = t.message() {
        s += &format!(": {m}");
    }
    if let Some(cause) = std::error::Error::source(t) {
        s += &format!(": {cause}");
    }
    s
}

/// `base * 2^(n-1)`, at most 30 s.
pub(crate) fn backoff(base: Duration, n: u32) -> Duration {
    base.saturating_mul(1u32 << (n.max(1) - 1).min(16)).min(Duration::from_secs(30))
}

/// The start of a response body, on one line, for messages.
fn snippet(text: &str) -> String {
    let one: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match one.char_indices().nth(300) {
        Some((i, _)) => format!("{}...", &one[..i]),
        None => one,
    }
}
