//! Runs the shipped scripts in the real kernel under QEMU (TCG) and checks
//! every (command, config) pair: supported commands pass under both trap
//! modes, each trap arrives through the CPU vector its script line names,
//! and exactly the scripts' unsupported commands are skipped.
//!
//! Needs `qemu-system-x86_64` (scripts/test.sh installs it). The kernel is
//! built through the harness library, as `traplab-wast` builds it.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use traplab_conformance::table::{CONFIGS, Row, Verdict, verdict};
use traplab_conformance::{boot, collate, compile, shipped_scripts};
use traplab_harness::{Ending, build};
use traplab_suite::{Command, TrapMode};
use traplab_wire::{EndStatus, Record};

/// Unsupported commands in `conformance/scripts/` (see each script's
/// "Deliberately unsupported" section).
const UNSUPPORTED_COMMANDS: u64 = 2;

/// `;; vector N` notes: (script name, line) → vector, for every assert_trap
/// and assert_exhaustion line of the shipped scripts.
fn vector_notes() -> BTreeMap<(String, u32), u8> {
    let mut notes = BTreeMap::new();
    for path in shipped_scripts().unwrap() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        for (i, line) in std::fs::read_to_string(&path).unwrap().lines().enumerate() {
            let trimmed = line.trim_start();
            if !(trimmed.starts_with("(assert_trap") || trimmed.starts_with("(assert_exhaustion")) {
                continue;
            }
            let (_, note) = line.rsplit_once(";; vector ").unwrap_or_else(|| {
                panic!("{name}:{}: assert_trap without a `;; vector N` note", i + 1)
            });
            notes.insert((name.clone(), i as u32 + 1), note.trim().parse().unwrap());
        }
    }
    notes
}

fn observed(row: &Row<'_>, config: usize) -> (Option<String>, Option<u8>) {
    let o = row.results[config]
        .as_ref()
        .and_then(|r| r.observed.clone())
        .unwrap_or_else(|| panic!("{}: no observed trap", row.name()));
    (o.trap, o.vector)
}

#[test]
fn shipped_scripts_pass_in_the_kernel_with_their_trap_vectors() {
    // Built first and outside the time bound: a cold kernel build is the
    // harness's cost, shared with its boot tests.
    let kernel = build::kernel(0).expect("building runner-kernel");
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("wast.img");
    let capture = dir.path().join("wast.jsonl");
    let scripts = compile::build_image(&shipped_scripts().unwrap(), &image)
        .expect("the shipped scripts compile");
    let run = boot::boot(
        &kernel,
        &image,
        "tcg",
        &capture,
        Duration::from_secs(120),
        false,
    )
    .expect("running QEMU");
    assert!(run.damaged.is_empty(), "{:?}", run.damaged);
    assert_eq!(run.report.ending, Ending::Success, "{:?}", run.report);
    assert!(matches!(run.records.last(), Some(Record::End(e)) if e.status == EndStatus::Complete));

    let manifest: Vec<_> = scripts.iter().map(|s| s.script.clone()).collect();
    let collation = collate(&manifest, &run.records);
    assert!(
        collation.other_failures.is_empty(),
        "{:#?}",
        collation.other_failures
    );

    // Every supported command passes under both configurations.
    for row in &collation.rows {
        for (i, config) in CONFIGS.iter().enumerate() {
            let want = if matches!(row.command, Command::Unsupported { .. }) {
                Verdict::Unsupported
            } else {
                Verdict::Passed
            };
            assert_eq!(
                verdict(row.command, row.results[i].as_ref()),
                want,
                "{} {}: {:?}",
                row.name(),
                config.label(),
                row.results[i]
            );
        }
    }
    let totals = collation.totals();
    assert_eq!(totals.failed, 0);
    let unsupported_commands = scripts
        .iter()
        .map(|s| s.unsupported().count() as u64)
        .sum::<u64>();
    assert_eq!(unsupported_commands, UNSUPPORTED_COMMANDS);
    assert_eq!(
        totals.unsupported,
        UNSUPPORTED_COMMANDS * CONFIGS.len() as u64
    );
    assert_eq!(
        totals.passed + totals.unsupported,
        collation.rows.len() as u64 * CONFIGS.len() as u64
    );

    // Each trap: same code under both modes, raised by the noted vector
    // with signals-based traps and by no exception with explicit checks.
    assert_eq!(CONFIGS[0].trap_mode, TrapMode::Signals);
    let notes = vector_notes();
    let mut checked = 0;
    for row in &collation.rows {
        let Command::AssertTrap { .. } = row.command else {
            continue;
        };
        let want = notes[&(row.script.name.clone(), row.command.line())];
        let (signals_trap, signals_vector) = observed(row, 0);
        let (explicit_trap, explicit_vector) = observed(row, 1);
        assert_eq!(signals_vector, Some(want), "{}: signals vector", row.name());
        assert_eq!(
            explicit_vector,
            None,
            "{}: explicit checks raise no exception",
            row.name()
        );
        assert!(
            signals_trap.is_some() && signals_trap == explicit_trap,
            "{}: {signals_trap:?} / {explicit_trap:?}",
            row.name()
        );
        checked += 1;
    }
    assert_eq!(
        checked,
        notes.len(),
        "every noted line is an assert_trap the kernel ran"
    );

    // The vectors the design names, independent of the notes.
    let vector_of = |export: &str, message: &str| -> Vec<u8> {
        collation
            .rows
            .iter()
            .filter(|r| matches!(r.command, Command::AssertTrap { invoke, message: m, .. } if invoke.export == export && m == message))
            .map(|r| observed(r, 0).1.unwrap())
            .collect()
    };
    assert_eq!(vector_of("i32.div_u", "integer divide by zero"), [0]);
    assert_eq!(vector_of("i32.div_s", "integer overflow"), [0]);
    assert_eq!(vector_of("unreachable", "unreachable"), [6]);
    let oob: Vec<u8> = [
        "load8_u",
        "load32",
        "load64",
        "load32_offset4",
        "store8",
        "store32",
    ]
    .iter()
    .flat_map(|e| vector_of(e, "out of bounds memory access"))
    .collect();
    assert!(oob.len() >= 10 && oob.iter().all(|&v| v == 14), "{oob:?}");

    // The kernel's per-script tallies agree with the records.
    let metric = |name: &str| -> u64 {
        run.records
            .iter()
            .filter_map(|r| {
                if let Record::Metric(m) = r {
                    (m.name == name).then_some(m.value)
                } else {
                    None
                }
            })
            .sum()
    };
    assert_eq!(metric("wast_passed"), totals.passed);
    assert_eq!(metric("wast_failed"), 0);
    assert_eq!(metric("wast_unsupported"), totals.unsupported);

    let rendered = collation.render();
    assert_eq!(rendered.lines().last(), Some(totals.to_string().as_str()));
    // Compiling the scripts' modules and the boot stay well inside 30 s.
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "took {:?}",
        started.elapsed()
    );
}
