//! Drawing prepared [`Figure`]s with plotters, generic over the backend so
//! the SVG and the PNG come from one code path. All sizes are in points via
//! [`Style`], never in raw pixels.

use plotters::coord::Shift;
use plotters::coord::combinators::BindKeyPoints;
use plotters::coord::ranged1d::SegmentValue;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::figures::{
    BoxRow, DotRow, Figure, FigureKind, Line, RatioPanel, ShareBar, TimelineLine,
};
use super::{FONT, Style, color};

/// What a legend entry shows next to its label.
#[derive(Debug, Clone, Copy)]
enum Glyph {
    /// A filled box (categories: stages, classes).
    Box,
    /// A line in the given dash style (series).
    Line(usize),
    /// A dot (dot-plot markers).
    Dot,
    /// A square (the raw floor marker).
    Square,
    /// An outlined dot or square (a marker to read with caution).
    Hollow { square: bool },
}

type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

const GRID_LIGHT: RGBColor = RGBColor(238, 238, 238);
const GRID_BOLD: RGBColor = RGBColor(214, 214, 214);

/// Axis numbers: `850`, `1.5k`, `12k`, `1.2M`: short enough for a 3.5 in
/// figure at 7 pt.
pub fn short_number(v: f64) -> String {
    let a = v.abs();
    let trim = |s: String| {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    };
    if a >= 1e6 {
        format!("{}M", trim(format!("{:.1}", v / 1e6)))
    } else if a >= 1e4 {
        format!("{}k", trim(format!("{:.0}", v / 1e3)))
    } else if a >= 1e3 {
        format!("{}k", trim(format!("{:.2}", v / 1e3)))
    } else if a >= 10.0 || a == 0.0 {
        format!("{v:.0}")
    } else {
        trim(format!("{v:.2}"))
    }
}

/// Greedy word wrap to a pixel width, measured with the real font.
fn wrap<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    font: &TextStyle,
    width: u32,
) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    for word in text.split(' ') {
        let candidate = if cur.is_empty() {
            word.to_string()
        } else {
            format!("{cur} {word}")
        };
        let fits = area
            .estimate_text_size(&candidate, font)
            .map_or(true, |(w, _)| w <= width);
        if fits || cur.is_empty() {
            cur = candidate;
        } else {
            lines.push(std::mem::replace(&mut cur, word.to_string()));
        }
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}

fn text_width<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    font: &TextStyle,
) -> u32 {
    area.estimate_text_size(text, font).map_or(0, |(w, _)| w)
}

/// Draw a whole figure: plot, legend strip where needed, caption line(s).
pub fn figure<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    fig: &Figure,
    s: &Style,
) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let (w, h) = root.dim_in_pixel();
    let font = s.caption_font();
    let margin = s.px(4.0);
    let lines = wrap(
        root,
        &fig.caption,
        &font,
        w.saturating_sub(2 * margin as u32),
    );
    let line_h = s.pt(7.5);
    let cap_h = (lines.len() as f64 * line_h + s.pt(5.0)).round() as u32;
    let (plot, caption) = root.split_vertically(h.saturating_sub(cap_h));
    for (i, l) in lines.iter().enumerate() {
        caption.draw_text(
            l,
            &font,
            (margin, s.px(2.0) + (i as f64 * line_h).round() as i32),
        )?;
    }
    match &fig.kind {
        FigureKind::Cdf {
            x_label,
            y_label,
            lines,
        } => cdf(&plot, s, x_label, y_label, lines),
        FigureKind::Stages {
            x_label,
            stages,
            bars,
        } => {
            let categories: Vec<_> = stages
                .iter()
                .enumerate()
                .map(|(i, n)| (n.clone(), i))
                .collect();
            let bars: Vec<ShareBar> = bars
                .iter()
                .map(|b| ShareBar {
                    label: b.label.clone(),
                    shares: b.shares.clone(),
                    note: short_number(b.total),
                })
                .collect();
            stacked(&plot, s, x_label, &categories, &bars)
        }
        FigureKind::Shares {
            x_label,
            categories,
            bars,
        } => stacked(&plot, s, x_label, categories, bars),
        FigureKind::Boxes {
            x_label,
            rows,
            legend,
        } => {
            let items: Vec<_> = legend
                .iter()
                .map(|(l, c, _)| (l.clone(), *c, Glyph::Box))
                .collect();
            let plot = legend_strip(&plot, s, &items)?;
            boxes(&plot, s, x_label, rows)
        }
        FigureKind::Floor {
            x_label,
            rows,
            legend,
        } => {
            let items: Vec<_> = legend
                .iter()
                .map(|(l, c, square)| {
                    (
                        l.clone(),
                        *c,
                        if *square { Glyph::Square } else { Glyph::Dot },
                    )
                })
                .collect();
            let plot = legend_strip(&plot, s, &items)?;
            dots(&plot, s, x_label, rows, None)
        }
        FigureKind::Ratios {
            x_label,
            rows,
            legend,
        } => {
            let items: Vec<_> = legend
                .iter()
                .map(|(l, c, square, hollow)| {
                    let glyph = match (*square, *hollow) {
                        (square, true) => Glyph::Hollow { square },
                        (true, false) => Glyph::Square,
                        (false, false) => Glyph::Dot,
                    };
                    (l.clone(), *c, glyph)
                })
                .collect();
            let plot = legend_strip(&plot, s, &items)?;
            dots(&plot, s, x_label, rows, Some(1.0))
        }
        FigureKind::RatioBars {
            x_label,
            panels,
            legend,
        } => {
            let items: Vec<_> = legend
                .iter()
                .map(|(l, c, _)| (l.clone(), *c, Glyph::Box))
                .collect();
            let plot = legend_strip(&plot, s, &items)?;
            ratio_panels(&plot, s, x_label, panels)
        }
        FigureKind::Histogram {
            x_label,
            bins,
            median,
            color: c,
        } => histogram(&plot, s, x_label, bins, *median, *c),
        FigureKind::Timeline {
            y_label,
            commits,
            lines,
        } => timeline(&plot, s, y_label, commits, lines),
    }
}

