//! Regenerate the campaign fixtures in `tests/fixtures/`:
//! `cargo run -p traplab-analyzer --example campaign_fixtures`.
//!
//! No real campaign capture exists yet, so these are synthetic
//! (`synth::campaign_records`, written by the wire crate's encoder) under
//! the header of a real kernel run (`wire/tests/fixtures/kernel-run.jsonl`,
//! decoded and re-encoded with its plan replaced by the campaign):
//!
//! - `campaign.jsonl`: a finished 180-injection campaign, six injectors
//!   over two targets, icount mode;
//! - `campaign_crash.jsonl`: the kernel faults during injection 41 of 60;
//!   the fault record names the injection;
//! - `campaign_truncated.jsonl`: a finished 60-injection campaign whose
//!   injection 20 line was cut in half by the link.

use std::fs;
use std::path::Path;

use traplab_analyzer::synth::{CampaignSpec, campaign_lines, plan_campaign};
use traplab_wire::{Header, Record, decode_line};

fn write(dir: &Path, name: &str, lines: &[String]) {
    let mut text = lines.join("\n");
    text.push('\n');
    fs::write(dir.join(name), text).expect("write fixture");
}

fn kernel_header() -> Header {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../wire/tests/fixtures/kernel-run.jsonl");
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let first = text.lines().next().expect("the capture has a header line");
    match decode_line(first)
        .expect("the capture's header decodes")
        .record
    {
        Record::Header(h) => h,
        other => panic!("first record is a {}, not a header", other.kind()),
    }
}

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let header = |spec: &CampaignSpec| {
        let mut h = kernel_header();
        plan_campaign(&mut h, spec);
        h
    };

    let full = CampaignSpec::small(180);
    write(
        &dir,
        "campaign.jsonl",
        &campaign_lines(&full, header(&full)),
    );

    let crash = CampaignSpec {
        seed: 2,
        crash_at: Some(41),
        ..CampaignSpec::small(60)
    };
    write(
        &dir,
        "campaign_crash.jsonl",
        &campaign_lines(&crash, header(&crash)),
    );

    let small = CampaignSpec {
        seed: 3,
        ..CampaignSpec::small(60)
    };
    let mut cut = campaign_lines(&small, header(&small));
    // Line 0 is the header, so injection 20 is line 21.
    let half = cut[21].len() / 2;
    cut[21].truncate(half);
    write(&dir, "campaign_truncated.jsonl", &cut);
}
