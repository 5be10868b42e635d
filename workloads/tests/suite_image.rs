//! Proves that `build-suite` writes an image the kernel can trust: it parses,
//! every artifact passes its checksum and carries its host compile facts,
//! the manifest mirrors the catalogue (WAT workloads, then compute kernels),
//! and the compiled code raises each trap through the CPU exception the
//! manifest promises (under signals-based traps).
//!
//! The last point is checked without booting anything: a wasmtime artifact
//! is an ELF file whose `.wasmtime.traps` section maps code offsets to trap
//! codes (it is what wasmtime consults when a fault arrives), so the test
//! decodes the x86-64 instruction at every site of the expected trap code.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use traplab_suite::{CodeTarget, Manifest, Suite, TrapMode, Workload, WorkloadKind};
use traplab_workloads::catalogue::{VECTOR_DIVIDE_ERROR, VECTOR_INVALID_OPCODE, VECTOR_PAGE_FAULT};
use traplab_workloads::compile::{compute_manifest_entry, manifest_entry};
use traplab_workloads::compute::workspace_root;
use traplab_workloads::sightglass::{
    SHIPPED_DIR, experiment_name, find_modules, manifest_entry as sightglass_entry,
};
use traplab_workloads::{KERNELS, SuiteName, WASMTIME_VERSION, WORKLOADS};
use wasmtime_environ::obj::{ELF_WASM_ENGINE, ELF_WASMTIME_TRAPS};
use wasmtime_environ::object::{Object, ObjectSection, read::File as ElfFile};
use wasmtime_environ::{CompiledTrap, iterate_traps};

fn build_suite(suite: &str, out: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_build-suite"))
        .args(["--suite", suite, "--out"])
        .arg(out)
        .output()
        .expect("build-suite runs")
}

/// A fresh directory for one test, under cargo's per-crate scratch area.
fn scratch_dir(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Build the default suite once per test and return its bytes.
fn default_image(test: &str) -> Vec<u8> {
    let out = scratch_dir(test).join("suite.img");
    let output = build_suite("default", &out);
    assert!(
        output.status.success(),
        "build-suite failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    std::fs::read(&out).unwrap()
}

#[test]
fn build_suite_writes_an_image_whose_artifacts_all_verify() {
    for suite_name in ["default", "quick"] {
        let dir = scratch_dir(&format!("verify_{suite_name}"));
        let out = dir.join("suite.img");
        let output = build_suite(suite_name, &out);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success(),
            "build-suite --suite {suite_name} failed: {stderr}"
        );

        let image = std::fs::read(&out).unwrap();
        let suite = Suite::parse(&image).unwrap();
        let manifest = &suite.manifest;
        assert_eq!(manifest.suite, suite_name);
        assert_eq!(manifest.wasmtime, WASMTIME_VERSION);

        // The shipped sightglass-ABI modules come last.
        let shipped = find_modules(&workspace_root().join(SHIPPED_DIR)).unwrap();
        assert!(!shipped.is_empty());

        // The one line of output: path, count, size, manifest hash.
        let stdout = String::from_utf8(output.stdout).unwrap();
        let expected_line = format!(
            "{} workloads={} cpu_profile=qemu-max bytes={} manifest_sha256={}\n",
            out.display(),
            WORKLOADS.len() + KERNELS.len() + shipped.len(),
            image.len(),
            suite.manifest_sha256
        );
        assert_eq!(stdout, expected_line);

        // The manifest mirrors the catalogue (WAT workloads, then compute
        // kernels, then the shipped sightglass modules), and every
        // artifact verifies.
        let expected_entries: Vec<Workload> = WORKLOADS
            .iter()
            .map(manifest_entry)
            .chain(KERNELS.iter().map(compute_manifest_entry))
            .chain(
                shipped
                    .iter()
                    .map(|path| sightglass_entry(experiment_name(path), Vec::new())),
            )
            .collect();
        assert_eq!(manifest.workloads.len(), expected_entries.len());
        for (workload, expected) in manifest.workloads.iter().zip(&expected_entries) {
            assert_eq!(workload.name, expected.name);
            assert_eq!(workload.kind, expected.kind);
            assert_eq!(workload.export, expected.export);
            assert_eq!(workload.args, expected.args);
            assert_eq!(workload.expect_result, expected.expect_result);
            assert_eq!(workload.expect_trap, expected.expect_trap);
            assert_eq!(workload.expect_vector, expected.expect_vector);
            // One artifact per code target and trap mode, the lab kernel's
            // first.
            let slots: Vec<_> = workload
                .artifacts
                .iter()
                .map(|a| (a.target, a.trap_mode))
                .collect();
            let expected_slots: Vec<_> = CodeTarget::ALL
                .iter()
                .flat_map(|&t| TrapMode::ALL.iter().map(move |&m| (t, m)))
                .collect();
            assert_eq!(slots, expected_slots, "{}", workload.name);
            for artifact in &workload.artifacts {
                let bytes = suite.artifact_bytes(workload, artifact).unwrap();
                assert!(
                    bytes.starts_with(b"\x7fELF"),
                    "{} is not an ELF artifact",
                    workload.name
                );
            }
        }
        for kernel in KERNELS {
            let workload = manifest
                .workloads
                .iter()
                .find(|w| w.name == kernel.name)
                .unwrap();
            assert_eq!(workload.kind, WorkloadKind::Compute);
            assert_eq!(
                workload.expect_result,
                Some(kernel.golden),
                "{}",
                kernel.name
            );
        }

        // The write was atomic: only the image is left in the directory.
        let left: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, [std::ffi::OsString::from("suite.img")]);
    }
}

