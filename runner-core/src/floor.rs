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
        // A profiled round trip (see crate::profile) is one more iteration
        // of the same loop, so the instructions between its stamps are the
        // measured ones; it is checked like the others but not recorded.
        let profiled = opts.profiles(experiment.name, config);
        let label = if profiled {
            format!("{} {config}", experiment.name)
        } else {
            String::new()
        };
        let iterations = opts.warmup + opts.samples + u32::from(profiled);
        for i in 0..iterations {
            let profiling = profiled && i == opts.warmup + opts.samples;
            (experiment.prepare)();
            let (before, _) = p.faults();
            if profiling {
                crate::profile::begin(&label);
            }
            let t0 = P::stamp();
            (experiment.raise)();
            let t1 = P::stamp();
            if profiling {
                crate::profile::end(&[t0, t1]);
            }
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
            if i >= opts.warmup && !profiling {
                series.total.push(t1 - t0);
            }
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
