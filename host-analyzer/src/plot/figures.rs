//! What each figure shows, prepared from a run or a history as plain data
//! (quantiles, bins, bars) so drawing is mechanical and the selection logic
//! is testable without pixels.
//!
//! Grouping is data-driven: series are grouped by (experiment, config) as
//! found. The only name conventions used are the prefixes that classify a
//! series for the floor figure and the colour legend: `raw.` experiments are
//! raw-exception floors, configs starting with `explicit` are explicit-check
//! (software) traps, everything else that traps is signals-based.

use crate::history::History;
use crate::ingest::{Run, Series};
use crate::mode::{Unit, UnitError, format_hz};
use crate::stats::Quantiles;

use super::{ONE_COLUMN_IN, TWO_COLUMNS_IN};

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

/// Every figure for one run.
pub fn for_run(run: &Run, unit: Unit) -> Result<Vec<Figure>, UnitError> {
    let k = unit.scale(run.tsc_hz())?;
    let u = unit_name(unit);
    let caption = run_caption(run);
    let series: Vec<&Series> = run.series.iter().filter(|s| !s.total.is_empty()).collect();
    // Colour per configuration, shared by all figures: configurations of
    // wasm experiments first (in first-seen order), those only raw floors use
    // (e.g. `ring0`) after, so trap configurations keep the same colours
    // whether or not a run measured raw exceptions first.
    let mut configs: Vec<&str> = Vec::new();
    for raw_pass in [false, true] {
        for s in &series {
            if s.experiment.starts_with("raw.") == raw_pass && !configs.contains(&s.config.as_str())
            {
                configs.push(&s.config);
            }
        }
    }
    let config_color = |c: &str| configs.iter().position(|x| *x == c).unwrap_or(0);
    let sorted_by: Vec<Vec<u64>> = series.iter().map(|s| sorted(&s.total)).collect();
    let mut figs = Vec::new();

    // CDF per trap kind (experiment); the raw floors share one figure.
    let mut experiments: Vec<&str> = Vec::new();
    for s in &series {
        let e = if s.experiment.starts_with("raw.") {
            "raw"
        } else {
            s.experiment.as_str()
        };
        if !experiments.contains(&e) {
            experiments.push(e);
        }
    }
    for e in experiments {
        let members: Vec<usize> = (0..series.len())
            .filter(|&i| {
                if e == "raw" {
                    series[i].experiment.starts_with("raw.")
                } else {
                    series[i].experiment == e
                }
            })
            .collect();
        let lines = members
            .iter()
            .enumerate()
            .map(|(j, &i)| Line {
                label: if e == "raw" {
                    series[i].experiment.clone()
                } else {
                    series[i].config.clone()
                },
                color: if e == "raw" {
                    j
                } else {
                    config_color(&series[i].config)
                },
                dash: j % 3,
                points: cdf_points(&sorted_by[i], k),
            })
            .collect();
        let what = if e == "raw" {
            format!("raw CPU exceptions ({})", floor_what(run))
        } else {
            e.to_string()
        };
        figs.push(Figure {
            name: format!("cdf-{}", stem(e)),
            width: Width::OneColumn,
            height_in: 2.5,
            caption: format!("CDF of round-trip latency, {what}; {caption}"),
            kind: FigureKind::Cdf {
                x_label: format!("round trip ({u}, log scale)"),
                y_label: "fraction of samples ≤ x".into(),
                lines,
            },
        });
    }

    // Stage breakdown, one figure per configuration.
    let staged: Vec<&Series> = series
        .iter()
        .copied()
        .filter(|s| !s.stages.is_empty())
        .collect();
    let mut stages: Vec<String> = Vec::new();
    for s in &staged {
        for st in &s.stages {
            if !stages.contains(&st.name) {
                stages.push(st.name.clone());
            }
        }
    }
    let overhead = run.header.as_ref().map_or(String::new(), |h| {
        format!(
            "; each stage includes a {}-cycle stamp overhead",
            h.stamp_overhead_cycles
        )
    });
    for config in &configs {
        let bars: Vec<StageBar> = staged
            .iter()
            .filter(|s| s.config == *config)
            .map(|s| {
                let medians: Vec<f64> = stages
                    .iter()
                    .map(|name| {
                        s.stages
                            .iter()
                            .find(|st| &st.name == name)
                            .map_or(0.0, |st| quantiles(&st.values, &[0.5], 1.0)[0])
                    })
                    .collect();
                let sum: f64 = medians.iter().sum();
                StageBar {
                    label: s.experiment.clone(),
                    shares: medians
                        .iter()
                        .map(|m| if sum > 0.0 { 100.0 * m / sum } else { 0.0 })
                        .collect(),
                    total: sum * k,
                }
            })
            .collect();
        if bars.is_empty() {
            continue;
        }
        figs.push(Figure {
            name: format!("stages-{}", stem(config)),
            width: Width::TwoColumns,
            height_in: 1.2 + 0.26 * bars.len() as f64,
            caption: format!(
                "Where a trap's time goes, {config}: each stage's median as a share of their sum (sum in {u} at the bar){overhead}; {caption}"
            ),
            kind: FigureKind::Stages { x_label: "share of the round trip (%)".into(), stages: stages.clone(), bars },
        });
    }

    // Distribution per configuration: one figure each, a row per experiment,
    // coloured by class.
    for config in &configs {
        let rows: Vec<BoxRow> = series
            .iter()
            .zip(&sorted_by)
            .filter(|(s, _)| s.config == *config)
            .map(|(s, v)| BoxRow {
                label: s.experiment.clone(),
                color: Class::of(&s.experiment, &s.config).color(),
                q: quantiles(v, &[0.01, 0.25, 0.5, 0.75, 0.99], k)
                    .try_into()
                    .expect("five quantiles"),
            })
            .collect();
        let legend = class_legend(
            series
                .iter()
                .filter(|s| s.config == *config)
                .map(|s| Class::of(&s.experiment, &s.config)),
        );
        figs.push(Figure {
            name: format!("distribution-{}", stem(config)),
            width: Width::TwoColumns,
            height_in: 1.0 + 0.22 * rows.len() as f64,
            caption: format!(
                "Distribution per experiment, {config}: box p25–p75, bar median, whiskers p1–p99; {caption}"
            ),
            kind: FigureKind::Boxes { x_label: format!("round trip ({u}, log scale)"), rows, legend },
        });
    }

    // Trap vs explicit check vs raw floor.
    if let Some(f) = floor_figure(
        &configs,
        &series,
        &sorted_by,
        k,
        u,
        &caption,
        floor_what(run),
    ) {
        figs.push(f);
    }

    if let Some(f) = ratio_figure(run, &caption) {
        figs.push(f);
    }

    let view = crate::campaign::analyze(run);
    if !view.is_empty() {
        figs.extend(for_campaign(run, &view, unit)?);
    }

    // Histograms.
    for (s, v) in series.iter().zip(&sorted_by) {
        let [lo, hi, median] = quantiles(v, &[0.001, 0.999, 0.5], k)
            .try_into()
            .expect("three quantiles");
        let bins = histogram(v, k, lo, hi, 40);
        let outside = v
            .iter()
            .filter(|&&x| (x as f64 * k) < lo || (x as f64 * k) > hi)
            .count();
        figs.push(Figure {
            name: format!("hist-{}-{}", stem(&s.experiment), stem(&s.config)),
            width: Width::OneColumn,
            height_in: 2.3,
            caption: format!(
                "{} · {}, n = {} ({outside} outside p0.1–p99.9 not shown), dashed: median; {caption}",
                s.experiment,
                s.config,
                v.len()
            ),
            kind: FigureKind::Histogram {
                x_label: format!("round trip ({u})"),
                bins,
                median,
                color: config_color(&s.config),
            },
        });
    }
    Ok(figs)
}

