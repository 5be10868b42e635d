//! Wasm experiments: each workload of the suite under each engine
//! configuration, timed from the embedder's call to its return.
//!
//! For a trap sample five stamps are taken: before `call` (here), the first
//! instructions of the IDT stub (`arch::idt::STUB_TSC`), right before the
//! registered handler (`exceptions::HANDLER_TSC`), right before wasmtime's
//! trap handler (`platform::traps::WASMTIME_TSC`), and when `Err` is back
//! here. Consecutive differences are the four stages of `TRAP_STAGES`.

use alloc::format;
use alloc::string::{String, ToString};
use core::sync::atomic::Ordering;

use traplab_suite::{EngineVariant, Suite, TrapMode, Workload, WorkloadKind, engine_config};
use traplab_wire::TrapSignature;
use wasmtime::{Engine, Instance, Module, Store, Trap, TypedFunc};

use super::{Series, emit_metric, emit_result, emit_series};
use crate::arch::{cpu, idt};
use crate::cmdline::Options;
use crate::platform::traps::WASMTIME_TSC;
use crate::{exceptions, fault};

/// Build the engine for `variant`: the shared configuration plus what only
/// the kernel knows.
pub fn engine(variant: EngineVariant) -> wasmtime::Result<Engine> {
    let mut config = engine_config(variant);
    // SAFETY: x86_64-unknown-none is a soft-float target, so Rust code here
    // passes floats in integer registers while Cranelift's wasm code uses
    // SSE registers. The two would meet at wasmtime's float libcalls (wasm
    // `ceil/floor/trunc/nearest`) and at host functions taking floats.
    // Artifacts are compiled with SSE4.1 (`KERNEL_ISA_FLAGS`), so those
    // rounding ops are inline `round*` instructions and no float libcall is
    // ever made; the kernel's host functions (sightglass WASI subset) take
    // and return integers only. Kernel code never touches SSE state, so
    // wasm's use of it is undisturbed.
    unsafe { config.x86_float_abi_ok(true) };
    // SAFETY: `detect_feature` answers from CPUID and counts AVX-class
    // features only when their register state is enabled in XCR0.
    unsafe { config.detect_host_feature(cpu::detect_feature) };
    Engine::new(&config)
}

/// A loaded, instantiated workload, ready to call.
pub struct Loaded {
    pub store: Store<()>,
    pub func: TypedFunc<(i32, i32), i32>,
}

/// Verify the artifact, deserialize, instantiate; report load metrics.
pub fn load(
    engine: &Engine,
    suite: &Suite<'_>,
    workload: &Workload,
    variant: EngineVariant,
) -> Result<Loaded, String> {
    let artifact = workload.artifact(variant.trap_mode).ok_or_else(|| {
        format!(
            "the suite has no {} artifact for {}",
            variant.trap_mode.name(),
            workload.name
        )
    })?;
    let context = format!("{} {}", workload.name, variant.label());
    let t0 = cpu::stamp();
    let bytes = suite
        .artifact_bytes(workload, artifact)
        .map_err(|e| e.to_string())?;
    let t1 = cpu::stamp();
    // SAFETY: `bytes` passed its SHA-256 check against the manifest, whose
    // own checksum was verified, and the host produced it with
    // `Engine::precompile_module` from the same `engine_config`.
    let module =
        unsafe { Module::deserialize(engine, bytes) }.map_err(|e| format!("deserialize: {e:?}"))?;
    let t2 = cpu::stamp();
    let mut store = Store::new(engine, ());
    let instance =
        Instance::new(&mut store, &module, &[]).map_err(|e| format!("instantiate: {e:?}"))?;
    let func = instance
        .get_typed_func::<(i32, i32), i32>(&mut store, &workload.export)
        .map_err(|e| format!("export {}: {e:?}", workload.export))?;
    let t3 = cpu::stamp();
    emit_metric("verify_cycles", t1 - t0, "cycles", &context);
    emit_metric("deserialize_cycles", t2 - t1, "cycles", &context);
    emit_metric("instantiate_cycles", t3 - t2, "cycles", &context);
    emit_metric("artifact_bytes", bytes.len() as u64, "bytes", &context);
    // What compiling it cost on the host, carried by the manifest, so one
    // stream holds every phase of the workload's life.
    if let Some(host) = &artifact.host {
        emit_metric("host_compile_ns", host.compile_ns, "ns", &context);
        emit_metric("host_code_bytes", host.code_bytes, "bytes", &context);
        emit_metric("host_trap_sites", host.trap_sites, "sites", &context);
    }
    Ok(Loaded { store, func })
}

