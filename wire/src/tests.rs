use super::*;
use alloc::string::ToString;
use alloc::vec;

fn sample_record() -> Record {
    Record::Samples(Samples {
        experiment: "trap.oob_load".to_string(),
        config: "signals.bt_off".to_string(),
        unit: Unit::Cycles,
        first: 256,
        total: vec![7176, 7201, u64::MAX],
        stages: vec![Stage {
            name: TRAP_STAGES[0].to_string(),
            values: vec![1, 2, 3],
        }],
    })
}

fn end_record() -> Record {
    Record::End(End {
        status: EndStatus::Complete,
        records: 41,
        samples: 9000,
        ok: 3,
        failed: 0,
        contained_failures: 0,
    })
}

#[test]
fn an_end_record_from_before_containment_reads_zero_contained_failures() {
    // What a stream written before `contained_failures` existed carries.
    let old = r#"{"type":"end","status":"failed","records":9,"samples":40,"ok":3,"failed":1}"#;
    let Record::End(end) = serde_json::from_str::<Record>(old).unwrap() else {
        panic!("not an end record")
    };
    assert_eq!((end.failed, end.contained_failures), (1, 0));
}

#[test]
fn round_trip_keeps_seq_and_record() {
    for (seq, record) in [(0, sample_record()), (u64::MAX, end_record())] {
        let line = encode_line(seq, &record);
        let frame = decode_line(&line).unwrap();
        assert_eq!(frame.seq, seq);
        assert_eq!(frame.record, record);
    }
}

#[test]
fn line_layout_is_stable_for_regex_matchers() {
    let line = encode_line(7, &end_record());
    assert!(
        line.starts_with("{\"seq\":7,\"type\":\"end\",\"status\":\"complete\",\"records\":41,"),
        "{line}"
    );
    assert!(line.ends_with("\"}"));
    assert!(!line.contains('\n'));
    let crc = &line[line.len() - 10..line.len() - 2];
    assert!(
        crc.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()),
        "{crc}"
    );
}

#[test]
fn trailing_newline_and_carriage_return_are_ignored() {
    let line = encode_line(3, &end_record()) + "\r\n";
    assert_eq!(decode_line(&line).unwrap().seq, 3);
}

#[test]
fn any_flipped_byte_is_detected() {
    let line = encode_line(12, &sample_record());
    for i in 0..line.len() {
        let mut bytes = line.clone().into_bytes();
        bytes[i] ^= 0x01;
        let Ok(damaged) = core::str::from_utf8(&bytes) else {
            continue;
        };
        assert!(
            decode_line(damaged).is_err(),
            "flip at byte {i} went unnoticed: {damaged}"
        );
    }
}

#[test]
fn dropped_byte_is_detected() {
    let line = encode_line(12, &sample_record());
    for i in 0..line.len() {
        let mut damaged = line.clone();
        damaged.remove(i);
        assert!(
            decode_line(&damaged).is_err(),
            "dropping byte {i} went unnoticed"
        );
    }
}

#[test]
fn truncated_line_reports_missing_crc() {
    let line = encode_line(1, &sample_record());
    assert_eq!(
        decode_line(&line[..line.len() / 2]),
        Err(LineError::MissingCrc)
    );
}

#[test]
fn noise_is_not_a_record() {
    assert_eq!(
        decode_line("SeaBIOS (version 1.16.2)"),
        Err(LineError::NotARecord)
    );
    assert_eq!(decode_line(""), Err(LineError::NotARecord));
}

#[test]
fn valid_crc_over_unknown_type_is_invalid_not_corrupt() {
    let mut line = String::from("{\"seq\":4,\"type\":\"bogus\"");
    let crc = crc32fast::hash(line.as_bytes());
    line.push_str(CRC_MARKER);
    push_hex32(&mut line, crc);
    line.push_str("\"}");
    assert!(matches!(decode_line(&line), Err(LineError::Invalid(_))));
}

#[test]
fn sequence_gap_is_detected() {
    let mut t = SequenceTracker::new();
    assert_eq!(t.observe(0), Ok(()));
    assert_eq!(t.observe(1), Ok(()));
    assert_eq!(
        t.observe(4),
        Err(SequenceProblem::Gap {
            expected: 2,
            got: 4
        })
    );
    assert_eq!(t.observe(5), Ok(()));
    assert_eq!(
        t.observe(5),
        Err(SequenceProblem::Repeated {
            seq: 5,
            expected: 6
        })
    );
    assert_eq!(t.observe(6), Ok(()));
}

#[test]
fn stream_that_starts_late_reports_the_lost_head() {
    let mut t = SequenceTracker::new();
    assert_eq!(
        t.observe(3),
        Err(SequenceProblem::Gap {
            expected: 0,
            got: 3
        })
    );
    assert_eq!(
        SequenceProblem::Gap {
            expected: 0,
            got: 3
        }
        .to_string(),
        "gap: records 0..=2 are missing"
    );
}

