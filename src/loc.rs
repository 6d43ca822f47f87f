//! Where a record came from (file and line, or element of a JSON array), for error messages
//! and for re-reading a record's trajectory later without holding it in memory.

use std::fmt;
use std::path::PathBuf;

/// The position of one record inside its file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Pos {
    /// 1-based line of a JSONL file, with the byte offset where the line starts.
    Line { line: usize, offset: u64 },
    /// 1-based element of a top-level JSON array.
    Element(usize),
    /// A JSON object under this key of a top-level object (`{"<iid>": {...}}` predictions).
    Key(String),
    /// The whole file is the record (a SWE-agent `.traj`).
    File,
}

/// A record's file and position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Loc {
    pub(crate) path: PathBuf,
    pub(crate) pos: Pos,
}

impl Loc {
    pub fn line(path: impl Into<PathBuf>, line: usize, offset: u64) -> Self {
        Loc { path: path.into(), pos: Pos::Line { line, offset } }
    }
    pub(crate) fn file(path: impl Into<PathBuf>) -> Self {
        Loc { path: path.into(), pos: Pos::File }
    }
}

impl fmt::Display for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = self.path.display();
        match &self.pos {
            Pos::Line { line, .. } => write!(f, "{p}:{line}"),
            Pos::Element(i) => write!(f, "{p}: record {i}"),
            Pos::Key(k) => write!(f, "{p}: key {k:?}"),
            Pos::File => write!(f, "{p}"),
        }
    }
}
