//! Records → one row per (command, config) pair → the pass/fail table.
//!
//! Pure functions over the manifest's scripts and the decoded records, so
//! they are tested without a boot. The kernel names each result
//! `wast.<script>:<line>`; two commands on one line share that name, so
//! results are matched to commands in stream order (the kernel runs each
//! configuration's commands in script order), not by name alone.
//!
//! Counting is per (command, config) pair: `ok` passes, `failed` fails,
//! `skipped` is unsupported. A pair with no result at all (the run ended
//! before it) fails, except for an unsupported command, which the kernel
//! would only have skipped.

use std::collections::{HashMap, VecDeque};
use std::fmt::Write as _;

use traplab_suite::image::InstantiationFailure;
use traplab_suite::{Command, EngineVariant, Script};
use traplab_wire::{ExperimentResult, Record, Status};

/// The configurations the kernel runs scripts under, in the order of the
/// table's columns.
pub const CONFIGS: [EngineVariant; 2] = Script::VARIANTS;

/// The record name of `command` of `script`, as the kernel writes it.
pub fn experiment_name(script: &Script, command: &Command) -> String {
    script.command_experiment(command)
}

/// The directive a command came from, for the table's `kind` column.
pub fn kind(command: &Command) -> &str {
    match command {
        Command::Module {
            expect_failure: None,
            ..
        } => "module",
        Command::Module {
            expect_failure: Some(InstantiationFailure::Unlinkable { .. }),
            ..
        } => "assert_unlinkable",
        Command::Module {
            expect_failure: Some(InstantiationFailure::Trap { .. }),
            ..
        } => "assert_trap",
        Command::AssertReturn { .. } | Command::AssertGlobal { .. } => "assert_return",
        Command::AssertTrap { .. } => "assert_trap",
        Command::Invoke { .. } => "invoke",
        Command::Register { .. } => "register",
        // Marked: the kernel re-emits the host's verdict, it ran nothing.
        Command::HostChecked { directive, .. } => match directive.as_str() {
            "assert_invalid" => "assert_invalid (host)",
            "assert_malformed" => "assert_malformed (host)",
            _ => "checked on the host",
        },
        // `what` starts with the directive (see `crate::script`).
        Command::Unsupported { what, .. } => {
            what.split_once(':').map_or("unsupported", |(kind, _)| kind)
        }
    }
}

/// One command and its result under each of [`CONFIGS`].
#[derive(Debug, Clone)]
pub struct Row<'a> {
    pub script: &'a Script,
    pub command: &'a Command,
    pub results: [Option<ExperimentResult>; 2],
}

impl Row<'_> {
    pub fn name(&self) -> String {
        format!("{}:{}", self.script.name, self.command.line())
    }
}

/// How the (command, config) pairs ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub passed: u64,
    pub failed: u64,
    pub unsupported: u64,
}

impl std::fmt::Display for Totals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} passed, {} failed, {} unsupported",
            self.passed, self.failed, self.unsupported
        )
    }
}

/// What a pair counts as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Passed,
    Failed,
    Unsupported,
    /// No result record; counts as failed (unsupported for an unsupported
    /// command).
    Missing,
}

pub fn verdict(command: &Command, result: Option<&ExperimentResult>) -> Verdict {
    match result.map(|r| r.status) {
        Some(Status::Ok) => Verdict::Passed,
        Some(Status::Failed) => Verdict::Failed,
        Some(Status::Skipped) => Verdict::Unsupported,
        None if matches!(command, Command::Unsupported { .. }) => Verdict::Unsupported,
        None => Verdict::Missing,
    }
}

/// Every command's results, plus the results that belong to no command.
#[derive(Debug, Clone)]
pub struct Collation<'a> {
    pub rows: Vec<Row<'a>>,
    /// Failed results outside the scripts' commands (`setup.*`,
    /// `wast.setup`, an unexpected name): they explain a broken run.
    pub other_failures: Vec<ExperimentResult>,
}

pub fn collate<'a>(scripts: &'a [Script], records: &[Record]) -> Collation<'a> {
    let mut queues: HashMap<(String, String), VecDeque<ExperimentResult>> = HashMap::new();
    for record in records {
        if let Record::Result(r) = record {
            queues
                .entry((r.experiment.clone(), r.config.clone()))
                .or_default()
                .push_back(r.clone());
        }
    }
    let mut rows = Vec::new();
    for script in scripts {
        for command in &script.commands {
            let name = experiment_name(script, command);
            let results = CONFIGS.map(|config| {
                queues
                    .get_mut(&(name.clone(), config.label().to_string()))
                    .and_then(VecDeque::pop_front)
            });
            rows.push(Row {
                script,
                command,
                results,
            });
        }
    }
    let mut other_failures: Vec<ExperimentResult> = queues
        .into_values()
        .flatten()
        .filter(|r| r.status == Status::Failed)
        .collect();
    // Stream order is lost in the map; sort for a stable listing.
    other_failures.sort_by(|a, b| (&a.experiment, &a.config).cmp(&(&b.experiment, &b.config)));
    Collation {
        rows,
        other_failures,
    }
}