/// A horizontal legend above the plot (categories, not series), wrapping as
/// needed; returns the remaining area.
fn legend_strip<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: &Style,
    items: &[(String, usize, Glyph)],
) -> Result<DrawingArea<DB, Shift>, DrawingAreaErrorKind<DB::ErrorType>> {
    let font = s.legend_font();
    let (w, _) = area.dim_in_pixel();
    let swatch = s.px(7.0);
    let line_swatch = s.px(16.0);
    let gap = s.px(10.0);
    let row_h = s.px(11.0);
    let mut x = s.px(40.0);
    let mut rows = 1;
    let mut placed = Vec::new();
    for (label, c, dash) in items {
        let sw = if matches!(dash, Glyph::Line(_)) {
            line_swatch
        } else {
            swatch
        };
        let item_w = sw + s.px(3.0) + text_width(area, label, &font) as i32;
        if x + item_w > w as i32 - s.px(4.0) && x > s.px(40.0) {
            rows += 1;
            x = s.px(40.0);
        }
        placed.push((x, (rows - 1) * row_h + s.px(4.0), label.clone(), *c, *dash));
        x += item_w + gap;
    }
    let (strip, rest) = area.split_vertically((rows * row_h + s.px(5.0)) as u32);
    for (x, y, label, c, dash) in placed {
        let sw = match dash {
            Glyph::Box | Glyph::Square => {
                strip.draw(&Rectangle::new(
                    [(x, y), (x + swatch, y + swatch)],
                    color(c).filled(),
                ))?;
                swatch
            }
            Glyph::Dot => {
                strip.draw(&Circle::new(
                    (x + swatch / 2, y + swatch / 2),
                    s.px_u(2.6),
                    color(c).filled(),
                ))?;
                swatch
            }
            Glyph::Hollow { square } => {
                let st = color(c).stroke_width(s.px_u(0.9));
                if square {
                    strip.draw(&Rectangle::new([(x, y), (x + swatch, y + swatch)], st))?;
                } else {
                    strip.draw(&Circle::new(
                        (x + swatch / 2, y + swatch / 2),
                        s.px_u(2.6),
                        st,
                    ))?;
                }
                swatch
            }
            Glyph::Line(d) => {
                let st = line_style(s, c);
                let pts = vec![(x, y + swatch / 2), (x + line_swatch, y + swatch / 2)];
                match dash_pattern(s, d) {
                    None => strip.draw(&PathElement::new(pts, st))?,
                    Some((len, gap)) => strip.draw(&DashedPathElement::new(pts, len, gap, st))?,
                }
                line_swatch
            }
        };
        strip.draw_text(
            &label,
            &font.pos(Pos::new(HPos::Left, VPos::Center)),
            (x + sw + s.px(3.0), y + swatch / 2),
        )?;
    }
    Ok(rest)
}

/// Category axis for `n` rows. plotters' segmented `0..m` has m + 1 slots, so
/// `0..n-1` gives exactly n; a single row needs `0..1` (its spare slot stays
/// empty) because a zero-width range draws nothing.
fn category_range(n: i32) -> std::ops::Range<i32> {
    0..(n - 1).max(1)
}

fn line_style(s: &Style, c: usize) -> ShapeStyle {
    color(c).stroke_width(s.line())
}

