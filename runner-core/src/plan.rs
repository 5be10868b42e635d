//! The suite's part of a run's plan: every (experiment, configuration) the
//! shared runner will attempt, in the order it runs them. A platform puts
//! its own experiments (floor, JIT, campaign, scripts) around it.

use alloc::string::ToString;
use alloc::vec::Vec;

use traplab_suite::Manifest;
use traplab_wire::{Planned, config};

use crate::{Options, native, pace, wasm};

/// The wasm workloads under each selected variant, then the native twins.
pub fn suite(opts: &Options, manifest: &Manifest) -> Vec<Planned> {
    let mut plan = Vec::new();
    let mut add = |experiment: &str, config: &str, kind| {
        if opts.selects(experiment) {
            plan.push(Planned {
                experiment: experiment.to_string(),
                config: config.to_string(),
                // At most: a time budget may stop it earlier.
                samples: pace::iterations(kind, opts).1,
            });
        }
    };
    for variant in &opts.variants {
        for workload in manifest
            .workloads
            .iter()
            .filter(|w| wasm::runs_under(w, *variant))
        {
            // A sightglass benchmark's `.instantiation` phase is reported
            // only when the benchmark passes, so it is not planned.
            add(&workload.name, variant.label(), workload.kind);
        }
    }
    for workload in manifest
        .workloads
        .iter()
        .filter(|w| native::twin(w).is_some())
    {
        add(&workload.name, config::NATIVE, workload.kind);
    }
    plan
}
