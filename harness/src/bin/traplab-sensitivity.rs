//! `traplab-sensitivity`: how well `traplab compare` detects a slowdown:
//! no false alarm, and the smallest known slowdown it catches
//! (`scripts/compare-sensitivity.sh`). Not to be confused with `traplab
//! validate`, which checks a stream's integrity.
//!
//! For each QEMU profile asked for (default: `icount` and `tcg`):
//!
//! 1. **A/A**: the pinned commit against itself (the same kernel and suite
//!    on both sides, booted alternately). Any `regressed` verdict is a
//!    false alarm.
//! 2. **Known slowdown**: the pinned commit against the same commit built
//!    with `TRAPLAB_DISPATCH_DELAY_CYCLES=N` (N cycles of spinning in every
//!    exception dispatch), for each N asked for. Every trap experiment
//!    whose configuration raises a CPU exception (`signals.*`) goes through
//!    dispatch and should be flagged once N is large enough; the controls
//!    (`call.null`, which raises nothing; `trap.*` under `explicit.*`,
//!    where Cranelift's checks replace the exception; `compute.*`) must
//!    never be.
//!
//! A row counts as regressed when the analyzer says so for the pooled runs
//! and for every pair of an A boot and a B boot (`ab::Verdicts`). Prints one
//! table per profile and the smallest N detected, and writes them to
//! `OUT/sensitivity.md`. Exit 0 when no control ever regressed and
//! A/A raised no alarm; 1 otherwise; 2 on bad setup.

use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use clap::Parser;
use traplab_harness::ab::{self, Artifacts, Builder, Plan, Side, Verdicts};
use traplab_harness::{Ending, qemu};
use traplab_suite::{EngineVariant, TrapMode};
use traplab_wire::config;
use traplab_workloads::SuiteName;

