//! The local APIC timer: one interrupt at a chosen TSC value, the trigger
//! for asynchronous fault injection and for the watchdog.
//!
//! Deadlines are TSC values because everything the kernel measures is in
//! TSC cycles. Two ways to get there:
//!
//! - **TSC-deadline mode** (CPUID.01H:ECX[24]): the APIC compares the TSC
//!   with IA32_TSC_DEADLINE itself. Exact, nothing to calibrate.
//! - **one-shot mode** otherwise: the APIC counts down its own clock. At
//!   [`init`] the count rate is calibrated against the TSC; [`arm_at`]
//!   converts the remaining TSC cycles into a count, rounded up.
//!
//! Either way the interrupt path checks the TSC before calling the handler:
//! an interrupt that comes before the deadline (a calibration error, a
//! count clamped to 32 bits, or one raised for a deadline that has since
//! been replaced) re-arms for the remainder instead, and one for a deadline
//! that was cancelled is dropped. So the handler runs once per deadline,
//! never early.
//!
//! The interrupt uses an interrupt gate (IF cleared on entry) on the current
//! stack, like the exceptions (`super::idt`); it does not touch the
//! exception stub stamp.

use core::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use spin::Once;
use x86_64::registers::model_specific::Msr;

pub use super::idt::TrapFrame;
use super::lapic;

/// The timer's vector: above the remapped PIC range (0x20–0x2F), so a
/// stray legacy IRQ can never look like a timer interrupt.
pub const TIMER_VECTOR: u8 = 0x40;
/// The APIC's spurious-interrupt vector (its low 4 bits must be 1s on old
/// APICs; 0xFF satisfies every generation).
pub const SPURIOUS_VECTOR: u8 = 0xFF;

const IA32_TSC_DEADLINE: u32 = 0x6E0;
/// LVT timer mode field (bits 17–18).
const LVT_ONE_SHOT: u32 = 0b00 << 17;
const LVT_TSC_DEADLINE: u32 = 0b10 << 17;
/// Divide configuration "divide by 1": the finest count resolution. With a
/// 32-bit count that still spans seconds at any APIC clock rate; longer
/// deadlines are re-armed in steps (see the module doc).
const DIVIDE_BY_1: u32 = 0b1011;

/// What the timer hardware turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimerInfo {
    /// `"tsc-deadline"` or `"one-shot"`.
    pub mode: &'static str,
    pub vector: u8,
}

/// The function the timer interrupt calls with the interrupted register
/// state. Changes it makes to the frame are what `iretq` restores. It may
/// also never return (longjmp out): the EOI is sent before it is called, so
/// the APIC keeps delivering, but IF stays cleared until the code it
/// escapes to sets it.
pub type TimerHandler = fn(&mut TrapFrame);

static INIT: Once<Result<TimerInfo, &'static str>> = Once::new();
/// Set once [`init`] succeeded: arming before that (or after a failed
/// init) does nothing.
static READY: AtomicBool = AtomicBool::new(false);
static DEADLINE_MODE: AtomicBool = AtomicBool::new(false);
/// One-shot calibration: APIC counts per `CAL_TSC` TSC cycles.
static CAL_COUNTS: AtomicU64 = AtomicU64::new(0);
static CAL_TSC: AtomicU64 = AtomicU64::new(1);

/// The pending deadline, [`NONE`] if there is none. One word, so the
/// interrupt path always sees a whole deadline even when [`arm_at`] runs
/// with interrupts enabled.
static DEADLINE: AtomicU64 = AtomicU64::new(NONE);
const NONE: u64 = 0;

/// The handler as a function address (0 = none); an atomic rather than a
/// lock because the interrupt may land while anyone holds any lock.
static HANDLER: AtomicUsize = AtomicUsize::new(0);
static FIRED: AtomicU64 = AtomicU64::new(0);

