//! Standard output for results. A closed stdout (`swerm rerank --json | head -1`, a CI step
//! that stops reading) is not an error: the rest of the output is dropped quietly and the
//! command ends with the exit status it would have had (`println!` would panic with status 101).

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

static CLOSED: AtomicBool = AtomicBool::new(false);

/// Writes `text` to stdout; once stdout is closed, writes nothing.
pub(crate) fn print(text: &str) {
    if CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let mut out = std::io::stdout().lock();
    if out.write_all(text.as_bytes()).and_then(|()| out.flush()).is_err() {
        CLOSED.store(true, Ordering::Relaxed);
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
