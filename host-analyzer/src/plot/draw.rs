//! Drawing prepared [`Figure`]s with plotters, generic over the backend so
//! the SVG and the PNG come from one code path. All sizes are in points via
//! [`Style`], never in raw pixels. This module lays a figure out (caption,
//! legend) and holds what every chart shares (ticks, numbers, dashes,
//! label widths); the charts are drawn by [`lines`] (CDFs, timelines),
//! [`bars`] (stacked shares, histograms) and [`rows`] (box, dot and ratio
//! rows over a log axis).

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::figures::{Figure, FigureKind, ShareBar};
use super::{Style, color};

mod bars;
mod lines;
mod rows;

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
        } => lines::cdf(&plot, s, x_label, y_label, lines),
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
            bars::stacked(&plot, s, x_label, &categories, &bars)
        }
        FigureKind::Shares {
            x_label,
            categories,
            bars,
        } => bars::stacked(&plot, s, x_label, categories, bars),
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
            rows::boxes(&plot, s, x_label, rows)
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
            rows::dots(&plot, s, x_label, rows, None)
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
            rows::dots(&plot, s, x_label, rows, Some(1.0))
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
            rows::ratio_panels(&plot, s, x_label, panels)
        }
        FigureKind::Histogram {
            x_label,
            bins,
            median,
            color: c,
        } => bars::histogram(&plot, s, x_label, bins, *median, *c),
        FigureKind::Timeline {
            y_label,
            commits,
            lines,
        } => lines::timeline(&plot, s, y_label, commits, lines),
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
