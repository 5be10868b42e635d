use traplab_wire::{End, EndStatus, Fault, Injection, Outcome, Panic, Record, encode_line};

use super::*;
use crate::ingest::parse;
use crate::mode::Unit;
use crate::synth::{CampaignSpec, campaign_header, campaign_jsonl, campaign_records};
use crate::table::Format;

fn run_of(spec: &CampaignSpec) -> Run {
    parse("run", campaign_jsonl(spec, "icount").as_bytes())
}

/// Frame `records` from seq 0 as a run.
fn framed(records: &[Record]) -> Run {
    let text: String = records
        .iter()
        .enumerate()
        .map(|(i, r)| format!("{}\n", encode_line(i as u64, r)))
        .collect();
    parse("run", text.as_bytes())
}

/// The records of a finished campaign, the end record recounted after
/// `edit` changed them.
fn edited(spec: &CampaignSpec, edit: impl FnOnce(&mut Vec<Record>)) -> Run {
    let mut r = campaign_records(spec, campaign_header(spec, "icount", 2_000_000_000));
    r.pop();
    edit(&mut r);
    let records = r.len() as u64;
    let ok = r.iter().filter(|x| matches!(x, Record::Result(_))).count() as u32;
    let crashed = r.iter().any(|x| matches!(x, Record::Fault(_)));
    r.push(Record::End(End {
        status: if crashed {
            EndStatus::Fault
        } else {
            EndStatus::Complete
        },
        records,
        samples: 0,
        ok,
        failed: 0,
        contained_failures: 0,
    }));
    framed(&r)
}

#[test]
fn a_finished_campaign_passes_and_every_injection_is_counted_once() {
    let run = run_of(&CampaignSpec::small(120));
    assert!(run.diagnostics.is_empty(), "{:?}", run.diagnostics);
    let view = analyze(&run);
    assert_eq!(view.campaigns.len(), 1);
    assert_eq!(view.injections(), 120);
    let t = &view.overall.total;
    assert_eq!(t.outcomes.iter().sum::<u64>(), 120);
    assert_eq!(t.manifested() + t.count(Outcome::Masked), 120);
    assert_eq!(view.crashes(), 0);
    assert!(view.complete() && view.pass(), "{:?}", view.problems);
    // Six injectors in canonical order, two targets each.
    let names: Vec<&str> = view
        .overall
        .injectors
        .iter()
        .map(|v| v.injector.as_str())
        .collect();
    assert_eq!(names, InjectorKind::ALL.map(InjectorKind::name));
    assert!(view.overall.injectors.iter().all(|v| v.targets.len() == 2));
    // The no-op baseline never manifests and never needs recovery.
    let noop = &view.overall.injectors[0];
    assert_eq!(noop.total.manifested(), 0);
    assert!(noop.recovery.is_empty());
    // Trap latency only from trapped and contained injections.
    let trapped_or_contained: u64 = view.overall.total.recovered();
    assert_eq!(view.overall.trap.len() as u64, trapped_or_contained);
}

#[test]
fn a_fault_naming_the_injection_counts_one_kernel_crash_there() {
    let spec = CampaignSpec {
        crash_at: Some(41),
        ..CampaignSpec::small(60)
    };
    let view = analyze(&run_of(&spec));
    assert_eq!(view.injections(), 42);
    assert_eq!(view.crashes(), 1);
    let c = &view.campaigns[0];
    let k = c.crash.as_ref().unwrap();
    assert_eq!(
        (k.index, k.injector.as_str(), k.target.as_str()),
        (41, "bit_flip_register", "compute.sieve")
    );
    assert!(k.what.contains("#PF"), "{}", k.what);
    assert!(c.sequence.contiguous(), "{:?}", c.sequence);
    assert!(!c.complete() && !view.pass());
    assert!(
        view.problems[0].contains("kernel crash during injection 41"),
        "{:?}",
        view.problems
    );
    let reg = view
        .overall
        .injectors
        .iter()
        .find(|v| v.injector == "bit_flip_register")
        .unwrap();
    assert_eq!(reg.total.count(Outcome::KernelCrash), 1);
}

