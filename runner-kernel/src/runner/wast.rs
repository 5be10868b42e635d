//! Conformance mode: run the commands of spec-style `.wast` scripts inside
//! the kernel.
//!
//! The host parsed each script and precompiled its modules
//! (`traplab-conformance`); here every command becomes one `result` record
//! named `wast.<script>:<line>`, under each trap mode: `ok` (passed),
//! `failed` (with the reason) or `skipped` (a command this mode does not
//! run, counted so nothing is silently dropped). For `assert_trap` the
//! observed trap code and the CPU vector that raised it are recorded.
//!
//! Each script runs in one store per trap mode, with a linker holding the
//! `spectest` module and the instances the script `register`s, so modules
//! import from each other as the spec scripts expect. `assert_invalid`
//! and `assert_malformed` were decided on the host (refusing a module is
//! a compile question); their records carry the host's verdict and say
//! "checked on the host, not run in the kernel".

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use traplab_wire::metric;

use alloc::collections::BTreeMap;

use traplab_suite::image::InstantiationFailure;
use traplab_suite::{Command, EngineVariant, Invoke, Script, Suite, TrapMode, Value};
use traplab_wire::{ExperimentResult, Record, Status, TrapSignature};
use wasmtime::{
    Engine, Global, GlobalType, Instance, Linker, Memory, MemoryType, Module, Mutability, Ref,
    RefType, Store, Table, TableType, Trap, Val, ValType,
};

use super::{LabKernel, emit_metric};
use crate::{exceptions, fault, report};
use traplab_runner_core::{Options, Platform};

/// Engine configurations scripts run under (the suite's, shared with the
/// host's conformance table).
pub const VARIANTS: [EngineVariant; 2] = Script::VARIANTS;

pub fn experiment_name(script: &Script, command: &Command) -> String {
    script.command_experiment(command)
}

/// What a script's commands share under one trap mode, as in wasmtime's
/// own `.wast` runner (`wasmtime-wast`'s `WastContext`): one store for
/// every instance of the script, a linker holding `spectest` and the
/// `register`ed instances, the most recent instance, and the instances
/// the script names by `$id`.
struct ScriptState {
    store: Store<()>,
    linker: Linker<()>,
    current: Option<Instance>,
    named: BTreeMap<String, Instance>,
}

impl ScriptState {
    fn new(engine: &Engine) -> Result<Self, String> {
        let mut store = Store::new(engine, ());
        let mut linker = Linker::new(engine);
        // Spec scripts register the same name again for a later module;
        // the latest definition is the one to link, as in wasmtime's runner.
        linker.allow_shadowing(true);
        define_spectest(&mut linker, &mut store).map_err(|e| format!("spectest: {e:?}"))?;
        Ok(ScriptState {
            store,
            linker,
            current: None,
            named: BTreeMap::new(),
        })
    }

    /// The instance `module` names (`$id`), or the most recent one.
    fn instance(&self, module: Option<&str>) -> Result<Instance, String> {
        match module {
            Some(id) => self
                .named
                .get(id)
                .copied()
                .ok_or_else(|| format!("no instance ${id} (its module did not instantiate)")),
            None => self
                .current
                .ok_or_else(|| "no module instantiated".to_string()),
        }
    }
}

