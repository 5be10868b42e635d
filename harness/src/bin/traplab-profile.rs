//! `traplab-profile`: every instruction of one call of an experiment, from
//! the call to `Err` (or `Ok`) back in the runner, stepped in QEMU through
//! its gdb stub and folded into stacks, functions and stages (see
//! `traplab_harness::profile`). Writes one profile per profiled experiment
//! × configuration into `--out`'s `profile/`; `traplab profile DIR`
//! renders them (tables, flame graphs), and `traplab report` shows them
//! with the run whose folder holds them.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Parser;
use traplab_analyzer::ingest::{self, Series};
use traplab_analyzer::stats;
use traplab_harness::profile::{self, KernelImage};
use traplab_harness::qemu::{self, Launch};
use traplab_harness::{build, child, exit, preflight, session};
use traplab_suite::EngineVariant;
use traplab_wire::Status;
use traplab_wire::profile::RunStage;
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
    /// Folder whose `profile/` receives the profiles
    /// (`<experiment>@<config>.json`, `.folded`), the run without the
    /// stepper (`measured-<spec>.jsonl`) and the stepped boots (`stepped/`:
    /// capture, trace and gdb log of each). A stored run's folder is fine:
    /// its own files are not touched. Nothing is ever overwritten.
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
    // Everything goes into OUT/profile/, so a stored run's folder can take
    // the profiles of its build beside it (run-suite.sh --profile).
    let dir = profile::profile_dir(&args.out);
    let spec_name = args.spec.replace(['/', ':'], "@");
    let capture = dir.join(format!("measured-{spec_name}.jsonl"));
    if capture.exists() {
        bail!(
            "{} exists: {} was profiled into {} already (a stored profile is never overwritten)",
            capture.display(),
            args.spec,
            args.out.display()
        );
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
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
    let launch = |boot_args: String| Launch {
        kernel: kernel.clone(),
        suite: Some(suite.clone()),
        profile: args.profile.clone(),
        boot_args,
    };

    // 1. The selected experiments without the stepper: which ran and
    // passed, and their stage medians beside the profiles.
    let report = session::run(
        &launch(format!(
            "samples={} warmup={} heap_traps=0 only={prefix}{}",
            args.samples,
            args.warmup,
            configs_option(config)
        )),
        &capture,
        Duration::from_secs(args.timeout),
        false,
    )?;
    eprintln!(
        "traplab-profile: run without the stepper: {} ({} records) -> {}",
        report.ending.describe(),
        report.records,
        capture.display()
    );
    let bytes =
        std::fs::read(&capture).with_context(|| format!("reading {}", capture.display()))?;
    let run = ingest::parse(&capture.display().to_string(), &bytes);
    let targets: Vec<&Series> = run
        .series
        .iter()
        .filter(|s| s.experiment.starts_with(prefix) && config.is_none_or(|c| c == s.config))
        .filter(|s| s.result.as_ref().is_some_and(|r| r.status == Status::Ok))
        .collect();
    if targets.is_empty() {
        eprintln!(
            "traplab-profile: nothing to profile: no experiment matching {:?} ran and passed (see {})",
            args.spec,
            capture.display()
        );
        return Ok(exit::FAILED.max(report.ending.exit_code() as u8));
    }

    // 2. One boot per profiled experiment × configuration, the profiled
    // call the last thing measured in it (see runner-core's profile.rs).
    let stepped = dir.join("stepped");
    std::fs::create_dir_all(&stepped).with_context(|| format!("creating {}", stepped.display()))?;
    let mut image = KernelImage::open(&kernel)?;
    let mut worst = exit::SUCCESS;
    for series in targets {
        let name = format!("{}@{}", series.experiment, series.config);
        if dir.join(format!("{name}.json")).exists() {
            eprintln!(
                "traplab-profile: {name} is profiled in {} already; kept",
                dir.display()
            );
            continue;
        }
        let trace = stepped.join(format!("{name}.trace"));
        let boot = launch(format!(
            "samples=1 warmup={} heap_traps=0 only={}{} profile={}:{}",
            args.warmup,
            series.experiment,
            configs_option(Some(&series.config)),
            series.experiment,
            series.config
        ));
        let port = profile::free_port()?;
        let (mut cmd, described) = boot.command(&stepped.join("boot.iso"))?;
        // Paused at the first instruction until the stepper has set its
        // breakpoint and continues.
        cmd.args(["-gdb", &format!("tcp:127.0.0.1:{port}"), "-S"]);
        let log = stepped.join(format!("{name}.gdb.log"));
        let mut stepper = profile::start_stepper(&image, &kernel, port, &trace, &log, args.bound)?;
        let started = Instant::now();
        let report = session::run_command(
            cmd,
            described,
            &stepped.join(format!("{name}.jsonl")),
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
        if let Some(sig) = child::interrupt() {
            eprintln!(
                "traplab-profile: interrupted by {}",
                child::signal_name(sig)
            );
            return Ok(exit::INTERRUPTED);
        }
        let calls = match profile::read_trace(&trace) {
            Ok((calls, _)) => calls,
            Err(e) => {
                eprintln!("traplab-profile: {name}: {e:#} (see {})", log.display());
                worst = worst.max(exit::FAILED);
                continue;
            }
        };
        let [call] = calls.as_slice() else {
            eprintln!(
                "traplab-profile: {name}: expected one profiled call, the stepper saw {} ({}; see {})",
                calls.len(),
                report.ending.describe(),
                log.display()
            );
            worst = worst.max(exit::FAILED);
            continue;
        };
        let mut p = profile::profile(call, &mut image, qemu::mode(&args.profile), args.bound);
        for stage in &mut p.stages {
            let values = match series.stages.iter().find(|s| s.name == stage.stage) {
                Some(s) => &s.values,
                None if p.stamps.len() == 2 => &series.total,
                None => continue,
            };
            stage.run = (!values.is_empty()).then(|| RunStage {
                samples: values.len() as u64,
                median: stats::median(values),
                min: values.iter().copied().min().unwrap_or_default(),
                max: values.iter().copied().max().unwrap_or_default(),
            });
        }
        let path = profile::write(&dir, &p)?;
        let stages: Vec<String> = p
            .stages
            .iter()
            .map(|s| {
                let mut line = format!("{} {}", s.stage, s.instructions);
                if args.profile == "icount" && !s.agrees() {
                    worst = worst.max(exit::FAILED);
                    line.push_str(&format!(
                        " (stamps say {}: the profile is wrong)",
                        s.stamp_delta
                            .map_or_else(|| "nothing".into(), |d| d.to_string())
                    ));
                }
                line
            })
            .collect();
        eprintln!(
            "traplab-profile: {} {}: {} instructions{} ({:.0}s); {} -> {}",
            p.experiment,
            p.config,
            p.instructions,
            if p.truncated {
                " (truncated at the bound)"
            } else {
                ""
            },
            started.elapsed().as_secs_f64(),
            stages.join(", "),
            path.display()
        );
    }
    Ok(worst.max(report.ending.exit_code() as u8))
}

/// `configs=` for a wasm configuration label (the floor's `ring0` is
/// not an engine configuration and needs none).
fn configs_option(config: Option<&str>) -> String {
    config
        .filter(|c| EngineVariant::from_label(c).is_some())
        .map(|c| format!(" configs={c}"))
        .unwrap_or_default()
}
