//! The per-run summary: one row per (experiment, configuration) as found in
//! the data, with HdrHistogram percentiles, plus a stage breakdown (median of
//! each trap stage) for series that carry stage stamps. Also renders it
//! (one tree, [`SummaryReport`], in every format: [`crate::view`]), and
//! provides the caption lines every run-level table shares.

use serde::Serialize;
use traplab_wire::Status;

use crate::ingest::{Run, Severity};
use crate::mode::{Unit, UnitError, format_hz};
use crate::stats::{Distribution, describe};
use crate::table::{Align, Document, Format, Section, Table};
use crate::view::{self, DASH, Quantity, View, dash};

/// Summary of one stage of one series.
#[derive(Debug, Clone, PartialEq)]
pub struct StageSummary {
    pub name: String,
    pub n: usize,
    /// Median (HdrHistogram p50), cycles.
    pub p50: u64,
}

/// Summary of one series, in cycles.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesSummary {
    pub experiment: String,
    pub config: String,
    /// From the result record; `None` when it was lost or never written.
    pub status: Option<Status>,
    /// Samples of this series were lost or dropped (its result record counts
    /// more than arrived, a batch never arrived or was ignored): its status
    /// reads `damaged`, whatever the result record said.
    pub lost: bool,
    /// `None` for a series without samples (a failed or skipped experiment).
    pub dist: Option<Distribution>,
    pub stages: Vec<StageSummary>,
}

pub fn summarize(run: &Run) -> Vec<SeriesSummary> {
    run.series
        .iter()
        .map(|s| SeriesSummary {
            experiment: s.experiment.clone(),
            config: s.config.clone(),
            status: s.result.as_ref().map(|r| r.status),
            lost: series_lost(run, s),
            dist: describe(&s.total),
            stages: s
                .stages
                .iter()
                .filter_map(|st| {
                    describe(&st.values).map(|d| StageSummary {
                        name: st.name.clone(),
                        n: d.n,
                        p50: d.p50,
                    })
                })
                .collect(),
        })
        .collect()
}

/// Whether samples of `s` were lost: its result record counts other than
/// what arrived, or an error in the run names it.
pub fn series_lost(run: &Run, s: &crate::ingest::Series) -> bool {
    let label = format!("{}: ", s.label());
    s.result
        .as_ref()
        .is_some_and(|r| r.samples as usize != s.total.len())
        || run
            .diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error && d.message.starts_with(&label))
}

/// The status column of a row: `damaged` when samples were lost, else the
/// result record's.
pub fn row_status(r: &SeriesSummary) -> &'static str {
    if r.lost {
        "damaged"
    } else {
        status_str(r.status)
    }
}

/// The run's status for captions: `damaged (N problems)` when an error was
/// found in the stream, else how it ended.
pub fn run_status(run: &Run) -> String {
    if run.error_count() > 0 {
        format!(
            "damaged ({} problem{}{})",
            run.diagnostics.len(),
            if run.diagnostics.len() == 1 { "" } else { "s" },
            if run.end.is_none() {
                "; no end record"
            } else {
                ""
            }
        )
    } else {
        match run.contained_failures() {
            0 => run.completion().as_str().to_string(),
            n => format!(
                "{} ({n} contained failure{})",
                run.completion().as_str(),
                if n == 1 { "" } else { "s" }
            ),
        }
    }
}

pub fn status_str(s: Option<Status>) -> &'static str {
    match s {
        Some(Status::Ok) => "ok",
        Some(Status::Failed) => "failed",
        Some(Status::Skipped) => "skipped",
        None => "no result",
    }
}

/// Caption lines shared by every run-level table: provenance, the mode (with
/// what it means) and the unit.
pub fn run_caption(run: &Run, unit: Unit) -> Vec<(String, String)> {
    let mut run_line = vec![run.source.clone()];
    let mut clock = Vec::new();
    if let Some(h) = &run.header {
        let dirty = if h.kernel.dirty { " (dirty)" } else { "" };
        run_line.push(format!("commit {}{dirty}", h.kernel.commit));
        run_line.push(match &h.config.cpu_profile {
            Some(cpu) => format!("suite {} (cpu {cpu})", h.config.suite),
            None => format!("suite {}", h.config.suite),
        });
        run_line.push(format!("wasmtime {}", h.wasmtime));
        if h.platform != traplab_wire::Platform::LabKernel.name() {
            run_line.push(format!("platform {}", h.platform));
        }
        if let Some(os) = &h.os {
            run_line.push(os.clone());
        }
        if h.tsc.hz > 0 {
            clock.push(format!("TSC {} ({})", format_hz(h.tsc.hz), h.tsc.source));
        }
        clock.push(format!("stamp overhead {} cycles", h.stamp_overhead_cycles));
    }
    run_line.push(format!("status {}", run_status(run)));
    clock.push(format!("unit {}", unit.as_str()));
    vec![
        ("run".into(), run_line.join(" · ")),
        ("mode".into(), run.mode().caption()),
        ("clock".into(), clock.join(" · ")),
    ]
}