fn cdf<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: &Style,
    x_label: &str,
    y_label: &str,
    lines: &[Line],
) -> DrawResult<DB> {
    // The legend sits above the plot: inside, it would hide the curves.
    let items: Vec<_> = lines
        .iter()
        .map(|l| (l.label.clone(), l.color, Glyph::Line(l.dash)))
        .collect();
    let area = legend_strip(area, s, &items)?;
    let xs = lines.iter().flat_map(|l| l.points.iter().map(|p| p.0));
    let (lo, hi) = xs.fold((f64::INFINITY, 0f64), |(a, b), x| (a.min(x), b.max(x)));
    let (lo, hi) = if lo.is_finite() && hi > lo {
        (lo / 1.15, hi * 1.15)
    } else {
        (1.0, 10.0)
    };
    let mut chart = ChartBuilder::on(&area)
        .margin(s.px(5.0))
        .margin_right(s.px(9.0))
        .x_label_area_size(s.px(24.0))
        .y_label_area_size(s.px(30.0))
        .build_cartesian_2d(
            (lo..hi).log_scale().with_key_points(log_ticks(lo, hi)),
            0f64..1.0,
        )?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .label_style(s.tick_font())
        .axis_desc_style(s.label_font())
        .x_label_formatter(&|v| short_number(*v))
        .y_label_formatter(&|v| format!("{v:.1}"))
        .y_labels(6)
        .light_line_style(GRID_LIGHT)
        .bold_line_style(GRID_BOLD)
        .axis_style(BLACK.stroke_width(s.px_u(0.5)))
        .draw()?;
    for l in lines {
        let st = line_style(s, l.color);
        let pts = l.points.iter().copied();
        match dash_pattern(s, l.dash) {
            None => chart.draw_series(LineSeries::new(pts, st))?,
            Some((len, gap)) => chart.draw_series(DashedLineSeries::new(pts, len, gap, st))?,
        };
    }
    Ok(())
}

/// Ticks at 1, 2 and 5 times powers of ten inside `[lo, hi]`; plotters' own
/// log ticks are powers of ten only, often just two on a trap-latency range.
/// A range narrower than that gives (under a decade, e.g. recovery times of
/// 120k–330k cycles) gets the finer 1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 steps so
/// it still has at least three ticks.
pub fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let coarse = ticks_with(lo, hi, &[1.0, 2.0, 5.0]);
    if coarse.len() >= 3 {
        return coarse;
    }
    ticks_with(lo, hi, &[1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0])
}

fn ticks_with(lo: f64, hi: f64, mantissas: &[f64]) -> Vec<f64> {
    let mut ticks = Vec::new();
    if !(lo > 0.0 && hi > lo && hi.is_finite()) {
        return ticks;
    }
    let mut p = 10f64.powf(lo.log10().floor());
    while p <= hi {
        for m in mantissas {
            let t = p * m;
            if t >= lo && t <= hi {
                ticks.push(t);
            }
        }
        p *= 10.0;
    }
    ticks
}

/// Dash length and gap in pixels; `None` for solid.
fn dash_pattern(s: &Style, dash: usize) -> Option<(u32, u32)> {
    match dash % 3 {
        0 => None,
        1 => Some((s.px_u(4.0), s.px_u(2.0))),
        _ => Some((s.px_u(1.2), s.px_u(1.5))),
    }
}

fn label_area<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: &Style,
    labels: impl Iterator<Item = String>,
) -> i32 {
    let font = s.tick_font();
    labels
        .map(|l| text_width(area, &l, &font) as i32)
        .max()
        .unwrap_or(0)
        + s.px(8.0)
}

