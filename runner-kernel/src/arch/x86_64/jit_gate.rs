//! The recovery gate: call code, and if it faults, come back here instead
//! of crashing. Used for code the kernel JIT-compiles itself
//! (`runner::jit`, [`call`]) and for wasm calls under fault injection
//! (`runner::campaign`, [`contain_on`]), whose faults wasmtime does not claim.
//!
//! [`call`] saves the callee-saved registers and the stack pointer, then
//! calls the code. The exception dispatcher resumes a fault inside the
//! registered JIT region at [`landing_address`], which restores that stack
//! pointer and registers and returns to the caller with the "trapped" flag
//! set — setjmp/longjmp in a few instructions, the same shape as wasmtime's
//! own trap return. The abandoned frames are plain machine code with no
//! destructors, so nothing leaks.

use core::arch::naked_asm;
use core::sync::atomic::{AtomicU8, AtomicU64, Ordering};

/// RSP saved by the gate before calling JIT code; 0 while no gated call
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
        ".global traplab_jit_landing",
        "traplab_jit_landing:",
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

/// Whether a gated call ([`contain_on`], [`call`]) is in progress.
pub fn active() -> bool {
    SAVED_RSP.load(Ordering::Acquire) != 0
}

unsafe extern "C" {
    fn traplab_jit_landing();
}

/// Where the dispatcher resumes a fault inside JIT code.
pub fn landing_address() -> u64 {
    traplab_jit_landing as *const () as u64
}

/// Run `f` behind the gate: `None` if the kernel abandoned it midway — a
/// fault routed to [`landing_address`] by the dispatcher, or [`abandon`]
/// from an interrupt or panic. Abandoned frames are not unwound: their
/// destructors never run, locks they held stay held; callers only abandon
/// code that holds none (wasm code, see `runner::campaign`).
///
/// Not reentrant: one gated call at a time.
///
/// With `stack_top`, `f` runs on the stack that ends there (mapped, large
/// enough): a fault that scribbles over that stack (a flipped pointer
/// into it) cannot reach the caller's frames, which stay below the gate.
pub fn contain_on<R, F: FnOnce() -> R>(stack_top: Option<u64>, f: F) -> Option<R> {
    let mut slot: (Option<F>, Option<R>) = (Some(f), None);
    extern "sysv64" fn trampoline<R, F: FnOnce() -> R>(slot: i64, _: i64) -> i64 {
        // SAFETY: `slot` is the `&mut` below, live for the whole call.
        let slot = unsafe { &mut *(slot as *mut (Option<F>, Option<R>)) };
        if let Some(f) = slot.0.take() {
            slot.1 = Some(f());
        }
        0
    }
    let entry = trampoline::<R, F> as *const () as usize;
    gate(
        entry,
        &raw mut slot as i64,
        0,
        stack_top.map_or(0, |top| top & !15),
    );
    if TRAPPED.load(Ordering::Relaxed) == 0 {
        slot.1
    } else {
        None
    }
}

/// Leave the gated call now, from an interrupt handler or the panic
/// handler running on its stack: [`contain_on`] returns `None`. Returns
/// (doing nothing) only if no gated call is in progress.
///
/// # Safety
/// The frames between the gate and here must hold no lock and own nothing
/// that must be dropped.
pub unsafe fn abandon() {
    if !active() {
        return;
    }
    // SAFETY: a gate is in progress; the landing restores its stack
    // pointer, registers and flags.
    unsafe {
        core::arch::asm!("jmp {landing}", landing = sym traplab_jit_landing, options(noreturn))
    }
}

/// Call JIT code at `entry` with two integer arguments. `Err(())` if it
/// faulted and was resumed at the landing pad.
///
/// # Safety
/// `entry` must be executable code following the System V ABI with
/// signature `(i64, i64) -> i64`, and faults inside it must be routed to
/// [`landing_address`] (see `crate::exceptions::set_recovery_region`).
pub unsafe fn call(entry: u64, a: i64, b: i64) -> Result<i64, ()> {
    let result = gate(entry as usize, a, b, 0);
    if TRAPPED.load(Ordering::Relaxed) == 0 {
        Ok(result)
    } else {
        Err(())
    }
}
