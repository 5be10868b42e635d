//! `traplab-run`: build the kernel and suite, boot them in QEMU, capture the
//! record stream to a file, and exit with a code that says how it ended.
//! `--platform linux-guest` boots the Linux peer as `/init` of a Linux guest
//! in the same QEMU profile instead; `--platform linux-host` runs the peer
//! on this machine.
//!
//! Exit codes: the scheme of `traplab_harness::exit` (README.md, "Exit
//! status"): 0 success; 1 an experiment failed; 2 bad setup (usage, missing
//! QEMU or KVM, build failure, a suite image that does not verify, or
//! `setup.*` problems the kernel or peer reported); 3 kernel crash; 4
//! timeout; 5 interrupted (QEMU or the peer killed from outside, or this
//! process got SIGINT/SIGTERM/SIGHUP: it stops QEMU first). The capture
//! keeps whatever arrived, and a partial one says so.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use clap::Parser;
use traplab_harness::linux::{self, GuestLaunch, HostLaunch};
use traplab_harness::qemu::{self, Launch};
use traplab_harness::{Target, build, child, exit, preflight, session};
use traplab_workloads::SuiteName;

/// Boot the traplab kernel in QEMU and capture its record stream (or run
/// the same suite on a Linux peer: --platform).
#[derive(Debug, Parser)]
#[command(name = "traplab-run", version, about, long_about, after_help = exit::help())]
struct Args {
    /// Where to write the captured serial stream. A file that already
    /// holds something is refused (see --force); an empty one is filled.
    #[arg(long, value_name = "FILE", required_unless_present = "build_only")]
    capture: Option<PathBuf>,
    /// Replace a --capture file that already holds something.
    #[arg(long)]
    force: bool,
    /// Build what the platform runs (the lab kernel, or the Linux peer for
    /// linux-guest and linux-host), print `kernel=PATH` or `peer=PATH` on
    /// standard output, and exit without booting.
    #[arg(long, conflicts_with_all = ["capture", "force"])]
    build_only: bool,
    /// What runs the suite: lab-kernel (the ring-0 lab kernel in QEMU),
    /// linux-guest (the Linux peer, traplab-peer, as /init of Debian's cloud
    /// kernel in the same QEMU profile; the kernel comes from
    /// $TRAPLAB_LINUX_KERNEL or the cache traplab_ensure_linux_guest fills),
    /// linux-host (the Linux peer run directly on this machine, no QEMU,
    /// mode "host").
    #[arg(long, default_value = "lab-kernel", value_parser = linux::PLATFORMS)]
    platform: String,
    /// Suite image to build and boot.
    #[arg(long, value_enum, default_value = "default")]
    suite: SuiteName,
    /// QEMU profile from qemu/: tcg (real-time), icount (deterministic), kvm,
    /// iso (the GRUB image of scripts/build-iso.sh, multiboot2, under TCG
    /// from SeaBIOS; lab kernel only), iso-uefi (the same image from UEFI
    /// firmware, OVMF). Default tcg; linux-host runs without QEMU and takes
    /// none.
    #[arg(long, value_parser = qemu::PROFILES)]
    profile: Option<String>,
    /// Time budget per experiment and configuration, in seconds of the
    /// platform's clock (virtual time under icount): once spent, the
    /// experiment stops after the iteration in progress, skipping the rest
    /// of its warm-up, but always takes one timed sample (boot option
    /// budget_ms=). For suites with slow benchmarks.
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    budget: Option<u64>,
    /// Timed samples per experiment (at least 1).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
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
    /// Use this kernel ELF instead of building one (lab kernel).
    #[arg(long, value_name = "ELF")]
    kernel: Option<PathBuf>,
    /// Use this Linux peer executable (static) instead of building
    /// traplab-peer (linux-guest, linux-host).
    #[arg(long, value_name = "EXE")]
    peer: Option<PathBuf>,
    /// Boot this Linux kernel (bzImage) in the guest instead of
    /// $TRAPLAB_LINUX_KERNEL or the cached Debian cloud kernel.
    #[arg(long, value_name = "BZIMAGE")]
    linux_kernel: Option<PathBuf>,
    /// Use this suite image instead of building one.
    #[arg(long, value_name = "IMG", conflicts_with = "campaign")]
    suite_image: Option<PathBuf>,
    /// Build the suite with this fault-injection campaign spec (TOML; a
    /// bare name such as `default` or `smoke` is a shipped spec of
    /// injectors/campaigns/). Pair it with `--boot-args only=campaign.` to
    /// run the campaign alone.
    #[arg(long, value_name = "SPEC")]
    campaign: Option<PathBuf>,
    /// The CPU profile the suite is compiled for (traplab_suite::cpu):
    /// qemu-max, x86-64-v2, x86-64-v3, sse4.1-only, host. Default: host
    /// for the kvm profile (-cpu host), else qemu-max (TCG's -cpu max; the
    /// Linux host peer runs the same code as the lab kernel's QEMU).
    #[arg(long, value_name = "NAME", value_parser = traplab_workloads::CPU_PROFILE_NAMES, conflicts_with = "suite_image")]
    cpu_profile: Option<String>,
    /// Kill QEMU (or the host peer) after this many seconds (at least 1).
    #[arg(long, default_value_t = 600, value_parser = clap::value_parser!(u64).range(1..))]
    timeout: u64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    // From here on SIGINT/SIGTERM/SIGHUP stop the run (QEMU is killed, the
    // capture kept) instead of killing this process under it.
    child::catch_interrupts();
    match run(args) {
        Ok(code) => ExitCode::from(code as u8),
        Err(e) => {
            eprintln!("traplab-run: error: {e:#}");
            // A build cut short by Ctrl-C fails too; say what happened.
            if let Some(sig) = child::interrupt() {
                eprintln!(
                    "traplab-run: interrupted by {} before the run started; nothing was captured",
                    child::signal_name(sig)
                );
                return ExitCode::from(exit::INTERRUPTED);
            }
            ExitCode::from(exit::SETUP)
        }
    }
}

