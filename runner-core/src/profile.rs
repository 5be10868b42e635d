//! Marks for the instruction profiler (`traplab-profile` in the harness),
//! which single-steps the platform from outside, through QEMU's gdb stub,
//! and so needs to know where a profiled call starts and ends and which
//! experiment it belongs to.
//!
//! A profiled call is one extra call after an experiment's timed samples
//! (`profile=EXPERIMENT[:CONFIG]`): it never enters a series, because under a
//! real-time clock a single-stepped call takes seconds, and the samples
//! before it are untouched by the stepper. The two marks are functions
//! with fixed symbol names, so the stepper can break on them without any
//! help from the platform (a breakpoint instruction, a port write); their
//! arguments sit in the first two argument registers (`rdi`, `rsi`), where
//! the stepper reads them.

use alloc::string::String;
use core::sync::atomic::{AtomicU64, Ordering};

use crate::Options;

/// Which experiment gets one profiled call (`profile=EXPERIMENT[:CONFIG]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileSpec {
    /// The experiment's exact name (a profiling harness boots once per
    /// profiled experiment: a stepped call slows QEMU's icount mode for the
    /// rest of the boot, so nothing measured should follow it).
    pub experiment: String,
    /// Only in this configuration (label such as `signals.bt_off`, or
    /// `ring0` for the floor); every configuration when absent.
    pub config: Option<String>,
}

impl ProfileSpec {
    /// `EXPERIMENT[:CONFIG]`.
    pub fn parse(value: &str) -> Option<ProfileSpec> {
        let (experiment, config) = match value.split_once(':') {
            Some((e, c)) => (e, Some(c)),
            None => (value, None),
        };
        if experiment.is_empty() || config.is_some_and(str::is_empty) {
            return None;
        }
        Some(ProfileSpec {
            experiment: experiment.into(),
            config: config.map(Into::into),
        })
    }
}

impl Options {
    /// Whether `experiment` under `config` gets a profiled call.
    pub fn profiles(&self, experiment: &str, config: &str) -> bool {
        self.profile.as_ref().is_some_and(|spec| {
            spec.experiment == experiment && spec.config.as_deref().is_none_or(|c| c == config)
        })
    }
}

/// Profiled calls begun and ended: the marks' side effects, so the
/// compiler keeps every call to them, and two different bodies, so the
/// linker cannot fold the two marks into one address.
static BEGUN: AtomicU64 = AtomicU64::new(0);
static ENDED: AtomicU64 = AtomicU64::new(0);

/// The stepper starts after this returns. `label` (`experiment config`)
/// names what follows.
#[inline(never)]
#[unsafe(no_mangle)]
pub extern "C" fn traplab_profile_begin(label: *const u8, len: usize) {
    BEGUN.fetch_add(1, Ordering::SeqCst);
    core::hint::black_box((label, len));
}

/// The stepper stops on entry. `stamps` are the call's own stage stamps
/// (`Call`, the platform's trap stamps, `Return`), which the stepper checks
/// its per-stage counts against.
#[inline(never)]
#[unsafe(no_mangle)]
pub extern "C" fn traplab_profile_end(stamps: *const u64, n: usize) {
    ENDED.fetch_add(1, Ordering::SeqCst);
    core::hint::black_box((stamps, n));
}

/// Mark the start of a profiled call named `label` (`experiment config`).
pub fn begin(label: &str) {
    traplab_profile_begin(label.as_ptr(), label.len());
}

/// Mark its end, with the stage stamps it took.
pub fn end(stamps: &[u64]) {
    traplab_profile_end(stamps.as_ptr(), stamps.len());
}
