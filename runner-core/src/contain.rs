//! Containment: a panic or a fault nobody claims inside one experiment
//! fails that experiment, not the run.
//!
//! The core runs each (experiment, configuration) of the suite through
//! [`Platform::contain`]. If the platform abandons it — the lab kernel
//! leaves through its recovery gate after its panic handler or exception
//! dispatcher found no one else to take the fault; a Linux peer catches
//! the unwinding panic — the experiment gets a failed `result` record
//! saying why, with a backtrace, and the run goes on with the next one.
//! Its instance is discarded with whatever it owned: on the lab kernel
//! its frames are abandoned, not unwound, so that memory is leaked and
//! the record says how much ([`contained`]).
//!
//! The platform's containment is set up here, around the whole
//! experiment (load, warm-up, samples, records), never inside a timed
//! call: the stamps of a sample see the same code path as without it, and
//! a wasm trap is still wasmtime's (its handler runs before containment
//! is consulted).

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use traplab_wire::metric;

use crate::{Platform, emit};

/// Why the platform abandoned an experiment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Abandoned {
    /// What ended it: a panic's message and location, or the fault
    /// (exception, where, address).
    pub reason: String,
    /// Where it happened, innermost frame first, symbolized
    /// (`function+0xoffset`) where the platform can; may be empty.
    pub backtrace: Vec<String>,
}

impl Abandoned {
    /// The message of the experiment's failed `result` record: one line,
    /// the reason first, then the backtrace.
    pub fn message(&self) -> String {
        let mut message = format!("contained: {}", self.reason);
        if !self.backtrace.is_empty() {
            message.push_str("; backtrace: ");
            message.push_str(&self.backtrace.join(" < "));
        }
        message
    }
}

/// Run `f`, the experiment `experiment` under `config`, through
/// [`Platform::contain`]. If it was abandoned: the heap bytes and frames
/// still in use that were not before it (what the abandoned instance and
/// frames owned, now leaked — an upper bound when the experiment had not
/// freed its own temporaries yet) go out as metrics, where the platform
/// can count them, and the failure message comes back for the
/// experiment's `result` record.
///
/// Nothing is allocated before `f` runs, so the experiment meets the heap
/// as it would without containment.
pub fn contained<P: Platform, R>(
    p: &P,
    experiment: &str,
    config: &str,
    f: impl FnOnce() -> R,
) -> Result<R, String> {
    let before = p.memory_in_use();
    let abandoned = match p.contain(f) {
        Ok(value) => return Ok(value),
        Err(abandoned) => abandoned,
    };
    if let (Some((heap_before, frames_before)), Some((heap_after, frames_after))) =
        (before, p.memory_in_use())
    {
        let context = format!("{experiment} {config}");
        let heap = heap_after.saturating_sub(heap_before);
        let frames = frames_after.saturating_sub(frames_before);
        emit::metric(p, metric::ABANDONED_HEAP_BYTES, heap, "bytes", &context);
        emit::metric(p, metric::ABANDONED_FRAMES, frames, "frames", &context);
    }
    Err(abandoned.message())
}
