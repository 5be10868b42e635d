//! Experiments: what is timed, how, and which records it produces.
//!
//! Every experiment runs its warm-up iterations, then `samples` timed ones
//! with interrupts masked, keeps every raw sample, checks each iteration's
//! outcome (trap code and CPU vector, or return value), and afterwards
//! writes its samples in batches followed by one `result` record. Nothing
//! is written while timing, so serial output never perturbs a sample.

pub mod campaign;
pub mod jit;
pub mod native;
pub mod raw;
pub mod sightglass;
pub mod timer_check;
pub mod wasm;
pub mod wast;

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use traplab_wire::{
    ExperimentResult, MAX_BATCH, Metric, Planned, Record, Samples, Stage, Status, TRAP_STAGES,
    TrapSignature, Unit,
};

use crate::arch::cpu;
use crate::cmdline::Options;
use crate::exceptions;
use crate::report;

/// Samples of one experiment under one configuration.
pub struct Series {
    pub total: Vec<u64>,
    /// The four trap stage intervals, when the samples went through the
    /// exception path.
    pub stages: Option<[Vec<u64>; 4]>,
}

impl Series {
    pub fn with_capacity(n: usize, staged: bool) -> Series {
        Series {
            total: Vec::with_capacity(n),
            stages: staged.then(|| core::array::from_fn(|_| Vec::with_capacity(n))),
        }
    }
}

/// Write `series` as `samples` records of at most [`MAX_BATCH`] values.
pub fn emit_series(experiment: &str, config: &str, series: &Series) {
    for (batch, chunk) in series.total.chunks(MAX_BATCH).enumerate() {
        let first = batch * MAX_BATCH;
        let stages = series.stages.as_ref().map_or_else(Vec::new, |stages| {
            TRAP_STAGES
                .iter()
                .zip(stages)
                .map(|(name, values)| Stage {
                    name: name.to_string(),
                    values: values[first..first + chunk.len()].to_vec(),
                })
                .collect()
        });
        report::emit(Record::Samples(Samples {
            experiment: experiment.to_string(),
            config: config.to_string(),
            unit: Unit::Cycles,
            first: first as u32,
            total: chunk.to_vec(),
            stages,
        }));
    }
}

pub fn emit_result(
    experiment: &str,
    config: &str,
    samples: usize,
    expected: Option<TrapSignature>,
    observed: Option<TrapSignature>,
    failure: Option<String>,
) {
    report::emit(Record::Result(ExperimentResult {
        experiment: experiment.to_string(),
        config: config.to_string(),
        status: if failure.is_some() {
            Status::Failed
        } else {
            Status::Ok
        },
        samples: samples as u32,
        expected,
        observed,
        message: failure,
    }));
}

pub fn emit_metric(name: &str, value: u64, unit: &str, context: &str) {
    report::emit(Record::Metric(Metric {
        name: name.to_string(),
        value,
        unit: unit.to_string(),
        context: context.to_string(),
    }));
}

/// Fixed cost of one stamp: the median difference of back-to-back stamps.
pub fn stamp_overhead() -> u64 {
    const PAIRS: usize = 1001;
    let mut diffs = Vec::with_capacity(PAIRS);
    cpu::disable_interrupts();
    for _ in 0..PAIRS {
        let a = cpu::stamp();
        let b = cpu::stamp();
        diffs.push(b - a);
    }
    diffs.sort_unstable();
    diffs[PAIRS / 2]
}

pub fn selected(opts: &Options, experiment: &str) -> bool {
    opts.only
        .as_deref()
        .is_none_or(|prefix| experiment.starts_with(prefix))
}

