//! Build the committed `tests/fixtures/real-peers-*.jsonl` from a real run
//! stored with its Linux peers:
//!
//! ```sh
//! scripts/run-suite.sh --quick --peers          # stores RUN with peers/
//! cargo run -p traplab-analyzer --example real_peer_fixtures -- RUN
//! ```
//!
//! Keeps, from each platform's stream, what `traplab peers` reads for a
//! few rows — `trap.oob_load`, `trap.unreachable`, `call.null` and the
//! floors — with their first [`KEEP`] samples, re-framed by
//! `synth::subset` (the header's plan filtered the same way, result and end
//! records recounted), so the fixtures validate clean. Values are the
//! platforms', unchanged.

use std::fs;
use std::path::Path;

use traplab_analyzer::synth::subset;
use traplab_wire::{Record, decode_line, encode_line};

/// Samples kept per series.
const KEEP: u32 = 100;

/// The stream with every series cut to its first [`KEEP`] samples.
fn trim(text: &str) -> String {
    text.lines()
        .filter_map(|l| decode_line(l).ok())
        .filter_map(|f| {
            let record = match f.record {
                Record::Samples(mut s) => {
                    if s.first >= KEEP {
                        return None;
                    }
                    let n = (KEEP - s.first) as usize;
                    s.total.truncate(n);
                    for st in &mut s.stages {
                        st.values.truncate(n);
                    }
                    Record::Samples(s)
                }
                Record::Result(mut r) => {
                    r.samples = r.samples.min(KEEP);
                    Record::Result(r)
                }
                other => other,
            };
            Some(format!("{}\n", encode_line(f.seq, &record)))
        })
        .collect()
}

fn keep(experiment: &str) -> bool {
    matches!(
        experiment,
        "trap.oob_load" | "trap.unreachable" | "call.null"
    ) || experiment.starts_with("raw.")
}

fn main() {
    let run = std::env::args()
        .nth(1)
        .expect("usage: real_peer_fixtures RUN (a stored run folder with peers/)");
    let run = Path::new(&run);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    for (from, to) in [
        ("run.jsonl", "real-peers-lab.jsonl"),
        ("peers/linux-guest.jsonl", "real-peers-guest.jsonl"),
        ("peers/linux-host.jsonl", "real-peers-host.jsonl"),
    ] {
        let path = run.join(from);
        let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        fs::write(dir.join(to), subset(&trim(&text), keep)).expect("write fixture");
    }
}
