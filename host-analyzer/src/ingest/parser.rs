//! The stream parser: the *stream-level* rules of a run — where it starts,
//! which lines are noise, sequence gaps, duplicates and reordering, header
//! and end records, and whether the counts in the end record match what
//! arrived. The *line* framing (CRC check, JSON decoding) belongs to
//! [`traplab_wire::decode_line`] and is never re-implemented here.

use std::collections::HashMap;

use traplab_wire::{
    EndStatus, ExperimentResult, Header, LineError, Platform, Reboot, Record, SCHEMA_VERSION,
    Samples, SequenceProblem, SequenceTracker, Stamp, Status, decode_line,
};

use super::{Diagnostic, RebootSeen, Run, Series, Severity, StageValues, known_stage};
use crate::mode::Mode;

/// The bytes every record line starts with. `decode_line` checks this prefix
/// itself; we only need it to find a record that boot noise (SeaBIOS text,
/// ANSI escapes without a newline) shares a line with. See the report note on
/// exporting it from the wire crate.
const RECORD_START: &[u8] = b"{\"seq\":";

/// One batch of samples waiting to be put in order.
struct Batch {
    line: usize,
    first: u64,
    total: Vec<u64>,
    /// `None` when the batch's stage data was malformed and dropped.
    stages: Option<Vec<(String, Vec<u64>)>>,
}

struct SeriesBuilder {
    experiment: String,
    config: String,
    batches: Vec<Batch>,
    result: Option<(usize, ExperimentResult)>,
    warned_stage_names: Vec<String>,
}

/// Parse a whole run. `source` names it in diagnostics.
pub fn parse(source: &str, bytes: &[u8]) -> Run {
    let mut p = Parser::new(source);
    for (index, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        if p.stopped {
            break;
        }
        p.line(index + 1, raw);
    }
    p.finish(bytes)
}

struct Parser {
    run: Run,
    tracker: SequenceTracker,
    /// seq → line where it was first accepted.
    seen: HashMap<u64, usize>,
    /// Gaps as the tracker saw them: (line, first missing, first present).
    pending_gaps: Vec<(usize, u64, u64)>,
    series: Vec<SeriesBuilder>,
    index: HashMap<(String, String), usize>,
    started: bool,
    /// Line and seq of the end record.
    ended: Option<(usize, u64)>,
    stopped: bool,
    last_line: usize,
    first_record_line: Option<usize>,
    /// CRC field of the accepted header line.
    header_check: Option<String>,
    /// A `reboot` record arrived; the next boot's header is due.
    awaiting_header: Option<usize>,
    /// Warnings for the current boot's fault and panic records: kept
    /// until the boot ends, since a reboot turns them into an outcome.
    pending_deaths: Vec<(usize, String)>,
    /// Samples values and (ok, failed) results of the current boot, for
    /// its end record's counts when a run has several boots.
    boot_samples: u64,
    boot_results: (u32, u32),
}

impl Parser {
    fn new(source: &str) -> Self {
        Parser {
            run: Run {
                source: source.to_string(),
                ..Run::default()
            },
            tracker: SequenceTracker::new(),
            seen: HashMap::new(),
            pending_gaps: Vec::new(),
            series: Vec::new(),
            index: HashMap::new(),
            started: false,
            ended: None,
            stopped: false,
            last_line: 0,
            first_record_line: None,
            header_check: None,
            awaiting_header: None,
            pending_deaths: Vec::new(),
            boot_samples: 0,
            boot_results: (0, 0),
        }
    }

    fn diag(&mut self, line: usize, severity: Severity, message: impl Into<String>) {
        self.run.diagnostics.push(Diagnostic {
            line,
            severity,
            message: message.into(),
        });
    }

