//! `matmul`: dense `f64` matrix multiply, the floating-point and
//! cache-friendly-memory workload. Two `n`×`n` matrices of random values,
//! `C = A·B` in i-k-j order (unit stride in the inner loop), every element
//! of `C` hashed by its exact bits.
//!
//! Each element of `C` is accumulated over `k` in ascending order from 0.0
//! with IEEE multiply and add (Rust never fuses them into an FMA), so every
//! target computes the same bits.

use crate::checksum::Checksum;
use crate::prng::Prng;
use crate::scratch::Scratch;

/// The suite's size: 56×56, 175,616 multiply-adds.
pub const SUITE_N: i32 = 56;
/// Largest `n`; a larger one is clamped.
pub const MAX_N: usize = 64;

struct Matrices {
    a: [[f64; MAX_N]; MAX_N],
    b: [[f64; MAX_N]; MAX_N],
    c: [[f64; MAX_N]; MAX_N],
}

static MATRICES: Scratch<Matrices> = Scratch::new(Matrices {
    a: [[0.0; MAX_N]; MAX_N],
    b: [[0.0; MAX_N]; MAX_N],
    c: [[0.0; MAX_N]; MAX_N],
});

/// Multiply two random `n`×`n` matrices (`n` clamped to `0..=MAX_N`) filled
/// from `seed`; return a checksum of the product's bits.
pub fn run(n: i32, seed: i32) -> i32 {
    let n = n.clamp(0, MAX_N as i32) as usize;
    let mut rng = Prng::new(seed);
    MATRICES.with(|m| {
        for row in 0..n {
            for col in 0..n {
                m.a[row][col] = rng.unit_f64();
                m.b[row][col] = rng.unit_f64();
                m.c[row][col] = 0.0;
            }
        }
        for i in 0..n {
            let c_row = &mut m.c[i][..n];
            for k in 0..n {
                let a_ik = m.a[i][k];
                let b_row = &m.b[k][..n];
                for (c, &b) in c_row.iter_mut().zip(b_row) {
                    *c += a_ik * b;
                }
            }
        }
        let mut sum = Checksum::new();
        for row in &m.c[..n] {
            for &value in &row[..n] {
                sum.float(value);
            }
        }
        sum.word(n as u32);
        sum.finish()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    // The textbook index form is the point of the comparison.
    #[allow(clippy::needless_range_loop)]
    fn matches_a_plain_triple_loop() {
        // The textbook i-j-k dot-product order sums each element in the same
        // order (k ascending, from 0.0), so the bits must agree.
        const N: usize = 9;
        let mut rng = Prng::new(3);
        let mut a = [[0.0; N]; N];
        let mut b = [[0.0; N]; N];
        for row in 0..N {
            for col in 0..N {
                a[row][col] = rng.unit_f64();
                b[row][col] = rng.unit_f64();
            }
        }
        let mut sum = Checksum::new();
        for i in 0..N {
            for j in 0..N {
                let mut dot = 0.0;
                for k in 0..N {
                    dot += a[i][k] * b[k][j];
                }
                sum.float(dot);
            }
        }
        sum.word(N as u32);
        assert_eq!(run(N as i32, 3), sum.finish());
    }

    #[test]
    fn one_by_one_is_a_single_product() {
        // Catches a fill order that differs from the one documented
        // (a then b, element by element).
        let mut rng = Prng::new(5);
        let a = rng.unit_f64();
        let b = rng.unit_f64();
        let mut sum = Checksum::new();
        sum.float(0.0 + a * b);
        sum.word(1);
        assert_eq!(run(1, 5), sum.finish());
    }
}
