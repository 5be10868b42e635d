//! `traplab-profile`: every instruction of one call of an experiment, from
//! the call to `Err` (or `Ok`) back in the runner, stepped in QEMU through
//! its gdb stub and folded into stacks, functions and stages (see
//! `traplab_harness::profile`). Writes the run's own capture and one
//! profile per profiled experiment × configuration into `--out`; `traplab
//! profile DIR` renders them (tables, flame graphs).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Parser;
use traplab_harness::profile::{self, KernelImage};
use traplab_harness::qemu::{self, Launch};
use traplab_harness::{build, child, exit, preflight, session};
use traplab_suite::EngineVariant;
use traplab_workloads::SuiteName;

/// Profile one call of each selected experiment, instruction by instruction.
#[derive(Debug, Parser)]
#[command(name = "traplab-profile", version, about, long_about, after_help = exit::help())]
struct Args {
    /// What to profile: EXPERIMENT[:CONFIG]. EXPERIMENT is a name or a
    /// prefix (`trap.` profiles every trap); CONFIG one of the engine
    /// configurations (`signals.bt_off`, …) or `ring0` for the raw floor.
    /// Each selected experiment × configuration gets one profiled call,
    /// after its samples and outside them.
    spec: String,
    /// Directory for the capture (`run.jsonl`), the stepper's trace and the
    /// profiles (`profile/<experiment>@<config>.json`, `.folded`). Must not
    /// hold a run already.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// QEMU profile: icount (default; the stage counts are then checked
    /// against the kernel's own stamps) or tcg.
    #[arg(long, default_value = "icount", value_parser = ["icount", "tcg"])]
    profile: String,
    /// Suite image to build and boot.
    #[arg(long, value_enum, default_value = "default")]
    suite: SuiteName,
    /// Use this suite image instead of building one.
    #[arg(long, value_name = "IMG")]
    suite_image: Option<PathBuf>,
    /// Use this kernel ELF instead of building one (its debug info names
    /// the functions).
    #[arg(long, value_name = "ELF")]
    kernel: Option<PathBuf>,
    /// Stop stepping a call after this many instructions (compute
    /// workloads run millions): the profile then covers its start only.
    #[arg(long, default_value_t = profile::DEFAULT_BOUND, value_parser = clap::value_parser!(u64).range(1..))]
    bound: u64,
    /// Timed samples before the profiled call (the run's numbers for the
    /// same build, beside the profile).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    samples: u32,
    /// Warm-up iterations before them.
    #[arg(long, default_value_t = 5)]
    warmup: u32,
    /// Kill QEMU after this many seconds.
    #[arg(long, default_value_t = 3600, value_parser = clap::value_parser!(u64).range(1..))]
    timeout: u64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    child::catch_interrupts();
    match run(&args) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("traplab-profile: error: {e:#}");
            ExitCode::from(if child::interrupt().is_some() {
                exit::INTERRUPTED
            } else {
                exit::SETUP
            })
        }
    }
}

