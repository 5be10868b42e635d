//! Comparing two runs (typically two commits): for each (experiment,
//! configuration) present in both, the ratio of medians candidate/base with a
//! confidence interval and one verdict out of `regressed`, `improved`,
//! `unchanged`, `unsure`. The statistics live in [`crate::stats`]; this
//! module pairs series, guards against comparing across modes, and renders.
//!
//! The two runs may also be two platforms of one stored run
//! (`RUN@lab-kernel` vs `RUN@linux-guest`): series pair by name as across
//! commits, and a floor `raw.X` pairs the lab kernel's `ring0` with Linux's
//! `ring3` (the row's config reads `ring0 vs ring3`).

use serde::Serialize;
use traplab_wire::{Platform, config};

use crate::ingest::{Run, Series};
use crate::mode::{Mode, Unit};
use crate::stats::{IntervalMethod, RatioInterval, Verdict, median, ratio_of_medians, verdict};
use crate::table::{Align, Document, Format, Section, Table};
use crate::view::{self, View};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CompareOptions {
    /// Smallest change that matters, as a fraction (0.05 = 5 %).
    pub threshold: f64,
    /// Confidence level of the interval (0.99 = 99 %).
    pub confidence: f64,
    pub resamples: usize,
    pub seed: u64,
}

/// The smallest change of a median that counts, in percent, when the user
/// names none. Real-time modes compare medians of noisy samples: 5 %.
/// Deterministic modes count instructions, and two boots of one build are
/// byte-identical, so every change is real: 0, any change at all (a
/// 21-instruction detour in the dispatcher is 0.4 % of a trap with
/// backtraces and must not pass as `unchanged`).
pub fn default_threshold(mode: &Mode) -> f64 {
    if mode.is_deterministic() { 0.0 } else { 5.0 }
}

