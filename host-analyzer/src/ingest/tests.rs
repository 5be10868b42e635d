use traplab_wire::{Record, Status};

use super::*;
use crate::synth::{RunSpec, lines};

fn spec() -> RunSpec {
    RunSpec::small("tcg", 300)
}

fn join(lines: &[String]) -> Vec<u8> {
    let mut s = lines.join("\n");
    s.push('\n');
    s.into_bytes()
}

/// Re-frame a line whose covered part was edited, with a valid check, to
/// build lines that are intact on the wire but hostile in content.
pub(crate) fn reframe(covered: &str) -> String {
    format!(
        "{covered},\"crc\":\"{:08x}\"}}",
        crc32fast::hash(covered.as_bytes())
    )
}

fn covered(line: &str) -> &str {
    &line[..line.len() - ",\"crc\":\"xxxxxxxx\"}".len()]
}

fn messages(run: &Run) -> Vec<String> {
    run.diagnostics
        .iter()
        .map(|d| format!("{}: {}: {}", d.line, d.severity, d.message))
        .collect()
}

#[test]
fn clean_run_has_no_diagnostics_and_all_samples() {
    let run = parse("run.jsonl", &join(&lines(&spec())));
    assert!(run.diagnostics.is_empty(), "{:#?}", messages(&run));
    assert_eq!(run.series.len(), spec().series.len());
    let oob = run.find("trap.oob_load", "signals.bt_off").unwrap();
    assert_eq!(oob.total.len(), 300);
    assert_eq!(
        oob.stages
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>(),
        TRAP_STAGES
    );
    assert!(oob.stages.iter().all(|s| s.values.len() == 300));
    assert!(run.find("raw.pf", "ring0").unwrap().stages.is_empty());
    assert_eq!(run.completion(), Completion::Complete);
    assert_eq!(run.mode(), Mode::Tcg);
    assert!(run.usable().is_ok());
}

#[test]
fn boot_noise_before_the_first_record_is_skipped_silently() {
    let mut l = lines(&spec());
    l[0] = format!("\x1b[2J\x1b[01;01HSeaBIOS (version 1.16.3)\x1bc{}", l[0]);
    let mut all = vec![
        "SeaBIOS (version 1.16.3)".to_string(),
        "Booting from ROM..".to_string(),
        String::new(),
    ];
    all.extend(l);
    let mut bytes = b"\xff\xfe binary junk\r\n".to_vec();
    bytes.extend(join(&all));
    let run = parse("run.jsonl", &bytes);
    assert!(run.diagnostics.is_empty(), "{:#?}", messages(&run));
    assert_eq!(run.noise_lines, 3);
    assert!(run.header.is_some());
}

#[test]
fn flipped_byte_drops_only_that_line() {
    let mut l = lines(&spec());
    // Line 2 holds seq 1: the first batch (samples 0..256) of the first series.
    l[1] = l[1].replacen("\"total\":[", "\"total\":[9", 1);
    let run = parse("run.jsonl", &join(&l));
    let m = messages(&run);
    assert!(m[0].starts_with("2: error: corrupted: crc"), "{m:#?}");
    assert!(m[0].contains("(line claims seq 1); line dropped"), "{m:#?}");
    assert!(
        m.iter()
            .any(|x| x == "3: error: gap: record 1 is missing (lost or corrupted lines)"),
        "{m:#?}"
    );
    assert!(
        m.iter().any(|x| x.contains("samples 0..256 never arrived")),
        "{m:#?}"
    );
    assert!(
        m.iter()
            .any(|x| x.contains("result record counts 300 samples, 44 received")),
        "{m:#?}"
    );
    assert!(
        m.iter()
            .any(|x| x
                .contains("counts do not match: end record counts 2400 samples, 2144 received")),
        "{m:#?}"
    );
    // The rest of the series is kept.
    assert_eq!(
        run.find("trap.oob_load", "signals.bt_off")
            .unwrap()
            .total
            .len(),
        44
    );
    assert!(run.usable().is_ok());
}

#[test]
fn truncated_last_line_and_missing_end_warn_but_keep_data() {
    let mut l = lines(&spec());
    let last = l.len() - 1;
    l[last].truncate(20);
    let run = parse("run.jsonl", l.join("\n").as_bytes());
    let m = messages(&run);
    assert!(m.iter().any(|x| x.contains("error: truncated")), "{m:#?}");
    assert!(
        m.iter()
            .any(|x| x.contains("warning: no end record: the run was cut off")),
        "{m:#?}"
    );
    assert_eq!(run.completion(), Completion::Incomplete);
    assert_eq!(run.series.len(), spec().series.len());
}