#[test]
fn a_fault_that_does_not_name_the_injection_is_charged_to_the_next_index() {
    let spec = CampaignSpec {
        crash_at: Some(30),
        crash_names_injection: false,
        ..CampaignSpec::small(60)
    };
    let view = analyze(&run_of(&spec));
    let k = view.campaigns[0].crash.as_ref().unwrap();
    assert_eq!(
        (k.index, k.injector.as_str(), k.target.as_str()),
        (30, UNKNOWN, UNKNOWN)
    );
    assert_eq!(view.injections(), 31);
    // `unknown` sorts last.
    assert_eq!(view.overall.injectors.last().unwrap().injector, UNKNOWN);
}

#[test]
fn a_panic_mid_campaign_counts_like_a_fault() {
    let spec = CampaignSpec::small(12);
    let run = edited(&spec, |r| {
        // Drop the result (the campaign never finished) and die.
        r.retain(|x| !matches!(x, Record::Result(_)));
        r.push(Record::Panic(Panic {
            message: "index out of bounds".into(),
            location: Some("runner/src/campaign.rs:88:9".into()),
            during: "campaign default injection 12".into(),
            backtrace: Vec::new(),
        }));
    });
    let view = analyze(&run);
    let k = view.campaigns[0].crash.as_ref().unwrap();
    assert_eq!((k.index, k.injector.as_str()), (12, UNKNOWN));
    assert!(k.what.starts_with("kernel panic: index out of bounds"));
    assert_eq!(view.crashes(), 1);
}

#[test]
fn a_fault_after_the_campaign_finished_is_not_an_injection_outcome() {
    let spec = CampaignSpec::small(12);
    let run = edited(&spec, |r| {
        r.push(Record::Fault(Fault {
            vector: 13,
            exception: "#GP".into(),
            category: "illegal_instruction".into(),
            rip: 0x1000,
            rsp: 0x2000,
            error_code: Some(0),
            cr2: None,
            symbol: None,
            during: "trap.oob_load/signals.bt_off".into(),
        }));
    });
    let view = analyze(&run);
    assert_eq!(view.injections(), 12);
    assert_eq!(view.crashes(), 0);
    assert_eq!(view.other_crashes.len(), 1);
    assert!(!view.pass());
    assert!(view.problems[0].contains("#GP"), "{:?}", view.problems);
}

#[test]
fn lost_and_repeated_indices_make_the_sequence_incomplete() {
    let spec = CampaignSpec::small(30);
    let run = edited(&spec, |r| {
        // Lose injection 7 and report injection 9 twice.
        r.retain(|x| !matches!(x, Record::Injection(i) if i.index == 7));
        let nine = r
            .iter()
            .find(|x| matches!(x, Record::Injection(i) if i.index == 9))
            .cloned()
            .unwrap();
        r.insert(12, nine);
    });
    let view = analyze(&run);
    let s = &view.campaigns[0].sequence;
    assert_eq!(
        (
            s.expected,
            s.missing_count,
            s.missing.as_slice(),
            s.duplicates.as_slice()
        ),
        (30, 1, &[7][..], &[9][..])
    );
    assert!(!view.complete());
    assert_eq!(view.problems.len(), 2, "{:?}", view.problems);
}

#[test]
fn a_missing_result_or_end_record_is_incomplete() {
    let spec = CampaignSpec::small(12);
    let run = edited(&spec, |r| r.retain(|x| !matches!(x, Record::Result(_))));
    let view = analyze(&run);
    assert!(!view.pass());
    assert!(
        view.problems[0].contains("did not finish"),
        "{:?}",
        view.problems
    );

    let mut text = campaign_jsonl(&spec, "icount");
    let last = text.trim_end().rfind('\n').unwrap();
    text.truncate(last + 1);
    let view = analyze(&parse("run", text.as_bytes()));
    assert!(!view.end_record && !view.complete());
    assert!(view.problems.iter().any(|p| p.contains("no end record")));
}