impl Default for CompareOptions {
    fn default() -> Self {
        CompareOptions {
            threshold: 0.05,
            confidence: 0.99,
            resamples: crate::stats::BOOTSTRAP_RESAMPLES,
            seed: crate::stats::BOOTSTRAP_SEED,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub experiment: String,
    pub config: String,
    pub base_n: usize,
    pub cand_n: usize,
    /// Exact medians, cycles.
    pub base_median: f64,
    pub cand_median: f64,
    pub ci: RatioInterval,
    pub verdict: Verdict,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub mode: Mode,
    pub rows: Vec<Row>,
    /// Series that could not be compared, with the reason.
    pub notes: Vec<String>,
    pub options: CompareOptions,
}

impl Comparison {
    pub fn count(&self, v: Verdict) -> usize {
        self.rows.iter().filter(|r| r.verdict == v).count()
    }

    pub fn any_regressed(&self) -> bool {
        self.count(Verdict::Regressed) > 0
    }

    pub fn verdict_line(&self) -> String {
        format!(
            "{} regressed, {} improved, {} unchanged, {} unsure (threshold ±{}%, {}% confidence)",
            self.count(Verdict::Regressed),
            self.count(Verdict::Improved),
            self.count(Verdict::Unchanged),
            self.count(Verdict::Unsure),
            trim_float(self.options.threshold * 100.0),
            trim_float(self.options.confidence * 100.0),
        )
    }
}

fn trim_float(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompareError {
    #[error(
        "cannot compare across measurement modes: base is {base}, candidate is {cand} (numbers from different modes mean different things)"
    )]
    ModeMismatch { base: String, cand: String },
    #[error("cannot compare: the measurement mode of {0} is unknown (its header was lost)")]
    UnknownMode(String),
}

pub fn compare(
    base: &Run,
    cand: &Run,
    options: CompareOptions,
) -> Result<Comparison, CompareError> {
    let (bm, cm) = (base.mode(), cand.mode());
    for (m, r) in [(&bm, base), (&cm, cand)] {
        if *m == Mode::Unknown {
            return Err(CompareError::UnknownMode(r.source.clone()));
        }
    }
    if bm != cm {
        return Err(CompareError::ModeMismatch {
            base: bm.to_string(),
            cand: cm.to_string(),
        });
    }
    let method = if bm.is_deterministic() {
        IntervalMethod::Exact
    } else {
        IntervalMethod::Bootstrap
    };
    let mut notes = Vec::new();
    // Different TSC rates mean different machines or calibrations: compare
    // time, not ticks. ratio_time = ratio_cycles · hz_base / hz_cand.
    let scale = match (base.tsc_hz(), cand.tsc_hz()) {
        (Some(b), Some(c)) if b != c => {
            notes.push(format!(
                "TSC frequencies differ ({} Hz vs {} Hz): ratios compare time, not cycles",
                b, c
            ));
            b as f64 / c as f64
        }
        _ => 1.0,
    };
    // Across platforms (`RUN@lab-kernel` vs `RUN@linux-guest`) a floor is
    // the same experiment under the platform's own floor configuration.
    let cross = base.platform() != cand.platform();
    let counterpart = |run: &'_ Run, s: &Series| -> Option<usize> {
        let other = match s.config.as_str() {
            config::RING0 => config::RING3,
            config::RING3 => config::RING0,
            _ => return None,
        };
        (cross && s.experiment.starts_with("raw."))
            .then(|| {
                run.series
                    .iter()
                    .position(|x| x.experiment == s.experiment && x.config == other)
            })
            .flatten()
    };
    let mut rows = Vec::new();
    for b in &base.series {
        let c = cand
            .find(&b.experiment, &b.config)
            .or_else(|| counterpart(cand, b).map(|i| &cand.series[i]));
        let Some(c) = c else {
            notes.push(format!("{}: only in base", b.label()));
            continue;
        };
        if b.total.is_empty() || c.total.is_empty() {
            notes.push(format!(
                "{}: no samples in {}",
                b.label(),
                if b.total.is_empty() {
                    "base"
                } else {
                    "candidate"
                }
            ));
            continue;
        }
        let Some(mut ci) = ratio_of_medians(
            &b.total,
            &c.total,
            options.confidence,
            method,
            options.resamples,
            options.seed,
        ) else {
            continue;
        };
        ci.ratio *= scale;
        ci.low *= scale;
        ci.high *= scale;
        rows.push(Row {
            experiment: b.experiment.clone(),
            config: if c.config == b.config {
                b.config.clone()
            } else {
                format!("{} vs {}", b.config, c.config)
            },
            base_n: b.total.len(),
            cand_n: c.total.len(),
            base_median: median(&b.total),
            cand_median: median(&c.total),
            verdict: verdict(&ci, options.threshold),
            ci,
        });
    }
    for c in &cand.series {
        if base.find(&c.experiment, &c.config).is_none() && counterpart(base, c).is_none() {
            notes.push(format!("{}: only in candidate", c.label()));
        }
    }
    Ok(Comparison {
        mode: bm,
        rows,
        notes,
        options,
    })
}

/// `FILE (commit abc, dirty)`, with the platform when it is not the lab
/// kernel or when the two sides differ in it.
fn describe_side(run: &Run, show_platform: bool) -> String {
    let platform = run.platform().unwrap_or("unknown platform");
    let mut what = Vec::new();
    if let Some((c, dirty)) = run.commit() {
        what.push(format!("commit {c}{}", if dirty { ", dirty" } else { "" }));
    }
    if show_platform || platform != Platform::LabKernel.name() {
        what.push(platform.to_string());
    }
    if what.is_empty() {
        run.source.clone()
    } else {
        format!("{} ({})", run.source, what.join(", "))
    }
}

/// Render in `format`. Medians are shown in cycles (the ratio does not
/// depend on the unit).
pub fn render(cmp: &Comparison, base: &Run, cand: &Run, format: Format) -> String {
    view::render(&report(cmp, base, cand), format)
}

/// A comparison as one tree: its JSON is the array of its rows; the table
/// and CSV are rendered from the same rows.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct CompareReport {
    pub rows: Vec<CompareRow>,
    /// Base, candidate, mode, method and verdict lines heading the
    /// document (the rows carry mode, method and threshold in JSON).
    #[serde(skip)]
    pub caption: Vec<(String, String)>,
    #[serde(skip)]
    pub notes: Vec<String>,
}

/// One element of the `json` format; a struct so keys keep this order.
#[derive(Debug, Clone, Serialize)]
pub struct CompareRow {
    pub experiment: String,
    pub config: String,
    pub mode: String,
    pub base_n: usize,
    pub cand_n: usize,
    /// Exact medians, cycles.
    pub base_p50: f64,
    pub cand_p50: f64,
    pub unit: &'static str,
    #[serde(serialize_with = "view::ser_round4")]
    pub ratio: f64,
    #[serde(serialize_with = "view::ser_round4")]
    pub ci_low: f64,
    #[serde(serialize_with = "view::ser_round4")]
    pub ci_high: f64,
    pub confidence: f64,
    pub method: IntervalMethod,
    pub threshold: f64,
    pub verdict: &'static str,
}

