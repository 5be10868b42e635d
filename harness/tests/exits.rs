//! `traplab-run`'s exit statuses, through the real binary: refusals before
//! anything is built or booted (usage, capture files, suite images), and
//! every ending of a real boot of the kernel in QEMU (TCG): success,
//! failed experiment, setup refused by the kernel, crash, timeout, and
//! interruptions from every side (the harness signalled, QEMU killed from
//! outside), plus QEMU dying with a `kill -9`ed harness.
//!
//! The codes are `traplab_harness::exit`'s; README.md has the same table.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use traplab_harness::{build, exit};
use traplab_suite::{Command as ScriptCommand, Suite};
use traplab_workloads::SuiteName;

struct Artifacts {
    kernel: PathBuf,
    suite: PathBuf,
}

fn artifacts() -> &'static Artifacts {
    static BUILT: OnceLock<Artifacts> = OnceLock::new();
    BUILT.get_or_init(|| Artifacts {
        kernel: build::kernel(0).expect("building runner-kernel"),
        suite: build::suite(SuiteName::Quick).expect("building the suite image"),
    })
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("traplab-exit-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn traplab_run() -> Command {
    Command::new(env!("CARGO_BIN_EXE_traplab-run"))
}

/// `traplab-run` with a prebuilt kernel and suite image (nothing to build)
/// and `args`.
fn booting(capture: &Path, suite: Option<&Path>, args: &[&str]) -> Command {
    let a = artifacts();
    let mut cmd = traplab_run();
    cmd.arg("--capture")
        .arg(capture)
        .arg("--kernel")
        .arg(&a.kernel)
        .arg("--suite-image")
        .arg(suite.unwrap_or(&a.suite))
        .args(["--warmup", "0", "--heap-traps", "0"])
        .args(args);
    cmd
}

fn run(mut cmd: Command) -> (i32, String) {
    let Output { status, stderr, .. } = cmd.stdin(Stdio::null()).output().unwrap();
    let stderr = String::from_utf8_lossy(&stderr).into_owned();
    (status.code().expect("exited, not killed"), stderr)
}

// ---- refusals before anything is built or booted ----

#[test]
fn zero_samples_or_timeout_are_usage_errors() {
    for (flag, value) in [("--samples", "0"), ("--timeout", "0")] {
        let capture = scratch(&format!("zero{flag}.jsonl"));
        let mut cmd = traplab_run();
        cmd.arg("--capture").arg(&capture).args([flag, value]);
        let (code, stderr) = run(cmd);
        assert_eq!(code, i32::from(exit::SETUP), "{flag} {value}: {stderr}");
        assert!(stderr.contains(flag), "{stderr}");
        assert!(!capture.exists(), "nothing captured, no file made");
    }
}

#[test]
fn a_capture_file_holding_a_run_is_not_replaced() {
    let capture = scratch("held.jsonl");
    std::fs::write(&capture, b"an earlier run\n").unwrap();
    let mut cmd = traplab_run();
    cmd.arg("--capture").arg(&capture).args(["--samples", "5"]);
    let started = Instant::now();
    let (code, stderr) = run(cmd);
    assert_eq!(code, i32::from(exit::SETUP), "{stderr}");
    assert!(
        stderr.contains("already exists and holds 15 bytes") && stderr.contains("--force"),
        "{stderr}"
    );
    assert_eq!(std::fs::read(&capture).unwrap(), b"an earlier run\n");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "refused before building"
    );
}

/// A copy of the quick suite image with its manifest changed by `edit`,
/// packed again (every offset and SHA-256 right).
fn repacked(name: &str, edit: impl FnOnce(&mut traplab_suite::Manifest)) -> PathBuf {
    let image = std::fs::read(&artifacts().suite).unwrap();
    let suite = Suite::parse(&image).unwrap();
    let blobs: Vec<Vec<Vec<u8>>> = suite
        .manifest
        .workloads
        .iter()
        .map(|w| {
            w.artifacts
                .iter()
                .map(|a| suite.artifact_bytes(w, a).unwrap().to_vec())
                .collect()
        })
        .collect();
    let script_blobs: Vec<Vec<Vec<u8>>> = suite
        .manifest
        .scripts
        .iter()
        .flat_map(|s| s.commands.iter().map(move |c| (s, c)))
        .filter_map(|(s, c)| match c {
            ScriptCommand::Module { artifacts, .. } => Some(
                artifacts
                    .iter()
                    .map(|a| suite.checked_bytes(&s.name, a).unwrap().to_vec())
                    .collect(),
            ),
            _ => None,
        })
        .collect();
    // Sightglass benchmarks' files (the shipped one's expected output).
    let data: Vec<Vec<u8>> = suite
        .manifest
        .workloads
        .iter()
        .filter_map(|w| w.sightglass.as_ref().map(|files| (w, files)))
        .flat_map(|(w, files)| {
            files
                .all()
                .map(|f| suite.data_bytes(&w.name, f).unwrap().to_vec())
                .collect::<Vec<_>>()
        })
        .collect();
    let mut manifest = suite.manifest.clone();
    edit(&mut manifest);
    let path = scratch(name);
    std::fs::write(
        &path,
        traplab_suite::image::pack_with_data(manifest, &blobs, &script_blobs, &data),
    )
    .unwrap();
    path
}

