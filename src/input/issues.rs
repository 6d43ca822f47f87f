//! Issue statements from a SWE-bench-style dataset (`--dataset NAME|PATH`, `--split`): the
//! `problem_statement` of each instance, for candidates that carry no trajectory (plain
//! predictions, `preds.json`) or whose trajectory does not say what the issue was.
//!
//! NAME is a hub dataset id (`princeton-nlp/SWE-bench_Verified`) read as checkpoints are: the
//! HF_HOME cache first, only the cache under HF_HUB_OFFLINE=1, else downloaded with hf-hub.
//! PATH is a parquet file, a folder of parquet shards (`data/<split>-0000K-of-0000M.parquet`,
//! or `<config>/<split>/NNNN.parquet` as the hub's parquet conversion writes them), or a JSONL
//! or JSON export of the same rows.
//!
//! Decision: every column of the instances asked for is read, since a user template
//! (`--template`) may show any of them (`dataset.FIELD`) and the leakage gate
//! (`prompt::privileged`) compares every prompt with the gold `patch`, the `test_patch` and the
//! FAIL_TO_PASS / PASS_TO_PASS lists. The built-in presets show `problem_statement` alone, and
//! the identity of the rows (`digest`) covers only the ids and statements they show; a template's
//! identity covers every field (`fields_digest`).

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;
use serde_json::Value;

use super::fields::kind;
use super::stream;
use crate::hub;
use crate::loc::Loc;

/// `--dataset` and `--split`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct IssueSpec {
    pub(crate) dataset: String,
    pub(crate) split: String,
}

impl IssueSpec {
    /// The dataset as named: the hub id, or the absolute path, and the split (information, not
    /// identity: `digest` is).
    pub(crate) fn name(&self) -> String {
        let p = Path::new(&self.dataset);
        let name = match p.canonicalize() {
            Ok(abs) if p.exists() => abs.display().to_string(),
            _ => self.dataset.clone(),
        };
        format!("{name}:{}", self.split)
    }
}

/// The statements of the instances asked for.
#[derive(Debug, Default)]
pub(crate) struct Issues {
    /// Rows read in all.
    pub(crate) rows: usize,
    pub(crate) by_id: HashMap<String, String>,
    /// Every field of the rows asked for, by id (what a template's `dataset` is).
    pub(crate) fields: HashMap<String, Row>,
    /// The digest of the rows the split supplies (`digest_rows`).
    pub(crate) digest: String,
    /// The digest of every field of every row (`digest_fields`): a template's identity, made
    /// only when asked for (`load_with`).
    pub(crate) fields_digest: Option<String>,
}

/// One dataset row, every column, as JSON (parquet values converted by `json_of`).
pub(crate) type Row = serde_json::Map<String, Value>;

/// What identifies every field of a split's rows: SHA-256 over its distinct (id, row digest)
/// pairs sorted by id, each row's digest that of its JSON with sorted keys (`row_digest`; a
/// template may read any field, so all of them change its prompts).
fn digest_fields(mut rows: Vec<(String, [u8; 32])>) -> String {
    use sha2::{Digest, Sha256};
    rows.sort();
    rows.dedup();
    let mut h = Sha256::new();
    for (id, row) in rows.iter() {
        h.update(format!("{}\0{id}", id.len()));
        h.update(row);
    }
    format!("sha256:{}", crate::checkpoint::hex(&h.finalize()))
}

