//! One run: start QEMU (or the Linux peer on the host, or open a real
//! serial port), tee the record stream (COM1, or the peer's standard
//! output) into the capture file byte for byte, follow the records for
//! progress, enforce the timeout, and classify the ending.
//!
//! The capture file is written as bytes arrive and flushed per line, so
//! whatever happens (timeout, crash, ^C) the bytes received so far are kept.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
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
    /// QEMU's exit status (the host peer's, for `linux-host`), if it exited
    /// by itself.
    pub qemu_status: Option<i32>,
    pub end: Option<EndStatus>,
    pub records: u64,
    /// Lines that looked like records but failed their check.
    pub damaged_lines: u64,
    pub elapsed: Duration,
    /// The QEMU flags (the peer's command line, for `linux-host`).
    pub qemu_args: String,
}

/// Progress as the host sees it, for the live line.
struct Progress {
    planned: usize,
    done: usize,
    samples: u64,
    current: String,
    /// Injections the header's plan announces (campaign mode) and those
    /// reported so far.
    injections_planned: u64,
    injections: u64,
}

/// Follows a serial stream line by line: tees every byte into the capture
/// file, decodes the records that pass their check, and keeps what the live
/// line and the ending need. Shared by QEMU boots and real serial ports.
struct Follower {
    out: File,
    state: Progress,
    end: Option<EndStatus>,
    records: u64,
    damaged: u64,
}

impl Follower {
    fn new(capture: &Path) -> Result<Follower> {
        if let Some(dir) = capture.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let out =
            File::create(capture).with_context(|| format!("creating {}", capture.display()))?;
        Ok(Follower {
            out,
            state: Progress {
                planned: 0,
                done: 0,
                samples: 0,
                current: String::new(),
                injections_planned: 0,
                injections: 0,
            },
            end: None,
            records: 0,
            damaged: 0,
        })
    }

    fn line(&mut self, line: &[u8]) -> Result<()> {
        self.out.write_all(line)?;
        self.out.flush()?;
        let text = String::from_utf8_lossy(line);
        // Boot noise (BIOS, GRUB) may share the first record's line.
        let Some(at) = text.find("{\"seq\":") else {
            return Ok(());
        };
        let state = &mut self.state;
        match decode_line(text[at..].trim_end_matches(['\r', '\n'])) {
            Ok(frame) => {
                self.records += 1;
                match frame.record {
                    Record::Header(h) => {
                        state.planned = h.plan.len();
                        state.injections_planned = h
                            .plan
                            .iter()
                            .filter(|p| p.experiment.starts_with("campaign."))
                            .map(|p| u64::from(p.samples))
                            .sum();
                    }
                    Record::Injection(i) => {
                        state.injections += 1;
                        state.current = format!(
                            "campaign.{} injection {}/{}",
                            i.campaign, state.injections, state.injections_planned
                        );
                    }
                    Record::Samples(s) => {
                        state.samples += s.total.len() as u64;
                        state.current = format!("{} {}", s.experiment, s.config);
                    }
                    Record::Result(r) => {
                        if !r.experiment.starts_with("setup.")
                            && !r.experiment.starts_with("check.")
                        {
                            state.done += 1;
                        }
                        state.current = format!("{} {}", r.experiment, r.config);
                    }
                    Record::End(e) => self.end = Some(e.status),
                    _ => {}
                }
            }
            Err(_) => self.damaged += 1,
        }
        Ok(())
    }
}

