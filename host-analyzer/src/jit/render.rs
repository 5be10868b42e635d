//! Renderings of a [`JitView`]: a [`Document`] (text, Markdown, LaTeX),
//! tidy CSV, and JSON.
//!
//! # JSON
//!
//! One object; keys in this order (a struct, so the order is fixed):
//!
//! - `mode`, `unit`, `commit`: how the numbers were produced; every
//!   duration below is in `unit` (integer cycles, or ns with one decimal).
//! - `compute`: array, one object per workload: `workload`,
//!   `signals_p50`, `explicit_p50`, `native_p50`, `samples` (`{signals,
//!   explicit, native}` counts), `wasm_native` and `explicit_signals`
//!   (ratios of p50s, 4 decimals) with `wasm_native_ci` / `explicit_signals_ci`
//!   (`[low, high]`, 99 % bootstrap interval of the ratio of medians),
//!   `soft_float` (bool, `null` when not reported), and `load`: one object
//!   per wasm configuration with `config`, `host_compile_ms`,
//!   `host_code_bytes`, `host_trap_sites`, `artifact_bytes`, `verify`,
//!   `deserialize`, `instantiate`, `first_call`. Missing values are `null`.
//! - `geomean`: `wasm_native_integer` (the headline: workloads whose native
//!   twin does not use soft floats), `wasm_native_all`,
//!   `explicit_signals_all`; each `{value, workloads}` or `null`.
//! - `trap_cost`: `{experiment, signals_p50, explicit_p50, extra_per_trap}`
//!   (Tsig, Texp, Tsig − Texp) or `null`.
//! - `break_even`: array, per workload: `workload`, `signals_p50` (S),
//!   `explicit_p50` (X), `extra_per_call` (X − S), `traps_per_call`,
//!   `traps_per_second` (`null` when there is no crossover or no TSC
//!   frequency) and `never` (`null`, `"explicit_not_slower"` or
//!   `"signal_traps_not_dearer"`).
//! - `cranelift`: `{compile: [{n, samples, compile_p50, per_clif_inst,
//!   per_clif_inst_derived, code_bytes, exec_p50}], faults: [{fault, vector,
//!   jit_p50, floor, floor_p50, over_floor, ratio}]}` or `null`.
//! - `wast`: `{scripts: [{script, config, passed, failed, unsupported,
//!   counted}], passed, failed, unsupported, not_passed: [{command, config,
//!   status, message}]}` or `null`.
//! - `notes`: array of strings, the observations printed under the tables.
//!
//! # CSV
//!
//! Tidy: one value per row, `section,item,config,quantity,value,unit,mode`,
//! so every section fits one RFC 4180 table. A break-even without crossover
//! has the value `never` and the reason as its unit.

use serde::Serialize;
use serde_json::{Value, json};

use super::{Crossover, JitView, Load, Ratio, SIGNALS, Timing, Workload};
use crate::ingest::Run;
use crate::mode::{Unit, UnitError};
use crate::summary::run_caption;
use crate::table::{Align, Document, Format, Section, Table};

/// Render `view` of `run` in `format`.
pub fn render(run: &Run, view: &JitView, format: Format, unit: Unit) -> Result<String, UnitError> {
    let k = unit.scale(run.tsc_hz())?;
    Ok(match format {
        Format::Json => json(run, view, unit, k),
        Format::Csv => csv(run, view, unit, k),
        Format::Table => document(run, view, unit)?.text(),
        Format::Md => document(run, view, unit)?.markdown(),
        Format::Latex => document(run, view, unit)?.latex("tab:traplab"),
    })
}

const DASH: &str = "–";

fn opt(v: Option<String>) -> String {
    v.unwrap_or_else(|| DASH.into())
}

fn ratio2(r: Option<Ratio>) -> String {
    opt(r.map(|r| format!("{:.2}", r.value)))
}

fn ms(ns: Option<u64>) -> String {
    opt(ns.map(|ns| format!("{:.1}", ns as f64 / 1e6)))
}

