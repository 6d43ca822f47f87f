//! The one append-only JSONL store that scorers keep their expensive work in: scores.jsonl and
//! pairs.jsonl are each a `Kept` of their own line type, and the next kept record (a decoding
//! judge's generations) will be another. A line type says what one line is of (its key), how it
//! is parsed with its failing field named, and when two copies of it agree (a merge of shards);
//! everything else is here, once:
//!
//! - reading: blank lines skipped, a byte-order mark stripped, a last line without a newline
//!   that does not parse is a torn line (an interrupted run: dropped, said once), any other bad
//!   line an error naming file, line and field, a key given twice an error naming both lines;
//! - resuming: the complete lines kept for reuse, a torn tail cut so that appends start on a
//!   fresh line; afresh (`--overwrite`, another scorer's store), the file emptied;
//! - appending as work finishes (`outdir::Appender`: one write per line, synced every 64);
//! - the final rewrite: this run's lines and every earlier line of another key, sorted by key,
//!   so the file depends neither on the order work finished nor on earlier runs (a store only
//!   grows);
//! - merging stores of several machines (shards): a key in two of them must agree
//!   (`MERGE_TOLERANCE` for scores).

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Serialize;

use crate::input::stream::max_line_bytes;
use crate::outdir::{self, OutDir};

/// Overlapping values of one key in two stores must agree this closely (engines and batch
/// compositions differ in the last bits; anything more is another scorer).
pub const MERGE_TOLERANCE: f64 = 1e-4;

/// What one line is of: up to three names (an instance and a run; an instance and two runs).
pub(crate) type Key<'a> = (&'a str, &'a str, &'a str);

/// A line type of a kept store.
pub(crate) trait Line: Serialize + Clone + Send + Sync {
    /// The line's key: unique in a store, the order of the final rewrite.
    fn key(&self) -> Key<'_>;
    /// One line's JSON, parsed and checked; the error names the failing field.
    fn parse(text: &[u8]) -> Result<Self, String>;
    /// The [`fingerprint`] of one line's key, from its JSON: what opening a store reads of
    /// every line it holds. A line type may check only its names here (a line this run
    /// replaces is never used); the whole line is checked when it is used.
    fn parse_key(text: &[u8]) -> Result<u128, String> {
        Self::parse(text).map(|l| fingerprint(l.key()))
    }
    /// Whether two lines of one key, from two stores, say the same.
    fn agrees(&self, other: &Self) -> bool;
    /// What the line is of, in words ("instance X of run R").
    fn describe(&self) -> String;
    /// Its values, for a message about two that disagree.
    fn values(&self) -> String;
}

/// Says that a torn last line was dropped: the one place this message is written.
pub(crate) fn say_torn(path: &Path) {
    crate::console::caution(None, &format!("{}: dropped a torn last line (an interrupted run)", path.display()));
}