/// What one call produced.
struct Outcome {
    result: Result<i32, Option<String>>,
    /// Vector of the exception raised during the call, if exactly one was.
    vector: Option<u8>,
    exceptions: u64,
    stamps: [u64; 5],
}

/// One timed call with interrupts masked; IF is restored afterwards (a trap
/// leaves through wasmtime's trampoline, not `iretq`, so the gate's IF
/// clearing would otherwise stick).
fn timed_call(loaded: &mut Loaded, args: (i32, i32)) -> Outcome {
    let interrupts = cpu::interrupts_enabled();
    cpu::disable_interrupts();
    let (before, _) = exceptions::counters();
    let t0 = cpu::stamp();
    let result = loaded.func.call(&mut loaded.store, args);
    let t4 = cpu::stamp();
    if interrupts {
        cpu::enable_interrupts();
    }
    let (after, last) = exceptions::counters();
    let stamps = [
        t0,
        idt::last_stub_tsc(),
        exceptions::HANDLER_TSC.load(Ordering::Relaxed),
        WASMTIME_TSC.load(Ordering::Relaxed),
        t4,
    ];
    Outcome {
        result: result.map_err(|e| e.downcast_ref::<Trap>().map(|t| format!("{t:?}"))),
        vector: if after == before + 1 { last } else { None },
        exceptions: after - before,
        stamps,
    }
}

/// Whether `workload` runs under `variant`: compute and sightglass
/// workloads do not trap, so the backtrace setting cannot matter and they
/// skip `bt_on`.
pub fn runs_under(workload: &Workload, variant: EngineVariant) -> bool {
    !(matches!(
        workload.kind,
        WorkloadKind::Compute | WorkloadKind::Sightglass
    ) && variant.backtrace)
}

/// `(warm-up iterations, timed samples)` for a workload.
pub fn iterations(kind: WorkloadKind, opts: &Options) -> (u32, u32) {
    match kind {
        WorkloadKind::Compute | WorkloadKind::Sightglass => {
            (opts.warmup.min(3), opts.compute_samples)
        }
        WorkloadKind::Call | WorkloadKind::Trap => (opts.warmup, opts.samples),
    }
}

