//! The suite's part of a run's plan: every (experiment, configuration) the
//! shared runner will attempt, in the order it runs them. A platform puts
//! its own experiments (floor, JIT, campaign, scripts) around it.

use alloc::string::ToString;
use alloc::vec::Vec;

use traplab_suite::Manifest;
use traplab_wire::Planned;

use crate::{Options, native, wasm};

/// The wasm workloads under each selected variant, then the native twins.
pub fn suite(opts: &Options, manifest: &Manifest) -> Vec<Planned> {
    let mut plan = Vec::new();
    let mut add = |experiment: &str, config: &str| {
        if opts.selects(experiment) {
            plan.push(Planned {
                experiment: experiment.to_string(),
                config: config.to_string(),
                samples: opts.samples,
            });
        }
    };
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
    plan
}
