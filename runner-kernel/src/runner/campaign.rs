//! Fault-injection campaigns: faults injected into running wasm workloads,
//! each ending in exactly one outcome, with its recovery time.
//!
//! The decisions (which injector, target, trigger point and site; how to
//! name an outcome) are the `traplab-injectors` crate's, unit-tested on the
//! host. This module supplies what only the kernel can: the targets' facts
//! (which pages and instructions a clean call touches, from the page
//! tables' accessed bits), the hardware actions ([`KernelMachine`]), the
//! triggers (between calls, or the LAPIC timer interrupt), the watchdog,
//! and containment.
//!
//! One trial per injection, always on a fresh instance:
//! 1. sync: `k` clean calls, then fire; async: arm the timer at a point
//!    inside the call;
//! 2. the observed call runs behind `jit_gate::contain_on`, interrupts on,
//!    the watchdog armed at `watchdog_factor` × the clean duration;
//! 3. it ends as a returned value (masked or corrupted), a wasm trap
//!    (wasmtime claimed the fault), a contained fault (the dispatcher or
//!    the panic handler abandoned the call), or a watchdog stop (hang);
//! 4. the injector is disarmed (code bytes and page mappings restored),
//!    the instance discarded and a fresh one instantiated: recovery time
//!    runs from the fault to that fresh instance being ready.
//!
//! Abandoning a call skips the Rust frames between the gate and the wasm
//! code without unwinding them. That is sound only while they hold no lock
//! and own nothing that must be dropped, so the timer acts (injects, or
//! stops a hung call) only when the interrupted RIP is in the target's
//! compiled code, never in the runtime or the kernel; otherwise it retries
//! a little later. The instance is discarded afterwards either way, and
//! wasmtime's thread-local state is put back as it was before the call.

use alloc::boxed::Box;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicPtr, Ordering};

use traplab_injectors::{
    CallEnd, Injector, Machine, Refused, Register, TargetFacts, TriggerPoint, classify, plan,
};
use traplab_suite::{
    Campaign, CampaignTarget, CodeTarget, EngineVariant, Suite, TrapMode, Workload, engine,
};
use traplab_wire::{Injection, Outcome, Record};
use wasmtime::{Engine, Instance, Module, Store, Trap, TypedFunc};

use super::{emit_metric, emit_result, selected, wasm};
use crate::arch::idt::TrapFrame;
use crate::arch::{cpu, idt, jit_gate, timer};
use crate::exceptions::{self, Containment};
use crate::platform::tls;
use crate::{fault, mm, report};

/// Cycles to wait before retrying a timer action that found the CPU
/// outside the target's code.
const RETRY_CYCLES: u64 = 2_000;
/// The trial arena (`mm::in_trial_arena`): every target's live instance,
/// a few hundred KiB each, and what a trial allocates on top.
const TRIAL_ARENA_BYTES: u64 = 32 << 20;

/// The experiment name of `campaign` (its `result` record and plan entry).
pub fn experiment(campaign: &Campaign) -> String {
    format!("campaign.{}", campaign.spec.name)
}

/// A target, loaded and measured once per campaign.
struct Target<'a> {
    resolved: &'a CampaignTarget,
    workload: &'a Workload,
    module: Module,
    /// The module's compiled code (containment scope) and its text section
    /// (where code offsets point).
    image: (u64, u64),
    text: u64,
    /// Address space of one linear memory, guard included.
    reservation: u64,
    clean_cycles: u64,
    touched_pages: Vec<u64>,
    code_sites: Vec<u64>,
}

/// A ready-to-call instance of a target.
struct Live {
    store: Store<()>,
    func: TypedFunc<(i32, i32), i32>,
    memory: (u64, u64),
}

/// A fresh instance of the target, its store and instance data in the
/// trial arena (`mm::in_trial_arena` says why).
fn instantiate(engine: &Engine, target_module: &Module, export: &str) -> Result<Live, String> {
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

fn load<'a>(
    engine: &Engine,
    suite: &Suite<'_>,
    resolved: &'a CampaignTarget,
    workload: &'a Workload,
    trap_mode: TrapMode,
) -> Result<Target<'a>, String> {
    let artifact =
        traplab_runner_core::wasm::find_artifact(workload, CodeTarget::LabKernel, trap_mode)?;
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
static SAMPLES: [core::sync::atomic::AtomicU64; 256] =
    [const { core::sync::atomic::AtomicU64::new(0) }; 256];
