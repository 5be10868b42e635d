//! The trial state machine: what the timer interrupt does during an
//! observed call — fire an async injection once its deadline passed and
//! the CPU is in the target's code, then stop the call at the watchdog
//! deadline (or, a period later, wherever it is stuck, lock permitting).

use alloc::boxed::Box;
use core::sync::atomic::{AtomicPtr, Ordering};

use traplab_injectors::{Injector, Refused};

use super::machine::KernelMachine;
use crate::arch::idt::TrapFrame;
use crate::arch::{cpu, gate, timer};
use crate::recovery;

/// Cycles to wait before retrying a timer action that found the CPU
/// outside the target's code.
const RETRY_CYCLES: u64 = 2_000;

/// What the timer interrupt works on during an observed call.
pub(super) struct Trial {
    pub(super) injector: Box<dyn Injector>,
    pub(super) machine: KernelMachine,
    /// Async: TSC deadline of the injection, until it fired.
    pub(super) inject_at: Option<u64>,
    /// The spec's `watchdog_factor`.
    pub(super) watchdog_factor: u32,
    pub(super) watchdog_at: u64,
    /// `watchdog_at` minus the call's start.
    pub(super) watchdog_span: u64,
    /// Where a call stuck outside the target's code was stopped.
    pub(super) stuck_at: Option<u64>,
    pub(super) fired: bool,
    pub(super) refused: Option<&'static str>,
    /// TSC when the watchdog stopped the call.
    pub(super) watchdog_tsc: Option<u64>,
}

/// The trial of the call in flight (null outside observed calls).
pub(super) static TRIAL: AtomicPtr<Trial> = AtomicPtr::new(core::ptr::null_mut());

/// The timer interrupt during an observed call.
pub(super) fn on_timer(frame: &mut TrapFrame) {
    let trial = TRIAL.load(Ordering::Acquire);
    if trial.is_null() {
        return;
    }
    // SAFETY: the observed call's owner is suspended under this interrupt
    // and does not touch the trial until the call is over.
    let trial = unsafe { &mut *trial };
    let now = cpu::stamp();
    if !recovery::in_contained_code(frame.rip) {
        // A second watchdog period past the deadline and still outside
        // the target's code: the call is stuck in runtime or kernel code
        // (a flipped pointer sent it there). Stop it anyway, unless it
        // holds the heap or page-mapper lock (then the host's timeout is
        // the last resort).
        if now >= trial.watchdog_at.saturating_add(trial.watchdog_span)
            && crate::mm::unlocked()
            && gate::active()
        {
            trial.watchdog_tsc = Some(now);
            trial.stuck_at = Some(frame.rip);
            // SAFETY: no kernel lock is held (checked); the instance is
            // discarded afterwards.
            unsafe { gate::abandon() }
        }
        timer::arm_at(now + RETRY_CYCLES);
        return;
    }
    if trial.inject_at.is_some_and(|at| now >= at) {
        trial.inject_at = None;
        trial.machine.frame = Some(frame as *mut TrapFrame);
        match trial.injector.fire(&mut trial.machine) {
            Ok(()) => trial.fired = true,
            Err(Refused(why)) => trial.refused = Some(why),
        }
        trial.machine.frame = None;
        timer::arm_at(trial.watchdog_at);
        return;
    }
    if now >= trial.watchdog_at {
        trial.watchdog_tsc = Some(now);
        // SAFETY: RIP is in the target's compiled code (checked above), so
        // the frames between the gate and here hold no lock.
        unsafe { gate::abandon() }
    }
    timer::arm_at(trial.inject_at.unwrap_or(trial.watchdog_at));
}