/// A store file's bytes `text` as lines, by the module's rules: blank lines skipped, a
/// byte-order mark stripped, a last line without a newline that `parse` refuses dropped as torn,
/// any other refusal an error naming `path`, line and field. `parse` gets each line's text, where
/// it starts in `text` and its number; the lines are parsed in parallel chunks of whole lines
/// (~1 MiB each). Returns what `parse` gave for each line, in line order, the length of the
/// complete lines and whether a torn line was dropped.
pub(crate) fn parse_lines<'t, T: Send>(
    path: &Path,
    text: &'t [u8],
    parse: impl Fn(&'t [u8], usize, usize) -> Result<T, String> + Sync,
) -> Result<(Vec<T>, usize, bool)> {
    use rayon::prelude::*;
    // Chunks of ~1 MiB ending at a newline, each with the number of its first line.
    let mut chunks = Vec::new();
    let (mut start, mut lineno) = (0, 1);
    while start < text.len() {
        let want = (start + (1 << 20)).min(text.len());
        let end = memchr::memchr(b'\n', &text[want..]).map_or(text.len(), |i| want + i + 1);
        chunks.push((start, end, lineno));
        lineno += memchr::memchr_iter(b'\n', &text[start..end]).count();
        start = end;
    }
    let max = max_line_bytes();
    // Each chunk: its values, and where a torn last line starts.
    let parsed: Vec<Result<(Vec<T>, Option<usize>)>> = chunks
        .par_iter()
        .map(|&(start, end, first)| {
            let mut out = Vec::new();
            let (mut at, mut lineno) = (start, first);
            while at < end {
                let stop = memchr::memchr(b'\n', &text[at..end]).map_or(end, |i| at + i + 1);
                let raw = &text[at..stop];
                if raw.len() > max {
                    bail!("{}:{lineno}: line longer than {max} bytes", path.display());
                }
                let bom = if raw.starts_with(b"\xef\xbb\xbf") { 3 } else { 0 };
                let line = &raw[bom..];
                if !line.iter().all(u8::is_ascii_whitespace) {
                    match parse(line, at + bom, lineno) {
                        Ok(v) => out.push(v),
                        Err(_) if stop == text.len() && !raw.ends_with(b"\n") => return Ok((out, Some(at))),
                        Err(e) => bail!("{}:{lineno}: {e}", path.display()),
                    }
                }
                at = stop;
                lineno += 1;
            }
            Ok((out, None))
        })
        .collect();
    let parsed = parsed.into_iter().collect::<Result<Vec<_>>>()?; // the first error in line order
    // One allocation of the final size (growing it chunk by chunk copied everything again).
    let mut all = Vec::with_capacity(parsed.iter().map(|(v, _)| v.len()).sum());
    let mut complete = text.len();
    for (values, torn_at) in parsed {
        all.extend(values);
        if let Some(at) = torn_at {
            complete = at;
        }
    }
    Ok((all, complete, complete < text.len()))
}

/// A store file's bytes as read for indexing: mapped, or read into memory where the file
/// cannot be mapped (some network and FUSE file systems).
///
/// Decision (mapped, not read): at RL scale a store is 25-100 MB; reading it into a fresh
/// buffer (page faults, zeroing, a copy) cost time, and the buffer stayed resident. A map reads
/// the page cache in place. It is sound while no one shrinks the file: swerm's final rewrite
/// replaces a store by rename (the map keeps the old file), appends only grow it, and the one
/// shrink (a torn last line cut when a run reopens the store, past every line indexed) happens
/// under the output directory's lock, which `eval` refuses to read under
/// (`cmd::stored::read_scores`). Another program truncating the file while it is read could
/// still stop swerm with SIGBUS.
pub(crate) enum StoreText {
    Mapped(memmap2::Mmap),
    Read(Vec<u8>),
}

impl std::ops::Deref for StoreText {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            StoreText::Mapped(m) => m,
            StoreText::Read(v) => v,
        }
    }
}

impl StoreText {
    /// The bytes of `path`: mapped where the file system allows it, else read.
    pub(crate) fn open(path: &Path) -> Result<StoreText> {
        let file = std::fs::File::open(path).with_context(|| format!("{}: cannot open", path.display()))?;
        // SAFETY: the file is not shrunk below what is read while mapped (see above); its
        // bytes are only read.
        match unsafe { memmap2::Mmap::map(&file) } {
            Ok(m) => Ok(StoreText::Mapped(m)),
            Err(_) => read_text(path).map(StoreText::Read),
        }
    }

    /// Drops a mapped file's pages from the process's memory (they come back from the page
    /// cache when read again), once nothing borrows them.
    fn drop_pages(&mut self) {
        #[cfg(unix)]
        if let StoreText::Mapped(m) = self {
            // SAFETY: `&mut self`: nothing borrows the map; a shared read-only file mapping
            // whose pages are dropped reads the same bytes back from the file.
            unsafe {
                m.unchecked_advise(memmap2::UncheckedAdvice::DontNeed).ok();
            }
        }
    }
}

/// Reads a store file whole.
fn read_text(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("{}: cannot open", path.display()))
}

/// Reads every line of a store file (see the module's rules). Says so when it drops a torn line.
pub(crate) fn read_lines<L: Line>(path: &Path) -> Result<Vec<L>> {
    let text = read_text(path)?;
    let (parsed, _, torn) = parse_lines(path, &text, |line, _, lineno| L::parse(line).map(|l| (l, lineno)))?;
    let (lines, linenos): (Vec<L>, Vec<usize>) = parsed.into_iter().unzip();
    check_unique(path, &lines, &linenos)?;
    if torn {
        say_torn(path);
    }
    Ok(lines)
}

