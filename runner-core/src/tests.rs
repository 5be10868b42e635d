//! Host tests of the core: the catalogue (plan, expectations), the timing
//! loop and its checks, and the record stream, run on real wasmtime with
//! real modules compiled for this host, through a recording platform.

extern crate std;

use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use core::cell::{Cell, RefCell};

use traplab_suite::image::{Artifact, Manifest, Workload, pack};
use traplab_suite::{CodeTarget, EngineVariant, Suite, TrapMode, WorkloadKind, engine_config};
use traplab_wire::{EndStatus, Record, Stamp, Status, decode_line, signal};

use crate::emit::Series;
use crate::stream::Stream;
use crate::{FaultSeen, Options, Platform};

/// A platform that sees no exception (its counter only moves when a test
/// says so), reads the TSC, and keeps every record.
struct Recorder {
    records: RefCell<Vec<Record>>,
    faults: Cell<u64>,
    contained: Cell<u32>,
    linux: bool,
}

impl Recorder {
    fn new(linux: bool) -> Recorder {
        Recorder {
            records: RefCell::new(Vec::new()),
            faults: Cell::new(0),
            contained: Cell::new(0),
            linux,
        }
    }

    fn results(&self) -> Vec<traplab_wire::ExperimentResult> {
        self.records
            .borrow()
            .iter()
            .filter_map(|r| match r {
                Record::Result(r) => Some(r.clone()),
                _ => None,
            })
            .collect()
    }
}

impl Platform for Recorder {
    const TRAP_STAMPS: &'static [Stamp] = &[Stamp::Handler];
    const TARGET: CodeTarget = CodeTarget::Linux;

    fn kind(&self) -> traplab_wire::Platform {
        traplab_wire::Platform::LinuxHost
    }
    fn stamp() -> u64 {
        // SAFETY: rdtsc has no preconditions on x86-64.
        unsafe { core::arch::x86_64::_rdtsc() }
    }
    fn tsc_hz(&self) -> u64 {
        1_000_000_000
    }
    fn mask_interrupts(&self) -> bool {
        false
    }
    fn restore_interrupts(&self, _: bool) {}
    fn faults(&self) -> (u64, FaultSeen) {
        (self.faults.get(), FaultSeen::default())
    }
    fn trap_stamp(&self, _: Stamp) -> u64 {
        0
    }
    fn expected_fault(&self, vector: u8) -> FaultSeen {
        if self.linux {
            FaultSeen {
                signal: signal::for_vector(vector),
                ..FaultSeen::default()
            }
        } else {
            FaultSeen {
                vector: Some(vector),
                ..FaultSeen::default()
            }
        }
    }
    fn engine(&self, variant: EngineVariant) -> wasmtime::Result<wasmtime::Engine> {
        wasmtime::Engine::new(&engine_config(variant))
    }
    fn set_during(&self, _: traplab_wire::During) {}
    fn emit(&self, record: Record) {
        self.records.borrow_mut().push(record);
    }
    fn memory_in_use(&self) -> Option<(u64, u64)> {
        None
    }
    fn soft_float(&self) -> bool {
        false
    }
    /// As the Linux peer: a panic unwinds to `catch_unwind`.
    fn contain<R>(&self, f: impl FnOnce() -> R) -> Result<R, crate::Abandoned> {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|payload| {
            self.contained.set(self.contained.get() + 1);
            crate::Abandoned {
                reason: payload
                    .downcast_ref::<&str>()
                    .map_or_else(|| "a panic".to_string(), |s| s.to_string()),
                backtrace: vec!["frame_a+0x1".to_string(), "frame_b+0x2".to_string()],
            }
        })
    }
}

const CALL_NULL: &str =
    r#"(module (func (export "run") (param i32 i32) (result i32) i32.const 7))"#;
const UNREACHABLE: &str =
    r#"(module (func (export "run") (param i32 i32) (result i32) unreachable))"#;