/// Every experiment this run will attempt, for the header.
pub fn plan(opts: &Options, manifest: Option<&traplab_suite::Manifest>) -> Vec<Planned> {
    let mut plan = Vec::new();
    let mut add = |experiment: &str, config: &str| {
        if selected(opts, experiment) {
            plan.push(Planned {
                experiment: experiment.to_string(),
                config: config.to_string(),
                samples: opts.samples,
            });
        }
    };
    for raw in &raw::RAW_EXPERIMENTS {
        add(raw.name, raw::RAW_CONFIG);
    }
    for name in jit::experiment_names() {
        add(&name, "cranelift");
    }
    if let Some(manifest) = manifest {
        for variant in &opts.variants {
            for workload in manifest
                .workloads
                .iter()
                .filter(|w| wasm::runs_under(w, *variant))
            {
                add(&workload.name, variant.label());
            }
        }
        for workload in manifest
            .workloads
            .iter()
            .filter(|w| native::twin(w).is_some())
        {
            add(&workload.name, native::CONFIG);
        }
        if let Some(campaign) = &manifest.campaign {
            let name = campaign::experiment(campaign);
            if selected(opts, &name) {
                plan.push(Planned {
                    experiment: name,
                    config: campaign.spec.config.clone(),
                    samples: campaign.spec.count,
                });
            }
        }
        // One plan entry per script and config (its `samples` counts the
        // commands): a spec suite has tens of thousands of commands, and the
        // header is one line.
        for variant in wast::VARIANTS {
            for script in manifest
                .scripts
                .iter()
                .filter(|s| selected(opts, &format!("wast.{}", s.name)))
            {
                plan.push(Planned {
                    experiment: format!("wast.{}", script.name),
                    config: variant.label().to_string(),
                    samples: script.commands.len() as u32,
                });
            }
        }
    }
    plan
}

/// Run the raw-exception floor experiments.
pub fn run_raw(opts: &Options) {
    for experiment in &raw::RAW_EXPERIMENTS {
        if !selected(opts, experiment.name) {
            continue;
        }
        crate::fault::set_during(&format!("{} {}", experiment.name, raw::RAW_CONFIG));
        let expected = TrapSignature {
            trap: None,
            vector: Some(experiment.vector),
        };
        let mut series = Series::with_capacity(opts.samples as usize, false);
        let mut failure = None;
        let mut observed = None;
        for i in 0..opts.warmup + opts.samples {
            (experiment.prepare)();
            let (before, _) = exceptions::counters();
            let t0 = cpu::stamp();
            (experiment.raise)();
            let t1 = cpu::stamp();
            let (after, vector) = exceptions::counters();
            let seen = TrapSignature {
                trap: None,
                vector: if after > before { vector } else { None },
            };
            if after != before + 1 || seen != expected {
                failure = Some(format!(
                    "iteration {i}: {} exception(s), last vector {:?}; expected exactly one, vector {}",
                    after - before,
                    vector,
                    experiment.vector
                ));
                observed = Some(seen);
                break;
            }
            observed = Some(seen);
            if i >= opts.warmup {
                series.total.push(t1 - t0);
            }
        }
        emit_series(experiment.name, raw::RAW_CONFIG, &series);
        emit_result(
            experiment.name,
            raw::RAW_CONFIG,
            series.total.len(),
            Some(expected),
            observed,
            failure,
        );
    }
}

/// Checks that the Theseus-style API refuses a second handler for a
/// category (wasmtime's is registered by then).
pub fn check_double_registration() {
    fn other_handler(_: &exceptions::ExceptionContext) -> Option<exceptions::Action> {
        None
    }
    let mut failure = None;
    for category in exceptions::Category::ALL {
        match exceptions::register_handler(category, other_handler) {
            Err(exceptions::AlreadyRegistered(c)) if c == category => {}
            Err(other) => {
                failure = Some(format!(
                    "{}: refused for the wrong category {:?}",
                    category.name(),
                    other.0
                ))
            }
            Ok(()) => {
                failure = Some(format!(
                    "{}: a second handler was accepted",
                    category.name()
                ))
            }
        }
    }
    emit_result(
        "check.double_registration_refused",
        raw::RAW_CONFIG,
        0,
        None,
        None,
        failure,
    );
}
