//! The traplab wire format: record types and JSON Lines framing shared by the
//! kernel and the host.
//!
//! The runner kernel writes one record per line on COM1; the host harness and
//! analyzer read them back with [`decode_line`]. Both sides compile this crate,
//! so the schema cannot drift between them. It is `no_std` + `alloc`.
//!
//! # Framing
//!
//! Every line is one JSON object whose first key is `seq` (a per-run counter
//! starting at 0), whose second key is `type` (the record kind), and whose
//! last key is `crc`: the CRC-32 (IEEE) of the line's bytes from the opening
//! `{` up to, not including, the `,"crc":` that introduces it, as eight
//! lower-case hex digits. Key order inside each record type is fixed (it is the
//! field order of the Rust structs below), so console matchers such as LAVA can
//! use regular expressions on it.
//!
//! A run as the kernel writes it (from `tests/fixtures/kernel-run.jsonl`;
//! the header and the samples line are shortened with `…`, so their CRCs
//! are shown as `…` too; the last two lines are verbatim):
//!
//! ```text
//! {"seq":0,"type":"header","schema":1,"kernel":{"commit":"9f2b1cf65945","dirty":true,…},"wasmtime":"48.0.8",…,"crc":"…"}
//! {"seq":1,"type":"samples","experiment":"raw.pf","config":"ring0","unit":"cycles","first":0,"total":[…],"stages":[],"crc":"…"}
//! {"seq":2,"type":"result","experiment":"raw.pf","config":"ring0","status":"ok","samples":8,"expected":{"trap":null,"vector":14},"observed":{"trap":null,"vector":14},"message":null,"crc":"c1529aad"}
//! {"seq":221,"type":"end","status":"complete","records":221,"samples":312,"ok":41,"failed":0,"crc":"88e6137f"}
//! ```
//!
//! (The fixture predates [`End::contained_failures`]; a stream without it
//! reads as 0.)
//!
//! A run opens with exactly one [`Header`] and closes with exactly one [`End`]
//! record. The kernel writes the end record on every path it controls: normal
//! completion, a failed experiment, an unexpected CPU exception ([`Fault`]) and
//! a Rust panic ([`Panic`]). A stream without one was cut off (timeout, triple
//! fault, lost link) and is incomplete.
//!
//! Raw samples travel in [`Samples`] batches of at most [`MAX_BATCH`] values so
//! that one corrupted line loses a bounded amount of data.
#![cfg_attr(not(test), no_std)]

extern crate alloc;

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use serde::{Deserialize, Serialize};

pub mod symbols;

/// Version of the record schema. Bump it whenever a field changes meaning or
/// a required field is added; readers refuse versions they do not know.
pub const SCHEMA_VERSION: u32 = 1;

/// Largest number of samples the kernel puts into one [`Samples`] record.
/// 256 values of up to 20 digits keep a line under about 6 KiB.
pub const MAX_BATCH: usize = 256;

/// Names of the stage intervals of a timed trap, in the order they occur.
/// Each is the difference of two consecutive `rdtsc` stamps:
/// before the call → first instruction of the IDT stub → entry of the
/// registered (Theseus-style) handler → entry of wasmtime's trap handler →
/// `Err` back in the runner.
pub const TRAP_STAGES: [&str; 4] = [
    "call_to_stub",
    "stub_to_handler",
    "handler_to_wasmtime",
    "wasmtime_to_return",
];

/// The points of a trap's round trip a platform can timestamp, in the order
/// they occur. The lab kernel sees all five; a Linux peer sees the call, the
/// entry of the signal handler it installs in front of wasmtime's, and the
/// return — the kernel's exception entry is out of its sight, and that stage
/// is left out rather than faked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stamp {
    /// Before the embedder's call into wasm.
    Call,
    /// First instructions of the exception entry (IDT stub).
    Stub,
    /// Entry of the platform's registered handler (Theseus-style exception
    /// handler in ring 0, the front signal handler on Linux).
    Handler,
    /// Right before wasmtime's own trap handler runs.
    Wasmtime,
    /// `Err` back in the embedder.
    Return,
}

impl Stamp {
    pub const ALL: [Stamp; 5] = [
        Stamp::Call,
        Stamp::Stub,
        Stamp::Handler,
        Stamp::Wasmtime,
        Stamp::Return,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Stamp::Call => "call",
            Stamp::Stub => "stub",
            Stamp::Handler => "handler",
            Stamp::Wasmtime => "wasmtime",
            Stamp::Return => "return",
        }
    }

    /// The stage between two stamps, e.g. `call_to_stub`.
    pub fn stage(from: Stamp, to: Stamp) -> String {
        let mut name = String::from(from.name());
        name.push_str("_to_");
        name.push_str(to.name());
        name
    }

    /// The two stamps a stage name spans, when it is one (`from` before `to`).
    pub fn parse_stage(stage: &str) -> Option<(Stamp, Stamp)> {
        let (a, b) = stage.split_once("_to_")?;
        let find = |n: &str| Stamp::ALL.into_iter().find(|s| s.name() == n);
        let (a, b) = (find(a)?, find(b)?);
        (a < b).then_some((a, b))
    }
}

