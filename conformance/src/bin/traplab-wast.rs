//! `traplab-wast`: run spec-style `.wast` scripts inside the traplab kernel
//! under QEMU and print a pass/fail table ending with
//! `N passed, M failed, K unsupported`.
//!
//! Exit status: 0 every supported command passed under both configurations
//! and the run ended normally; 1 a command failed; 2 bad input (a script
//! that does not parse or is wrong: the message names file and line) or bad
//! setup (build failure, no QEMU); 3 kernel crash; 4 timeout.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Parser;
use traplab_conformance::{LoadError, boot, build_image, collate, expand_script_paths};
use traplab_harness::{build, qemu};

/// Run .wast scripts (module, register, assert_return, assert_trap,
/// assert_exhaustion, assert_unlinkable, invoke) inside the traplab kernel;
/// assert_invalid and assert_malformed are decided on the host.
///
/// Each module is precompiled on the host for both trap modes (signals-based
/// and explicit checks), packed into target/traplab/wast.img with the
/// scripts' commands, and the kernel runs every command under
/// signals.bt_off and explicit.bt_off. The table has one row per command:
/// pass/FAIL under each configuration, for assert_trap the wasmtime trap
/// code and the CPU vector that raised it (explicit checks raise none), and
/// why a command failed. assert_invalid and assert_malformed are decided on
/// the host with the kernel's engine configuration (the module must be
/// refused); their records say "checked on the host, not run in the
/// kernel" and the table marks them "(host)". Commands this mode cannot run
/// (v128 and reference values, components, threads, ...) are listed with
/// the reason and counted as unsupported. The last line counts (command,
/// configuration) pairs: `N passed, M failed, K unsupported`.
///
/// Exit status: 0 nothing failed and the run ended normally; 1 a command
/// failed; 2 bad input (names the file and line) or bad setup; 3 kernel
/// crash; 4 timeout.
#[derive(Debug, Parser)]
#[command(
    name = "traplab-wast",
    version,
    about,
    long_about,
    after_help = "Examples: traplab-wast conformance/scripts/*.wast\n          traplab-wast conformance/scripts/spec"
)]
struct Args {
    /// The .wast scripts, run in this order; a folder stands for the
    /// *.wast files directly in it, sorted by name. Their file names must
    /// differ (results are named `wast.<file name>:<line>`).
    #[arg(value_name = "FILE|DIR", required = true)]
    files: Vec<PathBuf>,
    /// QEMU profile from qemu/ (see qemu/README.md): tcg is real-time TCG,
    /// icount counts guest instructions (deterministic).
    #[arg(long, default_value = "tcg", value_parser = qemu::PROFILES)]
    profile: String,
    /// Where to write the captured record stream [default: target/traplab/wast.jsonl].
    #[arg(long, value_name = "FILE")]
    capture: Option<PathBuf>,
    /// Kill QEMU after this many seconds.
    #[arg(long, value_name = "S", default_value_t = 300)]
    timeout: u64,
}

/// Failures before the boot: all exit with status 2.
const BAD_INPUT: u8 = 2;

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("traplab-wast: error: {e:#}");
            ExitCode::from(BAD_INPUT)
        }
    }
}

fn run(args: Args) -> Result<u8> {
    qemu::check_profile_usable(&args.profile)?;
    let image = boot::image_path();
    let files = expand_script_paths(&args.files).context("bad script argument")?;
    let scripts = match build_image(&files, &image) {
        Ok(scripts) => scripts,
        Err(LoadError::Script(e)) => return Err(anyhow::Error::new(e).context("bad script")),
        Err(LoadError::Other(e)) => return Err(e.context("building the suite image")),
    };
    if qemu::version().is_none() {
        anyhow::bail!(
            "{} is not installed or does not run; install it with: apt-get install -y qemu-system-x86",
            qemu::binary()
        );
    }
    let kernel = build::kernel(0).context("building the kernel")?;
    let capture = args.capture.unwrap_or_else(boot::default_capture_path);
    let run = boot::boot(
        &kernel,
        &image,
        &args.profile,
        &capture,
        Duration::from_secs(args.timeout),
        std::io::stderr().is_terminal(),
    )?;
    for damaged in &run.damaged {
        eprintln!(
            "traplab-wast: warning: {}:{}: damaged record ({})",
            capture.display(),
            damaged.line,
            damaged.reason
        );
    }
    let manifest_scripts: Vec<_> = scripts.iter().map(|s| s.script.clone()).collect();
    let collation = collate(&manifest_scripts, &run.records);
    let totals = collation.totals();
    eprintln!(
        "traplab-wast: {} ({} records, {:.1}s, profile {}) -> {}",
        run.report.ending.describe(),
        run.report.records,
        run.report.elapsed.as_secs_f64(),
        args.profile,
        capture.display()
    );
    print!("{}", collation.render());
    Ok(boot::exit_code(run.report.ending, &totals))
}