/// The `spectest` module the spec scripts import (the names and values of
/// the reference interpreter's, which wasmtime's runner provides too).
/// The print functions print nothing: no assertion checks their output,
/// and text on COM1 between records is only noise to the host.
fn define_spectest(linker: &mut Linker<()>, store: &mut Store<()>) -> wasmtime::Result<()> {
    linker.func_wrap("spectest", "print", || {})?;
    linker.func_wrap("spectest", "print_i32", |_: i32| {})?;
    linker.func_wrap("spectest", "print_i64", |_: i64| {})?;
    linker.func_wrap("spectest", "print_f32", |_: f32| {})?;
    linker.func_wrap("spectest", "print_f64", |_: f64| {})?;
    linker.func_wrap("spectest", "print_i32_f32", |_: i32, _: f32| {})?;
    linker.func_wrap("spectest", "print_f64_f64", |_: f64, _: f64| {})?;
    // 666 and 666.6 (as bit patterns: the kernel is a soft-float target,
    // and the values must be exact).
    let globals = [
        ("global_i32", ValType::I32, Val::I32(666)),
        ("global_i64", ValType::I64, Val::I64(666)),
        ("global_f32", ValType::F32, Val::F32(0x4426_a666)),
        ("global_f64", ValType::F64, Val::F64(0x4084_d4cc_cccc_cccd)),
    ];
    for (name, ty, value) in globals {
        let global = Global::new(&mut *store, GlobalType::new(ty, Mutability::Const), value)?;
        linker.define(&mut *store, "spectest", name, global)?;
    }
    let table = Table::new(
        &mut *store,
        TableType::new(RefType::FUNCREF, 10, Some(20)),
        Ref::Func(None),
    )?;
    linker.define(&mut *store, "spectest", "table", table)?;
    let memory = Memory::new(&mut *store, MemoryType::new(1, Some(2)))?;
    linker.define(&mut *store, "spectest", "memory", memory)?;
    Ok(())
}

#[derive(Default)]
struct Tally {
    passed: u64,
    failed: u64,
    unsupported: u64,
}

pub fn run(suite: &Suite<'_>, opts: &Options) {
    for variant in VARIANTS {
        let engine = match super::wasm::engine(variant) {
            Ok(e) => e,
            Err(e) => {
                super::emit_result(
                    "wast.setup",
                    variant.label(),
                    0,
                    None,
                    None,
                    Some(format!("{e:?}")),
                );
                continue;
            }
        };
        for script in &suite.manifest.scripts {
            if !super::selected(opts, &script.experiment()) {
                continue;
            }
            run_script(&engine, suite, script, variant);
        }
    }
}

/// A command's verdict: status, expected and observed trap, message.
type CommandVerdict = (
    Status,
    Option<TrapSignature>,
    Option<TrapSignature>,
    Option<String>,
);

fn run_script(engine: &Engine, suite: &Suite<'_>, script: &Script, variant: EngineVariant) {
    let config = variant.label();
    let mut state = match ScriptState::new(engine) {
        Ok(state) => state,
        Err(why) => {
            // Every command of the script then has no result, which the
            // host counts as failed.
            super::emit_result(
                &format!("wast.{}.setup", script.name),
                config,
                0,
                None,
                None,
                Some(why),
            );
            return;
        }
    };
    let mut tally = Tally::default();
    for command in &script.commands {
        let name = experiment_name(script, command);
        fault::set_during(traplab_wire::During::experiment(&name, config));
        // Each command contained, like the suite's experiments: a panic or
        // unclaimed fault fails the command and the script goes on.
        let outcome = LabKernel
            .contain(|| run_command(&mut state, suite, script, command, variant.trap_mode));
        let (status, expected, observed, message) = match outcome {
            Ok(outcome) => outcome,
            Err(abandoned) => {
                // The store was mid-call (or mid-drop) when abandoned: never
                // touch or drop it again (leaked). A fresh one serves the
                // script's later commands, which fail where they need an
                // instance the old one held.
                match ScriptState::new(engine) {
                    Ok(fresh) => core::mem::forget(core::mem::replace(&mut state, fresh)),
                    Err(why) => {
                        core::mem::forget(state);
                        super::emit_result(
                            &name,
                            config,
                            0,
                            None,
                            None,
                            Some(format!(
                                "{}; no fresh store for the rest: {why}",
                                abandoned.message()
                            )),
                        );
                        return;
                    }
                }
                (Status::Failed, None, None, Some(abandoned.message()))
            }
        };
        match status {
            Status::Ok => tally.passed += 1,
            Status::Failed => tally.failed += 1,
            Status::Skipped => tally.unsupported += 1,
        }
        report::emit(Record::Result(ExperimentResult {
            experiment: name,
            config: config.to_string(),
            status,
            samples: 0,
            expected,
            observed,
            message,
        }));
    }
    let context = format!("wast.{} {config}", script.name);
    emit_metric(metric::WAST_PASSED, tally.passed, "commands", &context);
    emit_metric(metric::WAST_FAILED, tally.failed, "commands", &context);
    emit_metric(
        metric::WAST_UNSUPPORTED,
        tally.unsupported,
        "commands",
        &context,
    );
}

