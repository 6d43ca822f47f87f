//! The plots: tts.svg (pass@k, best@k and random@k against k on a log2 axis, shaded 95% bands
//! under `--bootstrap`, the selected rate marked at k = N) and compare.svg (each scorer's best@k
//! with the oracle and random), drawn with plotters' SVG backend (text as SVG `<text>`, so no
//! font files are needed).

use anyhow::{Result, anyhow};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::metrics::Metrics;

/// One curve: a value per k, an optional (lo, hi) band per k, and how it is drawn.
pub(crate) struct Curve<'a> {
    pub(crate) name: String,
    pub(crate) values: &'a [f64],
    pub(crate) color: RGBColor,
    pub(crate) band: Option<&'a [(f64, f64)]>,
    pub(crate) dash: Dash,
    pub(crate) shape: Shape,
}

/// A line's pattern. compare.svg gives each scorer its own (with its own point shape), so a
/// curve drawn exactly over another (a calibrated set over its raw one) still shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dash {
    Solid,
    Dashed,
    Dotted,
    Long,
}

impl Dash {
    /// The i-th pattern, for the i-th scorer.
    pub(crate) fn nth(i: usize) -> Dash {
        [Dash::Solid, Dash::Dashed, Dash::Dotted, Dash::Long][i % 4]
    }

    /// (dash, gap) in pixels; `None` for a solid line.
    fn pattern(self) -> Option<(u32, u32)> {
        match self {
            Dash::Solid => None,
            Dash::Dashed => Some((8, 5)),
            Dash::Dotted => Some((2, 4)),
            Dash::Long => Some((16, 6)),
        }
    }
}

/// A point's shape at each k.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    Circle,
    Square,
    Diamond,
    Triangle,
}

impl Shape {
    pub(crate) fn nth(i: usize) -> Shape {
        [Shape::Circle, Shape::Square, Shape::Diamond, Shape::Triangle][i % 4]
    }
}

/// A horizontal reference line with its legend label (the best single run's rate).
pub(crate) struct Reference {
    pub(crate) value: f64,
    pub(crate) label: String,
}

/// A dotted line in a color of its own: the best single run.
const REFERENCE: RGBColor = RGBColor(90, 60, 20);

/// Draws `shape` at pixel `(x, y)` on `area`.
fn draw_shape<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    shape: Shape,
    (x, y): (i32, i32),
    color: RGBColor,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let fill = color.filled();
    match shape {
        Shape::Circle => area.draw(&Circle::new((x, y), 4, fill)),
        Shape::Square => area.draw(&Rectangle::new([(x - 4, y - 4), (x + 4, y + 4)], fill)),
        Shape::Diamond => area.draw(&Polygon::new(vec![(x, y - 6), (x + 6, y), (x, y + 6), (x - 6, y)], fill)),
        Shape::Triangle => area.draw(&TriangleMarker::new((x, y), 6, fill)),
    }
}

/// A line from `a` to `b` (pixels) in `dash`'s pattern.
fn draw_dashed<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    a: (i32, i32),
    b: (i32, i32),
    dash: Dash,
    style: ShapeStyle,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    match dash.pattern() {
        None => area.draw(&PathElement::new(vec![a, b], style)),
        Some((on, off)) => {
            let mut x = a.0;
            while x < b.0 {
                let end = (x + on as i32).min(b.0);
                area.draw(&PathElement::new(vec![(x, a.1), (end, b.1)], style))?;
                x = end + off as i32;
            }
            Ok(())
        }
    }
}

/// A labelled point (the selected rate at k = N).
pub(crate) struct Mark {
    pub(crate) k: usize,
    pub(crate) value: f64,
    pub(crate) label: String,
}

