//! The record stream: numbering, framing (via `traplab_wire`) and the
//! counts the end record carries. Lock-free, so a platform's fault and
//! panic paths can frame their last records without waiting.

use alloc::string::String;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use traplab_wire::{End, EndStatus, Record, Status, encode_line};

/// Counters of one run's stream. A platform keeps one in a `static`.
pub struct Stream {
    seq: AtomicU64,
    samples: AtomicU64,
    ok: AtomicU32,
    failed: AtomicU32,
    contained: AtomicU32,
    ended: AtomicBool,
}

impl Stream {
    pub const fn new() -> Stream {
        Stream {
            seq: AtomicU64::new(0),
            samples: AtomicU64::new(0),
            ok: AtomicU32::new(0),
            failed: AtomicU32::new(0),
            contained: AtomicU32::new(0),
            ended: AtomicBool::new(false),
        }
    }

    /// Count `record` and frame it as one line, newline included.
    pub fn frame(&self, record: &Record) -> String {
        if let Record::Samples(s) = record {
            self.samples
                .fetch_add(s.total.len() as u64, Ordering::Relaxed);
        }
        if let Record::Result(r) = record {
            match r.status {
                Status::Ok => self.ok.fetch_add(1, Ordering::Relaxed),
                Status::Failed => self.failed.fetch_add(1, Ordering::Relaxed),
                Status::Skipped => 0,
            };
        }
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        let mut line = encode_line(seq, record);
        line.push('\n');
        line
    }

    /// Experiments that failed so far.
    pub fn failed(&self) -> u32 {
        self.failed.load(Ordering::Relaxed)
    }

    /// Count an experiment the platform abandoned ([`crate::Platform::contain`]);
    /// its failed `result` is counted by [`Stream::frame`] as usual.
    pub fn count_contained(&self) {
        self.contained.fetch_add(1, Ordering::Relaxed);
    }

    /// The end record, the first time only (later calls: `None`).
    pub fn end(&self, status: EndStatus) -> Option<Record> {
        if self.ended.swap(true, Ordering::AcqRel) {
            return None;
        }
        Some(Record::End(End {
            status,
            records: self.seq.load(Ordering::Relaxed),
            samples: self.samples.load(Ordering::Relaxed),
            ok: self.ok.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            contained_failures: self.contained.load(Ordering::Relaxed),
        }))
    }
}

impl Default for Stream {
    fn default() -> Self {
        Stream::new()
    }
}
