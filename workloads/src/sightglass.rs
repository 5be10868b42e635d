//! Sightglass-ABI benchmarks: `.wasm` modules built for
//! bytecodealliance/sightglass (or written to its ABI, like the shipped
//! `workloads/sightglass/fib-wasi.wat`) join a suite unmodified.
//!
//! The ABI, checked here before compiling so a module that breaks it fails
//! the build with a precise message: it exports `_start: [] -> []`; it imports
//! only functions, from `bench` (`start` and `end`, both `[] -> []`) and
//! `wasi_snapshot_preview1`; if it imports WASI it exports its `memory`.
//! What the kernel (and the Linux peer) define for those imports is in
//! `runner-core/src/sightglass.rs` and `runner-core/src/wasi.rs`.
//!
//! Two layouts are accepted under a `--sightglass DIR`:
//!
//! - **sightglass's own**: DIR is a folder of benchmark folders (its
//!   `benchmarks/`), each holding `benchmark.wasm` (or several `*.wasm`, as
//!   sightglass's `shootout/` does) beside the files it reads and its
//!   expected-output files; or DIR is one such folder (it holds
//!   `benchmark.wasm`). Experiment `sightglass.<folder>` for
//!   `benchmark.wasm`, `sightglass.<folder>.<stem>` for any other module.
//!   Everything in the folder except the top-level `*.wasm` and every
//!   `*.expected` file is packed into the suite image and served to the
//!   module read-only as its preopened directory `.` (fd 3), as sightglass
//!   preopens the benchmark's folder.
//! - **flat**: `*.wasm` / `*.wat` files directly in DIR (the shipped
//!   `workloads/sightglass/`); experiment `sightglass.<file stem>`. They get
//!   no preopened directory (a module that needs input files belongs in a
//!   folder).
//!
//! Expected output follows sightglass's rule (bytecodealliance/sightglass,
//! `crates/cli/src/benchmark.rs`, `check_output` / `compare_output_file`):
//! for `<stem>.wasm`, `<stem>.stdout.expected` beside it, else
//! `default.stdout.expected` in the same folder (likewise `stderr`); a
//! missing file means that stream is not checked (sightglass warns, so do
//! we); the comparison is line by line (`str::lines`, so `\r\n` equals `\n`
//! and a final newline is optional).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail, ensure};
use traplab_suite::{Workload, WorkloadKind};
use wasmparser::types::EntityType;
use wasmparser::{Validator, WasmFeatures};

/// The sightglass-ABI modules shipped with the project (in every suite).
pub const SHIPPED_DIR: &str = "workloads/sightglass";

/// Most bytes of input files one benchmark may pack: the kernel holds the
/// whole suite image in its heap (at most 128 MiB), beside wasmtime and
/// the benchmark's own linear memory.
pub const MAX_INPUT_BYTES: u64 = 48 << 20;

/// One benchmark found under a `--sightglass` directory.
#[derive(Debug, Clone, PartialEq)]
pub struct Benchmark {
    /// Experiment name, `sightglass.<…>`.
    pub name: String,
    /// The module (`.wasm`, or `.wat` in the flat layout).
    pub module: PathBuf,
    /// The benchmark's folder in sightglass's layout (preopened as `.`);
    /// `None` for a flat module.
    pub folder: Option<PathBuf>,
    /// Files of the folder, `(path relative to it, '/'-separated, path)`,
    /// sorted.
    pub inputs: Vec<(String, PathBuf)>,
    pub stdout_expected: Option<PathBuf>,
    pub stderr_expected: Option<PathBuf>,
}

impl Benchmark {
    /// The manifest's description of the files (not yet placed) and their
    /// bytes, in [`traplab_suite::image::SightglassFiles::all`] order.
    pub fn files(&self) -> Result<(traplab_suite::image::SightglassFiles, Vec<Vec<u8>>)> {
        use traplab_suite::image::{DataFile, SightglassFiles};
        let mut data = Vec::new();
        let read = |path: &Path| {
            std::fs::read(path)
                .with_context(|| format!("reading {} (a file of {})", path.display(), self.name))
        };
        let mut inputs = Vec::new();
        for (rel, path) in &self.inputs {
            data.push(read(path)?);
            inputs.push(DataFile::unplaced(rel.clone()));
        }
        let mut expected = |path: &Option<PathBuf>| -> Result<Option<DataFile>> {
            let Some(path) = path else { return Ok(None) };
            data.push(read(path)?);
            let name = path
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            Ok(Some(DataFile::unplaced(name)))
        };
        let stdout_expected = expected(&self.stdout_expected)?;
        let stderr_expected = expected(&self.stderr_expected)?;
        Ok((
            SightglassFiles {
                preopen: self.folder.is_some(),
                inputs,
                stdout_expected,
                stderr_expected,
            },
            data,
        ))
    }
}

