//! Line charts: cumulative distributions (log x) and timelines across
//! commits.

use plotters::coord::Shift;
use plotters::coord::combinators::BindKeyPoints;
use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;

use super::{
    DrawResult, GRID_BOLD, GRID_LIGHT, Glyph, category_range, dash_pattern, legend_strip,
    line_style, log_ticks, short_number,
};
use crate::plot::figures::{Line, TimelineLine};
use crate::plot::{Style, color};

pub(super) fn cdf<DB: DrawingBackend>(
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

pub(super) fn timeline<DB: DrawingBackend>(
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