/// Render the summary in `format`.
pub fn render(
    run: &Run,
    rows: &[SeriesSummary],
    format: Format,
    unit: Unit,
) -> Result<String, UnitError> {
    Ok(view::render(&report(run, rows, unit)?, format))
}

/// The summary in the output unit: the one tree every format renders. Its
/// JSON is the array of its rows.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct SummaryReport {
    pub rows: Vec<SummaryRow>,
    /// Run caption heading the document.
    #[serde(skip)]
    pub caption: Vec<(String, String)>,
    /// Stamp overhead stated by the header, cycles (stage table title).
    #[serde(skip)]
    pub stamp_overhead_cycles: Option<u64>,
    /// The output unit (each row also names it).
    #[serde(skip)]
    pub unit: Unit,
}

/// One row of the summary (one element of the `json` format). Every key is
/// present in every row: a series without samples has `n` 0 and `null`
/// statistics.
#[derive(Debug, Clone, Serialize)]
pub struct SummaryRow {
    pub experiment: String,
    pub config: String,
    pub mode: String,
    pub unit: &'static str,
    pub commit: Option<String>,
    pub status: &'static str,
    pub n: usize,
    pub min: Option<Quantity>,
    pub p50: Option<Quantity>,
    pub p90: Option<Quantity>,
    pub p99: Option<Quantity>,
    pub p999: Option<Quantity>,
    pub max: Option<Quantity>,
    #[serde(serialize_with = "view::ser_opt_round1")]
    pub mean: Option<f64>,
    #[serde(serialize_with = "view::ser_opt_round1")]
    pub mad: Option<f64>,
    pub stages: Vec<StageRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StageRow {
    pub name: String,
    pub n: usize,
    pub p50: Quantity,
}

/// Build the tree of `rows` of `run` in `unit`.
pub fn report(run: &Run, rows: &[SeriesSummary], unit: Unit) -> Result<SummaryReport, UnitError> {
    let k = unit.scale(run.tsc_hz())?;
    let mode = run.mode();
    let commit = run.commit().map(|(c, _)| c.to_string());
    let rows = rows
        .iter()
        .map(|r| {
            let d = r.dist.as_ref();
            let q = |f: fn(&Distribution) -> u64| d.map(|d| Quantity::of(f(d), unit, k));
            SummaryRow {
                experiment: r.experiment.clone(),
                config: r.config.clone(),
                mode: mode.as_str().to_string(),
                unit: unit.as_str(),
                commit: commit.clone(),
                status: row_status(r),
                n: d.map_or(0, |d| d.n),
                min: q(|d| d.min),
                p50: q(|d| d.p50),
                p90: q(|d| d.p90),
                p99: q(|d| d.p99),
                p999: q(|d| d.p999),
                max: q(|d| d.max),
                mean: d.map(|d| d.mean * k),
                mad: d.map(|d| d.mad * k),
                stages: r
                    .stages
                    .iter()
                    .map(|s| StageRow {
                        name: s.name.clone(),
                        n: s.n,
                        p50: Quantity::of(s.p50, unit, k),
                    })
                    .collect(),
            }
        })
        .collect();
    Ok(SummaryReport {
        rows,
        caption: run_caption(run, unit),
        stamp_overhead_cycles: run.header.as_ref().map(|h| h.stamp_overhead_cycles),
        unit,
    })
}

impl SummaryReport {
    /// Union of stage names over all rows, in first-seen order (which is
    /// wire order, as ingest sorts stages).
    fn stage_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for r in &self.rows {
            for s in &r.stages {
                if !names.contains(&s.name.as_str()) {
                    names.push(&s.name);
                }
            }
        }
        names
    }
}

/// The statistics cells of a row, `None` when it has no samples.
fn stat_cells(r: &SummaryRow) -> Option<[String; 9]> {
    Some([
        r.n.to_string(),
        r.min?.to_string(),
        r.p50?.to_string(),
        r.p90?.to_string(),
        r.p99?.to_string(),
        r.p999?.to_string(),
        r.max?.to_string(),
        format!("{:.1}", r.mean?),
        format!("{:.1}", r.mad?),
    ])
}