static SAMPLED: core::sync::atomic::AtomicUsize = core::sync::atomic::AtomicUsize::new(0);
static SAMPLE_INTERVAL: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);

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
    timer::set_handler(Some(on_timer));
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

/// The hardware actions, on the current instance and target.
struct KernelMachine {
    memory: (u64, u64),
    text: (u64, u64),
    /// The interrupted context, while the timer handler runs.
    frame: Option<*mut TrapFrame>,
    /// Page revoked by this trial and its flags, to reinstate.
    revoked: Option<(u64, u64)>,
}

impl KernelMachine {
    fn linear(&self, offset: u64, len: usize) -> Result<*mut u8, Refused> {
        if offset
            .checked_add(len as u64)
            .is_none_or(|end| end > self.memory.1)
        {
            return Err(Refused("outside linear memory"));
        }
        Ok((self.memory.0 + offset) as *mut u8)
    }
}

impl Machine for KernelMachine {
    fn revoke_page(&mut self, offset: u64) -> Result<(), Refused> {
        let va = self.linear(offset, 1)? as u64;
        let flags = mm::revoke_page(va).ok_or(Refused("page not mapped or page tables busy"))?;
        self.revoked = Some((va, flags));
        Ok(())
    }
    fn restore_page(&mut self, _offset: u64) {
        if let Some((va, flags)) = self.revoked.take() {
            mm::reinstate_page(va, flags);
        }
    }
    fn patch_code(&mut self, offset: u64, bytes: &[u8], old: &mut [u8]) -> Result<(), Refused> {
        if offset + bytes.len() as u64 > self.text.1 {
            return Err(Refused("outside the text section"));
        }
        let at = (self.text.0 + offset) as *mut u8;
        // SAFETY: inside the module's text, which this trial owns; the
        // code pages are read-only, so the write goes through with CR0.WP
        // off (ring 0, interrupts off, one CPU).
        cpu::with_write_protect_off(|| unsafe {
            core::ptr::copy_nonoverlapping(at, old.as_mut_ptr(), bytes.len());
            core::ptr::copy_nonoverlapping(bytes.as_ptr(), at, bytes.len());
        });
        Ok(())
    }
    fn read_memory(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), Refused> {
        let at = self.linear(offset, buf.len())?;
        // SAFETY: inside the instance's accessible linear memory.
        unsafe { core::ptr::copy_nonoverlapping(at, buf.as_mut_ptr(), buf.len()) };
        Ok(())
    }
    fn write_memory(&mut self, offset: u64, bytes: &[u8]) -> Result<(), Refused> {
        let at = self.linear(offset, bytes.len())?;
        // SAFETY: as above.
        unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), at, bytes.len()) };
        Ok(())
    }
    fn flip_register(&mut self, register: Register, bit: u8) -> Result<(), Refused> {
        let frame = self.frame.ok_or(Refused("no interrupted context"))?;
        // SAFETY: set by the timer handler to its live frame.
        let f = unsafe { &mut *frame };
        let slot = match register {
            Register::Rax => &mut f.rax,
            Register::Rbx => &mut f.rbx,
            Register::Rcx => &mut f.rcx,
            Register::Rdx => &mut f.rdx,
            Register::Rsi => &mut f.rsi,
            Register::Rdi => &mut f.rdi,
            Register::Rbp => &mut f.rbp,
            Register::Rsp => &mut f.rsp,
            Register::R8 => &mut f.r8,
            Register::R9 => &mut f.r9,
            Register::R10 => &mut f.r10,
            Register::R11 => &mut f.r11,
            Register::R12 => &mut f.r12,
            Register::R13 => &mut f.r13,
            Register::R14 => &mut f.r14,
            Register::R15 => &mut f.r15,
        };
        *slot ^= 1 << bit;
        Ok(())
    }
}

/// What the timer interrupt works on during an observed call.
struct Trial {
    injector: Box<dyn Injector>,
    machine: KernelMachine,
    /// Async: TSC deadline of the injection, until it fired.
    inject_at: Option<u64>,
    /// The spec's `watchdog_factor`.
    watchdog_factor: u32,
    watchdog_at: u64,
    /// `watchdog_at` minus the call's start.
    watchdog_span: u64,
    /// Where a call stuck outside the target's code was stopped.
    stuck_at: Option<u64>,
    fired: bool,
    refused: Option<&'static str>,
    /// TSC when the watchdog stopped the call.
    watchdog_tsc: Option<u64>,
}

/// The trial of the call in flight (null outside observed calls).
static TRIAL: AtomicPtr<Trial> = AtomicPtr::new(core::ptr::null_mut());