/// Platforms that run the experiments: the lab kernel, and the Linux peers
/// that run the same suite on upstream wasmtime with signal handling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Platform {
    /// The ring-0 lab kernel (`runner-kernel/`).
    LabKernel,
    /// The Linux peer as `/init` of a Linux guest booted in the same QEMU
    /// profile as the lab kernel.
    LinuxGuest,
    /// The Linux peer run directly on the machine that runs the suite.
    LinuxHost,
}

impl Platform {
    pub const ALL: [Platform; 3] = [
        Platform::LabKernel,
        Platform::LinuxGuest,
        Platform::LinuxHost,
    ];

    /// The name written in run headers.
    pub fn name(self) -> &'static str {
        match self {
            Platform::LabKernel => "lab-kernel",
            Platform::LinuxGuest => "linux-guest",
            Platform::LinuxHost => "linux-host",
        }
    }

    pub fn from_name(name: &str) -> Option<Platform> {
        Platform::ALL.into_iter().find(|p| p.name() == name)
    }
}

fn lab_kernel() -> String {
    String::from(Platform::LabKernel.name())
}

/// Configuration labels (the `config` of samples, results and progress
/// records): the one spelling the runners write and the analyzer reads.
pub mod config {
    /// Signals-based traps (guard pages, CPU exceptions), no backtrace.
    pub const SIGNALS_BT_OFF: &str = "signals.bt_off";
    /// Signals-based traps with a wasm backtrace captured on every trap.
    pub const SIGNALS_BT_ON: &str = "signals.bt_on";
    /// Explicit checks in the compiled code, no exception, no backtrace.
    pub const EXPLICIT_BT_OFF: &str = "explicit.bt_off";
    /// Explicit checks with a wasm backtrace on every trap.
    pub const EXPLICIT_BT_ON: &str = "explicit.bt_on";
    /// Every engine configuration, in the order the runners plan them.
    pub const ENGINE: [&str; 4] = [
        SIGNALS_BT_OFF,
        SIGNALS_BT_ON,
        EXPLICIT_BT_OFF,
        EXPLICIT_BT_ON,
    ];
    /// A compute workload's native twin: the same Rust compiled into the
    /// runner.
    pub const NATIVE: &str = "native";
    /// Kernel code without wasm on the lab kernel: the raw-exception floor
    /// (exceptions raised and resumed in ring 0) and the timer check.
    pub const RING0: &str = "ring0";
    /// The floor on a Linux peer: signals raised by the peer's own code in
    /// ring 3, resumed by advancing RIP in the handler.
    pub const RING3: &str = "ring3";
}

/// Metric names (the `name` of [`Metric`] records): the one spelling the
/// kernel, the peer and the analyzer share. The unit and the context a
/// metric is written with are documented where it is written.
pub mod profile;

pub mod metric {
    pub const HOST_COMPILE_NS: &str = "host_compile_ns";
    pub const HOST_CODE_BYTES: &str = "host_code_bytes";
    pub const DESERIALIZE_CYCLES: &str = "deserialize_cycles";
    pub const VERIFY_CYCLES: &str = "verify_cycles";
    pub const SOFT_FLOAT: &str = "soft_float";
    pub const INSTANTIATE_CYCLES: &str = "instantiate_cycles";
    pub const HOST_TRAP_SITES: &str = "host_trap_sites";
    pub const HEAP_USED_BEFORE: &str = "heap_used_before";
    pub const HEAP_USED_AFTER: &str = "heap_used_after";
    pub const FRAMES_IN_USE_BEFORE: &str = "frames_in_use_before";
    pub const FRAMES_IN_USE_AFTER: &str = "frames_in_use_after";
    pub const FIRST_CALL_CYCLES: &str = "first_call_cycles";
    pub const ARTIFACT_BYTES: &str = "artifact_bytes";
    pub const ABANDONED_HEAP_BYTES: &str = "abandoned_heap_bytes";
    pub const ABANDONED_FRAMES: &str = "abandoned_frames";
    pub const CAMPAIGN_CYCLES: &str = "campaign_cycles";
    pub const CODE_BYTES: &str = "code_bytes";
    pub const TIMER_LATENCY_CYCLES: &str = "timer_latency_cycles";
    pub const TIMER_LATENCY_FIRST_CYCLES: &str = "timer_latency_first_cycles";
    pub const TRIAL_ARENA_USED_AFTER: &str = "trial_arena_used_after";
    pub const TRIAL_ARENA_USED_BEFORE: &str = "trial_arena_used_before";
    pub const WAST_FAILED: &str = "wast_failed";
    pub const WAST_PASSED: &str = "wast_passed";
    pub const WAST_UNSUPPORTED: &str = "wast_unsupported";
    pub const STDOUT_BYTES: &str = "stdout_bytes";
    pub const STDERR_BYTES: &str = "stderr_bytes";
    /// Every name above.
    pub const ALL: [&str; 26] = [
        HOST_COMPILE_NS,
        HOST_CODE_BYTES,
        DESERIALIZE_CYCLES,
        VERIFY_CYCLES,
        SOFT_FLOAT,
        INSTANTIATE_CYCLES,
        HOST_TRAP_SITES,
        HEAP_USED_BEFORE,
        HEAP_USED_AFTER,
        FRAMES_IN_USE_BEFORE,
        FRAMES_IN_USE_AFTER,
        FIRST_CALL_CYCLES,
        ARTIFACT_BYTES,
        ABANDONED_HEAP_BYTES,
        ABANDONED_FRAMES,
        CAMPAIGN_CYCLES,
        CODE_BYTES,
        TIMER_LATENCY_CYCLES,
        TIMER_LATENCY_FIRST_CYCLES,
        TRIAL_ARENA_USED_AFTER,
        TRIAL_ARENA_USED_BEFORE,
        WAST_FAILED,
        WAST_PASSED,
        WAST_UNSUPPORTED,
        STDOUT_BYTES,
        STDERR_BYTES,
    ];
}