/// Every benchmark under `dir`, in either layout of the module doc, sorted
/// by module path.
pub fn find_benchmarks(dir: &Path) -> Result<Vec<Benchmark>> {
    ensure!(
        dir.is_dir(),
        "sightglass directory {} is not a directory",
        dir.display()
    );
    if dir.join("benchmark.wasm").is_file() {
        return benchmark_folder(dir);
    }
    let mut found = Vec::new();
    for path in sorted_entries(dir)? {
        if path.is_dir() {
            if sorted_entries(&path)?
                .iter()
                .any(|p| is_ext(p, "wasm") && p.is_file())
            {
                found.extend(benchmark_folder(&path)?);
            }
        } else if is_ext(&path, "wasm") || is_ext(&path, "wat") {
            let (stdout_expected, stderr_expected) = expected_files(&path);
            found.push(Benchmark {
                name: experiment_name(&path),
                module: path,
                folder: None,
                inputs: Vec::new(),
                stdout_expected,
                stderr_expected,
            });
        }
    }
    ensure!(
        !found.is_empty(),
        "{} holds no sightglass benchmark: no .wasm or .wat module, no folder with a .wasm module",
        dir.display()
    );
    Ok(found)
}

/// The benchmarks of one folder of sightglass's layout.
fn benchmark_folder(folder: &Path) -> Result<Vec<Benchmark>> {
    let folder_name = folder
        .canonicalize()
        .with_context(|| format!("resolving {}", folder.display()))?
        .file_name()
        .map_or_else(|| "benchmark".into(), |n| n.to_string_lossy().into_owned());
    let entries = sorted_entries(folder)?;
    let modules: Vec<&PathBuf> = entries
        .iter()
        .filter(|p| is_ext(p, "wasm") && p.is_file())
        .collect();
    let mut inputs = Vec::new();
    let mut total = 0u64;
    collect_inputs(folder, folder, &mut inputs, &mut total)?;
    ensure!(
        total <= MAX_INPUT_BYTES,
        "{}: its input files hold {total} bytes, more than the {MAX_INPUT_BYTES} a suite image may carry per benchmark (the kernel keeps the whole image in memory)",
        folder.display()
    );
    Ok(modules
        .into_iter()
        .map(|module| {
            let stem = module
                .file_stem()
                .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
            let name = if stem == "benchmark" {
                format!("sightglass.{folder_name}")
            } else {
                format!("sightglass.{folder_name}.{stem}")
            };
            let (stdout_expected, stderr_expected) = expected_files(module);
            Benchmark {
                name,
                module: module.clone(),
                folder: Some(folder.to_path_buf()),
                inputs: inputs.clone(),
                stdout_expected,
                stderr_expected,
            }
        })
        .collect())
}

/// Files under `dir` (recursively) that the benchmark may read: all but the
/// modules at the top and the expected-output files.
fn collect_inputs(
    root: &Path,
    dir: &Path,
    out: &mut Vec<(String, PathBuf)>,
    total: &mut u64,
) -> Result<()> {
    for path in sorted_entries(dir)? {
        let meta =
            std::fs::metadata(&path).with_context(|| format!("reading {}", path.display()))?;
        if meta.is_dir() {
            collect_inputs(root, &path, out, total)?;
            continue;
        }
        let top = dir == root;
        if (top && is_ext(&path, "wasm")) || is_ext(&path, "expected") {
            continue;
        }
        let rel = path.strip_prefix(root).expect("walked from root");
        let rel: Vec<String> = rel
            .components()
            .map(|c| {
                c.as_os_str()
                    .to_str()
                    .map(str::to_string)
                    .with_context(|| format!("{}: the name is not UTF-8", path.display()))
            })
            .collect::<Result<_>>()?;
        *total += meta.len();
        out.push((rel.join("/"), path));
    }
    Ok(())
}

/// sightglass's expected-output files of `module` (see the module doc).
fn expected_files(module: &Path) -> (Option<PathBuf>, Option<PathBuf>) {
    let dir = module.parent().unwrap_or(Path::new("."));
    let stem = module
        .file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    let find = |stream: &str| {
        [
            dir.join(format!("{stem}.{stream}.expected")),
            dir.join(format!("default.{stream}.expected")),
        ]
        .into_iter()
        .find(|p| p.is_file())
    };
    (find("stdout"), find("stderr"))
}

fn is_ext(path: &Path, ext: &str) -> bool {
    path.extension().and_then(|e| e.to_str()) == Some(ext)
}

/// The entries of `dir`, sorted (so image layout and experiment order do
/// not depend on the file system's order).
fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut entries = std::fs::read_dir(dir)
        .with_context(|| format!("reading sightglass directory {}", dir.display()))?
        .map(|e| {
            e.map(|e| e.path())
                .with_context(|| format!("reading {}", dir.display()))
        })
        .collect::<Result<Vec<_>>>()?;
    entries.sort();
    Ok(entries)
}

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
        sightglass: None,
    }
}