/// The manifest with what legitimately differs between two builds
/// cleared: each artifact's compile time, and the offsets (artifacts' and
/// sightglass data files'), which move with the manifest's length (the
/// compile times' digits).
fn without_compile_times(mut manifest: Manifest) -> Manifest {
    for artifact in manifest.workloads.iter_mut().flat_map(|w| &mut w.artifacts) {
        artifact.offset = 0;
        artifact.host.as_mut().expect("host facts").compile_ns = 0;
    }
    // Sightglass data files follow the artifacts, so they move too.
    for file in manifest
        .workloads
        .iter_mut()
        .filter_map(|w| w.sightglass.as_mut())
        .flat_map(|s| {
            s.inputs
                .iter_mut()
                .chain(&mut s.stdout_expected)
                .chain(&mut s.stderr_expected)
        })
    {
        file.offset = 0;
    }
    manifest
}

#[test]
fn building_twice_gives_identical_images_but_for_compile_times() {
    // Comparisons across commits attribute a changed artifact or manifest
    // entry to a changed workload or compiler; that needs a reproducible
    // build. The compile time recorded per artifact is the one thing that
    // may differ (so the image bytes, and the manifest hash, may differ).
    let first =
        traplab_workloads::build_suite(SuiteName::Default, &traplab_suite::cpu::QEMU_MAX).unwrap();
    let second =
        traplab_workloads::build_suite(SuiteName::Default, &traplab_suite::cpu::QEMU_MAX).unwrap();
    let (first, second) = (
        Suite::parse(&first).unwrap(),
        Suite::parse(&second).unwrap(),
    );
    for (a, b) in first
        .manifest
        .workloads
        .iter()
        .zip(&second.manifest.workloads)
    {
        for (x, y) in a.artifacts.iter().zip(&b.artifacts) {
            assert!(
                first.artifact_bytes(a, x).unwrap() == second.artifact_bytes(b, y).unwrap(),
                "the {} artifacts of {} differ",
                x.trap_mode.name(),
                a.name
            );
        }
    }
    assert_eq!(
        without_compile_times(first.manifest),
        without_compile_times(second.manifest),
        "two builds of the default suite differ in more than compile times"
    );
}

