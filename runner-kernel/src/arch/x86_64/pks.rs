//! Supervisor protection keys (PKS): fence a campaign trial's observed
//! call off from kernel memory in the one address space.
//!
//! Every supervisor page carries a 4-bit key in bits 62:59 of its leaf
//! page-table entry (key 0 unless set); the IA32_PKRS MSR holds two bits
//! per key, access-disable (bit 2k) and write-disable (bit 2k+1), checked
//! on every data access to a supervisor page once CR4.PKS is on. Write
//! disable applies to ring-0 writes because CR0.WP is on (the kernel
//! relies on it for its read-only code already). Paging-structure walks
//! (the CPU setting accessed and dirty bits) are not data accesses and
//! are never checked.
//!
//! The kernel tags its heap, the page-frame pool (page tables live there)
//! and its stack with [`KERNEL_KEY`] (`crate::mm::isolate_kernel`) and
//! keeps PKRS at 0 (every key writable) except inside an isolated gated
//! call (`super::gate::enter_isolated`), which loads [`PKRS_CLOSED`]: a
//! store through a flipped register into those ranges then raises #PF
//! (error code bit 5, PK) where it happens, and the campaign contains it,
//! instead of corrupting the heap for the kernel to trip over later.
//!
//! Kernel code that runs during an isolated call and must write tagged
//! memory opens the key for its duration ([`writable`]): interrupt
//! handlers (the timer drives the trial and the watchdog; its state lives
//! on the kernel stack and heap), exception dispatch (wasmtime's trap
//! handler read-locks its code registry, whose lock word is on the heap)
//! and the page mapper. A fault is thus caught where the wild store
//! happens; what runs after it (the handler, the landing) is the
//! kernel's own code. Exceptions do so through twin entry stubs
//! (`super::idt::use_isolated_stubs`, loaded with isolation), so the
//! plain exception path is untouched; the interrupt entry and the page
//! mapper pay a load and a branch without PKS.

use core::arch::asm;
use core::arch::x86_64::{__cpuid, __cpuid_count};
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// IA32_PKRS.
const MSR_PKRS: u32 = 0x6E1;
/// CR4.PKS.
const CR4_PKS: u64 = 1 << 24;

/// The key of kernel memory an isolated call must not write.
pub const KERNEL_KEY: u8 = 1;

/// PKRS inside an isolated call: [`KERNEL_KEY`] write-disabled, reads
/// allowed (the runtime reads the engine and module on the heap).
/// Read by the isolated gate's assembly, hence a symbol.
#[unsafe(no_mangle)]
pub static PKRS_CLOSED: AtomicU64 = AtomicU64::new(1 << (2 * KERNEL_KEY as u64 + 1));

/// Whether [`enable`] ran: until then no code touches PKRS (the MSR
/// does not exist without PKS).
static ENABLED: AtomicBool = AtomicBool::new(false);

/// Whether the CPU has PKS (CPUID.(EAX=7,ECX=0):ECX bit 31).
pub fn supported() -> bool {
    // Leaf 7 is read only when leaf 0 says it exists.
    __cpuid(0).eax >= 7 && __cpuid_count(7, 0).ecx & (1 << 31) != 0
}

/// Turn PKS on with every key writable (PKRS 0): nothing changes until
/// an isolated call closes [`KERNEL_KEY`].
pub fn enable() -> Result<(), &'static str> {
    if !supported() {
        return Err("the CPU has no supervisor protection keys (CPUID.7.0:ECX[31])");
    }
    if ENABLED.load(Ordering::Relaxed) {
        return Ok(());
    }
    // SAFETY: PKS exists (checked); PKRS 0 allows every access, so
    // turning CR4.PKS on changes no access's outcome.
    unsafe {
        write(0);
        let cr4 = x86_64::registers::control::Cr4::read_raw();
        x86_64::registers::control::Cr4::write_raw(cr4 | CR4_PKS);
    }
    ENABLED.store(true, Ordering::Relaxed);
    Ok(())
}

/// Whether PKS is on (some call may be isolated).
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

fn read() -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: only called once `enable` found PKS; reads the MSR only.
    unsafe {
        asm!("rdmsr", in("ecx") MSR_PKRS, out("eax") lo, out("edx") hi, options(nomem, nostack, preserves_flags))
    };
    (u64::from(hi) << 32) | u64::from(lo)
}

/// # Safety
/// PKS must exist; closing keys makes tagged memory fault.
unsafe fn write(value: u64) {
    // SAFETY: the caller's contract.
    unsafe {
        asm!("wrmsr", in("ecx") MSR_PKRS, in("eax") value as u32, in("edx") (value >> 32) as u32, options(nostack, preserves_flags))
    };
}

/// Run `f` with every key writable, then put PKRS back: for kernel code
/// that writes tagged memory while an isolated call may be in progress
/// (the timer interrupt, the page mapper). Without PKS, or outside an
/// isolated call, it costs a load and a branch (and an `rdmsr`).
#[inline]
pub fn writable<R>(f: impl FnOnce() -> R) -> R {
    if !ENABLED.load(Ordering::Relaxed) {
        return f();
    }
    let was = read();
    if was != 0 {
        // SAFETY: opening keys only allows more.
        unsafe { write(0) };
    }
    let result = f();
    if was != 0 {
        // SAFETY: puts back what the interrupted code ran with.
        unsafe { write(was) };
    }
    result
}

/// Open every key for good: the unhandled-fault and panic paths, which
/// report from wherever they were and never return to the call.
pub fn open() {
    if ENABLED.load(Ordering::Relaxed) {
        // SAFETY: opening keys only allows more.
        unsafe { write(0) };
    }
}
