//! The command line: clap definitions (one `XxxArgs` per subcommand, each in
//! its own file with the code that executes it), dispatch, and the helpers
//! all commands share for reading runs and printing.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::{Parser, Subcommand};

use crate::ingest::Run;
use crate::store::{self, Loaded};

pub mod campaign;
pub mod compare;
pub mod history;
pub mod ingest;
pub mod jit;
pub mod peers;
pub mod plot;
pub mod profile;
pub mod report;
pub mod summary;
pub mod validate;
pub mod wast;

/// Analyze traplab runs: the JSON Lines a traplab kernel streams over its
/// serial line.
///
/// Exit codes (the project's one scheme, harness/src/exit.rs):
///   0  success: clean, nothing regressed, already stored;
///   1  problems found: validate found problems (an empty stream, a lost
///      header, damage), compare found a regression, a campaign had a kernel
///      crash or an incomplete stream;
///   2  bad setup or usage: a missing or unreadable file, a run that cannot
///      be analysed, bad options.
/// Codes 3 (kernel crash), 4 (timeout) and 5 (interrupted) belong to the tools
/// that run the kernel; traplab reads captures and never returns them. With
/// several files the worst code wins.
#[derive(Debug, Parser)]
#[command(name = "traplab", version, about, long_about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Validate(validate::ValidateArgs),
    Summary(summary::SummaryArgs),
    Compare(compare::CompareArgs),
    Ingest(ingest::IngestArgs),
    Jit(jit::JitArgs),
    Wast(wast::WastArgs),
    Campaign(campaign::CampaignArgs),
    Peers(peers::PeersArgs),
    History(history::HistoryArgs),
    Plot(plot::PlotArgs),
    Profile(profile::ProfileArgs),
    Report(report::ReportArgs),
}

/// What a successful command found, as the exit status it earns; `main`
/// maps it to the code (ordered by severity: the worst of several wins).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    /// Exit 0.
    Clean,
    /// Exit 1: problems in a run, or a regression.
    Findings,
    /// Exit 2: bad input (a file missing or unreadable) — already reported,
    /// after the command went on with the other files.
    BadInput,
}

impl Exit {
    /// The exit status in the project's scheme (harness/src/exit.rs).
    pub fn code(self) -> u8 {
        match self {
            Exit::Clean => 0,
            Exit::Findings => 1,
            Exit::BadInput => 2,
        }
    }
}

pub fn run(cli: Cli) -> Result<Exit> {
    match cli.command {
        Command::Validate(a) => validate::run(a),
        Command::Summary(a) => summary::run(a),
        Command::Compare(a) => compare::run(a),
        Command::Ingest(a) => ingest::run(a),
        Command::Jit(a) => jit::run(a),
        Command::Wast(a) => wast::run(a),
        Command::Campaign(a) => campaign::run(a),
        Command::Peers(a) => peers::run(a),
        Command::History(a) => history::run(a),
        Command::Plot(a) => plot::run(a),
        Command::Profile(a) => profile::run(a),
        Command::Report(a) => report::run(a),
    }
}

/// Default results folder: `$TRAPLAB_RESULTS`, else `results` in the
/// current directory (the repository root when run through cargo).
pub const RESULTS_ENV: &str = "TRAPLAB_RESULTS";

pub fn default_results() -> PathBuf {
    PathBuf::from("results")
}

/// Write to stdout; a closed pipe (`traplab summary … | head`) is not an
/// error worth a message.
pub fn emit(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

/// Diagnostics shown by commands other than `validate` before they go on
/// with the data that survived; more than this are summarized.
const SHOWN_DIAGNOSTICS: usize = 10;

/// Print a run's diagnostics to stderr (the data is still used).
pub fn warn_diagnostics(run: &Run) {
    let total = run.diagnostics.len();
    for line in run.diagnostic_lines().take(SHOWN_DIAGNOSTICS) {
        eprintln!("{line}");
    }
    if total > SHOWN_DIAGNOSTICS {
        eprintln!(
            "{}: {} more problem(s); `traplab validate {}` lists them all",
            run.source,
            total - SHOWN_DIAGNOSTICS,
            run.source
        );
    }
}

/// Load a RUN argument, report its diagnostics, and refuse runs that cannot
/// be analysed at all.
pub fn load_usable(path: &Path) -> Result<Loaded> {
    let loaded = store::load(path)?;
    warn_diagnostics(&loaded.run);
    loaded.run.usable()?;
    Ok(loaded)
}
