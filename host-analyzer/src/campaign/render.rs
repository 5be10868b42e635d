//! The campaign view's one tree, [`CampaignReport`], and its renderings:
//! JSON is its serde serialization; the [`Document`] (text, Markdown,
//! LaTeX) and the tidy CSV are functions over the same tree
//! ([`crate::view`]).
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
//!   `outcomes`, `fired`, `manifested`, `recovered`, `recovery`, `trap`
//!   (the campaign's latencies, as above), `result` (`ok`, `failed`,
//!   `skipped` or `null` when its `campaign.<name>` result record is
//!   missing), `result_message`, `complete`, `expected` (one past the
//!   highest index), `missing_count`, `missing` (the first 100 missing
//!   indices), `duplicates`, `kernel_crash` (`{index, injector, target,
//!   what, during, cause, site, resumed}` or `null`: the crash that ended
//!   the run), `kernel_crashes` (every crash, those the host resumed by a
//!   reboot first, same shape), `reboot_ms` (what each reboot cost, wall
//!   clock), `per_injector` (as above, for this campaign; each row also
//!   has `registers`: `[{register, injected, fired, manifested,
//!   recovered, outcomes}]` for `bit_flip_register`).
//! - `crash_sites`: `[{site, count}]`, most frequent first, over every
//!   campaign; `theseus_recovered_pct` (69.4, of 617 manifested faults).
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
use traplab_wire::{Outcome, Status};

use super::{Breakdown, CampaignView, Crash, Tally, vector_mnemonic};
use crate::ingest::Run;
use crate::mode::{Unit, UnitError};
use crate::stats::describe;
use crate::summary::run_caption;
use crate::table::{Align, Document, Format, Section, Table};
use crate::view::{self, DASH, Quantity, View};

/// Render `view` of `run` in `format`.
pub fn render(
    run: &Run,
    view: &CampaignView,
    format: Format,
    unit: Unit,
) -> Result<String, UnitError> {
    Ok(view::render(&report(run, view, unit)?, format))
}

/// The document the text, Markdown and LaTeX formats print.
pub fn document(run: &Run, view: &CampaignView, unit: Unit) -> Result<Document, UnitError> {
    Ok(report(run, view, unit)?.document())
}

/// Everything `traplab campaign` shows, in the output unit: the one tree
/// every format renders.
#[derive(Debug, Clone, Serialize)]
pub struct CampaignReport {
    pub source: String,
    pub mode: String,
    pub unit: &'static str,
    pub commit: Option<String>,
    #[serde(flatten)]
    pub totals: Totals,
    pub complete: bool,
    /// `pass` or `fail`.
    pub verdict: &'static str,
    pub problems: Vec<String>,
    pub end_record: bool,
    pub integrity_errors: usize,
    pub recovery: Option<Latency>,
    pub trap: Option<Latency>,
    pub per_injector: Vec<InjectorRow>,
    pub campaigns: Vec<CampaignRow>,
    pub crash_sites: Vec<CrashSite>,
    pub theseus_recovered_pct: f64,
    pub other_crashes: Vec<String>,
    /// Run caption heading the document (JSON: `source`, `mode`, `unit`,
    /// `commit`).
    #[serde(skip)]
    pub caption: Vec<(String, String)>,
}

/// Every outcome by name, each present even when 0; order of
/// [`Outcome::ALL`].
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Outcomes {
    pub trapped: u64,
    pub contained: u64,
    pub hang: u64,
    pub corrupted: u64,
    pub masked: u64,
    pub kernel_crash: u64,
}

impl Outcomes {
    pub fn get(&self, o: Outcome) -> u64 {
        match o {
            Outcome::Trapped => self.trapped,
            Outcome::Contained => self.contained,
            Outcome::Hang => self.hang,
            Outcome::Corrupted => self.corrupted,
            Outcome::Masked => self.masked,
            Outcome::KernelCrash => self.kernel_crash,
        }
    }
}

impl From<&Tally> for Outcomes {
    fn from(t: &Tally) -> Self {
        Outcomes {
            trapped: t.count(Outcome::Trapped),
            contained: t.count(Outcome::Contained),
            hang: t.count(Outcome::Hang),
            corrupted: t.count(Outcome::Corrupted),
            masked: t.count(Outcome::Masked),
            kernel_crash: t.count(Outcome::KernelCrash),
        }
    }
}

