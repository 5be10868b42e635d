//! Recovery: where a fault resumes instead of ending the kernel — the one
//! room for "fault address → landing". `crate::exceptions::dispatch` asks
//! it twice:
//!
//! - first, [`resume_for`] the faulting RIP: the fixup table of expected
//!   faults in kernel code (`arch::raise`, the raw floor's instructions),
//!   then the JIT region ([`set_jit_region`]: code the kernel compiled
//!   itself, whose faults land at the gate);
//! - last, after demand paging and the registered handler declined,
//!   [`containment_for`]: the armed scope of a contained call (a
//!   campaign's wasm call, a suite experiment) sends the fault to the
//!   gate's landing pad, unless the heap or page mapper is locked or no
//!   gated call is in progress.
//!
//! The gate itself (the setjmp/longjmp in assembly) is the hardware
//! boundary's, `crate::arch::gate`; [`contain_on`] runs a closure behind
//! it. A panic under armed containment leaves through the same landing
//! (`crate::fault`'s panic handler).
//!
//! Everything here is read from exception context: atomics, no locks
//! (see `crate::exceptions`).

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::arch::{gate, raise};
use crate::exceptions::{Exception, ExceptionContext};

/// The resume address for a fault at `rip`, if kernel code expected it:
/// a fixup, or the JIT region's landing.
///
/// `#[inline]`: the first question on every exception's path.
#[inline]
pub fn resume_for(rip: u64) -> Option<u64> {
    raise::fixup_for(rip).or_else(|| jit_landing_for(rip))
}

/// A code range whose faults resume at a landing address: the kernel's own
/// JIT code (`runner::jit`), landing at the gate. One region at a time;
/// 0/0 means none.
static RECOVERY_START: AtomicU64 = AtomicU64::new(0);
static RECOVERY_END: AtomicU64 = AtomicU64::new(0);
static RECOVERY_LANDING: AtomicU64 = AtomicU64::new(0);

/// Route faults with RIP in `[start, end)` to `landing` (or stop, with
/// `None`).
pub fn set_jit_region(region: Option<(u64, u64, u64)>) {
    let (start, end, landing) = region.unwrap_or((0, 0, 0));
    RECOVERY_END.store(0, Ordering::Release);
    RECOVERY_START.store(start, Ordering::Relaxed);
    RECOVERY_LANDING.store(landing, Ordering::Relaxed);
    RECOVERY_END.store(end, Ordering::Release);
}

/// `#[inline]`: on every exception's path, asked by the dispatcher.
#[inline]
fn jit_landing_for(rip: u64) -> Option<u64> {
    let end = RECOVERY_END.load(Ordering::Acquire);
    (rip >= RECOVERY_START.load(Ordering::Relaxed) && rip < end)
        .then(|| RECOVERY_LANDING.load(Ordering::Relaxed))
}

/// The scope of a contained call: faults with RIP in `code`, or page
/// faults on an address in `data`, resume at `landing`. `landing == 0`:
/// none armed.
static CONTAIN_CODE: [AtomicU64; 2] = [AtomicU64::new(0), AtomicU64::new(0)];
static CONTAIN_DATA: [AtomicU64; 2] = [AtomicU64::new(0), AtomicU64::new(0)];
static CONTAIN_LANDING: AtomicU64 = AtomicU64::new(0);
static CONTAIN_ANYWHERE: AtomicBool = AtomicBool::new(false);
static CONTAIN_BACKTRACE: AtomicBool = AtomicBool::new(false);
/// What the last contained fault was: `(vector, rip, cr2 or u64::MAX)`.
static CONTAINED: [AtomicU64; 3] = [AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)];

/// A contained call's scope.
#[derive(Debug, Clone, Copy)]
pub struct Containment {
    /// The instance's compiled code: faults here are always its own.
    pub code: (u64, u64),
    /// Its linear memory and guard: page faults on it are its own.
    pub data: (u64, u64),
    /// Also contain faults anywhere else (the runtime's code working for
    /// the instance, with state the injection may have corrupted).
    pub anywhere: bool,
    /// Keep the backtrace (and panic location) of what gets contained
    /// (`crate::fault::take_contained_backtrace`): a frame walk on the
    /// way out, which a campaign leaves off because it times recovery.
    pub backtrace: bool,
    pub landing: u64,
}

/// Arm (or with `None`, disarm) containment for the call about to run.
pub fn set_containment(scope: Option<Containment>) {
    CONTAIN_LANDING.store(0, Ordering::Release);
    if let Some(scope) = scope {
        CONTAIN_CODE[0].store(scope.code.0, Ordering::Relaxed);
        CONTAIN_CODE[1].store(scope.code.1, Ordering::Relaxed);
        CONTAIN_DATA[0].store(scope.data.0, Ordering::Relaxed);
        CONTAIN_DATA[1].store(scope.data.1, Ordering::Relaxed);
        CONTAIN_ANYWHERE.store(scope.anywhere, Ordering::Relaxed);
        CONTAIN_BACKTRACE.store(scope.backtrace, Ordering::Relaxed);
        CONTAINED[0].store(u64::MAX, Ordering::Relaxed);
        CONTAIN_LANDING.store(scope.landing, Ordering::Release);
    }
}

/// Whether a contained call is in progress.
pub fn containment_armed() -> bool {
    CONTAIN_LANDING.load(Ordering::Acquire) != 0
}

