//! Renderings of a [`CampaignView`]: a [`Document`] (text, Markdown,
//! LaTeX), tidy CSV, and JSON.
//!
//! # JSON
//!
//! One object; keys in this order (structs, so the order is fixed):
//!
//! - `source`, `mode`, `unit`, `commit`: where the numbers come from;
//!   latencies are in `unit` (integer cycles, or ns with one decimal).
//! - `injections`: every injection of every campaign, the kernel crash
//!   included. `outcomes`: `{trapped, contained, hang, corrupted, masked,
//!   kernel_crash}`, every key present, counts summing to `injections`.
//!   `fired`, `manifested` (not masked), `recovered` (trapped + contained).
//! - `complete` (end record present, no integrity error, every campaign
//!   finished with every index `0..n` reported once), `verdict` (`pass` or
//!   `fail`), `problems` (why it fails, one sentence each), `end_record`,
//!   `integrity_errors`.
//! - `recovery`, `trap`: latency over all injectors, `{n, p50, p90, p99,
//!   max}` or `null` when no injection has one.
//! - `per_injector`: array in injector order, each `{injector, injected,
//!   fired, manifested, recovered, outcomes, recovery, trap, raised,
//!   targets}`; `raised` lists `{outcome, vector, trap, count}` of the
//!   manifested injections; `targets` is `[{target, injected, fired,
//!   manifested, recovered, outcomes}]`.
//! - `campaigns`: array, per campaign: `name`, `configs`, `injections`,
//!   `outcomes`, `result` (`ok`, `failed`, `skipped` or `null` when its
//!   `campaign.<name>` result record is missing), `result_message`,
//!   `complete`, `expected` (one past the highest index), `missing_count`,
//!   `missing` (the first 100 missing indices), `duplicates`,
//!   `kernel_crash` (`{index, injector, target, what, during}` or `null`),
//!   `per_injector` (as above, for this campaign).
//! - `other_crashes`: kernel faults and panics not charged to an injection.
//!
//! # CSV
//!
//! Tidy, one value per row: `campaign,injector,target,quantity,value,unit,mode`.
//! Counts (`injected`, `fired`, `manifested`, `recovered`, one row per
//! outcome) per (injector, target), per injector (`target` = `all`) and per
//! campaign (`injector` = `all`); latencies (`recovery_p50` … `trap_max`,
//! `*_n`) per injector with `target` = `all`.

use serde::Serialize;
use serde_json::{Value, json};
use traplab_wire::{Outcome, Status};

use super::{Breakdown, Campaign, CampaignView, InjectorView, Tally, vector_mnemonic};
use crate::ingest::Run;
use crate::mode::{Unit, UnitError};
use crate::stats::{Distribution, describe};
use crate::summary::run_caption;
use crate::table::{Align, Document, Format, Section, Table};

/// Render `view` of `run` in `format`.
pub fn render(
    run: &Run,
    view: &CampaignView,
    format: Format,
    unit: Unit,
) -> Result<String, UnitError> {
    let k = unit.scale(run.tsc_hz())?;
    Ok(match format {
        Format::Json => json(run, view, unit, k),
        Format::Csv => csv(run, view, unit, k),
        Format::Table => document(run, view, unit)?.text(),
        Format::Md => document(run, view, unit)?.markdown(),
        Format::Latex => document(run, view, unit)?.latex("tab:traplab-campaign"),
    })
}

const DASH: &str = "–";

fn pct(n: u64, of: u64) -> f64 {
    if of == 0 {
        0.0
    } else {
        100.0 * n as f64 / of as f64
    }
}

/// `42 (3.1%)`; a plain `0` when there is nothing to weigh.
fn share(n: u64, of: u64) -> String {
    if n == 0 || of == 0 {
        n.to_string()
    } else {
        format!("{n} ({:.1}%)", pct(n, of))
    }
}

fn status_name(s: Status) -> &'static str {
    match s {
        Status::Ok => "ok",
        Status::Failed => "failed",
        Status::Skipped => "skipped",
    }
}

/// `campaign default` when the run holds one campaign (the usual case),
/// with the name in every title when it holds several.
fn title(c: &Campaign) -> String {
    let configs = if c.configs.is_empty() {
        String::new()
    } else {
        format!(", config {}", c.configs.join(", "))
    };
    format!(
        "campaign {} ({} injections{configs})",
        c.name, c.breakdown.total.injected
    )
}