/// x86 exception vectors and their mnemonics (Intel SDM vol. 3, table
/// 6-1): the one copy the kernel's records, the analyzer's tables and
/// figures and the conformance table all name vectors by.
pub mod vector {
    pub const DE: u8 = 0x00;
    pub const BP: u8 = 0x03;
    pub const UD: u8 = 0x06;
    pub const DF: u8 = 0x08;
    pub const GP: u8 = 0x0D;
    pub const PF: u8 = 0x0E;

    /// Mnemonics by vector, 0x00–0x1F; reserved vectors are `reserved`.
    const MNEMONICS: [&str; 32] = [
        "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#CSO", "#TS", "#NP", "#SS",
        "#GP", "#PF", "reserved", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP", "reserved", "reserved",
        "reserved", "reserved", "reserved", "reserved", "#HV", "#VC", "#SX", "reserved",
    ];

    /// Intel's mnemonic of exception `vector`, e.g. `#PF`; `vector` for
    /// an interrupt vector (0x20 and up).
    pub fn mnemonic(vector: u8) -> &'static str {
        MNEMONICS
            .get(usize::from(vector))
            .copied()
            .unwrap_or("vector")
    }
}

pub mod signal {
    pub const SIGILL: u8 = 4;
    pub const SIGTRAP: u8 = 5;
    pub const SIGFPE: u8 = 8;
    pub const SIGSEGV: u8 = 11;

    /// The signal Linux delivers for a CPU exception raised in user mode
    /// (its `do_trap`/`exc_*` handlers); `None` for vectors a peer does not
    /// expect to see.
    pub fn for_vector(vector: u8) -> Option<u8> {
        match vector {
            super::vector::DE => Some(SIGFPE),
            super::vector::BP => Some(SIGTRAP),
            super::vector::UD => Some(SIGILL),
            super::vector::GP | super::vector::PF => Some(SIGSEGV),
            _ => None,
        }
    }

    pub fn name(signal: u8) -> &'static str {
        match signal {
            SIGILL => "SIGILL",
            SIGTRAP => "SIGTRAP",
            SIGFPE => "SIGFPE",
            SIGSEGV => "SIGSEGV",
            _ => "signal",
        }
    }
}

/// One record of the stream. Serialized with an internal `type` tag.
#[allow(
    clippy::large_enum_variant,
    reason = "one header per run; boxing it would only complicate construction"
)]
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Record {
    Header(Header),
    Samples(Samples),
    Result(ExperimentResult),
    Metric(Metric),
    Log(Log),
    Fault(Fault),
    Panic(Panic),
    Injection(Injection),
    Progress(Progress),
    End(End),
    Reboot(Reboot),
}

impl Record {
    /// The `type` tag this record is written with.
    pub fn kind(&self) -> &'static str {
        match self {
            Record::Header(_) => "header",
            Record::Samples(_) => "samples",
            Record::Result(_) => "result",
            Record::Metric(_) => "metric",
            Record::Log(_) => "log",
            Record::Fault(_) => "fault",
            Record::Panic(_) => "panic",
            Record::Injection(_) => "injection",
            Record::Progress(_) => "progress",
            Record::End(_) => "end",
            Record::Reboot(_) => "reboot",
        }
    }
}

