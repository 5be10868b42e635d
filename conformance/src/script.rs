//! `.wast` text → the kernel's script commands ([`traplab_suite::Command`]).
//!
//! What the kernel can run is narrow: it instantiates one module at a time
//! with no imports, and calls exports of the most recent one with
//! `i32`/`i64`/`f32`/`f64` values. Everything a spec-style script may say is
//! classified here, in one place:
//!
//! | directive | becomes |
//! |---|---|
//! | `module` (text, `binary`, `quote`), optionally named | [`Command::Module`] |
//! | `assert_return (invoke …)` | [`Command::AssertReturn`] |
//! | `assert_trap (invoke …)` | [`Command::AssertTrap`] |
//! | `assert_exhaustion (invoke …)` | [`Command::AssertTrap`]: in wasmtime, stack exhaustion *is* a trap (`Trap::StackOverflow`, "call stack exhausted"), which is how wasmtime's own `.wast` runner treats it |
//! | `invoke` | [`Command::Invoke`] |
//! | anything else | [`Command::Unsupported`] |
//!
//! "Anything else" includes: modules with imports, components, modules the
//! kernel's engine cannot compile (a proposal it leaves off), `module
//! definition`/`module instance`, `register`, `get`, `assert_invalid`,
//! `assert_malformed`, `assert_unlinkable`, `assert_exception`, `thread`,
//! `v128` and reference values, `either` results, invokes of a module other
//! than the most recent one, and every invoke while the most recent module
//! is one the kernel does not run. An unsupported command is kept, with a
//! `what` of the form `"<directive>: <reason>"`, so it is counted and listed,
//! never silently dropped.
//!
//! Scripts that are wrong rather than unsupported are errors
//! ([`ScriptError`], naming file, line and column): text that does not
//! parse, a module that does not validate, an invoke before any module, of
//! an export that does not exist or with arguments or results of the wrong
//! types. The kernel would only fail them less clearly.
//!
//! Compiling is not done here: [`convert`] takes the compiler as a closure
//! (the real one is [`crate::compile::KernelCompiler`]), so classification
//! is tested without Cranelift.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use thiserror::Error;
use traplab_suite::{Artifact, Command, HostCompile, Invoke, Script, TrapMode, Value};
use wasmparser::types::EntityType;
use wasmparser::{ValType, Validator, WasmFeatures};
use wast::core::{NanPattern, WastArgCore, WastRetCore};
use wast::parser::{self, ParseBuffer};
use wast::token::Span;
use wast::{QuoteWat, Wast, WastArg, WastDirective, WastExecute, WastInvoke, WastRet, Wat};

/// A script that is wrong (as opposed to one this mode does not support),
/// located in its file. Displayed as `file:line:column: message`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct ScriptError {
    pub file: String,
    /// 1-based.
    pub line: u32,
    /// 1-based.
    pub column: u32,
    pub message: String,
}

/// One precompiled artifact of a module, as the compiler closure returns it.
#[derive(Debug, Clone)]
pub struct ModuleArtifact {
    pub trap_mode: TrapMode,
    pub bytes: Vec<u8>,
    pub host: Option<HostCompile>,
}

/// A converted script: the manifest entry and, for each of its
/// [`Command::Module`]s in order, the artifact bytes (same order as that
/// command's `artifacts`), ready for `pack_with_scripts`.
#[derive(Debug, Clone)]
pub struct ConvertedScript {
    pub script: Script,
    pub module_blobs: Vec<Vec<Vec<u8>>>,
}

impl ConvertedScript {
    /// `(line, what)` of each unsupported command.
    pub fn unsupported(&self) -> impl Iterator<Item = (u32, &str)> {
        self.script.commands.iter().filter_map(|c| match c {
            Command::Unsupported { line, what } => Some((*line, what.as_str())),
            _ => None,
        })
    }
}

/// Compiles one module's wasm (named by its second argument, `file:line`)
/// into its artifacts, one per [`TrapMode`], or says why the kernel's engine
/// cannot compile it.
pub type ModuleCompiler<'a> = dyn FnMut(&[u8], &str) -> Result<Vec<ModuleArtifact>, String> + 'a;

