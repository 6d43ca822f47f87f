//! Streams the JSON records of one file (JSONL lines, elements of a top-level JSON array, the
//! values of a top-level object keyed by instance id, or one whole-file object) to a callback,
//! one at a time, so that no file's records are all held in memory at once.

use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use serde::de::{Deserializer, SeqAccess, Visitor};
use serde_json::Value;

use crate::loc::{Loc, Pos};

/// The longest JSONL line accepted: 1 GiB, or `SWERM_MAX_LINE_BYTES`. A trajectory can be
/// large (OpenHands lines of 100 MB exist), but a longer line is an error naming the file and
/// line instead of an out-of-memory.
pub(crate) fn max_line_bytes() -> usize {
    static MAX: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *MAX.get_or_init(|| std::env::var("SWERM_MAX_LINE_BYTES").ok().and_then(|v| v.parse().ok()).unwrap_or(1 << 30))
}

/// How a file's records are laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Layout {
    Jsonl,
    Array,
    /// One top-level object: either a single record (a `.traj`, one chat record) or a map of
    /// records keyed by instance id; decided by the callback's caller from the value itself.
    Object,
}

/// Guesses the layout from the first non-blank bytes: `[` is an array; `{` followed by a
/// second `{`-starting line is JSONL; a lone object is an object.
pub(crate) fn sniff_layout(path: &Path) -> Result<Layout> {
    let mut f = open(path)?;
    let mut buf = vec![0u8; 64 * 1024];
    let n = read_up_to(&mut f, &mut buf).with_context(|| format!("{}: cannot read", path.display()))?;
    let head = buf[..n].strip_prefix(BOM).unwrap_or(&buf[..n]);
    let n = head.len();
    let first = head.iter().position(|b| !b.is_ascii_whitespace());
    match first.map(|i| head[i]) {
        None => Ok(Layout::Jsonl), // empty file: no records
        Some(b'[') => Ok(Layout::Array),
        Some(b'{') => {
            let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
            if ext == "jsonl" || ext == "ndjson" {
                Ok(Layout::Jsonl)
            } else if ext == "traj" {
                Ok(Layout::Object)
            } else {
                // A .json file: JSONL if the first line is a complete JSON value on its own.
                let line_end = head.iter().position(|&b| b == b'\n').unwrap_or(n);
                let line = &head[..line_end];
                if line_end < n && serde_json::from_slice::<Value>(line).is_ok() {
                    Ok(Layout::Jsonl)
                } else {
                    Ok(Layout::Object)
                }
            }
        }
        Some(_) => bail!("{}:1: not JSON (expected `{{` or `[`)", path.display()),
    }
}

fn read_up_to(f: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        let k = f.read(&mut buf[n..])?;
        if k == 0 {
            break;
        }
        n += k;
    }
    Ok(n)
}

/// The UTF-8 byte-order mark some editors and Windows tools put at the start of a file.
pub(crate) const BOM: &[u8] = b"\xef\xbb\xbf";

pub(crate) fn open(path: &Path) -> Result<File> {
    File::open(path).with_context(|| format!("{}: cannot open", path.display()))
}

/// A buffered reader positioned after the byte-order mark, if the file starts with one;
/// also returns how many bytes were skipped.
pub(crate) fn open_text(path: &Path, capacity: usize) -> Result<(BufReader<File>, u64)> {
    let mut r = BufReader::with_capacity(capacity, open(path)?);
    let skip = if r.fill_buf().with_context(|| format!("{}: cannot read", path.display()))?.starts_with(BOM) {
        r.consume(BOM.len());
        BOM.len() as u64
    } else {
        0
    };
    Ok((r, skip))
}

/// A serde_json error without its position inside the parsed text ("at line 1 column 30" is
/// a position inside one JSONL record, not in the file): "message (column 30)".
pub(crate) fn json_error(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    match msg.rsplit_once(" at line ") {
        Some((m, _)) => format!("{m} (column {})", e.column()),
        None => msg,
    }
}

/// Calls `each(source, value)` for every record of `path` in file order.
pub(crate) fn for_each_record(
    path: &Path,
    layout: Layout,
    each: &mut dyn FnMut(Loc, Value) -> Result<()>,
) -> Result<()> {
    match layout {
        Layout::Jsonl => for_each_line(path, each),
        Layout::Array => for_each_element(path, each),
        Layout::Object => {
            // A whole-file record is parsed at once: the line cap bounds it too.
            let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
            if size > max_line_bytes() as u64 {
                bail!(
                    "{}: a single JSON record of {size} bytes, over the {} byte limit (SWERM_MAX_LINE_BYTES)",
                    path.display(),
                    max_line_bytes()
                );
            }
            let (f, _) = open_text(path, 1 << 16)?;
            let v: Value = serde_json::from_reader(f)
                .map_err(|e| anyhow!("{}:{}: invalid JSON: {}", path.display(), e.line(), json_error(&e)))?;
            each(Loc::file(path), v)
        }
    }
}