/// First record of a run: provenance and the plan.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Header {
    /// [`SCHEMA_VERSION`] of the writer.
    pub schema: u32,
    pub kernel: KernelBuild,
    /// Version of the wasmtime crate linked into the kernel.
    pub wasmtime: String,
    pub cpu: Cpu,
    pub tsc: Tsc,
    /// `tcg`, `kvm`, `hyperv`, `other:<vendor>` or `none` (bare metal), from
    /// the CPUID hypervisor leaf.
    pub accel: String,
    /// How the kernel was entered: `pvh` (qemu -kernel), `multiboot2-bios`
    /// or `multiboot2-uefi` (GRUB started by legacy BIOS or UEFI firmware).
    /// Streams from before the split say `multiboot2`, which was always a
    /// BIOS boot; Linux peers say `linux`.
    pub boot: String,
    /// The kernel command line as received from the loader.
    pub cmdline: String,
    pub config: RunConfig,
    /// Fixed cost of one serialized timestamp, in cycles (median of
    /// back-to-back stamp pairs). Stage intervals include it once each.
    pub stamp_overhead_cycles: u64,
    pub memory: Memory,
    /// Every experiment this run will attempt, in order; lets the host show
    /// progress and notice experiments that never reported.
    pub plan: Vec<Planned>,
    /// Which platform ran the experiments ([`Platform::name`]); streams
    /// from before peers existed are the lab kernel's.
    #[serde(default = "lab_kernel")]
    pub platform: String,
    /// The operating system under the peer (`Linux 6.1.0-28-cloud-amd64`),
    /// absent for the lab kernel, which is its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct KernelBuild {
    /// Short git commit the kernel was built from (`unknown` outside git).
    pub commit: String,
    /// Whether the work tree had uncommitted changes at build time.
    pub dirty: bool,
    /// Cargo profile (`release` or `debug`).
    pub profile: String,
    /// Build-time options that change what is measured, e.g.
    /// `dispatch_delay_cycles=0`.
    pub options: Vec<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Cpu {
    pub vendor: String,
    /// Brand string (CPUID 0x80000002..4), trimmed.
    pub model: String,
    pub family: u32,
    pub model_id: u32,
    pub stepping: u32,
    /// Feature flags relevant to the measurements (sse4.1, avx2, invariant_tsc…).
    pub features: Vec<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Tsc {
    /// Timestamp-counter frequency in Hz.
    pub hz: u64,
    /// Where `hz` came from: `cpuid.15h`, `cpuid.16h`, `pit`.
    pub source: String,
    /// CPUID 80000007h:EDX[8]: the TSC ticks at a constant rate.
    pub invariant: bool,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct RunConfig {
    /// Suite name from the suite image manifest.
    pub suite: String,
    /// SHA-256 of the suite image manifest (hex).
    pub suite_sha256: String,
    /// Timed samples per experiment.
    pub samples: u32,
    /// Untimed warm-up iterations per experiment.
    pub warmup: u32,
    /// Measurement mode declared by the launcher (`tcg`, `icount`, `kvm`,
    /// `bare-metal`); the kernel cannot observe icount itself.
    pub mode: String,
    /// QEMU command line as passed by the launcher, if any.
    pub qemu_args: Option<String>,
    /// Test scenario selected on the command line (`none` for a normal run).
    pub test: String,
    /// The CPU profile the suite's code was compiled for (`qemu-max`,
    /// `x86-64-v2`, …: which ISA extensions it may use). Absent for suites
    /// built before profiles, and when no suite loaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_profile: Option<String>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Memory {
    /// Usable RAM reported by the boot loader's memory map.
    pub usable_bytes: u64,
    /// Size of the kernel heap carved out of it.
    pub heap_bytes: u64,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Planned {
    pub experiment: String,
    pub config: String,
    pub samples: u32,
}

/// Unit of the values in a [`Samples`] record.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Cycles,
}

/// A batch of raw samples of one experiment under one configuration.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Samples {
    pub experiment: String,
    pub config: String,
    pub unit: Unit,
    /// Index of the first value of this batch within the experiment.
    pub first: u32,
    /// End-to-end duration of each sample.
    pub total: Vec<u64>,
    /// Per-stage durations for trap experiments (same length as `total`,
    /// named by [`TRAP_STAGES`]); empty for other experiments.
    pub stages: Vec<Stage>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Stage {
    pub name: String,
    pub values: Vec<u64>,
}

#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    Failed,
    Skipped,
}

/// What a trap experiment expects or observed: the wasmtime trap code and the
/// CPU vector that raised it (`None` when no exception is involved, as with
/// explicit checks).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct TrapSignature {
    pub trap: Option<String>,
    pub vector: Option<u8>,
    /// The signal a Linux peer saw instead of a vector (see [`signal`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<u8>,
    /// The signal's `si_code` (observed only; never expected).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub si_code: Option<i32>,
}

impl TrapSignature {
    /// An expectation of a trap code and a CPU vector (no signal).
    pub const fn vector(trap: Option<String>, vector: Option<u8>) -> TrapSignature {
        TrapSignature {
            trap,
            vector,
            signal: None,
            si_code: None,
        }
    }

    /// Whether `observed` meets this expectation: trap code, vector and
    /// signal equal; `si_code` is informational and not compared.
    pub fn admits(&self, observed: &TrapSignature) -> bool {
        self.trap == observed.trap
            && self.vector == observed.vector
            && self.signal == observed.signal
    }
}

/// Verdict of one experiment under one configuration, written after its
/// samples.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct ExperimentResult {
    pub experiment: String,
    pub config: String,
    pub status: Status,
    /// Timed samples written for this experiment.
    pub samples: u32,
    pub expected: Option<TrapSignature>,
    pub observed: Option<TrapSignature>,
    /// Why it failed or was skipped.
    pub message: Option<String>,
}

/// A single named measurement that is not a sample series (heap usage,
/// calibration results, load times).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Metric {
    pub name: String,
    pub value: u64,
    pub unit: String,
    /// What the value belongs to (an experiment, a module, `boot`).
    pub context: String,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Log {
    pub level: String,
    pub message: String,
}

/// What the kernel was doing when a [`Fault`] or [`Panic`] record was
/// written: the experiment and configuration, or the campaign injection in
/// flight, field by field so the host never parses text. Every field is
/// optional; nothing set means `boot`.
///
/// Streams from before this struct carried free text (`boot`,
/// `trap.oob_load signals.bt_off`, `campaign default injection 7 code_patch
/// compute.fib`); such a `during` reads back with only [`During::text`]
/// set, verbatim.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
#[serde(from = "DuringRepr")]
pub struct During {
    /// A phase outside any experiment (`boot`, `jit setup`), or the whole
    /// free-text `during` of an older stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The experiment running (`trap.oob_load`, `campaign.default`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experiment: Option<String>,
    /// Its engine configuration label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<String>,
    /// The campaign (its spec's name) when one is running.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign: Option<String>,
    /// The injection index in flight (absent during the campaign's setup).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub injection: Option<u32>,
    /// That injection's injector (`bit_flip_register`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub injector: Option<String>,
    /// That injection's target workload (`compute.sha256`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// What that injection strikes, once chosen ([`Injection::site`]:
    /// `rsp bit 5`, `text+0x1a4`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
}

