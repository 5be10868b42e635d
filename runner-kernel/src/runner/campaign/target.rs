//! A campaign's targets: each loaded once and profiled on a clean call —
//! the data pages it touches (page-table accessed bits), the code sites
//! it spends its time in (PCs sampled by the timer), its clean duration —
//! and fresh instances of it for every trial.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use traplab_runner_core::Platform;
use traplab_suite::{CampaignTarget, Suite, TrapMode, Workload, engine};
use wasmtime::{Engine, Instance, Module, Store, TypedFunc};

use super::trial;
use crate::arch::idt::TrapFrame;
use crate::arch::{cpu, timer};
use crate::mm;
use crate::runner::LabKernel;

/// A target, loaded and measured once per campaign.
pub(super) struct Target<'a> {
    pub(super) resolved: &'a CampaignTarget,
    pub(super) workload: &'a Workload,
    pub(super) module: Module,
    /// The module's compiled code (containment scope) and its text section
    /// (where code offsets point).
    pub(super) image: (u64, u64),
    pub(super) text: u64,
    /// Address space of one linear memory, guard included.
    pub(super) reservation: u64,
    pub(super) clean_cycles: u64,
    pub(super) touched_pages: Vec<u64>,
    pub(super) code_sites: Vec<u64>,
}

/// A ready-to-call instance of a target.
pub(super) struct Live {
    pub(super) store: Store<()>,
    pub(super) func: TypedFunc<(i32, i32), i32>,
    pub(super) memory: (u64, u64),
}

/// A fresh instance of the target, its store and instance data in the
/// trial arena (`mm::in_trial_arena` says why).
pub(super) fn instantiate(
    engine: &Engine,
    target_module: &Module,
    export: &str,
) -> Result<Live, String> {
    mm::in_trial_arena(|| instantiate_here(engine, target_module, export))
}

fn instantiate_here(engine: &Engine, target_module: &Module, export: &str) -> Result<Live, String> {
    let mut store = Store::new(engine, ());
    let instance =
        Instance::new(&mut store, target_module, &[]).map_err(|e| format!("instantiate: {e:?}"))?;
    let func = instance
        .get_typed_func::<(i32, i32), i32>(&mut store, export)
        .map_err(|e| format!("export {export}: {e:?}"))?;
    let memory = instance
        .get_memory(&mut store, "memory")
        .ok_or("the module exports no `memory`")?;
    let memory = (
        memory.data_ptr(&store) as u64,
        memory.data_size(&store) as u64,
    );
    Ok(Live {
        store,
        func,
        memory,
    })
}

