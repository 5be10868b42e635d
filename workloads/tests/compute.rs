//! Proves that the compute module keeps the workload contract and returns
//! the golden results of its native twins: every export runs on host-native
//! wasmtime engines built from the shared `engine_config` (the kernel's
//! settings, minus `Config::target`) under both trap modes, and the
//! contract check refuses each kind of module that breaks it, saying why.
//!
//! This binary creates signals-based engines (installing wasmtime's signal
//! handlers); `explicit_run.rs` is the one that must not.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use traplab_suite::{EngineVariant, TrapMode, engine_config};
use traplab_workloads::compute::{self, build_module, check_golden, check_module, run_on};
use traplab_workloads::contract::{check_exports, into_anyhow};
use traplab_workloads::{KERNELS, SuiteName};
use wasmparser::{Operator, Parser, Payload};
use wasmtime::{Engine, Module};

/// The compute module, built once per test binary.
fn module() -> &'static [u8] {
    static WASM: OnceLock<Vec<u8>> = OnceLock::new();
    WASM.get_or_init(|| build_module().unwrap_or_else(|e| panic!("{e:#}")))
}

fn error_of(result: anyhow::Result<()>) -> String {
    format!(
        "{:#}",
        result.expect_err("the check must refuse the module")
    )
}

fn wat(text: &str) -> Vec<u8> {
    wat::parse_str(text).unwrap()
}

#[test]
fn every_compute_export_returns_its_golden_result_under_both_trap_modes() {
    let wasm = module();
    for trap_mode in TrapMode::ALL {
        for backtrace in [false, true] {
            let variant = EngineVariant {
                trap_mode,
                backtrace,
            };
            let engine = Engine::new(&engine_config(variant))
                .map_err(into_anyhow)
                .unwrap();
            let module = Module::new(&engine, wasm).map_err(into_anyhow).unwrap();
            for kernel in KERNELS {
                let value = run_on(&engine, &module, kernel).unwrap_or_else(|e| panic!("{e:#}"));
                assert_eq!(
                    value,
                    kernel.golden,
                    "{} under {}",
                    kernel.name,
                    variant.label()
                );
                // The native twin, in this process, agrees.
                assert_eq!(
                    (kernel.run)(kernel.args[0], kernel.args[1]),
                    value,
                    "{}",
                    kernel.name
                );
            }
        }
    }
}

#[test]
fn the_compute_module_keeps_the_contract_and_its_golden_results() {
    let wasm = module();
    check_module(wasm).unwrap_or_else(|e| panic!("{e:#}"));
    check_golden(wasm).unwrap_or_else(|e| panic!("{e:#}"));
    // Its function exports are exactly the kernels (check_module refuses
    // extra ones; here, the other direction, independently).
    let mut functions = BTreeSet::new();
    for payload in Parser::new(0).parse_all(wasm) {
        if let Payload::ExportSection(exports) = payload.unwrap() {
            for export in exports {
                let export = export.unwrap();
                if export.kind == wasmparser::ExternalKind::Func {
                    functions.insert(export.name.to_string());
                }
            }
        }
    }
    let kernels: BTreeSet<_> = KERNELS.iter().map(|k| k.export.to_string()).collect();
    assert_eq!(functions, kernels);
    // Both suites list every kernel.
    for suite in [SuiteName::Default, SuiteName::Quick] {
        assert_eq!(
            suite.compute_kernels().len(),
            KERNELS.len(),
            "{}",
            suite.name()
        );
    }
}

#[test]
fn the_compute_module_uses_scalar_sqrt_and_no_simd() {
    // `traplab_compute::sqrt` reaches `f64.sqrt` through a SIMD intrinsic on
    // lane 0 of a splat (the stable way to ask for it without std); LLVM
    // must fold that to the scalar instruction, so the wasm and native
    // twins run the same kind of code.
    let mut sqrt = 0;
    let mut simd = Vec::new();
    for payload in Parser::new(0).parse_all(module()) {
        let Payload::CodeSectionEntry(body) = payload.unwrap() else {
            continue;
        };
        let mut reader = body.get_operators_reader().unwrap();
        while !reader.eof() {
            let op = reader.read().unwrap();
            if matches!(op, Operator::F64Sqrt) {
                sqrt += 1;
            }
            let name = format!("{op:?}");
            if name.starts_with("V128")
                || name.contains("x2")
                || name.contains("x4")
                || name.contains("x8")
                || name.contains("x16")
            {
                simd.push(name);
            }
        }
    }
    assert!(sqrt > 0, "no f64.sqrt in the module");
    assert!(
        simd.is_empty(),
        "SIMD instructions in the compute module: {simd:?}"
    );
}

#[test]
fn the_compute_module_is_small_and_mostly_zero_initialised() {
    // Every scratch buffer is all zeros, so it lives in `.bss` and costs no
    // data segment (a non-zero one would make the kernel copy hundreds of
    // KiB on every instantiation); the shadow stack is 64 KiB.
    let mut data = 0;
    let mut pages = None;
    for payload in Parser::new(0).parse_all(module()) {
        match payload.unwrap() {
            Payload::DataSection(segments) => {
                for segment in segments {
                    data += segment.unwrap().data.len();
                }
            }
            Payload::MemorySection(memories) => {
                pages = Some(memories.into_iter().next().unwrap().unwrap().initial);
            }
            _ => {}
        }
    }
    assert!(data < 16 << 10, "{data} bytes of data segments");
    let pages = pages.expect("the module defines its memory");
    assert!(pages <= 16, "{pages} initial pages of 64 KiB");
}

