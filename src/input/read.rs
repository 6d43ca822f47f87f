//! Reading one input's files into records (in parallel, one file per task), each record sealed:
//! its patch keys computed once as it is read. The options of reading (`LoadOptions`). And
//! reading one record's patch again from its line, for the few patches a dataset that dropped
//! them still needs (the selected ones).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use super::formats::{self, Format};
use super::record::Record;
use super::run_input::RunInput;
use super::stream::{self, Layout};
use crate::loc::{Loc, Pos};
use crate::patch::PatchKeys;

#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// Force a format instead of detecting it per file.
    pub format: Option<Format>,
    /// Keep this (dotted) field of each record as its precomputed score.
    pub score_field: Option<String>,
    /// The instance set (`--instances`) and the file it came from; `None` = the union over runs.
    pub instances: Option<(PathBuf, Vec<String>)>,
    /// Keep only the keys of patches read from JSONL lines, not their text (a scorer that
    /// never reads a patch): memory then stays far below the inputs' size, and the selected
    /// patches are read again from their lines when predictions are written.
    pub drop_patches: bool,
}

/// A record read, with its patch keys; its patch text dropped where the options say so.
pub(super) struct Sealed {
    pub(super) rec: Record,
    pub(super) format: Format,
    pub(super) keys: PatchKeys,
    pub(super) filled: bool,
    /// The patch came from the run's extras (`preds.json`), not from the record's own line: its
    /// text is kept, since reading the line again would not give it.
    from_extras: bool,
}

impl Sealed {
    /// Keys computed as the record is read (its patch is still in the cache).
    pub(super) fn new(rec: Record, format: Format) -> Sealed {
        let mut s = Sealed { rec, format, keys: PatchKeys::default(), filled: false, from_extras: false };
        s.seal();
        s
    }

    /// Keys computed later, with its file's other records ([`seal_all`]).
    fn unsealed(rec: Record, format: Format) -> Sealed {
        Sealed { rec, format, keys: PatchKeys::default(), filled: false, from_extras: false }
    }

    fn seal(&mut self) {
        (self.keys, self.filled) = crate::patch::summarize(self.rec.patch.as_deref());
    }

    /// Gives the record the patch the run's `preds.json` holds for it.
    pub(super) fn set_patch(&mut self, patch: Option<String>) {
        self.rec.patch = patch;
        self.from_extras = true;
        self.seal();
    }

    /// Drops the patch text of a record that is still where its line says (a JSONL line, not
    /// given a trajectory file or a patch by the run's extras), so it can be read again.
    pub(super) fn drop_text(&mut self) {
        if self.filled && !self.from_extras && matches!(self.rec.source.pos, Pos::Line { .. }) {
            self.rec.patch = None;
        }
    }
}

/// Computes the keys of a file's records, two patches of about the same length at a time
/// (`patch::keys_pair`: their hash chains overlap; at RL scale hashing was a fifth of a
/// rerank's CPU time). Which records are paired changes no key.
fn seal_all(records: &mut [Sealed]) {
    let mut with: Vec<&mut Sealed> = Vec::with_capacity(records.len());
    for s in records.iter_mut() {
        match s.rec.patch {
            Some(_) => with.push(s),
            None => s.seal(),
        }
    }
    // Pairs of about the same length: the longer patch's tail runs alone, at half the rate.
    with.sort_unstable_by_key(|s| s.rec.patch.as_ref().map_or(0, String::len));
    let mut pairs = with.chunks_exact_mut(2);
    for pair in &mut pairs {
        let [a, b] = pair else { unreachable!("chunks of two") };
        let (pa, pb) = (a.rec.patch.as_deref().unwrap_or(""), b.rec.patch.as_deref().unwrap_or(""));
        [(a.keys, a.filled), (b.keys, b.filled)] = crate::patch::summarize_pair(pa, pb);
    }
    for s in pairs.into_remainder() {
        s.seal();
    }
}