/// Whether the armed containment keeps backtraces ([`Containment::backtrace`]).
pub fn containment_backtraces() -> bool {
    containment_armed() && CONTAIN_BACKTRACE.load(Ordering::Relaxed)
}

/// Whether `rip` lies in the armed scope's code.
pub fn in_contained_code(rip: u64) -> bool {
    containment_armed()
        && (CONTAIN_CODE[0].load(Ordering::Relaxed)..CONTAIN_CODE[1].load(Ordering::Relaxed))
            .contains(&rip)
}

/// The fault the last contained call ended with: `(vector, rip, cr2)`.
pub fn last_contained() -> Option<(u8, u64, Option<u64>)> {
    let vector = CONTAINED[0].load(Ordering::Relaxed);
    (vector != u64::MAX).then(|| {
        let cr2 = CONTAINED[2].load(Ordering::Relaxed);
        (
            vector as u8,
            CONTAINED[1].load(Ordering::Relaxed),
            (cr2 != u64::MAX).then_some(cr2),
        )
    })
}

/// Where the armed containment resumes `ctx`'s fault, if it is the
/// contained call's: recorded for [`last_contained`] on the way.
///
/// `#[inline]`: inlined into the dispatcher, as when it lived there; out
/// of line, dispatch's frame (and so every exception's path) changes.
#[inline]
pub fn containment_for(ctx: &ExceptionContext) -> Option<u64> {
    let landing = CONTAIN_LANDING.load(Ordering::Acquire);
    if landing == 0 {
        return None;
    }
    let data = CONTAIN_DATA[0].load(Ordering::Relaxed)..CONTAIN_DATA[1].load(Ordering::Relaxed);
    let on_data = ctx.exception == Exception::PageFault
        && ctx.faulting_address.is_some_and(|a| data.contains(&a));
    // Abandoning code that holds the heap or page-mapper lock would leave
    // it held for good: such a fault is the kernel's, not the instance's.
    let anywhere = CONTAIN_ANYWHERE.load(Ordering::Relaxed);
    // Armed is not enough: containment is armed a little before the gate
    // is entered and disarmed a little after it returned, and a fault in
    // between is the kernel's own.
    if !(anywhere || in_contained_code(ctx.instruction_pointer) || on_data)
        || !crate::mm::unlocked()
        || !gate::active()
    {
        return None;
    }
    if CONTAIN_BACKTRACE.load(Ordering::Relaxed) {
        crate::fault::record_contained_frames(Some(ctx.instruction_pointer), ctx.frame_pointer);
    }
    CONTAINED[1].store(ctx.instruction_pointer, Ordering::Relaxed);
    CONTAINED[2].store(ctx.faulting_address.unwrap_or(u64::MAX), Ordering::Relaxed);
    CONTAINED[0].store(ctx.exception.vector() as u64, Ordering::Relaxed);
    Some(landing)
}

/// Run `f` behind the gate: `None` if the kernel abandoned it midway — a
/// fault routed to the gate's landing pad ([`containment_for`]), or
/// `gate::abandon` from an interrupt or panic. Abandoned frames are not
/// unwound: their destructors never run, locks they held stay held;
/// callers only abandon code that holds none (wasm code, see
/// `runner::campaign`).
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
    // SAFETY: `trampoline` is System V `(i64, i64) -> i64`; `stack_top`
    // is the caller's promise (see above).
    let entered = unsafe {
        gate::enter(
            entry,
            &raw mut slot as i64,
            0,
            stack_top.map_or(0, |top| top & !15),
        )
    };
    entered.and(slot.1)
}

/// [`contain_on`] with the kernel's heap, frame pool and stack
/// write-disabled while `f` runs (`gate::enter_isolated`, supervisor
/// protection keys): a store `f` makes there through a corrupted pointer
/// faults and is contained rather than landing. `f` runs on `stack_top`
/// (outside the tagged memory); faults must be routed to
/// `gate::isolated_landing_address` (the armed [`Containment`]'s landing).
///
/// The slot `f` is moved from and its result written to is boxed, not on
/// the kernel stack, which the call may read but not write: called under
/// `mm::in_trial_arena` (as the campaign does) the box lies in the trial
/// arena. `f` itself may read what it borrows from the kernel stack and
/// write through it only to memory outside the tagged ranges.
pub fn contain_isolated_on<R, F: FnOnce() -> R>(stack_top: u64, f: F) -> Option<R> {
    let mut slot: alloc::boxed::Box<(Option<F>, Option<R>)> =
        alloc::boxed::Box::new((Some(f), None));
    extern "sysv64" fn trampoline<R, F: FnOnce() -> R>(slot: i64, _: i64) -> i64 {
        // SAFETY: `slot` is the box below, live for the whole call.
        let slot = unsafe { &mut *(slot as *mut (Option<F>, Option<R>)) };
        if let Some(f) = slot.0.take() {
            slot.1 = Some(f());
        }
        0
    }
    let entry = trampoline::<R, F> as *const () as usize;
    let arg = &raw mut *slot as i64;
    // SAFETY: `trampoline` is System V `(i64, i64) -> i64`; the stack is
    // the caller's promise; the slot is outside the kernel stack.
    let entered = unsafe { gate::enter_isolated(entry, arg, 0, stack_top & !15) };
    entered.and(slot.1.take())
}