fn workload(name: &str, kind: WorkloadKind, expect_result: Option<i32>) -> Workload {
    let trap = kind == WorkloadKind::Trap;
    Workload {
        name: name.to_string(),
        kind,
        export: "run".to_string(),
        args: [0, 0],
        expect_result,
        expect_trap: trap.then(|| "UnreachableCodeReached".to_string()),
        expect_vector: trap.then_some(0x06),
        artifacts: TrapMode::ALL
            .iter()
            .map(|&trap_mode| Artifact {
                trap_mode,
                target: CodeTarget::Linux,
                offset: 0,
                len: 0,
                sha256: String::new(),
                host: None,
            })
            .collect(),
        sightglass: None,
    }
}

/// A suite image of `(workload, WAT)` compiled for this host in both trap
/// modes.
fn image(entries: &[(Workload, &str)]) -> Vec<u8> {
    let mut blobs = Vec::new();
    for (_, wat) in entries {
        let wasm = wat::parse_str(wat).unwrap();
        blobs.push(
            TrapMode::ALL
                .iter()
                .map(|&trap_mode| {
                    let engine = wasmtime::Engine::new(&engine_config(EngineVariant {
                        trap_mode,
                        backtrace: false,
                    }))
                    .unwrap();
                    engine.precompile_module(&wasm).unwrap()
                })
                .collect(),
        );
    }
    let manifest = Manifest {
        suite: "test".to_string(),
        wasmtime: "48.0.8".to_string(),
        workloads: entries.iter().map(|(w, _)| w.clone()).collect(),
        scripts: Vec::new(),
        campaign: None,
        cpu: None,
    };
    pack(manifest, &blobs)
}

fn opts(words: &str) -> Options {
    let (opts, problems) = crate::options::parse(words);
    assert!(problems.is_empty(), "{problems:?}");
    opts
}

const EXPLICIT: EngineVariant = EngineVariant::ALL[2];

#[test]
fn plan_lists_selected_workloads_per_variant_and_skips_bt_on_for_compute() {
    let manifest = Manifest {
        suite: "t".to_string(),
        wasmtime: "48.0.8".to_string(),
        workloads: vec![
            workload("call.null", WorkloadKind::Call, Some(7)),
            workload("trap.unreachable", WorkloadKind::Trap, None),
            workload("compute.fib", WorkloadKind::Compute, Some(1)),
        ],
        scripts: Vec::new(),
        campaign: None,
        cpu: None,
    };
    let plan = crate::plan::suite(&opts("samples=9"), &manifest);
    let names: Vec<String> = plan
        .iter()
        .map(|p| std::format!("{} {}", p.experiment, p.config))
        .collect();
    assert_eq!(
        names,
        [
            "call.null signals.bt_off",
            "trap.unreachable signals.bt_off",
            "compute.fib signals.bt_off",
            "call.null signals.bt_on",
            "trap.unreachable signals.bt_on",
            "call.null explicit.bt_off",
            "trap.unreachable explicit.bt_off",
            "compute.fib explicit.bt_off",
            "compute.fib native",
        ]
    );
    assert!(plan.iter().all(|p| p.samples == 9));
    let only = crate::plan::suite(&opts("only=trap. configs=explicit.bt_off"), &manifest);
    assert_eq!(only.len(), 1);
    assert_eq!(only[0].experiment, "trap.unreachable");
}

#[test]
fn expectations_name_the_vector_in_ring0_and_the_signal_on_linux() {
    let w = workload("trap.unreachable", WorkloadKind::Trap, None);
    let signals = EngineVariant::ALL[0];
    let linux = crate::wasm::expectation(&Recorder::new(true), &w, signals).unwrap();
    assert_eq!(linux.signal, Some(signal::SIGILL));
    assert_eq!(linux.vector, None);
    let ring0 = crate::wasm::expectation(&Recorder::new(false), &w, signals).unwrap();
    assert_eq!(ring0.vector, Some(0x06));
    assert_eq!(ring0.signal, None);
    // Explicit checks raise no exception on any platform.
    let explicit = crate::wasm::expectation(&Recorder::new(true), &w, EXPLICIT).unwrap();
    assert_eq!((explicit.vector, explicit.signal), (None, None));
    assert_eq!(explicit.trap.as_deref(), Some("UnreachableCodeReached"));
    // A call expects no trap at all.
    let call = workload("call.null", WorkloadKind::Call, Some(7));
    assert!(crate::wasm::expectation(&Recorder::new(true), &call, signals).is_none());
}

