//! Row charts over a log x axis: box plots, dodged dot plots and ratio
//! bars, one labelled row per series.

use plotters::coord::Shift;
use plotters::coord::combinators::BindKeyPoints;
use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;

use super::{
    DrawResult, GRID_BOLD, GRID_LIGHT, category_range, label_area, log_ticks, short_number,
};
use crate::plot::figures::{BoxRow, DotRow, RatioPanel};
use crate::plot::{Style, color};

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

pub(super) fn boxes<DB: DrawingBackend>(
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
pub(super) fn dots<DB: DrawingBackend>(
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
pub(super) fn ratio_panels<DB: DrawingBackend>(
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
