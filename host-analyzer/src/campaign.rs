//! The fault-injection view of a run: what came of every injection of a
//! campaign, per injector and target, how long recovery took, and whether
//! the campaign is a success (it finished, every injection's record
//! arrived, the kernel never went down). Pure: a [`Run`] in, a
//! [`CampaignView`] out, in cycles; rendering is in [`render`].
//!
//! # What it reads
//!
//! - `injection` records ([`traplab_wire::Injection`]), grouped by their
//!   `campaign` name, in stream order.
//! - The `result` record of experiment `campaign.<name>`: the kernel writes
//!   it when a campaign has finished. Without it the campaign did not finish.
//! - `reboot` records ([`traplab_wire::Reboot`], written by the host): a
//!   boot went down during a campaign injection and a fresh kernel resumed
//!   the campaign at the next index. The host's `kernel_crash` injection
//!   record is an outcome like any other (ingest puts it among the
//!   injections), its cause and site go into the crash tables, and the
//!   campaign goes on: a resumed crash is not a problem.
//! - A `fault` or `panic` record of the last boot: the kernel died and no
//!   boot resumed. The injection in flight is counted as one
//!   [`Outcome::KernelCrash`] (the kernel never writes that outcome: it is
//!   dead by then). Which injection: the record's structured `during`
//!   (campaign, injection index, injector, target, site); in streams from
//!   before it, its text when it reads `campaign <name> injection <index>
//!   <injector> <target>` (any prefix of that is used as far as it goes;
//!   the `campaign.<name>/<config>` form names the campaign only);
//!   otherwise the campaign of the last injection record, index last + 1,
//!   injector and target `unknown` — but only while that campaign had not
//!   finished (no result record yet). A kernel fault outside any campaign
//!   is not an injection outcome; it still fails the verdict.
//! - The stream's integrity (ingest's diagnostics, the end record).
//!
//! # Verdict
//!
//! A campaign run passes when: no kernel crash that ended the run (crashes
//! the host resumed by a reboot are outcomes, not problems) and no kernel
//! fault outside a campaign, an end record is present, the stream has no integrity errors (no
//! lost, damaged or duplicated lines), and every campaign is complete: its
//! result record arrived with status `ok`, and its injection indices are
//! exactly `0..n` — no index missing, none twice. Anything else is a
//! finding, each stated as one problem line.
//!
//! # Counting
//!
//! Per (injector, target): injected (records, plus the crash), fired
//! (`fired = true`; a crash counts as fired), manifested (every outcome but
//! `masked`, as in the Theseus OSDI'20 fault-injection table), each outcome.
//! "Recovered/contained" = trapped + contained: the kernel turned the fault
//! into an error for the embedder and went on. Recovery latency is
//! `recovery_cycles` of every injection that has it; trap latency under
//! injection is `trap_cycles` of trapped and contained injections.

pub mod render;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use traplab_wire::{Injection, InjectorKind, Outcome, Status};

/// Theseus's fault-injection study (Boos et al., OSDI'20): of 617
/// manifested faults, 69.4% were recovered. The reference figure the
/// recovered share is shown beside.
pub const THESEUS_RECOVERED_PCT: f64 = 69.4;
pub const THESEUS_MANIFESTED: u64 = 617;

/// The register a `bit_flip_register` injection flipped, from its site
/// (`rsp bit 5`); `None` for other injectors, or a site not known (a
/// crash the kernel could not report).
pub fn flipped_register(i: &Injection) -> Option<&str> {
    if i.injector != "bit_flip_register" {
        return None;
    }
    let (reg, rest) = i.site.split_once(' ')?;
    rest.starts_with("bit ").then_some(reg)
}

use crate::ingest::{Completion, Run};
use crate::stats::{Distribution, describe};

/// Experiment name prefix of a campaign's result record.
pub const RESULT_PREFIX: &str = "campaign.";

/// Injector and target name used when a crash record does not say.
pub const UNKNOWN: &str = "unknown";

/// Where tables and figures list the injector named `name`: in
/// [`InjectorKind::ALL`] order, a name this reader does not know after them.
pub fn injector_rank(name: &str) -> usize {
    InjectorKind::ALL
        .iter()
        .position(|k| k.name() == name)
        .unwrap_or(InjectorKind::ALL.len())
}