/// Bring up the local APIC, mask and remap the legacy PICs, and set the
/// timer up (calibrating it in one-shot mode). Interrupts stay disabled;
/// callers enable them around the code they want interruptible.
///
/// Runs once; later calls return the first call's result, so code that
/// needs the timer can ask whether it is there.
pub fn init() -> Result<TimerInfo, &'static str> {
    *INIT.call_once(|| {
        lapic::init(SPURIOUS_VECTOR)?;
        let deadline_mode = core::arch::x86_64::__cpuid(1).ecx & (1 << 24) != 0;
        if deadline_mode {
            lapic::write(lapic::LVT_TIMER, LVT_TSC_DEADLINE | TIMER_VECTOR as u32);
            // Intel SDM 10.5.4.1: the LVT write (MMIO) must be ordered before
            // the first IA32_TSC_DEADLINE write (WRMSR is not ordered with
            // memory stores on its own).
            // SAFETY: a fence has no other effect.
            unsafe { core::arch::x86_64::_mm_mfence() };
            write_tsc_deadline(0);
        } else {
            let (counts, tsc) = calibrate()?;
            CAL_COUNTS.store(counts, Ordering::Relaxed);
            CAL_TSC.store(tsc, Ordering::Relaxed);
            lapic::write(lapic::LVT_TIMER, LVT_ONE_SHOT | TIMER_VECTOR as u32);
        }
        DEADLINE_MODE.store(deadline_mode, Ordering::Relaxed);
        READY.store(true, Ordering::Release);
        Ok(TimerInfo {
            mode: if deadline_mode {
                "tsc-deadline"
            } else {
                "one-shot"
            },
            vector: TIMER_VECTOR,
        })
    })
}

/// TSC cycles per calibration window: long enough that the register
/// accesses at its ends (microseconds under emulation) are well under 1 %
/// of it, short enough to cost about a millisecond. An error only makes
/// deadlines late by that fraction: early interrupts are re-armed.
const CAL_WINDOW_TSC: u64 = 2_000_000;
const CAL_ROUNDS: usize = 3;

/// `(APIC counts, TSC cycles)` over one window, the median of
/// [`CAL_ROUNDS`] windows by rate. The timer is masked meanwhile: it counts
/// without interrupting.
fn calibrate() -> Result<(u64, u64), &'static str> {
    lapic::write(lapic::LVT_TIMER, lapic::LVT_MASKED | TIMER_VECTOR as u32);
    lapic::write(lapic::TIMER_DIVIDE, DIVIDE_BY_1);
    let mut rounds = [(0u64, 1u64); CAL_ROUNDS];
    for round in rounds.iter_mut() {
        lapic::write(lapic::TIMER_INITIAL_COUNT, u32::MAX);
        let start = super::cpu::stamp();
        while super::cpu::stamp() - start < CAL_WINDOW_TSC {}
        let left = lapic::read(lapic::TIMER_CURRENT_COUNT);
        let end = super::cpu::stamp();
        lapic::write(lapic::TIMER_INITIAL_COUNT, 0);
        if left == 0 {
            return Err(
                "APIC timer ran out during calibration (clock too fast for a 32-bit count)",
            );
        }
        *round = ((u32::MAX - left) as u64, end - start);
    }
    // Compare rates a/b < c/d as a·d < c·b (no division, no floats).
    rounds.sort_unstable_by(|a, b| (a.0 as u128 * b.1 as u128).cmp(&(b.0 as u128 * a.1 as u128)));
    let (counts, tsc) = rounds[CAL_ROUNDS / 2];
    if counts == 0 {
        return Err("APIC timer does not count");
    }
    Ok((counts, tsc))
}

/// One timer interrupt when the TSC reaches `deadline_tsc` (at once if it
/// already has). A new call replaces a pending deadline. Does nothing if
/// [`init`] has not succeeded.
pub fn arm_at(deadline_tsc: u64) {
    if !READY.load(Ordering::Acquire) {
        return;
    }
    DEADLINE.store(deadline_tsc.max(1), Ordering::Release);
    program(deadline_tsc.max(1));
}

/// Cancel a pending deadline: no handler call after this returns (an
/// interrupt the hardware already raised is dropped on arrival).
pub fn disarm() {
    if !READY.load(Ordering::Acquire) {
        return;
    }
    DEADLINE.store(NONE, Ordering::Release);
    if DEADLINE_MODE.load(Ordering::Relaxed) {
        write_tsc_deadline(0);
    } else {
        lapic::write(lapic::TIMER_INITIAL_COUNT, 0);
    }
}

/// Install (or with `None` remove) the handler. Without one, interrupts
/// are acknowledged and ignored.
pub fn set_handler(handler: Option<TimerHandler>) {
    HANDLER.store(handler.map_or(0, |h| h as usize), Ordering::Release);
}

/// Timer interrupts taken since boot: deadlines reached, whether or not a
/// handler was installed. Early or cancelled ones do not count.
pub fn fired() -> u64 {
    FIRED.load(Ordering::Relaxed)
}

/// Interrupts on vectors nobody programmed, since boot (0 unless some
/// device interrupt leaked through).
pub fn unexpected_interrupts() -> u64 {
    lapic::unexpected_interrupts()
}