#[test]
fn the_contract_check_refuses_imports() {
    let module = wat(
        r#"(module (import "env" "f" (func)) (func (export "run") (param i32 i32) (result i32) i32.const 0))"#,
    );
    assert!(
        error_of(check_exports(&module, &["run"]))
            .contains("it imports env.f; workloads import nothing but the runner's test hooks")
    );
}

#[test]
fn the_contract_check_refuses_a_missing_export() {
    let module = wat(r#"(module (func (export "fib") (param i32 i32) (result i32) i32.const 0))"#);
    assert_eq!(
        error_of(check_exports(&module, &["fib", "sieve"])),
        "it does not export `sieve`"
    );
}

#[test]
fn the_contract_check_refuses_a_wrong_signature() {
    let module = wat(r#"(module (func (export "fib") (param i32) (result i32) i32.const 0))"#);
    assert_eq!(
        error_of(check_exports(&module, &["fib"])),
        "its export `fib` has type (func (param i32) (result i32)), not (i32, i32) -> i32"
    );
    let module = wat(r#"(module (global (export "fib") i32 (i32.const 0)))"#);
    assert_eq!(
        error_of(check_exports(&module, &["fib"])),
        "its export `fib` is not a function"
    );
}

#[test]
fn the_contract_check_refuses_an_unlisted_function_export() {
    let module = wat(r#"(module (memory (export "memory") 1)
             (func (export "fib") (param i32 i32) (result i32) i32.const 0)
             (func (export "extra") (param i32 i32) (result i32) i32.const 0))"#);
    assert_eq!(
        error_of(check_exports(&module, &["fib"])),
        "it exports the function `extra`, which is not one of its listed exports (fib)"
    );
}

#[test]
fn the_contract_check_refuses_an_invalid_module() {
    // A truncated section header.
    let error = error_of(check_exports(b"\0asm\x01\0\0\0\x01", &["run"]));
    assert!(
        error.starts_with("the module does not validate: "),
        "{error}"
    );
}

#[test]
fn a_module_with_a_wrong_result_is_refused_naming_the_kernel() {
    // Every kernel export present and well typed, but `fib` returns 0.
    let exports: String = KERNELS
        .iter()
        .map(|k| {
            format!(
                r#"(func (export "{}") (param i32 i32) (result i32) i32.const {})"#,
                k.export,
                if k.export == "fib" { 0 } else { k.golden }
            )
        })
        .collect();
    let module = wat(&format!("(module {exports})"));
    check_module(&module).unwrap();
    let fib = KERNELS.iter().find(|k| k.export == "fib").unwrap();
    assert_eq!(
        error_of(check_golden(&module)),
        format!(
            "compute.fib: the wasm export `fib` returned 0 for ({}, {}), its golden result is {}",
            fib.args[0], fib.args[1], fib.golden
        )
    );
    // And a module missing a kernel names the module and the export.
    let error = error_of(check_module(&wat(r#"(module)"#)));
    assert_eq!(
        error,
        format!(
            "the compute module ({}) breaks the workload contract: it does not export `{}`",
            compute::SOURCE_DIR,
            KERNELS[0].export
        )
    );
}

#[test]
fn divmix_divides_by_its_exported_table_with_bare_wasm_divisions() {
    let wasm = module();
    // The table's address is an exported global, and it holds the
    // native table's entries (checked by instantiating in campaign.rs'
    // `resolve`; here, its presence).
    let offset = compute::divisor_table(wasm)
        .unwrap()
        .expect("the module exports TRAPLAB_DIVISORS");
    assert!(offset > 0);
    // The code the `divmix` export runs (its body and every function it
    // calls, transitively) divides with `i32.div_u`/`i32.rem_u` and has no
    // `unreachable`: no Rust-level zero check (a branch to the panic
    // handler), so a zeroed entry is wasm's own divide-by-zero trap.
    let mut export = None;
    let mut bodies = Vec::new();
    for payload in Parser::new(0).parse_all(wasm) {
        match payload.unwrap() {
            Payload::ExportSection(exports) => {
                for e in exports {
                    let e = e.unwrap();
                    if e.name == "divmix" {
                        export = Some(e.index);
                    }
                }
            }
            Payload::CodeSectionEntry(body) => bodies.push(body),
            _ => {}
        }
    }
    // The module imports nothing, so function indices are code indices.
    let mut todo = vec![export.expect("the module exports divmix")];
    let mut seen = BTreeSet::new();
    let (mut divisions, mut unreachable) = (0, 0);
    while let Some(function) = todo.pop() {
        if !seen.insert(function) {
            continue;
        }
        let mut reader = bodies[function as usize].get_operators_reader().unwrap();
        while !reader.eof() {
            match reader.read().unwrap() {
                Operator::I32DivU | Operator::I32RemU => divisions += 1,
                Operator::Unreachable => unreachable += 1,
                Operator::Call { function_index } => todo.push(function_index),
                Operator::CallIndirect { .. } => panic!("divmix calls indirectly"),
                _ => {}
            }
        }
    }
    assert!(divisions > 0, "no i32.div_u / i32.rem_u in divmix");
    assert_eq!(
        unreachable, 0,
        "divmix can reach an `unreachable` (a zero check?)"
    );
}
