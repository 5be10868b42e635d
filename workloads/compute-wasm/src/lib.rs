//! The compute kernels of `traplab-compute` as one wasm module for the
//! suite: each kernel is an export named after its `ComputeKernel::export`,
//! of type `(i32, i32) -> i32`, and the module imports nothing.
//!
//! Built by `traplab-workloads`' `build_suite` with
//! `cargo build --release --locked --target wasm32-unknown-unknown -p traplab-compute-wasm`;
//! `build_suite` then checks that the exports are exactly the kernels of
//! `traplab_compute::KERNELS` with that type, and that each returns its golden
//! result on the host before compiling it for the kernel.
//!
//! Each export calls its kernel's `run` directly (not through the
//! `ComputeKernel::run` pointer), so the wasm code is a direct call, as the
//! kernel's native twin is after inlining.
//!
//! On the host this crate is an ordinary (`std`) library, so that workspace
//! builds and lints of every target succeed; only the wasm build is used.
#![cfg_attr(target_arch = "wasm32", no_std)]

use traplab_compute::{divmix, fib, lz, matmul, nbody, quicksort, sha256, sieve, tokenizer};

/// Defines `#[unsafe(no_mangle)] extern "C" fn <export>(a, b) -> i32` for
/// each `export => kernel module` pair.
macro_rules! exports {
    ($($export:ident => $kernel:ident),* $(,)?) => {
        $(
            #[doc = concat!("The `", stringify!($export), "` kernel (`traplab_compute::", stringify!($kernel), "`).")]
            #[unsafe(no_mangle)]
            pub extern "C" fn $export(a: i32, b: i32) -> i32 {
                $kernel::run(a, b)
            }
        )*
    };
}

exports! {
    fib => fib,
    sieve => sieve,
    matmul => matmul,
    sha256 => sha256,
    quicksort => quicksort,
    nbody => nbody,
    lz => lz,
    tokenizer => tokenizer,
    divmix => divmix,
}

/// A panic (an index out of bounds would be a bug: every kernel clamps its
/// sizes) ends the call with wasm's `unreachable` trap, so the kernel
/// reports a failed workload instead of a wrong result. No message is
/// formatted: that would pull the formatting machinery into the module.
#[cfg(target_arch = "wasm32")]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}
