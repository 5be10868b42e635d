//! What an experiment is, shared by every platform that runs the suite.
//!
//! The lab kernel (`runner-kernel/`, ring 0) and the Linux peer
//! (`peer-linux/`, upstream wasmtime with its signal handlers) run the same
//! experiments through this crate: which workloads run under which engine
//! configuration ([`plan`]), what each must end in (the expected trap code
//! and the exception that raises it, or the golden result), warm-up and
//! sample counts ([`Options`]), the timing loop and its stage stamps
//! ([`wasm`]), the native twins ([`native`]), the sightglass ABI
//! ([`sightglass`], its WASI subset [`wasi`]), the raw-exception floor's
//! loop ([`floor`]), the records they produce ([`emit`], [`stream`]) and
//! what happens when one of them panics or faults ([`contain`]).
//!
//! A platform supplies only what differs, through [`Platform`]: how the
//! clock is read, how exceptions or signals are hooked and counted, which
//! stamps it can take inside a trap, how the wasmtime `Engine` is finished
//! (the shared `engine_config` plus platform-only knobs), which artifacts
//! of the suite image it loads, and where the bytes go.
//!
//! # A Theseus application as a platform
//!
//! A thin Theseus wrapper over this crate would supply:
//! - `stamp`: `rdtsc` with fences (Theseus's `tsc` crate);
//! - `faults`/`trap_stamp`: a counter and TSC stamp taken by the handler it
//!   registers with `exceptions_full::register_handler` before forwarding to
//!   wasmtime's (Theseus logs and walks the stack *before* calling a
//!   registered handler, so its stub stamp would come from a patched
//!   `exceptions_full`, or be declared unseen in `TRAP_STAMPS`);
//! - `engine`: `engine_config` plus `x86_float_abi_ok` / `detect_host_feature`
//!   as the lab kernel does, since Theseus is also a soft-float target;
//! - `emit`: its serial port or a log file; `mask_interrupts`: `irq_safety`;
//! - `contain`: run the experiment as its own task (`spawn` + `join`), so
//!   a panic or fault kills that task — Theseus's unwinder cleans it up —
//!   and `join` reports it;
//! - the artifacts: the lab kernel's (`x86_64-unknown-none`) fit, Theseus
//!   being a custom wasmtime platform of the same kind.
#![cfg_attr(not(test), no_std)]

extern crate alloc;

pub mod contain;
pub mod cpuid;
pub mod emit;
pub mod floor;
pub mod native;
pub mod options;
pub mod pace;
pub mod plan;
pub mod profile;
pub mod sightglass;
pub mod stream;
pub mod wasi;
pub mod wasm;

use alloc::string::String;

pub use contain::Abandoned;
pub use options::{Options, TestScenario};
use traplab_suite::{CodeTarget, EngineVariant};
use traplab_wire::{Record, Stamp};

/// A hardware fault as a platform observes it: the lab kernel sees the CPU
/// vector, a Linux peer the signal and its `si_code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FaultSeen {
    pub vector: Option<u8>,
    pub signal: Option<u8>,
    pub si_code: Option<i32>,
}

/// Everything that differs between the platforms that run the experiments.
pub trait Platform {
    /// The stamps this platform takes inside a trap, in order, between
    /// [`Stamp::Call`] and [`Stamp::Return`] (which every platform takes).
    /// A stage it cannot see is left out, never faked.
    const TRAP_STAMPS: &'static [Stamp];
    /// Which artifacts of the suite image this platform loads.
    const TARGET: CodeTarget;

    /// Which platform this is (its name goes into the run header).
    fn kind(&self) -> traplab_wire::Platform;
    /// A serialized timestamp (TSC cycles, fenced on both sides).
    fn stamp() -> u64;
    /// Ticks of [`Platform::stamp`] per second.
    fn tsc_hz(&self) -> u64;
    /// Mask interrupts for a timed region where the platform can (ring 0);
    /// returns what [`Platform::restore_interrupts`] needs.
    fn mask_interrupts(&self) -> bool;
    fn restore_interrupts(&self, were_enabled: bool);
    /// Hardware faults (exceptions or signals) seen so far, and the latest.
    fn faults(&self) -> (u64, FaultSeen);
    /// The value of `stamp` (one of [`Platform::TRAP_STAMPS`]) taken during
    /// the latest trap.
    fn trap_stamp(&self, stamp: Stamp) -> u64;
    /// What a platform expects to observe for an exception of `vector`.
    fn expected_fault(&self, vector: u8) -> FaultSeen;
    /// The engine for `variant`: `traplab_suite::engine_config` plus what
    /// only the platform knows.
    fn engine(&self, variant: EngineVariant) -> wasmtime::Result<wasmtime::Engine>;
    /// Record what is running, for fault and panic reports.
    fn set_during(&self, during: traplab_wire::During);
    /// Send one record to the host.
    fn emit(&self, record: Record);
    /// `(heap bytes, mapped frames)` in use, where the platform can tell;
    /// the heap-stability check runs only then.
    fn memory_in_use(&self) -> Option<(u64, u64)>;
    /// Whether the native twins here run floating point in software (the
    /// lab kernel's soft-float target).
    fn soft_float(&self) -> bool;
    /// Run `f`, one whole experiment, so that a panic or a fault nobody
    /// claims inside it (in wasmtime, a host function, the workload, the
    /// runner) ends `f` with `Err` instead of ending the run; count it for
    /// the end record ([`stream::Stream::count_contained`]). What `f`
    /// owned is discarded: unwound where the platform unwinds, leaked
    /// where it abandons frames. A wasm trap wasmtime claims is never
    /// contained (it is `f`'s `Err(Trap)` as always), and neither is a
    /// fault the platform cannot survive (the lab kernel's while its heap
    /// or page mapper is locked): those end the run as before. Called
    /// outside every timed region ([`contain::contained`]).
    fn contain<R>(&self, f: impl FnOnce() -> R) -> Result<R, Abandoned>;
    /// A log record.
    fn log(&self, message: String) {
        self.emit(Record::Log(traplab_wire::Log {
            level: String::from("info"),
            message,
        }));
    }
}

#[cfg(test)]
mod tests;
