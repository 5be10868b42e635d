//! `traplab-ab`: boot two builds alternately (A, B, A, B…) under identical
//! QEMU conditions and pool each side's boots into one run, ready for
//! `traplab compare A B`. `scripts/compare-commits.sh` uses it with two git
//! worktrees; `scripts/compare-sensitivity.sh` with the dispatch-delay knob.
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
//!
//! With `--peers`, every round also boots each side's Linux peer as
//! `/init` of the Linux guest (`traplab-run --platform linux-guest`: the
//! peer built from the side's own checkout, the side's suite image, the
//! same profile and options), A then B after the lab kernel's pair, into
//! `OUT/linux-guest/` (same names). `boots.txt` then names each lab boot's
//! guest boot of the same round and side on its line (`CAPTURE<TAB>
//! linux-guest=GUEST`), and `--compare` judges both platforms, each on its
//! own (`lab-kernel A vs B`, `linux-guest A vs B`), and says which moved.
//! A side whose checkout has no `peer-linux/` (a commit from before the
//! peer) skips the Linux side of the comparison, saying so. The exit code
//! is then the worst of both platforms' endings, or 1 for a regression
//! confirmed on either.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Result, bail};
use clap::Parser;
use traplab_harness::ab::{self, Boots, Builder, Guest, Plan, Side};
use traplab_harness::{Ending, linux, qemu};
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
    /// Default: 5 in real-time modes, 0 (any change) under icount, where
    /// counts are exact.
    #[arg(long, value_name = "PCT")]
    threshold: Option<f64>,
    /// Build `this` and `delay:N` sides from the checkout at DIR instead of
    /// this workspace (a worktree pinned at one commit, so edits made here
    /// while a long validation runs cannot leak into one side only).
    #[arg(long, value_name = "DIR")]
    source: Option<PathBuf>,
    /// Also boot each side's Linux peer (traplab-peer built from the side's
    /// checkout, as /init of the Linux guest, with the side's suite image)
    /// in the same profile, alternating like the lab kernel, and with
    /// --compare judge it A vs B too. The guest kernel comes from
    /// $TRAPLAB_LINUX_KERNEL or the cache traplab_ensure_linux_guest fills.
    /// A side from before peer-linux/ existed skips the Linux comparison.
    #[arg(long)]
    peers: bool,
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

/// What `--peers` does for this pair of sides, decided before any build.
enum Peers {
    /// Boot the Linux guest with this kernel (bzImage).
    Run(linux::GuestKernel),
    /// A side has no Linux peer: the reason, for the report.
    Skip(String),
}

fn peers(args: &Args, builder: &Builder, a: &Side, b: &Side) -> Result<Peers> {
    for (label, side) in [("A", a), ("B", b)] {
        let checkout = builder.checkout(side);
        if !ab::has_peer(&checkout) {
            return Ok(Peers::Skip(format!(
                "side {label} ({}) has no peer-linux/: its commit predates the Linux peer, so there is nothing to boot on Linux for it",
                checkout.display()
            )));
        }
    }
    linux::check_guest_profile(&args.profile)?;
    let kernel = linux::guest_kernel()?;
    eprintln!(
        "traplab-ab: Linux guest kernel {} ({})",
        kernel.describe(),
        kernel.vmlinuz.display()
    );
    Ok(Peers::Run(kernel))
}

