//! The full exception path: handlers registered per category, the
//! counters the runner reads, and [`dispatch`], which decides what happens
//! to every exception — resume, retry, or [`Action::Unhandled`], which the
//! arch entry turns into a kernel fault (`crate::fault`). The dispatch
//! order and the no-lock rule are in `crate::exceptions`.

use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use super::vectors::{Category, Exception};
use crate::arch::cpu;
use crate::recovery;

/// What a handler receives.
#[derive(Debug, Clone, Copy)]
pub struct ExceptionContext {
    pub instruction_pointer: u64,
    pub stack_pointer: u64,
    /// Saved RBP: wasmtime walks wasm frames from it.
    pub frame_pointer: u64,
    pub exception: Exception,
    /// The vector number as the stub pushed it (what `exception` decodes):
    /// kept so the dispatcher records it with one store instead of
    /// encoding `exception` back through a jump table.
    pub vector: u8,
    pub error_code: Option<u64>,
    /// CR2, for #PF only.
    pub faulting_address: Option<u64>,
}

/// What [`dispatch`] decided: how to leave the exception through `iretq`,
/// or that nothing took it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Re-execute the faulting instruction (the cause was fixed).
    Retry,
    /// Continue at this address.
    ResumeAt(u64),
    /// A kernel fault: no fixup, pager, handler or containment took it. The
    /// arch entry reports it through `crate::fault` and ends the run.
    Unhandled,
}

/// A registered handler. `None` means "not mine": dispatch then tries
/// containment, and otherwise answers [`Action::Unhandled`]. A handler that
/// answers `Some(Action::Unhandled)` itself makes it a kernel fault at once,
/// without containment. A handler may also never return.
pub type ExceptionHandler = fn(&ExceptionContext) -> Option<Action>;

/// A second registration for a category is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlreadyRegistered(pub Category);

/// Registered handlers, one per category, as function addresses (0 = none).
/// Atomics rather than a lock: see the module doc.
static HANDLERS: [AtomicUsize; 4] = [const { AtomicUsize::new(0) }; 4];

/// Register `handler` for `category`; refused if one is already there.
pub fn register_handler(
    category: Category,
    handler: ExceptionHandler,
) -> Result<(), AlreadyRegistered> {
    HANDLERS[category.index()]
        .compare_exchange(0, handler as usize, Ordering::AcqRel, Ordering::Acquire)
        .map(|_| ())
        .map_err(|_| AlreadyRegistered(category))
}

fn handler_for(category: Category) -> Option<ExceptionHandler> {
    match HANDLERS[category.index()].load(Ordering::Acquire) {
        0 => None,
        // SAFETY: only `register_handler` stores non-zero values, and it
        // stores `ExceptionHandler` function pointers.
        addr => Some(unsafe { core::mem::transmute::<usize, ExceptionHandler>(addr) }),
    }
}

/// TSC right before the registered handler was called (third stage stamp).
pub static HANDLER_TSC: AtomicU64 = AtomicU64::new(0);
/// Exceptions dispatched since boot, and the vector of the latest one: the
/// runner checks both to prove which exception produced a trap.
static COUNT: AtomicU64 = AtomicU64::new(0);
static LAST_VECTOR: AtomicU64 = AtomicU64::new(u64::MAX);

/// `(exceptions dispatched since boot, vector of the latest)`.
pub fn counters() -> (u64, Option<u8>) {
    let last = LAST_VECTOR.load(Ordering::Relaxed);
    (
        COUNT.load(Ordering::Relaxed),
        (last != u64::MAX).then_some(last as u8),
    )
}

/// Validation knob (built in with `TRAPLAB_DISPATCH_DELAY_CYCLES=N`): spin
/// this many TSC cycles in every dispatch, so regression detection can be
/// shown to catch a known slowdown. 0 in normal builds.
pub const DISPATCH_DELAY_CYCLES: u64 = parse_u64(env!("TRAPLAB_DISPATCH_DELAY_CYCLES"));

const fn parse_u64(s: &str) -> u64 {
    let b = s.as_bytes();
    let mut i = 0;
    let mut v = 0u64;
    while i < b.len() {
        v = v * 10 + (b[i] - b'0') as u64;
        i += 1;
    }
    v
}

/// Decide what happens to an exception. Called by the arch entry path,
/// which applies the [`Action`] (and reports [`Action::Unhandled`]).
///
/// `#[inline(never)]`: whether rustc inlines this into the IDT's common
/// handler otherwise depends on how modules fall into codegen units, so a
/// move of unrelated code changed every trap's instruction count (about
/// 15 per exception). Out of line, the path measured stays the one the
/// baselines measured, and `dispatch` stays a frame of its own in
/// backtraces.
#[inline(never)]
pub fn dispatch(ctx: &ExceptionContext) -> Action {
    COUNT.fetch_add(1, Ordering::Relaxed);
    LAST_VECTOR.store(u64::from(ctx.vector), Ordering::Relaxed);
    // The knob is a constant: at 0 (every kernel but the validation
    // builds) no code is left here, not even the TSC read.
    if DISPATCH_DELAY_CYCLES != 0 {
        let until = cpu::stamp() + DISPATCH_DELAY_CYCLES;
        while cpu::stamp() < until {}
    }
    if let Some(resume) = recovery::resume_for(ctx.instruction_pointer) {
        return Action::ResumeAt(resume);
    }
    if let (Exception::PageFault, Some(addr)) = (ctx.exception, ctx.faulting_address)
        && crate::mm::handle_demand_fault(addr)
    {
        return Action::Retry;
    }
    if let Some(handler) = ctx.exception.category().and_then(handler_for) {
        HANDLER_TSC.store(cpu::stamp(), Ordering::Relaxed);
        if let Some(action) = handler(ctx) {
            return action;
        }
    }
    if let Some(landing) = recovery::containment_for(ctx) {
        return Action::ResumeAt(landing);
    }
    Action::Unhandled
}