fn run_command(
    state: &mut ScriptState,
    suite: &Suite<'_>,
    script: &Script,
    command: &Command,
    mode: TrapMode,
) -> CommandVerdict {
    let ok = (Status::Ok, None, None, None);
    let failed = |why: String| (Status::Failed, None, None, Some(why));
    match command {
        Command::Unsupported { what, .. } => (
            Status::Skipped,
            None,
            None,
            Some(format!("unsupported: {what}")),
        ),
        Command::HostChecked {
            directive,
            verdicts,
            ..
        } => {
            // Not run here: the host decided whether the engine
            // configuration refuses the module; this record carries that
            // verdict into the run, saying so.
            match verdicts.iter().find(|v| v.trap_mode == mode) {
                Some(v) => (
                    if v.passed { Status::Ok } else { Status::Failed },
                    None,
                    None,
                    Some(format!("{HOST_CHECKED} ({directive}): {}", v.detail)),
                ),
                None => failed(format!(
                    "{HOST_CHECKED} ({directive}): no verdict for {}",
                    mode.name()
                )),
            }
        }
        Command::Module {
            artifacts,
            id,
            expect_failure,
            ..
        } => {
            let module = match load(state.store.engine(), suite, script, artifacts, mode) {
                Ok(module) => module,
                Err(why) => return failed(why),
            };
            let (before, _) = exceptions::counters();
            let outcome = state.linker.instantiate(&mut state.store, &module);
            let (after, last) = exceptions::counters();
            // The vector of a trap while instantiating (a start function's
            // `unreachable`, a segment out of bounds), as for calls.
            let vector = if after == before + 1 { last } else { None };
            match (expect_failure, outcome) {
                (None, Ok(instance)) => {
                    state.current = Some(instance);
                    if let Some(id) = id {
                        state.named.insert(id.clone(), instance);
                    }
                    ok
                }
                (None, Err(e)) => {
                    // Later commands must not call the previous module
                    // as if it were this one.
                    state.current = None;
                    if let Some(id) = id {
                        state.named.remove(id);
                    }
                    failed(format!("instantiate: {e:?}"))
                }
                (Some(InstantiationFailure::Unlinkable { message }), outcome) => match outcome {
                    Ok(_) => failed(format!("instantiated, expected a link error ({message:?})")),
                    Err(e) => match e.downcast_ref::<Trap>() {
                        Some(trap) => failed(format!(
                            "trapped ({trap:?}) while instantiating, expected a link error ({message:?})"
                        )),
                        None => (Status::Ok, None, None, Some(format!("link error: {e}"))),
                    },
                },
                (Some(InstantiationFailure::Trap { message }), outcome) => {
                    let expected = trap_signature(message.clone(), None);
                    match outcome {
                        Ok(_) => (
                            Status::Failed,
                            Some(expected),
                            None,
                            Some("instantiated, expected a trap".to_string()),
                        ),
                        Err(e) => match e.downcast_ref::<Trap>() {
                            Some(trap) => {
                                let code = format!("{trap:?}");
                                let display = format!("{trap}");
                                let observed = trap_signature(code.clone(), vector);
                                if trap_matches(&code, &display, message) {
                                    (Status::Ok, Some(expected), Some(observed), None)
                                } else {
                                    (
                                        Status::Failed,
                                        Some(expected),
                                        Some(observed),
                                        Some(format!("trap {code} ({display})")),
                                    )
                                }
                            }
                            None => (
                                Status::Failed,
                                Some(expected),
                                None,
                                Some(format!("instantiate: {e:?}, expected a trap")),
                            ),
                        },
                    }
                }
            }
        }
        Command::Register { name, module, .. } => match state.instance(module.as_deref()) {
            Ok(instance) => match state.linker.instance(&mut state.store, name, instance) {
                Ok(_) => ok,
                Err(e) => failed(format!("register: {e:?}")),
            },
            Err(why) => failed(why),
        },
        Command::AssertGlobal {
            module,
            global,
            expected,
            ..
        } => {
            let value = state.instance(module.as_deref()).and_then(|instance| {
                instance
                    .get_global(&mut state.store, global)
                    .map(|g| g.get(&mut state.store))
                    .ok_or_else(|| format!("no exported global {global:?}"))
            });
            match value {
                Ok(value) => match compare(&[value], core::slice::from_ref(expected)) {
                    None => ok,
                    Some(why) => failed(why),
                },
                Err(why) => failed(why),
            }
        }
        Command::AssertReturn {
            invoke, expected, ..
        } => match call(state, invoke) {
            Ok((results, _)) => match compare(&results, expected) {
                None => ok,
                Some(why) => failed(why),
            },
            Err(why) => failed(why),
        },
        Command::Invoke { invoke, .. } => match call(state, invoke) {
            Ok(_) => ok,
            Err(why) => failed(why),
        },
        Command::AssertTrap {
            invoke, message, ..
        } => {
            let expected = trap_signature(message.clone(), None);
            match call(state, invoke) {
                Ok((results, _)) => (
                    Status::Failed,
                    Some(expected),
                    None,
                    Some(format!("returned {results:?}, expected a trap")),
                ),
                Err(why) if why.starts_with("trap ") => {
                    // "trap <Code> (<display>) vector <v|none>"
                    let (code, vector, matches) = parse_trap_outcome(&why, message);
                    let observed = trap_signature(code, vector);
                    if matches {
                        (Status::Ok, Some(expected), Some(observed), None)
                    } else {
                        (Status::Failed, Some(expected), Some(observed), Some(why))
                    }
                }
                Err(why) => (Status::Failed, Some(expected), None, Some(why)),
            }
        }
    }
}