#[test]
fn timing_loop_checks_every_call_and_keeps_every_sample() {
    let image = image(&[
        (
            workload("call.null", WorkloadKind::Call, Some(7)),
            CALL_NULL,
        ),
        (
            workload("trap.unreachable", WorkloadKind::Trap, None),
            UNREACHABLE,
        ),
    ]);
    let suite = Suite::parse(&image).unwrap();
    let p = Recorder::new(true);
    let options = opts("samples=40 warmup=5 configs=explicit.bt_off");
    assert!(crate::wasm::run_suite(&p, &suite, &options));
    let results = p.results();
    assert_eq!(results.len(), 2, "{results:?}");
    for r in &results {
        assert_eq!(r.status, Status::Ok, "{r:?}");
        assert_eq!(r.samples, 40);
    }
    let trap = &results[1];
    assert_eq!(
        trap.observed.as_ref().unwrap().trap.as_deref(),
        Some("UnreachableCodeReached")
    );
    let samples: usize = p
        .records
        .borrow()
        .iter()
        .filter_map(|r| match r {
            Record::Samples(s) => Some(s.total.len()),
            _ => None,
        })
        .sum();
    assert_eq!(samples, 80);
}

#[test]
fn a_wrong_result_and_an_unseen_exception_fail_with_the_reason() {
    // The module returns 7; the manifest says 8.
    let wrong = workload("call.null", WorkloadKind::Call, Some(8));
    let image = image(&[(wrong, CALL_NULL)]);
    let suite = Suite::parse(&image).unwrap();
    let p = Recorder::new(true);
    crate::wasm::run_suite(&p, &suite, &opts("samples=10 configs=explicit.bt_off"));
    let r = &p.results()[0];
    assert_eq!(r.status, Status::Failed);
    assert!(
        r.message.as_deref().unwrap().contains("returned Ok(7)"),
        "{r:?}"
    );

    // Under signals the trap goes through a SIGILL this platform never
    // counts: the check must fail rather than time a trap it did not see.
    let image = self::image(&[(
        workload("trap.unreachable", WorkloadKind::Trap, None),
        UNREACHABLE,
    )]);
    let suite = Suite::parse(&image).unwrap();
    let p = Recorder::new(true);
    crate::wasm::run_suite(&p, &suite, &opts("samples=10 configs=signals.bt_off"));
    let r = &p.results()[0];
    assert_eq!(r.status, Status::Failed, "{r:?}");
    assert!(
        r.message
            .as_deref()
            .unwrap()
            .contains("0 exception(s) during the call; expected 1"),
        "{r:?}"
    );
}

const HOST_PANIC: &str = r#"(module
  (import "traplab" "panic" (func $panic))
  (func (export "run") (param i32 i32) (result i32) call $panic i32.const 0))"#;

#[test]
fn a_panicking_host_call_fails_its_experiment_and_the_next_one_runs() {
    let image = image(&[
        (
            workload("contain.host_panic", WorkloadKind::Call, Some(0)),
            HOST_PANIC,
        ),
        (
            workload("call.null", WorkloadKind::Call, Some(7)),
            CALL_NULL,
        ),
    ]);
    let suite = Suite::parse(&image).unwrap();
    let p = Recorder::new(true);
    crate::wasm::run_suite(&p, &suite, &opts("samples=5 configs=explicit.bt_off"));
    let results = p.results();
    assert_eq!(results.len(), 2, "{results:?}");
    let failed = &results[0];
    assert_eq!(
        (failed.experiment.as_str(), failed.status),
        ("contain.host_panic", Status::Failed)
    );
    assert_eq!(
        failed.message.as_deref(),
        Some(
            "contained: deliberate panic in the host call traplab.panic; \
             backtrace: frame_a+0x1 < frame_b+0x2"
        )
    );
    assert_eq!(
        (results[1].experiment.as_str(), results[1].status),
        ("call.null", Status::Ok)
    );
    assert_eq!(p.contained.get(), 1);
}

