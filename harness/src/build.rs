//! Building the boot artifacts: the kernel ELF (via cargo, then with its
//! symbol table filled in) and the suite image (via `traplab-workloads`),
//! either from this workspace or from another checkout of the project (a
//! git worktree of another commit, for `scripts/compare-commits.sh`).
//!
//! Re-running does not redo work: cargo decides whether the kernel needs
//! compiling, and the two post-build steps (filling the symbol table,
//! compiling the suite image) are skipped when a fingerprint of their
//! inputs, stored beside the output as `<output>.key`, has not changed.
//! Skipping the suite build also keeps the suite's identity (the manifest
//! SHA-256 in every run header) stable across runs, which a rebuild would
//! not: the manifest records host compile times.
//!
//! Warnings fail the build of this checkout's kernel and peer: cargo's
//! JSON messages are read as they come (and rendered to standard error),
//! and a `warning` from any of the workspace's own packages (path
//! packages; dependencies' lints are capped by cargo) turns a successful
//! build into an error naming them. Cargo replays a fresh crate's cached
//! warnings, so a warning cannot slip through by building twice; and no
//! flag changes (no `-D warnings` in RUSTFLAGS), so nothing is rebuilt for
//! it. `TRAPLAB_ALLOW_WARNINGS=1` lets a local build through with the
//! warnings shown; builds of other checkouts (older commits compared by
//! `scripts/compare-commits.sh`) show them without failing.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::io::{BufRead, BufReader, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::UNIX_EPOCH;

use anyhow::{Context, Result, bail};
use traplab_suite::CpuProfile;
use traplab_workloads::SuiteName;

use crate::{symbols, workspace_root};

/// The kernel's target triple.
const KERNEL_TARGET: &str = "x86_64-unknown-none";

/// Cargo's target directory for this workspace: `$CARGO_TARGET_DIR`
/// (relative to the workspace root when relative) or `<root>/target`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => workspace_root().join(dir),
        None => workspace_root().join("target"),
    }
}

/// Where built artifacts go: `<target dir>/traplab/`.
pub fn artifact_dir() -> PathBuf {
    target_dir().join("traplab")
}

fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Cargo's target directory for builds of other checkouts (the worktrees
/// of `scripts/compare-commits.sh`): `<target dir>/checkouts`, one for all
/// of them, so wasmtime and Cranelift are compiled once for every commit.
pub fn checkouts_target_dir() -> PathBuf {
    target_dir().join("checkouts")
}

/// `cargo` run in the checkout at `source`, with the target directory that
/// checkout builds in.
///
/// Why other checkouts do not share this one's: cargo names the outputs of
/// workspace crates by their path inside the workspace, and decides
/// freshness by comparing source mtimes with the outputs. Two checkouts of
/// this project in one target directory therefore share output files, and
/// a checkout whose sources are older than the other's last build gets
/// that build, silently: a comparison of A and B would boot one kernel
/// twice, and after it this checkout could boot another commit's kernel.
/// So this checkout keeps its target directory to itself, and the other
/// checkouts share theirs; when the checkout building there changes, its
/// sources are touched first so cargo rebuilds the project's crates.
fn cargo_in(source: &Path) -> Result<Command> {
    let mut cmd = cargo();
    cmd.current_dir(source);
    let here = std::fs::canonicalize(workspace_root())?;
    let source = std::fs::canonicalize(source)
        .with_context(|| format!("the checkout {}", source.display()))?;
    if source != here {
        let target = checkouts_target_dir();
        switch_checkout(&source, &target)?;
        cmd.env("CARGO_TARGET_DIR", target);
    }
    Ok(cmd)
}