/// Count cells of a tally: injected, fired, manifested, each outcome.
fn tally_cells(t: &Tally) -> Vec<String> {
    let mut row = vec![
        t.injected.to_string(),
        share(t.fired, t.injected),
        share(t.manifested(), t.injected),
    ];
    row.extend(Outcome::ALL.iter().map(|&o| share(t.count(o), t.injected)));
    row
}

fn outcomes_table(b: &Breakdown) -> Table {
    let mut cols = vec![
        ("injector", Align::Left),
        ("target", Align::Left),
        ("injected", Align::Right),
        ("fired", Align::Right),
        ("manifested", Align::Right),
    ];
    cols.extend(Outcome::ALL.iter().map(|o| (o.name(), Align::Right)));
    let mut t = Table::new(&cols);
    for v in &b.injectors {
        for (target, tally) in &v.targets {
            let mut row = vec![v.injector.clone(), target.clone()];
            row.extend(tally_cells(tally));
            t.push(row);
        }
        if v.targets.len() > 1 {
            let mut row = vec![v.injector.clone(), "all".into()];
            row.extend(tally_cells(&v.total));
            t.push(row);
        }
    }
    let mut row = vec!["all".into(), "all".into()];
    row.extend(tally_cells(&b.total));
    t.push(row);
    t
}

fn theseus_row(label: &str, t: &Tally) -> Vec<String> {
    let m = t.manifested();
    vec![
        label.to_string(),
        t.injected.to_string(),
        share(m, t.injected),
        share(t.recovered(), m),
        share(t.count(Outcome::Hang), m),
        share(t.count(Outcome::Corrupted), m),
        share(t.count(Outcome::KernelCrash), m),
    ]
}

fn theseus_table(b: &Breakdown) -> Table {
    let mut t = Table::new(&[
        ("injector", Align::Left),
        ("injected", Align::Right),
        ("manifested", Align::Right),
        ("recovered/contained", Align::Right),
        ("hang", Align::Right),
        ("corrupted", Align::Right),
        ("kernel crashes", Align::Right),
    ]);
    for v in &b.injectors {
        t.push(theseus_row(&v.injector, &v.total));
    }
    t.push(theseus_row("all", &b.total));
    t
}

fn latency_table(
    b: &Breakdown,
    pick: fn(&InjectorView) -> &Vec<u64>,
    all: &[u64],
    f: &dyn Fn(u64) -> String,
) -> Table {
    let mut t = Table::new(&[
        ("injector", Align::Left),
        ("n", Align::Right),
        ("p50", Align::Right),
        ("p90", Align::Right),
        ("p99", Align::Right),
        ("max", Align::Right),
    ]);
    let row = |label: &str, d: Option<Distribution>| {
        let mut r = vec![label.to_string()];
        match d {
            Some(d) => r.extend([d.n.to_string(), f(d.p50), f(d.p90), f(d.p99), f(d.max)]),
            None => r.extend(
                std::iter::once("0".to_string()).chain(std::iter::repeat_n(DASH.to_string(), 4)),
            ),
        }
        r
    };
    for v in &b.injectors {
        t.push(row(&v.injector, describe(pick(v))));
    }
    t.push(row("all", describe(all)));
    t
}

fn raised_table(b: &Breakdown) -> Table {
    let mut t = Table::new(&[
        ("injector", Align::Left),
        ("outcome", Align::Left),
        ("vector", Align::Left),
        ("trap code", Align::Left),
        ("count", Align::Right),
    ]);
    for v in &b.injectors {
        let manifested = v.total.manifested();
        for (r, n) in &v.raised {
            t.push(vec![
                v.injector.clone(),
                r.outcome.name().into(),
                r.vector
                    .map_or(DASH.into(), |x| format!("{} ({x})", vector_mnemonic(x))),
                r.trap.clone().unwrap_or_else(|| DASH.into()),
                share(*n, manifested),
            ]);
        }
    }
    t
}

