//! `traplab-run`: build the kernel and suite, boot them in QEMU, capture the
//! record stream to a file, and exit with a code that says how it ended.
//!
//! Exit codes: 0 success; 1 the kernel reported a failed experiment; 2 bad
//! setup (usage, missing QEMU or KVM, build failure); 3 kernel crash (fault,
//! panic, triple fault); 4 timeout. The capture keeps whatever arrived.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use clap::Parser;
use traplab_harness::qemu::{self, Launch};
use traplab_harness::{build, session};
use traplab_workloads::SuiteName;

/// Boot the traplab kernel in QEMU and capture its record stream.
#[derive(Debug, Parser)]
#[command(name = "traplab-run", version, about, long_about)]
struct Args {
    /// Where to write the captured serial stream (created or replaced).
    #[arg(long, value_name = "FILE")]
    capture: PathBuf,
    /// Suite image to build and boot.
    #[arg(long, value_enum, default_value = "default")]
    suite: SuiteName,
    /// QEMU profile from qemu/: tcg (real-time), icount (deterministic), kvm,
    /// iso (the GRUB image of scripts/build-iso.sh, multiboot2, under TCG).
    #[arg(long, default_value = "tcg", value_parser = qemu::PROFILES)]
    profile: String,
    /// Timed samples per experiment.
    #[arg(long, default_value_t = 1000)]
    samples: u32,
    /// Untimed warm-up iterations per experiment.
    #[arg(long, default_value_t = 50)]
    warmup: u32,
    /// Traps in the heap-stability check (0 skips it).
    #[arg(long, default_value_t = 100_000)]
    heap_traps: u32,
    /// Extra kernel boot options, e.g. "only=trap. configs=signals.bt_off"
    /// or "test=kernel_fault".
    #[arg(long, default_value = "")]
    boot_args: String,
    /// Build the kernel with this many cycles of extra delay in exception
    /// dispatch (validation of regression detection; 0 = normal kernel).
    #[arg(long, default_value_t = 0)]
    dispatch_delay: u64,
    /// Use this kernel ELF instead of building one.
    #[arg(long, value_name = "ELF")]
    kernel: Option<PathBuf>,
    /// Use this suite image instead of building one.
    #[arg(long, value_name = "IMG", conflicts_with = "campaign")]
    suite_image: Option<PathBuf>,
    /// Build the suite with this fault-injection campaign spec (TOML; a
    /// bare name such as `default` or `smoke` is a shipped spec of
    /// injectors/campaigns/). Pair it with `--boot-args only=campaign.` to
    /// run the campaign alone.
    #[arg(long, value_name = "SPEC")]
    campaign: Option<PathBuf>,
    /// Kill QEMU after this many seconds.
    #[arg(long, default_value_t = 600)]
    timeout: u64,
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(code) => ExitCode::from(code as u8),
        Err(e) => {
            eprintln!("traplab-run: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(args: Args) -> Result<i32> {
    qemu::check_profile_usable(&args.profile)?;
    if qemu::version().is_none() {
        anyhow::bail!(
            "{} is not installed or does not run; install it with: apt-get install -y qemu-system-x86",
            qemu::binary()
        );
    }
    if qemu::boots_iso(&args.profile) {
        let missing = traplab_harness::iso::missing_tools();
        if !missing.is_empty() {
            anyhow::bail!(
                "--profile iso builds a GRUB image and needs {}; install with: apt-get install -y {}",
                missing.join(", "),
                missing.join(" ")
            );
        }
    }
    let kernel = match args.kernel {
        Some(k) => {
            qemu::exists(&k)?;
            k
        }
        None => build::kernel(args.dispatch_delay)?,
    };
    let suite = match (args.suite_image, &args.campaign) {
        (Some(s), _) => {
            qemu::exists(&s)?;
            s
        }
        (None, Some(spec)) => build::suite_with_campaign(args.suite, spec)?,
        (None, None) => build::suite(args.suite)?,
    };
    let launch = Launch {
        kernel,
        suite: Some(suite),
        profile: args.profile.clone(),
        boot_args: format!(
            "samples={} warmup={} heap_traps={} {}",
            args.samples, args.warmup, args.heap_traps, args.boot_args
        ),
    };
    let report = session::run(
        &launch,
        &args.capture,
        Duration::from_secs(args.timeout),
        std::io::stderr().is_terminal(),
    )?;
    eprintln!(
        "traplab-run: {} ({} records{}, QEMU status {}, {:.1}s, profile {}) -> {}",
        report.ending.describe(),
        report.records,
        if report.damaged_lines > 0 {
            format!(", {} damaged lines", report.damaged_lines)
        } else {
            String::new()
        },
        report
            .qemu_status
            .map_or_else(|| "killed".to_string(), |s| s.to_string()),
        report.elapsed.as_secs_f64(),
        args.profile,
        args.capture.display()
    );
    Ok(report.ending.exit_code())
}
