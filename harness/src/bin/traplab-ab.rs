//! `traplab-ab`: boot two builds alternately (A, B, A, B…) under identical
//! QEMU conditions and pool each side's boots into one run, ready for
//! `traplab compare A B`. `scripts/compare-commits.sh` uses it with two git
//! worktrees; `scripts/validate-compare.sh` with the dispatch-delay knob.
//!
//! A side is one of:
//!
//! - `this`: the kernel and suite of this workspace (or of `--source DIR`);
//! - `delay:N`: the same kernel built with N cycles of extra delay in
//!   exception dispatch (the validation knob), and the same suite image;
//! - `source:DIR`: the kernel and suite of another checkout (a git worktree
//!   of another commit), each built by that checkout's own code with cargo;
//!   set `CARGO_TARGET_DIR` to share one build of wasmtime between them.
//!
//! Both sides boot with this workspace's harness and QEMU profiles, so the
//! only difference between them is the builds under test.
//!
//! Writes `OUT/a-<i>.jsonl`, `OUT/b-<i>.jsonl` (each boot), the list of
//! them in `OUT/boots.txt`, and the pooled `OUT/a.jsonl`, `OUT/b.jsonl`.
//! With `--compare` it then prints `traplab compare` of the pooled runs and
//! which regressions every pair of an A boot and a B boot confirms (see
//! `traplab_harness::ab::Verdicts`), and exits 1 on a confirmed regression;
//! without, it prints the captures. Exit codes otherwise as `traplab-run`;
//! on anything but success (any boot) nothing is pooled and the worst
//! ending decides.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Result, bail};
use clap::Parser;
use traplab_harness::ab::{self, Builder, Plan, Side};
use traplab_harness::{Ending, qemu};
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
    /// After pooling, compare A → B with `traplab compare` (printed), check
    /// each regression against every pair of an A boot and a B boot, and exit 1 when a
    /// regression is confirmed.
    #[arg(long)]
    compare: bool,
    /// Threshold of the comparison, percent.
    #[arg(long, default_value_t = 5.0)]
    threshold: f64,
    /// Build `this` and `delay:N` sides from the checkout at DIR instead of
    /// this workspace (a worktree pinned at one commit, so edits made here
    /// while a long validation runs cannot leak into one side only).
    #[arg(long, value_name = "DIR")]
    source: Option<PathBuf>,
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
    if args.compare {
        ab::analyzer()?;
    }
    let (a, b) = (Side::parse(&args.a)?, Side::parse(&args.b)?);
    let mut builder = Builder::new(args.source.as_deref(), args.suite)?;
    let built_a = builder.build(&a, "a")?;
    let built_b = builder.build(&b, "b")?;
    let plan = Plan {
        profile: args.profile.clone(),
        boot_args: format!(
            "samples={} warmup={} heap_traps={} {}",
            args.samples, args.warmup, args.heap_traps, args.boot_args
        ),
        repeat: args.repeat,
        timeout: Duration::from_secs(args.timeout),
        progress: std::io::stderr().is_terminal(),
    };
    let outcome = ab::run(&built_a, &built_b, &plan, &args.out)?;
    let list: String = outcome
        .captures
        .iter()
        .map(|c| format!("{}\n", c.display()))
        .collect();
    std::fs::write(args.out.join("boots.txt"), &list)?;
    if outcome.worst != Ending::Success {
        eprintln!(
            "traplab-ab: not every boot succeeded ({}); the captures are kept, nothing pooled",
            outcome.worst.describe()
        );
        return Ok(outcome.worst.exit_code());
    }
    if !args.compare {
        print!("{list}");
        return Ok(0);
    }
    let (pa, pb) = outcome.pooled.as_ref().expect("pooled after success");
    let table = ab::run_compare(pa, pb, args.threshold, &[])?;
    print!("{table}");
    let verdicts = ab::verdicts(&outcome, args.threshold)?;
    let confirmed = verdicts.confirmed_regressions();
    let unconfirmed = verdicts.unconfirmed_regressions();
    if args.repeat > 1 {
        println!();
        println!(
            "confirmation: a regression counts when the pooled runs and all {} pairs of one A boot and one B boot agree",
            args.repeat * args.repeat
        );
        for r in &confirmed {
            println!(
                "  confirmed    {:<44} {}",
                r.label(),
                verdicts.pair_verdicts(r)
            );
        }
        for r in &unconfirmed {
            println!(
                "  unconfirmed  {:<44} {}",
                r.label(),
                verdicts.pair_verdicts(r)
            );
        }
    } else if qemu::mode(&args.profile) != "icount" && !confirmed.is_empty() {
        println!();
        println!(
            "note: one boot per side under a real-time mode cannot tell a change from a disturbed boot; use --repeat 5 to confirm"
        );
    }
    println!();
    println!(
        "verdict: {} regression(s) confirmed{}",
        confirmed.len(),
        if unconfirmed.is_empty() {
            String::new()
        } else {
            format!(", {} not confirmed by every pair", unconfirmed.len())
        }
    );
    Ok(if confirmed.is_empty() { 0 } else { 1 })
}
