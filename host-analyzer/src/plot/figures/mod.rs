//! What each figure shows, prepared from a run or a history as plain data
//! (quantiles, bins, bars) so drawing is mechanical and the selection logic
//! is testable without pixels.
//!
//! Grouping is data-driven: series are grouped by (experiment, config) as
//! found. The only name conventions used are the prefixes that classify a
//! series for the floor figure and the colour legend: `raw.` experiments are
//! raw-exception floors, configs starting with `explicit` are explicit-check
//! (software) traps, everything else that traps is signals-based.
//!
//! One module per figure family, the shared pieces (figure types, CDF
//! points, quantiles, captions, file stems) here:
//!
//! - [`run`]: the figures of one run (CDFs, stage shares, distributions,
//!   the trap-vs-floor dot plot, the compute ratios, histograms);
//! - [`campaign`]: fault-injection outcomes and recovery latency;
//! - [`history`]: timelines across commits;
//! - [`peers`]: ring 0 vs Linux.

use crate::ingest::{Run, Series};
use crate::mode::{Unit, UnitError, format_hz};
use crate::stats::Quantiles;

use super::{ONE_COLUMN_IN, TWO_COLUMNS_IN};

pub mod campaign;
pub mod history;
pub mod peers;
pub mod run;
#[cfg(test)]
mod tests;

pub use campaign::{OUTCOME_COLORS, for_campaign};
pub use history::for_history;
pub use peers::for_peers;
pub use run::for_run;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Width {
    OneColumn,
    TwoColumns,
}

#[derive(Debug, Clone)]
pub struct Figure {
    /// File stem.
    pub name: String,
    pub width: Width,
    pub height_in: f64,
    /// The caption line drawn under the plot: what, mode, provenance.
    pub caption: String,
    pub kind: FigureKind,
}

impl Figure {
    pub fn size_in(&self) -> (f64, f64) {
        let w = match self.width {
            Width::OneColumn => ONE_COLUMN_IN,
            Width::TwoColumns => TWO_COLUMNS_IN,
        };
        (w, self.height_in)
    }
}

/// How a series relates to the question "what does a trap cost over the
/// hardware floor?".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Trap delivered through a CPU exception (signals-based).
    Signals,
    /// Trap detected by an explicit software check.
    Explicit,
    /// A raw CPU exception resumed by `iretq`: the physical floor.
    RawFloor,
    /// Anything else (calls, other baselines).
    Other,
}

impl Class {
    pub fn of(experiment: &str, config: &str) -> Class {
        if experiment.starts_with("raw.") {
            Class::RawFloor
        } else if config.starts_with("explicit") {
            Class::Explicit
        } else if experiment.starts_with("trap.") {
            Class::Signals
        } else {
            Class::Other
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Class::Signals => "trap via CPU exception",
            Class::Explicit => "trap via explicit check",
            Class::RawFloor => "raw exception floor",
            Class::Other => "other",
        }
    }

