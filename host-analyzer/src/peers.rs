//! Ring 0 vs Linux: the lab kernel's numbers beside those of its Linux
//! peers, which run the same suite on upstream wasmtime with Linux signal
//! handling — `linux-guest` (a Linux VM booted in the same QEMU mode as
//! the lab kernel) and `linux-host` (the same binary directly on the host).
//!
//! # Rows
//!
//! - every trap kind (`trap.*`) under each configuration found
//!   (`signals.bt_off`, `signals.bt_on`, `explicit.bt_off` first, in that
//!   order);
//! - `call.null` under each configuration: the cost of a call that returns;
//! - every floor `raw.X`: the lab kernel's under [`config::RING0`] (raised and
//!   resumed in ring 0) beside Linux's under [`config::RING3`] (a signal
//!   raised by the peer's own code in ring 3, resumed by its handler);
//!   `raw.syscall` (a trivial system call, no signal) is Linux's only,
//!   `raw.pf_demand` the lab kernel's only.
//!
//! # Columns and modes
//!
//! The p50 (and p25, p75) of each platform in cycles as each stream counts
//! them, and the ratio lab-kernel / linux-guest. Numbers from different
//! measurement modes mean different things, so a ratio only ever joins
//! streams of one mode: the view is one [`Panel`] per mode, holding the
//! lab-kernel and linux-guest streams of that mode. The linux-host stream
//! runs on hardware in its own mode (`host`); its p50 is shown beside them
//! for scale and is never part of a ratio. When no mode has both a
//! lab-kernel and a linux-guest stream, [`build`] refuses with a
//! [`PeersError`] that says what is missing.
//!
//! # Ratio and its spread
//!
//! The ratio is `median(lab-kernel) / median(linux-guest)` (exact medians;
//! below 1 the lab kernel is faster). Its spread is the 99 % percentile
//! bootstrap interval of that ratio of medians, resampling both
//! distributions independently (10,000 resamples, fixed seed: the same
//! method and generator as `traplab compare`, see [`crate::stats`]). In a
//! deterministic mode (icount) both streams are noise-free and the interval
//! is the exact ratio with zero width.
//!
//! Everything renders from the one [`PeersView`] tree: JSON is its serde
//! serialization, the other formats are built in [`render`].

pub mod render;
#[cfg(test)]
mod tests;

use serde::Serialize;
use traplab_wire::{ExperimentResult, Platform, config, signal};

use crate::ingest::{Run, Series};
use crate::mode::Mode;
use crate::stats::{
    BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED, IntervalMethod, Quantiles, ratio_of_medians,
};
use crate::summary::status_str;

/// Configurations of the wasm rows, in the order rows list them; others
/// found in the streams follow.
pub const CONFIGS: [&str; 3] = [
    config::SIGNALS_BT_OFF,
    config::SIGNALS_BT_ON,
    config::EXPLICIT_BT_OFF,
];
/// The call that returns: the call overhead on each platform.
pub const CALL: &str = "call.null";
/// Confidence level of the ratio intervals.
pub const CONFIDENCE: f64 = 0.99;

const TRAP: &str = "trap.";
const RAW: &str = "raw.";

/// The ring 0 vs Linux view of one or more runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeersView {
    /// Unit of every duration: `cycles` (guest instructions under icount).
    pub unit: &'static str,
    /// One panel per measurement mode, in the order the streams were given.
    pub panels: Vec<Panel>,
    /// Observations about the inputs as a whole (streams that match no
    /// panel, several host streams).
    pub notes: Vec<String>,
}

/// The streams of one measurement mode and their rows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Panel {
    /// The mode of the lab-kernel and linux-guest streams (`tcg`, `icount`,
    /// `kvm`, …).
    pub mode: String,
    /// What numbers of that mode mean.
    pub mode_caption: String,
    /// How the ratio's interval was obtained.
    pub interval: Interval,
    pub lab_kernel: Option<Stream>,
    pub linux_guest: Option<Stream>,
    /// The host peer, in its own mode (see its `mode`).
    pub linux_host: Option<Stream>,
    pub rows: Vec<Row>,
    /// What deserves a second look in this panel (a side missing, a failed
    /// experiment, two platforms raising different exceptions for one row).
    pub notes: Vec<String>,
}

