//! `scripts/run-suite.sh` through bash, as a user runs it: refusals before
//! anything is built (an `--out` folder that holds a run or is a file,
//! zero samples or timeout), an empty capture that is removed and never
//! called a stored run, and Ctrl-C / SIGTERM in the middle of a real boot
//! (QEMU TCG): exit status 5, QEMU gone, the partial run stored and said
//! to be partial.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use traplab_harness::{exit, workspace_root};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("traplab-run-suite-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn run_suite(args: &[&str]) -> Command {
    let mut cmd = Command::new("bash");
    cmd.arg(workspace_root().join("scripts/run-suite.sh"))
        .args(args)
        .current_dir(workspace_root())
        .stdin(Stdio::null());
    cmd
}

fn output(mut cmd: Command) -> (i32, String) {
    let out = cmd.output().unwrap();
    (
        out.status.code().expect("the script exited by itself"),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn bad_options_are_refused_before_anything_is_built() {
    let held = scratch("held");
    std::fs::create_dir_all(&held).unwrap();
    std::fs::write(held.join("run.jsonl"), b"an earlier run\n").unwrap();
    let peers_held = scratch("peers-held");
    std::fs::create_dir_all(peers_held.join("peers")).unwrap();
    std::fs::write(peers_held.join("peers/linux-host.jsonl"), b"x\n").unwrap();
    let file = scratch("a-file");
    std::fs::write(&file, b"not a folder").unwrap();
    let cases: [(Vec<&str>, String); 6] = [
        (
            vec!["--quick", "--out", held.to_str().unwrap()],
            format!("--out {} already holds a run", held.display()),
        ),
        (
            vec!["--quick", "--out", peers_held.to_str().unwrap()],
            "peers/linux-host.jsonl".to_string(),
        ),
        (
            vec!["--quick", "--out", file.to_str().unwrap()],
            format!("--out {} is a file, not a folder", file.display()),
        ),
        (
            vec!["--quick", "--samples", "0"],
            "--samples must be a whole number of at least 1, not '0'".to_string(),
        ),
        (
            vec!["--timeout", "0"],
            "--timeout must be a whole number of at least 1, not '0'".to_string(),
        ),
        (
            vec!["--samples", "many"],
            "--samples must be a whole number of at least 1, not 'many'".to_string(),
        ),
    ];
    for (args, message) in cases {
        let started = Instant::now();
        let (code, stderr) = output(run_suite(&args));
        assert_eq!(code, i32::from(exit::SETUP), "{args:?}: {stderr}");
        assert!(stderr.contains(&message), "{args:?}: {stderr}");
        assert!(
            !stderr.contains("building"),
            "refused before building: {stderr}"
        );
        assert!(started.elapsed() < Duration::from_secs(10));
    }
    assert_eq!(
        std::fs::read(held.join("run.jsonl")).unwrap(),
        b"an earlier run\n",
        "the earlier run is untouched"
    );
}

#[test]
fn an_empty_capture_is_removed_and_never_called_a_stored_run() {
    // A "QEMU" that starts, says nothing on its serial port and exits 0
    // (what a triple fault before the first record looks like).
    let fake = scratch("fake-qemu");
    std::fs::write(
        &fake,
        "#!/bin/sh\n[ \"$1\" = --version ] && { echo 'QEMU emulator version 0 (fake)'; exit 0; }\nexit 0\n",
    )
    .unwrap();
    Command::new("chmod").arg("+x").arg(&fake).status().unwrap();
    let mut cmd = run_suite(&["--quick", "--no-report"]);
    cmd.env("TRAPLAB_QEMU", &fake);
    let (code, stderr) = output(cmd);
    assert_eq!(code, i32::from(exit::CRASH), "{stderr}");
    assert!(!stderr.contains("run stored in"), "{stderr}");
    let line = stderr
        .lines()
        .find(|l| l.starts_with("nothing was captured"))
        .unwrap_or_else(|| panic!("no 'nothing was captured' line: {stderr}"));
    // "… the empty capture results/.capture-XXXXXX.jsonl is removed; …"
    let capture = line
        .split_whitespace()
        .find(|w| w.contains(".capture-"))
        .expect("the capture is named");
    assert!(
        !workspace_root().join(capture).exists(),
        "{capture} was left behind"
    );
}

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

fn comm(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// Every descendant of `root` whose command name starts with `name`.
fn descendants_named(root: u32, name: &str) -> Vec<u32> {
    let mut found = Vec::new();
    let mut pending = vec![root];
    while let Some(pid) = pending.pop() {
        for child in children(pid) {
            if comm(child).starts_with(name) {
                found.push(child);
            }
            pending.push(child);
        }
    }
    found
}

fn gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rfind(')')
            .is_some_and(|at| stat[at + 1..].trim_start().starts_with('Z')),
    }
}

/// Start a long run-suite run into `out` and wait until QEMU streams.
// The child is returned running; the caller waits for it.
#[allow(clippy::zombie_processes)]
fn start_long_run(out: &Path) -> (Child, u32) {
    let mut cmd = run_suite(&[
        "--quick",
        "--samples",
        "100000",
        "--no-report",
        "--out",
        out.to_str().unwrap(),
    ]);
    // A process group of its own, as a shell gives a foreground job, so a
    // "Ctrl-C" can go to the whole group.
    cmd.process_group(0)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(900);
    loop {
        let streamed = std::fs::metadata(out.join("run.jsonl")).is_ok_and(|m| m.len() > 0);
        let qemu = descendants_named(child.id(), "qemu-system");
        if let (true, Some(&qemu)) = (streamed, qemu.first()) {
            return (child, qemu);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("run-suite did not start streaming");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn interrupted_run(name: &str, signal: &str, to_group: bool) {
    let out = scratch(name);
    let (child, qemu) = start_long_run(&out);
    let target = if to_group {
        format!("-{}", child.id())
    } else {
        child.id().to_string()
    };
    let status = Command::new("kill")
        .args([&format!("-{signal}"), "--", &target])
        .status()
        .unwrap();
    assert!(status.success());
    let out_put = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out_put.stderr);
    assert_eq!(
        out_put.status.code(),
        Some(i32::from(exit::INTERRUPTED)),
        "SIG{signal}: {stderr}"
    );
    assert!(gone(qemu), "QEMU {qemu} is still running");
    assert!(
        stderr.contains(&format!(
            "run stored in: {} (partial: interrupted)",
            out.join("run.jsonl").display()
        )),
        "{stderr}"
    );
    assert!(stderr.contains("the capture is partial"), "{stderr}");
    assert!(std::fs::metadata(out.join("run.jsonl")).unwrap().len() > 0);
}

#[test]
fn sigterm_to_the_script_stops_the_run_stores_it_partial_and_exits_5() {
    interrupted_run("term", "TERM", false);
}

#[test]
fn ctrl_c_to_the_foreground_group_stops_the_run_stores_it_partial_and_exits_5() {
    interrupted_run("ctrl-c", "INT", true);
}
