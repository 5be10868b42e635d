//! Conformance mode: runs spec-style `.wast` scripts inside the traplab
//! kernel and prints a pass/fail table.
//!
//! The data flows through one module each:
//! - [`script`]: `.wast` text → the kernel's commands (`module`,
//!   `assert_return`, `assert_trap`, `invoke`), everything else classified
//!   as unsupported with a reason, never dropped;
//! - [`compile`]: each module precompiled for both trap modes with the
//!   kernel's engine configuration, packed into a suite image (suite
//!   `wast`, no workloads);
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
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(shipped_scripts_dir())? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "wast") {
            paths.push(path);
        }
    }
    paths.sort();
    Ok(paths)
}