fn run(args: Args) -> Result<i32> {
    qemu::check_profile_usable(&args.profile)?;
    if args.repeat == 0 {
        bail!("--repeat must be at least 1");
    }
    let (a, b) = (Side::parse(&args.a)?, Side::parse(&args.b)?);
    let mut builder = Builder::new(args.source.as_deref(), args.suite)?;
    // Before any build: a missing guest kernel is a setup error that should
    // not wait for minutes of compiling.
    let peers = if args.peers {
        Some(peers(&args, &builder, &a, &b)?)
    } else {
        None
    };
    if let Some(Peers::Skip(reason)) = &peers {
        eprintln!("traplab-ab: no Linux guest boots: {reason}");
    }
    let with_guest = matches!(peers, Some(Peers::Run(_)));
    // Each side's kernel, suite and peer together (see Builder::build_peer).
    let built_a = builder.build(&a, "a")?;
    let guest_a = if with_guest {
        builder.build_peer(&a, "a", &built_a)?
    } else {
        None
    };
    let built_b = builder.build(&b, "b")?;
    let guest_b = if with_guest {
        builder.build_peer(&b, "b", &built_b)?
    } else {
        None
    };
    let guest = match (&peers, guest_a, guest_b) {
        (Some(Peers::Run(kernel)), Some(a), Some(b)) => Some(Guest {
            kernel: kernel.vmlinuz.clone(),
            a,
            b,
        }),
        _ => None,
    };
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
    let (outcome, guest_outcome) =
        ab::run_with_guest(&built_a, &built_b, guest.as_ref(), &plan, &args.out)?;
    let list = boot_list(&outcome, guest_outcome.as_ref());
    std::fs::write(args.out.join("boots.txt"), &list)?;
    let Some(peers) = peers else {
        return lab_only(&args, &outcome, &list);
    };

    // --peers: each platform judged on its own, then which of them moved.
    let mut status = outcome.worst.exit_code();
    for (name, o) in [
        ("lab-kernel", Some(&outcome)),
        ("linux-guest", guest_outcome.as_ref()),
    ] {
        let Some(o) = o else { continue };
        status = status.max(o.worst.exit_code());
        if o.worst != Ending::Success {
            eprintln!(
                "traplab-ab: not every {name} boot succeeded ({}); its captures are kept, nothing of it pooled",
                o.worst.describe()
            );
        }
    }
    if !args.compare {
        print!("{list}");
        return Ok(status);
    }
    println!("lab-kernel A vs B");
    println!();
    let lab = judge_platform(&args, "lab-kernel", &outcome, false)?;
    println!();
    println!("linux-guest A vs B (the Linux peer, same profile and options)");
    println!();
    let linux = match (&peers, &guest_outcome) {
        (Peers::Skip(reason), _) => {
            println!("skipped: {reason}");
            None
        }
        (Peers::Run(_), Some(o)) => judge_platform(&args, "linux-guest", o, true)?,
        (Peers::Run(_), None) => unreachable!("the guest boots when its peers are built"),
    };
    println!();
    println!("{}", summary(lab, linux));
    let regressed = lab.iter().chain(&linux).any(|m| m.regressions > 0);
    Ok(status.max(i32::from(regressed)))
}

/// `boots.txt`: every lab-kernel boot's capture, one per line, followed on
/// its line by `<TAB>linux-guest=GUEST` for the Linux guest's boot of the
/// same round and side when the guest ran.
fn boot_list(lab: &Boots, guest: Option<&Boots>) -> String {
    lab.captures
        .iter()
        .enumerate()
        .map(|(i, c)| match guest.and_then(|g| g.captures.get(i)) {
            Some(g) => format!("{}\t{}={}\n", c.display(), ab::GUEST_DIR, g.display()),
            None => format!("{}\n", c.display()),
        })
        .collect()
}

/// Without `--peers`: the lab kernel alone, as ever.
fn lab_only(args: &Args, outcome: &Boots, list: &str) -> Result<i32> {
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
    let moved = compare(args, outcome, false)?;
    println!();
    println!("verdict: {}", moved.verdict());
    Ok(if moved.regressions == 0 { 0 } else { 1 })
}

/// What the comparison of one platform confirmed.
#[derive(Debug, Clone, Copy)]
struct Moved {
    regressions: usize,
    unconfirmed: usize,
    improvements: usize,
}

impl Moved {
    fn verdict(&self) -> String {
        format!(
            "{} regression(s) confirmed{}",
            self.regressions,
            if self.unconfirmed == 0 {
                String::new()
            } else {
                format!(", {} not confirmed by every pair", self.unconfirmed)
            }
        )
    }

    fn any(&self) -> bool {
        self.regressions + self.improvements > 0
    }
}

/// One platform of a `--peers` comparison: its table and verdict, or why
/// it was not compared (`None`).
fn judge_platform(args: &Args, name: &str, outcome: &Boots, guest: bool) -> Result<Option<Moved>> {
    if outcome.pooled.is_none() {
        println!(
            "not compared: not every boot succeeded ({}); the captures are kept",
            outcome.worst.describe()
        );
        return Ok(None);
    }
    let moved = compare(args, outcome, guest)?;
    println!();
    println!(
        "verdict ({name}): {}, {} improvement(s) confirmed",
        moved.verdict(),
        moved.improvements
    );
    Ok(Some(moved))
}

