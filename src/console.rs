//! The two channels a command speaks on, and the only place that writes them.
//!
//! Standard output, for results. A closed stdout (`swerm rerank --json | head -1`, a CI step
//! that stops reading) is not an error: the rest of the output is dropped quietly and the
//! command ends with the exit status it would have had (`println!` would panic with status 101).
//! Any other write error (a full disk, `> /dev/full`) is: the output is lost, so the command
//! ends with exit status 2 and says why (`check`, called once the command is done).
//!
//! Standard error, for messages, each one line behind the `swerm:` prefix. This channel owns
//! `--strict` and `-q` (`configure`, once, before any command runs), so no stage threads them:
//! - `warn`: something about the inputs or labels a reader must know (`swerm: warning:`); an
//!   error under `--strict`;
//! - `caution`: a warning `--strict` does not refuse, since nothing about the inputs is wrong
//!   (a figure not drawn, an endpoint gone);
//! - `note`: context (`swerm: note:`), and `info`: what is going on (`swerm: labels: ...`),
//!   both silent under `-q`;
//! - `say`: a line printed whatever the flags (the resume count, an interrupted run).
//!
//! Warnings of a kind (one per run, one per report) are said once under `-q`, at the end, with
//! how many there were (`say_held`). Warnings are cut between words to one line, keeping their
//! last clause (`text::clip`).

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};

static CLOSED: AtomicBool = AtomicBool::new(false);
/// The first write error other than a closed pipe.
static FAILED: OnceLock<String> = OnceLock::new();

/// Writes `text` to stdout; once stdout is closed, writes nothing.
pub(crate) fn print(text: &str) {
    if CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        failed(&e);
    }
}

/// Records a failed write to stdout: nothing more is written; a closed pipe ends quietly, any
/// other error makes [`check`] fail.
pub(crate) fn failed(e: &std::io::Error) {
    CLOSED.store(true, Ordering::Relaxed);
    if e.kind() != std::io::ErrorKind::BrokenPipe {
        let _ = FAILED.set(e.to_string());
    }
}

/// An error when a write to stdout failed for another reason than a closed pipe.
pub fn check() -> anyhow::Result<()> {
    match FAILED.get() {
        Some(e) => anyhow::bail!("writing to standard output: {e}: the output is incomplete"),
        None => Ok(()),
    }
}

/// `print` with a newline.
pub(crate) fn println(text: impl std::fmt::Display) {
    print(&format!("{text}\n"));
}

/// `println!` through [`print`].
#[macro_export]
macro_rules! outln {
    ($($t:tt)*) => { $crate::console::println(format!($($t)*)) };
}

/// `print!` through [`print`].
#[macro_export]
macro_rules! out {
    ($($t:tt)*) => { $crate::console::print(&format!($($t)*)) };
}

static QUIET: AtomicBool = AtomicBool::new(false);
static STRICT: AtomicBool = AtomicBool::new(false);

/// `-q` and `--strict`, set once before a command runs.
pub fn configure(quiet: bool, strict: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
    STRICT.store(strict, Ordering::Relaxed);
}

/// `-q`: no progress bars, notes or informational lines.
pub(crate) fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// A warning about the inputs or labels: one line, or an error under `--strict`. `kind`: one of
/// several warnings of a kind (one per run, one per report), said once under `-q`.
pub(crate) fn warn(kind: Option<&'static str>, msg: &str) -> anyhow::Result<()> {
    if STRICT.load(Ordering::Relaxed) {
        anyhow::bail!("{msg} (--strict)");
    }
    caution(kind, msg);
    Ok(())
}

/// A warning that `--strict` does not turn into an error (nothing about the inputs is wrong).
pub(crate) fn caution(kind: Option<&'static str>, msg: &str) {
    match kind {
        Some(k) if quiet() => {
            let mut held = HELD.lock().unwrap_or_else(|e| e.into_inner());
            match held.iter_mut().find(|(h, ..)| *h == k) {
                Some((.., n)) => *n += 1,
                None => held.push((k, msg.to_string(), 1)),
            }
        }
        _ => eprintln!("swerm: warning: {}", crate::text::clip(msg, 190)),
    }
}

/// Context a reader may want (`swerm: note: ...`); silent under `-q`.
pub(crate) fn note(msg: &str) {
    if !quiet() {
        eprintln!("swerm: note: {msg}");
    }
}

/// What is going on (`swerm: ...`); silent under `-q`.
pub(crate) fn info(msg: &str) {
    if !quiet() {
        eprintln!("swerm: {msg}");
    }
}

/// A line said whatever the flags (`swerm: ...`).
pub(crate) fn say(msg: &str) {
    eprintln!("swerm: {msg}");
}

/// A line said whatever the flags, as it is (a message that ends the process, already
/// prefixed).
pub(crate) fn say_raw(msg: &str) {
    eprintln!("{msg}");
}

/// Warnings of a kind held back under `-q`: (kind, the first message, how many).
static HELD: Mutex<Vec<(&'static str, String, usize)>> = Mutex::new(Vec::new());

/// Says the warnings held back under `-q`: one line per kind.
pub(crate) fn say_held() {
    let held = std::mem::take(&mut *HELD.lock().unwrap_or_else(|e| e.into_inner()));
    for (_, first, n) in held {
        let more =
            if n > 1 { format!(" (and {} like it)", crate::text::count(n - 1, "more", "more")) } else { String::new() };
        eprintln!("swerm: warning: {}{more}", crate::text::clip(&first, 160));
    }
}