/// Make `source` the checkout whose crates `target` holds: if another
/// checkout built there last, touch every file of `source` (outside `.git`
/// and output folders), so that no output of the other one counts as
/// fresh. Dependencies from crates.io are untouched and stay built.
fn switch_checkout(source: &Path, target: &Path) -> Result<()> {
    let marker = target.join("traplab-checkout");
    let name = source.to_string_lossy().into_owned();
    if std::fs::read_to_string(&marker).is_ok_and(|last| last == name) {
        return Ok(());
    }
    let now = std::time::SystemTime::now();
    let mut pending = vec![source.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in
            std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))?
        {
            let entry = entry?;
            let path = entry.path();
            let kind = entry.file_type()?;
            if kind.is_dir() {
                if !matches!(
                    entry.file_name().to_str(),
                    Some(".git" | "target" | "results")
                ) {
                    pending.push(path);
                }
            } else if kind.is_file() {
                std::fs::File::options()
                    .write(true)
                    .open(&path)
                    .and_then(|f| f.set_modified(now))
                    .with_context(|| format!("touching {}", path.display()))?;
            }
        }
    }
    std::fs::create_dir_all(target).with_context(|| format!("creating {}", target.display()))?;
    write_atomically(&marker, name.as_bytes())
}

/// Build the kernel in release mode and return the path of a copy whose
/// `.traplab_symbols` section is filled. `dispatch_delay_cycles` > 0 builds
/// the validation variant (see `runner-kernel/src/exceptions.rs`); it gets
/// its own file name so it never replaces the normal kernel.
pub fn kernel(dispatch_delay_cycles: u64) -> Result<PathBuf> {
    let name = if dispatch_delay_cycles == 0 {
        "runner-kernel".to_string()
    } else {
        format!("runner-kernel-delay{dispatch_delay_cycles}")
    };
    kernel_from(
        &workspace_root(),
        dispatch_delay_cycles,
        &artifact_dir().join(name),
    )
}

/// Build the kernel of the checkout at `source` (a workspace root) with
/// cargo, fill its symbol table and write the result to `out`.
///
/// Cargo runs in `source`; another checkout than this one builds in
/// [`checkouts_target_dir`] (see [`cargo_in`]). The built ELF is located from cargo's own artifact messages rather than
/// guessed, because the target directory may be anywhere.
pub fn kernel_from(source: &Path, dispatch_delay_cycles: u64, out: &Path) -> Result<PathBuf> {
    let mut cmd = cargo_in(source)?;
    cmd.args([
        "build",
        "--release",
        "--locked",
        "-p",
        "runner-kernel",
        "--target",
        KERNEL_TARGET,
    ])
    .env(
        "TRAPLAB_DISPATCH_DELAY_CYCLES",
        dispatch_delay_cycles.to_string(),
    );
    let stdout = cargo_build(
        cmd,
        &format!("runner-kernel in {}", source.display()),
        source,
        deny_warnings(source),
    )?;
    let built = executable(&stdout, "runner-kernel").with_context(|| {
        format!(
            "cargo built runner-kernel in {} but named no executable",
            source.display()
        )
    })?;
    let key = fingerprint(&[&built])?;
    if fresh(out, &key) {
        return Ok(out.to_path_buf());
    }
    let (patched, count) = symbols::embed(&built)?;
    if count == 0 {
        bail!("{}: no function symbols found to embed", built.display());
    }
    write_atomically(out, &patched)?;
    remember(out, &key)?;
    Ok(out.to_path_buf())
}

/// The Linux peer's target triple: named explicitly (even on an x86-64
/// Linux host) so that the static-linking flag below applies to the peer
/// alone and not to build scripts and proc macros, and the peer gets a
/// target directory of its own.
pub const PEER_TARGET: &str = "x86_64-unknown-linux-gnu";

/// Build the Linux peer (`traplab-peer`, package `traplab-peer-linux`) as
/// a static executable and return the path of a copy of it in the
/// artifact directory: the `/init` of the Linux guest, and the program of
/// the `linux-host` platform.
pub fn peer() -> Result<PathBuf> {
    peer_from(&workspace_root(), &artifact_dir().join("traplab-peer"))
}