/// The timer interrupt during an observed call.
fn on_timer(frame: &mut TrapFrame) {
    let trial = TRIAL.load(Ordering::Acquire);
    if trial.is_null() {
        return;
    }
    // SAFETY: the observed call's owner is suspended under this interrupt
    // and does not touch the trial until the call is over.
    let trial = unsafe { &mut *trial };
    let now = cpu::stamp();
    if !exceptions::in_contained_code(frame.rip) {
        // A second watchdog period past the deadline and still outside
        // the target's code: the call is stuck in runtime or kernel code
        // (a flipped pointer sent it there). Stop it anyway, unless it
        // holds the heap or page-mapper lock (then the host's timeout is
        // the last resort).
        if now >= trial.watchdog_at.saturating_add(trial.watchdog_span)
            && crate::mm::unlocked()
            && jit_gate::active()
        {
            trial.watchdog_tsc = Some(now);
            trial.stuck_at = Some(frame.rip);
            // SAFETY: no kernel lock is held (checked); the instance is
            // discarded afterwards.
            unsafe { jit_gate::abandon() }
        }
        timer::arm_at(now + RETRY_CYCLES);
        return;
    }
    if trial.inject_at.is_some_and(|at| now >= at) {
        trial.inject_at = None;
        trial.machine.frame = Some(frame as *mut TrapFrame);
        match trial.injector.fire(&mut trial.machine) {
            Ok(()) => trial.fired = true,
            Err(Refused(why)) => trial.refused = Some(why),
        }
        trial.machine.frame = None;
        timer::arm_at(trial.watchdog_at);
        return;
    }
    if now >= trial.watchdog_at {
        trial.watchdog_tsc = Some(now);
        // SAFETY: RIP is in the target's compiled code (checked above), so
        // the frames between the gate and here hold no lock.
        unsafe { jit_gate::abandon() }
    }
    timer::arm_at(trial.inject_at.unwrap_or(trial.watchdog_at));
}

/// How the observed call went.
struct Observed {
    end: CallEnd,
    trap: Option<String>,
    vector: Option<u8>,
    detail: Option<String>,
    /// TSC of the fault (exception stub) or the watchdog stop.
    fault_tsc: Option<u64>,
    returned_tsc: u64,
}

fn observe(
    target: &Target<'_>,
    live: &mut Live,
    trial: &mut Trial,
    start_offset: Option<u64>,
) -> Observed {
    let args = (target.resolved.args[0], target.resolved.args[1]);
    let landing = jit_gate::landing_address();
    // Faults in runtime code during the call are the instance's too: a
    // libcall on a revoked page of its memory, or on state a flipped
    // register corrupted (Theseus's rule: a fault ends the task that
    // raised it). The timer still acts only inside the target's code.
    exceptions::set_containment(Some(Containment {
        code: target.image,
        data: (live.memory.0, live.memory.0 + target.reservation),
        anywhere: true,
        // Recovery is timed from the fault: no frame walk on the way.
        backtrace: false,
        landing,
    }));
    let saved_tls = tls::save();
    let (before, _) = exceptions::counters();
    let t0 = cpu::stamp();
    trial.inject_at = start_offset.map(|d| t0 + d);
    trial.watchdog_span = target
        .clean_cycles
        .saturating_mul(u64::from(trial.watchdog_factor));
    trial.watchdog_at = t0 + trial.watchdog_span;
    TRIAL.store(trial as *mut Trial, Ordering::Release);
    timer::arm_at(trial.inject_at.unwrap_or(trial.watchdog_at));
    let func = live.func.clone();
    let store = &mut live.store;
    let result = jit_gate::contain_on(Some(trial_stack()), || {
        cpu::enable_interrupts();
        let r = func.call(&mut *store, args);
        cpu::disable_interrupts();
        r
    });
    cpu::disable_interrupts();
    timer::disarm();
    let returned_tsc = cpu::stamp();
    TRIAL.store(core::ptr::null_mut(), Ordering::Release);
    exceptions::set_containment(None);
    let (after, last) = exceptions::counters();
    let vector = if after > before { last } else { None };
    match result {
        Some(Ok(v)) => Observed {
            end: CallEnd::Returned(v),
            trap: None,
            vector,
            detail: None,
            fault_tsc: None,
            returned_tsc,
        },
        Some(Err(e)) => Observed {
            end: CallEnd::Trapped,
            trap: Some(
                e.downcast_ref::<Trap>()
                    .map_or_else(|| format!("{e:?}"), |t| format!("{t:?}")),
            ),
            vector,
            detail: None,
            fault_tsc: (after > before).then(idt::last_stub_tsc),
            returned_tsc,
        },
        None => {
            tls::restore(saved_tls);
            if let Some(at) = trial.watchdog_tsc {
                let mut detail = format!(
                    "stopped after {} cycles ({}x the clean call)",
                    at - t0,
                    trial.watchdog_factor
                );
                if let Some(rip) = trial.stuck_at {
                    detail.push_str(&format!(", outside the target's code at {}", place(rip)));
                }
                return Observed {
                    end: CallEnd::Watchdog,
                    trap: None,
                    vector: None,
                    detail: Some(detail),
                    fault_tsc: Some(at),
                    returned_tsc,
                };
            }
            let panic = fault::take_contained_panic().map(|p| p.message);
            let detail = match (exceptions::last_contained(), panic) {
                (_, Some(message)) => format!("runtime panic: {message}"),
                (Some((v, rip, cr2)), None) => {
                    let place = if (target.image.0..target.image.1).contains(&rip) {
                        format!("text+{:#x}", rip - target.text)
                    } else {
                        place(rip)
                    };
                    match cr2 {
                        Some(addr) => format!("vector {v} at {place}, address {addr:#x}"),
                        None => format!("vector {v} at {place}"),
                    }
                }
                (None, None) => "abandoned".to_string(),
            };
            Observed {
                end: CallEnd::Contained,
                trap: None,
                vector: exceptions::last_contained().map(|(v, _, _)| v),
                detail: Some(detail),
                fault_tsc: Some(idt::last_stub_tsc()),
                returned_tsc,
            }
        }
    }
}