fn histogram(sorted: &[u64], k: f64, lo: f64, hi: f64, n: usize) -> Vec<Bin> {
    let (lo, hi) = if hi > lo {
        (lo, hi)
    } else {
        (lo - 0.5, lo + 0.5)
    };
    let w = (hi - lo) / n as f64;
    let mut counts = vec![0u64; n];
    for &x in sorted {
        let x = x as f64 * k;
        if x < lo || x > hi {
            continue;
        }
        counts[(((x - lo) / w) as usize).min(n - 1)] += 1;
    }
    counts
        .into_iter()
        .enumerate()
        .map(|(i, count)| Bin {
            lo: lo + i as f64 * w,
            hi: lo + (i + 1) as f64 * w,
            count,
        })
        .collect()
}

/// CPU vector mnemonics for labels (architectural constants).
fn vector_name(v: u8) -> String {
    match v {
        0 => "#DE".into(),
        3 => "#BP".into(),
        6 => "#UD".into(),
        13 => "#GP".into(),
        14 => "#PF".into(),
        other => format!("vector {other}"),
    }
}

/// What raised a series' trap or floor, from its result record (observed,
/// else expected): the CPU vector on the lab kernel (`#PF`), the signal on
/// a Linux peer (`SIGSEGV`).
fn raised_by(s: &Series) -> Option<String> {
    let r = s.result.as_ref()?;
    let name = |x: &traplab_wire::TrapSignature| {
        x.vector
            .map(vector_name)
            .or_else(|| x.signal.map(|g| traplab_wire::signal::name(g).to_string()))
    };
    r.observed
        .as_ref()
        .and_then(name)
        .or_else(|| r.expected.as_ref().and_then(name))
}