/// Black or white, whichever reads better on `c` (WCAG relative luminance
/// of the sRGB colour, threshold at mid-grey contrast).
fn text_color_on(c: RGBColor) -> RGBColor {
    let lin = |v: u8| {
        let v = f64::from(v) / 255.0;
        if v <= 0.040_45 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    let l = 0.2126 * lin(c.0) + 0.7152 * lin(c.1) + 0.0722 * lin(c.2);
    // Contrast with black (l + 0.05) / 0.05 vs with white 1.05 / (l + 0.05)
    // are equal at l ≈ 0.179.
    if l > 0.179 { BLACK } else { WHITE }
}

/// Horizontal stacked bars of percentages (stage shares, outcome shares),
/// a legend of the categories above, each segment's percentage written
/// inside it when it fits, and each bar's note right of 100 %.
fn stacked<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: &Style,
    x_label: &str,
    categories: &[(String, usize)],
    bars: &[ShareBar],
) -> DrawResult<DB> {
    let legend: Vec<_> = categories
        .iter()
        .map(|(n, c)| (n.clone(), *c, Glyph::Box))
        .collect();
    let area = legend_strip(area, s, &legend)?;
    let n = bars.len() as i32;
    let ylab = label_area(&area, s, bars.iter().map(|b| b.label.clone()));
    // Room right of 100 % for the widest note: the plot spans the area less
    // the label column and margins; 100 % must end that far from its edge.
    let tick = s.tick_font();
    let note_px = bars
        .iter()
        .map(|b| text_width(&area, &b.note, &tick) as f64)
        .fold(0.0, f64::max)
        + s.pt(5.0);
    let (aw, _) = area.dim_in_pixel();
    let plot_px = (f64::from(aw) - f64::from(ylab) - s.pt(11.0)).max(1.0);
    let x_max = (100.0 * plot_px / (plot_px - note_px).max(plot_px / 2.0)).max(104.0);
    let narrow = plot_px < s.pt(300.0);
    let mut chart = ChartBuilder::on(&area)
        .margin(s.px(5.0))
        .margin_right(s.px(6.0))
        .x_label_area_size(s.px(24.0))
        .y_label_area_size(ylab)
        .build_cartesian_2d(0f64..x_max, category_range(n).into_segmented())?;
    let label_of = |v: &SegmentValue<i32>| match v {
        SegmentValue::CenterOf(i) if *i >= 0 && *i < n => bars[(n - 1 - i) as usize].label.clone(),
        _ => String::new(),
    };
    chart
        .configure_mesh()
        .disable_y_mesh()
        .x_desc(x_label)
        .label_style(s.tick_font())
        .axis_desc_style(s.label_font())
        .x_label_formatter(&|v| {
            if *v <= 100.0 {
                format!("{v:.0}")
            } else {
                String::new()
            }
        })
        .x_labels(if narrow { 7 } else { 12 })
        .y_labels(bars.len())
        .y_label_formatter(&label_of)
        .light_line_style(GRID_LIGHT)
        .bold_line_style(GRID_BOLD)
        .axis_style(BLACK.stroke_width(s.px_u(0.5)))
        .draw()?;
    let pad = s.px_u(3.0);
    let inside: TextStyle = (FONT, s.pt(6.0)).into_font().into();
    for (i, b) in bars.iter().enumerate() {
        let y = n - 1 - i as i32;
        let mut x0 = 0.0;
        for (v, (_, c)) in b.shares.iter().zip(categories) {
            if *v <= 0.0 {
                continue;
            }
            let mut bar = Rectangle::<(f64, SegmentValue<i32>)>::new(
                [
                    (x0, SegmentValue::Exact(y)),
                    (x0 + v, SegmentValue::Exact(y + 1)),
                ],
                color(*c).filled(),
            );
            bar.set_margin(pad, pad, 0, 0);
            chart.draw_series(std::iter::once(bar))?;
            let text = format!("{v:.0}%");
            let left = chart.backend_coord(&(x0, SegmentValue::Exact(y))).0;
            let right = chart.backend_coord(&(x0 + v, SegmentValue::Exact(y))).0;
            let room = (right - left) - s.px(2.0);
            if room >= text_width(&area, &text, &inside) as i32 {
                chart.draw_series(std::iter::once(Text::new(
                    text,
                    (x0 + v / 2.0, SegmentValue::CenterOf(y)),
                    inside
                        .color(&text_color_on(color(*c)))
                        .pos(Pos::new(HPos::Center, VPos::Center)),
                )))?;
            }
            x0 += v;
        }
        chart.draw_series(std::iter::once(
            EmptyElement::at((100.0, SegmentValue::CenterOf(y)))
                + Text::new(
                    b.note.clone(),
                    (s.px(3.0), 0),
                    tick.clone().pos(Pos::new(HPos::Left, VPos::Center)),
                ),
        ))?;
    }
    Ok(())
}

/// The coordinates of [`log_rows_chart`]: log x with key points, one
/// segment per row on y.
type LogRowsCoord = Cartesian2d<
    plotters::coord::combinators::WithKeyPoints<plotters::coord::combinators::LogCoord<f64>>,
    plotters::coord::ranged1d::SegmentedCoord<plotters::coord::types::RangedCoordi32>,
>;

/// A chart of `n` labelled rows (top to bottom) over a log-scale x axis
/// from `lo` to `hi`: the layout the box plots, dot plots and ratio bars
/// share.
fn log_rows_chart<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    s: &Style,
    caption: Option<&str>,
    labels: impl Iterator<Item = String>,
    (lo, hi): (f64, f64),
    n: i32,
) -> Result<ChartContext<'a, DB, LogRowsCoord>, DrawingAreaErrorKind<DB::ErrorType>> {
    let ylab = label_area(area, s, labels);
    let mut builder = ChartBuilder::on(area);
    if let Some(caption) = caption {
        builder.caption(caption, s.label_font());
    }
    builder
        .margin(s.px(5.0))
        .margin_right(s.px(10.0))
        .x_label_area_size(s.px(24.0))
        .y_label_area_size(ylab)
        .build_cartesian_2d(
            (lo..hi).log_scale().with_key_points(log_ticks(lo, hi)),
            category_range(n).into_segmented(),
        )
}

