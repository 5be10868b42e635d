//! How an injection ended, from what the kernel observed of the call.

use traplab_wire::Outcome;

/// How the observed call ended, as the kernel saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallEnd {
    /// It returned this value.
    Returned(i32),
    /// wasmtime returned `Err` with a trap code.
    Trapped,
    /// The kernel caught a fault (or a panic in the runtime) that wasmtime
    /// did not turn into a trap, and abandoned the call.
    Contained,
    /// The watchdog stopped the call.
    Watchdog,
}

/// The one outcome of an injection whose observed call ended as `end`.
/// `golden` is the target's known-good result.
pub fn classify(end: &CallEnd, golden: i32) -> Outcome {
    match *end {
        CallEnd::Returned(v) if v == golden => Outcome::Masked,
        CallEnd::Returned(_) => Outcome::Corrupted,
        CallEnd::Trapped => Outcome::Trapped,
        CallEnd::Contained => Outcome::Contained,
        CallEnd::Watchdog => Outcome::Hang,
    }
}
