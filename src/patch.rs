//! Patch normalization for the consensus scorer: two patches that differ only in ways that do
//! not change what `git apply` does to the tree compare equal.

/// Normalizes a unified diff:
/// - CRLF and lone CR line ends become LF;
/// - trailing whitespace is stripped from every line (agents and JSON round-trips add or drop
///   it; a diff's context lines can lose a trailing space without changing the result much, and
///   we prefer merging such near-duplicates over splitting votes);
/// - `index <sha>..<sha> <mode>` lines are dropped (they name blobs of the agent's checkout,
///   not the change);
/// - blank lines at both ends are dropped (SWE-agent patches start with `\n`).
///
/// The empty string means "no patch".
#[cfg(test)]
pub(crate) fn normalize(patch: &str) -> String {
    let unified = patch.replace("\r\n", "\n").replace('\r', "\n");
    let lines: Vec<&str> = unified.split('\n').map(str::trim_end).filter(|l| !is_index_line(l)).collect();
    let start = lines.iter().position(|l| !l.is_empty());
    let end = lines.iter().rposition(|l| !l.is_empty());
    match (start, end) {
        (Some(s), Some(e)) => lines[s..=e].join("\n"),
        _ => String::new(),
    }
}

/// The seed of [`content_key`]: fixed, so that a tie-break by content is the same in every run.
pub(crate) const CONTENT_SEED: u64 = 0x7377_6572_6d2d_7469; // "swerm-ti"

/// The content key of a patch is a seeded 64-bit hash of its normalized text (FNV-1a of the
/// normalized bytes xor [`CONTENT_SEED`], through SplitMix64's finalizer); `None` for an empty
/// patch. Two patches equal after normalization have the same key.
///
/// Decision (ties): when candidates of different patches tie on the top score, the one with
/// the smallest key is selected. The rule looks only at the content, so the pick and the
/// selected rate do not change when runs are renamed or reordered; over many instances it is a
/// fair coin (the key is unrelated to the label), so the selected rate stays an unbiased draw of
/// random tie-breaking, whose expectation (best@n) is reported beside it.
///
/// [`keys`] returns it with the same seeded hash of the exact bytes (both `None` for an empty
/// patch), from one normalization; among candidates of equal content, the bytes key chooses
/// whose bytes predictions.jsonl gets.
pub(crate) fn keys(patch: &str) -> PatchKeys {
    let (content, raw) = fnv_pair(patch);
    seeded(content, raw)
}

/// The keys of a patch from its two FNV-1a values (normalized, `None` when that is empty; exact).
fn seeded(content: Option<u64>, raw: u64) -> PatchKeys {
    let seeded = |h: u64| crate::hash::mix(h ^ CONTENT_SEED);
    match content {
        Some(c) => PatchKeys { content: Some(seeded(c)), raw: Some(seeded(raw)) },
        None => PatchKeys::default(),
    }
}

/// [`keys`] of two patches, from one loop over both: the four FNV-1a chains (each patch's
/// normalized and exact bytes) overlap in the CPU, about twice the throughput of hashing the
/// two one after the other (the chains are bound by a multiply's latency, not by its rate).
/// The hashes every store holds stay the same; only the order of the work changes.
pub(crate) fn keys_pair(a: &str, b: &str) -> (PatchKeys, PatchKeys) {
    let (mut na, mut nb) = (Vec::new(), Vec::new());
    let (sa, sb) = (norm_pieces(a, &mut na), norm_pieces(b, &mut nb));
    let [ra, ha, rb, hb] = crate::hash::fnv1a_streams([&[a.as_bytes()], &na, &[b.as_bytes()], &nb]);
    (seeded(sa.then_some(ha), ra), seeded(sb.then_some(hb), rb))
}

