//! The record stream on COM1: numbering, framing (via `traplab_wire`) and
//! the counts the end record carries.
//!
//! Everything the kernel learns leaves through here as a record. The
//! emergency variants are for the fault and panic paths, which must not
//! wait for locks.

use alloc::string::String;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use traplab_wire::{End, EndStatus, Log, Record, encode_line};

use crate::arch::serial;

static SEQ: AtomicU64 = AtomicU64::new(0);
static SAMPLES: AtomicU64 = AtomicU64::new(0);
static OK: AtomicU32 = AtomicU32::new(0);
static FAILED: AtomicU32 = AtomicU32::new(0);
static ENDED: AtomicBool = AtomicBool::new(false);

fn frame(record: &Record) -> String {
    if let Record::Samples(s) = record {
        SAMPLES.fetch_add(s.total.len() as u64, Ordering::Relaxed);
    }
    if let Record::Result(r) = record {
        match r.status {
            traplab_wire::Status::Ok => OK.fetch_add(1, Ordering::Relaxed),
            traplab_wire::Status::Failed => FAILED.fetch_add(1, Ordering::Relaxed),
            traplab_wire::Status::Skipped => 0,
        };
    }
    let seq = SEQ.fetch_add(1, Ordering::Relaxed);
    let mut line = encode_line(seq, record);
    line.push('\n');
    line
}

/// Write one record.
pub fn emit(record: Record) {
    serial::write(frame(&record).as_bytes());
}

/// Write one record without waiting for the serial lock.
pub fn emit_emergency(record: Record) {
    serial::emergency_write(frame(&record).as_bytes());
}

pub fn log(message: String) {
    emit(Record::Log(Log {
        level: String::from("info"),
        message,
    }));
}

/// Experiments that failed so far.
pub fn failed_count() -> u32 {
    FAILED.load(Ordering::Relaxed)
}

/// Write the end record (once; later calls do nothing).
pub fn end(status: EndStatus, emergency: bool) {
    if ENDED.swap(true, Ordering::AcqRel) {
        return;
    }
    let record = Record::End(End {
        status,
        records: SEQ.load(Ordering::Relaxed),
        samples: SAMPLES.load(Ordering::Relaxed),
        ok: OK.load(Ordering::Relaxed),
        failed: FAILED.load(Ordering::Relaxed),
    });
    if emergency {
        emit_emergency(record)
    } else {
        emit(record)
    }
}