/// The error for a key given twice in the file `path`: at `line`, what it is of, and the line of
/// its first copy (every store reader says it the same way).
pub(crate) fn twice(path: &Path, line: usize, what: &str, first: usize) -> anyhow::Error {
    anyhow::anyhow!("{}:{line}: duplicate line for {what} (first at line {first})", path.display())
}

/// Refuses a key given twice in one file (found by sorting: a million lines need no table of
/// owned keys).
fn check_unique<L: Line>(path: &Path, lines: &[L], linenos: &[usize]) -> Result<()> {
    let mut order: Vec<usize> = (0..lines.len()).collect();
    order.sort_unstable_by(|&x, &y| lines[x].key().cmp(&lines[y].key()).then(x.cmp(&y)));
    for w in order.windows(2) {
        if lines[w[0]].key() == lines[w[1]].key() {
            return Err(twice(path, linenos[w[1]], &lines[w[1]].describe(), linenos[w[0]]));
        }
    }
    Ok(())
}

/// An open kept store of an output directory (its lock is the directory's).
pub(crate) struct Kept<L: Line> {
    path: PathBuf,
    file: outdir::Appender,
    /// Every line already in the store when it was opened.
    previous: Previous,
    /// Lines an afresh opening discarded.
    pub(crate) discarded: usize,
    line: std::marker::PhantomData<L>,
}

/// The lines a store held when it was opened, kept as their text and found by their key's
/// fingerprint; a line is parsed again when it is asked for (`stored`) or kept by the final
/// rewrite. Owned lines in a table of owned keys cost an RL-scale rerun (156k scores) ~0.4 s
/// and ~150 MB more than a first run, which never reads them again when its scorer does not
/// resume (consensus) and replaces every one of them.
///
/// The text is a [`StoreText`] whose pages are dropped once its keys are indexed (a line asked
/// for later comes back from the page cache): held in a buffer, a rerun's 25 MB of score lines
/// at RL scale stayed resident to the end and put its peak RSS above the inputs' size.
#[derive(Default)]
struct Previous {
    text: Option<StoreText>,
    /// (fingerprint of the key, start and end of the line in `text`, its line number), by
    /// fingerprint.
    index: Vec<(u128, usize, usize, usize)>,
}

/// A key as 128 bits (two seeded foldhash hashes of the names).
///
/// Decision: a store's lines are told apart by this fingerprint, not by comparing names. Two
/// different keys share one with a chance below 1e-25 in a store of a million lines; the names
/// of every line are still parsed and checked when the store is opened.
pub(crate) fn fingerprint(k: Key) -> u128 {
    use std::hash::BuildHasher;
    let half = |seed: u64| foldhash::quality::FixedState::with_seed(seed).hash_one(k);
    (half(0x5157_4552_4d5f_4b31) as u128) << 64 | half(0x7377_6572_6d5f_6b32) as u128
}

impl Previous {
    fn text(&self) -> &[u8] {
        self.text.as_deref().unwrap_or(&[])
    }

    /// The line at `at` of the index, parsed whole; the error names file, line and field.
    fn line<L: Line>(&self, path: &Path, at: usize) -> Result<L> {
        let (_, start, end, lineno) = self.index[at];
        L::parse(&self.text()[start..end]).map_err(|e| anyhow::anyhow!("{}:{lineno}: {e}", path.display()))
    }
}

impl<L: Line> Kept<L> {
    /// Opens the store `name` of `out`: emptied when `afresh` (what it held is counted as
    /// discarded), else its complete lines kept for reuse and a torn tail cut.
    pub(crate) fn open(out: &mut OutDir, name: &'static str, afresh: bool) -> Result<Self> {
        let path = out.file(name);
        let mut previous = Previous::default();
        let mut discarded = 0;
        if afresh || !path.exists() {
            if path.exists() {
                discarded = read_lines::<L>(&path).map(|l| l.len()).unwrap_or(0);
            }
            outdir::write_atomic(&path, b"")?;
        } else {
            let mut map = StoreText::open(&path)?;
            let text: &[u8] = &map;
            let (mut index, complete, torn) = parse_lines(&path, text, |line, start, lineno| {
                L::parse_key(line).map(|f| (f, start, start + line.len(), lineno))
            })?;
            // A key given twice: an error naming both lines.
            {
                use rayon::slice::ParallelSliceMut;
                index.par_sort_unstable_by_key(|&(f, _, _, lineno)| (f, lineno));
            }
            if let Some(w) = index.windows(2).find(|w| w[0].0 == w[1].0) {
                let second = L::parse(&text[w[1].1..w[1].2])
                    .map_err(|e| anyhow::anyhow!("{}:{}: {e}", path.display(), w[1].3))?;
                return Err(twice(&path, w[1].3, &second.describe(), w[0].3));
            }
            if torn {
                say_torn(&path);
                let f = OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .with_context(|| format!("{}: cannot open", path.display()))?;
                f.set_len(complete as u64)?;
            }
            map.drop_pages();
            previous = Previous { index, text: Some(map) };
        }
        out.mark_written(name);
        let file = outdir::Appender::open(&path)?;
        Ok(Kept { path, file, previous, discarded, line: std::marker::PhantomData })
    }

