//! The end of a run that went wrong: an exception nobody handled (a kernel
//! fault), or a Rust panic. Either becomes a `fault`/`panic` record, then the
//! end record, then a distinct QEMU exit status — so the host can always
//! tell a crash from a failed experiment and from a lost run.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::panic::PanicInfo;
use core::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use spin::Mutex;

use traplab_wire::{During, EndStatus, Fault, Panic, Record, exit};

use crate::arch;
use crate::exceptions::ExceptionContext;
use crate::{report, symbols};

/// What the kernel is doing, for fault and panic records (nothing set:
/// `boot`).
static DURING: Mutex<During> = Mutex::new(During::new());

pub fn set_during(what: During) {
    *DURING.lock() = what;
}

/// What [`set_during`] last set (nothing set: [`During::new`]).
pub fn current_during() -> During {
    DURING.lock().clone()
}

fn during() -> During {
    // A fault while the lock is held must not deadlock the report.
    DURING.try_lock().map_or_else(
        || During::phase("unknown"),
        |d| {
            if d.is_empty() {
                During::phase("boot")
            } else {
                d.clone()
            }
        },
    )
}

/// The unhandled path: report an exception that no fixup, pager, handler
/// or containment took (`exceptions::dispatch` answered
/// `Action::Unhandled`), and stop. Called by the arch entry.
pub fn unexpected_exception(ctx: &ExceptionContext) -> ! {
    // Reporting writes the heap: during an isolated trial the protection
    // keys are closed, and this path never returns to the call.
    arch::pks::open();
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

/// Deepest backtrace a report carries.
const BACKTRACE_DEPTH: usize = 24;

/// The return addresses found by walking the frame pointers from `rbp`
/// (the kernel is built with them, see .cargo/config.toml), innermost
/// first, into `out`; returns how many. The walk stops at a frame pointer
/// that is misaligned, unmapped or not moving up the stack, so a corrupted
/// stack ends the list instead of faulting the reporter. Allocates nothing
/// and takes no lock: the exception path uses it.
fn walk_frames(mut rbp: u64, out: &mut [u64]) -> usize {
    let mut n = 0;
    while n < out.len() {
        let readable = |a: u64| {
            a != 0 && a.is_multiple_of(8) && arch::paging::mapped(a) && arch::paging::mapped(a + 8)
        };
        if !readable(rbp) {
            break;
        }
        // SAFETY: both words are mapped (checked above) and aligned.
        let (next, ret) = unsafe { (*(rbp as *const u64), *((rbp + 8) as *const u64)) };
        if ret == 0 {
            break;
        }
        out[n] = ret;
        n += 1;
        if next <= rbp {
            break;
        }
        rbp = next;
    }
    n
}

/// `function+0xoffset` of a return address. Looked up at ret - 1, inside
/// the call instruction: a call to a function that does not return
/// (panic) may be the caller's last instruction, so `ret` itself can lie
/// past the caller's end.
fn symbolize_return(ret: u64) -> String {
    symbols::lookup(ret - 1).map_or_else(
        || format!("{ret:#x}"),
        |(name, offset)| format!("{name}+{:#x}", offset + 1),
    )
}

/// The callers of this function, innermost first, symbolized.
#[inline(never)]
fn backtrace() -> Vec<String> {
    let mut frames = [0; BACKTRACE_DEPTH];
    let n = walk_frames(arch::cpu::frame_pointer(), &mut frames);
    frames[..n]
        .iter()
        .map(|&ret| symbolize_return(ret))
        .collect()
}

/// Where the last contained panic or fault happened, raw (see
/// [`record_contained_frames`]): the faulting RIP first for a fault, then
/// return addresses. Atomics, written on the exception path.
static CONTAINED_FRAMES: [AtomicU64; BACKTRACE_DEPTH + 1] =
    [const { AtomicU64::new(0) }; BACKTRACE_DEPTH + 1];
static CONTAINED_FRAME_COUNT: AtomicUsize = AtomicUsize::new(0);

/// Keep the stack of a panic or fault about to be contained: `rip` (the
/// faulting instruction, for a fault) and the return addresses above
/// frame pointer `rbp`. No allocation, no lock; symbolized later by
/// [`take_contained_backtrace`], after the gate has returned.
pub fn record_contained_frames(rip: Option<u64>, rbp: u64) {
    let mut frames = [0; BACKTRACE_DEPTH + 1];
    let first = usize::from(rip.is_some());
    frames[0] = rip.unwrap_or(0);
    let n = first + walk_frames(rbp, &mut frames[first..]);
    for (slot, &frame) in CONTAINED_FRAMES.iter().zip(&frames[..n]) {
        slot.store(frame, Ordering::Relaxed);
    }
    // The faulting RIP is an instruction, not a return address: marked by
    // the count's top bit so it is symbolized as such.
    let fault_flag = if rip.is_some() { FAULT_RIP_FIRST } else { 0 };
    CONTAINED_FRAME_COUNT.store(n | fault_flag, Ordering::Release);
}

/// Set in [`CONTAINED_FRAME_COUNT`] when the first frame is a faulting RIP.
const FAULT_RIP_FIRST: usize = 1 << (usize::BITS - 1);

/// The backtrace [`record_contained_frames`] kept, symbolized, innermost
/// first (empty if none was kept); cleared for the next containment.
pub fn take_contained_backtrace() -> Vec<String> {
    let count = CONTAINED_FRAME_COUNT.swap(0, Ordering::Acquire);
    let n = count & !FAULT_RIP_FIRST;
    CONTAINED_FRAMES[..n]
        .iter()
        .enumerate()
        .map(|(i, frame)| {
            let addr = frame.load(Ordering::Relaxed);
            if i == 0 && count & FAULT_RIP_FIRST != 0 {
                symbols::lookup(addr).map_or_else(
                    || format!("{addr:#x}"),
                    |(name, offset)| format!("{name}+{offset:#x}"),
                )
            } else {
                symbolize_return(addr)
            }
        })
        .collect()
}

/// Set by the first panic: a panic while reporting a panic (say, the heap
/// is exhausted) must not recurse until the stack is gone.
static PANICKING: AtomicBool = AtomicBool::new(false);

/// A panic that ended a contained call (see [`panic`]).
pub struct ContainedPanic {
    pub message: String,
    /// `file:line:column`, kept only when the containment asked for
    /// backtraces (formatting it costs a campaign's recovery time).
    pub location: Option<String>,
}

static CONTAINED_PANIC: Mutex<Option<ContainedPanic>> = Mutex::new(None);

/// Take the panic that ended the last contained call.
pub fn take_contained_panic() -> Option<ContainedPanic> {
    CONTAINED_PANIC.try_lock().and_then(|mut p| p.take())
}

#[panic_handler]
fn panic(info: &PanicInfo) -> ! {
    arch::cpu::disable_interrupts();
    // A panic during a contained call (a campaign's wasm call, e.g.
    // wasmtime refusing a fault address no linear memory owns after a
    // flipped pointer; or a suite experiment, e.g. wasmtime's
    // `unreachable!()` in a libcall) ends that call, not the kernel:
    // Theseus's answer to a faulting task. The frames in between are
    // abandoned, not unwound (the kernel panics with `abort`): nothing they
    // own is dropped, and a lock they hold stays held. The kernel's heap
    // and page-mapper locks are checked here; wasmtime's own (its no_std
    // `RwLock`/`OnceLock`, e.g. the global code registry) are not visible
    // and panic on contention — see `runner::lab`'s `contain`.
    if crate::recovery::containment_armed() && crate::mm::unlocked() {
        let backtraces = crate::recovery::containment_backtraces();
        if backtraces {
            record_contained_frames(None, arch::cpu::frame_pointer());
        }
        if let Some(mut slot) = CONTAINED_PANIC.try_lock() {
            *slot = Some(ContainedPanic {
                message: format!("{}", info.message()),
                location: info
                    .location()
                    .filter(|_| backtraces)
                    .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column())),
            });
        }
        // SAFETY: containment is armed only around gated calls (a
        // campaign's, `LabKernel::contain`'s); outside the gate itself
        // `abandon` returns, and the panic is the kernel's.
        unsafe { arch::gate::abandon() }
    }
    // Not contained: the kernel's own panic, reported from here (an
    // isolated trial's closed protection keys must not stop the report).
    arch::pks::open();
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

