//! Finding one record again by its position (`Loc`): its trajectory when a prompt needs
//! it, its patch when the text was dropped after reading. Nothing read in bulk is kept for this.

use std::fs::File;
use std::io::{BufReader, Seek, SeekFrom};

use anyhow::{Context, Result, anyhow, bail};
use serde_json::Value;

use super::formats::{self, Format};
use super::stream::{self, Layout, max_line_bytes, read_line_bounded};
use super::trajectory::Trajectory;
use crate::loc::{Loc, Pos};
use crate::patch::PatchKeys;

/// Reads the record at `src` again and extracts its trajectory (`None` when the format has none,
/// as for SWE-bench predictions).
pub(crate) fn trajectory(src: &Loc, format: Format) -> Result<Option<Trajectory>> {
    match format {
        Format::Predictions => return Ok(None),
        Format::AutoCodeRover => return formats::acr::trajectory(&src.path),
        _ => {}
    }
    let v = reread(src)?;
    formats::trajectory(&v, format).with_context(|| format!("{src}"))
}

/// The JSON value of one record, found again by its position.
pub(crate) fn reread(src: &Loc) -> Result<Value> {
    let path = &src.path;
    match &src.pos {
        Pos::Line { offset, .. } => line_value(src, &line_at(path, *offset)?),
        Pos::File => {
            let (f, _) = stream::open_text(path, 1 << 16)?;
            serde_json::from_reader(f).map_err(|e| anyhow!("{src}: invalid JSON: {e}"))
        }
        Pos::Element(i) => {
            // Stream up to the element and stop there (a marker error ends the stream), so that
            // re-reading element i costs i elements, not the whole array.
            #[derive(Debug)]
            struct Found;
            impl std::fmt::Display for Found {
                fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("found")
                }
            }
            impl std::error::Error for Found {}
            let mut found = None;
            let mut n = 0;
            let res = stream::for_each_record(path, Layout::Array, &mut |_, v| {
                n += 1;
                if n == *i {
                    found = Some(v);
                    return Err(Found.into());
                }
                Ok(())
            });
            match (res, found) {
                (_, Some(v)) => Ok(v),
                (Err(e), None) => Err(e),
                (Ok(()), None) => Err(anyhow!("{src}: record not found on re-reading (file changed?)")),
            }
        }
        Pos::Key(k) => {
            let (f, _) = stream::open_text(path, 1 << 16)?;
            let mut v: Value = serde_json::from_reader(f).map_err(|e| anyhow!("{src}: invalid JSON: {e}"))?;
            v.get_mut(k).map(Value::take).ok_or_else(|| anyhow!("{src}: record not found on re-reading"))
        }
    }
}

/// The line of a JSONL file that starts at `offset`, with its line end.
fn line_at(path: &std::path::Path, offset: u64) -> Result<Vec<u8>> {
    let mut f = File::open(path).with_context(|| format!("{}: cannot open", path.display()))?;
    f.seek(SeekFrom::Start(offset))?;
    let mut buf = Vec::new();
    read_line_bounded(&mut BufReader::new(f), &mut buf, max_line_bytes())?;
    Ok(buf)
}

/// A line read again, as JSON.
fn line_value(src: &Loc, text: &[u8]) -> Result<Value> {
    serde_json::from_slice(text).map_err(|e| anyhow!("{src}: invalid JSON on re-reading (file changed?): {e}"))
}

/// The patch of the record at `src` read again (its text was dropped after reading,
/// `LoadOptions::drop_patches`). A record that no longer gives the same bytes (the file changed
/// since it was read) is an error, never another patch.
pub(super) fn patch_at(src: &Loc, format: Format, keys: PatchKeys) -> Result<String> {
    let again = || format!("{src}: reading the patch again");
    let extract = |v: Value| formats::extract(&v, format, src, None).map(|r| r.patch);
    // A plain predictions line is read again as it was read (`read::Records::line`); the line
    // is read once either way.
    let patch = match (&src.pos, format) {
        (Pos::Line { offset, .. }, Format::Predictions) => {
            let text = line_at(&src.path, *offset).with_context(again)?;
            match formats::predictions::plain_record(&text, src) {
                Some(rec) => rec.patch,
                None => extract(line_value(src, &text).with_context(again)?)?,
            }
        }
        _ => extract(reread(src).with_context(again)?)?,
    }
    .unwrap_or_default();
    if crate::patch::keys(&patch) != keys {
        bail!("{src}: the file changed since swerm read it (this line now gives another patch); run again");
    }
    Ok(patch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn array_elements_are_found_again() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("a.json");
        std::fs::write(&p, r#"[{"instance_id":"a"},{"instance_id":"b"},{"instance_id":"c"}]"#).unwrap();
        for (i, want) in [(1, "a"), (2, "b"), (3, "c")] {
            let v = reread(&Loc { path: p.clone(), pos: Pos::Element(i) }).unwrap();
            assert_eq!(v["instance_id"], want);
        }
        let e = reread(&Loc { path: p.clone(), pos: Pos::Element(4) }).unwrap_err();
        assert!(e.to_string().contains("record not found"), "{e}");
    }
}
