//! The local APIC, this CPU's interrupt controller, and the legacy 8259
//! PICs it replaces.
//!
//! The kernel takes one kind of external interrupt: the local APIC timer
//! (`super::timer`). Every other source is shut off where it starts:
//!
//! - the 8259 PICs are remapped to vectors 0x20–0x2F and fully masked. The
//!   firmware leaves them at their power-on vectors 0x08–0x0F with the PIT
//!   (IRQ 0) unmasked and ticking, so the first `sti` would otherwise
//!   deliver the PIT as vector 8, #DF;
//! - the APIC's LINT0 (where the PICs' INTR line arrives in virtual-wire
//!   mode) and its error interrupt are masked. LINT1 stays as the firmware
//!   set it (NMI).
//!
//! Registers are reached through the xAPIC MMIO page at the address in
//! IA32_APIC_BASE, mapped uncacheable. If the firmware handed over in
//! x2APIC mode, where that page no longer responds, the same registers are
//! MSRs (0x800 + offset / 16); QEMU's TCG APIC has no x2APIC mode, so that
//! path only runs on hardware.

use core::sync::atomic::{AtomicU64, Ordering};

use x86_64::instructions::port::Port;
use x86_64::registers::model_specific::Msr;

const IA32_APIC_BASE: u32 = 0x1B;
const APIC_BASE_ENABLE: u64 = 1 << 11;
const APIC_BASE_X2APIC: u64 = 1 << 10;
const APIC_BASE_ADDRESS: u64 = 0x000F_FFFF_FFFF_F000;

/// xAPIC register offsets.
pub const TPR: u32 = 0x080;
pub const EOI: u32 = 0x0B0;
pub const SVR: u32 = 0x0F0;
pub const LVT_TIMER: u32 = 0x320;
pub const LVT_LINT0: u32 = 0x350;
pub const LVT_ERROR: u32 = 0x370;
pub const TIMER_INITIAL_COUNT: u32 = 0x380;
pub const TIMER_CURRENT_COUNT: u32 = 0x390;
pub const TIMER_DIVIDE: u32 = 0x3E0;

/// LVT mask bit: the entry raises no interrupt.
pub const LVT_MASKED: u32 = 1 << 16;
/// SVR bit 8: the APIC is software-enabled (delivers interrupts).
const SVR_ENABLE: u32 = 1 << 8;

/// Where the registers are: 0 before [`init`], [`X2APIC`], or the
/// (page-aligned, so never 1) physical = virtual address of the MMIO page.
static BASE: AtomicU64 = AtomicU64::new(0);
const X2APIC: u64 = 1;

/// Interrupts on vectors nobody programmed, since boot.
static UNEXPECTED: AtomicU64 = AtomicU64::new(0);

/// Read an APIC register.
pub fn read(reg: u32) -> u32 {
    match BASE.load(Ordering::Relaxed) {
        0 => 0,
        // SAFETY: x2APIC mode is on, so the register MSRs exist.
        X2APIC => unsafe { Msr::new(0x800 + (reg >> 4)).read() as u32 },
        // SAFETY: `init` checked the base and mapped the page uncached;
        // APIC registers are 32-bit, 16-byte aligned.
        base => unsafe { core::ptr::read_volatile((base + reg as u64) as *const u32) },
    }
}

/// Write an APIC register.
pub fn write(reg: u32, value: u32) {
    match BASE.load(Ordering::Relaxed) {
        0 => {}
        // SAFETY: as in `read`.
        X2APIC => unsafe { Msr::new(0x800 + (reg >> 4)).write(value as u64) },
        // SAFETY: as in `read`.
        base => unsafe { core::ptr::write_volatile((base + reg as u64) as *mut u32, value) },
    }
}

/// Signal the end of the interrupt being serviced, so the APIC delivers the
/// next one. Not for the spurious vector, which is never "in service".
pub fn eoi() {
    write(EOI, 0);
}

/// Route the legacy PICs out of the way, enable the local APIC with
/// `spurious_vector`, and mask its inputs other than the timer (left masked
/// too; `super::timer` programs it). Interrupts stay disabled.
pub fn init(spurious_vector: u8) -> Result<(), &'static str> {
    disable_legacy_pics();
    if core::arch::x86_64::__cpuid(1).edx & (1 << 9) == 0 {
        return Err("no local APIC (CPUID.01H:EDX[9] clear)");
    }
    let mut base_msr = Msr::new(IA32_APIC_BASE);
    // SAFETY: IA32_APIC_BASE exists on every CPU with an APIC.
    let mut value = unsafe { base_msr.read() };
    if value & APIC_BASE_X2APIC != 0 {
        BASE.store(X2APIC, Ordering::Relaxed);
    } else {
        if value & APIC_BASE_ENABLE == 0 {
            value |= APIC_BASE_ENABLE;
            // SAFETY: sets the global enable bit of the APIC CPUID reports;
            // the base address is unchanged.
            unsafe { base_msr.write(value) };
        }
        let base = value & APIC_BASE_ADDRESS;
        if base >= 4 << 30 {
            return Err("local APIC registers lie above the 4 GiB identity map");
        }
        super::paging::set_identity_uncached(base)
            .map_err(|_| "cannot map the local APIC registers uncached")?;
        BASE.store(base, Ordering::Relaxed);
    }
    // Accept every priority, mask the PICs' input and the error interrupt.
    write(TPR, 0);
    write(LVT_LINT0, LVT_MASKED);
    write(LVT_ERROR, LVT_MASKED);
    write(LVT_TIMER, LVT_MASKED);
    write(SVR, SVR_ENABLE | spurious_vector as u32);
    Ok(())
}

/// Remap both 8259s to 0x20–0x2F and mask every line. Masking alone would
/// do while it holds, but after the remap even a line unmasked by mistake
/// arrives on a vector the IDT reports as an unexpected interrupt rather
/// than as a CPU exception.
fn disable_legacy_pics() {
    let mut master_command = Port::<u8>::new(0x20);
    let mut master_data = Port::<u8>::new(0x21);
    let mut slave_command = Port::<u8>::new(0xA0);
    let mut slave_data = Port::<u8>::new(0xA1);
    // Port 0x80 (POST codes) is unused: a write to it gives the old PICs
    // time between initialisation words.
    let mut delay = Port::<u8>::new(0x80);
    // SAFETY: the 8259 ports on every PC-compatible machine; nothing else
    // in the kernel uses them.
    unsafe {
        let mut out = |port: &mut Port<u8>, value: u8| {
            port.write(value);
            delay.write(0);
        };
        // ICW1: initialise, ICW4 follows.
        out(&mut master_command, 0x11);
        out(&mut slave_command, 0x11);
        // ICW2: vector offsets.
        out(&mut master_data, 0x20);
        out(&mut slave_data, 0x28);
        // ICW3: the slave hangs off the master's IRQ 2.
        out(&mut master_data, 1 << 2);
        out(&mut slave_data, 2);
        // ICW4: 8086 mode.
        out(&mut master_data, 0x01);
        out(&mut slave_data, 0x01);
        // OCW1: mask all lines.
        out(&mut master_data, 0xFF);
        out(&mut slave_data, 0xFF);
    }
}

/// An interrupt on a vector nobody programmed: count it and acknowledge it.
pub fn unexpected_interrupt() {
    UNEXPECTED.fetch_add(1, Ordering::Relaxed);
    eoi();
}

/// Interrupts on vectors nobody programmed, since boot.
pub fn unexpected_interrupts() -> u64 {
    UNEXPECTED.load(Ordering::Relaxed)
}
