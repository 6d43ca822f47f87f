//! Reading one input's files into records (in parallel, one file per task), with the run's
//! extras applied and each record sealed: its patch keys computed once, its patch text kept or
//! dropped. And reading one record's patch again from its line, for the few patches a
//! dataset that dropped them still needs (the selected ones).

use std::borrow::Cow;
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde_json::Value;

use super::dataset::{Candidate, LoadOptions};
use super::formats;
use super::layout::RunInput;
use super::record::{self, Format, Record};
use super::stream::{self, Layout};
use crate::loc::{Pos, Source};
use crate::patch::PatchKeys;

/// A record read, with its patch keys; its patch text dropped where the options say so.
pub(super) struct Sealed {
    pub(super) rec: Record,
    pub(super) format: Format,
    pub(super) keys: PatchKeys,
    pub(super) filled: bool,
}

impl Sealed {
    /// Keys computed as the record is read (its patch is still in the cache).
    pub(super) fn new(rec: Record, format: Format) -> Sealed {
        let mut s = Sealed { rec, format, keys: PatchKeys::default(), filled: false };
        s.reseal();
        s
    }

    /// Keys and `filled` from the record's patch (after a run's `preds.json` gave one).
    pub(super) fn reseal(&mut self) {
        self.keys = self.rec.patch.as_deref().map(crate::patch::keys).unwrap_or_default();
        self.filled = self.rec.patch.as_deref().is_some_and(|p| !p.trim().is_empty());
    }

    /// Drops the patch text of a record that is still where its line says (a JSONL line, not
    /// given a trajectory file or a patch by the run's extras), so it can be read again.
    fn drop_text(&mut self) {
        if self.filled && matches!(self.rec.source.pos, Pos::Line { .. }) {
            self.rec.patch = None;
        }
    }
}

/// Reads every file of one input, in order, with the run's extras applied (`run_files`), and
/// drops the patch texts the options say to.
pub(super) fn read_input(input: &RunInput, opts: &LoadOptions) -> Result<Vec<Sealed>> {
    use rayon::prelude::*;
    let per_file: Vec<Result<Vec<Sealed>>> = input.files.par_iter().map(|file| read_file(file, opts)).collect();
    let mut records = Vec::new();
    for r in per_file {
        records.extend(r?);
    }
    super::run_files::apply(input, &mut records)?;
    if opts.drop_patches {
        records.iter_mut().for_each(Sealed::drop_text);
    }
    Ok(records)
}

/// Reads one file. The format is forced, given by the file name (`.traj`, `.traj.json`), or
/// detected from the first record.
fn read_file(file: &Path, opts: &LoadOptions) -> Result<Vec<Sealed>> {
    if file.is_dir() {
        // An AutoCodeRover instance folder (the only folder a run's layout hands over).
        return Ok(vec![Sealed::new(super::formats::acr::record(file)?, Format::AutoCodeRover)]);
    }
    let layout = stream::sniff_layout(file)?;
    let mut format = opts.format.or_else(|| Format::from_file_name(file));
    if layout == Layout::Array && format == Some(Format::MiniSweAgent) {
        // mini-swe-agent before `trajectory_format` 1: a bare list of messages.
        return Ok(vec![Sealed::new(formats::mini::bare_list_record(file)?, Format::MiniSweAgent)]);
    }
    {
        let mut out = Vec::new();
        let (mut n, mut with_patch) = (0usize, 0usize);
        stream::for_each_record(file, layout, &mut |src: Source, v: Value| -> Result<()> {
            if n == 0 {
                not_runs(&src, &v)?;
            }
            for (src, v) in split_keyed(src, v) {
                let f = match format {
                    Some(f) => f,
                    None => *format.insert(Format::detect(&v).with_context(|| {
                        format!("{src}: cannot tell the format of this record (no `instance_id`, `messages`, `history` or `trajectory`); use --format")
                    })?),
                };
                let rec = record::extract_owned(v, f, &src, opts.score_field.as_deref())?;
                n += 1;
                with_patch += rec.patch.as_deref().is_some_and(|p| !p.trim().is_empty()) as usize;
                out.push(Sealed::new(rec, f));
            }
            Ok(())
        })?;
        if let Some(f) = opts.format
            && n > 0
            && with_patch == 0
        {
            bail!(
                "{}: none of its {n} records has a patch under --format {}: is that the right format?",
                file.display(),
                f.name()
            );
        }
        Ok(out)
    }
}