fn run(args: &Args) -> Result<u8> {
    let (prefix, config) = match args.spec.split_once(':') {
        Some((p, c)) => (p, Some(c)),
        None => (args.spec.as_str(), None),
    };
    if prefix.is_empty() || config.is_some_and(str::is_empty) {
        bail!(
            "{:?}: expected EXPERIMENT or EXPERIMENT:CONFIG (e.g. trap.div_s_zero:signals.bt_off)",
            args.spec
        );
    }
    if !profile::gdb_available() {
        bail!(
            "the profiler steps QEMU through gdb, which is not installed; install it with: apt-get install -y gdb"
        );
    }
    if qemu::version().is_none() {
        bail!(
            "{} is not installed or does not run; install it with: apt-get install -y qemu-system-x86",
            qemu::binary()
        );
    }
    let capture = args.out.join("run.jsonl");
    if capture.exists() {
        bail!(
            "{} already holds a run; choose another --out (a stored run is never overwritten)",
            args.out.display()
        );
    }
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let kernel = match &args.kernel {
        Some(k) => {
            qemu::exists(k)?;
            k.clone()
        }
        None => build::kernel(0)?,
    };
    let suite = match &args.suite_image {
        Some(s) => s.clone(),
        None => build::suite_for(args.suite, &traplab_workloads::cpu_profile("qemu-max")?)?,
    };
    preflight::check_suite_image(&suite)?;
    // The run holds only what is profiled; a wasm configuration also
    // narrows the engines (the floor's `ring0` is not one).
    let configs = config
        .filter(|c| EngineVariant::from_label(c).is_some())
        .map(|c| format!(" configs={c}"))
        .unwrap_or_default();
    let launch = Launch {
        kernel: kernel.clone(),
        suite: Some(suite),
        profile: args.profile.clone(),
        boot_args: format!(
            "samples={} warmup={} heap_traps=0 only={prefix}{configs} profile={}",
            args.samples, args.warmup, args.spec
        ),
    };
    let port = profile::free_port()?;
    let (mut cmd, described) = launch.command(&args.out.join("boot.iso"))?;
    // Paused at the first instruction until the stepper has set its
    // breakpoint and continues.
    cmd.args(["-gdb", &format!("tcp:127.0.0.1:{port}"), "-S"]);
    let trace = args.out.join("trace.txt");
    let mut image = KernelImage::open(&kernel)?;
    let mut stepper = profile::start_stepper(
        &image,
        &kernel,
        port,
        &trace,
        &args.out.join("gdb.log"),
        args.bound,
    )?;
    eprintln!(
        "traplab-profile: stepping {} under {} (about 1.5 ms per instruction)",
        args.spec, args.profile
    );
    let started = Instant::now();
    let report = session::run_command(
        cmd,
        described,
        &capture,
        Duration::from_secs(args.timeout),
        false,
    )?;
    // The stepper ends when QEMU does; give it a moment to write.
    let deadline = Instant::now() + Duration::from_secs(30);
    while stepper.try_wait()?.is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = stepper.kill();
    let _ = stepper.wait();
    eprintln!(
        "traplab-profile: {} ({} records, {:.1}s) -> {}",
        report.ending.describe(),
        report.records,
        started.elapsed().as_secs_f64(),
        capture.display()
    );
    let (calls, complete) = profile::read_trace(&trace).with_context(|| {
        format!(
            "the stepper wrote no trace; see {}",
            args.out.join("gdb.log").display()
        )
    })?;
    if !complete {
        eprintln!("traplab-profile: the stepper did not see the guest finish; see gdb.log");
    }
    if calls.is_empty() {
        eprintln!(
            "traplab-profile: nothing was profiled: no experiment matched {:?}, or its samples failed (see the capture)",
            args.spec
        );
        return Ok(exit::FAILED.max(report.ending.exit_code() as u8));
    }
    let dir = profile::profile_dir(&args.out);
    let mut disagree = 0;
    for call in &calls {
        let p = profile::profile(call, &mut image, qemu::mode(&args.profile), args.bound);
        let path = profile::write(&dir, &p)?;
        let stages: Vec<String> = p
            .stages
            .iter()
            .map(|s| match s.stamp_delta {
                Some(d) if d != s.instructions && args.profile == "icount" => {
                    disagree += 1;
                    format!("{} {} (stamps say {d})", s.stage, s.instructions)
                }
                _ => format!("{} {}", s.stage, s.instructions),
            })
            .collect();
        eprintln!(
            "traplab-profile: {} {}: {} instructions{}; {} -> {}",
            p.experiment,
            p.config,
            p.instructions,
            if p.truncated {
                " (truncated at the bound)"
            } else {
                ""
            },
            stages.join(", "),
            path.display()
        );
    }
    if disagree > 0 {
        eprintln!(
            "traplab-profile: {disagree} stage(s) disagree with the kernel's icount stamps: the profile is wrong"
        );
        return Ok(exit::FAILED);
    }
    Ok(report.ending.exit_code() as u8)
}