/// SHA-256 of `row` as JSON with its keys sorted (the same row from parquet and JSONL alike),
/// streamed into the hash: no copy of the text is kept.
fn row_digest(row: &Row) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    struct Hashing(Sha256);
    impl std::io::Write for Hashing {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.update(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let sorted: std::collections::BTreeMap<&String, &Value> = row.iter().collect();
    let mut h = Hashing(Sha256::new());
    serde_json::to_writer(&mut h, &sorted).expect("a JSON row serializes");
    h.0.finalize().into()
}

/// What identifies the issue statements a dataset supplies, whatever its path or file format:
/// SHA-256 over its distinct (instance_id, problem_statement) rows, sorted by id. A parquet
/// file and a JSONL export of the same rows give the same digest; rows of other columns (the
/// gold patch, the tests) are never read, so they cannot change it.
fn digest_rows(mut rows: Vec<(String, String)>) -> String {
    use sha2::{Digest, Sha256};
    rows.sort();
    rows.dedup();
    let mut h = Sha256::new();
    for (id, statement) in rows.iter() {
        h.update(format!("{}\0{id}{}\0", id.len(), statement.len()));
        h.update(statement.as_bytes());
    }
    format!("sha256:{}", crate::checkpoint::hex(&h.finalize()))
}

impl IssueSpec {
    /// The digest of the rows the dataset's split supplies (`digest_rows`): the one `load`
    /// computed already, else the rows read now.
    pub(crate) fn digest(&self) -> Result<String> {
        match self.known() {
            Some((d, _)) => Ok(d),
            None => Ok(load(self, &HashSet::new())?.digest),
        }
    }

    /// The digest of every field of the split's rows (`digest_fields`): read for a template
    /// that reads `dataset` (the rows are read again then, once).
    pub(crate) fn fields_digest(&self) -> Result<String> {
        match self.known() {
            Some((_, Some(f))) => Ok(f),
            _ => Ok(load_with(self, &HashSet::new(), true)?.fields_digest.expect("asked for")),
        }
    }

    /// The digests computed already: the rows' and, when asked for, every field's.
    fn known(&self) -> Option<(String, Option<String>)> {
        let all = DIGESTS.lock().unwrap_or_else(|e| e.into_inner());
        let mut mine = all.iter().filter(|(s, _, _)| s == self).peekable();
        let rows = mine.peek()?.1.clone();
        Some((rows, mine.find_map(|(_, _, f)| f.clone())))
    }
}

/// The digests `load` computed, by dataset (a process reads one or two datasets).
type Known = (IssueSpec, String, Option<String>);
static DIGESTS: std::sync::Mutex<Vec<Known>> = std::sync::Mutex::new(Vec::new());

const ID: &str = "instance_id";
const STATEMENT: &str = "problem_statement";

/// Reads the statements (and every field) of the instances in `want` (rows of other instances
/// are read for the digests only).
pub fn load(spec: &IssueSpec, want: &HashSet<&str>) -> Result<Issues> {
    load_with(spec, want, false)
}

/// `load`, with the digest of every field when `fields` (`IssueSpec::fields_digest`).
fn load_with(spec: &IssueSpec, want: &HashSet<&str>, fields: bool) -> Result<Issues> {
    let files = dataset_files(spec)?;
    let mut out = Issues::default();
    let mut first: HashMap<String, String> = HashMap::new();
    let mut all: Vec<(String, String)> = Vec::new();
    let mut all_fields: Vec<(String, [u8; 32])> = Vec::new();
    for f in &files {
        let mut add = |row: Row, at: String| -> Result<()> {
            let text = |k: &str| -> Result<String> {
                match row.get(k) {
                    Some(Value::String(s)) if !s.is_empty() || k == STATEMENT => Ok(s.clone()),
                    Some(Value::Null) | None if k == STATEMENT => {
                        bail!("{at}: field `{k}`: missing or null (a SWE-bench-style row has `{ID}` and `{STATEMENT}`)")
                    }
                    Some(Value::Null) | None => {
                        bail!(
                            "{at}: field `{k}`: missing, null or empty (a SWE-bench-style row has `{ID}` and `{STATEMENT}`)"
                        )
                    }
                    Some(other) => bail!("{at}: field `{k}`: expected a non-empty string, found {}", kind(other)),
                }
            };
            let (id, statement) = (text(ID)?, text(STATEMENT)?);
            out.rows += 1;
            if fields {
                all_fields.push((id.clone(), row_digest(&row)));
            }
            if !want.contains(id.as_str()) {
                all.push((id, statement));
                return Ok(());
            }
            all.push((id.clone(), statement.clone()));
            match out.by_id.get(&id) {
                Some(s) if *s != statement => {
                    bail!(
                        "{at}: instance {id} appears twice with different problem statements (first at {})",
                        first[&id]
                    )
                }
                Some(_) => Ok(()),
                None => {
                    first.insert(id.clone(), at);
                    out.fields.insert(id.clone(), row);
                    out.by_id.insert(id, statement);
                    Ok(())
                }
            }
        };
        match f.extension().and_then(|e| e.to_str()) {
            Some("parquet") => read_parquet(f, &mut add)?,
            _ => read_json(f, &mut add)?,
        }
    }
    out.digest = digest_rows(all);
    out.fields_digest = fields.then(|| digest_fields(all_fields));
    DIGESTS.lock().unwrap_or_else(|e| e.into_inner()).push((
        spec.clone(),
        out.digest.clone(),
        out.fields_digest.clone(),
    ));
    Ok(out)
}

/// The files of `spec`'s split: a file itself, the split's files in a folder, or in the hub
/// dataset's cached snapshot (downloaded first when not cached and not offline).
fn dataset_files(spec: &IssueSpec) -> Result<Vec<PathBuf>> {
    let p = Path::new(&spec.dataset);
    if p.is_file() {
        return Ok(vec![p.to_path_buf()]);
    }
    if p.is_dir() {
        return split_files(p, &spec.split);
    }
    if !hub::is_repo_id(&spec.dataset) {
        bail!("--dataset {}: no such file or folder, and not a hub dataset id (org/name)", spec.dataset);
    }
    let cached = hub::cached(&spec.dataset, hf_hub::RepoType::Dataset, "main");
    if let Some(snap) = cached.snapshot() {
        match split_files(&snap, &spec.split) {
            Ok(files) => return Ok(files),
            Err(e) if hub::offline() => return Err(e),
            Err(_) => {} // a snapshot with other splits only: ask the hub
        }
    } else if hub::offline() {
        bail!(
            "--dataset {}: not in the cache {} and HF_HUB_OFFLINE is set",
            spec.dataset,
            cached.cache.path().display()
        );
    }
    let repo = hub::api(&spec.dataset, hf_hub::RepoType::Dataset, "main", &cached.cache)
        .map_err(|e| anyhow!("--dataset {e}"))?;
    let info = repo.info().map_err(|e| anyhow!("--dataset {}: cannot list the repository: {e}", spec.dataset))?;
    let names: Vec<String> = info.siblings.into_iter().map(|s| s.rfilename).collect();
    let mut chosen: Vec<&String> =
        names.iter().filter(|n| split_of(n).as_deref() == Some(spec.split.as_str())).collect();
    chosen.sort();
    if chosen.is_empty() {
        bail!(
            "--dataset {}: no {} split ({})",
            spec.dataset,
            spec.split,
            splits_named(names.iter().map(String::as_str))
        );
    }
    chosen
        .into_iter()
        .map(|n| repo.get(n).map_err(|e| anyhow!("--dataset {}: downloading {n}: {e}", spec.dataset)))
        .collect()
}

/// The split a dataset file belongs to, from its path inside the dataset: `data/test-00000-of-
/// 00001.parquet`, `test.jsonl`, `default/test/0000.parquet`; `None` for other files.
fn split_of(rel: &str) -> Option<String> {
    let (dir, name) = rel.rsplit_once('/').unwrap_or(("", rel));
    let stem = [".parquet", ".jsonl", ".json", ".ndjson"].iter().find_map(|e| name.strip_suffix(e))?;
    let parent = dir.rsplit('/').next().unwrap_or("");
    if !parent.is_empty() && parent != "data" && stem.chars().all(|c| c.is_ascii_digit() || c == '-') {
        return Some(parent.to_string());
    }
    let split = stem.split_once('-').map_or(stem, |(s, _)| s);
    (!split.is_empty()).then(|| split.to_string())
}

fn splits_named<'a>(files: impl Iterator<Item = &'a str>) -> String {
    let mut splits: Vec<String> = files.filter_map(split_of).collect();
    splits.sort();
    splits.dedup();
    match splits.len() {
        0 => "no parquet, JSONL or JSON files there".into(),
        _ => format!("splits there: {}", splits.join(", ")),
    }
}