/// Counts of a set of injections.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub injected: u64,
    pub fired: u64,
    /// Indexed like [`Outcome::ALL`].
    pub outcomes: [u64; 6],
}

impl Tally {
    pub fn add(&mut self, i: &Injection) {
        self.injected += 1;
        self.fired += u64::from(i.fired);
        self.outcomes[outcome_index(i.outcome)] += 1;
    }

    pub fn count(&self, o: Outcome) -> u64 {
        self.outcomes[outcome_index(o)]
    }

    /// Every outcome but `masked`: the fault became visible.
    pub fn manifested(&self) -> u64 {
        self.injected - self.count(Outcome::Masked)
    }

    /// Trapped + contained: the kernel turned the fault into an error and
    /// went on.
    pub fn recovered(&self) -> u64 {
        self.count(Outcome::Trapped) + self.count(Outcome::Contained)
    }

    pub fn merge(&mut self, o: &Tally) {
        self.injected += o.injected;
        self.fired += o.fired;
        for (a, b) in self.outcomes.iter_mut().zip(o.outcomes) {
            *a += b;
        }
    }
}

pub fn outcome_index(o: Outcome) -> usize {
    Outcome::ALL.iter().position(|&x| x == o).unwrap_or(0)
}

/// What the fault raised: one row of the "what happened" table.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Raised {
    pub outcome: Outcome,
    pub vector: Option<u8>,
    pub trap: Option<String>,
}

/// One injector's injections.
#[derive(Debug, Clone, Default)]
pub struct InjectorView {
    pub injector: String,
    pub total: Tally,
    /// Per target, in first-seen order.
    pub targets: Vec<(String, Tally)>,
    /// `recovery_cycles` of every injection that has it.
    pub recovery: Vec<u64>,
    /// `trap_cycles` of trapped and contained injections.
    pub trap: Vec<u64>,
    /// What the faults raised, with counts.
    pub raised: BTreeMap<Raised, u64>,
    /// Per flipped register (`bit_flip_register`), in register order.
    pub registers: BTreeMap<String, Tally>,
}

impl InjectorView {
    pub fn recovery_dist(&self) -> Option<Distribution> {
        describe(&self.recovery)
    }

    pub fn trap_dist(&self) -> Option<Distribution> {
        describe(&self.trap)
    }
}

/// Tables over a set of injections: per injector (in [`injector_rank`] order)
/// and in total.
#[derive(Debug, Clone, Default)]
pub struct Breakdown {
    pub injectors: Vec<InjectorView>,
    pub total: Tally,
    pub recovery: Vec<u64>,
    pub trap: Vec<u64>,
}

impl Breakdown {
    pub fn of<'a>(injections: impl IntoIterator<Item = &'a Injection>) -> Breakdown {
        let mut b = Breakdown::default();
        for i in injections {
            let pos = match b.injectors.iter().position(|v| v.injector == i.injector) {
                Some(p) => p,
                None => {
                    b.injectors.push(InjectorView {
                        injector: i.injector.clone(),
                        ..InjectorView::default()
                    });
                    b.injectors.len() - 1
                }
            };
            let v = &mut b.injectors[pos];
            v.total.add(i);
            match v.targets.iter_mut().find(|(t, _)| *t == i.target) {
                Some((_, t)) => t.add(i),
                None => {
                    let mut t = Tally::default();
                    t.add(i);
                    v.targets.push((i.target.clone(), t));
                }
            }
            if let Some(reg) = flipped_register(i) {
                v.registers.entry(reg.to_string()).or_default().add(i);
            }
            if let Some(c) = i.recovery_cycles {
                v.recovery.push(c);
                b.recovery.push(c);
            }
            if matches!(i.outcome, Outcome::Trapped | Outcome::Contained)
                && let Some(c) = i.trap_cycles
            {
                v.trap.push(c);
                b.trap.push(c);
            }
            if i.outcome != Outcome::Masked {
                *v.raised
                    .entry(Raised {
                        outcome: i.outcome,
                        vector: i.vector,
                        trap: i.trap.clone(),
                    })
                    .or_default() += 1;
            }
            b.total.add(i);
        }
        // Known injectors in their canonical order, others after (stable:
        // first-seen), `unknown` (a crash nobody named) last.
        b.injectors.sort_by_key(|v| {
            if v.injector == UNKNOWN {
                usize::MAX
            } else {
                injector_rank(&v.injector)
            }
        });
        b
    }
}