/// How a run's floor is raised and resumed, for labels.
fn floor_what(run: &Run) -> &'static str {
    match run.platform() {
        Some(p) if p != traplab_wire::Platform::LabKernel.name() => {
            "ring 3 signal, resumed by the handler"
        }
        _ => "ring 0, iretq",
    }
}

fn class_legend(classes: impl Iterator<Item = Class>) -> Vec<LegendEntry> {
    let present: Vec<Class> = classes.collect();
    [
        Class::Signals,
        Class::Explicit,
        Class::RawFloor,
        Class::Other,
    ]
    .into_iter()
    .filter(|c| present.contains(c))
    .map(|c| (c.label().to_string(), c.color(), false))
    .collect()
}

/// One row per trap kind with a marker per configuration and the raw floor
/// of the CPU vector (or, on a Linux peer, the signal) it raised (matched
/// through the result records, not names); raw experiments not used as a
/// floor get rows of their own.
fn floor_figure(
    configs: &[&str],
    series: &[&Series],
    sorted_by: &[Vec<u64>],
    k: f64,
    u: &str,
    caption: &str,
    floor_what: &str,
) -> Option<Figure> {
    let is_raw = |s: &Series| Class::of(&s.experiment, &s.config) == Class::RawFloor;
    if !(series.iter().any(|s| is_raw(s)) && series.iter().any(|s| !is_raw(s))) {
        return None;
    }
    let q = |i: usize| {
        let v = &sorted_by[i];
        let [p10, p50, p90] = quantiles(v, &[0.10, 0.50, 0.90], k)
            .try_into()
            .expect("three quantiles");
        [p10, p50, p90]
    };
    // Palette indices: configurations first, the floor after them.
    let floor_color = configs.len();
    let mut rows = Vec::new();
    let mut used_floors = Vec::new();
    let mut kinds: Vec<&str> = Vec::new();
    for s in series {
        if !is_raw(s) && !kinds.contains(&s.experiment.as_str()) {
            kinds.push(&s.experiment);
        }
    }
    for kind in kinds {
        let members: Vec<usize> = (0..series.len())
            .filter(|&i| series[i].experiment == kind)
            .collect();
        let mut marks: Vec<Mark> = members
            .iter()
            .map(|&i| Mark {
                color: configs
                    .iter()
                    .position(|c| *c == series[i].config)
                    .unwrap_or(0),
                square: false,
                hollow: false,
                q: q(i),
            })
            .collect();
        let mut label = kind.to_string();
        let raised = members.iter().find_map(|&i| raised_by(series[i]));
        let floor = raised.as_ref().and_then(|v| {
            (0..series.len())
                .find(|&i| is_raw(series[i]) && raised_by(series[i]).as_ref() == Some(v))
        });
        if let (Some(v), Some(f)) = (raised, floor) {
            marks.push(Mark {
                color: floor_color,
                square: true,
                hollow: false,
                q: q(f),
            });
            label = format!("{kind} ({v})");
            used_floors.push(f);
        }
        rows.push(DotRow { label, marks });
    }
    for (i, s) in series.iter().enumerate() {
        if is_raw(s) && !used_floors.contains(&i) {
            rows.push(DotRow {
                label: s.experiment.clone(),
                marks: vec![Mark {
                    color: floor_color,
                    square: true,
                    hollow: false,
                    q: q(i),
                }],
            });
        }
    }
    let mut legend: Vec<LegendEntry> = configs
        .iter()
        .enumerate()
        .filter(|(_, c)| series.iter().any(|s| !is_raw(s) && s.config == **c))
        .map(|(i, c)| (c.to_string(), i, false))
        .collect();
    legend.push((
        format!("raw exception floor ({floor_what})"),
        floor_color,
        true,
    ));
    Some(Figure {
        name: "floor".into(),
        width: Width::TwoColumns,
        height_in: 1.2 + 0.22 * rows.len() as f64,
        caption: format!(
            "Trap via CPU exception vs explicit check vs the raw-exception floor of the same vector: marker p50, whiskers p10–p90; {caption}"
        ),
        kind: FigureKind::Floor {
            x_label: format!("round trip ({u}, log scale)"),
            rows,
            legend,
        },
    })
}