fn int(v: Option<u64>) -> String {
    opt(v.map(|v| v.to_string()))
}

/// At least three significant digits, no exponent; k above 10,000, M and G
/// above a million and a billion.
pub fn sig3(v: f64) -> String {
    if !v.is_finite() {
        return "∞".into();
    }
    let a = v.abs();
    let (scaled, suffix) = if a >= 1e9 {
        (v / 1e9, "G")
    } else if a >= 1e6 {
        (v / 1e6, "M")
    } else if a >= 1e4 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    let a = scaled.abs();
    let decimals = if a == 0.0 {
        0
    } else {
        (2 - a.log10().floor() as i32).max(0) as usize
    };
    format!("{scaled:.decimals$}{suffix}")
}

/// Explain a missing break-even in words.
fn never_text(c: Crossover) -> &'static str {
    match c {
        Crossover::At { .. } => "",
        Crossover::ExplicitNotSlower => "explicit checks not slower",
        Crossover::SignalTrapsNotDearer => "signal traps not dearer",
    }
}

/// The document the text, Markdown and LaTeX formats print.
pub fn document(run: &Run, view: &JitView, unit: Unit) -> Result<Document, UnitError> {
    let k = unit.scale(run.tsc_hz())?;
    let u = unit.as_str();
    let f = |v: u64| unit.format(v as f64 * k);
    let ft = |t: Option<Timing>| opt(t.map(|t| f(t.p50)));
    let fo = |v: Option<u64>| opt(v.map(f));
    let mut doc = Document {
        caption: run_caption(run, unit),
        ..Document::default()
    };
    if !view.compute.is_empty() {
        let mut t = Table::new(&[
            ("workload", Align::Left),
            ("wasm p50", Align::Right),
            ("native p50", Align::Right),
            ("wasm/native", Align::Right),
            ("explicit/signals", Align::Right),
            ("compile ms", Align::Right),
            ("code bytes", Align::Right),
            ("trap sites", Align::Right),
            ("deserialize", Align::Right),
            ("instantiate", Align::Right),
            ("first call", Align::Right),
            ("soft-float", Align::Left),
        ]);
        let empty = Load::default();
        for w in &view.compute {
            let l = w.load(SIGNALS).unwrap_or(&empty);
            t.push(vec![
                w.name.clone(),
                ft(w.signals),
                ft(w.native),
                ratio2(w.wasm_native),
                ratio2(w.explicit_signals),
                ms(l.host_compile_ns),
                int(l.host_code_bytes),
                int(l.host_trap_sites),
                fo(l.deserialize_cycles),
                fo(l.instantiate_cycles),
                fo(l.first_call_cycles),
                soft_float_text(w).into(),
            ]);
        }
        doc.sections.push(Section {
            title: format!(
                "compute workloads, p50 of one call ({u}): wasm = {SIGNALS}, native = the same Rust compiled into the kernel, ratios of p50s; compile ms … first call: the {SIGNALS} module"
            ),
            label: "jit-compute".into(),
            table: t,
            code_columns: 1,
            footer: Vec::new(),
        });
        let mut others: Vec<&str> = Vec::new();
        for w in &view.compute {
            for l in &w.loads {
                if l.config != SIGNALS && !others.contains(&l.config.as_str()) {
                    others.push(&l.config);
                }
            }
        }
        for config in others {
            let mut t = Table::new(&[
                ("workload", Align::Left),
                ("p50", Align::Right),
                ("compile ms", Align::Right),
                ("code bytes", Align::Right),
                ("trap sites", Align::Right),
                ("deserialize", Align::Right),
                ("instantiate", Align::Right),
                ("first call", Align::Right),
            ]);
            for w in &view.compute {
                let Some(l) = w.load(config) else { continue };
                let p50 = run
                    .find(&format!("compute.{}", w.name), config)
                    .and_then(|s| crate::stats::describe(&s.total))
                    .map(|d| f(d.p50));
                t.push(vec![
                    w.name.clone(),
                    opt(p50),
                    ms(l.host_compile_ns),
                    int(l.host_code_bytes),
                    int(l.host_trap_sites),
                    fo(l.deserialize_cycles),
                    fo(l.instantiate_cycles),
                    fo(l.first_call_cycles),
                ]);
            }
            doc.sections.push(Section {
                title: format!(
                    "compute workloads under {config}: p50 of one call, compile and load ({u})"
                ),
                label: format!("jit-compute-{config}"),
                table: t,
                code_columns: 1,
                footer: Vec::new(),
            });
        }
        let g = &view.geomean;
        let mut t = Table::new(&[
            ("ratio", Align::Left),
            ("over", Align::Left),
            ("workloads", Align::Right),
            ("geomean", Align::Right),
        ]);
        let total = view.compute.len();
        for (ratio, over, v) in [
            (
                "wasm/native",
                "integer workloads (soft-float twins excluded)",
                &g.wasm_native_integer,
            ),
            (
                "wasm/native",
                "all workloads (soft-float twins included)",
                &g.wasm_native_all,
            ),
            ("explicit/signals", "all workloads", &g.explicit_signals_all),
        ] {
            t.push(vec![
                ratio.into(),
                over.into(),
                format!("{} of {total}", v.as_ref().map_or(0, |v| v.workloads.len())),
                opt(v.as_ref().map(|v| format!("{:.2}", v.value))),
            ]);
        }
        doc.sections.push(Section {
            title: "geometric mean of the per-workload ratios; the headline wasm/native figure is the integer one".into(),
            label: "jit-geomean".into(),
            table: t,
            code_columns: 0,
            footer: Vec::new(),
        });
    }
    if let Some(cost) = &view.trap_cost
        && !view.break_even.is_empty()
    {
        let mut t = Table::new(&[
            ("workload", Align::Left),
            ("S (signals)", Align::Right),
            ("X (explicit)", Align::Right),
            ("X − S", Align::Right),
            ("traps/call", Align::Right),
            ("traps/s", Align::Right),
            ("why never", Align::Left),
        ]);
        for b in &view.break_even {
            let (per_call, per_second) = match b.crossover {
                Crossover::At {
                    traps_per_call,
                    traps_per_second,
                } => (sig3(traps_per_call), opt(traps_per_second.map(sig3))),
                _ => ("never".into(), "never".into()),
            };
            t.push(vec![
                b.workload.clone(),
                f(b.signals_p50),
                f(b.explicit_p50),
                unit.format(b.extra_per_call() * k),
                per_call,
                per_second,
                never_text(b.crossover).into(),
            ]);
        }
        let hz = if run.tsc_hz().is_some() {
            ""
        } else {
            " (no TSC frequency in this run: no traps/s)"
        };
        doc.sections.push(Section {
            title: format!(
                "break-even trap rate ({u}): explicit checks cost X − S per call; a trap costs Tsig − Texp = {} − {} = {} more with signals (p50 of {} under {SIGNALS} and {}); explicit checks win above traps/call = (X − S) / (Tsig − Texp), traps/s = traps/call × TSC Hz / S{hz}; never: no crossover",
                f(cost.signals_p50),
                f(cost.explicit_p50),
                unit.format(cost.extra_per_trap() * k),
                cost.experiment,
                super::EXPLICIT,
            ),
            label: "jit-break-even".into(),
            table: t,
            code_columns: 1,
            footer: Vec::new(),
        });
    }
    if let Some(c) = &view.cranelift {
        if !c.sizes.is_empty() {
            let mut t = Table::new(&[
                ("CLIF insts", Align::Right),
                ("compiles", Align::Right),
                ("compile p50", Align::Right),
                ("per CLIF inst", Align::Right),
                ("code bytes", Align::Right),
                ("exec p50", Align::Right),
            ]);
            let mut derived = false;
            for s in &c.sizes {
                derived |= s.per_clif_inst_derived;
                let per = s.per_clif_inst.map(|v| {
                    let mark = if s.per_clif_inst_derived { "*" } else { "" };
                    format!("{}{mark}", unit.format(v * k))
                });
                t.push(vec![
                    s.n.to_string(),
                    opt(s.compile.map(|c| c.n.to_string())),
                    ft(s.compile),
                    opt(per),
                    int(s.code_bytes),
                    ft(s.exec),
                ]);
            }
            let star = if derived {
                "; * compile p50 / N (the kernel did not report it)"
            } else {
                ""
            };
            doc.sections.push(Section {
                title: format!(
                    "in-kernel Cranelift: compiling and running generated CLIF functions ({u}){star}"
                ),
                label: "jit-cranelift".into(),
                table: t,
                code_columns: 0,
                footer: Vec::new(),
            });
        }
        if !c.faults.is_empty() {
            let mut t = Table::new(&[
                ("fault", Align::Left),
                ("vector", Align::Left),
                ("JIT p50", Align::Right),
                ("floor", Align::Left),
                ("floor p50", Align::Right),
                ("over floor", Align::Right),
                ("× floor", Align::Right),
            ]);
            for fl in &c.faults {
                let both = fl.jit.zip(fl.raw);
                t.push(vec![
                    format!("jit.trap.{}", fl.kind),
                    opt(fl.vector.map(vector_name)),
                    ft(fl.jit),
                    fl.raw_experiment.clone(),
                    ft(fl.raw),
                    opt(both.map(|(j, r)| unit.format((j.p50 as f64 - r.p50 as f64) * k))),
                    opt(both
                        .filter(|(_, r)| r.p50 > 0)
                        .map(|(j, r)| format!("{:.2}", j.p50 as f64 / r.p50 as f64))),
                ]);
            }
            doc.sections.push(Section {
                title: format!(
                    "faults in kernel-JIT-compiled code, round trip through the exception path, beside the raw exception floor (ring 0, iretq); p50 ({u})"
                ),
                label: "jit-faults".into(),
                table: t,
                code_columns: 1,
                footer: Vec::new(),
            });
        }
    }
    if let Some(w) = &view.wast {
        let mut t = Table::new(&[
            ("script", Align::Left),
            ("config", Align::Left),
            ("passed", Align::Right),
            ("failed", Align::Right),
            ("unsupported", Align::Right),
        ]);
        let mut counted = false;
        for s in &w.scripts {
            counted |= s.counted;
            t.push(vec![
                format!("{}{}", s.script, if s.counted { "*" } else { "" }),
                s.config.clone(),
                s.passed.to_string(),
                s.failed.to_string(),
                s.unsupported.to_string(),
            ]);
        }
        if !w.not_passed.is_empty() {
            let mut np = Table::new(&[
                ("command", Align::Left),
                ("config", Align::Left),
                ("status", Align::Left),
                ("reason", Align::Left),
            ]);
            for c in &w.not_passed {
                np.push(vec![
                    c.command.clone(),
                    c.config.clone(),
                    c.status.into(),
                    c.message.clone(),
                ]);
            }
            doc.sections.push(Section {
                title: ".wast commands that did not pass".into(),
                label: "jit-wast-not-passed".into(),
                table: np,
                code_columns: 2,
                footer: Vec::new(),
            });
        }
        let star = if counted {
            "; * counted from result records (the kernel's tally was lost)"
        } else {
            ""
        };
        doc.sections.push(Section {
            title: format!(".wast conformance: commands per script and configuration{star}"),
            label: "jit-wast".into(),
            table: t,
            code_columns: 2,
            footer: vec![w.totals_line()],
        });
    }
    doc.notes = view.notes.clone();
    Ok(doc)
}

