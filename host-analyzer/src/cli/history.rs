//! `traplab history`: levels per commit across every stored run.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use clap::Args;
use traplab_wire::Platform;

use super::{Exit, emit};
use crate::history::{self, History};
use crate::store::{self, Meta};
use crate::table::Format;
use crate::view;

/// Levels per commit across every stored run, with change points.
///
/// Every run stored under a results folder, ordered by commit date: a table
/// of p50/p99 per experiment per commit (cycles; under icount, guest
/// instructions), one table per measurement mode, and the change points
/// (step detection) naming the commit where a level shifted. Only the lab
/// kernel's runs: Linux peers stored on their own are skipped (peers stored
/// with a run are in `traplab peers`).
///
/// Incomplete runs (no end record) and damaged ones (lost or corrupted
/// lines, gaps), and runs of another suite than the newest run's (or
/// `--suite`), are left out unless `--include-incomplete` / named with
/// `--suite`; each one left out is named on stdout (stderr with `--format
/// json|csv`, which stay machine-readable).
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
    /// Also use incomplete and damaged runs (their data that arrived).
    #[arg(long)]
    pub include_incomplete: bool,
    /// The suite to follow (default: the newest stored run's).
    #[arg(long, value_name = "NAME")]
    pub suite: Option<String>,
}

/// Which stored runs a history uses.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Use incomplete and damaged runs too.
    pub include_incomplete: bool,
    /// Only this suite; `None`: the newest lab-kernel run's.
    pub suite: Option<String>,
}

/// Load every stored run under `dir` and build its history. Runs that cannot
/// be read are reported on stderr and left out.
pub fn load(dir: &Path, threshold_pct: f64) -> Result<History> {
    let (h, left_out) = load_selected(dir, threshold_pct, &Selection::default())?;
    for line in left_out {
        eprintln!("{line}");
    }
    Ok(h)
}

/// [`load`] with a [`Selection`]; also returns one line per run left out
/// (incomplete, damaged, another suite).
pub fn load_selected(
    dir: &Path,
    threshold_pct: f64,
    sel: &Selection,
) -> Result<(History, Vec<String>)> {
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
    let suite = sel.suite.clone().or_else(|| {
        stored
            .iter()
            .rev()
            .find(|s| s.meta.platform == Platform::LabKernel.name())
            .map(|s| s.meta.suite.clone())
    });
    let mut left_out = Vec::new();
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
        if let Some(suite) = &suite
            && &s.meta.suite != suite
        {
            left_out.push(format!(
                "left out: {} (suite {}, not {suite}; --suite {} follows it)",
                s.dir.display(),
                s.meta.suite,
                s.meta.suite
            ));
            continue;
        }
        let loaded = store::load(&s.dir)?;
        if let Err(e) = loaded.run.usable() {
            eprintln!("{e}; run skipped");
            continue;
        }
        // What the stream says now (meta files stored before `damaged`
        // existed may say `complete`).
        let status = store::stream_status(&loaded.run);
        if !sel.include_incomplete && !store::status_is_whole(status) {
            left_out.push(format!(
                "left out: {} ({status}, {} problem(s); --include-incomplete uses it)",
                s.dir.display(),
                loaded.run.diagnostics.len()
            ));
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
        for line in &left_out {
            eprintln!("{line}");
        }
        bail!(
            "{}: no usable lab-kernel runs among the stored runs{}",
            dir.display(),
            if left_out.is_empty() {
                ""
            } else {
                " (see the runs left out above)"
            }
        );
    }
    Ok((history::build(&runs, threshold_pct / 100.0), left_out))
}

pub fn run(args: HistoryArgs) -> Result<Exit> {
    let sel = Selection {
        include_incomplete: args.include_incomplete,
        suite: args.suite.clone(),
    };
    let (h, left_out) = load_selected(&args.dir, args.threshold, &sel)?;
    let mut text = String::new();
    for line in &left_out {
        if matches!(args.format, Format::Json | Format::Csv) {
            eprintln!("{line}");
        } else {
            text.push_str(line);
            text.push('\n');
        }
    }
    text += &view::render(
        &history::report(&h, &args.dir.display().to_string()),
        args.format,
    );
    emit(&text)?;
    Ok(Exit::Clean)
}
