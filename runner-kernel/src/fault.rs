//! The end of a run that went wrong: an exception nobody handled (a kernel
//! fault), or a Rust panic. Either becomes a `fault`/`panic` record, then the
//! end record, then a distinct QEMU exit status — so the host can always
//! tell a crash from a failed experiment and from a lost run.

use alloc::format;
use alloc::string::String;
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
    }));
    report::end(EndStatus::Panic, true);
    arch::exit::exit(exit::KERNEL_FAULT)
}
