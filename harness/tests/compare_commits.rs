//! `scripts/compare-commits.sh` and the `traplab-ab` it drives: bad commit
//! names stop the script before anything is built or removed, a folder the
//! script did not make is never removed, the options are checked, and
//! `--peers` skips the Linux side of a commit from before the peer (or
//! stops at once when the guest kernel is missing).
//!
//! These run in seconds: a fake `cargo` first in `PATH` makes any build
//! fail loudly ("fake cargo"), so a script or harness that went too far
//! shows up in the output instead of compiling for minutes, and
//! `CARGO_TARGET_DIR`, `TRAPLAB_WORKTREES` and `TRAPLAB_RESULTS` point into
//! a scratch folder, so nothing reaches the shared target directory, the
//! worktree cache or `results/`.
//!
//! The whole comparison (`--quick --deterministic --repeat 1 HEAD HEAD`,
//! with and without `--peers`) is `#[ignore]`d: it builds a worktree of
//! HEAD in `target/checkouts` (the first time, wasmtime for the kernel,
//! the host and, with `--peers`, the Linux peer: tens of minutes on two
//! cores), and even with every dependency built a new HEAD rebuilds the
//! workspace's crates there (its worktree is new, so its sources are
//! touched) before two (four with `--peers`) icount boots of about 20 s.
//! Measured on the 2-core development VM: cold (wasmtime for kernel and
//! host compiled in `target/checkouts`) 25 min 41 s; the same commit again
//! 61 s; a new HEAD with every dependency built 155 s; `--peers` 206 s
//! (the peer's own build 71 s); both tests together, on a new HEAD, 176 s.
//! Run them with
//! `cargo test --release -p traplab-harness --test compare_commits -- --ignored`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("harness/ has a parent")
        .to_path_buf()
}

