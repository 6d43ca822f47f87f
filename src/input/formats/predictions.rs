//! SWE-bench predictions (JSONL, a JSON array, or an object keyed by instance id):
//! `instance_id`, `model_name_or_path`, `model_patch` (`""`, `null` or missing = empty). No
//! trajectory: a verifier judges the patch alone (with the issue from `--dataset`).
//! Multi-SWE-bench predictions name the instance by `org`, `repo` and `number` and hold the
//! patch in `fix_patch`; the instance id is `<org>__<repo>-<number>`, as its harness writes it.

use anyhow::{Result, bail};
use serde_json::Value;

use crate::input::fields::kind;
use crate::loc::Loc;

/// Where the patch is, in order (`crate::input::fields::first_string`).
pub(crate) const PATCH: &[&[&str]] = &[&["model_patch"], &["fix_patch"]];

/// `<org>__<repo>-<number>` of a Multi-SWE-bench record.
pub(crate) fn multi_swe_bench_id(v: &Value, src: &Loc) -> Result<String> {
    let part = |k: &str| -> Result<String> {
        match v.get(k) {
            Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
            Some(Value::Number(n)) if k == "number" => Ok(n.to_string()),
            Some(other) => bail!("{src}: field `{k}`: expected a non-empty string, found {}", kind(other)),
            None => bail!("{src}: field `{k}`: missing (a Multi-SWE-bench record has org, repo and number)"),
        }
    };
    Ok(format!("{}__{}-{}", part("org")?, part("repo")?, part("number")?))
}

