//! The `swelego` preset (docs/spec/verifiers.md; SWE-Lego's verifier conversion and inference
//! scripts): SWE-Gym's judge system text; the interaction as `[SYSTEM]`/`[USER]`/`[ASSISTANT]`
//! blocks; the final patch block ("No patch generated" when empty); the chat template's
//! generation prompt, then the literal `<judgement>`. Its answers are the maximum logit over
//! six spellings of YES and of NO (`ANSWERS`), read by the verifier.
//!
//! Decision (function-calling trajectories): SWE-Lego's scripts read OpenHands'
//! non-function-calling form, where tool calls are text inside the assistant turn and tool
//! results are user turns. A trajectory with tool calls is converted to that form first: each
//! call is appended to its assistant message as a `<function=NAME>` block with one
//! `<parameter=K>` line per argument (the same text the swegym preset prints, after a `\n`), and
//! each tool message becomes a user message with its content unchanged. Only system, user and
//! assistant messages are rendered after that.

use super::swegym::{SYSTEM, tool_call_text};
use crate::input::trajectory::Message;

/// The spellings whose first tokens' logits are maxed into l_yes and l_no.
pub(crate) const ANSWERS: ([&str; 6], [&str; 6]) =
    (["YES", "Yes", "yes", " YES", " Yes", " yes"], ["NO", "No", "no", " NO", " No", " no"]);

/// The prompts' budget without `--max-tokens` (their script's cutoff), within the context.
pub(crate) const BUDGET: usize = 131_072;

/// The messages as SWE-Lego renders them (see the module's decision).
pub fn convert(messages: &[Message]) -> Vec<Message> {
    messages
        .iter()
        .filter_map(|m| match m.role.as_str() {
            "assistant" if !m.tool_calls.is_empty() => {
                let calls: Vec<String> = m.tool_calls.iter().map(|c| tool_call_text(&c.name, &c.arguments)).collect();
                let content = if m.content.is_empty() {
                    calls.join("\n")
                } else {
                    format!("{}\n{}", m.content, calls.join("\n"))
                };
                Some(Message::new("assistant", &content))
            }
            "system" | "user" | "assistant" => Some(Message::new(&m.role, &m.content)),
            "tool" => Some(Message::new("user", &m.content)),
            _ => None,
        })
        .collect()
}

/// The user message: the interaction, the final patch, the question (lines joined with `\n`,
/// no trailing newline).
pub fn user_message(messages: &[Message], patch: &str) -> String {
    let mut lines: Vec<&str> = vec![
        "Please evaluate the following interaction between an AI assistant and a user:",
        "",
        "=== INTERACTION LOG ===",
        "",
    ];
    let tags: Vec<(String, String)> = messages
        .iter()
        .map(|m| (format!("[{}]", m.role.to_uppercase()), format!("[/{}]", m.role.to_uppercase())))
        .collect();
    for (m, (open, close)) in messages.iter().zip(&tags) {
        lines.extend([open.as_str(), m.content.as_str(), close.as_str(), ""]);
    }
    let patch = if patch.trim().is_empty() { "No patch generated" } else { patch };
    lines.extend(["=== END INTERACTION ===", "", "=== FINAL PATCH ===", "", "[PATCH]", patch, "[/PATCH]", ""]);
    lines.extend(["=== END FINAL PATCH ===", ""]);
    lines.push(
        "Based on the above interaction, did the assistant successfully resolve the user's initial request? Respond with YES or NO.",
    );
    lines.join("\n")
}

/// The system message (SWE-Gym's judge text).
pub(crate) fn system() -> &'static str {
    SYSTEM
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::trajectory::ToolCall;

    #[test]
    fn blocks_and_conversion() {
        let mut a = Message::new("assistant", "Look.");
        a.tool_calls.push(ToolCall { name: "bash".into(), arguments: r#"{"command": "ls"}"#.into() });
        let msgs = vec![Message::new("system", "S"), Message::new("user", "task"), a, Message::new("tool", "out")];
        let c = convert(&msgs);
        assert_eq!(c[2].content, "Look.\n<function=bash>\n<parameter=command>ls</parameter>\n</function>");
        assert_eq!((c[3].role.as_str(), c[3].content.as_str()), ("user", "out"));
        let u = user_message(&c, "");
        assert!(u.starts_with("Please evaluate the following interaction between an AI assistant and a user:\n\n=== INTERACTION LOG ===\n\n[SYSTEM]\nS\n[/SYSTEM]\n\n[USER]\ntask\n[/USER]\n\n[ASSISTANT]\nLook."));
        assert!(u.ends_with("[/USER]\n\n=== END INTERACTION ===\n\n=== FINAL PATCH ===\n\n[PATCH]\nNo patch generated\n[/PATCH]\n\n=== END FINAL PATCH ===\n\nBased on the above interaction, did the assistant successfully resolve the user's initial request? Respond with YES or NO."));
    }
}
