//! The JIT-performance view of a run: how fast the code Cranelift produced
//! runs in the kernel next to its native twin, what explicit bounds checks
//! cost on the hot path and at which trap rate they start to pay, how fast
//! the kernel's own Cranelift compiles and traps. Pure: a [`Run`] in, a
//! [`JitView`] out, in cycles; [`render`] turns it into the one
//! serializable tree every format is rendered from. (How the `.wast`
//! conformance scripts fared is another view: [`crate::wast`].)
//!
//! # What it reads
//!
//! - `compute.<name>` series under `signals.bt_off` (the wasm figure: S),
//!   `explicit.bt_off` (X) and `native` (the same Rust compiled into the
//!   kernel: N), and metrics with context `"compute.<name> <config>"`:
//!   `host_compile_ns`, `host_code_bytes`, `host_trap_sites`,
//!   `artifact_bytes`, `verify_cycles`, `deserialize_cycles`,
//!   `instantiate_cycles`, `first_call_cycles` for wasm configurations and
//!   `soft_float` for the native one. Any of them may be missing (older
//!   kernels, damaged runs); the view shows what is there.
//! - `trap.oob_load` under `signals.bt_off` and `explicit.bt_off`: the cost
//!   of one trap each way (Tsig, Texp).
//! - `jit.compile.nN` / `jit.exec.nN` (config `cranelift`) with metrics
//!   `cycles_per_clif_inst` and `code_bytes` (context `jit.compile.nN`), and
//!   `jit.trap.<kind>` beside the raw floors `raw.<kind>` (config `ring0`).
//!
//! Every figure is a p50 (HdrHistogram, as in `summary`); ratios are ratios
//! of those p50s, with a 99 % percentile-bootstrap interval of the ratio of
//! medians (exact, zero width, in deterministic modes) for the figure and
//! JSON.
//!
//! # wasm/native and its geometric mean
//!
//! `wasm/native = S / N`. The kernel target is soft-float, so a native twin
//! that uses floating point runs with software floats while its wasm
//! version uses SSE: its ratio measures the float emulation, not
//! Cranelift's code. Such twins report `soft_float = 1`; the headline
//! geomean is over the *integer* workloads (`soft_float = 0`) only, and a
//! second geomean over all workloads is given and labelled as such.
//! Workloads without a `soft_float` metric count in "all" only.
//!
//! # Break-even trap rate
//!
//! Explicit checks make every call dearer; signals-based traps make every
//! trap dearer. Per call of a workload, with trap probability `p`:
//!
//! ```text
//! cost_signals  = S + p · Tsig
//! cost_explicit = X + p · Texp
//! equal when  p* = (X − S) / (Tsig − Texp)      [traps per call]
//! ```
//!
//! where S, X are the workload's p50 per call under signals and explicit
//! checks and Tsig, Texp the p50 round trip of `trap.oob_load` (an
//! out-of-bounds load: #PF on a guard page vs a software bounds check)
//! under `signals.bt_off` and `explicit.bt_off`. Above `p*` explicit checks
//! win. As a rate: the code runs `tsc_hz / S` calls per second, so the
//! break-even is `p* · tsc_hz / S` traps per second — the trap rate, across
//! the whole system while this code runs, above which switching to explicit
//! checks pays. (A trap ends its call, so one call cannot trap `p* > 1`
//! times; the per-second figure is the one to read.) There is no break-even
//! ("never") when `X ≤ S` (explicit checks are not slower: they win at any
//! rate) or when `Tsig ≤ Texp` (signal traps are not dearer: signals win at
//! any rate).
//!
//! # In-kernel Cranelift
//!
//! Per generated-function size N: compile p50, the kernel's
//! `cycles_per_clif_inst` (compile p50 / N when the metric is missing),
//! code bytes and the p50 of running the function. Faults in JIT code are
//! shown beside the raw exception of the same kind (`raw.pf`, `raw.ud`,
//! `raw.de`): the wasm-free floor.

pub mod render;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use traplab_wire::{config, metric};

use serde::Serialize;

use crate::ingest::{Run, Series};
use crate::stats::{
    BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED, IntervalMethod, describe, ratio_of_medians,
};

