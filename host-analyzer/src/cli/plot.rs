//! `traplab plot`: paper figures for a run, or timelines for a results
//! folder.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Result;
use clap::Args;

use super::{Exit, emit, load_usable};
use crate::mode::Unit;
use crate::plot::{self, figures};
use crate::store::RUN_FILE;

/// Draw paper figures for a run, or timelines for a results folder.
///
/// Draws figures as SVG (vector) and PNG (300 dpi), sized for one paper
/// column (3.5 in) or two (7.16 in), in a colour-blind-safe palette, with the
/// measurement mode in a caption line.
///
/// For a run: a latency CDF per trap kind (log x), the stage breakdown
/// (stacked bars), the distribution per configuration (box plots), trap vs
/// explicit check vs raw-exception floor, wasm/native and explicit/signals
/// per compute workload, and a histogram per series. For a
/// results folder: a p50 timeline across commits per experiment, change
/// points marked.
#[derive(Debug, Args)]
pub struct PlotArgs {
    /// A run file, a stored run folder, `-`, or a results folder.
    #[arg(value_name = "RUN|DIR")]
    pub input: PathBuf,
    /// Folder to write the figures into (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Unit of run figures; `ns` uses the run's TSC frequency.
    #[arg(long, value_enum, default_value_t = Unit::Cycles)]
    pub unit: Unit,
    /// Smallest level shift marked on timelines, in percent.
    #[arg(long, value_name = "PCT", default_value_t = 5.0)]
    pub threshold: f64,
}

/// Whether `path` is a folder of stored runs rather than one run.
pub fn is_results_folder(path: &Path) -> bool {
    path.is_dir() && !path.join(RUN_FILE).is_file()
}

/// Prepare and write every figure for `input`; returns the files written.
pub fn draw_all(input: &Path, out: &Path, unit: Unit, threshold: f64) -> Result<Vec<PathBuf>> {
    let figs = if is_results_folder(input) {
        let h = super::history::load(input, threshold)?;
        figures::for_history(&h)
    } else {
        let loaded = load_usable(input)?;
        figures::for_run(&loaded.run, unit)?
    };
    let mut files = Vec::new();
    for f in &figs {
        files.extend(plot::write(f, out)?);
    }
    Ok(files)
}

pub fn run(args: PlotArgs) -> Result<Exit> {
    let start = Instant::now();
    let files = draw_all(&args.input, &args.out, args.unit, args.threshold)?;
    let mut text: String = files.iter().map(|f| format!("{}\n", f.display())).collect();
    emit(&std::mem::take(&mut text))?;
    eprintln!(
        "{} files in {:.2} s",
        files.len(),
        start.elapsed().as_secs_f64()
    );
    Ok(Exit::Clean)
}
