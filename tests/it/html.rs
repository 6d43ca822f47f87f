//! report.html loaded by a real browser: headless Chromium (Debian's `chromium`, which .ci/run
//! installs) runs the page's script on a `file://` URL and dumps the DOM it built; the tests
//! read that DOM against predictions.jsonl and the harness reports, and read Chromium's console
//! for errors (a script error, or a Content-Security-Policy refusal, is printed there).
//!
//! Without a browser the browser tests say so on stderr and pass, unless
//! `SWERM_REQUIRE_BROWSER` is set (CI sets it, so there they cannot be skipped).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use crate::util::{jsonl_file, ok, read_json, rerank_demo, root, swerm_s};

/// The browser: `SWERM_CHROMIUM`, else `chromium` on PATH.
fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("SWERM_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .flat_map(|d| ["chromium", "chromium-browser"].map(|n| d.join(n)))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var_os("SWERM_REQUIRE_BROWSER").is_none(),
            "SWERM_REQUIRE_BROWSER is set but no chromium was found (install Debian's chromium or set SWERM_CHROMIUM)"
        );
        eprintln!("skipped: no chromium on PATH (set SWERM_REQUIRE_BROWSER=1 to make this an error)");
    }
    found
}

/// The DOM Chromium built from `page` opened at `#hash`, and the console lines it printed.
fn load(browser: &Path, page: &Path, hash: &str) -> (String, Vec<String>) {
    let profile = tempfile::tempdir().unwrap();
    let url = format!("file://{}#{hash}", fs::canonicalize(page).unwrap().display());
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=5000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(&url)
        .output()
        .expect("chromium runs");
    let dom = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success() && dom.contains("</html>"),
        "chromium failed on {url}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let console =
        String::from_utf8_lossy(&out.stderr).lines().filter(|l| l.contains("CONSOLE")).map(String::from).collect();
    (dom, console)
}

/// The page built, with no script error, no console message and the `ready` mark set.
fn assert_clean(dom: &str, console: &[String]) {
    assert!(console.is_empty(), "console: {console:#?}");
    let html_tag = &dom[dom.find("<html").unwrap()..][..200.min(dom.len())];
    assert!(html_tag.contains("data-ready=\"1\"") && !html_tag.contains("data-errors"), "{html_tag}");
}

/// Every `<tr data-id=... data-pick=...>` of the instances table: instance -> selected run.
fn table_rows(dom: &str) -> BTreeMap<String, String> {
    let mut rows = BTreeMap::new();
    for part in dom.split("<tr data-id=\"").skip(1) {
        let id = &part[..part.find('"').unwrap()];
        let rest = &part[part.find("data-pick=\"").unwrap() + 11..];
        rows.insert(unescape(id), unescape(&rest[..rest.find('"').unwrap()]));
    }
    rows
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&amp;", "&")
}

/// Text as the DOM serializer writes it inside an element.
fn text_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('\u{a0}', "&nbsp;")
}

/// Each demo instance's resolved runs, from fixtures/demo/expected.json (written by the demo's
/// independent Python generator, not by swerm).
fn resolved_by_instance() -> BTreeMap<String, BTreeSet<String>> {
    let v = read_json(&root().join("fixtures/demo/expected.json"));
    let cands = v["candidates"].as_object().unwrap();
    cands
        .iter()
        .map(|(iid, runs)| {
            let ok = runs.as_object().unwrap().iter().filter(|(_, c)| c["resolved"] == true).map(|(r, _)| r.clone());
            (iid.clone(), ok.collect())
        })
        .collect()
}