fn boxes<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: &Style,
    x_label: &str,
    rows: &[BoxRow],
) -> DrawResult<DB> {
    let n = rows.len() as i32;
    let (lo_q, hi_q) = (0, 4);
    let lo = rows
        .iter()
        .map(|r| r.q[lo_q])
        .fold(f64::INFINITY, f64::min)
        .max(f64::MIN_POSITIVE);
    let hi = rows.iter().map(|r| r.q[hi_q]).fold(0.0, f64::max);
    let (lo, hi) = if lo.is_finite() && hi > lo {
        (lo / 1.3, hi * 1.3)
    } else {
        (1.0, 10.0)
    };
    let mut chart = log_rows_chart(
        area,
        s,
        None,
        rows.iter().map(|r| r.label.clone()),
        (lo, hi),
        n,
    )?;
    let label_of = |v: &SegmentValue<i32>| match v {
        SegmentValue::CenterOf(i) if *i >= 0 && *i < n => rows[(n - 1 - i) as usize].label.clone(),
        _ => String::new(),
    };
    chart
        .configure_mesh()
        .disable_y_mesh()
        .x_desc(x_label)
        .label_style(s.tick_font())
        .axis_desc_style(s.label_font())
        .x_label_formatter(&|v| short_number(*v))
        .y_labels(rows.len())
        .y_label_formatter(&label_of)
        .light_line_style(GRID_LIGHT)
        .bold_line_style(GRID_BOLD)
        .axis_style(BLACK.stroke_width(s.px_u(0.5)))
        .draw()?;
    let half = s.px(3.5);
    let stroke = s.px_u(0.8);
    for (i, r) in rows.iter().enumerate() {
        let y = n - 1 - i as i32;
        let c = color(r.color);
        let mid = || SegmentValue::CenterOf(y);
        for (a, b) in [(r.q[0], r.q[1]), (r.q[3], r.q[4])] {
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(a, mid()), (b, mid())],
                BLACK.stroke_width(stroke),
            )))?;
        }
        for x in [r.q[0], r.q[4]] {
            chart.draw_series(std::iter::once(
                EmptyElement::at((x, mid()))
                    + PathElement::new(
                        vec![(0, -half / 2), (0, half / 2)],
                        BLACK.stroke_width(stroke),
                    ),
            ))?;
        }
        let pad = s.px_u(2.5);
        let mut bar = Rectangle::<(f64, SegmentValue<i32>)>::new(
            [
                (r.q[1], SegmentValue::Exact(y)),
                (r.q[3], SegmentValue::Exact(y + 1)),
            ],
            c.mix(0.45).filled(),
        );
        bar.set_margin(pad, pad, 0, 0);
        chart.draw_series(std::iter::once(bar))?;
        let mut bar = Rectangle::<(f64, SegmentValue<i32>)>::new(
            [
                (r.q[1], SegmentValue::Exact(y)),
                (r.q[3], SegmentValue::Exact(y + 1)),
            ],
            c.stroke_width(stroke),
        );
        bar.set_margin(pad, pad, 0, 0);
        chart.draw_series(std::iter::once(bar))?;
        chart.draw_series(std::iter::once(
            EmptyElement::at((r.q[2], mid()))
                + PathElement::new(vec![(0, -half), (0, half)], BLACK.stroke_width(s.px_u(0.9))),
        ))?;
    }
    Ok(())
}