#[test]
fn an_import_other_than_the_test_hooks_is_refused_at_load() {
    let image = image(&[(
        workload("call.null", WorkloadKind::Call, Some(0)),
        r#"(module (import "env" "f" (func)) (func (export "run") (param i32 i32) (result i32) i32.const 0))"#,
    )]);
    let suite = Suite::parse(&image).unwrap();
    let p = Recorder::new(true);
    crate::wasm::run_suite(&p, &suite, &opts("samples=5 configs=explicit.bt_off"));
    let r = &p.results()[0];
    assert_eq!(r.status, Status::Failed);
    assert!(
        r.message
            .as_deref()
            .unwrap()
            .contains("import env.f is not provided"),
        "{r:?}"
    );
    assert_eq!(p.contained.get(), 0);
}

#[test]
fn staged_series_name_the_intervals_between_the_platforms_stamps() {
    let s = Series::staged(4, &crate::wasm::stamp_order::<Recorder>());
    let stages = s.stages.as_ref().unwrap();
    let names: Vec<String> = stages.iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["call_to_handler", "handler_to_return"]);
    assert_eq!(stages.count(), 2);
    let lab = [
        Stamp::Call,
        Stamp::Stub,
        Stamp::Handler,
        Stamp::Wasmtime,
        Stamp::Return,
    ];
    let mut s = Series::staged(4, &lab);
    let stages = s.stages.as_mut().unwrap();
    stages.push(&[10, 15, 30, 31, 100]);
    let split: Vec<(String, u64)> = stages.iter().map(|(n, v)| (n, v[0])).collect();
    let names: Vec<&str> = split.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, traplab_wire::TRAP_STAGES);
    let values: Vec<u64> = split.iter().map(|(_, v)| *v).collect();
    assert_eq!(values, [5, 15, 1, 69]);
}

#[test]
fn stream_numbers_records_counts_results_and_ends_once() {
    let stream = Stream::new();
    let p = Recorder::new(true);
    crate::emit::result(&p, "a", "c", 3, None, None, None);
    crate::emit::result(&p, "b", "c", 0, None, None, Some("why".to_string()));
    let lines: Vec<String> = p.records.borrow().iter().map(|r| stream.frame(r)).collect();
    assert_eq!(decode_line(&lines[1]).unwrap().seq, 1);
    assert_eq!(stream.failed(), 1);
    stream.count_contained();
    let end = stream.end(EndStatus::Failed).unwrap();
    assert!(matches!(end, Record::End(e)
        if e.records == 2 && e.ok == 1 && e.failed == 1 && e.contained_failures == 1));
    assert!(stream.end(EndStatus::Complete).is_none());
}

#[test]
fn zero_counts_and_a_selection_of_nothing_are_setup_problems() {
    let (parsed, problems) = crate::options::parse("samples=0 compute_samples=0 warmup=0");
    assert_eq!(
        problems,
        [
            "samples=0: must be at least 1",
            "compute_samples=0: must be at least 1"
        ]
    );
    // The defaults stay, and the run is marked failed by the caller.
    assert_eq!(parsed.samples, Options::default().samples);
    assert_eq!(parsed.warmup, 0);

    let manifest = Manifest {
        suite: "t".to_string(),
        wasmtime: "48.0.8".to_string(),
        workloads: vec![
            workload("call.null", WorkloadKind::Call, Some(7)),
            workload("trap.unreachable", WorkloadKind::Trap, None),
        ],
        scripts: Vec::new(),
        campaign: None,
        cpu: None,
    };
    let typo = opts("only=trap.unreachabel");
    let everything = crate::plan::suite(&Options::default(), &manifest);
    let why = crate::options::unmatched_selection(
        &typo,
        &crate::plan::suite(&typo, &manifest),
        &everything,
    )
    .unwrap();
    assert_eq!(
        why,
        "only=trap.unreachabel selects no experiment; this run has: call.null, trap.unreachable"
    );
    let good = opts("only=trap.");
    assert!(
        crate::options::unmatched_selection(
            &good,
            &crate::plan::suite(&good, &manifest),
            &everything
        )
        .is_none()
    );
}