impl Panel {
    /// Rows that have a ratio.
    pub fn ratios(&self) -> impl Iterator<Item = (&Row, Ratio)> {
        self.rows.iter().filter_map(|r| r.ratio.map(|q| (r, q)))
    }
}

/// The interval method of a panel's ratios.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Interval {
    /// `bootstrap` (percentile bootstrap of the ratio of medians) or
    /// `exact` (deterministic mode: the ratio, zero width).
    pub method: IntervalMethod,
    pub confidence: f64,
    /// Bootstrap resamples (0 for `exact`).
    pub resamples: usize,
}

/// Provenance of one stream.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stream {
    /// The file it was read from.
    pub source: String,
    pub platform: String,
    pub mode: String,
    pub commit: Option<String>,
    pub dirty: bool,
    /// The operating system under a peer (`Linux 6.1.0-28-cloud-amd64`).
    pub os: Option<String>,
    pub wasmtime: Option<String>,
    /// TSC frequency the stream states, Hz.
    pub tsc_hz: Option<u64>,
    /// complete | failed | fault | panic | incomplete.
    pub status: String,
}

/// What a row measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Group {
    /// A wasm trap (`trap.*`).
    Trap,
    /// `call.null`.
    Call,
    /// A raw exception or signal floor (`raw.*`).
    Floor,
}

/// One row: one experiment (and, for wasm rows, configuration) on each
/// platform.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    pub group: Group,
    pub experiment: String,
    /// The configuration of a wasm row; `None` for a floor, whose sides
    /// run under different configurations (each side's `config` says which).
    pub config: Option<String>,
    pub lab_kernel: Option<Side>,
    pub linux_guest: Option<Side>,
    /// lab-kernel / linux-guest, when both have samples.
    pub ratio: Option<Ratio>,
    pub linux_host: Option<Side>,
}

impl Row {
    /// `trap.oob_load/signals.bt_off`, or the bare experiment of a floor.
    pub fn label(&self) -> String {
        match &self.config {
            Some(c) => format!("{}/{c}", self.experiment),
            None => self.experiment.clone(),
        }
    }
}

/// One platform's series of a row, cycles.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Side {
    pub config: String,
    /// ok | failed | skipped | no result.
    pub status: &'static str,
    pub n: usize,
    /// Quartiles ([`Quantiles`], as every table); `None` without samples.
    pub p25: Option<u64>,
    pub p50: Option<u64>,
    pub p75: Option<u64>,
    /// What raised the trap or floor: a CPU vector (`#PF`) on the lab
    /// kernel, a signal (`SIGSEGV`) on Linux; observed, else expected.
    pub raises: Option<String>,
}

/// The ratio lab-kernel / linux-guest of medians with its interval (see
/// the module docs), rounded to 4 decimals.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Ratio {
    pub value: f64,
    pub low: f64,
    pub high: f64,
}

/// Why no view can be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeersError {
    #[error(
        "{0}: the header was lost, so its platform and mode are unknown; the ring 0 vs Linux view needs both"
    )]
    HeaderLost(String),
    #[error("{stream}: unknown platform {platform:?} (known: lab-kernel, linux-guest, linux-host)")]
    UnknownPlatform { stream: String, platform: String },
    #[error(
        "two {platform} streams in mode {mode} ({first}, {second}): give one per mode (`traplab compare` compares two runs of one platform)"
    )]
    Duplicate {
        platform: &'static str,
        mode: String,
        first: String,
        second: String,
    },
    #[error(
        "no lab-kernel stream among {0}: give a stored run folder (its run.jsonl is the lab kernel's) or a lab-kernel capture"
    )]
    NoLabKernel(String),
    #[error(
        "no linux-guest stream among {0}: the ratio is lab-kernel / linux-guest of one mode; store the peer with `traplab ingest CAPTURE --peer linux-guest=FILE`, or give its stream"
    )]
    NoLinuxGuest(String),
    #[error(
        "cannot compare across measurement modes: lab-kernel is {lab}, linux-guest is {guest}; the ratio needs both platforms measured in one mode"
    )]
    ModeMismatch { lab: String, guest: String },
}

