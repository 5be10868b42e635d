//! `check.timer_interrupt`: the local APIC timer interrupts running code
//! at its deadline and hands its handler the interrupted state, which the
//! interrupted code resumes with — what asynchronous fault injection and
//! the watchdog build on.
//!
//! Three rounds, each a timer deadline `DELAY` cycles ahead while the CPU
//! spins in [`timer::spin_until_interrupted`]:
//!
//! 1. a handler records the interrupted RIP and its own entry TSC: it must
//!    run exactly once, in the spin loop, not before the deadline;
//! 2. a handler writes a mark into the frame's R8, which the loop reads:
//!    the loop must see it, so `iretq` restored the modified frame;
//! 3. a deadline armed and then disarmed: no handler call.
//!
//! One result (no samples), and the latencies of rounds 1 and 2 (handler
//! entry TSC minus the deadline: interrupt delivery plus the kernel's entry
//! path) as metrics in the timer's mode.

use alloc::format;
use alloc::string::String;
use core::sync::atomic::{AtomicU64, Ordering};
use traplab_wire::metric;

use crate::arch::cpu;
use crate::arch::timer::{self, Spin, TrapFrame};
use traplab_runner_core::Options;

pub const EXPERIMENT: &str = "check.timer_interrupt";
const CONFIG: &str = traplab_wire::config::RING0;

/// Deadline distance in TSC cycles: arming and entering the loop take a
/// small part of it, and it costs next to nothing (under a millisecond).
const DELAY: u64 = 1_000_000;
/// A round that has not seen its interrupt by then has failed: under a
/// second, well above the few milliseconds a first interrupt takes under
/// TCG on a loaded host.
const GIVE_UP: u64 = 1000 * DELAY;
/// What round 2's handler writes into R8 ("timer ok").
const MARK: u64 = 0x6b6f_2072_656d_6974;

/// Handler calls so far, and what the latest one saw.
static RUNS: AtomicU64 = AtomicU64::new(0);
static ENTRY_TSC: AtomicU64 = AtomicU64::new(0);
static ENTRY_RIP: AtomicU64 = AtomicU64::new(0);

fn record(frame: &mut TrapFrame) {
    ENTRY_TSC.store(cpu::stamp(), Ordering::Relaxed);
    ENTRY_RIP.store(frame.rip, Ordering::Relaxed);
    RUNS.fetch_add(1, Ordering::Release);
}

fn record_and_mark(frame: &mut TrapFrame) {
    record(frame);
    frame.r8 = MARK;
}

/// One deadline `DELAY` ahead with `handler`, a spin, and what happened.
/// `disarm_first` cancels the deadline before spinning (round 3), which
/// then spins through the deadline (3 × `DELAY`) instead of until given up.
fn round(handler: timer::TimerHandler, disarm_first: bool) -> (u64, Spin) {
    timer::set_handler(Some(handler));
    let seen = RUNS.load(Ordering::Acquire);
    let deadline = cpu::stamp() + DELAY;
    timer::arm_at(deadline);
    if disarm_first {
        timer::disarm();
    }
    let until = deadline + if disarm_first { 2 * DELAY } else { GIVE_UP };
    let spin = timer::spin_until_interrupted(&RUNS, seen, until);
    timer::disarm();
    timer::set_handler(None);
    (deadline, spin)
}

/// Run the check (unless `only=` deselects it) and report it.
pub fn run(opts: &Options) {
    if !super::selected(opts, EXPERIMENT) {
        return;
    }
    crate::fault::set_during(traplab_wire::During::experiment(EXPERIMENT, CONFIG));
    let info = match timer::init() {
        Ok(info) => info,
        Err(reason) => {
            super::emit_result(
                EXPERIMENT,
                CONFIG,
                0,
                None,
                None,
                Some(format!("no timer: {reason}")),
            );
            return;
        }
    };
    let outcome = check();
    // Round 1 takes the first timer interrupt of the run, so under TCG its
    // latency includes translating the entry path (milliseconds); round 2
    // is the warm figure.
    if let Some(first) = outcome.latencies[0] {
        super::emit_metric(
            metric::TIMER_LATENCY_FIRST_CYCLES,
            first,
            "cycles",
            info.mode,
        );
    }
    if let Some(warm) = outcome.latencies[1] {
        super::emit_metric(metric::TIMER_LATENCY_CYCLES, warm, "cycles", info.mode);
    }
    // A check, not a series: no samples (the latencies are metrics).
    super::emit_result(EXPERIMENT, CONFIG, 0, None, None, outcome.failure);
}

/// What the rounds found: the latencies measured and the first failure.
struct Rounds {
    /// Handler entry TSC minus deadline, rounds 1 and 2.
    latencies: [Option<u64>; 2],
    failure: Option<String>,
}

/// The three rounds, stopping at the first failure.
fn check() -> Rounds {
    let mut outcome = Rounds {
        latencies: [None; 2],
        failure: None,
    };
    let fired_before = timer::fired();
    let unexpected_before = timer::unexpected_interrupts();
    let runs_before = RUNS.load(Ordering::Acquire);
    let runs = || RUNS.load(Ordering::Acquire) - runs_before;
    let fail = |outcome: Rounds, why: String| Rounds {
        failure: Some(why),
        ..outcome
    };

    // Round 1: one interrupt, in the loop, at or after the deadline.
    let (deadline, spin) = round(record, false);
    if runs() != 1 {
        return fail(
            outcome,
            format!(
                "round 1: handler ran {} times, expected once (gave up after {GIVE_UP} cycles)",
                runs()
            ),
        );
    }
    let (rip, entry) = (
        ENTRY_RIP.load(Ordering::Relaxed),
        ENTRY_TSC.load(Ordering::Relaxed),
    );
    let (start, end) = spin.code;
    if !(start..end).contains(&rip) {
        return fail(
            outcome,
            format!(
                "round 1: interrupted RIP {rip:#x} is outside the spin loop [{start:#x}, {end:#x})"
            ),
        );
    }
    outcome.latencies[0] = entry.checked_sub(deadline);
    if outcome.latencies[0].is_none() {
        return fail(
            outcome,
            format!("round 1: handler entered at TSC {entry}, before the deadline {deadline}"),
        );
    }

    // Round 2: the handler's change to the frame reaches the loop.
    let (deadline, spin) = round(record_and_mark, false);
    if runs() != 2 {
        return fail(
            outcome,
            format!("round 2: handler ran {} times in total, expected 2", runs()),
        );
    }
    if spin.r8 != MARK {
        return fail(
            outcome,
            format!(
                "round 2: the loop resumed with r8 = {:#x}, not the {MARK:#x} the handler wrote",
                spin.r8
            ),
        );
    }
    let entry = ENTRY_TSC.load(Ordering::Relaxed);
    outcome.latencies[1] = entry.checked_sub(deadline);
    if outcome.latencies[1].is_none() {
        return fail(
            outcome,
            format!("round 2: handler entered at TSC {entry}, before the deadline {deadline}"),
        );
    }

    // Round 3: a disarmed deadline stays silent.
    round(record, true);
    if runs() != 2 {
        return fail(
            outcome,
            String::from("round 3: the handler ran for a disarmed deadline"),
        );
    }

    let fired = timer::fired() - fired_before;
    let unexpected = timer::unexpected_interrupts() - unexpected_before;
    if fired != 2 {
        return fail(
            outcome,
            format!("{fired} timer interrupts counted, expected 2"),
        );
    }
    if unexpected != 0 {
        return fail(
            outcome,
            format!("{unexpected} unexpected interrupt(s) while interrupts were enabled"),
        );
    }
    outcome
}
