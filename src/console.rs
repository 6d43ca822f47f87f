//! Standard output for results. A closed stdout (`swerm rerank --json | head -1`, a CI step
//! that stops reading) is not an error: the rest of the output is dropped quietly and the
//! command ends with the exit status it would have had (`println!` would panic with status 101).
//! Any other write error (a full disk, `> /dev/full`) is: the output is lost, so the command
//! ends with exit status 2 and says why (`check`, called once the command is done).

use std::io::Write;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

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
