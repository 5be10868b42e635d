//! Building the boot artifacts: the kernel ELF (via cargo, then with its
//! symbol table filled in) and the suite image (via `traplab-workloads`).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use traplab_workloads::SuiteName;

use crate::{symbols, workspace_root};

/// Where built artifacts go: `target/traplab/`.
pub fn artifact_dir() -> PathBuf {
    workspace_root().join("target").join("traplab")
}

/// Build the kernel in release mode and return the path of a copy whose
/// `.traplab_symbols` section is filled. `dispatch_delay_cycles` > 0 builds
/// the validation variant (see `runner-kernel/src/exceptions.rs`); it gets
/// its own file name so it never replaces the normal kernel.
pub fn kernel(dispatch_delay_cycles: u64) -> Result<PathBuf> {
    let root = workspace_root();
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(&root)
        .args(["build", "--release", "--locked", "-p", "runner-kernel", "--target", "x86_64-unknown-none"])
        .env("TRAPLAB_DISPATCH_DELAY_CYCLES", dispatch_delay_cycles.to_string())
        .status()
        .context("running cargo to build runner-kernel")?;
    if !status.success() {
        bail!("building runner-kernel failed ({status})");
    }
    let built = root.join("target/x86_64-unknown-none/release/runner-kernel");
    let name = if dispatch_delay_cycles == 0 {
        "runner-kernel".to_string()
    } else {
        format!("runner-kernel-delay{dispatch_delay_cycles}")
    };
    let out = artifact_dir().join(name);
    std::fs::create_dir_all(artifact_dir())?;
    let count = symbols::embed(&built, &out)?;
    if count == 0 {
        bail!("{}: no function symbols found to embed", built.display());
    }
    Ok(out)
}

/// Build the suite image `suite` into `target/traplab/suite-<name>.img`.
pub fn suite(suite: SuiteName) -> Result<PathBuf> {
    let image = traplab_workloads::build_suite(suite).with_context(|| format!("building the {} suite", suite.name()))?;
    let out = artifact_dir().join(format!("suite-{}.img", suite.name()));
    write_atomically(&out, &image)?;
    Ok(out)
}

pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().context("artifact path has no parent")?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    // A name of its own per writer: several harness processes (parallel
    // test binaries, a run beside a test) may write the same artifact.
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let unique = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = path.with_extension(format!("tmp.{}.{unique}", std::process::id()));
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))?;
    Ok(())
}