/// A sightglass module that reads `in.txt` from the preopened directory,
/// writes it to stdout between `bench.start` and `bench.end`, and exits
/// with code `$code`.
fn sightglass_wat(code: i32) -> String {
    std::format!(
        r#"(module
  (import "bench" "start" (func $start))
  (import "bench" "end" (func $end))
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "in.txt")
  (func (export "_start")
    (call $start)
    ;; fd 3, "in.txt", read rights only; the new fd at 0
    (if (call $path_open (i32.const 3) (i32.const 0) (i32.const 100) (i32.const 6)
          (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 0))
      (then (call $proc_exit (i32.const 9))))
    ;; iovec at 16: 1000 bytes at 200; count at 8
    (i32.store (i32.const 16) (i32.const 200))
    (i32.store (i32.const 20) (i32.const 1000))
    (drop (call $fd_read (i32.load (i32.const 0)) (i32.const 16) (i32.const 1) (i32.const 8)))
    (i32.store (i32.const 20) (i32.load (i32.const 8)))
    (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 8)))
    (call $end)
    (call $proc_exit (i32.const {code}))))"#
    )
}

/// Run one sightglass workload whose input is `input` and whose expected
/// stdout is `expected`; its results (execution, then instantiation when
/// it passed) and the sample records' experiment names.
fn run_sightglass(
    code: i32,
    input: &[u8],
    expected: Option<&[u8]>,
) -> (Vec<traplab_wire::ExperimentResult>, Vec<String>) {
    use traplab_suite::image::{DataFile, SightglassFiles, pack_with_data};
    let mut w = workload("sightglass.t", WorkloadKind::Sightglass, None);
    w.export = "_start".to_string();
    let wat = sightglass_wat(code);
    let packed = image(&[(w, wat.as_str())]);
    // Re-pack with the data files: the manifest and blobs of `image`.
    let suite = Suite::parse(&packed).unwrap();
    let mut manifest = suite.manifest.clone();
    manifest.workloads[0].sightglass = Some(SightglassFiles {
        preopen: true,
        inputs: vec![DataFile::unplaced("in.txt".to_string())],
        stdout_expected: expected.map(|_| DataFile::unplaced("default.stdout.expected".into())),
        stderr_expected: None,
    });
    let w = &suite.manifest.workloads[0];
    let blobs = vec![
        w.artifacts
            .iter()
            .map(|a| suite.artifact_bytes(w, a).unwrap().to_vec())
            .collect(),
    ];
    let mut data = vec![input.to_vec()];
    data.extend(expected.map(<[u8]>::to_vec));
    let image = pack_with_data(manifest, &blobs, &[], &data);
    let suite = Suite::parse(&image).unwrap();
    let p = Recorder::new(true);
    crate::wasm::run_suite(
        &p,
        &suite,
        &opts("compute_samples=4 warmup=1 configs=explicit.bt_off"),
    );
    let names = p
        .records
        .borrow()
        .iter()
        .filter_map(|r| match r {
            Record::Samples(s) => Some(s.experiment.clone()),
            _ => None,
        })
        .collect();
    (p.results(), names)
}

#[test]
fn a_sightglass_benchmark_reads_its_input_and_passes_its_expected_output() {
    let (results, samples) = run_sightglass(0, b"one\r\ntwo\n", Some(b"one\ntwo"));
    assert_eq!(results.len(), 2, "{results:?}");
    let (execution, instantiation) = (&results[1], &results[0]);
    assert_eq!(execution.experiment, "sightglass.t");
    assert_eq!(execution.status, Status::Ok, "{execution:?}");
    assert_eq!(execution.samples, 4);
    assert_eq!(instantiation.experiment, "sightglass.t.instantiation");
    assert_eq!(instantiation.samples, 4);
    assert_eq!(samples, ["sightglass.t", "sightglass.t.instantiation"]);
}

