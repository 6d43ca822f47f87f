//! generations.jsonl: every sample a reasoning judge wrote, one line each, appended as it is
//! produced and reused on resume (a `score::kept` store: the same torn-line, lock and rewrite
//! rules as scores.jsonl).

use serde::{Deserialize, Serialize};

use crate::outdir::OutDir;
use crate::score::kept::{Kept, Key, Line, MERGE_TOLERANCE};
use anyhow::Result;

pub(crate) const GENERATIONS: &str = "generations.jsonl";

/// One sample of one candidate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct GenLine {
    pub(crate) instance_id: String,
    pub(crate) run: String,
    /// 0-based.
    pub(crate) sample: usize,
    /// The generated text (special tokens included; a final end-of-sequence token left out).
    pub(crate) text: String,
    /// The generated token ids (an end-of-sequence token included when it ended there).
    pub(crate) tokens: Vec<u32>,
    /// Why it ended: `eos`, `stop` (a --stop string), `marker` (the answer marker), `length`.
    pub(crate) end: String,
    /// The sampling seed (absent when greedy) and temperature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) seed: Option<u64>,
    pub(crate) temperature: f64,
    /// The value read (P(YES) after the marker, or the parsed verdict); null when invalid.
    pub(crate) verdict: Option<f64>,
    /// The answer logits after the marker (`logprob` verdict).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) logit_yes: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) logit_no: Option<f64>,
    /// The digest of the prompt's token ids (`score::ids_digest`): a sample is reused only for
    /// the same prompt.
    pub(crate) prompt_ids: String,
    /// The sample index as text (the store's key).
    #[serde(skip)]
    key: String,
}

impl GenLine {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        instance_id: &str,
        run: &str,
        sample: usize,
        text: String,
        tokens: Vec<u32>,
        end: &str,
        (seed, temperature): (Option<u64>, f64),
        verdict: Option<f64>,
        logits: Option<[f64; 2]>,
        prompt_ids: String,
    ) -> Self {
        GenLine {
            instance_id: instance_id.into(),
            run: run.into(),
            sample,
            text,
            tokens,
            end: end.into(),
            seed,
            temperature,
            verdict,
            logit_yes: logits.map(|l| l[0]),
            logit_no: logits.map(|l| l[1]),
            prompt_ids,
            key: sample.to_string(),
        }
    }
}

impl Line for GenLine {
    fn key(&self) -> Key<'_> {
        (&self.instance_id, &self.run, &self.key)
    }

    fn parse(text: &[u8]) -> Result<Self, String> {
        let mut line: GenLine = serde_json::from_slice(text).map_err(|e| crate::input::stream::json_error(&e))?;
        if let Some(v) = line.verdict.filter(|v| !(0.0..=1.0).contains(v)) {
            return Err(format!("field `verdict`: {v} is not in [0, 1]"));
        }
        if !["eos", "stop", "marker", "length"].contains(&line.end.as_str()) {
            return Err(format!("field `end`: {:?}: expected eos, stop, marker or length", line.end));
        }
        line.key = line.sample.to_string();
        Ok(line)
    }

    fn agrees(&self, other: &Self) -> bool {
        self.tokens == other.tokens
            && match (self.verdict, other.verdict) {
                (Some(x), Some(y)) => (x - y).abs() <= MERGE_TOLERANCE,
                (x, y) => x == y,
            }
    }

    fn describe(&self) -> String {
        format!("sample {} of instance {} of run {}", self.sample, self.instance_id, self.run)
    }

    fn values(&self) -> String {
        format!("verdict {:?}, {} tokens", self.verdict, self.tokens.len())
    }
}

/// The open generations store of an output directory.
pub(crate) type GenStore = Kept<GenLine>;

/// Opens `out`'s generations.jsonl: emptied when `afresh`, else its complete lines kept for
/// reuse; Ctrl-C counts its samples.
pub(crate) fn open(out: &mut OutDir, afresh: bool) -> Result<GenStore> {
    let st = Kept::open(out, GENERATIONS, afresh)?;
    crate::interrupt::watch_as(out.file(GENERATIONS), st.reused(), ["sample", "samples"]);
    Ok(st)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_round_trip_and_bad_fields_are_named() {
        let l = GenLine::new(
            "x__y-1",
            "r",
            2,
            "<think>hm</think>{\"reward\": 1}".into(),
            vec![1, 2, 3],
            "eos",
            (Some(7), 0.7),
            Some(1.0),
            None,
            "sha256:0123456789abcdef".into(),
        );
        let text = serde_json::to_string(&l).unwrap();
        assert_eq!(GenLine::parse(text.as_bytes()).unwrap(), l);
        assert_eq!(l.key(), ("x__y-1", "r", "2"));
        let bad = text.replace("\"verdict\":1.0", "\"verdict\":1.5");
        assert!(GenLine::parse(bad.as_bytes()).unwrap_err().contains("field `verdict`"));
        let bad = text.replace("\"end\":\"eos\"", "\"end\":\"done\"");
        assert!(GenLine::parse(bad.as_bytes()).unwrap_err().contains("field `end`"));
    }
}
