//! One run: start QEMU (or the Linux peer on the host, or open a real
//! serial port), tee the record stream (COM1, or the peer's standard
//! output) into the capture file byte for byte, follow the records for
//! progress, enforce the timeout, and classify the ending.
//!
//! The capture file is written as bytes arrive and flushed per line, so
//! whatever happens (timeout, crash, ^C) the bytes received so far are kept.
//!
//! The child (QEMU or the host peer) is put on a leash ([`crate::child`]):
//! it dies with the harness, and a signal that stops it from outside, or
//! that the harness itself receives (after [`crate::child::catch_interrupts`]),
//! ends the run as [`Ending::Interrupted`], never as a crash.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use traplab_wire::{
    During, EndStatus, Injection, Outcome, Reboot, Record, Status, decode_line, encode_line, exit,
};

use crate::qemu::Launch;

/// How a run ended. The process exit code of `traplab-run` is
/// [`Ending::exit_code`] (the scheme of [`crate::exit`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// End record `complete` and QEMU's success status.
    Success,
    /// The kernel finished and reported a failed experiment.
    Failed,
    /// The kernel (or peer) refused its setup: a failed `setup.*` result
    /// (bad boot option, `samples=0`, an `only=` that selects nothing, a
    /// suite image it rejected), listed in [`RunReport::setup_problems`].
    Setup,
    /// Kernel fault or panic (reported), or QEMU ended by itself with no
    /// end record (triple fault), or QEMU (the peer) died of a fault
    /// signal of its own (SIGSEGV, SIGABRT, …).
    Crashed,
    /// Killed after the time bound; the capture is incomplete.
    TimedOut,
    /// Stopped by a signal from outside before it finished: QEMU (or the
    /// peer) was killed (SIGTERM, SIGKILL, SIGINT, …), or the harness
    /// received SIGINT/SIGTERM/SIGHUP and stopped it; see
    /// [`RunReport::signal`]. The capture is partial.
    Interrupted,
}

impl Ending {
    pub fn exit_code(self) -> i32 {
        i32::from(match self {
            Ending::Success => crate::exit::SUCCESS,
            Ending::Failed => crate::exit::FAILED,
            Ending::Setup => crate::exit::SETUP,
            Ending::Crashed => crate::exit::CRASH,
            Ending::TimedOut => crate::exit::TIMEOUT,
            Ending::Interrupted => crate::exit::INTERRUPTED,
        })
    }

    pub fn describe(self) -> &'static str {
        match self {
            Ending::Success => "complete: every experiment passed",
            Ending::Failed => "finished, but the kernel (or peer) reported failed experiments",
            Ending::Setup => "bad setup: the kernel (or peer) refused its setup",
            Ending::Crashed => "kernel crash (fault, panic, or no end record)",
            Ending::TimedOut => "timed out; the capture is incomplete",
            Ending::Interrupted => "interrupted by a signal; the capture is partial",
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
    /// The messages of the failed `setup.*` results, as
    /// `setup.cmdline: samples=0: must be at least 1`.
    pub setup_problems: Vec<String>,
    /// The signal that ended the run: the one QEMU (the peer) died of, or,
    /// when the harness was interrupted, the one the harness received. Not
    /// set for the harness's own kill at the timeout.
    pub signal: Option<i32>,
    /// Whether the harness itself was interrupted (and stopped the child).
    pub harness_interrupted: bool,
    /// Kernel crashes during a campaign that the harness resumed by booting
    /// a fresh kernel at the next injection (each has a `reboot` record in
    /// the capture). The other fields describe the last boot, except
    /// `records`, `damaged_lines` and `elapsed`, which cover them all.
    pub reboots: u32,
}

impl RunReport {
    /// Whether the capture lacks its end record (cut off by a timeout, an
    /// interruption or a crash without one).
    pub fn partial(&self) -> bool {
        self.end.is_none()
    }