#[test]
fn unusable_suite_images_are_refused_before_the_boot_naming_the_file_and_the_problem() {
    let image = std::fs::read(&artifacts().suite).unwrap();
    let suite = Suite::parse(&image).unwrap();
    let artifact = &suite.manifest.workloads[0].artifacts[0];
    let damage = |name: &str, at: usize| {
        let mut bytes = image.clone();
        bytes[at] ^= 0x40;
        let path = scratch(name);
        std::fs::write(&path, bytes).unwrap();
        path
    };
    let empty = scratch("empty.img");
    std::fs::write(&empty, b"").unwrap();
    let folder = scratch("a-folder.img");
    std::fs::create_dir_all(&folder).unwrap();
    let cases = [
        (folder, "is a directory".to_string()),
        (empty, "is empty (0 bytes)".to_string()),
        (damage("magic.img", 0), "magic is not TLSUITE1".to_string()),
        (
            damage("manifest.img", 20),
            "manifest SHA-256 does not match".to_string(),
        ),
        (
            damage(
                "artifact.img",
                (artifact.offset + artifact.len / 2) as usize,
            ),
            format!(
                "artifact of {} ({}) fails its SHA-256 check",
                suite.manifest.workloads[0].name,
                artifact.trap_mode.name()
            ),
        ),
        (
            repacked("wasmtime-47.img", |m| m.wasmtime = "47.0.0".into()),
            format!(
                "compiled by wasmtime 47.0.0, but this harness, the kernel and the peer use wasmtime {}",
                traplab_workloads::WASMTIME_VERSION
            ),
        ),
    ];
    for (path, problem) in cases {
        let capture = scratch(&format!(
            "refused-{}.jsonl",
            path.file_name().unwrap().to_string_lossy()
        ));
        let started = Instant::now();
        let (code, stderr) = run(booting(&capture, Some(&path), &["--samples", "5"]));
        assert_eq!(code, i32::from(exit::SETUP), "{}: {stderr}", path.display());
        assert!(stderr.contains(&problem), "{}: {stderr}", path.display());
        assert!(
            stderr.contains(&path.display().to_string()),
            "the file is named: {stderr}"
        );
        assert!(!capture.exists(), "not booted: {}", path.display());
        assert!(started.elapsed() < Duration::from_secs(20));
    }
}

// ---- real boots: one ending each ----

#[test]
fn a_passing_run_exits_0() {
    let capture = scratch("success.jsonl");
    let (code, stderr) = run(booting(
        &capture,
        None,
        &[
            "--samples",
            "5",
            "--boot-args",
            "only=trap.unreachable configs=signals.bt_off",
        ],
    ));
    assert_eq!(code, i32::from(exit::SUCCESS), "{stderr}");
    assert!(
        stderr.contains("complete: every experiment passed"),
        "{stderr}"
    );
}

#[test]
fn a_failed_experiment_exits_1() {
    // A suite image that verifies, with one expectation the kernel will
    // not meet: trap.unreachable is told to expect another trap code.
    let image = repacked("wrong-expectation.img", |m| {
        let w = m
            .workloads
            .iter_mut()
            .find(|w| w.name == "trap.unreachable")
            .expect("the quick suite has trap.unreachable");
        w.expect_trap = Some("IntegerDivisionByZero".into());
    });
    let capture = scratch("failed.jsonl");
    let (code, stderr) = run(booting(
        &capture,
        Some(&image),
        &[
            "--samples",
            "5",
            "--boot-args",
            "only=trap.unreachable configs=signals.bt_off",
        ],
    ));
    assert_eq!(code, i32::from(exit::FAILED), "{stderr}");
    assert!(stderr.contains("reported failed experiments"), "{stderr}");
}

#[test]
fn setup_refused_by_the_kernel_exits_2_with_its_messages() {
    for (name, boot_args, message) in [
        (
            "only",
            "only=nothing.here",
            "setup.cmdline: only=nothing.here selects no experiment; this run has: ",
        ),
        (
            "zero",
            "only=call.null samples=0",
            "setup.cmdline: samples=0: must be at least 1",
        ),
    ] {
        let capture = scratch(&format!("setup-{name}.jsonl"));
        let (code, stderr) = run(booting(
            &capture,
            None,
            &["--samples", "5", "--boot-args", boot_args],
        ));
        assert_eq!(code, i32::from(exit::SETUP), "{boot_args}: {stderr}");
        assert!(
            stderr.contains(&format!("setup problem reported by the kernel: {message}")),
            "{boot_args}: {stderr}"
        );
        assert!(stderr.contains("bad setup"), "{stderr}");
        assert!(
            std::fs::metadata(&capture).unwrap().len() > 0,
            "the stream is kept"
        );
    }
}

