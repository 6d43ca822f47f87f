//! What a prompt shows of its candidate: its trajectory, its issue, and, above all, its patch.
//! A judge must see what the candidate did: the final patch, or the actions that wrote it.
//!
//! Decision (when a trajectory "shows" its patch): every telltale line of the patch occurs in
//! the trajectory's text (message contents and tool-call arguments, the arguments' string
//! values decoded from their JSON). The telltale lines are the patch's added lines, trimmed,
//! blank ones left out; for a patch that only deletes, its removed lines. Trimming makes the
//! test hold for edits shown re-indented (AutoCodeRover's `<patched>` blocks, an editor tool's
//! `new_str`); requiring every line keeps a trajectory that shows one hunk of three from
//! passing. The test runs on the decoded trajectory, not on the rendered prompt, so it means
//! the same for every preset; a truncated prompt is checked again on its text.

use serde_json::Value;

use crate::input::trajectory::Trajectory;

/// How a prompt shows the candidate's patch (`added`, `not_shown` in a score line).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum PatchView {
    /// The trajectory's actions, or the preset's own final-patch block, show it.
    #[default]
    Shown,
    /// The trajectory does not show it: the prompt builder added it as a final-patch block.
    Added,
    /// Neither the trajectory shows it nor can the preset hold it (`chat`, a classification
    /// head's conversation): the judge did not see the patch.
    NotShown,
}

/// What a prompt shows of its candidate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Shows {
    /// A recorded trajectory (not the patch-only stand-in).
    pub(crate) trajectory: bool,
    /// An issue statement (the trajectory's or `--dataset`'s).
    pub(crate) issue: bool,
    pub(crate) patch: PatchView,
}

/// The lines that identify `patch` in a text (see the module's decision).
pub(crate) fn telltales(patch: &str) -> Vec<&str> {
    let changed = |sign: char, header: &str| -> Vec<&str> {
        patch
            .lines()
            .filter(|l| l.starts_with(sign) && !l.starts_with(header))
            .map(|l| l[1..].trim())
            .filter(|l| !l.is_empty())
            .collect()
    };
    let added = changed('+', "+++ ");
    if added.is_empty() { changed('-', "--- ") } else { added }
}

/// Whether `text` holds every telltale line of `patch` (a patch without any shows trivially).
pub(crate) fn text_shows(text: &str, patch: &str) -> bool {
    telltales(patch).iter().all(|l| text.contains(l))
}

/// Whether the trajectory's messages and actions show `patch`.
pub(crate) fn trajectory_shows(t: &Trajectory, patch: &str) -> bool {
    let lines = telltales(patch);
    if lines.is_empty() {
        return true;
    }
    let mut text = String::new();
    for m in &t.messages {
        text.push_str(&m.content);
        text.push('\n');
        for c in &m.tool_calls {
            match serde_json::from_str::<Value>(&c.arguments) {
                Ok(v) => push_strings(&v, &mut text),
                Err(_) => text.push_str(&c.arguments),
            }
            text.push('\n');
        }
    }
    lines.iter().all(|l| text.contains(l))
}

/// Every string inside `v`, decoded, one per line.
fn push_strings(v: &Value, out: &mut String) {
    match v {
        Value::String(s) => {
            out.push_str(s);
            out.push('\n');
        }
        Value::Array(a) => a.iter().for_each(|x| push_strings(x, out)),
        Value::Object(o) => o.values().for_each(|x| push_strings(x, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::trajectory::{Message, ToolCall};

    const PATCH: &str = "diff --git a/m.py b/m.py\n--- a/m.py\n+++ b/m.py\n@@ -1,2 +1,3 @@\n def f(xs):\n+    if not xs:\n+        return None\n     return xs[0]\n";

    #[test]
    fn telltale_lines() {
        assert_eq!(telltales(PATCH), ["if not xs:", "return None"]);
        let delete_only = "--- a/m.py\n+++ b/m.py\n@@ -1,2 +1 @@\n-old = 1\n keep\n";
        assert_eq!(telltales(delete_only), ["old = 1"]);
        assert!(telltales("").is_empty() && text_shows("anything", ""));
    }

    #[test]
    fn shown_by_actions_reindented_or_not_at_all() {
        let traj = |messages| Trajectory { messages, ..Default::default() };
        // An editor call whose new_str holds the lines, JSON-escaped in the arguments.
        let mut edit = Message::new("assistant", "Guard the empty list.");
        edit.tool_calls.push(ToolCall {
            name: "str_replace_editor".into(),
            arguments: r#"{"command": "str_replace", "new_str": "if not xs:\n    return None\nreturn xs[0]"}"#.into(),
        });
        assert!(trajectory_shows(&traj(vec![edit]), PATCH));
        // ACR's form, indented differently from the diff.
        let acr = Message::new("assistant", "<patched>\nif not xs:\n  return None\n</patched>");
        assert!(trajectory_shows(&traj(vec![acr]), PATCH));
        // One line of two is not enough; a trajectory that only searched shows nothing.
        let half = Message::new("assistant", "if not xs:\n    pass");
        assert!(!trajectory_shows(&traj(vec![half]), PATCH));
        assert!(!trajectory_shows(&traj(vec![Message::new("user", "search_method(\"f\")")]), PATCH));
    }
}