#[test]
fn demo_page_in_a_browser() {
    let Some(browser) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    rerank_demo(dir.path(), &[]);
    let page = dir.path().join("report.html");
    let picks: BTreeMap<String, String> = jsonl_file(&dir.path().join("predictions.jsonl"))
        .iter()
        .map(|p| (p["instance_id"].as_str().unwrap().to_string(), p["run"].as_str().unwrap().to_string()))
        .collect();

    let (dom, console) = load(&browser, &page, "");
    assert_clean(&dom, &console);
    assert_eq!(table_rows(&dom), picks, "every instance, each with the run predictions.jsonl took");
    assert!(dom.contains("<svg") && dom.contains("best@k (reranked)"), "figures and the TTS table inline");

    // The filter from the URL hash: solvable (some run resolves it) but the pick does not.
    let resolved = resolved_by_instance();
    let wrong: BTreeMap<String, String> = picks
        .iter()
        .filter(|(iid, run)| !resolved[*iid].is_empty() && !resolved[*iid].contains(*run))
        .map(|(i, r)| (i.clone(), r.clone()))
        .collect();
    assert!(!wrong.is_empty() && wrong.len() < picks.len());
    let (dom, console) = load(&browser, &page, "filter=wrong&sort=margin&dir=desc");
    assert_clean(&dom, &console);
    assert_eq!(table_rows(&dom), wrong);
    assert!(dom.contains(&format!("{} of {} instances", wrong.len(), picks.len())), "the count line");
    assert!(dom.contains("<option value=\"wrong\" selected=\"\">") || dom.contains("aria-sort=\"descending\""));

    // One instance's view: its candidates best first, the pick first, its patch shown line by line.
    let (iid, run) = wrong.iter().next().unwrap();
    let (dom, console) = load(&browser, &page, &format!("instance={iid}"));
    assert_clean(&dom, &console);
    let cands = &dom[dom.find("id=\"candidates\"").expect("candidates table")..];
    let first = &cands[cands.find("<tr data-run=\"").unwrap() + 14..];
    assert_eq!(&first[..first.find('"').unwrap()], run.as_str(), "the pick ranks first");
    let patch = jsonl_file(&dir.path().join("predictions.jsonl"))
        .into_iter()
        .find(|p| p["instance_id"] == iid.as_str())
        .unwrap()["model_patch"]
        .as_str()
        .unwrap()
        .to_string();
    let shown = &dom[dom.find("class=\"patch\"").expect("a patch box")..];
    let mut at = 0;
    for line in patch.lines().filter(|l| !l.is_empty()) {
        let found = shown[at..].find(&format!(">{}</span>", text_escape(line)));
        at += found.unwrap_or_else(|| panic!("picked patch line {line:?} not shown in order"));
    }
}

#[test]
fn hostile_text_executes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let evil = "</script><img src=x onerror=\"document.title='pwned'\"><script>document.title='pwned'</script>";
    let patch = format!("diff --git a/x.py b/x.py\n--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-a\n+{evil}\n");
    let run = dir.path().join("run<i onmouseover=alert(1)>.jsonl");
    let rec = |iid: &str, p: &str| json!({"instance_id": iid, "model_name_or_path": "m", "model_patch": p}).to_string();
    fs::write(&run, format!("{}\n{}\n", rec("pkg__evil-1", &patch), rec("pkg__ok-2", "diff --git a/y b/y\n+y\n")))
        .unwrap();
    let plain = dir.path().join("plain.jsonl");
    fs::write(&plain, format!("{}\n", rec("pkg__evil-1", "diff --git a/x.py b/x.py\n+fine\n"))).unwrap();
    let out = dir.path().join("out");
    ok(&swerm_s(&[
        "rerank".into(),
        run.display().to_string(),
        plain.display().to_string(),
        "-q".into(),
        "-o".into(),
        out.display().to_string(),
    ]));
    let page = out.join("report.html");
    let html = fs::read_to_string(&page).unwrap();
    assert!(!html.contains("<img") && !html.contains("<i "), "no hostile markup in the file itself");
    assert_eq!(html.matches("<script").count(), 2, "the data block and the page's script only");

    // The data block gives the patch back exactly.
    let start = html.find("id=\"swerm-data\">").unwrap() + 16;
    let data: Value = serde_json::from_str(&html[start..start + html[start..].find("</script>").unwrap()]).unwrap();
    assert!(data["patches"].as_array().unwrap().iter().any(|p| p.as_str() == Some(patch.as_str())));

    let Some(browser) = chromium() else { return };
    for hash in ["", "instance=pkg__evil-1"] {
        let (dom, console) = load(&browser, &page, hash);
        assert_clean(&dom, &console);
        assert!(dom.contains("<title>swerm report</title>"), "no script changed the title");
        assert!(!dom.contains("<img") && !dom.contains("<i "), "no element made from the text");
        if !hash.is_empty() {
            assert!(dom.contains(&format!(">+{}</span>", text_escape(evil))), "shown as text");
            assert!(dom.contains("run&lt;i onmouseover=alert(1)&gt;"), "the run name as text");
        }
    }
}

