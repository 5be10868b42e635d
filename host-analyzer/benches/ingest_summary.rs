//! Ingest + summary of a 1,000,000-sample run (the issue's speed bar:
//! ≥ 1M samples/s on the project machine). Criterion reports the throughput
//! in samples per second:
//!
//! ```sh
//! cargo bench -p traplab-analyzer --bench ingest_summary
//! ```
//!
//! Figure drawing is timed end to end with the CLI instead (see the
//! host-analyzer README), because one iteration takes seconds.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use traplab_analyzer::ingest::parse;
use traplab_analyzer::mode::Unit;
use traplab_analyzer::summary::{render, summarize};
use traplab_analyzer::synth::{RunSpec, jsonl};
use traplab_analyzer::table::Format;

const SAMPLES: usize = 1_000_000;

fn million_sample_run() -> Vec<u8> {
    let spec = RunSpec::small("tcg", 0);
    let per_series = SAMPLES / spec.series.len();
    jsonl(&RunSpec {
        samples: per_series,
        ..spec
    })
    .into_bytes()
}

fn ingest_summary(c: &mut Criterion) {
    let bytes = million_sample_run();
    let mut g = c.benchmark_group("ingest+summary");
    g.throughput(Throughput::Elements(SAMPLES as u64));
    g.sample_size(10);
    g.bench_function("1M samples, table", |b| {
        b.iter(|| {
            let run = parse("bench", black_box(&bytes));
            let rows = summarize(&run);
            black_box(render(&run, &rows, Format::Table, Unit::Cycles).expect("cycles need no TSC"))
        })
    });
    g.bench_function("1M samples, ingest only", |b| {
        b.iter(|| black_box(parse("bench", black_box(&bytes))))
    });
    g.finish();
}

criterion_group!(benches, ingest_summary);
criterion_main!(benches);