/// Colours for scorers: the Okabe-Ito palette (Okabe & Ito 2008), distinguishable with every
/// common colour-vision deficiency, without the oracle's bluish green and random's grey.
pub(crate) const PALETTE: [RGBColor; 6] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(230, 159, 0),   // orange
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(0, 0, 0),       // black
];
pub(crate) const ORACLE: RGBColor = RGBColor(0, 158, 115);
pub(crate) const RANDOM: RGBColor = RGBColor(127, 127, 127);
/// Band fill opacity: low enough that two overlapping bands stay apart (each band also has a
/// thin edge in its colour).
const BAND_OPACITY: f64 = 0.12;

/// The legend corner that covers none of `pts` (fractions of the plot area, 0..1 from the lower
/// left) with a box of `w` x `h` fractions; the lower right when every corner is taken.
fn free_corner(pts: &[(f64, f64)], w: f64, h: f64) -> SeriesLabelPosition {
    let corners = [
        (SeriesLabelPosition::LowerRight, (1.0 - w, 1.0), (0.0, h)),
        (SeriesLabelPosition::UpperLeft, (0.0, w), (1.0 - h, 1.0)),
        (SeriesLabelPosition::LowerLeft, (0.0, w), (0.0, h)),
        (SeriesLabelPosition::UpperRight, (1.0 - w, 1.0), (1.0 - h, 1.0)),
    ];
    for (pos, (x0, x1), (y0, y1)) in corners {
        if !pts.iter().any(|&(x, y)| x >= x0 && x <= x1 && y >= y0 && y <= y1) {
            return pos;
        }
    }
    SeriesLabelPosition::LowerRight
}

/// The legend of a curves plot in its own panel: a swatch per band (one entry), curve (dashed
/// curves with a dashed swatch) and the selected marker, each with its name.
fn draw_legend<DB: DrawingBackend>(
    panel: &DrawingArea<DB, plotters::coord::Shift>,
    curves: &[Curve],
    banded: bool,
    mark: Option<&Mark>,
    reference: Option<&Reference>,
    notes: &[String],
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let font = ("sans-serif", 15).into_font().color(&BLACK).pos(Pos::new(HPos::Left, VPos::Center));
    let (x, mut y) = (8, 70);
    let mut entry = |swatch: &dyn Fn(i32, i32) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>>,
                     text: String|
     -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        swatch(x, y)?;
        panel.draw(&Text::new(text, (x + 34, y), font.clone()))?;
        y += 30;
        Ok(())
    };
    for c in curves {
        let (color, dash, shape) = (c.color, c.dash, c.shape);
        entry(
            &|x, y| {
                draw_dashed(panel, (x, y), (x + 26, y), dash, color.stroke_width(3))?;
                draw_shape(panel, shape, (x + 13, y), color)
            },
            c.name.clone(),
        )?;
    }
    if let Some(r) = reference {
        entry(
            &|x, y| draw_dashed(panel, (x, y), (x + 26, y), Dash::Dotted, REFERENCE.stroke_width(2)),
            r.label.clone(),
        )?;
    }
    if banded {
        let colors: Vec<RGBColor> = curves.iter().filter(|c| c.band.is_some()).map(|c| c.color).collect();
        entry(
            &|x, y| {
                if colors.len() > 2 {
                    // Edges only: a thin line per band, as drawn.
                    for (i, c) in colors.iter().enumerate() {
                        let yy = y - 6 + (12 * i as i32) / (colors.len() as i32 - 1);
                        panel.draw(&PathElement::new(vec![(x, yy), (x + 24, yy)], c.mix(0.8).stroke_width(1)))?;
                    }
                    return Ok(());
                }
                let w = 24 / colors.len().max(1) as i32;
                for (i, c) in colors.iter().enumerate() {
                    let x0 = x + i as i32 * w;
                    panel.draw(&Rectangle::new([(x0, y - 7), (x0 + w, y + 7)], c.mix(0.3).filled()))?;
                }
                Ok(())
            },
            if colors.len() > 2 { "95% bands (edges only)".into() } else { "95% bootstrap band".into() },
        )?;
    }
    if let Some(m) = mark {
        entry(
            &|x, y| panel.draw(&TriangleMarker::new((x + 12, y), 7, BLACK.filled())),
            format!("{} (k = {})", m.label, m.k),
        )?;
    }
    // Notes under the entries, wrapped to the panel (curves that coincide).
    let small = ("sans-serif", 13).into_font().color(&BLACK).pos(Pos::new(HPos::Left, VPos::Center));
    y += 6;
    for note in notes {
        for line in wrap(note, 28) {
            panel.draw(&Text::new(line, (x, y), small.clone()))?;
            y += 18;
        }
        y += 6;
    }
    Ok(())
}

