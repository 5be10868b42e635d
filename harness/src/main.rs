//! `traplab-run`: build the kernel and suite, boot them in QEMU, capture the
//! record stream to a file, and exit with a code that says how it ended.
//! `--platform linux-guest` boots the Linux peer as `/init` of a Linux guest
//! in the same QEMU profile instead; `--platform linux-host` runs the peer
//! on this machine.
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
use traplab_harness::linux::{self, GuestLaunch, HostLaunch};
use traplab_harness::qemu::{self, Launch};
use traplab_harness::{Target, build, session};
use traplab_workloads::SuiteName;

/// Boot the traplab kernel in QEMU and capture its record stream (or run
/// the same suite on a Linux peer: --platform).
#[derive(Debug, Parser)]
#[command(name = "traplab-run", version, about, long_about)]
struct Args {
    /// Where to write the captured serial stream (created or replaced).
    #[arg(long, value_name = "FILE")]
    capture: PathBuf,
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
    /// iso (the GRUB image of scripts/build-iso.sh, multiboot2, under TCG;
    /// lab kernel only). Default tcg; linux-host runs without QEMU and takes
    /// none.
    #[arg(long, value_parser = qemu::PROFILES)]
    profile: Option<String>,
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
    /// Kill QEMU (or the host peer) after this many seconds.
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
                "--profile iso builds a GRUB image and needs {}; install with: apt-get install -y {}",
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
    let suite = match (args.suite_image, &args.campaign) {
        (Some(s), _) => {
            qemu::exists(&s)?;
            s
        }
        (None, Some(spec)) => build::suite_with_campaign(args.suite, spec)?,
        (None, None) => build::suite(args.suite)?,
    };
    let boot_args = format!(
        "samples={} warmup={} heap_traps={} {}",
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
    let report = session::run_target(
        &target,
        &args.capture,
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
    eprintln!(
        "traplab-run: {} ({} records{}, {status_name} {}, {:.1}s, {where_}) -> {}",
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
        args.capture.display()
    );
    Ok(report.ending.exit_code())
}
