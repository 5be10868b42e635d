//! Regenerate the peer fixtures in `tests/fixtures/`:
//! `cargo run -p traplab-analyzer --example peer_fixtures`.
//!
//! No real Linux peer capture exists yet, so these are synthetic
//! (`synth::RunSpec::peer`, written by the wire crate's encoder): one
//! suite's common experiments on each platform.
//!
//! - `peers-lab-tcg.jsonl`, `peers-guest-tcg.jsonl`: the lab kernel and
//!   the Linux guest under TCG;
//! - `peers-lab-icount.jsonl`, `peers-guest-icount.jsonl`: the same under
//!   icount (deterministic);
//! - `peers-host.jsonl`: the Linux peer directly on the host (mode `host`).

use std::fs;
use std::path::Path;

use traplab_analyzer::synth::{RunSpec, jsonl};
use traplab_wire::Platform;

/// Samples per series: enough for stable quartiles, small on disk.
const SAMPLES: usize = 40;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    fs::create_dir_all(&dir).expect("create fixture folder");
    for (name, platform, mode) in [
        ("peers-lab-tcg", Platform::LabKernel, "tcg"),
        ("peers-guest-tcg", Platform::LinuxGuest, "tcg"),
        ("peers-lab-icount", Platform::LabKernel, "icount"),
        ("peers-guest-icount", Platform::LinuxGuest, "icount"),
        ("peers-host", Platform::LinuxHost, "host"),
    ] {
        let spec = RunSpec::peer(platform, mode, SAMPLES);
        fs::write(dir.join(format!("{name}.jsonl")), jsonl(&spec)).expect("write fixture");
    }
}