/// wasm/native and explicit/signals per compute workload, plus their
/// geometric means; `None` when the run has no compute workloads.
fn ratio_figure(run: &Run, caption: &str) -> Option<Figure> {
    let view = crate::jit::analyze(run);
    let mark = |r: Option<crate::jit::Ratio>, color: usize, square: bool, hollow: bool| {
        r.map(|r| Mark {
            color,
            square,
            hollow,
            q: [r.low, r.value, r.high],
        })
    };
    let point = |v: f64| crate::jit::Ratio {
        value: v,
        low: v,
        high: v,
    };
    let mut rows: Vec<DotRow> = view
        .compute
        .iter()
        .filter_map(|w| {
            let soft = w.soft_float == Some(true);
            let marks: Vec<Mark> = [
                mark(w.wasm_native, 0, false, soft),
                mark(w.explicit_signals, 1, true, false),
            ]
            .into_iter()
            .flatten()
            .collect();
            (!marks.is_empty()).then(|| DotRow {
                label: if soft {
                    format!("{} (soft-float twin)", w.name)
                } else {
                    w.name.clone()
                },
                marks,
            })
        })
        .collect();
    if rows.is_empty() {
        return None;
    }
    let g = &view.geomean;
    let geo = |v: &Option<crate::jit::GeoValue>| v.as_ref().map(|v| point(v.value));
    for (label, marks) in [
        (
            "geomean, integer",
            vec![mark(geo(&g.wasm_native_integer), 0, false, false)],
        ),
        (
            "geomean, all",
            vec![
                mark(geo(&g.wasm_native_all), 0, false, false),
                mark(geo(&g.explicit_signals_all), 1, true, false),
            ],
        ),
    ] {
        let marks: Vec<Mark> = marks.into_iter().flatten().collect();
        if !marks.is_empty() {
            rows.push(DotRow {
                label: label.into(),
                marks,
            });
        }
    }
    let mut legend: Vec<MarkerEntry> = vec![("wasm / native".into(), 0, false, false)];
    if view.compute.iter().any(|w| w.soft_float == Some(true)) {
        legend.push(("wasm / native, soft-float twin".into(), 0, false, true));
    }
    legend.push(("explicit / signals".into(), 1, true, false));
    let interval = if run.mode().is_deterministic() {
        "whiskers: none, a deterministic mode has no sampling noise"
    } else {
        "whiskers: 99 % bootstrap interval of the ratio of medians"
    };
    Some(Figure {
        name: "jit-ratios".into(),
        width: Width::OneColumn,
        height_in: 1.3 + 0.24 * rows.len() as f64,
        caption: format!(
            "Compute workloads: wasm ({}) over the native twin, and explicit checks ({}) over signals; marker: ratio of p50s, {interval}; hollow: the native twin uses soft floats (not a code-quality figure; left out of the integer geomean); {caption}",
            crate::jit::SIGNALS,
            crate::jit::EXPLICIT,
        ),
        kind: FigureKind::Ratios {
            x_label: "ratio of p50s (log scale, 1 = parity)".into(),
            rows,
            legend,
        },
    })
}

