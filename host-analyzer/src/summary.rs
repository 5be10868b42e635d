//! The per-run summary: one row per (experiment, configuration) as found in
//! the data, with HdrHistogram percentiles, plus a stage breakdown (median of
//! each trap stage) for series that carry stage stamps. Also renders it as a
//! [`Document`] or JSON, and provides the caption lines every run-level
//! table shares.

use serde::Serialize;
use serde_json::{Value, json};
use traplab_wire::Status;

use crate::ingest::{Run, Severity};
use crate::mode::{Unit, UnitError, format_hz};
use crate::stats::{Distribution, describe};
use crate::table::{Align, Document, Format, Section, Table};

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

/// Union of stage names over all rows, in first-seen order (which is wire
/// order, as ingest sorts stages).
fn stage_names(rows: &[SeriesSummary]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for r in rows {
        for s in &r.stages {
            if !names.contains(&s.name) {
                names.push(s.name.clone());
            }
        }
    }
    names
}

/// Render the summary in `format`.
pub fn render(
    run: &Run,
    rows: &[SeriesSummary],
    format: Format,
    unit: Unit,
) -> Result<String, UnitError> {
    let k = unit.scale(run.tsc_hz())?;
    let f = |v: f64| unit.format(v * k);
    if format == Format::Json {
        return Ok(json_rows(run, rows, unit, k));
    }
    if format == Format::Csv {
        return Ok(csv(run, rows, unit, k));
    }
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
    for r in rows {
        let mut row = vec![r.experiment.clone(), r.config.clone(), row_status(r).into()];
        match &r.dist {
            Some(d) => row.extend([
                d.n.to_string(),
                f(d.min as f64),
                f(d.p50 as f64),
                f(d.p90 as f64),
                f(d.p99 as f64),
                f(d.p999 as f64),
                f(d.max as f64),
                format!("{:.1}", d.mean * k),
                format!("{:.1}", d.mad * k),
            ]),
            None => row.extend(
                std::iter::once("0".to_string()).chain(std::iter::repeat_n("–".to_string(), 8)),
            ),
        }
        main.push(row);
    }
    let mut doc = Document {
        caption: run_caption(run, unit),
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
    let names = stage_names(rows);
    if !names.is_empty() {
        let mut cols: Vec<(&str, Align)> =
            vec![("experiment", Align::Left), ("config", Align::Left)];
        cols.extend(names.iter().map(|n| (n.as_str(), Align::Right)));
        cols.push(("sum", Align::Right));
        cols.push(("p50 total", Align::Right));
        let mut stages = Table::new(&cols);
        for r in rows.iter().filter(|r| !r.stages.is_empty()) {
            let sum: u64 = r.stages.iter().map(|s| s.p50).sum();
            let mut row = vec![r.experiment.clone(), r.config.clone()];
            for n in &names {
                row.push(match r.stages.iter().find(|s| &s.name == n) {
                    Some(s) if sum > 0 => format!(
                        "{} ({:.0}%)",
                        f(s.p50 as f64),
                        100.0 * s.p50 as f64 / sum as f64
                    ),
                    Some(s) => f(s.p50 as f64),
                    None => "–".into(),
                });
            }
            row.push(f(sum as f64));
            row.push(r.dist.as_ref().map_or("–".into(), |d| f(d.p50 as f64)));
            stages.push(row);
        }
        let overhead = run.header.as_ref().map_or(String::new(), |h| {
            format!(
                "; each stage includes one stamp overhead of {} cycles",
                h.stamp_overhead_cycles
            )
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
    Ok(match format {
        Format::Table => doc.text(),
        Format::Md => doc.markdown(),
        Format::Latex => doc.latex("tab:traplab"),
        Format::Csv | Format::Json => unreachable!("handled above"),
    })
}

fn number(unit: Unit, v: f64) -> Value {
    match unit {
        Unit::Cycles => json!(v.round() as u64),
        Unit::Ns => json!((v * 10.0).round() / 10.0),
    }
}

/// One element of the `json` format. A struct (not a map) so keys keep this
/// documented order.
#[derive(Serialize)]
struct JsonRow<'a> {
    experiment: &'a str,
    config: &'a str,
    mode: &'a str,
    unit: &'a str,
    commit: Option<&'a str>,
    status: &'a str,
    n: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    min: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    p50: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    p90: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    p99: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    p999: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mean: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mad: Option<f64>,
    stages: Vec<JsonStage<'a>>,
}

#[derive(Serialize)]
struct JsonStage<'a> {
    name: &'a str,
    n: usize,
    p50: Value,
}

fn json_rows(run: &Run, rows: &[SeriesSummary], unit: Unit, k: f64) -> String {
    let mode = run.mode();
    let commit = run.commit().map(|(c, _)| c);
    let round1 = |v: f64| (v * 10.0).round() / 10.0;
    let items: Vec<JsonRow> = rows
        .iter()
        .map(|r| {
            let d = r.dist.as_ref();
            let num = |f: fn(&Distribution) -> u64| d.map(|d| number(unit, f(d) as f64 * k));
            JsonRow {
                experiment: &r.experiment,
                config: &r.config,
                mode: mode.as_str(),
                unit: unit.as_str(),
                commit,
                status: row_status(r),
                n: d.map_or(0, |d| d.n),
                min: num(|d| d.min),
                p50: num(|d| d.p50),
                p90: num(|d| d.p90),
                p99: num(|d| d.p99),
                p999: num(|d| d.p999),
                max: num(|d| d.max),
                mean: d.map(|d| round1(d.mean * k)),
                mad: d.map(|d| round1(d.mad * k)),
                stages: r
                    .stages
                    .iter()
                    .map(|s| JsonStage {
                        name: &s.name,
                        n: s.n,
                        p50: number(unit, s.p50 as f64 * k),
                    })
                    .collect(),
            }
        })
        .collect();
    let mut s = serde_json::to_string_pretty(&items).expect("JSON rows always serialize");
    s.push('\n');
    s
}

fn csv(run: &Run, rows: &[SeriesSummary], unit: Unit, k: f64) -> String {
    let names = stage_names(rows);
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
    let f = |v: f64| unit.format(v * k);
    for r in rows {
        let mut row = vec![
            r.experiment.clone(),
            r.config.clone(),
            run.mode().as_str().to_string(),
            unit.as_str().to_string(),
            row_status(r).to_string(),
        ];
        match &r.dist {
            Some(d) => row.extend([
                d.n.to_string(),
                f(d.min as f64),
                f(d.p50 as f64),
                f(d.p90 as f64),
                f(d.p99 as f64),
                f(d.p999 as f64),
                f(d.max as f64),
                format!("{:.1}", d.mean * k),
                format!("{:.1}", d.mad * k),
            ]),
            None => row.extend(
                std::iter::once("0".to_string()).chain(std::iter::repeat_n(String::new(), 8)),
            ),
        }
        for n in &names {
            row.push(
                r.stages
                    .iter()
                    .find(|s| &s.name == n)
                    .map_or(String::new(), |s| f(s.p50 as f64)),
            );
        }
        t.push(row);
    }
    t.csv()
}
