//! Build script of the runner kernel: links it with its own linker script
//! and stamps the build's provenance (git commit, dirty flag, build options)
//! into the binary, because every run header must say what produced it.

use std::process::Command;

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap();
    println!("cargo:rustc-link-arg-bins=-T{dir}/linker.ld");
    println!("cargo:rustc-link-arg-bins=--no-pie");
    println!("cargo:rerun-if-changed=linker.ld");

    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(&dir)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let commit = git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_else(|| "unknown".into());
    let dirty =
        git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
    println!("cargo:rustc-env=TRAPLAB_GIT_COMMIT={commit}");
    println!("cargo:rustc-env=TRAPLAB_GIT_DIRTY={dirty}");
    if let Some(top) = git(&["rev-parse", "--git-dir"]) {
        let top = std::path::Path::new(&dir).join(top);
        for f in ["HEAD", "index"] {
            println!("cargo:rerun-if-changed={}", top.join(f).display());
        }
    }

    // The wasmtime version the run header reports, from the lock file (the
    // crate exposes no version constant).
    let lock_path = std::path::Path::new(&dir).join("../Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock_path.display());
    let lock = std::fs::read_to_string(&lock_path).expect("reading Cargo.lock");
    let version = lock
        .split("[[package]]")
        .find(|p| p.lines().any(|l| l.trim() == "name = \"wasmtime\""))
        .and_then(|p| {
            p.lines()
                .find_map(|l| l.trim().strip_prefix("version = \""))
        })
        .map(|v| v.trim_end_matches('"').to_string())
        .expect("Cargo.lock lists wasmtime");
    println!("cargo:rustc-env=TRAPLAB_WASMTIME_VERSION={version}");

    // Validation knob (see src/exceptions.rs): extra cycles spent in the
    // exception dispatch path, so a comparison can be shown to catch it.
    println!("cargo:rerun-if-env-changed=TRAPLAB_DISPATCH_DELAY_CYCLES");
    let delay = std::env::var("TRAPLAB_DISPATCH_DELAY_CYCLES").unwrap_or_else(|_| "0".into());
    let delay: u64 = delay
        .parse()
        .expect("TRAPLAB_DISPATCH_DELAY_CYCLES must be an unsigned integer");
    println!("cargo:rustc-env=TRAPLAB_DISPATCH_DELAY_CYCLES={delay}");
}
