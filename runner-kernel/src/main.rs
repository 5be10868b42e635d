//! runner-kernel: a bare-metal x86-64 kernel that hosts wasmtime in ring 0,
//! turns CPU exceptions into wasm traps through Theseus-style handlers, and
//! streams timed records over COM1.
//!
//! Boot sequence (each step is one module):
//! `arch::boot` (32-bit stub → long mode) → [`kernel_entry`] → `arch::init`
//! (serial, GDT/TSS/IST, IDT, SSE) → `bootinfo` (memory map, command line,
//! suite module) → `mm` (heap, frames) → calibration → header record →
//! `runner` (raw floor, wasm experiments, heap check) → end record → exit
//! through QEMU's debug-exit device.
#![no_std]
#![no_main]

extern crate alloc;

mod arch;
mod bootinfo;
mod exceptions;
mod fault;
mod mm;
mod platform;
mod recovery;
mod report;
mod runner;
mod symbols;

use alloc::format;
use alloc::string::{String, ToString};

use traplab_suite::Suite;
use traplab_wire::{
    EndStatus, Header, KernelBuild, Memory, Record, RunConfig, SCHEMA_VERSION, Tsc, exit,
};

use crate::arch::cpu::{self, CpuInfo};
use crate::bootinfo::{BootData, BootInfo};
use traplab_runner_core::{Options, Platform, TestScenario};

/// Version of the wasmtime crate this kernel links (read from Cargo.lock by
/// build.rs).
const WASMTIME_VERSION: &str = env!("TRAPLAB_WASMTIME_VERSION");

unsafe extern "C" {
    static __kernel_start: u8;
    static __kernel_end: u8;
}

/// Called by the boot stub in long mode, on the boot stack, interrupts off.
#[unsafe(no_mangle)]
pub extern "C" fn kernel_entry(protocol: u32, info: u32, magic: u32) -> ! {
    arch::init();
    // SAFETY: the boot stub passes the loader's registers unchanged.
    let boot = match unsafe { BootInfo::new(protocol, info, magic) } {
        Ok(boot) => boot,
        Err(e) => {
            // No heap yet, so no records: plain text, then the fault exit.
            arch::serial::emergency_write(b"runner-kernel: unusable boot information: ");
            let mut buf = [0u8; 160];
            let text = format_no_alloc(&mut buf, format_args!("{e}"));
            arch::serial::emergency_write(text.as_bytes());
            arch::serial::emergency_write(b"\n");
            arch::exit::exit(exit::KERNEL_FAULT);
        }
    };
    // Linker-script symbols; only their addresses are taken.
    let kernel = (
        &raw const __kernel_start as u64,
        &raw const __kernel_end as u64,
    );
    let mut reserved = [kernel, boot.own_range(), (0, 0), (0, 0), (0, 0), (0, 0)];
    for (slot, module) in reserved[2..].iter_mut().zip(boot.modules()) {
        *slot = (module.start, module.start + module.len);
    }
    let memory = mm::init(&boot, &reserved);
    let boot = boot.copy_out();
    if let Err(e) = mm::protect_kernel() {
        panic!(
            "cannot protect the kernel image (null page, stack guard, read-only code and data): {e:?}"
        );
    }
    // Its failure is reported by `runner::timer_check` (init keeps it).
    let _ = arch::timer::init();

    let (opts, problems) = traplab_runner_core::options::parse(&boot.cmdline);
    let status = run(&boot, &opts, &problems, memory);
    report::end(status, false);
    arch::exit::exit(match status {
        EndStatus::Complete => exit::SUCCESS,
        EndStatus::Failed => exit::FAILURE,
        EndStatus::Fault | EndStatus::Panic => exit::KERNEL_FAULT,
    })
}

