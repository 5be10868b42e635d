//! The bare-metal capture path without bare metal: QEMU boots the GRUB
//! image with COM1 on a pseudo-terminal, and `scripts/capture-serial.sh`
//! reads it like a USB serial adapter (stty, raw 115200, until the end
//! record), then summarizes the capture.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
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

    // Paused (-S) until the capture has the pty open: a pty nobody reads
    // drops what the guest writes.
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
        .args(["-serial", "pty", "-S", "-monitor", "stdio"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("starting QEMU");
    // QEMU names the pty on its monitor, standard output here
    // ("char device redirected to /dev/pts/N (label serial0)").
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let mut pty = None;
    for line in stdout.lines() {
        let line = line.unwrap();
        if let Some(rest) = line.split("redirected to ").nth(1) {
            pty = Some(PathBuf::from(rest.split_whitespace().next().unwrap()));
            break;
        }
    }
    let pty = pty.expect("QEMU reported the pty of COM1");

    let out = dir.join("capture");
    let capture = Command::new(workspace_root().join("scripts/capture-serial.sh"))
        .arg(&pty)
        .args(["--timeout", "240", "--out"])
        .arg(&out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running scripts/capture-serial.sh");
    // Let the script set the line up and open it, then start the machine.
    let started = Instant::now();
    while !out.join("run.jsonl").exists() && started.elapsed() < Duration::from_secs(120) {
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(300));
    let mut monitor = child.stdin.take().unwrap();
    monitor.write_all(b"cont\n").unwrap();
    monitor.flush().unwrap();

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
    assert_eq!(header.boot, "multiboot2");
    assert_eq!(header.config.mode, "bare-metal");
    assert!(matches!(records.last(), Some(Record::End(e)) if e.status == EndStatus::Complete));
    let _ = std::fs::remove_dir_all(&dir);
}