/// `normalize(patch)`'s bytes as slices, without building the string: runs of the patch's own
/// bytes wherever normalization keeps them in place (most of a patch: it only breaks at index
/// lines, trailing whitespace, `\r` and blank lines with spaces), and `\n`s from a constant
/// where a line end is not the patch's own. Returns whether the normalized text is non-empty.
/// The lines are `normalize`'s (split at `\r\n`, `\r` or `\n`; `trim_end`; index lines
/// dropped); blank lines are held back until a later non-blank line shows they are not at the
/// end.
fn norm_pieces<'a>(patch: &'a str, out: &mut Vec<&'a [u8]>) -> bool {
    const NEWLINES: &[u8] = &[b'\n'; 64];
    let bytes = patch.as_bytes();
    let (mut started, mut blank) = (false, 0usize);
    // The run of patch bytes being extended, and where the last kept line's text ends.
    let (mut run, mut kept_end): (Option<(usize, usize)>, usize) = (None, 0);
    let mut pos = 0;
    loop {
        let rest = &patch[pos..];
        let (len, end) = match memchr::memchr2(b'\n', b'\r', rest.as_bytes()) {
            Some(i) => (i, if rest[i..].starts_with("\r\n") { i + 2 } else { i + 1 }),
            None => (rest.len(), rest.len()),
        };
        let kept = rest[..len].trim_end();
        if kept.is_empty() {
            blank += started as usize;
        } else if !is_index_line(kept) {
            if started {
                // The separators (a line end, and one per blank line): the patch's own bytes
                // when exactly that many `\n`s lie between the last kept text and this line.
                let seps = blank + 1;
                let own = pos - kept_end == seps && bytes[kept_end..pos].iter().all(|&c| c == b'\n');
                if own && run.is_some_and(|(_, e)| e == kept_end) {
                    run = run.map(|(s, _)| (s, pos));
                } else {
                    if let Some((s, e)) = run.take() {
                        out.push(&bytes[s..e]);
                    }
                    for n in (0..seps).step_by(NEWLINES.len()) {
                        out.push(&NEWLINES[..(seps - n).min(NEWLINES.len())]);
                    }
                }
            }
            run = match run {
                Some((s, e)) if e == pos => Some((s, pos + kept.len())),
                other => {
                    if let Some((s, e)) = other {
                        out.push(&bytes[s..e]);
                    }
                    Some((pos, pos + kept.len()))
                }
            };
            kept_end = pos + kept.len();
            (started, blank) = (true, 0);
        }
        if end == rest.len() {
            if let Some((s, e)) = run {
                out.push(&bytes[s..e]);
            }
            return started;
        }
        pos += end;
    }
}

/// A record's patch (`None` when it has none) as the candidate grid keeps it: its keys, and
/// whether it is there and not blank (`false` means an empty candidate).
pub(crate) fn summarize(patch: Option<&str>) -> (PatchKeys, bool) {
    (patch.map(keys).unwrap_or_default(), patch.is_some_and(filled))
}

/// [`summarize`] of two patches there, their keys from one loop ([`keys_pair`]).
pub(crate) fn summarize_pair(a: &str, b: &str) -> [(PatchKeys, bool); 2] {
    let (ka, kb) = keys_pair(a, b);
    [(ka, filled(a)), (kb, filled(b))]
}

/// A patch that is not blank (a blank one is an empty candidate).
fn filled(patch: &str) -> bool {
    !patch.trim().is_empty()
}

/// A patch's two keys ([`keys`]); both `None` for an empty patch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct PatchKeys {
    /// The seeded hash of the normalized text: equal for patches equal after [`normalize`].
    pub(crate) content: Option<u64>,
    /// The seeded hash of the exact bytes.
    pub(crate) raw: Option<u64>,
}

/// FNV-1a of `normalize(patch)` (`None` when that is empty) and of the exact bytes, in one
/// loop and without building the normalized string ([`norm_pieces`]): the patches are the bulk
/// of every input, and a normalized copy of each was most of the memory churn of a large
/// rerank. The two multiply chains overlap in the CPU instead of running one after the other.
fn fnv_pair(patch: &str) -> (Option<u64>, u64) {
    let mut pieces = Vec::new();
    let started = norm_pieces(patch, &mut pieces);
    let [raw, norm] = crate::hash::fnv1a_streams([&[patch.as_bytes()], &pieces]);
    (started.then_some(norm), raw)
}