/// Palette index of each outcome, fixed across figures, in
/// [`traplab_wire::Outcome::ALL`] order: the recoveries in blue and green,
/// the bad ends in orange, vermillion and black (a kernel crash must stand
/// out), the harmless `masked` in pale sky blue.
pub const OUTCOME_COLORS: [usize; 6] = [0, 2, 1, 3, 4, 7];

/// Palette index of an injector, fixed across figures.
fn injector_color(injector: &str) -> usize {
    crate::campaign::INJECTORS
        .iter()
        .position(|&k| k == injector)
        .unwrap_or(crate::campaign::INJECTORS.len())
}

fn outcome_bar(label: String, t: &crate::campaign::Tally) -> ShareBar {
    let n = t.injected.max(1) as f64;
    ShareBar {
        label,
        shares: t.outcomes.iter().map(|&c| 100.0 * c as f64 / n).collect(),
        note: format!("n = {}", t.injected),
    }
}

/// The figures of the fault-injection campaigns of a run: per campaign an
/// outcome bar per injector (one column), per injector × target (two
/// columns) and the recovery-latency CDF per injector (one column).
pub fn for_campaign(
    run: &Run,
    view: &crate::campaign::CampaignView,
    unit: Unit,
) -> Result<Vec<Figure>, UnitError> {
    use traplab_wire::Outcome;
    let k = unit.scale(run.tsc_hz())?;
    let u = unit_name(unit);
    let caption = run_caption(run);
    let categories: Vec<(String, usize)> = Outcome::ALL
        .iter()
        .zip(OUTCOME_COLORS)
        .map(|(o, c)| (o.name().to_string(), c))
        .collect();
    let mut figs = Vec::new();
    for c in &view.campaigns {
        let b = &c.breakdown;
        let name = stem(&c.name);
        let bars: Vec<ShareBar> = b
            .injectors
            .iter()
            .map(|v| outcome_bar(v.injector.clone(), &v.total))
            .collect();
        if bars.is_empty() {
            continue;
        }
        let crashes = b.total.count(Outcome::KernelCrash);
        let crash_note = match crashes {
            0 => "no kernel crash".to_string(),
            1 => "1 kernel crash".to_string(),
            n => format!("{n} kernel crashes"),
        };
        figs.push(Figure {
            name: format!("campaign-{name}-outcomes"),
            width: Width::OneColumn,
            height_in: 1.45 + 0.24 * bars.len() as f64,
            caption: format!(
                "Outcome of each fault injection per injector, campaign {} ({} injections, {crash_note}), % of the injector's injections; {caption}",
                c.name, b.total.injected
            ),
            kind: FigureKind::Shares {
                x_label: "injections (%)".into(),
                categories: categories.clone(),
                bars,
            },
        });
        let by_target: Vec<ShareBar> = b
            .injectors
            .iter()
            .flat_map(|v| {
                v.targets
                    .iter()
                    .map(|(t, tally)| outcome_bar(format!("{} · {t}", v.injector), tally))
            })
            .collect();
        figs.push(Figure {
            name: format!("campaign-{name}-outcomes-by-target"),
            width: Width::TwoColumns,
            height_in: 1.2 + 0.2 * by_target.len() as f64,
            caption: format!(
                "Outcome of each fault injection per injector and target, campaign {} ({} injections, {crash_note}), % of the pair's injections; {caption}",
                c.name, b.total.injected
            ),
            kind: FigureKind::Shares {
                x_label: "injections (%)".into(),
                categories: categories.clone(),
                bars: by_target,
            },
        });
        let lines: Vec<Line> = b
            .injectors
            .iter()
            .filter(|v| !v.recovery.is_empty())
            .enumerate()
            .map(|(j, v)| Line {
                label: format!("{} (n = {})", v.injector, v.recovery.len()),
                color: injector_color(&v.injector),
                dash: j % 3,
                points: step_cdf_points(&sorted(&v.recovery), k),
            })
            .collect();
        if !lines.is_empty() {
            figs.push(Figure {
                name: format!("campaign-{name}-recovery"),
                width: Width::OneColumn,
                height_in: 2.6,
                caption: format!(
                    "CDF of recovery latency per injector (fault or watchdog → fresh instance ready), campaign {}; {caption}",
                    c.name
                ),
                kind: FigureKind::Cdf {
                    x_label: format!("recovery time ({u}, log scale)"),
                    y_label: "fraction of injections ≤ x".into(),
                    lines,
                },
            });
        }
    }
    Ok(figs)
}