    /// How the run was stopped or died by a signal, in words (empty when no
    /// signal was involved).
    pub fn signal_story(&self) -> String {
        match (self.signal, self.harness_interrupted) {
            (Some(sig), true) => format!(
                "the harness received {} and stopped the run",
                crate::child::signal_name(sig)
            ),
            (Some(sig), false) if crate::child::is_crash_signal(sig) => {
                format!("died of {}", crate::child::signal_name(sig))
            }
            (Some(sig), false) => {
                format!("killed from outside by {}", crate::child::signal_name(sig))
            }
            (None, _) => String::new(),
        }
    }
}

/// Progress as the host sees it, for the live line.
struct Progress {
    /// Outcomes of the injections so far, indexed like [`Outcome::ALL`],
    /// and the reboots after kernel crashes.
    outcomes: [u64; 6],
    reboots: u32,
    planned: usize,
    done: usize,
    samples: u64,
    current: String,
    /// Injections the header's plan announces (campaign mode) and those
    /// reported so far.
    injections_planned: u64,
    injections: u64,
    /// The experiment running now, from its `progress` records:
    /// `(experiment config, iterations done, planned)` and since when.
    running: Option<(String, u32, u32)>,
    running_since: Instant,
    /// When the last plain progress line was printed (no terminal).
    last_plain: Instant,
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
    /// Failed `setup.*` results: `experiment: message`.
    setup: Vec<String>,
    /// What the harness needs to resume a campaign after a kernel crash.
    campaign: CampaignWatch,
    /// A reboot record waiting for the resumed boot's first injection
    /// (which completes its `lost_ms`), and the lines held back meanwhile
    /// so the record stands before the boot it introduces.
    pending: Option<(Reboot, Vec<Vec<u8>>, Instant)>,
    /// When the last line arrived (hang detection; a reboot's cost).
    last_line: Instant,
    /// Whether the last byte written to the capture ended a line.
    at_line_start: bool,
}

/// The campaign of the current boot, as far as its stream tells.
#[derive(Debug, Default, Clone)]
struct CampaignWatch {
    /// `campaign.<name>` of the header's plan (one campaign per suite),
    /// its configuration and planned count.
    experiment: Option<(String, String, u32)>,
    /// Injections are under way in this boot (the kernel's first campaign
    /// `progress` record arrived) and its result has not.
    running: bool,
    /// The first index of this boot and the last one reported.
    first: Option<u32>,
    last: Option<(u32, Injection)>,
    /// This boot's fault or panic record: cause, during, words, site.
    death: Option<(&'static str, During, String, Option<String>)>,
    /// The end of the `injections=A..B` range the run was given.
    until: Option<u32>,
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
            campaign: CampaignWatch::default(),
            pending: None,
            last_line: Instant::now(),
            at_line_start: true,
            state: Progress {
                outcomes: [0; 6],
                reboots: 0,
                planned: 0,
                done: 0,
                samples: 0,
                current: String::new(),
                injections_planned: 0,
                injections: 0,
                running: None,
                running_since: Instant::now(),
                last_plain: Instant::now(),
            },
            end: None,
            records: 0,
            damaged: 0,
            setup: Vec::new(),
        })
    }

    /// Write a line to the capture, or hold it while a reboot record
    /// waits for its cost.
    fn write(&mut self, line: &[u8]) -> Result<()> {
        if let Some((_, held, _)) = &mut self.pending {
            held.push(line.to_vec());
            return Ok(());
        }
        self.out.write_all(line)?;
        self.out.flush()?;
        if let Some(&last) = line.last() {
            self.at_line_start = last == b'\n';
        }
        Ok(())
    }

    /// Write the pending reboot record (its cost known, or not) and the
    /// lines held behind it.
    fn flush_reboot(&mut self, lost_ms: Option<u64>) -> Result<()> {
        let Some((mut reboot, held, _)) = self.pending.take() else {
            return Ok(());
        };
        reboot.lost_ms = lost_ms;
        let mut line = encode_line(0, &Record::Reboot(reboot)).into_bytes();
        line.push(b'\n');
        self.write(&line)?;
        for l in held {
            self.write(&l)?;
        }
        Ok(())
    }

    /// The boot went down: if a campaign injection was in flight, the
    /// reboot record for a boot that resumes at the next index (and the
    /// boot options for it); `None` when there is nothing to resume (no
    /// campaign running, its last index done, or the crash was in the
    /// campaign's setup, which a fresh boot would only repeat).
    fn resume_after(&mut self, cause: &'static str, boot: u32) -> Option<(Reboot, String)> {
        let w = &self.campaign;
        let (experiment, config, count) = w.experiment.clone()?;
        if !w.running {
            return None;
        }
        let end = w.end_index(count);
        let death = w.death.clone();
        let said = death.as_ref().and_then(|(_, d, _, _)| d.injection);
        let index = said.or_else(|| w.last.as_ref().map(|(i, _)| i + 1).or(w.first))?;
        if index >= end {
            return None;
        }
        let name = experiment.trim_start_matches("campaign.").to_string();
        let (cause, during, what, site) = death.unwrap_or((
            cause,
            During::new(),
            match cause {
                "hang" => "kernel hang: no record for the hang limit while the injection ran; QEMU stopped".to_string(),
                _ => "QEMU ended without an end record (triple fault?)".to_string(),
            },
            None,
        ));
        let crash = Injection {
            campaign: name.clone(),
            index,
            injector: during.injector.clone().unwrap_or_else(|| "unknown".into()),
            target: during.target.clone().unwrap_or_else(|| "unknown".into()),
            config,
            trigger: "unknown".into(),
            point: 0,
            site: during.site.clone().unwrap_or_else(|| "unknown".into()),
            fired: true,
            outcome: Outcome::KernelCrash,
            trap: None,
            vector: None,
            result: None,
            detail: Some(what),
            trap_cycles: None,
            recovery_cycles: None,
        };
        let resume_at = index + 1;
        // The kernel refuses an empty range; past the spec's count it
        // clamps to nothing, which still finishes the campaign (its result
        // and metrics) without running an index twice.
        let range = if resume_at < end {
            format!("{resume_at}..{end}")
        } else if end == count {
            format!("{end}..{}", end + 1)
        } else {
            return None;
        };
        Some((
            Reboot {
                boot,
                crash,
                cause: cause.to_string(),
                site,
                resume_at,
                end,
                lost_ms: None,
            },
            format!("only={experiment} injections={range}"),
        ))
    }

    /// Start following a fresh boot that a reboot record introduces.
    fn begin_boot(&mut self, reboot: Reboot) -> Result<()> {
        if !self.at_line_start {
            // The crashed boot's last line was cut off.
            self.write(b"\n")?;
        }
        self.state.outcomes[outcome_slot(Outcome::KernelCrash)] += 1;
        self.state.reboots += 1;
        // The reboot's cost runs from the crashed boot's last line.
        self.pending = Some((reboot, Vec::new(), self.last_line));
        self.end = None;
        self.campaign = CampaignWatch {
            experiment: self.campaign.experiment.clone(),
            until: self.campaign.until,
            ..CampaignWatch::default()
        };
        Ok(())
    }

    fn line(&mut self, line: &[u8]) -> Result<()> {
        self.last_line = Instant::now();
        self.write(line)?;
        let text = String::from_utf8_lossy(line);
        // Boot noise (BIOS, GRUB) may share the first record's line.
        let Some(at) = text.find("{\"seq\":") else {
            return Ok(());
        };
        let frame = match decode_line(text[at..].trim_end_matches(['\r', '\n'])) {
            Ok(frame) => frame,
            Err(_) => {
                self.damaged += 1;
                return Ok(());
            }
        };
        self.records += 1;
        let is_campaign = |e: &str| {
            self.campaign
                .experiment
                .as_ref()
                .is_some_and(|(x, _, _)| x == e)
        };
        match &frame.record {
            Record::Injection(i) => {
                self.campaign.first.get_or_insert(i.index);
                self.campaign.last = Some((i.index, i.clone()));
                if let Some((_, _, crashed_at)) = &self.pending {
                    // The resumed boot's first injection: what the reboot
                    // cost is known.
                    let ms = crashed_at.elapsed().as_millis() as u64;
                    self.flush_reboot(Some(ms))?;
                }
            }
            Record::Progress(pr) if is_campaign(&pr.experiment) => {
                self.campaign.running = true;
                self.campaign.first.get_or_insert(pr.done);
            }
            Record::Result(r) if is_campaign(&r.experiment) => {
                self.campaign.running = false;
                // A resumed boot that ran nothing (the crash was at the
                // last index) still finished the campaign.
                self.flush_reboot(None)?;
            }
            Record::Fault(f) => {
                let cr2 = f.cr2.map(|c| format!(", cr2 {c:#x}")).unwrap_or_default();
                let sym = f
                    .symbol
                    .as_deref()
                    .map(|s| format!(" ({s})"))
                    .unwrap_or_default();
                self.campaign.death = Some((
                    "fault",
                    f.during.clone(),
                    format!(
                        "kernel fault {} (vector {}) at rip {:#x}{sym}{cr2}",
                        f.exception, f.vector, f.rip
                    ),
                    f.symbol.clone(),
                ));
            }
            Record::Panic(p) if self.campaign.death.is_none() => {
                let loc = p
                    .location
                    .as_deref()
                    .map(|l| format!(" at {l}"))
                    .unwrap_or_default();
                let origin = p
                    .origin(4)
                    .map(|o| format!(" (in {o})"))
                    .unwrap_or_default();
                self.campaign.death = Some((
                    "panic",
                    p.during.clone(),
                    format!("kernel panic: {}{loc}{origin}", p.message),
                    p.origin(1),
                ));
            }
            _ => {}
        }
        let state = &mut self.state;
        match frame.record {
            Record::Header(h) => {
                state.planned = h.plan.len();
                state.injections_planned = h
                    .plan
                    .iter()
                    .filter(|p| p.experiment.starts_with("campaign."))
                    .map(|p| u64::from(p.samples))
                    .sum();
                if let Some(p) = h
                    .plan
                    .iter()
                    .find(|p| p.experiment.starts_with("campaign."))
                {
                    self.campaign.experiment =
                        Some((p.experiment.clone(), p.config.clone(), p.samples));
                }
            }
            Record::Injection(i) => {
                state.outcomes[outcome_slot(i.outcome)] += 1;
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
                if r.experiment.starts_with("setup.") && r.status == Status::Failed {
                    self.setup.push(format!(
                        "{}: {}",
                        r.experiment,
                        r.message.as_deref().unwrap_or("(no message)")
                    ));
                }
                if !r.experiment.starts_with("setup.") && !r.experiment.starts_with("check.") {
                    state.done += 1;
                }
                state.current = format!("{} {}", r.experiment, r.config);
            }
            Record::Progress(pr) => {
                let name = format!("{} {}", pr.experiment, pr.config);
                if pr.done == 0 || state.running.as_ref().is_none_or(|r| r.0 != name) {
                    state.running_since = Instant::now();
                }
                state.running = Some((name, pr.done, pr.planned));
            }
            Record::End(e) => self.end = Some(e.status),
            _ => {}
        }
        Ok(())
    }
}