/// How a host-checked record's message starts, so no reader takes it for
/// something the kernel ran.
const HOST_CHECKED: &str = "checked on the host, not run in the kernel";

fn trap_signature(trap: String, vector: Option<u8>) -> TrapSignature {
    TrapSignature {
        trap: Some(trap),
        vector,
        signal: None,
        si_code: None,
    }
}

/// The module of `artifacts` for `mode`, checksum-verified and loaded.
fn load(
    engine: &Engine,
    suite: &Suite<'_>,
    script: &Script,
    artifacts: &[traplab_suite::Artifact],
    mode: TrapMode,
) -> Result<Module, String> {
    let artifact = artifacts
        .iter()
        .find(|a| a.trap_mode == mode)
        .ok_or_else(|| format!("no {} artifact", mode.name()))?;
    let bytes = suite
        .checked_bytes(&script.name, artifact)
        .map_err(|e| e.to_string())?;
    traplab_runner_core::wasm::deserialize(engine, bytes)
}

fn to_val(v: &Value) -> Result<Val, String> {
    Ok(match *v {
        Value::I32(x) => Val::I32(x),
        Value::I64(x) => Val::I64(x),
        Value::F32(bits) => Val::F32(bits),
        Value::F64(bits) => Val::F64(bits),
        other => return Err(format!("{other:?} is only valid as an expected result")),
    })
}