/// Reads every file of one input (in parallel), its records in file order.
pub(super) fn read_files(
    input: &RunInput,
    opts: &LoadOptions,
    on_file: &(dyn Fn(&Path) + Sync),
) -> Result<Vec<Sealed>> {
    use rayon::prelude::*;
    let per_file: Vec<Result<Vec<Sealed>>> = input
        .files
        .par_iter()
        .map(|file| {
            let records = read_file(file, opts);
            on_file(file);
            records
        })
        .collect();
    let per_file = per_file.into_iter().collect::<Result<Vec<_>>>()?; // the first file's error first
    // One allocation of the final size, not a vector grown (and copied) file after file.
    let mut records = Vec::with_capacity(per_file.iter().map(Vec::len).sum());
    for r in per_file {
        records.extend(r);
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
    let format = opts.format.or_else(|| Format::from_file_name(file));
    if layout == Layout::Array && format == Some(Format::MiniSweAgent) {
        // mini-swe-agent before `trajectory_format` 1: a bare list of messages.
        return Ok(vec![Sealed::new(formats::mini::bare_list_record(file)?, Format::MiniSweAgent)]);
    }
    let mut r = Records { out: Vec::new(), format, score_field: opts.score_field.as_deref() };
    match layout {
        Layout::Jsonl => stream::for_each_line_text(file, &mut |src: Loc, text: &[u8]| r.line(src, text))?,
        _ => stream::for_each_record(file, layout, &mut |src: Loc, v: Value| r.value(src, v))?,
    }
    let mut out = r.out;
    seal_all(&mut out);
    if let Some(f) = opts.format
        && !out.is_empty()
        && !out.iter().any(|s| s.filled)
    {
        bail!(
            "{}: none of its {} records has a patch under --format {}: is that the right format?",
            file.display(),
            out.len(),
            f.name()
        );
    }
    Ok(out)
}

/// One file's records as they are read, and its format once known.
struct Records<'a> {
    out: Vec<Sealed>,
    format: Option<Format>,
    score_field: Option<&'a str>,
}

impl Records<'_> {
    /// A JSONL line: after the file's first record, a plain SWE-bench predictions line is read
    /// without building its JSON value (`predictions::plain_record`); any other line the
    /// general way.
    fn line(&mut self, src: Loc, text: &[u8]) -> Result<()> {
        if self.format == Some(Format::Predictions)
            && self.score_field.is_none()
            && !self.out.is_empty()
            && let Some(rec) = formats::predictions::plain_record(text, &src)
        {
            self.out.push(Sealed::unsealed(rec, Format::Predictions));
            return Ok(());
        }
        let v = stream::parse_line(&src, text)?;
        self.value(src, v)
    }

    /// A record's JSON value (or a map of records keyed by instance id); the file's first one
    /// is checked to be agent output and, unless forced, gives the format.
    fn value(&mut self, src: Loc, v: Value) -> Result<()> {
        if self.out.is_empty() {
            not_runs(&src, &v)?;
        }
        for (src, v) in split_keyed(src, v) {
            let f = match self.format {
                Some(f) => f,
                None => *self.format.insert(Format::detect(&v).with_context(|| {
                    format!("{src}: cannot tell the format of this record (no `instance_id`, `messages`, `history` or `trajectory`); use --format")
                })?),
            };
            self.out.push(Sealed::unsealed(formats::extract_owned(v, f, &src, self.score_field)?, f));
        }
        Ok(())
    }
}

/// Refuses the first value of a file that is not agent output: a harness report, or a bare list
/// of chat messages without an instance id.
fn not_runs(src: &Loc, v: &Value) -> Result<()> {
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
fn split_keyed(src: Loc, v: Value) -> Vec<(Loc, Value)> {
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
            (Loc { path: src.path.clone(), pos: Pos::Key(k) }, rec)
        })
        .collect()
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
        let ds = load(&[run_of(&p)], &opts, &|_| {}).unwrap();
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
        let ds = load(&[run_of(&p)], &LoadOptions::default(), &|_| {}).unwrap();
        assert_eq!(ds.cands[2].patch.as_deref(), Some("+c\n"));
    }
}
