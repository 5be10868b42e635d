//! `.wast` text → the kernel's script commands ([`traplab_suite::Command`]).
//!
//! The kernel keeps one store per script and trap mode, in which every
//! module is instantiated through a linker that holds the `spectest`
//! module and the `register`ed instances; it calls exports of any run
//! instance with `i32`/`i64`/`f32`/`f64` values. Everything a spec-style
//! script may say is classified here, in one place:
//!
//! | directive | becomes |
//! |---|---|
//! | `module` (text, `binary`, `quote`), optionally named | [`Command::Module`] |
//! | `assert_unlinkable (module …)` | [`Command::Module`] that must fail to link |
//! | `assert_trap (module …)` | [`Command::Module`] that must trap while instantiating |
//! | `register` | [`Command::Register`] |
//! | `assert_return (invoke …)` | [`Command::AssertReturn`] |
//! | `assert_return (get …)` | [`Command::AssertGlobal`] |
//! | `assert_trap (invoke …)` | [`Command::AssertTrap`] |
//! | `assert_exhaustion (invoke …)` | [`Command::AssertTrap`]: in wasmtime, stack exhaustion *is* a trap (`Trap::StackOverflow`, "call stack exhausted"), which is how wasmtime's own `.wast` runner treats it |
//! | `invoke` | [`Command::Invoke`] |
//! | `assert_invalid`, `assert_malformed` | [`Command::HostChecked`], decided here (below) |
//! | anything else | [`Command::Unsupported`] |
//!
//! `assert_invalid` and `assert_malformed` are about refusing a module,
//! which happens where modules are compiled: on the host, with the
//! kernel's engine configuration (the compile closure, i.e. the same
//! `traplab_suite::compile_config` every artifact is built with). Each
//! passes when the module is refused: by the text format (the `wast`
//! crate: parse, name resolution, encoding) or by the engine (decoding,
//! validation), per trap mode's engine. A quoted module under
//! `assert_malformed` must already be refused as text. The expected
//! message is compared loosely and only reported (see [`message_note`]).
//! The kernel re-emits these verdicts, marked as checked on the host.
//!
//! "Anything else" includes: components, modules the kernel's engine
//! cannot compile (a proposal it leaves off), `module
//! definition`/`module instance`, `assert_exception`, `thread`, custom
//! section assertions, `v128` and reference values, `either` results, and
//! every use of a module that does not run (invokes, `register`, modules
//! importing what it was registered as). An unsupported command is kept,
//! with a `what` of the form `"<directive>: <reason>"`, so it is counted and
//! listed, never silently dropped.
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
use traplab_suite::image::{HostVerdict, InstantiationFailure};
use traplab_suite::{Artifact, Command, HostCompile, Invoke, Script, TrapMode, Value};
use wasmparser::types::EntityType;
use wasmparser::{ValType, Validator, WasmFeatures};
use wast::core::{NanPattern, WastArgCore, WastRetCore};
use wast::lexer::Lexer;
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
/// with each [`TrapMode`]'s engine: one entry per trap mode, the artifact
/// or the reason that engine refuses the module (a proposal it leaves off,
/// typically, or, for `assert_invalid`, the validation error).
pub type ModuleCompiler<'a> =
    dyn FnMut(&[u8], &str) -> Vec<(TrapMode, Result<ModuleArtifact, String>)> + 'a;

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
/// compile it (which makes the module unsupported, not the script wrong,
/// and is what `assert_invalid` and `assert_malformed` ask for).
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
    let mut lexer = Lexer::new(text);
    // The spec's names.wast spells names with bidirectional-override and
    // other look-alike characters on purpose; refusing them (the lexer's
    // default) would make that script "wrong" when it is only unusual.
    lexer.allow_confusing_unicode(true);
    let buf = ParseBuffer::new_with_lexer(lexer).map_err(|e| at(e.span(), e.message()))?;
    let wast = parser::parse::<Wast>(&buf).map_err(|e| at(e.span(), e.message()))?;
    let mut converter = Converter {
        current: None,
        named: HashMap::new(),
        registered: HashMap::new(),
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

/// A module instance as far as later commands are concerned: the kernel
/// instantiates it (its exports are known), or it is an unsupported
/// command (so is every use of it).
#[derive(Debug, Clone)]
enum Instance {
    Runs {
        line: u32,
        exports: HashMap<String, Export>,
    },
    NotRun {
        line: u32,
    },
}

/// An export of a module, as far as a call or a `get` is concerned.
#[derive(Debug, Clone)]
enum Export {
    Func {
        params: Vec<ValType>,
        results: Vec<ValType>,
    },
    Global(ValType),
    /// A memory, table or tag.
    Other(&'static str),
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

/// The instance a command addresses, resolved: `Ok(Some(..))` it runs,
/// `Ok(None)` it does not (the command was recorded as unsupported).
type Target = Option<(Option<String>, u32, HashMap<String, Export>)>;

struct Converter<'a> {
    /// The most recent module that instantiates: its `$id` and what it is.
    current: Option<(Option<String>, Instance)>,
    /// Module instances by `$id` (the latest of each name).
    named: HashMap<String, Instance>,
    /// `register`ed import names and the instance behind each.
    registered: HashMap<String, Instance>,
    /// Every module/instance id defined so far, run or not.
    known_ids: HashSet<String>,
    commands: Vec<Command>,
    blobs: Vec<Vec<Vec<u8>>>,
    name: &'a str,
    compile: &'a mut ModuleCompiler<'a>,
}

/// How a `module`-like directive is used.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ModuleUse<'m> {
    /// `module`: instantiate, becomes the current module.
    Instantiate,
    /// `assert_unlinkable`: must fail to link.
    Unlinkable(&'m str),
    /// `assert_trap (module …)`: must trap while instantiating.
    Uninstantiable(&'m str),
}

impl ModuleUse<'_> {
    fn directive(self) -> &'static str {
        match self {
            ModuleUse::Instantiate => "module",
            ModuleUse::Unlinkable(_) => "assert_unlinkable",
            ModuleUse::Uninstantiable(_) => "assert_trap",
        }
    }
}

impl Converter<'_> {
    fn unsupported(&mut self, line: u32, what: String) {
        self.commands.push(Command::Unsupported { line, what });
    }

    fn directive(&mut self, directive: WastDirective<'_>, line: u32) -> Fallible<()> {
        use WastDirective as D;
        match directive {
            D::Module(module) => self.module(module, line, ModuleUse::Instantiate)?,
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
                    self.named.insert(id.name().to_string(), Instance::NotRun { line });
                }
                let of = module.map_or_else(String::new, |m| format!(" of ${}", m.name()));
                self.current = Some((instance.map(|i| i.name().to_string()), Instance::NotRun { line }));
                self.unsupported(
                    line,
                    format!("module instance: instantiating a module definition{of} (only plain `module` runs)"),
                );
            }
            D::Register { name, module, .. } => {
                let id = module.map(|m| m.name());
                let instance = match id {
                    Some(id) => self.named_instance(id, "register", "registers")?,
                    None => match &self.current {
                        Some((_, instance)) => Some(instance.clone()),
                        None => return Err(format!("register of {name:?} before any module").into()),
                    },
                };
                let Some(instance) = instance else {
                    self.registered.insert(name.to_string(), Instance::NotRun { line });
                    return Ok(());
                };
                match &instance {
                    Instance::Runs { .. } => self.commands.push(Command::Register {
                        line,
                        name: name.to_string(),
                        module: id.map(str::to_string),
                    }),
                    Instance::NotRun { line: module_line } => {
                        let module_line = *module_line;
                        self.unsupported(
                            line,
                            format!("register: registers the module at line {module_line} as {name:?}, which is not run"),
                        );
                    }
                }
                self.registered.insert(name.to_string(), instance);
            }
            D::Invoke(invoke) => {
                if let Some((invoke, _)) = self.invoke(&invoke, line, "invoke")? {
                    self.commands.push(Command::Invoke { line, invoke });
                }
            }
            D::AssertReturn { exec, results, .. } => match exec {
                WastExecute::Invoke(invoke) => {
                    let Some((invoke, types)) = self.invoke(&invoke, line, "assert_return")? else { return Ok(()) };
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
                    Self::check_results(&invoke, &types, &expected)?;
                    self.commands.push(Command::AssertReturn { line, invoke, expected });
                }
                WastExecute::Get { module, global, .. } => {
                    self.assert_global(module.map(|m| m.name()), global, &results, line)?;
                }
                WastExecute::Wat(_) => self.unsupported(
                    line,
                    "assert_return: instantiating a module as the action (only function calls and globals are checked)".to_string(),
                ),
            },
            D::AssertTrap { exec, message, .. } => match exec {
                WastExecute::Invoke(invoke) => self.assert_trap(&invoke, message, line, "assert_trap")?,
                WastExecute::Get { global, .. } => {
                    self.unsupported(line, format!("assert_trap: get of global {global:?} (reading a global cannot trap)"));
                }
                WastExecute::Wat(wat) => {
                    self.module(QuoteWat::Wat(wat), line, ModuleUse::Uninstantiable(message))?;
                }
            },
            D::AssertExhaustion { call, message, .. } => self.assert_trap(&call, message, line, "assert_exhaustion")?,
            D::AssertMalformed { module, message, .. } => {
                self.host_check(module, message, line, "assert_malformed")?;
            }
            D::AssertInvalid { module, message, .. } => {
                self.host_check(module, message, line, "assert_invalid")?;
            }
            D::AssertMalformedCustom { message, .. } => self.unsupported(
                line,
                format!("assert_malformed_custom: a malformed custom section ({message:?}); custom-section annotations are not checked"),
            ),
            D::AssertInvalidCustom { message, .. } => self.unsupported(
                line,
                format!("assert_invalid_custom: an invalid custom section ({message:?}); custom-section annotations are not checked"),
            ),
            D::AssertUnlinkable { module, message, .. } => {
                self.module(QuoteWat::Wat(module), line, ModuleUse::Unlinkable(message))?;
            }
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

    /// `module`, `assert_unlinkable` and `assert_trap (module …)`: a
    /// [`Command::Module`], or unsupported with the reason.
    fn module(
        &mut self,
        mut module: QuoteWat<'_>,
        line: u32,
        usage: ModuleUse<'_>,
    ) -> Fallible<()> {
        let directive = usage.directive();
        let id = module.name().map(|id| id.name().to_string());
        if let Some(id) = &id {
            self.known_ids.insert(id.clone());
        }
        // Only an instantiated module becomes the one later commands use.
        let instantiates = usage == ModuleUse::Instantiate;
        let not_run = |this: &mut Self| {
            if instantiates {
                this.current = Some((id.clone(), Instance::NotRun { line }));
                if let Some(id) = &id {
                    this.named.insert(id.clone(), Instance::NotRun { line });
                }
            }
        };
        if matches!(
            module,
            QuoteWat::QuoteComponent(..) | QuoteWat::Wat(Wat::Component(_))
        ) {
            not_run(self);
            let what = if instantiates { "component" } else { directive };
            self.unsupported(
                line,
                format!("{what}: the component model is off in the kernel's engine"),
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
        // Imports resolve in the kernel against `spectest` and the
        // registered instances. One from a name registered from a module
        // that does not run cannot resolve there, so the module is
        // unsupported rather than failed.
        for (import_module, field, _) in types.core_imports().into_iter().flatten() {
            if let Some(Instance::NotRun { line: from }) = self.registered.get(import_module) {
                let from = *from;
                not_run(self);
                self.unsupported(
                    line,
                    format!("{directive}: imports {import_module}.{field}, registered from the module at line {from}, which is not run"),
                );
                return Ok(());
            }
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
                EntityType::Global(global) => Export::Global(global.content_type),
                EntityType::Table(_) => Export::Other("a table"),
                EntityType::Memory(_) => Export::Other("a memory"),
                EntityType::Tag(_) => Export::Other("a tag"),
            };
            exports.insert(name.to_string(), export);
        }
        let what = format!("{}:{line}", self.name);
        let mut artifacts = Vec::new();
        let mut blobs = Vec::new();
        for (_, outcome) in (self.compile)(&wasm, &what) {
            match outcome {
                Ok(a) => {
                    artifacts.push(Artifact {
                        trap_mode: a.trap_mode,
                        // Scripts run in the lab kernel only.
                        target: traplab_suite::CodeTarget::LabKernel,
                        offset: 0,
                        len: 0,
                        sha256: String::new(),
                        host: a.host,
                    });
                    blobs.push(a.bytes);
                }
                Err(why) => {
                    not_run(self);
                    self.unsupported(
                        line,
                        format!("{directive}: the kernel's engine cannot compile it: {why}"),
                    );
                    return Ok(());
                }
            }
        }
        let expect_failure = match usage {
            ModuleUse::Instantiate => {
                let instance = Instance::Runs { line, exports };
                if let Some(id) = &id {
                    self.named.insert(id.clone(), instance.clone());
                }
                self.current = Some((id.clone(), instance));
                None
            }
            ModuleUse::Unlinkable(message) => Some(InstantiationFailure::Unlinkable {
                message: message.to_string(),
            }),
            ModuleUse::Uninstantiable(message) => Some(InstantiationFailure::Trap {
                message: message.to_string(),
            }),
        };
        self.commands.push(Command::Module {
            line,
            artifacts,
            id,
            expect_failure,
        });
        self.blobs.push(blobs);
        Ok(())
    }

    /// `assert_invalid` and `assert_malformed`, decided here with the
    /// kernel's engine configuration: the module must be refused, by the
    /// text format (the `wast` crate) or by the engine (decoding,
    /// validation). A quoted module under `assert_malformed` that parses
    /// but is refused by the engine passes too, as in wasmtime's runner:
    /// the `wast` crate's grammar already accepts later proposals' syntax.
    fn host_check(
        &mut self,
        mut module: QuoteWat<'_>,
        message: &str,
        line: u32,
        directive: &str,
    ) -> Fallible<()> {
        if matches!(
            module,
            QuoteWat::QuoteComponent(..) | QuoteWat::Wat(Wat::Component(_))
        ) {
            self.unsupported(
                line,
                format!(
                    "{directive}: a component (the component model is off in the kernel's engine)"
                ),
            );
            return Ok(());
        }
        let quoted = matches!(module, QuoteWat::QuoteModule(..));
        let text_only = quoted && directive == "assert_malformed";
        let verdicts: Vec<HostVerdict> = match module.encode() {
            Err(e) => {
                let why = one_line(&e.message());
                let detail = format!(
                    "the text format refuses it (wast crate): {why}{}",
                    message_note(&why, message)
                );
                TrapMode::ALL
                    .iter()
                    .map(|&trap_mode| HostVerdict {
                        trap_mode,
                        passed: true,
                        detail: detail.clone(),
                    })
                    .collect()
            }
            Ok(wasm) => {
                let what = format!("{}:{line}", self.name);
                (self.compile)(&wasm, &what)
                    .into_iter()
                    .map(|(trap_mode, outcome)| {
                        let (passed, detail) = match (outcome, text_only) {
                            (Ok(_), true) => (
                                false,
                                "the quoted text parses (wast crate), and the kernel's engine accepts the module".to_string(),
                            ),
                            // As wasmtime's own runner: a refusal at any
                            // stage counts. The wast crate's grammar
                            // already takes later proposals' syntax
                            // (`(memory 0x1_0000_0000)`, 64-bit offsets),
                            // which 2.0's malformed-module tests use.
                            (Err(why), true) => (
                                true,
                                format!("the quoted text parses (the wast crate's grammar includes later proposals); the kernel's engine refuses the module: {why}"),
                            ),
                            (Ok(_), false) => {
                                (false, "the kernel's engine accepts the module".to_string())
                            }
                            (Err(why), false) => (
                                true,
                                format!(
                                    "the kernel's engine refuses it: {why}{}",
                                    message_note(&why, message)
                                ),
                            ),
                        };
                        HostVerdict {
                            trap_mode,
                            passed,
                            detail,
                        }
                    })
                    .collect()
            }
        };
        self.commands.push(Command::HostChecked {
            line,
            directive: directive.to_string(),
            verdicts,
        });
        Ok(())
    }

    fn assert_trap(
        &mut self,
        invoke: &WastInvoke<'_>,
        message: &str,
        line: u32,
        directive: &str,
    ) -> Fallible<()> {
        if let Some((invoke, _)) = self.invoke(invoke, line, directive)? {
            self.commands.push(Command::AssertTrap {
                line,
                invoke,
                message: message.to_string(),
            });
        }
        Ok(())
    }

    /// `assert_return (get …)`: one global of a scalar type.
    fn assert_global(
        &mut self,
        module: Option<&str>,
        global: &str,
        results: &[WastRet<'_>],
        line: u32,
    ) -> Fallible<()> {
        let what = format!("get of {global:?}");
        let Some((id, module_line, exports)) = self.target(module, line, "assert_return", &what)?
        else {
            return Ok(());
        };
        let ty = match exports.get(global) {
            Some(Export::Global(ty)) => *ty,
            Some(Export::Func { .. }) => {
                return Err(format!(
                    "assert_return: export {global:?} is a function, not a global"
                )
                .into());
            }
            Some(Export::Other(kind)) => {
                return Err(
                    format!("assert_return: export {global:?} is {kind}, not a global").into(),
                );
            }
            None => {
                return Err(format!(
                    "assert_return: the module at line {module_line} exports no {global:?}"
                )
                .into());
            }
        };
        let [result] = results else {
            return Err(format!(
                "assert_return: a global has one value, the script expects {}",
                results.len()
            )
            .into());
        };
        let expected = match expected_value(result) {
            Ok(value) => value,
            Err(what) => {
                self.unsupported(
                    line,
                    format!("assert_return: the value of global {global:?} is {what}"),
                );
                return Ok(());
            }
        };
        if value_type(&expected) != ty {
            return Err(format!(
                "assert_return: global {global:?} is a {ty}, the script expects a {}",
                value_type(&expected)
            )
            .into());
        }
        self.commands.push(Command::AssertGlobal {
            line,
            module: id,
            global: global.to_string(),
            expected,
        });
        Ok(())
    }

    /// An instance by `$id`: `Ok(None)` when it is not run (the caller
    /// records the command as unsupported), an error when nothing earlier
    /// defines the id (`what` says what the command does with it, e.g.
    /// `calls "f" of`).
    fn named_instance(&self, id: &str, directive: &str, what: &str) -> Fallible<Option<Instance>> {
        match self.named.get(id) {
            Some(instance) => Ok(Some(instance.clone())),
            None if self.known_ids.contains(id) => Ok(None),
            None => {
                Err(format!("{directive}: {what} ${id}, which no earlier command defines").into())
            }
        }
    }

    /// The instance `module` (or the most recent one) names, if it runs;
    /// otherwise the command is recorded as unsupported and `None` is
    /// returned. `what` describes the use, e.g. `calls "f"`.
    fn target(
        &mut self,
        module: Option<&str>,
        line: u32,
        directive: &str,
        what: &str,
    ) -> Fallible<Target> {
        let instance = match module {
            Some(id) => match self.named_instance(id, directive, &format!("{what} of"))? {
                Some(instance) => instance,
                None => {
                    self.unsupported(
                        line,
                        format!("{directive}: {what} of ${id}, which is not run (a module definition or instance)"),
                    );
                    return Ok(None);
                }
            },
            None => match &self.current {
                Some((_, instance)) => instance.clone(),
                None => return Err(format!("{directive}: {what} before any module").into()),
            },
        };
        match instance {
            Instance::Runs {
                line: module_line,
                exports,
            } => Ok(Some((module.map(str::to_string), module_line, exports))),
            Instance::NotRun { line: module_line } => {
                self.unsupported(
                    line,
                    format!(
                        "{directive}: {what} of the module at line {module_line}, which is not run"
                    ),
                );
                Ok(None)
            }
        }
    }

    /// The call `invoke` makes, or `None` when it is unsupported (already
    /// recorded as such).
    fn invoke(
        &mut self,
        invoke: &WastInvoke<'_>,
        line: u32,
        directive: &str,
    ) -> Fallible<Option<(Invoke, Vec<ValType>)>> {
        let what = format!("calls {:?}", invoke.name);
        let module = invoke.module.map(|m| m.name());
        let Some((id, module_line, exports)) = self.target(module, line, directive, &what)? else {
            return Ok(None);
        };
        let (params, results) = match exports.get(invoke.name) {
            None => {
                return Err(format!(
                    "{directive}: the module at line {module_line} exports no {:?}",
                    invoke.name
                )
                .into());
            }
            Some(Export::Global(_)) => {
                return Err(format!(
                    "{directive}: export {:?} is a global, not a function",
                    invoke.name
                )
                .into());
            }
            Some(Export::Other(kind)) => {
                return Err(format!(
                    "{directive}: export {:?} is {kind}, not a function",
                    invoke.name
                )
                .into());
            }
            Some(Export::Func { params, results }) => (params.clone(), results.clone()),
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
        let invoke = Invoke {
            module: id,
            export: invoke.name.to_string(),
            args,
        };
        Ok(Some((invoke, results)))
    }

    /// `expected` must have the types the export returns.
    fn check_results(invoke: &Invoke, results: &[ValType], expected: &[Value]) -> Fallible<()> {
        let want: Vec<ValType> = expected.iter().map(value_type).collect();
        if want != results {
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

/// `text` on one line, for the table and the records.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// How a refusal's text compares with the script's expected message. Not
/// part of the verdict: wasmtime's messages are its own (its wast runner
/// does not require the spec's text either), so a refusal passes whatever
/// it says; the note lets a reader see which ones say the same thing.
fn message_note(refusal: &str, expected: &str) -> String {
    if refusal.to_lowercase().contains(&expected.to_lowercase()) {
        format!("; expected {expected:?}: the message matches")
    } else {
        format!("; expected {expected:?}: the message differs (not compared)")
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
    fn accept_all(wasm: &[u8], _: &str) -> Vec<(TrapMode, Result<ModuleArtifact, String>)> {
        TrapMode::ALL
            .iter()
            .map(|&trap_mode| {
                let artifact = ModuleArtifact {
                    trap_mode,
                    bytes: wasm.to_vec(),
                    host: None,
                };
                (trap_mode, Ok(artifact))
            })
            .collect()
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
        assert!(
            matches!(&c[0], Command::Module { line: 1, artifacts, id: None, expect_failure: None } if artifacts.len() == 2)
        );
        assert_eq!(
            c[1],
            Command::Invoke {
                line: 8,
                invoke: Invoke {
                    module: None,
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
                    module: None,
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
                    module: None,
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
                    module: None,
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
(assert_return (invoke "f") (either (i32.const 1) (i32.const 2)))
(assert_return (invoke "f") (ref.null func))
(module definition $d (func))
(assert_exception (invoke "f"))
(assert_trap (get "g") "x")
(assert_invalid (component) "x")
"#;
        let got = unsupported(text);
        let kinds: Vec<(u32, &str)> = got
            .iter()
            .map(|(l, w)| (*l, w.split_once(':').unwrap().0))
            .collect();
        assert_eq!(
            kinds,
            [
                (2, "assert_return"),
                (3, "assert_return"),
                (4, "module definition"),
                (5, "assert_exception"),
                (6, "assert_trap"),
                (7, "assert_invalid"),
            ]
        );
        assert!(got[0].1.contains("either"), "{}", got[0].1);
        assert!(got[1].1.contains("reference"), "{}", got[1].1);
        assert!(got[5].1.contains("component"), "{}", got[5].1);
        // Nothing is dropped: every directive is a command.
        assert_eq!(commands(text).len(), 7);
    }

    #[test]
    fn linking_directives_become_kernel_commands() {
        let text = r#"(module $m (func (export "f")) (global (export "g") i32 (i32.const 1)))
(register "m" $m)
(module (import "m" "f" (func)) (import "spectest" "print_i32" (func (param i32))) (func (export "h")))
(register "n")
(assert_return (get $m "g") (i32.const 1))
(invoke $m "f")
(assert_unlinkable (module (import "m" "nope" (func))) "unknown import")
(assert_trap (module (func $s unreachable) (start $s)) "unreachable")
(invoke "h")
"#;
        let converted = convert_ok(text);
        let c = &converted.script.commands;
        assert_eq!(c.len(), 9);
        assert!(
            matches!(&c[0], Command::Module { id: Some(id), expect_failure: None, .. } if id == "m")
        );
        assert_eq!(
            c[1],
            Command::Register {
                line: 2,
                name: "m".into(),
                module: Some("m".into())
            }
        );
        // Imports do not make a module unsupported: the kernel links them.
        assert!(matches!(
            &c[2],
            Command::Module {
                line: 3,
                id: None,
                expect_failure: None,
                ..
            }
        ));
        assert_eq!(
            c[3],
            Command::Register {
                line: 4,
                name: "n".into(),
                module: None
            }
        );
        assert_eq!(
            c[4],
            Command::AssertGlobal {
                line: 5,
                module: Some("m".into()),
                global: "g".into(),
                expected: Value::I32(1)
            }
        );
        assert!(
            matches!(&c[5], Command::Invoke { invoke, .. } if invoke.module.as_deref() == Some("m"))
        );
        assert!(matches!(
            &c[6],
            Command::Module { line: 7, expect_failure: Some(InstantiationFailure::Unlinkable { message }), .. }
                if message == "unknown import"
        ));
        assert!(matches!(
            &c[7],
            Command::Module { line: 8, expect_failure: Some(InstantiationFailure::Trap { message }), .. }
                if message == "unreachable"
        ));
        // The modules that must fail do not become the current one: the
        // invoke goes to line 3's module.
        assert!(
            matches!(&c[8], Command::Invoke { invoke, .. } if invoke.module.is_none() && invoke.export == "h")
        );
        // Every module-like command carries artifacts, in order.
        assert_eq!(converted.module_blobs.len(), 4);

        let e = convert_err(
            "(module (global (export \"g\") i64 (i64.const 1)))\n(assert_return (get \"g\") (i32.const 1))",
        );
        assert_eq!(
            e.message,
            "assert_return: global \"g\" is a i64, the script expects a i32"
        );
        let e = convert_err(
            "(module (func (export \"f\")))\n(assert_return (get \"f\") (i32.const 1))",
        );
        assert_eq!(
            e.message,
            "assert_return: export \"f\" is a function, not a global"
        );
    }

    #[test]
    fn uses_of_modules_that_do_not_run_are_unsupported() {
        let text = r#"(module $a (func (export "f")))
(component $c)
(register "c" $c)
(module (import "c" "f" (func)))
(register "c2")
(invoke $c "f")
(module instance $i $d)
(invoke $i "f")
"#;
        let got = unsupported(text);
        assert_eq!(
            got,
            [
                (2, "component: the component model is off in the kernel's engine".to_string()),
                (3, "register: registers the module at line 2 as \"c\", which is not run".to_string()),
                (4, "module: imports c.f, registered from the module at line 2, which is not run".to_string()),
                (5, "register: registers the module at line 4 as \"c2\", which is not run".to_string()),
                (6, "invoke: calls \"f\" of the module at line 2, which is not run".to_string()),
                (7, "module instance: instantiating a module definition of $d (only plain `module` runs)".to_string()),
                (8, "invoke: calls \"f\" of the module at line 7, which is not run".to_string()),
            ]
        );
        let e = convert_err("(module)\n(register \"x\" $nope)");
        assert_eq!(
            e.message,
            "register: registers $nope, which no earlier command defines"
        );
    }

    /// `accept_all`, except that modules containing `refused` in their
    /// binary are refused by the "engine".
    fn host_checked(text: &str) -> Vec<(u32, String, Vec<HostVerdict>)> {
        let mut engine = |wasm: &[u8], what: &str| {
            let refused = wasm.windows(3).any(|w| w == b"bad");
            accept_all(wasm, what)
                .into_iter()
                .map(|(mode, a)| {
                    (
                        mode,
                        if refused {
                            Err("invalid: bad".to_string())
                        } else {
                            a
                        },
                    )
                })
                .collect()
        };
        convert("t.wast", text, &mut engine)
            .unwrap()
            .script
            .commands
            .into_iter()
            .filter_map(|c| match c {
                Command::HostChecked {
                    line,
                    directive,
                    verdicts,
                } => Some((line, directive, verdicts)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn invalid_and_malformed_modules_are_decided_on_the_host_per_trap_mode() {
        let text = r#"(assert_invalid (module (func (export "bad"))) "invalid")
(assert_invalid (module (func (export "good"))) "type mismatch")
(assert_invalid (module (func (call $nowhere))) "unknown function")
(assert_malformed (module quote "(func") "unexpected end")
(assert_malformed (module quote "(func (export \"bad\"))") "x")
(assert_malformed (module binary "\00asm\01\00\00\00bad") "malformed section id")
(assert_malformed (module binary "\00asm\01\00\00\00") "x")
"#;
        let got = host_checked(text);
        let summary: Vec<(u32, &str, bool)> = got
            .iter()
            .map(|(line, d, v)| {
                assert_eq!(v.len(), 2);
                assert_eq!(v[0].trap_mode, TrapMode::Signals);
                assert_eq!(v[1].trap_mode, TrapMode::Explicit);
                assert_eq!(v[0].passed, v[1].passed);
                (*line, d.as_str(), v[0].passed)
            })
            .collect();
        assert_eq!(
            summary,
            [
                (1, "assert_invalid", true),
                // A valid module under assert_invalid fails the command.
                (2, "assert_invalid", false),
                (3, "assert_invalid", true),
                (4, "assert_malformed", true),
                // The quoted text parses, the engine refuses: a refusal,
                // as in wasmtime's own runner.
                (5, "assert_malformed", true),
                (6, "assert_malformed", true),
                (7, "assert_malformed", false),
            ]
        );
        let detail = |i: usize| got[i].2[0].detail.as_str();
        assert_eq!(
            detail(0),
            "the kernel's engine refuses it: invalid: bad; expected \"invalid\": the message matches"
        );
        assert_eq!(detail(1), "the kernel's engine accepts the module");
        assert!(
            detail(2).starts_with("the text format refuses it (wast crate): unknown func"),
            "{}",
            detail(2)
        );
        // wasmtime's and the wast crate's words are their own: noted only.
        assert!(
            detail(2)
                .ends_with("expected \"unknown function\": the message differs (not compared)"),
            "{}",
            detail(2)
        );
        assert!(
            detail(3).ends_with("\"unexpected end\": the message differs (not compared)")
                || detail(3).ends_with("the message matches"),
            "{}",
            detail(3)
        );
        assert_eq!(
            detail(4),
            "the quoted text parses (the wast crate's grammar includes later proposals); the kernel's engine refuses the module: invalid: bad"
        );
        assert_eq!(detail(6), "the kernel's engine accepts the module");
    }

    #[test]
    fn a_trap_mode_whose_engine_accepts_fails_only_that_mode() {
        let mut engine = |wasm: &[u8], what: &str| {
            accept_all(wasm, what)
                .into_iter()
                .map(|(mode, a)| match mode {
                    TrapMode::Signals => (mode, Err("nope".to_string())),
                    TrapMode::Explicit => (mode, a),
                })
                .collect()
        };
        let c = convert("t.wast", "(assert_invalid (module) \"x\")", &mut engine)
            .unwrap()
            .script
            .commands;
        let Command::HostChecked { verdicts, .. } = &c[0] else {
            panic!("{c:?}")
        };
        assert!(verdicts[0].passed && !verdicts[1].passed, "{verdicts:?}");
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
(component)
(invoke "f")
(assert_trap (invoke "f") "unreachable")
(module (func (export "f")))
(invoke "f")
"#;
        let got = unsupported(text);
        assert_eq!(
            got,
            [
                (
                    2,
                    "component: the component model is off in the kernel's engine".to_string()
                ),
                (
                    3,
                    "invoke: calls \"f\" of the module at line 2, which is not run".to_string()
                ),
                (
                    4,
                    "assert_trap: calls \"f\" of the module at line 2, which is not run"
                        .to_string()
                ),
            ]
        );
        let c = commands(text);
        assert!(matches!(c[4], Command::Module { line: 5, .. }));
        assert!(matches!(c[5], Command::Invoke { line: 6, .. }));
    }

    #[test]
    fn named_modules_stay_callable_after_later_ones() {
        let text = r#"(module $a (func (export "f")))
(invoke $a "f")
(module $b (func (export "g")))
(invoke $b "g")
(invoke "g")
(invoke $a "f")
"#;
        let c = commands(text);
        let targets: Vec<Option<&str>> = c
            .iter()
            .filter_map(|c| match c {
                Command::Invoke { invoke, .. } => Some(invoke.module.as_deref()),
                _ => None,
            })
            .collect();
        assert_eq!(targets, [Some("a"), Some("b"), None, Some("a")]);
        assert!(unsupported(text).is_empty());
        let e = convert_err("(module $a (func (export \"f\")))\n(module)\n(invoke \"f\")");
        assert_eq!(e.message, "invoke: the module at line 2 exports no \"f\"");
    }

    #[test]
    fn a_module_the_engine_refuses_is_unsupported_with_the_engine_reason() {
        let mut refuse =
            |_: &[u8], what: &str| -> Vec<(TrapMode, Result<ModuleArtifact, String>)> {
                assert_eq!(what, "t.wast:1");
                TrapMode::ALL
                    .iter()
                    .map(|&mode| (mode, Err("memory64 support is not enabled".to_string())))
                    .collect()
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
        assert_eq!(e.message, "invoke: calls \"f\" before any module");
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
            "invoke: calls \"i32\" of $zz, which no earlier command defines"
        );
    }
}
