//! report.html (rerank, eval) and compare.html (compare): one self-contained page each, that
//! works offline from `file://` and as a CI artifact. Its CSS, script, data and figures are
//! inline; nothing is fetched.
//!
//! The overview is the markdown report (report.md, compare.md) rendered to HTML, with the
//! figures inline as SVG in place of their image links, so the page and the markdown cannot
//! say different things. The instances table and each instance's view are drawn by `page.js`
//! from a JSON block ([`data::Data`]).
//!
//! Hostile text (patches, run names, instance ids, notes) never becomes markup: the markdown's
//! raw HTML and links become text; the JSON block escapes `<`, `>` and `&`, so no string can
//! close its `<script>` element; the script builds the DOM with `textContent` only; and the
//! Content-Security-Policy allows exactly one script, the page's own, by its SHA-256, so an
//! inline handler that slipped through anyway would not run.

pub(crate) mod data;

use base64::Engine;
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use sha2::{Digest, Sha256};

pub(crate) const REPORT_HTML: &str = "report.html";
pub(crate) const COMPARE_HTML: &str = "compare.html";

const CSS: &str = include_str!("page.css");
const JS: &str = include_str!("page.js");

/// A figure the markdown links to by `file`, drawn inline from its SVG text.
pub(crate) struct Figure<'a> {
    pub(crate) file: &'a str,
    pub(crate) svg: &'a str,
}

/// The instances' data a page draws: report.html's candidates, or compare.html's picks.
pub(crate) enum PageData<'a> {
    Report(&'a data::Data<'a>),
    Compare(&'a data::CompareData<'a>),
}

/// The whole page: `title`, the markdown overview with its figures inline, a block of scorer
/// settings (pretty JSON, shown as text) and the instances' data; in consecutive parts, to be
/// written one after the other (`OutDir::write_parts`) or joined.
pub(crate) fn page(
    title: &str,
    markdown: &str,
    figures: &[Figure],
    settings: Option<&str>,
    data: Option<PageData>,
) -> Vec<Vec<u8>> {
    let script_hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(JS.as_bytes()));
    let mut parts: Vec<Vec<u8>> = Vec::new();
    let mut s = String::with_capacity(64 << 10);
    s.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    s.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    s.push_str(&format!(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{script_hash}'\">\n"
    ));
    s.push_str(&format!("<title>{}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n", escape(title)));
    s.push_str("<nav id=\"nav\"><a href=\"#\">Overview</a>");
    if data.is_some() {
        s.push_str(" <a href=\"#filter=all\">Instances</a>");
    }
    s.push_str(&format!(" <span class=\"by\">swerm {}</span></nav>\n", env!("CARGO_PKG_VERSION")));
    s.push_str("<main>\n<section id=\"overview\">\n");
    s.push_str(&overview(markdown, figures));
    if let Some(settings) = settings {
        s.push_str("<details class=\"settings\"><summary>Scorer settings</summary><pre>");
        s.push_str(&escape(settings));
        s.push_str("</pre></details>\n");
    }
    s.push_str("</section>\n");
    if let Some(d) = data {
        s.push_str("<section id=\"table\"><noscript>The instances table needs JavaScript.</noscript></section>\n");
        s.push_str("<section id=\"instance\" hidden></section>\n");
        s.push_str("<script type=\"application/json\" id=\"swerm-data\">");
        match d {
            PageData::Report(d) => {
                parts.push(std::mem::take(&mut s).into_bytes());
                parts.extend(d.script_json_parts());
            }
            PageData::Compare(d) => {
                let mut bytes = std::mem::take(&mut s).into_bytes();
                serde_json::to_writer(ScriptSafe(&mut bytes), d).expect("page data serializes");
                parts.push(bytes);
            }
        }
        s.push_str("</script>\n");
    }
    s.push_str("</main>\n<script>");
    s.push_str(JS);
    s.push_str("</script>\n</body>\n</html>\n");
    parts.push(s.into_bytes());
    parts
}

/// Text as HTML text or attribute value.
pub(crate) fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '&' => o.push_str("&amp;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            _ => o.push(c),
        }
    }
    o
}

/// A writer of JSON text safe inside a `<script>` element: `<`, `>` and `&` (only ever inside
/// strings in JSON) as `\u` escapes, so no `</script>` or `<!--` can appear. (U+2028/2029 need
/// no escape: the script reads the block with `JSON.parse`, where they are ordinary
/// characters.) A page can hold 20 MB of JSON, so the scan jumps from one of the three bytes to
/// the next. serde_json never splits a character across writes, and the three are ASCII.
struct ScriptSafe<'a>(&'a mut Vec<u8>);