impl During {
    /// Nothing known yet (reads as `boot`).
    pub const fn new() -> During {
        During {
            text: None,
            experiment: None,
            config: None,
            campaign: None,
            injection: None,
            injector: None,
            target: None,
            site: None,
        }
    }

    /// A phase outside any experiment.
    pub fn phase(text: &str) -> During {
        During {
            text: Some(String::from(text)),
            ..During::new()
        }
    }

    /// An experiment under a configuration.
    pub fn experiment(experiment: &str, config: &str) -> During {
        During {
            experiment: Some(String::from(experiment)),
            config: Some(String::from(config)),
            ..During::new()
        }
    }

    /// Whether nothing is set.
    pub fn is_empty(&self) -> bool {
        *self == During::new()
    }
}

/// `during` as a human reads it: the old text forms, so messages did not
/// change (`boot`, `trap.oob_load signals.bt_off`, `campaign default
/// injection 7 code_patch compute.fib`).
impl fmt::Display for During {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut words: Vec<&str> = Vec::new();
        if let Some(t) = &self.text {
            words.push(t);
        }
        let index;
        if let Some(c) = &self.campaign {
            words.push("campaign");
            words.push(c);
            match self.injection {
                Some(i) => {
                    index = alloc::format!("{i}");
                    words.push("injection");
                    words.push(&index);
                    words.extend(self.injector.as_deref());
                    words.extend(self.target.as_deref());
                    words.extend(self.site.as_deref());
                }
                None => words.push("setup"),
            }
        } else {
            words.extend(self.experiment.as_deref());
            words.extend(self.config.as_deref());
        }
        if words.is_empty() {
            return f.write_str("boot");
        }
        f.write_str(&words.join(" "))
    }
}

/// Free text, as older streams carried it (see [`During::text`]).
impl From<&str> for During {
    fn from(text: &str) -> During {
        During::phase(text)
    }
}

/// What a `during` field may hold on the wire: today's object, or the
/// free text of older streams.
#[derive(Deserialize)]
#[serde(untagged)]
enum DuringRepr {
    Text(String),
    Fields(DuringFields),
}

#[derive(Deserialize)]
struct DuringFields {
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    experiment: Option<String>,
    #[serde(default)]
    config: Option<String>,
    #[serde(default)]
    campaign: Option<String>,
    #[serde(default)]
    injection: Option<u32>,
    #[serde(default)]
    injector: Option<String>,
    #[serde(default)]
    target: Option<String>,
    #[serde(default)]
    site: Option<String>,
}

impl From<DuringRepr> for During {
    fn from(r: DuringRepr) -> During {
        match r {
            DuringRepr::Text(t) => During::phase(&t),
            DuringRepr::Fields(f) => During {
                text: f.text,
                experiment: f.experiment,
                config: f.config,
                campaign: f.campaign,
                injection: f.injection,
                injector: f.injector,
                target: f.target,
                site: f.site,
            },
        }
    }
}

/// An exception the kernel did not expect (not a wasm trap, not a measured
/// raw exception). The run ends right after it.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Fault {
    pub vector: u8,
    /// Mnemonic such as `#PF`.
    pub exception: String,
    /// Theseus category: `invalid_address`, `illegal_instruction`,
    /// `bus_error`, `arithmetic`, or `other`.
    pub category: String,
    pub rip: u64,
    pub rsp: u64,
    pub error_code: Option<u64>,
    /// Faulting linear address (CR2), for #PF only.
    pub cr2: Option<u64>,
    /// `function+0xoffset` from the kernel's embedded symbol table.
    pub symbol: Option<String>,
    /// What the kernel was doing.
    pub during: During,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Panic {
    pub message: String,
    pub location: Option<String>,
    pub during: During,
    /// The calling frames, innermost first, as `function+0xoffset` (or the
    /// bare address when no symbol covers it), from the kernel's frame
    /// pointers. Absent in runs from kernels that did not report it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub backtrace: Vec<String>,
}

impl Panic {
    /// The first `n` frames of the backtrace outside the panic machinery
    /// (`rust_begin_unwind`, `core::panicking`, `core::option`/`result`
    /// unwraps), joined as `a <- b <- c`: where the panic came from.
    pub fn origin(&self, n: usize) -> Option<String> {
        const MACHINERY: [&str; 5] = [
            "__rustc::rust_begin_unwind",
            "rust_begin_unwind",
            "core::panicking::",
            "core::option::",
            "core::result::",
        ];
        let frames: Vec<&str> = self
            .backtrace
            .iter()
            .map(String::as_str)
            .filter(|f| !MACHINERY.iter().any(|m| f.starts_with(m)))
            .take(n)
            .collect();
        (!frames.is_empty()).then(|| frames.join(" <- "))
    }
}