impl CampaignWatch {
    /// One past the last index this boot was to run: its `injections=`
    /// range's end, else the spec's count.
    fn end_index(&self, count: u32) -> u32 {
        self.until.map_or(count, |u| u.min(count))
    }
}

/// Where `o` is counted in [`Progress::outcomes`].
fn outcome_slot(o: Outcome) -> usize {
    Outcome::ALL.iter().position(|x| *x == o).unwrap_or(0)
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
    /// The harness received this signal ([`crate::child::interrupt`]).
    Interrupted(i32),
    /// No line for the hang limit while campaign injections were under
    /// way: the kernel hangs.
    Hung,
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
    hang_after: Option<Duration>,
) -> Result<Stopped> {
    loop {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(line) => follower.line(&line)?,
            Err(mpsc::RecvTimeoutError::Disconnected) => return Ok(Stopped::Closed),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        if progress {
            draw(&follower.state, started.elapsed());
        } else {
            plain_progress(&mut follower.state, started.elapsed());
        }
        if stop_at_end && follower.end.is_some() {
            return Ok(Stopped::EndRecord);
        }
        if let Some(sig) = crate::child::interrupt() {
            return Ok(Stopped::Interrupted(sig));
        }
        if started.elapsed() > timeout {
            return Ok(Stopped::TimedOut);
        }
        if let Some(limit) = hang_after
            && follower.campaign.running
            && follower.last_line.elapsed() > limit
        {
            return Ok(Stopped::Hung);
        }
    }
}

