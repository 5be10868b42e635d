//! `traplab history`: levels per commit across every stored run.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use clap::Args;
use serde::Serialize;
use traplab_wire::Platform;

use super::{Outcome, emit};
use crate::history::{self, History, day};
use crate::mode::Unit;
use crate::store::{self, Meta};
use crate::table::{Align, Format, Table};

/// Levels per commit across every stored run, with change points.
///
/// Every run stored under a results folder, ordered by commit date: a table
/// of p50/p99 per experiment per commit (cycles; under icount, guest
/// instructions), one table per measurement mode, and the change points
/// (step detection) naming the commit where a level shifted. Only the lab
/// kernel's runs: Linux peers stored on their own are skipped (peers stored
/// with a run are in `traplab peers`).
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// A results folder (as written by `traplab ingest`).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Smallest level shift reported as a change point, in percent.
    #[arg(long, value_name = "PCT", default_value_t = 5.0)]
    pub threshold: f64,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Load every stored run under `dir` and build its history. Runs that cannot
/// be read are reported on stderr and left out.
pub fn load(dir: &Path, threshold_pct: f64) -> Result<History> {
    if !(threshold_pct > 0.0 && threshold_pct < 100.0) {
        bail!("--threshold must be a percentage in (0, 100), got {threshold_pct}");
    }
    let stored = store::discover(dir, &mut |w| eprintln!("{w}"))?;
    if stored.is_empty() {
        bail!(
            "{}: no stored runs (folders with run.jsonl and meta.json); store runs with `traplab ingest`",
            dir.display()
        );
    }
    let mut runs: Vec<(Meta, crate::ingest::Run)> = Vec::new();
    for s in stored {
        if s.meta.platform != Platform::LabKernel.name() {
            // Never mixed with the lab kernel's levels of the same mode.
            eprintln!(
                "{}: a {} run; history follows the lab kernel (ring 0 vs Linux: `traplab peers`); run skipped",
                s.dir.display(),
                s.meta.platform
            );
            continue;
        }
        let loaded = store::load(&s.dir)?;
        if let Err(e) = loaded.run.usable() {
            eprintln!("{e}; run skipped");
            continue;
        }
        if !loaded.run.diagnostics.is_empty() {
            eprintln!(
                "{}: {} problem(s) (see `traplab validate`); using the data that arrived",
                loaded.run.source,
                loaded.run.diagnostics.len()
            );
        }
        runs.push((s.meta, loaded.run));
    }
    if runs.is_empty() {
        bail!(
            "{}: no usable lab-kernel runs among the stored runs",
            dir.display()
        );
    }
    Ok(history::build(&runs, threshold_pct / 100.0))
}

#[derive(Serialize)]
struct JsonPoint<'a> {
    mode: &'a str,
    experiment: &'a str,
    config: &'a str,
    commit: &'a str,
    date: &'a str,
    runs: usize,
    p50: f64,
    p99: f64,
    unit: &'a str,
    change_point: bool,
}

pub fn run(args: HistoryArgs) -> Result<Outcome> {
    let h = load(&args.dir, args.threshold)?;
    let text = match args.format {
        Format::Table => {
            history::document(&h, &args.dir.display().to_string(), Unit::Cycles).text()
        }
        Format::Md => {
            history::document(&h, &args.dir.display().to_string(), Unit::Cycles).markdown()
        }
        Format::Latex => history::document(&h, &args.dir.display().to_string(), Unit::Cycles)
            .latex("tab:traplab"),
        Format::Json | Format::Csv => {
            let points: Vec<JsonPoint> = h
                .tracks
                .iter()
                .flat_map(|t| {
                    t.points.iter().enumerate().map(move |(i, p)| JsonPoint {
                        mode: t.mode.as_str(),
                        experiment: &t.experiment,
                        config: &t.config,
                        commit: &p.commit,
                        date: &p.date,
                        runs: p.runs,
                        p50: p.p50,
                        p99: p.p99,
                        unit: "cycles",
                        change_point: t.changes.contains(&i),
                    })
                })
                .collect();
            if args.format == Format::Json {
                let mut s =
                    serde_json::to_string_pretty(&points).expect("history points serialize");
                s.push('\n');
                s
            } else {
                let cols = [
                    "mode",
                    "experiment",
                    "config",
                    "commit",
                    "date",
                    "runs",
                    "p50",
                    "p99",
                    "unit",
                    "change_point",
                ];
                let mut t = Table::new(&cols.map(|c| (c, Align::Left)));
                for p in points {
                    t.push(vec![
                        p.mode.into(),
                        p.experiment.into(),
                        p.config.into(),
                        p.commit.into(),
                        day(p.date).into(),
                        p.runs.to_string(),
                        format!("{:.0}", p.p50),
                        format!("{:.0}", p.p99),
                        p.unit.into(),
                        p.change_point.to_string(),
                    ]);
                }
                t.csv()
            }
        }
    };
    emit(&text)?;
    Ok(Outcome::Clean)
}
