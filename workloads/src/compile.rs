//! Host-side compilation: WAT → wasm → Cranelift artifacts for the kernel,
//! one per trap mode, packed with their manifest into a suite image.
//!
//! The engines here are built from [`engine_config`] plus exactly one extra
//! setting, `Config::target(KERNEL_TARGET)`, so the artifacts carry the same
//! settings the kernel's engine checks in `Module::deserialize`.

use anyhow::{Context, Result, bail, ensure};
use traplab_suite::image::{Artifact, Manifest, Workload, pack};
use traplab_suite::{EngineVariant, TrapMode, engine_config};
use wasmparser::types::EntityType;
use wasmparser::{ValType, Validator};
use wasmtime::{Config, Engine};

use crate::catalogue::{EXPORT, Expectation, SuiteName, WorkloadSpec};

/// The kernel's target triple.
///
/// Naming a target explicitly also keeps wasmtime from probing the build
/// machine's CPU: with a target given, wasmtime's `IsaBuilder` skips
/// `cranelift_native::infer_native_flags` and Cranelift keeps its baseline
/// x86-64 ISA flags (no SSE3/SSE4/AVX), so the artifacts load on any x86-64
/// CPU, including QEMU TCG's `-cpu max` and bare metal of another generation.
pub const KERNEL_TARGET: &str = "x86_64-unknown-none";

/// The wasmtime version that compiles the artifacts, recorded in the manifest.
///
/// wasmtime has no public version constant (it uses its own
/// `CARGO_PKG_VERSION` internally), so this repeats the `=48.0.8` pin of the
/// workspace `Cargo.toml`; the `manifest_names_the_compiling_wasmtime` test
/// checks it against the version in `Cargo.lock` and the major version
/// wasmtime writes into every artifact (its unit of compatibility).
pub const WASMTIME_VERSION: &str = "48.0.8";

/// Convert a wasmtime error, keeping its chain of causes. Needed because
/// wasmtime 48 has its own error type, and its `anyhow` cargo feature (which
/// would add a `From` impl) is left off rather than changed for every host
/// crate that shares this build.
pub fn into_anyhow(error: wasmtime::Error) -> anyhow::Error {
    anyhow::Error::from_boxed(error.into_boxed_dyn_error())
}

/// The engine variant used for compiling: `backtrace` is runtime-only (the
/// same artifact loads with either value), so one compile per trap mode
/// serves both backtrace settings.
pub fn compile_variant(trap_mode: TrapMode) -> EngineVariant {
    EngineVariant {
        trap_mode,
        backtrace: false,
    }
}

/// The `Config` that compiles artifacts for the kernel under `trap_mode`.
pub fn kernel_config(trap_mode: TrapMode) -> Result<Config> {
    let mut config = engine_config(compile_variant(trap_mode));
    config
        .target(KERNEL_TARGET)
        .map_err(into_anyhow)
        .with_context(|| format!("wasmtime does not know the target {KERNEL_TARGET}"))?;
    Ok(config)
}

/// A Cranelift engine that compiles (but cannot run) kernel artifacts.
pub fn kernel_engine(trap_mode: TrapMode) -> Result<Engine> {
    Engine::new(&kernel_config(trap_mode)?)
        .map_err(into_anyhow)
        .with_context(|| {
            format!(
                "creating the {} compile engine for {KERNEL_TARGET}",
                trap_mode.name()
            )
        })
}

/// Parse the workload's WAT into a wasm binary and check its contract.
pub fn wasm_bytes(spec: &WorkloadSpec) -> Result<Vec<u8>> {
    let wasm = wat::parse_str(spec.source.text)
        .map_err(|mut error| {
            // Without a path, wat reports only line and column.
            error.set_path(spec.source.path);
            error
        })
        .with_context(|| format!("parsing the WAT of {}", spec.name))?;
    check_contract(&wasm).with_context(|| {
        format!(
            "{} ({}) breaks the workload contract",
            spec.name, spec.source.path
        )
    })?;
    Ok(wasm)
}

/// Every workload is a valid module exporting [`EXPORT`] as
/// `(i32, i32) -> i32`, and imports nothing (the kernel instantiates it with
/// an empty import list). Checked here, before compiling, so a workload that
/// breaks it fails the build instead of failing inside the kernel.
pub fn check_contract(wasm: &[u8]) -> Result<()> {
    let types = Validator::new()
        .validate_all(wasm)
        .context("the module does not validate")?;
    let types = types.as_ref();
    if let Some((module, name, _)) = types.core_imports().into_iter().flatten().next() {
        bail!("it imports {module}.{name}; workloads must not import anything");
    }
    let Some((_, export)) = types
        .core_exports()
        .into_iter()
        .flatten()
        .find(|(name, _)| *name == EXPORT)
    else {
        bail!("it does not export `{EXPORT}`");
    };
    let EntityType::Func(id) = export else {
        bail!("its export `{EXPORT}` is not a function");
    };
    let ty = types[id].unwrap_func();
    ensure!(
        ty.params() == [ValType::I32, ValType::I32] && ty.results() == [ValType::I32],
        "its export `{EXPORT}` has type {ty}, not (i32, i32) -> i32"
    );
    Ok(())
}

/// The manifest entry of a workload, with one (not yet placed) artifact per
/// trap mode in [`TrapMode::ALL`] order; [`pack`] fills in offsets and
/// checksums.
pub fn manifest_entry(spec: &WorkloadSpec) -> Workload {
    let (expect_result, expect_trap, expect_vector) = match spec.expect {
        Expectation::Returns(value) => (Some(value), None, None),
        // The manifest names the trap by its `Debug` name, which is what the
        // kernel compares against `format!("{trap:?}")`.
        Expectation::Traps { trap, vector } => (None, Some(format!("{trap:?}")), Some(vector)),
    };
    Workload {
        name: spec.name.to_string(),
        kind: spec.kind(),
        export: EXPORT.to_string(),
        args: spec.args,
        expect_result,
        expect_trap,
        expect_vector,
        artifacts: TrapMode::ALL
            .iter()
            .map(|&trap_mode| Artifact {
                trap_mode,
                offset: 0,
                len: 0,
                sha256: String::new(),
                host: None,
            })
            .collect(),
    }
}

/// Compile every workload of `suite` under both trap modes and pack the
/// suite image.
pub fn build_suite(suite: SuiteName) -> Result<Vec<u8>> {
    let engines = TrapMode::ALL
        .iter()
        .map(|&mode| Ok((mode, kernel_engine(mode)?)))
        .collect::<Result<Vec<_>>>()?;
    let specs = suite.workloads();
    let mut workloads = Vec::with_capacity(specs.len());
    let mut blobs = Vec::with_capacity(specs.len());
    for spec in specs {
        let wasm = wasm_bytes(spec)?;
        let artifacts = engines
            .iter()
            .map(|(mode, engine)| {
                engine
                    .precompile_module(&wasm)
                    .map_err(into_anyhow)
                    .with_context(|| {
                        format!(
                            "compiling {} ({}) with {} traps",
                            spec.name,
                            spec.source.path,
                            mode.name()
                        )
                    })
            })
            .collect::<Result<Vec<_>>>()?;
        workloads.push(manifest_entry(spec));
        blobs.push(artifacts);
    }
    let manifest = Manifest {
        suite: suite.name().to_string(),
        wasmtime: WASMTIME_VERSION.to_string(),
        workloads,
        scripts: Vec::new(),
    };
    Ok(pack(manifest, &blobs))
}
