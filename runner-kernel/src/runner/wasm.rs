//! The lab kernel's wasmtime engine: the shared configuration plus what
//! only the kernel knows. The experiments themselves are the runner
//! core's (`traplab_runner_core::wasm`).

use traplab_suite::{EngineVariant, engine_config};
use wasmtime::Engine;

use crate::arch::cpu;

/// Build the engine for `variant`.
pub fn engine(variant: EngineVariant) -> wasmtime::Result<Engine> {
    let mut config = engine_config(variant);
    // SAFETY: x86_64-unknown-none is a soft-float target, so Rust code here
    // passes floats in integer registers while Cranelift's wasm code uses
    // SSE registers. The two would meet at wasmtime's float libcalls (wasm
    // `ceil/floor/trunc/nearest`) and at host functions taking floats.
    // Every CPU profile has SSE4.1 (`traplab_suite::cpu`), so those
    // rounding ops are inline `round*` instructions and no float libcall is
    // ever made; the kernel's host functions (sightglass WASI subset) take
    // and return integers only. Kernel code never touches SSE state, so
    // wasm's use of it is undisturbed.
    unsafe { config.x86_float_abi_ok(true) };
    // SAFETY: `detect_feature` answers from CPUID and counts AVX-class
    // features only when their register state is enabled in XCR0.
    unsafe { config.detect_host_feature(cpu::detect_feature) };
    Engine::new(&config)
}