#[test]
fn the_largest_sequence_number_does_not_overflow_the_tracker() {
    let mut t = SequenceTracker::new();
    assert_eq!(
        t.observe(u64::MAX),
        Err(SequenceProblem::Gap {
            expected: 0,
            got: u64::MAX
        })
    );
    assert_eq!(
        t.observe(u64::MAX),
        Err(SequenceProblem::Repeated {
            seq: u64::MAX,
            expected: u64::MAX
        })
    );
}

#[test]
fn record_start_is_found_after_noise() {
    let line = String::from("\x1b[2J\x1b[01;01HBooting") + &encode_line(0, &end_record());
    let at = find_record_start(&line).unwrap();
    assert_eq!(decode_line(&line[at..]).unwrap().seq, 0);
}

#[test]
fn panic_origin_skips_the_panic_machinery() {
    let panic = Panic {
        message: String::from("called `Option::unwrap()` on a `None` value"),
        location: None,
        during: During::phase("boot"),
        backtrace: [
            "__rustc::rust_begin_unwind+0x306",
            "core::panicking::panic_fmt+0x2c",
            "core::option::unwrap_failed+0x11",
            "runner_kernel::mm::release+0x42",
            "runner_kernel::runner::campaign::run+0x1a0",
            "kernel_entry+0x1462",
        ]
        .map(String::from)
        .to_vec(),
    };
    assert_eq!(
        panic.origin(2).as_deref(),
        Some("runner_kernel::mm::release+0x42 <- runner_kernel::runner::campaign::run+0x1a0")
    );
    let bare = Panic {
        backtrace: Vec::new(),
        ..panic
    };
    assert_eq!(bare.origin(4), None);
}

#[test]
fn vectors_have_one_set_of_mnemonics() {
    use crate::vector::{PF, UD, mnemonic};
    assert_eq!(mnemonic(PF), "#PF");
    assert_eq!(mnemonic(UD), "#UD");
    // Once spelled `CSO` in one of five hand copies.
    assert_eq!(mnemonic(0x09), "#CSO");
    assert_eq!(mnemonic(0x0F), "reserved");
    assert_eq!(mnemonic(0x1E), "#SX");
    assert_eq!(mnemonic(0x20), "vector");
}

#[test]
fn metric_names_are_distinct_snake_case() {
    let mut seen = std::collections::BTreeSet::new();
    for name in crate::metric::ALL {
        assert!(seen.insert(name), "{name} twice");
        assert!(
            name.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
            "{name}"
        );
    }
}

#[test]
fn during_is_a_struct_on_the_wire_and_old_text_still_reads() {
    let during = During {
        campaign: Some("default".to_string()),
        injection: Some(436),
        injector: Some("bit_flip_register".to_string()),
        target: Some("compute.sha256".to_string()),
        ..During::new()
    };
    let json = serde_json::to_string(&during).unwrap();
    assert_eq!(
        json,
        r#"{"campaign":"default","injection":436,"injector":"bit_flip_register","target":"compute.sha256"}"#
    );
    assert_eq!(serde_json::from_str::<During>(&json).unwrap(), during);
    assert_eq!(
        during.to_string(),
        "campaign default injection 436 bit_flip_register compute.sha256"
    );
    // A stream from before the struct: the text, verbatim.
    let old: During = serde_json::from_str(r#""campaign default injection 7""#).unwrap();
    assert_eq!(old.text.as_deref(), Some("campaign default injection 7"));
    assert_eq!(old.injection, None);
    assert_eq!(old.to_string(), "campaign default injection 7");
    assert_eq!(During::new().to_string(), "boot");
    assert_eq!(
        During::experiment("trap.oob_load", "signals.bt_off").to_string(),
        "trap.oob_load signals.bt_off"
    );
    // Both forms inside a whole fault record.
    let fault = |during: &str| {
        format!(
            r#"{{"type":"fault","vector":14,"exception":"PF","category":"invalid_address","rip":1,"rsp":2,"error_code":null,"cr2":null,"symbol":null,"during":{during}}}"#
        )
    };
    for (text, want) in [
        (r#""boot""#.to_string(), During::phase("boot")),
        (json.clone(), during.clone()),
    ] {
        match serde_json::from_str::<Record>(&fault(&text)).unwrap() {
            Record::Fault(f) => assert_eq!(f.during, want),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn injector_and_trigger_names_are_their_serde_names() {
    // Specs are read through serde, records written with `name()`: one
    // spelling only if the two agree.
    for kind in InjectorKind::ALL {
        let json = serde_json::to_string(&kind).unwrap();
        assert_eq!(json, alloc::format!("\"{}\"", kind.name()));
        assert_eq!(InjectorKind::from_name(kind.name()), Some(kind));
    }
    for trigger in Trigger::ALL {
        let json = serde_json::to_string(&trigger).unwrap();
        assert_eq!(json, alloc::format!("\"{}\"", trigger.name()));
        assert_eq!(Trigger::from_name(trigger.name()), Some(trigger));
    }
    assert_eq!(InjectorKind::from_name("bit_flip"), None);
}

#[test]
fn configuration_labels_are_distinct() {
    let mut all = config::ENGINE.to_vec();
    all.extend([config::NATIVE, config::RING0, config::RING3]);
    let mut sorted = all.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), all.len());
}