/// Build the tree of `cmp` between `base` and `cand`.
pub fn report(cmp: &Comparison, base: &Run, cand: &Run) -> CompareReport {
    let method = match cmp.rows.first().map(|r| r.ci.method) {
        Some(IntervalMethod::Exact) => {
            "exact ratio (deterministic mode: zero-width interval)".to_string()
        }
        _ => format!(
            "{}% percentile bootstrap of the ratio of medians ({} resamples, fixed seed)",
            trim_float(cmp.options.confidence * 100.0),
            cmp.options.resamples
        ),
    };
    let cross = base.platform() != cand.platform();
    CompareReport {
        rows: cmp
            .rows
            .iter()
            .map(|r| CompareRow {
                experiment: r.experiment.clone(),
                config: r.config.clone(),
                mode: cmp.mode.to_string(),
                base_n: r.base_n,
                cand_n: r.cand_n,
                base_p50: r.base_median,
                cand_p50: r.cand_median,
                unit: Unit::Cycles.as_str(),
                ratio: r.ci.ratio,
                ci_low: r.ci.low,
                ci_high: r.ci.high,
                confidence: r.ci.confidence,
                method: r.ci.method,
                threshold: cmp.options.threshold,
                verdict: r.verdict.as_str(),
            })
            .collect(),
        caption: vec![
            ("base".into(), describe_side(base, cross)),
            ("candidate".into(), describe_side(cand, cross)),
            ("mode".into(), cmp.mode.caption()),
            ("method".into(), method),
            ("verdict".into(), cmp.verdict_line()),
        ],
        notes: cmp.notes.clone(),
    }
}

impl View for CompareReport {
    fn document(&self) -> Document {
        let mut t = Table::new(&[
            ("experiment", Align::Left),
            ("config", Align::Left),
            ("n base", Align::Right),
            ("n cand", Align::Right),
            ("p50 base", Align::Right),
            ("p50 cand", Align::Right),
            ("change", Align::Right),
            ("interval", Align::Right),
            ("verdict", Align::Left),
        ]);
        for r in &self.rows {
            t.push(vec![
                r.experiment.clone(),
                r.config.clone(),
                r.base_n.to_string(),
                r.cand_n.to_string(),
                format!("{:.0}", r.base_p50),
                format!("{:.0}", r.cand_p50),
                percent(r.ratio),
                format!("[{}, {}]", percent(r.ci_low), percent(r.ci_high)),
                r.verdict.to_string(),
            ]);
        }
        Document {
            caption: self.caption.clone(),
            sections: vec![Section {
                title: "candidate vs base: change of the median (cycles)".into(),
                label: "compare".into(),
                table: t,
                code_columns: 2,
                footer: Vec::new(),
            }],
            notes: self.notes.clone(),
        }
    }

    fn csv(&self) -> Table {
        let mut t = Table::new(
            &[
                "experiment",
                "config",
                "mode",
                "base_n",
                "cand_n",
                "base_p50",
                "cand_p50",
                "ratio",
                "ci_low",
                "ci_high",
                "verdict",
            ]
            .map(|c| (c, Align::Left)),
        );
        for r in &self.rows {
            t.push(vec![
                r.experiment.clone(),
                r.config.clone(),
                r.mode.clone(),
                r.base_n.to_string(),
                r.cand_n.to_string(),
                format!("{:.1}", r.base_p50),
                format!("{:.1}", r.cand_p50),
                format!("{:.4}", r.ratio),
                format!("{:.4}", r.ci_low),
                format!("{:.4}", r.ci_high),
                r.verdict.to_string(),
            ]);
        }
        t
    }
}

/// `+10.2%` style rendering of a ratio.
fn percent(ratio: f64) -> String {
    if !ratio.is_finite() {
        return "+inf".into();
    }
    let p = (ratio - 1.0) * 100.0;
    if p.abs() < 0.05 {
        "±0.0%".into()
    } else {
        format!("{p:+.1}%")
    }
}