/// Call `invoke` on its instance. `Err("trap …")` describes a trap as
/// "trap <Code> (<message>) vector <v>"; other errors are plain text.
fn call(state: &mut ScriptState, invoke: &Invoke) -> Result<(Vec<Val>, u64), String> {
    let instance = state.instance(invoke.module.as_deref())?;
    let func = instance
        .get_func(&mut state.store, &invoke.export)
        .ok_or_else(|| format!("no exported function {:?}", invoke.export))?;
    let args = invoke
        .args
        .iter()
        .map(to_val)
        .collect::<Result<Vec<_>, _>>()?;
    let mut results = alloc::vec![Val::I32(0); func.ty(&state.store).results().len()];
    let (before, _) = exceptions::counters();
    let outcome = func.call(&mut state.store, &args, &mut results);
    let (after, last) = exceptions::counters();
    match outcome {
        Ok(()) => Ok((results, after - before)),
        Err(e) => match e.downcast_ref::<Trap>() {
            Some(trap) => {
                let vector = if after == before + 1 {
                    last.map_or("none".to_string(), |v| v.to_string())
                } else {
                    "none".to_string()
                };
                Err(format!("trap {trap:?} ({trap}) vector {vector}"))
            }
            None => Err(format!("error: {e:?}")),
        },
    }
}

/// Split a "trap <Code> (<display>) vector <v>" description and decide
/// whether it matches the script's expected message.
fn parse_trap_outcome(outcome: &str, message: &str) -> (String, Option<u8>, bool) {
    let rest = &outcome["trap ".len()..];
    let code = rest.split(' ').next().unwrap_or("").to_string();
    let display = rest
        .split_once(" (")
        .and_then(|(_, r)| r.rsplit_once(") vector "))
        .map_or("", |(d, _)| d);
    let vector = rest.rsplit(' ').next().and_then(|v| v.parse().ok());
    (code.clone(), vector, trap_matches(&code, display, message))
}

/// Whether a trap satisfies `assert_trap`'s message. wasmtime's trap text
/// contains the spec message for most traps; the spec's older names for
/// table traps and `unreachable` are mapped explicitly.
fn trap_matches(code: &str, display: &str, message: &str) -> bool {
    display.contains(message)
        || matches!(
            (message, code),
            ("unreachable", "UnreachableCodeReached")
                | ("undefined element", "TableOutOfBounds")
                | ("uninitialized element", "IndirectCallToNull")
                | ("uninitialized element 2", "IndirectCallToNull")
                | ("indirect call type mismatch", "BadSignature")
                | ("call stack exhausted", "StackOverflow")
        )
}

fn compare(results: &[Val], expected: &[Value]) -> Option<String> {
    if results.len() != expected.len() {
        return Some(format!(
            "{} results, expected {}",
            results.len(),
            expected.len()
        ));
    }
    for (i, (got, want)) in results.iter().zip(expected).enumerate() {
        let ok = match (got, want) {
            (Val::I32(a), Value::I32(b)) => a == b,
            (Val::I64(a), Value::I64(b)) => a == b,
            (Val::F32(a), Value::F32(b)) => a == b,
            (Val::F64(a), Value::F64(b)) => a == b,
            (Val::F32(a), Value::F32CanonicalNan) => a & 0x7fff_ffff == 0x7fc0_0000,
            (Val::F32(a), Value::F32ArithmeticNan) => a & 0x7fc0_0000 == 0x7fc0_0000,
            (Val::F64(a), Value::F64CanonicalNan) => {
                a & 0x7fff_ffff_ffff_ffff == 0x7ff8_0000_0000_0000
            }
            (Val::F64(a), Value::F64ArithmeticNan) => {
                a & 0x7ff8_0000_0000_0000 == 0x7ff8_0000_0000_0000
            }
            _ => false,
        };
        if !ok {
            return Some(format!("result {i}: got {got:?}, expected {want:?}"));
        }
    }
    None
}
