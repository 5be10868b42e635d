//! Native twins: the compute workloads' algorithms compiled into the
//! platform itself (`traplab-compute`, the same Rust source the wasm
//! modules are built from), timed in the same run so wasm/native is a
//! ratio measured side by side.
//!
//! Caveat recorded with each result (`soft_float` metric): the lab
//! kernel's target is soft-float, so there a twin that uses floating point
//! runs with software floats while the wasm version uses SSE, and its
//! ratio overstates native cost. On Linux the twins use the FPU.

use alloc::format;
use traplab_wire::metric;

use traplab_compute::ComputeKernel;
use traplab_suite::{Workload, WorkloadKind};

use crate::emit::{self, Series};
use crate::pace::{Iteration, Pace};
use crate::{Options, Platform};
use traplab_wire::config::NATIVE as CONFIG;

/// The twin of a compute workload, if the platform links one.
pub fn twin(workload: &Workload) -> Option<&'static ComputeKernel> {
    (workload.kind == WorkloadKind::Compute)
        .then(|| traplab_compute::native(&workload.name))
        .flatten()
}

/// Time the twin of `workload` (if it has one), checking every result.
pub fn run_twin<P: Platform>(p: &P, workload: &Workload, opts: &Options) {
    let Some(kernel) = twin(workload) else { return };
    p.set_during(traplab_wire::During::experiment(&workload.name, CONFIG));
    let expected = workload.expect_result.unwrap_or(kernel.golden);
    let mut pace = Pace::start(p, &workload.name, CONFIG, workload.kind, opts);
    let mut series = Series::plain(pace.samples() as usize);
    let mut failure = None;
    let args = (workload.args[0], workload.args[1]);
    let were = p.mask_interrupts();
    while let Some(iteration) = pace.next() {
        let t0 = P::stamp();
        let result = core::hint::black_box(kernel.run)(
            core::hint::black_box(args.0),
            core::hint::black_box(args.1),
        );
        let t1 = P::stamp();
        if result != expected {
            failure = Some(format!(
                "iteration {}: returned {result}, expected {expected}",
                iteration.index()
            ));
            break;
        }
        if let Iteration::Timed(_) = iteration {
            series.total.push(t1 - t0);
        }
    }
    // The kernel left interrupts masked after its twins until the next
    // timed region; restoring here is the same for it (the next region
    // masks again) and right for platforms that care.
    p.restore_interrupts(were);
    if let Some(note) = pace.finish(series.total.len()) {
        p.log(note);
    }
    let context = format!("{} {CONFIG}", workload.name);
    let soft = kernel.uses_float && p.soft_float();
    emit::metric(p, metric::SOFT_FLOAT, u64::from(soft), "bool", &context);
    emit::series(p, &workload.name, CONFIG, &series);
    emit::result(
        p,
        &workload.name,
        CONFIG,
        series.total.len(),
        None,
        None,
        failure,
    );
}
