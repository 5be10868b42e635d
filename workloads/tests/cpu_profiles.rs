//! CPU profiles on the host: a module that would need a wasmtime libcall
//! the kernel lacks under a profile is refused before any boot, with the
//! reason and the module's name; every other profile compiles it, and the
//! manifest records the profile the artifacts were compiled for.

use traplab_suite::Suite;
use traplab_suite::cpu::{PROFILES, QEMU_MAX, SSE41_ONLY, X86_64_V2};
use traplab_workloads::compile::{check_runnable, suite_engines, wasm_bytes, wasm_uses};
use traplab_workloads::{SuiteName, WORKLOADS, build_suite, cpu_profile};

fn simd_workload() -> Vec<u8> {
    let spec = WORKLOADS.iter().find(|w| w.name == "call.simd").unwrap();
    wasm_bytes(spec).unwrap()
}

#[test]
fn the_simd_workload_uses_byte_shuffles_and_the_null_call_does_not() {
    assert!(wasm_uses(&simd_workload()).unwrap().byte_shuffles);
    let null = WORKLOADS.iter().find(|w| w.name == "call.null").unwrap();
    assert!(!wasm_uses(&wasm_bytes(null).unwrap()).unwrap().byte_shuffles);
}

#[test]
fn a_shuffle_is_refused_without_ssse3_and_compiles_under_every_other_profile() {
    let wasm = simd_workload();
    let error = format!(
        "{:#}",
        check_runnable(&SSE41_ONLY, &wasm, "call.simd").unwrap_err()
    );
    assert!(
        error.contains("call.simd cannot run when compiled for CPU profile sse4.1-only")
            && error.contains("need SSSE3"),
        "{error}"
    );
    for profile in PROFILES.iter().filter(|p| p.name != SSE41_ONLY.name) {
        check_runnable(profile, &wasm, "call.simd").unwrap();
        let engines = suite_engines(profile).unwrap();
        for (_, _, engine) in &engines.engines {
            engine.precompile_module(&wasm).unwrap();
        }
    }
}

#[test]
fn a_whole_suite_for_a_profile_without_ssse3_is_refused_naming_the_module() {
    let error = format!(
        "{:#}",
        build_suite(SuiteName::Quick, &SSE41_ONLY).unwrap_err()
    );
    assert!(
        error.contains("call.simd") && error.contains("SSSE3"),
        "{error}"
    );
}

#[test]
fn the_manifest_records_the_profile_and_host_names_this_machine() {
    let image = build_suite(SuiteName::Quick, &X86_64_V2).unwrap();
    let suite = Suite::parse(&image).unwrap();
    assert_eq!(suite.manifest.cpu, Some(X86_64_V2.record()));
    let host = cpu_profile("host").unwrap();
    assert!(host.features.contains(&traplab_suite::cpu::SSE41));
    assert_eq!(cpu_profile("qemu-max").unwrap(), QEMU_MAX);
    let unknown = format!("{:#}", cpu_profile("pentium").unwrap_err());
    assert!(
        unknown.contains("unknown CPU profile `pentium`"),
        "{unknown}"
    );
}
