//! Replays the fuzz corpus (`fuzz/corpus/parse_run/`) and every committed
//! fixture through the fuzz entry point on stable Rust, plus a fixed-seed
//! mutation sweep over a good run, so `cargo test` keeps what fuzzing found.

use std::path::Path;

use traplab_analyzer::fuzz::parse_and_summarize;
use traplab_analyzer::stats::Rng;
use traplab_analyzer::synth::subset;

fn files_in(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    v.sort();
    v
}

#[test]
fn corpus_and_fixtures_never_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut n = 0;
    for dir in ["fuzz/corpus/parse_run", "tests/fixtures"] {
        for f in files_in(&root.join(dir)) {
            parse_and_summarize(&std::fs::read(&f).unwrap());
            n += 1;
        }
    }
    assert!(n >= 20, "only {n} inputs found");
}

#[test]
fn mutated_runs_never_panic() {
    mutation_sweep(fixture("boot_noise.jsonl"), 0x5eed, 300);
}

#[test]
fn mutated_jit_runs_never_panic() {
    // One of each kind of input the JIT view reads (a compute workload under
    // three configurations, the break-even trap, in-kernel Cranelift with a
    // fault and its floor, .wast results): few series keep it fast.
    let jit = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/jit.jsonl"),
    )
    .unwrap();
    let keep = |e: &str| {
        // Metrics' contexts are "<experiment>" or "<experiment> <config>".
        let experiment = e.split(' ').next().unwrap_or_default();
        [
            "compute.fib",
            "trap.oob_load",
            "jit.compile.n10",
            "jit.exec.n10",
            "jit.trap.pf",
            "raw.pf",
        ]
        .contains(&experiment)
            || e.starts_with("wast.")
    };
    mutation_sweep(subset(&jit, keep).into_bytes(), 0x71f, 20);
}

#[test]
fn mutated_campaign_runs_never_panic() {
    // A kernel crash mid-campaign: injections, a fault record to charge,
    // no campaign result.
    mutation_sweep(fixture("campaign_crash.jsonl"), 0xca11, 60);
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name),
    )
    .unwrap()
}

/// Apply 1–4 random byte-level mutations to a run, `rounds` times.
fn mutation_sweep(good: Vec<u8>, seed: u64, rounds: usize) {
    let mut rng = Rng::new(seed);
    for _ in 0..rounds {
        let mut m = good.clone();
        for _ in 0..1 + rng.next_u64() % 4 {
            let at = (rng.next_u64() as usize) % m.len().max(1);
            match rng.next_u64() % 5 {
                0 => m[at] ^= 1 << (rng.next_u64() % 8),
                1 => m.truncate(at),
                2 => {
                    m.remove(at.min(m.len().saturating_sub(1)));
                }
                3 => {
                    let len = (rng.next_u64() % 200) as usize;
                    let chunk: Vec<u8> = m[at..(at + len).min(m.len())].to_vec();
                    let to = (rng.next_u64() as usize) % m.len().max(1);
                    m.splice(to..to, chunk);
                }
                _ => m.insert(at, (rng.next_u64() % 256) as u8),
            }
            if m.is_empty() {
                break;
            }
        }
        parse_and_summarize(&m);
    }
}