fn soft_float_text(w: &Workload) -> &'static str {
    match w.soft_float {
        Some(true) => "yes",
        Some(false) => "no",
        None => DASH,
    }
}

/// CPU vector mnemonics (architectural constants).
fn vector_name(v: u8) -> String {
    match v {
        0 => "#DE".into(),
        6 => "#UD".into(),
        13 => "#GP".into(),
        14 => "#PF".into(),
        other => format!("vector {other}"),
    }
}

fn number(unit: Unit, v: f64) -> Value {
    match unit {
        Unit::Cycles => json!(v.round() as i64),
        Unit::Ns => json!((v * 10.0).round() / 10.0),
    }
}

fn round4(v: f64) -> f64 {
    (v * 1e4).round() / 1e4
}

// JSON shapes: structs, not `json!` maps, so keys keep the documented
// order (serde_json sorts map keys without its `preserve_order` feature).

#[derive(Serialize)]
struct JsonView<'a> {
    mode: &'a str,
    unit: &'a str,
    commit: Option<&'a str>,
    compute: Vec<JsonWorkload<'a>>,
    geomean: JsonGeomean<'a>,
    trap_cost: Option<JsonTrapCost<'a>>,
    break_even: Vec<JsonBreakEven<'a>>,
    cranelift: Option<JsonCranelift>,
    wast: Option<JsonWast<'a>>,
    notes: &'a [String],
}

