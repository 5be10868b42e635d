//! Replays the fuzz corpus (`fuzz/corpus/parse_run/`) and every committed
//! fixture through the fuzz entry point on stable Rust, plus a fixed-seed
//! mutation sweep over a good run, so `cargo test` keeps what fuzzing found.

use std::path::Path;

use traplab_analyzer::fuzz::parse_and_summarize;
use traplab_analyzer::stats::Rng;

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
    let good = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/boot_noise.jsonl"),
    )
    .unwrap();
    let mut rng = Rng::new(0x5eed);
    for _ in 0..300 {
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
