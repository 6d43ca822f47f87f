//! `--template FILE`: a user's own judge prompt, a Jinja template (the engine chat templates
//! render with: `template::environment`) rendered as the user turn under the checkpoint's chat
//! template, with its generation prompt. The variables (docs/spec/judges.md):
//!
//! | variable      | what                                                                   |
//! |---------------|------------------------------------------------------------------------|
//! | `issue`       | the issue statement: the trajectory's, else `--dataset`'s (`""`: none)  |
//! | `trajectory`  | the interaction log as the swegym preset serializes it (`""`: none)      |
//! | `messages`    | the trajectory's messages, each `{role, content}`                       |
//! | `patch`       | the candidate's final patch                                             |
//! | `instance_id` | the instance                                                            |
//! | `run`         | the run (information only: a judge that reads it can follow a run's name)|
//! | `dataset`     | the instance's `--dataset` row, every field (`dataset.test_patch`, ...)  |
//!
//! Undefined values are errors when printed or looped over (`if` tests may probe them), so a
//! misspelt field fails on the first prompt rather than reading as empty. Reading `dataset`
//! needs `--dataset`; reading its privileged fields needs `--allow-privileged`
//! (`prompt::privileged`). Truncation: only `trajectory` shrinks (its middle, behind the same
//! visible marker as the presets'); a template that prints `messages` is not truncated.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use minijinja::{Environment, UndefinedBehavior, Value as JValue};

use crate::input::issues::Row;
use crate::input::trajectory::Message;

/// The variables a template may read.
pub(crate) const VARIABLES: [&str; 7] = ["issue", "trajectory", "messages", "patch", "instance_id", "run", "dataset"];

/// A user template as the settings know it: where it is, what identifies it, what it reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct UserTemplate {
    pub(crate) path: PathBuf,
    /// SHA-256 of its text (the scorer's identity).
    pub(crate) digest: String,
    pub(crate) source: String,
    /// The privileged fields it reads (`privileged::template_reads`).
    pub(crate) privileged: Vec<String>,
    /// Whether it reads `dataset` at all.
    pub(crate) reads_dataset: bool,
}

/// What one rendering shows.
pub(crate) struct Vars<'a> {
    pub(crate) issue: &'a str,
    pub(crate) trajectory: &'a str,
    pub(crate) messages: &'a [Message],
    pub(crate) patch: &'a str,
    pub(crate) instance_id: &'a str,
    pub(crate) run: &'a str,
    pub(crate) dataset: Option<&'a Row>,
}

impl UserTemplate {
    /// Reads and compiles `path`; a syntax error or a variable swerm does not give is refused
    /// here, before anything is loaded.
    pub(crate) fn load(path: &Path) -> Result<Self> {
        use sha2::{Digest, Sha256};
        let source =
            std::fs::read_to_string(path).with_context(|| format!("--template {}: cannot read", path.display()))?;
        let env = compile(&source).with_context(|| format!("--template {}", path.display()))?;
        let vars = env.get_template(NAME).expect("compiled").undeclared_variables(true);
        let globals: Vec<String> = env.globals().map(|(k, _)| k.to_string()).collect();
        let mut unknown: Vec<&str> = vars
            .iter()
            .map(|v| v.split('.').next().unwrap_or(v))
            .filter(|v| !VARIABLES.contains(v) && !globals.iter().any(|g| g == v))
            .collect();
        unknown.sort();
        unknown.dedup();
        if !unknown.is_empty() {
            bail!(
                "--template {}: reads {}, which swerm does not give (the variables: {})",
                path.display(),
                unknown.iter().map(|v| format!("`{v}`")).collect::<Vec<_>>().join(", "),
                VARIABLES.join(", ")
            );
        }
        let reads_dataset = vars.iter().any(|v| v == "dataset" || v.starts_with("dataset."));
        let privileged = super::privileged::template_reads(&vars);
        let digest = format!("sha256:{}", crate::checkpoint::hex(&Sha256::digest(source.as_bytes())));
        let path = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        Ok(UserTemplate { path, digest, source, privileged, reads_dataset })
    }

    /// The compiled template, for a prompter.
    pub(crate) fn compiled(&self) -> Result<Compiled> {
        Ok(Compiled { env: compile(&self.source)?, path: self.path.clone() })
    }
}

const NAME: &str = "user";

fn compile(source: &str) -> Result<Environment<'static>> {
    let mut env = super::template::environment()?;
    env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
    env.add_template_owned(NAME, source.to_string()).map_err(|e| anyhow!("invalid Jinja: {e}"))?;
    Ok(env)
}

/// A user template ready to render.
pub(crate) struct Compiled {
    env: Environment<'static>,
    path: PathBuf,
}

impl Compiled {
    /// The user turn for `v`.
    pub(crate) fn render(&self, v: &Vars) -> Result<String> {
        let messages: Vec<serde_json::Value> =
            v.messages.iter().map(|m| serde_json::json!({"role": m.role, "content": m.content})).collect();
        let ctx = minijinja::context! {
            issue => v.issue,
            trajectory => v.trajectory,
            messages => JValue::from(minijinja::value::Serde(&messages)),
            patch => v.patch,
            instance_id => v.instance_id,
            run => v.run,
            dataset => v.dataset.map_or(JValue::UNDEFINED, |r| JValue::from(minijinja::value::Serde(r))),
        };
        let tmpl = self.env.get_template(NAME).expect("compiled");
        tmpl.render(ctx).map_err(|e| anyhow!("rendering --template {}: {e}", self.path.display()))
    }
}
