//! Write a synthetic run to stdout (for trying the CLI and for benchmarks):
//! `cargo run -p traplab-analyzer --example synth_run -- MODE SAMPLES [SLOWDOWN] [SEED] [COMMIT]`,
//! or a synthetic fault-injection campaign:
//! `cargo run -p traplab-analyzer --example synth_run -- campaign COUNT [MODE] [CRASH_AT]`.

use traplab_analyzer::synth::{CampaignSpec, RunSpec, campaign_jsonl, jsonl};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("campaign") {
        let count = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1000);
        let mode = args.get(2).map_or("icount", String::as_str);
        let spec = CampaignSpec {
            crash_at: args.get(3).and_then(|s| s.parse().ok()),
            ..CampaignSpec::small(count)
        };
        print!("{}", campaign_jsonl(&spec, mode));
        return;
    }
    let mode = args.first().map_or("tcg", String::as_str);
    let samples = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1000);
    let mut spec = RunSpec::small(mode, samples);
    if let Some(s) = args.get(2).and_then(|s| s.parse().ok()) {
        spec.slowdown = s;
    }
    if let Some(s) = args.get(3).and_then(|s| s.parse().ok()) {
        spec.seed = s;
    }
    if let Some(c) = args.get(4) {
        spec.commit = c.clone();
    }
    print!("{}", jsonl(&spec));
}