#[test]
fn a_kernel_panic_exits_3() {
    let capture = scratch("crash.jsonl");
    let (code, stderr) = run(booting(
        &capture,
        None,
        &["--samples", "5", "--boot-args", "test=panic"],
    ));
    assert_eq!(code, i32::from(exit::CRASH), "{stderr}");
    assert!(stderr.contains("kernel crash"), "{stderr}");
}

#[test]
fn the_time_bound_exits_4_and_keeps_the_partial_capture() {
    let capture = scratch("timeout.jsonl");
    let (code, stderr) = run(booting(
        &capture,
        None,
        &["--samples", "100000", "--timeout", "3"],
    ));
    assert_eq!(code, i32::from(exit::TIMEOUT), "{stderr}");
    assert!(stderr.contains("timed out"), "{stderr}");
    assert!(
        stderr.contains("the capture is partial") || stderr.contains("nothing was captured"),
        "{stderr}"
    );
}

// ---- interruptions ----

/// The pids of `parent`'s children (from /proc).
fn children(parent: u32) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // pid (comm) state ppid …; comm may hold spaces and parentheses.
        let Some(after) = stat.rfind(')') else {
            continue;
        };
        let ppid = stat[after + 1..]
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.parse::<u32>().ok());
        if ppid == Some(parent) {
            found.push(pid);
        }
    }
    found
}

/// Whether `pid` is gone (or a zombie nobody reaped yet).
fn gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rfind(')')
            .is_some_and(|at| stat[at + 1..].trim_start().starts_with('Z')),
    }
}

fn kill(pid: u32, signal: &str) {
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -{signal} {pid}");
}

/// Start a long run and wait until QEMU has streamed its first records:
/// the harness and QEMU's pid.
// The child is returned running; the caller waits for it.
#[allow(clippy::zombie_processes)]
fn start_long_run(name: &str) -> (Child, u32, PathBuf) {
    let capture = scratch(&format!("{name}.jsonl"));
    let mut cmd = booting(&capture, None, &["--samples", "100000"]);
    let mut child = cmd
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let qemu = children(child.id());
        let streamed = std::fs::metadata(&capture).is_ok_and(|m| m.len() > 0);
        if let (Some(&qemu), true) = (qemu.first(), streamed) {
            return (child, qemu, capture);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("QEMU did not start streaming");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn finish(child: Child) -> (i32, String) {
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().expect("traplab-run exited by itself"),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_signal_to_the_harness_stops_qemu_keeps_the_capture_and_exits_5() {
    for signal in ["TERM", "INT"] {
        let (child, qemu, capture) = start_long_run(&format!("harness-{signal}"));
        kill(child.id(), signal);
        let (code, stderr) = finish(child);
        assert_eq!(code, i32::from(exit::INTERRUPTED), "SIG{signal}: {stderr}");
        assert!(
            stderr.contains(&format!("the harness received SIG{signal}")),
            "{stderr}"
        );
        assert!(stderr.contains("the capture is partial"), "{stderr}");
        assert!(std::fs::metadata(&capture).unwrap().len() > 0);
        assert!(gone(qemu), "QEMU was stopped with the run");
    }
}

#[test]
fn qemu_killed_from_outside_is_an_interruption_not_a_crash() {
    for signal in ["TERM", "KILL", "INT"] {
        let (child, qemu, capture) = start_long_run(&format!("qemu-{signal}"));
        kill(qemu, signal);
        let (code, stderr) = finish(child);
        assert_eq!(code, i32::from(exit::INTERRUPTED), "SIG{signal}: {stderr}");
        assert!(
            stderr.contains(&format!("killed from outside by SIG{signal}")),
            "{stderr}"
        );
        assert!(!stderr.contains("kernel crash"), "{stderr}");
        assert!(stderr.contains("the capture is partial"), "{stderr}");
        assert!(std::fs::metadata(&capture).unwrap().len() > 0);
    }
}

#[test]
fn qemu_does_not_outlive_a_killed_harness() {
    let (mut child, qemu, _) = start_long_run("harness-KILL");
    kill(child.id(), "KILL");
    let _ = child.wait();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !gone(qemu) {
        assert!(
            Instant::now() < deadline,
            "QEMU (pid {qemu}) outlived traplab-run by 5 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn setup_refused_by_the_host_peer_exits_2_too() {
    let peer = build::peer().expect("building traplab-peer");
    let capture = scratch("peer-setup.jsonl");
    let mut cmd = traplab_run();
    cmd.arg("--capture")
        .arg(&capture)
        .args(["--platform", "linux-host", "--peer"])
        .arg(&peer)
        .arg("--suite-image")
        .arg(&artifacts().suite)
        .args(["--samples", "5", "--heap-traps", "0"])
        .args(["--boot-args", "only=nothing.here"]);
    let (code, stderr) = run(cmd);
    assert_eq!(code, i32::from(exit::SETUP), "{stderr}");
    assert!(
        stderr.contains(
            "setup problem reported by the peer: setup.cmdline: only=nothing.here selects no experiment"
        ),
        "{stderr}"
    );
}
