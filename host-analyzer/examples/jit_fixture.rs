//! Build the committed `tests/fixtures/jit.jsonl` from two real captures:
//!
//! ```sh
//! cargo build --release -p traplab-harness
//! ./target/release/traplab-run --capture /tmp/jit-run.jsonl --samples 100 --heap-traps 0
//! ./target/release/traplab-wast --capture /tmp/wast-run.jsonl conformance/scripts/*.wast
//! cargo run -p traplab-analyzer --example jit_fixture -- /tmp/jit-run.jsonl /tmp/wast-run.jsonl
//! ```
//!
//! Keeps what `traplab jit` and `traplab wast` read, trimmed so the fixture
//! stays small: four compute workloads (two integer, two with soft-float
//! twins), the out-of-bounds trap that prices the break-even, the raw
//! floors of the JIT faults, every in-kernel Cranelift series, and a few
//! `.wast` commands of two scripts (every unsupported one among them). Series keep their
//! first [`KEEP`] samples; the `.wast` tallies are recounted for the kept
//! commands and the end record for the kept records, and every line is
//! re-framed by the wire crate's encoder, so the fixture validates clean.
//! Values are the kernel's, unchanged.

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use traplab_wire::{End, EndStatus, Metric, Record, Samples, Status, decode_line, encode_line};

/// Samples kept per series.
const KEEP: usize = 12;
const WORKLOADS: [&str; 4] = ["fib", "sieve", "matmul", "nbody"];
/// Script → how many leading commands to keep (unsupported ones are kept too).
const SCRIPTS: [(&str, usize); 2] = [("control.wast", 3), ("int_div.wast", 2)];

fn records(path: &str) -> Vec<Record> {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines()
        .filter_map(|l| {
            let at = traplab_wire::find_record_start(l)?;
            Some(
                decode_line(&l[at..])
                    .unwrap_or_else(|e| panic!("{path}: {e}"))
                    .record,
            )
        })
        .collect()
}

fn keep_series(experiment: &str, config: &str) -> bool {
    match experiment.split_once('.') {
        Some(("compute", w)) => WORKLOADS.contains(&w),
        Some(("trap", "oob_load")) => config == "signals.bt_off" || config == "explicit.bt_off",
        Some(("raw", k)) => ["pf", "ud", "de"].contains(&k),
        Some(("jit", _)) => true,
        _ => false,
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [run, wast] = args.as_slice() else {
        eprintln!("usage: jit_fixture RUN.jsonl WAST.jsonl");
        std::process::exit(2);
    };
    let mut out: Vec<Record> = Vec::new();
    for r in records(run) {
        match r {
            Record::Header(mut h) => {
                h.plan.retain(|p| keep_series(&p.experiment, &p.config));
                for p in &mut h.plan {
                    p.samples = p.samples.min(KEEP as u32);
                }
                out.push(Record::Header(h));
            }
            Record::Samples(s) if keep_series(&s.experiment, &s.config) && s.first == 0 => {
                let n = s.total.len().min(KEEP);
                out.push(Record::Samples(Samples {
                    total: s.total[..n].to_vec(),
                    stages: s
                        .stages
                        .into_iter()
                        .map(|mut st| {
                            st.values.truncate(n);
                            st
                        })
                        .collect(),
                    ..s
                }));
            }
            Record::Result(mut r) if keep_series(&r.experiment, &r.config) => {
                r.samples = r.samples.min(KEEP as u32);
                out.push(Record::Result(r));
            }
            Record::Metric(m) => {
                let experiment = m.context.split(' ').next().unwrap_or_default();
                let config = m.context.split(' ').nth(1).unwrap_or("cranelift");
                if keep_series(experiment, config) {
                    out.push(Record::Metric(m));
                }
            }
            _ => {}
        }
    }
    // The .wast commands: the first few of each script, and every
    // unsupported one, under each configuration; tallies recounted.
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    let mut tally: Vec<((String, String), [u64; 3])> = Vec::new();
    for r in records(wast) {
        let Record::Result(r) = r else { continue };
        let Some((script, _)) = r
            .experiment
            .strip_prefix("wast.")
            .and_then(|e| e.rsplit_once(':'))
        else {
            continue;
        };
        let Some(&(_, first)) = SCRIPTS.iter().find(|(s, _)| *s == script) else {
            continue;
        };
        let key = (script.to_string(), r.config.clone());
        let index = seen.entry(key.clone()).or_default();
        *index += 1;
        if *index > first && r.status != Status::Skipped {
            continue;
        }
        let slot = match tally.iter().position(|(k, _)| *k == key) {
            Some(i) => i,
            None => {
                tally.push((key, [0; 3]));
                tally.len() - 1
            }
        };
        tally[slot].1[match r.status {
            Status::Ok => 0,
            Status::Failed => 1,
            Status::Skipped => 2,
        }] += 1;
        out.push(Record::Result(r));
    }
    for ((script, config), counts) in tally {
        for (name, value) in ["wast_passed", "wast_failed", "wast_unsupported"]
            .into_iter()
            .zip(counts)
        {
            out.push(Record::Metric(Metric {
                name: name.into(),
                value,
                unit: "commands".into(),
                context: format!("wast.{script} {config}"),
            }));
        }
    }
    let samples = out
        .iter()
        .map(|r| match r {
            Record::Samples(s) => s.total.len() as u64,
            _ => 0,
        })
        .sum();
    let count = |status: Status| {
        out.iter()
            .filter(|r| matches!(r, Record::Result(x) if x.status == status))
            .count() as u32
    };
    out.push(Record::End(End {
        status: EndStatus::Complete,
        records: out.len() as u64,
        samples,
        ok: count(Status::Ok),
        failed: count(Status::Failed),
        contained_failures: 0,
    }));
    let mut text: String = out
        .iter()
        .enumerate()
        .map(|(seq, r)| encode_line(seq as u64, r))
        .collect::<Vec<_>>()
        .join("\n");
    text.push('\n');
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/jit.jsonl");
    fs::write(&path, text).expect("write the fixture");
    println!("{} ({} records)", path.display(), out.len());
}