/// Dodged dot plot: per row a marker per configuration (p50) with a
/// p10–p90 whisker, offset vertically so they never hide each other. A dot
/// plot rather than bars because bar lengths mean nothing on a log axis.
/// With a `reference` (ratio figures: 1 = parity) a dashed line marks it,
/// the axis always includes it and ticks read `0.5×`, `2×`.
fn dots<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: &Style,
    x_label: &str,
    rows: &[DotRow],
    reference: Option<f64>,
) -> DrawResult<DB> {
    let n = rows.len() as i32;
    let all = rows.iter().flat_map(|r| r.marks.iter());
    let positive = |v: &f64| v.is_finite() && *v > 0.0;
    let lo = all
        .clone()
        .map(|m| m.q[0])
        .filter(positive)
        .chain(reference)
        .fold(f64::INFINITY, f64::min)
        .max(f64::MIN_POSITIVE);
    let hi = all
        .map(|m| m.q[2])
        .filter(positive)
        .chain(reference)
        .fold(0.0, f64::max);
    let (lo, hi) = if lo.is_finite() && hi > lo {
        (lo / 1.4, hi * 1.4)
    } else {
        (1.0, 10.0)
    };
    let mut chart = log_rows_chart(
        area,
        s,
        None,
        rows.iter().map(|r| r.label.clone()),
        (lo, hi),
        n,
    )?;
    let label_of = |v: &SegmentValue<i32>| match v {
        SegmentValue::CenterOf(i) if *i >= 0 && *i < n => rows[(n - 1 - i) as usize].label.clone(),
        _ => String::new(),
    };
    chart
        .configure_mesh()
        .disable_y_mesh()
        .x_desc(x_label)
        .label_style(s.tick_font())
        .axis_desc_style(s.label_font())
        .x_label_formatter(&|v| {
            if reference.is_some() {
                format!("{}×", short_number(*v))
            } else {
                short_number(*v)
            }
        })
        .y_labels(rows.len())
        .y_label_formatter(&label_of)
        .light_line_style(GRID_LIGHT)
        .bold_line_style(GRID_BOLD)
        .axis_style(BLACK.stroke_width(s.px_u(0.5)))
        .draw()?;
    if let Some(x) = reference {
        chart.draw_series(DashedLineSeries::new(
            [(x, SegmentValue::Exact(0)), (x, SegmentValue::Exact(n))],
            s.px_u(3.0),
            s.px_u(2.0),
            RGBColor(90, 90, 90).stroke_width(s.px_u(0.8)),
        ))?;
    }
    let stroke = s.px_u(0.8);
    let step = s.pt(3.2);
    for (i, r) in rows.iter().enumerate() {
        let y = n - 1 - i as i32;
        let k = r.marks.len() as f64;
        for (j, m) in r.marks.iter().enumerate() {
            let dy = ((j as f64 - (k - 1.0) / 2.0) * step).round() as i32;
            let c = color(m.color);
            let at = |x: f64| EmptyElement::at((x, SegmentValue::CenterOf(y)));
            // Whisker as a pixel-offset path between p10 and p90: drawn as two
            // half-segments anchored at each end so the offset survives the
            // log mapping.
            chart.draw_series(std::iter::once(
                at(m.q[1])
                    + PathElement::new(
                        vec![
                            (0, dy),
                            (-(x_px(&chart, m.q[1]) - x_px(&chart, m.q[0])), dy),
                        ],
                        c.stroke_width(stroke),
                    ),
            ))?;
            chart.draw_series(std::iter::once(
                at(m.q[1])
                    + PathElement::new(
                        vec![(0, dy), (x_px(&chart, m.q[2]) - x_px(&chart, m.q[1]), dy)],
                        c.stroke_width(stroke),
                    ),
            ))?;
            let r_px = s.px(2.4);
            let fill = if m.hollow { WHITE.filled() } else { c.filled() };
            if m.square {
                chart.draw_series(std::iter::once(
                    at(m.q[1]) + Rectangle::new([(-r_px, dy - r_px), (r_px, dy + r_px)], fill),
                ))?;
            } else {
                chart.draw_series(std::iter::once(
                    at(m.q[1]) + Circle::new((0, dy), r_px as u32, fill),
                ))?;
            }
            if m.hollow {
                let outline = c.stroke_width(s.px_u(0.9));
                if m.square {
                    chart.draw_series(std::iter::once(
                        at(m.q[1])
                            + Rectangle::new([(-r_px, dy - r_px), (r_px, dy + r_px)], outline),
                    ))?;
                } else {
                    chart.draw_series(std::iter::once(
                        at(m.q[1]) + Circle::new((0, dy), r_px as u32, outline),
                    ))?;
                }
            }
        }
    }
    Ok(())
}

/// Panels stacked top to bottom, each as tall as its bars need.
fn ratio_panels<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: &Style,
    x_label: &str,
    panels: &[RatioPanel],
) -> DrawResult<DB> {
    let weight = |p: &RatioPanel| {
        36.0 + p
            .rows
            .iter()
            .map(|r| 5.0 + 4.3 * r.bars.len() as f64)
            .sum::<f64>()
    };
    let total: f64 = panels.iter().map(weight).sum();
    let (_, h) = area.dim_in_pixel();
    let mut rest = area.clone();
    for (i, p) in panels.iter().enumerate() {
        let panel = if i + 1 == panels.len() {
            rest.clone()
        } else {
            let (top, bottom) =
                rest.split_vertically((f64::from(h) * weight(p) / total).round() as u32);
            rest = bottom;
            top
        };
        ratio_bars(&panel, s, x_label, p)?;
    }
    Ok(())
}

