//! Fault-injection campaigns on the real kernel: the shipped smoke campaign
//! (`injectors/campaigns/smoke.toml`) boots under QEMU and must end with
//! the kernel alive, every injection reported once, and outcomes that fit
//! what each injector does. In deterministic mode, the same seed must give
//! the same injections, record for record.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use traplab_harness::qemu::Launch;
use traplab_harness::{Ending, build, session};
use traplab_wire::{EndStatus, Injection, Outcome, Record, Status, decode_line};
use traplab_workloads::SuiteName;

const SPEC: &str = "smoke";

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("traplab-campaign-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// Boot the smoke campaign alone under `profile`; the records, in order.
fn boot(profile: &str, kernel: &Path, suite: &Path) -> (Ending, Vec<Record>) {
    let launch = Launch {
        kernel: kernel.to_path_buf(),
        suite: Some(suite.to_path_buf()),
        profile: profile.to_string(),
        boot_args: "only=campaign. heap_traps=0".to_string(),
    };
    let capture = scratch(&format!("{profile}.jsonl"));
    let report =
        session::run(&launch, &capture, Duration::from_secs(600), false).expect("running QEMU");
    let text = std::fs::read_to_string(&capture).unwrap();
    let records = text
        .lines()
        .filter_map(|l| {
            l.find("{\"seq\":").map(|at| {
                decode_line(&l[at..])
                    .expect("every line passes its check")
                    .record
            })
        })
        .collect();
    (report.ending, records)
}

fn injections(records: &[Record]) -> Vec<Injection> {
    records
        .iter()
        .filter_map(|r| match r {
            Record::Injection(i) => Some(i.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn the_smoke_campaign_ends_with_the_kernel_alive_and_sensible_outcomes() {
    let kernel = build::kernel(0).expect("building runner-kernel");
    let suite = build::suite_with_campaign(
        SuiteName::Quick,
        &traplab_suite::cpu::QEMU_MAX,
        Path::new(SPEC),
    )
    .expect("building the campaign suite");
    let spec = traplab_workloads::campaign::load_spec(&traplab_workloads::campaign::spec_path(
        Path::new(SPEC),
    ))
    .unwrap();

    let (ending, records) = boot("icount", &kernel, &suite);
    assert!(
        matches!(ending, Ending::Success),
        "the campaign run ended {ending:?}"
    );
    assert!(
        !records
            .iter()
            .any(|r| matches!(r, Record::Fault(_) | Record::Panic(_))),
        "no kernel fault or panic"
    );
    let Some(Record::End(end)) = records.last() else {
        panic!("no end record")
    };
    assert_eq!(end.status, EndStatus::Complete);
    let result = records
        .iter()
        .find_map(|r| match r {
            Record::Result(r) if r.experiment == "campaign.smoke" => Some(r.clone()),
            _ => None,
        })
        .expect("a result record for campaign.smoke");
    assert_eq!(result.status, Status::Ok, "{:?}", result.message);

    // Every injection exactly once, in order.
    let all = injections(&records);
    let indices: Vec<u32> = all.iter().map(|i| i.index).collect();
    assert_eq!(indices, (0..spec.spec.count).collect::<Vec<_>>());

    let mut by_injector: BTreeMap<(String, String), Vec<&Injection>> = BTreeMap::new();
    for i in &all {
        by_injector
            .entry((i.injector.clone(), i.trigger.clone()))
            .or_default()
            .push(i);
        // What each outcome must carry.
        match i.outcome {
            Outcome::Trapped => assert!(i.trap.is_some() && i.recovery_cycles.is_some(), "{i:?}"),
            Outcome::Contained | Outcome::Hang => {
                assert!(i.recovery_cycles.is_some() && i.detail.is_some(), "{i:?}")
            }
            Outcome::Masked | Outcome::Corrupted => {
                assert!(i.result.is_some() || !i.fired, "{i:?}")
            }
            Outcome::KernelCrash => panic!("the kernel never reports its own crash: {i:?}"),
        }
        if !i.fired {
            assert_eq!(i.outcome, Outcome::Masked, "{i:?}");
        }
    }
    let outcomes = |key: (&str, &str)| -> BTreeSet<Outcome> {
        by_injector[&(key.0.to_string(), key.1.to_string())]
            .iter()
            .filter(|i| i.fired)
            .map(|i| i.outcome)
            .collect()
    };
    // The baseline changes nothing: always fired, always masked.
    for trigger in ["sync", "async"] {
        let noop = &by_injector[&("noop".to_string(), trigger.to_string())];
        assert!(
            noop.iter().all(|i| i.outcome == Outcome::Masked),
            "noop {trigger}: {noop:?}"
        );
        assert!(
            noop.iter().filter(|i| i.fired).count() * 2 >= noop.len(),
            "noop {trigger} mostly fires: {noop:?}"
        );
    }
    // A revoked page that the call uses faults at a trap site: a wasm
    // out-of-bounds trap through #PF.
    let revoked = &by_injector[&("page_revoke".to_string(), "sync".to_string())];
    assert!(
        revoked
            .iter()
            .any(|i| i.outcome == Outcome::Trapped && i.vector == Some(14)),
        "some sync page revoke traps through #PF: {revoked:?}"
    );
    // ud2 where wasmtime has no trap code: the kernel contains it.
    assert!(
        outcomes(("code_patch", "sync")).contains(&Outcome::Contained),
        "{:?}",
        by_injector[&("code_patch".to_string(), "sync".to_string())]
    );
    assert!(outcomes(("code_patch", "async")).contains(&Outcome::Contained));
    // A zeroed divisor: divide error (#DE) claimed by wasmtime.
    let zeroed = &by_injector[&("divisor_zero".to_string(), "sync".to_string())];
    assert!(
        zeroed.iter().all(|i| i.target == "compute.divmix")
            && zeroed.iter().any(|i| i.outcome == Outcome::Trapped
                && i.vector == Some(0)
                && i.trap.as_deref() == Some("IntegerDivisionByZero")),
        "{zeroed:?}"
    );
    // Register flips need the interrupt: they do fire.
    let flips = &by_injector[&("bit_flip_register".to_string(), "async".to_string())];
    assert!(flips.iter().any(|i| i.fired), "{flips:?}");

    // Deterministic mode: the same campaign again gives the same
    // injections, sites, trigger points and outcomes.
    let (ending, again) = boot("icount", &kernel, &suite);
    assert!(matches!(ending, Ending::Success));
    let key = |i: &Injection| {
        (
            i.index,
            i.injector.clone(),
            i.target.clone(),
            i.point,
            i.site.clone(),
            i.fired,
            i.outcome,
        )
    };
    let first: Vec<_> = all.iter().map(key).collect();
    let second: Vec<_> = injections(&again).iter().map(key).collect();
    assert_eq!(
        first, second,
        "icount runs of one seed agree injection for injection"
    );
}

/// Boot the smoke campaign under icount with extra boot options, resuming
/// kernel crashes with a short hang limit; the report and the records.
fn boot_resuming(
    name: &str,
    kernel: &Path,
    suite: &Path,
    extra: &str,
) -> (Ending, u32, Vec<Record>) {
    let launch = Launch {
        kernel: kernel.to_path_buf(),
        suite: Some(suite.to_path_buf()),
        profile: "icount".to_string(),
        boot_args: format!("only=campaign. heap_traps=0 {extra}"),
    };
    let capture = scratch(&format!("{name}.jsonl"));
    let report = session::run_resuming(
        &launch,
        &capture,
        Duration::from_secs(600),
        false,
        Duration::from_secs(5),
    )
    .expect("running QEMU");
    let text = std::fs::read_to_string(&capture).unwrap();
    let run = traplab_analyzer::ingest::parse(name, text.as_bytes());
    assert_eq!(run.error_count(), 0, "{:?}", run.diagnostics);
    assert!(
        run.diagnostics.is_empty(),
        "a run with reboots is clean: {:?}",
        run.diagnostics
    );
    let records = text
        .lines()
        .filter_map(|l| {
            l.find("{\"seq\":").map(|at| {
                decode_line(&l[at..])
                    .expect("every line passes its check")
                    .record
            })
        })
        .collect();
    (report.ending, report.reboots, records)
}

#[test]
fn a_kernel_crash_or_hang_mid_campaign_is_an_outcome_and_a_fresh_boot_resumes_at_the_next_index() {
    let kernel = build::kernel(0).expect("building runner-kernel");
    let suite = build::suite_with_campaign(
        SuiteName::Quick,
        &traplab_suite::cpu::QEMU_MAX,
        Path::new(SPEC),
    )
    .expect("building the campaign suite");
    let count = traplab_workloads::campaign::load_spec(&traplab_workloads::campaign::spec_path(
        Path::new(SPEC),
    ))
    .unwrap()
    .spec
    .count;
    // A panic outside containment at 40, a hang with interrupts masked at
    // 90 (no record: the harness stops QEMU after its hang limit).
    let options = "crash_at=40 hang_at=90";
    let (ending, reboots, records) = boot_resuming("resumed-a", &kernel, &suite, options);
    assert_eq!(
        ending,
        Ending::Success,
        "the last boot completes the campaign"
    );
    assert_eq!(reboots, 2);
    let reboot_records: Vec<&traplab_wire::Reboot> = records
        .iter()
        .filter_map(|r| match r {
            Record::Reboot(r) => Some(r),
            _ => None,
        })
        .collect();
    assert_eq!(
        reboot_records
            .iter()
            .map(|r| (r.boot, r.crash.index, r.cause.as_str(), r.resume_at))
            .collect::<Vec<_>>(),
        [(1, 40, "panic", 41), (2, 90, "hang", 91)]
    );
    let panic = reboot_records[0];
    assert!(
        panic
            .site
            .as_deref()
            .is_some_and(|s| s.contains("campaign::run")),
        "the panic's origin is symbolized: {panic:?}"
    );
    assert_ne!(
        panic.crash.site, "unknown",
        "the site armed before the crash: {panic:?}"
    );
    assert!(panic.lost_ms.is_some(), "what the reboot cost: {panic:?}");
    // Every index exactly once, the crashes among them, in order.
    let all = injections(&records)
        .into_iter()
        .chain(reboot_records.iter().map(|r| r.crash.clone()))
        .collect::<Vec<_>>();
    let mut indices: Vec<u32> = all.iter().map(|i| i.index).collect();
    indices.sort_unstable();
    assert_eq!(indices, (0..count).collect::<Vec<_>>());
    let crashed: Vec<u32> = all
        .iter()
        .filter(|i| i.outcome == Outcome::KernelCrash)
        .map(|i| i.index)
        .collect();
    assert_eq!(crashed, [40, 90]);
    // Three boots, one header each; the last boot's result closes the
    // campaign.
    let headers = records
        .iter()
        .filter(|r| matches!(r, Record::Header(_)))
        .count();
    assert_eq!(headers, 3);
    let Some(Record::End(end)) = records.last() else {
        panic!("no end record")
    };
    assert_eq!(end.status, EndStatus::Complete);

    // Deterministic mode: the same records per index, crashes included.
    let (ending, reboots, again) = boot_resuming("resumed-b", &kernel, &suite, options);
    assert_eq!((ending, reboots), (Ending::Success, 2));
    let by_index = |records: &[Record]| {
        let mut v: Vec<Injection> = injections(records);
        v.extend(records.iter().filter_map(|r| match r {
            Record::Reboot(r) => Some(r.crash.clone()),
            _ => None,
        }));
        v.sort_by_key(|i| i.index);
        v
    };
    let (first, second) = (by_index(&records), by_index(&again));
    assert_eq!(first.len(), second.len());
    for (a, b) in first.iter().zip(&second) {
        assert_eq!(a, b, "icount runs agree record for record");
    }
}

/// Trial isolation (`isolation = "pks"`, `injectors/campaigns/smoke-pks.toml`):
/// a store from inside the observed call into a kernel-heap block — what a
/// store through a flipped register does — is a contained page fault,
/// the block stays intact and the kernel runs on; without isolation the
/// same store lands. Traps and contained faults keep their outcomes, and
/// noops stay masked, under isolation.
#[test]
fn under_pks_isolation_a_wild_write_into_the_kernel_heap_is_a_contained_fault() {
    let kernel = build::kernel(0).expect("building runner-kernel");
    let wild = |spec: &str| {
        let suite = build::suite_with_campaign(
            SuiteName::Quick,
            &traplab_suite::cpu::QEMU_MAX,
            Path::new(spec),
        )
        .expect("building the campaign suite");
        let (ending, reboots, records) = boot_resuming(
            &format!("wild-{spec}"),
            &kernel,
            &suite,
            "wild_write_at=5 injections=0..24",
        );
        assert_eq!(
            (ending, reboots),
            (Ending::Success, 0),
            "{spec}: no kernel crash"
        );
        injections(&records)
    };
    let isolated = wild("smoke-pks");
    assert_eq!(isolated.len(), 24);
    let hit = &isolated[5];
    let detail = hit.detail.as_deref().unwrap_or("");
    assert_eq!(hit.outcome, Outcome::Contained, "{hit:?}");
    assert_eq!(hit.vector, Some(14), "a page fault: {hit:?}");
    assert!(
        detail.contains("write blocked by trial isolation")
            && detail.contains("the kernel-heap block is intact"),
        "{hit:?}"
    );
    for i in &isolated {
        match i.injector.as_str() {
            "noop" => assert_eq!(i.outcome, Outcome::Masked, "{i:?}"),
            "divisor_zero" => assert_eq!(i.outcome, Outcome::Trapped, "{i:?}"),
            _ => {}
        }
        if i.index != 5 {
            assert!(
                !i.detail
                    .as_deref()
                    .unwrap_or("")
                    .contains("trial isolation"),
                "only the forced store hits isolated memory: {i:?}"
            );
        }
    }
    let plain = wild(SPEC);
    assert!(
        plain[5]
            .detail
            .as_deref()
            .is_some_and(|d| d.contains("the kernel-heap block was overwritten")),
        "without isolation the store lands: {:?}",
        plain[5]
    );
}
