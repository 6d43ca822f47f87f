//! The `r2egym` preset (docs/spec/verifiers.md; R2E-Gym's `traj2verifier_data`): the
//! interaction log as [STEP]/[ASSISTANT]/[USER] blocks plus the final patch, and R2E-Gym's
//! condense-longest-thought truncation.

use super::swegym::SYSTEM;
use crate::input::trajectory::Message;

/// One agent step: what it thought, what it did, what it saw.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Step {
    pub(crate) thought: String,
    pub(crate) action: String,
    pub(crate) observation: String,
}

pub(crate) const CONDENSED: &str = "<Thought condensed for saving context>";

fn instance_prompt(problem: &str) -> String {
    format!(
        "You are a software engineer working on a repository. A user has submitted an issue, and you need to resolve it.\n\nRepository Issue:\n{problem}\n\nPlease analyze the issue and implement a solution."
    )
}

/// Steps from chat messages: the system message and the first user message (the task) are
/// skipped; every assistant message opens a step (thought = its text, action = its tool calls
/// as `<function=...>` blocks, one per line); the tool/user messages up to the next assistant
/// message are the step's observation, joined with `\n`.
pub fn steps_from_messages(messages: &[Message]) -> Vec<Step> {
    let mut rest = messages;
    while let Some(m) = rest.first()
        && m.role == "system"
    {
        rest = &rest[1..];
    }
    if rest.first().is_some_and(|m| m.role == "user") {
        rest = &rest[1..];
    }
    let mut steps: Vec<Step> = Vec::new();
    let mut obs: Vec<&str> = Vec::new();
    for m in rest {
        if m.role == "assistant" {
            if let Some(last) = steps.last_mut() {
                last.observation = obs.join("\n");
            }
            obs.clear();
            let action = m
                .tool_calls
                .iter()
                .map(|c| super::swegym::tool_call_text(&c.name, &c.arguments))
                .collect::<Vec<_>>()
                .join("\n");
            steps.push(Step { thought: m.content.clone(), action, observation: String::new() });
        } else if !steps.is_empty() {
            obs.push(&m.content);
        }
    }
    if let Some(last) = steps.last_mut() {
        last.observation = obs.join("\n");
    }
    steps
}

/// The user message of the preset.
pub fn user_message(problem: &str, steps: &[Step], patch: &str) -> String {
    let mut s = String::from("Please evaluate the following interaction between an AI assistant and a user:\n\n");
    s.push_str("=== INTERACTION LOG ===\n\n");
    s.push_str(&format!("[SYSTEM]\n{SYSTEM}\n[/SYSTEM]\n\n"));
    s.push_str(&format!("[USER]\n{}\n[/USER]", instance_prompt(problem)));
    for (i, st) in steps.iter().enumerate() {
        let response =
            if st.thought.is_empty() { st.action.clone() } else { format!("{}\n\n{}", st.thought, st.action) };
        s.push_str(&format!("\n\n[STEP]\n{i}\n[/STEP]"));
        s.push_str(&format!("\n\n[ASSISTANT]\n{response}\n[/ASSISTANT]"));
        s.push_str(&format!("\n\n[USER]\n{}\n[/USER]", st.observation));
    }
    s.push_str("\n\n=== END INTERACTION ===");
    s.push_str("\n\n=== FINAL PATCH ===");
    s.push_str(&format!("\n\n[PATCH]\n{patch}\n[/PATCH]"));
    s.push_str("\n\n=== END FINAL PATCH ===");
    s.push_str("\n\nBased on the above interaction, did the assistant successfully resolve the user's initial request? Respond with YES or NO.");
    s
}

/// The blocks R2E-Gym's regex `(\[ASSISTANT\])(.*?)(<function)` (DOTALL) finds: for each, the
/// byte range of the text between `[ASSISTANT]` and the next `<function`.
fn thought_blocks(s: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(i) = s[at..].find("[ASSISTANT]") {
        let start = at + i + "[ASSISTANT]".len();
        let Some(j) = s[start..].find("<function") else { break };
        out.push((start, start + j));
        at = start + j + "<function".len();
    }
    out
}

/// One condensing step of R2E-Gym's `condense_thoughts`: replace the longest block not yet
/// condensed (the first of equals) with the placeholder. `None` when nothing is left to condense
/// (R2E-Gym also stops when the log has at most one such block).
pub fn condense_once(s: &str) -> Option<String> {
    let blocks = thought_blocks(s);
    if blocks.len() <= 1 {
        return None;
    }
    let (a, b) = blocks.iter().filter(|&&(a, b)| s[a..b].trim() != CONDENSED).fold(
        None::<(usize, usize)>,
        |best, &(a, b)| match best {
            Some((x, y)) if y - x >= b - a => Some((x, y)),
            _ => Some((a, b)),
        },
    )?;
    Some(format!("{}{CONDENSED}{}", &s[..a], &s[b..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::trajectory::ToolCall;

    #[test]
    fn steps_and_layout() {
        let mut a = Message::new("assistant", "think");
        a.tool_calls.push(ToolCall { name: "bash".into(), arguments: "{\"command\": \"ls\"}".into() });
        let msgs = vec![
            Message::new("system", "S"),
            Message::new("user", "task"),
            a,
            Message::new("tool", "o1"),
            Message::new("user", "o2"),
        ];
        let steps = steps_from_messages(&msgs);
        assert_eq!(steps.len(), 1);
        assert_eq!(steps[0].observation, "o1\no2");
        assert_eq!(steps[0].action, "<function=bash>\n<parameter=command>ls</parameter>\n</function>");
        let u = user_message("P", &steps, "diff");
        assert!(u.contains("[USER]\nYou are a software engineer working on a repository. A user has submitted an issue, and you need to resolve it.\n\nRepository Issue:\nP\n\nPlease analyze the issue and implement a solution.\n[/USER]\n\n[STEP]\n0\n[/STEP]\n\n[ASSISTANT]\nthink\n\n<function=bash>"));
        assert!(u.ends_with("[PATCH]\ndiff\n[/PATCH]\n\n=== END FINAL PATCH ===\n\nBased on the above interaction, did the assistant successfully resolve the user's initial request? Respond with YES or NO."));
    }

    #[test]
    fn condenses_longest_first() {
        let s = "[ASSISTANT]\nshort\n<function=a>[ASSISTANT]\na much longer thought\n<function=b>";
        let once = condense_once(s).unwrap();
        assert_eq!(once, format!("[ASSISTANT]\nshort\n<function=a>[ASSISTANT]{CONDENSED}<function=b>"));
        let twice = condense_once(&once).unwrap();
        assert_eq!(twice, format!("[ASSISTANT]{CONDENSED}<function=a>[ASSISTANT]{CONDENSED}<function=b>"));
        assert_eq!(condense_once(&twice), None);
        assert_eq!(condense_once("[ASSISTANT]\nonly one\n<function=a>"), None);
    }
}