fn completeness_table(view: &CampaignView) -> Table {
    let mut t = Table::new(&[
        ("campaign", Align::Left),
        ("records", Align::Right),
        ("indices", Align::Left),
        ("missing", Align::Right),
        ("duplicated", Align::Right),
        ("result", Align::Left),
        ("kernel crash", Align::Left),
        ("complete", Align::Left),
    ]);
    for c in &view.campaigns {
        let records = c.injections.len() - usize::from(c.crash.is_some());
        t.push(vec![
            c.name.clone(),
            records.to_string(),
            if c.sequence.expected == 0 {
                DASH.into()
            } else {
                format!("0–{}", c.sequence.expected - 1)
            },
            c.sequence.missing_count.to_string(),
            c.sequence.duplicates.len().to_string(),
            c.result
                .as_ref()
                .map_or("missing".into(), |(s, _)| status_name(*s).to_string()),
            c.crash
                .as_ref()
                .map_or("none".into(), |k| format!("at injection {}", k.index)),
            if c.complete() { "yes" } else { "no" }.into(),
        ]);
    }
    t
}

/// The document the text, Markdown and LaTeX formats print.
pub fn document(run: &Run, view: &CampaignView, unit: Unit) -> Result<Document, UnitError> {
    let k = unit.scale(run.tsc_hz())?;
    let u = unit.as_str();
    let f = move |v: u64| unit.format(v as f64 * k);
    let mut doc = Document {
        caption: run_caption(run, unit),
        ..Document::default()
    };
    for c in &view.campaigns {
        let full = title(c);
        let name = format!("campaign {}", c.name);
        let b = &c.breakdown;
        let label = |s: &str| format!("{}-{s}", c.name);
        doc.sections.push(Section {
            title: format!(
                "{full}: outcomes per injector and target, count (% of injected); manifested = not masked"
            ),
            label: label("outcomes"),
            table: outcomes_table(b),
            code_columns: 2,
            footer: Vec::new(),
        });
        doc.sections.push(Section {
            title: format!(
                "{name}: fault-injection summary (as in Theseus, OSDI'20); manifested as % of injected, the rest as % of manifested; recovered/contained = trapped + contained"
            ),
            label: label("summary"),
            table: theseus_table(b),
            code_columns: 1,
            footer: Vec::new(),
        });
        doc.sections.push(Section {
            title: format!(
                "{name}: recovery latency ({u}): fault or watchdog → broken instance discarded → fresh instance ready"
            ),
            label: label("recovery"),
            table: latency_table(b, |v| &v.recovery, &b.recovery, &f),
            code_columns: 1,
            footer: Vec::new(),
        });
        doc.sections.push(Section {
            title: format!(
                "{name}: trap latency under injection ({u}), trapped and contained: exception → error back in the embedder"
            ),
            label: label("trap"),
            table: latency_table(b, |v| &v.trap, &b.trap, &f),
            code_columns: 1,
            footer: Vec::new(),
        });
        let raised = raised_table(b);
        if !raised.rows.is_empty() {
            doc.sections.push(Section {
                title: format!(
                    "{name}: what the manifested faults raised, count (% of the injector's manifested)"
                ),
                label: label("raised"),
                table: raised,
                code_columns: 2,
                footer: Vec::new(),
            });
        }
    }
    let mut footer = vec![format!(
        "stream: end record {}, {} integrity error(s); sequence {}",
        if view.end_record {
            "present"
        } else {
            "MISSING"
        },
        view.integrity_errors,
        if view.complete() {
            "complete"
        } else {
            "INCOMPLETE"
        },
    )];
    if view.pass() {
        footer.push(format!(
            "verdict: pass: {} injection(s), zero kernel crashes, every record delivered",
            view.injections()
        ));
    } else {
        footer.push(format!(
            "verdict: FAIL ({} problem(s))",
            view.problems.len()
        ));
        footer.extend(view.problems.iter().map(|p| format!("  - {p}")));
    }
    doc.sections.push(Section {
        title: "sequence completeness".into(),
        label: "completeness".into(),
        table: completeness_table(view),
        code_columns: 1,
        footer,
    });
    Ok(doc)
}

fn number(unit: Unit, v: f64) -> Value {
    match unit {
        Unit::Cycles => json!(v.round() as u64),
        Unit::Ns => json!((v * 10.0).round() / 10.0),
    }
}

