//! Conformance mode: run the commands of spec-style `.wast` scripts inside
//! the kernel.
//!
//! The host parsed each script and precompiled its modules
//! (`traplab-conformance`); here every command becomes one `result` record
//! named `wast.<script>:<line>`, under each trap mode: `ok` (passed),
//! `failed` (with the reason) or `skipped` (a command this mode does not
//! run, counted so nothing is silently dropped). For `assert_trap` the
//! observed trap code and the CPU vector that raised it are recorded.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use traplab_suite::{Command, EngineVariant, Invoke, Script, Suite, TrapMode, Value};
use traplab_wire::{ExperimentResult, Record, Status, TrapSignature};
use wasmtime::{Engine, Instance, Store, Trap, Val};

use super::{LabKernel, emit_metric};
use crate::{exceptions, fault, report};
use traplab_runner_core::{Options, Platform};

/// Engine configurations scripts run under: both trap modes, backtraces off.
pub const VARIANTS: [EngineVariant; 2] = [
    EngineVariant {
        trap_mode: TrapMode::Signals,
        backtrace: false,
    },
    EngineVariant {
        trap_mode: TrapMode::Explicit,
        backtrace: false,
    },
];

pub fn experiment_name(script: &Script, command: &Command) -> String {
    format!("wast.{}:{}", script.name, command.line())
}

struct Current {
    store: Store<()>,
    instance: Instance,
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
            if !super::selected(opts, &format!("wast.{}", script.name)) {
                continue;
            }
            run_script(&engine, suite, script, variant);
        }
    }
}

fn run_script(engine: &Engine, suite: &Suite<'_>, script: &Script, variant: EngineVariant) {
    let config = variant.label();
    let mut current: Option<Current> = None;
    let mut tally = Tally::default();
    for command in &script.commands {
        let name = experiment_name(script, command);
        fault::set_during(&format!("{name} {config}"));
        // Each command contained, like the suite's experiments: a panic or
        // unclaimed fault fails the command and the script goes on.
        let outcome = LabKernel.contain(|| match command {
            Command::Unsupported { what, .. } => (
                Status::Skipped,
                None,
                None,
                Some(format!("unsupported: {what}")),
            ),
            Command::Module { artifacts, .. } => {
                current = None;
                match instantiate(engine, suite, script, artifacts, variant.trap_mode) {
                    Ok(c) => {
                        current = Some(c);
                        (Status::Ok, None, None, None)
                    }
                    Err(why) => (Status::Failed, None, None, Some(why)),
                }
            }
            Command::AssertReturn {
                invoke, expected, ..
            } => match call(current.as_mut(), invoke) {
                Ok((results, _)) => match compare(&results, expected) {
                    None => (Status::Ok, None, None, None),
                    Some(why) => (Status::Failed, None, None, Some(why)),
                },
                Err(why) => (Status::Failed, None, None, Some(why)),
            },
            Command::Invoke { invoke, .. } => match call(current.as_mut(), invoke) {
                Ok(_) => (Status::Ok, None, None, None),
                Err(why) => (Status::Failed, None, None, Some(why)),
            },
            Command::AssertTrap {
                invoke, message, ..
            } => {
                let expected = TrapSignature {
                    trap: Some(message.clone()),
                    vector: None,
                    signal: None,
                    si_code: None,
                };
                match call(current.as_mut(), invoke) {
                    Ok((results, _)) => (
                        Status::Failed,
                        Some(expected),
                        None,
                        Some(format!("returned {results:?}, expected a trap")),
                    ),
                    Err(why) if why.starts_with("trap ") => {
                        // "trap <Code> (<display>) vector <v|none>"
                        let (code, vector, matches) = parse_trap_outcome(&why, message);
                        let observed = TrapSignature {
                            trap: Some(code),
                            vector,
                            signal: None,
                            si_code: None,
                        };
                        if matches {
                            (Status::Ok, Some(expected), Some(observed), None)
                        } else {
                            (Status::Failed, Some(expected), Some(observed), Some(why))
                        }
                    }
                    Err(why) => (Status::Failed, Some(expected), None, Some(why)),
                }
            }
        });
        let (status, expected, observed, message) = outcome.unwrap_or_else(|abandoned| {
            // The instance was mid-call (or mid-drop) when abandoned: never
            // touch it again, never drop it (leaked); the script's later
            // commands fail until its next `module`.
            core::mem::forget(current.take());
            (Status::Failed, None, None, Some(abandoned.message()))
        });
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
    emit_metric("wast_passed", tally.passed, "commands", &context);
    emit_metric("wast_failed", tally.failed, "commands", &context);
    emit_metric("wast_unsupported", tally.unsupported, "commands", &context);
}

fn instantiate(
    engine: &Engine,
    suite: &Suite<'_>,
    script: &Script,
    artifacts: &[traplab_suite::Artifact],
    mode: TrapMode,
) -> Result<Current, String> {
    let artifact = artifacts
        .iter()
        .find(|a| a.trap_mode == mode)
        .ok_or_else(|| format!("no {} artifact", mode.name()))?;
    let bytes = suite
        .checked_bytes(&script.name, artifact)
        .map_err(|e| e.to_string())?;
    let module = traplab_runner_core::wasm::deserialize(engine, bytes)?;
    let mut store = Store::new(engine, ());
    let instance =
        Instance::new(&mut store, &module, &[]).map_err(|e| format!("instantiate: {e:?}"))?;
    Ok(Current { store, instance })
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

/// Call `invoke` on the current instance. `Err("trap …")` describes a trap
/// as "trap <Code> (<message>) vector <v>"; other errors are plain text.
fn call(current: Option<&mut Current>, invoke: &Invoke) -> Result<(Vec<Val>, u64), String> {
    let current = current.ok_or("no module instantiated")?;
    let func = current
        .instance
        .get_func(&mut current.store, &invoke.export)
        .ok_or_else(|| format!("no exported function {:?}", invoke.export))?;
    let args = invoke
        .args
        .iter()
        .map(to_val)
        .collect::<Result<Vec<_>, _>>()?;
    let mut results = alloc::vec![Val::I32(0); func.ty(&current.store).results().len()];
    let (before, _) = exceptions::counters();
    let outcome = func.call(&mut current.store, &args, &mut results);
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
