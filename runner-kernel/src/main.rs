//! runner-kernel: a bare-metal x86-64 kernel that hosts wasmtime in ring 0,
//! turns CPU exceptions into wasm traps through Theseus-style handlers, and
//! streams timed records over COM1.
//!
//! This file only boots and hands over. Boot sequence (each step is one
//! module): `arch::boot` (32-bit stub → long mode) → [`kernel_entry`] →
//! `arch::init` (serial, GDT/TSS/IST, IDT, SSE) → `bootinfo` (memory map,
//! command line, suite module) → `mm` (heap, frames, kernel protection) →
//! `runner::session` (calibration, header record, setup checks, every
//! experiment) → end record → exit through QEMU's debug-exit device.
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

use traplab_wire::{EndStatus, exit};

use crate::bootinfo::BootInfo;

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
        Err(e) => fault::before_heap(format_args!("unusable boot information: {e}")),
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
    let status = runner::session::run(&boot, &opts, &problems, memory);
    report::end(status, false);
    arch::exit::exit(match status {
        EndStatus::Complete => exit::SUCCESS,
        EndStatus::Failed => exit::FAILURE,
        EndStatus::Fault | EndStatus::Panic => exit::KERNEL_FAULT,
    })
}