#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum EndStatus {
    /// Every experiment ran and passed.
    Complete,
    /// The run finished but at least one experiment failed.
    Failed,
    /// An unexpected CPU exception stopped the run.
    Fault,
    /// A Rust panic stopped the run.
    Panic,
}

/// How one fault injection ended (`injectors` classifies; the kernel
/// reports). Exactly one per injection.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// wasmtime claimed the fault as a wasm trap and returned `Err(Trap)`.
    Trapped,
    /// A fault wasmtime did not claim (no trap code at that PC, or a
    /// runtime check that refused the state) was caught by the kernel,
    /// which discarded the instance and lived on.
    Contained,
    /// The call overran its watchdog and was stopped.
    Hang,
    /// The call returned a value other than the golden one.
    Corrupted,
    /// The call returned the golden value.
    Masked,
    /// The kernel itself went down. Never written by the kernel in an
    /// `injection` record (it is dead by then): the host writes it in the
    /// [`Reboot`] record of the boot that resumes the campaign, and the
    /// analyzer assigns a `fault` or `panic` record that ended a run
    /// without a reboot to the injection that was in flight.
    KernelCrash,
}

impl Outcome {
    /// Every outcome, in the order tables list them.
    pub const ALL: [Outcome; 6] = [
        Outcome::Trapped,
        Outcome::Contained,
        Outcome::Hang,
        Outcome::Corrupted,
        Outcome::Masked,
        Outcome::KernelCrash,
    ];

    /// The name used on the wire and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Trapped => "trapped",
            Outcome::Contained => "contained",
            Outcome::Hang => "hang",
            Outcome::Corrupted => "corrupted",
            Outcome::Masked => "masked",
            Outcome::KernelCrash => "kernel_crash",
        }
    }

    /// Whether the fault became visible (everything but `masked`), the
    /// "manifested" column of a Theseus-style fault-injection table.
    pub fn manifested(self) -> bool {
        self != Outcome::Masked
    }
}

/// A fault-injection mechanism: the `kind` of a campaign spec's injector
/// and the `injector` of an [`Injection`] record (`injectors` decides and
/// classifies; the kernel acts).
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum InjectorKind {
    /// Changes nothing: the baseline every other injector is read against.
    Noop,
    /// Unmap a page of the instance's linear memory.
    PageRevoke,
    /// Overwrite an instruction of the compiled code with `ud2`.
    CodePatch,
    /// Zero an entry of the target's divisor table.
    DivisorZero,
    /// Flip one bit of linear memory.
    BitFlipMemory,
    /// Flip one bit of a register of the interrupted wasm code (async).
    BitFlipRegister,
}

impl InjectorKind {
    /// Every injector, in the order tables list them.
    pub const ALL: [InjectorKind; 6] = [
        InjectorKind::Noop,
        InjectorKind::PageRevoke,
        InjectorKind::CodePatch,
        InjectorKind::DivisorZero,
        InjectorKind::BitFlipMemory,
        InjectorKind::BitFlipRegister,
    ];

    /// The name used in specs, on the wire and in reports.
    pub const fn name(self) -> &'static str {
        match self {
            InjectorKind::Noop => "noop",
            InjectorKind::PageRevoke => "page_revoke",
            InjectorKind::CodePatch => "code_patch",
            InjectorKind::DivisorZero => "divisor_zero",
            InjectorKind::BitFlipMemory => "bit_flip_memory",
            InjectorKind::BitFlipRegister => "bit_flip_register",
        }
    }

    /// The injector named `name`.
    pub fn from_name(name: &str) -> Option<InjectorKind> {
        InjectorKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// When an injection fires: the `trigger` of a spec's injector and of an
/// [`Injection`] record.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// Between calls: after `k` clean calls on a fresh instance, before
    /// the observed call.
    Sync,
    /// From a LAPIC timer interrupt at a seeded point inside the observed
    /// call.
    Async,
}

impl Trigger {
    /// Both triggers.
    pub const ALL: [Trigger; 2] = [Trigger::Sync, Trigger::Async];

    /// The name used in specs, on the wire and in reports.
    pub const fn name(self) -> &'static str {
        match self {
            Trigger::Sync => "sync",
            Trigger::Async => "async",
        }
    }

    /// The trigger named `name`.
    pub fn from_name(name: &str) -> Option<Trigger> {
        Trigger::ALL.into_iter().find(|t| t.name() == name)
    }
}

/// One fault injected into a running wasm workload and what came of it.
///
/// Times are TSC cycles. `trap_cycles`: from the exception (or the
/// watchdog's timer interrupt) to the embedder holding the error.
/// `recovery_cycles`: from the exception (or watchdog) to a fresh instance
/// of the target ready to call — discarding the broken one included.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Injection {
    /// Campaign name from its spec.
    pub campaign: String,
    /// 0-based; with the campaign's seed it reproduces this injection.
    pub index: u32,
    /// An [`InjectorKind`] name (text, so a stream from a newer kernel with
    /// an injector this reader lacks still reads).
    pub injector: String,
    /// Workload name, e.g. `compute.sieve`.
    pub target: String,
    /// Engine configuration label, one of [`config::ENGINE`].
    pub config: String,
    /// A [`Trigger`] name.
    pub trigger: String,
    /// Sync: clean calls made on the fresh instance before injecting.
    /// Async: TSC cycles from the start of the call to the timer deadline.
    pub point: u64,
    /// What was changed, e.g. `linear+0x12000`, `text+0x1a4`,
    /// `rdx bit 17`.
    pub site: String,
    /// False when the trigger never went off (an async deadline after the
    /// call had returned); the outcome is then `masked`.
    pub fired: bool,
    pub outcome: Outcome,
    /// wasmtime's trap code (`trapped`).
    pub trap: Option<String>,
    /// The CPU exception the fault raised (`trapped`, `contained`).
    pub vector: Option<u8>,
    /// What the call returned (`masked`, `corrupted`).
    pub result: Option<i64>,
    /// Anything else worth knowing: the faulting PC of a contained fault,
    /// the panic message wasmtime raised, why nothing fired.
    pub detail: Option<String>,
    pub trap_cycles: Option<u64>,
    pub recovery_cycles: Option<u64>,
}

