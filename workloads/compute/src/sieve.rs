//! `sieve`: the sieve of Eratosthenes over a byte array, the integer-loop
//! workload: tight strided stores, then a linear scan.

use crate::checksum::Checksum;
use crate::scratch::Scratch;

/// The suite's limit: primes below 120,000 (11,301 of them).
pub const SUITE_LIMIT: i32 = 120_000;
/// Capacity of the sieve, in numbers; a larger limit is clamped.
pub const MAX_LIMIT: usize = 1 << 18;

static COMPOSITE: Scratch<[bool; MAX_LIMIT]> = Scratch::new([false; MAX_LIMIT]);

/// Sieve the numbers below `limit` (clamped to `0..=MAX_LIMIT`); return a
/// checksum of every prime found, in order, and of their count. The second
/// argument is ignored.
pub fn run(limit: i32, _unused: i32) -> i32 {
    let limit = limit.clamp(0, MAX_LIMIT as i32) as usize;
    COMPOSITE.with(|composite| {
        let composite = &mut composite[..limit];
        composite.fill(false);
        let mut i = 2;
        while i * i < limit {
            if !composite[i] {
                let mut j = i * i;
                while j < limit {
                    composite[j] = true;
                    j += i;
                }
            }
            i += 1;
        }
        let mut sum = Checksum::new();
        let mut count = 0u32;
        for (n, &is_composite) in composite.iter().enumerate().skip(2) {
            if !is_composite {
                sum.word(n as u32);
                count += 1;
            }
        }
        sum.word(count);
        sum.finish()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn by_trial_division(limit: u32) -> i32 {
        let mut sum = Checksum::new();
        let mut count = 0;
        for n in 2..limit {
            if (2..n).take_while(|d| d * d <= n).all(|d| n % d != 0) {
                sum.word(n);
                count += 1;
            }
        }
        sum.word(count);
        sum.finish()
    }

    #[test]
    fn finds_the_primes_trial_division_finds() {
        for limit in [0, 1, 2, 3, 4, 10, 100, 1000, 10_007, 65_536] {
            assert_eq!(
                run(limit as i32, 0),
                by_trial_division(limit),
                "limit {limit}"
            );
        }
    }

    #[test]
    fn out_of_range_limits_are_clamped() {
        assert_eq!(run(-5, 0), run(0, 0));
        assert_eq!(run(i32::MAX, 0), run(MAX_LIMIT as i32, 0));
    }
}
