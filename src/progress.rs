//! Progress bars on stderr (indicatif): hidden with `--quiet` or when stderr is not a terminal.
//! Rates read as people write them ("1,521/s"), and nothing is estimated before anything is
//! measured (no "eta 0s" or "0 tokens/s" at the start).

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

pub(crate) fn bar(len: u64, what: &str) -> ProgressBar {
    let quiet = crate::console::quiet();
    let pb = ProgressBar::new(len);
    if quiet || !std::io::stderr().is_terminal() {
        pb.set_draw_target(ProgressDrawTarget::hidden());
    }
    // The label as the prefix; the rate and the estimate once measured; the message (tokens/s
    // while scoring) at the end, cut to the terminal's width.
    let style = ProgressStyle::with_template("{prefix:>10} [{bar:30}] {pos}/{len}{rate}{left} {wide_msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .with_key("rate", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
            if s.pos() > 0 && s.elapsed() >= Duration::from_millis(200) {
                let _ = write!(w, " {}/s", rate(s.pos() as f64 / s.elapsed().as_secs_f64()));
            }
        })
        .with_key("left", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
            if s.pos() > 0 && s.elapsed() >= Duration::from_millis(200) && s.len().is_some_and(|l| l > s.pos()) {
                let _ = write!(w, ", {} left", indicatif::HumanDuration(s.eta()));
            }
        })
        .progress_chars("=> ");
    pb.set_style(style);
    pb.set_prefix(what.to_string());
    pb
}

/// A rate with sensible precision: "1,521", "87.4", "0.62".
pub(crate) fn rate(x: f64) -> String {
    if !x.is_finite() {
        return "?".into();
    }
    if x >= 100.0 {
        return thousands(x.round() as u64);
    }
    if x >= 10.0 { format!("{x:.1}") } else { format!("{x:.2}") }
}

/// 1234567 -> "1,234,567".
pub(crate) fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_read_as_people_write_them() {
        assert_eq!(rate(1520.661), "1,521");
        assert_eq!(rate(87.44), "87.4");
        assert_eq!(rate(0.6234), "0.62");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(999), "999");
    }
}
