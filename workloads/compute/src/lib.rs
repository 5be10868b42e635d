//! Compute kernels with golden results, written once in `no_std` Rust:
//! compiled to `wasm32-unknown-unknown` for the suite (`traplab-compute-wasm`)
//! and natively into the kernel as their *twins*, so wasm and native time the
//! very same algorithm side by side.
//!
//! Each kernel is a `fn(i32, i32) -> i32`: the first argument is the problem
//! size, the second a seed (or ignored), and the result a checksum of the
//! kernel's whole output, so a wrong output changes the result. [`KERNELS`]
//! lists them with the arguments the suite calls them with and the result
//! those arguments must give (`golden`); the host tests run every kernel
//! natively and compare.
//!
//! What this crate owns: the algorithms, their arguments and golden results.
//! What it does not: compiling them to wasm (`traplab-compute-wasm`), packing
//! the suite (`traplab-workloads`), timing them (the kernel).
//!
//! Rules every kernel keeps, so native and wasm agree bit for bit:
//! - no allocation; working memory is a [`scratch::Scratch`] static or the
//!   stack, and every call fully re-initialises what it reads, so each call
//!   of the same arguments does the same work and returns the same value;
//! - integers wrap explicitly (`wrapping_*`), so debug builds (overflow
//!   checks) and release builds compute the same thing;
//! - no `usize`-width dependence: wasm32 has a 32-bit `usize`, the kernel a
//!   64-bit one, so everything hashed or stored is `u32`/`u64`/`i32`;
//! - floating point uses IEEE basic operations and [`sqrt`] only, all
//!   correctly rounded on every target; nothing that rounds to an integer
//!   (`floor`, `trunc`, …), which Cranelift lowers to a libcall without
//!   SSE4.1 and which would cross the kernel's soft-float ABI;
//! - sizes are clamped to each kernel's static capacity, so no argument
//!   can index out of bounds (documented per kernel).
//!
//! The kernel target `x86_64-unknown-none` is soft-float: the float kernels'
//! native twins run with software floating point there (`uses_float` says
//! which), so their wasm/native ratio is not a like-for-like code-quality
//! figure.
#![no_std]

pub mod checksum;
pub mod divmix;
pub mod fib;
pub mod lz;
pub mod matmul;
pub mod nbody;
pub mod prng;
pub mod quicksort;
pub mod scratch;
pub mod sha256;
pub mod sieve;
pub mod tokenizer;

/// One compute kernel: what the suite calls and what it must return.
#[derive(Debug, Clone, Copy)]
pub struct ComputeKernel {
    /// Experiment name, e.g. `compute.fib`.
    pub name: &'static str,
    /// The wasm export (and `extern "C"` symbol in `traplab-compute-wasm`),
    /// e.g. `fib`.
    pub export: &'static str,
    /// The arguments the suite calls it with, sized so one call runs roughly
    /// 1–5 million instructions (see `workloads/README.md`).
    pub args: [i32; 2],
    /// The result of `run(args[0], args[1])` on every target.
    pub golden: i32,
    /// The native implementation (the twin of the wasm export).
    pub run: fn(i32, i32) -> i32,
    /// Whether it computes with `f64` (on the soft-float kernel target its
    /// native twin runs software floating point).
    pub uses_float: bool,
}

/// Every compute kernel, in the order the suite lists them.
pub const KERNELS: &[ComputeKernel] = &[
    ComputeKernel {
        name: "compute.fib",
        export: "fib",
        args: [fib::SUITE_N, 0],
        golden: 75_025,
        run: fib::run,
        uses_float: false,
    },
    ComputeKernel {
        name: "compute.sieve",
        export: "sieve",
        args: [sieve::SUITE_LIMIT, 0],
        golden: 977_136_234,
        run: sieve::run,
        uses_float: false,
    },
    ComputeKernel {
        name: "compute.matmul",
        export: "matmul",
        args: [matmul::SUITE_N, 1],
        golden: -118_507_805,
        run: matmul::run,
        uses_float: true,
    },
    ComputeKernel {
        name: "compute.sha256",
        export: "sha256",
        args: [sha256::SUITE_LEN, 1],
        golden: 1_352_655_833,
        run: sha256::run,
        uses_float: false,
    },
    ComputeKernel {
        name: "compute.quicksort",
        export: "quicksort",
        args: [quicksort::SUITE_LEN, 1],
        golden: -524_615_189,
        run: quicksort::run,
        uses_float: false,
    },
    ComputeKernel {
        name: "compute.nbody",
        export: "nbody",
        args: [nbody::SUITE_STEPS, 0],
        golden: -1_114_016_322,
        run: nbody::run,
        uses_float: true,
    },
    ComputeKernel {
        name: "compute.lz",
        export: "lz",
        args: [lz::SUITE_LEN, 1],
        golden: 1_337_069_571,
        run: lz::run,
        uses_float: false,
    },
    ComputeKernel {
        name: "compute.tokenizer",
        export: "tokenizer",
        args: [tokenizer::SUITE_LEN, 1],
        golden: -244_267_468,
        run: tokenizer::run,
        uses_float: false,
    },
    ComputeKernel {
        name: "compute.divmix",
        export: "divmix",
        args: [divmix::SUITE_N, 1],
        golden: 1_254_810_148,
        run: divmix::run,
        uses_float: false,
    },
];

