//! The `.wast` conformance view of a run: per script and configuration, how
//! many commands passed, failed or were unsupported, and which did not
//! pass. Pure: a [`Run`] in, a [`WastView`] out; [`render`] turns it into
//! the one serializable tree every format is rendered from.
//!
//! # What it reads
//!
//! `wast.<file>:<line>` results and the per-script tallies
//! `wast_passed|failed|unsupported` (context `"wast.<file> <config>"`).
//! Tallies come from the kernel's per-script metrics, or are counted from
//! the result records when the metrics were lost; totals count (command,
//! configuration) pairs like `traplab-wast` does.

pub mod render;
#[cfg(test)]
mod tests;

use serde::Serialize;
use traplab_wire::{Status, metric};

use crate::ingest::{Run, Series};

/// Experiment name prefix of a `.wast` command's result, and context prefix
/// of a script's tallies.
const WAST: &str = "wast.";

/// Whether `experiment` is a `.wast` command.
pub fn is_wast(experiment: &str) -> bool {
    experiment.starts_with(WAST)
}

/// Tally of one script under one configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WastScript {
    /// File name, e.g. `int_div.wast`.
    pub script: String,
    pub config: String,
    pub passed: u64,
    pub failed: u64,
    pub unsupported: u64,
    /// Counted from result records because the kernel's tally was missing.
    pub counted: bool,
}

/// A command that did not pass.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WastCommand {
    /// `wast.<file>:<line>`.
    pub command: String,
    pub config: String,
    /// `failed` or `unsupported`.
    pub status: &'static str,
    pub message: String,
}

/// Everything the `wast` command shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WastView {
    pub scripts: Vec<WastScript>,
    pub passed: u64,
    pub failed: u64,
    pub unsupported: u64,
    pub not_passed: Vec<WastCommand>,
    /// Tallies that disagree with the result records.
    pub notes: Vec<String>,
}

impl WastView {
    /// Whether the run holds any `.wast` results or tallies.
    pub fn is_empty(&self) -> bool {
        self.scripts.is_empty()
    }

    /// The closing line, as `traplab-wast` prints it.
    pub fn totals_line(&self) -> String {
        format!(
            "{} passed, {} failed, {} unsupported",
            self.passed, self.failed, self.unsupported
        )
    }
}

/// Build the view of `run`.
pub fn analyze(run: &Run) -> WastView {
    // (script, config) in first-seen order, from results and metrics alike.
    let mut keys: Vec<(String, String)> = Vec::new();
    let mut push = |k: (String, String)| {
        if !keys.contains(&k) {
            keys.push(k);
        }
    };
    for s in &run.series {
        if let Some(script) = s
            .experiment
            .strip_prefix(WAST)
            .and_then(|r| r.rsplit_once(':'))
            .map(|(script, _)| script)
        {
            push((script.to_string(), s.config.clone()));
        }
    }
    for m in &run.metrics {
        if m.name.starts_with("wast_")
            && let Some((script, config)) = m
                .context
                .strip_prefix(WAST)
                .and_then(|c| c.rsplit_once(' '))
        {
            push((script.to_string(), config.to_string()));
        }
    }
    let mut wast = WastView::default();
    for (script, config) in keys {
        let prefix = format!("{WAST}{script}:");
        let results: Vec<&Series> = run
            .series
            .iter()
            .filter(|s| s.config == config && s.experiment.starts_with(&prefix))
            .collect();
        let count = |status: Status| {
            results
                .iter()
                .filter(|s| s.result.as_ref().is_some_and(|r| r.status == status))
                .count() as u64
        };
        let counted = (
            count(Status::Ok),
            count(Status::Failed),
            count(Status::Skipped),
        );
        let context = format!("{WAST}{script} {config}");
        // The last report wins, as a re-sent record would.
        let m = |name: &str| {
            run.metrics
                .iter()
                .rev()
                .find(|m| m.name == name && m.context == context)
                .map(|m| m.value)
        };
        let reported = match (
            m(metric::WAST_PASSED),
            m(metric::WAST_FAILED),
            m(metric::WAST_UNSUPPORTED),
        ) {
            (Some(p), Some(f), Some(u)) => Some((p, f, u)),
            _ => None,
        };
        if let Some(r) = reported
            && r != counted
        {
            wast.notes.push(format!(
                "{script} {config}: the kernel counted {} passed, {} failed, {} unsupported but the result records say {}, {}, {} (records lost?); the kernel's count is shown",
                r.0, r.1, r.2, counted.0, counted.1, counted.2
            ));
        }
        let (passed, failed, unsupported) = reported.unwrap_or(counted);
        wast.passed += passed;
        wast.failed += failed;
        wast.unsupported += unsupported;
        wast.scripts.push(WastScript {
            script,
            config: config.clone(),
            passed,
            failed,
            unsupported,
            counted: reported.is_none(),
        });
        for s in results {
            let Some(r) = &s.result else { continue };
            let status = match r.status {
                Status::Ok => continue,
                Status::Failed => "failed",
                Status::Skipped => "unsupported",
            };
            let message = r.message.as_deref().unwrap_or_default();
            wast.not_passed.push(WastCommand {
                command: s.experiment.clone(),
                config: config.clone(),
                status,
                // The kernel prefixes skipped commands' reasons with the
                // status itself.
                message: message
                    .strip_prefix("unsupported: ")
                    .unwrap_or(message)
                    .to_string(),
            });
        }
    }
    wast
}
