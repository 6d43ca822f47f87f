//! Words for messages: counts with the right plural, lists in prose.

/// "1 instance", "3 instances".
pub(crate) fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// "a", "a and b", "a, b and c".
pub(crate) fn list(items: &[String]) -> String {
    match items {
        [] => "nothing".into(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// The first `n` items joined with ", ", then "and K more": a list that stays one short line
/// however many items there are.
pub(crate) fn first_few(items: &[String], n: usize) -> String {
    match items.len() {
        len if len <= n + 1 => items.join(", "),
        len => format!("{}, and {} more", items[..n].join(", "), len - n),
    }
}

/// `s` cut to at most `max` characters, with "..." at the cut (warnings stay one readable line).
pub(crate) fn clip(s: &str, max: usize) -> String {
    let s = s.replace('\n', " ");
    if s.chars().count() <= max {
        return s;
    }
    let mut out: String = s.chars().take(max.saturating_sub(3)).collect();
    out.push_str("...");
    out
}

/// A fraction as a percentage with one decimal, as papers print resolve rates.
pub(crate) fn pct(x: f64) -> String {
    format!("{:.1}", 100.0 * x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words() {
        assert_eq!(count(1, "run", "runs"), "1 run");
        assert_eq!(count(0, "run", "runs"), "0 runs");
        assert_eq!(list(&["a".into(), "b".into(), "c".into()]), "a, b and c");
        assert_eq!(list(&["a".into()]), "a");
        assert_eq!(pct(0.41666), "41.7");
        let many: Vec<String> = (0..64).map(|i| format!("run-{i} lacks 3")).collect();
        assert_eq!(first_few(&many, 2), "run-0 lacks 3, run-1 lacks 3, and 62 more");
        assert_eq!(first_few(&many[..3], 2), "run-0 lacks 3, run-1 lacks 3, run-2 lacks 3");
        assert_eq!(clip("abcdef", 5), "ab...");
        assert_eq!(clip("a\nb", 5), "a b");
    }
}
