//! `traplab-peer`: the lab's experiments on upstream wasmtime under Linux.
//!
//! The same suite image, the same runner core (`traplab_runner_core`) and
//! the same wire format as the lab kernel; what differs is this platform:
//! wasmtime's own Linux signal handlers (with the peer's front handler
//! stamping in front of them, see [`signals`]), the Linux floor
//! ([`floor`]), and where the bytes go.
//!
//! ```text
//! traplab-peer [--platform linux-host|linux-guest] [--suite PATH] [--out PATH] [WORDS...]
//! ```
//!
//! WORDS are the run options the lab kernel takes on its command line
//! (`samples=N warmup=N only=PREFIX configs=… mode=M qemu="…"`).
//!
//! - **linux-guest** (the default when it runs as pid 1, i.e. as `/init`
//!   of an initramfs): mounts `/proc` and devtmpfs on `/dev`, takes its
//!   words from the part of `/proc/cmdline` after ` -- `, reads
//!   `/suite.img`, writes records to `/dev/ttyS0`, and ends the guest
//!   through QEMU's `isa-debug-exit` port with the lab kernel's exit values
//!   (so QEMU's status means the same), else powers it off.
//! - **linux-host**: records on standard output (or `--out`); the process
//!   exits with the status QEMU would have (`traplab_wire::exit`).

mod contain;
mod floor;
mod guest;
mod signals;

use std::io::Write;
use std::process::ExitCode;
use std::sync::Mutex;

use traplab_runner_core::cpuid::CpuInfo;
use traplab_runner_core::stream::Stream;
use traplab_runner_core::{Abandoned, FaultSeen, Options, Platform, emit};
use traplab_suite::{CodeTarget, EngineVariant, Suite, engine_config};
use traplab_wire::{
    EndStatus, Header, KernelBuild, Memory, Planned, Record, RunConfig, SCHEMA_VERSION, Stamp, Tsc,
    config, exit, signal,
};

/// The peer as a platform of the runner core.
struct LinuxPeer {
    kind: traplab_wire::Platform,
    tsc_hz: u64,
    stream: Stream,
    sink: Mutex<Box<dyn Write + Send>>,
}

impl Platform for LinuxPeer {
    /// Linux delivers the exception; the first instruction the peer sees is
    /// its front handler's.
    const TRAP_STAMPS: &'static [Stamp] = &[Stamp::Handler];
    const TARGET: CodeTarget = CodeTarget::Linux;

    fn kind(&self) -> traplab_wire::Platform {
        self.kind
    }

    #[inline(always)]
    fn stamp() -> u64 {
        signals::stamp()
    }

    fn tsc_hz(&self) -> u64 {
        self.tsc_hz
    }

    /// Ring 3 cannot mask interrupts: the timed regions run with the
    /// scheduler and interrupts live (one reason the peer runs as the only
    /// process of its guest).
    fn mask_interrupts(&self) -> bool {
        false
    }

    fn restore_interrupts(&self, _: bool) {}

    fn faults(&self) -> (u64, FaultSeen) {
        signals::counters()
    }

    fn trap_stamp(&self, stamp: Stamp) -> u64 {
        match stamp {
            Stamp::Handler => signals::HANDLER_TSC.load(std::sync::atomic::Ordering::Relaxed),
            _ => 0,
        }
    }

    fn expected_fault(&self, vector: u8) -> FaultSeen {
        FaultSeen {
            signal: signal::for_vector(vector),
            ..FaultSeen::default()
        }
    }

    fn engine(&self, variant: EngineVariant) -> wasmtime::Result<wasmtime::Engine> {
        // Nothing to add: Linux is a hard-float target, and wasmtime detects
        // the CPU's features through std.
        let engine = wasmtime::Engine::new(&engine_config(variant))?;
        // wasmtime has installed its signal handlers by now (the first
        // engine with signals-based traps does); stand in front of them.
        signals::install_front().map_err(wasmtime::Error::msg)?;
        Ok(engine)
    }

    fn set_during(&self, _during: traplab_wire::During) {
        // A fault the peer does not expect ends the process the normal
        // Linux way (wasmtime hands it to the default disposition); the
        // stream then has no end record and the host reports a crash.
    }

    fn emit(&self, record: Record) {
        let line = self.stream.frame(&record);
        let mut sink = self.sink.lock().unwrap_or_else(|e| e.into_inner());
        // A sink that fails (the host closed the pipe) loses the record;
        // the missing end record tells the host.
        let _ = sink.write_all(line.as_bytes());
        let _ = sink.flush();
    }

    fn memory_in_use(&self) -> Option<(u64, u64)> {
        // glibc's allocator does not report a stable "in use" figure across
        // 100,000 traps (arenas, trimming): the heap check stays the lab
        // kernel's.
        None
    }

    fn soft_float(&self) -> bool {
        false
    }

    /// Panics only, by unwinding ([`contain`]); an unclaimed fault still
    /// ends the peer.
    fn contain<R>(&self, f: impl FnOnce() -> R) -> Result<R, Abandoned> {
        let result = contain::contain(f);
        if result.is_err() {
            self.stream.count_contained();
        }
        result
    }
}

