//! Theseus-style exception handling: one handler per exception *category*,
//! registered at run time, receiving an arch-neutral context.
//!
//! The vector → category map is Theseus's (`kernel/exceptions_full`):
//!
//! | category             | POSIX   | vectors                                   |
//! |----------------------|---------|-------------------------------------------|
//! | `InvalidAddress`     | SIGSEGV | #BR 0x05, #SS 0x0C, #PF 0x0E              |
//! | `IllegalInstruction` | SIGILL  | #UD 0x06, #NM 0x07, #DF 0x08, #TS 0x0A, #GP 0x0D |
//! | `BusError`           | SIGBUS  | #NP 0x0B, #AC 0x11                        |
//! | `Arithmetic`         | SIGFPE  | #DE 0x00, #OF 0x04, #MF 0x10, #XM 0x13    |
//!
//! Unlike Theseus, the path is short and resumable: [`dispatch`] does no
//! logging or unwinding before calling the handler, and a handler may resume
//! the faulting code ([`Action`]) or, as wasmtime's does, not return at all.
//!
//! Dispatch order for every exception (steps 1 and 4 are
//! `crate::recovery`'s, the one room for "fault address → landing"):
//! 1. a resume address for the faulting RIP: the kernel's fixup table
//!    (`crate::arch::raise`), expected faults in kernel code that resume at
//!    a known label (the raw-exception floor), or the JIT region of
//!    code the kernel JIT-compiled itself;
//! 2. demand paging (`crate::mm::handle_demand_fault`) for #PF;
//! 3. the handler registered for the exception's category;
//! 4. containment: during a wasm call under fault injection, a fault
//!    the handler did not claim — in the target's code, or in runtime code
//!    working for it — abandons the call (`runner::campaign`); during a
//!    suite experiment, any fault the handler did not claim abandons the
//!    experiment (`runner::lab`'s `contain`); never while the heap or page
//!    mapper is locked;
//! 5. otherwise the exception is a kernel fault: `crate::fault` reports it
//!    and ends the run.
//!
//! Nothing on this path takes a lock that ordinary code may hold while it
//! runs wasm: a wasm trap abandons this path midway (wasmtime resumes into
//! its trampoline), so a lock taken here would never be released.

use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use crate::arch::cpu;
use crate::recovery;

/// The exceptions of vectors 0x00–0x1F.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exception {
    DivideError,
    Debug,
    NonMaskableInterrupt,
    Breakpoint,
    Overflow,
    BoundRangeExceeded,
    InvalidOpcode,
    DeviceNotAvailable,
    DoubleFault,
    CoprocessorSegmentOverrun,
    InvalidTss,
    SegmentNotPresent,
    StackSegmentFault,
    GeneralProtection,
    PageFault,
    X87FloatingPoint,
    AlignmentCheck,
    MachineCheck,
    SimdFloatingPoint,
    Virtualization,
    ControlProtection,
    HypervisorInjection,
    VmmCommunication,
    Security,
    /// 0x0F, 0x16–0x1B, 0x1F.
    Reserved(u8),
}

impl Exception {
    pub fn from_vector(vector: u8) -> Exception {
        use Exception::*;
        match vector {
            0x00 => DivideError,
            0x01 => Debug,
            0x02 => NonMaskableInterrupt,
            0x03 => Breakpoint,
            0x04 => Overflow,
            0x05 => BoundRangeExceeded,
            0x06 => InvalidOpcode,
            0x07 => DeviceNotAvailable,
            0x08 => DoubleFault,
            0x09 => CoprocessorSegmentOverrun,
            0x0A => InvalidTss,
            0x0B => SegmentNotPresent,
            0x0C => StackSegmentFault,
            0x0D => GeneralProtection,
            0x0E => PageFault,
            0x10 => X87FloatingPoint,
            0x11 => AlignmentCheck,
            0x12 => MachineCheck,
            0x13 => SimdFloatingPoint,
            0x14 => Virtualization,
            0x15 => ControlProtection,
            0x1C => HypervisorInjection,
            0x1D => VmmCommunication,
            0x1E => Security,
            other => Reserved(other),
        }
    }