/// `text` in lines of at most `width` characters, broken at spaces.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        match lines.last_mut() {
            Some(l) if l.chars().count() + 1 + word.chars().count() <= width => {
                l.push(' ');
                l.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    lines
}

/// tts.svg; `None` without labels (no curves to draw).
pub(crate) fn render_svg(m: &Metrics, title: &str) -> Result<Option<String>> {
    let Some(l) = &m.labeled else { return Ok(None) };
    let ci = l.ci.as_ref();
    let curves = [
        Curve {
            name: "pass@k (oracle)".into(),
            values: &l.pass_at_k,
            color: ORACLE,
            band: ci.map(|c| c.pass_at_k.as_slice()),
            dash: Dash::Solid,
            shape: Shape::Circle,
        },
        Curve {
            name: "best@k (reranked)".into(),
            values: &l.best_at_k,
            color: PALETTE[0],
            band: ci.map(|c| c.best_at_k.as_slice()),
            dash: Dash::Solid,
            shape: Shape::Square,
        },
        Curve {
            name: "random@k".into(),
            values: &l.random_at_k,
            color: RANDOM,
            band: None,
            dash: Dash::Dashed,
            shape: Shape::Circle,
        },
    ];
    let mark = Mark { k: m.runs, value: l.selected_rate, label: format!("selected {:.1}%", 100.0 * l.selected_rate) };
    let title = format!("{title}, n = {} instances", m.instances);
    let reference = best_run_line(l, m.instances);
    curves_svg(&title, &m.ks, &curves, Some(&mark), reference.as_ref(), &[]).map(Some)
}

/// The best single run's rate as a reference line: the comparison the summary says matters.
pub(crate) fn best_run_line(l: &crate::metrics::Labeled, instances: usize) -> Option<Reference> {
    let (best, rate) = l.best_run(instances)?;
    let runs = if best.len() > 1 { format!(" ({} runs tied)", best.len()) } else { String::new() };
    Some(Reference { value: rate, label: format!("best single run {:.1}%{runs}", 100.0 * rate) })
}

/// Curves against k (log2 axis, ticks at the k values).
///
/// Layout decisions (paper-ready): the selected marker sits just right of k = N, off every
/// curve's points, and is named in the legend (no floating label to collide with a curve);
/// bands get a legend entry and a thin edge; dashed curves get dashed swatches; y ticks read as
/// whole percentages.
/// The x position of k: log2 k.
fn log2k(k: usize) -> f64 {
    (k as f64).log2()
}

type Chart<'a, 'b> = ChartContext<
    'a,
    SVGBackend<'b>,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