/// What is running, for the host's live line: written when an experiment
/// starts (`done` 0) and, while a slow one runs, about once a second of the
/// platform's clock. Carries no measurement; the analyzer skips it.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Progress {
    pub experiment: String,
    pub config: String,
    /// Iterations finished so far (warm-up and timed).
    pub done: u32,
    /// Iterations the experiment plans (warm-up plus timed samples); it
    /// may stop earlier on its time budget.
    pub planned: u32,
}

/// Written by the host (`traplab-run`), never by a kernel: the kernel of
/// the boot before this record went down during a campaign injection (a
/// fault or panic record, a hang, or QEMU ending without an end record),
/// and the host booted a fresh kernel that resumes the campaign at
/// `resume_at` with the same spec and seed. The records after it are that
/// boot's own stream: a header with seq 0, its own sequence and end record.
/// A reboot record stands outside every boot's sequence (its `seq` is 0).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Reboot {
    /// The boot that follows, counting the first boot of the run as 0.
    pub boot: u32,
    /// The injection in flight when the kernel went down, as the host
    /// records it: outcome [`Outcome::KernelCrash`], `detail` the fault or
    /// panic in words with its symbolized origin (or the hang).
    pub crash: Injection,
    /// `fault`, `panic`, `hang` (no record for the host's hang limit while
    /// an injection was in flight; the host stopped QEMU) or `died` (QEMU
    /// ended by itself without an end record: a triple fault).
    pub cause: String,
    /// Where it went down: the fault's `function+0x…`, the first frame of
    /// the panic's backtrace outside the panic machinery; absent for a hang
    /// or a death without a record.
    pub site: Option<String>,
    /// The next boot runs injections `resume_at..end`.
    pub resume_at: u32,
    pub end: u32,
    /// Wall-clock milliseconds from the crashed boot's last record to the
    /// resumed boot's first injection record: what the reboot cost (noticing
    /// the crash, a new QEMU, the kernel's boot and the campaign's setup).
    /// Absent when the resumed boot never reached an injection.
    pub lost_ms: Option<u64>,
}

/// Last record of a run.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct End {
    pub status: EndStatus,
    /// Records written before this one (so `seq` of this record).
    pub records: u64,
    /// Sample values written, summed over all [`Samples`] records.
    pub samples: u64,
    pub ok: u32,
    pub failed: u32,
    /// Of `failed`, the experiments the kernel (or peer) abandoned after a
    /// panic or an unclaimed fault in wasmtime or the workload, instead of
    /// ending the run (each has a failed `result` naming why). Absent in
    /// streams from before containment: read as 0.
    #[serde(default)]
    pub contained_failures: u32,
}

/// How the kernel ends a run under QEMU: it writes one of these values to
/// the `isa-debug-exit` device (I/O port 0xF4), and QEMU exits with status
/// `(value << 1) | 1`. The end record says the same thing in the stream; the
/// exit status lets a launcher tell outcomes apart without parsing it.
pub mod exit {
    /// Every experiment ran and passed.
    pub const SUCCESS: u32 = 0x10;
    /// The run finished, but an experiment failed its checks.
    pub const FAILURE: u32 = 0x11;
    /// A fault outside wasm code, or a kernel panic.
    pub const KERNEL_FAULT: u32 = 0x12;

    /// The QEMU process exit status a kernel exit value produces.
    pub const fn qemu_status(value: u32) -> i32 {
        ((value << 1) | 1) as i32
    }
}

const SEQ_PREFIX: &str = "{\"seq\":";
const CRC_MARKER: &str = ",\"crc\":\"";

/// Serialize `record` as one framed line (without the trailing newline).
pub fn encode_line(seq: u64, record: &Record) -> String {
    let body = serde_json::to_string(record).expect("records always serialize");
    // `body` is `{"type":…}`; splice `seq` in front and the check at the end.
    let inner = &body[1..body.len() - 1];
    let mut line = String::with_capacity(body.len() + 40);
    line.push_str(SEQ_PREFIX);
    push_u64(&mut line, seq);
    line.push(',');
    line.push_str(inner);
    let crc = crc32fast::hash(line.as_bytes());
    line.push_str(CRC_MARKER);
    push_hex32(&mut line, crc);
    line.push_str("\"}");
    line
}

