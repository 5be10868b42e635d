//! The workload catalogue: every workload the suite ships, its WAT source, the
//! arguments the kernel calls it with, and what the call must end in (a
//! return value, or a wasmtime trap code plus the CPU vector that raises it).
//!
//! The expected vectors are the ones the Cranelift x86-64 back end of wasmtime
//! 48 produces under signals-based traps; each entry says which instruction
//! raises the exception and why. With explicit checks (`signals_based_traps`
//! off) wasmtime raises every one of these traps through a libcall, without
//! any CPU exception, so the vector applies to [`TrapMode::Signals`] only
//! (as [`traplab_suite::Workload::expect_vector`] documents).
//!
//! The WAT sources are compiled into the binary with `include_str!`, so
//! `build-suite` does not depend on the working directory.
//!
//! [`TrapMode::Signals`]: traplab_suite::TrapMode::Signals

use traplab_compute::{ComputeKernel, KERNELS};
use traplab_suite::WorkloadKind;
use wasmtime::Trap;

/// Divide error (#DE): `div`/`idiv` by zero or with a quotient that overflows.
pub const VECTOR_DIVIDE_ERROR: u8 = 0x00;
/// Invalid opcode (#UD): Cranelift's `ud2`, which ends every explicit
/// compare-and-branch trap (`unreachable`, stack limit, signature check,
/// `div_s` zero check).
pub const VECTOR_INVALID_OPCODE: u8 = 0x06;
/// Page fault (#PF): a load or store that touches an unmapped page (a guard
/// region of linear memory, or near address 0 through a null pointer).
pub const VECTOR_PAGE_FAULT: u8 = 0x0E;

/// The export every workload provides. Its type is always
/// `(i32, i32) -> i32` so the kernel can call any workload through one
/// `TypedFunc<(i32, i32), i32>`; [`crate::contract::check_contract`] enforces it.
pub const EXPORT: &str = "run";

/// A WAT source and where it lives, for error messages.
#[derive(Debug, Clone, Copy)]
pub struct WatSource {
    /// Path relative to the repository root, e.g. `workloads/wat/call_null.wat`.
    pub path: &'static str,
    pub text: &'static str,
}

/// Embeds `workloads/wat/<file>` and remembers its path.
macro_rules! wat_source {
    ($file:literal) => {
        WatSource {
            path: concat!("workloads/wat/", $file),
            text: include_str!(concat!("../wat/", $file)),
        }
    };
}

/// How a call of the workload must end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expectation {
    /// The call returns normally with this value.
    Returns(i32),
    /// The call ends in `Err` with this trap code. Under signals-based traps
    /// the CPU raises `vector` first; with explicit checks no exception is
    /// involved.
    Traps { trap: Trap, vector: u8 },
}

/// One catalogue entry.
#[derive(Debug, Clone, Copy)]
pub struct WorkloadSpec {
    /// Experiment name, e.g. `trap.oob_load`.
    pub name: &'static str,
    pub source: WatSource,
    /// Arguments of `run`. Operands that decide the trap (addresses,
    /// divisors, table slots) come from here rather than from constants in
    /// the WAT, so Cranelift cannot fold the faulting instruction away or
    /// replace it with an unconditional trap.
    pub args: [i32; 2],
    pub expect: Expectation,
}

impl WorkloadSpec {
    pub fn kind(&self) -> WorkloadKind {
        match self.expect {
            Expectation::Returns(_) => WorkloadKind::Call,
            Expectation::Traps { .. } => WorkloadKind::Trap,
        }
    }
}

/// An address well beyond the one 64 KiB page of the out-of-bounds workloads
/// but inside the 4 GiB reservation, so with signals-based traps it lands on
/// reserved, unmapped memory (not past the reservation, not non-canonical).
const FAR_OUT_OF_BOUNDS: i32 = 0x7fff_0000;