impl Collation<'_> {
    pub fn totals(&self) -> Totals {
        self.totals_of(|_| true)
    }

    /// The totals of the rows `keep` selects.
    pub fn totals_of(&self, keep: impl Fn(&Row<'_>) -> bool) -> Totals {
        let mut totals = Totals::default();
        for row in self.rows.iter().filter(|r| keep(r)) {
            for result in &row.results {
                match verdict(row.command, result.as_ref()) {
                    Verdict::Passed => totals.passed += 1,
                    Verdict::Failed | Verdict::Missing => totals.failed += 1,
                    Verdict::Unsupported => totals.unsupported += 1,
                }
            }
        }
        totals
    }

    /// The table, the unsupported commands, other failures, and the final
    /// line `N passed, M failed, K unsupported` (with a newline).
    pub fn render(&self) -> String {
        let header = [
            "command", "kind", "signals", "explicit", "trap", "vector", "message",
        ];
        let mut lines: Vec<[String; 7]> = Vec::with_capacity(self.rows.len());
        for row in &self.rows {
            let [signals, explicit] = &row.results;
            let status = |r: &Option<ExperimentResult>| match verdict(row.command, r.as_ref()) {
                Verdict::Passed => "pass",
                Verdict::Failed => "FAIL",
                Verdict::Unsupported => "unsup",
                Verdict::Missing => "MISSING",
            };
            lines.push([
                row.name(),
                kind(row.command).to_string(),
                status(signals).to_string(),
                status(explicit).to_string(),
                trap_column(signals, explicit),
                vector_column(signals, explicit),
                message_column(row),
            ]);
        }
        let mut widths = header.map(str::len);
        for line in &lines {
            for (w, cell) in widths.iter_mut().zip(line) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let mut out = String::new();
        let mut write_line = |cells: &[&str]| {
            let mut text = String::new();
            for (i, cell) in cells.iter().enumerate() {
                if i + 1 == cells.len() {
                    text.push_str(cell);
                } else {
                    let _ = write!(text, "{cell:<width$}  ", width = widths[i]);
                }
            }
            out.push_str(text.trim_end());
            out.push('\n');
        };
        write_line(&header);
        for line in &lines {
            write_line(&line.each_ref().map(String::as_str));
        }

        let unsupported: Vec<&Row> = self
            .rows
            .iter()
            .filter(|r| matches!(r.command, Command::Unsupported { .. }))
            .collect();
        let _ = writeln!(out, "\nunsupported commands: {}", unsupported.len());
        for row in unsupported {
            if let Command::Unsupported { what, .. } = row.command {
                let _ = writeln!(out, "  {}  {what}", row.name());
            }
        }
        if !self.other_failures.is_empty() {
            let _ = writeln!(out, "\nfailed results outside the scripts:");
            for r in &self.other_failures {
                let _ = writeln!(
                    out,
                    "  {} {}: {}",
                    r.experiment,
                    r.config,
                    r.message.as_deref().unwrap_or("(no message)")
                );
            }
        }
        let _ = writeln!(out, "\nper script:");
        let mut names: Vec<&str> = self.rows.iter().map(|r| r.script.name.as_str()).collect();
        names.dedup();
        for name in names {
            let totals = self.totals_of(|r| r.script.name == name);
            let _ = writeln!(out, "  {name}: {totals}");
        }
        let host = self.totals_of(|r| matches!(r.command, Command::HostChecked { .. }));
        if host != Totals::default() {
            let _ = writeln!(
                out,
                "of which checked on the host, not run in the kernel (assert_invalid, assert_malformed): {} passed, {} failed",
                host.passed, host.failed
            );
        }
        let _ = writeln!(out, "\n{}", self.totals());
        out
    }
}

/// The trap code observed (assert_trap rows): the signals one, and the
/// explicit one after a `/` when it differs.
fn trap_column(signals: &Option<ExperimentResult>, explicit: &Option<ExperimentResult>) -> String {
    let trap = |r: &Option<ExperimentResult>| r.as_ref()?.observed.as_ref()?.trap.clone();
    match (trap(signals), trap(explicit)) {
        (None, None) => String::new(),
        (Some(s), Some(e)) if s == e => s,
        (s, e) => format!(
            "{} / {}",
            s.as_deref().unwrap_or("-"),
            e.as_deref().unwrap_or("-")
        ),
    }
}

/// The CPU vector that raised the trap under signals (`#DE 0`); explicit
/// checks raise none, and one is shown after a `/` only if it did.
fn vector_column(
    signals: &Option<ExperimentResult>,
    explicit: &Option<ExperimentResult>,
) -> String {
    let observed = |r: &Option<ExperimentResult>| {
        r.as_ref()
            .and_then(|r| r.observed.as_ref())
            .map(|o| o.vector)
    };
    let text =
        |v: Option<u8>| v.map_or_else(|| "-".to_string(), |v| format!("{} {v}", mnemonic(v)));
    match (observed(signals), observed(explicit)) {
        (None, None) => String::new(),
        (s, None | Some(None)) => text(s.flatten()),
        (s, Some(e)) => format!("{} / {}", text(s.flatten()), text(e)),
    }
}

fn message_column(row: &Row<'_>) -> String {
    let failure = |r: &Option<ExperimentResult>| match verdict(row.command, r.as_ref()) {
        Verdict::Failed => Some(
            r.as_ref()
                .and_then(|r| r.message.clone())
                .unwrap_or_else(|| "(no message)".into()),
        ),
        Verdict::Missing => Some("no result (the run ended before it)".to_string()),
        Verdict::Passed | Verdict::Unsupported => None,
    };
    let [signals, explicit] = &row.results;
    match (failure(signals), failure(explicit)) {
        (None, None) => String::new(),
        (Some(s), Some(e)) if s == e => format!("both: {s}"),
        (s, e) => [
            s.map(|s| format!("signals: {s}")),
            e.map(|e| format!("explicit: {e}")),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("; "),
    }
}

/// x86 exception mnemonic of `vector`.
pub fn mnemonic(vector: u8) -> &'static str {
    traplab_wire::vector::mnemonic(vector)
}

#[cfg(test)]
mod tests {
    use super::*;
    use traplab_suite::{Invoke, Value};
    use traplab_wire::TrapSignature;

    fn script() -> Script {
        let invoke = Invoke {
            module: None,
            export: "f".into(),
            args: vec![Value::I32(0)],
        };
        Script {
            name: "t.wast".into(),
            commands: vec![
                Command::Module {
                    line: 1,
                    artifacts: vec![],
                    id: None,
                    expect_failure: None,
                },
                Command::AssertTrap {
                    line: 2,
                    invoke: invoke.clone(),
                    message: "integer divide by zero".into(),
                },
                // Two commands on one line share a record name.
                Command::AssertReturn {
                    line: 3,
                    invoke: invoke.clone(),
                    expected: vec![Value::I32(1)],
                },
                Command::Invoke { line: 3, invoke },
                Command::Unsupported {
                    line: 4,
                    what: "assert_invalid: a module that must not validate".into(),
                },
            ],
        }
    }

    fn result(
        experiment: &str,
        config: &str,
        status: Status,
        observed: Option<(&str, Option<u8>)>,
        message: Option<&str>,
    ) -> Record {
        Record::Result(ExperimentResult {
            experiment: experiment.into(),
            config: config.into(),
            status,
            samples: 0,
            expected: None,
            observed: observed.map(|(trap, vector)| TrapSignature {
                trap: Some(trap.into()),
                vector,
                signal: None,
                si_code: None,
            }),
            message: message.map(String::from),
        })
    }

    const S: &str = "signals.bt_off";
    const E: &str = "explicit.bt_off";

    /// A run in which everything ran: the second command on line 3 fails
    /// under explicit checks only.
    fn full_run() -> Vec<Record> {
        let mut records = Vec::new();
        for config in [S, E] {
            let vector = (config == S).then_some(0);
            records.push(result("wast.t.wast:1", config, Status::Ok, None, None));
            records.push(result(
                "wast.t.wast:2",
                config,
                Status::Ok,
                Some(("IntegerDivisionByZero", vector)),
                None,
            ));
            records.push(result("wast.t.wast:3", config, Status::Ok, None, None));
            let (status, message) = if config == E {
                (Status::Failed, Some("trap IntegerOverflow"))
            } else {
                (Status::Ok, None)
            };
            records.push(result("wast.t.wast:3", config, status, None, message));
            records.push(result(
                "wast.t.wast:4",
                config,
                Status::Skipped,
                None,
                Some("unsupported: assert_invalid"),
            ));
        }
        records
    }

    #[test]
    fn pairs_are_counted_and_same_line_commands_matched_in_order() {
        let scripts = [script()];
        let records = full_run();
        let collation = collate(&scripts, &records);
        assert_eq!(
            collation.totals(),
            Totals {
                passed: 7,
                failed: 1,
                unsupported: 2
            }
        );
        let row = &collation.rows[3];
        assert!(matches!(row.command, Command::Invoke { .. }));
        assert_eq!(row.results[1].as_ref().unwrap().status, Status::Failed);
        assert_eq!(
            collation.rows[2].results[1].as_ref().unwrap().status,
            Status::Ok
        );
        assert!(collation.other_failures.is_empty());
    }

    #[test]
    fn missing_results_fail_except_for_unsupported_commands() {
        let scripts = [script()];
        // The run died after the first two signals results.
        let records: Vec<Record> = full_run().into_iter().take(2).collect();
        let collation = collate(&scripts, &records);
        assert_eq!(
            collation.totals(),
            Totals {
                passed: 2,
                failed: 6,
                unsupported: 2
            }
        );
        let text = collation.render();
        assert!(text.contains("MISSING"), "{text}");
        assert!(
            text.contains("both: no result (the run ended before it)"),
            "{text}"
        );
    }

    #[test]
    fn failures_outside_the_commands_are_listed() {
        let scripts = [script()];
        let mut records = full_run();
        records.push(result(
            "setup.suite",
            "boot",
            Status::Failed,
            None,
            Some("suite image rejected"),
        ));
        records.push(result("raw.pf", "ring0", Status::Ok, None, None));
        let collation = collate(&scripts, &records);
        assert_eq!(collation.other_failures.len(), 1);
        assert!(
            collation
                .render()
                .contains("  setup.suite boot: suite image rejected\n")
        );
    }

    #[test]
    fn the_table_shows_traps_vectors_failures_and_ends_with_the_totals() {
        let scripts = [script()];
        let records = full_run();
        let text = collate(&scripts, &records).render();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.last(), Some(&"7 passed, 1 failed, 2 unsupported"));
        assert!(text.ends_with("unsupported\n"));
        let header = lines[0];
        assert!(
            header.starts_with("command") && header.ends_with("message"),
            "{header}"
        );
        let trap_row = lines.iter().find(|l| l.starts_with("t.wast:2 ")).unwrap();
        assert!(
            trap_row.contains("assert_trap")
                && trap_row.contains("IntegerDivisionByZero")
                && trap_row.contains("#DE 0"),
            "{trap_row}"
        );
        let failed_row = lines
            .iter()
            .filter(|l| l.starts_with("t.wast:3 "))
            .nth(1)
            .unwrap();
        assert!(
            failed_row.contains("pass") && failed_row.contains("FAIL"),
            "{failed_row}"
        );
        assert!(
            failed_row.ends_with("explicit: trap IntegerOverflow"),
            "{failed_row}"
        );
        let unsupported_row = lines.iter().find(|l| l.starts_with("t.wast:4 ")).unwrap();
        assert!(
            unsupported_row.contains("assert_invalid") && unsupported_row.contains("unsup"),
            "{unsupported_row}"
        );
        assert!(text.contains("unsupported commands: 1\n  t.wast:4  assert_invalid: a module that must not validate\n"), "{text}");
    }

    #[test]
    fn a_vector_under_explicit_checks_is_shown() {
        let s = Some(ExperimentResult {
            experiment: String::new(),
            config: S.into(),
            status: Status::Ok,
            samples: 0,
            expected: None,
            observed: Some(TrapSignature {
                trap: Some("MemoryOutOfBounds".into()),
                vector: Some(14),
                signal: None,
                si_code: None,
            }),
            message: None,
        });
        let mut e = s.clone();
        e.as_mut().unwrap().observed.as_mut().unwrap().vector = Some(14);
        assert_eq!(vector_column(&s, &e), "#PF 14 / #PF 14");
        e.as_mut().unwrap().observed.as_mut().unwrap().vector = None;
        assert_eq!(vector_column(&s, &e), "#PF 14");
        assert_eq!(trap_column(&s, &e), "MemoryOutOfBounds");
        e.as_mut().unwrap().observed.as_mut().unwrap().trap = Some("TableOutOfBounds".into());
        assert_eq!(trap_column(&s, &e), "MemoryOutOfBounds / TableOutOfBounds");
    }
}
