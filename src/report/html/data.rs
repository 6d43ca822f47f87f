//! The data report.html's script draws its instances table and instance views from: one row
//! per instance (everything a filter or a sort needs, computed here, so the page only draws),
//! its candidates in selection order, and the distinct patches, each stored once.
//!
//! The keys are short because a 156k-candidate run writes 156k candidate objects; the schema
//! (read by `page.js`, and nothing else) is the field list of [`Row`] and [`Cand`].

use rayon::prelude::*;
use serde::Serialize;

use crate::score::{ScoreTable, VerifierDetail};
use crate::select::{ranking, tie_at};

/// The most patch text one page holds (counted in bytes of the patches' text). Past it, the
/// remaining patches are left out with a note, those of the instances a researcher reads first
/// (solvable but picked wrong, then ties with mixed labels, then other ties) kept first, so that
/// a 156k-candidate run writes a page of a few MB of rows and not 300 MB of patches.
pub(crate) const PATCH_BUDGET: usize = 8 << 20;

/// The largest single patch a page shows (a generated or binary diff of megabytes would spend
/// the budget of every other instance).
pub(crate) const PATCH_MAX: usize = 1 << 20;

/// Where the candidates' patches come from: `None` when there are none to show (`eval` reads
/// scores only). A patch that cannot be read is left out with its error as a note.
pub(crate) type PatchSource<'a> = Option<&'a (dyn Fn(usize) -> anyhow::Result<String> + Sync)>;

#[derive(Serialize)]
pub(crate) struct Data<'a> {
    pub(crate) runs: &'a [String],
    /// Whether the candidates carry labels (the solvable and resolved columns exist).
    pub(crate) labeled: bool,
    pub(crate) rows: Vec<Row<'a>>,
    /// Distinct patches (`Cand::p` indexes here); `null` where the text is left out.
    pub(crate) patches: Vec<Option<String>>,
    /// Why some or all patch texts are absent (`None` when every one is here).
    pub(crate) patches_note: Option<String>,
}

#[derive(Serialize)]
pub(crate) struct Row<'a> {
    pub(crate) id: &'a str,
    /// Some candidate resolves it (`None` without labels).
    pub(crate) solvable: Option<bool>,
    /// The selected run (an index into `runs`).
    pub(crate) pick: usize,
    /// Whether the selected candidate resolves it (`None` without labels).
    pub(crate) resolved: Option<bool>,
    /// Distinct non-empty patches (by content key; a candidate without one counts alone).
    pub(crate) distinct: usize,
    /// The selected candidate's score minus the best score of a candidate with a different
    /// patch; `None` when there is no such candidate or either has no score.
    pub(crate) margin: Option<f64>,
    /// The top is tied among different patches (`select::tie_at`).
    pub(crate) tie: bool,
    /// ... and the tied candidates disagree on the label.
    pub(crate) mixed: bool,
    /// Non-empty candidates without a score.
    pub(crate) unscored: usize,
    /// The candidates, best first (`select::ranking`: the first is the pick).
    pub(crate) cands: Vec<Cand>,
}

/// One candidate. Short keys: `r` run index, `s` score, `l` label, `u` why it has no score,
/// `e` empty (`"empty"`: a record without a patch, `"missing"`: no record), `p` its patch
/// (index into `patches`), `ly`/`ln` the YES/NO logits, `n` prompt tokens, `t` truncated (`c`
/// what was cut, `rm` the tokens removed), `po` judged from its patch alone.
#[derive(Default, Serialize)]
pub(crate) struct Cand {
    pub(crate) r: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) l: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) u: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) e: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) p: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) ly: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) ln: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) n: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) t: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) c: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) rm: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) po: Option<bool>,
    /// The privileged inputs its prompt held (`--allow-privileged`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) pv: Option<String>,
    /// A reasoning judge's samples and those without a verdict.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) sm: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) si: Option<usize>,
    /// A reasoning judge's samples (generations.jsonl).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) g: Vec<SampleView>,
}

