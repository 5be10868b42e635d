//! Fuzz the run parser and everything downstream of it that must never panic
//! on hostile input: ingest, validation verdicts, summaries in every format.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    traplab_analyzer::fuzz::parse_and_summarize(data);
});
