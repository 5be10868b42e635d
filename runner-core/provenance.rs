// Build provenance for every platform binary (the lab kernel, the Linux
// peer): their build scripts `include!` this file and call
// `stamp_provenance`, so each run header says what produced it in the same
// words — short git commit, dirty flag, and the wasmtime version from the
// lock file (the crate exposes no version constant).

/// Set `TRAPLAB_GIT_COMMIT`, `TRAPLAB_GIT_DIRTY` and
/// `TRAPLAB_WASMTIME_VERSION` for the crate in `dir` (its manifest dir).
fn stamp_provenance(dir: &str) {
    use std::process::Command;
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(dir)
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

}
