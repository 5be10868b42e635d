//! Boot-the-real-kernel tests: each boots runner-kernel in QEMU (TCG) with
//! the real suite image and checks the records it streams.
//!
//! They need `qemu-system-x86_64` (scripts/test.sh installs it). The kernel
//! and suite are built once per test binary through the harness library,
//! exactly as `traplab-run` builds them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use traplab_harness::qemu::Launch;
use traplab_harness::{Ending, RunReport, build, session};
use traplab_suite::{Suite, TrapMode};
use traplab_wire::{EndStatus, Record, Status, decode_line, exit};
use traplab_workloads::{Expectation, SuiteName, WORKLOADS};

struct Artifacts {
    kernel: PathBuf,
    suite: PathBuf,
}

fn artifacts() -> &'static Artifacts {
    static BUILT: OnceLock<Artifacts> = OnceLock::new();
    BUILT.get_or_init(|| Artifacts {
        kernel: build::kernel(0).expect("building runner-kernel"),
        suite: build::suite(SuiteName::Quick).expect("building the suite image"),
    })
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("traplab-boot-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// Boot with `boot_args` and return the host's report and every record.
fn boot(
    name: &str,
    profile: &str,
    suite: Option<&Path>,
    boot_args: &str,
) -> (RunReport, Vec<Record>, Vec<u8>) {
    let a = artifacts();
    let launch = Launch {
        kernel: a.kernel.clone(),
        suite: Some(suite.unwrap_or(&a.suite).to_path_buf()),
        profile: profile.to_string(),
        boot_args: boot_args.to_string(),
    };
    let capture = scratch(&format!("{name}.jsonl"));
    let report =
        session::run(&launch, &capture, Duration::from_secs(300), false).expect("running QEMU");
    let bytes = std::fs::read(&capture).unwrap();
    let records = String::from_utf8_lossy(&bytes)
        .lines()
        .filter_map(|l| {
            l.find("{\"seq\":")
                .map(|at| decode_line(&l[at..]).expect("every record line passes its check"))
        })
        .map(|f| f.record)
        .collect();
    (report, records, bytes)
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

#[test]
fn every_trap_kind_returns_its_trap_code_via_its_vector() {
    let (report, records, _) = boot(
        "traps",
        "tcg",
        None,
        "samples=20 warmup=5 heap_traps=0 compute_samples=3",
    );
    let results = results(&records);
    let failed: Vec<_> = results
        .values()
        .filter(|r| r.status != Status::Ok)
        .collect();
    assert!(failed.is_empty(), "failed experiments: {failed:#?}");
    assert_eq!(report.ending, Ending::Success, "{report:?}");

    // Judge against the host-side catalogue, not the kernel's own check.
    for spec in WORKLOADS {
        let Expectation::Traps { trap, vector } = spec.expect else {
            continue;
        };
        for config in ["signals.bt_off", "signals.bt_on", "explicit.bt_off"] {
            let r = results
                .get(&(spec.name.to_string(), config.to_string()))
                .unwrap_or_else(|| panic!("{} {config} missing", spec.name));
            let observed = r
                .observed
                .as_ref()
                .expect("trap experiments report what they saw");
            assert_eq!(
                observed.trap.as_deref(),
                Some(format!("{trap:?}").as_str()),
                "{} {config}",
                spec.name
            );
            let want_vector = config.starts_with("signals").then_some(vector);
            assert_eq!(
                observed.vector, want_vector,
                "{} {config}: vector",
                spec.name
            );
            assert_eq!(r.samples, 20, "{} {config}", spec.name);
        }
    }
    for raw in [
        "raw.pf",
        "raw.ud",
        "raw.de",
        "raw.gp",
        "raw.bp",
        "raw.pf_demand",
    ] {
        assert_eq!(
            results[&(raw.to_string(), "ring0".to_string())].status,
            Status::Ok,
            "{raw}"
        );
    }
    // The four stages of every exception-path sample add up to its total.
    let mut staged = 0;
    for r in &records {
        if let Record::Samples(s) = r {
            if s.stages.is_empty() {
                continue;
            }
            assert_eq!(s.stages.len(), 4);
            for (i, total) in s.total.iter().enumerate() {
                let sum: u64 = s.stages.iter().map(|st| st.values[i]).sum();
                assert_eq!(sum, *total, "{} {} sample {i}", s.experiment, s.config);
                staged += 1;
            }
            assert!(
                s.config.starts_with("signals"),
                "explicit checks raise no exception, so have no stages"
            );
        }
    }
    assert!(staged > 0);
    let Some(Record::End(end)) = records.last() else {
        panic!("no end record")
    };
    assert_eq!(end.status, EndStatus::Complete);
    assert_eq!(end.records as usize, records.len() - 1);
}

/// The run's `fault` record (the test fails without one).
fn fault_record(records: &[Record]) -> traplab_wire::Fault {
    records
        .iter()
        .find_map(|r| match r {
            Record::Fault(f) => Some(f.clone()),
            _ => None,
        })
        .expect("a fault record")
}

#[test]
fn the_kernel_code_is_read_only() {
    let (report, records, _) = boot(
        "code_write",
        "tcg",
        None,
        "samples=5 warmup=0 heap_traps=0 only=call.null test=code_write",
    );
    assert_eq!(report.ending, Ending::Crashed, "the write must fault");
    let fault = fault_record(&records);
    assert_eq!(fault.exception, "#PF");
    // Present (bit 0) and write (bit 1): a write to a read-only page.
    assert_eq!(fault.error_code.map(|e| e & 0b11), Some(0b11), "{fault:?}");
    let symbol = fault.symbol.expect("the faulting function is named");
    assert!(
        symbol.starts_with("runner_kernel::runner::scenario::deliberate_code_write+0x"),
        "{symbol}"
    );
}

#[test]
fn kernel_fault_yields_fault_record_and_distinct_exit_code() {
    let (report, records, _) = boot(
        "fault",
        "tcg",
        None,
        "samples=5 warmup=0 heap_traps=0 test=kernel_fault",
    );
    assert_eq!(report.ending, Ending::Crashed);
    assert_eq!(
        report.qemu_status,
        Some(exit::qemu_status(exit::KERNEL_FAULT))
    );
    assert_ne!(
        exit::qemu_status(exit::KERNEL_FAULT),
        exit::qemu_status(exit::SUCCESS)
    );
    assert_ne!(
        exit::qemu_status(exit::KERNEL_FAULT),
        exit::qemu_status(exit::FAILURE)
    );
    let fault = fault_record(&records);
    assert_eq!(fault.vector, 0x0E);
    assert_eq!(fault.exception, "#PF");
    assert_eq!(fault.cr2, Some(0x10));
    let symbol = fault.symbol.expect("the faulting function is named");
    assert!(
        symbol.starts_with("runner_kernel::runner::scenario::deliberate_kernel_fault+0x"),
        "{symbol}"
    );
    let Some(Record::End(end)) = records.last() else {
        panic!("no end record after the fault")
    };
    assert_eq!(end.status, EndStatus::Fault);
}

#[test]
fn panic_yields_panic_record_and_end() {
    let (report, records, _) = boot(
        "panic",
        "tcg",
        None,
        "samples=5 warmup=0 heap_traps=0 test=panic",
    );
    assert_eq!(report.ending, Ending::Crashed);
    let panic = records
        .iter()
        .find_map(|r| match r {
            Record::Panic(p) => Some(p.clone()),
            _ => None,
        })
        .expect("a panic record");
    assert!(panic.message.contains("deliberate panic"), "{panic:?}");
    // The frame-pointer walk reaches the function that panicked and its
    // caller.
    let at = |name: &str| {
        panic
            .backtrace
            .iter()
            .position(|f| f.starts_with(name))
            .unwrap_or_else(|| panic!("{name} not in the backtrace {:?}", panic.backtrace))
    };
    assert!(at("runner_kernel::runner::scenario::test_scenario+0x") < at("kernel_entry+0x"));
    assert!(matches!(records.last(), Some(Record::End(e)) if e.status == EndStatus::Panic));
}

/// The test-only `contain` suite: a workload whose host call panics
/// (`traplab.panic`), one whose host call reads an unmapped address
/// (`traplab.fault`), then every ordinary workload. Each of the first two
/// must fail alone — with its reason and a symbolized backtrace — while
/// everything after it runs and passes, and the run ends as failed (1),
/// not as a kernel crash (3).
#[test]
fn a_panic_or_fault_in_a_host_call_fails_its_experiment_and_the_run_goes_on() {
    let suite = build::suite(SuiteName::Contain).expect("building the contain suite");
    let (report, records, _) = boot(
        "contain",
        "tcg",
        Some(&suite),
        "samples=10 warmup=2 heap_traps=0 compute_samples=2 configs=signals.bt_off",
    );
    let r = results(&records);
    let message = |experiment: &str| {
        let result = &r[&(experiment.to_string(), "signals.bt_off".to_string())];
        assert_eq!(result.status, Status::Failed, "{result:?}");
        result.message.clone().unwrap_or_default()
    };
    // "contained: <reason>; backtrace: f+0x.. < g+0x.. < …"
    let backtrace = |message: &str| -> Vec<String> {
        let (_, frames) = message
            .split_once("; backtrace: ")
            .unwrap_or_else(|| panic!("no backtrace in {message:?}"));
        frames.split(" < ").map(str::to_string).collect()
    };
    let position = |frames: &[String], name: &str| {
        frames
            .iter()
            .position(|f| f.starts_with(name))
            .unwrap_or_else(|| panic!("{name} not in the backtrace {frames:?}"))
    };

    let panicked = message("contain.host_panic");
    assert!(
        panicked.starts_with("contained: panic at ")
            && panicked.contains("runner-core/src/wasm.rs:")
            && panicked.contains("deliberate panic in the host call traplab.panic"),
        "{panicked}"
    );
    let frames = backtrace(&panicked);
    // The walk goes from the panic through the host function and the wasm
    // frames back to the runner that made the call.
    assert!(
        position(&frames, "traplab_runner_core::wasm::host_panic+0x")
            < position(&frames, "traplab_runner_core::wasm::run_workload")
    );

    let faulted = message("contain.host_fault");
    assert!(
        faulted.starts_with("contained: unclaimed #PF at traplab_runner_core::wasm::host_fault+0x")
            && faulted.contains("address 0x10"),
        "{faulted}"
    );
    let frames = backtrace(&faulted);
    assert!(frames[0].starts_with("traplab_runner_core::wasm::host_fault+0x"));
    assert!(
        position(&frames, "traplab_runner_core::wasm::host_fault+0x")
            < position(&frames, "traplab_runner_core::wasm::run_workload")
    );

    // What the abandoned instances owned is reported (leaked, not freed).
    let abandoned: Vec<_> = records
        .iter()
        .filter_map(|r| match r {
            Record::Metric(m) if m.name == "abandoned_heap_bytes" => Some(m.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(abandoned.len(), 2, "{abandoned:?}");
    assert!(abandoned.iter().all(|m| m.value > 0), "{abandoned:?}");

    // Everything after them ran and passed: wasm calls and traps (wasmtime's
    // state, TLS included, survived the abandoned calls), compute, twins.
    let others: Vec<_> = r
        .values()
        .filter(|x| !x.experiment.starts_with("contain."))
        .collect();
    for x in &others {
        assert_eq!(x.status, Status::Ok, "{x:?}");
    }
    for (experiment, config) in [
        ("call.null", "signals.bt_off"),
        ("trap.oob_load", "signals.bt_off"),
        ("trap.unreachable", "signals.bt_off"),
        ("compute.fib", "signals.bt_off"),
        ("compute.fib", "native"),
    ] {
        let x = &r[&(experiment.to_string(), config.to_string())];
        assert!(x.samples > 0, "{x:?}");
    }

    let Some(Record::End(end)) = records.last() else {
        panic!("no end record")
    };
    assert_eq!(end.status, EndStatus::Failed);
    assert_eq!((end.failed, end.contained_failures), (2, 2), "{end:?}");
    assert!(
        !records
            .iter()
            .any(|r| matches!(r, Record::Panic(_) | Record::Fault(_))),
        "a contained failure is not a kernel crash"
    );
    assert_eq!(report.ending, Ending::Failed, "{report:?}");
    assert_eq!(report.qemu_status, Some(exit::qemu_status(exit::FAILURE)));
    assert_eq!(report.ending.exit_code(), 1);
}

#[test]
fn hundred_thousand_traps_leave_heap_usage_where_it_started() {
    let (report, records, _) = boot(
        "heap",
        "tcg",
        None,
        "samples=10 warmup=0 heap_traps=100000 only=trap.oob_load configs=signals.bt_on",
    );
    let metric = |name: &str| {
        records
            .iter()
            .find_map(|r| {
                if let Record::Metric(m) = r {
                    (m.name == name).then_some(m.value)
                } else {
                    None
                }
            })
            .unwrap_or_else(|| panic!("no {name} metric"))
    };
    let (before, after) = (metric("heap_used_before"), metric("heap_used_after"));
    eprintln!("heap in use before 100,000 traps: {before} bytes; after: {after} bytes");
    assert_eq!(before, after);
    let r = results(&records);
    assert_eq!(
        r[&(
            "check.heap_stability".to_string(),
            "signals.bt_on".to_string()
        )]
            .status,
        Status::Ok
    );
    assert_eq!(report.ending, Ending::Success);
}

#[test]
fn corrupted_artifact_is_refused_before_deserialize_and_the_kernel_lives() {
    let image = std::fs::read(&artifacts().suite).unwrap();
    let suite = Suite::parse(&image).unwrap();
    let victim = &suite.manifest.workloads[1];
    let artifact = victim
        .artifact(traplab_suite::CodeTarget::LabKernel, TrapMode::Signals)
        .unwrap();
    let mut damaged = image.clone();
    damaged[(artifact.offset + artifact.len / 2) as usize] ^= 0x40;
    let path = scratch("damaged-suite.img");
    std::fs::write(&path, &damaged).unwrap();

    let (report, records, _) = boot(
        "damaged",
        "tcg",
        Some(&path),
        "samples=5 warmup=0 heap_traps=0 compute_samples=2 configs=signals.bt_off",
    );
    let r = results(&records);
    let refused = &r[&(victim.name.clone(), "signals.bt_off".to_string())];
    assert_eq!(refused.status, Status::Failed);
    assert!(
        refused.message.as_deref().unwrap_or("").contains("SHA-256"),
        "{refused:?}"
    );
    // The other workloads still ran, and the run ended normally as failed.
    assert!(r.values().filter(|x| x.status == Status::Ok).count() > 5);
    assert_eq!(report.ending, Ending::Failed);
}

#[test]
fn icount_boots_are_byte_identical() {
    let args =
        "samples=30 warmup=5 heap_traps=0 compute_samples=2 configs=signals.bt_off,explicit.bt_off";
    let (first, _, a) = boot("icount-1", "icount", None, args);
    let (second, _, b) = boot("icount-2", "icount", None, args);
    assert_eq!(first.ending, Ending::Success);
    assert_eq!(second.ending, Ending::Success);
    assert!(a == b, "two icount boots differ");
}

#[test]
fn unknown_boot_option_is_reported_not_ignored() {
    let (report, records, _) = boot(
        "badopt",
        "tcg",
        None,
        "samples=5 warmup=0 heap_traps=0 only=raw.ud smaples=9",
    );
    let r = results(&records);
    let setup = &r[&("setup.cmdline".to_string(), "boot".to_string())];
    assert!(
        setup.message.as_deref().unwrap_or("").contains("smaples"),
        "{setup:?}"
    );
    // A setup problem, not a failed experiment: exit status 2.
    assert_eq!(report.ending, Ending::Setup);
    assert_eq!(report.ending.exit_code(), 2);
    assert!(
        report
            .setup_problems
            .iter()
            .any(|p| p == "setup.cmdline: smaples: unknown boot option"),
        "{:?}",
        report.setup_problems
    );
}

/// Boot the GRUB image under `profile`'s firmware with a small `trap.`
/// selection and check the path end to end: multiboot2 entry as `boot`,
/// command line from the multiboot2 tag, suite image from the first module,
/// every selected experiment passing, a complete stream.
fn grub_image_boot(name: &str, profile: &str, want_boot: &str) {
    let (report, records, bytes) = boot(
        name,
        profile,
        None,
        "samples=7 warmup=2 heap_traps=0 only=trap. configs=signals.bt_off",
    );
    let Some(Record::Header(header)) = records.first() else {
        panic!("no header record")
    };
    assert_eq!(header.boot, want_boot, "the kernel names the firmware path");
    assert_eq!(
        header.config.mode, "tcg",
        "an image booted in QEMU TCG measures TCG"
    );
    assert_eq!(
        header.config.samples, 7,
        "the multiboot2 command line arrived: {}",
        header.cmdline
    );
    assert!(
        header.memory.usable_bytes > 512 << 20,
        "the memory map shows most of the 1 GiB: {:?}",
        header.memory
    );
    let results = results(&records);
    let trap_results: Vec<_> = results
        .values()
        .filter(|r| r.experiment.starts_with("trap."))
        .collect();
    assert!(
        trap_results.len() >= 10,
        "the suite module was found and read: {results:#?}"
    );
    for r in &trap_results {
        assert_eq!(r.status, Status::Ok, "{r:?}");
        assert_eq!(r.samples, 7, "{r:?}");
    }
    assert_eq!(report.ending, Ending::Success, "{report:?}");
    // The firmware's and GRUB's console output before the first record is
    // boot noise the host skips; the records themselves arrived intact.
    assert_eq!(report.damaged_lines, 0);
    assert!(
        !bytes.starts_with(b"{\"seq\":0"),
        "expected GRUB's output before the header"
    );
}

/// The bare-metal path on a legacy BIOS PC, in QEMU: SeaBIOS → GRUB
/// (i386-pc) from the image `scripts/build-iso.sh` makes → multiboot2.
#[test]
fn grub_image_boots_through_multiboot2_and_its_experiments_pass() {
    grub_image_boot("iso", "iso", "multiboot2-bios");
}

/// The same hybrid image on a UEFI PC: OVMF → GRUB (x86_64-efi) from the
/// image's EFI boot entry → multiboot2 with EFI tags, boot services exited.
#[test]
fn grub_image_boots_under_uefi_firmware_and_its_experiments_pass() {
    grub_image_boot("iso-uefi", "iso-uefi", "multiboot2-uefi");
}

/// The image the harness builds (and `scripts/build-iso.sh` writes) is
/// hybrid: an El Torito boot entry for BIOS and one for UEFI, and a
/// partition table so the same bytes boot from a USB stick.
#[test]
fn grub_image_carries_both_bios_and_uefi_boot_entries() {
    let a = artifacts();
    let out = scratch("hybrid.iso");
    traplab_harness::iso::build(
        &traplab_harness::iso::IsoSpec {
            kernel: &a.kernel,
            suite: &a.suite,
            cmdline: "samples=1",
        },
        &out,
    )
    .expect("building the image");
    let report = std::process::Command::new("xorriso")
        .args(["-indev"])
        .arg(&out)
        .args(["-report_el_torito", "plain", "-report_system_area", "plain"])
        .output()
        .expect("running xorriso");
    let text = String::from_utf8_lossy(&report.stdout).into_owned()
        + &String::from_utf8_lossy(&report.stderr);
    let entries: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("El Torito boot img :"))
        .collect();
    assert!(
        entries.iter().any(|l| l.contains("BIOS")),
        "a BIOS boot entry:\n{text}"
    );
    assert!(
        entries.iter().any(|l| l.contains("UEFI")),
        "a UEFI boot entry:\n{text}"
    );
    // Written to a stick, the same bytes are a disk: GRUB's MBR boot code
    // for BIOS, a GPT with an EFI system partition for UEFI.
    assert!(
        text.contains("grub2-mbr"),
        "GRUB's MBR boot code for BIOS disks:\n{text}"
    );
    assert!(
        text.contains("EFI boot partition"),
        "an EFI system partition for UEFI disks:\n{text}"
    );
    let _ = std::fs::remove_file(&out);
}
