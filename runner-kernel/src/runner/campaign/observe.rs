//! The observed call and the instance's teardown, each behind the
//! recovery gate (`recovery::contain_on`) on the trial stack, with
//! containment armed: how the call ended (returned, trapped, contained,
//! stopped by the watchdog) and what a faulting teardown left behind.

use alloc::format;
use alloc::string::{String, ToString};
use core::sync::atomic::Ordering;

use traplab_injectors::CallEnd;
use wasmtime::Trap;

use super::target::{Live, Target};
use super::trial::{TRIAL, Trial};
use crate::arch::{cpu, gate, idt, timer};
use crate::exceptions;
use crate::platform::tls;
use crate::recovery::{self, Containment};
use crate::{fault, mm};

/// How the observed call went.
pub(super) struct Observed {
    pub(super) end: CallEnd,
    pub(super) trap: Option<String>,
    pub(super) vector: Option<u8>,
    pub(super) detail: Option<String>,
    /// TSC of the fault (exception stub) or the watchdog stop.
    pub(super) fault_tsc: Option<u64>,
    pub(super) returned_tsc: u64,
}

pub(super) fn observe(
    target: &Target<'_>,
    live: &mut Live,
    trial: &mut Trial,
    start_offset: Option<u64>,
    isolated: bool,
    wild_write: Option<*mut u64>,
) -> Observed {
    let args = (target.resolved.args[0], target.resolved.args[1]);
    let landing = if isolated {
        gate::isolated_landing_address()
    } else {
        gate::landing_address()
    };
    // Faults in runtime code during the call are the instance's too: a
    // libcall on a revoked page of its memory, or on state a flipped
    // register corrupted (Theseus's rule: a fault ends the task that
    // raised it). The timer still acts only inside the target's code.
    recovery::set_containment(Some(Containment {
        code: target.image,
        data: (live.memory.0, live.memory.0 + target.reservation),
        anywhere: true,
        // Recovery is timed from the fault: no frame walk on the way.
        backtrace: false,
        landing,
    }));
    let saved_tls = tls::save();
    let (before, _) = exceptions::counters();
    let t0 = cpu::stamp();
    trial.inject_at = start_offset.map(|d| t0 + d);
    trial.watchdog_span = target
        .clean_cycles
        .saturating_mul(u64::from(trial.watchdog_factor));
    trial.watchdog_at = t0 + trial.watchdog_span;
    TRIAL.store(trial as *mut Trial, Ordering::Release);
    timer::arm_at(trial.inject_at.unwrap_or(trial.watchdog_at));
    let func = live.func.clone();
    let store = &mut live.store;
    let call = || {
        cpu::enable_interrupts();
        if let Some(block) = wild_write {
            // SAFETY: test only (`wild_write_at`): a live kernel-heap
            // block the campaign owns, written as a store through a
            // flipped register would; volatile, so it happens here.
            unsafe { block.write_volatile(WILD_WRITE_VALUE) };
        }
        let r = func.call(&mut *store, args);
        cpu::disable_interrupts();
        r
    };
    let result = if isolated {
        recovery::contain_isolated_on(trial_stack(), call)
    } else {
        recovery::contain_on(Some(trial_stack()), call)
    };
    cpu::disable_interrupts();
    timer::disarm();
    let returned_tsc = cpu::stamp();
    TRIAL.store(core::ptr::null_mut(), Ordering::Release);
    recovery::set_containment(None);
    let (after, last) = exceptions::counters();
    let vector = if after > before { last } else { None };
    match result {
        Some(Ok(v)) => Observed {
            end: CallEnd::Returned(v),
            trap: None,
            vector,
            detail: None,
            fault_tsc: None,
            returned_tsc,
        },
        Some(Err(e)) => Observed {
            end: CallEnd::Trapped,
            trap: Some(
                e.downcast_ref::<Trap>()
                    .map_or_else(|| format!("{e:?}"), |t| format!("{t:?}")),
            ),
            vector,
            detail: None,
            fault_tsc: (after > before).then(idt::last_stub_tsc),
            returned_tsc,
        },
        None => {
            tls::restore(saved_tls);
            if let Some(at) = trial.watchdog_tsc {
                let mut detail = format!(
                    "stopped after {} cycles ({}x the clean call)",
                    at - t0,
                    trial.watchdog_factor
                );
                if let Some(rip) = trial.stuck_at {
                    detail.push_str(&format!(", outside the target's code at {}", place(rip)));
                }
                return Observed {
                    end: CallEnd::Watchdog,
                    trap: None,
                    vector: None,
                    detail: Some(detail),
                    fault_tsc: Some(at),
                    returned_tsc,
                };
            }
            let panic = fault::take_contained_panic().map(|p| p.message);
            let detail = match (recovery::last_contained(), panic) {
                (_, Some(message)) => format!("runtime panic: {message}"),
                (Some((v, rip, cr2)), None) => {
                    let place = if (target.image.0..target.image.1).contains(&rip) {
                        format!("text+{:#x}", rip - target.text)
                    } else {
                        place(rip)
                    };
                    match cr2 {
                        // A write the isolation stopped (`mm::isolate_kernel`).
                        Some(addr) if isolated && mm::is_isolated_kernel_memory(addr) => {
                            format!(
                                "vector {v} at {place}, address {addr:#x}: kernel memory, write blocked by trial isolation"
                            )
                        }
                        Some(addr) => format!("vector {v} at {place}, address {addr:#x}"),
                        None => format!("vector {v} at {place}"),
                    }
                }
                (None, None) => "abandoned".to_string(),
            };
            Observed {
                end: CallEnd::Contained,
                trap: None,
                vector: recovery::last_contained().map(|(v, _, _)| v),
                detail: Some(detail),
                fault_tsc: Some(idt::last_stub_tsc()),
                returned_tsc,
            }
        }
    }
}