/// `index 1a2b3c4..5d6e7f8 100644` (also the two-hash form without a mode, and
/// `index 0000000..abc` for new files).
fn is_index_line(l: &str) -> bool {
    let Some(rest) = l.strip_prefix("index ") else { return false };
    let hashes = rest.split(' ').next().unwrap_or("");
    let Some((a, b)) = hashes.split_once("..") else { return false };
    let hex = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_hexdigit());
    hex(a) && hex(b)
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn equal_after_normalization() {
        let a =
            "diff --git a/x b/x\r\nindex 1a2b3c..4d5e6f 100644\r\n--- a/x\r\n+++ b/x\r\n@@ -1 +1 @@\r\n-a  \r\n+b\r\n";
        let b = "\n\ndiff --git a/x b/x\nindex 999999..888888 100644\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n\n";
        assert_eq!(normalize(a), normalize(b));
        assert_eq!(normalize(a), "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b");
    }

    #[test]
    fn different_changes_stay_different() {
        assert_ne!(normalize("--- a/x\n+++ b/x\n-a\n+b\n"), normalize("--- a/x\n+++ b/x\n-a\n+c\n"));
        // An added line whose text starts with "index " is content, not a git index line.
        assert_ne!(normalize("+index of\n"), normalize(""));
        assert_eq!(normalize("+index of"), "+index of");
    }

    /// The streamed hash equals FNV-1a of `normalize`'s string on patches built from every
    /// kind of line end, trailing whitespace (Unicode too), index lines and blank runs.
    #[test]
    fn streamed_keys_equal_the_normalized_string_hash() {
        let parts =
            ["", "\n", "\r\n", "\r", " ", "\t", "\u{3000}", "+a", "-b", "index 1a2..3b4 100644", "index of", "x\u{e9}"];
        let mut rng = crate::rng::SplitMix64(7);
        for _ in 0..20_000 {
            let n = rng.below(12);
            let p: String = (0..n).map(|_| parts[rng.below(parts.len())]).collect();
            let norm = normalize(&p);
            let want = (!norm.is_empty()).then(|| crate::hash::fnv1a(norm.as_bytes()));
            assert_eq!(super::fnv_pair(&p), (want, crate::hash::fnv1a(p.as_bytes())), "{p:?}");
            let k = super::keys(&p);
            assert_eq!(k.content.is_some(), !norm.is_empty());
            assert_eq!(k.raw.is_some(), !norm.is_empty());
        }
    }

    /// Two patches' keys from one loop equal each one's own ([`super::keys`], itself tested
    /// against the normalized string), on patches of every kind of line (as above) and lengths
    /// that end in either order; and the normalized pieces are `normalize`'s bytes.
    #[test]
    fn paired_keys_equal_single_keys() {
        let parts = [
            "",
            "\n",
            "\r\n",
            "\r",
            " ",
            "\t",
            "\u{3000}",
            "+a",
            "-b",
            "index 1a2..3b4 100644",
            "index of",
            "x\u{e9}",
            "\n\n\n",
            "+a long line of a patch, longer than the others\n",
        ];
        let mut rng = crate::rng::SplitMix64(9);
        let mut patch = || -> String {
            let n = rng.below(16);
            (0..n).map(|_| parts[rng.below(parts.len())]).collect()
        };
        for _ in 0..20_000 {
            let (a, b) = (patch(), patch());
            assert_eq!(super::keys_pair(&a, &b), (super::keys(&a), super::keys(&b)), "{a:?} / {b:?}");
            let mut pieces = Vec::new();
            let started = super::norm_pieces(&a, &mut pieces);
            let norm = normalize(&a);
            assert_eq!((pieces.concat(), started), (norm.as_bytes().to_vec(), !norm.is_empty()), "{a:?}");
        }
        // A run of blank lines longer than the constant of newlines.
        let a = format!("+a \n{}+b\n", "\n".repeat(150));
        assert_eq!(super::keys_pair(&a, "+c"), (super::keys(&a), super::keys("+c")));
    }

    #[test]
    fn blank_is_empty() {
        assert_eq!(normalize(""), "");
        assert_eq!(normalize(" \r\n\n\t\n"), "");
    }
}
