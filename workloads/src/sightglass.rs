//! Sightglass-ABI benchmarks: `.wasm` modules built for
//! bytecodealliance/sightglass (or written to its ABI, like the shipped
//! `workloads/sightglass/fib-wasi.wat`) join a suite unmodified.
//!
//! The ABI, checked here before compiling so a module that breaks it fails
//! the build with a precise message: it exports `_start: [] -> []`; it imports
//! only functions, from `bench` (`start` and `end`, both `[] -> []`) and
//! `wasi_snapshot_preview1`; if it imports WASI it exports its `memory`.
//! What the kernel defines for those imports is in
//! `runner-kernel/src/runner/sightglass.rs`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail, ensure};
use traplab_suite::{Workload, WorkloadKind};
use wasmparser::types::EntityType;
use wasmparser::{Validator, WasmFeatures};

/// The sightglass-ABI modules shipped with the project (in every suite).
pub const SHIPPED_DIR: &str = "workloads/sightglass";

/// `*.wasm` and `*.wat` files directly in `dir`, sorted by name.
pub fn find_modules(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir)
        .with_context(|| format!("reading sightglass directory {}", dir.display()))?
    {
        let path = entry
            .with_context(|| format!("reading {}", dir.display()))?
            .path();
        if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("wasm" | "wat")
        ) {
            found.push(path);
        }
    }
    found.sort();
    ensure!(
        !found.is_empty(),
        "{} holds no .wasm or .wat module",
        dir.display()
    );
    Ok(found)
}

/// Experiment name of a module: `sightglass.<file stem>`.
pub fn experiment_name(path: &Path) -> String {
    format!(
        "sightglass.{}",
        path.file_stem()
            .map_or("module".into(), |s| s.to_string_lossy())
    )
}

/// Read a module (binary or text) and check the ABI.
pub fn load(path: &Path) -> Result<Vec<u8>> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let wasm = decode(path, &bytes)?;
    check_abi(&wasm)
        .with_context(|| format!("{} does not follow the sightglass ABI", path.display()))?;
    Ok(wasm)
}

/// The wasm binary in `bytes`, read from `path`: the bytes themselves when
/// they start with the `\0asm` magic; the WAT text parsed when the file is
/// a `.wat` or is text (a WAT module may be named `.wasm`). Anything else
/// is neither, and says so, instead of a WAT parser's complaint about
/// binary bytes.
pub fn decode(path: &Path, bytes: &[u8]) -> Result<Vec<u8>> {
    const MAGIC: &[u8; 4] = b"\0asm";
    if bytes.starts_with(MAGIC) {
        return Ok(bytes.to_vec());
    }
    let named_wat = path.extension().and_then(|e| e.to_str()) == Some("wat");
    let text = std::str::from_utf8(bytes)
        .ok()
        .filter(|t| !t.contains('\0'));
    if bytes.iter().all(u8::is_ascii_whitespace) {
        bail!("{} is empty: neither a wasm binary nor WAT", path.display());
    }
    let parse = |text: &str| {
        wat::parse_str(text).map_err(|mut e| {
            e.set_path(path);
            e
        })
    };
    match (text, named_wat) {
        (Some(text), true) => parse(text).map_err(|e| anyhow::anyhow!("{e}")),
        (Some(text), false) => parse(text).map_err(|e| {
            anyhow::anyhow!(
                "{} is neither a wasm binary (no \\0asm magic) nor WAT: {e}",
                path.display()
            )
        }),
        (None, _) => bail!(
            "{} is neither a wasm binary (it does not start with the \\0asm magic) nor WAT (it is not text)",
            path.display()
        ),
    }
}

/// The ABI checks of the module doc.
pub fn check_abi(wasm: &[u8]) -> Result<()> {
    // Real benchmarks use SIMD and other standard proposals: validate with
    // everything on and let the engine refuse what it does not support.
    let types = Validator::new_with_features(WasmFeatures::all())
        .validate_all(wasm)
        .context("the module does not validate")?;
    let types = types.as_ref();
    let mut imports_wasi = false;
    for (module, name, ty) in types.core_imports().into_iter().flatten() {
        let EntityType::Func(_) = ty else {
            bail!("it imports {module}.{name}, which is not a function")
        };
        match (module, name) {
            ("bench", "start" | "end") => {}
            ("bench", other) => {
                bail!("it imports bench.{other}; the ABI has only bench.start and bench.end")
            }
            ("wasi_snapshot_preview1", _) => imports_wasi = true,
            (other, name) => bail!(
                "it imports {other}.{name}; only bench.* and wasi_snapshot_preview1.* are provided"
            ),
        }
    }
    let exports: Vec<_> = types.core_exports().into_iter().flatten().collect();
    let Some(&(_, start)) = exports.iter().find(|(name, _)| *name == "_start") else {
        bail!("it does not export `_start`");
    };
    let EntityType::Func(id) = start else {
        bail!("its export `_start` is not a function")
    };
    let ty = types[id].unwrap_func();
    ensure!(
        ty.params().is_empty() && ty.results().is_empty(),
        "its `_start` has type {ty}, not [] -> []"
    );
    if imports_wasi {
        ensure!(
            exports
                .iter()
                .any(|(name, e)| *name == "memory" && matches!(e, EntityType::Memory(_))),
            "it imports WASI but exports no `memory` for the host to read and write"
        );
    }
    Ok(())
}

/// The manifest entry of a sightglass module; artifacts are filled in by
/// the caller.
pub fn manifest_entry(name: String, artifacts: Vec<traplab_suite::Artifact>) -> Workload {
    Workload {
        name,
        kind: WorkloadKind::Sightglass,
        export: "_start".to_string(),
        args: [0, 0],
        expect_result: None,
        expect_trap: None,
        expect_vector: None,
        artifacts,
    }
}