impl View for SummaryReport {
    fn document(&self) -> Document {
        let unit = self.unit;
        let mut main = Table::new(&[
            ("experiment", Align::Left),
            ("config", Align::Left),
            ("status", Align::Left),
            ("n", Align::Right),
            ("min", Align::Right),
            ("p50", Align::Right),
            ("p90", Align::Right),
            ("p99", Align::Right),
            ("p99.9", Align::Right),
            ("max", Align::Right),
            ("mean", Align::Right),
            ("MAD", Align::Right),
        ]);
        for r in &self.rows {
            let mut row = vec![r.experiment.clone(), r.config.clone(), r.status.into()];
            match stat_cells(r) {
                Some(cells) => row.extend(cells),
                None => row.extend(
                    std::iter::once("0".to_string())
                        .chain(std::iter::repeat_n(DASH.to_string(), 8)),
                ),
            }
            main.push(row);
        }
        let mut doc = Document {
            caption: self.caption.clone(),
            ..Document::default()
        };
        doc.sections.push(Section {
            title: format!(
                "latency per experiment and configuration ({})",
                unit.as_str()
            ),
            label: "summary".into(),
            table: main,
            code_columns: 2,
            footer: Vec::new(),
        });
        let names = self.stage_names();
        if !names.is_empty() {
            let mut cols: Vec<(&str, Align)> =
                vec![("experiment", Align::Left), ("config", Align::Left)];
            cols.extend(names.iter().map(|n| (*n, Align::Right)));
            cols.push(("sum", Align::Right));
            cols.push(("p50 total", Align::Right));
            let mut stages = Table::new(&cols);
            for r in self.rows.iter().filter(|r| !r.stages.is_empty()) {
                let sum: f64 = r.stages.iter().map(|s| s.p50.value).sum();
                let mut row = vec![r.experiment.clone(), r.config.clone()];
                for n in &names {
                    row.push(match r.stages.iter().find(|s| s.name == *n) {
                        Some(s) if sum > 0.0 => {
                            format!("{} ({:.0}%)", s.p50, 100.0 * s.p50.value / sum)
                        }
                        Some(s) => s.p50.to_string(),
                        None => DASH.into(),
                    });
                }
                row.push(unit.format(sum));
                row.push(dash(r.p50));
                stages.push(row);
            }
            let overhead = self.stamp_overhead_cycles.map_or(String::new(), |c| {
                format!("; each stage includes one stamp overhead of {c} cycles")
            });
            doc.sections.push(Section {
                title: format!(
                    "stage breakdown: median of each stage ({}){overhead}",
                    unit.as_str()
                ),
                label: "stages".into(),
                table: stages,
                code_columns: 2,
                footer: Vec::new(),
            });
        }
        doc
    }

    /// Wide: one row per series, mode and unit in every row, a `p50_<stage>`
    /// column per stage name.
    fn csv(&self) -> Table {
        let names = self.stage_names();
        let stage_cols: Vec<String> = names.iter().map(|n| format!("p50_{n}")).collect();
        let mut cols: Vec<(&str, Align)> = [
            "experiment",
            "config",
            "mode",
            "unit",
            "status",
            "n",
            "min",
            "p50",
            "p90",
            "p99",
            "p999",
            "max",
            "mean",
            "mad",
        ]
        .iter()
        .map(|c| (*c, Align::Left))
        .collect();
        cols.extend(stage_cols.iter().map(|c| (c.as_str(), Align::Left)));
        let mut t = Table::new(&cols);
        for r in &self.rows {
            let mut row = vec![
                r.experiment.clone(),
                r.config.clone(),
                r.mode.clone(),
                r.unit.to_string(),
                r.status.to_string(),
            ];
            match stat_cells(r) {
                Some(cells) => row.extend(cells),
                None => row.extend(
                    std::iter::once("0".to_string()).chain(std::iter::repeat_n(String::new(), 8)),
                ),
            }
            for n in &names {
                row.push(
                    r.stages
                        .iter()
                        .find(|s| s.name == *n)
                        .map_or(String::new(), |s| s.p50.to_string()),
                );
            }
            t.push(row);
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::parse;
    use crate::synth::{RunSpec, jsonl};

    /// A series without samples keeps every key, its statistics `null`, in
    /// both units; CSV and table agree with it (empty cells, dashes).
    #[test]
    fn json_rows_keep_their_keys_without_samples() {
        let run = parse("t", jsonl(&RunSpec::small("tcg", 5)).as_bytes());
        let mut rows = summarize(&run);
        let mut empty = rows[0].clone();
        empty.experiment = "trap.never_ran".into();
        empty.dist = None;
        empty.stages.clear();
        empty.status = Some(Status::Skipped);
        rows.push(empty);
        for unit in [Unit::Cycles, Unit::Ns] {
            let out = render(&run, &rows, Format::Json, unit).unwrap();
            let v: serde_json::Value = serde_json::from_str(&out).unwrap();
            let rows = v.as_array().unwrap();
            let full = rows[0].as_object().unwrap();
            let last = rows.last().unwrap().as_object().unwrap();
            let keys = |o: &serde_json::Map<_, _>| o.keys().cloned().collect::<Vec<String>>();
            assert_eq!(keys(full), keys(last), "same keys in the same order");
            for k in ["min", "p50", "p90", "p99", "p999", "max", "mean", "mad"] {
                assert!(last[k].is_null(), "{k} is null without samples");
                assert!(!full[k].is_null(), "{k} is a number with samples");
            }
            assert_eq!(last["n"], 0);
        }
        let csv = render(&run, &rows, Format::Csv, Unit::Cycles).unwrap();
        assert!(csv.lines().last().unwrap().contains(",skipped,0,,,,,,,,"));
    }
}