/// Each curve's bootstrap band (a faint polygon with its two edges), then the curves over the
/// bands, with a point at each k. Returns the color of a banded curve, if any (the legend
/// shows a band swatch then).
fn draw_curves(
    chart: &mut Chart,
    ks: &[usize],
    curves: &[Curve],
) -> Result<Option<RGBColor>, DrawingAreaErrorKind<std::io::Error>> {
    let mut banded = None;
    // Several bands: no fill (overlapping fills blend into one colour), only each band's edges,
    // in its curve's colour and line pattern.
    let several = curves.iter().filter(|c| c.band.is_some()).count() > 2;
    for c in curves {
        if let Some(band) = c.band {
            let upper: Vec<(f64, f64)> = ks.iter().zip(band).map(|(&k, &(_, hi))| (log2k(k), 100.0 * hi)).collect();
            let lower: Vec<(f64, f64)> = ks.iter().zip(band).map(|(&k, &(lo, _))| (log2k(k), 100.0 * lo)).collect();
            if !several {
                let poly: Vec<(f64, f64)> = upper.iter().copied().chain(lower.iter().rev().copied()).collect();
                chart.draw_series([Polygon::new(poly, c.color.mix(BAND_OPACITY).filled())])?;
            }
            for edge in [upper, lower] {
                let style = c.color.mix(if several { 0.8 } else { 0.45 }).stroke_width(1);
                match c.dash.pattern().filter(|_| several) {
                    Some((on, off)) => chart.draw_series(DashedLineSeries::new(edge, on, off, style))?,
                    None => chart.draw_series(LineSeries::new(edge, style))?,
                };
            }
            banded = Some(c.color);
        }
    }
    for c in curves {
        let pts: Vec<(f64, f64)> = ks.iter().zip(c.values).map(|(&k, &y)| (log2k(k), 100.0 * y)).collect();
        let color = c.color;
        let style = color.stroke_width(if c.dash == Dash::Solid { 3 } else { 2 });
        match c.dash.pattern() {
            Some((on, off)) => {
                chart.draw_series(DashedLineSeries::new(pts.clone(), on, off, style))?;
            }
            None => {
                chart.draw_series(LineSeries::new(pts.clone(), style))?;
            }
        }
        let fill = color.filled();
        match c.shape {
            Shape::Circle => {
                chart.draw_series(pts.iter().map(|&p| Circle::new(p, 4, fill)))?;
            }
            Shape::Square => {
                chart
                    .draw_series(pts.iter().map(|&p| EmptyElement::at(p) + Rectangle::new([(-4, -4), (4, 4)], fill)))?;
            }
            Shape::Diamond => {
                chart.draw_series(
                    pts.iter()
                        .map(|&p| EmptyElement::at(p) + Polygon::new(vec![(0, -6), (6, 0), (0, 6), (-6, 0)], fill)),
                )?;
            }
            Shape::Triangle => {
                chart.draw_series(pts.iter().map(|&p| TriangleMarker::new(p, 6, fill)))?;
            }
        }
    }
    Ok(banded)
}