/// A scratch folder, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!(
            "traplab-compare-commits-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// A `PATH` whose `cargo` fails at once, saying so.
    fn fake_cargo_path(&self) -> std::ffi::OsString {
        use std::os::unix::fs::PermissionsExt;
        let bin = self.path("bin");
        std::fs::create_dir_all(&bin).unwrap();
        let cargo = bin.join("cargo");
        std::fs::write(
            &cargo,
            "#!/bin/sh\necho \"fake cargo: a build was started ($*)\" >&2\nexit 97\n",
        )
        .unwrap();
        std::fs::set_permissions(&cargo, std::fs::Permissions::from_mode(0o755)).unwrap();
        let mut path = bin.into_os_string();
        path.push(":");
        path.push(std::env::var_os("PATH").unwrap_or_default());
        path
    }

    /// A command with this scratch folder's target, worktree and results
    /// folders and the fake cargo.
    fn command(&self, program: &Path) -> Command {
        let mut cmd = Command::new(program);
        cmd.current_dir(root())
            .env("PATH", self.fake_cargo_path())
            .env("CARGO_TARGET_DIR", self.path("target"))
            .env("TRAPLAB_WORKTREES", self.path("worktrees"))
            .env("TRAPLAB_RESULTS", self.path("results"))
            .env_remove("CARGO");
        cmd
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn script() -> PathBuf {
    root().join("scripts/compare-commits.sh")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Exit status 2, `message` on standard error, and nothing built.
fn assert_setup_error(output: &Output, message: &str) {
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(
        output.status.code(),
        Some(2),
        "exit status 2 expected\nstdout: {stdout}\nstderr: {stderr}"
    );
    assert!(
        stderr.contains(message),
        "standard error should say {message:?}\nstderr: {stderr}"
    );
    assert!(
        !stderr.contains("fake cargo") && !stderr.contains("building host tools"),
        "nothing may be built after a setup error\nstderr: {stderr}"
    );
}

fn head() -> String {
    let out = Command::new("git")
        .current_dir(root())
        .args(["rev-parse", "HEAD"])
        .output()
        .unwrap();
    assert!(out.status.success());
    text(&out.stdout).trim().to_string()
}

fn worktree_list() -> String {
    let out = Command::new("git")
        .current_dir(root())
        .args(["worktree", "list", "--porcelain"])
        .output()
        .unwrap();
    text(&out.stdout)
}

/// A cache root holding one file of someone else's.
fn cache_root(scratch: &Scratch) -> PathBuf {
    let cache = scratch.path("worktrees");
    std::fs::create_dir_all(&cache).unwrap();
    std::fs::write(cache.join("not-ours"), b"keep me").unwrap();
    cache
}

fn assert_cache_root_untouched(cache: &Path) {
    assert!(
        cache.is_dir(),
        "the cache root {} was removed",
        cache.display()
    );
    let names: Vec<String> = std::fs::read_dir(cache)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["not-ours"], "the cache root changed");
    assert_eq!(std::fs::read(cache.join("not-ours")).unwrap(), b"keep me");
}

#[test]
fn a_bad_commit_stops_the_script_naming_it_and_removes_nothing() {
    for (args, message) in [
        (
            ["NO-SUCH-REF", "HEAD"],
            "error: NO-SUCH-REF is not a commit of this repository",
        ),
        (
            ["HEAD", "NO-SUCH-REF"],
            "error: NO-SUCH-REF is not a commit of this repository",
        ),
        (
            ["HEAD~999999", "HEAD"],
            "error: HEAD~999999 is not a commit of this repository",
        ),
        // Not a commit: a tree.
        (
            ["HEAD^{tree}", "HEAD"],
            "error: HEAD^{tree} is not a commit of this repository",
        ),
        (["", "HEAD"], "error: an empty commit name"),
        (["HEAD", ""], "error: an empty commit name"),
    ] {
        let scratch = Scratch::new("badref");
        let cache = cache_root(&scratch);
        let before = worktree_list();
        let output = scratch.command(&script()).args(args).output().unwrap();
        assert_setup_error(&output, message);
        // The first bad name alone is reported.
        assert_eq!(
            text(&output.stderr).matches("error:").count(),
            1,
            "{args:?}: {}",
            text(&output.stderr)
        );
        assert_cache_root_untouched(&cache);
        assert_eq!(worktree_list(), before, "{args:?}: git worktrees changed");
        assert!(
            !scratch.path("target").exists(),
            "{args:?}: something was built"
        );
    }
}

#[test]
fn a_folder_the_script_did_not_make_is_left_alone() {
    let scratch = Scratch::new("foreign");
    let cache = scratch.path("worktrees");
    // Where the worktree of HEAD would go, a folder of someone else's.
    // (The commit by its id: HEAD may move while the test runs.)
    let sha = head();
    let theirs = cache.join(&sha[..12]);
    std::fs::create_dir_all(&theirs).unwrap();
    std::fs::write(theirs.join("notes.txt"), b"mine").unwrap();
    let before = worktree_list();
    let output = scratch
        .command(&script())
        .args([&sha, &sha])
        .output()
        .unwrap();
    assert_setup_error(&output, "is not a worktree of this repository");
    assert_eq!(std::fs::read(theirs.join("notes.txt")).unwrap(), b"mine");
    assert_eq!(worktree_list(), before);
}

#[test]
fn bad_options_are_setup_errors_and_help_documents_peers() {
    for (args, message) in [
        (&[][..], "usage: scripts/compare-commits.sh A B"),
        (&["HEAD"][..], "usage: scripts/compare-commits.sh A B"),
        (
            &["HEAD", "HEAD", "HEAD"][..],
            "usage: scripts/compare-commits.sh A B",
        ),
        (
            &["--frobnicate", "HEAD", "HEAD"][..],
            "unknown option --frobnicate",
        ),
        (&["HEAD", "HEAD", "--repeat"][..], "--repeat needs a value"),
        (
            &["--accel", "xen", "HEAD", "HEAD"][..],
            "--accel must be tcg or kvm",
        ),
        (
            &["--accel", "kvm", "--deterministic", "HEAD", "HEAD"][..],
            "--deterministic needs TCG",
        ),
        // Options are checked before the commits.
        (
            &["--accel", "xen", "NO-SUCH-REF", "HEAD"][..],
            "--accel must be tcg or kvm",
        ),
    ] {
        let scratch = Scratch::new("options");
        let output = scratch.command(&script()).args(args).output().unwrap();
        assert_setup_error(&output, message);
    }
    let scratch = Scratch::new("help");
    let output = scratch.command(&script()).arg("--help").output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let help = text(&output.stdout);
    for needle in [
        "--peers",
        "linux-guest A vs B",
        "predates",
        "exit status: 0 no confirmed regression",
    ] {
        assert!(
            help.contains(needle),
            "--help should mention {needle:?}:\n{help}"
        );
    }
}

fn traplab_ab() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_traplab-ab"))
}

/// A checkout of the project from before the Linux peer: a workspace root
/// without `peer-linux/`.
fn checkout_without_peer(scratch: &Scratch) -> PathBuf {
    let dir = scratch.path("old-checkout");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("Cargo.toml"), "[workspace]\n").unwrap();
    dir
}

#[test]
fn peers_with_a_side_from_before_the_peer_skip_the_linux_side_saying_so() {
    let scratch = Scratch::new("predates");
    let old = checkout_without_peer(&scratch);
    let output = scratch
        .command(&traplab_ab())
        .args(["--a", &format!("source:{}", old.display()), "--b", "this"])
        .arg("--out")
        .arg(scratch.path("out"))
        .arg("--peers")
        // No guest kernel is looked for when the Linux side is skipped.
        .env("TRAPLAB_LINUX_KERNEL", scratch.path("no-such-bzImage"))
        .output()
        .unwrap();
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("no Linux guest boots: side A")
            && stderr.contains("has no peer-linux/: its commit predates the Linux peer"),
        "{stderr}"
    );
    assert!(!stderr.contains("TRAPLAB_LINUX_KERNEL"), "{stderr}");
    // Then it goes on to build the lab kernel (here: the fake cargo, so a
    // build failure, status 2).
    assert!(stderr.contains("fake cargo"), "{stderr}");
    assert_eq!(output.status.code(), Some(2), "{stderr}");
}