/// Forward `reader`'s lines to a channel from a thread of their own, so the
/// caller can watch the clock while it blocks.
fn spawn_line_reader(
    reader: impl Read + Send + 'static,
) -> (mpsc::Receiver<Vec<u8>>, std::thread::JoinHandle<()>) {
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    let handle = std::thread::spawn(move || {
        let mut reader = BufReader::new(reader);
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
    (rx, handle)
}

/// How [`pump`] stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stopped {
    /// The stream closed (QEMU exited).
    Closed,
    /// The end record arrived (and the caller asked to stop there).
    EndRecord,
    TimedOut,
}

/// Feed lines to `follower` until the stream closes, the time is up, or
/// (with `stop_at_end`) the end record has arrived.
fn pump(
    rx: &mpsc::Receiver<Vec<u8>>,
    follower: &mut Follower,
    started: Instant,
    timeout: Duration,
    progress: bool,
    stop_at_end: bool,
) -> Result<Stopped> {
    loop {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(line) => follower.line(&line)?,
            Err(mpsc::RecvTimeoutError::Disconnected) => return Ok(Stopped::Closed),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        if progress {
            draw(&follower.state, started.elapsed());
        }
        if stop_at_end && follower.end.is_some() {
            return Ok(Stopped::EndRecord);
        }
        if started.elapsed() > timeout {
            return Ok(Stopped::TimedOut);
        }
    }
}

/// Boot `launch`, capturing COM1 into `capture`. `progress` prints the live
/// line (pass false when stderr is not a terminal).
pub fn run(
    launch: &Launch,
    capture: &Path,
    timeout: Duration,
    progress: bool,
) -> Result<RunReport> {
    let iso = capture.with_extension("iso");
    let result = launch
        .command(&iso)
        .and_then(|(cmd, described)| run_command(cmd, described, capture, timeout, progress));
    if crate::qemu::boots_iso(&launch.profile) {
        let _ = std::fs::remove_file(&iso);
    }
    result
}

/// What runs the experiments: the lab kernel or the Linux guest in QEMU,
/// or the Linux peer directly on this machine. All three stream the same
/// records on standard output (QEMU's COM1, or the peer's own) and end
/// with the same exit status scheme ([`exit::qemu_status`]), so one
/// capture and one classification serve them all.
#[derive(Debug, Clone)]
pub enum Target {
    LabKernel(Launch),
    LinuxGuest(crate::linux::GuestLaunch),
    LinuxHost(crate::linux::HostLaunch),
}

impl Target {
    /// The platform name the run header will carry (`traplab_wire::Platform`).
    pub fn platform(&self) -> traplab_wire::Platform {
        match self {
            Target::LabKernel(_) => traplab_wire::Platform::LabKernel,
            Target::LinuxGuest(_) => traplab_wire::Platform::LinuxGuest,
            Target::LinuxHost(_) => traplab_wire::Platform::LinuxHost,
        }
    }
}

/// Run `target`, capturing its record stream into `capture` (see [`run`]).
pub fn run_target(
    target: &Target,
    capture: &Path,
    timeout: Duration,
    progress: bool,
) -> Result<RunReport> {
    match target {
        Target::LabKernel(launch) => run(launch, capture, timeout, progress),
        Target::LinuxGuest(launch) => {
            let (cmd, described) = launch.command()?;
            run_command(cmd, described, capture, timeout, progress)
        }
        Target::LinuxHost(launch) => {
            let (cmd, described) = launch.command();
            run_command(cmd, described, capture, timeout, progress)
        }
    }
}

/// Run a prepared command whose standard output is the record stream (QEMU
/// with `-serial stdio`, or the Linux peer on the host): tee it into
/// `capture`, kill the process after `timeout`, and classify the ending
/// from the end record and the exit status ([`exit::qemu_status`] of the
/// run's exit value, whoever wrote it). `described` is the command line
/// recorded in the report.
pub fn run_command(
    mut cmd: Command,
    described: String,
    capture: &Path,
    timeout: Duration,
    progress: bool,
) -> Result<RunReport> {
    let mut follower = Follower::new(capture)?;
    let program = cmd.get_program().to_string_lossy().into_owned();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| {
            if program == crate::qemu::binary() {
                format!("starting {program} (install QEMU: apt-get install -y qemu-system-x86)")
            } else {
                format!("starting {program}")
            }
        })?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let (rx, reader) = spawn_line_reader(stdout);

    let started = Instant::now();
    let stopped = pump(&rx, &mut follower, started, timeout, progress, false)?;
    let timed_out = stopped == Stopped::TimedOut;
    if timed_out {
        let _ = child.kill();
    }
    // Drain what the reader already has (after a kill, the pipe closes).
    let _ = reader.join();
    while let Ok(line) = rx.try_recv() {
        follower.line(&line)?;
    }
    if progress {
        eprintln!();
    }
    let status = child
        .wait()
        .with_context(|| format!("waiting for {program}"))?;
    let qemu_status = status.code();
    let end = follower.end;
    let ending = if timed_out {
        Ending::TimedOut
    } else {
        classify(end, qemu_status)
    };
    Ok(RunReport {
        ending,
        qemu_status,
        end,
        records: follower.records,
        damaged_lines: follower.damaged,
        elapsed: started.elapsed(),
        qemu_args: described,
    })
}