/// The kernel crash charged to an injection.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Crash {
    /// Implied where it is shown (under its campaign).
    #[serde(skip)]
    pub campaign: String,
    pub index: u32,
    pub injector: String,
    pub target: String,
    /// `fault #PF (vector 14) at rip 0x… (sym), cr2 0x…` or `panic: …`.
    pub what: String,
    /// The record's `during`, as text.
    pub during: String,
    /// `fault`, `panic`, `hang` or `died` (no record: a triple fault).
    pub cause: String,
    /// Where: the fault's symbol, or the first frame of the panic outside
    /// the panic machinery; `None` for a hang or a death without a record.
    pub site: Option<String>,
    /// Whether the host booted a fresh kernel and the campaign went on.
    pub resumed: bool,
}

/// Whether a campaign's injection records are all there.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sequence {
    /// Indices `0..expected` should be present: one past the highest index
    /// seen (the crash's included).
    pub expected: u64,
    /// How many indices below `expected` have no record.
    pub missing_count: u64,
    /// The first [`MISSING_LISTED`] of them, ascending.
    pub missing: Vec<u32>,
    /// Indices with more than one record, ascending.
    pub duplicates: Vec<u32>,
}

impl Sequence {
    pub fn contiguous(&self) -> bool {
        self.missing_count == 0 && self.duplicates.is_empty()
    }
}

/// Missing indices listed individually; beyond this they are only counted.
pub const MISSING_LISTED: usize = 100;

/// One campaign of the run.
#[derive(Debug, Clone)]
pub struct Campaign {
    pub name: String,
    /// Engine configuration(s) of its injections, first-seen order.
    pub configs: Vec<String>,
    /// Injection records in stream order, the crash (as a synthesized
    /// `kernel_crash` injection) last.
    pub injections: Vec<Injection>,
    /// The kernel crash that ended the run during this campaign, with no
    /// boot resuming it (a problem).
    pub crash: Option<Crash>,
    /// Every kernel crash of the campaign: those the host resumed by a
    /// reboot (in order), then `crash`.
    pub crashes: Vec<Crash>,
    /// Wall-clock milliseconds each reboot cost, where known
    /// ([`traplab_wire::Reboot::lost_ms`]).
    pub reboot_ms: Vec<u64>,
    /// Status and message of its `campaign.<name>` result record.
    pub result: Option<(Status, Option<String>)>,
    pub sequence: Sequence,
    pub breakdown: Breakdown,
}

impl Campaign {
    /// The campaign finished and every injection record arrived.
    pub fn complete(&self) -> bool {
        self.result.is_some() && self.sequence.contiguous() && self.crash.is_none()
    }
}

/// Everything `traplab campaign` shows.
#[derive(Debug, Clone, Default)]
pub struct CampaignView {
    pub campaigns: Vec<Campaign>,
    /// All campaigns together.
    pub overall: Breakdown,
    /// Kernel faults and panics not charged to any injection.
    pub other_crashes: Vec<String>,
    pub end_record: bool,
    /// Error diagnostics of the stream (lost, damaged, duplicated lines).
    pub integrity_errors: usize,
    /// Why the verdict fails; empty when it passes.
    pub problems: Vec<String>,
}

impl CampaignView {
    /// No campaign at all: no injection record, no campaign result record,
    /// no crash during a campaign.
    pub fn is_empty(&self) -> bool {
        self.campaigns.is_empty()
    }

    pub fn injections(&self) -> u64 {
        self.overall.total.injected
    }

    pub fn crashes(&self) -> u64 {
        self.overall.total.count(Outcome::KernelCrash)
    }

    /// Kernel crashes by site (symbol; `hang` or `unknown` without one),
    /// most frequent first, over every campaign.
    pub fn crash_sites(&self) -> Vec<(String, u64)> {
        let mut by: BTreeMap<String, u64> = BTreeMap::new();
        for k in self.campaigns.iter().flat_map(|c| &c.crashes) {
            let site = k.site.clone().unwrap_or_else(|| match k.cause.as_str() {
                "hang" => "(hang: no record)".to_string(),
                _ => format!("({} without a site)", k.cause),
            });
            *by.entry(site).or_default() += 1;
        }
        let mut v: Vec<(String, u64)> = by.into_iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v
    }