/// One panel of ratio bars: a bar per ratio from 1 (parity) to the ratio
/// on a log axis — its length is the log of the ratio, so bars left and
/// right of 1 compare fairly — dodged within a row, whiskers its interval
/// (left out when it has zero width).
fn ratio_bars<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: &Style,
    x_label: &str,
    p: &RatioPanel,
) -> DrawResult<DB> {
    let rows = &p.rows;
    let n = rows.len() as i32;
    let all = rows.iter().flat_map(|r| r.bars.iter());
    let positive = |v: &f64| v.is_finite() && *v > 0.0;
    let lo = all
        .clone()
        .flat_map(|b| [b.low, b.ratio])
        .filter(positive)
        .fold(1.0, f64::min);
    let hi = all
        .flat_map(|b| [b.high, b.ratio])
        .filter(positive)
        .fold(1.0, f64::max);
    let (lo, hi) = (lo / 1.4, hi * 1.4);
    let mut chart = log_rows_chart(
        area,
        s,
        Some(&p.title),
        rows.iter().map(|r| r.label.clone()),
        (lo, hi),
        n,
    )?;
    let label_of = |v: &SegmentValue<i32>| match v {
        SegmentValue::CenterOf(i) if *i >= 0 && *i < n => rows[(n - 1 - i) as usize].label.clone(),
        _ => String::new(),
    };
    chart
        .configure_mesh()
        .disable_y_mesh()
        .x_desc(x_label)
        .label_style(s.tick_font())
        .axis_desc_style(s.label_font())
        .x_label_formatter(&|v| format!("{}×", short_number(*v)))
        .y_labels(rows.len())
        .y_label_formatter(&label_of)
        .light_line_style(GRID_LIGHT)
        .bold_line_style(GRID_BOLD)
        .axis_style(BLACK.stroke_width(s.px_u(0.5)))
        .draw()?;
    chart.draw_series(DashedLineSeries::new(
        [(1.0, SegmentValue::Exact(0)), (1.0, SegmentValue::Exact(n))],
        s.px_u(3.0),
        s.px_u(2.0),
        RGBColor(90, 90, 90).stroke_width(s.px_u(0.8)),
    ))?;
    let thick = s.pt(3.0);
    let step = s.pt(3.8);
    let cap = s.px(1.2);
    let whisker = RGBColor(40, 40, 40).stroke_width(s.px_u(0.7));
    let one = x_px(&chart, 1.0);
    for (i, r) in rows.iter().enumerate() {
        let y = n - 1 - i as i32;
        let k = r.bars.len() as f64;
        for (j, b) in r.bars.iter().enumerate() {
            let mid = (j as f64 - (k - 1.0) / 2.0) * step;
            let (top, bottom) = (
                (mid - thick / 2.0).round() as i32,
                (mid + thick / 2.0).round() as i32,
            );
            let dy = mid.round() as i32;
            let at = || EmptyElement::at((1.0, SegmentValue::CenterOf(y)));
            // A ratio at parity still shows as a sliver.
            let end = x_px(&chart, b.ratio) - one;
            let end = if end.abs() < s.px(0.8) {
                if b.ratio < 1.0 { -s.px(0.8) } else { s.px(0.8) }
            } else {
                end
            };
            chart.draw_series(std::iter::once(
                at() + Rectangle::new(
                    [(end.min(0), top), (end.max(0), bottom)],
                    color(b.color).filled(),
                ),
            ))?;
            if b.high > b.low {
                let (l, h) = (x_px(&chart, b.low) - one, x_px(&chart, b.high) - one);
                for path in [
                    vec![(l, dy), (h, dy)],
                    vec![(l, dy - cap), (l, dy + cap)],
                    vec![(h, dy - cap), (h, dy + cap)],
                ] {
                    chart.draw_series(std::iter::once(at() + PathElement::new(path, whisker)))?;
                }
            }
        }
    }
    Ok(())
}

/// Backend x pixel of a data value on the chart's log axis.
fn x_px<DB: DrawingBackend, Y: Ranged<ValueType = SegmentValue<i32>>>(
    chart: &ChartContext<
        '_,
        DB,
        Cartesian2d<plotters::coord::combinators::WithKeyPoints<LogCoord<f64>>, Y>,
    >,
    x: f64,
) -> i32 {
    chart.backend_coord(&(x, SegmentValue::Exact(0))).0
}

fn histogram<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: &Style,
    x_label: &str,
    bins: &[super::figures::Bin],
    median: f64,
    c: usize,
) -> DrawResult<DB> {
    let lo = bins.first().map_or(0.0, |b| b.lo);
    let hi = bins.last().map_or(1.0, |b| b.hi);
    let top = bins.iter().map(|b| b.count).max().unwrap_or(1).max(1) as f64 * 1.1;
    let mut chart = ChartBuilder::on(area)
        .margin(s.px(5.0))
        .margin_right(s.px(9.0))
        .x_label_area_size(s.px(24.0))
        .y_label_area_size(s.px(30.0))
        .build_cartesian_2d(lo..hi, 0f64..top)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_desc(x_label)
        .y_desc("samples")
        .label_style(s.tick_font())
        .axis_desc_style(s.label_font())
        .x_labels(6)
        .y_labels(5)
        .x_label_formatter(&|v| short_number(*v))
        .y_label_formatter(&|v| short_number(*v))
        .light_line_style(GRID_LIGHT)
        .bold_line_style(GRID_BOLD)
        .axis_style(BLACK.stroke_width(s.px_u(0.5)))
        .draw()?;
    chart.draw_series(bins.iter().map(|b| {
        Rectangle::new(
            [(b.lo, 0.0), (b.hi, b.count as f64)],
            color(c).mix(0.75).filled(),
        )
    }))?;
    chart.draw_series(DashedLineSeries::new(
        [(median, 0.0), (median, top)],
        s.px_u(3.0),
        s.px_u(2.0),
        BLACK.stroke_width(s.px_u(0.8)),
    ))?;
    Ok(())
}