impl std::io::Write for ScriptSafe<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut from = 0;
        for at in memchr::memchr3_iter(b'<', b'>', b'&', buf) {
            self.0.extend_from_slice(&buf[from..at]);
            self.0.extend_from_slice(match buf[at] {
                b'<' => b"\\u003c",
                b'>' => b"\\u003e",
                _ => b"\\u0026",
            });
            from = at + 1;
        }
        self.0.extend_from_slice(&buf[from..]);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// JSON text made safe inside a `<script>` element as [`ScriptSafe`] makes it (returned as it
/// is when it holds none of the three bytes).
fn script_safe(json: Vec<u8>) -> Vec<u8> {
    if memchr::memchr3(b'<', b'>', b'&', &json).is_none() {
        return json;
    }
    let mut out = Vec::with_capacity(json.len() + json.len() / 16);
    std::io::Write::write_all(&mut ScriptSafe(&mut out), &json).expect("writing to a vector");
    out
}

#[cfg(test)]
fn script_json(json: &str) -> String {
    let mut out = Vec::new();
    std::io::Write::write_all(&mut ScriptSafe(&mut out), json.as_bytes()).unwrap();
    String::from_utf8(out).unwrap()
}

/// The markdown as HTML: tables on; raw HTML and links as plain text; an image whose link is a
/// known figure replaced by that figure's SVG (other images become their alt text).
fn overview(markdown: &str, figures: &[Figure]) -> String {
    let mut events: Vec<Event> = Vec::new();
    let mut in_image = false;
    for ev in Parser::new_ext(markdown, Options::ENABLE_TABLES) {
        match ev {
            Event::Start(Tag::Image { dest_url, .. }) => {
                if let Some(f) = figures.iter().find(|f| f.file == dest_url.as_ref()) {
                    events.push(Event::Html(format!("<figure>{}</figure>", inline_svg(f.svg)).into()));
                    in_image = true;
                }
            }
            Event::End(TagEnd::Image) => in_image = false,
            _ if in_image => {}
            Event::Start(Tag::Link { .. }) | Event::End(TagEnd::Link) => {}
            Event::Html(t) | Event::InlineHtml(t) => events.push(Event::Text(t)),
            ev => events.push(ev),
        }
    }
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, events.into_iter());
    html
}

/// An SVG document as an element inside HTML (no XML declaration or doctype).
fn inline_svg(svg: &str) -> &str {
    svg.find("<svg").map_or("", |at| &svg[at..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_markdown_stays_text() {
        let md = "# r\n\n| run |\n|---|\n| <img src=x onerror=alert(1)> |\n\n[x](javascript:alert(1)) <script>alert(1)</script>\n\n![t](tts.svg)\n\n![o](other.png)\n";
        let html = overview(md, &[Figure { file: "tts.svg", svg: "<?xml version=\"1.0\"?>\n<svg width=\"1\"></svg>" }]);
        assert!(!html.contains("<img") && !html.contains("<script") && !html.contains("href"), "{html}");
        assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"), "{html}");
        assert!(html.contains("<figure><svg width=\"1\"></svg></figure>"), "{html}");
        assert!(!html.contains("<?xml") && !html.contains("other.png") && html.contains("<p>o</p>"), "{html}");
        assert!(html.contains("<table>"), "{html}");
    }

    #[test]
    fn script_json_cannot_close_its_element() {
        let v = serde_json::json!({"p": "</script><!-- & \u{2028} <<>>&&"});
        let s = script_json(&v.to_string());
        assert!(!s.contains('<') && !s.contains('>') && !s.contains('&'), "{s}");
        assert_eq!(serde_json::from_str::<serde_json::Value>(&s).unwrap(), v, "still the same JSON");
    }

    #[test]
    fn csp_names_the_script() {
        let p = String::from_utf8(page("t <b>", "# x\n", &[], Some("{\"a\": \"<i>\"}"), None).concat()).unwrap();
        let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(JS.as_bytes()));
        assert!(p.contains(&format!("script-src 'sha256-{hash}'")));
        assert_eq!(p.matches("<script").count(), 1, "one script, the page's own");
        assert!(p.contains(&format!("<script>{JS}</script>")), "hashed text is exactly the script");
        assert!(p.contains("<title>t &lt;b&gt;</title>") && p.contains("&lt;i&gt;"));
    }
}