/// How long a campaign may go without a record while its injections are
/// under way before the harness calls the kernel hung (each injection's
/// call is bounded by the kernel's watchdog at 20× its clean duration,
/// milliseconds; a boot's setup comes before the first injection and is
/// not bounded by it).
pub const HANG_AFTER: Duration = Duration::from_secs(60);

/// Boot `launch`, capturing COM1 into `capture`. `progress` prints the live
/// line (pass false when stderr is not a terminal). A kernel crash during a
/// campaign injection is resumed by a fresh boot (see [`run_resuming`]).
pub fn run(
    launch: &Launch,
    capture: &Path,
    timeout: Duration,
    progress: bool,
) -> Result<RunReport> {
    run_resuming(launch, capture, timeout, progress, HANG_AFTER)
}

/// Boot `launch`; whenever the kernel goes down while a campaign injection
/// is in flight — a fault or panic record, QEMU ending without an end
/// record, or no record for `hang_after` (QEMU is then stopped) — write a
/// `reboot` record (the crashed injection as outcome `kernel_crash`, its
/// cause and symbolized site, and later what the reboot cost) and boot a
/// fresh kernel with the same suite and options plus `only=campaign.<name>
/// injections=<next>..<end>`, so the campaign completes every index. One
/// capture holds every boot; `timeout` bounds them all together. Not
/// resumed: a crash outside a campaign's injections (its setup included,
/// which a fresh boot would repeat), a timeout, an interruption.
pub fn run_resuming(
    launch: &Launch,
    capture: &Path,
    timeout: Duration,
    progress: bool,
    hang_after: Duration,
) -> Result<RunReport> {
    let iso = capture.with_extension("iso");
    let mut follower = Follower::new(capture)?;
    follower.campaign.until = injections_until(&launch.boot_args);
    let started = Instant::now();
    let mut boot_launch = launch.clone();
    // Every boot of the run boots the same suite bytes: a build of the
    // same suite elsewhere (a parallel test, a second run) replaces the
    // file by rename, and suite images are not byte-identical across
    // builds (they record compile times), so a resumed boot could load a
    // different image. A hard link keeps this run's (a copy where the
    // capture's file system differs).
    let pinned = match &launch.suite {
        Some(suite) => Some(pin(suite, &capture.with_extension("suite.img"))?),
        None => None,
    };
    boot_launch.suite.clone_from(&pinned);
    let mut boot = 0;
    let result = loop {
        let report = boot_launch.command(&iso).and_then(|(cmd, described)| {
            follow_command(
                cmd,
                described,
                &mut follower,
                started,
                timeout,
                progress,
                Some(hang_after),
            )
        });
        let (report, hung) = match report {
            Ok(r) => r,
            Err(e) => break Err(e),
        };
        let cause = match report.ending {
            Ending::Crashed if hung => "hang",
            Ending::Crashed if report.signal.is_none() => "died",
            _ => break Ok(report),
        };
        boot += 1;
        let Some((reboot, extra)) = follower.resume_after(cause, boot) else {
            break Ok(report);
        };
        eprintln!(
            "traplab-run: kernel crash at injection {} of campaign {} ({}); booting a fresh kernel at injection {}",
            reboot.crash.index,
            reboot.crash.campaign,
            reboot.crash.detail.as_deref().unwrap_or(cause),
            reboot.resume_at
        );
        follower.begin_boot(reboot)?;
        boot_launch.boot_args = format!("{} {extra}", launch.boot_args);
    };
    // A reboot record whose boot never reached an injection.
    let flushed = follower.flush_reboot(None);
    if crate::qemu::boots_iso(&launch.profile) {
        let _ = std::fs::remove_file(&iso);
    }
    if let Some(pinned) = &pinned {
        let _ = std::fs::remove_file(pinned);
    }
    flushed?;
    result.map(|mut r| {
        r.reboots = follower.state.reboots;
        r.records = follower.records;
        r.damaged_lines = follower.damaged;
        r.elapsed = started.elapsed();
        r
    })
}