/// One sample of a reasoning judge as the candidate view shows it: its index, verdict, how it
/// ended, and the end of its text (where the verdict is), at most [`SAMPLE_CHARS`] characters.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct SampleView {
    pub(crate) k: usize,
    pub(crate) v: Option<f64>,
    pub(crate) e: String,
    pub(crate) x: String,
}

/// The most characters of a sample's text the page carries (its end: the verdict is there).
pub(crate) const SAMPLE_CHARS: usize = 2000;

impl SampleView {
    pub(crate) fn new(k: usize, verdict: Option<f64>, end: &str, text: &str) -> Self {
        let n = text.chars().count();
        let x = match n > SAMPLE_CHARS {
            true => format!(
                "[… {} characters before]{}",
                n - SAMPLE_CHARS,
                text.chars().skip(n - SAMPLE_CHARS).collect::<String>()
            ),
            false => text.to_string(),
        };
        SampleView { k, v: verdict, e: end.to_string(), x }
    }
}

/// Builds the page's data. `details[idx]` is a candidate's verifier record where one exists
/// (empty otherwise); `patch` reads a candidate's patch text.
pub(crate) fn build<'a>(
    t: &'a ScoreTable,
    selected: &[usize],
    details: &[Option<&VerifierDetail>],
    patch: PatchSource,
    samples: &[Vec<SampleView>],
) -> Data<'a> {
    let labeled = t.label().iter().any(|l| l.is_some());
    // Rows in parallel, each numbering its own distinct patches; then the numbers made global:
    // the first candidate (flat index) of each distinct patch, in page order.
    let built: Vec<(Row, Vec<usize>)> = (0..t.grid().instances.len())
        .into_par_iter()
        .map(|i| {
            let mut reps = Vec::new();
            (row(t, i, selected[i], details, samples, &mut reps), reps)
        })
        .collect();
    let mut reps: Vec<usize> = Vec::with_capacity(built.iter().map(|(_, r)| r.len()).sum());
    let mut rows: Vec<Row> = Vec::with_capacity(built.len());
    for (mut row, local) in built {
        let base = reps.len();
        row.cands.iter_mut().filter_map(|c| c.p.as_mut()).for_each(|p| *p += base);
        reps.extend(local);
        rows.push(row);
    }
    let (patches, patches_note) = match patch {
        Some(read) => read_patches(&rows, &reps, read),
        None => (
            vec![None; reps.len()],
            Some("scores only: `swerm eval` reads no patches (`swerm rerank` puts them in its report.html)".into()),
        ),
    };
    Data { runs: &t.grid().runs, labeled, rows, patches, patches_note }
}

fn row<'a>(
    t: &'a ScoreTable,
    i: usize,
    pick: usize,
    details: &[Option<&VerifierDetail>],
    samples: &[Vec<SampleView>],
    reps: &mut Vec<usize>,
) -> Row<'a> {
    let order = ranking(t, i);
    let pick_idx = t.grid().range(i).start + pick;
    debug_assert_eq!(order[0], pick_idx, "ranking starts with the pick");
    // Candidates of one instance share a patch entry when their content keys are equal.
    let mut groups: Vec<(Option<u64>, usize)> = Vec::new();
    let cands = order
        .iter()
        .map(|&idx| {
            let p = (!t.empty()[idx]).then(|| {
                let key = t.content()[idx];
                match groups.iter().find(|(k, _)| k.is_some() && *k == key) {
                    Some(&(_, p)) => p,
                    None => {
                        reps.push(idx);
                        groups.push((key, reps.len() - 1));
                        reps.len() - 1
                    }
                }
            });
            cand(t, idx, p, details[idx], samples.get(idx).cloned().unwrap_or_default())
        })
        .collect();
    let tie = tie_at(t, i);
    let range = t.grid().range(i);
    Row {
        id: &t.grid().instances[i],
        solvable: t.label()[range.clone()]
            .iter()
            .any(|l| l.is_some())
            .then(|| t.label()[range.clone()].contains(&Some(true))),
        pick,
        resolved: t.label()[pick_idx],
        distinct: groups.len(),
        margin: margin(t, i, pick_idx),
        tie: tie.is_some(),
        mixed: tie == Some(true),
        unscored: range.filter(|&idx| t.unscored()[idx].is_some()).count(),
        cands,
    }
}