pub(super) fn load<'a>(
    engine: &Engine,
    suite: &Suite<'_>,
    resolved: &'a CampaignTarget,
    workload: &'a Workload,
    trap_mode: TrapMode,
) -> Result<Target<'a>, String> {
    // The runner core's loader, as for every other runner: the lab
    // kernel's artifacts (its `Platform::TARGET`), checked, then the one
    // `Module::deserialize` with its SAFETY argument.
    let artifact =
        traplab_runner_core::wasm::find_artifact(workload, LabKernel::TARGET, trap_mode)?;
    let bytes = suite
        .artifact_bytes(workload, artifact)
        .map_err(|e| e.to_string())?;
    let module = traplab_runner_core::wasm::deserialize(engine, bytes)?;
    let image = module.image_range();
    let image = (image.start as u64, image.end as u64);
    let text = module.text();
    let (text_start, text_len) = (text.as_ptr() as u64, text.len() as u64);
    let args = (resolved.args[0], resolved.args[1]);

    let mut live = instantiate(engine, &module, &workload.export)?;
    // Accessed bits: cleared now, set by the CPU during one clean call, so
    // they name exactly the data pages a call touches.
    mm::accessed_pages(live.memory.0, live.memory.1, true);
    let value = live
        .func
        .call(&mut live.store, args)
        .map_err(|e| format!("clean call: {e:?}"))?;
    if value != resolved.golden {
        return Err(format!(
            "clean call returned {value}, golden is {}",
            resolved.golden
        ));
    }
    let touched_pages = mm::accessed_pages(live.memory.0, live.memory.1, false);
    // The clean duration scales async trigger points and the watchdog:
    // the median of three warm calls.
    let mut durations = [0u64; 3];
    for d in &mut durations {
        let t0 = cpu::stamp();
        let _ = live.func.call(&mut live.store, args);
        *d = cpu::stamp() - t0;
    }
    durations.sort_unstable();
    let clean_cycles = durations[1].max(1);
    // Code sites: instruction starts (wasmtime's address map) inside the
    // functions a call spends its time in, found by sampling the PC with
    // the timer. A module holds many functions; a `ud2` in one the call
    // never runs would say nothing.
    let hot = hot_functions(
        &module,
        &mut live,
        args,
        clean_cycles,
        (text_start, text_len),
    );
    let code_sites: Vec<u64> = module
        .address_map()
        .into_iter()
        .flatten()
        .map(|(offset, _)| offset as u64)
        .filter(|offset| {
            hot.iter()
                .any(|&(start, end)| (start..end).contains(offset))
                && *offset + 2 <= text_len
        })
        .collect();
    Ok(Target {
        resolved,
        workload,
        module,
        image,
        text: text_start,
        reservation: match trap_mode {
            TrapMode::Signals => engine::SIGNALS_MEMORY_RESERVATION + engine::SIGNALS_MEMORY_GUARD,
            TrapMode::Explicit => engine::EXPLICIT_MEMORY_RESERVATION,
        },
        clean_cycles,
        touched_pages,
        code_sites,
    })
}

/// PCs sampled by [`on_sample`].
static SAMPLES: [AtomicU64; 256] = [const { AtomicU64::new(0) }; 256];
static SAMPLED: AtomicUsize = AtomicUsize::new(0);
static SAMPLE_INTERVAL: AtomicU64 = AtomicU64::new(0);

/// The timer while profiling a clean call: record the PC, re-arm.
fn on_sample(frame: &mut TrapFrame) {
    let n = SAMPLED.load(Ordering::Relaxed);
    if n < SAMPLES.len() {
        SAMPLES[n].store(frame.rip, Ordering::Relaxed);
        SAMPLED.store(n + 1, Ordering::Relaxed);
    }
    timer::arm_at(cpu::stamp() + SAMPLE_INTERVAL.load(Ordering::Relaxed));
}

/// Text ranges `(start, end)` of the functions a clean call was caught
/// running in, sampling about 50 PCs per call for up to 8 calls.
fn hot_functions(
    module: &Module,
    live: &mut Live,
    args: (i32, i32),
    clean_cycles: u64,
    text: (u64, u64),
) -> Vec<(u64, u64)> {
    SAMPLED.store(0, Ordering::Relaxed);
    SAMPLE_INTERVAL.store((clean_cycles / 50).max(1_000), Ordering::Relaxed);
    timer::set_handler(Some(on_sample));
    for _ in 0..8 {
        timer::arm_at(cpu::stamp() + SAMPLE_INTERVAL.load(Ordering::Relaxed));
        cpu::enable_interrupts();
        let _ = live.func.call(&mut live.store, args);
        cpu::disable_interrupts();
        timer::disarm();
        if SAMPLED.load(Ordering::Relaxed) >= 128 {
            break;
        }
    }
    timer::set_handler(Some(trial::on_timer));
    let functions: Vec<(u64, u64)> = module
        .functions()
        .map(|f| (f.offset as u64, (f.offset + f.len) as u64))
        .collect();
    let mut hot: Vec<(u64, u64)> = Vec::new();
    for sample in SAMPLES.iter().take(SAMPLED.load(Ordering::Relaxed)) {
        let Some(offset) = sample
            .load(Ordering::Relaxed)
            .checked_sub(text.0)
            .filter(|&o| o < text.1)
        else {
            continue;
        };
        if let Some(&f) = functions
            .iter()
            .find(|(start, end)| (*start..*end).contains(&offset))
            && !hot.contains(&f)
        {
            hot.push(f);
        }
    }
    hot
}
