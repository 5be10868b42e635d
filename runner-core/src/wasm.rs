//! Wasm experiments: each workload of the suite under each engine
//! configuration, timed from the embedder's call to its return.
//!
//! For a trap sample the platform's stamps split the round trip: before
//! `call` (here), whatever the platform takes inside the trap
//! ([`Platform::TRAP_STAMPS`]: on the lab kernel the IDT stub, the
//! registered handler and wasmtime's trap handler; on Linux the front
//! signal handler), and when `Err` is back here. Consecutive differences
//! are the stages.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use traplab_wire::metric;

use traplab_suite::{
    Artifact, CodeTarget, EngineVariant, Suite, TrapMode, Workload, WorkloadKind, test_hooks,
};
use traplab_wire::{Stamp, TrapSignature};
use wasmtime::{Engine, Extern, Func, Instance, Module, Store, Trap, TypedFunc};

use crate::contain::contained;
use crate::emit::{self, Series};
use crate::pace::{Iteration, Pace};
use crate::{FaultSeen, Options, Platform};

/// A loaded, instantiated workload, ready to call.
pub struct Loaded {
    pub store: Store<()>,
    pub func: TypedFunc<(i32, i32), i32>,
}

/// The artifact of `workload` compiled for `target` under `trap_mode`.
pub fn find_artifact(
    workload: &Workload,
    target: CodeTarget,
    trap_mode: TrapMode,
) -> Result<&Artifact, String> {
    workload.artifact(target, trap_mode).ok_or_else(|| {
        format!(
            "the suite has no {} artifact for {} ({})",
            trap_mode.name(),
            workload.name,
            target.triple()
        )
    })
}

/// `Module::deserialize` of artifact bytes the suite image has checked
/// ([`Suite::artifact_bytes`] or [`Suite::checked_bytes`]): the one place
/// every runner turns bytes into code.
pub fn deserialize(engine: &Engine, checked: &[u8]) -> Result<Module, String> {
    // SAFETY: `checked` passed its SHA-256 check against the manifest,
    // whose own checksum was verified, and the host produced it with
    // `Engine::precompile_module` from the same `engine_config` for this
    // platform's target (`Module::deserialize` trusts its input).
    unsafe { Module::deserialize(engine, checked) }.map_err(|e| format!("deserialize: {e:?}"))
}

/// Verify the artifact, deserialize, instantiate; report load metrics.
pub fn load<P: Platform>(
    p: &P,
    engine: &Engine,
    suite: &Suite<'_>,
    workload: &Workload,
    variant: EngineVariant,
) -> Result<Loaded, String> {
    let artifact = find_artifact(workload, P::TARGET, variant.trap_mode)?;
    let context = format!("{} {}", workload.name, variant.label());
    let t0 = P::stamp();
    let bytes = suite
        .artifact_bytes(workload, artifact)
        .map_err(|e| e.to_string())?;
    let t1 = P::stamp();
    let module = deserialize(engine, bytes)?;
    let t2 = P::stamp();
    let mut store = Store::new(engine, ());
    let imports = test_hooks(&mut store, &module)?;
    let instance =
        Instance::new(&mut store, &module, &imports).map_err(|e| format!("instantiate: {e:?}"))?;
    let func = instance
        .get_typed_func::<(i32, i32), i32>(&mut store, &workload.export)
        .map_err(|e| format!("export {}: {e:?}", workload.export))?;
    let t3 = P::stamp();
    emit::metric(p, metric::VERIFY_CYCLES, t1 - t0, "cycles", &context);
    emit::metric(p, metric::DESERIALIZE_CYCLES, t2 - t1, "cycles", &context);
    emit::metric(p, metric::INSTANTIATE_CYCLES, t3 - t2, "cycles", &context);
    emit::metric(
        p,
        metric::ARTIFACT_BYTES,
        bytes.len() as u64,
        "bytes",
        &context,
    );
    // What compiling it cost on the host, carried by the manifest, so one
    // stream holds every phase of the workload's life.
    if let Some(host) = &artifact.host {
        emit::metric(p, metric::HOST_COMPILE_NS, host.compile_ns, "ns", &context);
        emit::metric(
            p,
            metric::HOST_CODE_BYTES,
            host.code_bytes,
            "bytes",
            &context,
        );
        emit::metric(
            p,
            metric::HOST_TRAP_SITES,
            host.trap_sites,
            "sites",
            &context,
        );
    }
    Ok(Loaded { store, func })
}