#[test]
fn peers_without_a_guest_kernel_stop_before_any_build() {
    let scratch = Scratch::new("nokernel");
    let missing = scratch.path("no-such-bzImage");
    let output = scratch
        .command(&traplab_ab())
        .args(["--a", "this", "--b", "this", "--peers"])
        .arg("--out")
        .arg(scratch.path("out"))
        .env("TRAPLAB_LINUX_KERNEL", &missing)
        .output()
        .unwrap();
    assert_setup_error(
        &output,
        &format!("TRAPLAB_LINUX_KERNEL={} does not exist", missing.display()),
    );
    let output = scratch
        .command(&traplab_ab())
        .args(["--a", "this", "--b", "this", "--peers", "--profile", "iso"])
        .arg("--out")
        .arg(scratch.path("out"))
        .output()
        .unwrap();
    assert_setup_error(&output, "iso profile");
}

/// The full comparison of HEAD with itself under icount: slow (see the
/// module's comment), so run by hand.
fn compare_head_with_itself(peers: bool) -> (Output, PathBuf, Scratch) {
    let scratch = Scratch::new(if peers { "full-peers" } else { "full" });
    let out = scratch.path("out");
    let mut cmd = Command::new(script());
    cmd.current_dir(root())
        .args([
            "--quick",
            "--deterministic",
            "--repeat",
            "1",
            "HEAD",
            "HEAD",
        ])
        .arg("--out")
        .arg(&out)
        .env("TRAPLAB_RESULTS", scratch.path("results"))
        .env_remove("CARGO");
    if peers {
        cmd.arg("--peers");
    }
    let output = cmd.output().unwrap();
    (output, out, scratch)
}

fn stored_runs(results: &Path) -> Vec<PathBuf> {
    let mut runs = Vec::new();
    for commit in std::fs::read_dir(results).unwrap() {
        for run in std::fs::read_dir(commit.unwrap().path()).unwrap() {
            runs.push(run.unwrap().path());
        }
    }
    runs
}

#[test]
#[ignore = "builds a worktree of HEAD and boots it twice under icount: minutes (see the module comment)"]
fn head_against_itself_under_icount_confirms_no_regression() {
    let (output, out, scratch) = compare_head_with_itself(false);
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("verdict: 0 regression(s) confirmed"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("linux-guest"),
        "no peers by default: {stdout}"
    );
    for file in [
        "a.jsonl",
        "b.jsonl",
        "a-1.jsonl",
        "b-1.jsonl",
        "compare.txt",
    ] {
        assert!(out.join(file).is_file(), "{file} missing");
    }
    assert_eq!(
        std::fs::read_to_string(out.join("boots.txt"))
            .unwrap()
            .lines()
            .count(),
        2
    );
    assert!(!out.join("linux-guest").exists());
    assert_eq!(stored_runs(&scratch.path("results")).len(), 2);
}

#[test]
#[ignore = "builds a worktree of HEAD with its Linux peer and boots both twice under icount: minutes"]
fn head_against_itself_with_peers_compares_the_linux_guest_too() {
    let (output, out, scratch) = compare_head_with_itself(true);
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    // The guest is not exact under icount: one boot per side may disagree.
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{stdout}\n{stderr}"
    );
    for needle in [
        "lab-kernel A vs B",
        "verdict (lab-kernel): 0 regression(s) confirmed",
        "linux-guest A vs B",
        "verdict (linux-guest):",
        "summary: ",
    ] {
        assert!(stdout.contains(needle), "{needle:?} missing:\n{stdout}");
    }
    for file in [
        "a.jsonl",
        "b.jsonl",
        "linux-guest/a.jsonl",
        "linux-guest/b.jsonl",
    ] {
        assert!(out.join(file).is_file(), "{file} missing");
    }
    let boots = std::fs::read_to_string(out.join("boots.txt")).unwrap();
    assert!(
        boots.lines().all(|l| l.contains("\tlinux-guest=")),
        "{boots}"
    );
    let runs = stored_runs(&scratch.path("results"));
    assert_eq!(
        runs.len(),
        2,
        "one stored run per lab boot, with its guest boot"
    );
    for run in runs {
        assert!(
            run.join("peers/linux-guest.jsonl").is_file(),
            "{}",
            run.display()
        );
    }
}
