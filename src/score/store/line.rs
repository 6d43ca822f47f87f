//! One line of scores.jsonl: `ScoreLine`, its on-disk shape, and the parser that names the
//! failing field.

use std::borrow::Cow;
use std::collections::HashMap;

use serde::{Deserialize, Deserializer, Serialize};

use crate::grid::Grid;
use crate::prompt::PatchView;

use crate::score::{Scored, VerifierDetail};

/// One line of scores.jsonl; the verifier's columns sit beside the others in the file
/// (`LineRepr`, so that a bad value names its own field).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ScoreLine {
    pub(crate) instance_id: String,
    pub(crate) run: String,
    /// `null` = no score (ranks last).
    pub(crate) score: Option<f64>,
    /// No patch (also true for a missing candidate).
    pub(crate) empty: bool,
    /// The run has no record for this instance.
    pub(crate) missing: bool,
    pub(crate) resolved: Option<bool>,
    pub(crate) detail: VerifierDetail,
    /// The candidate's rank in its instance under a tie-break chain (`--tie-break`; higher
    /// first).
    pub(crate) tie_rank: Option<f64>,
    /// `crate::patch::keys` of the candidate's patch (`None` when empty): selection
    /// breaks ties among different patches by it, so `eval` and `select` reproduce `rerank`'s
    /// picks from the store alone. Written as 16 hex digits.
    pub(crate) patch_hash: Option<u64>,
    /// the seeded hash of the exact patch bytes (`crate::patch::keys`): among tied candidates of equal
    /// content, the smaller decides which bytes predictions.jsonl gets.
    pub(crate) patch_bytes_hash: Option<u64>,
}

/// Written through a `LineRepr` that borrows the line's text (a store is rewritten whole at the
/// end of every run: 156k lines at RL scale, each copied once more before).
impl Serialize for ScoreLine {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        LineRepr::of(self).serialize(s)
    }
}

impl<'de> Deserialize<'de> for ScoreLine {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        LineRepr::deserialize(d).map(ScoreLine::from)
    }
}

/// The line as written: every column at the top level. Text is borrowed from a `ScoreLine` when
/// writing and owned when reading.
#[derive(Serialize, Deserialize)]
struct LineRepr<'a> {
    instance_id: Cow<'a, str>,
    run: Cow<'a, str>,
    /// Required: a line without it is an error, not "no score".
    #[serde(deserialize_with = "nullable")]
    score: Option<f64>,
    #[serde(default)]
    empty: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    missing: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    resolved: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    logit_yes: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    logit_no: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    logit: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    n_tokens: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    truncated: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    trajectory: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    issue: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    patch: Option<PatchView>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    prompt_ids: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    removed_tokens: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cut: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    answer_at: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    answer_ids: Option<Cow<'a, [u32]>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rope_scaling: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    samples: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    invalid_samples: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    generated_tokens: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    privileged: Option<Cow<'a, [String]>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tie_rank: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "hex_u64")]
    patch_hash: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "hex_u64")]
    patch_bytes_hash: Option<u64>,
}

/// `patch_hash` as 16 lower-case hex digits (JSON numbers lose bits past 2^53 in most readers).
mod hex_u64 {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub(crate) fn serialize<S: Serializer>(v: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(x) => s.serialize_str(&format!("{x:016x}")),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(t) if t.len() == 16 => u64::from_str_radix(&t, 16)
                .map(Some)
                .map_err(|_| D::Error::custom(format!("{t:?} is not 16 hex digits"))),
            Some(t) => Err(D::Error::custom(format!("{t:?} is not 16 hex digits"))),
        }
    }
}

