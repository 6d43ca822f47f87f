//! One endpoint's HTTP client (ureq: blocking, keep-alive, rustls; already in the build for
//! hf-hub), with every failure sorted into "try again" and "stop".

use std::time::Duration;

use anyhow::{Result, bail};
use serde_json::Value;

/// Why a request failed.
#[derive(Debug)]
pub enum Failure {
    /// Connection refused or reset, a timeout, 408, 429 or 5xx: the endpoint may come back.
    Retry(String),
    /// Any other answer (400, 404, ...): asking again would get the same.
    Fatal { status: Option<u16>, msg: String },
}

impl Failure {
    pub fn message(&self) -> &str {
        match self {
            Failure::Retry(m) | Failure::Fatal { msg: m, .. } => m,
        }
    }
}

#[derive(Clone)]
pub struct Client {
    /// The base URL without a trailing slash (`http://host:port`).
    pub url: String,
    agent: ureq::Agent,
    /// Tries after the first for [`Client::retrying`], and the first wait (it doubles).
    pub retries: u32,
    pub backoff: Duration,
}

impl Client {
    pub fn new(url: &str, timeout: Duration, retries: u32, backoff: Duration) -> Result<Self> {
        let url = url.trim_end_matches('/');
        let url = url.strip_suffix("/v1").unwrap_or(url);
        if !(url.starts_with("http://") || url.starts_with("https://"))
            || url.split("//").nth(1).is_none_or(str::is_empty)
        {
            bail!("--endpoint {url:?}: expected a URL such as http://127.0.0.1:8000");
        }
        let agent = ureq::AgentBuilder::new().timeout_connect(Duration::from_secs(10)).timeout(timeout).build();
        Ok(Client { url: url.to_string(), agent, retries, backoff })
    }

    /// `f` again after failures that may pass, waiting `backoff * 2^(n-1)` (at most 30 s)
    /// before try n + 1.
    pub fn retrying(&self, mut f: impl FnMut(&Client) -> Result<Value, Failure>) -> Result<Value, Failure> {
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

    pub fn get(&self, path: &str) -> Result<Value, Failure> {
        answer(self.agent.get(&format!("{}{path}", self.url)).call())
    }

    pub fn post(&self, path: &str, body: &Value) -> Result<Value, Failure> {
        let req = self.agent.post(&format!("{}{path}", self.url)).set("Content-Type", "application/json");
        answer(req.send_string(&body.to_string()))
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
        Err(ureq::Error::Transport(t)) => Err(Failure::Retry(t.to_string())),
    }
}

/// `base * 2^(n-1)`, at most 30 s.
pub fn backoff(base: Duration, n: u32) -> Duration {
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
