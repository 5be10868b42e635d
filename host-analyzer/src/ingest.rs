//! Reading a run: turns the bytes a kernel streamed over its serial line
//! (boot noise and damage included) into a [`Run`] plus a list of precise,
//! line-numbered [`Diagnostic`]s. This module holds what a run *is* (the
//! types every view reads); [`parser`] holds how a stream becomes one.
//!
//! Policy: parsing never fails and never panics. Every line that cannot be
//! trusted is dropped with an error diagnostic; every record that is intact is
//! kept, even when its neighbours were lost, so a damaged run still yields the
//! data that did arrive. Callers decide with [`Run::usable`] whether what is
//! left can be analysed at all.

mod parser;

pub use parser::parse;

use std::fmt;

use serde::Serialize;
use traplab_wire::{
    End, EndStatus, ExperimentResult, Fault, Header, Injection, Log, Metric, Panic, Reboot,
    SCHEMA_VERSION, Stamp, TRAP_STAGES,
};

use crate::mode::Mode;

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Suspicious, but no data was lost or distrusted (reordering, a run cut
    /// off before its end record, a kernel fault).
    Warning,
    /// Data was lost, dropped or contradicts itself.
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// One problem found in a run, tied to the (1-based) line it concerns.
/// Run-level problems (a missing end record) point at the last line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub line: usize,
    pub severity: Severity,
    pub message: String,
}

/// How a run finished, from its end record (or the lack of one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Completion {
    Complete,
    /// Finished, but at least one experiment failed.
    Failed,
    /// Stopped by an unexpected CPU exception.
    Fault,
    /// Stopped by a kernel panic.
    Panic,
    /// No end record: cut off (timeout, triple fault, lost link).
    Incomplete,
}

impl Completion {
    pub fn as_str(self) -> &'static str {
        match self {
            Completion::Complete => "complete",
            Completion::Failed => "failed",
            Completion::Fault => "fault",
            Completion::Panic => "panic",
            Completion::Incomplete => "incomplete",
        }
    }
}

/// The values of one trap stage, in arrival order.
#[derive(Debug, Clone, PartialEq)]
pub struct StageValues {
    pub name: String,
    pub values: Vec<u64>,
}

/// Every sample of one experiment under one configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub experiment: String,
    pub config: String,
    /// End-to-end cycles, ordered by sample index.
    pub total: Vec<u64>,
    /// Stage intervals; empty for experiments without stage stamps. A stage
    /// may hold fewer values than `total` when a batch's stage data was
    /// malformed and dropped.
    pub stages: Vec<StageValues>,
    pub result: Option<ExperimentResult>,
}

impl Series {
    /// `experiment/config`, the name used in messages.
    pub fn label(&self) -> String {
        format!("{}/{}", self.experiment, self.config)
    }
}

/// A parsed run.
#[derive(Debug, Clone, Default)]
pub struct Run {
    /// Where it came from (a path or `-`), used as the FILE in messages.
    pub source: String,
    pub header: Option<Header>,
    /// In order of first appearance, which is the kernel's plan order.
    pub series: Vec<Series>,
    pub metrics: Vec<Metric>,
    pub logs: Vec<Log>,
    pub faults: Vec<Fault>,
    pub panics: Vec<Panic>,
    /// Fault-injection records, in stream order; the host's record of an
    /// injection that took the kernel down ([`Reboot::crash`]) stands where
    /// its reboot record does.
    pub injections: Vec<Injection>,
    /// The end record of the last boot (the run's).
    pub end: Option<End>,
    /// Boots that ended in a kernel crash during a campaign and were
    /// followed by a fresh boot resuming it (one per `reboot` record the
    /// host wrote), in order. Their fault and panic records are here, not
    /// in [`Run::faults`]/[`Run::panics`], which hold the last boot's.
    pub reboots: Vec<RebootSeen>,
    pub diagnostics: Vec<Diagnostic>,
    /// Lines in the input, noise included.
    pub lines: usize,
    /// Records accepted.
    pub records: usize,
    /// Lines skipped as boot noise before the first record.
    pub noise_lines: usize,
    /// Set when the header names a schema this analyzer does not know.
    pub unknown_schema: Option<u32>,
}

