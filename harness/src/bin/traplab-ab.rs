//! `traplab-ab`: boot two builds alternately (A, B, A, B…) under identical
//! QEMU conditions and pool each side's boots into one run, ready for
//! `traplab compare A B`. `scripts/compare-commits.sh` uses it with two git
//! worktrees; `scripts/validate-compare.sh` with the dispatch-delay knob.
//!
//! A side is one of:
//!
//! - `this`: the kernel and suite of this workspace;
//! - `delay:N`: this workspace's kernel built with N cycles of extra delay
//!   in exception dispatch (the validation knob), and this workspace's suite;
//! - `source:DIR`: the kernel and suite of another checkout (a git worktree
//!   of another commit), each built by that checkout's own code with cargo;
//!   set `CARGO_TARGET_DIR` to share one build of wasmtime between them.
//!
//! Both sides boot with this workspace's harness and QEMU profiles, so the
//! only difference between them is the builds under test.
//!
//! Writes `OUT/a-<i>.jsonl`, `OUT/b-<i>.jsonl` (each boot) and the pooled
//! `OUT/a.jsonl`, `OUT/b.jsonl`; prints the boot captures on standard
//! output, one per line. Exit codes as `traplab-run`; on anything but
//! success (any boot) nothing is pooled and the worst ending decides.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Parser;
use traplab_harness::qemu::{self, Launch};
use traplab_harness::{Ending, build, pool, session};
use traplab_workloads::SuiteName;

/// Boot two builds alternately and pool each side's runs for a comparison.
#[derive(Debug, Parser)]
#[command(name = "traplab-ab", version, about, long_about)]
struct Args {
    /// Side A (the base): `this`, `delay:N` or `source:DIR`.
    #[arg(long, value_name = "SIDE")]
    a: String,
    /// Side B (the candidate): `this`, `delay:N` or `source:DIR`.
    #[arg(long, value_name = "SIDE")]
    b: String,
    /// Folder for the captures (created).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Boots per side, alternating A, B, A, B…
    #[arg(long, default_value_t = 1)]
    repeat: u32,
    /// QEMU profile from qemu/ (tcg, icount, kvm, iso).
    #[arg(long, default_value = "tcg", value_parser = qemu::PROFILES)]
    profile: String,
    /// Suite image to build and boot.
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
    /// Extra kernel boot options for both sides.
    #[arg(long, default_value = "")]
    boot_args: String,
    /// Kill a boot after this many seconds.
    #[arg(long, default_value_t = 600)]
    timeout: u64,
}

/// What one side boots.
#[derive(Debug)]
enum Side {
    This,
    Delay(u64),
    Source(PathBuf),
}

impl Side {
    fn parse(text: &str) -> Result<Side> {
        if text == "this" {
            return Ok(Side::This);
        }
        if let Some(n) = text.strip_prefix("delay:") {
            return Ok(Side::Delay(n.parse().with_context(|| {
                format!("{text}: N must be an unsigned integer")
            })?));
        }
        if let Some(dir) = text.strip_prefix("source:") {
            let dir = PathBuf::from(dir);
            if !dir.join("Cargo.toml").is_file() {
                bail!(
                    "{text}: {} is not a checkout of the project (no Cargo.toml)",
                    dir.display()
                );
            }
            return Ok(Side::Source(std::fs::canonicalize(&dir)?));
        }
        bail!("side {text:?}: expected `this`, `delay:N` or `source:DIR`")
    }

    /// Build (or reuse) this side's kernel and suite image.
    fn artifacts(&self, label: &str, suite: SuiteName) -> Result<(PathBuf, PathBuf)> {
        Ok(match self {
            Side::This => (build::kernel(0)?, build::suite(suite)?),
            Side::Delay(n) => (build::kernel(*n)?, build::suite(suite)?),
            Side::Source(dir) => {
                let out = build::artifact_dir().join("ab").join(label);
                eprintln!("traplab-ab: building side {label} from {}", dir.display());
                let kernel = build::kernel_from(dir, 0, &out.join("runner-kernel"))?;
                let suite = build::suite_from(
                    dir,
                    suite,
                    &out.join(format!("suite-{}.img", suite.name())),
                )?;
                (kernel, suite)
            }
        })
    }
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(code) => ExitCode::from(code as u8),
        Err(e) => {
            eprintln!("traplab-ab: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(args: Args) -> Result<i32> {
    qemu::check_profile_usable(&args.profile)?;
    if args.repeat == 0 {
        bail!("--repeat must be at least 1");
    }
    let sides = [("a", Side::parse(&args.a)?), ("b", Side::parse(&args.b)?)];
    let built = sides
        .iter()
        .map(|(label, side)| side.artifacts(label, args.suite))
        .collect::<Result<Vec<_>>>()?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let boot_args = format!(
        "samples={} warmup={} heap_traps={} {}",
        args.samples, args.warmup, args.heap_traps, args.boot_args
    );
    let progress = std::io::stderr().is_terminal();
    let mut captures: [Vec<PathBuf>; 2] = [Vec::new(), Vec::new()];
    let mut worst = Ending::Success;
    let total = 2 * args.repeat;
    for round in 1..=args.repeat {
        for (i, ((label, _), (kernel, suite))) in sides.iter().zip(&built).enumerate() {
            let capture = args.out.join(format!("{label}-{round}.jsonl"));
            let launch = Launch {
                kernel: kernel.clone(),
                suite: Some(suite.clone()),
                profile: args.profile.clone(),
                boot_args: boot_args.clone(),
            };
            let n = 2 * (round - 1) + i as u32 + 1;
            eprintln!(
                "traplab-ab: boot {n}/{total}: side {}",
                label.to_uppercase()
            );
            let report = session::run(
                &launch,
                &capture,
                Duration::from_secs(args.timeout),
                progress,
            )?;
            eprintln!(
                "traplab-ab: side {} round {round}: {} ({} records, {:.1}s) -> {}",
                label.to_uppercase(),
                report.ending.describe(),
                report.records,
                report.elapsed.as_secs_f64(),
                capture.display()
            );
            println!("{}", capture.display());
            if report.ending.exit_code() > worst.exit_code() {
                worst = report.ending;
            }
            captures[i].push(capture);
        }
    }
    if worst != Ending::Success {
        eprintln!(
            "traplab-ab: not every boot succeeded ({}); the captures are kept, nothing pooled",
            worst.describe()
        );
        return Ok(worst.exit_code());
    }
    for ((label, _), files) in sides.iter().zip(&captures) {
        let paths: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
        let pooled = pool::pool(&paths).with_context(|| format!("pooling side {label}"))?;
        let out = args.out.join(format!("{label}.jsonl"));
        std::fs::write(&out, pooled).with_context(|| format!("writing {}", out.display()))?;
    }
    Ok(0)
}