/// Refuses the first value of a file that is not agent output: a harness report, or a bare list
/// of chat messages without an instance id.
fn not_runs(src: &Source, v: &Value) -> Result<()> {
    if src.pos == Pos::File
        && let Some(shape) = super::labels::report_shape(v)
    {
        bail!("{}: a SWE-bench harness report ({shape}), not agent runs: pass it with --labels", src.path.display());
    }
    let chat = |m: &Value| m.get("role").is_some() && m.get("content").is_some() && m.get("instance_id").is_none();
    if src.pos == Pos::Element(1) && chat(v) {
        bail!(
            "{}: a bare list of chat messages (a mini-swe-agent trajectory before trajectory_format 1) says no instance id: name the file <instance_id>.traj.json",
            src.path.display()
        );
    }
    Ok(())
}

/// A top-level object keyed by instance id (`{"<iid>": {...}, ...}`, the old SWE-bench
/// predictions layout) is split into one record per key; any other value is one record.
fn split_keyed(src: Source, v: Value) -> Vec<(Source, Value)> {
    let keyed = src.pos == Pos::File
        && Format::detect(&v).is_none()
        && v.as_object().is_some_and(|o| !o.is_empty() && o.values().all(Value::is_object));
    if !keyed {
        return vec![(src, v)];
    }
    let Value::Object(map) = v else { unreachable!() };
    map.into_iter()
        .map(|(k, mut rec)| {
            if let Some(o) = rec.as_object_mut() {
                o.entry("instance_id").or_insert_with(|| Value::String(k.clone()));
            }
            (Source { path: src.path.clone(), pos: Pos::Key(k) }, rec)
        })
        .collect()
}

/// The patch of `c` as the record gave it: the kept text, or its line read again when the text
/// was dropped (`LoadOptions::drop_patches`). A line that no longer gives the same bytes (the
/// file changed since it was read) is an error, never another patch.
pub fn patch_of(c: &Candidate) -> Result<Cow<'_, str>> {
    if let Some(p) = &c.patch {
        return Ok(Cow::Borrowed(p));
    }
    let (Some(src), Some(format)) = (&c.source, c.format) else { return Ok(Cow::Borrowed("")) };
    if !c.filled {
        return Ok(Cow::Borrowed(""));
    }
    let Pos::Line { offset, .. } = src.pos else {
        bail!("{src}: the patch text was not kept (a record not read from a JSONL line)");
    };
    let v = stream::record_at(&src.path, offset).with_context(|| format!("{src}: reading the patch again"))?;
    let patch = record::extract(&v, format, src, None)?.patch.unwrap_or_default();
    if crate::patch::keys(&patch) != c.keys {
        bail!("{src}: the file changed since swerm read it (this line now gives another patch); run again");
    }
    Ok(Cow::Owned(patch))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::dataset::load;

    fn run_of(path: &Path) -> RunInput {
        RunInput::new("r".into(), vec![path.to_path_buf()], 0, path)
    }

    /// Dropped texts come back byte for byte from their lines (CRLF, escapes, non-ASCII, a
    /// blank patch kept as it was); a line that changed since is an error, not another patch.
    #[test]
    fn dropped_patches_are_read_again_exactly() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("r.jsonl");
        let patches = ["diff --git a/x b/x\r\n+\u{e9} \"q\" \\ \u{2028}\n", "   ", "+b\n"];
        let text: String = patches
            .iter()
            .enumerate()
            .map(|(i, patch)| {
                format!("{}\n", serde_json::json!({"instance_id": format!("i{i}"), "model_patch": patch}))
            })
            .collect();
        std::fs::write(&p, format!("{text}\n")).unwrap();
        let opts = LoadOptions { drop_patches: true, ..Default::default() };
        let ds = load(&[run_of(&p)], &opts, &mut |_| {}).unwrap();
        assert!(ds.cands[0].patch.is_none() && ds.cands[2].patch.is_none(), "the texts were dropped");
        assert_eq!(ds.cands[1].patch.as_deref(), Some("   "), "a blank patch is kept as it was");
        for (i, want) in patches.iter().enumerate() {
            assert_eq!(ds.patch(i).unwrap(), *want);
            assert_eq!(ds.cands[i].keys, crate::patch::keys(want));
        }
        std::fs::write(&p, text.replace("+b", "+c")).unwrap();
        let e = ds.patch(2).unwrap_err().to_string();
        assert!(e.contains("r.jsonl:3") && e.contains("changed since swerm read it"), "{e}");
        // Kept when asked to (a verifier reads them).
        let ds = load(&[run_of(&p)], &LoadOptions::default(), &mut |_| {}).unwrap();
        assert_eq!(ds.cands[2].patch.as_deref(), Some("+c\n"));
    }
}