pub(crate) fn curves_svg(
    title: &str,
    ks: &[usize],
    curves: &[Curve],
    mark: Option<&Mark>,
    reference: Option<&Reference>,
    notes: &[String],
) -> Result<String> {
    let err = |e: &dyn std::fmt::Display| anyhow!("drawing a plot: {e}");
    let mut svg = String::new();
    {
        let full = SVGBackend::with_string(&mut svg, (960, 520)).into_drawing_area();
        full.fill(&WHITE).map_err(|e| err(&e))?;
        // The legend has a panel of its own, right of the plot: it never covers a curve or band.
        let (root, panel) = full.split_horizontally(760);
        let x = log2k;
        let xmax = x(*ks.iter().max().unwrap_or(&1)).max(1.0);
        let highs =
            curves.iter().flat_map(|c| c.values.iter().copied().chain(c.band.into_iter().flatten().map(|b| b.1)));
        let top = (highs.chain(mark.map(|m| m.value)).chain(reference.map(|r| r.value)).fold(0.05f64, f64::max) * 1.12)
            .min(1.0)
            * 100.0;
        // Room right of the last k for the selected marker.
        let right = if mark.is_some() { 0.35 } else { 0.15 };
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 22))
            .margin(18)
            .x_label_area_size(48)
            .y_label_area_size(64)
            .build_cartesian_2d(-0.15..xmax + right, 0.0..top)
            .map_err(|e| err(&e))?;
        let log2 = if ks.iter().any(|&k| !k.is_power_of_two()) || ks.len() > 2 { ", log2 scale" } else { "" };
        chart
            .configure_mesh()
            .x_desc(format!("k (candidates per instance{log2})"))
            .y_desc("resolved")
            .axis_desc_style(("sans-serif", 17))
            .y_label_style(("sans-serif", 15))
            .y_label_formatter(&|v: &f64| format!("{}%", (v.round() as i64)))
            .light_line_style(WHITE)
            .x_labels(0)
            .disable_x_mesh()
            .draw()
            .map_err(|e| err(&e))?;
        // Tick labels at exactly the k values (plotters would pick "nice" log2 positions).
        for &k in ks {
            let (px, py) = chart.backend_coord(&(x(k), 0.0));
            let style = ("sans-serif", 15).into_font().color(&BLACK).pos(Pos::new(HPos::Center, VPos::Top));
            root.draw(&Text::new(k.to_string(), (px, py + 6), style)).map_err(|e| err(&e))?;
        }
        if let Some(r) = reference {
            let y = 100.0 * r.value;
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(-0.15, y), (xmax + right, y)],
                    2,
                    4,
                    REFERENCE.stroke_width(2),
                ))
                .map_err(|e| err(&e))?;
        }
        let banded = draw_curves(&mut chart, ks, curves).map_err(|e| err(&e))?;
        if let Some(m) = mark {
            // Just right of k = N: never on a curve's point.
            let p = (x(m.k) + 0.16, 100.0 * m.value);
            chart.draw_series([TriangleMarker::new(p, 8, BLACK.filled())]).map_err(|e| err(&e))?;
        }
        draw_legend(&panel, curves, banded.is_some(), mark, reference, notes).map_err(|e| err(&e))?;
        full.present().map_err(|e| err(&e))?;
    }
    Ok(svg)
}

/// reliability.svg: each bin's share resolved against its mean score, with the diagonal of
/// perfect calibration; `None` without labels or without probabilities.
/// The calibration bins: a line through them, a point each with an area in proportion to its
/// candidates, and its count beside it. Returns the points (in percent).
fn draw_bins(
    chart: &mut Chart,
    root: &DrawingArea<SVGBackend, plotters::coord::Shift>,
    bins: &[crate::calibrate::measures::Bin],
) -> Result<Vec<(f64, f64)>, DrawingAreaErrorKind<std::io::Error>> {
    let pts: Vec<(f64, f64)> = bins.iter().map(|b| (100.0 * b.mean_score, 100.0 * b.resolved_rate)).collect();
    let color = PALETTE[0];
    chart
        .draw_series(LineSeries::new(pts.clone(), color.stroke_width(3)))?
        .label("bins (area ~ candidates)")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], color.stroke_width(3)));
    let most = bins.iter().map(|b| b.count).max().unwrap_or(1) as f64;
    let radius: Vec<i32> = bins.iter().map(|b| (3.0 + 9.0 * (b.count as f64 / most).sqrt()) as i32).collect();
    chart.draw_series(bins.iter().zip(&pts).zip(&radius).map(|((_, &p), &r)| Circle::new(p, r, color.filled())))?;
    // Each bin's count beside its point (a bin of 2 candidates weighs little in the ECE), in
    // the first of eight places around it that stays inside the plot and overlaps no label
    // placed before and no point (close bins would otherwise print over each other).
    let (xr, yr) = chart.plotting_area().get_pixel_range();
    let centers: Vec<(i32, i32)> = pts.iter().map(|p| chart.backend_coord(p)).collect();
    let mut placed: Vec<[i32; 4]> = Vec::new();
    for ((b, &(px, py)), &rad) in bins.iter().zip(&centers).zip(&radius) {
        let text = format!("n={}", b.count);
        let (w, h) = (7 * text.len() as i32, 13);
        let (a, c) = (rad + 3, rad + 17);
        let places = [(a, a), (a, -a), (-a, a), (-a, -a), (a, c), (a, -c), (-a, c), (-a, -c)];
        let rect = |(dx, dy): (i32, i32)| -> [i32; 4] {
            let x0 = if dx > 0 { px + dx } else { px + dx - w };
            let y0 = if dy > 0 { py + dy } else { py + dy - h };
            [x0, y0, x0 + w, y0 + h]
        };
        let free = |r: &[i32; 4]| {
            r[0] >= xr.start
                && r[2] <= xr.end
                && r[1] >= yr.start
                && r[3] <= yr.end
                && !placed.iter().any(|q| r[0] < q[2] && q[0] < r[2] && r[1] < q[3] && q[1] < r[3])
                && !centers
                    .iter()
                    .zip(&radius)
                    .any(|(&(cx, cy), &q)| cx + q > r[0] && cx - q < r[2] && cy + q > r[1] && cy - q < r[3])
        };
        let at = places.iter().copied().find(|&d| free(&rect(d))).unwrap_or(places[0]);
        let r = rect(at);
        placed.push(r);
        let style = ("sans-serif", 12).into_font().color(&RANDOM).pos(Pos::new(HPos::Left, VPos::Top));
        root.draw(&Text::new(text, (r[0], r[1]), style))?;
    }
    Ok(pts)
}

