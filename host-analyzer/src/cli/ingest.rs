//! `traplab ingest`: store a captured run under `results/`.

use std::path::PathBuf;
use std::process::Command;
use std::time::SystemTime;

use anyhow::{Context, Result};
use clap::Args;

use super::{Outcome, RESULTS_ENV, default_results, emit, load_usable};
use crate::store::{self, Meta};

/// Store a captured run under the results folder.
///
/// Stores it as
/// `<results>/<short-commit>[-dirty]/<timestamp>-<suite>/run.jsonl` (byte for
/// byte, boot noise included) with a `meta.json` (commit, dirty flag, commit
/// date, store date, host, QEMU version, mode, status). Prints the run
/// folder.
///
/// A damaged run is stored with a warning (its good data is still useful);
/// a run with no records or an unknown schema is refused.
#[derive(Debug, Args)]
pub struct IngestArgs {
    /// The captured serial output, or `-` for standard input.
    #[arg(value_name = "FILE|-")]
    pub run: PathBuf,
    /// Results folder.
    #[arg(long, value_name = "DIR", env = RESULTS_ENV, default_value_os_t = default_results())]
    pub results: PathBuf,
    /// Also save the run as the named baseline (results/baseline/NAME/),
    /// replacing an older one; compare against it with `--baseline NAME`.
    #[arg(long, value_name = "NAME")]
    pub save_baseline: Option<String>,
    /// Host name to record (default: this machine's).
    #[arg(long)]
    pub host: Option<String>,
    /// QEMU version to record (default: asked from qemu-system-x86_64 when the
    /// mode is not bare-metal).
    #[arg(long, value_name = "VERSION")]
    pub qemu_version: Option<String>,
    /// Committer date of the kernel commit (ISO 8601; default: asked from git
    /// in the current directory). Orders `history`.
    #[arg(long, value_name = "DATE")]
    pub commit_date: Option<String>,
}

pub fn run(args: IngestArgs) -> Result<Outcome> {
    if let Some(name) = &args.save_baseline {
        store::check_baseline_name(name)?;
    }
    let loaded = load_usable(&args.run)?;
    let now = SystemTime::now();
    let mut meta = Meta::from_run(&loaded.run, now);
    meta.host = args.host.or_else(hostname);
    meta.qemu_version = args.qemu_version.or_else(|| {
        if meta.mode == "bare-metal" {
            None
        } else {
            qemu_version()
        }
    });
    meta.commit_date = args.commit_date.or_else(|| commit_date(&meta.commit));
    let dir = store::store(&args.results, &loaded.bytes, &meta, now).context("storing the run")?;
    let text = format!("{}\n", dir.display());
    if let Some(name) = &args.save_baseline {
        let b = store::save_baseline(&args.results, name, &dir)?;
        eprintln!("saved as baseline {name:?} ({})", b.display());
    }
    emit(&text)?;
    Ok(Outcome::Clean)
}

fn hostname() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
}

/// First line of a command's stdout, if it ran and succeeded.
fn first_line(cmd: &mut Command) -> Option<String> {
    let out = cmd.stderr(std::process::Stdio::null()).output().ok()?;
    if !out.status.success() {
        return None;
    }
    String::from_utf8(out.stdout)
        .ok()?
        .lines()
        .next()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
}

fn qemu_version() -> Option<String> {
    first_line(Command::new("qemu-system-x86_64").arg("--version"))
}

fn commit_date(commit: &str) -> Option<String> {
    if commit == "unknown" {
        return None;
    }
    first_line(Command::new("git").args(["show", "-s", "--format=%cI", commit, "--"]))
}