/// `suite` under the name `at`, for the length of one run (see
/// [`run_resuming`]).
fn pin(suite: &Path, at: &Path) -> Result<PathBuf> {
    let _ = std::fs::remove_file(at);
    if std::fs::hard_link(suite, at).is_err() {
        std::fs::copy(suite, at)
            .with_context(|| format!("copying {} to {}", suite.display(), at.display()))?;
    }
    Ok(at.to_path_buf())
}

/// The end of the last `injections=A..B` (or `injections=A`) in boot
/// options, as the kernel reads them (the last one wins).
fn injections_until(boot_args: &str) -> Option<u32> {
    let value = boot_args
        .split_whitespace()
        .filter_map(|w| w.strip_prefix("injections="))
        .next_back()?;
    match value.split_once("..") {
        Some((_, b)) => b.parse().ok(),
        None => value.parse::<u32>().ok().map(|a| a.saturating_add(1)),
    }
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
/// `capture`, kill the process after `timeout` (or when the harness is
/// interrupted), and classify the ending from the end record, the setup
/// results and the exit status ([`exit::qemu_status`] of the run's exit
/// value, whoever wrote it; a death by signal is an interruption, or a
/// crash for a fault signal). `described` is the command line recorded in
/// the report. The process is leashed ([`crate::child::leash`]): it dies
/// with the calling thread.
pub fn run_command(
    cmd: Command,
    described: String,
    capture: &Path,
    timeout: Duration,
    progress: bool,
) -> Result<RunReport> {
    let mut follower = Follower::new(capture)?;
    let (report, _) = follow_command(
        cmd,
        described,
        &mut follower,
        Instant::now(),
        timeout,
        progress,
        None,
    )?;
    Ok(report)
}

/// [`run_command`] with the follower (and capture) of a run that may span
/// several boots: `started` and `timeout` are the whole run's; with
/// `hang_after`, a campaign silent that long is stopped as hung (the
/// `bool`, with ending [`Ending::Crashed`]).
fn follow_command(
    mut cmd: Command,
    described: String,
    follower: &mut Follower,
    started: Instant,
    timeout: Duration,
    progress: bool,
    hang_after: Option<Duration>,
) -> Result<(RunReport, bool)> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    crate::child::leash(&mut cmd);
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
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
    let stderr = child.stderr.take().expect("stderr is piped");
    let watcher = std::thread::spawn(move || watch_stderr(stderr));

    follower.last_line = Instant::now();
    let stopped = pump(&rx, follower, started, timeout, progress, false, hang_after)?;
    if matches!(
        stopped,
        Stopped::TimedOut | Stopped::Interrupted(_) | Stopped::Hung
    ) {
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
    // QEMU catches SIGTERM, SIGINT and SIGHUP itself and exits with status
    // 0, like a triple fault under -no-reboot; only its last words tell
    // them apart.
    let terminated_on = watcher.join().unwrap_or(None);
    let qemu_status = status.code();
    let end = follower.end;
    let (ending, signal) = match stopped {
        Stopped::TimedOut => (Ending::TimedOut, None),
        Stopped::Interrupted(sig) => (Ending::Interrupted, Some(sig)),
        Stopped::Hung => (Ending::Crashed, None),
        Stopped::Closed | Stopped::EndRecord => match (status.signal(), terminated_on) {
            // Killed from outside: whatever the stream says so far, the
            // run did not end by itself.
            (Some(sig), _) if !crate::child::is_crash_signal(sig) => {
                (Ending::Interrupted, Some(sig))
            }
            (Some(sig), _) => (Ending::Crashed, Some(sig)),
            (None, Some(sig)) => (Ending::Interrupted, Some(sig)),
            (None, None) => (classify(end, qemu_status, !follower.setup.is_empty()), None),
        },
    };
    let report = RunReport {
        ending,
        qemu_status,
        end,
        records: follower.records,
        damaged_lines: follower.damaged,
        elapsed: started.elapsed(),
        qemu_args: described,
        setup_problems: follower.setup.clone(),
        signal,
        harness_interrupted: matches!(stopped, Stopped::Interrupted(_)),
        reboots: follower.state.reboots,
    };
    Ok((report, stopped == Stopped::Hung))
}

/// Forward the child's standard error to ours, line by line, and return
/// the signal QEMU said it terminated on, if it did: QEMU handles SIGTERM,
/// SIGINT and SIGHUP by printing `terminating on signal 15 from pid 123
/// (kill)` (or `terminated on signal Terminated`) and exiting with 0.
fn watch_stderr(stderr: impl Read) -> Option<i32> {
    let mut reader = BufReader::new(stderr);
    let mut found = None;
    let mut out = std::io::stderr();
    loop {
        let mut line = Vec::new();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return found,
            Ok(_) => {
                let _ = out.write_all(&line);
                let _ = out.flush();
                if let Some(sig) = qemu_termination_signal(&String::from_utf8_lossy(&line)) {
                    found = Some(sig);
                }
            }
        }
    }
}

