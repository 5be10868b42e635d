//! The compute workloads: the kernels of `traplab-compute`, built by cargo
//! as one wasm module (`traplab-compute-wasm`), checked against the workload
//! contract and against their golden results on the host, then compiled
//! for the kernel like every other workload.
//!
//! One module holds every kernel (one export each), so each compute entry
//! of the manifest carries the same two artifacts (one per trap mode) and
//! the same host compile facts: they describe the whole module.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail, ensure};
use traplab_compute::{ComputeKernel, KERNELS};
use traplab_suite::{EngineVariant, TrapMode, engine_config};
use wasmparser::{ExternalKind, Operator, Parser, Payload, TypeRef, ValType};
use wasmtime::{Engine, Instance, Module, Store};

use crate::contract::{check_exports, into_anyhow};

/// The cargo package that builds the compute module.
pub const PACKAGE: &str = "traplab-compute-wasm";
/// The target it is built for.
pub const WASM_TARGET: &str = "wasm32-unknown-unknown";
/// The module's file name under `<target dir>/wasm32-unknown-unknown/release/`.
pub const MODULE_FILE: &str = "traplab_compute_wasm.wasm";
/// Where the package lives, for error messages.
pub const SOURCE_DIR: &str = "workloads/compute-wasm";

/// The workspace root (this crate lives in `<root>/workloads`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workloads crate is inside the workspace")
        .to_path_buf()
}

/// Build the compute module with cargo and return its bytes.
///
/// Runs `$CARGO` (the cargo running us, when there is one) or `cargo`, in
/// the workspace root, with `--locked` like every build of the project. The
/// wasm build has its own target directory subtree, so it never invalidates
/// the host or kernel builds; when nothing changed it takes a fraction of a
/// second.
pub fn build_module() -> Result<Vec<u8>> {
    let root = workspace_root();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(&cargo)
        .current_dir(&root)
        .args([
            "build",
            "--release",
            "--locked",
            "--target",
            WASM_TARGET,
            "-p",
            PACKAGE,
        ])
        .output()
        .with_context(|| format!("running {} to build {PACKAGE}", cargo.to_string_lossy()))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        bail!(
            "`cargo build --release --locked --target {WASM_TARGET} -p {PACKAGE}` failed ({}):\n{}",
            output.status,
            stderr.trim_end()
        );
    }
    let path = target_dir(&root)
        .join(WASM_TARGET)
        .join("release")
        .join(MODULE_FILE);
    std::fs::read(&path)
        .with_context(|| format!("reading the built compute module {}", path.display()))
}

/// Cargo's target directory: `CARGO_TARGET_DIR` (relative to the workspace
/// root) when set, else `<root>/target`. (`build.target-dir` in a cargo
/// config file is not consulted; the project sets none.)
pub(crate) fn target_dir(root: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root.join(dir),
        None => root.join("target"),
    }
}

/// The export names the compute module must provide.
pub fn exports() -> Vec<&'static str> {
    KERNELS.iter().map(|kernel| kernel.export).collect()
}

/// Check the module's contract: it validates, imports nothing, exports
/// every kernel of [`KERNELS`] as `(i32, i32) -> i32` and no other function.
pub fn check_module(wasm: &[u8]) -> Result<()> {
    check_exports(wasm, &exports())
        .with_context(|| format!("the compute module ({SOURCE_DIR}) breaks the workload contract"))
}

/// Run every kernel's export once on a host-native engine and compare with
/// its golden result: a module whose output is wrong is refused before it is
/// compiled for the kernel. The engine uses explicit checks, so the build
/// process installs no signal handlers.
pub fn check_golden(wasm: &[u8]) -> Result<()> {
    let engine = host_engine()?;
    let module = Module::new(&engine, wasm)
        .map_err(into_anyhow)
        .context("compiling the compute module for the host")?;
    for kernel in KERNELS {
        let value = run_on(&engine, &module, kernel)?;
        ensure!(
            value == kernel.golden,
            "{}: the wasm export `{}` returned {value} for ({}, {}), its golden result is {}",
            kernel.name,
            kernel.export,
            kernel.args[0],
            kernel.args[1],
            kernel.golden
        );
    }
    Ok(())
}

