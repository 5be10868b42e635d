//! Native twins: the compute workloads' algorithms compiled into the kernel
//! itself (`traplab-compute`, the same Rust source the wasm modules are
//! built from), timed in the same boot so wasm/native is a ratio measured
//! side by side.
//!
//! Caveat recorded with each result: the kernel target is soft-float, so a
//! twin that uses floating point runs with software floats here while the
//! wasm version uses SSE; its ratio overstates native cost.

use alloc::format;

use traplab_compute::ComputeKernel;
use traplab_suite::{Workload, WorkloadKind};

use super::{Series, emit_metric, emit_result, emit_series};
use crate::arch::cpu;
use crate::cmdline::Options;
use crate::fault;

pub const CONFIG: &str = "native";

/// The twin of a compute workload, if the kernel links one.
pub fn twin(workload: &Workload) -> Option<&'static ComputeKernel> {
    (workload.kind == WorkloadKind::Compute)
        .then(|| traplab_compute::native(&workload.name))
        .flatten()
}

/// Time the twin of `workload` (if it has one), checking every result.
pub fn run_twin(workload: &Workload, opts: &Options) {
    let Some(kernel) = twin(workload) else { return };
    fault::set_during(&format!("{} {CONFIG}", workload.name));
    let expected = workload.expect_result.unwrap_or(kernel.golden);
    let (warmup, samples) = super::wasm::iterations(workload.kind, opts);
    let mut series = Series::with_capacity(samples as usize, false);
    let mut failure = None;
    let args = (workload.args[0], workload.args[1]);
    cpu::disable_interrupts();
    for i in 0..warmup + samples {
        let t0 = cpu::stamp();
        let result = core::hint::black_box(kernel.run)(
            core::hint::black_box(args.0),
            core::hint::black_box(args.1),
        );
        let t1 = cpu::stamp();
        if result != expected {
            failure = Some(format!(
                "iteration {i}: returned {result}, expected {expected}"
            ));
            break;
        }
        if i >= warmup {
            series.total.push(t1 - t0);
        }
    }
    let context = format!("{} {CONFIG}", workload.name);
    emit_metric("soft_float", u64::from(kernel.uses_float), "bool", &context);
    emit_series(&workload.name, CONFIG, &series);
    emit_result(
        &workload.name,
        CONFIG,
        series.total.len(),
        None,
        None,
        failure,
    );
}
