//! Run options, the same words on every platform: the lab kernel reads
//! them from its command line (`qemu -append`, GRUB's `multiboot2` line),
//! a Linux peer from its arguments (or, as `/init` of a guest, from the
//! part of `/proc/cmdline` after ` -- `). Space-separated `key=value`,
//! values optionally in double quotes. Unknown keys and bad values are
//! reported, never ignored.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use traplab_suite::EngineVariant;

/// Deliberate failures for the test suite, selected with `test=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestScenario {
    None,
    /// Dereference an unmapped address in kernel code after the header.
    KernelFault,
    /// Write into the kernel's own code, which must be read-only.
    CodeWrite,
    /// Panic after the header.
    Panic,
}

#[derive(Debug, Clone)]
pub struct Options {
    /// Timed samples per experiment (`samples=`).
    pub samples: u32,
    /// Untimed iterations before them (`warmup=`).
    pub warmup: u32,
    /// Timed calls per compute workload (`compute_samples=`): each call runs
    /// millions of instructions, so fewer samples give a stable median.
    pub compute_samples: u32,
    /// Measurement mode declared by the launcher (`mode=`).
    pub mode: String,
    /// The launcher's QEMU command line (`qemu="…"`).
    pub qemu_args: Option<String>,
    pub test: TestScenario,
    /// Traps in the heap-stability check (`heap_traps=`, 0 = skip).
    pub heap_traps: u32,
    /// Engine configurations to run the wasm workloads under (`configs=`).
    pub variants: Vec<EngineVariant>,
    /// Run only experiments whose name starts with this (`only=`).
    pub only: Option<String>,
    /// Campaign injections to run, `[first, end)` (`injections=A..B`, or
    /// `injections=A` for one): replays part of a campaign exactly, since
    /// an injection depends only on the spec and its index.
    pub injections: Option<(u32, u32)>,
    /// Test only (`crash_at=N`): the kernel panics, outside any
    /// containment, when campaign injection N starts — a known kernel
    /// crash for the host's reboot-and-resume.
    pub crash_at: Option<u32>,
    /// Test only (`hang_at=N`): the kernel stops with interrupts masked
    /// when campaign injection N starts — a known kernel hang.
    pub hang_at: Option<u32>,
    /// Test only (`wild_write_at=N`): during campaign injection N's
    /// observed call, just before the wasm call, the trial stores to a
    /// block on the kernel heap, as a store through a flipped register
    /// could: under trial isolation a contained fault, without it a
    /// changed block (the injection's detail says which).
    pub wild_write_at: Option<u32>,
    /// Time budget per experiment and configuration in milliseconds of the
    /// platform's clock (`budget_ms=`, 0 = none): once spent, the
    /// experiment stops after its current iteration, skipping the rest of
    /// its warm-up, but always takes at least one timed sample (see
    /// [`crate::pace`]).
    pub budget_ms: u64,
    /// The experiment that gets one profiled call after its samples
    /// (`profile=EXPERIMENT[:CONFIG]`, see [`crate::profile`]).
    pub profile: Option<crate::profile::ProfileSpec>,
}

/// Every variant but explicit checks with backtraces (`EngineVariant::ALL`
/// orders them so).
pub const DEFAULT_VARIANTS: [EngineVariant; 3] = [
    EngineVariant::ALL[0],
    EngineVariant::ALL[1],
    EngineVariant::ALL[2],
];

impl Default for Options {
    fn default() -> Self {
        Options {
            samples: 1000,
            warmup: 50,
            compute_samples: 30,
            mode: String::from("unknown"),
            qemu_args: None,
            test: TestScenario::None,
            heap_traps: 0,
            variants: DEFAULT_VARIANTS.to_vec(),
            only: None,
            injections: None,
            crash_at: None,
            hang_at: None,
            wild_write_at: None,
            budget_ms: 0,
            profile: None,
        }
    }
}

impl Options {
    /// Whether the experiment `name` is selected (`only=` prefix).
    pub fn selects(&self, name: &str) -> bool {
        self.only
            .as_deref()
            .is_none_or(|prefix| name.starts_with(prefix))
    }
}

fn variant(label: &str) -> Option<EngineVariant> {
    EngineVariant::from_label(label)
}

/// Split into `key=value` pairs, honouring double quotes in values.
fn pairs(line: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            return out;
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c.is_whitespace() {
                break;
            }
            key.push(c);
            chars.next();
        }
        let mut value = String::new();
        if chars.peek() == Some(&'=') {
            chars.next();
            if chars.peek() == Some(&'"') {
                chars.next();
                for c in chars.by_ref() {
                    if c == '"' {
                        break;
                    }
                    value.push(c);
                }
            } else {
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() {
                        break;
                    }
                    value.push(c);
                    chars.next();
                }
            }
        }
        out.push((key, value));
    }
}