    /// Lines read back from earlier runs.
    pub(crate) fn reused(&self) -> usize {
        self.previous.index.len()
    }

    /// The stored line of `key`, if the store holds one; an error when that line does not
    /// parse whole (its key did, on opening).
    pub(crate) fn stored(&self, key: Key) -> Result<Option<L>> {
        let f = fingerprint(key);
        match self.previous.index.binary_search_by_key(&f, |&(f, ..)| f) {
            Ok(at) => self.previous.line(&self.path, at).map(Some),
            Err(_) => Ok(None),
        }
    }

    /// Appends one line (one `write` call), syncing to disk every 64 lines.
    pub(crate) fn append(&mut self, line: &L) -> Result<()> {
        self.file.append(line)
    }

    pub(crate) fn sync(&mut self) -> Result<()> {
        self.file.sync()
    }

    /// Replaces the file, atomically, with `lines` (this run's) and every earlier line of
    /// another key, sorted by key. Returns the whole store, sorted, and how many earlier lines
    /// were kept beside this run's.
    pub(crate) fn finish(mut self, lines: Vec<L>) -> Result<(Vec<L>, usize)> {
        self.sync()?;
        let previous = std::mem::take(&mut self.previous);
        let mut all: Vec<L> = if previous.index.is_empty() {
            Vec::new()
        } else {
            let mine: std::collections::HashSet<u128, foldhash::fast::RandomState> =
                lines.iter().map(|l| fingerprint(l.key())).collect();
            (0..previous.index.len())
                .filter(|&at| !mine.contains(&previous.index[at].0))
                .map(|at| previous.line(&self.path, at))
                .collect::<Result<_>>()?
        };
        drop(previous);
        let kept = all.len();
        // A fresh store (the usual case) keeps this run's vector as it is: extending an empty
        // one copied every line into fresh pages (~11% of an RL-scale rerank in `perf`).
        if all.is_empty() {
            all = lines;
        } else {
            all.extend(lines);
        }
        // Usually in order already (a dataset's grid order is this order): then one pass.
        if !all.is_sorted_by(|a, b| a.key() <= b.key()) {
            all.sort_by(|a, b| a.key().cmp(&b.key()));
        }
        let path = std::mem::take(&mut self.path);
        drop(self);
        outdir::write_atomic_parts(&path, &render_parts(&all))?;
        Ok((all, kept))
    }

