//! PNG copies of the figures: the SVG swerm wrote, rasterized by resvg at twice its size (print
//! resolution for an 800-pixel-wide figure), with DejaVu Sans embedded as the only font.
//!
//! Decision: render the SVG rather than draw the figure a second time with a bitmap backend, so
//! the PNG cannot drift from the SVG. No system font is ever loaded (`usvg::Options` starts with
//! an empty font database), so the same SVG gives the same pixels on every machine; and a text
//! element that the embedded font cannot lay out is an error, never a figure silently missing
//! its labels.

use std::sync::{Arc, OnceLock};

use anyhow::{Context, Result, bail};
use resvg::{tiny_skia, usvg};

/// Pixels per SVG unit.
pub(crate) const SCALE: f32 = 2.0;

/// `tts.svg` -> `tts.png`.
pub(crate) fn name_for(svg_name: &str) -> String {
    format!("{}.png", svg_name.strip_suffix(".svg").unwrap_or(svg_name))
}

/// The font database with the embedded font, parsed once per process (a run renders up to three
/// figures).
fn fonts() -> Arc<usvg::fontdb::Database> {
    static FONTS: OnceLock<Arc<usvg::fontdb::Database>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            let mut db = usvg::fontdb::Database::new();
            db.load_font_data(dejavu::sans::regular().to_vec());
            db.set_sans_serif_family("DejaVu Sans");
            Arc::new(db)
        })
        .clone()
}

fn options() -> usvg::Options<'static> {
    usvg::Options { font_family: "DejaVu Sans".into(), fontdb: fonts(), ..Default::default() }
}

/// The PNG bytes of `svg`, `SCALE` times its size.
pub(crate) fn render(svg: &str) -> Result<Vec<u8>> {
    let tree = usvg::Tree::from_str(svg, &options()).context("reading the SVG to rasterize it")?;
    let (wanted, laid) = (text_elements(svg)?, laid_text(tree.root()));
    if laid != wanted {
        bail!("{} of the figure's {wanted} text elements could not be laid out with the embedded font", wanted - laid);
    }
    let size = tree.size().to_int_size().scale_by(SCALE).context("figure size")?;
    let mut pixmap = tiny_skia::Pixmap::new(size.width(), size.height()).context("allocating the PNG")?;
    pixmap.fill(tiny_skia::Color::WHITE);
    resvg::render(&tree, tiny_skia::Transform::from_scale(SCALE, SCALE), &mut pixmap.as_mut());
    pixmap.encode_png().context("encoding the PNG")
}

/// `<text>` elements of the SVG with something to show.
fn text_elements(svg: &str) -> Result<usize> {
    let doc = usvg::roxmltree::Document::parse(svg).context("reading the SVG to rasterize it")?;
    let shows = |n: &usvg::roxmltree::Node| n.descendants().any(|d| d.text().is_some_and(|t| !t.trim().is_empty()));
    Ok(doc.descendants().filter(|n| n.has_tag_name("text") && shows(n)).count())
}

/// Text nodes usvg turned into glyph outlines (it drops a text element no font can lay out).
fn laid_text(g: &usvg::Group) -> usize {
    g.children()
        .iter()
        .map(|n| match n {
            usvg::Node::Group(g) => laid_text(g),
            usvg::Node::Text(t) => usize::from(!t.flattened().children().is_empty()),
            _ => 0,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SVG: &str = r##"<svg width="120" height="40" viewBox="0 0 120 40" xmlns="http://www.w3.org/2000/svg">
<rect x="0" y="0" width="120" height="40" fill="#FFFFFF"/>
<text x="10" y="28" font-family="sans-serif" font-size="24" fill="#000000">best@k</text></svg>"##;

    fn decode(png: &[u8]) -> tiny_skia::Pixmap {
        tiny_skia::Pixmap::decode_png(png).unwrap()
    }

    fn dark_pixels(p: &tiny_skia::Pixmap) -> usize {
        p.pixels().iter().filter(|c| c.red() < 128).count()
    }

    #[test]
    fn text_is_drawn_with_the_embedded_font_at_twice_the_size() {
        let p = decode(&render(SVG).unwrap());
        assert_eq!((p.width(), p.height()), (240, 80));
        // Six glyphs of 24 px text at 2x cover hundreds of pixels; an empty font database draws
        // none (checked below), so this would fail if the font were not used.
        assert!(dark_pixels(&p) > 300, "{} dark pixels", dark_pixels(&p));
        let blank = SVG.replace("best@k", "");
        assert_eq!(dark_pixels(&decode(&render(&blank).unwrap())), 0);
    }

    #[test]
    fn text_without_a_font_is_an_error_not_a_blank() {
        // The count `render` compares, on a tree parsed with no fonts at all and with the
        // embedded one.
        assert_eq!(text_elements(SVG).unwrap(), 1);
        let tree = usvg::Tree::from_str(SVG, &usvg::Options::default()).unwrap();
        assert_eq!(laid_text(tree.root()), 0);
        let tree = usvg::Tree::from_str(SVG, &options()).unwrap();
        assert_eq!(laid_text(tree.root()), 1);
    }

    #[test]
    fn png_names() {
        assert_eq!(name_for("tts.svg"), "tts.png");
        assert_eq!(name_for("compare.svg"), "compare.png");
    }
}