/// Everything after memory is up; returns how the run ended.
fn run(boot: &BootData, opts: &Options, problems: &[String], memory: mm::MemoryStats) -> EndStatus {
    let (cpu, accel, invariant_tsc) = CpuInfo::read().into_header();
    let (tsc_hz, tsc_source) =
        cpu::tsc_hz_from_cpuid().unwrap_or_else(|| (arch::pit::measure_tsc_hz(), "pit"));
    cpu::set_tsc_hz(tsc_hz);
    let stamp_overhead = traplab_runner_core::emit::stamp_overhead(&runner::LabKernel);

    let module = boot.modules.first();
    let suite = module.map(|m| Suite::parse(m.bytes()));
    let manifest = match &suite {
        Some(Ok(s)) => Some(&s.manifest),
        _ => None,
    };
    let plan = runner::plan(opts, manifest);
    let everything = Options {
        only: None,
        ..opts.clone()
    };
    let unmatched = traplab_runner_core::options::unmatched_selection(
        opts,
        &runner::selectable(opts, manifest),
        &runner::selectable(&everything, manifest),
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
        platform: runner::LabKernel.kind().name().to_string(),
        os: None,
    }));

    let mut setup_failed = false;
    for problem in problems.iter().chain(&unmatched) {
        runner::emit_result(
            "setup.cmdline",
            "boot",
            0,
            None,
            None,
            Some(problem.clone()),
        );
        setup_failed = true;
    }
    test_scenario(opts.test);

    runner::run_raw(opts);
    runner::timer_check::run(opts);
    runner::jit::run(opts);

    let suite = match suite {
        Some(Ok(suite)) if suite.manifest.wasmtime != WASMTIME_VERSION => {
            runner::emit_result(
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
            runner::emit_result(
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
            runner::emit_result(
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
        runner::wast::run(suite, opts);
        runner::campaign::run(suite, opts);
    }
    if setup_failed || report::failed_count() > 0 {
        EndStatus::Failed
    } else {
        EndStatus::Complete
    }
}

fn run_wasm(suite: &Suite<'_>, opts: &Options) {
    if traplab_runner_core::wasm::run_suite(&runner::LabKernel, suite, opts) {
        runner::check_double_registration();
    }
}

/// Deliberate failures for the test suite (`test=` boot option).
#[inline(never)]
fn test_scenario(test: TestScenario) {
    match test {
        TestScenario::None => {}
        TestScenario::KernelFault => deliberate_kernel_fault(),
        TestScenario::CodeWrite => deliberate_code_write(),
        TestScenario::Panic => panic!("deliberate panic (test=panic)"),
    }
}

/// Reads the unmapped null page from kernel code: no fixup, no pager and no
/// wasm code claim it, so it must end as a `fault` record naming this
/// function.
#[inline(never)]
fn deliberate_kernel_fault() {
    // SAFETY: deliberately unsound — this access must fault.
    let value = unsafe { core::ptr::read_volatile(core::hint::black_box(0x10 as *const u64)) };
    report::log(format!("deliberate fault did not fault (read {value:#x})"));
}

/// Writes one byte of this very function, which `mm::protect_kernel` mapped
/// read-only: the write must fault (#PF, error code present + write) and
/// end as a `fault` record, rather than change the kernel's code.
#[inline(never)]
fn deliberate_code_write() {
    let code = deliberate_code_write as *const u8 as *mut u8;
    // SAFETY: deliberately unsound — this write must fault; if it did
    // not, it stores the byte that is already there.
    unsafe {
        let byte = core::ptr::read_volatile(code);
        core::ptr::write_volatile(core::hint::black_box(code), byte);
    }
    report::log(format!("the kernel's code is writable (wrote {code:p})"));
}

/// Format into a stack buffer (before the heap exists).
fn format_no_alloc<'a>(buf: &'a mut [u8], args: core::fmt::Arguments<'_>) -> &'a str {
    struct Cursor<'b> {
        buf: &'b mut [u8],
        len: usize,
    }
    impl core::fmt::Write for Cursor<'_> {
        fn write_str(&mut self, s: &str) -> core::fmt::Result {
            let n = s.len().min(self.buf.len() - self.len);
            self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
            self.len += n;
            Ok(())
        }
    }
    let mut cursor = Cursor { buf, len: 0 };
    let _ = core::fmt::write(&mut cursor, args);
    let len = cursor.len;
    core::str::from_utf8(&buf[..len]).unwrap_or("")
}