pub(crate) fn reliability_svg(m: &Metrics, title: &str) -> Result<Option<String>> {
    let Some(l) = m.labeled.as_ref().filter(|l| !l.bins.is_empty()) else { return Ok(None) };
    let err = |e: &dyn std::fmt::Display| anyhow!("drawing reliability.svg: {e}");
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (640, 600)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(&e))?;
        let caption = format!("{title}, ECE {:.3}, n = {} candidates", l.ece.unwrap_or(f64::NAN), m.candidates);
        let mut chart = ChartBuilder::on(&root)
            .caption(caption, ("sans-serif", 19))
            .margin(18)
            .x_label_area_size(48)
            .y_label_area_size(64)
            .build_cartesian_2d(0.0..100.0, 0.0..100.0)
            .map_err(|e| err(&e))?;
        chart
            .configure_mesh()
            .x_desc("mean score in bin")
            .y_desc("resolved in bin")
            .axis_desc_style(("sans-serif", 17))
            .label_style(("sans-serif", 15))
            .x_label_formatter(&|v: &f64| format!("{}%", v.round() as i64))
            .y_label_formatter(&|v: &f64| format!("{}%", v.round() as i64))
            .light_line_style(WHITE)
            .draw()
            .map_err(|e| err(&e))?;
        chart
            .draw_series(DashedLineSeries::new(vec![(0.0, 0.0), (100.0, 100.0)], 8, 5, RANDOM.stroke_width(2)))
            .map_err(|e| err(&e))?
            .label("perfect calibration")
            .legend(|(x, y)| {
                EmptyElement::at((0, 0))
                    + PathElement::new(vec![(x, y), (x + 9, y)], RANDOM.stroke_width(2))
                    + PathElement::new(vec![(x + 15, y), (x + 24, y)], RANDOM.stroke_width(2))
            });
        let pts = draw_bins(&mut chart, &root, &l.bins).map_err(|e| err(&e))?;
        // The legend in a corner that holds no bin and no stretch of the diagonal.
        let mut occupied: Vec<(f64, f64)> = pts.iter().map(|&(x, y)| (x / 100.0, y / 100.0)).collect();
        occupied.extend((0..=50).map(|i| (i as f64 / 50.0, i as f64 / 50.0)));
        chart
            .configure_series_labels()
            .label_font(("sans-serif", 15))
            .position(free_corner(&occupied, 0.5, 0.2))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(|e| err(&e))?;
        root.present().map_err(|e| err(&e))?;
    }
    Ok(Some(svg))
}
