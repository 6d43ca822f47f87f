//! A checkpoint's chat template (tokenizer_config.json `chat_template`, Jinja) rendered the way
//! transformers' `apply_chat_template` does: minijinja with `trim_blocks` and `lstrip_blocks`,
//! Python string methods (`startswith`, `split`, `strip`, ...), `raise_exception`, the special
//! tokens as variables, and a Python-style `tojson`. Rendering is sandboxed: no file or network
//! access exists in the engine, and a fuel limit stops templates that loop forever.

use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use minijinja::{Environment, Error, ErrorKind, Value as JValue};
use serde_json::Value;

pub struct ChatTemplate {
    env: Environment<'static>,
    bos_token: String,
    eos_token: String,
}

/// A role and its text: all the verifier prompts need.
pub type Turn<'a> = (&'a str, &'a str);

/// Fuel for one rendering (minijinja counts instructions); generous for any real template.
const FUEL: u64 = 50_000_000;

impl ChatTemplate {
    /// Reads `chat_template` and the special tokens from a tokenizer_config.json; a separate
    /// `chat_template.jinja` (transformers >= 4.43 saves it so) is used when the config has none.
    pub(crate) fn from_tokenizer_config(path: &Path, jinja: Option<&Path>) -> Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("{}: cannot read", path.display()))?;
        let cfg: Value = serde_json::from_str(&text).map_err(|e| anyhow!("{}: invalid JSON: {e}", path.display()))?;
        let source = match cfg.get("chat_template") {
            Some(Value::String(s)) => s.clone(),
            // A list of named templates: take the one named "default".
            Some(Value::Array(list)) => list
                .iter()
                .find(|t| t.get("name").and_then(Value::as_str) == Some("default"))
                .and_then(|t| t.get("template")?.as_str().map(String::from))
                .ok_or_else(|| anyhow!("{}: field `chat_template`: no template named \"default\"", path.display()))?,
            _ => match jinja {
                Some(j) => std::fs::read_to_string(j).with_context(|| format!("{}: cannot read", j.display()))?,
                None => bail!(
                    "{}: field `chat_template`: missing, and no chat_template.jinja (the verifier prompt is rendered with the checkpoint's own chat template)",
                    path.display()
                ),
            },
        };
        let token = |k: &str| match cfg.get(k) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Object(o)) => o.get("content").and_then(Value::as_str).unwrap_or("").to_string(),
            _ => String::new(),
        };
        Self::new(source, token("bos_token"), token("eos_token"))
            .with_context(|| format!("{}: field `chat_template`", path.display()))
    }

    pub fn new(source: String, bos_token: String, eos_token: String) -> Result<Self> {
        let mut env = environment()?;
        env.add_template_owned("chat", source).map_err(|e| anyhow!("invalid Jinja: {e}"))?;
        Ok(ChatTemplate { env, bos_token, eos_token })
    }

    /// Renders `messages` as transformers' `apply_chat_template(..., tokenize=False)` does.
    pub fn render(&self, messages: &[Turn], add_generation_prompt: bool) -> Result<String> {
        let msgs: Vec<Value> =
            messages.iter().map(|(role, content)| serde_json::json!({"role": role, "content": content})).collect();
        self.render_values(&msgs, None, add_generation_prompt)
    }

    /// Renders messages given as JSON (`{role, content, tool_calls?}`, in transformers' shape)
    /// and the tool definitions, as `apply_chat_template(messages, tools=tools, ...)` does.
    pub(crate) fn render_values(
        &self,
        messages: &[Value],
        tools: Option<&Value>,
        add_generation_prompt: bool,
    ) -> Result<String> {
        let msgs: Vec<JValue> = messages.iter().map(|m| JValue::from(minijinja::value::Serde(m))).collect();
        let tmpl = self.env.get_template("chat").expect("added in new");
        let ctx = minijinja::context! {
            messages => msgs,
            add_generation_prompt => add_generation_prompt,
            bos_token => self.bos_token.clone(),
            eos_token => self.eos_token.clone(),
            tools => tools.map_or(JValue::from(()), |t| JValue::from(minijinja::value::Serde(t))),
        };
        tmpl.render(ctx).map_err(|e| anyhow!("rendering the chat template: {e}"))
    }
}

/// The Jinja engine as transformers sets it up for chat templates (and swerm's user templates,
/// `prompt::user`): `trim_blocks`, `lstrip_blocks`, Python string methods, `raise_exception`,
/// a fixed `strftime_now`, Python's `tojson`, loop controls; a fuel limit and a recursion limit.
pub(crate) fn environment() -> Result<Environment<'static>> {
    let mut env = Environment::new();
    env.set_syntax(
        minijinja::syntax::SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .build()
            .map_err(|e| anyhow!("template syntax: {e}"))?,
    );
    env.set_fuel(Some(FUEL));
    env.set_recursion_limit(64);
    env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
    env.add_function("raise_exception", |msg: String| -> Result<JValue, Error> {
        Err(Error::new(ErrorKind::InvalidOperation, format!("template raised: {msg}")))
    });
    env.add_function("strftime_now", |_fmt: String| -> Result<JValue, Error> {
        // Deterministic prompts: a fixed date rather than the clock.
        Ok(JValue::from("26 Jul 2024"))
    });
    env.add_filter("tojson", tojson);
    Ok(env)
}

/// transformers' `tojson`: `json.dumps(x, ensure_ascii=False)` (", " and ": " separators,
/// non-ASCII kept, no HTML escaping, unlike minijinja's own filter).
fn tojson(v: JValue) -> Result<JValue, Error> {
    let json = serde_json::to_value(&v).map_err(|e| Error::new(ErrorKind::InvalidOperation, e.to_string()))?;
    Ok(JValue::from_safe_string(py_dumps(&json)))
}

fn py_dumps(v: &Value) -> String {
    match v {
        Value::Array(a) => format!("[{}]", a.iter().map(py_dumps).collect::<Vec<_>>().join(", ")),
        Value::Object(o) => format!(
            "{{{}}}",
            o.iter()
                .map(|(k, v)| format!("{}: {}", Value::String(k.clone()), py_dumps(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chatml_and_python_methods() {
        let src = "{%- for m in messages %}{{- '<|im_start|>' + m.role + '\\n' + m.content.strip() + '<|im_end|>\\n' }}{%- endfor %}{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";
        let t = ChatTemplate::new(src.into(), String::new(), String::new()).unwrap();
        let out = t.render(&[("system", "S"), ("user", " hi ")], true).unwrap();
        assert_eq!(out, "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n");
    }

    #[test]
    fn hostile_templates_fail_cleanly() {
        let t = ChatTemplate::new("{% for i in range(100000000) %}x{% endfor %}".into(), String::new(), String::new())
            .unwrap();
        assert!(t.render(&[], false).is_err());
        let t = ChatTemplate::new("{{ raise_exception('no') }}".into(), String::new(), String::new()).unwrap();
        assert!(t.render(&[], false).unwrap_err().to_string().contains("no"));
        assert!(
            ChatTemplate::new("{% include '/etc/passwd' %}".into(), String::new(), String::new())
                .unwrap()
                .render(&[], false)
                .is_err()
        );
        assert!(ChatTemplate::new("{% if %}".into(), String::new(), String::new()).is_err());
    }

    #[test]
    fn tojson_like_python() {
        let v: Value = serde_json::json!({"a": [1, "é"], "b": null});
        assert_eq!(py_dumps(&v), "{\"a\": [1, \"é\"], \"b\": null}");
    }
}