/// Build the Linux peer of the checkout at `source` (static glibc:
/// `-C target-feature=+crt-static`, since the guest's initramfs holds no
/// libraries) and copy it to `out` (another checkout's build lives in the
/// shared [`checkouts_target_dir`] only until the next checkout builds
/// there, as with [`kernel_from`]).
pub fn peer_from(source: &Path, out: &Path) -> Result<PathBuf> {
    let mut cmd = cargo_in(source)?;
    cmd.args([
        "build",
        "--release",
        "--locked",
        "-p",
        "traplab-peer-linux",
        "--bin",
        "traplab-peer",
        "--target",
        PEER_TARGET,
    ])
    .env(
        "CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS",
        "-C target-feature=+crt-static",
    );
    let stdout = cargo_build(
        cmd,
        &format!(
            "traplab-peer (package traplab-peer-linux, peer-linux/) in {}",
            source.display()
        ),
        source,
        deny_warnings(source),
    )?;
    let built = executable(&stdout, "traplab-peer").with_context(|| {
        format!(
            "cargo built traplab-peer-linux in {} but named no traplab-peer executable",
            source.display()
        )
    })?;
    let key = fingerprint(&[&built])?;
    if fresh(out, &key) {
        return Ok(out.to_path_buf());
    }
    let bytes = std::fs::read(&built).with_context(|| format!("reading {}", built.display()))?;
    write_file_atomically(out, &bytes, Some(0o755))?;
    remember(out, &key)?;
    Ok(out.to_path_buf())
}

/// Whether warnings fail a build of the checkout at `source`: for this
/// checkout, unless `TRAPLAB_ALLOW_WARNINGS=1`; never for other checkouts
/// (older commits are built as they were written).
fn deny_warnings(source: &Path) -> bool {
    let here = std::fs::canonicalize(workspace_root()).ok();
    let this_checkout = here.is_some() && std::fs::canonicalize(source).ok() == here;
    this_checkout && std::env::var_os("TRAPLAB_ALLOW_WARNINGS").is_none_or(|v| v != "1")
}

/// Run a prepared `cargo build` (`cmd` has its arguments but no message
/// format) with JSON messages: render every diagnostic to standard error as
/// it arrives, fail when cargo fails, and, with `deny_warnings`, fail when
/// a package of the workspace at `workspace` (a path package under it)
/// produced a warning. Returns cargo's standard output (the JSON
/// messages) for [`executable`].
pub fn cargo_build(
    mut cmd: Command,
    what: &str,
    workspace: &Path,
    deny_warnings: bool,
) -> Result<Vec<u8>> {
    let format = if std::io::stderr().is_terminal() {
        "--message-format=json-diagnostic-rendered-ansi"
    } else {
        "--message-format=json"
    };
    let mut child = cmd
        .arg(format)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("running cargo to build {what}"))?;
    let mut stdout = Vec::new();
    let mut warnings = Vec::new();
    let root = std::fs::canonicalize(workspace).unwrap_or_else(|_| workspace.to_path_buf());
    let mut stderr = std::io::stderr();
    for line in BufReader::new(child.stdout.take().expect("stdout is piped")).split(b'\n') {
        let line = line.with_context(|| format!("reading cargo's messages for {what}"))?;
        if let Some(message) = compiler_message(&line) {
            if let Some(rendered) = &message.rendered {
                let _ = stderr.write_all(rendered.as_bytes());
            }
            if message.level == "warning" && is_workspace_package(&message.package_id, &root) {
                warnings.push(message);
            }
        }
        stdout.extend_from_slice(&line);
        stdout.push(b'\n');
    }
    let status = child
        .wait()
        .with_context(|| format!("waiting for cargo building {what}"))?;
    if !status.success() {
        bail!("building {what} failed ({status})");
    }
    if deny_warnings && !warnings.is_empty() {
        let mut list = String::new();
        for w in &warnings {
            list.push_str(&format!("\n  {}: {}", w.package_name(), w.summary));
        }
        bail!(
            "building {what}: {} warning(s) in the workspace's own crates; warnings fail the kernel and peer builds (fix them, or set TRAPLAB_ALLOW_WARNINGS=1 for a local run):{list}",
            warnings.len()
        );
    }
    Ok(stdout)
}

