//! The campaign's loop: set up the engine, targets and their instances,
//! run one trial per planned injection (trigger, observe, disarm, discard,
//! fresh instance), write an `injection` record for each, then the
//! campaign's metrics and its `result`.

use alloc::boxed::Box;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use traplab_wire::metric;

use traplab_injectors::{
    CallEnd, Isolation, Refused, Register, TargetFacts, TriggerPoint, classify, plan,
};
use traplab_suite::{EngineVariant, Suite};
use traplab_wire::{During, Injection, Outcome, Progress, Record};

use super::experiment;
use super::machine::KernelMachine;
use super::observe::{WILD_WRITE_VALUE, discard, observe, trial_stack};
use super::target::{Live, instantiate, load};
use super::trial::{self, Trial};
use crate::arch::{cpu, timer};
use crate::runner::{emit_metric, emit_result, selected, wasm};
use crate::{fault, mm, report};

/// The trial arena (`mm::in_trial_arena`): every target's live instance,
/// a few hundred KiB each, and what a trial allocates on top.
const TRIAL_ARENA_BYTES: u64 = 32 << 20;

/// Run the suite's campaign, if it has one and it is selected.
///
/// `#[inline(never)]`: crash sites and backtraces name the campaign's
/// run loop, not the session that called it (the kernel is one codegen
/// unit, which would inline it).
#[inline(never)]
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
    fault::set_during(During {
        experiment: Some(name.clone()),
        config: Some(config.to_string()),
        campaign: Some(spec.name.clone()),
        ..During::new()
    });
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
    let isolated = spec.isolation == Isolation::Pks;
    if isolated && let Err(e) = mm::isolate_kernel() {
        return fail(format!("isolation = \"pks\": {e}"));
    }
    timer::set_handler(Some(trial::on_timer));
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
    // The host's live line: where the campaign is, at its start and about
    // once a second of the kernel's clock (virtual time under icount, so
    // the stream stays reproducible).
    let progress = |index: u32| {
        report::emit(Record::Progress(Progress {
            experiment: name.clone(),
            config: config.to_string(),
            done: index,
            planned: end,
        }))
    };
    let progress_every = cpu::tsc_hz().max(1);
    progress(first);
    let mut last_progress = cpu::stamp();
    for index in first..end {
        let (planned, mut rng) = plan(spec, index);
        let ispec = &spec.injectors[planned.injector];
        let target = &targets[planned.target];
        fault::set_during(During {
            experiment: Some(name.clone()),
            config: Some(config.to_string()),
            campaign: Some(spec.name.clone()),
            injection: Some(index),
            injector: Some(ispec.kind.name().to_string()),
            target: Some(target.workload.name.clone()),
            ..During::new()
        });
        if cpu::stamp().wrapping_sub(last_progress) >= progress_every {
            progress(index);
            last_progress = cpu::stamp();
        }
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
        if let Some(s) = &site {
            fault::set_during(During {
                site: Some(s.describe()),
                ..fault::current_during()
            });
        }
        // Test-only boot options: a kernel crash (a panic outside any
        // containment) or a kernel hang (interrupts masked, so neither the
        // watchdog nor anything else ends it) at a known injection, for the
        // host's reboot-and-resume.
        if opts.crash_at == Some(index) {
            panic!("crash_at={index}: kernel crash forced at injection {index} (test option)");
        }
        if opts.hang_at == Some(index) {
            cpu::halt_forever();
        }
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
        // Test only (`wild_write_at`): a kernel-heap block for the
        // observed call to store into; checked after the call.
        let mut wild = (opts.wild_write_at == Some(index)).then(|| Box::new(0u64));
        let wild_ptr = wild.as_mut().map(|b| &raw mut **b);
        let observed = mm::in_trial_arena(|| {
            observe(
                target,
                &mut live,
                &mut trial,
                start_offset,
                isolated,
                wild_ptr,
            )
        });
        let mut injector = trial.injector;
        injector.disarm(&mut trial.machine);
        let mut outcome = if trial.fired {
            classify(&observed.end, target.resolved.golden)
        } else {
            Outcome::Masked
        };
        let mut detail = observed.detail;
        if let Some(block) = &wild {
            let what = if **block == WILD_WRITE_VALUE {
                "the kernel-heap block was overwritten"
            } else {
                "the kernel-heap block is intact"
            };
            detail = Some(match detail {
                Some(d) => format!("wild_write_at: {d}; {what}"),
                None => format!("wild_write_at: {what}"),
            });
        }
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
    emit_metric(metric::CAMPAIGN_CYCLES, elapsed, "cycles", &context);
    emit_metric(
        metric::TRIAL_ARENA_USED_BEFORE,
        arena_before,
        "bytes",
        &context,
    );
    emit_metric(
        metric::TRIAL_ARENA_USED_AFTER,
        arena_after,
        "bytes",
        &context,
    );
    emit_metric(metric::HEAP_USED_BEFORE, heap_before, "bytes", &context);
    emit_metric(metric::HEAP_USED_AFTER, heap_after, "bytes", &context);
    emit_metric(
        metric::FRAMES_IN_USE_BEFORE,
        frames_before,
        "frames",
        &context,
    );
    emit_metric(
        metric::FRAMES_IN_USE_AFTER,
        frames_after,
        "frames",
        &context,
    );
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