/// Why a line could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineError {
    /// The line does not start with `{"seq":` (noise, or a damaged start).
    NotARecord,
    /// No `,"crc":"xxxxxxxx"}` at the end: the line was cut short.
    MissingCrc,
    /// The stored check does not match the bytes: corrupted in transit.
    CrcMismatch { stored: u32, computed: u32 },
    /// The bytes are intact but not a record this schema knows.
    Invalid(String),
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LineError::NotARecord => {
                f.write_str("not a record: line does not start with {\"seq\":")
            }
            LineError::MissingCrc => {
                f.write_str("truncated: no ,\"crc\":\"xxxxxxxx\"} at end of line")
            }
            LineError::CrcMismatch { stored, computed } => write!(
                f,
                "corrupted: crc {stored:08x} stored, {computed:08x} computed"
            ),
            LineError::Invalid(why) => write!(f, "invalid record: {why}"),
        }
    }
}

impl core::error::Error for LineError {}

/// A decoded line: its sequence number and record.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    pub seq: u64,
    pub record: Record,
}

/// Where a record starts in a line that may carry noise before it (a real
/// serial link, or boot text without a final newline).
pub fn find_record_start(line: &str) -> Option<usize> {
    line.find(SEQ_PREFIX)
}

/// Check and decode one line (a trailing `\r` or `\n` is ignored).
pub fn decode_line(line: &str) -> Result<Frame, LineError> {
    let line = line.trim_end_matches(['\r', '\n']);
    if !line.starts_with(SEQ_PREFIX) {
        return Err(LineError::NotARecord);
    }
    let (covered, stored) = split_crc(line)?;
    let computed = crc32fast::hash(covered.as_bytes());
    if computed != stored {
        return Err(LineError::CrcMismatch { stored, computed });
    }
    let rest = &covered[SEQ_PREFIX.len()..];
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let seq: u64 = rest[..digits]
        .parse()
        .map_err(|_| LineError::Invalid(String::from("seq is not an unsigned integer")))?;
    let after = &rest[digits..];
    let Some(inner) = after.strip_prefix(',') else {
        return Err(LineError::Invalid(String::from("expected ',' after seq")));
    };
    let mut body = String::with_capacity(inner.len() + 2);
    body.push('{');
    body.push_str(inner);
    body.push('}');
    let record = serde_json::from_str(&body).map_err(|e| {
        let mut why = String::new();
        let _ = fmt::write(&mut why, format_args!("{e}"));
        LineError::Invalid(why)
    })?;
    Ok(Frame { seq, record })
}

/// Locate the check at the end of a line: returns the covered prefix and the
/// stored CRC.
fn split_crc(line: &str) -> Result<(&str, u32), LineError> {
    const TAIL: usize = CRC_MARKER.len() + 8 + 2; // marker, 8 hex digits, `"}`
    if line.len() < SEQ_PREFIX.len() + TAIL || !line.ends_with("\"}") {
        return Err(LineError::MissingCrc);
    }
    let at = line.len() - TAIL;
    if !line.is_char_boundary(at) || !line[at..].starts_with(CRC_MARKER) {
        return Err(LineError::MissingCrc);
    }
    let hex = &line[at + CRC_MARKER.len()..line.len() - 2];
    let stored = u32::from_str_radix(hex, 16).map_err(|_| LineError::MissingCrc)?;
    Ok((&line[..at], stored))
}

fn push_u64(out: &mut String, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    // The buffer holds ASCII digits only.
    out.push_str(core::str::from_utf8(&buf[i..]).unwrap_or("0"));
}

fn push_hex32(out: &mut String, v: u32) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for shift in (0..8).rev() {
        out.push(HEX[((v >> (shift * 4)) & 0xf) as usize] as char);
    }
}

/// Follows the sequence numbers of a stream and names what is wrong with
/// them. It does not judge record contents.
#[derive(Debug, Default, Clone)]
pub struct SequenceTracker {
    /// Newest sequence number seen so far.
    newest: Option<u64>,
}

/// A problem with the order of records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SequenceProblem {
    /// Records `expected..got` never arrived (lost or corrupted lines).
    Gap { expected: u64, got: u64 },
    /// `seq` was already seen or is older than the newest seen.
    Repeated { seq: u64, expected: u64 },
}

impl fmt::Display for SequenceProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            SequenceProblem::Gap { expected, got } if got == expected + 1 => {
                write!(f, "gap: record {expected} is missing")
            }
            SequenceProblem::Gap { expected, got } => {
                write!(f, "gap: records {expected}..={} are missing", got - 1)
            }
            SequenceProblem::Repeated { seq, expected } => {
                write!(
                    f,
                    "out of order or duplicate: seq {seq}, expected {expected}"
                )
            }
        }
    }
}

impl SequenceTracker {
    pub fn new() -> Self {
        Self::default()
    }

    /// Account for a record with sequence number `seq`. A gap still advances
    /// the expectation past `seq`; a repeat does not.
    pub fn observe(&mut self, seq: u64) -> Result<(), SequenceProblem> {
        let expected = self.expected();
        if let Some(newest) = self.newest
            && seq <= newest
        {
            return Err(SequenceProblem::Repeated { seq, expected });
        }
        self.newest = Some(seq);
        if seq > expected {
            return Err(SequenceProblem::Gap { expected, got: seq });
        }
        Ok(())
    }

    /// The sequence number the next record should carry.
    pub fn expected(&self) -> u64 {
        self.newest.map_or(0, |n| n.saturating_add(1))
    }
}

#[cfg(test)]
mod tests;