/// What `wild_write_at` stores into its kernel-heap block.
pub(super) const WILD_WRITE_VALUE: u64 = 0xBAD_F11B;

/// Drop a trial's instance behind the recovery gate. `Some(what)` if the
/// drop faulted or panicked — the injection corrupted runtime state — and
/// was abandoned.
pub(super) fn discard(live: Live) -> Option<String> {
    // Any code may fault here (wasmtime's drop paths are kernel code); the
    // dispatcher and the panic handler still refuse while the heap or page
    // mapper is locked.
    recovery::set_containment(Some(Containment {
        code: (0, 0),
        data: (0, 0),
        anywhere: true,
        backtrace: false,
        landing: gate::landing_address(),
    }));
    let saved_tls = tls::save();
    let mut slot = Some(live);
    let done = recovery::contain_on(Some(trial_stack()), || drop(slot.take()));
    recovery::set_containment(None);
    if done.is_some() {
        return None;
    }
    // What the abandoned drop had not freed yet stays allocated: leaked,
    // never freed twice.
    tls::restore(saved_tls);
    Some(
        match (
            fault::take_contained_panic().map(|p| p.message),
            recovery::last_contained(),
        ) {
            (Some(message), _) => format!("teardown panic: {message}"),
            (None, Some((v, rip, cr2))) => {
                let at = place(rip);
                match cr2 {
                    Some(addr) => format!("teardown fault: vector {v} at {at}, address {addr:#x}"),
                    None => format!("teardown fault: vector {v} at {at}"),
                }
            }
            (None, None) => "teardown abandoned".to_string(),
        },
    )
}

/// `function+0xoffset` of a kernel address, or the address.
fn place(rip: u64) -> String {
    crate::symbols::lookup(rip).map_or_else(
        || format!("{rip:#x}"),
        |(name, off)| format!("{name}+{off:#x}"),
    )
}

/// Size of the stack trials run on: wasm's own limit plus room for the
/// runtime, exception and interrupt frames on top of it.
const TRIAL_STACK_BYTES: u64 = 2 << 20;

/// Top of the stack observed calls and teardowns run on. Their own, not
/// the kernel's: wasm keeps its frames on the native stack, so a flipped
/// register pointing into it lets wasm code scribble over frames — with a
/// stack of their own, only frames above the recovery gate, which the gate
/// abandons anyway. An unmapped guard page below it.
pub(super) fn trial_stack() -> u64 {
    static TOP: spin::Once<u64> = spin::Once::new();
    *TOP.call_once(|| {
        let guard = 4096;
        let base =
            mm::reserve(TRIAL_STACK_BYTES + guard).expect("address space for the trial stack");
        mm::protect(
            base + guard,
            TRIAL_STACK_BYTES,
            Some(crate::arch::paging::Protection {
                write: true,
                execute: false,
            }),
        )
        .expect("frames for the trial stack");
        base + guard + TRIAL_STACK_BYTES
    })
}