/// Drop a trial's instance behind the recovery gate. `Some(what)` if the
/// drop faulted or panicked — the injection corrupted runtime state — and
/// was abandoned.
fn discard(live: Live) -> Option<String> {
    // Any code may fault here (wasmtime's drop paths are kernel code); the
    // dispatcher and the panic handler still refuse while the heap or page
    // mapper is locked.
    exceptions::set_containment(Some(Containment {
        code: (0, 0),
        data: (0, 0),
        anywhere: true,
        backtrace: false,
        landing: jit_gate::landing_address(),
    }));
    let saved_tls = tls::save();
    let mut slot = Some(live);
    let done = jit_gate::contain_on(Some(trial_stack()), || drop(slot.take()));
    exceptions::set_containment(None);
    if done.is_some() {
        return None;
    }
    // What the abandoned drop had not freed yet stays allocated: leaked,
    // never freed twice.
    tls::restore(saved_tls);
    Some(
        match (
            fault::take_contained_panic().map(|p| p.message),
            exceptions::last_contained(),
        ) {
            (Some(message), _) => format!("teardown panic: {message}"),
            (None, Some((v, rip, cr2))) => {
                let at = place(rip);
                match cr2 {
                    Some(addr) => format!("teardown fault: vector {v} at {at}, address {addr:#x}"),
                    None => format!("teardown fault: vector {v} at {at}"),
                }
            }
            (None, None) => "teardown abandoned".to_string(),
        },
    )
}

/// `function+0xoffset` of a kernel address, or the address.
fn place(rip: u64) -> String {
    crate::symbols::lookup(rip).map_or_else(
        || format!("{rip:#x}"),
        |(name, off)| format!("{name}+{off:#x}"),
    )
}

/// Size of the stack trials run on: wasm's own limit plus room for the
/// runtime, exception and interrupt frames on top of it.
const TRIAL_STACK_BYTES: u64 = 2 << 20;

/// Top of the stack observed calls and teardowns run on. Their own, not
/// the kernel's: wasm keeps its frames on the native stack, so a flipped
/// register pointing into it lets wasm code scribble over frames — with a
/// stack of their own, only frames above the recovery gate, which the gate
/// abandons anyway. An unmapped guard page below it.
fn trial_stack() -> u64 {
    static TOP: spin::Once<u64> = spin::Once::new();
    *TOP.call_once(|| {
        let guard = 4096;
        let base =
            mm::reserve(TRIAL_STACK_BYTES + guard).expect("address space for the trial stack");
        mm::protect(
            base + guard,
            TRIAL_STACK_BYTES,
            Some(crate::arch::paging::Protection {
                write: true,
                execute: false,
            }),
        )
        .expect("frames for the trial stack");
        base + guard + TRIAL_STACK_BYTES
    })
}