/// How a run that was not killed ended, from its end record and exit
/// status.
fn classify(end: Option<EndStatus>, status: Option<i32>) -> Ending {
    match (end, status) {
        (Some(EndStatus::Complete), Some(s)) if s == exit::qemu_status(exit::SUCCESS) => {
            Ending::Success
        }
        (Some(EndStatus::Failed), _) => Ending::Failed,
        (Some(EndStatus::Complete), Some(s)) if s == exit::qemu_status(exit::FAILURE) => {
            Ending::Failed
        }
        _ => Ending::Crashed,
    }
}

/// Capture a run from a serial device (or any file that yields the
/// stream, such as a pty or a FIFO) until its end record arrives or
/// `timeout` passes. The line settings (raw mode, baud rate) are the
/// caller's business (`scripts/capture-serial.sh` runs `stty`).
///
/// Bare metal has no QEMU exit status: the end record alone decides
/// between success, failure and crash; without one the capture timed out.
pub fn capture_device(
    device: &Path,
    capture: &Path,
    timeout: Duration,
    progress: bool,
) -> Result<RunReport> {
    let started = Instant::now();
    let Some(port) = open_port(device, timeout)? else {
        // Nothing arrived, so the capture is empty, but it exists: the
        // caller's layout does not depend on how the capture ended.
        let follower = Follower::new(capture)?;
        return Ok(RunReport {
            ending: Ending::TimedOut,
            qemu_status: None,
            end: None,
            records: follower.records,
            damaged_lines: follower.damaged,
            elapsed: started.elapsed(),
            qemu_args: String::new(),
        });
    };
    let mut follower = Follower::new(capture)?;
    // The reader thread may stay blocked on the port after we stop; it
    // ends with the process.
    let (rx, _reader) = spawn_line_reader(port);
    let stopped = pump(&rx, &mut follower, started, timeout, progress, true)?;
    if progress {
        eprintln!();
    }
    let ending = match (stopped, follower.end) {
        (_, Some(EndStatus::Complete)) => Ending::Success,
        (_, Some(EndStatus::Failed)) => Ending::Failed,
        (_, Some(EndStatus::Fault | EndStatus::Panic)) => Ending::Crashed,
        (Stopped::TimedOut, None) => Ending::TimedOut,
        // The device closed (a FIFO's writer went away, a USB adapter was
        // unplugged) before the end record: the run was cut off.
        (_, None) => Ending::Crashed,
    };
    Ok(RunReport {
        ending,
        qemu_status: None,
        end: follower.end,
        records: follower.records,
        damaged_lines: follower.damaged,
        elapsed: started.elapsed(),
        qemu_args: String::new(),
    })
}

/// Open the capture device for reading within `timeout`; `None` when it
/// did not open in time. Opening a FIFO blocks until something opens its
/// other end (and a serial port without CLOCAL may block for the carrier),
/// so the open runs on a thread of its own and the timeout bounds it too:
/// a capture whose writer already came and went must time out, not hang.
fn open_port(device: &Path, timeout: Duration) -> Result<Option<std::fs::File>> {
    use std::os::unix::fs::OpenOptionsExt;
    // O_NOCTTY (Linux value): a serial port must not become this
    // process's controlling terminal, or a hang-up on the line would
    // signal us.
    const O_NOCTTY: i32 = 0o400;
    let (tx, rx) = mpsc::channel();
    let path = device.to_path_buf();
    // A thread still blocked in open() when we give up ends with the
    // process.
    std::thread::spawn(move || {
        let _ = tx.send(
            std::fs::OpenOptions::new()
                .read(true)
                .custom_flags(O_NOCTTY)
                .open(&path),
        );
    });
    match rx.recv_timeout(timeout) {
        Ok(port) => port.map(Some).with_context(|| {
            format!(
                "opening {} (is it the right device, and may you read it? try the dialout group)",
                device.display()
            )
        }),
        Err(_) => {
            eprintln!(
                "traplab-serial: {} did not open within {} s (a FIFO opens once its writer does)",
                device.display(),
                timeout.as_secs()
            );
            Ok(None)
        }
    }
}

fn draw(p: &Progress, elapsed: Duration) {
    let secs = elapsed.as_secs_f64();
    let eta = if p.injections > 0 && p.injections_planned > p.injections {
        // A campaign is one experiment of thousands of injections: its
        // own count is the better clock.
        format!(
            "~{:.0}s left",
            secs / p.injections as f64 * (p.injections_planned - p.injections) as f64
        )
    } else if p.done > 0 && p.planned > p.done {
        format!(
            "~{:.0}s left",
            secs / p.done as f64 * (p.planned - p.done) as f64
        )
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
