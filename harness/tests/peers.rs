//! The Linux peers: the quick suite run by the real `traplab-peer` as
//! `/init` of a Linux guest booted in QEMU (TCG), and directly on this
//! machine, launched exactly as `traplab-run --platform …` launches them.
//!
//! They need the guest kernel (`scripts/test.sh` fetches it with
//! `traplab_ensure_linux_guest`; `$TRAPLAB_LINUX_KERNEL` or the cache) and
//! the peer (built here, package `traplab-peer-linux`). Either missing is
//! a failure naming the reason, never a skip.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use traplab_harness::linux::{self, GuestLaunch, HostLaunch};
use traplab_harness::{Ending, RunReport, Target, build, run_target};
use traplab_wire::{EndStatus, Header, Record, Status, decode_line, signal};
use traplab_workloads::{Expectation, SuiteName, WORKLOADS};

const OPTIONS: &str = "samples=20 warmup=5 compute_samples=2 heap_traps=0";

struct Artifacts {
    peer: PathBuf,
    suite: PathBuf,
}

fn artifacts() -> &'static Artifacts {
    static BUILT: OnceLock<Artifacts> = OnceLock::new();
    BUILT.get_or_init(|| Artifacts {
        peer: build::peer().unwrap_or_else(|e| panic!("building the Linux peer: {e:#}")),
        suite: build::suite(SuiteName::Quick).expect("building the suite image"),
    })
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("traplab-peer-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// Run `target` and return the host's report, every record and the lines
/// of the capture that are not records.
fn run(name: &str, target: &Target) -> (RunReport, Vec<Record>, Vec<String>) {
    let capture = scratch(&format!("{name}.jsonl"));
    let report = run_target(target, &capture, Duration::from_secs(600), false)
        .unwrap_or_else(|e| panic!("running {name}: {e:#}"));
    let bytes = std::fs::read(&capture).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    let records = text
        .lines()
        .filter_map(|l| {
            l.find("{\"seq\":")
                .map(|at| decode_line(&l[at..]).expect("every record line passes its check"))
        })
        .map(|f| f.record)
        .collect();
    let other = text
        .lines()
        .filter(|l| !l.starts_with("{\"seq\":"))
        .map(String::from)
        .collect();
    (report, records, other)
}

fn header(records: &[Record]) -> &Header {
    match records.first() {
        Some(Record::Header(h)) => h,
        other => panic!("the stream starts with {other:?}, not a header"),
    }
}

fn results(records: &[Record]) -> BTreeMap<(String, String), traplab_wire::ExperimentResult> {
    records
        .iter()
        .filter_map(|r| match r {
            Record::Result(r) => Some(((r.experiment.clone(), r.config.clone()), r.clone())),
            _ => None,
        })
        .collect()
}

/// Every trap workload of the suite under `signals.bt_off` trapped with
/// its catalogue trap code, by the signal Linux delivers for its vector;
/// every compute workload returned its golden result.
fn check_traps_and_compute(records: &[Record]) {
    let results = results(records);
    let planned: Vec<_> = header(records)
        .plan
        .iter()
        .map(|p| (p.experiment.clone(), p.config.clone()))
        .collect();
    let mut traps = 0;
    for spec in WORKLOADS {
        let Expectation::Traps { trap, vector } = spec.expect else {
            continue;
        };
        let key = (spec.name.to_string(), "signals.bt_off".to_string());
        if !planned.contains(&key) {
            continue;
        }
        let r = results
            .get(&key)
            .unwrap_or_else(|| panic!("{} signals.bt_off planned but never reported", spec.name));
        assert_eq!(r.status, Status::Ok, "{r:#?}");
        let observed = r
            .observed
            .as_ref()
            .unwrap_or_else(|| panic!("{}: no observed trap", spec.name));
        assert_eq!(
            observed.trap.as_deref(),
            Some(format!("{trap:?}").as_str()),
            "{}: trap code",
            spec.name
        );
        let want = signal::for_vector(vector)
            .unwrap_or_else(|| panic!("{}: vector {vector} has no signal", spec.name));
        assert_eq!(
            observed.signal,
            Some(want),
            "{}: vector {vector} should arrive as {}",
            spec.name,
            signal::name(want)
        );
        assert_eq!(r.samples, 20, "{}", spec.name);
        traps += 1;
    }
    assert!(traps >= 8, "only {traps} trap workloads ran: {planned:?}");

    let compute: Vec<_> = results
        .values()
        .filter(|r| r.experiment.starts_with("compute."))
        .collect();
    assert!(
        compute.iter().any(|r| r.config == "signals.bt_off"),
        "no compute workload ran: {planned:?}"
    );
    for r in &compute {
        assert_eq!(r.status, Status::Ok, "golden result: {r:#?}");
    }
    let Some(Record::End(end)) = records.last() else {
        panic!("no end record")
    };
    assert_eq!(end.status, EndStatus::Complete, "{end:?}");
}

#[test]
fn the_peer_in_a_linux_guest_traps_by_signal_with_every_expected_code() {
    // The kernel first: a missing one is a setup problem to report before
    // minutes of building.
    let kernel = linux::guest_kernel().unwrap_or_else(|e| panic!("no Linux guest kernel: {e:#}"));
    let a = artifacts();
    let initramfs = linux::initramfs(&a.peer, &a.suite).expect("writing the initramfs");
    let target = Target::LinuxGuest(GuestLaunch {
        kernel: kernel.vmlinuz.clone(),
        initramfs,
        profile: "tcg".into(),
        boot_args: OPTIONS.into(),
    });
    let (report, records, other) = run("guest", &target);
    eprintln!(
        "Linux guest {}: {} records in {:.1}s",
        kernel.describe(),
        report.records,
        report.elapsed.as_secs_f64()
    );
    let h = header(&records);
    assert_eq!(h.platform, "linux-guest");
    assert_eq!(h.config.mode, "tcg");
    assert_eq!(h.config.samples, 20);
    assert!(
        h.config
            .qemu_args
            .as_deref()
            .is_some_and(|q| q.contains("-accel tcg")),
        "{:?}",
        h.config.qemu_args
    );
    if kernel.release != "unknown" {
        let os = h.os.as_deref().unwrap_or("");
        assert!(os.contains(&kernel.release), "header os {os:?}");
    }
    check_traps_and_compute(&records);
    assert_eq!(report.ending, Ending::Success, "{report:?}");
    assert_eq!(report.damaged_lines, 0);
    // Nothing but records: no kernel messages (a trap's `segfault at`
    // line, for one) in the stream, where they could split a record.
    assert!(other.is_empty(), "lines that are not records: {other:#?}");
}

#[test]
fn the_peer_on_the_host_runs_the_quick_suite_to_completion() {
    let a = artifacts();
    let target = Target::LinuxHost(HostLaunch {
        peer: a.peer.clone(),
        suite: a.suite.clone(),
        boot_args: OPTIONS.into(),
    });
    let (report, records, other) = run("host", &target);
    let h = header(&records);
    assert_eq!(h.platform, "linux-host");
    assert_eq!(h.config.mode, linux::HOST_MODE);
    check_traps_and_compute(&records);
    assert_eq!(report.ending, Ending::Success, "{report:?}");
    assert_eq!(report.damaged_lines, 0);
    // Nothing but records: no kernel messages (a trap's `segfault at`
    // line, for one) in the stream, where they could split a record.
    assert!(other.is_empty(), "lines that are not records: {other:#?}");
}

#[test]
fn a_panic_in_a_host_call_on_the_host_peer_fails_its_experiment_and_the_run_goes_on() {
    let a = artifacts();
    // Only the panic (the suite's `contain.host_fault` is a fault wasmtime
    // does not claim, which ends a Linux process): under each of the
    // three configurations in turn, so the run goes on after each.
    let target = Target::LinuxHost(HostLaunch {
        peer: a.peer.clone(),
        suite: build::suite(SuiteName::Contain).expect("building the contain suite"),
        boot_args: format!("{OPTIONS} only=contain.host_panic"),
    });
    let (report, records, _) = run("host-contain", &target);
    let r = results(&records);
    for config in ["signals.bt_off", "signals.bt_on", "explicit.bt_off"] {
        let panic = &r[&("contain.host_panic".to_string(), config.to_string())];
        assert_eq!(panic.status, Status::Failed);
        let message = panic.message.as_deref().unwrap_or_default();
        assert!(
            message.contains("contained: panic at") && message.contains("deliberate panic"),
            "{message}"
        );
    }
    let end = records
        .iter()
        .find_map(|r| match r {
            Record::End(e) => Some(e.clone()),
            _ => None,
        })
        .expect("an end record: the peer lived on");
    assert_eq!((end.failed, end.contained_failures), (3, 3), "{end:?}");
    assert_eq!(report.ending, Ending::Failed, "{report:?}");
}
