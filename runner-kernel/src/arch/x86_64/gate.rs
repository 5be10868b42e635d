//! The recovery gate: call code, and if it faults, come back here instead
//! of crashing. The mechanism only — which faults are sent to its landing
//! pad, and when a gated call may be abandoned, is `crate::recovery`'s
//! policy. Used for code the kernel JIT-compiles itself (`runner::jit`,
//! [`call`]), for wasm calls under fault injection (`runner::campaign`)
//! and for suite experiments under containment (`runner::lab`), the last
//! two through `crate::recovery::contain_on`.
//!
//! [`enter`] saves the callee-saved registers, RFLAGS and the stack
//! pointer, then calls the code. The exception dispatcher resumes a fault
//! it routes here at [`landing_address`], which restores that stack
//! pointer, flags and registers and returns to the caller with the
//! "trapped" flag set — setjmp/longjmp in a few instructions, the same
//! shape as wasmtime's own trap return. The abandoned frames are not
//! unwound: nothing they own is dropped.

use core::arch::naked_asm;
use core::sync::atomic::{AtomicU8, AtomicU64, Ordering};

/// RSP saved by the gate before calling the gated code; 0 while no gated call
/// is in progress, so a late fault or interrupt cannot jump back into a
/// gate frame that has already returned (and been overwritten).
static SAVED_RSP: AtomicU64 = AtomicU64::new(0);
/// 1 when the last call left through the landing pad.
static TRAPPED: AtomicU8 = AtomicU8::new(0);

/// `gate(f, a, b, stack_top)`: call `f(a, b)` (System V) with recovery,
/// on the stack that ends at `stack_top` (16-byte aligned), or on this
/// one when it is 0. Both ways out restore RFLAGS as they were on entry:
/// a fault's `iretq` to the landing pad brings the interrupted code's
/// flags (interrupts on, in a campaign's wasm call), and the caller must
/// not run with the call's timer still armed and interrupts on.
#[unsafe(naked)]
extern "sysv64" fn gate(f: usize, a: i64, b: i64, stack_top: u64) -> i64 {
    naked_asm!(
        "push rbp",
        "mov rbp, rsp",
        "push rbx",
        "push r12",
        "push r13",
        "push r14",
        "push r15",
        "pushfq",
        "mov qword ptr [rip + {saved}], rsp",
        "mov byte ptr [rip + {trapped}], 0",
        "test rcx, rcx",
        "jz 3f",
        "mov rsp, rcx",
        "3:",
        "mov rax, rdi",
        "mov rdi, rsi",
        "mov rsi, rdx",
        "call rax",
        "2:",
        "mov rsp, qword ptr [rip + {saved}]",
        "mov qword ptr [rip + {saved}], 0",
        "popfq",
        "pop r15",
        "pop r14",
        "pop r13",
        "pop r12",
        "pop rbx",
        "pop rbp",
        "ret",
        ".global traplab_gate_landing",
        "traplab_gate_landing:",
        // No gate in progress: stop here, where a fault record names the
        // landing pad, rather than return through a stale frame.
        "cmp qword ptr [rip + {saved}], 0",
        "je 4f",
        "mov byte ptr [rip + {trapped}], 1",
        "jmp 2b",
        "4:",
        "ud2",
        saved = sym SAVED_RSP,
        trapped = sym TRAPPED,
    )
}

/// 1 while an isolated gated call ([`enter_isolated`]) is in progress:
/// [`abandon`] must leave through its landing pad, which opens the
/// protection keys before the kernel stack is written again.
static ISOLATED: AtomicU8 = AtomicU8::new(0);

/// [`gate`] with the kernel's memory write-disabled while `f` runs
/// (`super::pks`): PKRS is loaded with `PKRS_CLOSED` after the last push
/// to the kernel stack and before the switch to `stack_top` (which must
/// not be 0: the kernel stack itself is closed), and set back to 0 on
/// both ways out before anything writes the kernel stack again. A twin
/// of [`gate`] rather than a flag in it, so the plain gate (the `jit.*`
/// and containment baselines) runs exactly the instructions it did.
#[unsafe(naked)]
extern "sysv64" fn gate_isolated(f: usize, a: i64, b: i64, stack_top: u64) -> i64 {
    naked_asm!(
        "push rbp",
        "mov rbp, rsp",
        "push rbx",
        "push r12",
        "push r13",
        "push r14",
        "push r15",
        "pushfq",
        "mov qword ptr [rip + {saved}], rsp",
        "mov byte ptr [rip + {trapped}], 0",
        "mov byte ptr [rip + {isolated}], 1",
        "mov rsp, rcx",
        "mov r11, rdi",
        "mov rdi, rsi",
        "mov rsi, rdx",
        // Close: from here the kernel stack, heap and frame pool are
        // read-only to everything the call runs.
        "mov ecx, {msr}",
        "mov eax, dword ptr [rip + {closed}]",
        "mov edx, dword ptr [rip + {closed} + 4]",
        "wrmsr",
        "call r11",
        "2:",
        // Open before the kernel stack is written (the pops only read
        // it; the caller's code writes). RAX holds the result.
        "mov r11, rax",
        "mov ecx, {msr}",
        "xor eax, eax",
        "xor edx, edx",
        "wrmsr",
        "mov rax, r11",
        "mov byte ptr [rip + {isolated}], 0",
        "mov rsp, qword ptr [rip + {saved}]",
        "mov qword ptr [rip + {saved}], 0",
        "popfq",
        "pop r15",
        "pop r14",
        "pop r13",
        "pop r12",
        "pop rbx",
        "pop rbp",
        "ret",
        ".global traplab_gate_landing_isolated",
        "traplab_gate_landing_isolated:",
        "cmp qword ptr [rip + {saved}], 0",
        "je 4f",
        "mov byte ptr [rip + {trapped}], 1",
        "jmp 2b",
        "4:",
        "ud2",
        saved = sym SAVED_RSP,
        trapped = sym TRAPPED,
        isolated = sym ISOLATED,
        closed = sym super::pks::PKRS_CLOSED,
        msr = const 0x6E1,
    )
}

