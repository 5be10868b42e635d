//! `sha256`: SHA-256 (FIPS 180-4) of a pseudo-random buffer, the
//! rotate-and-add integer workload: 64 rounds of 32-bit arithmetic per
//! 64-byte block, with the message schedule in a small stack array.

use crate::checksum::Checksum;
use crate::prng::Prng;
use crate::scratch::Scratch;

/// The suite's message length: 24 KiB, 385 compressed blocks.
pub const SUITE_LEN: i32 = 24 << 10;
/// Capacity of the message buffer; a longer length is clamped.
pub const MAX_LEN: usize = 64 << 10;

static MESSAGE: Scratch<[u8; MAX_LEN]> = Scratch::new([0; MAX_LEN]);

/// Hash `len` bytes (clamped to `0..=MAX_LEN`) drawn from `seed`; return a
/// checksum of the eight digest words.
pub fn run(len: i32, seed: i32) -> i32 {
    let len = len.clamp(0, MAX_LEN as i32) as usize;
    let mut rng = Prng::new(seed);
    MESSAGE.with(|message| {
        let message = &mut message[..len];
        for chunk in message.chunks_mut(4) {
            let word = rng.next_u32().to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
        let digest = digest(message);
        let mut sum = Checksum::new();
        digest.iter().for_each(|&word| sum.word(word));
        sum.finish()
    })
}

#[rustfmt::skip]
const ROUND_CONSTANTS: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

#[rustfmt::skip]
const INITIAL_STATE: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/// SHA-256 of `message`, as the eight big-endian state words.
pub fn digest(message: &[u8]) -> [u32; 8] {
    let mut state = INITIAL_STATE;
    let mut blocks = message.chunks_exact(64);
    for block in &mut blocks {
        compress(&mut state, block.try_into().expect("64-byte chunk"));
    }
    // Padding: 0x80, zeros, then the length in bits as a big-endian u64,
    // in one block or two depending on what is left.
    let tail = blocks.remainder();
    let mut last = [0u8; 128];
    last[..tail.len()].copy_from_slice(tail);
    last[tail.len()] = 0x80;
    let padded = if tail.len() < 56 { 64 } else { 128 };
    let bits = (message.len() as u64).wrapping_mul(8);
    last[padded - 8..padded].copy_from_slice(&bits.to_be_bytes());
    for block in last[..padded].chunks_exact(64) {
        compress(&mut state, block.try_into().expect("64-byte chunk"));
    }
    state
}

fn compress(state: &mut [u32; 8], block: &[u8; 64]) {
    let mut schedule = [0u32; 64];
    for (word, bytes) in schedule.iter_mut().zip(block.chunks_exact(4)) {
        *word = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    }
    for t in 16..64 {
        let s0 = schedule[t - 15].rotate_right(7)
            ^ schedule[t - 15].rotate_right(18)
            ^ (schedule[t - 15] >> 3);
        let s1 = schedule[t - 2].rotate_right(17)
            ^ schedule[t - 2].rotate_right(19)
            ^ (schedule[t - 2] >> 10);
        schedule[t] = schedule[t - 16]
            .wrapping_add(s0)
            .wrapping_add(schedule[t - 7])
            .wrapping_add(s1);
    }
    let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut h] = *state;
    for (&k, &w) in ROUND_CONSTANTS.iter().zip(&schedule) {
        let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
        let choice = (e & f) ^ (!e & g);
        let t1 = h
            .wrapping_add(s1)
            .wrapping_add(choice)
            .wrapping_add(k)
            .wrapping_add(w);
        let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
        let majority = (a & b) ^ (a & c) ^ (b & c);
        let t2 = s0.wrapping_add(majority);
        h = g;
        g = f;
        f = e;
        e = d.wrapping_add(t1);
        d = c;
        c = b;
        b = a;
        a = t1.wrapping_add(t2);
    }
    for (word, value) in state.iter_mut().zip([a, b, c, d, e, f, g, h]) {
        *word = word.wrapping_add(value);
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use sha2::{Digest, Sha256};
    use std::vec::Vec;

    fn words(bytes: &[u8]) -> [u32; 8] {
        let mut out = [0; 8];
        for (word, chunk) in out.iter_mut().zip(bytes.chunks_exact(4)) {
            *word = u32::from_be_bytes(chunk.try_into().unwrap());
        }
        out
    }

    #[test]
    fn fips_180_example() {
        assert_eq!(
            digest(b"abc"),
            [
                0xba7816bf, 0x8f01cfea, 0x414140de, 0x5dae2223, 0xb00361a3, 0x96177a9c, 0xb410ff61,
                0xf20015ad
            ]
        );
    }

    #[test]
    fn agrees_with_the_sha2_crate_at_every_padding_boundary() {
        let mut rng = Prng::new(9);
        let data: Vec<u8> = (0..300).map(|_| rng.next_u32() as u8).collect();
        for len in (0..=200).chain([255, 256, 300]) {
            let expected = words(&Sha256::digest(&data[..len]));
            assert_eq!(digest(&data[..len]), expected, "length {len}");
        }
    }

    #[test]
    fn run_hashes_the_documented_message() {
        let mut rng = Prng::new(4);
        let message: Vec<u8> = (0..7)
            .flat_map(|_| rng.next_u32().to_le_bytes())
            .take(27)
            .collect();
        let mut sum = Checksum::new();
        words(&Sha256::digest(&message))
            .iter()
            .for_each(|&w| sum.word(w));
        assert_eq!(run(27, 4), sum.finish());
    }
}
