//! The bare-metal capture path without bare metal: QEMU boots the GRUB
//! image with COM1 on a FIFO, and `scripts/capture-serial.sh` reads it like
//! a USB serial adapter (until the end record), then summarizes the
//! capture.

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use traplab_harness::{build, iso, qemu, workspace_root};
use traplab_wire::{EndStatus, Record, decode_line};
use traplab_workloads::SuiteName;

#[test]
fn capture_serial_reads_a_grub_booted_run_from_a_tty_until_its_end_record() {
    let dir = std::env::temp_dir().join(format!("traplab-serial-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let kernel = build::kernel(0).expect("building runner-kernel");
    let suite = build::suite(SuiteName::Quick).expect("building the suite image");
    let image = dir.join("bare-metal.iso");
    let cmdline =
        "samples=5 warmup=1 heap_traps=0 only=trap. configs=signals.bt_off mode=bare-metal";
    iso::build(
        &iso::IsoSpec {
            kernel: &kernel,
            suite: &suite,
            cmdline,
        },
        &image,
    )
    .expect("building the image");
    // The script builds its tools first (a no-op when they are current).
    // Build them here, outside the bounded waits below, so that a cold
    // build cannot eat the time the capture is given.
    let status = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .current_dir(workspace_root())
        .args(["build", "--release", "--locked", "-q"])
        .args(["-p", "traplab-harness", "-p", "traplab-analyzer"])
        .status()
        .expect("running cargo build");
    assert!(status.success(), "building the capture tools failed");

    // COM1 goes into a pair of FIFOs (QEMU's `pipe:` backend writes
    // `com1.out`), which capture-serial.sh reads like a serial adapter.
    // A FIFO and not a pty: every sandbox has mkfifo, not every one has a
    // usable /dev/pts. The FIFO also gives flow control: while nobody
    // reads, QEMU's UART holds the guest's bytes instead of dropping them.
    let port = dir.join("com1");
    for end in ["com1.in", "com1.out"] {
        let status = Command::new("mkfifo")
            .arg(dir.join(end))
            .status()
            .expect("running mkfifo");
        assert!(status.success(), "mkfifo {end} failed");
    }
    // QEMU starts paused (-S): it opens the FIFOs at once, so the capture
    // can open its end, and the guest runs ("cont" on the monitor) only
    // once the capture is reading — a run that ended before anyone opened
    // the FIFO would be lost with QEMU's exit.
    let mut flags = qemu::profile_args("base").unwrap();
    flags.retain(|f| f != "stdio");
    let at = flags
        .iter()
        .position(|f| f == "-serial")
        .expect("base.args sets -serial");
    flags.remove(at);
    flags.extend(qemu::profile_args("iso").unwrap());
    let mut child = Command::new(qemu::binary())
        .args(&flags)
        .arg("-cdrom")
        .arg(&image)
        .arg("-serial")
        .arg(format!("pipe:{}", port.display()))
        .args(["-S", "-monitor", "stdio"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("starting QEMU");

    let out = dir.join("capture");
    let mut capture = Command::new(workspace_root().join("scripts/capture-serial.sh"))
        .arg(dir.join("com1.out"))
        .args(["--timeout", "240", "--out"])
        .arg(&out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group, so that giving up kills the script and
        // the tools it started (which hold the output pipes) together.
        .process_group(0)
        .spawn()
        .expect("running scripts/capture-serial.sh");
    // traplab-serial creates the capture file once the port is open.
    let started = Instant::now();
    while !out.join("run.jsonl").exists() && started.elapsed() < Duration::from_secs(120) {
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut monitor = child.stdin.take().unwrap();
    monitor.write_all(b"cont\n").unwrap();
    monitor.flush().unwrap();

    // Bounded wait: a capture that never sees its end record must fail the
    // test, not hang it.
    let started = Instant::now();
    loop {
        if capture.try_wait().unwrap().is_some() {
            break;
        }
        if started.elapsed() > Duration::from_secs(300) {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", capture.id())])
                .status();
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let result = capture.wait_with_output().unwrap();
    let _ = child.kill();
    let _ = child.wait();
    let log = String::from_utf8_lossy(&result.stderr);
    assert_eq!(
        result.status.code(),
        Some(0),
        "capture-serial.sh failed:\n{log}"
    );
    let summary = String::from_utf8_lossy(&result.stdout);
    assert!(
        summary.contains("trap.oob_load"),
        "the summary table lists the run:\n{summary}"
    );

    let text = std::fs::read_to_string(out.join("run.jsonl")).unwrap();
    let records: Vec<Record> = text
        .lines()
        .filter_map(|l| {
            l.find("{\"seq\":")
                .map(|at| decode_line(&l[at..]).unwrap().record)
        })
        .collect();
    let Some(Record::Header(header)) = records.first() else {
        panic!("no header")
    };
    assert_eq!(header.boot, "multiboot2-bios");
    assert_eq!(header.config.mode, "bare-metal");
    assert!(matches!(records.last(), Some(Record::End(e)) if e.status == EndStatus::Complete));
    let _ = std::fs::remove_dir_all(&dir);
}
