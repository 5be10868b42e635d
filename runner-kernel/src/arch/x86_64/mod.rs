//! The hardware boundary: everything that executes `asm!`, touches ports,
//! MSRs, control registers or descriptor tables lives under this module.
//! The rest of the kernel calls `crate::arch::…`.

pub mod boot;
pub mod cpu;
pub mod exit;
pub mod gate;
pub mod gdt;
pub mod idt;
pub mod lapic;
pub mod paging;
pub mod pit;
pub mod pks;
pub mod raise;
pub mod serial;
pub mod timer;

/// Bring up the CPU state the kernel relies on: descriptor tables, exception
/// entry, SIMD for wasm code. Serial comes first so failures can be reported.
pub fn init() {
    serial::init();
    gdt::init();
    idt::init();
    cpu::enable_simd();
}