impl From<LineRepr<'_>> for ScoreLine {
    fn from(r: LineRepr) -> Self {
        let owned = |c: Option<Cow<str>>| c.map(Cow::into_owned);
        let detail = VerifierDetail {
            logit_yes: r.logit_yes,
            logit_no: r.logit_no,
            logit: r.logit,
            n_tokens: r.n_tokens,
            truncated: r.truncated,
            trajectory: r.trajectory,
            issue: r.issue,
            patch: r.patch,
            prompt_ids: owned(r.prompt_ids),
            removed_tokens: r.removed_tokens,
            cut: owned(r.cut),
            answer_at: r.answer_at,
            answer_ids: r.answer_ids.map(Cow::into_owned),
            rope_scaling: owned(r.rope_scaling),
            samples: r.samples,
            invalid_samples: r.invalid_samples,
            generated_tokens: r.generated_tokens,
            privileged: r.privileged.map(Cow::into_owned),
            error: owned(r.error),
        };
        ScoreLine {
            instance_id: r.instance_id.into_owned(),
            run: r.run.into_owned(),
            score: r.score,
            empty: r.empty,
            missing: r.missing,
            resolved: r.resolved,
            detail,
            tie_rank: r.tie_rank,
            patch_hash: r.patch_hash,
            patch_bytes_hash: r.patch_bytes_hash,
        }
    }
}

impl<'a> LineRepr<'a> {
    /// The line's columns, its text borrowed.
    fn of(l: &'a ScoreLine) -> Self {
        let text = |t: &'a Option<String>| t.as_deref().map(Cow::Borrowed);
        let d = &l.detail;
        LineRepr {
            instance_id: Cow::Borrowed(&l.instance_id),
            run: Cow::Borrowed(&l.run),
            score: l.score,
            empty: l.empty,
            missing: l.missing,
            resolved: l.resolved,
            logit_yes: d.logit_yes,
            logit_no: d.logit_no,
            logit: d.logit,
            n_tokens: d.n_tokens,
            truncated: d.truncated,
            trajectory: d.trajectory,
            issue: d.issue,
            patch: d.patch,
            prompt_ids: text(&d.prompt_ids),
            removed_tokens: d.removed_tokens,
            cut: text(&d.cut),
            answer_at: d.answer_at,
            answer_ids: d.answer_ids.as_deref().map(Cow::Borrowed),
            rope_scaling: text(&d.rope_scaling),
            samples: d.samples,
            invalid_samples: d.invalid_samples,
            generated_tokens: d.generated_tokens,
            privileged: d.privileged.as_deref().map(Cow::Borrowed),
            error: text(&d.error),
            tie_rank: l.tie_rank,
            patch_hash: l.patch_hash,
            patch_bytes_hash: l.patch_bytes_hash,
        }
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn nullable<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    Option::<f64>::deserialize(d)
}

impl ScoreLine {
    pub(crate) fn scored(&self) -> Scored {
        Scored::new(self.score, self.detail.clone())
    }
}

impl crate::score::kept::Line for ScoreLine {
    fn key(&self) -> crate::score::kept::Key<'_> {
        (&self.instance_id, &self.run, "")
    }

    fn parse(text: &[u8]) -> Result<Self, String> {
        parse_line(text)
    }

    /// The names only: re-running into a folder whose 156k scores this run replaces read each
    /// of them whole (~0.3 s of CPU at RL scale, a rerun 15-20% slower than a first run).
    ///
    /// A complete line (one that ends in a newline) that starts as swerm writes every line,
    /// `{"instance_id":"I","run":"R",` with no escape in either name, gives its names from those
    /// bytes without a JSON parser (the rest of it is read when the line is used, as the trait
    /// allows); a rerun at RL scale spent ~0.045 s parsing the rest of every line. Any other
    /// line, and a last line without its newline (which may be torn), is parsed.
    fn parse_key(text: &[u8]) -> Result<u128, String> {
        if let Some(names) = written_names(text) {
            return Ok(crate::score::kept::fingerprint(names));
        }
        #[derive(Deserialize)]
        struct Names<'a> {
            #[serde(borrow)]
            instance_id: std::borrow::Cow<'a, str>,
            #[serde(borrow)]
            run: std::borrow::Cow<'a, str>,
        }
        let n: Names = serde_json::from_slice(text).map_err(|e| error_message(".", &e))?;
        Ok(crate::score::kept::fingerprint((&n.instance_id, &n.run, "")))
    }

    /// The same score (within `MERGE_TOLERANCE`) and no two different labels.
    fn agrees(&self, b: &Self) -> bool {
        let same_score = match (self.score, b.score) {
            (Some(x), Some(y)) => (x - y).abs() <= crate::score::kept::MERGE_TOLERANCE,
            (x, y) => x == y,
        };
        same_score && (self.resolved.is_none() || b.resolved.is_none() || self.resolved == b.resolved)
    }

    fn describe(&self) -> String {
        format!("instance {} of run {}", self.instance_id, self.run)
    }

    fn values(&self) -> String {
        format!("score {:?}, resolved {:?}", self.score, self.resolved)
    }
}