/// Every outcome by name, each present even when 0; order of
/// [`Outcome::ALL`].
#[derive(Serialize)]
struct JsonOutcomes {
    trapped: u64,
    contained: u64,
    hang: u64,
    corrupted: u64,
    masked: u64,
    kernel_crash: u64,
}

impl From<&Tally> for JsonOutcomes {
    fn from(t: &Tally) -> Self {
        JsonOutcomes {
            trapped: t.count(Outcome::Trapped),
            contained: t.count(Outcome::Contained),
            hang: t.count(Outcome::Hang),
            corrupted: t.count(Outcome::Corrupted),
            masked: t.count(Outcome::Masked),
            kernel_crash: t.count(Outcome::KernelCrash),
        }
    }
}

#[derive(Serialize)]
struct JsonLatency {
    n: usize,
    p50: Value,
    p90: Value,
    p99: Value,
    max: Value,
}

fn latency(values: &[u64], unit: Unit, k: f64) -> Option<JsonLatency> {
    describe(values).map(|d| JsonLatency {
        n: d.n,
        p50: number(unit, d.p50 as f64 * k),
        p90: number(unit, d.p90 as f64 * k),
        p99: number(unit, d.p99 as f64 * k),
        max: number(unit, d.max as f64 * k),
    })
}

#[derive(Serialize)]
struct JsonTarget<'a> {
    target: &'a str,
    injected: u64,
    fired: u64,
    manifested: u64,
    recovered: u64,
    outcomes: JsonOutcomes,
}

#[derive(Serialize)]
struct JsonRaised<'a> {
    outcome: &'static str,
    vector: Option<u8>,
    trap: Option<&'a str>,
    count: u64,
}

#[derive(Serialize)]
struct JsonInjector<'a> {
    injector: &'a str,
    injected: u64,
    fired: u64,
    manifested: u64,
    recovered: u64,
    outcomes: JsonOutcomes,
    recovery: Option<JsonLatency>,
    trap: Option<JsonLatency>,
    raised: Vec<JsonRaised<'a>>,
    targets: Vec<JsonTarget<'a>>,
}

fn per_injector(b: &Breakdown, unit: Unit, k: f64) -> Vec<JsonInjector<'_>> {
    b.injectors
        .iter()
        .map(|v| JsonInjector {
            injector: &v.injector,
            injected: v.total.injected,
            fired: v.total.fired,
            manifested: v.total.manifested(),
            recovered: v.total.recovered(),
            outcomes: (&v.total).into(),
            recovery: latency(&v.recovery, unit, k),
            trap: latency(&v.trap, unit, k),
            raised: v
                .raised
                .iter()
                .map(|(r, n)| JsonRaised {
                    outcome: r.outcome.name(),
                    vector: r.vector,
                    trap: r.trap.as_deref(),
                    count: *n,
                })
                .collect(),
            targets: v
                .targets
                .iter()
                .map(|(t, tally)| JsonTarget {
                    target: t,
                    injected: tally.injected,
                    fired: tally.fired,
                    manifested: tally.manifested(),
                    recovered: tally.recovered(),
                    outcomes: tally.into(),
                })
                .collect(),
        })
        .collect()
}

#[derive(Serialize)]
struct JsonCrash<'a> {
    index: u32,
    injector: &'a str,
    target: &'a str,
    what: &'a str,
    during: &'a str,
}

#[derive(Serialize)]
struct JsonCampaign<'a> {
    name: &'a str,
    configs: &'a [String],
    injections: u64,
    outcomes: JsonOutcomes,
    result: Option<&'static str>,
    result_message: Option<&'a str>,
    complete: bool,
    expected: u64,
    missing_count: u64,
    missing: &'a [u32],
    duplicates: &'a [u32],
    kernel_crash: Option<JsonCrash<'a>>,
    per_injector: Vec<JsonInjector<'a>>,
}

#[derive(Serialize)]
struct JsonView<'a> {
    source: &'a str,
    mode: &'a str,
    unit: &'static str,
    commit: Option<&'a str>,
    injections: u64,
    outcomes: JsonOutcomes,
    fired: u64,
    manifested: u64,
    recovered: u64,
    complete: bool,
    verdict: &'static str,
    problems: &'a [String],
    end_record: bool,
    integrity_errors: usize,
    recovery: Option<JsonLatency>,
    trap: Option<JsonLatency>,
    per_injector: Vec<JsonInjector<'a>>,
    campaigns: Vec<JsonCampaign<'a>>,
    other_crashes: &'a [String],
}

