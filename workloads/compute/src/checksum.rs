//! The result checksum every kernel returns: a 32-bit running hash of its
//! output words, finished with an avalanche step so that any change in any
//! word changes (with overwhelming probability) every bit of the result.
//!
//! Not cryptographic and not meant to be: it only has to make a wrong output
//! return a value other than the golden one. Word-at-a-time so that hashing
//! costs little next to the work it checks.

/// Running checksum of a kernel's output.
#[derive(Debug, Clone, Copy)]
pub struct Checksum(u32);

/// Multiplier of the word step: 2^32 / φ, odd, with well-spread bits (the
/// constant of Fibonacci hashing and of FxHash).
const WORD_MULTIPLIER: u32 = 0x9e37_79b9;

impl Checksum {
    /// An empty checksum. Starting from a non-zero state makes leading zero
    /// words count.
    pub const fn new() -> Self {
        Checksum(0x811c_9dc5)
    }

    /// Mix in one 32-bit word.
    #[inline]
    pub fn word(&mut self, word: u32) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(WORD_MULTIPLIER);
    }

    /// Mix in an `i32`.
    #[inline]
    pub fn int(&mut self, value: i32) {
        self.word(value as u32);
    }

    /// Mix in a `u64` (low word first).
    #[inline]
    pub fn wide(&mut self, value: u64) {
        self.word(value as u32);
        self.word((value >> 32) as u32);
    }

    /// Mix in an `f64` by its exact bits (so -0.0 and 0.0 differ, as they
    /// would in a bit-for-bit comparison).
    #[inline]
    pub fn float(&mut self, value: f64) {
        self.wide(value.to_bits());
    }

    /// Mix in bytes, four at a time (little endian), the tail zero-padded,
    /// then the length so that trailing zero bytes count.
    pub fn bytes(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(4);
        for chunk in &mut chunks {
            self.word(u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]));
        }
        let tail = chunks.remainder();
        if !tail.is_empty() {
            let mut last = [0u8; 4];
            last[..tail.len()].copy_from_slice(tail);
            self.word(u32::from_le_bytes(last));
        }
        self.word(bytes.len() as u32);
    }

    /// The result: the state through MurmurHash3's 32-bit finaliser (an
    /// avalanche step), as the `i32` a kernel returns.
    pub fn finish(self) -> i32 {
        let mut h = self.0;
        h ^= h >> 16;
        h = h.wrapping_mul(0x85eb_ca6b);
        h ^= h >> 13;
        h = h.wrapping_mul(0xc2b2_ae35);
        h ^= h >> 16;
        h as i32
    }
}

impl Default for Checksum {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(words: &[u32]) -> i32 {
        let mut sum = Checksum::new();
        words.iter().for_each(|&w| sum.word(w));
        sum.finish()
    }

    #[test]
    fn order_value_and_length_all_count() {
        assert_ne!(of(&[1, 2]), of(&[2, 1]));
        assert_ne!(of(&[1, 2]), of(&[1, 3]));
        assert_ne!(of(&[0]), of(&[0, 0]));
        assert_ne!(of(&[0x8000_0000]), of(&[0]));
    }

    #[test]
    fn bytes_count_their_length() {
        let mut a = Checksum::new();
        a.bytes(&[1, 0]);
        let mut b = Checksum::new();
        b.bytes(&[1]);
        assert_ne!(a.finish(), b.finish());
    }

    #[test]
    fn floats_hash_by_bits() {
        let mut a = Checksum::new();
        a.float(0.0);
        let mut b = Checksum::new();
        b.float(-0.0);
        assert_ne!(a.finish(), b.finish());
    }
}
