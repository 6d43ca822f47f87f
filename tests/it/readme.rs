//! The README's command lines stay true: every `swerm ...` (and `cargo run --release -- ...`)
//! line in the shell blocks of README.md and docs/ parses with the real command-line definitions.

use clap::Parser;

use crate::util::*;

/// The command lines of the README's ```sh blocks: continuation lines joined, comments and
/// pipes cut off, the program name first.
fn command_lines(readme: &str) -> Vec<(usize, Vec<String>)> {
    let mut out = Vec::new();
    let mut in_sh = false;
    let mut pending: Option<(usize, String)> = None;
    for (i, line) in readme.lines().enumerate() {
        let t = line.trim();
        if t.starts_with("```") {
            in_sh = !in_sh && (t == "```sh" || t == "```bash");
            continue;
        }
        if !in_sh {
            continue;
        }
        let (no, text) = match pending.take() {
            Some((no, mut acc)) => {
                acc.push(' ');
                acc.push_str(t);
                (no, acc)
            }
            None if t.starts_with("swerm ") || t.starts_with("cargo run --release -- ") => (i + 1, t.to_string()),
            None => continue,
        };
        if let Some(head) = text.strip_suffix('\\') {
            pending = Some((no, head.trim_end().to_string()));
            continue;
        }
        let text = text.split(" # ").next().unwrap_or("").split(" | ").next().unwrap_or("");
        let text = text.strip_prefix("cargo run --release -- ").map_or(text.to_string(), |r| format!("swerm {r}"));
        out.push((no, words(&text)));
    }
    out
}

/// Shell words: whitespace-separated, with '...' and "..." quoting.
fn words(s: &str) -> Vec<String> {
    let (mut out, mut cur, mut quote, mut any) = (Vec::new(), String::new(), None, false);
    for c in s.chars() {
        match (quote, c) {
            (None, '\'' | '"') => (quote, any) = (Some(c), true),
            (Some(q), c) if c == q => quote = None,
            (None, c) if c.is_whitespace() => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            (_, c) => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(cur);
    }
    out
}

#[test]
fn every_readme_command_line_parses() {
    let mut total = 0;
    for doc in ["README.md", "docs/performance.md", "docs/reliability.md"] {
        let Ok(text) = std::fs::read_to_string(root().join(doc)) else { continue };
        for (no, argv) in command_lines(&text) {
            total += 1;
            if let Err(e) = swerm::cli::Cli::try_parse_from(&argv) {
                panic!("{doc}:{no}: {}\n{e}", argv.join(" "));
            }
        }
    }
    assert!(total >= 25, "found only {total} command lines");
    // The parser itself: a line that does not parse is caught.
    assert!(swerm::cli::Cli::try_parse_from(words("swerm rerank runs/ --no-such-flag -o out/")).is_err());
    assert_eq!(words(r#"swerm a 'b c' "d""#), ["swerm", "a", "b c", "d"]);
}
