//! `traplab wast`: the `.wast` conformance view of a run.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Args;

use super::{Exit, emit, load_usable};
use crate::table::Format;
use crate::wast::{analyze, render::render};

/// Show how the `.wast` conformance scripts fared: per script and
/// configuration the commands passed, failed and unsupported, the commands
/// that did not pass with the reason, ending with `N passed, M failed, K
/// unsupported` (totals over command × configuration, as `traplab-wast`
/// prints them).
///
/// Exits 2 when the run holds no `.wast` results.
#[derive(Debug, Args)]
pub struct WastArgs {
    /// A run file, a stored run folder, or `-` for standard input.
    #[arg(value_name = "RUN")]
    pub run: PathBuf,
    /// Output format. `json` is one object with keys mode, commit, scripts,
    /// passed, failed, unsupported, not_passed and notes (documented in
    /// src/wast/render.rs); `csv` is tidy, one value per row.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

pub fn run(args: WastArgs) -> Result<Exit> {
    let loaded = load_usable(&args.run)?;
    let view = analyze(&loaded.run);
    if view.is_empty() {
        bail!(
            "{}: no .wast results: no wast.* experiments in this run",
            loaded.run.source
        );
    }
    emit(&render(&loaded.run, &view, args.format))?;
    Ok(Exit::Clean)
}