fn json(run: &Run, view: &CampaignView, unit: Unit, k: f64) -> String {
    let mode = run.mode();
    let t = &view.overall.total;
    let v = JsonView {
        source: &run.source,
        mode: mode.as_str(),
        unit: unit.as_str(),
        commit: run.commit().map(|(c, _)| c),
        injections: t.injected,
        outcomes: t.into(),
        fired: t.fired,
        manifested: t.manifested(),
        recovered: t.recovered(),
        complete: view.complete(),
        verdict: if view.pass() { "pass" } else { "fail" },
        problems: &view.problems,
        end_record: view.end_record,
        integrity_errors: view.integrity_errors,
        recovery: latency(&view.overall.recovery, unit, k),
        trap: latency(&view.overall.trap, unit, k),
        per_injector: per_injector(&view.overall, unit, k),
        campaigns: view
            .campaigns
            .iter()
            .map(|c| JsonCampaign {
                name: &c.name,
                configs: &c.configs,
                injections: c.breakdown.total.injected,
                outcomes: (&c.breakdown.total).into(),
                result: c.result.as_ref().map(|(s, _)| status_name(*s)),
                result_message: c.result.as_ref().and_then(|(_, m)| m.as_deref()),
                complete: c.complete(),
                expected: c.sequence.expected,
                missing_count: c.sequence.missing_count,
                missing: &c.sequence.missing,
                duplicates: &c.sequence.duplicates,
                kernel_crash: c.crash.as_ref().map(|k| JsonCrash {
                    index: k.index,
                    injector: &k.injector,
                    target: &k.target,
                    what: &k.what,
                    during: &k.during,
                }),
                per_injector: per_injector(&c.breakdown, unit, k),
            })
            .collect(),
        other_crashes: &view.other_crashes,
    };
    let mut s = serde_json::to_string_pretty(&v).expect("the campaign view always serializes");
    s.push('\n');
    s
}

fn csv(run: &Run, view: &CampaignView, unit: Unit, k: f64) -> String {
    let mode = run.mode();
    let mut t = Table::new(
        &[
            "campaign", "injector", "target", "quantity", "value", "unit", "mode",
        ]
        .map(|c| (c, Align::Left)),
    );
    let counts = |c: &str, inj: &str, target: &str, tally: &Tally, t: &mut Table| {
        let mut push = |q: &str, v: u64| {
            t.push(vec![
                c.into(),
                inj.into(),
                target.into(),
                q.into(),
                v.to_string(),
                "injections".into(),
                mode.as_str().into(),
            ]);
        };
        push("injected", tally.injected);
        push("fired", tally.fired);
        push("manifested", tally.manifested());
        push("recovered", tally.recovered());
        for o in Outcome::ALL {
            push(o.name(), tally.count(o));
        }
    };
    for c in &view.campaigns {
        let b = &c.breakdown;
        for v in &b.injectors {
            for (target, tally) in &v.targets {
                counts(&c.name, &v.injector, target, tally, &mut t);
            }
            counts(&c.name, &v.injector, "all", &v.total, &mut t);
            for (what, values) in [("recovery", &v.recovery), ("trap", &v.trap)] {
                let Some(d) = describe(values) else { continue };
                t.push(vec![
                    c.name.clone(),
                    v.injector.clone(),
                    "all".into(),
                    format!("{what}_n"),
                    d.n.to_string(),
                    "injections".into(),
                    mode.as_str().into(),
                ]);
                for (q, x) in [
                    ("p50", d.p50),
                    ("p90", d.p90),
                    ("p99", d.p99),
                    ("max", d.max),
                ] {
                    t.push(vec![
                        c.name.clone(),
                        v.injector.clone(),
                        "all".into(),
                        format!("{what}_{q}"),
                        unit.format(x as f64 * k),
                        unit.as_str().into(),
                        mode.as_str().into(),
                    ]);
                }
            }
        }
        counts(&c.name, "all", "all", &b.total, &mut t);
    }
    t.csv()
}
