//! Exceptions raised on purpose by kernel code, and the fixup table that
//! resumes them: the raw-exception floor's instructions (`runner::raw`).
//!
//! Each raising instruction registers a fixup — (fault address, resume
//! address) — in the `.traplab_fixups` section, the way kernels recover
//! from expected faults in their own code. The linker script brackets the
//! section with `__fixups_start`/`__fixups_end`, and the raisers' code
//! (`.text.traplab_raise`) with `__raise_start`/`__raise_end`, so that a
//! fault outside them costs [`fixup_for`] two compares; the exception
//! dispatcher asks [`fixup_for`] before anything else, so every raiser here returns
//! normally, resumed by `iretq`. The section's format is private to this
//! module: it writes the table (`with_fixup!`) and reads it.
//!
//! The raisers are safe to call for that reason: the fault they raise is
//! expected and resumed right after the instruction, which changes nothing
//! but a scratch register.

use core::arch::asm;

/// An address in page 0, which the kernel never maps (`crate::mm`'s map).
const NULL_PAGE_ADDRESS: u64 = 0x8;
/// The lowest non-canonical address: any access raises #GP(0).
const NON_CANONICAL_ADDRESS: u64 = 0x8000_0000_0000_0000;

/// Emit `$insn` at local label 2, resuming at label 3 right after it, and
/// register the pair in `.traplab_fixups`. `$fault_label` picks the
/// address the CPU reports: `2b` for faults (the instruction itself), `3b`
/// for traps, where the CPU already reports the address after it.
macro_rules! with_fixup {
    ($insn:literal, $fault_label:literal, $($operands:tt)*) => {
        asm!(
            $insn,
            "3:",
            ".pushsection .traplab_fixups, \"a\"",
            ".balign 8",
            concat!(".quad ", $fault_label, ", 3b"),
            ".popsection",
            $($operands)*
        )
    };
}

/// #PF: a load from the unmapped null page.
#[inline(never)]
#[unsafe(link_section = ".text.traplab_raise")]
pub fn page_fault() {
    // SAFETY: the load faults and the fixup resumes after it; only the
    // scratch register changes.
    unsafe {
        with_fixup!("2: mov {tmp}, qword ptr [{addr}]", "2b", addr = in(reg) NULL_PAGE_ADDRESS, tmp = out(reg) _, options(nostack, readonly));
    }
}

/// #UD: `ud2`.
#[inline(never)]
#[unsafe(link_section = ".text.traplab_raise")]
pub fn invalid_opcode() {
    // SAFETY: as above; ud2 changes nothing before faulting.
    unsafe {
        with_fixup!("2: ud2", "2b", options(nostack, nomem));
    }
}

/// #DE: `div` by a zero register.
#[inline(never)]
#[unsafe(link_section = ".text.traplab_raise")]
pub fn divide_error() {
    // SAFETY: div by a zero register faults before writing EAX/EDX; the
    // fixup skips it.
    unsafe {
        with_fixup!("2: div {zero:e}", "2b", zero = in(reg) 0u32, inout("eax") 1u32 => _, inout("edx") 0u32 => _, options(nostack, nomem));
    }
}

/// #GP(0): a load from a non-canonical address.
#[inline(never)]
#[unsafe(link_section = ".text.traplab_raise")]
pub fn general_protection() {
    // SAFETY: a non-canonical load faults with #GP(0); the fixup skips it.
    unsafe {
        with_fixup!("2: mov {tmp}, qword ptr [{addr}]", "2b", addr = in(reg) NON_CANONICAL_ADDRESS, tmp = out(reg) _, options(nostack, readonly));
    }
}

/// #BP: `int3`.
#[inline(never)]
#[unsafe(link_section = ".text.traplab_raise")]
pub fn breakpoint() {
    // SAFETY: #BP is a trap: the CPU reports the address after int3, which
    // is label 3, so the fixup is registered for label 3 itself.
    unsafe {
        with_fixup!("int3", "3b", options(nostack, nomem));
    }
}

unsafe extern "C" {
    static __fixups_start: [u64; 0];
    static __raise_start: u8;
    static __raise_end: u8;
    static __fixups_end: [u64; 0];
}

/// The resume address registered for a fault at `rip`, if any.
///
/// `#[inline]`: asked on every exception's path, by the dispatcher in
/// another module; inlined there, as it was when the table lived beside it.
#[inline]
pub fn fixup_for(rip: u64) -> Option<u64> {
    // Every raiser lives in `.text.traplab_raise`, which the linker script
    // brackets: a fault anywhere else (every wasm trap) is answered by two
    // compares instead of a walk of the table (about 30 instructions on
    // each exception, measured by the profiler, docs/profiler.md).
    // Inclusive at the end: a trap's fixup (`int3`) is the address after
    // it. Two plain compares (a `RangeInclusive` costs twice as many).
    if rip < (&raw const __raise_start) as u64 || rip > (&raw const __raise_end) as u64 {
        return None;
    }
    // SAFETY: the linker script brackets `.traplab_fixups` with these
    // symbols; the section holds (fault address, resume address) pairs.
    let table = unsafe {
        let start = (&raw const __fixups_start) as *const [u64; 2];
        let end = (&raw const __fixups_end) as *const [u64; 2];
        core::slice::from_raw_parts(start, end.offset_from(start) as usize)
    };
    table
        .iter()
        .find(|[fault, _]| *fault == rip)
        .map(|[_, resume]| *resume)
}