/// The imports of `module`, in order: the runner's test hooks it names
/// ([`test_hooks`]: `traplab.panic`, `traplab.fault`, which only the
/// test-only `contain` suite's workloads import). No other
/// import is provided (the workload contract, checked when the suite is
/// built). Empty — and allocation-free — for every ordinary workload.
fn test_hooks(store: &mut Store<()>, module: &Module) -> Result<Vec<Extern>, String> {
    let mut imports = Vec::new();
    for import in module.imports() {
        let hook = match (import.module(), import.name()) {
            (test_hooks::MODULE, test_hooks::PANIC) => Func::wrap(&mut *store, host_panic),
            (test_hooks::MODULE, test_hooks::FAULT) => Func::wrap(&mut *store, host_fault),
            (m, name) => return Err(format!("import {m}.{name} is not provided by the runner")),
        };
        imports.push(Extern::Func(hook));
    }
    Ok(imports)
}

/// `traplab.panic`: a host function that panics, as a bug in wasmtime or
/// in a host function would (wasmtime's `unreachable!()` in a libcall).
#[inline(never)]
fn host_panic() {
    panic!("deliberate panic in the host call traplab.panic");
}

/// An address no platform maps: inside the null page.
const UNMAPPED_ADDRESS: usize = 0x10;

/// `traplab.fault`: a host function that reads an unmapped address, as
/// runtime code following a bad pointer would. The fault is in host code,
/// not wasm, so wasmtime does not claim it: the lab kernel contains it;
/// on Linux it is a SIGSEGV wasmtime passes on, which ends the peer.
#[inline(never)]
fn host_fault() {
    // SAFETY: deliberately unsound, for the containment test only — this
    // read must fault (nothing is mapped at `UNMAPPED_ADDRESS`), and is
    // never reached by an ordinary workload.
    let value =
        unsafe { core::ptr::read_volatile(core::hint::black_box(UNMAPPED_ADDRESS as *const u64)) };
    panic!("traplab.fault: reading {UNMAPPED_ADDRESS:#x} did not fault (read {value:#x})");
}

/// What one call produced.
pub struct CallReport {
    pub result: Result<i32, Option<String>>,
    /// The fault raised during the call, if exactly one was.
    pub fault: Option<FaultSeen>,
    pub faults: u64,
    /// `Call`, the platform's [`Platform::TRAP_STAMPS`], `Return`: the
    /// first `stamps_taken` entries. A fixed array, so a timed call does
    /// not allocate (the trap path's own allocations see the same heap
    /// whatever the runner keeps).
    stamps: [u64; Stamp::ALL.len()],
    stamps_taken: usize,
}

impl CallReport {
    pub fn stamps(&self) -> &[u64] {
        &self.stamps[..self.stamps_taken]
    }

    pub fn cycles(&self) -> u64 {
        self.stamps[self.stamps_taken - 1] - self.stamps[0]
    }
}

