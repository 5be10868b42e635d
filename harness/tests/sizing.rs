//! Sizing a run in the real kernel: `samples=` bounds compute workloads
//! too (one warm-up and one sample with `samples=1`), a time budget stops
//! an experiment early but never before one timed sample and says so in a
//! log record, and every experiment announces itself with a `progress`
//! record before its result, which the host's live line shows.

use std::time::Duration;

use traplab_harness::qemu::Launch;
use traplab_harness::{Ending, build, session};
use traplab_wire::{Record, Status, decode_line};
use traplab_workloads::SuiteName;

fn boot(name: &str, boot_args: &str) -> (Ending, Vec<Record>) {
    let launch = Launch {
        kernel: build::kernel(0).expect("building runner-kernel"),
        suite: Some(build::suite(SuiteName::Quick).expect("building the suite image")),
        profile: "tcg".into(),
        boot_args: boot_args.into(),
    };
    let dir = std::env::temp_dir().join(format!("traplab-sizing-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let capture = dir.join(format!("{name}.jsonl"));
    let report =
        session::run(&launch, &capture, Duration::from_secs(300), false).expect("running QEMU");
    let text = std::fs::read_to_string(&capture).unwrap();
    let records = text
        .lines()
        .filter_map(|l| {
            l.find("{\"seq\":")
                .map(|at| decode_line(&l[at..]).unwrap().record)
        })
        .collect();
    (report.ending, records)
}

#[test]
fn samples_bound_compute_workloads_and_progress_comes_before_each_result() {
    let (ending, records) = boot(
        "samples-1",
        "samples=1 warmup=50 heap_traps=0 only=compute.",
    );
    assert_eq!(ending, Ending::Success, "{records:#?}");
    let mut announced = std::collections::BTreeSet::new();
    let mut results = 0;
    for r in &records {
        match r {
            Record::Progress(p) => {
                // One warm-up and one sample: the warm-up is never longer
                // than the timed samples.
                assert_eq!(p.planned, 2, "{p:?}");
                announced.insert((p.experiment.clone(), p.config.clone()));
            }
            Record::Result(r) if r.experiment.starts_with("compute.") => {
                assert_eq!((r.status, r.samples), (Status::Ok, 1), "{r:?}");
                assert!(
                    announced.contains(&(r.experiment.clone(), r.config.clone())),
                    "{} {} reported without a progress record first",
                    r.experiment,
                    r.config
                );
                results += 1;
            }
            _ => {}
        }
    }
    // Nine kernels under signals.bt_off, explicit.bt_off and native.
    assert_eq!(results, 27);
}

#[test]
fn a_spent_budget_keeps_one_sample_and_says_so() {
    let (ending, records) = boot(
        "budget",
        "samples=20 heap_traps=0 budget_ms=1 only=compute.sha256 configs=signals.bt_off",
    );
    assert_eq!(ending, Ending::Success, "{records:#?}");
    let wasm = records
        .iter()
        .find_map(|r| match r {
            Record::Result(r)
                if r.experiment == "compute.sha256" && r.config == "signals.bt_off" =>
            {
                Some(r.clone())
            }
            _ => None,
        })
        .expect("a result for compute.sha256");
    assert_eq!((wasm.status, wasm.samples), (Status::Ok, 1));
    assert!(
        records.iter().any(|r| matches!(r, Record::Log(l)
            if l.message.contains("compute.sha256 signals.bt_off: time budget of 1 ms spent after 1 of 20 timed samples"))),
        "no log line about the budget"
    );
}