#[derive(Serialize)]
struct JsonSamples {
    signals: usize,
    explicit: usize,
    native: usize,
}

#[derive(Serialize)]
struct JsonWorkload<'a> {
    workload: &'a str,
    signals_p50: Option<Value>,
    explicit_p50: Option<Value>,
    native_p50: Option<Value>,
    samples: JsonSamples,
    wasm_native: Option<f64>,
    wasm_native_ci: Option<[f64; 2]>,
    explicit_signals: Option<f64>,
    explicit_signals_ci: Option<[f64; 2]>,
    soft_float: Option<bool>,
    load: Vec<JsonLoad<'a>>,
}

#[derive(Serialize)]
struct JsonLoad<'a> {
    config: &'a str,
    host_compile_ms: Option<f64>,
    host_code_bytes: Option<u64>,
    host_trap_sites: Option<u64>,
    artifact_bytes: Option<u64>,
    verify: Option<Value>,
    deserialize: Option<Value>,
    instantiate: Option<Value>,
    first_call: Option<Value>,
}

#[derive(Serialize)]
struct JsonGeo<'a> {
    value: f64,
    workloads: &'a [String],
}

#[derive(Serialize)]
struct JsonGeomean<'a> {
    wasm_native_integer: Option<JsonGeo<'a>>,
    wasm_native_all: Option<JsonGeo<'a>>,
    explicit_signals_all: Option<JsonGeo<'a>>,
}

