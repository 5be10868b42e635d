//! In-kernel Cranelift: generated CLIF compiles in ring 0, runs with the
//! right result, and faults in JIT code come back through the exception
//! path with the expected vector (the kernel checks each result; this test
//! checks the kernel reported every experiment and its metrics).

use std::time::Duration;

use traplab_harness::qemu::Launch;
use traplab_harness::{Ending, build, session};
use traplab_wire::{Record, Status, decode_line};
use traplab_workloads::SuiteName;

#[test]
fn jit_compiles_runs_and_traps_through_the_exception_path() {
    let launch = Launch {
        kernel: build::kernel(0).expect("building runner-kernel"),
        suite: Some(build::suite(SuiteName::Quick).expect("building the suite")),
        profile: "tcg".into(),
        boot_args: "samples=10 warmup=2 heap_traps=0 only=jit.".into(),
    };
    let capture = std::env::temp_dir().join(format!("traplab-jit-{}.jsonl", std::process::id()));
    let report = session::run(&launch, &capture, Duration::from_secs(300), false).unwrap();
    let text = std::fs::read_to_string(&capture).unwrap();
    let records: Vec<Record> = text
        .lines()
        .map(|l| decode_line(l).unwrap().record)
        .collect();
    let results: Vec<_> = records
        .iter()
        .filter_map(|r| {
            if let Record::Result(r) = r {
                Some(r)
            } else {
                None
            }
        })
        .collect();
    for name in [
        "jit.compile.n10",
        "jit.exec.n10",
        "jit.exec.n10000",
        "jit.trap.pf",
        "jit.trap.ud",
        "jit.trap.de",
    ] {
        let r = results
            .iter()
            .find(|r| r.experiment == name)
            .unwrap_or_else(|| panic!("{name} missing"));
        assert_eq!(r.status, Status::Ok, "{r:?}");
    }
    let vector = |name: &str| {
        results
            .iter()
            .find(|r| r.experiment == name)
            .and_then(|r| r.observed.as_ref()?.vector)
    };
    assert_eq!(vector("jit.trap.pf"), Some(0x0E));
    assert_eq!(vector("jit.trap.ud"), Some(0x06));
    assert_eq!(vector("jit.trap.de"), Some(0x00));
    let code_bytes: Vec<u64> = records
        .iter()
        .filter_map(|r| {
            if let Record::Metric(m) = r {
                (m.name == "code_bytes").then_some(m.value)
            } else {
                None
            }
        })
        .collect();
    assert_eq!(
        code_bytes.len(),
        4,
        "one code size per generated function size"
    );
    assert!(
        code_bytes.windows(2).all(|w| w[0] < w[1]),
        "bigger CLIF gives more code: {code_bytes:?}"
    );
    assert_eq!(report.ending, Ending::Success);
}
