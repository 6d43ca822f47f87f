//! The plots: tts.svg (pass@k, best@k and random@k against k on a log2 axis, shaded 95% bands
//! under `--bootstrap`, the selected rate marked at k = N) and compare.svg (each scorer's best@k
//! with the oracle and random), drawn with plotters' SVG backend (text as SVG `<text>`, so no
//! font files are needed).

use anyhow::{Result, anyhow};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::metrics::Metrics;

/// One curve: a value per k, an optional (lo, hi) band per k.
pub struct Curve<'a> {
    pub name: String,
    pub values: &'a [f64],
    pub color: RGBColor,
    pub band: Option<&'a [(f64, f64)]>,
    pub dashed: bool,
}

/// A labelled point (the selected rate at k = N).
pub struct Mark {
    pub k: usize,
    pub value: f64,
    pub label: String,
}

/// Colours for scorers in compare plots (tab10 without the oracle's green and random's grey).
pub const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
];
pub const ORACLE: RGBColor = RGBColor(44, 160, 44);
pub const RANDOM: RGBColor = RGBColor(127, 127, 127);

/// tts.svg; `None` without labels (no curves to draw).
pub fn render_svg(m: &Metrics, title: &str) -> Result<Option<String>> {
    let Some(l) = &m.labeled else { return Ok(None) };
    let ci = l.ci.as_ref();
    let curves = [
        Curve {
            name: "pass@k (oracle)".into(),
            values: &l.pass_at_k,
            color: ORACLE,
            band: ci.map(|c| c.pass_at_k.as_slice()),
            dashed: false,
        },
        Curve {
            name: "best@k (reranked)".into(),
            values: &l.best_at_k,
            color: PALETTE[0],
            band: ci.map(|c| c.best_at_k.as_slice()),
            dashed: false,
        },
        Curve { name: "random@k".into(), values: &l.random_at_k, color: RANDOM, band: None, dashed: true },
    ];
    let mark = Mark { k: m.runs, value: l.selected_rate, label: format!("selected {:.1}%", 100.0 * l.selected_rate) };
    let title = format!("{title}, n = {} instances", m.instances);
    curves_svg(&title, &m.ks, &curves, Some(&mark)).map(Some)
}

/// Curves against k (log2 axis, ticks at the k values).
pub fn curves_svg(title: &str, ks: &[usize], curves: &[Curve], mark: Option<&Mark>) -> Result<String> {
    let err = |e: &dyn std::fmt::Display| anyhow!("drawing a plot: {e}");
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (800, 520)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(&e))?;
        let x = |k: usize| (k as f64).log2();
        let xmax = x(*ks.iter().max().unwrap_or(&1)).max(1.0);
        let highs =
            curves.iter().flat_map(|c| c.values.iter().copied().chain(c.band.into_iter().flatten().map(|b| b.1)));
        let top = (highs.chain(mark.map(|m| m.value)).fold(0.05f64, f64::max) * 1.12).min(1.0) * 100.0;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 22))
            .margin(18)
            .x_label_area_size(48)
            .y_label_area_size(64)
            .build_cartesian_2d(-0.15..xmax + 0.15, 0.0..top)
            .map_err(|e| err(&e))?;
        chart
            .configure_mesh()
            .x_desc("k (candidates per instance)")
            .y_desc("resolved (%)")
            .axis_desc_style(("sans-serif", 17))
            .y_label_style(("sans-serif", 15))
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
        for c in curves {
            if let Some(band) = c.band {
                let upper = ks.iter().zip(band).map(|(&k, &(_, hi))| (x(k), 100.0 * hi));
                let lower = ks.iter().zip(band).rev().map(|(&k, &(lo, _))| (x(k), 100.0 * lo));
                let poly: Vec<(f64, f64)> = upper.chain(lower).collect();
                chart.draw_series([Polygon::new(poly, c.color.mix(0.18).filled())]).map_err(|e| err(&e))?;
            }
        }
        for c in curves {
            let pts: Vec<(f64, f64)> = ks.iter().zip(c.values).map(|(&k, &y)| (x(k), 100.0 * y)).collect();
            let color = c.color;
            let style = color.stroke_width(if c.dashed { 2 } else { 3 });
            let series = if c.dashed {
                chart.draw_series(DashedLineSeries::new(pts.clone(), 8, 5, style)).map_err(|e| err(&e))?
            } else {
                chart.draw_series(LineSeries::new(pts.clone(), style)).map_err(|e| err(&e))?
            };
            series
                .label(c.name.as_str())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], color.stroke_width(3)));
            chart.draw_series(pts.iter().map(|&p| Circle::new(p, 4, color.filled()))).map_err(|e| err(&e))?;
        }
        if let Some(m) = mark {
            let p = (x(m.k), 100.0 * m.value);
            chart.draw_series([TriangleMarker::new(p, 9, BLACK.filled())]).map_err(|e| err(&e))?;
            let (px, py) = chart.backend_coord(&p);
            let style = ("sans-serif", 15).into_font().color(&BLACK).pos(Pos::new(HPos::Right, VPos::Bottom));
            root.draw(&Text::new(m.label.clone(), (px - 10, py - 8), style)).map_err(|e| err(&e))?;
        }
        chart
            .configure_series_labels()
            .label_font(("sans-serif", 15))
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(|e| err(&e))?;
        root.present().map_err(|e| err(&e))?;
    }
    Ok(svg)
}

/// reliability.svg: each bin's share resolved against its mean score, with the diagonal of
/// perfect calibration; `None` without labels or without probabilities.
pub fn reliability_svg(m: &Metrics, title: &str) -> Result<Option<String>> {
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
            .x_desc("mean score in bin (%)")
            .y_desc("resolved in bin (%)")
            .axis_desc_style(("sans-serif", 17))
            .label_style(("sans-serif", 15))
            .light_line_style(WHITE)
            .draw()
            .map_err(|e| err(&e))?;
        chart
            .draw_series(DashedLineSeries::new(vec![(0.0, 0.0), (100.0, 100.0)], 8, 5, RANDOM.stroke_width(2)))
            .map_err(|e| err(&e))?
            .label("perfect calibration")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], RANDOM.stroke_width(2)));
        let pts: Vec<(f64, f64)> = l.bins.iter().map(|b| (100.0 * b.mean_score, 100.0 * b.resolved_rate)).collect();
        let color = PALETTE[0];
        chart
            .draw_series(LineSeries::new(pts.clone(), color.stroke_width(3)))
            .map_err(|e| err(&e))?
            .label("bins (area ~ candidates)")
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], color.stroke_width(3)));
        let most = l.bins.iter().map(|b| b.count).max().unwrap_or(1) as f64;
        chart
            .draw_series(
                l.bins
                    .iter()
                    .zip(&pts)
                    .map(|(b, &p)| Circle::new(p, (3.0 + 9.0 * (b.count as f64 / most).sqrt()) as i32, color.filled())),
            )
            .map_err(|e| err(&e))?;
        chart
            .configure_series_labels()
            .label_font(("sans-serif", 15))
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(|e| err(&e))?;
        root.present().map_err(|e| err(&e))?;
    }
    Ok(Some(svg))
}