/// One diagnostic of a `compiler-message`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CompilerMessage {
    package_id: String,
    /// `warning`, `error`, …
    level: String,
    /// The one-line message, with its first location when there is one.
    summary: String,
    rendered: Option<String>,
}

impl CompilerMessage {
    /// The package's name from its id (`path+file:///…/runner-core#traplab-runner-core@0.1.0`
    /// or the older `name 0.1.0 (path+file://…)`).
    fn package_name(&self) -> &str {
        let id = self.package_id.as_str();
        if let Some((_, tail)) = id.rsplit_once('#') {
            return tail.split('@').next().unwrap_or(tail);
        }
        id.split(' ').next().unwrap_or(id)
    }
}

/// The diagnostic of a cargo `compiler-message` line, if it is one.
fn compiler_message(line: &[u8]) -> Option<CompilerMessage> {
    let msg: serde_json::Value = serde_json::from_slice(line).ok()?;
    if msg["reason"] != "compiler-message" {
        return None;
    }
    let m = &msg["message"];
    let text = m["message"].as_str().unwrap_or("").to_string();
    let span = m["spans"]
        .as_array()
        .and_then(|spans| spans.iter().find(|s| s["is_primary"] == true))
        .map(|s| {
            format!(
                " ({}:{})",
                s["file_name"].as_str().unwrap_or("?"),
                s["line_start"]
            )
        })
        .unwrap_or_default();
    Some(CompilerMessage {
        package_id: msg["package_id"].as_str().unwrap_or("").to_string(),
        level: m["level"].as_str().unwrap_or("").to_string(),
        summary: format!("{text}{span}"),
        rendered: m["rendered"].as_str().map(String::from),
    })
}

/// Whether cargo's `package_id` names a path package under `root` (a crate
/// of the workspace, not a dependency from a registry or git).
fn is_workspace_package(package_id: &str, root: &Path) -> bool {
    // `path+file:///abs/dir#name@1.0` (cargo ≥ 1.77) or
    // `name 1.0 (path+file:///abs/dir)`.
    let Some(at) = package_id.find("path+file://") else {
        return false;
    };
    let rest = &package_id[at + "path+file://".len()..];
    let dir = rest.split(['#', ')']).next().unwrap_or(rest);
    Path::new(dir).starts_with(root)
}

/// The `executable` of the `compiler-artifact` message for `target` in
/// cargo's JSON output.
fn executable(stdout: &[u8], target: &str) -> Option<PathBuf> {
    String::from_utf8_lossy(stdout)
        .lines()
        .rev()
        .find_map(|line| {
            let msg: serde_json::Value = serde_json::from_str(line).ok()?;
            (msg["reason"] == "compiler-artifact" && msg["target"]["name"] == target)
                .then(|| msg["executable"].as_str().map(PathBuf::from))
                .flatten()
        })
}

/// Build the suite image `suite` for QEMU's TCG CPU (`qemu-max`, the CPU
/// of the tcg, icount and iso profiles): see [`suite_for`].
pub fn suite(suite: SuiteName) -> Result<PathBuf> {
    suite_for(suite, &traplab_suite::cpu::QEMU_MAX)
}

/// The file name stem of a suite built for `cpu`: `suite-<name>` for the
/// default profile (qemu-max), `suite-<name>-<profile>` for the others.
fn suite_stem(suite: SuiteName, cpu: &CpuProfile) -> String {
    if *cpu == traplab_suite::cpu::QEMU_MAX {
        format!("suite-{}", suite.name())
    } else {
        format!("suite-{}-{}", suite.name(), cpu.name)
    }
}