#[derive(Serialize)]
struct JsonTrapCost<'a> {
    experiment: &'a str,
    signals_p50: Value,
    explicit_p50: Value,
    extra_per_trap: Value,
}

#[derive(Serialize)]
struct JsonBreakEven<'a> {
    workload: &'a str,
    signals_p50: Value,
    explicit_p50: Value,
    extra_per_call: Value,
    traps_per_call: Option<f64>,
    traps_per_second: Option<f64>,
    never: Option<&'static str>,
}

#[derive(Serialize)]
struct JsonCranelift {
    compile: Vec<JsonJitSize>,
    faults: Vec<JsonJitFault>,
}

#[derive(Serialize)]
struct JsonJitSize {
    n: u64,
    samples: usize,
    compile_p50: Option<Value>,
    per_clif_inst: Option<Value>,
    per_clif_inst_derived: bool,
    code_bytes: Option<u64>,
    exec_p50: Option<Value>,
}

#[derive(Serialize)]
struct JsonJitFault {
    fault: String,
    vector: Option<u8>,
    jit_p50: Option<Value>,
    floor: String,
    floor_p50: Option<Value>,
    over_floor: Option<Value>,
    ratio: Option<f64>,
}

#[derive(Serialize)]
struct JsonWastScript<'a> {
    script: &'a str,
    config: &'a str,
    passed: u64,
    failed: u64,
    unsupported: u64,
    counted: bool,
}

#[derive(Serialize)]
struct JsonWastCommand<'a> {
    command: &'a str,
    config: &'a str,
    status: &'a str,
    message: &'a str,
}

