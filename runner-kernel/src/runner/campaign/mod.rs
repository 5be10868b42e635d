//! Fault-injection campaigns: faults injected into running wasm workloads,
//! each ending in exactly one outcome, with its recovery time.
//!
//! The decisions (which injector, target, trigger point and site; how to
//! name an outcome) are the `traplab-injectors` crate's, unit-tested on the
//! host. This module supplies what only the kernel can: the targets' facts
//! (which pages and instructions a clean call touches, from the page
//! tables' accessed bits), the hardware actions ([`machine::KernelMachine`]), the
//! triggers (between calls, or the LAPIC timer interrupt), the watchdog,
//! and containment.
//!
//! One trial per injection, always on a fresh instance:
//! 1. sync: `k` clean calls, then fire; async: arm the timer at a point
//!    inside the call;
//! 2. the observed call runs behind `recovery::contain_on`, interrupts on,
//!    the watchdog armed at `watchdog_factor` × the clean duration;
//! 3. it ends as a returned value (masked or corrupted), a wasm trap
//!    (wasmtime claimed the fault), a contained fault (the dispatcher or
//!    the panic handler abandoned the call), or a watchdog stop (hang);
//! 4. the injector is disarmed (code bytes and page mappings restored),
//!    the instance discarded and a fresh one instantiated: recovery time
//!    runs from the fault to that fresh instance being ready.
//!
//! Abandoning a call skips the Rust frames between the gate and the wasm
//! code without unwinding them. That is sound only while they hold no lock
//! and own nothing that must be dropped, so the timer acts (injects, or
//! stops a hung call) only when the interrupted RIP is in the target's
//! compiled code, never in the runtime or the kernel; otherwise it retries
//! a little later. The instance is discarded afterwards either way, and
//! wasmtime's thread-local state is put back as it was before the call.
//!
//! Its rooms, one job each:
//! - [`target`]: load each target once and profile a clean call (touched
//!   pages, hot code sites, clean duration); fresh instances of it;
//! - [`machine`]: the hardware actions an injector takes
//!   ([`traplab_injectors::Machine`]);
//! - [`trial`]: the trial state the timer interrupt drives (inject, watchdog);
//! - [`observe`]: the observed call and the instance's teardown, each
//!   behind the recovery gate on the trial stack;
//! - [`run`]: the campaign's loop, one trial per injection, and its metrics.

mod machine;
mod observe;
mod run;
mod target;
mod trial;

use alloc::format;
use alloc::string::String;

use traplab_suite::Campaign;

pub use run::run;

/// The experiment name of `campaign` (its `result` record and plan entry).
pub fn experiment(campaign: &Campaign) -> String {
    format!("campaign.{}", campaign.spec.name)
}