/// Build the suite image `suite` compiled for the CPU profile `cpu` into
/// `<artifact dir>/suite-<name>[-<profile>].img`, or reuse the one there
/// when nothing it is made from has changed (see [`suite_inputs`]).
pub fn suite_for(suite: SuiteName, cpu: &CpuProfile) -> Result<PathBuf> {
    let out = artifact_dir().join(format!("{}.img", suite_stem(suite, cpu)));
    let inputs = suite_inputs()?;
    let key = fingerprint(&inputs.iter().map(PathBuf::as_path).collect::<Vec<_>>())?;
    // The profile's features are part of the key: `host` differs per machine.
    let key = format!("{key} {:?}", cpu.record());
    if fresh(&out, &key) {
        return Ok(out);
    }
    let image = traplab_workloads::build_suite(suite, cpu).with_context(|| {
        format!(
            "building the {} suite for CPU profile {}",
            suite.name(),
            cpu.name
        )
    })?;
    write_atomically(&out, &image)?;
    remember(&out, &key)?;
    Ok(out)
}

/// Build the suite image `suite` with the fault-injection campaign of the
/// spec `campaign` (a TOML file, or a shipped spec's bare name such as
/// `default` or `smoke`: see `traplab_workloads::campaign::spec_path`)
/// into `<artifact dir>/suite-<name>-campaign-<spec name>.img`, or reuse
/// the one there when neither the suite's inputs nor the spec changed.
pub fn suite_with_campaign(suite: SuiteName, cpu: &CpuProfile, campaign: &Path) -> Result<PathBuf> {
    let spec_path = traplab_workloads::campaign::spec_path(campaign);
    let spec = traplab_workloads::campaign::load_spec(&spec_path)?;
    let out = artifact_dir().join(format!(
        "{}-campaign-{}.img",
        suite_stem(suite, cpu),
        spec.spec.name
    ));
    let mut inputs = suite_inputs()?;
    inputs.push(spec_path.clone());
    let key = fingerprint(&inputs.iter().map(PathBuf::as_path).collect::<Vec<_>>())?;
    // The key names the spec file too: two spec files of the same name
    // share the output path but not the key.
    let key = format!("{key} {} {:?}", spec_path.display(), cpu.record());
    if fresh(&out, &key) {
        return Ok(out);
    }
    let image = traplab_workloads::build_suite_campaign(suite, cpu, &[], Some(&spec))
        .with_context(|| {
            format!(
                "building the {} suite with campaign {}",
                suite.name(),
                spec_path.display()
            )
        })?;
    write_atomically(&out, &image)?;
    remember(&out, &key)?;
    Ok(out)
}

/// What a suite image is made from: this executable (it links the workload
/// catalogue, the WAT texts and the Cranelift compiler), the lock file (the
/// wasmtime version), and every source file under `workloads/` (the
/// compute module is compiled from there by cargo while the suite builds).
fn suite_inputs() -> Result<Vec<PathBuf>> {
    let root = workspace_root();
    let mut inputs = vec![
        std::env::current_exe().context("locating this executable")?,
        root.join("Cargo.lock"),
    ];
    let mut stack = vec![root.join("workloads")];
    while let Some(dir) = stack.pop() {
        let entries =
            std::fs::read_dir(&dir).with_context(|| format!("listing {}", dir.display()))?;
        for entry in entries {
            let entry = entry?;
            let path = entry.path();
            let file_type = entry.file_type()?;
            if file_type.is_dir() && entry.file_name() != "target" {
                stack.push(path);
            } else if file_type.is_file() {
                inputs.push(path);
            }
        }
    }
    inputs.sort();
    Ok(inputs)
}

/// Build the suite image of the checkout at `source` with that checkout's
/// own `build-suite` (so a commit is measured with its own workloads and
/// compiler settings) and write it to `out`.
pub fn suite_from(source: &Path, suite: SuiteName, out: &Path) -> Result<PathBuf> {
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let status = cargo_in(source)?
        .args([
            "run",
            "--release",
            "--locked",
            "-q",
            "-p",
            "traplab-workloads",
            "--bin",
            "build-suite",
            "--",
        ])
        .args(["--suite", suite.name(), "--out"])
        .arg(out)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .context("running cargo to build the suite image")?;
    if !status.success() {
        bail!(
            "building the {} suite in {} failed ({status})",
            suite.name(),
            source.display()
        );
    }
    Ok(out.to_path_buf())
}