    fn line(&mut self, n: usize, raw: &[u8]) {
        self.run.lines = n;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        self.last_line = n;
        let Some(offset) = find(raw, RECORD_START) else {
            if !self.started || self.awaiting_header.is_some() {
                // Boot noise: BIOS, GRUB, the kernel's early console.
                self.run.noise_lines += 1;
            } else if self.ended.is_some() {
                self.diag(
                    n,
                    Severity::Warning,
                    format!("text after the end record: {}", preview(raw)),
                );
            } else {
                self.diag(
                    n,
                    Severity::Error,
                    format!(
                        "not a record (damaged line or stray output): {}",
                        preview(raw)
                    ),
                );
            }
            return;
        };
        if !self.started {
            self.first_record_line = Some(n);
        }
        if offset > 0 && self.started {
            self.diag(
                n,
                Severity::Warning,
                format!(
                    "{offset} bytes of stray output before the record: {}",
                    preview(&raw[..offset])
                ),
            );
        }
        self.started = true;
        let bytes = &raw[offset..];
        let text = match std::str::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                let column = offset + e.valid_up_to() + 1;
                self.diag(
                    n,
                    Severity::Error,
                    format!("corrupted: byte at column {column} is not UTF-8; line dropped"),
                );
                return;
            }
        };
        match decode_line(text) {
            Ok(frame) => {
                // The line's own CRC field identifies its bytes cheaply.
                let check = &text[text.len().saturating_sub(10)..];
                self.frame(n, frame.seq, frame.record, check)
            }
            Err(e) => {
                let claim = claimed_seq(text)
                    .map(|s| format!(" (line claims seq {s})"))
                    .unwrap_or_default();
                let why = match e {
                    LineError::Invalid(why) => {
                        format!("invalid record: {}", shift_serde_column(&why, text, offset))
                    }
                    other => other.to_string(),
                };
                self.diag(n, Severity::Error, format!("{why}{claim}; line dropped"));
            }
        }
    }

    fn frame(&mut self, n: usize, seq: u64, record: Record, check: &str) {
        let record = match record {
            Record::Reboot(r) => return self.reboot(n, r),
            Record::Header(h) if self.awaiting_header.is_some() && seq == 0 => {
                return self.resumed_header(n, h, check);
            }
            other => other,
        };
        if let Some(reboot_line) = self.awaiting_header.take() {
            self.diag(
                n,
                Severity::Error,
                format!(
                    "the boot after the reboot record on line {reboot_line} starts with a {} record (seq {seq}), not its header",
                    record.kind()
                ),
            );
        }
        if let Some((end_line, _)) = self.ended {
            self.diag(
                n,
                Severity::Error,
                format!(
                    "{} record (seq {seq}) after the end record on line {end_line}; ignored",
                    record.kind()
                ),
            );
            return;
        }
        if let (Record::Header(_), true) = (&record, self.run.header.is_some()) {
            // An identical copy of the header line is a duplicate (handled
            // below); a different one is a new run.
            if seq == 0 && self.header_check.as_deref() != Some(check) {
                // A fresh header with seq 0 means the machine rebooted (e.g.
                // a triple fault under QEMU without -no-reboot) and a second
                // run follows. Mixing the two would corrupt both.
                self.diag(
                    n,
                    Severity::Error,
                    "a second run starts here (header with seq 0; did the machine reboot?); only the first run is read",
                );
                self.stopped = true;
                return;
            }
        }
        if seq == u64::MAX {
            // SequenceTracker computes `seq + 1`; the largest seq cannot be a
            // real one (no run has 2^64 records) and would overflow it.
            self.diag(
                n,
                Severity::Error,
                format!("seq {seq} is out of range; line dropped"),
            );
            return;
        }
        match self.tracker.observe(seq) {
            Ok(()) => {}
            Err(SequenceProblem::Gap { expected, got }) => {
                self.pending_gaps.push((n, expected, got))
            }
            Err(SequenceProblem::Repeated { seq, expected }) => {
                if let Some(&first) = self.seen.get(&seq) {
                    self.diag(
                        n,
                        Severity::Error,
                        format!("duplicate of seq {seq} (first seen on line {first}); ignored"),
                    );
                    return;
                }
                self.diag(
                    n,
                    Severity::Warning,
                    format!(
                        "out of order: seq {seq} arrived after seq {}; kept",
                        expected - 1
                    ),
                );
            }
        }
        self.seen.insert(seq, n);
        self.run.records += 1;
        match record {
            Record::Header(h) => {
                if self.header_check.is_none() {
                    self.header_check = Some(check.to_string());
                }
                self.header(n, seq, h)
            }
            Record::Samples(s) => {
                self.boot_samples += s.total.len() as u64;
                self.samples(n, s)
            }
            Record::Result(r) => self.result(n, r),
            Record::Metric(m) => self.run.metrics.push(m),
            Record::Log(l) => self.run.logs.push(l),
            Record::Fault(f) => {
                let at = match &f.symbol {
                    Some(sym) => format!("rip {:#x} ({sym})", f.rip),
                    None => format!("rip {:#x}", f.rip),
                };
                let cr2 = f.cr2.map(|c| format!(", cr2 {c:#x}")).unwrap_or_default();
                let code = f
                    .error_code
                    .map(|c| format!(", error code {c:#x}"))
                    .unwrap_or_default();
                self.pending_deaths.push((
                    n,
                    format!(
                        "kernel fault {} (vector {}) at {at}{code}{cr2} during {}",
                        f.exception, f.vector, f.during
                    ),
                ));
                self.run.faults.push(f);
            }
            Record::Panic(p) => {
                let loc = p
                    .location
                    .as_deref()
                    .map(|l| format!(" at {l}"))
                    .unwrap_or_default();
                self.pending_deaths.push((
                    n,
                    format!(
                        "kernel panic during {}: {}{loc}{}",
                        p.during,
                        p.message,
                        p.origin(4)
                            .map(|o| format!(" (in {o})"))
                            .unwrap_or_default()
                    ),
                ));
                self.run.panics.push(p);
            }
            Record::Injection(i) => self.run.injections.push(i),
            // The live line's, not a measurement.
            Record::Progress(_) => {}
            Record::End(e) => {
                self.ended = Some((n, seq));
                self.run.end = Some(e);
            }
            Record::Reboot(_) => unreachable!("taken above"),
        }
    }

    /// A `reboot` record: the boot so far went down during a campaign and
    /// the host booted a fresh kernel that resumes it. Close the crashed
    /// boot (its sequence gaps, its end record's seq), keep its deaths as
    /// the reboot's, and expect the next boot's header.
    fn reboot(&mut self, n: usize, r: Reboot) {
        self.run.records += 1;
        if !self.started {
            self.first_record_line = Some(n);
            self.started = true;
        }
        let want = self.run.reboots.len() as u32 + 1;
        if r.boot != want {
            self.diag(
                n,
                Severity::Error,
                format!("reboot record names boot {}, expected boot {want}", r.boot),
            );
        }
        self.resolve_gaps();
        if let (Some((line, seq)), Some(end)) = (self.ended, &self.run.end)
            && end.records != seq
        {
            self.diag(
                line,
                Severity::Error,
                format!(
                    "end record says {} records precede it, but its seq is {seq}",
                    end.records
                ),
            );
        }
        self.pending_deaths.clear();
        self.run.injections.push(r.crash.clone());
        self.run.reboots.push(RebootSeen {
            line: n,
            reboot: r,
            faults: std::mem::take(&mut self.run.faults),
            panics: std::mem::take(&mut self.run.panics),
            end: self.run.end.take(),
        });
        self.tracker = SequenceTracker::new();
        self.seen.clear();
        self.ended = None;
        self.awaiting_header = Some(n);
        self.boot_samples = 0;
        self.boot_results = (0, 0);
    }

    /// The header of a boot that resumes a campaign: the same run (mode,
    /// suite, kernel) or the streams do not belong together.
    fn resumed_header(&mut self, n: usize, h: Header, check: &str) {
        let _ = self.tracker.observe(0);
        self.seen.insert(0, n);
        self.run.records += 1;
        self.awaiting_header = None;
        let Some(first) = &self.run.header else {
            self.header_check = Some(check.to_string());
            return self.header(n, 0, h);
        };
        let same = first.config.mode == h.config.mode
            && first.config.suite_sha256 == h.config.suite_sha256
            && first.kernel.commit == h.kernel.commit
            && first.platform == h.platform;
        if !same {
            self.diag(
                n,
                Severity::Error,
                format!(
                    "the resumed boot's header differs from the first boot's (mode {} vs {}, suite {} vs {}, kernel {} vs {}): not the same run",
                    h.config.mode,
                    first.config.mode,
                    short(&h.config.suite_sha256),
                    short(&first.config.suite_sha256),
                    h.kernel.commit,
                    first.kernel.commit
                ),
            );
        }
    }

    /// Report the sequence gaps of the current boot that late records did
    /// not fill.
    fn resolve_gaps(&mut self) {
        for (line, expected, got) in std::mem::take(&mut self.pending_gaps) {
            let mut s = expected;
            while s < got {
                if self.seen.contains_key(&s) {
                    s += 1;
                    continue;
                }
                let start = s;
                while s < got && !self.seen.contains_key(&s) {
                    s += 1;
                }
                let problem = SequenceProblem::Gap {
                    expected: start,
                    got: s,
                };
                self.diag(
                    line,
                    Severity::Error,
                    format!("{problem} (lost or corrupted lines)"),
                );
            }
        }
    }

    fn header(&mut self, n: usize, seq: u64, h: Header) {
        if self.run.header.is_some() {
            self.diag(
                n,
                Severity::Error,
                format!("second header record (seq {seq}); ignored"),
            );
            return;
        }
        if seq != 0 {
            self.diag(
                n,
                Severity::Error,
                format!("header record has seq {seq}, expected 0"),
            );
        }
        if h.schema != SCHEMA_VERSION {
            self.diag(
                n,
                Severity::Error,
                format!(
                    "schema version {} is not supported (this analyzer reads schema {SCHEMA_VERSION}); the run cannot be interpreted",
                    h.schema
                ),
            );
            self.run.unknown_schema = Some(h.schema);
        }
        if h.tsc.hz == 0 {
            self.diag(
                n,
                Severity::Warning,
                "TSC frequency is 0: times in ns are unavailable",
            );
        }
        if let Mode::Other(m) = Mode::parse(&h.config.mode) {
            self.diag(
                n,
                Severity::Warning,
                format!(
                    "unknown measurement mode {m:?} (known: tcg, icount, kvm, bare-metal, host)"
                ),
            );
        }
        if Platform::from_name(&h.platform).is_none() {
            let known: Vec<&str> = Platform::ALL.iter().map(|p| p.name()).collect();
            self.diag(
                n,
                Severity::Warning,
                format!(
                    "unknown platform {:?} (known: {})",
                    h.platform,
                    known.join(", ")
                ),
            );
        }
        self.run.header = Some(h);
    }

    fn builder(&mut self, experiment: &str, config: &str) -> &mut SeriesBuilder {
        let key = (experiment.to_string(), config.to_string());
        let i = match self.index.get(&key) {
            Some(&i) => i,
            None => {
                self.series.push(SeriesBuilder {
                    experiment: key.0.clone(),
                    config: key.1.clone(),
                    batches: Vec::new(),
                    result: None,
                    warned_stage_names: Vec::new(),
                });
                self.index.insert(key, self.series.len() - 1);
                self.series.len() - 1
            }
        };
        &mut self.series[i]
    }

    fn samples(&mut self, n: usize, s: Samples) {
        let label = format!("{}/{}", s.experiment, s.config);
        let mut problems = Vec::new();
        let stages = if s.stages.is_empty() {
            Some(Vec::new())
        } else {
            let mut names: Vec<&str> = Vec::new();
            let mut ok = true;
            for st in &s.stages {
                if names.contains(&st.name.as_str()) {
                    problems.push(format!(
                        "{label}: stage {:?} appears twice; stage data of this batch dropped",
                        st.name
                    ));
                    ok = false;
                    break;
                }
                names.push(&st.name);
                if st.values.len() != s.total.len() {
                    problems.push(format!(
                        "{label}: stage {:?} has {} values for {} totals; stage data of this batch dropped",
                        st.name,
                        st.values.len(),
                        s.total.len()
                    ));
                    ok = false;
                    break;
                }
            }
            ok.then(|| {
                s.stages
                    .iter()
                    .map(|st| (st.name.clone(), st.values.clone()))
                    .collect()
            })
        };
        for p in problems {
            self.diag(n, Severity::Error, p);
        }
        let mut unknown = Vec::new();
        let b = self.builder(&s.experiment, &s.config);
        for (name, _) in stages.iter().flatten() {
            if !known_stage(name) && !b.warned_stage_names.contains(name) {
                b.warned_stage_names.push(name.clone());
                unknown.push(name.clone());
            }
        }
        b.batches.push(Batch {
            line: n,
            first: u64::from(s.first),
            total: s.total,
            stages,
        });
        for name in unknown {
            self.diag(
                n,
                Severity::Warning,
                format!(
                    "{label}: unknown stage name {name:?} (the wire format names stages from_to_to between {}, in that order); kept",
                    Stamp::ALL.map(Stamp::name).join(", ")
                ),
            );
        }
    }

    fn result(&mut self, n: usize, r: ExperimentResult) {
        let b = self.builder(&r.experiment, &r.config);
        if let Some((first, _)) = &b.result {
            let msg = format!(
                "second result record for {}/{} (first on line {first}); ignored",
                r.experiment, r.config
            );
            self.diag(n, Severity::Error, msg);
            return;
        }
        let status = r.status;
        b.result = Some((n, r));
        match status {
            Status::Ok => self.boot_results.0 += 1,
            Status::Failed => self.boot_results.1 += 1,
            Status::Skipped => {}
        }
    }

    fn finish(mut self, bytes: &[u8]) -> Run {
        let last = self.last_line.max(1);
        // Gaps the tracker saw may have been filled by late records.
        self.resolve_gaps();
        for (line, message) in std::mem::take(&mut self.pending_deaths) {
            self.diag(line, Severity::Warning, message);
        }
        if let Some(line) = self.awaiting_header {
            self.diag(
                line,
                Severity::Warning,
                "the boot after this reboot record sent nothing",
            );
        }
        if self.run.records > 0 && self.run.header.is_none() {
            let line = self.first_record_line.unwrap_or(1);
            self.diag(
                line,
                Severity::Error,
                "no header record: the start of the run was lost (mode and TSC frequency unknown)",
            );
        }
        let series = std::mem::take(&mut self.series);
        let mut received_samples: u64 = 0;
        for b in series {
            let s = self.assemble(b);
            received_samples += s.total.len() as u64;
            self.run.series.push(s);
        }
        if !self.run.reboots.is_empty() {
            // The end record counts its own boot only.
            received_samples = self.boot_samples;
        }
        if self.run.records > 0 {
            self.check_end(last, received_samples);
            self.check_plan(last);
        } else if !bytes.is_empty() {
            self.diag(last, Severity::Error, "no records found (only noise)");
        }
        // Keep diagnostics in line order so they read like compiler output.
        self.run.diagnostics.sort_by_key(|d| d.line);
        self.run
    }

    fn assemble(&mut self, mut b: SeriesBuilder) -> Series {
        let label = format!("{}/{}", b.experiment, b.config);
        b.batches.sort_by_key(|x| x.first);
        let mut total = Vec::with_capacity(b.batches.iter().map(|x| x.total.len()).sum());
        let mut stages: Vec<StageValues> = Vec::new();
        let mut next: u64 = 0;
        for batch in b.batches {
            let len = batch.total.len() as u64;
            if batch.first < next {
                self.diag(
                    batch.line,
                    Severity::Error,
                    format!(
                        "{label}: samples {}..{} overlap samples already received; batch ignored",
                        batch.first,
                        batch.first + len
                    ),
                );
                continue;
            }
            if batch.first > next {
                self.diag(
                    batch.line,
                    Severity::Error,
                    format!("{label}: samples {next}..{} never arrived", batch.first),
                );
            }
            next = batch.first + len;
            total.extend_from_slice(&batch.total);
            for (name, values) in batch.stages.into_iter().flatten() {
                match stages.iter_mut().find(|s| s.name == name) {
                    Some(s) => s.values.extend_from_slice(&values),
                    None => stages.push(StageValues { name, values }),
                }
            }
        }
        // Known stages in the order a trap flows (by their stamps), unknown
        // ones after, so tables and figures stack them that way.
        stages.sort_by_key(|s| stage_order(&s.name));
        let result = b.result.map(|(line, r)| {
            if r.samples as usize != total.len() {
                self.diag(
                    line,
                    Severity::Error,
                    format!(
                        "{label}: result record counts {} samples, {} received",
                        r.samples,
                        total.len()
                    ),
                );
            }
            r
        });
        if result.is_none() && self.run.end.is_some() && !total.is_empty() {
            self.diag(
                self.last_line.max(1),
                Severity::Warning,
                format!("{label}: samples but no result record"),
            );
        }
        Series {
            experiment: b.experiment,
            config: b.config,
            total,
            stages,
            result,
        }
    }

    fn check_end(&mut self, last: usize, received_samples: u64) {
        let Some(end) = self.run.end.clone() else {
            self.diag(
                last,
                Severity::Warning,
                "no end record: the run was cut off (incomplete); its data is kept",
            );
            return;
        };
        let (line, seq) = self.ended.unwrap_or((last, 0));
        if end.records != seq {
            self.diag(
                line,
                Severity::Error,
                format!(
                    "end record says {} records precede it, but its seq is {seq}",
                    end.records
                ),
            );
        }
        if end.samples != received_samples {
            self.diag(
                line,
                Severity::Error,
                format!("counts do not match: end record counts {} samples, {received_samples} received", end.samples),
            );
        }
        let results = self.run.series.iter().filter_map(|s| s.result.as_ref());
        let (mut ok, mut failed) = (0u32, 0u32);
        for r in results {
            match r.status {
                Status::Ok => ok += 1,
                Status::Failed => failed += 1,
                Status::Skipped => {}
            }
        }
        if !self.run.reboots.is_empty() {
            (ok, failed) = self.boot_results;
        }
        if (end.ok, end.failed) != (ok, failed) {
            self.diag(
                line,
                Severity::Error,
                format!(
                    "counts do not match: end record counts {} ok / {} failed experiments, results say {ok} / {failed}",
                    end.ok, end.failed
                ),
            );
        }
        if end.contained_failures > end.failed {
            self.diag(
                line,
                Severity::Error,
                format!(
                    "counts do not match: end record counts {} contained failures but only {} failed experiments",
                    end.contained_failures, end.failed
                ),
            );
        }
        match end.status {
            EndStatus::Fault if self.run.faults.is_empty() => self.diag(
                line,
                Severity::Warning,
                "run ended with status fault, but its fault record is missing",
            ),
            EndStatus::Panic if self.run.panics.is_empty() => self.diag(
                line,
                Severity::Warning,
                "run ended with status panic, but its panic record is missing",
            ),
            _ => {}
        }
    }

    fn check_plan(&mut self, last: usize) {
        let Some(h) = &self.run.header else { return };
        // The kernel plans a `.wast` script as one entry, `wast.<file>`,
        // whose commands report as `wast.<file>:<line>`.
        let reported = |p: &traplab_wire::Planned| {
            self.run.series.iter().any(|s| {
                s.config == p.config
                    && s.experiment
                        .strip_prefix(p.experiment.as_str())
                        .is_some_and(|rest| rest.is_empty() || rest.starts_with(':'))
            })
        };
        let missing: Vec<String> = h
            .plan
            .iter()
            .filter(|p| !reported(p))
            .map(|p| format!("{}/{}", p.experiment, p.config))
            .collect();
        if !missing.is_empty() {
            const SHOWN: usize = 5;
            let mut names = missing
                .iter()
                .take(SHOWN)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ");
            if missing.len() > SHOWN {
                names.push_str(&format!(", and {} more", missing.len() - SHOWN));
            }
            self.diag(
                last,
                Severity::Warning,
                format!(
                    "{} planned experiment(s) never reported: {names}",
                    missing.len()
                ),
            );
        }
    }
}

