//! `traplab-iso`: build the kernel and a suite image and pack them into a
//! bootable GRUB image for bare metal (`scripts/build-iso.sh`).
//!
//! The image boots at once (no menu), puts GRUB's console and the kernel's
//! record stream on COM1 at 115200 baud 8N1, and passes the kernel a
//! command line with `mode=bare-metal` (or `--mode`). Write it to a USB
//! stick with `dd`, or boot it in QEMU with `traplab-run --profile iso`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Parser;
use traplab_harness::{build, iso};
use traplab_workloads::SuiteName;

/// Build a bootable GRUB image (ISO, also for `dd` to a USB stick) of the
/// traplab kernel and suite.
#[derive(Debug, Parser)]
#[command(name = "traplab-iso", version, about, long_about)]
struct Args {
    /// Where to write the image [default: target/traplab/traplab.iso].
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Suite image to build and pack.
    #[arg(long, value_enum, default_value = "default")]
    suite: SuiteName,
    /// Timed samples per experiment.
    #[arg(long, default_value_t = 1000)]
    samples: u32,
    /// Untimed warm-up iterations per experiment.
    #[arg(long, default_value_t = 50)]
    warmup: u32,
    /// Traps in the heap-stability check (0 skips it).
    #[arg(long, default_value_t = 100_000)]
    heap_traps: u32,
    /// Measurement mode recorded in the run header.
    #[arg(long, default_value = "bare-metal")]
    mode: String,
    /// Extra kernel options (single words, e.g. "only=trap. configs=signals.bt_off").
    #[arg(long, default_value = "")]
    boot_args: String,
    /// Build the validation kernel with this many cycles of extra delay in
    /// exception dispatch (0 = normal kernel).
    #[arg(long, default_value_t = 0)]
    dispatch_delay: u64,
    /// The CPU profile compiled code may use (traplab_suite::cpu). The
    /// default, x86-64-v2, runs on every x86-64 machine since 2008-2011;
    /// x86-64-v3 for AVX2-class machines; the kernel refuses a suite whose
    /// profile names features its CPU lacks, naming them.
    #[arg(long, value_name = "NAME", default_value = "x86-64-v2", value_parser = traplab_workloads::CPU_PROFILE_NAMES)]
    cpu_profile: String,
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("traplab-iso: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(args: Args) -> Result<()> {
    let missing = iso::missing_tools();
    if !missing.is_empty() {
        anyhow::bail!(
            "building a GRUB image needs {}; install with: apt-get install -y {}",
            missing.join(", "),
            missing.join(" ")
        );
    }
    let cmdline = format!(
        "samples={} warmup={} heap_traps={} {} mode={}",
        args.samples,
        args.warmup,
        args.heap_traps,
        args.boot_args.trim(),
        args.mode
    );
    let cmdline = cmdline.split_whitespace().collect::<Vec<_>>().join(" ");
    iso::check_cmdline(&cmdline)?;
    let kernel = build::kernel(args.dispatch_delay)?;
    let suite = build::suite_for(
        args.suite,
        &traplab_workloads::cpu_profile(&args.cpu_profile)?,
    )?;
    let out = args
        .out
        .unwrap_or_else(|| build::artifact_dir().join("traplab.iso"));
    let out = iso::build(
        &iso::IsoSpec {
            kernel: &kernel,
            suite: &suite,
            cmdline: &cmdline,
        },
        &out,
    )?;
    let size = std::fs::metadata(&out)?.len();
    eprintln!(
        "traplab-iso: {} ({:.1} MiB): kernel command line \"{cmdline}\"; serial console COM1 at {} baud 8N1",
        out.display(),
        size as f64 / (1024.0 * 1024.0),
        iso::SERIAL_BAUD
    );
    println!("{}", out.display());
    Ok(())
}