/// A fingerprint of files: path, length and modification time of each
/// (what make and cargo use too; contents are not read).
pub(crate) fn fingerprint(inputs: &[&Path]) -> Result<String> {
    let mut hasher = DefaultHasher::new();
    for path in inputs {
        let meta = std::fs::metadata(path)
            .with_context(|| format!("reading the metadata of {}", path.display()))?;
        let mtime = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .unwrap_or_default();
        (path, meta.len(), mtime.as_nanos()).hash(&mut hasher);
    }
    Ok(format!(
        "{} inputs, {:016x}\n",
        inputs.len(),
        hasher.finish()
    ))
}

fn key_path(out: &Path) -> PathBuf {
    let mut name = out.as_os_str().to_owned();
    name.push(".key");
    PathBuf::from(name)
}

/// Whether `out` exists and was made from inputs with fingerprint `key`.
pub(crate) fn fresh(out: &Path, key: &str) -> bool {
    out.is_file() && std::fs::read_to_string(key_path(out)).is_ok_and(|k| k == key)
}

pub(crate) fn remember(out: &Path, key: &str) -> Result<()> {
    write_atomically(&key_path(out), key.as_bytes())
}

pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    write_file_atomically(path, bytes, None)
}

/// [`write_atomically`], with the file mode `mode` if given (set before
/// the file takes its name, so nobody runs an executable that is not one
/// yet).
fn write_file_atomically(path: &Path, bytes: &[u8], mode: Option<u32>) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let dir = path.parent().context("artifact path has no parent")?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    // A name of its own per writer: several harness processes (parallel
    // test binaries, a run beside a test) may write the same artifact.
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let unique = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = path.with_extension(format!("tmp.{}.{unique}", std::process::id()));
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    if let Some(mode) = mode {
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(mode))
            .with_context(|| format!("setting the mode of {}", tmp.display()))?;
    }
    std::fs::rename(&tmp, path)
        .with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_executable_is_found_in_cargo_messages() {
        let stdout = br#"{"reason":"compiler-artifact","target":{"name":"wire"},"executable":null}
{"reason":"compiler-artifact","target":{"name":"runner-kernel"},"executable":"/t/x86_64-unknown-none/release/runner-kernel"}
{"reason":"build-finished","success":true}
"#;
        assert_eq!(
            executable(stdout, "runner-kernel"),
            Some(PathBuf::from(
                "/t/x86_64-unknown-none/release/runner-kernel"
            ))
        );
        assert_eq!(executable(stdout, "other"), None);
    }

    #[test]
    fn warnings_are_told_apart_by_package() {
        let root = Path::new("/work/main");
        assert!(is_workspace_package(
            "path+file:///work/main/runner-core#traplab-runner-core@0.1.0",
            root
        ));
        assert!(is_workspace_package(
            "runner-kernel 0.1.0 (path+file:///work/main/runner-kernel)",
            root
        ));
        assert!(!is_workspace_package(
            "registry+https://github.com/rust-lang/crates.io-index#serde@1.0.228",
            root
        ));
        assert!(!is_workspace_package(
            "path+file:///elsewhere/crate#x@0.1.0",
            root
        ));
        let line = br#"{"reason":"compiler-message","package_id":"path+file:///work/main/wire#traplab-wire@0.1.0","message":{"level":"warning","message":"unused variable: `x`","spans":[{"file_name":"wire/src/lib.rs","line_start":7,"is_primary":true}],"rendered":"warning: unused variable\n"}}"#;
        let m = compiler_message(line).unwrap();
        assert_eq!(m.level, "warning");
        assert_eq!(m.package_name(), "traplab-wire");
        assert_eq!(m.summary, "unused variable: `x` (wire/src/lib.rs:7)");
        assert_eq!(compiler_message(br#"{"reason":"compiler-artifact"}"#), None);
    }

    /// A real cargo build of a throwaway crate with a warning: the build
    /// fails with the warning named, also the second time, when cargo
    /// replays the cached warning of the fresh crate instead of compiling.
    #[test]
    fn a_warning_in_a_workspace_crate_fails_the_build_even_when_cached() {
        let dir = std::env::temp_dir().join(format!("traplab-warn-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("src")).unwrap();
        std::fs::write(
            dir.join("Cargo.toml"),
            "[package]\nname = \"warns\"\nversion = \"0.1.0\"\nedition = \"2021\"\n[workspace]\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("src/lib.rs"),
            "pub fn f() -> u32 {\n    let unused = 1;\n    2\n}\n",
        )
        .unwrap();
        let build = |deny: bool| {
            let mut cmd = cargo();
            cmd.current_dir(&dir)
                .env("CARGO_TARGET_DIR", dir.join("target"))
                .args(["build", "--offline", "--quiet"]);
            cargo_build(cmd, "the warns crate", &dir, deny)
        };
        for attempt in ["compiled", "replayed from cache"] {
            let err = format!("{:#}", build(true).unwrap_err());
            assert!(err.contains("1 warning(s)"), "{attempt}: {err}");
            assert!(
                err.contains("warns: unused variable: `unused`"),
                "{attempt}: {err}"
            );
        }
        let stdout = build(false).expect("allowed warnings build");
        assert!(String::from_utf8_lossy(&stdout).contains("compiler-artifact"));
        std::fs::write(dir.join("src/lib.rs"), "pub fn f() -> u32 {\n    2\n}\n").unwrap();
        build(true).expect("no warning, no error");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_checkout_taking_over_the_shared_target_dir_is_touched_once() {
        let dir = std::env::temp_dir().join(format!("traplab-switch-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let target = dir.join("target");
        let mut old = Vec::new();
        for checkout in ["a", "b"] {
            for file in ["Cargo.toml", "src/lib.rs", ".git/HEAD", "target/out"] {
                let path = dir.join(checkout).join(file);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(&path, b"x").unwrap();
                let f = std::fs::File::options().write(true).open(&path).unwrap();
                f.set_modified(UNIX_EPOCH + std::time::Duration::from_secs(1))
                    .unwrap();
            }
            old.push(dir.join(checkout));
        }
        let mtime = |p: PathBuf| std::fs::metadata(p).unwrap().modified().unwrap();
        let epoch = UNIX_EPOCH + std::time::Duration::from_secs(1);

        switch_checkout(&old[0], &target).unwrap();
        assert!(
            mtime(old[0].join("src/lib.rs")) > epoch,
            "sources are touched"
        );
        assert!(mtime(old[0].join("Cargo.toml")) > epoch);
        assert_eq!(mtime(old[0].join(".git/HEAD")), epoch, ".git is left alone");
        assert_eq!(
            mtime(old[0].join("target/out")),
            epoch,
            "outputs are left alone"
        );
        assert_eq!(
            mtime(old[1].join("src/lib.rs")),
            epoch,
            "other checkouts too"
        );

        // The same checkout again: nothing to do.
        let f = std::fs::File::options()
            .write(true)
            .open(old[0].join("src/lib.rs"))
            .unwrap();
        f.set_modified(epoch).unwrap();
        switch_checkout(&old[0], &target).unwrap();
        assert_eq!(mtime(old[0].join("src/lib.rs")), epoch);

        // Another checkout takes over, then the first one comes back.
        switch_checkout(&old[1], &target).unwrap();
        assert!(mtime(old[1].join("src/lib.rs")) > epoch);
        switch_checkout(&old[0], &target).unwrap();
        assert!(mtime(old[0].join("src/lib.rs")) > epoch);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_changed_input_makes_the_output_stale() {
        let dir = std::env::temp_dir().join(format!("traplab-build-key-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (input, out) = (dir.join("in"), dir.join("out"));
        std::fs::write(&input, b"one").unwrap();
        std::fs::write(&out, b"built").unwrap();
        let key = fingerprint(&[&input]).unwrap();
        assert!(!fresh(&out, &key), "no key recorded yet");
        remember(&out, &key).unwrap();
        assert!(fresh(&out, &key));
        std::fs::write(&input, b"three").unwrap();
        assert!(
            !fresh(&out, &fingerprint(&[&input]).unwrap()),
            "a longer input changes the key"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