fn for_each_line(path: &Path, each: &mut dyn FnMut(Loc, Value) -> Result<()>) -> Result<()> {
    for_each_line_text(path, &mut |src: Loc, text: &[u8]| {
        let v = parse_line(&src, text)?;
        each(src, v)
    })
}

/// Calls `each(source, text)` for every non-blank line of the JSONL file `path`, in file order,
/// its text without the line end; [`parse_line`] parses it as [`for_each_record`] would.
pub(crate) fn for_each_line_text(path: &Path, each: &mut dyn FnMut(Loc, &[u8]) -> Result<()>) -> Result<()> {
    let (mut r, mut offset) = open_text(path, 1 << 20)?;
    let mut buf = Vec::new();
    let mut line = 0usize;
    let max = max_line_bytes();
    loop {
        line += 1;
        let start = offset;
        // A line wholly inside the reader's buffer is handed over where it lies; a longer one
        // is gathered into `buf` first.
        let avail = r.fill_buf().with_context(|| format!("{}:{line}: cannot read", path.display()))?;
        let n = match memchr::memchr(b'\n', avail) {
            Some(i) if i < max => {
                let n = i + 1;
                line_text(path, line, start, &avail[..n], each)?;
                n
            }
            _ => {
                buf.clear();
                let n = read_line_bounded(&mut r, &mut buf, max)
                    .with_context(|| format!("{}:{line}: cannot read", path.display()))?;
                if n == 0 {
                    return Ok(());
                }
                line_text(path, line, start, &buf, each)?;
                offset += n as u64;
                continue;
            }
        };
        r.consume(n);
        offset += n as u64;
    }
}

/// Hands over one JSONL line (given with its line end) without it; a blank line is skipped.
fn line_text(
    path: &Path,
    line: usize,
    start: u64,
    bytes: &[u8],
    each: &mut dyn FnMut(Loc, &[u8]) -> Result<()>,
) -> Result<()> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    // Without its line end: a line cut inside a string then reads "EOF while parsing a string
    // (column N)" at its real end, not "control character ... (column 0)" of the next line
    // (the newline inside the unterminated string).
    let text = bytes.strip_suffix(b"\n").map_or(bytes, |t| t.strip_suffix(b"\r").unwrap_or(t));
    each(Loc::line(path, line, start), text)
}

/// One JSONL line's value; the error names the file and line.
pub(crate) fn parse_line(src: &Loc, text: &[u8]) -> Result<Value> {
    serde_json::from_slice(text).map_err(|e| anyhow!("{src}: invalid JSON: {}", json_error(&e)))
}

/// Reads one line (with its `\n`) into `buf`; errors past `max` bytes instead of growing.
pub(crate) fn read_line_bounded(r: &mut impl BufRead, buf: &mut Vec<u8>, max: usize) -> Result<usize> {
    let mut total = 0;
    loop {
        let avail = r.fill_buf()?;
        if avail.is_empty() {
            return Ok(total);
        }
        let (take, done) = match avail.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (avail.len(), false),
        };
        if total + take > max {
            bail!("line longer than {max} bytes");
        }
        buf.extend_from_slice(&avail[..take]);
        r.consume(take);
        total += take;
        if done {
            return Ok(total);
        }
    }
}

/// Streams the elements of a top-level JSON array; each is parsed into a `Value`, handed over
/// and dropped before the next is read.
fn for_each_element(path: &Path, each: &mut dyn FnMut(Loc, Value) -> Result<()>) -> Result<()> {
    let (r, _) = open_text(path, 1 << 20)?;
    let mut de = serde_json::Deserializer::from_reader(r);
    let mut failure: Option<anyhow::Error> = None;
    let visitor = ArrayVisitor { path, each, failure: &mut failure };
    let res = de.deserialize_seq(visitor);
    if let Some(e) = failure {
        return Err(e);
    }
    res.map_err(|e| anyhow!("{}:{}: invalid JSON: {}", path.display(), e.line(), json_error(&e)))?;
    de.end()
        .map_err(|e| anyhow!("{}:{}: trailing data after the JSON array: {}", path.display(), e.line(), json_error(&e)))
}

struct ArrayVisitor<'a, 'f> {
    path: &'a Path,
    each: &'f mut dyn FnMut(Loc, Value) -> Result<()>,
    failure: &'f mut Option<anyhow::Error>,
}

impl<'de> Visitor<'de> for ArrayVisitor<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON array of records")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0;
        while let Some(v) = seq.next_element::<Value>()? {
            i += 1;
            let src = Loc { path: self.path.to_path_buf(), pos: Pos::Element(i) };
            if let Err(e) = (self.each)(src, v) {
                *self.failure = Some(e);
                return Err(serde::de::Error::custom("record rejected"));
            }
        }
        Ok(())
    }
}