/// Print `traplab compare` of the pooled runs and the confirmation by the
/// cross pairs.
fn compare(args: &Args, outcome: &Boots, guest: bool) -> Result<Moved> {
    let (pa, pb) = outcome.pooled.as_ref().expect("pooled after success");
    let table = ab::compare_table(pa, pb, args.threshold)?;
    print!("{table}");
    let verdicts = ab::verdicts(outcome, args.threshold)?;
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
                ab::label(r),
                verdicts.pair_verdicts(r)
            );
        }
        for r in &unconfirmed {
            println!(
                "  unconfirmed  {:<44} {}",
                ab::label(r),
                verdicts.pair_verdicts(r)
            );
        }
    } else if qemu::mode(&args.profile) != "icount" && !confirmed.is_empty() {
        println!();
        println!(
            "note: one boot per side under a real-time mode cannot tell a change from a disturbed boot; use --repeat 5 to confirm"
        );
    } else if guest && !confirmed.is_empty() {
        println!();
        println!(
            "note: the Linux guest is not exact under icount (its timer interrupts reach ring 3), so one boot per side cannot tell a change from a disturbed boot; use --repeat 3 or more to confirm"
        );
    }
    Ok(Moved {
        regressions: confirmed.len(),
        unconfirmed: unconfirmed.len(),
        improvements: verdicts.confirmed_improvements().len(),
    })
}

/// The last line of a `--peers` comparison: which platforms the change
/// moved (a confirmed regression or improvement).
fn summary(lab: Option<Moved>, linux: Option<Moved>) -> String {
    let part = |name: &str, m: Option<Moved>| match m {
        None => format!("{name} not compared"),
        Some(m) if m.any() => format!(
            "{name} moved ({} regression(s), {} improvement(s) confirmed)",
            m.regressions, m.improvements
        ),
        Some(_) => format!("{name} did not move"),
    };
    let which = match (lab.map(|m| m.any()), linux.map(|m| m.any())) {
        (Some(true), Some(true)) => " -> the change moved both",
        (Some(true), Some(false)) => " -> the change moved the lab kernel only",
        (Some(false), Some(true)) => " -> the change moved the Linux peer only",
        (Some(false), Some(false)) => " -> the change moved neither",
        _ => "",
    };
    format!(
        "summary: {}; {}{which}",
        part("lab-kernel", lab),
        part("linux-guest", linux)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(dir: &str, repeat: usize) -> Boots {
        Boots {
            worst: Ending::Success,
            captures: (1..=repeat)
                .flat_map(|i| ["a", "b"].map(|s| PathBuf::from(format!("{dir}/{s}-{i}.jsonl"))))
                .collect(),
            pooled: None,
        }
    }

    #[test]
    fn without_the_guest_boots_txt_lists_the_captures_as_ever() {
        assert_eq!(
            boot_list(&outcome("out", 2), None),
            "out/a-1.jsonl\nout/b-1.jsonl\nout/a-2.jsonl\nout/b-2.jsonl\n"
        );
    }

    #[test]
    fn with_the_guest_each_line_names_the_guest_boot_of_the_same_round_and_side() {
        assert_eq!(
            boot_list(&outcome("out", 1), Some(&outcome("out/linux-guest", 1))),
            "out/a-1.jsonl\tlinux-guest=out/linux-guest/a-1.jsonl\n\
             out/b-1.jsonl\tlinux-guest=out/linux-guest/b-1.jsonl\n"
        );
    }

    fn moved(regressions: usize, improvements: usize) -> Option<Moved> {
        Some(Moved {
            regressions,
            unconfirmed: 0,
            improvements,
        })
    }

    #[test]
    fn the_summary_says_which_platform_moved() {
        assert!(
            summary(moved(2, 0), moved(0, 0)).ends_with("the change moved the lab kernel only")
        );
        assert!(
            summary(moved(0, 0), moved(0, 1)).ends_with("the change moved the Linux peer only")
        );
        assert!(summary(moved(1, 0), moved(1, 0)).ends_with("the change moved both"));
        assert!(summary(moved(0, 0), moved(0, 0)).ends_with("the change moved neither"));
        assert_eq!(
            summary(moved(1, 0), None),
            "summary: lab-kernel moved (1 regression(s), 0 improvement(s) confirmed); linux-guest not compared"
        );
    }

    #[test]
    fn the_verdict_line_is_unchanged_without_unconfirmed_rows() {
        let m = Moved {
            regressions: 1,
            unconfirmed: 0,
            improvements: 3,
        };
        assert_eq!(m.verdict(), "1 regression(s) confirmed");
        let m = Moved {
            unconfirmed: 2,
            ..m
        };
        assert_eq!(
            m.verdict(),
            "1 regression(s) confirmed, 2 not confirmed by every pair"
        );
    }

    #[test]
    fn peers_is_off_by_default_and_a_flag() {
        let args = Args::try_parse_from(["traplab-ab", "--a", "this", "--b", "this", "--out", "o"])
            .unwrap();
        assert!(!args.peers);
        let args = Args::try_parse_from([
            "traplab-ab",
            "--a",
            "this",
            "--b",
            "this",
            "--out",
            "o",
            "--peers",
        ])
        .unwrap();
        assert!(args.peers);
    }
}