/// compare.html: the figure inline and an instances table with each scorer's pick and whether
/// it resolves, filterable; the consensus picks are report.html's, and the "disagree" filter
/// holds exactly the rows where one scorer's pick resolves and another's does not.
#[test]
fn compare_page_in_a_browser() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    rerank_demo(&a, &[]);
    // A second scorer that ranks the other way round (scores inverted).
    let inv = dir.path().join("inverted.jsonl");
    let text: String = fs::read_to_string(a.join("scores.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let mut v: Value = serde_json::from_str(l).unwrap();
            if let Some(x) = v["score"].as_f64() {
                v["score"] = (1.0 - x).into();
            }
            format!("{v}\n")
        })
        .collect();
    fs::write(&inv, text).unwrap();
    let cmp = dir.path().join("cmp");
    ok(&swerm_s(&[
        "compare".into(),
        format!("consensus={}", a.display()),
        format!("inverted={}", inv.display()),
        "-q".into(),
        "-o".into(),
        cmp.display().to_string(),
    ]));
    let page = cmp.join("compare.html");
    let html = fs::read_to_string(&page).unwrap();
    assert!(html.contains("<svg") && html.contains("best@k consensus") && html.contains("best@k inverted"));
    assert!(html.contains("id=\"swerm-data\""), "the instances block");
    let Some(browser) = chromium() else { return };
    let (dom, console) = load(&browser, &page, "");
    assert_clean(&dom, &console);
    assert!(dom.contains("<figure><svg"), "the figure inline");
    let (all, console) = load(&browser, &page, "filter=all");
    assert_clean(&all, &console);
    let picks = table_rows(&all);
    assert_eq!(picks.len(), 24);
    // The consensus picks are report.html's.
    let (report, _) = load(&browser, &a.join("report.html"), "filter=all");
    let report_picks = table_rows(&report);
    for (id, p) in &picks {
        assert_eq!(p.split(',').next().unwrap(), report_picks[id], "{id}");
    }
    // Each row's cells: one per scorer, its pick and a mark; "disagree" = a ✓ and a ✗.
    let marks = |dom: &str| -> BTreeMap<String, (bool, bool)> {
        dom.split("<tr data-id=\"")
            .skip(1)
            .map(|row| {
                let id = unescape(&row[..row.find('"').unwrap()]);
                let row = &row[..row.find("</tr>").unwrap()];
                (id, (row.contains(" ✓<"), row.contains(" ✗<")))
            })
            .collect()
    };
    let want: BTreeSet<String> = marks(&all).into_iter().filter(|(_, (r, w))| *r && *w).map(|(id, _)| id).collect();
    assert!(!want.is_empty(), "inverted scores disagree somewhere");
    let (dis, console) = load(&browser, &page, "filter=disagree");
    assert_clean(&dis, &console);
    let got: BTreeSet<String> = table_rows(&dis).into_keys().collect();
    assert_eq!(got, want);
}

/// `eval` of a store writes the same instances table (same picks) without patch texts, and says
/// why they are absent.
#[test]
fn eval_page_has_the_rows_without_patches() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    rerank_demo(&a, &[]);
    let e = dir.path().join("e");
    ok(&swerm_s(&[
        "eval".into(),
        "--scores".into(),
        a.join("scores.jsonl").display().to_string(),
        "-q".into(),
        "-o".into(),
        e.display().to_string(),
    ]));
    let block = |p: &Path| -> Value {
        let html = fs::read_to_string(p).unwrap();
        let start = html.find("id=\"swerm-data\">").unwrap() + 16;
        serde_json::from_str(&html[start..start + html[start..].find("</script>").unwrap()]).unwrap()
    };
    let (r, v) = (block(&a.join("report.html")), block(&e.join("report.html")));
    let picks = |d: &Value| -> Vec<(String, u64)> {
        d["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["id"].as_str().unwrap().into(), r["pick"].as_u64().unwrap()))
            .collect()
    };
    assert_eq!(picks(&r), picks(&v));
    assert_eq!(r["rows"].as_array().unwrap().len(), 24);
    assert!(v["patches"].as_array().unwrap().iter().all(Value::is_null) && v["patches_note"].is_string());
    assert!(r["patches"].as_array().unwrap().iter().all(Value::is_string) && r["patches_note"].is_null());
}