/// Call `kernel`'s export with its suite arguments in a fresh instance.
pub fn run_on(engine: &Engine, module: &Module, kernel: &ComputeKernel) -> Result<i32> {
    call_on(engine, module, kernel, kernel.args)
}

/// Call `kernel`'s export with `args` in a fresh instance.
pub fn call_on(
    engine: &Engine,
    module: &Module,
    kernel: &ComputeKernel,
    args: [i32; 2],
) -> Result<i32> {
    let mut store = Store::new(engine, ());
    let instance = Instance::new(&mut store, module, &[])
        .map_err(into_anyhow)
        .context("instantiating the compute module")?;
    let func = instance
        .get_typed_func::<(i32, i32), i32>(&mut store, kernel.export)
        .map_err(into_anyhow)
        .with_context(|| format!("{}: looking up the export `{}`", kernel.name, kernel.export))?;
    func.call(&mut store, (args[0], args[1]))
        .map_err(into_anyhow)
        .with_context(|| {
            format!(
                "{}: calling the export `{}` with ({}, {})",
                kernel.name, kernel.export, args[0], args[1]
            )
        })
}

/// A host-native engine with explicit checks (no signal handlers in the
/// build process) that runs the compute module for golden results.
pub fn host_engine() -> Result<Engine> {
    Engine::new(&engine_config(EngineVariant {
        trap_mode: TrapMode::Explicit,
        backtrace: false,
    }))
    .map_err(into_anyhow)
    .context("creating the host engine that checks golden results")
}

/// The export naming the divisor table of `compute.divmix`
/// (`traplab_compute::divmix::TRAPLAB_DIVISORS`).
pub const DIVISORS_EXPORT: &str = "TRAPLAB_DIVISORS";

/// The linear-memory offset of the module's divisor table: the value of
/// its exported global [`DIVISORS_EXPORT`] (rustc exports a `#[no_mangle]`
/// static of a wasm module as an immutable `i32` global holding the
/// static's address). `None` when the module has no such export; an error
/// when it exports something else under that name.
pub fn divisor_table(wasm: &[u8]) -> Result<Option<u64>> {
    let mut global = None;
    let mut imported_globals = 0;
    let mut globals = Vec::new();
    for payload in Parser::new(0).parse_all(wasm) {
        match payload.context("the module does not parse")? {
            Payload::ImportSection(imports) => {
                for import in imports.into_imports() {
                    if matches!(import.context("reading an import")?.ty, TypeRef::Global(_)) {
                        imported_globals += 1;
                    }
                }
            }
            Payload::GlobalSection(section) => {
                for g in section {
                    globals.push(g.context("reading a global")?);
                }
            }
            Payload::ExportSection(exports) => {
                for export in exports {
                    let export = export.context("reading an export")?;
                    if export.name == DIVISORS_EXPORT {
                        ensure!(
                            export.kind == ExternalKind::Global,
                            "its export `{DIVISORS_EXPORT}` is not a global (the address of the divisor table)"
                        );
                        global = Some(export.index);
                    }
                }
            }
            _ => {}
        }
    }
    let Some(index) = global else {
        return Ok(None);
    };
    let defined = index.checked_sub(imported_globals).with_context(|| {
        format!("its export `{DIVISORS_EXPORT}` is an imported global, not the table's address")
    })?;
    let global = globals
        .get(defined as usize)
        .with_context(|| format!("its export `{DIVISORS_EXPORT}` names a missing global"))?;
    ensure!(
        global.ty.content_type == ValType::I32 && !global.ty.mutable,
        "its export `{DIVISORS_EXPORT}` is not an immutable i32 global"
    );
    let mut ops = global.init_expr.get_operators_reader();
    match (ops.read(), ops.read(), ops.eof()) {
        (Ok(Operator::I32Const { value }), Ok(Operator::End), true) => {
            Ok(Some(u64::from(value as u32)))
        }
        _ => bail!("its export `{DIVISORS_EXPORT}` is not initialised by a constant address"),
    }
}