/// The script name the kernel reports under: the file name.
pub fn script_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// Convert the `.wast` `text` of `file` (used in errors; its file name
/// becomes the script name). `compile` turns a module's wasm into its
/// artifacts, one per [`TrapMode`], or says why the kernel's engine cannot
/// compile it (which makes the module unsupported, not the script wrong).
pub fn convert(
    file: &str,
    text: &str,
    compile: &mut ModuleCompiler<'_>,
) -> Result<ConvertedScript, ScriptError> {
    let name = script_name(Path::new(file));
    let at = |span: Span, message: String| {
        let (line, column) = span.linecol_in(text);
        ScriptError {
            file: file.to_string(),
            line: line as u32 + 1,
            column: column as u32 + 1,
            message,
        }
    };
    let buf = ParseBuffer::new(text).map_err(|e| at(e.span(), e.message()))?;
    let wast = parser::parse::<Wast>(&buf).map_err(|e| at(e.span(), e.message()))?;
    let mut converter = Converter {
        current: Current::None,
        known_ids: HashSet::new(),
        commands: Vec::new(),
        blobs: Vec::new(),
        name: &name,
        compile,
    };
    for directive in wast.directives {
        let span = directive.span();
        let line = span.linecol_in(text).0 as u32 + 1;
        converter
            .directive(directive, line)
            .map_err(|p| at(p.span.unwrap_or(span), p.message))?;
    }
    let Converter {
        commands, blobs, ..
    } = converter;
    Ok(ConvertedScript {
        script: Script { name, commands },
        module_blobs: blobs,
    })
}

/// What the most recent module is, as far as invokes are concerned.
enum Current {
    /// No module yet: an invoke is a script error.
    None,
    /// The kernel runs it; invokes of it are checked against its exports.
    Runs {
        line: u32,
        id: Option<String>,
        exports: HashMap<String, Export>,
    },
    /// It is an unsupported command: invokes of it are unsupported too.
    NotRun { line: u32 },
}

/// An export of the current module, as far as a call is concerned.
#[derive(Debug, Clone)]
enum Export {
    Func {
        params: Vec<ValType>,
        results: Vec<ValType>,
    },
    /// A memory, table, global or tag.
    NotAFunction(&'static str),
}

/// The value types a [`Value`] can carry (expected NaN patterns included).
fn value_type(value: &Value) -> ValType {
    match value {
        Value::I32(_) => ValType::I32,
        Value::I64(_) => ValType::I64,
        Value::F32(_) | Value::F32CanonicalNan | Value::F32ArithmeticNan => ValType::F32,
        Value::F64(_) | Value::F64CanonicalNan | Value::F64ArithmeticNan => ValType::F64,
    }
}

/// Why a directive makes the script wrong: located at `span` when the
/// problem has a precise place, else at the directive.
struct Problem {
    span: Option<Span>,
    message: String,
}

impl From<String> for Problem {
    fn from(message: String) -> Self {
        Problem {
            span: None,
            message,
        }
    }
}

type Fallible<T> = Result<T, Problem>;

struct Converter<'a> {
    current: Current,
    /// Every module/instance id defined so far, run or not.
    known_ids: HashSet<String>,
    commands: Vec<Command>,
    blobs: Vec<Vec<Vec<u8>>>,
    name: &'a str,
    compile: &'a mut ModuleCompiler<'a>,
}