/// A SWE-bench predictions line of the plain shape read without building its JSON value (at RL
/// scale the values' maps were a sixth of reading): its `instance_id` (a non-empty string) and
/// `model_patch` (a string, `null` or missing), every other field skipped. `None` for any other
/// line: one with a field that `extract` reads besides these (`fix_patch`, `run`, `resolved`,
/// `report`, Multi-SWE-bench's `org`/`repo`/`number`; `attempt` too), a field of another type,
/// or invalid JSON. The caller then reads the line the general way, which says what is wrong;
/// where this gives a record it is the one `extract` gives (tested).
///
/// Decision: the fields it skips are checked to be JSON, not built, so it takes a few lines
/// that serde_json's values refuse in fields swerm never reads (a number past f64's range,
/// nesting past 128 levels, a string that is not UTF-8 after its escapes). Such a line is read
/// again the same way when its patch is needed (`reread::patch_at`).
pub(crate) fn plain_record(text: &[u8], src: &Loc) -> Option<crate::input::record::Record> {
    use serde::de::{Deserializer as _, IgnoredAny, MapAccess, Visitor};
    struct Plain;
    impl<'de> Visitor<'de> for Plain {
        type Value = (String, Option<String>);
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a predictions record")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let (mut id, mut patch) = (None, None);
            while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                match key.as_ref() {
                    "instance_id" => id = map.next_value::<Option<String>>()?,
                    "model_patch" => patch = map.next_value::<Option<String>>()?,
                    "fix_patch" | "run" | "attempt" | "resolved" | "report" | "org" | "repo" | "number" => {
                        return Err(serde::de::Error::custom("not a plain predictions record"));
                    }
                    _ => {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
            }
            match id {
                Some(id) if !id.is_empty() => Ok((id, patch)),
                _ => Err(serde::de::Error::custom("no instance id")),
            }
        }
    }
    let mut de = serde_json::Deserializer::from_slice(text);
    let (instance_id, patch) = de.deserialize_map(Plain).ok()?;
    de.end().ok()?;
    Some(crate::input::record::Record {
        instance_id,
        run: None,
        patch,
        resolved: None,
        field_score: None,
        source: src.clone(),
        label_from: None,
        flaw: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Lines of every shape the general reader meets: where `plain_record` gives a record it is
    /// `extract_owned`'s, field for field; where it gives none, the line has a field `extract`
    /// reads besides the plain two, or `extract` refuses it, or it is not valid JSON. And the
    /// plain lines (an id, a patch, fields swerm skips) are taken by it.
    #[test]
    fn plain_records_are_extracts() {
        let ids = [r#""a__b-1""#, r#""""#, "7", "null", r#""x\u005fy""#, r#""é\"q""#];
        let patches = [r#""diff --git a/f b/f\n+x\r\n""#, r#""""#, "null", "3", r#""\ud83d\ude00 \t</s>""#, r#"["a"]"#];
        let extras = [
            r#""model_name_or_path":"m""#,
            r#""cost":1.5e3"#,
            r#""info":{"a":[1,{"b":null}],"model_patch":"inner"}"#,
            r#""run":"r2""#,
            r#""resolved":true"#,
            r#""report":{"resolved":false}"#,
            r#""fix_patch":"p""#,
            r#""org":"o""#,
            r#""model_patch":null"#,
            r#""instance_id":"dup""#,
            r#""full_output":"\u003cthink\u003e""#,
        ];
        let mut rng = crate::rng::SplitMix64(7);
        let (mut taken, mut plain_shaped) = (0, 0);
        for case in 0..4000 {
            let mut fields = Vec::new();
            if rng.below(8) > 0 {
                fields.push(format!(r#""instance_id":{}"#, ids[rng.below(ids.len())]));
            }
            if rng.below(8) > 0 {
                fields.push(format!(r#""model_patch":{}"#, patches[rng.below(patches.len())]));
            }
            for _ in 0..rng.below(3) {
                fields.insert(rng.below(fields.len() + 1), extras[rng.below(extras.len())].to_string());
            }
            let mut line = format!("{{{}}}", fields.join(","));
            if case % 97 == 0 {
                line.truncate(line.len() - 1); // a torn line
            }
            let src = Loc::line("p.jsonl", case + 2, 0);
            let general = serde_json::from_str::<Value>(&line).map_err(anyhow::Error::from).and_then(|v| {
                crate::input::formats::extract_owned(v, crate::input::formats::Format::Predictions, &src, None)
            });
            match (plain_record(line.as_bytes(), &src), &general) {
                (Some(p), Ok(g)) => {
                    assert_eq!(format!("{p:?}"), format!("{g:?}"), "{line}");
                    taken += 1;
                }
                (Some(p), Err(e)) => panic!("{line}: taken as {p:?}, refused by extract: {e:#}"),
                (None, _) => {}
            }
            // (A key given twice takes the general way when its first value is of another type.)
            let others = ["run", "resolved", "report", "fix_patch", "org"];
            let once = |k: &str| line.matches(&format!("\"{k}\":")).count() <= 1;
            if general.is_ok()
                && !others.iter().any(|k| line.contains(&format!("\"{k}\"")))
                && once("instance_id")
                && once("model_patch")
            {
                plain_shaped += 1;
                assert!(plain_record(line.as_bytes(), &src).is_some(), "{line}: plain, not taken");
            }
        }
        assert!(plain_shaped > 400 && taken >= plain_shaped, "{taken} taken, {plain_shaped} plain");
    }

    #[test]
    fn multi_swe_bench_records() {
        let src = Loc::line("p.jsonl", 1, 0);
        let v = json!({"org": "cli", "repo": "cli", "number": 513, "fix_patch": "diff --git a/x b/x"});
        assert_eq!(multi_swe_bench_id(&v, &src).unwrap(), "cli__cli-513");
        assert_eq!(crate::input::fields::first_string(&v, PATCH, &src).unwrap().as_deref(), Some("diff --git a/x b/x"));
        let e = multi_swe_bench_id(&json!({"org": "cli", "number": 1}), &src).unwrap_err().to_string();
        assert_eq!(e, "p.jsonl:1: field `repo`: missing (a Multi-SWE-bench record has org, repo and number)");
    }
}