/// The signal of QEMU's `terminating on signal N from pid P (cmd)` or
/// `terminated on signal NAME` message.
fn qemu_termination_signal(line: &str) -> Option<i32> {
    if let Some((_, rest)) = line.split_once("terminating on signal ") {
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        return digits.parse().ok();
    }
    let (_, rest) = line.split_once("terminated on signal ")?;
    Some(match rest.trim() {
        "Hangup" => crate::child::SIGHUP,
        "Interrupt" => crate::child::SIGINT,
        "Killed" => crate::child::SIGKILL,
        _ => crate::child::SIGTERM,
    })
}

/// How a run that ended by itself ended, from its end record, its exit
/// status and whether it reported setup problems (`setup.*` failures):
/// a run that finished with setup problems is a setup failure, not an
/// experiment failure; a crash stays a crash.
fn classify(end: Option<EndStatus>, status: Option<i32>, setup_failed: bool) -> Ending {
    let ending = match (end, status) {
        (Some(EndStatus::Complete), Some(s)) if s == exit::qemu_status(exit::SUCCESS) => {
            Ending::Success
        }
        (Some(EndStatus::Failed), _) => Ending::Failed,
        (Some(EndStatus::Complete), Some(s)) if s == exit::qemu_status(exit::FAILURE) => {
            Ending::Failed
        }
        _ => Ending::Crashed,
    };
    match ending {
        Ending::Success | Ending::Failed if setup_failed => Ending::Setup,
        other => other,
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
        let interrupted = crate::child::interrupt();
        return Ok(RunReport {
            ending: if interrupted.is_some() {
                Ending::Interrupted
            } else {
                Ending::TimedOut
            },
            qemu_status: None,
            end: None,
            records: follower.records,
            damaged_lines: follower.damaged,
            elapsed: started.elapsed(),
            qemu_args: String::new(),
            setup_problems: Vec::new(),
            signal: interrupted,
            harness_interrupted: interrupted.is_some(),
            reboots: 0,
        });
    };
    let mut follower = Follower::new(capture)?;
    // The reader thread may stay blocked on the port after we stop; it
    // ends with the process.
    let (rx, _reader) = spawn_line_reader(port);
    let stopped = pump(&rx, &mut follower, started, timeout, progress, true, None)?;
    if progress {
        eprintln!();
    }
    let setup_failed = !follower.setup.is_empty();
    let ending = match (stopped, follower.end) {
        (_, Some(EndStatus::Complete | EndStatus::Failed)) if setup_failed => Ending::Setup,
        (_, Some(EndStatus::Complete)) => Ending::Success,
        (_, Some(EndStatus::Failed)) => Ending::Failed,
        (_, Some(EndStatus::Fault | EndStatus::Panic)) => Ending::Crashed,
        (Stopped::TimedOut, None) => Ending::TimedOut,
        (Stopped::Interrupted(_), None) => Ending::Interrupted,
        // The device closed (a FIFO's writer went away, a USB adapter was
        // unplugged) before the end record: the run was cut off.
        (_, None) => Ending::Crashed,
    };
    let signal = match stopped {
        Stopped::Interrupted(sig) => Some(sig),
        _ => None,
    };
    Ok(RunReport {
        ending,
        qemu_status: None,
        end: follower.end,
        records: follower.records,
        damaged_lines: follower.damaged,
        elapsed: started.elapsed(),
        qemu_args: String::new(),
        setup_problems: follower.setup,
        signal,
        harness_interrupted: signal.is_some(),
        reboots: 0,
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
    // Polled, so an interruption (Ctrl-C) ends the wait too.
    let started = Instant::now();
    loop {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(port) => {
                return port.map(Some).with_context(|| {
                    format!(
                        "opening {} (is it the right device, and may you read it? try the dialout group)",
                        device.display()
                    )
                });
            }
            Err(mpsc::RecvTimeoutError::Timeout)
                if started.elapsed() < timeout && crate::child::interrupt().is_none() => {}
            Err(_) => {
                if crate::child::interrupt().is_none() {
                    eprintln!(
                        "traplab-serial: {} did not open within {} s (a FIFO opens once its writer does)",
                        device.display(),
                        timeout.as_secs()
                    );
                }
                return Ok(None);
            }
        }
    }
}

/// Without a terminal (a log file, CI), no live line: one plain line every
/// 30 s while an experiment has been running that long, so a log says
/// which slow experiment a run spends its time in.
fn plain_progress(p: &mut Progress, elapsed: Duration) {
    const EVERY: Duration = Duration::from_secs(30);
    let Some((name, done, planned)) = &p.running else {
        return;
    };
    let in_it = p.running_since.elapsed();
    if in_it < EVERY || p.last_plain.elapsed() < EVERY {
        return;
    }
    p.last_plain = Instant::now();
    eprintln!(
        "traplab-run: running {name}: {done} of {planned} iterations, {:.0} s in it, {:.0} s in all{}",
        in_it.as_secs_f64(),
        elapsed.as_secs_f64(),
        campaign_tally(p)
    );
}

/// Outcomes so far and reboots, while a campaign reports injections:
/// ` | trapped 12 contained 3 … kernel_crash 1, 1 reboot`.
fn campaign_tally(p: &Progress) -> String {
    if p.injections == 0 && p.reboots == 0 {
        return String::new();
    }
    let counts: Vec<String> = Outcome::ALL
        .iter()
        .zip(p.outcomes)
        .filter(|(_, n)| *n > 0)
        .map(|(o, n)| format!("{} {n}", o.name()))
        .collect();
    format!(
        " | {}, {} reboot{}",
        counts.join(" "),
        p.reboots,
        if p.reboots == 1 { "" } else { "s" }
    )
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
    // The running experiment when the stream says (progress records),
    // else the last one that reported.
    let current = match &p.running {
        Some((name, done, planned)) => format!(
            "{name} {done}/{planned} {:.0}s",
            p.running_since.elapsed().as_secs_f64()
        ),
        None => p.current.clone(),
    };
    let current: String = current.chars().take(56).collect();
    eprint!(
        "\r\x1b[K[{}/{}] {current:<56} samples {:>8}  {secs:>6.1}s {eta}{}",
        p.done,
        p.planned,
        p.samples,
        campaign_tally(p)
    );
    let _ = std::io::stderr().flush();
}

#[cfg(test)]
mod tests {
    use super::*;
    use traplab_wire::{End, ExperimentResult, encode_line};

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("traplab-session-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join(name)
    }

    fn result_line(seq: u64, experiment: &str, status: Status, message: &str) -> String {
        encode_line(
            seq,
            &Record::Result(ExperimentResult {
                experiment: experiment.into(),
                config: "boot".into(),
                status,
                samples: 0,
                expected: None,
                observed: None,
                message: Some(message.into()),
            }),
        )
    }

    fn end_line(seq: u64, status: EndStatus) -> String {
        encode_line(
            seq,
            &Record::End(End {
                status,
                records: seq,
                samples: 0,
                ok: 0,
                failed: 1,
                contained_failures: 0,
            }),
        )
    }

    /// Run `script` under `sh` as the run's process, its standard output
    /// the stream.
    fn run_sh(name: &str, script: &str) -> RunReport {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", script]);
        run_command(
            cmd,
            String::new(),
            &scratch(&format!("{name}.jsonl")),
            Duration::from_secs(20),
            false,
        )
        .unwrap()
    }

    #[test]
    fn setup_failures_in_the_stream_end_as_setup_and_are_listed() {
        let lines = [
            result_line(
                0,
                "setup.cmdline",
                Status::Failed,
                "samples=0: must be at least 1",
            ),
            result_line(1, "trap.oob_load", Status::Ok, ""),
            end_line(2, EndStatus::Failed),
        ];
        let script = format!(
            "printf '%s\\n' '{}' '{}' '{}'; exit {}",
            lines[0],
            lines[1],
            lines[2],
            exit::qemu_status(exit::FAILURE)
        );
        let report = run_sh("setup", &script);
        assert_eq!(report.ending, Ending::Setup, "{report:?}");
        assert_eq!(report.ending.exit_code(), 2);
        assert_eq!(
            report.setup_problems,
            ["setup.cmdline: samples=0: must be at least 1"]
        );
        assert!(!report.partial());
    }

    #[test]
    fn a_failed_experiment_without_setup_problems_stays_a_failure() {
        let script = format!(
            "printf '%s\\n' '{}' '{}'; exit {}",
            result_line(0, "trap.oob_load", Status::Failed, "wrong trap"),
            end_line(1, EndStatus::Failed),
            exit::qemu_status(exit::FAILURE)
        );
        let report = run_sh("failed", &script);
        assert_eq!(report.ending, Ending::Failed);
        assert!(report.setup_problems.is_empty());
    }

    #[test]
    fn a_signal_from_outside_is_an_interruption_and_a_fault_signal_a_crash() {
        let partial = result_line(0, "trap.oob_load", Status::Ok, "");
        for (sig, want) in [
            ("TERM", Ending::Interrupted),
            ("KILL", Ending::Interrupted),
            ("INT", Ending::Interrupted),
            ("SEGV", Ending::Crashed),
        ] {
            let report = run_sh(
                &format!("sig-{sig}"),
                &format!("printf '%s\\n' '{partial}'; kill -{sig} $$; sleep 5"),
            );
            assert_eq!(report.ending, want, "SIG{sig}: {report:?}");
            assert_eq!(report.records, 1, "the partial stream is kept");
            assert!(report.partial());
            assert_eq!(
                report.signal.map(crate::child::signal_name),
                Some(format!("SIG{sig}"))
            );
            assert!(!report.harness_interrupted);
        }
        let capture = std::fs::read_to_string(scratch("sig-TERM.jsonl")).unwrap();
        assert_eq!(capture.trim(), partial);
    }

    #[test]
    fn ending_by_itself_without_an_end_record_is_a_crash() {
        // A triple fault: QEMU exits 0 (-no-reboot) with no end record.
        let report = run_sh("triple", "exit 0");
        assert_eq!(report.ending, Ending::Crashed);
        assert_eq!(report.signal, None);
        // The kernel's crash status with its end record.
        let script = format!(
            "printf '%s\\n' '{}'; exit {}",
            end_line(0, EndStatus::Panic),
            exit::qemu_status(exit::KERNEL_FAULT)
        );
        assert_eq!(run_sh("panic", &script).ending, Ending::Crashed);
    }

    #[test]
    fn qemu_s_last_words_name_the_signal_it_was_stopped_by() {
        assert_eq!(
            qemu_termination_signal(
                "qemu-system-x86_64: terminating on signal 15 from pid 19116 (kill)\n"
            ),
            Some(15)
        );
        assert_eq!(
            qemu_termination_signal("qemu-system-x86_64: terminated on signal Interrupt\n"),
            Some(2)
        );
        assert_eq!(qemu_termination_signal("qemu: warning: no such CPU"), None);
        // A program that prints the same words and exits 0 with no end
        // record is read as stopped by that signal, not as a crash.
        let report = run_sh(
            "last-words",
            "echo 'qemu-system-x86_64: terminating on signal 2 from pid 1 (x)' >&2; exit 0",
        );
        assert_eq!(report.ending, Ending::Interrupted);
        assert_eq!(report.signal, Some(2));
    }

    #[test]
    fn the_time_bound_kills_and_says_timeout() {
        let mut cmd = Command::new("sleep");
        cmd.arg("30");
        let started = Instant::now();
        let report = run_command(
            cmd,
            String::new(),
            &scratch("timeout.jsonl"),
            Duration::from_secs(1),
            false,
        )
        .unwrap();
        assert_eq!(report.ending, Ending::TimedOut);
        assert_eq!(report.signal, None, "our own kill is not an interruption");
        assert!(started.elapsed() < Duration::from_secs(10));
    }
}