fn timeline<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: &Style,
    y_label: &str,
    commits: &[String],
    lines: &[TimelineLine],
) -> DrawResult<DB> {
    let items: Vec<_> = lines
        .iter()
        .map(|l| (l.label.clone(), l.color, Glyph::Line(l.dash)))
        .collect();
    let area = legend_strip(area, s, &items)?;
    let n = commits.len() as i32;
    let ys = lines.iter().flat_map(|l| l.points.iter().map(|p| p.1));
    let (lo, hi) = ys.fold((0f64, 0f64), |(a, b), y| (a.min(y), b.max(y)));
    // At least ±5 % so flat histories do not magnify noise into drama.
    let (lo, hi) = (lo.min(-5.0), hi.max(5.0));
    let pad = 0.12 * (hi - lo);
    let (lo, hi) = (lo - pad, hi + pad);
    let mut chart = ChartBuilder::on(&area)
        .margin(s.px(5.0))
        .margin_right(s.px(9.0))
        .x_label_area_size(s.px(24.0))
        .y_label_area_size(s.px(32.0))
        .build_cartesian_2d(category_range(n).into_segmented(), lo..hi)?;
    // Label at most ~12 commits so labels never collide.
    let every = (commits.len() / 12).max(1) as i32;
    let label_of = |v: &SegmentValue<i32>| match v {
        SegmentValue::CenterOf(i) if *i >= 0 && *i < n && i % every == 0 => {
            commits[*i as usize].clone()
        }
        _ => String::new(),
    };
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_desc("commit (oldest left)")
        .y_desc(y_label)
        .label_style(s.tick_font())
        .axis_desc_style(s.label_font())
        .x_labels(commits.len())
        .x_label_formatter(&label_of)
        .y_label_formatter(&|v| {
            if v.abs() < 0.5 {
                "0%".to_string()
            } else {
                format!("{v:+.0}%")
            }
        })
        .y_labels(6)
        .light_line_style(GRID_LIGHT)
        .bold_line_style(GRID_BOLD)
        .axis_style(BLACK.stroke_width(s.px_u(0.5)))
        .draw()?;
    let mut marked: Vec<usize> = lines
        .iter()
        .flat_map(|l| l.changes.iter().copied())
        .collect();
    marked.sort_unstable();
    marked.dedup();
    for c in marked {
        chart.draw_series(DashedLineSeries::new(
            [
                (SegmentValue::Exact(c as i32), lo),
                (SegmentValue::Exact(c as i32), hi),
            ],
            s.px_u(1.2),
            s.px_u(1.5),
            RGBColor(90, 90, 90).stroke_width(s.px_u(0.8)),
        ))?;
    }
    for l in lines {
        let st = line_style(s, l.color);
        let pts: Vec<(SegmentValue<i32>, f64)> = l
            .points
            .iter()
            .map(|&(i, y)| (SegmentValue::CenterOf(i as i32), y))
            .collect();
        match dash_pattern(s, l.dash) {
            None => chart.draw_series(LineSeries::new(pts.clone(), st))?,
            Some((len, gap)) => {
                chart.draw_series(DashedLineSeries::new(pts.clone(), len, gap, st))?
            }
        };
        chart.draw_series(
            pts.iter()
                .map(|p| Circle::new(p.clone(), s.px_u(1.8), color(l.color).filled())),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{log_ticks, short_number};

    #[test]
    fn log_ticks_are_coarse_over_decades_and_finer_within_one() {
        assert_eq!(
            log_ticks(80.0, 12_000.0),
            [100.0, 200.0, 500.0, 1e3, 2e3, 5e3, 1e4]
        );
        assert_eq!(
            log_ticks(110_000.0, 330_000.0),
            [150_000.0, 200_000.0, 250_000.0, 300_000.0]
        );
        assert!(log_ticks(0.0, 10.0).is_empty());
    }

    #[test]
    fn axis_numbers_are_short() {
        assert_eq!(short_number(850.0), "850");
        assert_eq!(short_number(1500.0), "1.5k");
        assert_eq!(short_number(1450.0), "1.45k");
        assert_eq!(short_number(2000.0), "2k");
        assert_eq!(short_number(12_000.0), "12k");
        assert_eq!(short_number(1_200_000.0), "1.2M");
        assert_eq!(short_number(0.5), "0.5");
        assert_eq!(short_number(0.0), "0");
    }
}
