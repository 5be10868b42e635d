//! `traplab-serial`: capture a run from a real serial port (bare metal, a
//! board farm's console server, a pty) into a file, stopping at the run's
//! end record. `scripts/capture-serial.sh` sets the line up with `stty`
//! first and stores the capture with `traplab ingest`.
//!
//! Exit codes as `traplab-run` (`traplab_harness::exit`): 0 success; 1 the
//! kernel reported a failed experiment; 2 bad setup (the device cannot be
//! opened, the capture file already holds a run, or the kernel reported
//! `setup.*` problems); 3 kernel crash (fault or panic record, or the
//! device closed before the end record); 4 timeout (no end record in
//! time); 5 interrupted (Ctrl-C, SIGTERM). The capture keeps whatever
//! arrived.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use clap::Parser;
use traplab_harness::{child, exit, preflight, session};

/// Capture a traplab run from a serial device until its end record.
#[derive(Debug, Parser)]
#[command(name = "traplab-serial", version, about, long_about, after_help = exit::help())]
struct Args {
    /// The serial device (e.g. /dev/ttyUSB0), already set up (raw, 115200).
    device: PathBuf,
    /// Where to write the captured stream. A file that already holds
    /// something is refused (see --force); an empty one is filled.
    #[arg(long, value_name = "FILE")]
    capture: PathBuf,
    /// Replace a --capture file that already holds something.
    #[arg(long)]
    force: bool,
    /// Give up after this many seconds without an end record (at least 1).
    #[arg(long, default_value_t = 1800, value_parser = clap::value_parser!(u64).range(1..))]
    timeout: u64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    child::catch_interrupts();
    match run(args) {
        Ok(code) => ExitCode::from(code as u8),
        Err(e) => {
            eprintln!("traplab-serial: error: {e:#}");
            ExitCode::from(exit::SETUP)
        }
    }
}

fn run(args: Args) -> Result<i32> {
    preflight::check_capture_target(&args.capture, args.force)?;
    eprintln!(
        "traplab-serial: reading {} (power on or reset the machine now)...",
        args.device.display()
    );
    let report = session::capture_device(
        &args.device,
        &args.capture,
        Duration::from_secs(args.timeout),
        std::io::stderr().is_terminal(),
    )?;
    eprintln!(
        "traplab-serial: {} ({} records{}, {:.1}s) -> {}",
        report.ending.describe(),
        report.records,
        if report.damaged_lines > 0 {
            format!(", {} damaged lines", report.damaged_lines)
        } else {
            String::new()
        },
        report.elapsed.as_secs_f64(),
        args.capture.display()
    );
    for problem in &report.setup_problems {
        eprintln!("traplab-serial: setup problem reported by the kernel: {problem}");
    }
    if let Some(sig) = report.signal {
        eprintln!(
            "traplab-serial: interrupted by {}; the capture keeps what arrived",
            child::signal_name(sig)
        );
    }
    // The process may have a reader thread blocked on the port; exiting
    // ends it.
    Ok(report.ending.exit_code())
}
