//! Proves that with explicit checks (`signals_based_traps(false)`) every
//! workload traps without any CPU exception, which is what makes that mode
//! the software baseline the exception path is compared against.
//!
//! wasmtime installs its process-wide SIGSEGV/SIGILL/SIGFPE handlers only
//! when an engine with signals-based traps is created (`Engine::new`), so
//! this file is its own test binary and never creates one. A fault here would
//! find no wasmtime handler and kill the process (Rust's own SIGSEGV handler
//! only reports stack-guard hits and otherwise restores the default action),
//! failing the run instead of being silently turned into a trap.

use traplab_suite::{EngineVariant, TrapMode, engine_config};
use traplab_workloads::compile::wasm_bytes;
use traplab_workloads::contract::into_anyhow;
use traplab_workloads::{EXPORT, Expectation, WORKLOADS};
use wasmtime::{Engine, Instance, Module, Store, Trap};

#[test]
fn explicit_checks_trap_every_workload_without_a_cpu_exception() {
    for backtrace in [false, true] {
        let variant = EngineVariant {
            trap_mode: TrapMode::Explicit,
            backtrace,
        };
        let engine = Engine::new(&engine_config(variant))
            .map_err(into_anyhow)
            .unwrap();
        assert!(
            !engine.get_signals_based_traps(),
            "this binary must not install signal handlers"
        );
        for spec in WORKLOADS {
            let wasm = wasm_bytes(spec).unwrap_or_else(|e| panic!("{e:#}"));
            let module = Module::new(&engine, &wasm).map_err(into_anyhow).unwrap();
            let mut store = Store::new(&engine, ());
            let instance = Instance::new(&mut store, &module, &[])
                .map_err(into_anyhow)
                .unwrap();
            let run = instance
                .get_typed_func::<(i32, i32), i32>(&mut store, EXPORT)
                .map_err(into_anyhow)
                .unwrap();
            let outcome = run.call(&mut store, (spec.args[0], spec.args[1]));
            let context = format!("{} under {}", spec.name, variant.label());
            match spec.expect {
                Expectation::Returns(expected) => {
                    assert_eq!(outcome.map_err(into_anyhow).unwrap(), expected, "{context}")
                }
                Expectation::Traps { trap, .. } => {
                    let error = outcome.expect_err(&context);
                    assert_eq!(error.downcast_ref::<Trap>(), Some(&trap), "{context}");
                }
            }
        }
    }
}