#[test]
fn garbage_inside_the_stream_is_an_error() {
    let mut l = lines(&spec());
    l.insert(2, "@@@ garbage @@@".into());
    let run = parse("run.jsonl", &join(&l));
    let m = messages(&run);
    assert_eq!(
        m,
        vec![
            "3: error: not a record (damaged line or stray output): \"@@@ garbage @@@\""
                .to_string()
        ]
    );
}

#[test]
fn duplicate_line_is_ignored_not_double_counted() {
    let mut l = lines(&spec());
    l.insert(3, l[2].clone());
    let run = parse("run.jsonl", &join(&l));
    let m = messages(&run);
    assert_eq!(
        m,
        vec!["4: error: duplicate of seq 2 (first seen on line 3); ignored".to_string()]
    );
    assert_eq!(
        run.find("trap.oob_load", "signals.bt_off")
            .unwrap()
            .total
            .len(),
        300
    );
}

#[test]
fn duplicate_header_is_a_duplicate_not_a_second_run() {
    let mut l = lines(&spec());
    l.insert(1, l[0].clone());
    let run = parse("run.jsonl", &join(&l));
    assert_eq!(
        messages(&run),
        vec!["2: error: duplicate of seq 0 (first seen on line 1); ignored".to_string()]
    );
}

#[test]
fn reordered_lines_are_kept_in_sample_order() {
    let mut l = lines(&spec());
    l.swap(1, 2);
    let run = parse("run.jsonl", &join(&l));
    let m = messages(&run);
    assert_eq!(
        m,
        vec!["3: warning: out of order: seq 1 arrived after seq 2; kept".to_string()]
    );
    let clean = parse("clean", &join(&lines(&spec())));
    assert_eq!(run.series, clean.series);
}

#[test]
fn wrong_types_are_reported_precisely() {
    let mut l = lines(&spec());
    let c = covered(&l[1]).replacen("\"total\":[", "\"total\":[\"x\",", 1);
    l[1] = reframe(&c);
    let run = parse("run.jsonl", &join(&l));
    let m = messages(&run);
    assert_eq!(
        m[0],
        "2: error: invalid record: invalid type: string \"x\", expected u64 (line claims seq 1); line dropped",
        "{m:#?}"
    );
}

#[test]
fn unknown_record_type_is_invalid() {
    let mut l = lines(&spec());
    l.insert(1, reframe("{\"seq\":1,\"type\":\"telemetry\",\"x\":1"));
    let run = parse("run.jsonl", &join(&l));
    let m = messages(&run);
    assert!(
        m[0].starts_with("2: error: invalid record: unknown variant `telemetry`"),
        "{m:#?}"
    );
}

#[test]
fn unknown_schema_makes_the_run_unusable() {
    let mut l = lines(&spec());
    l[0] = reframe(&covered(&l[0]).replacen("\"schema\":1", "\"schema\":99", 1));
    let run = parse("run.jsonl", &join(&l));
    assert_eq!(run.unknown_schema, Some(99));
    assert!(matches!(run.usable(), Err(Unusable::UnknownSchema(_, 99))));
    assert!(messages(&run)[0].contains("schema version 99 is not supported"));
}

#[test]
fn a_rebooted_machine_starts_a_second_run_which_is_not_mixed_in() {
    let first = lines(&spec());
    let mut second_spec = spec();
    second_spec.commit = "beef000".into();
    let second = lines(&second_spec);
    let mut l = first[..5].to_vec();
    l.push("SeaBIOS (version 1.16.3)".into());
    l.extend(second);
    let run = parse("run.jsonl", &join(&l));
    let m = messages(&run);
    assert!(
        m.iter()
            .any(|x| x.starts_with("7: error: a second run starts here")),
        "{m:#?}"
    );
    assert_eq!(run.commit(), Some(("3f2a9c1", false)));
    assert_eq!(run.completion(), Completion::Incomplete);
}

#[test]
fn invalid_utf8_inside_a_record_is_reported_with_its_column() {
    let mut bytes = join(&lines(&spec()));
    let at = bytes.iter().position(|&b| b == b'\n').unwrap() + 30;
    bytes[at] = 0xff;
    let run = parse("run.jsonl", &bytes);
    let m = messages(&run);
    assert!(
        m[0].starts_with("2: error: corrupted: byte at column 30 is not UTF-8"),
        "{m:#?}"
    );
}