/// Timelines across commits: one figure per (mode, experiment), a line per
/// configuration, change points marked.
pub fn for_history(h: &History) -> Vec<Figure> {
    let mut figs = Vec::new();
    let mut groups: Vec<(String, String)> = Vec::new();
    for t in &h.tracks {
        let g = (t.mode.as_str().to_string(), t.experiment.clone());
        if !groups.contains(&g) {
            groups.push(g);
        }
    }
    for (mode, experiment) in groups {
        let tracks: Vec<_> = h
            .tracks
            .iter()
            .filter(|t| t.mode.as_str() == mode && t.experiment == experiment)
            .collect();
        let mut commits: Vec<String> = Vec::new();
        for t in &tracks {
            for p in &t.points {
                if !commits.contains(&p.commit) {
                    commits.push(p.commit.clone());
                }
            }
        }
        // Points of different configs can skip commits; order by the history's
        // own order (first seen in date order).
        let lines = tracks
            .iter()
            .enumerate()
            .map(|(j, t)| TimelineLine {
                label: t.config.clone(),
                color: j,
                dash: j % 3,
                // Relative to the oldest commit, so configurations that differ
                // by 60× share one axis and a 10 % step looks like one.
                points: t
                    .points
                    .iter()
                    .map(|p| {
                        let first = t
                            .points
                            .first()
                            .map_or(p.p50, |f| f.p50)
                            .max(f64::MIN_POSITIVE);
                        (
                            commits.iter().position(|c| *c == p.commit).unwrap_or(0),
                            100.0 * (p.p50 / first - 1.0),
                        )
                    })
                    .collect(),
                changes: t
                    .changes
                    .iter()
                    .map(|&i| {
                        commits
                            .iter()
                            .position(|c| *c == t.points[i].commit)
                            .unwrap_or(0)
                    })
                    .collect(),
            })
            .collect();
        let mode_caption = tracks[0].mode.caption();
        figs.push(Figure {
            name: format!("timeline-{}-{}", stem(&mode), stem(&experiment)),
            width: Width::TwoColumns,
            height_in: 2.6,
            caption: format!(
                "{experiment}: p50 per commit relative to the oldest (absolute values: traplab history), dotted lines mark change points; mode: {mode_caption}"
            ),
            kind: FigureKind::Timeline { y_label: "p50 change vs oldest commit".into(), commits, lines },
        });
    }
    figs
}

