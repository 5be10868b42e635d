//! The deterministic pseudo-random generator that fills the kernels' inputs
//! (xorshift32, Marsaglia 2003): three shifts and xors per number, the same
//! sequence on every target, cheap enough not to dominate the kernels it
//! feeds.

/// xorshift32 with the (13, 17, 5) triple: full period 2^32 - 1 over the
/// non-zero states.
#[derive(Debug, Clone)]
pub struct Prng(u32);

/// The state used for a seed of 0 (xorshift's state must not be zero).
const ZERO_SEED_STATE: u32 = 0x2545_f491;

impl Prng {
    /// A generator for `seed`; every seed, 0 included, gives a valid state.
    pub fn new(seed: i32) -> Self {
        let state = seed as u32;
        Prng(if state == 0 { ZERO_SEED_STATE } else { state })
    }

    #[inline]
    pub fn next_u32(&mut self) -> u32 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.0 = x;
        x
    }

    /// A number in `0..bound` (`bound` > 0), by multiply-shift: no division,
    /// negligible bias for the small bounds used here.
    #[inline]
    pub fn below(&mut self, bound: u32) -> u32 {
        ((u64::from(self.next_u32()) * u64::from(bound)) >> 32) as u32
    }

    /// A float in [-0.5, 0.5) with 24 random bits: exactly representable,
    /// so its construction involves no rounding on any target.
    #[inline]
    pub fn unit_f64(&mut self) -> f64 {
        const TWO_POW_MINUS_24: f64 = 1.0 / 16_777_216.0;
        f64::from(self.next_u32() >> 8) * TWO_POW_MINUS_24 - 0.5
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_sequence() {
        // xorshift32(1): the first values of Marsaglia's generator.
        let mut rng = Prng::new(1);
        assert_eq!(rng.next_u32(), 270_369);
        assert_eq!(rng.next_u32(), 67_634_689);
    }

    #[test]
    fn zero_seed_is_usable_and_bounds_hold() {
        let mut rng = Prng::new(0);
        for _ in 0..1000 {
            assert_ne!(rng.next_u32(), 0);
            assert!(rng.below(7) < 7);
            let x = rng.unit_f64();
            assert!((-0.5..0.5).contains(&x));
        }
    }
}