impl Converter<'_> {
    fn unsupported(&mut self, line: u32, what: String) {
        self.commands.push(Command::Unsupported { line, what });
    }

    fn directive(&mut self, directive: WastDirective<'_>, line: u32) -> Fallible<()> {
        use WastDirective as D;
        match directive {
            D::Module(module) => self.module(module, line)?,
            D::ModuleDefinition(module) => {
                if let Some(id) = module.name() {
                    self.known_ids.insert(id.name().to_string());
                }
                self.unsupported(
                    line,
                    "module definition: defining a module without instantiating it (only plain `module` runs)"
                        .to_string(),
                );
            }
            D::ModuleInstance { instance, module, .. } => {
                if let Some(id) = instance {
                    self.known_ids.insert(id.name().to_string());
                }
                let of = module.map_or_else(String::new, |m| format!(" of ${}", m.name()));
                self.current = Current::NotRun { line };
                self.unsupported(
                    line,
                    format!("module instance: instantiating a module definition{of} (only plain `module` runs)"),
                );
            }
            D::Register { name, module, .. } => {
                let which = module.map_or_else(|| "the most recent module".to_string(), |m| format!("${}", m.name()));
                self.unsupported(
                    line,
                    format!("register: registering {which} as {name:?} for imports (modules are instantiated with no imports)"),
                );
            }
            D::Invoke(invoke) => {
                if let Some(invoke) = self.invoke(&invoke, line, "invoke")? {
                    self.commands.push(Command::Invoke { line, invoke });
                }
            }
            D::AssertReturn { exec, results, .. } => match exec {
                WastExecute::Invoke(invoke) => {
                    let Some(invoke) = self.invoke(&invoke, line, "assert_return")? else { return Ok(()) };
                    let mut expected = Vec::with_capacity(results.len());
                    for (i, result) in results.iter().enumerate() {
                        match expected_value(result) {
                            Ok(value) => expected.push(value),
                            Err(what) => {
                                self.unsupported(line, format!("assert_return: result {} is {what}", i + 1));
                                return Ok(());
                            }
                        }
                    }
                    self.check_results(&invoke, &expected)?;
                    self.commands.push(Command::AssertReturn { line, invoke, expected });
                }
                WastExecute::Get { module, global, .. } => {
                    let of = module.map_or_else(String::new, |m| format!(" of ${}", m.name()));
                    self.unsupported(line, format!("assert_return: get of global {global:?}{of} (only function calls run)"));
                }
                WastExecute::Wat(_) => self.unsupported(
                    line,
                    "assert_return: instantiating a module as the action (only function calls run)".to_string(),
                ),
            },
            D::AssertTrap { exec, message, .. } => match exec {
                WastExecute::Invoke(invoke) => self.assert_trap(&invoke, message, line, "assert_trap")?,
                WastExecute::Get { global, .. } => {
                    self.unsupported(line, format!("assert_trap: get of global {global:?} (only function calls run)"));
                }
                WastExecute::Wat(_) => self.unsupported(
                    line,
                    format!("assert_trap: a module whose instantiation traps ({message:?}); only function calls are checked for traps"),
                ),
            },
            D::AssertExhaustion { call, message, .. } => self.assert_trap(&call, message, line, "assert_exhaustion")?,
            D::AssertMalformed { message, .. } => self.unsupported(
                line,
                format!("assert_malformed: a module that must not decode ({message:?}); decoding is the host's job, the kernel runs precompiled modules only"),
            ),
            D::AssertMalformedCustom { message, .. } => self.unsupported(
                line,
                format!("assert_malformed_custom: a malformed custom section ({message:?}); decoding is the host's job"),
            ),
            D::AssertInvalid { message, .. } => self.unsupported(
                line,
                format!("assert_invalid: a module that must not validate ({message:?}); validation is the host's job, the kernel runs precompiled modules only"),
            ),
            D::AssertInvalidCustom { message, .. } => self.unsupported(
                line,
                format!("assert_invalid_custom: an invalid custom section ({message:?}); validation is the host's job"),
            ),
            D::AssertUnlinkable { message, .. } => self.unsupported(
                line,
                format!("assert_unlinkable: a module that must fail to link ({message:?}); modules are instantiated with no imports"),
            ),
            D::AssertException { .. } => self.unsupported(
                line,
                "assert_exception: exceptions are not a trap outcome this mode checks".to_string(),
            ),
            D::AssertSuspension { message, .. } => self.unsupported(
                line,
                format!("assert_suspension: stack switching ({message:?}) is off in the kernel's engine"),
            ),
            D::Thread(thread) => self.unsupported(
                line,
                format!("thread: ${} runs {} commands on another thread (the kernel runs one)", thread.name.name(), thread.directives.len()),
            ),
            D::Wait { thread, .. } => {
                self.unsupported(line, format!("wait: for thread ${} (threads are not run)", thread.name()));
            }
        }
        Ok(())
    }

    fn module(&mut self, mut module: QuoteWat<'_>, line: u32) -> Fallible<()> {
        let id = module.name().map(|id| id.name().to_string());
        if let Some(id) = &id {
            self.known_ids.insert(id.clone());
        }
        if matches!(
            module,
            QuoteWat::QuoteComponent(..) | QuoteWat::Wat(Wat::Component(_))
        ) {
            self.current = Current::NotRun { line };
            self.unsupported(
                line,
                "component: the component model is off in the kernel's engine".to_string(),
            );
            return Ok(());
        }
        let wasm = module.encode().map_err(|e| Problem {
            // A quoted module's spans are offsets into its own text.
            span: matches!(module, QuoteWat::Wat(_)).then(|| e.span()),
            message: format!("module does not encode: {}", e.message()),
        })?;
        // Every proposal on: a module that needs one the kernel's engine
        // leaves off is unsupported (the compile below says which), only a
        // module no proposal makes valid is a wrong script.
        let types = Validator::new_with_features(WasmFeatures::all())
            .validate_all(&wasm)
            .map_err(|e| format!("module does not validate: {e}"))?;
        let types = types.as_ref();
        let imports: Vec<String> = types
            .core_imports()
            .into_iter()
            .flatten()
            .map(|(m, n, _)| format!("{m}.{n}"))
            .collect();
        if let Some(first) = imports.first() {
            self.current = Current::NotRun { line };
            let more = match imports.len() {
                1 => String::new(),
                n => format!(" and {} more", n - 1),
            };
            self.unsupported(
                line,
                format!("module: imports {first}{more} (modules are instantiated with no imports)"),
            );
            return Ok(());
        }
        let mut exports = HashMap::new();
        for (name, entity) in types.core_exports().into_iter().flatten() {
            let export = match entity {
                EntityType::Func(id) | EntityType::FuncExact(id) => {
                    let ty = types[id].unwrap_func();
                    Export::Func {
                        params: ty.params().to_vec(),
                        results: ty.results().to_vec(),
                    }
                }
                EntityType::Table(_) => Export::NotAFunction("a table"),
                EntityType::Memory(_) => Export::NotAFunction("a memory"),
                EntityType::Global(_) => Export::NotAFunction("a global"),
                EntityType::Tag(_) => Export::NotAFunction("a tag"),
            };
            exports.insert(name.to_string(), export);
        }
        let what = format!("{}:{line}", self.name);
        match (self.compile)(&wasm, &what) {
            Ok(artifacts) => {
                let (artifacts, blobs) = artifacts
                    .into_iter()
                    .map(|a| {
                        let artifact = Artifact {
                            trap_mode: a.trap_mode,
                            // Scripts run in the lab kernel only.
                            target: traplab_suite::CodeTarget::LabKernel,
                            offset: 0,
                            len: 0,
                            sha256: String::new(),
                            host: a.host,
                        };
                        (artifact, a.bytes)
                    })
                    .unzip();
                self.current = Current::Runs { line, id, exports };
                self.commands.push(Command::Module { line, artifacts });
                self.blobs.push(blobs);
            }
            Err(why) => {
                self.current = Current::NotRun { line };
                self.unsupported(
                    line,
                    format!("module: the kernel's engine cannot compile it: {why}"),
                );
            }
        }
        Ok(())
    }

    fn assert_trap(
        &mut self,
        invoke: &WastInvoke<'_>,
        message: &str,
        line: u32,
        directive: &str,
    ) -> Fallible<()> {
        if let Some(invoke) = self.invoke(invoke, line, directive)? {
            self.commands.push(Command::AssertTrap {
                line,
                invoke,
                message: message.to_string(),
            });
        }
        Ok(())
    }

    /// The call `invoke` makes, or `None` when it is unsupported (already
    /// recorded as such).
    fn invoke(
        &mut self,
        invoke: &WastInvoke<'_>,
        line: u32,
        directive: &str,
    ) -> Fallible<Option<Invoke>> {
        let (current_line, current_id) = match &self.current {
            Current::None => {
                return Err(format!("{directive} of {:?} before any module", invoke.name).into());
            }
            Current::NotRun { line: module_line } => {
                let what = format!(
                    "{directive}: calls {:?} of the module at line {module_line}, which is not run",
                    invoke.name
                );
                self.unsupported(line, what);
                return Ok(None);
            }
            Current::Runs { line, id, .. } => (*line, id.clone()),
        };
        if let Some(target) = invoke.module {
            let target = target.name();
            if current_id.as_deref() != Some(target) {
                if !self.known_ids.contains(target) {
                    return Err(format!(
                        "{directive} of {:?} in ${target}, which no earlier command defines",
                        invoke.name
                    )
                    .into());
                }
                let what = format!(
                    "{directive}: calls {:?} of ${target}, not of the most recent module (line {current_line}); the kernel keeps one instance",
                    invoke.name
                );
                self.unsupported(line, what);
                return Ok(None);
            }
        }
        let params = match self.export(invoke.name) {
            None => {
                return Err(format!(
                    "{directive}: the module at line {current_line} exports no {:?}",
                    invoke.name
                )
                .into());
            }
            Some(Export::NotAFunction(kind)) => {
                return Err(format!(
                    "{directive}: export {:?} is {kind}, not a function",
                    invoke.name
                )
                .into());
            }
            Some(Export::Func { params, .. }) => params.clone(),
        };
        let mut args = Vec::with_capacity(invoke.args.len());
        for (i, arg) in invoke.args.iter().enumerate() {
            match argument(arg) {
                Ok(value) => args.push(value),
                Err(what) => {
                    self.unsupported(
                        line,
                        format!(
                            "{directive}: argument {} of {:?} is {what}",
                            i + 1,
                            invoke.name
                        ),
                    );
                    return Ok(None);
                }
            }
        }
        let given: Vec<ValType> = args.iter().map(value_type).collect();
        if given != params {
            return Err(format!(
                "{directive}: {:?} takes ({}), the script passes ({})",
                invoke.name,
                types_text(&params),
                types_text(&given)
            )
            .into());
        }
        Ok(Some(Invoke {
            export: invoke.name.to_string(),
            args,
        }))
    }

    fn export(&self, name: &str) -> Option<&Export> {
        match &self.current {
            Current::Runs { exports, .. } => exports.get(name),
            Current::None | Current::NotRun { .. } => None,
        }
    }

    /// `invoke` was accepted by [`Self::invoke`], so the current module runs
    /// and exports it as a function.
    fn check_results(&self, invoke: &Invoke, expected: &[Value]) -> Fallible<()> {
        let Some(Export::Func { results, .. }) = self.export(&invoke.export) else {
            return Ok(());
        };
        let want: Vec<ValType> = expected.iter().map(value_type).collect();
        if &want != results {
            return Err(format!(
                "assert_return: {:?} returns ({}), the script expects ({})",
                invoke.export,
                types_text(results),
                types_text(&want)
            )
            .into());
        }
        Ok(())
    }
}