/// Palette index of the floor rows of the ring 0 vs Linux figure, after the
/// configurations.
const PEER_FLOOR_COLOR: usize = crate::peers::CONFIGS.len();

/// Palette index of the `i`-th configuration of the ring 0 vs Linux
/// figure: the floor's index is skipped.
fn peer_config_color(i: usize) -> usize {
    if i < PEER_FLOOR_COLOR { i } else { i + 1 }
}

/// The ring 0 vs Linux figure: per mode a panel with a row per trap kind,
/// `call.null` and floor, a bar per configuration for lab-kernel p50 /
/// linux-guest p50; `None` when no row of any panel has a ratio.
pub fn for_peers(view: &crate::peers::PeersView) -> Option<Figure> {
    use crate::peers::{CONFIGS, Group};
    let mut configs: Vec<String> = CONFIGS.map(String::from).to_vec();
    let mut panels = Vec::new();
    let mut floors = false;
    let mut deterministic = Vec::new();
    for p in &view.panels {
        let mut rows: Vec<RatioBarRow> = Vec::new();
        for (r, q) in p.ratios() {
            let color = match (&r.config, r.group) {
                (_, Group::Floor) | (None, _) => {
                    floors = true;
                    PEER_FLOOR_COLOR
                }
                (Some(c), _) => {
                    let i = configs.iter().position(|k| k == c).unwrap_or_else(|| {
                        configs.push(c.clone());
                        configs.len() - 1
                    });
                    peer_config_color(i)
                }
            };
            let bar = RatioBar {
                color,
                ratio: q.value,
                low: q.low,
                high: q.high,
            };
            match rows.iter_mut().find(|x| x.label == r.experiment) {
                Some(row) => row.bars.push(bar),
                None => rows.push(RatioBarRow {
                    label: r.experiment.clone(),
                    bars: vec![bar],
                }),
            }
        }
        if rows.is_empty() {
            continue;
        }
        if p.interval.method == crate::stats::IntervalMethod::Exact {
            deterministic.push(p.mode.clone());
        }
        let os = p
            .linux_guest
            .as_ref()
            .and_then(|g| g.os.clone())
            .map(|os| format!(", {os}"))
            .unwrap_or_default();
        panels.push(RatioPanel {
            title: format!("mode {}: {}{os}", p.mode, p.mode_caption),
            rows,
        });
    }
    if panels.is_empty() {
        return None;
    }
    let used = |i: usize| {
        panels
            .iter()
            .flat_map(|p| &p.rows)
            .flat_map(|r| &r.bars)
            .any(|b| b.color == i)
    };
    let mut legend: Vec<LegendEntry> = Vec::new();
    for (i, c) in configs.iter().enumerate() {
        if used(peer_config_color(i)) {
            legend.push((c.clone(), peer_config_color(i), false));
        }
    }
    if floors {
        legend.push((
            "floor: ring 0 (lab kernel) vs ring 3 signal (Linux)".into(),
            PEER_FLOOR_COLOR,
            true,
        ));
    }
    let lab = view
        .panels
        .iter()
        .find_map(|p| p.lab_kernel.as_ref())
        .map(|l| {
            format!(
                "; lab kernel commit {}{}",
                l.commit.as_deref().unwrap_or("unknown"),
                if l.dirty { "-dirty" } else { "" }
            )
        })
        .unwrap_or_default();
    let whiskers = if deterministic.is_empty() {
        "whiskers: 99 % bootstrap interval of the ratio of medians".to_string()
    } else {
        format!(
            "whiskers: 99 % bootstrap interval of the ratio of medians (none under {}: deterministic)",
            deterministic.join(", ")
        )
    };
    let rows: usize = panels.iter().map(|p| p.rows.len()).sum();
    let bars: usize = panels
        .iter()
        .flat_map(|p| &p.rows)
        .map(|r| r.bars.len())
        .sum();
    Some(Figure {
        name: "peers-ratios".into(),
        width: Width::TwoColumns,
        height_in: 1.0 + 0.5 * panels.len() as f64 + 0.07 * rows as f64 + 0.06 * bars as f64,
        caption: format!(
            "Ring 0 vs Linux: lab-kernel p50 over linux-guest p50, both measured in the panel's mode (never across modes); bars start at 1× (left of it the lab kernel is faster); {whiskers}{lab}"
        ),
        kind: FigureKind::RatioBars {
            x_label: "lab-kernel / linux-guest, ratio of p50s (log scale, 1 = parity)".into(),
            panels,
            legend,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::parse;
    use crate::synth::{RunSpec, jsonl};

    #[test]
    fn a_run_gets_cdfs_stages_distribution_floor_and_histograms() {
        let run = parse("run", jsonl(&RunSpec::small("tcg", 100)).as_bytes());
        let figs = for_run(&run, Unit::Cycles).unwrap();
        let names: Vec<&str> = figs.iter().map(|f| f.name.as_str()).collect();
        for want in [
            "cdf-trap.oob_load",
            "cdf-trap.unreachable",
            "cdf-call.null",
            "cdf-raw",
            "stages-signals.bt_off",
            "stages-signals.bt_on",
            "distribution-signals.bt_off",
            "distribution-explicit.bt_off",
            "distribution-ring0",
            "floor",
        ] {
            assert!(names.contains(&want), "{want} missing from {names:?}");
        }
        assert_eq!(
            names.iter().filter(|n| n.starts_with("hist-")).count(),
            run.series.len()
        );
        assert!(
            figs.iter()
                .all(|f| f.caption.contains("mode: TCG real time"))
        );
    }

    #[test]
    fn floor_rows_pair_each_trap_kind_with_the_raw_exception_it_raised() {
        let run = parse("run", jsonl(&RunSpec::small("tcg", 50)).as_bytes());
        let figs = for_run(&run, Unit::Cycles).unwrap();
        let FigureKind::Floor { rows, .. } = &figs.iter().find(|f| f.name == "floor").unwrap().kind
        else {
            panic!("floor figure has the wrong kind")
        };
        let labels: Vec<&str> = rows.iter().map(|r| r.label.as_str()).collect();
        assert_eq!(
            labels,
            ["trap.oob_load (#PF)", "trap.unreachable (#UD)", "call.null"],
            "{labels:#?}"
        );
        // oob_load: three configurations and the #PF floor (raw.pf, ~1.45k).
        assert_eq!(rows[0].marks.len(), 4);
        let floor = rows[0].marks.iter().find(|m| m.square).unwrap();
        assert!((1300.0..1600.0).contains(&floor.q[1]), "{:?}", floor.q);
    }

    #[test]
    fn cdf_of_a_million_samples_stays_small_and_reaches_the_tail() {
        let v: Vec<u64> = (1..=1_000_000).collect();
        let pts = cdf_points(&v, 1.0);
        assert!(pts.len() < 1000, "{}", pts.len());
        assert!(pts.iter().any(|&(_, q)| q > 0.9999));
        assert!(pts.windows(2).all(|w| w[0].0 <= w[1].0 && w[0].1 <= w[1].1));
    }

    #[test]
    fn histogram_bins_cover_the_range() {
        let v: Vec<u64> = (0..100).collect();
        let bins = histogram(&v, 1.0, 0.0, 99.0, 10);
        assert_eq!(bins.iter().map(|b| b.count).sum::<u64>(), 100);
        let constant = histogram(&[5, 5, 5], 1.0, 5.0, 5.0, 4);
        assert_eq!(constant.iter().map(|b| b.count).sum::<u64>(), 3);
    }
}