/// The wasm configuration whose numbers are "the wasm figure".
pub const SIGNALS: &str = config::SIGNALS_BT_OFF;
/// Explicit bounds checks, no exceptions: the software baseline.
pub const EXPLICIT: &str = config::EXPLICIT_BT_OFF;
/// The trap experiment whose round trips price one trap each way.
pub const TRAP_COST_EXPERIMENT: &str = "trap.oob_load";
/// Confidence of the ratio intervals.
pub const CONFIDENCE: f64 = 0.99;

const COMPUTE: &str = "compute.";
const JIT_COMPILE: &str = "jit.compile.n";
const JIT_EXEC: &str = "jit.exec.n";
const JIT_TRAP: &str = "jit.trap.";

/// p50 and sample count of one series, cycles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    pub n: usize,
    pub p50: u64,
}

/// A ratio of p50s with the bootstrap interval of the ratio of medians.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ratio {
    pub value: f64,
    pub low: f64,
    pub high: f64,
}

/// What loading one workload's module under one configuration cost, from
/// the metrics (each `None` when not reported).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Load {
    pub config: String,
    pub host_compile_ns: Option<u64>,
    pub host_code_bytes: Option<u64>,
    pub host_trap_sites: Option<u64>,
    pub artifact_bytes: Option<u64>,
    pub verify_cycles: Option<u64>,
    pub deserialize_cycles: Option<u64>,
    pub instantiate_cycles: Option<u64>,
    pub first_call_cycles: Option<u64>,
    /// The workload's p50 per call under this configuration, when it has
    /// samples there.
    pub timing: Option<Timing>,
}

impl Load {
    fn has_metrics(&self) -> bool {
        [
            self.host_compile_ns,
            self.host_code_bytes,
            self.host_trap_sites,
            self.artifact_bytes,
            self.verify_cycles,
            self.deserialize_cycles,
            self.instantiate_cycles,
            self.first_call_cycles,
        ]
        .iter()
        .any(Option::is_some)
    }

    fn host_facts(&self) -> Option<(u64, u64, u64)> {
        Some((
            self.host_compile_ns?,
            self.host_code_bytes?,
            self.host_trap_sites?,
        ))
    }
}

/// One compute workload.
#[derive(Debug, Clone, PartialEq)]
pub struct Workload {
    /// Without the `compute.` prefix.
    pub name: String,
    pub signals: Option<Timing>,
    pub explicit: Option<Timing>,
    pub native: Option<Timing>,
    /// S / N.
    pub wasm_native: Option<Ratio>,
    /// X / S.
    pub explicit_signals: Option<Ratio>,
    /// From the native twin's `soft_float` metric.
    pub soft_float: Option<bool>,
    /// One per wasm configuration that has samples or metrics, signals first.
    pub loads: Vec<Load>,
}

impl Workload {
    pub fn load(&self, config: &str) -> Option<&Load> {
        self.loads.iter().find(|l| l.config == config)
    }
}

/// A geometric mean of per-workload ratios and the workloads it covers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GeoValue {
    #[serde(serialize_with = "crate::view::ser_round4")]
    pub value: f64,
    pub workloads: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Geomean {
    /// wasm/native over workloads whose twin uses hardware floats or none
    /// (`soft_float = 0`): the headline figure.
    pub wasm_native_integer: Option<GeoValue>,
    /// wasm/native over every workload with both figures.
    pub wasm_native_all: Option<GeoValue>,
    /// explicit/signals over every workload with both figures.
    pub explicit_signals_all: Option<GeoValue>,
    /// Workloads with a wasm/native ratio (the denominator of "all").
    #[serde(skip)]
    pub with_ratio: usize,
}

/// The price of one trap with and without signals.
#[derive(Debug, Clone, PartialEq)]
pub struct TrapCost {
    pub experiment: String,
    /// Tsig: p50 round trip under `signals.bt_off`.
    pub signals_p50: u64,
    /// Texp: p50 round trip under `explicit.bt_off`.
    pub explicit_p50: u64,
}

impl TrapCost {
    /// Tsig − Texp: what one trap costs more with signals (may be ≤ 0).
    pub fn extra_per_trap(&self) -> f64 {
        self.signals_p50 as f64 - self.explicit_p50 as f64
    }
}