    /// Palette index, fixed per class across figures.
    pub fn color(self) -> usize {
        match self {
            Class::Signals => 0,
            Class::Explicit => 1,
            Class::RawFloor => 2,
            Class::Other => 7,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Line {
    pub label: String,
    pub color: usize,
    /// 0 solid, 1 dashed, 2 dotted: a second cue besides colour, for
    /// grey-scale print.
    pub dash: usize,
    pub points: Vec<(f64, f64)>,
}

/// One bar of a [`FigureKind::Shares`] figure.
#[derive(Debug, Clone)]
pub struct ShareBar {
    pub label: String,
    /// Percent per category, in category order, summing to 100 (or 0 for
    /// an empty bar).
    pub shares: Vec<f64>,
    /// Printed right of the bar (e.g. `n = 1667`).
    pub note: String,
}

#[derive(Debug, Clone)]
pub struct StageBar {
    pub label: String,
    /// Share of each stage's median in the sum of stage medians, percent,
    /// in stage order. Shares, not absolute times: one slow trap kind (stack
    /// overflow) would otherwise flatten every other bar.
    pub shares: Vec<f64>,
    /// Sum of the stage medians, in the figure's unit, printed at the bar.
    pub total: f64,
}

/// One marker of a dot-plot row.
#[derive(Debug, Clone)]
pub struct Mark {
    pub color: usize,
    /// Drawn as a square (the raw floor) rather than a dot.
    pub square: bool,
    /// Drawn as an outline only (a figure to read with caution).
    pub hollow: bool,
    /// p10, p50, p90 in the figure's unit.
    pub q: [f64; 3],
}

#[derive(Debug, Clone)]
pub struct DotRow {
    pub label: String,
    pub marks: Vec<Mark>,
}

/// A legend entry: label, palette index, and whether the glyph is a square.
pub type LegendEntry = (String, usize, bool);

/// A marker legend entry: label, palette index, square (else round),
/// hollow (else filled).
pub type MarkerEntry = (String, usize, bool, bool);

#[derive(Debug, Clone)]
pub struct BoxRow {
    pub label: String,
    pub color: usize,
    /// p1, p25, p50, p75, p99.
    pub q: [f64; 5],
}

#[derive(Debug, Clone)]
pub struct Bin {
    pub lo: f64,
    pub hi: f64,
    pub count: u64,
}

/// One bar of a [`FigureKind::RatioBars`] row: a ratio drawn as a bar from
/// 1 (parity) on a log axis, whiskers its interval.
#[derive(Debug, Clone)]
pub struct RatioBar {
    pub color: usize,
    pub ratio: f64,
    pub low: f64,
    pub high: f64,
}

#[derive(Debug, Clone)]
pub struct RatioBarRow {
    pub label: String,
    pub bars: Vec<RatioBar>,
}

/// One panel of a [`FigureKind::RatioBars`] figure (one measurement mode).
#[derive(Debug, Clone)]
pub struct RatioPanel {
    pub title: String,
    pub rows: Vec<RatioBarRow>,
}

#[derive(Debug, Clone)]
pub struct TimelineLine {
    pub label: String,
    pub color: usize,
    pub dash: usize,
    /// (commit index, p50 change vs the oldest commit in percent).
    pub points: Vec<(usize, f64)>,
    /// Commit indices where a level shift starts.
    pub changes: Vec<usize>,
}

#[derive(Debug, Clone)]
pub enum FigureKind {
    /// Empirical CDFs, log-x.
    Cdf {
        x_label: String,
        y_label: String,
        lines: Vec<Line>,
    },
    /// Horizontal stacked bars of shares (percent) of categories with fixed
    /// colours, a note right of each bar (fault-injection outcomes).
    Shares {
        x_label: String,
        /// Category name and palette index, in stacking order.
        categories: Vec<(String, usize)>,
        bars: Vec<ShareBar>,
    },
    /// Horizontal stacked bars of stage medians.
    Stages {
        x_label: String,
        stages: Vec<String>,
        bars: Vec<StageBar>,
    },
    /// Box plots (p25–p75 box, median bar, p1–p99 whiskers), log-x.
    Boxes {
        x_label: String,
        rows: Vec<BoxRow>,
        legend: Vec<LegendEntry>,
    },
    /// Histogram of one series, linear x, clipped to p0.1–p99.9.
    Histogram {
        x_label: String,
        bins: Vec<Bin>,
        median: f64,
        color: usize,
    },
    /// One row per trap kind: a dot (p50, whiskers p10–p90) per
    /// configuration, dodged vertically, and a square for the raw-exception
    /// floor of the vector it raised; log-x.
    Floor {
        x_label: String,
        rows: Vec<DotRow>,
        legend: Vec<LegendEntry>,
    },
    /// Ratios per row (marker the point, whiskers its interval) on a log
    /// axis with a reference line at 1 (parity).
    Ratios {
        x_label: String,
        rows: Vec<DotRow>,
        legend: Vec<MarkerEntry>,
    },
    /// Ratios as bars from 1 (parity) on a log axis, dodged per row,
    /// whiskers their interval; one panel per measurement mode, stacked.
    RatioBars {
        x_label: String,
        panels: Vec<RatioPanel>,
        legend: Vec<LegendEntry>,
    },
    /// p50 per commit.
    Timeline {
        y_label: String,
        commits: Vec<String>,
        lines: Vec<TimelineLine>,
    },
}

/// Points of an empirical CDF: an even grid of ranks plus a dense tail, so a
/// million samples become about a thousand points without losing p99.9.
fn cdf_points(sorted: &[u64], k: f64) -> Vec<(f64, f64)> {
    let n = sorted.len();
    if n == 0 {
        return Vec::new();
    }
    const GRID: usize = 600;
    let mut ranks: Vec<usize> = (0..=GRID).map(|i| i * (n - 1) / GRID).collect();
    // Tail: 1 − 10^−x for x from 2 to 6 in steps of 0.05.
    for i in 0..=80 {
        let q = 1.0 - 10f64.powf(-(2.0 + i as f64 * 0.05));
        ranks.push(((q * n as f64) as usize).min(n - 1));
    }
    ranks.sort_unstable();
    ranks.dedup();
    ranks
        .iter()
        .map(|&r| {
            (
                (sorted[r] as f64 * k).max(f64::MIN_POSITIVE),
                (r + 1) as f64 / n as f64,
            )
        })
        .collect()
}

/// Points of an exact empirical CDF drawn as steps (a vertical rise at each
/// value), for the small samples of a campaign where interpolating between
/// a handful of points would invent data; large samples fall back to
/// [`cdf_points`].
fn step_cdf_points(sorted: &[u64], k: f64) -> Vec<(f64, f64)> {
    const EXACT_UP_TO: usize = 5000;
    let n = sorted.len();
    if n > EXACT_UP_TO {
        return cdf_points(sorted, k);
    }
    let mut pts = Vec::with_capacity(2 * n);
    for (i, &v) in sorted.iter().enumerate() {
        let x = (v as f64 * k).max(f64::MIN_POSITIVE);
        // Equal values rise once.
        if sorted.get(i + 1) == Some(&v) {
            continue;
        }
        let below = pts.last().map_or(0.0, |&(_, q)| q);
        pts.push((x, below));
        pts.push((x, (i + 1) as f64 / n as f64));
    }
    pts
}

fn sorted(values: &[u64]) -> Vec<u64> {
    let mut v = values.to_vec();
    v.sort_unstable();
    v
}

fn quantiles(values: &[u64], qs: &[f64], k: f64) -> Vec<f64> {
    // The tables' definition (see [`Quantiles`]): a figure's p50 is its
    // table's p50.
    let Some(quantiles) = Quantiles::of(values) else {
        return vec![0.0; qs.len()];
    };
    qs.iter().map(|&q| quantiles.at(q) as f64 * k).collect()
}

/// Caption shared by a run's figures.
fn run_caption(run: &Run) -> String {
    let mut parts = vec![format!("mode: {}", run.mode().caption())];
    if let Some(h) = &run.header {
        parts.push(format!(
            "commit {}{}",
            h.kernel.commit,
            if h.kernel.dirty { "-dirty" } else { "" }
        ));
        parts.push(format!("wasmtime {}", h.wasmtime));
        if h.tsc.hz > 0 {
            parts.push(format!("TSC {}", format_hz(h.tsc.hz)));
        }
    }
    parts.join(" · ")
}

fn unit_name(unit: Unit) -> &'static str {
    unit.as_str()
}

/// File-name-safe stem.
pub fn stem(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect()
}
