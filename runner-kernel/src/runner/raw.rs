//! The raw exception floor: exceptions raised by kernel code, no wasm
//! involved, resumed with `iretq`. Each raising instruction registers a
//! fixup (fault address → resume address) in `.traplab_fixups`, the way
//! kernels recover from expected faults in their own code; the demand-paging
//! case instead has the pager map the page and retry the instruction.

use core::arch::asm;

use traplab_runner_core::floor::FloorExperiment;
use traplab_wire::TrapSignature;

use crate::mm;

/// What a raw experiment must raise: exactly one exception of `vector`.
const fn raises(vector: u8) -> Option<TrapSignature> {
    Some(TrapSignature::vector(None, Some(vector)))
}

fn nothing() {}

/// An address in page 0, which the boot stub leaves unmapped.
const NULL_PAGE_ADDRESS: u64 = 0x8;
/// The lowest non-canonical address: any access raises #GP(0).
const NON_CANONICAL_ADDRESS: u64 = 0x8000_0000_0000_0000;
/// The demand-paged page the `raw.pf_demand` experiment touches.
const DEMAND_PAGE: u64 = mm::DEMAND_BASE;

/// Emit `$insn` at local label 2, resuming at label 3 right after it, and
/// register the pair in `.traplab_fixups`. `$resume` picks the resume
/// label: `3b` to skip the instruction (faults), `2b` for traps, where the
/// CPU already reports the address after the instruction.
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

fn raise_page_fault() {
    // SAFETY: the load faults and the fixup resumes after it; only the
    // scratch register changes.
    unsafe {
        with_fixup!("2: mov {tmp}, qword ptr [{addr}]", "2b", addr = in(reg) NULL_PAGE_ADDRESS, tmp = out(reg) _, options(nostack, readonly));
    }
}

fn raise_invalid_opcode() {
    // SAFETY: as above; ud2 changes nothing before faulting.
    unsafe {
        with_fixup!("2: ud2", "2b", options(nostack, nomem));
    }
}

fn raise_divide_error() {
    // SAFETY: div by a zero register faults before writing EAX/EDX; the
    // fixup skips it.
    unsafe {
        with_fixup!("2: div {zero:e}", "2b", zero = in(reg) 0u32, inout("eax") 1u32 => _, inout("edx") 0u32 => _, options(nostack, nomem));
    }
}

fn raise_general_protection() {
    // SAFETY: a non-canonical load faults with #GP(0); the fixup skips it.
    unsafe {
        with_fixup!("2: mov {tmp}, qword ptr [{addr}]", "2b", addr = in(reg) NON_CANONICAL_ADDRESS, tmp = out(reg) _, options(nostack, readonly));
    }
}

fn raise_breakpoint() {
    // SAFETY: #BP is a trap: the CPU reports the address after int3, which
    // is label 3, so the fixup is registered for label 3 itself.
    unsafe {
        with_fixup!("int3", "3b", options(nostack, nomem));
    }
}

fn evict_demand_page() {
    mm::evict_demand_page(DEMAND_PAGE);
}

fn touch_demand_page() {
    // SAFETY: the access faults once, the pager maps a zeroed page and the
    // load is retried.
    unsafe { core::ptr::read_volatile(DEMAND_PAGE as *const u64) };
}

/// The raw experiments, run by the runner core's floor loop.
pub const RAW_EXPERIMENTS: [FloorExperiment; 6] = [
    FloorExperiment {
        name: "raw.pf",
        expected: raises(0x0E),
        prepare: nothing,
        raise: raise_page_fault,
    },
    FloorExperiment {
        name: "raw.ud",
        expected: raises(0x06),
        prepare: nothing,
        raise: raise_invalid_opcode,
    },
    FloorExperiment {
        name: "raw.de",
        expected: raises(0x00),
        prepare: nothing,
        raise: raise_divide_error,
    },
    FloorExperiment {
        name: "raw.gp",
        expected: raises(0x0D),
        prepare: nothing,
        raise: raise_general_protection,
    },
    FloorExperiment {
        name: "raw.bp",
        expected: raises(0x03),
        prepare: nothing,
        raise: raise_breakpoint,
    },
    FloorExperiment {
        name: "raw.pf_demand",
        expected: raises(0x0E),
        prepare: evict_demand_page,
        raise: touch_demand_page,
    },
];

/// Configuration label of raw experiments.
pub const RAW_CONFIG: &str = "ring0";
