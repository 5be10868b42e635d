//! One boot: start QEMU, tee COM1 into the capture file byte for byte,
//! follow the records for progress, enforce the timeout, and classify the
//! ending.
//!
//! The capture file is written as bytes arrive and flushed per line, so
//! whatever happens (timeout, crash, ^C) the bytes received so far are kept.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use traplab_wire::{EndStatus, Record, decode_line, exit};

use crate::qemu::Launch;

/// How a run ended. The process exit code of `traplab-run` is
/// [`Ending::exit_code`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// End record `complete` and QEMU's success status.
    Success,
    /// The kernel finished and reported a failed experiment.
    Failed,
    /// Kernel fault or panic (reported), or QEMU ended with no end record
    /// (triple fault, QEMU crash).
    Crashed,
    /// Killed after the time bound; the capture is incomplete.
    TimedOut,
}

impl Ending {
    pub fn exit_code(self) -> i32 {
        match self {
            Ending::Success => 0,
            Ending::Failed => 1,
            // 2 is reserved for bad setup (usage, missing tools, build errors).
            Ending::Crashed => 3,
            Ending::TimedOut => 4,
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Ending::Success => "complete: every experiment passed",
            Ending::Failed => "finished, but the kernel reported failed experiments",
            Ending::Crashed => "kernel crash (fault, panic, or no end record)",
            Ending::TimedOut => "timed out; the capture is incomplete",
        }
    }
}

/// What the host saw of a run.
#[derive(Debug, Clone)]
pub struct RunReport {
    pub ending: Ending,
    /// QEMU's exit status, if it exited by itself.
    pub qemu_status: Option<i32>,
    pub end: Option<EndStatus>,
    pub records: u64,
    /// Lines that looked like records but failed their check.
    pub damaged_lines: u64,
    pub elapsed: Duration,
    pub qemu_args: String,
}

/// Progress as the host sees it, for the live line.
struct Progress {
    planned: usize,
    done: usize,
    samples: u64,
    current: String,
}

/// Boot `launch`, capturing COM1 into `capture`. `progress` prints the live
/// line (pass false when stderr is not a terminal).
pub fn run(launch: &Launch, capture: &Path, timeout: Duration, progress: bool) -> Result<RunReport> {
    let (mut cmd, qemu_args) = launch.command()?;
    if let Some(dir) = capture.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut out = File::create(capture).with_context(|| format!("creating {}", capture.display()))?;
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("starting {} (install QEMU: apt-get install -y qemu-system-x86)", crate::qemu::binary()))?;
    let stdout = child.stdout.take().expect("stdout is piped");

    // A reader thread forwards lines so the main thread can watch the clock.
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    let reader = std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        loop {
            let mut line = Vec::new();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            }
        }
    });

    let started = Instant::now();
    let mut state = Progress { planned: 0, done: 0, samples: 0, current: String::new() };
    let mut end = None;
    let mut records = 0;
    let mut damaged = 0;
    let mut timed_out = false;
    let mut handle = |line: &[u8], state: &mut Progress, out: &mut File| -> Result<()> {
        out.write_all(line)?;
        out.flush()?;
        let text = String::from_utf8_lossy(line);
        let Some(at) = text.find("{\"seq\":") else { return Ok(()) };
        match decode_line(&text[at..]) {
            Ok(frame) => {
                records += 1;
                match frame.record {
                    Record::Header(h) => state.planned = h.plan.len(),
                    Record::Samples(s) => {
                        state.samples += s.total.len() as u64;
                        state.current = format!("{} {}", s.experiment, s.config);
                    }
                    Record::Result(r) => {
                        if !r.experiment.starts_with("setup.") && !r.experiment.starts_with("check.") {
                            state.done += 1;
                        }
                        state.current = format!("{} {}", r.experiment, r.config);
                    }
                    Record::End(e) => end = Some(e.status),
                    _ => {}
                }
            }
            Err(_) => damaged += 1,
        }
        Ok(())
    };
    loop {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(line) => handle(&line, &mut state, &mut out)?,
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        if progress {
            draw(&state, started.elapsed());
        }
        if started.elapsed() > timeout {
            timed_out = true;
            let _ = child.kill();
            break;
        }
    }
    // Drain what the reader already has (after a kill, the pipe closes).
    let _ = reader.join();
    while let Ok(line) = rx.try_recv() {
        handle(&line, &mut state, &mut out)?;
    }
    if progress {
        eprintln!();
    }
    let status = child.wait().context("waiting for QEMU")?;
    let qemu_status = status.code();
    let ending = if timed_out {
        Ending::TimedOut
    } else {
        match (end, qemu_status) {
            (Some(EndStatus::Complete), Some(s)) if s == exit::qemu_status(exit::SUCCESS) => Ending::Success,
            (Some(EndStatus::Failed), _) => Ending::Failed,
            (Some(EndStatus::Complete), Some(s)) if s == exit::qemu_status(exit::FAILURE) => Ending::Failed,
            _ => Ending::Crashed,
        }
    };
    Ok(RunReport { ending, qemu_status, end, records, damaged_lines: damaged, elapsed: started.elapsed(), qemu_args })
}

fn draw(p: &Progress, elapsed: Duration) {
    let secs = elapsed.as_secs_f64();
    let eta = if p.done > 0 && p.planned > p.done {
        format!("~{:.0}s left", secs / p.done as f64 * (p.planned - p.done) as f64)
    } else {
        String::from("")
    };
    let current: String = p.current.chars().take(44).collect();
    eprint!(
        "\r\x1b[K[{}/{}] {current:<44} samples {:>8}  {secs:>6.1}s {eta}",
        p.done, p.planned, p.samples
    );
    let _ = std::io::stderr().flush();
}
