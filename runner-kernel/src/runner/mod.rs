//! The lab kernel's experiments. What the suite's experiments are (the
//! wasm workloads, native twins, sightglass modules, the floor's loop) is
//! the shared runner core's (`traplab_runner_core`), run here through
//! [`LabKernel`]; this module adds what only ring 0 has: the raw
//! exceptions, the timer check, in-kernel Cranelift, `.wast` scripts and
//! fault-injection campaigns.
//!
//! Every experiment runs its warm-up iterations, then `samples` timed ones
//! with interrupts masked, keeps every raw sample, checks each iteration's
//! outcome (trap code and CPU vector, or return value), and afterwards
//! writes its samples in batches followed by one `result` record. Nothing
//! is written while timing, so serial output never perturbs a sample.

pub mod campaign;
pub mod jit;
pub mod lab;
pub mod raw;
pub mod scenario;
pub mod session;
pub mod timer_check;
pub mod wasm;
pub mod wast;

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

pub use traplab_runner_core::emit::Series;
use traplab_runner_core::floor;
use traplab_runner_core::{Options, emit};
use traplab_wire::{Planned, TrapSignature, config};

use crate::exceptions;
pub use lab::LabKernel;

/// Write `series` as `samples` records (the runner core's, on this kernel).
pub fn emit_series(experiment: &str, config: &str, series: &Series) {
    emit::series(&LabKernel, experiment, config, series);
}

pub fn emit_result(
    experiment: &str,
    config: &str,
    samples: usize,
    expected: Option<TrapSignature>,
    observed: Option<TrapSignature>,
    failure: Option<String>,
) {
    emit::result(
        &LabKernel, experiment, config, samples, expected, observed, failure,
    );
}

pub fn emit_metric(name: &str, value: u64, unit: &str, context: &str) {
    emit::metric(&LabKernel, name, value, unit, context);
}

pub fn selected(opts: &Options, experiment: &str) -> bool {
    opts.selects(experiment)
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
        add(raw.name, config::RING0);
    }
    for name in jit::experiment_names() {
        add(&name, "cranelift");
    }
    if let Some(manifest) = manifest {
        plan.extend(traplab_runner_core::plan::suite(opts, manifest));
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
                .filter(|s| selected(opts, &s.experiment()))
            {
                plan.push(Planned {
                    experiment: script.experiment(),
                    config: variant.label().to_string(),
                    samples: script.commands.len() as u32,
                });
            }
        }
    }
    plan
}

/// What `only=` can select: the plan, and the checks that are not in it
/// (they write a result but no samples).
pub fn selectable(opts: &Options, manifest: Option<&traplab_suite::Manifest>) -> Vec<Planned> {
    let mut all = plan(opts, manifest);
    if selected(opts, timer_check::EXPERIMENT) {
        all.push(Planned {
            experiment: timer_check::EXPERIMENT.to_string(),
            config: config::RING0.to_string(),
            samples: 0,
        });
    }
    all
}

/// Run the raw-exception floor experiments (the runner core's loop over
/// this kernel's raising code).
pub fn run_raw(opts: &Options) {
    floor::run(&LabKernel, config::RING0, &raw::RAW_EXPERIMENTS, opts);
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
        config::RING0,
        0,
        None,
        None,
        failure,
    );
}
