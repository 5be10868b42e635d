//! sightglass's benchmark ABI: the host timestamps `bench.start` and
//! `bench.end`; the interval between them is the sample.

#[link(wasm_import_module = "bench")]
unsafe extern "C" {
    #[link_name = "start"]
    fn bench_start();
    #[link_name = "end"]
    fn bench_end();
}

/// Run `work` between `bench.start` and `bench.end`.
pub fn measured<T>(work: impl FnOnce() -> T) -> T {
    // SAFETY: the host functions take no arguments and touch no guest
    // memory.
    unsafe { bench_start() };
    let out = std::hint::black_box(work());
    // SAFETY: as above.
    unsafe { bench_end() };
    out
}
