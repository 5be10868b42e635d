//! One boot's run, once memory is up: the header record, the setup checks
//! (command line, suite image), then every experiment in order — the raw
//! floor, the timer check, in-kernel Cranelift, the suite's wasm
//! experiments, `.wast` scripts and a campaign — and how the run ended.

use alloc::format;
use alloc::string::{String, ToString};

use traplab_runner_core::{Options, Platform};
use traplab_suite::Suite;
use traplab_wire::{
    EndStatus, Header, KernelBuild, Memory, Record, RunConfig, SCHEMA_VERSION, Tsc,
};

use super::LabKernel;
use crate::arch::cpu::{self, CpuInfo};
use crate::bootinfo::BootData;
use crate::{arch, exceptions, mm, report};

/// Version of the wasmtime crate this kernel links (read from Cargo.lock by
/// build.rs).
const WASMTIME_VERSION: &str = env!("TRAPLAB_WASMTIME_VERSION");

/// Everything after memory is up; returns how the run ended.
pub fn run(
    boot: &BootData,
    opts: &Options,
    problems: &[String],
    memory: mm::MemoryStats,
) -> EndStatus {
    let (cpu, accel, invariant_tsc) = CpuInfo::read().into_header();
    let (tsc_hz, tsc_source) =
        cpu::tsc_hz_from_cpuid().unwrap_or_else(|| (arch::pit::measure_tsc_hz(), "pit"));
    cpu::set_tsc_hz(tsc_hz);
    let stamp_overhead = traplab_runner_core::emit::stamp_overhead(&LabKernel);

    let module = boot.modules.first();
    let suite = module.map(|m| Suite::parse(m.bytes()));
    let manifest = match &suite {
        Some(Ok(s)) => Some(&s.manifest),
        _ => None,
    };
    let plan = super::plan(opts, manifest);
    let everything = Options {
        only: None,
        ..opts.clone()
    };
    let unmatched = traplab_runner_core::options::unmatched_selection(
        opts,
        &super::selectable(opts, manifest),
        &super::selectable(&everything, manifest),
    );
    report::emit(Record::Header(Header {
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
            options: alloc::vec![format!(
                "dispatch_delay_cycles={}",
                exceptions::DISPATCH_DELAY_CYCLES
            )],
        },
        wasmtime: WASMTIME_VERSION.to_string(),
        accel,
        cpu,
        tsc: Tsc {
            hz: tsc_hz,
            source: tsc_source.to_string(),
            invariant: invariant_tsc,
        },
        boot: boot.protocol.to_string(),
        cmdline: boot.cmdline.clone(),
        config: RunConfig {
            suite: manifest.map_or_else(|| "none".to_string(), |m| m.suite.clone()),
            suite_sha256: match &suite {
                Some(Ok(s)) => s.manifest_sha256.clone(),
                _ => String::new(),
            },
            samples: opts.samples,
            warmup: opts.warmup,
            mode: opts.mode.clone(),
            qemu_args: opts.qemu_args.clone(),
            test: opts.test.name(),
            cpu_profile: manifest
                .and_then(|m| m.cpu.as_ref())
                .map(|c| c.profile.clone()),
        },
        stamp_overhead_cycles: stamp_overhead,
        memory: Memory {
            usable_bytes: memory.usable_bytes,
            heap_bytes: memory.heap_bytes,
        },
        plan,
        platform: LabKernel.kind().name().to_string(),
        os: None,
    }));

    let mut setup_failed = false;
    for problem in problems.iter().chain(&unmatched) {
        super::emit_result(
            "setup.cmdline",
            "boot",
            0,
            None,
            None,
            Some(problem.clone()),
        );
        setup_failed = true;
    }
    super::scenario::test_scenario(opts.test);

    super::run_raw(opts);
    super::timer_check::run(opts);
    super::jit::run(opts);

    let suite = match suite {
        Some(Ok(suite)) if suite.manifest.wasmtime != WASMTIME_VERSION => {
            super::emit_result(
                "setup.suite",
                "boot",
                0,
                None,
                None,
                Some(format!(
                    "the suite image was compiled by wasmtime {}, this kernel links wasmtime {WASMTIME_VERSION}",
                    suite.manifest.wasmtime
                )),
            );
            setup_failed = true;
            None
        }
        Some(Ok(suite)) => Some(suite),
        Some(Err(e)) => {
            super::emit_result(
                "setup.suite",
                "boot",
                0,
                None,
                None,
                Some(format!("suite image rejected: {e}")),
            );
            setup_failed = true;
            None
        }
        None => {
            super::emit_result(
                "setup.suite",
                "boot",
                0,
                None,
                None,
                Some("no suite image module was loaded (qemu -initrd / GRUB module2)".to_string()),
            );
            setup_failed = true;
            None
        }
    };
    if let Some(suite) = &suite {
        run_wasm(suite, opts);
        super::wast::run(suite, opts);
        super::campaign::run(suite, opts);
    }
    if setup_failed || report::failed_count() > 0 {
        EndStatus::Failed
    } else {
        EndStatus::Complete
    }
}

fn run_wasm(suite: &Suite<'_>, opts: &Options) {
    if traplab_runner_core::wasm::run_suite(&LabKernel, suite, opts) {
        super::check_double_registration();
    }
}
