//! `traplab summary`: the per-run table.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use super::{Exit, emit, load_usable};
use crate::mode::Unit;
use crate::summary::{render, summarize};
use crate::table::Format;
use traplab_wire::Status;

/// Summarize a run: latency percentiles per experiment and configuration.
///
/// One row per experiment and configuration found in the run: n, min, p50,
/// p90, p99, p99.9, max, mean and MAD (HdrHistogram percentiles), plus a
/// stage breakdown (median of each trap stage) for trap experiments. The
/// measurement mode is printed with every table.
///
/// Problems in the run are reported on stderr; the data that survived is
/// summarized.
#[derive(Debug, Args)]
pub struct SummaryArgs {
    /// A run file, a stored run folder, or `-` for standard input.
    #[arg(value_name = "RUN")]
    pub run: PathBuf,
    /// Output format. `json` is an array of objects with experiment, config,
    /// mode, unit, n, min, p50, p90, p99, p999, max, mean, mad and stages.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Unit of the numbers; `ns` converts with the run's TSC frequency.
    #[arg(long, value_enum, default_value_t = Unit::Cycles)]
    pub unit: Unit,
}

pub fn run(args: SummaryArgs) -> Result<Exit> {
    let loaded = load_usable(&args.run)?;
    let rows = summarize(&loaded.run);
    emit(&render(&loaded.run, &rows, args.format, args.unit)?)?;
    // The table says which failed; why is in the result records. On
    // stderr, so every format's output stays what it is.
    for s in &loaded.run.series {
        if let Some(r) = s.result.as_ref().filter(|r| r.status == Status::Failed) {
            eprintln!(
                "{}: {} {} failed: {}",
                loaded.run.source,
                s.experiment,
                s.config,
                r.message.as_deref().unwrap_or("(no message)")
            );
        }
    }
    Ok(Exit::Clean)
}