/// The files of `split` in a local folder, looked for up to two levels down.
fn split_files(dir: &Path, split: &str) -> Result<Vec<PathBuf>> {
    let mut all = Vec::new();
    collect(dir, dir, 3, &mut all)?;
    let mut found: Vec<PathBuf> =
        all.iter().filter(|rel| split_of(rel).as_deref() == Some(split)).map(|rel| dir.join(rel)).collect();
    found.sort();
    if found.is_empty() {
        bail!(
            "--dataset {}: no {split} split ({}); see --split",
            dir.display(),
            splits_named(all.iter().map(String::as_str))
        );
    }
    // Parquet shards and a JSON export of the same split side by side: the parquet is the data.
    if found.iter().any(|f| f.extension().is_some_and(|e| e == "parquet")) {
        found.retain(|f| f.extension().is_some_and(|e| e == "parquet"));
    }
    Ok(found)
}

fn collect(root: &Path, dir: &Path, depth: usize, out: &mut Vec<String>) -> Result<()> {
    let entries = std::fs::read_dir(dir).with_context(|| format!("{}: cannot list", dir.display()))?;
    for e in entries {
        let p = e.with_context(|| format!("{}: cannot list", dir.display()))?.path();
        if p.is_dir() && depth > 1 && !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')) {
            collect(root, &p, depth - 1, out)?;
        } else if p.is_file()
            && let Ok(rel) = p.strip_prefix(root)
        {
            out.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
    Ok(())
}

type Add<'a> = dyn FnMut(Row, String) -> Result<()> + 'a;

/// Every row of a parquet file, every column (row groups streamed).
fn read_parquet(path: &Path, add: &mut Add) -> Result<()> {
    let file = File::open(path).with_context(|| format!("{}: cannot open", path.display()))?;
    let reader =
        SerializedFileReader::new(file).map_err(|e| anyhow!("{}: not a readable parquet file: {e}", path.display()))?;
    let fields = reader.metadata().file_metadata().schema().get_fields().to_vec();
    for name in [ID, STATEMENT] {
        if !fields.iter().any(|f| f.name() == name) {
            let names: Vec<&str> = fields.iter().map(|f| f.name()).collect();
            bail!("{}: no column `{name}` (columns: {})", path.display(), names.join(", "));
        }
    }
    let rows = reader.get_row_iter(None).map_err(|e| anyhow!("{}: {e}", path.display()))?;
    for (i, row) in rows.enumerate() {
        let row = row.map_err(|e| anyhow!("{}: row {}: {e}", path.display(), i + 1))?;
        let json: Row = row.get_column_iter().map(|(name, field)| (name.clone(), json_of(field))).collect();
        add(json, format!("{}: row {}", path.display(), i + 1))?;
    }
    Ok(())
}

/// A parquet value as JSON: strings, numbers, booleans, lists and groups as themselves; other
/// types (dates, decimals, bytes) as their text.
fn json_of(f: &Field) -> Value {
    match f {
        Field::Null => Value::Null,
        Field::Bool(b) => Value::Bool(*b),
        Field::Byte(x) => Value::from(*x),
        Field::Short(x) => Value::from(*x),
        Field::Int(x) => Value::from(*x),
        Field::Long(x) => Value::from(*x),
        Field::UByte(x) => Value::from(*x),
        Field::UShort(x) => Value::from(*x),
        Field::UInt(x) => Value::from(*x),
        Field::ULong(x) => Value::from(*x),
        Field::Float(x) => Value::from(*x),
        Field::Double(x) => Value::from(*x),
        Field::Str(s) => Value::String(s.clone()),
        Field::ListInternal(l) => Value::Array(l.elements().iter().map(json_of).collect()),
        Field::Group(g) => Value::Object(g.get_column_iter().map(|(k, v)| (k.clone(), json_of(v))).collect()),
        other => Value::String(other.to_string()),
    }
}

/// The rows of a JSONL file or a JSON array.
fn read_json(path: &Path, add: &mut Add) -> Result<()> {
    let layout = stream::sniff_layout(path)?;
    stream::for_each_record(path, layout, &mut |src: Loc, v: Value| match v {
        Value::Object(row) => add(row, src.to_string()),
        other => bail!("{src}: expected a row (an object with `{ID}` and `{STATEMENT}`), found {}", kind(&other)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_from_paths() {
        assert_eq!(split_of("data/test-00000-of-00001.parquet").as_deref(), Some("test"));
        assert_eq!(split_of("data/dev-00000-of-00001.parquet").as_deref(), Some("dev"));
        assert_eq!(split_of("test.jsonl").as_deref(), Some("test"));
        assert_eq!(split_of("default/train/0000.parquet").as_deref(), Some("train"));
        assert_eq!(split_of("README.md"), None);
        assert_eq!(split_of(".gitattributes"), None);
    }

    #[test]
    fn jsonl_rows_and_errors() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("test.jsonl");
        std::fs::write(
            &p,
            "{\"instance_id\":\"a__b-1\",\"problem_statement\":\"Issue A\",\"patch\":\"GOLD\"}\n{\"instance_id\":\"c__d-2\",\"problem_statement\":\"Issue C\"}\n",
        )
        .unwrap();
        let spec = IssueSpec { dataset: d.path().display().to_string(), split: "test".into() };
        let want: HashSet<&str> = ["a__b-1"].into_iter().collect();
        let got = load(&spec, &want).unwrap();
        assert_eq!((got.rows, got.by_id.len()), (2, 1));
        assert_eq!(got.by_id["a__b-1"], "Issue A");
        let e = load(&IssueSpec { split: "dev".into(), ..spec.clone() }, &want).unwrap_err().to_string();
        assert!(e.contains("no dev split (splits there: test)"), "{e}");
        std::fs::write(&p, "{\"instance_id\":\"a__b-1\"}\n").unwrap();
        let e = load(&spec, &want).unwrap_err().to_string();
        assert!(e.contains("test.jsonl:1: field `problem_statement`: missing"), "{e}");
    }
}