#[test]
fn stage_length_mismatch_drops_stage_data_of_that_batch_only() {
    let mut l = lines(&spec());
    let c = covered(&l[1]).replacen("\"values\":[", "\"values\":[1,", 1);
    l[1] = reframe(&c);
    let run = parse("run.jsonl", &join(&l));
    let m = messages(&run);
    assert_eq!(m.len(), 1, "{m:#?}");
    assert!(
        m[0].contains("stage \"call_to_stub\" has 257 values for 256 totals"),
        "{m:#?}"
    );
    let s = run.find("trap.oob_load", "signals.bt_off").unwrap();
    assert_eq!(s.total.len(), 300);
    assert!(s.stages.iter().all(|st| st.values.len() == 300 - 256));
}

#[test]
fn result_count_mismatch_is_an_error() {
    let mut l = lines(&spec());
    let i = l
        .iter()
        .position(|x| x.contains("\"type\":\"result\""))
        .unwrap();
    l[i] = reframe(&covered(&l[i]).replacen("\"samples\":300", "\"samples\":301", 1));
    let run = parse("run.jsonl", &join(&l));
    let m = messages(&run);
    assert_eq!(m.len(), 1, "{m:#?}");
    assert!(
        m[0].contains(
            "trap.oob_load/signals.bt_off: result record counts 301 samples, 300 received"
        ),
        "{m:#?}"
    );
}

#[test]
fn record_after_end_is_ignored() {
    let mut l = lines(&spec());
    let extra = l[1].clone();
    l.push(extra);
    l.push("qemu: terminating".into());
    let run = parse("run.jsonl", &join(&l));
    let m = messages(&run);
    assert!(
        m[0].contains("error: samples record (seq 1) after the end record"),
        "{m:#?}"
    );
    assert!(
        m[1].contains("warning: text after the end record"),
        "{m:#?}"
    );
}

#[test]
fn empty_and_noise_only_inputs_are_unusable() {
    let run = parse("empty", b"");
    assert!(matches!(run.usable(), Err(Unusable::NoRecords(_))));
    let run = parse("noise", b"SeaBIOS\nBooting\n");
    assert!(matches!(run.usable(), Err(Unusable::NoRecords(_))));
    assert_eq!(
        messages(&run),
        vec!["2: error: no records found (only noise)".to_string()]
    );
}

#[test]
fn lost_header_is_reported_and_the_data_kept() {
    let l = lines(&spec());
    let run = parse("run.jsonl", &join(&l[1..]));
    let m = messages(&run);
    assert!(
        m.iter()
            .any(|x| x.starts_with("1: error: gap: record 0 is missing")),
        "{m:#?}"
    );
    assert!(m.iter().any(|x| x.contains("no header record")), "{m:#?}");
    assert_eq!(run.mode(), Mode::Unknown);
    assert!(run.usable().is_ok());
}

#[test]
fn fault_ends_a_run_with_a_warning_naming_the_fault() {
    use traplab_wire::{Fault, encode_line};
    let mut l = lines(&spec());
    let end = l.pop().unwrap();
    let seq = l.len() as u64;
    l.push(encode_line(
        seq,
        &Record::Fault(Fault {
            vector: 14,
            exception: "#PF".into(),
            category: "invalid_address".into(),
            rip: 0xffff_8000_0010_2a3c,
            rsp: 0x1000,
            error_code: Some(2),
            cr2: Some(0xdead_0000),
            symbol: Some("runner::step+0x1c".into()),
            during: "trap.oob_load/signals.bt_off".into(),
        }),
    ));
    let _ = end;
    let run = parse("run.jsonl", &join(&l));
    let m = messages(&run);
    assert!(
        m.iter().any(|x| x.contains(
            "warning: kernel fault #PF (vector 14) at rip 0xffff800000102a3c (runner::step+0x1c), error code 0x2, cr2 0xdead0000 during trap.oob_load/signals.bt_off"
        )),
        "{m:#?}"
    );
}

#[test]
fn a_planned_wast_script_is_reported_by_its_commands() {
    let mut records = crate::synth::records(&spec());
    let end = records.pop().unwrap();
    let Record::Header(h) = &mut records[0] else {
        panic!("first record is the header")
    };
    for script in ["a.wast", "b.wast"] {
        h.plan.push(traplab_wire::Planned {
            experiment: format!("wast.{script}"),
            config: "signals.bt_off".into(),
            samples: 2,
        });
    }
    records.push(Record::Result(ExperimentResult {
        experiment: "wast.a.wast:7".into(),
        config: "signals.bt_off".into(),
        status: Status::Skipped,
        samples: 0,
        expected: None,
        observed: None,
        message: Some("unsupported: register".into()),
    }));
    let Record::End(mut end) = end else {
        panic!("last record is the end")
    };
    end.records += 1;
    records.push(Record::End(end));
    let lines: Vec<String> = records
        .iter()
        .enumerate()
        .map(|(i, r)| traplab_wire::encode_line(i as u64, r))
        .collect();
    let run = parse("run", &join(&lines));
    assert_eq!(
        messages(&run),
        [format!(
            "{}: warning: 1 planned experiment(s) never reported: wast.b.wast/signals.bt_off",
            lines.len()
        )]
    );
}

