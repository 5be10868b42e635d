//! The record stream on COM1: numbering, framing (via `traplab_wire`) and
//! the counts the end record carries.
//!
//! Everything the kernel learns leaves through here as a record. The
//! emergency variants are for the fault and panic paths, which must not
//! wait for locks.

use alloc::string::String;

use traplab_runner_core::stream::Stream;
use traplab_wire::{EndStatus, Log, Record};

use crate::arch::serial;

/// Numbering, framing and counts (the runner core's, shared by platforms).
static STREAM: Stream = Stream::new();

fn frame(record: &Record) -> String {
    STREAM.frame(record)
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
    STREAM.failed()
}

/// Count an experiment abandoned by containment (`LabKernel::contain`).
pub fn count_contained() {
    STREAM.count_contained();
}

/// Write the end record (once; later calls do nothing).
pub fn end(status: EndStatus, emergency: bool) {
    let Some(record) = STREAM.end(status) else {
        return;
    };
    if emergency {
        emit_emergency(record)
    } else {
        emit(record)
    }
}
