//! Checks that run before anything is built or booted, so that a bad setup
//! fails in a second with a message naming the file and the problem (exit
//! status 2, [`crate::exit::SETUP`]) instead of after minutes of compiling
//! or a boot that can only report it from inside the stream.

use std::path::Path;

use anyhow::{Context, Result, bail};
use traplab_suite::{Command, Suite};

/// What [`check_suite_image`] learned about a suite image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuiteFacts {
    /// The manifest's suite name.
    pub suite: String,
    /// The manifest's SHA-256 (hex), as run headers carry it.
    pub manifest_sha256: String,
    /// Artifacts verified (workloads' and scripts' modules).
    pub artifacts: usize,
}

/// Verify the suite image at `path` the way the kernel will, and more:
/// it is a file and not empty, its magic and manifest SHA-256 are right,
/// its manifest names the wasmtime this harness compiles with
/// (`traplab_workloads::WASMTIME_VERSION`, the one the kernel and the peer
/// link), and every artifact is in bounds and passes its SHA-256 (the
/// kernel checks each one only right before it loads it, so a damaged
/// artifact would otherwise show up as a failed experiment mid-run).
pub fn check_suite_image(path: &Path) -> Result<SuiteFacts> {
    let meta = std::fs::metadata(path)
        .with_context(|| format!("suite image {}: cannot be read", path.display()))?;
    if meta.is_dir() {
        bail!(
            "suite image {} is a directory, not a suite image file (build one with build-suite, e.g. target/traplab/suite-quick.img)",
            path.display()
        );
    }
    if meta.len() == 0 {
        bail!(
            "suite image {} is empty (0 bytes): not a suite image",
            path.display()
        );
    }
    let image =
        std::fs::read(path).with_context(|| format!("reading suite image {}", path.display()))?;
    let suite = Suite::parse(&image)
        .map_err(|e| anyhow::anyhow!("suite image {} is unusable: {e}", path.display()))?;
    let host = traplab_workloads::WASMTIME_VERSION;
    if suite.manifest.wasmtime != host {
        bail!(
            "suite image {} was compiled by wasmtime {}, but this harness, the kernel and the peer use wasmtime {host}; rebuild the image with this checkout's build-suite",
            path.display(),
            suite.manifest.wasmtime
        );
    }
    let mut artifacts = 0;
    for workload in &suite.manifest.workloads {
        for artifact in &workload.artifacts {
            suite
                .artifact_bytes(workload, artifact)
                .map_err(|e| anyhow::anyhow!("suite image {} is damaged: {e}", path.display()))?;
            artifacts += 1;
        }
    }
    for script in &suite.manifest.scripts {
        for command in &script.commands {
            if let Command::Module {
                artifacts: list, ..
            } = command
            {
                for artifact in list {
                    suite.checked_bytes(&script.name, artifact).map_err(|e| {
                        anyhow::anyhow!("suite image {} is damaged: {e}", path.display())
                    })?;
                    artifacts += 1;
                }
            }
        }
    }
    Ok(SuiteFacts {
        suite: suite.manifest.suite.clone(),
        manifest_sha256: suite.manifest_sha256.clone(),
        artifacts,
    })
}

/// Refuse a capture file that already holds something (an earlier run
/// would be replaced without a word), or that is not a file at all. An
/// empty file is fine: `mktemp` makes one for the caller to fill.
/// `force` allows replacing a non-empty file.
pub fn check_capture_target(capture: &Path, force: bool) -> Result<()> {
    match std::fs::metadata(capture) {
        Err(_) => Ok(()),
        Ok(meta) if meta.is_dir() => bail!(
            "--capture {} is a directory; name a file (e.g. {}/run.jsonl)",
            capture.display(),
            capture.display()
        ),
        Ok(meta) if meta.len() > 0 && !force => bail!(
            "--capture {} already exists and holds {} bytes (an earlier run?); refusing to replace it: choose another file, remove it, or pass --force",
            capture.display(),
            meta.len()
        ),
        Ok(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("traplab-preflight-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join(name)
    }

    #[test]
    fn a_capture_file_that_holds_a_run_is_refused_unless_forced() {
        let empty = scratch("empty.jsonl");
        std::fs::write(&empty, b"").unwrap();
        check_capture_target(&empty, false).unwrap();
        check_capture_target(&scratch("missing.jsonl"), false).unwrap();

        let full = scratch("full.jsonl");
        std::fs::write(&full, b"{\"seq\":0}\n").unwrap();
        let err = check_capture_target(&full, false).unwrap_err().to_string();
        assert!(err.contains("already exists and holds 10 bytes"), "{err}");
        check_capture_target(&full, true).unwrap();

        let dir = scratch("a-folder");
        std::fs::create_dir_all(&dir).unwrap();
        let err = check_capture_target(&dir, true).unwrap_err().to_string();
        assert!(err.contains("is a directory"), "{err}");
    }

    #[test]
    fn suite_images_that_are_not_files_or_empty_are_named() {
        let dir = scratch("suite-folder");
        std::fs::create_dir_all(&dir).unwrap();
        let err = format!("{:#}", check_suite_image(&dir).unwrap_err());
        assert!(err.contains("is a directory"), "{err}");
        assert!(err.contains(&dir.display().to_string()), "{err}");

        let empty = scratch("empty.img");
        std::fs::write(&empty, b"").unwrap();
        let err = format!("{:#}", check_suite_image(&empty).unwrap_err());
        assert!(err.contains("is empty (0 bytes)"), "{err}");

        let err = format!("{:#}", check_suite_image(&scratch("nope.img")).unwrap_err());
        assert!(err.contains("cannot be read"), "{err}");
    }
}
