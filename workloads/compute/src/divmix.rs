//! `divmix`: an integer loop of unsigned division and remainder, the
//! target of the `divisor_zero` injector. Every divisor is read from a
//! 16-entry table in memory ([`TRAPLAB_DIVISORS`]), never a constant, so
//! the division is a real `div` (wasm `i32.div_u` / `i32.rem_u`) that a
//! zeroed entry turns into a divide-by-zero trap.
//!
//! In the wasm module the table lives in linear memory and rustc exports
//! its address as the wasm global `TRAPLAB_DIVISORS`; `build-suite` reads
//! that global and hands the kernel the table's offset, where the injector
//! zeroes one entry.
//!
//! Unlike the other kernels, `run` does not (re-)initialise the table: it
//! is constant data, and a synchronous injection writes it *between* calls
//! of one instance, so the next call must see the write.

use core::hint::assert_unchecked;
use core::ptr::read_volatile;

use crate::checksum::Checksum;
use crate::prng::Prng;

/// The suite's iteration count: about 1.9 million native x86-64 instructions
/// (30 per iteration).
pub const SUITE_N: i32 = 64_000;
/// Largest count accepted (larger is clamped).
pub const MAX_N: i32 = 1 << 24;
/// Entries in [`TRAPLAB_DIVISORS`]; `run` cycles through all of them every
/// 16 iterations, so zeroing any one entry traps in any call of `n >= 16`.
pub const DIVISORS: usize = 16;

/// The divisor table, exported by name so the host finds it in the wasm
/// module (a wasm global holding its linear-memory address). Every entry is
/// non-zero; only a fault injection makes one zero. Mixed sizes, some
/// powers of two, some primes, so quotients and remainders both vary.
#[unsafe(no_mangle)]
pub static TRAPLAB_DIVISORS: [u32; DIVISORS] = [
    3, 7, 10, 13, 16, 31, 64, 100, 127, 255, 1_000, 4_099, 65_537, 999_983, 11, 2,
];

/// Divisor `index` (`< DIVISORS`), read from memory every time.
#[inline(always)]
fn divisor(index: usize) -> u32 {
    // SAFETY: `index < DIVISORS` (callers mask it with `DIVISORS - 1`), so
    // the pointer is in bounds of a static, aligned and valid for reads.
    // The read is volatile so the compiler can neither fold the table's
    // constant values into the division nor hoist the load out of the loop:
    // a write by the injector between (or during) calls must be seen.
    unsafe { read_volatile(TRAPLAB_DIVISORS.as_ptr().add(index)) }
}

/// `n` iterations (clamped to `0..=MAX_N`) of `x / d` and `x % d`, with `x`
/// drawn from the seeded PRNG mixed with the running state and `d` cycling
/// through [`TRAPLAB_DIVISORS`]; returns a checksum of the state (mixed in
/// every 256 iterations and at the end) and of `n`.
pub fn run(n: i32, seed: i32) -> i32 {
    let n = n.clamp(0, MAX_N) as u32;
    let mut rng = Prng::new(seed);
    let mut sum = Checksum::new();
    let mut state = 0u32;
    for i in 0..n {
        let d = divisor(i as usize & (DIVISORS - 1));
        // SAFETY: no entry of the table is zero: it is an immutable static
        // with non-zero entries, and nothing in Rust writes it. The only
        // writer is the `divisor_zero` fault injector, and it writes only
        // the wasm module's copy in a wasm instance's linear memory, never
        // the native twin's (the native twin is never injected). The
        // promise lets rustc drop its own zero check (a branch to a
        // panic), so the wasm code is a bare `i32.div_u` / `i32.rem_u`
        // whose zero divisor is wasm's own trap (#DE under signals-based
        // traps) — what the injector exists to provoke.
        unsafe { assert_unchecked(d != 0) };
        let x = rng.next_u32() ^ state;
        let quotient = x / d;
        let remainder = x % d;
        state = state.wrapping_add(quotient).rotate_left(5) ^ remainder;
        if i & 255 == 255 {
            sum.word(state);
        }
    }
    sum.word(state);
    sum.word(n);
    sum.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same computation with ordinary (checked) arithmetic and the
    /// table read as plain data.
    fn reference(n: u32, seed: i32) -> i32 {
        let mut rng = Prng::new(seed);
        let mut sum = Checksum::new();
        let mut state = 0u32;
        for i in 0..n {
            let d = TRAPLAB_DIVISORS[i as usize % 16];
            let x = rng.next_u32() ^ state;
            state = state.wrapping_add(x / d).rotate_left(5) ^ (x % d);
            if i % 256 == 255 {
                sum.word(state);
            }
        }
        sum.word(state);
        sum.word(n);
        sum.finish()
    }

    #[test]
    fn agrees_with_checked_arithmetic() {
        for (n, seed) in [
            (0, 0),
            (1, 1),
            (16, 3),
            (255, 1),
            (256, 1),
            (1000, 7),
            (10_000, -2),
        ] {
            assert_eq!(run(n as i32, seed), reference(n, seed), "({n}, {seed})");
        }
    }

    #[test]
    fn every_divisor_is_non_zero() {
        assert!(TRAPLAB_DIVISORS.iter().all(|&d| d != 0));
        assert!(DIVISORS.is_power_of_two());
    }

    #[test]
    fn out_of_range_counts_are_clamped() {
        assert_eq!(run(-5, 1), run(0, 1));
    }

    #[test]
    fn the_seed_reaches_the_result() {
        assert_ne!(run(1000, 1), run(1000, 2));
    }
}
