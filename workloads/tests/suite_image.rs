//! Proves that `build-suite` writes an image the kernel can trust: it parses,
//! every artifact passes its checksum, the manifest mirrors the catalogue,
//! and the compiled code raises each trap through the CPU exception the
//! manifest promises (under signals-based traps).
//!
//! The last point is checked without booting anything: a wasmtime artifact
//! is an ELF file whose `.wasmtime.traps` section maps code offsets to trap
//! codes (it is what wasmtime consults when a fault arrives), so the test
//! decodes the x86-64 instruction at every site of the expected trap code.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use traplab_suite::{Suite, TrapMode, WorkloadKind};
use traplab_workloads::catalogue::{VECTOR_DIVIDE_ERROR, VECTOR_INVALID_OPCODE, VECTOR_PAGE_FAULT};
use traplab_workloads::compile::manifest_entry;
use traplab_workloads::{SuiteName, WASMTIME_VERSION, WORKLOADS};
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

        // The one line of output: path, count, size, manifest hash.
        let stdout = String::from_utf8(output.stdout).unwrap();
        let expected_line = format!(
            "{} workloads={} bytes={} manifest_sha256={}\n",
            out.display(),
            WORKLOADS.len(),
            image.len(),
            suite.manifest_sha256
        );
        assert_eq!(stdout, expected_line);

        // The manifest mirrors the catalogue, and every artifact verifies.
        assert_eq!(manifest.workloads.len(), WORKLOADS.len());
        for (workload, spec) in manifest.workloads.iter().zip(WORKLOADS) {
            let expected = manifest_entry(spec);
            assert_eq!(workload.name, expected.name);
            assert_eq!(workload.kind, expected.kind);
            assert_eq!(workload.export, expected.export);
            assert_eq!(workload.args, expected.args);
            assert_eq!(workload.expect_result, expected.expect_result);
            assert_eq!(workload.expect_trap, expected.expect_trap);
            assert_eq!(workload.expect_vector, expected.expect_vector);
            let modes: Vec<_> = workload.artifacts.iter().map(|a| a.trap_mode).collect();
            assert_eq!(modes, TrapMode::ALL, "{}", workload.name);
            for artifact in &workload.artifacts {
                let bytes = suite.artifact_bytes(workload, artifact).unwrap();
                assert!(
                    bytes.starts_with(b"\x7fELF"),
                    "{} is not an ELF artifact",
                    workload.name
                );
            }
        }

        // The write was atomic: only the image is left in the directory.
        let left: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, [std::ffi::OsString::from("suite.img")]);
    }
}

#[test]
fn building_twice_gives_identical_images() {
    // Comparisons across commits attribute a changed manifest hash to a
    // changed workload or compiler; that needs a reproducible build.
    let first = traplab_workloads::build_suite(SuiteName::Default).unwrap();
    let second = traplab_workloads::build_suite(SuiteName::Default).unwrap();
    assert!(first == second, "two builds of the default suite differ");
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
        let signals = workload.artifact(TrapMode::Signals).unwrap();
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