/// Run one workload under one engine: warm-up, samples, checks, records.
pub fn run_workload(
    engine: &Engine,
    suite: &Suite<'_>,
    workload: &Workload,
    variant: EngineVariant,
    opts: &Options,
) {
    if workload.kind == WorkloadKind::Sightglass {
        return super::sightglass::run(engine, suite, workload, variant, opts);
    }
    let config = variant.label();
    fault::set_during(&format!("{} {}", workload.name, config));
    let via_exception =
        variant.trap_mode == TrapMode::Signals && workload.kind == WorkloadKind::Trap;
    let expected = (workload.kind == WorkloadKind::Trap).then(|| TrapSignature {
        trap: workload.expect_trap.clone(),
        vector: if via_exception {
            workload.expect_vector
        } else {
            None
        },
    });
    let mut loaded = match load(engine, suite, workload, variant) {
        Ok(l) => l,
        Err(why) => return emit_result(&workload.name, config, 0, expected, None, Some(why)),
    };
    let (warmup, samples) = iterations(workload.kind, opts);
    let mut series = Series::with_capacity(samples as usize, via_exception);
    let mut observed = None;
    let mut failure = None;
    for i in 0..warmup + samples {
        let outcome = timed_call(&mut loaded, (workload.args[0], workload.args[1]));
        if i == 0 && workload.kind == WorkloadKind::Compute {
            // The cold call: first touches of linear memory and code.
            let context = format!("{} {}", workload.name, config);
            emit_metric(
                "first_call_cycles",
                outcome.stamps[4] - outcome.stamps[0],
                "cycles",
                &context,
            );
        }
        let problem = match (workload.kind, &outcome.result) {
            (WorkloadKind::Call | WorkloadKind::Compute | WorkloadKind::Sightglass, Ok(v))
                if workload.expect_result.is_none_or(|e| e == *v) && outcome.exceptions == 0 =>
            {
                None
            }
            (WorkloadKind::Call | WorkloadKind::Compute | WorkloadKind::Sightglass, other) => {
                Some(format!(
                    "returned {other:?} with {} exception(s), expected Ok({:?}) and none",
                    outcome.exceptions, workload.expect_result
                ))
            }
            (WorkloadKind::Trap, Ok(v)) => Some(format!("returned Ok({v}), expected a trap")),
            (WorkloadKind::Trap, Err(trap)) => {
                let seen = TrapSignature {
                    trap: trap.clone(),
                    vector: outcome.vector,
                };
                let wrong_count = outcome.exceptions != u64::from(via_exception);
                let mismatch = Some(&seen) != expected.as_ref();
                observed = Some(seen);
                (mismatch || wrong_count).then(|| {
                    format!(
                        "{} exception(s) during the call; expected {}",
                        outcome.exceptions,
                        u8::from(via_exception)
                    )
                })
            }
        };
        if let Some(problem) = problem {
            failure = Some(format!("iteration {i}: {problem}"));
            break;
        }
        if i < warmup {
            continue;
        }
        let s = outcome.stamps;
        series.total.push(s[4] - s[0]);
        if let Some(stages) = series.stages.as_mut() {
            if !s.windows(2).all(|w| w[0] <= w[1]) {
                failure = Some(format!("iteration {i}: stage stamps out of order {s:?}"));
                break;
            }
            for (k, stage) in stages.iter_mut().enumerate() {
                stage.push(s[k + 1] - s[k]);
            }
        }
    }
    emit_series(&workload.name, config, &series);
    emit_result(
        &workload.name,
        config,
        series.total.len(),
        expected,
        observed,
        failure,
    );
}

/// `heap_traps` traps in a row through the most allocation-heavy path
/// (backtraces on) must leave the heap where it started.
pub fn check_heap_stability(
    engine: &Engine,
    suite: &Suite<'_>,
    workload: &Workload,
    variant: EngineVariant,
    traps: u32,
) {
    const NAME: &str = "check.heap_stability";
    let config = variant.label();
    fault::set_during(&format!("{NAME} {config}"));
    let mut loaded = match load(engine, suite, workload, variant) {
        Ok(l) => l,
        Err(why) => return emit_result(NAME, config, 0, None, None, Some(why)),
    };
    // Warm up first: wasmtime builds some per-store state on the first trap.
    for _ in 0..100 {
        let _ = timed_call(&mut loaded, (workload.args[0], workload.args[1]));
    }
    let before = crate::mm::heap_used();
    let frames_before = crate::mm::frames_in_use();
    let mut failure = None;
    for i in 0..traps {
        if timed_call(&mut loaded, (workload.args[0], workload.args[1]))
            .result
            .is_ok()
        {
            failure = Some(format!("call {i} did not trap"));
            break;
        }
    }
    let after = crate::mm::heap_used();
    let frames_after = crate::mm::frames_in_use();
    let context = format!("{} {} x{traps}", workload.name, config);
    emit_metric("heap_used_before", before, "bytes", &context);
    emit_metric("heap_used_after", after, "bytes", &context);
    emit_metric("frames_in_use_before", frames_before, "frames", &context);
    emit_metric("frames_in_use_after", frames_after, "frames", &context);
    if failure.is_none() && (after != before || frames_after != frames_before) {
        failure = Some(format!(
            "over {traps} traps the heap went from {before} to {after} bytes and mapped frames from {frames_before} to {frames_after}"
        ));
    }
    emit_result(NAME, config, 0, None, None, failure);
}