#[test]
fn every_artifact_carries_its_host_compile_facts() {
    let image = default_image("host_facts");
    let suite = Suite::parse(&image).unwrap();
    for workload in &suite.manifest.workloads {
        for artifact in &workload.artifacts {
            let context = format!("{} ({})", workload.name, artifact.trap_mode.name());
            let host = artifact
                .host
                .as_ref()
                .unwrap_or_else(|| panic!("{context}: no host facts"));
            assert!(host.compile_ns > 0, "{context}");
            assert!(host.code_bytes > 0, "{context}");
            // Machine code is a part of the artifact, not more.
            assert!(host.code_bytes < artifact.len, "{context}");
            let bytes = suite.artifact_bytes(workload, artifact).unwrap();
            assert_eq!(
                host.trap_sites,
                all_trap_sites(bytes),
                "{context}: trap_sites is the trap table's length"
            );
            // Every trap workload has at least the site it exists for; with
            // explicit checks some (unreachable, stack overflow, indirect
            // calls) trap through a libcall and have none.
            if workload.kind == WorkloadKind::Trap && artifact.trap_mode == TrapMode::Signals {
                assert!(host.trap_sites > 0, "{context}");
            }
        }
    }
    // The compute entries share one module per trap mode, so one set of
    // facts per mode; explicit checks add code.
    let compute: Vec<_> = suite
        .manifest
        .workloads
        .iter()
        .filter(|w| w.kind == WorkloadKind::Compute)
        .collect();
    assert_eq!(compute.len(), KERNELS.len());
    for mode in TrapMode::ALL {
        let facts: Vec<_> = compute
            .iter()
            .map(|w| {
                w.artifact(CodeTarget::LabKernel, mode)
                    .unwrap()
                    .host
                    .clone()
            })
            .collect();
        assert!(facts.windows(2).all(|pair| pair[0] == pair[1]), "{facts:?}");
    }
    let code = |mode| {
        compute[0]
            .artifact(CodeTarget::LabKernel, mode)
            .unwrap()
            .host
            .as_ref()
            .unwrap()
            .code_bytes
    };
    assert!(code(TrapMode::Explicit) > code(TrapMode::Signals));
}

/// The number of entries in an artifact's trap table, read independently
/// of `artifact_facts`.
fn all_trap_sites(artifact: &[u8]) -> u64 {
    let elf = ElfFile::parse(artifact).unwrap();
    let traps = elf
        .section_by_name(ELF_WASMTIME_TRAPS)
        .unwrap()
        .data()
        .unwrap();
    iterate_traps(traps).unwrap().count() as u64
}

#[test]
fn build_suite_reports_an_unwritable_path_and_fails() {
    let out = scratch_dir("unwritable")
        .join("missing-dir")
        .join("suite.img");
    let output = build_suite("default", &out);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("missing-dir"),
        "the error names the path: {stderr}"
    );
}

#[test]
fn manifest_names_the_compiling_wasmtime() {
    // wasmtime has no public version constant, so the manifest's version is
    // a constant in this crate; it must be the version Cargo resolved...
    let lock =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.lock")).unwrap();
    let locked = lock
        .split("[[package]]")
        .find(|package| package.contains("\nname = \"wasmtime\"\n"))
        .and_then(|package| {
            package
                .lines()
                .find_map(|line| line.strip_prefix("version = "))
        })
        .map(|version| version.trim_matches('"'))
        .expect("Cargo.lock lists wasmtime");
    assert_eq!(WASMTIME_VERSION, locked);

    // ...and agree with what wasmtime writes into every artifact: the engine
    // section records the major version, the unit of artifact compatibility.
    let major = WASMTIME_VERSION.split('.').next().unwrap();
    let image = default_image("version");
    let suite = Suite::parse(&image).unwrap();
    assert_eq!(suite.manifest.wasmtime, WASMTIME_VERSION);
    for workload in &suite.manifest.workloads {
        for artifact in &workload.artifacts {
            let elf = ElfFile::parse(suite.artifact_bytes(workload, artifact).unwrap()).unwrap();
            let section = elf
                .section_by_name(ELF_WASM_ENGINE)
                .expect("engine section")
                .data()
                .unwrap();
            // Layout: format byte, version length, version string, metadata.
            let len = usize::from(section[1]);
            let version = std::str::from_utf8(&section[2..2 + len]).unwrap();
            assert_eq!(version, major, "{}", workload.name);
        }
    }
}