    /// [`Kept::finish`] for `n` lines of this run made on demand: `key(k)` is line k's key and
    /// `make(range)` makes those lines. Where the store keeps no earlier line of another key and
    /// the keys come in order (a fresh store, or a rerun that replaces every line: the usual
    /// cases), the lines are made, rendered and dropped a chunk at a time, in parallel, so that
    /// only the file's text is held, not every line (at RL scale 156k score lines took 65 MB
    /// beside their 25 MB of text); otherwise they are all made and merged by `finish`. Returns
    /// how many earlier lines were kept.
    pub(crate) fn finish_made<'k>(
        mut self,
        n: usize,
        key: impl Fn(usize) -> Key<'k> + Sync,
        make: impl Fn(std::ops::Range<usize>) -> Vec<L> + Sync,
    ) -> Result<usize> {
        use rayon::prelude::*;
        let in_order = (1..n).into_par_iter().all(|k| key(k - 1) < key(k));
        // Whether an earlier line has a key of none of this run's lines: both sorted, walked
        // side by side.
        let others = !self.previous.index.is_empty() && {
            let mut mine: Vec<u128> = (0..n).into_par_iter().map(|k| fingerprint(key(k))).collect();
            mine.par_sort_unstable();
            let mut at = 0;
            self.previous.index.iter().any(|&(f, ..)| {
                while at < mine.len() && mine[at] < f {
                    at += 1;
                }
                mine.get(at) != Some(&f)
            })
        };
        if others || !in_order {
            return self.finish(make(0..n)).map(|(_, kept)| kept);
        }
        self.sync()?;
        let path = std::mem::take(&mut self.path);
        drop(self);
        let parts: Vec<Vec<u8>> = (0..n.div_ceil(CHUNK))
            .into_par_iter()
            .map(|c| {
                let lines = make(c * CHUNK..n.min((c + 1) * CHUNK));
                debug_assert!(lines.iter().enumerate().all(|(k, l)| l.key() == key(c * CHUNK + k)));
                render_chunk(&lines)
            })
            .collect();
        outdir::write_atomic_parts(&path, &parts)?;
        Ok(0)
    }
}

/// Lines rendered by one task of a store's final rewrite.
const CHUNK: usize = 4096;

/// The text of a whole store file.
pub(crate) fn render<L: Line>(lines: &[L]) -> String {
    String::from_utf8(render_parts(lines).concat()).expect("serde_json writes UTF-8")
}

/// The text of a whole store file, in consecutive parts (for `outdir::write_atomic_parts`).
fn render_parts<L: Line>(lines: &[L]) -> Vec<Vec<u8>> {
    use rayon::prelude::*;
    // In parallel chunks: a store of a million lines is written in a fraction of a second.
    lines.par_chunks(CHUNK).map(render_chunk).collect()
}

/// The text of consecutive lines.
fn render_chunk<L: Line>(lines: &[L]) -> Vec<u8> {
    let mut s = Vec::with_capacity(lines.len() * 160);
    for l in lines {
        serde_json::to_writer(&mut s, l).expect("a store line serializes");
        s.push(b'\n');
    }
    s
}

/// The lines of several stores merged (shards, parts of a run): a key in two stores is kept once
/// when they agree, and is an error naming both when they do not. `origins[k]` names store k.
pub(crate) fn merge<L: Line>(stores: Vec<Vec<L>>, origins: &[String]) -> Result<Vec<L>> {
    if stores.len() == 1 {
        return Ok(stores.into_iter().next().expect("one store"));
    }
    let mut all: Vec<(usize, L)> =
        stores.into_iter().enumerate().flat_map(|(k, ls)| ls.into_iter().map(move |l| (k, l))).collect();
    all.sort_by(|x, y| x.1.key().cmp(&y.1.key()).then(x.0.cmp(&y.0)));
    let mut merged: Vec<(usize, L)> = Vec::with_capacity(all.len());
    for (k, l) in all {
        if let Some((from, m)) = merged.last().filter(|(_, m)| m.key() == l.key()) {
            if !m.agrees(&l) {
                bail!(
                    "{} is in {} ({}) and in {} ({}), which disagree",
                    l.describe(),
                    origins[*from],
                    m.values(),
                    origins[k],
                    l.values()
                );
            }
            continue;
        }
        merged.push((k, l));
    }
    Ok(merged.into_iter().map(|(_, l)| l).collect())
}

#[cfg(test)]
mod tests {
    use super::StoreText;

    /// A store is mapped; a file the kernel cannot map (procfs here, as some network and FUSE
    /// file systems) is read whole instead, never taken as empty.
    #[test]
    fn a_file_that_cannot_be_mapped_is_read() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("scores.jsonl");
        std::fs::write(&p, b"{\"a\":1}\n").unwrap();
        let t = StoreText::open(&p).unwrap();
        assert!(matches!(t, StoreText::Mapped(_)));
        assert_eq!(&*t, b"{\"a\":1}\n");
        #[cfg(target_os = "linux")]
        {
            let t = StoreText::open(std::path::Path::new("/proc/self/status")).unwrap();
            assert!(matches!(t, StoreText::Read(_)), "procfs mapped");
            assert!(t.starts_with(b"Name:"), "{:?}", String::from_utf8_lossy(&t[..t.len().min(40)]));
        }
    }
}