/// Sort key of a stage: its stamps in trap order; unknown names last.
fn stage_order(name: &str) -> (Stamp, Stamp, bool) {
    match Stamp::parse_stage(name) {
        Some((a, b)) => (a, b, false),
        None => (Stamp::Return, Stamp::Return, true),
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The first 12 characters of a hash, for messages.
fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

/// A short, escaped excerpt of a line for messages.
fn preview(raw: &[u8]) -> String {
    const MAX: usize = 40;
    let text = String::from_utf8_lossy(&raw[..raw.len().min(MAX)]);
    let more = if raw.len() > MAX { "…" } else { "" };
    format!("{:?}{more}", text)
}

/// The seq a damaged line says it has, for orientation in messages only.
fn claimed_seq(text: &str) -> Option<u64> {
    let rest = text.strip_prefix("{\"seq\":")?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    rest[..digits].parse().ok()
}

/// serde_json reports columns within the body that `decode_line` rebuilt
/// (`{` + everything after `"seq":N,`), not within the line; shift them so
/// the column points at the offending byte of the file.
fn shift_serde_column(why: &str, text: &str, noise: usize) -> String {
    let Some(at) = why.rfind(" at line 1 column ") else {
        return why.to_string();
    };
    let Ok(col) = why[at + " at line 1 column ".len()..].parse::<usize>() else {
        return why.to_string();
    };
    let digits = text[RECORD_START.len()..]
        .bytes()
        .take_while(u8::is_ascii_digit)
        .count();
    // Body column 1 is the synthetic `{`; body column c ≥ 2 is line column
    // c + len(`{"seq":`) + digits (the `,` after the digits replaces the `{`).
    let line_col = if col <= 1 {
        1
    } else {
        col + RECORD_START.len() + digits
    } + noise;
    format!("{} at column {line_col}", &why[..at])
}
