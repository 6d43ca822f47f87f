//! Reading a verdict from a judge's generated text (`--verdict parse`).
//!
//! Decision (the rule, docs/spec/judges.md): the verdict is read from the text after the
//! reasoning, that is after the last `</think>` when there is one, else the whole text. In it,
//! the last JSON object that has a `reward` or a `score` field holding a number in [0, 1] (or a
//! boolean: true 1, false 0) gives that value (SWE-World's `{"test_report": ..., "reward": 0|1}`);
//! failing that, the last standalone upper-case `YES` or `NO` (a word of its own, as in
//! `<judgement>YES</judgement>`) gives 1 or 0. Anything else is no verdict: the sample is
//! invalid. Lower- and mixed-case words are not read: every judge prompt swerm knows asks for
//! upper case, and "no" in prose is not an answer.

use serde_json::Value;

/// The part of `text` a verdict is read from.
pub(crate) fn after_reasoning(text: &str) -> &str {
    match text.rfind("</think>") {
        Some(i) => &text[i + "</think>".len()..],
        None => text,
    }
}

/// The verdict of a generated `text`, or `None` (see the module's rule).
pub(crate) fn parse(text: &str) -> Option<f64> {
    let t = after_reasoning(text);
    json_verdict(t).or_else(|| word_verdict(t))
}

/// The value of the last JSON object in `t` with a usable `reward` or `score`.
fn json_verdict(t: &str) -> Option<f64> {
    let starts: Vec<usize> = t.match_indices('{').map(|(i, _)| i).collect();
    for &i in starts.iter().rev() {
        let mut it = serde_json::Deserializer::from_str(&t[i..]).into_iter::<Value>();
        let Some(Ok(Value::Object(o))) = it.next() else { continue };
        for key in ["reward", "score"] {
            let v = match o.get(key) {
                Some(Value::Number(n)) => n.as_f64(),
                Some(Value::Bool(b)) => Some(if *b { 1.0 } else { 0.0 }),
                _ => None,
            };
            if let Some(v) = v.filter(|v| (0.0..=1.0).contains(v)) {
                return Some(v);
            }
        }
    }
    None
}

/// 1 or 0 from the last standalone `YES` or `NO` in `t`.
fn word_verdict(t: &str) -> Option<f64> {
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    let mut best: Option<(usize, f64)> = None;
    for (w, v) in [("YES", 1.0), ("NO", 0.0)] {
        for (i, _) in t.match_indices(w) {
            let before = t[..i].chars().next_back();
            let after = t[i + w.len()..].chars().next();
            if !word(before) && !word(after) && best.is_none_or(|(j, _)| i > j) {
                best = Some((i, v));
            }
        }
    }
    best.map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_follow_the_documented_rule() {
        // SWE-World's shape: reasoning, then a JSON object.
        let swr =
            "<think>The test imports f... {\"reward\": 0}</think>\n{\"test_report\": \"all pass\", \"reward\": 1}";
        assert_eq!(parse(swr), Some(1.0), "after the last </think>");
        assert_eq!(parse("{\"score\": 0.25} then {\"reward\": 0.5}"), Some(0.5), "the last object");
        assert_eq!(parse("{\"reward\": true}"), Some(1.0));
        assert_eq!(parse("{\"reward\": 3} so <judgement>NO</judgement>"), Some(0.0), "out of range: not a verdict");
        assert_eq!(parse("{\"reward\": {\"x\": 1}, \"score\": 0} "), Some(0.0));
        assert_eq!(parse("I think YES at first, but <judgement>NO</judgement>"), Some(0.0), "the last word");
        assert_eq!(parse("<judgement>YES"), Some(1.0));
        assert_eq!(parse("NOTE: the YESTERDAY test; answer: no"), None, "words of their own, upper case");
        assert_eq!(parse("<think>YES</think> nothing here"), None, "reasoning is not the verdict");
        assert_eq!(parse(""), None);
        assert_eq!(parse("{\"reward\": 1"), None, "an unclosed object");
    }
}