#[test]
fn linux_peer_streams_are_clean_and_only_bogus_stage_names_warn() {
    use traplab_wire::Platform;
    for (platform, mode) in [(Platform::LinuxGuest, "kvm"), (Platform::LinuxHost, "host")] {
        let spec = RunSpec::peer(platform, mode, 40);
        let run = parse("peer.jsonl", &join(&lines(&spec)));
        assert!(run.diagnostics.is_empty(), "{:#?}", messages(&run));
        assert_eq!(run.platform(), Some(platform.name()));
        let oob = run.find("trap.oob_load", "signals.bt_on").unwrap();
        let names: Vec<&str> = oob.stages.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["call_to_handler", "handler_to_return"]);
        let r = oob.result.as_ref().unwrap();
        assert_eq!(r.observed.as_ref().unwrap().vector, None);
        assert_eq!(r.observed.as_ref().unwrap().signal, Some(11));
    }
    // Any stage between two stamps in order is legitimate (stored in trap
    // order); a name outside that scheme, or stamps out of order, warns.
    let mut l = lines(&RunSpec::peer(Platform::LinuxGuest, "tcg", 40));
    let at = l
        .iter()
        .position(|x| x.contains("\"stages\":[{\"name\":\"call_to_handler\""))
        .unwrap();
    l[at] = reframe(
        &covered(&l[at])
            .replace("\"call_to_handler\"", "\"handler_to_return\"")
            .replacen("\"handler_to_return\"", "\"call_to_handler\"", 2)
            .replacen("\"call_to_handler\"", "\"handler_to_return\"", 1),
    );
    let run = parse("peer.jsonl", &join(&l));
    assert!(run.diagnostics.is_empty(), "{:#?}", messages(&run));
    let mut l = lines(&RunSpec::peer(Platform::LinuxGuest, "tcg", 40));
    l[at] = reframe(
        &covered(&l[at])
            .replace("\"call_to_handler\"", "\"handler_to_call\"")
            .replace("\"handler_to_return\"", "\"signal_entry\""),
    );
    let m = messages(&parse("peer.jsonl", &join(&l)));
    assert_eq!(m.len(), 2, "{m:#?}");
    assert!(
        m[0].contains("unknown stage name \"handler_to_call\""),
        "{m:#?}"
    );
    assert!(
        m[1].contains("unknown stage name \"signal_entry\""),
        "{m:#?}"
    );
    // An unknown platform is named.
    let mut l = lines(&spec());
    l[0] = reframe(&covered(&l[0]).replace("\"lab-kernel\"", "\"freebsd\""));
    let m = messages(&parse("run.jsonl", &join(&l)));
    assert_eq!(m.len(), 1, "{m:#?}");
    assert!(m[0].contains("unknown platform \"freebsd\""), "{m:#?}");
}

#[test]
fn contained_failures_are_counted_and_checked_against_the_failed_count() {
    let mut records = crate::synth::records(&spec());
    let Some(Record::End(end)) = records.last_mut() else {
        panic!("last record is the end")
    };
    let with = |records: &[Record]| {
        let lines: Vec<String> = records
            .iter()
            .enumerate()
            .map(|(i, r)| traplab_wire::encode_line(i as u64, r))
            .collect();
        parse("run", &join(&lines))
    };
    // More contained failures than failed experiments: the counts lie.
    end.contained_failures = 1;
    let run = with(&records);
    assert!(
        messages(&run)
            .iter()
            .any(|m| m.contains("1 contained failures but only 0 failed")),
        "{:?}",
        messages(&run)
    );
    // One experiment failed by containment: the run says so.
    let Some(Record::Result(r)) = records
        .iter_mut()
        .rev()
        .find(|r| matches!(r, Record::Result(_)))
    else {
        panic!("a result record")
    };
    r.status = Status::Failed;
    r.message = Some("contained: panic: boom".into());
    let Some(Record::End(end)) = records.last_mut() else {
        unreachable!()
    };
    (end.ok, end.failed, end.status) = (end.ok - 1, 1, EndStatus::Failed);
    let run = with(&records);
    assert!(run.diagnostics.is_empty(), "{:?}", messages(&run));
    assert_eq!(run.contained_failures(), 1);
    assert_eq!(
        crate::summary::run_status(&run),
        "failed (1 contained failure)"
    );
}