/// Where explicit checks start to win, if anywhere.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Crossover {
    At {
        traps_per_call: f64,
        /// `None` without a TSC frequency.
        traps_per_second: Option<f64>,
    },
    /// X ≤ S: explicit checks are not slower, so they win at any trap rate.
    ExplicitNotSlower,
    /// Tsig ≤ Texp while X > S: signals win at any trap rate.
    SignalTrapsNotDearer,
}

impl Crossover {
    pub fn is_never(self) -> bool {
        !matches!(self, Crossover::At { .. })
    }

    /// Why there is no break-even, for tables and JSON.
    pub fn never_reason(self) -> Option<&'static str> {
        match self {
            Crossover::At { .. } => None,
            Crossover::ExplicitNotSlower => Some("explicit_not_slower"),
            Crossover::SignalTrapsNotDearer => Some("signal_traps_not_dearer"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct BreakEven {
    pub workload: String,
    /// S, cycles.
    pub signals_p50: u64,
    /// X, cycles.
    pub explicit_p50: u64,
    pub crossover: Crossover,
}

impl BreakEven {
    /// X − S: what explicit checks cost per call (may be ≤ 0).
    pub fn extra_per_call(&self) -> f64 {
        self.explicit_p50 as f64 - self.signals_p50 as f64
    }
}

/// One generated-function size of the in-kernel Cranelift experiments.
#[derive(Debug, Clone, PartialEq)]
pub struct JitSize {
    /// CLIF instructions in the generated function.
    pub n: u64,
    pub compile: Option<Timing>,
    /// The kernel's `cycles_per_clif_inst`, or compile p50 / N.
    pub per_clif_inst: Option<f64>,
    /// Whether `per_clif_inst` was derived because the metric was missing.
    pub per_clif_inst_derived: bool,
    pub code_bytes: Option<u64>,
    pub exec: Option<Timing>,
}

/// A fault in kernel-JIT-compiled code beside the raw exception floor.
#[derive(Debug, Clone, PartialEq)]
pub struct JitFault {
    /// `pf`, `ud`, `de`.
    pub kind: String,
    pub vector: Option<u8>,
    pub jit: Option<Timing>,
    /// `raw.<kind>`.
    pub raw_experiment: String,
    pub raw: Option<Timing>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cranelift {
    pub sizes: Vec<JitSize>,
    pub faults: Vec<JitFault>,
}

/// Everything the `jit` command shows, in cycles.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JitView {
    pub compute: Vec<Workload>,
    pub geomean: Geomean,
    pub trap_cost: Option<TrapCost>,
    pub break_even: Vec<BreakEven>,
    /// `None` when the run has no `jit.*` series.
    pub cranelift: Option<Cranelift>,
    /// Observations worth a reader's attention (odd ratios, shared modules,
    /// missing metrics), in the order the sections appear.
    pub notes: Vec<String>,
}

impl JitView {
    /// Whether the run holds any JIT-performance data at all.
    pub fn is_empty(&self) -> bool {
        self.compute.is_empty() && self.cranelift.is_none()
    }
}

/// Metrics by (name, context); the last report wins, as a re-sent record
/// would.
struct Metrics<'a>(HashMap<(&'a str, &'a str), u64>);

impl<'a> Metrics<'a> {
    fn of(run: &'a Run) -> Self {
        Metrics(
            run.metrics
                .iter()
                .map(|m| ((m.name.as_str(), m.context.as_str()), m.value))
                .collect(),
        )
    }

    fn get(&self, name: &str, context: &str) -> Option<u64> {
        self.0.get(&(name, context)).copied()
    }
}

fn timing(s: Option<&Series>) -> Option<Timing> {
    let d = describe(&s?.total)?;
    Some(Timing { n: d.n, p50: d.p50 })
}

/// `cand / base` of the p50s with the interval of the ratio of medians;
/// `None` unless both sides have samples and positive p50s. Takes the
/// timings already computed: a percentile histogram of large values is
/// not free.
fn ratio(
    base: (Option<&Series>, Option<Timing>),
    cand: (Option<&Series>, Option<Timing>),
    method: IntervalMethod,
) -> Option<Ratio> {
    let (b, tb) = (base.0?, base.1?);
    let (c, tc) = (cand.0?, cand.1?);
    if tb.p50 == 0 || tc.p50 == 0 {
        return None;
    }
    let value = tc.p50 as f64 / tb.p50 as f64;
    if method == IntervalMethod::Exact {
        return Some(Ratio {
            value,
            low: value,
            high: value,
        });
    }
    let ci = ratio_of_medians(
        &b.total,
        &c.total,
        CONFIDENCE,
        method,
        BOOTSTRAP_RESAMPLES,
        BOOTSTRAP_SEED,
    )?;
    Some(Ratio {
        value,
        low: ci.low,
        high: ci.high,
    })
}

/// Geometric mean of positive finite values.
pub fn geomean(values: &[f64]) -> Option<f64> {
    let v: Vec<f64> = values
        .iter()
        .copied()
        .filter(|x| x.is_finite() && *x > 0.0)
        .collect();
    if v.is_empty() {
        return None;
    }
    Some((v.iter().map(|x| x.ln()).sum::<f64>() / v.len() as f64).exp())
}

/// Break-even of one workload; see the module docs for the formula.
pub fn crossover(s: u64, x: u64, cost: &TrapCost, tsc_hz: Option<u64>) -> Crossover {
    if x <= s {
        return Crossover::ExplicitNotSlower;
    }
    let per_trap = cost.extra_per_trap();
    if per_trap <= 0.0 {
        return Crossover::SignalTrapsNotDearer;
    }
    let traps_per_call = (x - s) as f64 / per_trap;
    Crossover::At {
        traps_per_call,
        traps_per_second: tsc_hz
            .filter(|_| s > 0)
            .map(|hz| traps_per_call * hz as f64 / s as f64),
    }
}

/// Names joined for notes: `a, b and c`.
fn list(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// Build the view of `run`.
pub fn analyze(run: &Run) -> JitView {
    let metrics = Metrics::of(run);
    let method = if run.mode().is_deterministic() {
        IntervalMethod::Exact
    } else {
        IntervalMethod::Bootstrap
    };
    let mut view = JitView::default();
    compute(run, &metrics, method, &mut view);
    break_even(run, &mut view);
    view.cranelift = cranelift(run, &metrics);
    if run
        .series
        .iter()
        .any(|s| crate::wast::is_wast(&s.experiment))
    {
        view.notes
            .push("this run's .wast conformance results are in `traplab wast`".to_string());
    }
    view
}

fn compute(run: &Run, metrics: &Metrics, method: IntervalMethod, view: &mut JitView) {
    let mut names: Vec<&str> = Vec::new();
    for s in &run.series {
        if let Some(name) = s.experiment.strip_prefix(COMPUTE)
            && !names.contains(&name)
        {
            names.push(name);
        }
    }
    for name in names {
        let experiment = format!("{COMPUTE}{name}");
        let find = |config: &str| run.find(&experiment, config);
        // Wasm configurations: every non-native one with samples or load
        // metrics, signals first.
        let mut configs: Vec<&str> = vec![SIGNALS, EXPLICIT];
        for s in run.series.iter().filter(|s| s.experiment == experiment) {
            if s.config != config::NATIVE && !configs.contains(&s.config.as_str()) {
                configs.push(&s.config);
            }
        }
        let loads: Vec<Load> = configs
            .iter()
            .map(|config| {
                let context = format!("{experiment} {config}");
                let m = |n: &str| metrics.get(n, &context);
                Load {
                    config: config.to_string(),
                    host_compile_ns: m(metric::HOST_COMPILE_NS),
                    host_code_bytes: m(metric::HOST_CODE_BYTES),
                    host_trap_sites: m(metric::HOST_TRAP_SITES),
                    artifact_bytes: m(metric::ARTIFACT_BYTES),
                    verify_cycles: m(metric::VERIFY_CYCLES),
                    deserialize_cycles: m(metric::DESERIALIZE_CYCLES),
                    instantiate_cycles: m(metric::INSTANTIATE_CYCLES),
                    first_call_cycles: m(metric::FIRST_CALL_CYCLES),
                    timing: timing(find(config)),
                }
            })
            .filter(|l| find(&l.config).is_some() || l.has_metrics())
            .collect();
        let [s, x, n] = [SIGNALS, EXPLICIT, config::NATIVE].map(|c| (find(c), timing(find(c))));
        view.compute.push(Workload {
            name: name.to_string(),
            signals: s.1,
            explicit: x.1,
            native: n.1,
            wasm_native: ratio(n, s, method),
            explicit_signals: ratio(s, x, method),
            soft_float: metrics
                .get(
                    metric::SOFT_FLOAT,
                    &format!("{experiment} {}", config::NATIVE),
                )
                .map(|v| v != 0),
            loads,
        });
    }
    let geo = |pick: &dyn Fn(&Workload) -> Option<f64>| {
        let (names, values): (Vec<String>, Vec<f64>) = view
            .compute
            .iter()
            .filter_map(|w| Some((w.name.clone(), pick(w)?)))
            .filter(|(_, v)| v.is_finite() && *v > 0.0)
            .unzip();
        geomean(&values).map(|value| GeoValue {
            value,
            workloads: names,
        })
    };
    view.geomean = Geomean {
        wasm_native_integer: geo(&|w| {
            (w.soft_float == Some(false))
                .then_some(w.wasm_native)
                .flatten()
                .map(|r| r.value)
        }),
        wasm_native_all: geo(&|w| w.wasm_native.map(|r| r.value)),
        explicit_signals_all: geo(&|w| w.explicit_signals.map(|r| r.value)),
        with_ratio: view
            .compute
            .iter()
            .filter(|w| w.wasm_native.is_some())
            .count(),
    };
    compute_notes(run, view);
}

fn compute_notes(run: &Run, view: &mut JitView) {
    let names = |f: &dyn Fn(&Workload) -> bool| -> Vec<String> {
        view.compute
            .iter()
            .filter(|w| f(w))
            .map(|w| w.name.clone())
            .collect()
    };
    let with_ratio = |f: &dyn Fn(&Workload) -> Option<Ratio>| -> Vec<String> {
        view.compute
            .iter()
            .filter_map(|w| {
                f(w).filter(|r| r.value < 1.0)
                    .map(|r| format!("{} ({:.3})", w.name, r.value))
            })
            .collect()
    };
    let mut notes = Vec::new();
    let soft = names(&|w| w.soft_float == Some(true));
    if !soft.is_empty() {
        notes.push(format!(
            "soft-float native twins: {} (the kernel target is soft-float); their wasm/native ratio measures float emulation, not Cranelift's code, and is left out of the integer geomean",
            list(&soft)
        ));
    }
    let unknown = names(&|w| w.native.is_some() && w.soft_float.is_none());
    if !unknown.is_empty() {
        notes.push(format!(
            "no soft_float metric for {}: counted in the all-workloads geomean only",
            list(&unknown)
        ));
    }
    let faster = with_ratio(&|w| w.wasm_native.filter(|_| w.soft_float != Some(true)));
    if !faster.is_empty() {
        notes.push(format!(
            "wasm faster than its native twin (not soft-float): {}",
            list(&faster)
        ));
    }
    let explicit_faster = with_ratio(&|w| w.explicit_signals);
    if !explicit_faster.is_empty() {
        let why = if run.mode().is_deterministic() {
            ""
        } else {
            "; an icount run, which counts instructions executed, tells whether the code or the machine (or emulator) makes it so"
        };
        notes.push(format!(
            "explicit checks faster than signals: {}{why}",
            list(&explicit_faster)
        ));
    }
    // Workloads built into one module share its host compile facts; say so
    // rather than let a reader sum them.
    let mut configs: Vec<&str> = Vec::new();
    for w in &view.compute {
        for l in &w.loads {
            if !configs.contains(&l.config.as_str()) {
                configs.push(&l.config);
            }
        }
    }
    for config in configs {
        let facts: Vec<(u64, u64, u64)> = view
            .compute
            .iter()
            .filter_map(|w| w.load(config)?.host_facts())
            .collect();
        if facts.len() >= 2 && facts.iter().all(|f| *f == facts[0]) {
            notes.push(format!(
                "host compile time, code bytes and trap sites are identical for all {} workloads under {config}: they share one module, so these describe the module, not each workload",
                facts.len()
            ));
        }
    }
    let no_host =
        names(&|w| !w.loads.is_empty() && w.loads.iter().all(|l| l.host_facts().is_none()));
    if !no_host.is_empty() {
        notes.push(format!(
            "no host compile metrics (host_compile_ns, host_code_bytes, host_trap_sites) for {}",
            list(&no_host)
        ));
    }
    view.notes.extend(notes);
}

fn break_even(run: &Run, view: &mut JitView) {
    let t = |config| timing(run.find(TRAP_COST_EXPERIMENT, config));
    view.trap_cost = match (t(SIGNALS), t(EXPLICIT)) {
        (Some(sig), Some(exp)) => Some(TrapCost {
            experiment: TRAP_COST_EXPERIMENT.into(),
            signals_p50: sig.p50,
            explicit_p50: exp.p50,
        }),
        _ => None,
    };
    let Some(cost) = &view.trap_cost else {
        if view
            .compute
            .iter()
            .any(|w| w.signals.is_some() && w.explicit.is_some())
        {
            view.notes.push(format!(
                "no break-even trap rates: {TRAP_COST_EXPERIMENT} has no samples under {SIGNALS} and {EXPLICIT}"
            ));
        }
        return;
    };
    for w in &view.compute {
        if let (Some(s), Some(x)) = (w.signals, w.explicit) {
            view.break_even.push(BreakEven {
                workload: w.name.clone(),
                signals_p50: s.p50,
                explicit_p50: x.p50,
                crossover: crossover(s.p50, x.p50, cost, run.tsc_hz()),
            });
        }
    }
}

fn cranelift(run: &Run, metrics: &Metrics) -> Option<Cranelift> {
    let mut sizes: Vec<u64> = Vec::new();
    for s in &run.series {
        let n = s
            .experiment
            .strip_prefix(JIT_COMPILE)
            .or_else(|| s.experiment.strip_prefix(JIT_EXEC))
            .and_then(|n| n.parse::<u64>().ok());
        if let Some(n) = n
            && !sizes.contains(&n)
        {
            sizes.push(n);
        }
    }
    sizes.sort_unstable();
    let mut kinds: Vec<&str> = Vec::new();
    for s in &run.series {
        if let Some(k) = s.experiment.strip_prefix(JIT_TRAP)
            && !kinds.contains(&k)
        {
            kinds.push(k);
        }
    }
    if sizes.is_empty() && kinds.is_empty() {
        return None;
    }
    // Config-agnostic: the kernel uses `cranelift`, but any config works.
    let first = |experiment: &str| run.series.iter().find(|s| s.experiment == experiment);
    let sizes = sizes
        .into_iter()
        .map(|n| {
            let compile_name = format!("{JIT_COMPILE}{n}");
            let compile = timing(first(&compile_name));
            let reported = metrics.get("cycles_per_clif_inst", &compile_name);
            let derived = compile
                .filter(|_| reported.is_none() && n > 0)
                .map(|c| c.p50 as f64 / n as f64);
            JitSize {
                n,
                compile,
                per_clif_inst: reported.map(|v| v as f64).or(derived),
                per_clif_inst_derived: derived.is_some(),
                code_bytes: metrics.get(metric::CODE_BYTES, &compile_name),
                exec: timing(first(&format!("{JIT_EXEC}{n}"))),
            }
        })
        .collect();
    let faults = kinds
        .into_iter()
        .map(|kind| {
            let jit = first(&format!("{JIT_TRAP}{kind}"));
            let raw_experiment = format!("raw.{kind}");
            let vector = jit.and_then(|s| {
                let r = s.result.as_ref()?;
                r.observed
                    .as_ref()
                    .and_then(|o| o.vector)
                    .or_else(|| r.expected.as_ref()?.vector)
            });
            JitFault {
                kind: kind.to_string(),
                vector,
                jit: timing(jit),
                raw: timing(first(&raw_experiment)),
                raw_experiment,
            }
        })
        .collect();
    Some(Cranelift { sizes, faults })
}