fn cand(t: &ScoreTable, idx: usize, p: Option<usize>, d: Option<&VerifierDetail>, g: Vec<SampleView>) -> Cand {
    let r = t.grid().coords(idx).1;
    Cand {
        r,
        s: t.score()[idx],
        l: t.label()[idx],
        u: t.unscored()[idx].map(|u| u.describe()),
        e: if t.missing()[idx] { Some("missing") } else { t.empty()[idx].then_some("empty") },
        p,
        ly: d.and_then(|d| d.logit_yes),
        ln: d.and_then(|d| d.logit_no),
        n: d.and_then(|d| d.n_tokens),
        t: d.and_then(|d| d.truncated).filter(|&t| t),
        c: d.and_then(|d| d.cut.clone()),
        rm: d.and_then(|d| d.removed_tokens),
        pv: d.and_then(|d| d.privileged.as_ref()).map(|p| p.join(", ")),
        sm: d.and_then(|d| d.samples),
        si: d.and_then(|d| d.invalid_samples),
        g,
        po: d.is_some_and(|d| d.trajectory == Some(false)).then_some(true),
    }
}

impl Data<'_> {
    /// The data as JSON inside a `<script>` element (escaped as `ScriptSafe` escapes it), in
    /// consecutive parts whose concatenation is byte for byte what `serde_json::to_writer`
    /// writes of it (tested). Its rows and patches are serialized in parallel chunks and the
    /// parts written to the page's file one after the other: at RL scale this JSON is ~16 MB,
    /// a third of the reports' time when serialized on one thread and copied into one string.
    pub(super) fn script_json_parts(&self) -> Vec<Vec<u8>> {
        fn json(out: &mut Vec<u8>, v: &impl Serialize) {
            serde_json::to_writer(super::ScriptSafe(out), v).expect("page data serializes");
        }
        /// A list's items in chunks, each after the first starting with the comma before it.
        fn chunks<T: Serialize + Sync>(items: &[T]) -> Vec<Vec<u8>> {
            items
                .par_chunks(1024)
                .enumerate()
                .map(|(c, chunk)| {
                    let mut raw = Vec::with_capacity(chunk.len() * 64);
                    for (k, item) in chunk.iter().enumerate() {
                        if c > 0 || k > 0 {
                            raw.push(b',');
                        }
                        serde_json::to_writer(&mut raw, item).expect("page data serializes");
                    }
                    super::script_safe(raw)
                })
                .collect()
        }
        let Data { runs, labeled, rows, patches, patches_note } = self;
        let (rows, patches) = rayon::join(|| chunks(rows), || chunks(patches));
        let mut head = b"{\"runs\":".to_vec();
        json(&mut head, runs);
        head.extend_from_slice(b",\"labeled\":");
        json(&mut head, labeled);
        head.extend_from_slice(b",\"rows\":[");
        let between = b"],\"patches\":[".to_vec();
        let mut tail = b"],\"patches_note\":".to_vec();
        json(&mut tail, patches_note);
        tail.push(b'}');
        let mut parts = Vec::with_capacity(rows.len() + patches.len() + 3);
        parts.push(head);
        parts.extend(rows);
        parts.push(between);
        parts.extend(patches);
        parts.push(tail);
        parts
    }
}

/// The pick's score minus the best score among candidates of a different patch.
fn margin(t: &ScoreTable, i: usize, pick: usize) -> Option<f64> {
    let top = t.score()[pick].filter(|_| !t.empty()[pick])?;
    let other = |idx: usize| {
        idx != pick && !t.empty()[idx] && (t.content()[idx].is_none() || t.content()[idx] != t.content()[pick])
    };
    let next = t.grid().range(i).filter(|&idx| other(idx)).filter_map(|idx| t.score()[idx]).max_by(f64::total_cmp)?;
    Some(top - next)
}