    /// End record present, no integrity errors, every campaign complete.
    pub fn complete(&self) -> bool {
        self.end_record
            && self.integrity_errors == 0
            && self.campaigns.iter().all(Campaign::complete)
    }

    pub fn pass(&self) -> bool {
        self.problems.is_empty()
    }
}

/// What a crash record's `during` says, as far as it goes:
/// `campaign <name> injection <index> <injector> <target>`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct During {
    pub campaign: Option<String>,
    pub index: Option<u32>,
    pub injector: Option<String>,
    pub target: Option<String>,
}

/// What a structured `during` names; an older stream's free text is read
/// by [`parse_during`].
pub fn read_during(d: &traplab_wire::During) -> During {
    if let Some(text) = &d.text
        && d.campaign.is_none()
        && d.experiment.is_none()
    {
        return parse_during(text);
    }
    let campaign = d.campaign.clone().or_else(|| {
        d.experiment
            .as_deref()
            .and_then(|e| e.strip_prefix(RESULT_PREFIX))
            .map(str::to_string)
    });
    During {
        campaign,
        index: d.injection,
        injector: d.injector.clone(),
        target: d.target.clone(),
    }
}

/// The grammar of `during` text in streams from before it was structured.
pub fn parse_during(during: &str) -> During {
    let mut d = During::default();
    // The experiment/config form other experiments use: `campaign.<name>/<config>`.
    if let Some(rest) = during.strip_prefix(RESULT_PREFIX) {
        let name = rest.split(['/', ' ']).next().unwrap_or_default();
        if !name.is_empty() {
            d.campaign = Some(name.to_string());
        }
        return d;
    }
    let mut words = during.split_whitespace();
    if words.next() != Some("campaign") {
        return d;
    }
    d.campaign = words.next().map(str::to_string);
    if words.next() != Some("injection") {
        return d;
    }
    d.index = words.next().and_then(|w| w.parse().ok());
    if d.index.is_none() {
        return d;
    }
    d.injector = words.next().map(str::to_string);
    d.target = words.next().map(str::to_string);
    d
}

/// A kernel death as found in the run: what it was and where.
struct Death {
    what: String,
    during: traplab_wire::During,
    vector: Option<u8>,
    cause: &'static str,
    site: Option<String>,
}

/// The frame a panic came from: the first of its backtrace outside the
/// panic machinery.
pub fn panic_site(p: &traplab_wire::Panic) -> Option<String> {
    p.origin(1)
}

fn deaths(run: &Run) -> Vec<Death> {
    let faults = run.faults.iter().map(|f| {
        let sym = f
            .symbol
            .as_deref()
            .map(|s| format!(" ({s})"))
            .unwrap_or_default();
        let cr2 = f.cr2.map(|c| format!(", cr2 {c:#x}")).unwrap_or_default();
        Death {
            what: format!(
                "kernel fault {} (vector {}) at rip {:#x}{sym}{cr2}",
                f.exception, f.vector, f.rip
            ),
            during: f.during.clone(),
            vector: Some(f.vector),
            cause: "fault",
            site: f.symbol.clone(),
        }
    });
    let panics = run.panics.iter().map(|p| {
        let loc = p
            .location
            .as_deref()
            .map(|l| format!(" at {l}"))
            .unwrap_or_default();
        Death {
            what: format!(
                "kernel panic: {}{loc}{}",
                p.message,
                p.origin(4)
                    .map(|o| format!(" (in {o})"))
                    .unwrap_or_default()
            ),
            during: p.during.clone(),
            vector: None,
            cause: "panic",
            site: panic_site(p),
        }
    });
    faults.chain(panics).collect()
}