/// Every workload, in the order the suite lists them.
pub const WORKLOADS: &[WorkloadSpec] = &[
    // Returns its first argument: the cost of a call with no trap.
    WorkloadSpec {
        name: "call.null",
        source: wat_source!("call_null.wat"),
        args: [42, 0],
        expect: Expectation::Returns(42),
    },
    // SIMD byte shuffles and a swizzle (`pshufb` under every CPU profile
    // with SSSE3): the golden value is computed from the arguments' bytes,
    // so a wrong lowering, or a libcall the kernel lacks, fails the call.
    WorkloadSpec {
        name: "call.simd",
        source: wat_source!("call_simd.wat"),
        args: [0x0102_0304, 0x0a0b_0c0d],
        expect: Expectation::Returns(0x1211_160f),
    },
    // The 4 GiB reservation lets Cranelift omit the bounds check; the load
    // itself touches an unmapped page of the reservation.
    WorkloadSpec {
        name: "trap.oob_load",
        source: wat_source!("trap_oob_load.wat"),
        args: [FAR_OUT_OF_BOUNDS, 0],
        expect: Expectation::Traps {
            trap: Trap::MemoryOutOfBounds,
            vector: VECTOR_PAGE_FAULT,
        },
    },
    // Same as the load, as a write (the #PF error code has the W bit set).
    WorkloadSpec {
        name: "trap.oob_store",
        source: wat_source!("trap_oob_store.wat"),
        args: [FAR_OUT_OF_BOUNDS, 0x5a5a_5a5a],
        expect: Expectation::Traps {
            trap: Trap::MemoryOutOfBounds,
            vector: VECTOR_PAGE_FAULT,
        },
    },
    // `unreachable` is lowered to `ud2`.
    WorkloadSpec {
        name: "trap.unreachable",
        source: wat_source!("trap_unreachable.wat"),
        args: [0, 0],
        expect: Expectation::Traps {
            trap: Trap::UnreachableCodeReached,
            vector: VECTOR_INVALID_OPCODE,
        },
    },
    // `idiv` raises #DE for zero and for overflow alike, so Cranelift checks
    // the divisor for zero itself (compare, branch to `ud2`) to tell the two
    // trap codes apart.
    WorkloadSpec {
        name: "trap.div_s_zero",
        source: wat_source!("trap_div_s_zero.wat"),
        args: [1, 0],
        expect: Expectation::Traps {
            trap: Trap::IntegerDivisionByZero,
            vector: VECTOR_INVALID_OPCODE,
        },
    },
    // Unsigned `div` fails only on a zero divisor: no check, `div` raises #DE.
    WorkloadSpec {
        name: "trap.div_u_zero",
        source: wat_source!("trap_div_u_zero.wat"),
        args: [1, 0],
        expect: Expectation::Traps {
            trap: Trap::IntegerDivisionByZero,
            vector: VECTOR_DIVIDE_ERROR,
        },
    },
    // `rem_s` special-cases only a divisor of -1 (INT_MIN rem -1 is 0 in
    // wasm); a zero divisor reaches `idiv`, which raises #DE.
    WorkloadSpec {
        name: "trap.rem_s_zero",
        source: wat_source!("trap_rem_s_zero.wat"),
        args: [1, 0],
        expect: Expectation::Traps {
            trap: Trap::IntegerDivisionByZero,
            vector: VECTOR_DIVIDE_ERROR,
        },
    },
    // INT_MIN / -1 passes the zero check; `idiv` overflows and raises #DE.
    WorkloadSpec {
        name: "trap.div_overflow",
        source: wat_source!("trap_div_overflow.wat"),
        args: [i32::MIN, -1],
        expect: Expectation::Traps {
            trap: Trap::IntegerOverflow,
            vector: VECTOR_DIVIDE_ERROR,
        },
    },
    // Each prologue compares the stack pointer with the store's stack limit
    // and branches to `ud2`; the limit is hit long before any guard page.
    WorkloadSpec {
        name: "trap.stack_overflow",
        source: wat_source!("trap_stack_overflow.wat"),
        args: [0, 0],
        expect: Expectation::Traps {
            trap: Trap::StackOverflow,
            vector: VECTOR_INVALID_OPCODE,
        },
    },
    // The empty slot holds a null funcref pointer; the signature check loads
    // the callee's type index through it and faults near address 0.
    WorkloadSpec {
        name: "trap.call_indirect_null",
        source: wat_source!("trap_call_indirect_null.wat"),
        args: [0, 0],
        expect: Expectation::Traps {
            trap: Trap::IndirectCallToNull,
            vector: VECTOR_PAGE_FAULT,
        },
    },
    // A `funcref` table needs a run-time type check: wasmtime emits a
    // compare and a Cranelift `trapz`, which x86-64 lowers to a branch to an
    // out-of-line `ud2` (checked from the wasmtime 48 / Cranelift 0.135
    // sources, and by the `trap_sites` test on the built artifacts).
    WorkloadSpec {
        name: "trap.call_indirect_sig",
        source: wat_source!("trap_call_indirect_sig.wat"),
        args: [0, 0],
        expect: Expectation::Traps {
            trap: Trap::BadSignature,
            vector: VECTOR_INVALID_OPCODE,
        },
    },
];

/// Test-only workloads, in no shipped suite: each calls one of the
/// runner's test hooks (`traplab_runner_core::wasm::TEST_HOOKS`), which
/// goes wrong inside the call. Their nominal expectation (return 0) is
/// never met: the boot test checks that each fails as a contained failure
/// and that the experiments after it still run.
pub const CONTAIN_WORKLOADS: &[WorkloadSpec] = &[
    // A host function that panics.
    WorkloadSpec {
        name: "contain.host_panic",
        source: wat_source!("contain_host_panic.wat"),
        args: [0, 0],
        expect: Expectation::Returns(0),
    },
    // A host function that reads an unmapped address (no wasm trap site).
    WorkloadSpec {
        name: "contain.host_fault",
        source: wat_source!("contain_host_fault.wat"),
        args: [0, 0],
        expect: Expectation::Returns(0),
    },
];

/// The suites `build-suite` can pack.
///
/// `default` and `quick` list every workload, WAT and compute alike: how
/// many samples a run takes is chosen when the kernel boots, not stored in
/// the image, so a quick run needs no different modules (the compute
/// kernels are sized so that the kernel's ~30 timed calls of each stay
/// cheap under QEMU TCG). The flag exists so scripts can already ask for
/// the suite they mean. `contain` is for tests only: the
/// [`CONTAIN_WORKLOADS`] first, then every ordinary workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SuiteName {
    Default,
    Quick,
    Contain,
}

impl SuiteName {
    /// The name recorded in the manifest.
    pub fn name(self) -> &'static str {
        match self {
            SuiteName::Default => "default",
            SuiteName::Quick => "quick",
            SuiteName::Contain => "contain",
        }
    }

    /// The WAT workloads of the suite, in manifest order.
    pub fn workloads(self) -> Vec<WorkloadSpec> {
        match self {
            SuiteName::Default | SuiteName::Quick => WORKLOADS.to_vec(),
            SuiteName::Contain => CONTAIN_WORKLOADS.iter().chain(WORKLOADS).copied().collect(),
        }
    }

    /// The compute kernels of the suite, listed after the WAT workloads.
    pub fn compute_kernels(self) -> &'static [ComputeKernel] {
        match self {
            SuiteName::Default | SuiteName::Quick | SuiteName::Contain => KERNELS,
        }
    }
}
