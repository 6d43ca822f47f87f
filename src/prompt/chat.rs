//! The `chat` preset: the trajectory's own messages, and its tool definitions when the input
//! carries them, through the checkpoint's chat template with no judge instruction and no
//! generation prompt: what OpenHands' critic reads (its SDK renders the conversation and the
//! tools with `apply_chat_template(..., add_generation_prompt=False)`). For classification
//! heads, which are read at the last token; a YES/NO verifier has no question to answer here.
//!
//! Under `--max-tokens` the conversation keeps everything through its first user message (the
//! task: the issue is never cut) and as many of its last messages as fit; the messages between
//! are replaced by one user message saying how many were removed. A patch the kept messages do
//! not show counts as not shown (the preset has no place to add it: see `build_chat`).

use anyhow::Result;
use serde_json::{Value, json};

use super::shows::{self, PatchView, Shows};
use super::{Prompt, Prompter, TooLong, patch_only};
use crate::input::trajectory::{Message, Trajectory};

/// Messages in the shape transformers' templates read: `{role, content}`, plus `tool_calls`
/// (`{type: "function", function: {name, arguments}}`, arguments as the recorded JSON text) on
/// the messages that made calls.
fn values(msgs: &[Message]) -> Vec<Value> {
    msgs.iter()
        .map(|m| {
            let mut v = json!({"role": m.role, "content": m.content});
            if !m.tool_calls.is_empty() {
                let calls: Vec<Value> = m
                    .tool_calls
                    .iter()
                    .map(|c| json!({"type": "function", "function": {"name": c.name, "arguments": c.arguments}}))
                    .collect();
                v["tool_calls"] = Value::Array(calls);
            }
            v
        })
        .collect()
}

fn marker(removed: usize, max: usize) -> String {
    format!("[... {removed} messages of the interaction removed by swerm to fit --max-tokens {max} ...]")
}

impl Prompter {
    pub(super) fn build_chat(&self, traj: Option<&Trajectory>, patch: &str, issue: Option<&str>) -> Result<Prompt> {
        let has_trajectory = traj.is_some_and(|t| !t.messages.is_empty());
        let msgs = match traj {
            Some(t) if has_trajectory => t.messages.clone(),
            _ => patch_only(issue, patch),
        };
        let tools = traj.and_then(|t| t.tools.as_ref());
        let render = |m: &[Message]| -> Result<(String, Vec<u32>)> {
            let text = self.template.render_values(&values(m), tools, false)?;
            let ids = self.encode(&text)?;
            Ok((text, ids))
        };
        // Decision: the conversation is what the critic was trained on, so a patch its actions
        // do not show is not added (that would be another input); the prompt counts as not
        // showing it, which `render` and the summaries report.
        let patch_view = match traj {
            Some(t) if has_trajectory && !shows::trajectory_shows(t, patch) => PatchView::NotShown,
            _ => PatchView::Shown,
        };
        let issue_shown = match traj {
            Some(_) if has_trajectory => msgs.iter().any(|m| m.role == "user"),
            _ => issue.is_some(),
        };
        let shows = Shows { trajectory: has_trajectory, issue: issue_shown, patch: patch_view };
        let (text, ids) = render(&msgs)?;
        let Some(limit) = self.limit.filter(|l| ids.len() > l.tokens) else {
            return Ok(Prompt { text, ids, truncated: false, cut: None, shows, privileged: Vec::new(), turns: None });
        };
        let max = limit.tokens;
        // Drop `k` messages after the task, the oldest first; the fewest that fit.
        let head = msgs.iter().position(|m| m.role == "user").map_or(0, |i| i + 1);
        let cut = |k: usize| -> Result<(String, Vec<u32>)> {
            let mut m = msgs[..head].to_vec();
            m.push(Message::new("user", &marker(k, max)));
            m.extend_from_slice(&msgs[head + k..]);
            render(&m)
        };
        let most = msgs.len().saturating_sub(head + 1); // keep at least the last message
        let shortest = cut(most)?;
        if most == 0 || shortest.1.len() > max {
            return Err(TooLong { need: shortest.1.len(), limit, what: "the task and the last message" }.into());
        }
        // Fewer messages never take more tokens: search the smallest k that fits (`best` is
        // always the prompt of `hi`).
        let (mut lo, mut hi, mut best) = (1, most, shortest);
        while lo < hi {
            let mid = (lo + hi) / 2;
            let p = cut(mid)?;
            if p.1.len() <= max {
                (hi, best) = (mid, p);
            } else {
                lo = mid + 1;
            }
        }
        // The dropped messages may have been the ones that showed the patch.
        let mut shows = shows;
        if shows.patch == PatchView::Shown && has_trajectory {
            let kept: Vec<Message> = msgs[..head].iter().chain(&msgs[head + hi..]).cloned().collect();
            if !shows::trajectory_shows(&Trajectory { messages: kept, ..Default::default() }, patch) {
                shows.patch = PatchView::NotShown;
            }
        }
        let cut = Some(super::Cut { removed: ids.len().saturating_sub(best.1.len()), what: "messages".into() });
        Ok(Prompt { text: best.0, ids: best.1, truncated: true, cut, shows, privileged: Vec::new(), turns: None })
    }
}