/// Build the view of `run`.
pub fn analyze(run: &Run) -> CampaignView {
    // Campaign names in first-seen order: injection records, then result
    // records of campaigns that lost every injection record.
    let mut names: Vec<String> = Vec::new();
    for i in &run.injections {
        if !names.contains(&i.campaign) {
            names.push(i.campaign.clone());
        }
    }
    let result_of = |name: &str| {
        run.series
            .iter()
            .find(|s| {
                s.experiment
                    .strip_prefix(RESULT_PREFIX)
                    .is_some_and(|n| n == name)
            })
            .and_then(|s| s.result.as_ref())
            .map(|r| (r.status, r.message.clone()))
    };
    for s in &run.series {
        if let Some(n) = s.experiment.strip_prefix(RESULT_PREFIX)
            && s.result.is_some()
            && !names.iter().any(|x| x == n)
        {
            names.push(n.to_string());
        }
    }

    // Charge each kernel death to the injection in flight, if any.
    // Each crash with the vector and site its synthesized record carries.
    type Charged = (Crash, (Option<u8>, Option<String>));
    let mut crashes: Vec<Charged> = Vec::new();
    let mut other_crashes = Vec::new();
    for d in deaths(run) {
        let said = read_during(&d.during);
        let in_flight = said.campaign.clone().or_else(|| {
            // Nothing said: the campaign of the last record, while unfinished.
            run.injections
                .last()
                .map(|i| i.campaign.clone())
                .filter(|c| result_of(c).is_none())
        });
        let Some(campaign) = in_flight else {
            other_crashes.push(format!("{} during {}", d.what, d.during));
            continue;
        };
        // A death after the campaign's last index resumed is the run's.
        if crashes.iter().any(|(c, _)| c.campaign == campaign) {
            // A second death record (a fault whose handler then panicked)
            // is the same crash.
            other_crashes.push(format!("{} during {}", d.what, d.during));
            continue;
        }
        let last = run
            .injections
            .iter()
            .filter(|i| i.campaign == campaign)
            .map(|i| i.index)
            .max();
        let index = said
            .index
            .unwrap_or_else(|| last.map_or(0, |l| l.saturating_add(1)));
        if !names.contains(&campaign) {
            names.push(campaign.clone());
        }
        crashes.push((
            Crash {
                campaign,
                index,
                injector: said.injector.unwrap_or_else(|| UNKNOWN.into()),
                target: said.target.unwrap_or_else(|| UNKNOWN.into()),
                what: d.what,
                during: d.during.to_string(),
                cause: d.cause.to_string(),
                site: d.site,
                resumed: false,
            },
            (d.vector, d.during.site.clone()),
        ));
    }

    let mut campaigns = Vec::new();
    for name in names {
        let mut injections: Vec<Injection> = run
            .injections
            .iter()
            .filter(|i| i.campaign == name)
            .cloned()
            .collect();
        let mut configs: Vec<String> = Vec::new();
        for i in &injections {
            if !configs.contains(&i.config) {
                configs.push(i.config.clone());
            }
        }
        let crash = crashes
            .iter()
            .find(|(c, _)| c.campaign == name)
            .map(|(c, (vector, site))| {
                injections.push(Injection {
                    campaign: name.clone(),
                    index: c.index,
                    injector: c.injector.clone(),
                    target: c.target.clone(),
                    config: configs.first().cloned().unwrap_or_else(|| UNKNOWN.into()),
                    trigger: UNKNOWN.into(),
                    point: 0,
                    site: site.clone().unwrap_or_else(|| UNKNOWN.into()),
                    fired: true,
                    outcome: Outcome::KernelCrash,
                    trap: None,
                    vector: *vector,
                    result: None,
                    detail: Some(c.what.clone()),
                    trap_cycles: None,
                    recovery_cycles: None,
                });
                c.clone()
            });
        let sequence = sequence(&injections);
        let breakdown = Breakdown::of(&injections);
        let resumed = run
            .reboots
            .iter()
            .filter(|r| r.reboot.crash.campaign == name);
        let mut all_crashes: Vec<Crash> = resumed
            .clone()
            .map(|r| Crash {
                campaign: name.clone(),
                index: r.reboot.crash.index,
                injector: r.reboot.crash.injector.clone(),
                target: r.reboot.crash.target.clone(),
                what: r.reboot.crash.detail.clone().unwrap_or_default(),
                during: r
                    .faults
                    .first()
                    .map(|f| f.during.to_string())
                    .or_else(|| r.panics.first().map(|p| p.during.to_string()))
                    .unwrap_or_default(),
                cause: r.reboot.cause.clone(),
                site: r.reboot.site.clone(),
                resumed: true,
            })
            .collect();
        all_crashes.extend(crash.clone());
        let reboot_ms = resumed.filter_map(|r| r.reboot.lost_ms).collect();
        campaigns.push(Campaign {
            result: result_of(&name),
            name,
            configs,
            injections,
            crash,
            crashes: all_crashes,
            reboot_ms,
            sequence,
            breakdown,
        });
    }

    let overall = Breakdown::of(campaigns.iter().flat_map(|c| c.injections.iter()));
    let mut view = CampaignView {
        campaigns,
        overall,
        other_crashes,
        end_record: run.end.is_some(),
        integrity_errors: run.error_count(),
        problems: Vec::new(),
    };
    view.problems = problems(run, &view);
    view
}