unsafe extern "C" {
    fn traplab_gate_landing_isolated();
}

/// Where the dispatcher resumes a fault of an isolated gated call.
pub fn isolated_landing_address() -> u64 {
    traplab_gate_landing_isolated as *const () as u64
}

/// [`enter`] with the kernel's memory write-disabled while `f` runs (see
/// [`gate_isolated`]); a fault routed to [`isolated_landing_address`] or
/// [`abandon`] makes it return `None`.
///
/// # Safety
/// As for [`enter`]; besides, `stack_top` is a mapped stack outside the
/// memory `crate::mm::isolate_kernel` tagged, `super::pks::enable` ran,
/// and `f` writes no tagged memory except through `super::pks::writable`.
pub unsafe fn enter_isolated(f: usize, a: i64, b: i64, stack_top: u64) -> Option<i64> {
    assert!(
        stack_top != 0 && super::pks::enabled(),
        "an isolated call needs its own stack and PKS on"
    );
    let result = gate_isolated(f, a, b, stack_top);
    (TRAPPED.load(Ordering::Relaxed) == 0).then_some(result)
}

/// Whether a gated call ([`enter`], [`call`]) is in progress.
pub fn active() -> bool {
    SAVED_RSP.load(Ordering::Acquire) != 0
}

unsafe extern "C" {
    fn traplab_gate_landing();
}

/// Where the dispatcher resumes a fault it routes to the gate.
pub fn landing_address() -> u64 {
    traplab_gate_landing as *const () as u64
}

/// Call `f(a, b)` behind the gate, on the stack that ends at `stack_top`
/// (16-byte aligned; 0: on this one). `None` if the call left through the
/// landing pad — a fault routed there, or [`abandon`].
///
/// `#[inline]`: the body of every gated call, from other modules; inlined,
/// it stays the two instructions after the gate it always was.
///
/// # Safety
/// `f` must be code following the System V ABI with signature
/// `(i64, i64) -> i64`; with `stack_top`, that stack must be mapped and
/// large enough. Not reentrant: one gated call at a time.
#[inline]
pub unsafe fn enter(f: usize, a: i64, b: i64, stack_top: u64) -> Option<i64> {
    let result = gate(f, a, b, stack_top);
    (TRAPPED.load(Ordering::Relaxed) == 0).then_some(result)
}

/// Leave the gated call now, from an interrupt handler or the panic
/// handler running on its stack: [`enter`] returns `None`. Returns
/// (doing nothing) only if no gated call is in progress.
///
/// # Safety
/// The frames between the gate and here must hold no lock and own nothing
/// that must be dropped.
pub unsafe fn abandon() {
    if !active() {
        return;
    }
    if ISOLATED.load(Ordering::Relaxed) != 0 {
        // SAFETY: an isolated gate is in progress; its landing opens the
        // keys, then restores its stack pointer, registers and flags.
        unsafe {
            core::arch::asm!("jmp {landing}", landing = sym traplab_gate_landing_isolated, options(noreturn))
        }
    }
    // SAFETY: a gate is in progress; the landing restores its stack
    // pointer, registers and flags.
    unsafe {
        core::arch::asm!("jmp {landing}", landing = sym traplab_gate_landing, options(noreturn))
    }
}

/// Call JIT code at `entry` with two integer arguments. `Err(())` if it
/// faulted and was resumed at the landing pad.
///
/// # Safety
/// `entry` must be executable code following the System V ABI with
/// signature `(i64, i64) -> i64`, and faults inside it must be routed to
/// [`landing_address`] (see `crate::recovery::set_jit_region`).
///
/// `#[inline(never)]`: one out-of-line call per JIT call whatever the
/// caller's codegen unit, as the `jit.*` baselines measured it.
#[inline(never)]
pub unsafe fn call(entry: u64, a: i64, b: i64) -> Result<i64, ()> {
    // SAFETY: the caller's contract; on the current stack.
    unsafe { enter(entry as usize, a, b, 0) }.ok_or(())
}
