//! Bar charts: stacked percentage bars (stage and outcome shares) and
//! histograms.

use plotters::coord::Shift;
use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{
    DrawResult, GRID_BOLD, GRID_LIGHT, Glyph, category_range, label_area, legend_strip,
    short_number, text_color_on, text_width,
};
use crate::plot::figures::ShareBar;
use crate::plot::{FONT, Style, color};

/// Horizontal stacked bars of percentages (stage shares, outcome shares),
/// a legend of the categories above, each segment's percentage written
/// inside it when it fits, and each bar's note right of 100 %.
pub(super) fn stacked<DB: DrawingBackend>(
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

pub(super) fn histogram<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: &Style,
    x_label: &str,
    bins: &[crate::plot::figures::Bin],
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
