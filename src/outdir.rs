//! The output directory (`-o DIR`): held by one swerm process at a time (an advisory lock on
//! `DIR/.swerm.lock`, which the kernel releases when the process exits or dies), every file
//! written whole to a temporary name and renamed into place (a reader, or a crash, never sees a
//! half-written file), and outputs that this run did not produce removed rather than left stale.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::text::list;

pub(crate) const LOCK: &str = ".swerm.lock";

/// `-o FILE` is an error that says so (before anything reads or writes there).
pub(crate) fn refuse_file(path: &Path) -> Result<()> {
    if path.is_file() {
        bail!("-o {}: is a file; -o names an output directory", show(path));
    }
    Ok(())
}

pub struct OutDir {
    path: PathBuf,
    /// Holds the lock for as long as the directory is open.
    _lock: File,
    written: Vec<String>,
}

impl OutDir {
    /// Creates `path` if needed and takes its lock; another live swerm holding it is an error.
    pub fn open(path: &Path) -> Result<OutDir> {
        refuse_file(path)?;
        fs::create_dir_all(path).with_context(|| format!("{}: cannot create output directory", show(path)))?;
        let lock_path = path.join(LOCK);
        let mut lock = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)
            .with_context(|| format!("{}: cannot open", lock_path.display()))?;
        if lock.try_lock().is_err() {
            let mut holder = String::new();
            let _ = lock.read_to_string(&mut holder);
            let holder = holder.trim();
            bail!(
                "{}: another swerm{} is writing to this directory; wait for it to finish or use another -o",
                show(path),
                if holder.is_empty() { String::new() } else { format!(" (process {holder})") }
            );
        }
        // Ours now: note who holds it, for the message another process would print.
        lock.set_len(0)?;
        lock.rewind()?;
        let _ = write!(lock, "{}", std::process::id());
        Ok(OutDir { path: path.to_path_buf(), _lock: lock, written: Vec::new() })
    }

    /// Takes the lock of `path` if the directory already exists (so that a second process is
    /// refused before it loads a model); `None` when it does not exist yet (nothing is created).
    pub(crate) fn open_if_exists(path: &Path) -> Result<Option<OutDir>> {
        if path.is_dir() { OutDir::open(path).map(Some) } else { Ok(None) }
    }

    /// Whether another live swerm holds `dir` (a `score` still writing its store): the holder's
    /// process id when it wrote one. Reading such a store would report partial numbers.
    pub(crate) fn held_by_another(dir: &Path) -> Option<String> {
        let lock = File::open(dir.join(LOCK)).ok()?;
        if lock.try_lock_shared().is_ok() {
            return None;
        }
        let mut holder = String::new();
        let _ = (&lock).read_to_string(&mut holder);
        Some(holder.trim().to_string())
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Writes `name` atomically and records it as produced by this run.
    pub(crate) fn write(&mut self, name: &str, bytes: &[u8]) -> Result<()> {
        self.write_parts(name, &[bytes])
    }

    /// [`OutDir::write`] of the concatenation of `parts`, without joining them first.
    pub(crate) fn write_parts(&mut self, name: &str, parts: &[impl AsRef<[u8]>]) -> Result<()> {
        write_atomic_parts(&self.path.join(name), parts)?;
        self.mark_written(name);
        Ok(())
    }

    /// Records `name` as produced by this run without writing it here (the score store writes
    /// its own file).
    pub(crate) fn mark_written(&mut self, name: &str) {
        if !self.written.iter().any(|w| w == name) {
            self.written.push(name.to_string());
        }
    }

    /// Removes every file of `possible` that this run did not write (left by an earlier run, it
    /// would no longer describe the directory's contents).
    pub(crate) fn remove_stale(&self, possible: &[&str]) -> Result<()> {
        for name in possible {
            if self.written.iter().any(|w| w == name) {
                continue;
            }
            let p = self.path.join(name);
            match fs::remove_file(&p) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e).with_context(|| format!("{}: cannot remove a stale output", p.display())),
            }
        }
        Ok(())
    }

    /// "wrote a, b and c to DIR", in the order written.
    pub(crate) fn summary(&self) -> String {
        format!("wrote {} to {}", list(&self.written), show(&self.path))
    }
}

/// Writes `bytes` to `path` through a temporary file in the same directory, synced, then
/// renamed over the target.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_parts(path, &[bytes])
}

/// [`write_atomic`] of the concatenation of `parts`, without building it first (a store of a
/// million lines is rendered in parallel chunks, written one after the other).
pub(crate) fn write_atomic_parts(path: &Path, parts: &[impl AsRef<[u8]>]) -> Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("out");
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| -> Result<()> {
        let mut f = File::create(&tmp)?;
        for part in parts {
            f.write_all(part.as_ref())?;
        }
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.with_context(|| format!("{}: cannot write", path.display()))
}

/// A directory path for messages, without trailing slashes (`out/` -> `out`).
pub(crate) fn show(p: &Path) -> String {
    let s = p.display().to_string();
    let t = s.trim_end_matches('/');
    if t.is_empty() { s } else { t.to_string() }
}

/// A store file lines are appended to as work finishes (one `write` per line, synced to disk
/// every 64 lines and on `sync`): what scores.jsonl and pairs.jsonl share.
pub(crate) struct Appender {
    path: PathBuf,
    file: File,
    since_sync: usize,
}

impl Appender {
    pub(crate) fn open(path: &Path) -> Result<Self> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("{}: cannot open", path.display()))?;
        Ok(Appender { path: path.to_path_buf(), file, since_sync: 0 })
    }

    /// Appends `line` as one JSON line, counted for Ctrl-C's message.
    pub(crate) fn append<T: serde::Serialize>(&mut self, line: &T) -> Result<()> {
        let text = serde_json::to_string(line).expect("a store line serializes") + "\n";
        self.file.write_all(text.as_bytes()).with_context(|| format!("{}: cannot write", self.path.display()))?;
        crate::interrupt::saved_one();
        self.since_sync += 1;
        if self.since_sync >= 64 {
            self.sync()?;
        }
        Ok(())
    }

    pub(crate) fn sync(&mut self) -> Result<()> {
        self.since_sync = 0;
        self.file.sync_data().with_context(|| format!("{}: cannot sync", self.path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_holder_at_a_time_and_stale_files_go() {
        let d = tempfile::tempdir().unwrap();
        let mut a = OutDir::open(d.path()).unwrap();
        let e = OutDir::open(d.path()).err().unwrap().to_string();
        assert!(e.contains("another swerm") && e.contains(&std::process::id().to_string()), "{e}");
        fs::write(d.path().join("tts.svg"), "old").unwrap();
        a.write("report.json", b"{}").unwrap();
        a.remove_stale(&["report.json", "tts.svg", "never.md"]).unwrap();
        assert!(d.path().join("report.json").exists() && !d.path().join("tts.svg").exists());
        assert_eq!(a.summary(), format!("wrote report.json to {}", show(d.path())));
        drop(a);
        OutDir::open(d.path()).expect("released when dropped");
    }

    #[test]
    fn names() {
        assert_eq!(show(Path::new("out/")), "out");
        assert_eq!(show(Path::new("/")), "/");
    }
}
