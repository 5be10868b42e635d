//! Conformance mode: runs spec-style `.wast` scripts inside the traplab
//! kernel and prints a pass/fail table.
//!
//! The data flows through one module each:
//! - [`script`]: `.wast` text → the kernel's commands (`module`,
//!   `register`, `invoke`, `assert_return`, `assert_trap`,
//!   `assert_unlinkable`, …), `assert_invalid`/`assert_malformed` decided
//!   on the host (the verdict travels as data), everything else classified
//!   as unsupported with a reason, never dropped;
//! - [`compile`]: each module precompiled for both trap modes with the
//!   kernel's engine configuration (a refusal is the reason a module is
//!   unsupported, or the verdict of `assert_invalid`), packed into a suite
//!   image (suite `wast`, no workloads);
//! - [`boot`]: the kernel booted under QEMU with only the scripts selected,
//!   records read back from the capture;
//! - [`table`]: records → one row per command, the totals over (command,
//!   config) pairs, and the table ending `N passed, M failed, K unsupported`.
//!
//! The kernel side (executing the commands, one `result` record per command
//! and config) is `runner-kernel/src/runner/wast.rs`; the manifest format is
//! `traplab_suite::image`. Trap-focused scripts ship in `scripts/`.

pub mod boot;
pub mod compile;
pub mod script;
pub mod table;

pub use compile::{KernelCompiler, LoadError, build_image, load_scripts, pack};
pub use script::{ConvertedScript, ScriptError, convert};
pub use table::{Collation, Totals, collate};

/// The directory of the shipped trap-focused scripts.
pub fn shipped_scripts_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts")
}

/// The shipped scripts (`scripts/*.wast`), in file-name order.
pub fn shipped_scripts() -> std::io::Result<Vec<std::path::PathBuf>> {
    wast_files_in(&shipped_scripts_dir())
}

/// The `*.wast` files directly in `dir`, in file-name order.
fn wast_files_in(dir: &std::path::Path) -> std::io::Result<Vec<std::path::PathBuf>> {
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "wast") && path.is_file() {
            paths.push(path);
        }
    }
    paths.sort();
    Ok(paths)
}

/// The scripts `args` name, in order: a file as it is, a folder as the
/// `*.wast` files directly in it, sorted by name (not recursive: a spec
/// checkout's proposal subfolders are chosen explicitly). A folder that
/// cannot be read or holds no script is an error naming it.
pub fn expand_script_paths(
    args: &[impl AsRef<std::path::Path>],
) -> Result<Vec<std::path::PathBuf>, ScriptError> {
    let mut paths = Vec::new();
    for arg in args {
        let arg = arg.as_ref();
        if !arg.is_dir() {
            paths.push(arg.to_path_buf());
            continue;
        }
        let error = |message: String| ScriptError {
            file: arg.display().to_string(),
            line: 1,
            column: 1,
            message,
        };
        let found =
            wast_files_in(arg).map_err(|e| error(format!("cannot read the folder: {e}")))?;
        if found.is_empty() {
            return Err(error("the folder holds no *.wast script".to_string()));
        }
        paths.extend(found);
    }
    Ok(paths)
}
