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

/// `s` cut to at most `max` characters (warnings stay one readable line). The cut falls between
/// words, with "..." at it; a message's last clause (after its last "; ", which says what
/// happens: "missing = unresolved", "(ignored)") is kept whole when it is short, and the cut
/// goes before it.
pub(crate) fn clip(s: &str, max: usize) -> String {
    let s = s.replace('\n', " ");
    if s.chars().count() <= max {
        return s;
    }
    let (body, tail) = match s.rfind("; ") {
        Some(i) if s[i..].chars().count() <= max / 3 => (&s[..i], &s[i..]),
        _ => (s.as_str(), ""),
    };
    let room = max.saturating_sub(tail.chars().count() + 3);
    let cut: String = body.chars().take(room).collect();
    // Back to the last space (a word is never cut), unless the text has none to go back to.
    let cut = match cut.rfind(' ') {
        Some(i) if i > 0 => cut[..i].trim_end_matches([',', ' ', '(']).to_string(),
        _ => cut,
    };
    format!("{cut}...{tail}")
}

/// `x` as a whole number when it is one (within rounding), else `None`.
pub(crate) fn whole(x: f64) -> Option<u64> {
    (x >= 0.0 && (x - x.round()).abs() < 1e-9).then(|| x.round() as u64)
}

/// A count that may be fractional (shared picks): "11", or "11.33" (two decimals, no trailing
/// zeros).
pub(crate) fn amount(x: f64) -> String {
    match whole(x) {
        Some(n) => n.to_string(),
        None => format!("{x:.2}").trim_end_matches('0').to_string(),
    }
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
        assert_eq!(
            (amount(11.0), amount(11.5), amount(1.0 / 3.0), amount(2.999_999_999_99)),
            ("11".into(), "11.5".into(), "0.33".into(), "3".into())
        );
        let many: Vec<String> = (0..64).map(|i| format!("run-{i} lacks 3")).collect();
        assert_eq!(first_few(&many, 2), "run-0 lacks 3, run-1 lacks 3, and 62 more");
        assert_eq!(first_few(&many[..3], 2), "run-0 lacks 3, run-1 lacks 3, run-2 lacks 3");
        assert_eq!(clip("abcdef", 5), "ab...");
        assert_eq!(clip("a\nb", 5), "a b");
        assert_eq!(clip("one two three four", 12), "one two...");
        let long = format!("runs cover different sets: {}; missing = unresolved", many.join(", "));
        let c = clip(&long, 100);
        assert!(c.chars().count() <= 100 && c.ends_with("...; missing = unresolved"), "{c}");
        let kept = c.split("...").next().unwrap();
        assert!(long.starts_with(kept) && kept.len() > 60, "{c}");
        assert!(matches!(long[kept.len()..].chars().next(), Some(',' | ' ')), "cut between words: {c}");
    }
}