fn sequence(injections: &[Injection]) -> Sequence {
    let Some(max) = injections.iter().map(|i| i.index).max() else {
        return Sequence::default();
    };
    let expected = u64::from(max) + 1;
    // A damaged run could claim a huge index, so count in a map rather
    // than in `expected` slots.
    let mut seen: BTreeMap<u32, u32> = BTreeMap::new();
    for i in injections {
        *seen.entry(i.index).or_default() += 1;
    }
    let duplicates = seen
        .iter()
        .filter(|&(_, &n)| n > 1)
        .map(|(&i, _)| i)
        .collect();
    let mut missing = Vec::new();
    let mut next = 0u32;
    'keys: for &i in seen.keys() {
        while next < i {
            if missing.len() == MISSING_LISTED {
                break 'keys;
            }
            missing.push(next);
            next += 1;
        }
        next = i.saturating_add(1);
    }
    Sequence {
        expected,
        missing_count: expected - seen.len() as u64,
        missing,
        duplicates,
    }
}

/// The problems that fail the verdict, one line each.
fn problems(run: &Run, view: &CampaignView) -> Vec<String> {
    let mut p = Vec::new();
    for c in &view.campaigns {
        if let Some(k) = &c.crash {
            p.push(format!(
                "campaign {}: kernel crash during injection {} ({} → {}), not resumed: {}",
                c.name, k.index, k.injector, k.target, k.what
            ));
        }
        match &c.result {
            None if c.crash.is_none() => p.push(format!(
                "campaign {}: no {RESULT_PREFIX}{} result record: the campaign did not finish",
                c.name, c.name
            )),
            Some((Status::Failed, msg)) => p.push(format!(
                "campaign {}: the kernel reports the campaign failed{}",
                c.name,
                msg.as_deref().map(|m| format!(": {m}")).unwrap_or_default()
            )),
            Some((Status::Skipped, msg)) => p.push(format!(
                "campaign {}: the kernel skipped the campaign{}",
                c.name,
                msg.as_deref().map(|m| format!(": {m}")).unwrap_or_default()
            )),
            _ => {}
        }
        let s = &c.sequence;
        if s.missing_count > 0 {
            p.push(format!(
                "campaign {}: {} of {} injection record(s) missing: index {}",
                c.name,
                s.missing_count,
                s.expected,
                list(&s.missing)
            ));
        }
        if !s.duplicates.is_empty() {
            p.push(format!(
                "campaign {}: injection index reported more than once: {}",
                c.name,
                list(&s.duplicates)
            ));
        }
        if c.injections.is_empty() {
            p.push(format!("campaign {}: no injection records", c.name));
        }
    }
    for o in &view.other_crashes {
        p.push(o.clone());
    }
    if !view.end_record {
        p.push("no end record: the stream was cut off (incomplete)".into());
    } else if matches!(run.completion(), Completion::Fault | Completion::Panic)
        && view.crashes() == 0
        && view.other_crashes.is_empty()
    {
        p.push(format!(
            "the run ended with status {} but its fault/panic record is missing",
            run.completion().as_str()
        ));
    }
    if view.integrity_errors > 0 {
        p.push(format!(
            "{} integrity error(s) in the stream (lost, damaged or duplicated lines; `traplab validate {}` lists them)",
            view.integrity_errors, run.source
        ));
    }
    p
}

/// `3, 4, 17` — at most ten, then `, …`.
fn list(v: &[u32]) -> String {
    const SHOWN: usize = 10;
    let mut s = v
        .iter()
        .take(SHOWN)
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    if v.len() > SHOWN {
        s.push_str(", …");
    }
    s
}

/// The mnemonic of an x86 exception vector (the wire crate's table).
pub fn vector_mnemonic(v: u8) -> &'static str {
    traplab_wire::vector::mnemonic(v)
}