/// The end of a run that went wrong before the heap exists (unusable boot
/// information): no records can be built yet, so `runner-kernel: ` and the
/// message as plain text on the emergency writer, then the fault exit.
pub fn before_heap(message: core::fmt::Arguments<'_>) -> ! {
    arch::serial::emergency_write(b"runner-kernel: ");
    let mut buf = [0u8; 192];
    arch::serial::emergency_write(format_no_alloc(&mut buf, message).as_bytes());
    arch::serial::emergency_write(b"\n");
    arch::exit::exit(exit::KERNEL_FAULT)
}

/// Format into a stack buffer, cut at its end.
fn format_no_alloc<'a>(buf: &'a mut [u8], args: core::fmt::Arguments<'_>) -> &'a str {
    struct Cursor<'b> {
        buf: &'b mut [u8],
        len: usize,
    }
    impl core::fmt::Write for Cursor<'_> {
        fn write_str(&mut self, s: &str) -> core::fmt::Result {
            let n = s.len().min(self.buf.len() - self.len);
            self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
            self.len += n;
            Ok(())
        }
    }
    let mut cursor = Cursor { buf, len: 0 };
    let _ = core::fmt::write(&mut cursor, args);
    let len = cursor.len;
    core::str::from_utf8(&buf[..len]).unwrap_or("")
}
