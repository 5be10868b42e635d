//! The raw-exception floor: an exception (or signal) raised by the
//! platform's own code and resumed, with no wasm involved — the physical
//! floor a wasm trap is compared to. The platform supplies the
//! instructions that raise it; the loop, checks and records are shared.

use alloc::format;
use alloc::string::String;

use traplab_wire::TrapSignature;

use crate::emit::{self, Series};
use crate::{Options, Platform};

/// One floor experiment.
pub struct FloorExperiment {
    /// Experiment name, e.g. `raw.ud`.
    pub name: &'static str,
    /// What raising it must produce; `None` for a reference that raises
    /// nothing (a system call).
    pub expected: Option<TrapSignature>,
    /// Runs before each iteration, untimed (e.g. unmap the demand page).
    pub prepare: fn(),
    /// Raises the exception once and returns after it was resumed.
    pub raise: fn(),
}

/// Run `experiments` under configuration `config` (`ring0`, `ring3`).
pub fn run<P: Platform>(p: &P, config: &str, experiments: &[FloorExperiment], opts: &Options) {
    for experiment in experiments {
        if !opts.selects(experiment.name) {
            continue;
        }
        p.set_during(traplab_wire::During::experiment(experiment.name, config));
        let raises = u64::from(experiment.expected.is_some());
        let mut series = Series::plain(opts.samples as usize);
        let mut failure: Option<String> = None;
        let mut observed = None;
        for i in 0..opts.warmup + opts.samples {
            (experiment.prepare)();
            let (before, _) = p.faults();
            let t0 = P::stamp();
            (experiment.raise)();
            let t1 = P::stamp();
            let (after, fault) = p.faults();
            if raises == 0 {
                if after != before {
                    failure = Some(format!(
                        "iteration {i}: {} exception(s), expected none",
                        after - before
                    ));
                    break;
                }
            } else {
                let seen = if after > before {
                    TrapSignature {
                        trap: None,
                        vector: fault.vector,
                        signal: fault.signal,
                        si_code: fault.si_code,
                    }
                } else {
                    TrapSignature::vector(None, None)
                };
                let expected = experiment.expected.as_ref();
                if after != before + raises || !expected.is_some_and(|e| e.admits(&seen)) {
                    failure = Some(format!(
                        "iteration {i}: {} exception(s), last {:?}; expected exactly one, {:?}",
                        after - before,
                        fault,
                        expected
                    ));
                    observed = Some(seen);
                    break;
                }
                observed = Some(seen);
            }
            if i >= opts.warmup {
                series.total.push(t1 - t0);
            }
        }
        if failure.is_none() && opts.profiles(experiment.name, config) {
            // One more round trip, outside the series, for the instruction
            // profiler.
            (experiment.prepare)();
            crate::profile::begin(&format!("{} {config}", experiment.name));
            let t0 = P::stamp();
            (experiment.raise)();
            let t1 = P::stamp();
            crate::profile::end(&[t0, t1]);
        }
        emit::series(p, experiment.name, config, &series);
        emit::result(
            p,
            experiment.name,
            config,
            series.total.len(),
            experiment.expected.clone(),
            observed,
            failure,
        );
    }
}
