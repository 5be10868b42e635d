//! `traplab validate`: check runs for integrity and say whether they are
//! clean.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use super::{Exit, emit};
use crate::ingest::{Run, Severity};
use crate::store;

/// Check a run's integrity and say whether it is clean.
///
/// Checks the schema version, per-line integrity (CRC), sequence gaps,
/// duplicates and reordering, header and end records, and whether the end
/// record's counts match what arrived.
///
/// Prints each problem as `FILE:LINE: severity: reason`, then a one-line
/// verdict per run. Boot noise before the first record is skipped, not a
/// problem; an empty stream (no header record) is. Every file is checked,
/// even after one that cannot be read; the exit status is the worst: 0 only
/// if every run is clean, 1 if any has problems, 2 if a file cannot be read.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Run files (`.jsonl`), run folders, or `-` for standard input.
    #[arg(required = true, value_name = "FILE|-")]
    pub runs: Vec<PathBuf>,
}

pub fn run(args: ValidateArgs) -> Result<Exit> {
    let mut exit = Exit::Clean;
    for path in &args.runs {
        let loaded = match store::load(path) {
            Ok(l) => l,
            Err(e) => {
                // Reported, and the other files are still checked.
                eprintln!("traplab: error: {e:#}");
                emit(&format!("{}: unreadable\n", path.display()))?;
                exit = exit.max(Exit::BadInput);
                continue;
            }
        };
        let run = &loaded.run;
        let mut text = String::new();
        for line in run.diagnostic_lines() {
            text.push_str(&line);
            text.push('\n');
        }
        text.push_str(&verdict(run));
        text.push('\n');
        emit(&text)?;
        if !run.diagnostics.is_empty() || run.header.is_none() {
            exit = exit.max(Exit::Findings);
        }
    }
    Ok(exit)
}

/// `FILE: clean: …` or `FILE: 2 errors, 1 warning: …`.
pub fn verdict(run: &Run) -> String {
    let errors = run.error_count();
    let warnings = run
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Warning)
        .count();
    let samples: usize = run.series.iter().map(|s| s.total.len()).sum();
    let contained = match run.contained_failures() {
        0 => String::new(),
        n => format!(" ({n} contained)"),
    };
    let what = format!(
        "{} records, {} series, {samples} samples, run {}{contained}, mode {}{}",
        run.records,
        run.series.len(),
        run.completion().as_str(),
        run.mode(),
        run.commit()
            .map(|(c, d)| format!(", commit {c}{}", if d { "-dirty" } else { "" }))
            .unwrap_or_default(),
    );
    if errors + warnings == 0 && run.records == 0 {
        // Nothing at all arrived: not a clean run.
        return format!("{}: no header record (empty stream)", run.source);
    }
    if errors + warnings == 0 && run.header.is_some() {
        return format!("{}: clean: {what}", run.source);
    }
    let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    let unusable = match run.usable() {
        Err(e) => format!(" — unusable: {e}"),
        Ok(()) => String::new(),
    };
    format!(
        "{}: {}, {}: {what}{unusable}",
        run.source,
        plural(errors, "error"),
        plural(warnings, "warning")
    )
}
