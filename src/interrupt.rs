//! Ctrl-C while scoring: every finished score is already in the store (appended as it
//! arrives), so an interrupt loses nothing; it says how many scores are saved and how to resume,
//! then exits with status 130 (the shell's code for SIGINT).

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, Once};

static SAVED: AtomicUsize = AtomicUsize::new(0);
static STORE: Mutex<Option<(PathBuf, usize, [&'static str; 2])>> = Mutex::new(None);
static INSTALL: Once = Once::new();

/// From now on, Ctrl-C reports the scores saved in `store` (`before` of them were there when the
/// run started).
pub(crate) fn watch(store: PathBuf, before: usize) {
    watch_as(store, before, ["score", "scores"]);
}

/// `watch` for a store of other things than scores (a pairwise judge's comparisons), named by
/// `noun` (singular, plural).
pub(crate) fn watch_as(store: PathBuf, before: usize, noun: [&'static str; 2]) {
    SAVED.store(0, Ordering::SeqCst);
    *STORE.lock().unwrap_or_else(|e| e.into_inner()) = Some((store, before, noun));
    INSTALL.call_once(|| {
        // Another handler already installed (a host program) is left in place.
        let _ = ctrlc::set_handler(|| {
            crate::console::say_raw(&format!("\n{}", message()));
            std::process::exit(130);
        });
    });
}

/// Counts one score appended to the watched store.
pub(crate) fn saved_one() {
    SAVED.fetch_add(1, Ordering::SeqCst);
}

/// What an interrupt prints.
pub(crate) fn message() -> String {
    let saved = SAVED.load(Ordering::SeqCst);
    match &*STORE.lock().unwrap_or_else(|e| e.into_inner()) {
        Some((p, before, [one, many])) => format!(
            "swerm: interrupted: {} saved in {} ({saved} in this run); run the same command again to resume",
            crate::text::count(before + saved, one, many),
            p.display()
        ),
        None => "swerm: interrupted".to_string(),
    }
}
