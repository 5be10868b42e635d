//! The JIT view's one tree, [`JitReport`], and its renderings: JSON is its
//! serde serialization; the [`Document`] (text, Markdown, LaTeX) and the
//! tidy CSV are functions over the same tree ([`crate::view`]).
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
//!   per wasm configuration with `config`, `p50` (the workload's p50 per
//!   call under it), `host_compile_ms`, `host_code_bytes`,
//!   `host_trap_sites`, `artifact_bytes`, `verify`, `deserialize`,
//!   `instantiate`, `first_call`. Missing values are `null`: every key is
//!   always present.
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
//! - `notes`: array of strings, the observations printed under the tables.
//!
//! # CSV
//!
//! Tidy: one value per row, `section,item,config,quantity,value,unit,mode`,
//! so every section fits one RFC 4180 table. A break-even without crossover
//! has the value `never` and the reason as its unit.

use serde::Serialize;
use traplab_wire::{config, metric};

use super::{Crossover, EXPLICIT, Geomean, JitView, Ratio, SIGNALS, Timing};
use crate::ingest::Run;
use crate::mode::{Unit, UnitError};
use crate::summary::run_caption;
use crate::table::{Align, Document, Format, Section, Table};
use crate::view::{self, DASH, Quantity, View, dash, sig3};

/// Render `view` of `run` in `format`.
pub fn render(run: &Run, view: &JitView, format: Format, unit: Unit) -> Result<String, UnitError> {
    Ok(view::render(&report(run, view, unit)?, format))
}

/// The document the text, Markdown and LaTeX formats print.
pub fn document(run: &Run, view: &JitView, unit: Unit) -> Result<Document, UnitError> {
    Ok(report(run, view, unit)?.document())
}

/// Everything the `jit` command shows, in the output unit: the one tree
/// every format renders.
#[derive(Debug, Clone, Serialize)]
pub struct JitReport {
    pub mode: String,
    pub unit: &'static str,
    pub commit: Option<String>,
    pub compute: Vec<WorkloadRow>,
    pub geomean: Geomean,
    pub trap_cost: Option<TrapCostRow>,
    pub break_even: Vec<BreakEvenRow>,
    pub cranelift: Option<CraneliftRows>,
    pub notes: Vec<String>,
    /// Run caption (provenance, mode, clock) heading the document; in JSON
    /// the top-level `mode`, `unit` and `commit` say it.
    #[serde(skip)]
    pub caption: Vec<(String, String)>,
    /// Whether the run states a TSC frequency (the break-even title says
    /// why traps/s is missing; in JSON `traps_per_second` is `null`).
    #[serde(skip)]
    pub has_tsc: bool,
}

/// Sample counts of a workload's three series.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Samples {
    pub signals: usize,
    pub explicit: usize,
    pub native: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct WorkloadRow {
    pub workload: String,
    pub signals_p50: Option<Quantity>,
    pub explicit_p50: Option<Quantity>,
    pub native_p50: Option<Quantity>,
    pub samples: Samples,
    #[serde(serialize_with = "view::ser_opt_round4")]
    pub wasm_native: Option<f64>,
    pub wasm_native_ci: Option<[f64; 2]>,
    #[serde(serialize_with = "view::ser_opt_round4")]
    pub explicit_signals: Option<f64>,
    pub explicit_signals_ci: Option<[f64; 2]>,
    pub soft_float: Option<bool>,
    pub load: Vec<LoadRow>,
}