/// The instance and run of a complete line that starts as [`ScoreLine`]'s serializer writes it,
/// with neither name escaped (`None` for any other line).
fn written_names(text: &[u8]) -> Option<(&str, &str, &str)> {
    if !text.ends_with(b"\n") {
        return None;
    }
    // A name: up to the next quote, with no backslash (an escape) before it.
    let name = |t: &[u8]| -> Option<usize> {
        let end = memchr::memchr2(b'"', b'\\', t)?;
        (t[end] == b'"').then_some(end)
    };
    let rest = text.strip_prefix(b"{\"instance_id\":\"")?;
    let i = name(rest)?;
    let rest2 = rest[i..].strip_prefix(b"\",\"run\":\"")?;
    let r = name(rest2)?;
    rest2[r..].strip_prefix(b"\",")?;
    let (instance, run) = (std::str::from_utf8(&rest[..i]).ok()?, std::str::from_utf8(&rest2[..r]).ok()?);
    Some((instance, run, ""))
}

/// A line's parse error as the store says it: invalid JSON, or the failing field (at `path`,
/// "." for the line itself) and what is wrong with it. serde_json appends the position inside
/// the line; the line number says enough.
fn error_message(path: &str, e: &serde_json::Error) -> String {
    let msg = e.to_string();
    let msg = msg.rsplit_once(" at line ").map_or(msg.as_str(), |(m, _)| m).to_string();
    if e.is_syntax() || e.is_eof() {
        format!("invalid JSON: {msg}")
    } else if path == "." {
        msg
    } else {
        format!("field `{path}`: {msg}")
    }
}

/// One line, with the failing field named (`field `score`: invalid type: ...`).
pub(super) fn parse_line(text: &[u8]) -> Result<ScoreLine, String> {
    let mut de = serde_json::Deserializer::from_slice(text);
    let line: ScoreLine = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        error_message(&path, &e.into_inner())
    })?;
    de.end().map_err(|e| format!("invalid JSON: {e}"))?;
    if line.score.is_some_and(|s| !s.is_finite()) {
        return Err("field `score`: not a finite number".into());
    }
    Ok(line)
}

/// The one place store lines meet candidates by name: for each cell of `grid`, the index in
/// `lines` of its line, `None` where the store has none. Lines of instances or runs outside the
/// grid are left out; the store's reader keeps one line per (instance, run).
pub(crate) fn place(lines: &[ScoreLine], grid: &Grid) -> Vec<Option<usize>> {
    let (instances, runs) = (&grid.instances, &grid.runs);
    fn index(names: &[String]) -> HashMap<&str, usize> {
        names.iter().enumerate().map(|(i, s)| (s.as_str(), i)).collect()
    }
    let (ii, ri) = (index(instances), index(runs));
    let mut cells = vec![None; instances.len() * runs.len()];
    for (k, l) in lines.iter().enumerate() {
        if let (Some(&i), Some(&r)) = (ii.get(l.instance_id.as_str()), ri.get(l.run.as_str())) {
            cells[i * runs.len() + r] = Some(k);
        }
    }
    cells
}