fn rdtsc() -> u64 {
    // SAFETY: rdtsc only reads the TSC.
    unsafe { core::arch::x86_64::_rdtsc() }
}

fn write_tsc_deadline(value: u64) {
    // SAFETY: only called in TSC-deadline mode, where the MSR exists; 0
    // disarms.
    unsafe { Msr::new(IA32_TSC_DEADLINE).write(value) };
}

/// Set the hardware for `deadline` (replacing what it had).
fn program(deadline: u64) {
    if DEADLINE_MODE.load(Ordering::Relaxed) {
        write_tsc_deadline(deadline);
        return;
    }
    let remaining = deadline.saturating_sub(rdtsc()) as u128;
    let counts = CAL_COUNTS.load(Ordering::Relaxed) as u128;
    let tsc = CAL_TSC.load(Ordering::Relaxed) as u128;
    // Rounded up and at least 1 (0 would stop the timer): late by under a
    // count rather than early; a count too large for 32 bits fires early
    // and is re-armed by `interrupt`.
    let count = (remaining * counts)
        .div_ceil(tsc)
        .clamp(1, u32::MAX as u128) as u32;
    lapic::write(lapic::TIMER_INITIAL_COUNT, count);
}

/// Rust side of the timer vector (called from `super::idt`'s interrupt
/// path with IF cleared).
pub(super) fn interrupt(frame: &mut TrapFrame) {
    let deadline = DEADLINE.load(Ordering::Acquire);
    if deadline == NONE {
        // Raised before a `disarm` that has since run.
        lapic::eoi();
        return;
    }
    if rdtsc() < deadline {
        lapic::eoi();
        program(deadline);
        return;
    }
    DEADLINE.store(NONE, Ordering::Relaxed);
    FIRED.fetch_add(1, Ordering::Relaxed);
    // Before the handler, which may never return.
    lapic::eoi();
    match HANDLER.load(Ordering::Acquire) {
        0 => {}
        addr => {
            // SAFETY: only `set_handler` stores non-zero values, and it
            // stores `TimerHandler` function pointers.
            let handler = unsafe { core::mem::transmute::<usize, TimerHandler>(addr) };
            handler(frame);
        }
    }
}

/// What [`spin_until_interrupted`] saw.
#[derive(Debug, Clone, Copy)]
pub struct Spin {
    /// R8 when the loop ended: 0 unless an interrupt handler wrote another
    /// value into the interrupted frame's `r8`.
    pub r8: u64,
    /// The loop's code, `[start, end)`: the RIP of any interrupt taken
    /// during the spin lies in it.
    pub code: (u64, u64),
}

/// Enable interrupts and spin until `counter` differs from `seen`, R8
/// becomes nonzero, or the TSC reaches `until`; then disable interrupts.
/// A probe for the timer self-check (`crate::runner::timer_check`).
///
/// `sti` and `cli` are the first and last instructions of the loop, so IF
/// is set only inside it (the `sti` shadow ends in it): an interrupt is
/// taken there or not at all, even if the deadline passes while QEMU is
/// descheduled before the loop starts. The loop is asm so that R8 is a
/// register it really reads on every turn: a handler's change to the
/// frame's `r8` ends it only if `iretq` restored the changed frame. (Not
/// RAX: `rdtsc` overwrites it.)
#[inline(never)]
pub fn spin_until_interrupted(counter: &AtomicU64, seen: u64, until: u64) -> Spin {
    let r8: u64;
    let start: u64;
    let end: u64;
    // SAFETY: reads `counter` and the TSC and toggles IF; the interrupt
    // frames pushed meanwhile go below RSP (no `nostack`; the kernel has no
    // red zone).
    unsafe {
        core::arch::asm!(
            "lea {start}, [rip + 2f]",
            "lea {end}, [rip + 4f]",
            "sti",
            "2:",
            "test r8, r8",
            "jnz 3f",
            "cmp qword ptr [{counter}], {seen}",
            "jne 3f",
            "rdtsc",
            "shl rdx, 32",
            "or rax, rdx",
            "cmp rax, {until}",
            "jb 2b",
            "3:",
            "cli",
            "4:",
            counter = in(reg) counter.as_ptr(),
            seen = in(reg) seen,
            until = in(reg) until,
            start = out(reg) start,
            end = out(reg) end,
            inout("r8") 0u64 => r8,
            out("rax") _,
            out("rdx") _,
        );
    }
    Spin {
        r8,
        code: (start, end),
    }
}