/// Counts of an injector or a target.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Counts {
    pub injected: u64,
    pub fired: u64,
    /// Not masked.
    pub manifested: u64,
    /// Trapped + contained.
    pub recovered: u64,
    pub outcomes: Outcomes,
}

impl From<&Tally> for Counts {
    fn from(t: &Tally) -> Self {
        Counts {
            injected: t.injected,
            fired: t.fired,
            manifested: t.manifested(),
            recovered: t.recovered(),
            outcomes: t.into(),
        }
    }
}

/// Counts of a campaign or of the run, keyed as the top level has always
/// been (`injections`, then `outcomes`).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Totals {
    pub injections: u64,
    pub outcomes: Outcomes,
    pub fired: u64,
    pub manifested: u64,
    pub recovered: u64,
}

impl From<&Tally> for Totals {
    fn from(t: &Tally) -> Self {
        Totals {
            injections: t.injected,
            outcomes: t.into(),
            fired: t.fired,
            manifested: t.manifested(),
            recovered: t.recovered(),
        }
    }
}

impl Totals {
    fn counts(&self) -> Counts {
        Counts {
            injected: self.injections,
            fired: self.fired,
            manifested: self.manifested,
            recovered: self.recovered,
            outcomes: self.outcomes,
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Latency {
    pub n: usize,
    pub p50: Quantity,
    pub p90: Quantity,
    pub p99: Quantity,
    pub max: Quantity,
}

fn latency(values: &[u64], unit: Unit, k: f64) -> Option<Latency> {
    let q = |v: u64| Quantity::of(v, unit, k);
    describe(values).map(|d| Latency {
        n: d.n,
        p50: q(d.p50),
        p90: q(d.p90),
        p99: q(d.p99),
        max: q(d.max),
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct TargetRow {
    pub target: String,
    #[serde(flatten)]
    pub counts: Counts,
}

#[derive(Debug, Clone, Serialize)]
pub struct RaisedRow {
    pub outcome: &'static str,
    pub vector: Option<u8>,
    pub trap: Option<String>,
    pub count: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct InjectorRow {
    pub injector: String,
    #[serde(flatten)]
    pub counts: Counts,
    pub recovery: Option<Latency>,
    pub trap: Option<Latency>,
    pub raised: Vec<RaisedRow>,
    pub targets: Vec<TargetRow>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub registers: Vec<RegisterRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RegisterRow {
    pub register: String,
    #[serde(flatten)]
    pub counts: Counts,
}

#[derive(Debug, Clone, Serialize)]
pub struct CrashSite {
    pub site: String,
    pub count: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct CampaignRow {
    pub name: String,
    pub configs: Vec<String>,
    #[serde(flatten)]
    pub totals: Totals,
    pub recovery: Option<Latency>,
    pub trap: Option<Latency>,
    pub result: Option<&'static str>,
    pub result_message: Option<String>,
    pub complete: bool,
    pub expected: u64,
    pub missing_count: u64,
    pub missing: Vec<u32>,
    pub duplicates: Vec<u32>,
    pub kernel_crash: Option<Crash>,
    pub kernel_crashes: Vec<Crash>,
    pub reboot_ms: Vec<u64>,
    pub per_injector: Vec<InjectorRow>,
}

fn status_name(s: Status) -> &'static str {
    match s {
        Status::Ok => "ok",
        Status::Failed => "failed",
        Status::Skipped => "skipped",
    }
}

fn per_injector(b: &Breakdown, unit: Unit, k: f64) -> Vec<InjectorRow> {
    b.injectors
        .iter()
        .map(|v| InjectorRow {
            injector: v.injector.clone(),
            counts: (&v.total).into(),
            recovery: latency(&v.recovery, unit, k),
            trap: latency(&v.trap, unit, k),
            raised: v
                .raised
                .iter()
                .map(|(r, n)| RaisedRow {
                    outcome: r.outcome.name(),
                    vector: r.vector,
                    trap: r.trap.clone(),
                    count: *n,
                })
                .collect(),
            targets: v
                .targets
                .iter()
                .map(|(t, tally)| TargetRow {
                    target: t.clone(),
                    counts: tally.into(),
                })
                .collect(),
            registers: v
                .registers
                .iter()
                .map(|(r, tally)| RegisterRow {
                    register: r.clone(),
                    counts: tally.into(),
                })
                .collect(),
        })
        .collect()
}

/// Build the tree of `view` of `run` in `unit`.
pub fn report(run: &Run, view: &CampaignView, unit: Unit) -> Result<CampaignReport, UnitError> {
    let k = unit.scale(run.tsc_hz())?;
    Ok(CampaignReport {
        source: run.source.clone(),
        mode: run.mode().as_str().to_string(),
        unit: unit.as_str(),
        commit: run.commit().map(|(c, _)| c.to_string()),
        totals: (&view.overall.total).into(),
        complete: view.complete(),
        verdict: if view.pass() { "pass" } else { "fail" },
        problems: view.problems.clone(),
        end_record: view.end_record,
        integrity_errors: view.integrity_errors,
        recovery: latency(&view.overall.recovery, unit, k),
        trap: latency(&view.overall.trap, unit, k),
        per_injector: per_injector(&view.overall, unit, k),
        campaigns: view
            .campaigns
            .iter()
            .map(|c| CampaignRow {
                name: c.name.clone(),
                configs: c.configs.clone(),
                totals: (&c.breakdown.total).into(),
                recovery: latency(&c.breakdown.recovery, unit, k),
                trap: latency(&c.breakdown.trap, unit, k),
                result: c.result.as_ref().map(|(s, _)| status_name(*s)),
                result_message: c.result.as_ref().and_then(|(_, m)| m.clone()),
                complete: c.complete(),
                expected: c.sequence.expected,
                missing_count: c.sequence.missing_count,
                missing: c.sequence.missing.clone(),
                duplicates: c.sequence.duplicates.clone(),
                kernel_crash: c.crash.clone(),
                kernel_crashes: c.crashes.clone(),
                reboot_ms: c.reboot_ms.clone(),
                per_injector: per_injector(&c.breakdown, unit, k),
            })
            .collect(),
        crash_sites: view
            .crash_sites()
            .into_iter()
            .map(|(site, count)| CrashSite { site, count })
            .collect(),
        theseus_recovered_pct: super::THESEUS_RECOVERED_PCT,
        other_crashes: view.other_crashes.clone(),
        caption: run_caption(run, unit),
    })
}

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

/// `campaign default` when the run holds one campaign (the usual case),
/// with the name in every title when it holds several.
fn title(c: &CampaignRow) -> String {
    let configs = if c.configs.is_empty() {
        String::new()
    } else {
        format!(", config {}", c.configs.join(", "))
    };
    format!(
        "campaign {} ({} injections{configs})",
        c.name, c.totals.injections
    )
}

/// Count cells of a tally: injected, fired, manifested, each outcome.
fn tally_cells(t: &Counts) -> Vec<String> {
    let mut row = vec![
        t.injected.to_string(),
        share(t.fired, t.injected),
        share(t.manifested, t.injected),
    ];
    row.extend(
        Outcome::ALL
            .iter()
            .map(|&o| share(t.outcomes.get(o), t.injected)),
    );
    row
}

fn outcomes_table(c: &CampaignRow) -> Table {
    let mut cols = vec![
        ("injector", Align::Left),
        ("target", Align::Left),
        ("injected", Align::Right),
        ("fired", Align::Right),
        ("manifested", Align::Right),
    ];
    cols.extend(Outcome::ALL.iter().map(|o| (o.name(), Align::Right)));
    let mut t = Table::new(&cols);
    for v in &c.per_injector {
        for target in &v.targets {
            let mut row = vec![v.injector.clone(), target.target.clone()];
            row.extend(tally_cells(&target.counts));
            t.push(row);
        }
        if v.targets.len() > 1 {
            let mut row = vec![v.injector.clone(), "all".into()];
            row.extend(tally_cells(&v.counts));
            t.push(row);
        }
    }
    let mut row = vec!["all".into(), "all".into()];
    row.extend(tally_cells(&c.totals.counts()));
    t.push(row);
    t
}

fn theseus_row(label: &str, t: &Counts) -> Vec<String> {
    let m = t.manifested;
    vec![
        label.to_string(),
        t.injected.to_string(),
        share(m, t.injected),
        share(t.recovered, m),
        share(t.outcomes.hang, m),
        share(t.outcomes.corrupted, m),
        share(t.outcomes.kernel_crash, m),
    ]
}

fn theseus_table(c: &CampaignRow) -> Table {
    let mut t = Table::new(&[
        ("injector", Align::Left),
        ("injected", Align::Right),
        ("manifested", Align::Right),
        ("recovered/contained", Align::Right),
        ("hang", Align::Right),
        ("corrupted", Align::Right),
        ("kernel crashes", Align::Right),
    ]);
    for v in &c.per_injector {
        t.push(theseus_row(&v.injector, &v.counts));
    }
    t.push(theseus_row("all", &c.totals.counts()));
    t
}

/// Recovered share per injector, and per register for register flips,
/// beside Theseus's figure.
fn recovered_table(c: &CampaignRow) -> Table {
    let mut t = Table::new(&[
        ("injector", Align::Left),
        ("register", Align::Left),
        ("manifested", Align::Right),
        ("recovered", Align::Right),
        ("kernel crashes", Align::Right),
        ("recovered share", Align::Right),
        ("vs Theseus 69.4%", Align::Right),
    ]);
    let row = |injector: &str, register: &str, n: &Counts| {
        let m = n.manifested;
        vec![
            injector.to_string(),
            register.to_string(),
            m.to_string(),
            n.recovered.to_string(),
            n.outcomes.kernel_crash.to_string(),
            if m == 0 {
                DASH.into()
            } else {
                format!("{:.1}%", pct(n.recovered, m))
            },
            if m == 0 {
                DASH.into()
            } else {
                format!(
                    "{:+.1} pp",
                    pct(n.recovered, m) - super::THESEUS_RECOVERED_PCT
                )
            },
        ]
    };
    for v in &c.per_injector {
        t.push(row(&v.injector, "all", &v.counts));
        for r in v.registers.iter().filter(|r| r.counts.manifested > 0) {
            t.push(row(&v.injector, &r.register, &r.counts));
        }
    }
    t.push(row("all", "all", &c.totals.counts()));
    t
}

/// The campaign's kernel crashes grouped by site.
fn crash_table(c: &CampaignRow) -> Table {
    let mut t = Table::new(&[
        ("site", Align::Left),
        ("cause", Align::Left),
        ("crashes", Align::Right),
        ("injections", Align::Left),
        ("resumed", Align::Right),
    ]);
    let mut groups: Vec<(String, String, Vec<&Crash>)> = Vec::new();
    for k in &c.kernel_crashes {
        let site = k.site.clone().unwrap_or_else(|| DASH.into());
        match groups
            .iter_mut()
            .find(|(s, cause, _)| *s == site && *cause == k.cause)
        {
            Some((_, _, v)) => v.push(k),
            None => groups.push((site, k.cause.clone(), vec![k])),
        }
    }
    groups.sort_by(|a, b| b.2.len().cmp(&a.2.len()).then_with(|| a.0.cmp(&b.0)));
    for (site, cause, v) in groups {
        let mut which: Vec<String> = v
            .iter()
            .take(5)
            .map(|k| format!("{} ({} → {})", k.index, k.injector, k.target))
            .collect();
        if v.len() > 5 {
            which.push("…".into());
        }
        t.push(vec![
            site,
            cause,
            v.len().to_string(),
            which.join(", "),
            v.iter().filter(|k| k.resumed).count().to_string(),
        ]);
    }
    t
}

fn latency_table(
    c: &CampaignRow,
    pick: fn(&InjectorRow) -> Option<Latency>,
    all: Option<Latency>,
) -> Table {
    let mut t = Table::new(&[
        ("injector", Align::Left),
        ("n", Align::Right),
        ("p50", Align::Right),
        ("p90", Align::Right),
        ("p99", Align::Right),
        ("max", Align::Right),
    ]);
    let row = |label: &str, d: Option<Latency>| {
        let mut r = vec![label.to_string()];
        match d {
            Some(d) => r.extend([
                d.n.to_string(),
                d.p50.to_string(),
                d.p90.to_string(),
                d.p99.to_string(),
                d.max.to_string(),
            ]),
            None => r.extend(
                std::iter::once("0".to_string()).chain(std::iter::repeat_n(DASH.to_string(), 4)),
            ),
        }
        r
    };
    for v in &c.per_injector {
        t.push(row(&v.injector, pick(v)));
    }
    t.push(row("all", all));
    t
}

fn raised_table(c: &CampaignRow) -> Table {
    let mut t = Table::new(&[
        ("injector", Align::Left),
        ("outcome", Align::Left),
        ("vector", Align::Left),
        ("trap code", Align::Left),
        ("count", Align::Right),
    ]);
    for v in &c.per_injector {
        for r in &v.raised {
            t.push(vec![
                v.injector.clone(),
                r.outcome.into(),
                r.vector
                    .map_or(DASH.into(), |x| format!("{} ({x})", vector_mnemonic(x))),
                r.trap.clone().unwrap_or_else(|| DASH.into()),
                share(r.count, v.counts.manifested),
            ]);
        }
    }
    t
}

fn completeness_table(view: &CampaignReport) -> Table {
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
        // The crash counts as an injection but sent no record.
        let records = c.totals.injections - u64::from(c.kernel_crash.is_some());
        t.push(vec![
            c.name.clone(),
            records.to_string(),
            if c.expected == 0 {
                DASH.into()
            } else {
                format!("0–{}", c.expected - 1)
            },
            c.missing_count.to_string(),
            c.duplicates.len().to_string(),
            c.result.unwrap_or("missing").to_string(),
            {
                let resumed = c.kernel_crashes.iter().filter(|k| k.resumed).count();
                match (&c.kernel_crash, resumed) {
                    (None, 0) => "none".into(),
                    (None, n) => format!("{n} resumed"),
                    (Some(k), 0) => format!("at injection {}", k.index),
                    (Some(k), n) => format!("{n} resumed, then at injection {}", k.index),
                }
            },
            if c.complete { "yes" } else { "no" }.into(),
        ]);
    }
    t
}

impl View for CampaignReport {
    const LATEX_LABEL: &'static str = "tab:traplab-campaign";

    fn document(&self) -> Document {
        let u = self.unit;
        let mut doc = Document {
            caption: self.caption.clone(),
            ..Document::default()
        };
        for c in &self.campaigns {
            let full = title(c);
            let name = format!("campaign {}", c.name);
            let label = |s: &str| format!("{}-{s}", c.name);
            doc.sections.push(Section {
                title: format!(
                    "{full}: outcomes per injector and target, count (% of injected); manifested = not masked"
                ),
                label: label("outcomes"),
                table: outcomes_table(c),
                code_columns: 2,
                footer: Vec::new(),
            });
            doc.sections.push(Section {
                title: format!(
                    "{name}: fault-injection summary (as in Theseus, OSDI'20); manifested as % of injected, the rest as % of manifested; recovered/contained = trapped + contained"
                ),
                label: label("summary"),
                table: theseus_table(c),
                code_columns: 1,
                footer: Vec::new(),
            });
            doc.sections.push(Section {
                title: format!(
                    "{name}: recovery latency ({u}): fault or watchdog → broken instance discarded → fresh instance ready"
                ),
                label: label("recovery"),
                table: latency_table(c, |v| v.recovery, c.recovery),
                code_columns: 1,
                footer: Vec::new(),
            });
            doc.sections.push(Section {
                title: format!(
                    "{name}: trap latency under injection ({u}), trapped and contained: exception → error back in the embedder"
                ),
                label: label("trap"),
                table: latency_table(c, |v| v.trap, c.trap),
                code_columns: 1,
                footer: Vec::new(),
            });
            doc.sections.push(Section {
                title: format!(
                    "{name}: recovered share = (trapped + contained) / manifested, per injector and register, beside Theseus (OSDI'20: {}% of {} manifested faults recovered)",
                    super::THESEUS_RECOVERED_PCT,
                    super::THESEUS_MANIFESTED
                ),
                label: label("recovered"),
                table: recovered_table(c),
                code_columns: 2,
                footer: Vec::new(),
            });
            if !c.kernel_crashes.is_empty() {
                let mut footer = Vec::new();
                let resumed = c.kernel_crashes.iter().filter(|k| k.resumed).count();
                if resumed > 0 {
                    let mut ms = c.reboot_ms.clone();
                    ms.sort_unstable();
                    footer.push(format!(
                        "{resumed} crash(es) resumed by a reboot (the host booted a fresh kernel at the next index){}",
                        if ms.is_empty() {
                            String::new()
                        } else {
                            format!(
                                "; a reboot cost median {:.1} s, max {:.1} s of wall clock ({:.1} s in all)",
                                ms[ms.len() / 2] as f64 / 1000.0,
                                ms[ms.len() - 1] as f64 / 1000.0,
                                ms.iter().sum::<u64>() as f64 / 1000.0
                            )
                        }
                    ));
                }
                doc.sections.push(Section {
                    title: format!(
                        "{name}: kernel crashes by site (fault symbol, or the panic's first frame outside the panic machinery)"
                    ),
                    label: label("crashes"),
                    table: crash_table(c),
                    code_columns: 2,
                    footer,
                });
            }
            let raised = raised_table(c);
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
            if self.end_record {
                "present"
            } else {
                "MISSING"
            },
            self.integrity_errors,
            if self.complete {
                "complete"
            } else {
                "INCOMPLETE"
            },
        )];
        if self.problems.is_empty() {
            footer.push(match self.totals.counts().outcomes.kernel_crash {
                0 => format!(
                    "verdict: pass: {} injection(s), zero kernel crashes, every record delivered",
                    self.totals.injections
                ),
                n => format!(
                    "verdict: pass: {} injection(s), every record delivered; {n} kernel crash(es), each resumed by a reboot",
                    self.totals.injections
                ),
            });
        } else {
            footer.push(format!(
                "verdict: FAIL ({} problem(s))",
                self.problems.len()
            ));
            footer.extend(self.problems.iter().map(|p| format!("  - {p}")));
        }
        doc.sections.push(Section {
            title: "sequence completeness".into(),
            label: "completeness".into(),
            table: completeness_table(self),
            code_columns: 1,
            footer,
        });
        doc
    }

    /// The tidy CSV; see the module docs.
    fn csv(&self) -> Table {
        let mode = self.mode.as_str();
        let mut t = Table::new(
            &[
                "campaign", "injector", "target", "quantity", "value", "unit", "mode",
            ]
            .map(|c| (c, Align::Left)),
        );
        let counts = |c: &str, inj: &str, target: &str, tally: &Counts, t: &mut Table| {
            let mut push = |q: &str, v: u64| {
                t.push(vec![
                    c.into(),
                    inj.into(),
                    target.into(),
                    q.into(),
                    v.to_string(),
                    "injections".into(),
                    mode.into(),
                ]);
            };
            push("injected", tally.injected);
            push("fired", tally.fired);
            push("manifested", tally.manifested);
            push("recovered", tally.recovered);
            for o in Outcome::ALL {
                push(o.name(), tally.outcomes.get(o));
            }
        };
        for c in &self.campaigns {
            for v in &c.per_injector {
                for target in &v.targets {
                    counts(&c.name, &v.injector, &target.target, &target.counts, &mut t);
                }
                counts(&c.name, &v.injector, "all", &v.counts, &mut t);
                for (what, d) in [("recovery", v.recovery), ("trap", v.trap)] {
                    let Some(d) = d else { continue };
                    t.push(vec![
                        c.name.clone(),
                        v.injector.clone(),
                        "all".into(),
                        format!("{what}_n"),
                        d.n.to_string(),
                        "injections".into(),
                        mode.into(),
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
                            x.to_string(),
                            self.unit.into(),
                            mode.into(),
                        ]);
                    }
                }
            }
            counts(&c.name, "all", "all", &c.totals.counts(), &mut t);
        }
        t
    }
}