#[derive(Serialize)]
struct JsonWast<'a> {
    scripts: Vec<JsonWastScript<'a>>,
    passed: u64,
    failed: u64,
    unsupported: u64,
    not_passed: Vec<JsonWastCommand<'a>>,
}

fn json<'a>(run: &'a Run, view: &'a JitView, unit: Unit, k: f64) -> String {
    let n = |v: u64| number(unit, v as f64 * k);
    let nf = |v: f64| number(unit, v * k);
    let nt = |t: Option<Timing>| t.map(|t| n(t.p50));
    let no = |v: Option<u64>| v.map(n);
    let r = |r: Option<Ratio>| r.map(|r| round4(r.value));
    let ci = |r: Option<Ratio>| r.map(|r| [round4(r.low), round4(r.high)]);
    let geo = |g: &'a Option<super::GeoValue>| {
        g.as_ref().map(|g| JsonGeo {
            value: round4(g.value),
            workloads: &g.workloads,
        })
    };
    let g = &view.geomean;
    let mode = run.mode();
    let doc = JsonView {
        mode: mode.as_str(),
        unit: unit.as_str(),
        commit: run.commit().map(|(c, _)| c),
        compute: view
            .compute
            .iter()
            .map(|w| JsonWorkload {
                workload: &w.name,
                signals_p50: nt(w.signals),
                explicit_p50: nt(w.explicit),
                native_p50: nt(w.native),
                samples: JsonSamples {
                    signals: w.signals.map_or(0, |t| t.n),
                    explicit: w.explicit.map_or(0, |t| t.n),
                    native: w.native.map_or(0, |t| t.n),
                },
                wasm_native: r(w.wasm_native),
                wasm_native_ci: ci(w.wasm_native),
                explicit_signals: r(w.explicit_signals),
                explicit_signals_ci: ci(w.explicit_signals),
                soft_float: w.soft_float,
                load: w
                    .loads
                    .iter()
                    .map(|l| JsonLoad {
                        config: &l.config,
                        host_compile_ms: l.host_compile_ns.map(|ns| round4(ns as f64 / 1e6)),
                        host_code_bytes: l.host_code_bytes,
                        host_trap_sites: l.host_trap_sites,
                        artifact_bytes: l.artifact_bytes,
                        verify: no(l.verify_cycles),
                        deserialize: no(l.deserialize_cycles),
                        instantiate: no(l.instantiate_cycles),
                        first_call: no(l.first_call_cycles),
                    })
                    .collect(),
            })
            .collect(),
        geomean: JsonGeomean {
            wasm_native_integer: geo(&g.wasm_native_integer),
            wasm_native_all: geo(&g.wasm_native_all),
            explicit_signals_all: geo(&g.explicit_signals_all),
        },
        trap_cost: view.trap_cost.as_ref().map(|c| JsonTrapCost {
            experiment: &c.experiment,
            signals_p50: n(c.signals_p50),
            explicit_p50: n(c.explicit_p50),
            extra_per_trap: nf(c.extra_per_trap()),
        }),
        break_even: view
            .break_even
            .iter()
            .map(|b| {
                let (traps_per_call, traps_per_second) = match b.crossover {
                    Crossover::At {
                        traps_per_call,
                        traps_per_second,
                    } => (
                        Some(round4(traps_per_call)),
                        traps_per_second.map(f64::round),
                    ),
                    _ => (None, None),
                };
                JsonBreakEven {
                    workload: &b.workload,
                    signals_p50: n(b.signals_p50),
                    explicit_p50: n(b.explicit_p50),
                    extra_per_call: nf(b.extra_per_call()),
                    traps_per_call,
                    traps_per_second,
                    never: b.crossover.never_reason(),
                }
            })
            .collect(),
        cranelift: view.cranelift.as_ref().map(|c| JsonCranelift {
            compile: c
                .sizes
                .iter()
                .map(|s| JsonJitSize {
                    n: s.n,
                    samples: s.compile.map_or(0, |t| t.n),
                    compile_p50: nt(s.compile),
                    per_clif_inst: s.per_clif_inst.map(|v| match unit {
                        Unit::Cycles => json!(round4(v)),
                        Unit::Ns => nf(v),
                    }),
                    per_clif_inst_derived: s.per_clif_inst_derived,
                    code_bytes: s.code_bytes,
                    exec_p50: nt(s.exec),
                })
                .collect(),
            faults: c
                .faults
                .iter()
                .map(|f| {
                    let both = f.jit.zip(f.raw);
                    JsonJitFault {
                        fault: format!("jit.trap.{}", f.kind),
                        vector: f.vector,
                        jit_p50: nt(f.jit),
                        floor: f.raw_experiment.clone(),
                        floor_p50: nt(f.raw),
                        over_floor: both.map(|(j, r)| nf(j.p50 as f64 - r.p50 as f64)),
                        ratio: both
                            .filter(|(_, r)| r.p50 > 0)
                            .map(|(j, r)| round4(j.p50 as f64 / r.p50 as f64)),
                    }
                })
                .collect(),
        }),
        wast: view.wast.as_ref().map(|w| JsonWast {
            scripts: w
                .scripts
                .iter()
                .map(|s| JsonWastScript {
                    script: &s.script,
                    config: &s.config,
                    passed: s.passed,
                    failed: s.failed,
                    unsupported: s.unsupported,
                    counted: s.counted,
                })
                .collect(),
            passed: w.passed,
            failed: w.failed,
            unsupported: w.unsupported,
            not_passed: w
                .not_passed
                .iter()
                .map(|c| JsonWastCommand {
                    command: &c.command,
                    config: &c.config,
                    status: c.status,
                    message: &c.message,
                })
                .collect(),
        }),
        notes: &view.notes,
    };
    let mut s = serde_json::to_string_pretty(&doc).expect("the JIT view always serializes");
    s.push('\n');
    s
}