fn types_text(types: &[ValType]) -> String {
    types
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// An invoke argument as a [`Value`], or what it is when the kernel cannot
/// pass it.
fn argument(arg: &WastArg<'_>) -> Result<Value, &'static str> {
    match arg {
        WastArg::Core(core) => match core {
            WastArgCore::I32(x) => Ok(Value::I32(*x)),
            WastArgCore::I64(x) => Ok(Value::I64(*x)),
            WastArgCore::F32(x) => Ok(Value::F32(x.bits)),
            WastArgCore::F64(x) => Ok(Value::F64(x.bits)),
            WastArgCore::V128(_) => Err("a v128 (only i32, i64, f32 and f64 values are passed)"),
            WastArgCore::RefNull(_) | WastArgCore::RefExtern(_) | WastArgCore::RefHost(_) => {
                Err("a reference (only i32, i64, f32 and f64 values are passed)")
            }
        },
        WastArg::Component(_) => Err("a component-model value"),
        _ => Err("a kind of value this wast version added after traplab was written"),
    }
}

/// An expected result as a [`Value`] (NaN patterns included), or what it is
/// when the kernel cannot check it.
fn expected_value(ret: &WastRet<'_>) -> Result<Value, &'static str> {
    match ret {
        WastRet::Core(core) => match core {
            WastRetCore::I32(x) => Ok(Value::I32(*x)),
            WastRetCore::I64(x) => Ok(Value::I64(*x)),
            WastRetCore::F32(NanPattern::Value(x)) => Ok(Value::F32(x.bits)),
            WastRetCore::F32(NanPattern::CanonicalNan) => Ok(Value::F32CanonicalNan),
            WastRetCore::F32(NanPattern::ArithmeticNan) => Ok(Value::F32ArithmeticNan),
            WastRetCore::F64(NanPattern::Value(x)) => Ok(Value::F64(x.bits)),
            WastRetCore::F64(NanPattern::CanonicalNan) => Ok(Value::F64CanonicalNan),
            WastRetCore::F64(NanPattern::ArithmeticNan) => Ok(Value::F64ArithmeticNan),
            WastRetCore::V128(_) => Err("a v128 (only i32, i64, f32 and f64 results are checked)"),
            WastRetCore::Either(_) => {
                Err("an `either` of several results (only one exact result is checked)")
            }
            _ => Err("a reference (only i32, i64, f32 and f64 results are checked)"),
        },
        WastRet::Component(_) => Err("a component-model value"),
        _ => Err("a kind of result this wast version added after traplab was written"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A compiler that accepts every module: one fake artifact per trap
    /// mode (the wasm itself), so classification is tested without
    /// Cranelift.
    fn accept_all(wasm: &[u8], _: &str) -> Result<Vec<ModuleArtifact>, String> {
        Ok(TrapMode::ALL
            .iter()
            .map(|&trap_mode| ModuleArtifact {
                trap_mode,
                bytes: wasm.to_vec(),
                host: None,
            })
            .collect())
    }

    fn convert_ok(text: &str) -> ConvertedScript {
        convert("dir/t.wast", text, &mut accept_all).unwrap_or_else(|e| panic!("{e}"))
    }

    fn commands(text: &str) -> Vec<Command> {
        convert_ok(text).script.commands
    }

    fn convert_err(text: &str) -> ScriptError {
        convert("dir/t.wast", text, &mut accept_all).expect_err("the script is wrong")
    }

    const SCALARS: &str = r#"(module
  (func (export "i32") (param i32) (result i32) (local.get 0))
  (func (export "i64") (param i64) (result i64) (local.get 0))
  (func (export "f32") (param f32) (result f32) (local.get 0))
  (func (export "f64") (param f64) (result f64) (local.get 0))
  (func (export "none"))
  (memory (export "mem") 1))
"#;

    fn expected_of(command: &Command) -> (&[Value], &[Value]) {
        match command {
            Command::AssertReturn {
                invoke, expected, ..
            } => (&invoke.args, expected),
            other => panic!("not an assert_return: {other:?}"),
        }
    }

    #[test]
    fn integer_values_keep_their_bits() {
        let text = format!(
            "{SCALARS}\
             (assert_return (invoke \"i32\" (i32.const -1)) (i32.const 0xffffffff))\n\
             (assert_return (invoke \"i32\" (i32.const 0x80000000)) (i32.const -2147483648))\n\
             (assert_return (invoke \"i64\" (i64.const 0x8000000000000000)) (i64.const -9_223_372_036_854_775_808))\n"
        );
        let c = commands(&text);
        assert_eq!(
            expected_of(&c[1]),
            (&[Value::I32(-1)][..], &[Value::I32(-1)][..])
        );
        assert_eq!(
            expected_of(&c[2]),
            (&[Value::I32(i32::MIN)][..], &[Value::I32(i32::MIN)][..])
        );
        assert_eq!(
            expected_of(&c[3]),
            (&[Value::I64(i64::MIN)][..], &[Value::I64(i64::MIN)][..])
        );
    }

    #[test]
    fn float_values_are_bit_patterns_with_nan_payloads_and_signs() {
        let text = format!(
            "{SCALARS}\
             (assert_return (invoke \"f32\" (f32.const -0)) (f32.const -0x0p+0))\n\
             (assert_return (invoke \"f32\" (f32.const nan:0x200000)) (f32.const -nan))\n\
             (assert_return (invoke \"f64\" (f64.const 0x1.8p1)) (f64.const inf))\n\
             (assert_return (invoke \"f64\" (f64.const -nan:0x4000000000000)) (f64.const 1e-310))\n"
        );
        let c = commands(&text);
        assert_eq!(
            expected_of(&c[1]),
            (
                &[Value::F32(0x8000_0000)][..],
                &[Value::F32(0x8000_0000)][..]
            )
        );
        assert_eq!(
            expected_of(&c[2]),
            (
                &[Value::F32(0x7fa0_0000)][..],
                &[Value::F32(0xffc0_0000)][..]
            )
        );
        assert_eq!(expected_of(&c[3]).0, &[Value::F64(3.0f64.to_bits())]);
        assert_eq!(expected_of(&c[3]).1, &[Value::F64(f64::INFINITY.to_bits())]);
        assert_eq!(expected_of(&c[4]).0, &[Value::F64(0xfff4_0000_0000_0000)]);
        assert_eq!(expected_of(&c[4]).1, &[Value::F64(1e-310f64.to_bits())]);
    }

    #[test]
    fn nan_patterns_become_pattern_values() {
        let text = format!(
            "{SCALARS}\
             (assert_return (invoke \"f32\" (f32.const 0)) (f32.const nan:canonical))\n\
             (assert_return (invoke \"f32\" (f32.const 0)) (f32.const nan:arithmetic))\n\
             (assert_return (invoke \"f64\" (f64.const 0)) (f64.const nan:canonical))\n\
             (assert_return (invoke \"f64\" (f64.const 0)) (f64.const nan:arithmetic))\n"
        );
        let c = commands(&text);
        let patterns: Vec<Value> = c[1..].iter().map(|c| expected_of(c).1[0]).collect();
        assert_eq!(
            patterns,
            [
                Value::F32CanonicalNan,
                Value::F32ArithmeticNan,
                Value::F64CanonicalNan,
                Value::F64ArithmeticNan
            ]
        );
    }

    #[test]
    fn supported_directives_map_to_their_commands() {
        let text = format!(
            "{SCALARS}\
             (invoke \"none\")\n\
             (assert_return (invoke \"none\"))\n\
             (assert_trap (invoke \"i32\" (i32.const 1)) \"unreachable\")\n\
             (assert_exhaustion (invoke \"none\") \"call stack exhausted\")\n"
        );
        let converted = convert_ok(&text);
        let c = &converted.script.commands;
        assert!(matches!(&c[0], Command::Module { line: 1, artifacts } if artifacts.len() == 2));
        assert_eq!(
            c[1],
            Command::Invoke {
                line: 8,
                invoke: Invoke {
                    export: "none".into(),
                    args: vec![]
                }
            }
        );
        assert_eq!(
            c[2],
            Command::AssertReturn {
                line: 9,
                invoke: Invoke {
                    export: "none".into(),
                    args: vec![]
                },
                expected: vec![]
            }
        );
        assert_eq!(
            c[3],
            Command::AssertTrap {
                line: 10,
                invoke: Invoke {
                    export: "i32".into(),
                    args: vec![Value::I32(1)]
                },
                message: "unreachable".into()
            }
        );
        // wasmtime reports stack exhaustion as a trap, so it is checked as one.
        assert_eq!(
            c[4],
            Command::AssertTrap {
                line: 11,
                invoke: Invoke {
                    export: "none".into(),
                    args: vec![]
                },
                message: "call stack exhausted".into()
            }
        );
        assert_eq!(converted.script.name, "t.wast");
        assert_eq!(converted.module_blobs.len(), 1);
        assert_eq!(converted.module_blobs[0].len(), 2);
        assert_eq!(converted.unsupported().count(), 0);
    }

    #[test]
    fn line_numbers_are_one_based_and_count_every_newline() {
        let text = "\n;; comment\n(module (func (export \"f\")))\n(; block\n comment ;)\n\
                    (assert_return\n  (invoke \"f\"))  (invoke \"f\")\n(module quote \"(func (export \\\"g\\\"))\")\n(invoke \"g\")";
        let lines: Vec<u32> = commands(text).iter().map(Command::line).collect();
        assert_eq!(lines, [3, 6, 7, 8, 9]);
        let first = commands("(module)");
        assert_eq!(first[0].line(), 1);
    }

    #[test]
    fn a_bare_module_file_is_one_module_command() {
        let c = commands("(func (export \"f\") (result i32) (i32.const 1))");
        assert!(matches!(&c[..], [Command::Module { line: 1, .. }]));
    }

    /// `(line, what)` of the unsupported commands of `text`.
    fn unsupported(text: &str) -> Vec<(u32, String)> {
        convert_ok(text)
            .unsupported()
            .map(|(l, w)| (l, w.to_string()))
            .collect()
    }

    #[test]
    fn each_unsupported_directive_is_kept_with_its_reason() {
        let text = r#"(module $m (func (export "f")) (global (export "g") i32 (i32.const 1)))
(assert_invalid (module (func (result i32))) "type mismatch")
(assert_malformed (module quote "(func") "unexpected end")
(assert_unlinkable (module (import "x" "y" (func))) "unknown import")
(register "m" $m)
(assert_return (get "g") (i32.const 1))
(assert_return (invoke "f") (either (i32.const 1) (i32.const 2)))
(assert_return (invoke "f") (ref.null func))
(module definition $d (func))
(assert_trap (module (func $s unreachable) (start $s)) "unreachable")
(assert_exception (invoke "f"))
"#;
        let got = unsupported(text);
        let kinds: Vec<(u32, &str)> = got
            .iter()
            .map(|(l, w)| (*l, w.split_once(':').unwrap().0))
            .collect();
        assert_eq!(
            kinds,
            [
                (2, "assert_invalid"),
                (3, "assert_malformed"),
                (4, "assert_unlinkable"),
                (5, "register"),
                (6, "assert_return"),
                (7, "assert_return"),
                (8, "assert_return"),
                (9, "module definition"),
                (10, "assert_trap"),
                (11, "assert_exception"),
            ]
        );
        assert!(got[0].1.contains("\"type mismatch\""), "{}", got[0].1);
        assert!(got[3].1.contains("\"m\""), "{}", got[3].1);
        assert!(got[4].1.contains("get of global \"g\""), "{}", got[4].1);
        assert!(got[5].1.contains("either"), "{}", got[5].1);
        assert!(got[6].1.contains("reference"), "{}", got[6].1);
        // Nothing is dropped: every directive is a command.
        assert_eq!(commands(text).len(), 11);
    }

    #[test]
    fn v128_and_reference_values_are_unsupported() {
        let text = r#"(module
  (func (export "v") (param v128) (result v128) (local.get 0))
  (func (export "r") (param externref) (result externref) (local.get 0)))
(assert_return (invoke "v" (v128.const i32x4 1 2 3 4)) (v128.const i32x4 1 2 3 4))
(assert_return (invoke "r" (ref.null extern)) (ref.null extern))
(invoke "r" (ref.extern 1))
"#;
        let got = unsupported(text);
        assert_eq!(got.len(), 3);
        assert_eq!(got[0], (4, "assert_return: argument 1 of \"v\" is a v128 (only i32, i64, f32 and f64 values are passed)".into()));
        assert!(
            got[1]
                .1
                .starts_with("assert_return: argument 1 of \"r\" is a reference"),
            "{}",
            got[1].1
        );
        assert!(
            got[2]
                .1
                .starts_with("invoke: argument 1 of \"r\" is a reference"),
            "{}",
            got[2].1
        );
    }

    #[test]
    fn invokes_of_a_module_that_does_not_run_are_unsupported_until_the_next_module() {
        let text = r#"(module (func (export "f")))
(module (import "spectest" "print_i32" (func (param i32))) (import "spectest" "global_i32" (global i32)) (func (export "f")))
(invoke "f")
(assert_trap (invoke "f") "unreachable")
(module (func (export "f")))
(invoke "f")
(component)
(invoke "f")
"#;
        let got = unsupported(text);
        assert_eq!(
            got,
            [
                (2, "module: imports spectest.print_i32 and 1 more (modules are instantiated with no imports)".to_string()),
                (3, "invoke: calls \"f\" of the module at line 2, which is not run".to_string()),
                (4, "assert_trap: calls \"f\" of the module at line 2, which is not run".to_string()),
                (7, "component: the component model is off in the kernel's engine".to_string()),
                (8, "invoke: calls \"f\" of the module at line 7, which is not run".to_string()),
            ]
        );
        let c = commands(text);
        assert!(matches!(c[4], Command::Module { line: 5, .. }));
        assert!(matches!(c[5], Command::Invoke { line: 6, .. }));
    }

    #[test]
    fn named_modules_run_and_only_invokes_of_older_ones_are_unsupported() {
        let text = r#"(module $a (func (export "f")))
(invoke $a "f")
(module $b (func (export "f")))
(invoke $b "f")
(invoke "f")
(invoke $a "f")
"#;
        let c = commands(text);
        assert!(matches!(c[1], Command::Invoke { line: 2, .. }));
        assert!(matches!(c[3], Command::Invoke { line: 4, .. }));
        assert!(matches!(c[4], Command::Invoke { line: 5, .. }));
        assert_eq!(
            unsupported(text),
            [(
                6,
                "invoke: calls \"f\" of $a, not of the most recent module (line 3); the kernel keeps one instance"
                    .to_string()
            )]
        );
    }

    #[test]
    fn a_module_the_engine_refuses_is_unsupported_with_the_engine_reason() {
        let mut refuse = |_: &[u8], what: &str| -> Result<Vec<ModuleArtifact>, String> {
            assert_eq!(what, "t.wast:1");
            Err("memory64 support is not enabled".to_string())
        };
        let converted = convert(
            "t.wast",
            "(module (func (export \"f\")))\n(invoke \"f\")",
            &mut refuse,
        )
        .unwrap();
        let got: Vec<_> = converted.unsupported().collect();
        assert_eq!(
            got,
            [
                (
                    1,
                    "module: the kernel's engine cannot compile it: memory64 support is not enabled"
                ),
                (
                    2,
                    "invoke: calls \"f\" of the module at line 1, which is not run"
                ),
            ]
        );
        assert!(converted.module_blobs.is_empty());
    }

    #[test]
    fn malformed_text_is_an_error_naming_file_line_and_column() {
        // An unclosed paren is found where the input ends.
        let e = convert_err("(module)\n\n  (assert_return (invoke \"f\" (i32.const 1)\n");
        assert_eq!(
            (e.file.as_str(), e.line, e.column),
            ("dir/t.wast", 4, 1),
            "{e}"
        );
        assert!(e.to_string().starts_with("dir/t.wast:4:1: "), "{e}");
        let e = convert_err("(module)\n(assert_return (invoke \"f\") (i32.const))");
        assert_eq!((e.line, e.column), (2, 39), "{e}");
        let e = convert_err("(module)\n(frobnicate)");
        assert_eq!(e.line, 2, "{e}");
        let e = convert_err("(module (func (export \"f\") (i32.const 1)))");
        assert_eq!(e.line, 1);
        assert!(e.message.contains("does not validate"), "{e}");
        // Name resolution errors point at the name.
        let e = convert_err("(module\n  (func (export \"f\") (call $nowhere)))");
        assert!(e.message.contains("does not encode"), "{e}");
        assert_eq!((e.line, e.column), (2, 28), "{e}");
    }

    #[test]
    fn wrong_invokes_are_errors_not_unsupported() {
        let e = convert_err("(invoke \"f\")");
        assert_eq!(e.message, "invoke of \"f\" before any module");
        let e = convert_err(&format!("{SCALARS}\n(assert_trap (invoke \"nope\") \"x\")"));
        assert_eq!(
            (e.line, e.message.as_str()),
            (9, "assert_trap: the module at line 1 exports no \"nope\"")
        );
        let e = convert_err(&format!("{SCALARS}(invoke \"mem\")"));
        assert_eq!(
            e.message,
            "invoke: export \"mem\" is a memory, not a function"
        );
        let e = convert_err(&format!("{SCALARS}(invoke \"i32\" (i64.const 1))"));
        assert_eq!(
            e.message,
            "invoke: \"i32\" takes (i32), the script passes (i64)"
        );
        let e = convert_err(&format!(
            "{SCALARS}(assert_return (invoke \"i32\" (i32.const 1)) (f32.const nan:canonical))"
        ));
        assert_eq!(
            e.message,
            "assert_return: \"i32\" returns (i32), the script expects (f32)"
        );
        let e = convert_err(&format!("{SCALARS}(invoke $zz \"i32\" (i32.const 1))"));
        assert_eq!(
            e.message,
            "invoke of \"i32\" in $zz, which no earlier command defines"
        );
    }
}
