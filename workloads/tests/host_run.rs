//! Proves, on the build machine and independently of the kernel, that the
//! catalogue is consistent and that every workload does what its name says:
//! each one runs on a host-native wasmtime engine built from the shared
//! `engine_config` (the kernel's settings, minus `Config::target`) and must
//! return the expected value or trap with exactly the expected trap code,
//! under every engine variant the kernel uses.

use std::collections::HashSet;

use traplab_suite::{EngineVariant, TrapMode, WorkloadKind, engine_config};
use traplab_workloads::compile::wasm_bytes;
use traplab_workloads::contract::into_anyhow;
use traplab_workloads::{
    CONTAIN_WORKLOADS, EXPORT, Expectation, SuiteName, WORKLOADS, WorkloadSpec,
};
use wasmtime::{Engine, Instance, Module, Store, Trap};

/// Every (trap mode, backtrace) pair, i.e. every configuration the kernel
/// runs a workload under.
fn all_variants() -> impl Iterator<Item = EngineVariant> {
    TrapMode::ALL.into_iter().flat_map(|trap_mode| {
        [false, true].map(|backtrace| EngineVariant {
            trap_mode,
            backtrace,
        })
    })
}

fn host_engine(variant: EngineVariant) -> Engine {
    Engine::new(&engine_config(variant))
        .map_err(into_anyhow)
        .unwrap_or_else(|e| panic!("host engine for {}: {e:#}", variant.label()))
}

/// Run `spec` once on `engine`; `Ok` is the returned value, `Err` the error.
fn run_on_host(engine: &Engine, spec: &WorkloadSpec) -> Result<i32, wasmtime::Error> {
    let wasm = wasm_bytes(spec).unwrap_or_else(|e| panic!("{e:#}"));
    let module = Module::new(engine, &wasm)?;
    let mut store = Store::new(engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let run = instance.get_typed_func::<(i32, i32), i32>(&mut store, EXPORT)?;
    run.call(&mut store, (spec.args[0], spec.args[1]))
}

#[test]
fn every_wat_parses_keeps_the_contract_and_validates_with_suite_features() {
    for variant in all_variants() {
        let engine = host_engine(variant);
        for spec in WORKLOADS {
            // `wasm_bytes` parses the WAT and checks the export contract.
            let wasm = wasm_bytes(spec).unwrap_or_else(|e| panic!("{e:#}"));
            Module::validate(&engine, &wasm)
                .map_err(into_anyhow)
                .unwrap_or_else(|e| panic!("{} under {}: {e:#}", spec.name, variant.label()));
        }
    }
}

#[test]
fn catalogue_entries_are_unique_and_self_consistent() {
    let mut names = HashSet::new();
    for spec in WORKLOADS.iter().chain(CONTAIN_WORKLOADS) {
        assert!(names.insert(spec.name), "{} is listed twice", spec.name);
        // File names follow the experiment name, so a copy-pasted entry
        // pointing at the wrong WAT is caught here.
        let expected_path = format!("workloads/wat/{}.wat", spec.name.replace('.', "_"));
        assert_eq!(spec.source.path, expected_path, "{}", spec.name);
        let prefix = match spec.kind() {
            // Test-only: a call that goes wrong inside its host call.
            WorkloadKind::Call if CONTAIN_WORKLOADS.iter().any(|c| c.name == spec.name) => {
                "contain."
            }
            WorkloadKind::Call => "call.",
            WorkloadKind::Trap => "trap.",
            other => panic!("{}: a WAT workload is never {other:?}", spec.name),
        };
        assert!(
            spec.name.starts_with(prefix),
            "{} is a {:?} workload",
            spec.name,
            spec.kind()
        );
    }
    // Every WAT file in the directory is in the catalogue (none forgotten).
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/wat");
    for entry in std::fs::read_dir(dir).unwrap() {
        let file = entry.unwrap().file_name().into_string().unwrap();
        let path = format!("workloads/wat/{file}");
        assert!(
            WORKLOADS
                .iter()
                .chain(CONTAIN_WORKLOADS)
                .any(|spec| spec.source.path == path),
            "{path} is not in the catalogue"
        );
    }
}

#[test]
fn default_and_quick_suites_list_every_workload() {
    // The sample count, not the module list, is what differs between a quick
    // and a full run, and it is chosen when the kernel boots.
    for suite in [SuiteName::Default, SuiteName::Quick] {
        let names: Vec<_> = suite.workloads().iter().map(|s| s.name).collect();
        let all: Vec<_> = WORKLOADS.iter().map(|s| s.name).collect();
        assert_eq!(names, all, "{}", suite.name());
    }
    // The test-only suite: its hooks' workloads first, then all of them.
    let contain: Vec<_> = SuiteName::Contain
        .workloads()
        .iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(contain[..2], ["contain.host_panic", "contain.host_fault"]);
    assert_eq!(contain.len(), 2 + WORKLOADS.len());
}

#[test]
fn test_hook_workloads_keep_the_contract_and_other_imports_are_refused() {
    for spec in CONTAIN_WORKLOADS {
        wasm_bytes(spec).unwrap_or_else(|e| panic!("{}: {e:#}", spec.name));
    }
    let other = wat::parse_str(
        r#"(module (import "env" "f" (func))
             (func (export "run") (param i32 i32) (result i32) i32.const 0))"#,
    )
    .unwrap();
    let error = traplab_workloads::contract::check_contract(&other).unwrap_err();
    assert!(format!("{error:#}").contains("imports env.f"), "{error:#}");
}

#[test]
fn every_workload_returns_or_traps_as_named_on_the_host() {
    for variant in all_variants() {
        let engine = host_engine(variant);
        for spec in WORKLOADS {
            let outcome = run_on_host(&engine, spec);
            let context = format!("{} under {}", spec.name, variant.label());
            match (spec.expect, outcome) {
                (Expectation::Returns(expected), Ok(value)) => {
                    assert_eq!(value, expected, "{context}")
                }
                (Expectation::Returns(_), Err(error)) => {
                    panic!("{context}: expected a value, got {:#}", into_anyhow(error))
                }
                (Expectation::Traps { trap, .. }, Ok(value)) => {
                    panic!("{context}: expected trap {trap:?}, returned {value}")
                }
                (Expectation::Traps { trap, .. }, Err(error)) => {
                    let observed = error.downcast_ref::<Trap>().copied();
                    assert_eq!(observed, Some(trap), "{context}: {:#}", into_anyhow(error));
                }
            }
        }
    }
}
