//! A stream captured from the real kernel (QEMU, icount mode, 8 samples per
//! experiment) decodes line by line, in sequence, from header to end.
//! Regenerate with:
//! `traplab-run --profile icount --samples 8 --warmup 2 --heap-traps 100 --capture wire/tests/fixtures/kernel-run.jsonl`

use traplab_wire::{EndStatus, Record, SCHEMA_VERSION, SequenceTracker, decode_line};

#[test]
fn captured_kernel_stream_decodes_in_sequence() {
    let text = include_str!("fixtures/kernel-run.jsonl");
    let mut tracker = SequenceTracker::new();
    let mut records = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let frame = decode_line(line).unwrap_or_else(|e| panic!("line {}: {e}", n + 1));
        tracker.observe(frame.seq).unwrap();
        records.push(frame.record);
    }
    let Some(Record::Header(header)) = records.first() else {
        panic!("no header first")
    };
    assert_eq!(header.schema, SCHEMA_VERSION);
    assert_eq!(header.config.mode, "icount");
    let Some(Record::End(end)) = records.last() else {
        panic!("no end record last")
    };
    assert_eq!(end.status, EndStatus::Complete);
    assert_eq!(end.records as usize, records.len() - 1);
    let samples: u64 = records
        .iter()
        .map(|r| {
            if let Record::Samples(s) = r {
                s.total.len() as u64
            } else {
                0
            }
        })
        .sum();
    assert_eq!(end.samples, samples);
}