#[test]
fn an_absurd_index_costs_no_memory_and_is_listed_briefly() {
    let spec = CampaignSpec::small(6);
    let run = edited(&spec, |r| {
        if let Some(Record::Injection(i)) = r.iter_mut().find(|x| matches!(x, Record::Injection(_)))
        {
            i.index = u32::MAX;
        }
    });
    let view = analyze(&run);
    let s = &view.campaigns[0].sequence;
    assert_eq!(s.expected, u64::from(u32::MAX) + 1);
    assert_eq!(s.missing_count, s.expected - 6);
    assert_eq!(s.missing.len(), MISSING_LISTED);
    for f in [Format::Table, Format::Json, Format::Csv] {
        render::render(&run, &view, f, Unit::Cycles).unwrap();
    }
}

#[test]
fn a_run_without_campaigns_is_empty() {
    let run = parse(
        "run",
        crate::synth::jsonl(&crate::synth::RunSpec::small("tcg", 10)).as_bytes(),
    );
    assert!(analyze(&run).is_empty());
}

#[test]
fn during_is_read_as_far_as_it_goes() {
    assert_eq!(
        parse_during("campaign default injection 7 code_patch compute.fib"),
        During {
            campaign: Some("default".into()),
            index: Some(7),
            injector: Some("code_patch".into()),
            target: Some("compute.fib".into()),
        }
    );
    assert_eq!(
        parse_during("campaign x"),
        During {
            campaign: Some("x".into()),
            ..During::default()
        }
    );
    assert_eq!(
        parse_during("campaign x injection many"),
        parse_during("campaign x")
    );
    assert_eq!(
        parse_during("trap.oob_load/signals.bt_off"),
        During::default()
    );
    assert_eq!(parse_during(""), During::default());
}

#[test]
fn json_names_every_outcome_even_when_zero() {
    let run = run_of(&CampaignSpec::small(24));
    let view = analyze(&run);
    let v: serde_json::Value =
        serde_json::from_str(&render::render(&run, &view, Format::Json, Unit::Ns).unwrap())
            .unwrap();
    let outcomes = v["outcomes"].as_object().unwrap();
    for o in Outcome::ALL {
        assert!(outcomes.contains_key(o.name()), "{} missing", o.name());
    }
    assert_eq!(v["outcomes"]["kernel_crash"], 0);
    assert_eq!(v["injections"], 24);
    assert_eq!(v["unit"], "ns");
    assert_eq!(v["verdict"], "pass");
    // ns at 2 GHz: half the cycles.
    let cycles: serde_json::Value =
        serde_json::from_str(&render::render(&run, &view, Format::Json, Unit::Cycles).unwrap())
            .unwrap();
    let (ns, cy) = (
        v["recovery"]["p50"].as_f64().unwrap(),
        cycles["recovery"]["p50"].as_f64().unwrap(),
    );
    assert!((ns - cy / 2.0).abs() <= 0.5, "{ns} vs {cy}");
}

#[test]
fn unknown_injectors_and_outcome_mixes_are_tallied_not_trusted() {
    // A hand-written injection with an injector this analyzer does not know.
    let spec = CampaignSpec::small(6);
    let run = edited(&spec, |r| {
        let at = r.len() - 1;
        r.insert(
            at,
            Record::Injection(Injection {
                campaign: "default".into(),
                index: 6,
                injector: "cosmic_ray".into(),
                target: "compute.sieve".into(),
                config: "signals.bt_off".into(),
                trigger: "async".into(),
                point: 1,
                site: "-".into(),
                fired: false,
                outcome: Outcome::Masked,
                trap: None,
                vector: None,
                result: Some(1),
                detail: None,
                trap_cycles: Some(5),
                recovery_cycles: None,
            }),
        );
    });
    let view = analyze(&run);
    assert_eq!(view.injections(), 7);
    let last = view.overall.injectors.last().unwrap();
    assert_eq!(last.injector, "cosmic_ray");
    assert_eq!(last.total.fired, 0);
    // trap_cycles of a masked injection is not a trap latency.
    assert!(last.trap.is_empty());
}
