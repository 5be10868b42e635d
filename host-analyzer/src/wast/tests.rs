use traplab_wire::{ExperimentResult, Metric, Status, config};

use super::render::render;
use super::*;
use crate::ingest::parse;
use crate::synth::{RunSpec, jsonl};
use crate::table::Format;

/// A run with a header and no series; tests add their own.
fn empty_run() -> Run {
    let spec = RunSpec {
        series: Vec::new(),
        ..RunSpec::small("tcg", 1)
    };
    parse("t", jsonl(&spec).as_bytes())
}

fn result(run: &mut Run, experiment: &str, config: &str, status: Status, message: Option<&str>) {
    run.series.push(Series {
        experiment: experiment.into(),
        config: config.into(),
        total: Vec::new(),
        stages: Vec::new(),
        result: Some(ExperimentResult {
            experiment: experiment.into(),
            config: config.into(),
            status,
            samples: 0,
            expected: None,
            observed: None,
            message: message.map(String::from),
        }),
    });
}

fn metric(run: &mut Run, name: &str, value: u64, context: &str) {
    run.metrics.push(Metric {
        name: name.into(),
        value,
        unit: "commands".into(),
        context: context.into(),
    });
}

#[test]
fn wast_prefers_the_kernel_tally_counts_results_without_it_and_lists_what_did_not_pass() {
    let mut run = empty_run();
    for (line, status) in [
        (1, Status::Ok),
        (2, Status::Ok),
        (3, Status::Failed),
        (4, Status::Skipped),
    ] {
        for config in [config::SIGNALS_BT_OFF, config::EXPLICIT_BT_OFF] {
            let msg = match status {
                Status::Failed => Some("returned [1], expected [2]"),
                Status::Skipped => Some("unsupported: register"),
                Status::Ok => None,
            };
            result(
                &mut run,
                &format!("wast.a.wast:{line}"),
                config,
                status,
                msg,
            );
        }
    }
    metric(&mut run, "wast_passed", 2, "wast.a.wast signals.bt_off");
    metric(&mut run, "wast_failed", 1, "wast.a.wast signals.bt_off");
    metric(
        &mut run,
        "wast_unsupported",
        1,
        "wast.a.wast signals.bt_off",
    );
    let w = analyze(&run);
    assert_eq!(w.scripts.len(), 2);
    assert!(!w.scripts[0].counted);
    assert!(
        w.scripts[1].counted,
        "explicit.bt_off has no tally: counted"
    );
    assert_eq!(w.totals_line(), "4 passed, 2 failed, 2 unsupported");
    assert_eq!(w.not_passed.len(), 4);
    assert_eq!(w.not_passed[1].status, "unsupported");
    assert_eq!(w.not_passed[1].message, "register");
    // A tally that disagrees with the records is shown, with a note.
    let tally = run
        .metrics
        .iter_mut()
        .find(|m| m.name == "wast_passed")
        .unwrap();
    tally.value = 3;
    let v = analyze(&run);
    assert_eq!(v.passed, 5);
    assert!(v.notes.iter().any(|n| n.contains("records lost?")));
}

#[test]
fn a_run_without_wast_is_empty_and_never_breaks_rendering() {
    let run = parse("t", jsonl(&RunSpec::small("tcg", 20)).as_bytes());
    let v = analyze(&run);
    assert!(v.is_empty());
    for format in [
        Format::Table,
        Format::Md,
        Format::Csv,
        Format::Json,
        Format::Latex,
    ] {
        render(&run, &v, format);
    }
}