/// The CPU exception an instruction at a trap site raises, from its opcode.
///
/// Cranelift's x86-64 back end makes code trap in exactly three ways: `ud2`
/// (the target of every compare-and-branch trap), `div`/`idiv` (tagged with
/// their trap code, raising #DE), and a load or store tagged with a trap code
/// (raising #PF on an unmapped page). So whatever is neither `ud2` nor a
/// division is such a memory access.
fn vector_of_instruction(code: &[u8]) -> u8 {
    let mut i = 0;
    // Operand-size, address-size and segment prefixes, then REX.
    while matches!(
        code[i],
        0x66 | 0x67 | 0x26 | 0x2e | 0x36 | 0x3e | 0x64 | 0x65
    ) {
        i += 1;
    }
    if (0x40..=0x4f).contains(&code[i]) {
        i += 1;
    }
    match (code[i], code[i + 1]) {
        (0x0f, 0x0b) => VECTOR_INVALID_OPCODE,
        // Group 3 with ModRM.reg = 6 (div) or 7 (idiv).
        (0xf6 | 0xf7, modrm) if matches!((modrm >> 3) & 7, 6 | 7) => VECTOR_DIVIDE_ERROR,
        _ => VECTOR_PAGE_FAULT,
    }
}

/// `(vector of the instruction, offset)` for every site in `artifact` tagged
/// with `trap`.
fn trap_sites(artifact: &[u8], trap: &str) -> Vec<(u8, u32)> {
    let elf = ElfFile::parse(artifact).unwrap();
    let text = elf
        .section_by_name(".text")
        .expect("text section")
        .data()
        .unwrap();
    let traps = elf
        .section_by_name(ELF_WASMTIME_TRAPS)
        .expect("trap section")
        .data()
        .unwrap();
    iterate_traps(traps)
        .expect("trap section decodes")
        .filter(|(_, code)| matches!(code, CompiledTrap::Normal(t) if format!("{t:?}") == trap))
        .map(|(offset, _)| (vector_of_instruction(&text[offset as usize..]), offset))
        .collect()
}

/// Only the signals artifacts are checked. The explicit ones still carry
/// trap-table entries (Cranelift tags every wasm load/store, `div_s`'s zero
/// test and `idiv` by default), but each sits behind an explicit check that
/// branches to the trap libcall first, so it cannot fire; `explicit_run.rs`
/// shows that no CPU exception occurs.
#[test]
fn signals_artifacts_trap_through_the_vector_the_manifest_names() {
    let image = default_image("trap_sites");
    let suite = Suite::parse(&image).unwrap();
    for workload in suite
        .manifest
        .workloads
        .iter()
        .filter(|w| w.kind == WorkloadKind::Trap)
    {
        let trap = workload.expect_trap.as_deref().unwrap();
        let vector = workload.expect_vector.unwrap();
        let signals = workload
            .artifact(CodeTarget::LabKernel, TrapMode::Signals)
            .unwrap();
        let sites = trap_sites(suite.artifact_bytes(workload, signals).unwrap(), trap);
        assert!(
            !sites.is_empty(),
            "{}: no {trap} site in the signals artifact",
            workload.name
        );
        for (site_vector, offset) in sites {
            assert_eq!(
                site_vector, vector,
                "{}: the {trap} site at .text+{offset:#x} raises vector {site_vector}, the manifest says {vector}",
                workload.name
            );
        }
    }
}
