//! Reads a large input file (a few MiB, written by the test helper) and
//! prints its length and FNV-1a hash, computed between `bench.start` and
//! `bench.end`: every byte must arrive, in order.

#[path = "../bench.rs"]
mod bench;

fn main() {
    let data = std::fs::read("big.bin").expect("reading big.bin");
    let hash = bench::measured(|| {
        data.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
    });
    println!("bytes: {}", data.len());
    println!("fnv1a: {hash:016x}");
}