impl WorkloadRow {
    fn load(&self, config: &str) -> Option<&LoadRow> {
        self.load.iter().find(|l| l.config == config)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct LoadRow {
    pub config: String,
    pub p50: Option<Quantity>,
    #[serde(serialize_with = "view::ser_opt_round4")]
    pub host_compile_ms: Option<f64>,
    pub host_code_bytes: Option<u64>,
    pub host_trap_sites: Option<u64>,
    pub artifact_bytes: Option<u64>,
    pub verify: Option<Quantity>,
    pub deserialize: Option<Quantity>,
    pub instantiate: Option<Quantity>,
    pub first_call: Option<Quantity>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TrapCostRow {
    pub experiment: String,
    pub signals_p50: Quantity,
    pub explicit_p50: Quantity,
    pub extra_per_trap: Quantity,
}

#[derive(Debug, Clone, Serialize)]
pub struct BreakEvenRow {
    pub workload: String,
    pub signals_p50: Quantity,
    pub explicit_p50: Quantity,
    pub extra_per_call: Quantity,
    #[serde(serialize_with = "view::ser_opt_round4")]
    pub traps_per_call: Option<f64>,
    #[serde(serialize_with = "view::ser_opt_round0")]
    pub traps_per_second: Option<f64>,
    /// Why there is no crossover (see [`Crossover::never_reason`]).
    pub never: Option<&'static str>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CraneliftRows {
    pub compile: Vec<SizeRow>,
    pub faults: Vec<FaultRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SizeRow {
    pub n: u64,
    pub samples: usize,
    pub compile_p50: Option<Quantity>,
    pub per_clif_inst: Option<Quantity>,
    pub per_clif_inst_derived: bool,
    pub code_bytes: Option<u64>,
    pub exec_p50: Option<Quantity>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FaultRow {
    pub fault: String,
    pub vector: Option<u8>,
    pub jit_p50: Option<Quantity>,
    pub floor: String,
    pub floor_p50: Option<Quantity>,
    pub over_floor: Option<Quantity>,
    #[serde(serialize_with = "view::ser_opt_round4")]
    pub ratio: Option<f64>,
}

/// Build the tree of `view` of `run` in `unit`.
pub fn report(run: &Run, view: &JitView, unit: Unit) -> Result<JitReport, UnitError> {
    let k = unit.scale(run.tsc_hz())?;
    let q = |v: u64| Quantity::of(v, unit, k);
    let qf = |v: f64| Quantity::new(v, unit, k);
    let qt = |t: Option<Timing>| t.map(|t| q(t.p50));
    let r = |r: Option<Ratio>| r.map(|r| r.value);
    let ci = |r: Option<Ratio>| r.map(|r| [view::round4(r.low), view::round4(r.high)]);
    Ok(JitReport {
        mode: run.mode().as_str().to_string(),
        unit: unit.as_str(),
        commit: run.commit().map(|(c, _)| c.to_string()),
        compute: view
            .compute
            .iter()
            .map(|w| WorkloadRow {
                workload: w.name.clone(),
                signals_p50: qt(w.signals),
                explicit_p50: qt(w.explicit),
                native_p50: qt(w.native),
                samples: Samples {
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
                    .map(|l| LoadRow {
                        config: l.config.clone(),
                        p50: qt(l.timing),
                        host_compile_ms: l.host_compile_ns.map(|ns| ns as f64 / 1e6),
                        host_code_bytes: l.host_code_bytes,
                        host_trap_sites: l.host_trap_sites,
                        artifact_bytes: l.artifact_bytes,
                        verify: l.verify_cycles.map(q),
                        deserialize: l.deserialize_cycles.map(q),
                        instantiate: l.instantiate_cycles.map(q),
                        first_call: l.first_call_cycles.map(q),
                    })
                    .collect(),
            })
            .collect(),
        geomean: view.geomean.clone(),
        trap_cost: view.trap_cost.as_ref().map(|c| TrapCostRow {
            experiment: c.experiment.clone(),
            signals_p50: q(c.signals_p50),
            explicit_p50: q(c.explicit_p50),
            extra_per_trap: qf(c.extra_per_trap()),
        }),
        break_even: view
            .break_even
            .iter()
            .map(|b| {
                let (traps_per_call, traps_per_second) = match b.crossover {
                    Crossover::At {
                        traps_per_call,
                        traps_per_second,
                    } => (Some(traps_per_call), traps_per_second),
                    _ => (None, None),
                };
                BreakEvenRow {
                    workload: b.workload.clone(),
                    signals_p50: q(b.signals_p50),
                    explicit_p50: q(b.explicit_p50),
                    extra_per_call: qf(b.extra_per_call()),
                    traps_per_call,
                    traps_per_second,
                    never: b.crossover.never_reason(),
                }
            })
            .collect(),
        cranelift: view.cranelift.as_ref().map(|c| CraneliftRows {
            compile: c
                .sizes
                .iter()
                .map(|s| SizeRow {
                    n: s.n,
                    samples: s.compile.map_or(0, |t| t.n),
                    compile_p50: qt(s.compile),
                    per_clif_inst: s.per_clif_inst.map(|v| Quantity::fine(v, unit, k)),
                    per_clif_inst_derived: s.per_clif_inst_derived,
                    code_bytes: s.code_bytes,
                    exec_p50: qt(s.exec),
                })
                .collect(),
            faults: c
                .faults
                .iter()
                .map(|f| {
                    let both = f.jit.zip(f.raw);
                    FaultRow {
                        fault: format!("jit.trap.{}", f.kind),
                        vector: f.vector,
                        jit_p50: qt(f.jit),
                        floor: f.raw_experiment.clone(),
                        floor_p50: qt(f.raw),
                        over_floor: both.map(|(j, r)| qf(j.p50 as f64 - r.p50 as f64)),
                        ratio: both
                            .filter(|(_, r)| r.p50 > 0)
                            .map(|(j, r)| j.p50 as f64 / r.p50 as f64),
                    }
                })
                .collect(),
        }),
        notes: view.notes.clone(),
        caption: run_caption(run, unit),
        has_tsc: run.tsc_hz().is_some(),
    })
}

fn ratio2(r: Option<f64>) -> String {
    dash(r.map(|r| format!("{r:.2}")))
}

fn ms(v: Option<f64>) -> String {
    dash(v.map(|v| format!("{v:.1}")))
}

/// Explain a missing break-even in words.
fn never_text(reason: Option<&str>) -> &'static str {
    match reason {
        Some("explicit_not_slower") => "explicit checks not slower",
        Some("signal_traps_not_dearer") => "signal traps not dearer",
        _ => "",
    }
}

fn soft_float_text(w: &WorkloadRow) -> &'static str {
    match w.soft_float {
        Some(true) => "yes",
        Some(false) => "no",
        None => DASH,
    }
}

/// CPU vector mnemonics (the wire crate's table).
fn vector_name(v: u8) -> String {
    traplab_wire::vector::mnemonic(v).to_string()
}

/// Load columns shared by the compute tables: compile ms … first call.
fn load_cells(l: Option<&LoadRow>) -> [String; 6] {
    [
        ms(l.and_then(|l| l.host_compile_ms)),
        dash(l.and_then(|l| l.host_code_bytes)),
        dash(l.and_then(|l| l.host_trap_sites)),
        dash(l.and_then(|l| l.deserialize)),
        dash(l.and_then(|l| l.instantiate)),
        dash(l.and_then(|l| l.first_call)),
    ]
}

impl View for JitReport {
    fn document(&self) -> Document {
        let u = self.unit;
        let mut doc = Document {
            caption: self.caption.clone(),
            ..Document::default()
        };
        if !self.compute.is_empty() {
            self.compute_sections(&mut doc);
        }
        if let Some(cost) = &self.trap_cost
            && !self.break_even.is_empty()
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
            for b in &self.break_even {
                let (per_call, per_second) = match b.traps_per_call {
                    Some(per_call) => (sig3(per_call), dash(b.traps_per_second.map(sig3))),
                    None => ("never".into(), "never".into()),
                };
                t.push(vec![
                    b.workload.clone(),
                    b.signals_p50.to_string(),
                    b.explicit_p50.to_string(),
                    b.extra_per_call.to_string(),
                    per_call,
                    per_second,
                    never_text(b.never).into(),
                ]);
            }
            let hz = if self.has_tsc {
                ""
            } else {
                " (no TSC frequency in this run: no traps/s)"
            };
            doc.sections.push(Section {
                title: format!(
                    "break-even trap rate ({u}): explicit checks cost X − S per call; a trap costs Tsig − Texp = {} − {} = {} more with signals (p50 of {} under {SIGNALS} and {EXPLICIT}); explicit checks win above traps/call = (X − S) / (Tsig − Texp), traps/s = traps/call × TSC Hz / S{hz}; never: no crossover",
                    cost.signals_p50, cost.explicit_p50, cost.extra_per_trap, cost.experiment,
                ),
                label: "jit-break-even".into(),
                table: t,
                code_columns: 1,
                footer: Vec::new(),
            });
        }
        if let Some(c) = &self.cranelift {
            self.cranelift_sections(c, &mut doc);
        }
        doc.notes = self.notes.clone();
        doc
    }

    fn csv(&self) -> Table {
        self.tidy()
    }
}

impl JitReport {
    fn compute_sections(&self, doc: &mut Document) {
        let u = self.unit;
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
        for w in &self.compute {
            let mut row = vec![
                w.workload.clone(),
                dash(w.signals_p50),
                dash(w.native_p50),
                ratio2(w.wasm_native),
                ratio2(w.explicit_signals),
            ];
            row.extend(load_cells(w.load(SIGNALS)));
            row.push(soft_float_text(w).into());
            t.push(row);
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
        for w in &self.compute {
            for l in &w.load {
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
            for w in &self.compute {
                let Some(l) = w.load(config) else { continue };
                let mut row = vec![w.workload.clone(), dash(l.p50)];
                row.extend(load_cells(Some(l)));
                t.push(row);
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
        let g = &self.geomean;
        let mut t = Table::new(&[
            ("ratio", Align::Left),
            ("over", Align::Left),
            ("workloads", Align::Right),
            ("geomean", Align::Right),
        ]);
        let total = self.compute.len();
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
                ratio2(v.as_ref().map(|v| v.value)),
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

    fn cranelift_sections(&self, c: &CraneliftRows, doc: &mut Document) {
        let u = self.unit;
        if !c.compile.is_empty() {
            let mut t = Table::new(&[
                ("CLIF insts", Align::Right),
                ("compiles", Align::Right),
                ("compile p50", Align::Right),
                ("per CLIF inst", Align::Right),
                ("code bytes", Align::Right),
                ("exec p50", Align::Right),
            ]);
            let mut derived = false;
            for s in &c.compile {
                derived |= s.per_clif_inst_derived;
                let per = s.per_clif_inst.map(|v| {
                    let mark = if s.per_clif_inst_derived { "*" } else { "" };
                    format!("{v}{mark}")
                });
                t.push(vec![
                    s.n.to_string(),
                    dash(s.compile_p50.map(|_| s.samples)),
                    dash(s.compile_p50),
                    dash(per),
                    dash(s.code_bytes),
                    dash(s.exec_p50),
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
            for f in &c.faults {
                t.push(vec![
                    f.fault.clone(),
                    dash(f.vector.map(vector_name)),
                    dash(f.jit_p50),
                    f.floor.clone(),
                    dash(f.floor_p50),
                    dash(f.over_floor),
                    ratio2(f.ratio),
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

    /// The tidy CSV; see the module docs.
    fn tidy(&self) -> Table {
        let mut t = Table::new(
            &[
                "section", "item", "config", "quantity", "value", "unit", "mode",
            ]
            .map(|c| (c, Align::Left)),
        );
        let u = self.unit;
        let mut row =
            |section: &str, item: &str, config: &str, q: &str, value: String, unit: &str| {
                t.push(vec![
                    section.into(),
                    item.into(),
                    config.into(),
                    q.into(),
                    value,
                    unit.into(),
                    self.mode.clone(),
                ]);
            };
        for w in &self.compute {
            for (config, p50, n) in [
                (SIGNALS, w.signals_p50, w.samples.signals),
                (EXPLICIT, w.explicit_p50, w.samples.explicit),
                (config::NATIVE, w.native_p50, w.samples.native),
            ] {
                if let Some(p50) = p50 {
                    row("compute", &w.workload, config, "p50", p50.to_string(), u);
                    row(
                        "compute",
                        &w.workload,
                        config,
                        "samples",
                        n.to_string(),
                        "samples",
                    );
                }
            }
            for (q, v) in [
                ("wasm_native", w.wasm_native),
                ("explicit_signals", w.explicit_signals),
            ] {
                if let Some(v) = v {
                    row("compute", &w.workload, "", q, format!("{v:.4}"), "ratio");
                }
            }
            if let Some(sf) = w.soft_float {
                let v = u8::from(sf).to_string();
                row(
                    "compute",
                    &w.workload,
                    config::NATIVE,
                    metric::SOFT_FLOAT,
                    v,
                    "bool",
                );
            }
            for l in &w.load {
                let c = l.config.as_str();
                let mut put = |q: &str, v: Option<String>, unit: &str| {
                    if let Some(v) = v {
                        row("load", &w.workload, c, q, v, unit);
                    }
                };
                put(
                    "host_compile_ms",
                    l.host_compile_ms.map(|v| format!("{v:.4}")),
                    "ms",
                );
                put(
                    metric::HOST_CODE_BYTES,
                    l.host_code_bytes.map(|v| v.to_string()),
                    "bytes",
                );
                put(
                    metric::HOST_TRAP_SITES,
                    l.host_trap_sites.map(|v| v.to_string()),
                    "sites",
                );
                put(
                    metric::ARTIFACT_BYTES,
                    l.artifact_bytes.map(|v| v.to_string()),
                    "bytes",
                );
                for (q, v) in [
                    ("verify", l.verify),
                    ("deserialize", l.deserialize),
                    ("instantiate", l.instantiate),
                    ("first_call", l.first_call),
                ] {
                    put(q, v.map(|v| v.to_string()), u);
                }
            }
        }
        let g = &self.geomean;
        for (item, q, v) in [
            ("integer", "wasm_native", &g.wasm_native_integer),
            ("all", "wasm_native", &g.wasm_native_all),
            ("all", "explicit_signals", &g.explicit_signals_all),
        ] {
            if let Some(v) = v {
                row("geomean", item, "", q, format!("{:.4}", v.value), "ratio");
            }
        }
        if let Some(c) = &self.trap_cost {
            for (config, v) in [(SIGNALS, c.signals_p50), (EXPLICIT, c.explicit_p50)] {
                row("trap_cost", &c.experiment, config, "p50", v.to_string(), u);
            }
        }
        for b in &self.break_even {
            let w = b.workload.as_str();
            row(
                "break_even",
                w,
                "",
                "extra_per_call",
                b.extra_per_call.to_string(),
                u,
            );
            match b.traps_per_call {
                Some(per_call) => {
                    row(
                        "break_even",
                        w,
                        "",
                        "traps_per_call",
                        format!("{per_call:.4}"),
                        "traps",
                    );
                    if let Some(ps) = b.traps_per_second {
                        row(
                            "break_even",
                            w,
                            "",
                            "traps_per_second",
                            format!("{ps:.0}"),
                            "traps/s",
                        );
                    }
                }
                None => row(
                    "break_even",
                    w,
                    "",
                    "traps_per_call",
                    "never".into(),
                    b.never.unwrap_or_default(),
                ),
            }
        }
        if let Some(c) = &self.cranelift {
            for s in &c.compile {
                let item = format!("n{}", s.n);
                if let Some(p50) = s.compile_p50 {
                    row("cranelift", &item, "", "compile_p50", p50.to_string(), u);
                    let n = s.samples.to_string();
                    row("cranelift", &item, "", "compile_samples", n, "samples");
                }
                if let Some(v) = s.per_clif_inst {
                    let v = format!("{:.1}", v.value);
                    row("cranelift", &item, "", "per_clif_inst", v, u);
                }
                if let Some(v) = s.code_bytes {
                    row(
                        "cranelift",
                        &item,
                        "",
                        metric::CODE_BYTES,
                        v.to_string(),
                        "bytes",
                    );
                }
                if let Some(v) = s.exec_p50 {
                    row("cranelift", &item, "", "exec_p50", v.to_string(), u);
                }
            }
            for f in &c.faults {
                if let Some(v) = f.jit_p50 {
                    row("jit_fault", &f.fault, "", "p50", v.to_string(), u);
                }
                if let Some(v) = f.floor_p50 {
                    row("jit_fault", &f.fault, "", "floor_p50", v.to_string(), u);
                }
            }
        }
        t
    }
}
