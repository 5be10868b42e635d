//! The end of a run that went wrong: an exception nobody handled (a kernel
//! fault), or a Rust panic. Either becomes a `fault`/`panic` record, then the
//! end record, then a distinct QEMU exit status — so the host can always
//! tell a crash from a failed experiment and from a lost run.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::panic::PanicInfo;
use core::sync::atomic::{AtomicBool, Ordering};
use spin::Mutex;

use traplab_wire::{EndStatus, Fault, Panic, Record, exit};

use crate::arch;
use crate::exceptions::ExceptionContext;
use crate::{report, symbols};

/// What the kernel is doing, for fault records (`boot`, or
/// `<experiment> <config>`).
static DURING: Mutex<String> = Mutex::new(String::new());

pub fn set_during(what: &str) {
    let mut during = DURING.lock();
    during.clear();
    during.push_str(what);
}

fn during() -> String {
    // A fault while the lock is held must not deadlock the report.
    DURING.try_lock().map_or_else(
        || String::from("unknown"),
        |d| {
            if d.is_empty() {
                String::from("boot")
            } else {
                d.clone()
            }
        },
    )
}

/// Report an exception that no fixup, pager or handler took, and stop.
pub fn unexpected_exception(ctx: &ExceptionContext) -> ! {
    let symbol = symbols::lookup(ctx.instruction_pointer)
        .map(|(name, offset)| format!("{name}+{offset:#x}"));
    report::emit_emergency(Record::Fault(Fault {
        vector: ctx.exception.vector(),
        exception: String::from(ctx.exception.mnemonic()),
        category: String::from(ctx.exception.category().map_or("other", |c| c.name())),
        rip: ctx.instruction_pointer,
        rsp: ctx.stack_pointer,
        error_code: ctx.error_code,
        cr2: ctx.faulting_address,
        symbol,
        during: during(),
    }));
    report::end(EndStatus::Fault, true);
    arch::exit::exit(exit::KERNEL_FAULT)
}

/// The callers of this function, innermost first, symbolized: the return
/// addresses found by walking the frame pointers (the kernel is built with
/// them, see .cargo/config.toml). The walk stops at a frame pointer that
/// is misaligned, unmapped or not moving up the stack, so a corrupted
/// stack ends the list instead of faulting the reporter.
#[inline(never)]
fn backtrace() -> Vec<String> {
    const DEPTH: usize = 24;
    let mut frames = Vec::new();
    let mut rbp: u64;
    // SAFETY: reads the frame pointer register only.
    unsafe { core::arch::asm!("mov {}, rbp", out(reg) rbp, options(nomem, nostack)) };
    while frames.len() < DEPTH {
        let readable =
            |a: u64| a != 0 && a % 8 == 0 && arch::paging::mapped(a) && arch::paging::mapped(a + 8);
        if !readable(rbp) {
            break;
        }
        // SAFETY: both words are mapped (checked above) and aligned.
        let (next, ret) = unsafe { (*(rbp as *const u64), *((rbp + 8) as *const u64)) };
        if ret == 0 {
            break;
        }
        // Looked up at ret - 1, inside the call instruction: a call to a
        // function that does not return (panic) may be the caller's last
        // instruction, so `ret` itself can lie past the caller's end.
        frames.push(symbols::lookup(ret - 1).map_or_else(
            || format!("{ret:#x}"),
            |(name, offset)| format!("{name}+{:#x}", offset + 1),
        ));
        if next <= rbp {
            break;
        }
        rbp = next;
    }
    frames
}

/// Set by the first panic: a panic while reporting a panic (say, the heap
/// is exhausted) must not recurse until the stack is gone.
static PANICKING: AtomicBool = AtomicBool::new(false);

/// The message of a panic that ended a contained call (see [`panic`]).
static CONTAINED_PANIC: Mutex<Option<String>> = Mutex::new(None);

/// Take the message of the panic that ended the last contained call.
pub fn take_contained_panic() -> Option<String> {
    CONTAINED_PANIC.try_lock().and_then(|mut p| p.take())
}

#[panic_handler]
fn panic(info: &PanicInfo) -> ! {
    arch::cpu::disable_interrupts();
    // A panic during a contained wasm call (e.g. wasmtime refusing a fault
    // address no linear memory owns, after a flipped pointer) ends that
    // call, not the kernel: Theseus's answer to a faulting task. The frames
    // in between are wasmtime's trap path, which holds no lock by then.
    if crate::exceptions::containment_armed() && crate::mm::unlocked() {
        if let Some(mut slot) = CONTAINED_PANIC.try_lock() {
            *slot = Some(format!("{}", info.message()));
        }
        // SAFETY: containment is armed only around `runner::campaign`'s
        // gated calls; outside the gate itself `abandon` returns, and the
        // panic is the kernel's.
        unsafe { arch::jit_gate::abandon() }
    }
    if PANICKING.swap(true, Ordering::AcqRel) {
        arch::serial::emergency_write(b"\nrunner-kernel: panic while panicking; giving up\n");
        arch::exit::exit(exit::KERNEL_FAULT);
    }
    report::emit_emergency(Record::Panic(Panic {
        message: format!("{}", info.message()),
        location: info
            .location()
            .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column())),
        during: during(),
        backtrace: backtrace(),
    }));
    report::end(EndStatus::Panic, true);
    arch::exit::exit(exit::KERNEL_FAULT)
}
