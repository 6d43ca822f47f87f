//! The `cot` preset: swerm's own prompt for a judge that reasons before it answers (no
//! published checkpoint was trained on it; docs/spec/judges.md). The SWE-Gym judge system text;
//! a user message with the interaction log (serialized as the `swegym` preset serializes it,
//! between the same markers, so the same truncation applies), the final patch, and the
//! instruction to think first and end with `<judgement>YES</judgement>` or
//! `<judgement>NO</judgement>`; the chat template's generation prompt, and nothing after it: the
//! judge writes from there. Its verdict is read after the marker `<judgement>` (`--verdict
//! logprob`, answers `YES`/`NO`) or from its text (`--verdict parse`).

/// The user message around the serialized log `log` and the candidate's `patch`.
pub(crate) fn user_message(log: &str, patch: &str) -> String {
    let patch = if patch.trim().is_empty() { "No patch generated" } else { patch };
    format!(
        "Please evaluate the following interaction between an AI assistant and a user, and the patch the assistant submitted:\n\n=== INTERACTION LOG ===\n{log}\n=== END INTERACTION ===\n\n=== FINAL PATCH ===\n{patch}\n=== END FINAL PATCH ===\n\n{INSTRUCTION}"
    )
}

/// What the judge is asked to do.
pub(crate) const INSTRUCTION: &str = "Did the assistant's final patch resolve the user's initial request? Think it through step by step first: what the request asks for, what the patch changes, and whether the change makes the requested behaviour work without breaking anything else. Then end your answer with <judgement>YES</judgement> if the request is resolved, or <judgement>NO</judgement> if it is not.";
