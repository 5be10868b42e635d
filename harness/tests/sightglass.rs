//! Sightglass benchmarks in the real kernel: the project's own test
//! programs (Rust std, wasm32-wasip1, `workloads/sightglass-tests/`) in
//! sightglass's folder layout, with their input files served from the
//! suite image as the read-only preopened directory and their output
//! checked against the expected files. One boot runs them all:
//!
//! - `read-input` reads files (a subfolder, `..`, seek, metadata, a
//!   listing) and prints the errno of every refused write and escape; it
//!   must pass its `benchmark.*.expected` files;
//! - `big-input` reads a 4 MiB input and prints its FNV-1a hash; it must
//!   pass `default.stdout.expected` (computed on the host);
//! - `wrong-expected` is `read-input` with one expected line altered: it
//!   must fail, with a diff naming that line, and produce no samples.
//!
//! Needs `qemu-system-x86_64` and the `wasm32-wasip1` Rust target.

use std::path::PathBuf;
use std::time::Duration;

use traplab_harness::qemu::Launch;
use traplab_harness::{Ending, build, session};
use traplab_wire::{Record, Status, decode_line};
use traplab_workloads::SuiteName;
use traplab_workloads::sightglass_tests::{self, BIG_INPUT_BYTES, WRONG_LINE};

fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("traplab-sightglass-boot-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn sightglass_layout_benchmarks_read_their_files_and_a_wrong_expected_output_fails() {
    let dir = scratch();
    let layout = sightglass_tests::layout(&dir).expect("building the sightglass test programs");
    let image = traplab_workloads::build_suite_with(
        SuiteName::Quick,
        &traplab_suite::cpu::QEMU_MAX,
        &[layout.good.clone(), layout.wrong.clone()],
    )
    .expect("building the suite with the sightglass benchmarks");
    let suite = dir.join("suite.img");
    std::fs::write(&suite, &image).unwrap();
    let launch = Launch {
        kernel: build::kernel(0).expect("building runner-kernel"),
        suite: Some(suite),
        profile: "tcg".to_string(),
        boot_args: "only=sightglass. samples=3 warmup=1 compute_samples=3 heap_traps=0".to_string(),
    };
    let capture = dir.join("run.jsonl");
    let report =
        session::run(&launch, &capture, Duration::from_secs(600), false).expect("running QEMU");
    let text = std::fs::read_to_string(&capture).unwrap();
    let records: Vec<Record> = text
        .lines()
        .filter_map(|l| {
            l.find("{\"seq\":")
                .map(|at| decode_line(&l[at..]).unwrap().record)
        })
        .collect();
    let result = |experiment: &str, config: &str| {
        records
            .iter()
            .find_map(|r| match r {
                Record::Result(r) if r.experiment == experiment && r.config == config => {
                    Some(r.clone())
                }
                _ => None,
            })
            .unwrap_or_else(|| panic!("no result for {experiment} {config}"))
    };
    let samples = |experiment: &str, config: &str| -> usize {
        records
            .iter()
            .filter_map(|r| match r {
                Record::Samples(s) if s.experiment == experiment && s.config == config => {
                    Some(s.total.len())
                }
                _ => None,
            })
            .sum()
    };
    for config in ["signals.bt_off", "explicit.bt_off"] {
        for name in [
            "sightglass.read-input",
            "sightglass.big-input",
            "sightglass.fib-wasi",
        ] {
            let r = result(name, config);
            assert_eq!(r.status, Status::Ok, "{name} {config}: {r:?}");
            assert_eq!(r.samples, 3, "{name} {config}");
            assert_eq!(samples(name, config), 3, "{name} {config}");
            // The instantiation phase, per sample.
            let phase = format!("{name}.instantiation");
            assert_eq!(result(&phase, config).status, Status::Ok);
            assert_eq!(samples(&phase, config), 3, "{phase} {config}");
        }
        let wrong = result("sightglass.wrong-expected", config);
        assert_eq!(wrong.status, Status::Failed, "{wrong:?}");
        let message = wrong.message.unwrap_or_default();
        let (line, replacement) = WRONG_LINE;
        assert_eq!(
            message,
            format!(
                "iteration 0: stdout differs from benchmark.stdout.expected: line {line}: expected \"{replacement}\", got \"sum: 5050\""
            )
        );
        assert_eq!(samples("sightglass.wrong-expected", config), 0);
    }
    // big-input's expected output names its size: every byte arrived.
    assert!(
        text.contains(&format!("bytes: {BIG_INPUT_BYTES}")),
        "big-input's stdout is logged"
    );
    assert_eq!(report.ending, Ending::Failed, "{report:?}");
}