#[test]
fn wrong_output_or_exit_code_fails_with_the_reason_and_no_samples() {
    let (results, samples) = run_sightglass(0, b"one\ntwo\nthree\n", Some(b"one\n2\nthree\n"));
    assert_eq!(results.len(), 1, "no instantiation result: {results:?}");
    assert_eq!(results[0].status, Status::Failed);
    assert_eq!(
        results[0].message.as_deref(),
        Some(
            "iteration 0: stdout differs from default.stdout.expected: line 2: expected \"2\", got \"two\""
        )
    );
    assert!(samples.is_empty(), "{samples:?}");

    let (results, _) = run_sightglass(0, b"one\n", Some(b"one\ntwo\n"));
    assert_eq!(
        results[0].message.as_deref(),
        Some(
            "iteration 0: stdout differs from default.stdout.expected: output ends after 1 line(s); line 2 expected \"two\""
        )
    );

    let (results, samples) = run_sightglass(3, b"one\n", Some(b"one\n"));
    assert_eq!(results[0].status, Status::Failed);
    let message = results[0].message.as_deref().unwrap();
    assert!(message.contains("(exit code Some(3))"), "{message}");
    assert!(samples.is_empty());

    // Without an expected file the output is not checked.
    let (results, _) = run_sightglass(0, b"anything\n", None);
    assert_eq!(results[1].status, Status::Ok, "{results:?}");
}

#[test]
fn samples_bound_slow_workloads_too_with_a_warmup_no_longer_than_the_samples() {
    use crate::pace::iterations;
    let default = Options::default();
    assert_eq!(iterations(WorkloadKind::Call, &default), (50, 1000));
    assert_eq!(iterations(WorkloadKind::Compute, &default), (3, 30));
    let one = opts("samples=1");
    assert_eq!(iterations(WorkloadKind::Sightglass, &one), (1, 1));
    assert_eq!(
        iterations(WorkloadKind::Compute, &opts("samples=10")),
        (3, 10)
    );
    assert_eq!(iterations(WorkloadKind::Trap, &one), (50, 1));
}

#[test]
fn pace_runs_every_planned_iteration_and_says_so_when_it_starts() {
    use crate::pace::{Iteration, Pace};
    let p = Recorder::new(false);
    let o = opts("samples=2 warmup=2");
    let mut pace = Pace::start(&p, "call.null", "signals.bt_off", WorkloadKind::Call, &o);
    let mut seen = Vec::new();
    while let Some(i) = pace.next() {
        seen.push(i);
    }
    assert_eq!(
        seen,
        [
            Iteration::Warmup(0),
            Iteration::Warmup(1),
            Iteration::Timed(2),
            Iteration::Timed(3)
        ]
    );
    assert_eq!(pace.finish(2), None);
    let records = p.records.borrow();
    let Some(Record::Progress(first)) = records.first() else {
        panic!("no progress record first: {records:?}");
    };
    assert_eq!(
        (first.experiment.as_str(), first.done, first.planned),
        ("call.null", 0, 4)
    );
}

#[test]
fn a_spent_budget_skips_the_warmup_but_keeps_one_timed_sample() {
    use crate::pace::{Iteration, Pace};
    let p = Recorder::new(false);
    // 1 ms at the recorder's declared 1 GHz is 1,000,000 ticks; each
    // iteration below spins for far more.
    let o = opts("samples=5 warmup=3 budget_ms=1");
    let spin = || {
        let until = Recorder::stamp() + 20_000_000;
        while Recorder::stamp() < until {}
    };
    let mut pace = Pace::start(
        &p,
        "compute.fib",
        "signals.bt_off",
        WorkloadKind::Compute,
        &o,
    );
    let mut seen = Vec::new();
    while let Some(i) = pace.next() {
        seen.push(i);
        spin();
    }
    assert_eq!(seen, [Iteration::Warmup(0), Iteration::Timed(1)]);
    let note = pace.finish(1).unwrap();
    assert!(
        note.contains(
            "compute.fib signals.bt_off: time budget of 1 ms spent after 1 of 5 timed samples"
        ),
        "{note}"
    );
    assert!(matches!(
        p.records.borrow().first(),
        Some(Record::Progress(_))
    ));
}

#[test]
fn a_budget_is_a_boot_option_and_a_bad_one_is_named() {
    assert_eq!(opts("budget_ms=250").budget_ms, 250);
    let (_, problems) = crate::options::parse("budget_ms=soon");
    assert_eq!(problems, ["budget_ms=soon: not an unsigned integer"]);
}