/// Reads the distinct patches in the order a researcher needs them until `PATCH_BUDGET` is
/// spent; what is left out (over the budget, or unreadable) is counted in the note.
fn read_patches(
    rows: &[Row],
    reps: &[usize],
    read: &(dyn Fn(usize) -> anyhow::Result<String> + Sync),
) -> (Vec<Option<String>>, Option<String>) {
    let priority = |r: &Row| {
        if r.solvable == Some(true) && r.resolved == Some(false) {
            0
        } else if r.mixed {
            1
        } else if r.tie {
            2
        } else {
            3
        }
    };
    let mut order: Vec<&Row> = rows.iter().collect();
    order.sort_by_key(|r| priority(r)); // stable: instance order within a class
    let mut seen = vec![false; reps.len()];
    let wanted: Vec<usize> = order
        .iter()
        .flat_map(|r| r.cands.iter().filter_map(|c| c.p))
        .filter(|&p| !std::mem::replace(&mut seen[p], true))
        .collect();
    let mut texts: Vec<Option<String>> = vec![None; reps.len()];
    let (mut spent, mut large, mut failed) = (0usize, 0usize, Vec::new());
    // Read in parallel, a chunk at a time, so that at most one chunk is read past the budget.
    'chunks: for chunk in wanted.chunks(256) {
        let got: Vec<(usize, anyhow::Result<String>)> = chunk.par_iter().map(|&p| (p, read(reps[p]))).collect();
        for (p, got) in got {
            match got {
                Ok(text) if text.len() > PATCH_MAX => large += 1,
                Ok(text) if spent + text.len() > PATCH_BUDGET => break 'chunks, // the budget is spent
                Ok(text) => {
                    spent += text.len();
                    texts[p] = Some(text);
                }
                Err(e) => failed.push(format!("{e:#}")),
            }
        }
    }
    let over = texts.iter().filter(|t| t.is_none()).count() - large - failed.len();
    let mut notes = Vec::new();
    if large > 0 {
        notes.push(format!("{large} patches over {} KiB are left out", PATCH_MAX >> 10));
    }
    if over > 0 {
        notes.push(format!(
            "{over} of {} distinct patches are left out: the page holds at most {} MiB of patch text (solvable-but-wrong and tied instances first); every patch is in its run",
            reps.len(),
            PATCH_BUDGET >> 20
        ));
    }
    if let Some(first) = failed.first() {
        notes.push(format!("{} patches could not be read again ({first})", failed.len()));
    }
    (texts, (!notes.is_empty()).then(|| notes.join("; ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::Unscored;
    use crate::score::table::Columns;

    /// Two instances x four runs, every case a row has: a tie with mixed labels, an unscored
    /// candidate, a shared patch, an empty record and a hole.
    fn table() -> ScoreTable {
        ScoreTable::from(Columns {
            grid: crate::grid::Grid::new(
                vec!["i0".into(), "i1".into()],
                ["a", "b", "c", "d"].map(String::from).to_vec(),
            ),
            score: vec![Some(0.9), Some(0.9), Some(0.5), None, Some(0.8), Some(0.0), None, Some(0.3)],
            label: [false, true, true, false, true, false, false, false].map(Some).to_vec(),
            empty: vec![false, false, false, false, false, true, true, false],
            missing: vec![false, false, false, false, false, false, true, false],
            tie_rank: None,
            content: vec![Some(1), Some(2), Some(1), Some(3), Some(5), None, None, Some(6)],
            raw: vec![Some(1), Some(2), Some(1), Some(3), Some(5), None, None, Some(6)],
            unscored: vec![None, None, None, Some(Unscored::NoValue), None, None, None, None],
            contests: None,
        })
    }

    #[test]
    fn rows_match_a_hand_count() {
        let t = table();
        let selected = crate::select::select(&t);
        let read = |idx: usize| Ok(format!("patch of {idx}"));
        let d = build(&t, &selected, &[None; 8], Some(&read), &[]);
        let r0 = &d.rows[0];
        assert_eq!(
            (r0.pick, r0.solvable, r0.resolved),
            (0, Some(true), Some(false)),
            "smaller content key wins the tie"
        );
        assert_eq!((r0.distinct, r0.margin, r0.tie, r0.mixed, r0.unscored), (3, Some(0.0), true, true, 1));
        assert_eq!(r0.cands.iter().map(|c| c.r).collect::<Vec<_>>(), [0, 1, 2, 3], "by score, then content key");
        assert_eq!(r0.cands[0].p, r0.cands[2].p, "runs a and c share one patch entry");
        assert_ne!(r0.cands[0].p, r0.cands[1].p);
        let r1 = &d.rows[1];
        assert_eq!((r1.pick, r1.resolved, r1.distinct, r1.tie, r1.unscored), (0, Some(true), 2, false, 0));
        assert!((r1.margin.unwrap() - 0.5).abs() < 1e-12);
        assert_eq!(
            r1.cands.iter().map(|c| (c.r, c.e)).collect::<Vec<_>>(),
            [(0, None), (3, None), (1, Some("empty")), (2, Some("missing"))]
        );
        // Five distinct patches, each read from its first (best-ranked) candidate.
        assert_eq!(d.patches.len(), 5);
        assert_eq!(d.patches[r0.cands[0].p.unwrap()].as_deref(), Some("patch of 0"));
        assert_eq!(d.patches[r1.cands[1].p.unwrap()].as_deref(), Some("patch of 7"));
        assert!(d.patches_note.is_none());
        let scores_only = build(&t, &selected, &[None; 8], None, &[]);
        assert!(scores_only.patches.iter().all(Option::is_none) && scores_only.patches_note.is_some());
    }

    /// The parallel writer writes what serde_json writes of the derived `Serialize`, escaped
    /// for a script element: with and without patches and a note, with hostile text, and with
    /// more rows and patches than one chunk holds.
    #[test]
    fn script_json_is_serde_json_of_the_data() {
        let serde_of = |d: &Data| super::super::script_json(&serde_json::to_string(d).unwrap()).into_bytes();
        let t = table();
        let selected = crate::select::select(&t);
        let read = |idx: usize| Ok(format!("</script> & <!-- patch of {idx}\n"));
        for d in [build(&t, &selected, &[None; 8], Some(&read), &[]), build(&t, &selected, &[None; 8], None, &[])] {
            let out = d.script_json_parts().concat();
            assert_eq!(String::from_utf8(out).unwrap(), String::from_utf8(serde_of(&d)).unwrap());
        }
        let n = 3000;
        let c = Columns {
            grid: crate::grid::Grid::new((0..n).map(|i| format!("i{i:04}<")).collect(), vec!["a".into(), "b".into()]),
            score: (0..n).flat_map(|i| [Some(i as f64 / n as f64), None]).collect(),
            label: (0..n).flat_map(|i| [Some(i % 3 == 0), None]).collect(),
            empty: (0..2 * n).map(|k| k % 7 == 0).collect(),
            missing: vec![false; 2 * n],
            tie_rank: None,
            content: (0..2 * n).map(|k| Some(k as u64 / 2)).collect(),
            raw: (0..2 * n).map(|k| Some(k as u64)).collect(),
            unscored: vec![None; 2 * n],
            contests: None,
        };
        let t = ScoreTable::from(c);
        let selected = crate::select::select(&t);
        let d = build(&t, &selected, &vec![None; 2 * n], Some(&read), &[]);
        assert!(d.rows.len() > 1024 && d.patches.len() > 1024, "several chunks of each");
        let parts = d.script_json_parts();
        assert!(parts.len() > 6, "several chunks");
        assert!(parts.concat() == serde_of(&d), "the large page's JSON differs from serde_json's");
    }

    /// Forty distinct patches of ~1 MiB: eight fit the budget, and the instance a researcher
    /// studies first (solvable, picked wrong: the last one here) is among them.
    #[test]
    fn patch_budget_keeps_the_wrong_picks_first() {
        let n = 20;
        let mut c = Columns {
            grid: crate::grid::Grid::new((0..n).map(|i| format!("i{i:02}")).collect(), vec!["a".into(), "b".into()]),
            score: (0..n).flat_map(|_| [Some(0.9), Some(0.1)]).collect(),
            label: (0..n).flat_map(|_| [Some(true), Some(false)]).collect(),
            empty: vec![false; 2 * n],
            missing: vec![false; 2 * n],
            tie_rank: None,
            content: (0..2 * n as u64).map(Some).collect(),
            raw: (0..2 * n as u64).map(Some).collect(),
            unscored: vec![None; 2 * n],
            contests: None,
        };
        c.label[2 * n - 2] = Some(false); // the last instance: picked a, only b resolves
        c.label[2 * n - 1] = Some(true);
        let t = ScoreTable::from(c);
        let selected = crate::select::select(&t);
        let size = PATCH_MAX - 64;
        let read = |idx: usize| Ok(format!("{idx:>8}{}", " ".repeat(size - 8)));
        let d = build(&t, &selected, &vec![None; 2 * n], Some(&read), &[]);
        let kept = d.patches.iter().filter(|p| p.is_some()).count();
        assert_eq!(kept, PATCH_BUDGET / size);
        let last = &d.rows[n - 1];
        assert!(last.cands.iter().all(|c| d.patches[c.p.unwrap()].is_some()), "the wrong pick's patches are kept");
        let note = d.patches_note.unwrap();
        assert!(note.starts_with(&format!("{} of {} distinct patches are left out", 2 * n - kept, 2 * n)), "{note}");
    }
}

/// compare.html's instances table: per instance, each scorer's pick, what it is credited, and
/// whether every scorer picked the same patch. Read by `page.js` (`kind: "compare"`).
#[derive(Serialize)]
pub(crate) struct CompareData<'a> {
    pub(crate) kind: &'static str,
    pub(crate) runs: &'a [String],
    pub(crate) scorers: Vec<&'a str>,
    pub(crate) labeled: bool,
    pub(crate) rows: Vec<CompareRow<'a>>,
}

#[derive(Serialize)]
pub(crate) struct CompareRow<'a> {
    pub(crate) id: &'a str,
    /// Some candidate resolves it (`None` without labels).
    pub(crate) solvable: Option<bool>,
    /// Each scorer's pick (a run index).
    pub(crate) picks: Vec<usize>,
    /// Each scorer's credit for its pick: its label, or the mean label of its copies when they
    /// disagree (`select::credit`); `None` without labels.
    pub(crate) res: Vec<Option<f64>>,
    /// Every scorer picked the same patch (by content key).
    pub(crate) same: bool,
}