/// Measure compare's sensitivity: A/A (no false alarm) and the
/// dispatch-delay knob (a known slowdown is caught).
#[derive(Debug, Parser)]
#[command(name = "traplab-sensitivity", version, about, long_about)]
struct Args {
    /// The checkout to measure (a worktree pinned at one commit).
    #[arg(long, value_name = "DIR")]
    source: PathBuf,
    /// Folder for captures and the report (created).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// QEMU profiles to measure under, comma-separated.
    #[arg(long, default_value = "icount,tcg", value_delimiter = ',')]
    profiles: Vec<String>,
    /// Dispatch delays to try, in cycles, comma-separated.
    #[arg(
        long,
        default_value = "16,32,64,128,256,1024,4096,16384,65536",
        value_delimiter = ','
    )]
    delays: Vec<u64>,
    /// Boots per side under real-time profiles (icount is exact: 1); see
    /// `ab::Verdicts` for why fewer than 5 risk false alarms.
    #[arg(long, default_value_t = 5)]
    repeat: u32,
    /// Suite image.
    #[arg(long, value_enum, default_value = "quick")]
    suite: SuiteName,
    /// Kernel options of every boot.
    #[arg(
        long,
        default_value = "samples=100 warmup=10 heap_traps=0 compute_samples=3"
    )]
    boot_args: String,
    /// Threshold of `traplab compare`, percent.
    /// Default: 5 in real-time modes, 0 (any change) under icount, where
    /// counts are exact.
    #[arg(long, value_name = "PCT")]
    threshold: Option<f64>,
    /// Kill a boot after this many seconds.
    #[arg(long, default_value_t = 300)]
    timeout: u64,
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("traplab-sensitivity: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// What a comparison says about the rows that matter here.
#[derive(Debug, Default)]
struct Judgement {
    /// `trap.*` under `signals.*`: (regressed, total).
    traps: (usize, usize),
    /// `trap.*` under `signals.bt_off`, without the stack overflow (whose
    /// recursion dwarfs any dispatch delay): (regressed, total).
    traps_bt_off: (usize, usize),
    /// Rows that must never regress, and those that did.
    controls: usize,
    controls_regressed: Vec<String>,
    /// Everything that regressed (for the A/A line).
    regressed: Vec<String>,
    /// Median ratio of the cheapest signals trap (for context).
    unreachable_ratio: Option<f64>,
    call_null: Vec<String>,
}

/// Judge by confirmed regressions (see `traplab_harness::ab::Verdicts`).
fn judge(verdicts: &Verdicts) -> Judgement {
    let confirmed: Vec<String> = verdicts
        .confirmed_regressions()
        .iter()
        .map(|r| ab::label(r))
        .collect();
    let mut j = Judgement::default();
    for r in &verdicts.pooled {
        let regressed = confirmed.contains(&ab::label(r));
        let label = ab::label(r);
        if regressed {
            j.regressed.push(label.clone());
        }
        let trap = r.experiment.starts_with("trap.");
        let mode = EngineVariant::from_label(&r.config).map(|v| v.trap_mode);
        if trap && mode == Some(TrapMode::Signals) {
            j.traps.1 += 1;
            j.traps.0 += regressed as usize;
            if r.config == config::SIGNALS_BT_OFF && r.experiment != "trap.stack_overflow" {
                j.traps_bt_off.1 += 1;
                j.traps_bt_off.0 += regressed as usize;
            }
            if r.experiment == "trap.unreachable" && r.config == config::SIGNALS_BT_OFF {
                j.unreachable_ratio = Some(r.ratio);
            }
        }
        let control = r.experiment == "call.null"
            || (trap && mode == Some(TrapMode::Explicit))
            || r.experiment.starts_with("compute.");
        if control {
            j.controls += 1;
            if regressed {
                j.controls_regressed.push(label);
            }
        }
        if r.experiment == "call.null" {
            let verdict = if r.verdict == "regressed" && !regressed {
                "regressed, not confirmed"
            } else {
                r.verdict
            };
            j.call_null.push(format!("{}: {verdict}", r.config));
        }
    }
    j
}

fn run(args: Args) -> Result<bool> {
    for profile in &args.profiles {
        qemu::check_profile_usable(profile)?;
    }
    let started = Instant::now();
    let mut builder = Builder::new(Some(&args.source), args.suite)?;
    eprintln!(
        "traplab-sensitivity: building the kernel and {} delay variants",
        args.delays.len()
    );
    let base = builder.build(&Side::This, "a")?;
    let variants: Vec<(u64, Artifacts)> = args
        .delays
        .iter()
        .map(|&n| Ok((n, builder.build(&Side::Delay(n), "b")?)))
        .collect::<Result<_>>()?;
    std::fs::create_dir_all(&args.out)?;

    let mut report = String::new();
    let _ = writeln!(report, "# Validation of `traplab compare`\n");
    let _ = writeln!(
        report,
        "Source: `{}`; suite `{}`; boot options `{}`; threshold {}.\n",
        args.source.display(),
        args.suite.name(),
        args.boot_args,
        args.threshold.map_or_else(
            || "compare's default (5 % real-time, any change under icount)".to_string(),
            |t| format!("{t}%")
        )
    );
    let mut clean = true;
    for profile in &args.profiles {
        let repeat = if qemu::mode(profile) == "icount" {
            1
        } else {
            args.repeat
        };
        let plan = Plan {
            profile: profile.clone(),
            boot_args: args.boot_args.clone(),
            repeat,
            timeout: Duration::from_secs(args.timeout),
            progress: std::io::stderr().is_terminal(),
        };
        let _ = writeln!(
            report,
            "## Mode `{}` ({repeat} boot(s) per side, alternating)\n",
            qemu::mode(profile)
        );
        let _ = writeln!(
            report,
            "| B side | signals trap rows regressed | of them bt_off (no stack overflow) | unreachable ratio | call.null | controls regressed |"
        );
        let _ = writeln!(report, "|---|---:|---:|---:|---|---|");
        let mut smallest_any = None;
        let mut smallest_all = None;
        let mut cases: Vec<(String, &Artifacts)> = vec![("A/A (delay 0)".to_string(), &base)];
        cases.extend(variants.iter().map(|(n, a)| (format!("delay {n}"), a)));
        for (i, (name, b)) in cases.iter().enumerate() {
            let out = args.out.join(format!(
                "{}-{}",
                qemu::mode(profile),
                name.replace([' ', '/', '(', ')'], "")
            ));
            eprintln!("traplab-sensitivity: {profile}: {name}");
            let outcome = ab::run(&base, b, &plan, &out)?;
            if outcome.pooled.is_none() {
                bail!(
                    "{profile} {name}: a boot did not succeed ({}); captures in {}",
                    outcome.worst.describe(),
                    out.display()
                );
            }
            debug_assert_eq!(outcome.worst, Ending::Success);
            let j = judge(&ab::verdicts(&outcome, args.threshold)?);
            let controls = if j.controls_regressed.is_empty() {
                format!("none of {}", j.controls)
            } else {
                clean = false;
                j.controls_regressed.join(", ")
            };
            let _ = writeln!(
                report,
                "| {name} | {}/{} | {}/{} | {} | {} | {controls} |",
                j.traps.0,
                j.traps.1,
                j.traps_bt_off.0,
                j.traps_bt_off.1,
                j.unreachable_ratio
                    .map_or("–".into(), |r| format!("{r:.3}")),
                j.call_null.join("; "),
            );
            if i == 0 {
                if !j.regressed.is_empty() {
                    clean = false;
                    let _ = writeln!(
                        report,
                        "| | A/A false alarms: {} | | | | |",
                        j.regressed.join(", ")
                    );
                }
                continue;
            }
            let n = args.delays[i - 1];
            if j.traps.0 > 0 && j.controls_regressed.is_empty() && smallest_any.is_none() {
                smallest_any = Some(n);
            }
            if j.traps_bt_off.1 > 0
                && j.traps_bt_off.0 == j.traps_bt_off.1
                && smallest_all.is_none()
            {
                smallest_all = Some(n);
            }
        }
        let show = |n: Option<u64>| {
            n.map_or("not within the delays tried".to_string(), |n| {
                format!("{n} cycles")
            })
        };
        let _ = writeln!(
            report,
            "\nSmallest delay detected in `{}`: {} (some signals trap flagged `regressed`, no control flagged); \
             every signals.bt_off trap but the stack overflow flagged from {}.\n",
            qemu::mode(profile),
            show(smallest_any),
            show(smallest_all)
        );
    }
    let _ = writeln!(
        report,
        "Wall time: {:.0} s.",
        started.elapsed().as_secs_f64()
    );
    std::fs::write(args.out.join("sensitivity.md"), &report)?;
    println!("{report}");
    Ok(clean)
}