/// One timed call with interrupts masked where the platform can; they are
/// restored afterwards (on the lab kernel a trap leaves through wasmtime's
/// trampoline, not `iretq`, so the gate's IF clearing would otherwise
/// stick).
pub fn timed_call<P: Platform>(p: &P, loaded: &mut Loaded, args: (i32, i32)) -> CallReport {
    let interrupts = p.mask_interrupts();
    let (before, _) = p.faults();
    let t0 = P::stamp();
    let result = loaded.func.call(&mut loaded.store, args);
    let t4 = P::stamp();
    p.restore_interrupts(interrupts);
    let (after, last) = p.faults();
    let mut stamps = [0; Stamp::ALL.len()];
    stamps[0] = t0;
    for (slot, &stamp) in stamps[1..].iter_mut().zip(P::TRAP_STAMPS) {
        *slot = p.trap_stamp(stamp);
    }
    let stamps_taken = P::TRAP_STAMPS.len() + 2;
    stamps[stamps_taken - 1] = t4;
    CallReport {
        result: result.map_err(|e| e.downcast_ref::<Trap>().map(|t| format!("{t:?}"))),
        fault: (after == before + 1).then_some(last),
        faults: after - before,
        stamps,
        stamps_taken,
    }
}

/// The stamps of a trap sample on `P`: `Call`, its trap stamps, `Return`.
pub fn stamp_order<P: Platform>() -> Vec<Stamp> {
    let mut order = Vec::with_capacity(P::TRAP_STAMPS.len() + 2);
    order.push(Stamp::Call);
    order.extend_from_slice(P::TRAP_STAMPS);
    order.push(Stamp::Return);
    order
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

/// What a workload must end in on platform `P`: its trap code, and the
/// fault that raises it when traps go through the exception path.
pub fn expectation<P: Platform>(
    p: &P,
    workload: &Workload,
    variant: EngineVariant,
) -> Option<TrapSignature> {
    let via_exception =
        variant.trap_mode == TrapMode::Signals && workload.kind == WorkloadKind::Trap;
    let fault = workload
        .expect_vector
        .filter(|_| via_exception)
        .map(|v| p.expected_fault(v))
        .unwrap_or_default();
    (workload.kind == WorkloadKind::Trap).then(|| TrapSignature {
        trap: workload.expect_trap.clone(),
        vector: fault.vector,
        signal: fault.signal,
        si_code: None,
    })
}

/// Run one workload under one engine: warm-up, samples, checks, records.
///
/// `#[inline(never)]`: a frame of its own in backtraces (a contained
/// failure names the experiment's runner), whatever the platform crate's
/// inliner decides (the lab kernel is one codegen unit).
#[inline(never)]
pub fn run_workload<P: Platform>(
    p: &P,
    engine: &Engine,
    suite: &Suite<'_>,
    workload: &Workload,
    variant: EngineVariant,
    opts: &Options,
) {
    if workload.kind == WorkloadKind::Sightglass {
        return crate::sightglass::run(p, engine, suite, workload, variant, opts);
    }
    let config = variant.label();
    p.set_during(traplab_wire::During::experiment(&workload.name, config));
    let via_exception =
        variant.trap_mode == TrapMode::Signals && workload.kind == WorkloadKind::Trap;
    let expected = expectation(p, workload, variant);
    let mut loaded = match load(p, engine, suite, workload, variant) {
        Ok(l) => l,
        Err(why) => return emit::result(p, &workload.name, config, 0, expected, None, Some(why)),
    };
    let mut pace = Pace::start(p, &workload.name, config, workload.kind, opts);
    let samples = pace.samples();
    let mut series = if via_exception {
        Series::staged(samples as usize, &stamp_order::<P>())
    } else {
        Series::plain(samples as usize)
    };
    let mut observed = None;
    let mut failure = None;
    while let Some(iteration) = pace.next() {
        let i = iteration.index();
        let outcome = timed_call(p, &mut loaded, (workload.args[0], workload.args[1]));
        if i == 0 && workload.kind == WorkloadKind::Compute {
            // The cold call: first touches of linear memory and code.
            let context = format!("{} {}", workload.name, config);
            emit::metric(
                p,
                metric::FIRST_CALL_CYCLES,
                outcome.cycles(),
                "cycles",
                &context,
            );
        }
        let problem = match (workload.kind, &outcome.result) {
            (WorkloadKind::Call | WorkloadKind::Compute | WorkloadKind::Sightglass, Ok(v))
                if workload.expect_result.is_none_or(|e| e == *v) && outcome.faults == 0 =>
            {
                None
            }
            (WorkloadKind::Call | WorkloadKind::Compute | WorkloadKind::Sightglass, other) => {
                Some(format!(
                    "returned {other:?} with {} exception(s), expected Ok({:?}) and none",
                    outcome.faults, workload.expect_result
                ))
            }
            (WorkloadKind::Trap, Ok(v)) => Some(format!("returned Ok({v}), expected a trap")),
            (WorkloadKind::Trap, Err(trap)) => {
                let fault = outcome.fault.unwrap_or_default();
                let seen = TrapSignature {
                    trap: trap.clone(),
                    vector: fault.vector,
                    signal: fault.signal,
                    si_code: fault.si_code,
                };
                let wrong_count = outcome.faults != u64::from(via_exception);
                let mismatch = !expected.as_ref().is_some_and(|e| e.admits(&seen));
                observed = Some(seen);
                (mismatch || wrong_count).then(|| {
                    format!(
                        "{} exception(s) during the call; expected {}",
                        outcome.faults,
                        u8::from(via_exception)
                    )
                })
            }
        };
        if let Some(problem) = problem {
            failure = Some(format!("iteration {i}: {problem}"));
            break;
        }
        if let Iteration::Warmup(_) = iteration {
            continue;
        }
        let s = outcome.stamps();
        series.total.push(s[s.len() - 1] - s[0]);
        if let Some(stages) = series.stages.as_mut() {
            if !s.windows(2).all(|w| w[0] <= w[1]) {
                failure = Some(format!("iteration {i}: stage stamps out of order {s:?}"));
                break;
            }
            stages.push(s);
        }
    }
    if let Some(note) = pace.finish(series.total.len()) {
        p.log(note);
    }
    if failure.is_none() && opts.profiles(&workload.name, config) {
        // One more call, outside the series, for the instruction profiler.
        crate::profile::begin(&format!("{} {config}", workload.name));
        let outcome = timed_call(p, &mut loaded, (workload.args[0], workload.args[1]));
        let s = outcome.stamps();
        // Trap stamps are only taken by an exception.
        if via_exception {
            crate::profile::end(s);
        } else {
            crate::profile::end(&[s[0], s[s.len() - 1]]);
        }
    }
    emit::series(p, &workload.name, config, &series);
    emit::result(
        p,
        &workload.name,
        config,
        series.total.len(),
        expected,
        observed,
        failure,
    );
}

/// `traps` traps in a row through the most allocation-heavy path
/// (backtraces on) must leave the heap where it started. Runs only where
/// the platform can count its heap and frames.
pub fn check_heap_stability<P: Platform>(
    p: &P,
    engine: &Engine,
    suite: &Suite<'_>,
    workload: &Workload,
    variant: EngineVariant,
    traps: u32,
) {
    const NAME: &str = "check.heap_stability";
    if p.memory_in_use().is_none() {
        return;
    }
    let config = variant.label();
    p.set_during(traplab_wire::During::experiment(NAME, config));
    let mut loaded = match load(p, engine, suite, workload, variant) {
        Ok(l) => l,
        Err(why) => return emit::result(p, NAME, config, 0, None, None, Some(why)),
    };
    // Warm up first: wasmtime builds some per-store state on the first trap.
    for _ in 0..100 {
        let _ = timed_call(p, &mut loaded, (workload.args[0], workload.args[1]));
    }
    let (before, frames_before) = p.memory_in_use().unwrap_or_default();
    let mut failure = None;
    for i in 0..traps {
        if timed_call(p, &mut loaded, (workload.args[0], workload.args[1]))
            .result
            .is_ok()
        {
            failure = Some(format!("call {i} did not trap"));
            break;
        }
    }
    let (after, frames_after) = p.memory_in_use().unwrap_or_default();
    let context = format!("{} {} x{traps}", workload.name, config);
    emit::metric(p, metric::HEAP_USED_BEFORE, before, "bytes", &context);
    emit::metric(p, metric::HEAP_USED_AFTER, after, "bytes", &context);
    emit::metric(
        p,
        metric::FRAMES_IN_USE_BEFORE,
        frames_before,
        "frames",
        &context,
    );
    emit::metric(
        p,
        metric::FRAMES_IN_USE_AFTER,
        frames_after,
        "frames",
        &context,
    );
    if failure.is_none() && (after != before || frames_after != frames_before) {
        failure = Some(format!(
            "over {traps} traps the heap went from {before} to {after} bytes and mapped frames from {frames_before} to {frames_after}"
        ));
    }
    emit::result(p, NAME, config, 0, None, None, failure);
}

/// Every wasm workload of the suite under every selected engine
/// configuration, the heap check, then the native twins, each contained
/// ([`contained`]): one that panics or faults fails, the next one runs.
/// Returns whether any wasm workload ran (wasmtime's handlers are then
/// registered).
pub fn run_suite<P: Platform>(p: &P, suite: &Suite<'_>, opts: &Options) -> bool {
    // One clear refusal instead of wasmtime's, artifact by artifact: the
    // suite's CPU profile names features this processor lacks.
    if let Some(problem) = suite
        .manifest
        .cpu
        .as_ref()
        .and_then(|cpu| cpu.missing_on(&crate::cpuid::CpuInfo::read().features))
    {
        emit::result(p, "setup.cpu", "boot", 0, None, None, Some(problem));
        return false;
    }
    let mut wasmtime_ready = false;
    for &variant in &opts.variants {
        let engine = match p.engine(variant) {
            Ok(engine) => engine,
            Err(e) => {
                emit::result(
                    p,
                    "setup.engine",
                    variant.label(),
                    0,
                    None,
                    None,
                    Some(format!("{e:?}")),
                );
                continue;
            }
        };
        for workload in suite
            .manifest
            .workloads
            .iter()
            .filter(|w| opts.selects(&w.name))
            .filter(|w| runs_under(w, variant))
        {
            let (name, config) = (workload.name.as_str(), variant.label());
            if let Err(why) = contained(p, name, config, || {
                run_workload(p, &engine, suite, workload, variant, opts)
            }) {
                emit::result(p, name, config, 0, None, None, Some(why));
            }
            wasmtime_ready = true;
        }
        // The heap check runs under the most allocation-heavy trap path,
        // when `only=` selects it or the trap it repeats.
        let heap_variant = variant.trap_mode == TrapMode::Signals && variant.backtrace;
        if opts.heap_traps > 0
            && heap_variant
            && (opts.selects("check.heap_stability") || opts.selects("trap.oob_load"))
            && let Some(w) = suite
                .manifest
                .workloads
                .iter()
                .find(|w| w.name == "trap.oob_load")
        {
            const HEAP_CHECK: &str = "check.heap_stability";
            if let Err(why) = contained(p, HEAP_CHECK, variant.label(), || {
                check_heap_stability(p, &engine, suite, w, variant, opts.heap_traps)
            }) {
                emit::result(p, HEAP_CHECK, variant.label(), 0, None, None, Some(why));
            }
        }
    }
    for workload in suite
        .manifest
        .workloads
        .iter()
        .filter(|w| opts.selects(&w.name))
        .filter(|w| crate::native::twin(w).is_some())
    {
        let (name, config) = (workload.name.as_str(), traplab_wire::config::NATIVE);
        if let Err(why) = contained(p, name, config, || {
            crate::native::run_twin(p, workload, opts)
        }) {
            emit::result(p, name, config, 0, None, None, Some(why));
        }
    }
    wasmtime_ready
}