    pub fn vector(self) -> u8 {
        use Exception::*;
        match self {
            DivideError => 0x00,
            Debug => 0x01,
            NonMaskableInterrupt => 0x02,
            Breakpoint => 0x03,
            Overflow => 0x04,
            BoundRangeExceeded => 0x05,
            InvalidOpcode => 0x06,
            DeviceNotAvailable => 0x07,
            DoubleFault => 0x08,
            CoprocessorSegmentOverrun => 0x09,
            InvalidTss => 0x0A,
            SegmentNotPresent => 0x0B,
            StackSegmentFault => 0x0C,
            GeneralProtection => 0x0D,
            PageFault => 0x0E,
            X87FloatingPoint => 0x10,
            AlignmentCheck => 0x11,
            MachineCheck => 0x12,
            SimdFloatingPoint => 0x13,
            Virtualization => 0x14,
            ControlProtection => 0x15,
            HypervisorInjection => 0x1C,
            VmmCommunication => 0x1D,
            Security => 0x1E,
            Reserved(v) => v,
        }
    }

    /// Intel's mnemonic, e.g. `#PF` (the wire crate's table).
    pub fn mnemonic(self) -> &'static str {
        traplab_wire::vector::mnemonic(self.vector())
    }

    /// Whether the CPU pushes an error code for this vector.
    pub fn has_error_code(self) -> bool {
        use Exception::*;
        matches!(
            self,
            DoubleFault
                | InvalidTss
                | SegmentNotPresent
                | StackSegmentFault
                | GeneralProtection
                | PageFault
                | AlignmentCheck
                | ControlProtection
                | VmmCommunication
                | Security
        )
    }

    /// Theseus category, if the exception has one.
    pub fn category(self) -> Option<Category> {
        use Exception::*;
        match self {
            BoundRangeExceeded | StackSegmentFault | PageFault => Some(Category::InvalidAddress),
            InvalidOpcode | DeviceNotAvailable | DoubleFault | InvalidTss | GeneralProtection => {
                Some(Category::IllegalInstruction)
            }
            SegmentNotPresent | AlignmentCheck => Some(Category::BusError),
            DivideError | Overflow | X87FloatingPoint | SimdFloatingPoint => {
                Some(Category::Arithmetic)
            }
            _ => None,
        }
    }
}

/// Handler categories, as in Theseus (and POSIX signals).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    InvalidAddress,
    IllegalInstruction,
    BusError,
    Arithmetic,
}

impl Category {
    pub const ALL: [Category; 4] = [
        Category::InvalidAddress,
        Category::IllegalInstruction,
        Category::BusError,
        Category::Arithmetic,
    ];

    fn index(self) -> usize {
        self as usize
    }

    pub fn name(self) -> &'static str {
        match self {
            Category::InvalidAddress => "invalid_address",
            Category::IllegalInstruction => "illegal_instruction",
            Category::BusError => "bus_error",
            Category::Arithmetic => "arithmetic",
        }
    }
}

/// What a handler receives.
#[derive(Debug, Clone, Copy)]
pub struct ExceptionContext {
    pub instruction_pointer: u64,
    pub stack_pointer: u64,
    /// Saved RBP: wasmtime walks wasm frames from it.
    pub frame_pointer: u64,
    pub exception: Exception,
    pub error_code: Option<u64>,
    /// CR2, for #PF only.
    pub faulting_address: Option<u64>,
}

/// How to leave a handled exception through `iretq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Re-execute the faulting instruction (the cause was fixed).
    Retry,
    /// Continue at this address.
    ResumeAt(u64),
}

/// A registered handler. `None` means "not mine": dispatch then treats the
/// exception as a kernel fault. A handler may also never return.
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

/// Decide what happens to an exception. Called by the arch entry path.
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
    LAST_VECTOR.store(ctx.exception.vector() as u64, Ordering::Relaxed);
    // A no-op loop when the knob is 0: the deadline is already past.
    let until = cpu::stamp() + DISPATCH_DELAY_CYCLES;
    while DISPATCH_DELAY_CYCLES != 0 && cpu::stamp() < until {}
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
    crate::fault::unexpected_exception(ctx)
}
