//! Processor identification, control registers, SIMD enablement and the
//! serialized timestamp.

use core::arch::asm;
use core::arch::x86_64::__cpuid;

// Processor identification is unprivileged (CPUID), the same in ring 0 and
// ring 3, so every platform's run header shares the runner core's.
pub use traplab_runner_core::cpuid::{CpuInfo, detect_feature, tsc_hz_from_cpuid};

/// A serialized TSC read: `lfence` keeps earlier instructions from drifting
/// past the read and the trailing `lfence` keeps later ones from starting
/// before it (Intel 324264 uses `cpuid` for the former; `lfence` is
/// serializing enough for `rdtsc` on Intel and on AMD with
/// `LFENCE`-serializing set, and costs far less under emulation).
#[inline(always)]
pub fn stamp() -> u64 {
    let lo: u32;
    let hi: u32;
    // SAFETY: lfence/rdtsc only read the TSC into EDX:EAX.
    unsafe {
        asm!("lfence", "rdtsc", "lfence", out("eax") lo, out("edx") hi, options(nomem, nostack, preserves_flags));
    }
    ((hi as u64) << 32) | lo as u64
}

/// RBP of the calling function (inlined into it): where a frame-pointer
/// walk of its callers starts.
#[inline(always)]
pub fn frame_pointer() -> u64 {
    let rbp: u64;
    // SAFETY: reads the frame pointer register only.
    unsafe { asm!("mov {}, rbp", out(reg) rbp, options(nomem, nostack, preserves_flags)) };
    rbp
}

/// CR2: the linear address of the last page fault.
pub fn read_cr2() -> u64 {
    x86_64::registers::control::Cr2::read_raw()
}

pub fn interrupts_enabled() -> bool {
    x86_64::instructions::interrupts::are_enabled()
}

pub fn disable_interrupts() {
    x86_64::instructions::interrupts::disable();
}

pub fn enable_interrupts() {
    x86_64::instructions::interrupts::enable();
}

pub fn halt_forever() -> ! {
    loop {
        disable_interrupts();
        x86_64::instructions::hlt();
    }
}

/// Let wasm code (compiled by Cranelift with hardware floats and SIMD) use
/// SSE, and AVX where the CPU has it: CR0.MP on, CR0.EM off, CR4.OSFXSR and
/// CR4.OSXMMEXCPT on; with XSAVE, CR4.OSXSAVE and XCR0 = x87|SSE|AVX.
///
/// Kernel Rust code itself is soft-float and never touches these registers,
/// so there is no state to save across exceptions (single task, no
/// preemption).
pub fn enable_simd() {
    use x86_64::registers::control::{Cr0, Cr0Flags, Cr4, Cr4Flags};
    // SAFETY: only enables architectural features the CPU reports (SSE2 is
    // architectural on x86-64; XSAVE/AVX are checked below).
    unsafe {
        Cr0::update(|f| {
            f.remove(Cr0Flags::EMULATE_COPROCESSOR);
            f.insert(Cr0Flags::MONITOR_COPROCESSOR);
        });
        Cr4::update(|f| f.insert(Cr4Flags::OSFXSR | Cr4Flags::OSXMMEXCPT_ENABLE));
        let leaf1 = __cpuid(1);
        let has_xsave = leaf1.ecx & (1 << 26) != 0;
        let has_avx = leaf1.ecx & (1 << 28) != 0;
        if has_xsave {
            Cr4::update(|f| f.insert(Cr4Flags::OSXSAVE));
            let mut xcr0: u64 = 0b011; // x87 | SSE
            if has_avx {
                xcr0 |= 0b100; // AVX (YMM upper halves)
            }
            asm!("xsetbv", in("ecx") 0u32, in("eax") xcr0 as u32, in("edx") (xcr0 >> 32) as u32, options(nomem, nostack));
        }
    }
}

static TSC_HZ: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);

/// Record the calibrated TSC frequency (once, at boot).
pub fn set_tsc_hz(hz: u64) {
    TSC_HZ.store(hz, core::sync::atomic::Ordering::Relaxed);
}

/// The calibrated TSC frequency in Hz (0 before calibration).
pub fn tsc_hz() -> u64 {
    TSC_HZ.load(core::sync::atomic::Ordering::Relaxed)
}

/// Run `f` with CR0.WP clear, so ring-0 writes go through read-only pages
/// (fault injection patching compiled code), with interrupts off so
/// nothing else runs while protection is down.
pub fn with_write_protect_off<R>(f: impl FnOnce() -> R) -> R {
    use x86_64::registers::control::{Cr0, Cr0Flags};
    let interrupts = interrupts_enabled();
    disable_interrupts();
    let cr0 = Cr0::read();
    // SAFETY: clearing WP only relaxes write checks for ring 0; it is set
    // back before anything else runs.
    unsafe { Cr0::write(cr0 - Cr0Flags::WRITE_PROTECT) };
    let result = f();
    // SAFETY: restores the value read above.
    unsafe { Cr0::write(cr0) };
    if interrupts {
        enable_interrupts();
    }
    result
}