/// One stream given to [`build`].
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    pub run: &'a Run,
    /// Streams of one stored run folder share a group, which pairs a
    /// folder's linux-host stream with that folder's panel.
    pub group: Option<usize>,
}

struct Tagged<'a> {
    run: &'a Run,
    group: Option<usize>,
    platform: Platform,
    mode: Mode,
}

/// Build the view of `inputs`; see the module docs.
pub fn build(inputs: &[Input]) -> Result<PeersView, PeersError> {
    let mut tagged = Vec::new();
    for i in inputs {
        let Some(h) = &i.run.header else {
            return Err(PeersError::HeaderLost(i.run.source.clone()));
        };
        let Some(platform) = Platform::from_name(&h.platform) else {
            return Err(PeersError::UnknownPlatform {
                stream: i.run.source.clone(),
                platform: h.platform.clone(),
            });
        };
        tagged.push(Tagged {
            run: i.run,
            group: i.group,
            platform,
            mode: i.run.mode(),
        });
    }
    let of = |p: Platform| -> Vec<&Tagged> { tagged.iter().filter(|t| t.platform == p).collect() };
    let (labs, guests, hosts) = (
        of(Platform::LabKernel),
        of(Platform::LinuxGuest),
        of(Platform::LinuxHost),
    );
    for list in [&labs, &guests] {
        for (a, x) in list.iter().enumerate() {
            if let Some(y) = list[a + 1..].iter().find(|y| y.mode == x.mode) {
                return Err(PeersError::Duplicate {
                    platform: x.platform.name(),
                    mode: x.mode.to_string(),
                    first: x.run.source.clone(),
                    second: y.run.source.clone(),
                });
            }
        }
    }
    let sources = || {
        tagged
            .iter()
            .map(|t| format!("{} ({})", t.run.source, t.platform.name()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let paired = labs.iter().any(|l| guests.iter().any(|g| g.mode == l.mode));
    if !paired {
        let modes = |l: &[&Tagged]| {
            l.iter()
                .map(|t| t.mode.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        return Err(match (labs.is_empty(), guests.is_empty()) {
            (true, _) => PeersError::NoLabKernel(sources()),
            (false, true) => PeersError::NoLinuxGuest(sources()),
            (false, false) => PeersError::ModeMismatch {
                lab: modes(&labs),
                guest: modes(&guests),
            },
        });
    }
    let mut modes: Vec<Mode> = Vec::new();
    for t in labs.iter().chain(&guests) {
        if !modes.contains(&t.mode) {
            modes.push(t.mode.clone());
        }
    }
    let mut notes = Vec::new();
    if hosts.len() > 1 {
        notes.push(format!(
            "{} linux-host streams given; a panel shows the one stored with its lab-kernel run, if any",
            hosts.len()
        ));
    }
    let panels = modes
        .into_iter()
        .map(|mode| {
            let lab = labs.iter().copied().find(|t| t.mode == mode);
            let guest = guests.iter().copied().find(|t| t.mode == mode);
            let group = lab.or(guest).and_then(|t| t.group);
            let host = hosts
                .iter()
                .copied()
                .find(|h| h.group.is_some() && h.group == group)
                .or_else(|| (hosts.len() == 1).then(|| hosts[0]));
            panel(mode, lab, guest, host, &labs, &guests)
        })
        .collect();
    Ok(PeersView {
        unit: "cycles",
        panels,
        notes,
    })
}

fn stream(t: &Tagged) -> Stream {
    let h = t.run.header.as_ref();
    Stream {
        source: t.run.source.clone(),
        platform: t.platform.name().to_string(),
        mode: t.mode.to_string(),
        commit: t.run.commit().map(|(c, _)| c.to_string()),
        dirty: t.run.commit().is_some_and(|(_, d)| d),
        os: h.and_then(|h| h.os.clone()),
        wasmtime: h.map(|h| h.wasmtime.clone()),
        tsc_hz: t.run.tsc_hz(),
        status: t.run.completion().as_str().to_string(),
    }
}

/// The wasm configurations found for `experiment` (or any experiment with
/// its prefix when it ends in `.`) in `runs`: [`CONFIGS`] first, others in
/// first-seen order.
fn configs_of(runs: &[&Run], matches: impl Fn(&str) -> bool) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for r in runs {
        for s in r.series.iter().filter(|s| matches(&s.experiment)) {
            if !found.contains(&s.config) {
                found.push(s.config.clone());
            }
        }
    }
    found.sort_by_key(|c| CONFIGS.iter().position(|k| k == c).unwrap_or(CONFIGS.len()));
    found
}

/// Experiments with `prefix` in first-seen order across `runs`.
fn experiments(runs: &[&Run], prefix: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for r in runs {
        for s in &r.series {
            if s.experiment.starts_with(prefix) && !found.contains(&s.experiment) {
                found.push(s.experiment.clone());
            }
        }
    }
    found
}

/// The series `experiment/config` of `run`, if both exist.
fn find_in<'r>(run: Option<&'r Run>, experiment: &str, config: &str) -> Option<&'r Series> {
    run.and_then(|r| r.find(experiment, config))
}

fn panel<'a>(
    mode: Mode,
    lab: Option<&Tagged<'a>>,
    guest: Option<&Tagged<'a>>,
    host: Option<&Tagged<'a>>,
    labs: &[&Tagged],
    guests: &[&Tagged],
) -> Panel {
    let method = if mode.is_deterministic() {
        IntervalMethod::Exact
    } else {
        IntervalMethod::Bootstrap
    };
    let interval = Interval {
        method,
        confidence: CONFIDENCE,
        resamples: if method == IntervalMethod::Exact {
            0
        } else {
            BOOTSTRAP_RESAMPLES
        },
    };
    let mut notes = Vec::new();
    let others = |list: &[&Tagged]| {
        let m: Vec<String> = list
            .iter()
            .filter(|t| t.mode != mode)
            .map(|t| t.mode.to_string())
            .collect();
        if m.is_empty() {
            String::new()
        } else {
            format!(" (given in: {})", m.join(", "))
        }
    };
    if lab.is_none() {
        notes.push(format!(
            "no lab-kernel stream in mode {mode}{}: no ratios in this panel",
            others(labs)
        ));
    }
    if guest.is_none() {
        notes.push(format!(
            "no linux-guest stream in mode {mode}{}: no ratios in this panel",
            others(guests)
        ));
    }
    if let (Some(l), Some(g)) = (lab, guest)
        && let (Some(a), Some(b)) = (l.run.tsc_hz(), g.run.tsc_hz())
        && a.abs_diff(b) * 100 > a
    {
        notes.push(format!(
            "TSC frequencies differ by more than 1 % (lab-kernel {a} Hz, linux-guest {b} Hz): ratios are of cycles as each stream counts them"
        ));
    }
    let runs: [Option<&'a Run>; 3] = [lab, guest, host].map(|t| t.map(|t| t.run));
    let all: Vec<&Run> = runs.into_iter().flatten().collect();
    let mut rows = Vec::new();
    let wasm_rows = |experiment: &str, group: Group, rows: &mut Vec<Row>| {
        for config in configs_of(&all, |e| e == experiment) {
            let sides = runs.map(|r| find_in(r, experiment, &config));
            rows.push(row(group, experiment, Some(config.clone()), sides, method));
        }
    };
    for kind in experiments(&all, TRAP) {
        wasm_rows(&kind, Group::Trap, &mut rows);
    }
    wasm_rows(CALL, Group::Call, &mut rows);
    for floor in experiments(&all, RAW) {
        let sides = [
            find_in(runs[0], &floor, config::RING0),
            find_in(runs[1], &floor, config::RING3),
            find_in(runs[2], &floor, config::RING3),
        ];
        rows.push(row(Group::Floor, &floor, None, sides, method));
    }
    rows.retain(|r| r.lab_kernel.is_some() || r.linux_guest.is_some() || r.linux_host.is_some());
    for r in &rows {
        row_notes(r, [lab, guest, host], &mut notes);
    }
    Panel {
        mode: mode.to_string(),
        mode_caption: mode.caption(),
        interval,
        lab_kernel: lab.map(stream),
        linux_guest: guest.map(stream),
        linux_host: host.map(stream),
        rows,
        notes,
    }
}

fn round4(v: f64) -> f64 {
    (v * 1e4).round() / 1e4
}

fn row(
    group: Group,
    experiment: &str,
    config: Option<String>,
    [lab, guest, host]: [Option<&Series>; 3],
    method: IntervalMethod,
) -> Row {
    let ratio = lab.zip(guest).and_then(|(l, g)| {
        let r = ratio_of_medians(
            &g.total,
            &l.total,
            CONFIDENCE,
            method,
            BOOTSTRAP_RESAMPLES,
            BOOTSTRAP_SEED,
        )?;
        Some(Ratio {
            value: round4(r.ratio),
            low: round4(r.low),
            high: round4(r.high),
        })
    });
    Row {
        group,
        experiment: experiment.to_string(),
        config,
        lab_kernel: lab.map(side),
        linux_guest: guest.map(side),
        ratio,
        linux_host: host.map(side),
    }
}

fn side(s: &Series) -> Side {
    // The tables' and figures' one quantile definition: this p50 is the
    // summary's p50 of the same series.
    let quantiles = Quantiles::of(&s.total);
    let q = |p: f64| quantiles.as_ref().map(|h| h.at(p));
    Side {
        config: s.config.clone(),
        status: status_str(s.result.as_ref().map(|r| r.status)),
        n: s.total.len(),
        p25: q(0.25),
        p50: q(0.50),
        p75: q(0.75),
        raises: s.result.as_ref().and_then(raises),
    }
}

/// What raised a trap or floor, as the result record says: observed, else
/// expected; a vector on the lab kernel, a signal on Linux.
fn raises(r: &ExperimentResult) -> Option<String> {
    let name = |sig: &traplab_wire::TrapSignature| {
        sig.vector
            .map(|v| crate::campaign::vector_mnemonic(v).to_string())
            .or_else(|| sig.signal.map(|s| signal::name(s).to_string()))
    };
    r.observed
        .as_ref()
        .and_then(name)
        .or_else(|| r.expected.as_ref().and_then(name))
}

/// The vector and the signal behind a row's lab-kernel and Linux sides.
fn vector_and_signal(s: Option<&Series>) -> (Option<u8>, Option<u8>) {
    let Some(r) = s.and_then(|s| s.result.as_ref()) else {
        return (None, None);
    };
    let pick = |f: fn(&traplab_wire::TrapSignature) -> Option<u8>| {
        r.observed
            .as_ref()
            .and_then(f)
            .or_else(|| r.expected.as_ref().and_then(f))
    };
    (pick(|x| x.vector), pick(|x| x.signal))
}

fn row_notes<'a>(row: &Row, streams: [Option<&Tagged<'a>>; 3], notes: &mut Vec<String>) {
    let label = row.label();
    for (side, t) in [&row.lab_kernel, &row.linux_guest, &row.linux_host]
        .into_iter()
        .zip(streams)
    {
        let (Some(side), Some(t)) = (side, t) else {
            continue;
        };
        if side.status == "failed" {
            let why = t
                .run
                .find(&row.experiment, &side.config)
                .and_then(|s| s.result.as_ref()?.message.clone())
                .map(|m| format!(": {m}"))
                .unwrap_or_default();
            notes.push(format!("{label}: failed on {}{why}", t.platform.name()));
        }
    }
    // The lab kernel's vector and Linux's signal must be the same exception.
    let find = |t: Option<&Tagged<'a>>, side: &Option<Side>| {
        find_in(
            t.map(|t| t.run),
            &row.experiment,
            side.as_ref().map_or("", |s| s.config.as_str()),
        )
    };
    let (vector, _) = vector_and_signal(find(streams[0], &row.lab_kernel));
    if let Some(v) = vector {
        for (t, side) in [
            (streams[1], &row.linux_guest),
            (streams[2], &row.linux_host),
        ] {
            let (_, sig) = vector_and_signal(find(t, side));
            if let (Some(sig), Some(t)) = (sig, t)
                && signal::for_vector(v) != Some(sig)
            {
                notes.push(format!(
                    "{label}: the lab kernel raised {} but {} saw {}: not the same exception",
                    crate::campaign::vector_mnemonic(v),
                    t.platform.name(),
                    signal::name(sig)
                ));
            }
        }
    }
}