struct Args {
    platform: traplab_wire::Platform,
    suite: String,
    out: Option<String>,
    words: String,
}

fn parse_args() -> Result<Args, String> {
    let mut args = std::env::args().skip(1);
    let guest = std::process::id() == 1;
    let mut platform = if guest {
        traplab_wire::Platform::LinuxGuest
    } else {
        traplab_wire::Platform::LinuxHost
    };
    let mut suite = None;
    let mut out = None;
    let mut words = Vec::new();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--platform" => {
                let name = args.next().ok_or("--platform needs a value")?;
                platform = match traplab_wire::Platform::from_name(&name) {
                    Some(p) if p != traplab_wire::Platform::LabKernel => p,
                    _ => {
                        return Err(format!(
                            "--platform {name}: expected linux-host or linux-guest"
                        ));
                    }
                }
            }
            "--suite" => suite = Some(args.next().ok_or("--suite needs a path")?),
            "--out" => out = Some(args.next().ok_or("--out needs a path")?),
            "-h" | "--help" => {
                return Err(String::from(
                    "usage: traplab-peer [--platform linux-host|linux-guest] [--suite PATH] [--out PATH] [samples=N warmup=N only=PREFIX configs=... mode=M ...]",
                ));
            }
            word if word.starts_with("--") => return Err(format!("unknown option {word}")),
            // Options with values in quotes arrive as one argument each;
            // quote them again for the shared parser.
            word => words.push(match word.split_once('=') {
                Some((k, v)) if v.contains(' ') => format!("{k}=\"{v}\""),
                _ => word.to_string(),
            }),
        }
    }
    Ok(Args {
        platform,
        suite: suite.unwrap_or_else(|| String::from("/suite.img")),
        out,
        words: words.join(" "),
    })
}

fn main() -> ExitCode {
    // Pinned: with RUST_BACKTRACE/RUST_LIB_BACKTRACE set, every wasmtime
    // error would capture a Rust backtrace (12–15k cycles per trap).
    // SAFETY: no other thread exists yet.
    unsafe { std::env::set_var("RUST_LIB_BACKTRACE", "0") };
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("traplab-peer: {e}");
            return ExitCode::from(2);
        }
    };
    let guest = args.platform == traplab_wire::Platform::LinuxGuest;
    let mut words = args.words;
    let sink: Box<dyn Write + Send> = if guest {
        match guest::setup() {
            Ok(setup) => {
                // Linux also hands the words after ` -- ` to init as
                // arguments, but with their quotes stripped and split:
                // /proc/cmdline has them as written.
                words = setup.words;
                Box::new(setup.serial)
            }
            Err(e) => {
                eprintln!("traplab-peer: guest setup failed: {e}");
                guest::end(exit::KERNEL_FAULT);
            }
        }
    } else {
        match &args.out {
            Some(path) => match std::fs::File::create(path) {
                Ok(f) => Box::new(f),
                Err(e) => {
                    eprintln!("traplab-peer: {path}: {e}");
                    return ExitCode::from(2);
                }
            },
            None => Box::new(std::io::stdout()),
        }
    };
    let peer = LinuxPeer {
        kind: args.platform,
        tsc_hz: calibrate_tsc(),
        stream: Stream::new(),
        sink: Mutex::new(sink),
    };
    let status = run(&peer, &args.suite, &words);
    if let Some(end) = peer.stream.end(status) {
        peer.emit(end);
    }
    let value = match status {
        EndStatus::Complete => exit::SUCCESS,
        EndStatus::Failed => exit::FAILURE,
        EndStatus::Fault | EndStatus::Panic => exit::KERNEL_FAULT,
    };
    if guest {
        guest::end(value);
    }
    ExitCode::from(exit::qemu_status(value) as u8)
}

/// Everything after the sink is open; returns how the run ended.
fn run(peer: &LinuxPeer, suite_path: &str, words: &str) -> EndStatus {
    let (opts, problems) = traplab_runner_core::options::parse(words);
    let image = std::fs::read(suite_path);
    let suite = image
        .as_ref()
        .map_err(|e| format!("{suite_path}: {e}"))
        .and_then(|bytes| {
            Suite::parse(bytes).map_err(|e| format!("{suite_path}: suite image rejected: {e}"))
        });
    let manifest = suite.as_ref().ok().map(|s| &s.manifest);
    peer.emit(Record::Header(header(peer, &opts, words, &suite)));
    let mut setup_failed = false;
    let everything = Options {
        only: None,
        ..opts.clone()
    };
    let unmatched = traplab_runner_core::options::unmatched_selection(
        &opts,
        &plan(&opts, manifest),
        &plan(&everything, manifest),
    );
    for problem in problems.into_iter().chain(unmatched) {
        emit::result(peer, "setup.cmdline", "boot", 0, None, None, Some(problem));
        setup_failed = true;
    }
    if let Some(m) = manifest
        && m.wasmtime != env!("TRAPLAB_WASMTIME_VERSION")
    {
        emit::result(
            peer,
            "setup.suite",
            "boot",
            0,
            None,
            None,
            Some(format!(
                "the suite was compiled by wasmtime {}, this peer links {}",
                m.wasmtime,
                env!("TRAPLAB_WASMTIME_VERSION")
            )),
        );
        setup_failed = true;
    }
    // wasmtime's handlers first (the front handler forwards to them), then
    // the floor, whose signals the front handler keeps for itself.
    if let Err(e) = peer.engine(EngineVariant::ALL[0]) {
        emit::result(
            peer,
            "setup.engine",
            "signals.bt_off",
            0,
            None,
            None,
            Some(format!("{e:?}")),
        );
        return EndStatus::Failed;
    }
    signals::as_floor(|| {
        traplab_runner_core::floor::run(peer, config::RING3, &floor::experiments(), &opts)
    });
    match &suite {
        Ok(suite) => {
            traplab_runner_core::wasm::run_suite(peer, suite, &opts);
        }
        Err(why) => {
            emit::result(
                peer,
                "setup.suite",
                "boot",
                0,
                None,
                None,
                Some(why.clone()),
            );
            setup_failed = true;
        }
    }
    if setup_failed || peer.stream.failed() > 0 {
        EndStatus::Failed
    } else {
        EndStatus::Complete
    }
}