fn run(args: Args) -> Result<i32> {
    if let Some(capture) = &args.capture {
        preflight::check_capture_target(capture, args.force)?;
    }
    let lab = args.platform == "lab-kernel";
    let host = args.platform == "linux-host";
    if !lab {
        if args.kernel.is_some() || args.dispatch_delay != 0 {
            anyhow::bail!(
                "--kernel and --dispatch-delay concern the lab kernel, not --platform {}",
                args.platform
            );
        }
    } else if args.peer.is_some() || args.linux_kernel.is_some() {
        anyhow::bail!("--peer and --linux-kernel need --platform linux-guest or linux-host");
    }
    if host && args.profile.is_some() {
        anyhow::bail!(
            "--platform linux-host runs the peer on this machine, without QEMU; --profile does not apply"
        );
    }
    let profile = args.profile.clone().unwrap_or_else(|| "tcg".into());
    if args.build_only {
        return build_only(&args);
    }
    if !host {
        if lab {
            qemu::check_profile_usable(&profile)?;
        } else {
            linux::check_guest_profile(&profile)?;
        }
        if qemu::version().is_none() {
            anyhow::bail!(
                "{} is not installed or does not run; install it with: apt-get install -y qemu-system-x86",
                qemu::binary()
            );
        }
    }
    if lab && qemu::boots_iso(&profile) {
        let missing = traplab_harness::iso::missing_tools();
        if !missing.is_empty() {
            anyhow::bail!(
                "--profile {profile} builds a GRUB image and needs {}; install with: apt-get install -y {}",
                missing.join(", "),
                missing.join(" ")
            );
        }
    }
    // The guest kernel before any build: a missing one is a setup error
    // that should not wait for minutes of compiling.
    let guest_kernel = match (&args.linux_kernel, args.platform.as_str()) {
        (Some(k), _) => {
            qemu::exists(k)?;
            Some(linux::GuestKernel::at(k))
        }
        (None, "linux-guest") => Some(linux::guest_kernel()?),
        _ => None,
    };
    // A given image is checked before anything is built; a built one too
    // (cheap, and a stale cache must not boot).
    if let Some(s) = &args.suite_image {
        preflight::check_suite_image(s)?;
    }
    let cpu = traplab_workloads::cpu_profile(args.cpu_profile.as_deref().unwrap_or(
        if profile == "kvm" && !host {
            "host"
        } else {
            "qemu-max"
        },
    ))?;
    let suite = match (args.suite_image, &args.campaign) {
        (Some(s), _) => s,
        (None, Some(spec)) => build::suite_with_campaign(args.suite, &cpu, spec)?,
        (None, None) => build::suite_for(args.suite, &cpu)?,
    };
    preflight::check_suite_image(&suite)?;
    let budget = args
        .budget
        .map_or_else(String::new, |s| format!("budget_ms={} ", s * 1000));
    let boot_args = format!(
        "samples={} warmup={} heap_traps={} {budget}{}",
        args.samples, args.warmup, args.heap_traps, args.boot_args
    );
    let target = if lab {
        let kernel = match args.kernel {
            Some(k) => {
                qemu::exists(&k)?;
                k
            }
            None => build::kernel(args.dispatch_delay)?,
        };
        Target::LabKernel(Launch {
            kernel,
            suite: Some(suite),
            profile: profile.clone(),
            boot_args,
        })
    } else {
        let peer = match args.peer {
            Some(p) => {
                qemu::exists(&p)?;
                p
            }
            None => build::peer()?,
        };
        match guest_kernel {
            Some(kernel) => {
                eprintln!(
                    "traplab-run: Linux guest kernel {} ({})",
                    kernel.describe(),
                    kernel.vmlinuz.display()
                );
                Target::LinuxGuest(GuestLaunch {
                    kernel: kernel.vmlinuz,
                    initramfs: linux::initramfs(&peer, &suite)?,
                    profile: profile.clone(),
                    boot_args,
                })
            }
            None => Target::LinuxHost(HostLaunch {
                peer,
                suite,
                boot_args,
            }),
        }
    };
    if let Some(sig) = child::interrupt() {
        eprintln!(
            "traplab-run: interrupted by {} before the boot; nothing was captured",
            child::signal_name(sig)
        );
        return Ok(i32::from(exit::INTERRUPTED));
    }
    let capture = args
        .capture
        .as_deref()
        .expect("--capture is required to run");
    let report = session::run_target(
        &target,
        capture,
        Duration::from_secs(args.timeout),
        std::io::stderr().is_terminal(),
    )?;
    let (status_name, where_) = if host {
        ("peer status", format!("platform {}", args.platform))
    } else if lab {
        ("QEMU status", format!("profile {profile}"))
    } else {
        (
            "QEMU status",
            format!("platform {}, profile {profile}", args.platform),
        )
    };
    for problem in &report.setup_problems {
        eprintln!(
            "traplab-run: setup problem reported by the {}: {problem}",
            platform_noun(&args.platform)
        );
    }
    let who = if host { "the peer" } else { "QEMU" };
    let status = match (report.qemu_status, report.signal) {
        _ if report.harness_interrupted => report.signal_story(),
        (Some(s), Some(_)) => format!("{status_name} {s}, {who} {}", report.signal_story()),
        (None, Some(_)) => format!("{who} {}", report.signal_story()),
        (Some(s), None) => format!("{status_name} {s}"),
        (None, None) => format!("{who} killed at the time bound"),
    };
    if report.reboots > 0 {
        eprintln!(
            "traplab-run: {} kernel crash(es) during campaign injections, each resumed by booting a fresh kernel at the next index (reboot records in the capture)",
            report.reboots
        );
    }
    eprintln!(
        "traplab-run: {} ({} records{}, {status}, {:.1}s, {where_}) -> {}",
        report.ending.describe(),
        report.records,
        if report.damaged_lines > 0 {
            format!(", {} damaged lines", report.damaged_lines)
        } else {
            String::new()
        },
        report.elapsed.as_secs_f64(),
        capture.display()
    );
    if report.partial() {
        let size = std::fs::metadata(capture).map_or(0, |m| m.len());
        if size == 0 {
            eprintln!(
                "traplab-run: nothing was captured ({} is empty)",
                capture.display()
            );
        } else {
            eprintln!(
                "traplab-run: the capture is partial (no end record): {} ({size} bytes) keeps what arrived",
                capture.display()
            );
        }
    }
    Ok(report.ending.exit_code())
}

/// Who runs the suite on `platform`, for messages.
fn platform_noun(platform: &str) -> &'static str {
    match platform {
        "lab-kernel" => "kernel",
        _ => "peer",
    }
}

/// `--build-only`: build the platform's executable and print its path.
fn build_only(args: &Args) -> Result<i32> {
    if args.platform == "lab-kernel" {
        let kernel = match &args.kernel {
            Some(k) => {
                qemu::exists(k)?;
                k.clone()
            }
            None => build::kernel(args.dispatch_delay)?,
        };
        println!("kernel={}", kernel.display());
    } else {
        let peer = match &args.peer {
            Some(p) => {
                qemu::exists(p)?;
                p.clone()
            }
            None => build::peer()?,
        };
        println!("peer={}", peer.display());
    }
    Ok(i32::from(exit::SUCCESS))
}