/// Parse the command line. Returns the options and one message per
/// problem (unknown key, bad value); problems leave the default in place.
pub fn parse(line: &str) -> (Options, Vec<String>) {
    let mut opts = Options::default();
    let mut problems = Vec::new();
    for (key, value) in pairs(line) {
        let number = |problems: &mut Vec<String>| match value.parse::<u32>() {
            Ok(n) => Some(n),
            Err(_) => {
                problems.push(format!("{key}={value}: not an unsigned integer"));
                None
            }
        };
        // A count that must measure something: 0 is refused, never
        // replaced by the default in silence.
        let count = |problems: &mut Vec<String>| {
            number(problems).filter(|&n| {
                if n == 0 {
                    problems.push(format!("{key}=0: must be at least 1"));
                }
                n > 0
            })
        };
        match key.as_str() {
            "samples" => opts.samples = count(&mut problems).unwrap_or(opts.samples),
            "warmup" => opts.warmup = number(&mut problems).unwrap_or(opts.warmup),
            "compute_samples" => {
                opts.compute_samples = count(&mut problems).unwrap_or(opts.compute_samples)
            }
            "heap_traps" => opts.heap_traps = number(&mut problems).unwrap_or(opts.heap_traps),
            "budget_ms" => opts.budget_ms = number(&mut problems).map_or(opts.budget_ms, u64::from),
            "mode" => opts.mode = value,
            "qemu" => opts.qemu_args = Some(value),
            "only" => opts.only = Some(value),
            "crash_at" => opts.crash_at = number(&mut problems),
            "hang_at" => opts.hang_at = number(&mut problems),
            "wild_write_at" => opts.wild_write_at = number(&mut problems),
            "profile" => match crate::profile::ProfileSpec::parse(&value) {
                Some(spec) => opts.profile = Some(spec),
                None => problems.push(format!(
                    "profile={value}: expected EXPERIMENT or EXPERIMENT:CONFIG"
                )),
            },
            "injections" => {
                let range = match value.split_once("..") {
                    Some((a, b)) => a.parse::<u32>().ok().zip(b.parse::<u32>().ok()),
                    None => value.parse::<u32>().ok().map(|a| (a, a.saturating_add(1))),
                };
                match range {
                    Some((a, b)) if a < b => opts.injections = Some((a, b)),
                    _ => problems.push(format!(
                        "injections={value}: expected A..B (A < B) or one index"
                    )),
                }
            }
            "test" => match value.as_str() {
                "none" => opts.test = TestScenario::None,
                "kernel_fault" => opts.test = TestScenario::KernelFault,
                "code_write" => opts.test = TestScenario::CodeWrite,
                "panic" => opts.test = TestScenario::Panic,
                _ => problems.push(format!(
                    "test={value}: expected none, kernel_fault, code_write or panic"
                )),
            },
            "configs" => {
                let parsed: Option<Vec<_>> = value.split(',').map(variant).collect();
                match parsed {
                    Some(v) if !v.is_empty() => opts.variants = v,
                    _ => problems.push(format!(
                        "configs={value}: expected a comma-separated list of signals.bt_off, signals.bt_on, explicit.bt_off, explicit.bt_on"
                    )),
                }
            }
            _ => problems.push(format!("{key}: unknown boot option")),
        }
    }
    (opts, problems)
}

impl TestScenario {
    pub fn name(self) -> String {
        match self {
            TestScenario::None => "none",
            TestScenario::KernelFault => "kernel_fault",
            TestScenario::CodeWrite => "code_write",
            TestScenario::Panic => "panic",
        }
        .to_string()
    }
}

/// When `only=` selects nothing in `plan`, the problem to report, naming
/// what the run could have selected (`everything`: the plan without
/// `only=`), so a typo ends as a setup failure instead of a run that
/// "passed" having measured nothing.
pub fn unmatched_selection(
    opts: &Options,
    plan: &[traplab_wire::Planned],
    everything: &[traplab_wire::Planned],
) -> Option<String> {
    let only = opts.only.as_deref()?;
    if !plan.is_empty() {
        return None;
    }
    let mut names: Vec<&str> = Vec::new();
    for p in everything {
        if !names.contains(&p.experiment.as_str()) {
            names.push(&p.experiment);
        }
    }
    Some(format!(
        "only={only} selects no experiment; this run has: {}",
        names.join(", ")
    ))
}