fn header(
    peer: &LinuxPeer,
    opts: &Options,
    words: &str,
    suite: &Result<Suite<'_>, String>,
) -> Header {
    let (cpu, accel, invariant_tsc) = CpuInfo::read().into_header();
    let manifest = suite.as_ref().ok().map(|s| &s.manifest);
    Header {
        schema: SCHEMA_VERSION,
        kernel: KernelBuild {
            commit: env!("TRAPLAB_GIT_COMMIT").to_string(),
            dirty: env!("TRAPLAB_GIT_DIRTY") == "true",
            profile: if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            }
            .to_string(),
            options: Vec::new(),
        },
        wasmtime: env!("TRAPLAB_WASMTIME_VERSION").to_string(),
        accel,
        cpu,
        tsc: Tsc {
            hz: peer.tsc_hz,
            source: String::from("clock_monotonic_raw"),
            invariant: invariant_tsc,
        },
        boot: String::from("linux"),
        cmdline: words.trim().to_string(),
        config: RunConfig {
            suite: manifest.map_or_else(|| "none".to_string(), |m| m.suite.clone()),
            suite_sha256: suite
                .as_ref()
                .map(|s| s.manifest_sha256.clone())
                .unwrap_or_default(),
            samples: opts.samples,
            warmup: opts.warmup,
            mode: opts.mode.clone(),
            qemu_args: opts.qemu_args.clone(),
            test: opts.test.name(),
            cpu_profile: manifest
                .and_then(|m| m.cpu.as_ref())
                .map(|c| c.profile.clone()),
        },
        stamp_overhead_cycles: emit::stamp_overhead(peer),
        memory: Memory {
            usable_bytes: physical_memory(),
            heap_bytes: 0,
        },
        plan: plan(opts, manifest),
        platform: peer.kind.name().to_string(),
        os: Some(os_release()),
    }
}

/// Every experiment this run will attempt: the floor, then the suite's.
fn plan(opts: &Options, manifest: Option<&traplab_suite::Manifest>) -> Vec<Planned> {
    let mut plan: Vec<Planned> = floor::experiments()
        .iter()
        .filter(|f| opts.selects(f.name))
        .map(|f| Planned {
            experiment: f.name.to_string(),
            config: config::RING3.to_string(),
            samples: opts.samples,
        })
        .collect();
    if let Some(m) = manifest {
        plan.extend(traplab_runner_core::plan::suite(opts, m));
    }
    plan
}

/// TSC ticks per second against `CLOCK_MONOTONIC_RAW` over 50 ms, busy
/// (a sleep would let an icount guest skip its idle time).
fn calibrate_tsc() -> u64 {
    let now = || {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid out-pointer.
        unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC_RAW, &mut ts) };
        ts.tv_sec as u128 * 1_000_000_000 + ts.tv_nsec as u128
    };
    let (n0, t0) = (now(), signals::stamp());
    let mut n1 = n0;
    while n1 - n0 < 50_000_000 {
        n1 = now();
    }
    let t1 = signals::stamp();
    ((t1 - t0) as u128 * 1_000_000_000 / (n1 - n0).max(1)) as u64
}

/// `Linux <release>` from uname(2).
fn os_release() -> String {
    // SAFETY: uname fills the struct; the fields are NUL-terminated.
    unsafe {
        let mut u: libc::utsname = core::mem::zeroed();
        if libc::uname(&mut u) != 0 {
            return String::from("Linux (uname failed)");
        }
        let field = |f: &[libc::c_char]| {
            std::ffi::CStr::from_ptr(f.as_ptr())
                .to_string_lossy()
                .into_owned()
        };
        format!("{} {}", field(&u.sysname), field(&u.release))
    }
}

fn physical_memory() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let (pages, size) = unsafe {
        (
            libc::sysconf(libc::_SC_PHYS_PAGES),
            libc::sysconf(libc::_SC_PAGESIZE),
        )
    };
    (pages.max(0) as u64) * (size.max(0) as u64)
}