/// A boot the host replaced after a kernel crash during a campaign, as
/// the stream shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct RebootSeen {
    /// Line of the `reboot` record.
    pub line: usize,
    pub reboot: Reboot,
    /// The crashed boot's fault and panic records.
    pub faults: Vec<Fault>,
    pub panics: Vec<Panic>,
    /// The crashed boot's end record (absent after a hang or a triple
    /// fault).
    pub end: Option<End>,
}

/// Why a run cannot be analysed at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unusable {
    #[error("{0}: no records found (is this a traplab run?)")]
    NoRecords(String),
    #[error(
        "{0}: schema version {1} is not supported (this analyzer reads schema {SCHEMA_VERSION})"
    )]
    UnknownSchema(String, u32),
}

impl Run {
    /// The measurement mode the launcher declared, or `Unknown` without a
    /// header.
    pub fn mode(&self) -> Mode {
        self.header
            .as_ref()
            .map_or(Mode::Unknown, |h| Mode::parse(&h.config.mode))
    }

    /// TSC frequency, when the header survived and states one.
    pub fn tsc_hz(&self) -> Option<u64> {
        self.header.as_ref().map(|h| h.tsc.hz).filter(|&hz| hz > 0)
    }

    pub fn commit(&self) -> Option<(&str, bool)> {
        self.header
            .as_ref()
            .map(|h| (h.kernel.commit.as_str(), h.kernel.dirty))
    }

    /// The platform that ran the experiments, as its header names it
    /// (`lab-kernel` for streams from before peers existed); `None` when
    /// the header was lost.
    pub fn platform(&self) -> Option<&str> {
        self.header.as_ref().map(|h| h.platform.as_str())
    }

    pub fn completion(&self) -> Completion {
        match self.end.as_ref().map(|e| e.status) {
            None => Completion::Incomplete,
            Some(EndStatus::Complete) => Completion::Complete,
            Some(EndStatus::Failed) => Completion::Failed,
            Some(EndStatus::Fault) => Completion::Fault,
            Some(EndStatus::Panic) => Completion::Panic,
        }
    }

    /// Experiments the platform abandoned after a panic or an unclaimed
    /// fault (end record's `contained_failures`; 0 without an end record
    /// or from a stream that predates the field).
    pub fn contained_failures(&self) -> u32 {
        self.end.as_ref().map_or(0, |e| e.contained_failures)
    }

    pub fn find(&self, experiment: &str, config: &str) -> Option<&Series> {
        self.series
            .iter()
            .find(|s| s.experiment == experiment && s.config == config)
    }

    pub fn error_count(&self) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
    }

    /// Whether anything can be analysed. Damage short of this only produces
    /// diagnostics.
    pub fn usable(&self) -> Result<(), Unusable> {
        if let Some(v) = self.unknown_schema {
            return Err(Unusable::UnknownSchema(self.source.clone(), v));
        }
        if self.records == 0 {
            return Err(Unusable::NoRecords(self.source.clone()));
        }
        Ok(())
    }

    /// `FILE:LINE: severity: message` for every diagnostic.
    pub fn diagnostic_lines(&self) -> impl Iterator<Item = String> + '_ {
        self.diagnostics
            .iter()
            .map(|d| format!("{}:{}: {}: {}", self.source, d.line, d.severity, d.message))
    }
}

/// Whether `name` is a stage the wire format defines: one of
/// [`TRAP_STAGES`] (the lab kernel's) or any `from_to_to` between two
/// [`Stamp`]s in order (a Linux peer's `call_to_handler`).
pub fn known_stage(name: &str) -> bool {
    TRAP_STAGES.contains(&name) || Stamp::parse_stage(name).is_some()
}

#[cfg(test)]
mod tests;