/// The comparison's instances table (the score sets cover the same candidates: checked).
pub(crate) fn compare<'a>(c: &'a crate::report::compare::Comparison) -> CompareData<'a> {
    let first = &c.entries[0].table;
    let grid = first.grid();
    let labels = first.labels().ok();
    let rows = (0..grid.instances.len())
        .map(|i| {
            let range = grid.range(i);
            let picks: Vec<usize> = c.entries.iter().map(|e| e.selected[i]).collect();
            let res = c
                .entries
                .iter()
                .zip(&picks)
                .map(|(e, &r)| labels.as_ref().map(|y| crate::select::credit(&e.table, y, i, r)))
                .collect();
            let keys: Vec<Option<u64>> = picks.iter().map(|&r| first.content()[range.start + r]).collect();
            let same = keys.iter().all(|k| k.is_some() && *k == keys[0]) || picks.iter().all(|&r| r == picks[0]);
            CompareRow {
                id: &grid.instances[i],
                solvable: labels.as_ref().map(|_| first.label()[range.clone()].contains(&Some(true))),
                picks,
                res,
                same,
            }
        })
        .collect();
    CompareData {
        kind: "compare",
        runs: &grid.runs,
        scorers: c.entries.iter().map(|e| e.name.as_str()).collect(),
        labeled: labels.is_some(),
        rows,
    }
}