/// The kernel named `name`: an experiment name (`compute.fib`) or an export
/// name (`fib`).
pub fn native(name: &str) -> Option<&'static ComputeKernel> {
    KERNELS
        .iter()
        .find(|kernel| kernel.name == name || kernel.export == name)
}

/// Correctly rounded square root on every target, without `std`.
///
/// IEEE 754 requires sqrt to be correctly rounded, so every implementation
/// below returns the same bits: libm's natively (`sqrtsd` on the host,
/// software on the soft-float kernel target) and wasm's own instruction in
/// the wasm build.
#[inline]
pub fn sqrt(x: f64) -> f64 {
    #[cfg(target_arch = "wasm32")]
    {
        wasm_sqrt(x)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        libm::sqrt(x)
    }
}

/// wasm's square root, which is what `f64::sqrt` compiles to with `std`.
///
/// On stable Rust without `std` there is no direct way to ask for the
/// scalar `f64.sqrt` instruction (`core::arch::wasm32::f64_sqrt` is
/// unstable), and libm has no wasm fast path on stable, so it would compute
/// the root bit by bit in integer code: not what a real wasm program runs.
/// The stable SIMD intrinsic on lane 0 of a splat says the same thing, and
/// LLVM folds it to the scalar `f64.sqrt` (checked by `traplab-workloads`'
/// tests, which forbid SIMD opcodes in the compute module). The function
/// cannot be inlined into callers compiled without `simd128`, so each root
/// costs a direct wasm call.
#[cfg(target_arch = "wasm32")]
#[target_feature(enable = "simd128")]
fn wasm_sqrt(x: f64) -> f64 {
    use core::arch::wasm32::{f64x2_extract_lane, f64x2_splat, f64x2_sqrt};
    f64x2_extract_lane::<0>(f64x2_sqrt(f64x2_splat(x)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kernel_returns_its_golden_result_natively() {
        for kernel in KERNELS {
            let [a, b] = kernel.args;
            assert_eq!(
                (kernel.run)(a, b),
                kernel.golden,
                "{} ({a}, {b})",
                kernel.name
            );
        }
    }

    #[test]
    fn repeated_calls_return_the_same_result() {
        // Scratch buffers are re-initialised by every call: the kernel
        // times ~30 calls in a row and checks each one.
        for kernel in KERNELS {
            let [a, b] = kernel.args;
            let first = (kernel.run)(a, b);
            assert_eq!((kernel.run)(a, b), first, "{}", kernel.name);
        }
    }

    #[test]
    fn names_and_exports_are_unique_and_consistent() {
        for (i, kernel) in KERNELS.iter().enumerate() {
            assert_eq!(
                kernel.name.strip_prefix("compute."),
                Some(kernel.export),
                "the experiment name is compute.<export>"
            );
            assert!(
                kernel
                    .export
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{} is a plain C identifier",
                kernel.export
            );
            for other in &KERNELS[i + 1..] {
                assert_ne!(kernel.export, other.export);
            }
            assert_eq!(native(kernel.name).map(|k| k.export), Some(kernel.export));
            assert_eq!(native(kernel.export).map(|k| k.name), Some(kernel.name));
        }
        assert!(native("compute.nope").is_none());
        assert!(KERNELS.len() >= 8);
    }

    #[test]
    fn other_arguments_give_other_results() {
        // The seed and the size both reach the output, so the golden value
        // is not a constant the kernel could return without working.
        for kernel in KERNELS {
            let [a, b] = kernel.args;
            let smaller = (kernel.run)(a / 2, b);
            assert_ne!(smaller, kernel.golden, "{} size", kernel.name);
        }
    }

    #[test]
    fn sqrt_is_correctly_rounded() {
        assert_eq!(sqrt(4.0), 2.0);
        assert_eq!(sqrt(2.0).to_bits(), 0x3ff6_a09e_667f_3bcd);
        assert_eq!(sqrt(0.0), 0.0);
    }
}