fn csv(run: &Run, view: &JitView, unit: Unit, k: f64) -> String {
    let mut t = Table::new(&[
        ("section", Align::Left),
        ("item", Align::Left),
        ("config", Align::Left),
        ("quantity", Align::Left),
        ("value", Align::Left),
        ("unit", Align::Left),
        ("mode", Align::Left),
    ]);
    let mode = run.mode().as_str().to_string();
    let u = unit.as_str();
    let dur = |v: f64| unit.format(v * k);
    let mut row = |section: &str, item: &str, config: &str, q: &str, value: String, unit: &str| {
        t.push(vec![
            section.into(),
            item.into(),
            config.into(),
            q.into(),
            value,
            unit.into(),
            mode.clone(),
        ]);
    };
    for w in &view.compute {
        for (config, timing) in [
            (SIGNALS, w.signals),
            (super::EXPLICIT, w.explicit),
            (super::NATIVE, w.native),
        ] {
            if let Some(t) = timing {
                row("compute", &w.name, config, "p50", dur(t.p50 as f64), u);
                row(
                    "compute",
                    &w.name,
                    config,
                    "samples",
                    t.n.to_string(),
                    "samples",
                );
            }
        }
        if let Some(r) = w.wasm_native {
            row(
                "compute",
                &w.name,
                "",
                "wasm_native",
                format!("{:.4}", r.value),
                "ratio",
            );
        }
        if let Some(r) = w.explicit_signals {
            row(
                "compute",
                &w.name,
                "",
                "explicit_signals",
                format!("{:.4}", r.value),
                "ratio",
            );
        }
        if let Some(sf) = w.soft_float {
            row(
                "compute",
                &w.name,
                super::NATIVE,
                "soft_float",
                u8::from(sf).to_string(),
                "bool",
            );
        }
        for l in &w.loads {
            let c = l.config.as_str();
            let mut put = |q: &str, v: Option<String>, unit: &str| {
                if let Some(v) = v {
                    row("load", &w.name, c, q, v, unit);
                }
            };
            put(
                "host_compile_ms",
                l.host_compile_ns
                    .map(|ns| format!("{:.4}", ns as f64 / 1e6)),
                "ms",
            );
            put(
                "host_code_bytes",
                l.host_code_bytes.map(|v| v.to_string()),
                "bytes",
            );
            put(
                "host_trap_sites",
                l.host_trap_sites.map(|v| v.to_string()),
                "sites",
            );
            put(
                "artifact_bytes",
                l.artifact_bytes.map(|v| v.to_string()),
                "bytes",
            );
            for (q, v) in [
                ("verify", l.verify_cycles),
                ("deserialize", l.deserialize_cycles),
                ("instantiate", l.instantiate_cycles),
                ("first_call", l.first_call_cycles),
            ] {
                put(q, v.map(|v| dur(v as f64)), u);
            }
        }
    }
    let g = &view.geomean;
    for (item, q, v) in [
        ("integer", "wasm_native", &g.wasm_native_integer),
        ("all", "wasm_native", &g.wasm_native_all),
        ("all", "explicit_signals", &g.explicit_signals_all),
    ] {
        if let Some(v) = v {
            row("geomean", item, "", q, format!("{:.4}", v.value), "ratio");
        }
    }
    if let Some(c) = &view.trap_cost {
        row(
            "trap_cost",
            &c.experiment,
            SIGNALS,
            "p50",
            dur(c.signals_p50 as f64),
            u,
        );
        row(
            "trap_cost",
            &c.experiment,
            super::EXPLICIT,
            "p50",
            dur(c.explicit_p50 as f64),
            u,
        );
    }
    for b in &view.break_even {
        row(
            "break_even",
            &b.workload,
            "",
            "extra_per_call",
            dur(b.extra_per_call()),
            u,
        );
        match b.crossover {
            Crossover::At {
                traps_per_call,
                traps_per_second,
            } => {
                row(
                    "break_even",
                    &b.workload,
                    "",
                    "traps_per_call",
                    format!("{traps_per_call:.4}"),
                    "traps",
                );
                if let Some(ps) = traps_per_second {
                    row(
                        "break_even",
                        &b.workload,
                        "",
                        "traps_per_second",
                        format!("{ps:.0}"),
                        "traps/s",
                    );
                }
            }
            never => row(
                "break_even",
                &b.workload,
                "",
                "traps_per_call",
                "never".into(),
                never.never_reason().unwrap_or_default(),
            ),
        }
    }
    if let Some(c) = &view.cranelift {
        for s in &c.sizes {
            let item = format!("n{}", s.n);
            if let Some(t) = s.compile {
                row("cranelift", &item, "", "compile_p50", dur(t.p50 as f64), u);
                row(
                    "cranelift",
                    &item,
                    "",
                    "compile_samples",
                    t.n.to_string(),
                    "samples",
                );
            }
            if let Some(v) = s.per_clif_inst {
                row(
                    "cranelift",
                    &item,
                    "",
                    "per_clif_inst",
                    format!("{:.1}", v * k),
                    u,
                );
            }
            if let Some(v) = s.code_bytes {
                row("cranelift", &item, "", "code_bytes", v.to_string(), "bytes");
            }
            if let Some(t) = s.exec {
                row("cranelift", &item, "", "exec_p50", dur(t.p50 as f64), u);
            }
        }
        for f in &c.faults {
            let item = format!("jit.trap.{}", f.kind);
            if let Some(t) = f.jit {
                row("jit_fault", &item, "", "p50", dur(t.p50 as f64), u);
            }
            if let Some(t) = f.raw {
                row("jit_fault", &item, "", "floor_p50", dur(t.p50 as f64), u);
            }
        }
    }
    if let Some(w) = &view.wast {
        for s in &w.scripts {
            for (q, v) in [
                ("passed", s.passed),
                ("failed", s.failed),
                ("unsupported", s.unsupported),
            ] {
                row("wast", &s.script, &s.config, q, v.to_string(), "commands");
            }
        }
        for (q, v) in [
            ("passed", w.passed),
            ("failed", w.failed),
            ("unsupported", w.unsupported),
        ] {
            row("wast", "total", "", q, v.to_string(), "commands");
        }
    }
    t.csv()
}