/// Run the suite's campaign, if it has one and it is selected.
pub fn run(suite: &Suite<'_>, opts: &traplab_runner_core::Options) {
    let Some(campaign) = &suite.manifest.campaign else {
        return;
    };
    let name = experiment(campaign);
    if !selected(opts, &name) {
        return;
    }
    let spec = &campaign.spec;
    let config = spec.config.as_str();
    fault::set_during(&format!("campaign {} setup", spec.name));
    let fail = |why: String| emit_result(&name, config, 0, None, None, Some(why));
    if let Err(e) = spec.validate() {
        return fail(format!("invalid spec: {e}"));
    }
    if campaign.targets.len() != spec.targets.len() {
        return fail(
            "the manifest resolves a different number of targets than the spec names".to_string(),
        );
    }
    let Some(variant) = EngineVariant::from_label(config) else {
        return fail(format!("unknown config {config:?}"));
    };
    if let Err(e) = timer::init() {
        return fail(format!("no timer for triggers and the watchdog: {e}"));
    }
    if let Err(e) = mm::init_trial_arena(TRIAL_ARENA_BYTES) {
        return fail(format!("no trial arena for the instances: {e:?}"));
    }
    timer::set_handler(Some(on_timer));
    let engine = match wasm::engine(variant) {
        Ok(e) => e,
        Err(e) => return fail(format!("engine: {e:?}")),
    };
    let mut targets = Vec::new();
    for resolved in &campaign.targets {
        let Some(workload) = suite
            .manifest
            .workloads
            .iter()
            .find(|w| w.name == resolved.workload)
        else {
            return fail(format!(
                "target {} is not a workload of the suite",
                resolved.workload
            ));
        };
        match load(&engine, suite, resolved, workload, variant.trap_mode) {
            Ok(t) => {
                let context = format!("{} {config}", t.workload.name);
                emit_metric(
                    "campaign_clean_call_cycles",
                    t.clean_cycles,
                    "cycles",
                    &context,
                );
                emit_metric(
                    "campaign_touched_pages",
                    t.touched_pages.len() as u64,
                    "pages",
                    &context,
                );
                emit_metric(
                    "campaign_code_sites",
                    t.code_sites.len() as u64,
                    "sites",
                    &context,
                );
                targets.push(t);
            }
            Err(why) => return fail(format!("{}: {why}", resolved.workload)),
        }
    }
    let registers: Vec<Vec<Register>> = (0..spec.injectors.len())
        .map(|i| spec.registers(i))
        .collect();
    let mut lives: Vec<Option<Live>> = Vec::new();
    for t in &targets {
        match instantiate(&engine, &t.module, &t.workload.export) {
            Ok(l) => lives.push(Some(l)),
            Err(why) => return fail(format!("{}: {why}", t.workload.name)),
        }
    }

    trial_stack();
    let heap_before = mm::heap_used();
    let arena_before = mm::trial_arena_used();
    let frames_before = mm::frames_in_use();
    let started = cpu::stamp();
    let mut failure = None;
    let mut counts = [0u64; Outcome::ALL.len()];
    let (first, end) = opts.injections.map_or((0, spec.count), |(a, b)| {
        (a.min(spec.count), b.min(spec.count))
    });
    for index in first..end {
        let (planned, mut rng) = plan(spec, index);
        let ispec = &spec.injectors[planned.injector];
        let target = &targets[planned.target];
        fault::set_during(&format!(
            "campaign {} injection {index} {} {}",
            spec.name,
            ispec.kind.name(),
            target.workload.name
        ));
        let mut live = lives[planned.target]
            .take()
            .expect("an instance is ready between trials");
        let facts = TargetFacts {
            touched_pages: &target.touched_pages,
            code_sites: &target.code_sites,
            divisors: target.resolved.divisors,
            registers: &registers[planned.injector],
        };
        let mut injector = traplab_injectors::injector(ispec.kind);
        let site = injector.arm(&facts, &mut rng);
        let mut trial = Trial {
            injector,
            machine: KernelMachine {
                memory: live.memory,
                text: (target.text, target.module.text().len() as u64),
                frame: None,
                revoked: None,
            },
            inject_at: None,
            watchdog_factor: spec.watchdog_factor,
            watchdog_at: 0,
            watchdog_span: 0,
            stuck_at: None,
            fired: false,
            refused: site.is_none().then_some("nothing to strike in this target"),
            watchdog_tsc: None,
        };
        let args = (target.resolved.args[0], target.resolved.args[1]);
        let (point, start_offset) = match planned.point {
            TriggerPoint::AfterCalls(k) => {
                for call in 0..k {
                    match mm::in_trial_arena(|| live.func.call(&mut live.store, args)) {
                        Ok(v) if v == target.resolved.golden => {}
                        other => {
                            failure = Some(format!(
                                "injection {index}: clean call {call} before injecting returned {other:?}"
                            ));
                        }
                    }
                }
                if site.is_some() {
                    match trial.injector.fire(&mut trial.machine) {
                        Ok(()) => trial.fired = true,
                        Err(Refused(why)) => trial.refused = Some(why),
                    }
                }
                (u64::from(k), None)
            }
            TriggerPoint::IntoCall { ppm } => {
                let delay = target.clean_cycles * u64::from(ppm) / 1_000_000;
                (delay, site.is_some().then_some(delay))
            }
        };
        if failure.is_some() {
            break;
        }
        let observed = mm::in_trial_arena(|| observe(target, &mut live, &mut trial, start_offset));
        let mut injector = trial.injector;
        injector.disarm(&mut trial.machine);
        let mut outcome = if trial.fired {
            classify(&observed.end, target.resolved.golden)
        } else {
            Outcome::Masked
        };
        let mut detail = observed.detail;
        // A fault needs a fresh instance; so does every other ending,
        // since the injection may have left the old one corrupted.
        if let Some(teardown) = mm::in_trial_arena(|| discard(live)) {
            // The injection reached the runtime's own state (a flipped
            // pointer written through, say): dropping the instance
            // faulted. Contained like a fault in the call; the broken
            // store's memory is leaked.
            outcome = Outcome::Contained;
            detail = Some(match detail {
                Some(d) => format!("{d}; then {teardown}"),
                None => teardown,
            });
        }
        let fresh = instantiate(&engine, &target.module, &target.workload.export);
        let ready = cpu::stamp();
        match fresh {
            Ok(l) => lives[planned.target] = Some(l),
            Err(why) => {
                failure = Some(format!(
                    "injection {index}: no fresh instance after it: {why}"
                ));
            }
        }
        let detail = match (trial.fired, trial.refused, detail) {
            (false, Some(why), _) => Some(format!("not fired: {why}")),
            (false, None, _) => {
                Some("not fired: the call returned before the trigger point".to_string())
            }
            (true, _, detail) => detail,
        };
        let result = match observed.end {
            CallEnd::Returned(v) => Some(i64::from(v)),
            _ => None,
        };
        counts[Outcome::ALL.iter().position(|o| *o == outcome).unwrap_or(0)] += 1;
        report::emit(Record::Injection(Injection {
            campaign: spec.name.clone(),
            index,
            injector: ispec.kind.name().to_string(),
            target: target.workload.name.clone(),
            config: config.to_string(),
            trigger: planned.point.trigger().name().to_string(),
            point,
            site: site.map_or_else(|| "-".to_string(), |s| s.describe()),
            fired: trial.fired,
            outcome,
            trap: observed.trap,
            vector: observed.vector,
            result,
            detail,
            trap_cycles: observed
                .fault_tsc
                .map(|f| observed.returned_tsc.saturating_sub(f)),
            recovery_cycles: observed.fault_tsc.map(|f| ready.saturating_sub(f)),
        }));
        if failure.is_some() {
            break;
        }
    }
    let elapsed = cpu::stamp() - started;
    // Measured with one live instance per target, as before the first
    // injection: a trial that leaks shows here.
    let (heap_after, frames_after) = (mm::heap_used(), mm::frames_in_use());
    let arena_after = mm::trial_arena_used();
    drop(lives);
    timer::set_handler(None);
    let context = format!("{} {config}", spec.name);
    emit_metric("campaign_cycles", elapsed, "cycles", &context);
    emit_metric("trial_arena_used_before", arena_before, "bytes", &context);
    emit_metric("trial_arena_used_after", arena_after, "bytes", &context);
    emit_metric("heap_used_before", heap_before, "bytes", &context);
    emit_metric("heap_used_after", heap_after, "bytes", &context);
    emit_metric("frames_in_use_before", frames_before, "frames", &context);
    emit_metric("frames_in_use_after", frames_after, "frames", &context);
    for (outcome, n) in Outcome::ALL.iter().zip(counts) {
        emit_metric(
            &format!("outcome_{}", outcome.name()),
            n,
            "injections",
            &context,
        );
    }
    // No `samples` records: the injections are the data.
    emit_result(&name, config, 0, None, None, failure);
}
