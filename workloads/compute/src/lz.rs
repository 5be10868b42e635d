//! `lz`: a small LZ77 compressor in the style of LZ4, the memory-heavy
//! workload: hash-table lookups at data-dependent addresses, byte copies,
//! and branchy match extension. Each call generates compressible text,
//! compresses it, decompresses the result and checks the round trip.
//!
//! Stream format: a sequence of `[token][literal length ext…][literals]
//! [offset: u16 LE][match length ext…]`, where the token's high nibble is
//! the literal count and its low nibble the match length minus
//! [`MIN_MATCH`] (15 in a nibble means "add the following bytes, each up to
//! 255, until one is below 255"). The last sequence has literals only and
//! no offset; the decoder knows it by reaching the end of the stream.

use crate::checksum::Checksum;
use crate::prng::Prng;
use crate::scratch::Scratch;

/// The suite's input length: 16 KiB of text.
pub const SUITE_LEN: i32 = 16 << 10;
/// Capacity of the input; a longer length is clamped.
pub const MAX_LEN: usize = 64 << 10;
/// Shortest match worth encoding (a token plus an offset cost 3 bytes).
pub const MIN_MATCH: usize = 4;
/// Bits of the match-finder hash: 4,096 entries.
const HASH_BITS: u32 = 12;
/// Farthest back a match may point (the offset is a u16).
const MAX_OFFSET: usize = u16::MAX as usize;
/// No match starts in the last bytes: the finder reads 4 bytes ahead, and a
/// literal tail keeps the decoder's last-sequence rule simple.
const LITERAL_TAIL: usize = 5;
/// Worst-case output: every byte a literal, plus length bytes.
const MAX_COMPRESSED: usize = MAX_LEN + MAX_LEN / 255 + 16;
/// Marks an empty hash-table slot; the table stores positions plus one.
/// Zero rather than, say, `u32::MAX`, so the static is all zeros and the
/// linker puts it in `.bss`: a non-zero table would turn the whole
/// [`Buffers`] static into a 210 KiB data segment that the kernel copies
/// into linear memory on every instantiation.
const EMPTY: u32 = 0;

struct Buffers {
    input: [u8; MAX_LEN],
    compressed: [u8; MAX_COMPRESSED],
    output: [u8; MAX_LEN],
    table: [u32; 1 << HASH_BITS],
}

static BUFFERS: Scratch<Buffers> = Scratch::new(Buffers {
    input: [0; MAX_LEN],
    compressed: [0; MAX_COMPRESSED],
    output: [0; MAX_LEN],
    table: [EMPTY; 1 << HASH_BITS],
});

/// Words the generated text is made of: short and repeated, as in prose or
/// logs, so the compressor finds matches at many distances.
#[rustfmt::skip]
const WORDS: [&[u8]; 24] = [
    b"the", b"kernel", b"trap", b"wasm", b"page", b"fault", b"handler", b"vector",
    b"stack", b"frame", b"memory", b"guard", b"of", b"and", b"a", b"to",
    b"exception", b"returns", b"cycles", b"in", b"ring", b"zero", b"module", b"code",
];
const SEPARATORS: [&[u8]; 4] = [b" ", b" ", b", ", b".\n"];

/// Generate `len` bytes of text (clamped to `0..=MAX_LEN`) from `seed`,
/// compress and decompress it; return a checksum of the compressed stream.
/// A failed round trip returns the complement of that checksum.
pub fn run(len: i32, seed: i32) -> i32 {
    let len = len.clamp(0, MAX_LEN as i32) as usize;
    BUFFERS.with(|buffers| {
        let input = &mut buffers.input[..len];
        generate_text(input, seed);
        let compressed_len = compress(input, &mut buffers.compressed, &mut buffers.table);
        let compressed = &buffers.compressed[..compressed_len];
        let round_trip = decompress(compressed, &mut buffers.output) == Some(len)
            && buffers.output[..len] == *input;
        let mut sum = Checksum::new();
        sum.bytes(compressed);
        if round_trip {
            sum.finish()
        } else {
            !sum.finish()
        }
    })
}

/// Fill `out` with words and separators drawn from `seed`.
pub fn generate_text(out: &mut [u8], seed: i32) {
    let mut rng = Prng::new(seed);
    let mut at = 0;
    while at < out.len() {
        let word = WORDS[rng.below(WORDS.len() as u32) as usize];
        let separator = SEPARATORS[rng.below(SEPARATORS.len() as u32) as usize];
        for &byte in word.iter().chain(separator) {
            if at == out.len() {
                break;
            }
            out[at] = byte;
            at += 1;
        }
    }
}

/// The four bytes at `input[at..]` as one word (the match finder's unit).
#[inline]
fn read_u32(input: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([input[at], input[at + 1], input[at + 2], input[at + 3]])
}

/// Knuth's multiplicative hash of a word: the top bits mix all four bytes.
#[inline]
fn hash(word: u32) -> usize {
    (word.wrapping_mul(0x9e37_79b1) >> (32 - HASH_BITS)) as usize
}

/// Compress `input` into `out` (at least `MAX_COMPRESSED` bytes for an
/// input of `MAX_LEN`); return the compressed length. Greedy: the first
/// match the hash table offers is taken if it is at least `MIN_MATCH` long.
pub fn compress(input: &[u8], out: &mut [u8], table: &mut [u32; 1 << HASH_BITS]) -> usize {
    table.fill(EMPTY);
    let mut written = 0;
    let mut literal_start = 0;
    let mut at = 0;
    let match_limit = input.len().saturating_sub(LITERAL_TAIL);
    while at < match_limit {
        let slot = hash(read_u32(input, at));
        let candidate = table[slot];
        table[slot] = at as u32 + 1;
        if candidate != EMPTY {
            let candidate = candidate as usize - 1;
            let offset = at - candidate;
            if offset <= MAX_OFFSET && read_u32(input, candidate) == read_u32(input, at) {
                let mut length = MIN_MATCH;
                while at + length < input.len() && input[candidate + length] == input[at + length] {
                    length += 1;
                }
                written = emit(
                    out,
                    written,
                    &input[literal_start..at],
                    Some((offset, length)),
                );
                at += length;
                literal_start = at;
                continue;
            }
        }
        at += 1;
    }
    emit(out, written, &input[literal_start..], None)
}

/// Write one sequence at `out[at..]`; return the new end.
fn emit(out: &mut [u8], mut at: usize, literals: &[u8], matched: Option<(usize, usize)>) -> usize {
    let match_code = matched.map_or(0, |(_, length)| length - MIN_MATCH);
    let token_at = at;
    out[token_at] = (nibble(literals.len()) << 4) | nibble(match_code);
    at += 1;
    at = extend_length(out, at, literals.len());
    out[at..at + literals.len()].copy_from_slice(literals);
    at += literals.len();
    if let Some((offset, _)) = matched {
        out[at..at + 2].copy_from_slice(&(offset as u16).to_le_bytes());
        at += 2;
        at = extend_length(out, at, match_code);
    }
    at
}

#[inline]
fn nibble(value: usize) -> u8 {
    value.min(15) as u8
}

/// The bytes that follow a nibble of 15: `value - 15` as a run of 255s
/// ended by a byte below 255.
fn extend_length(out: &mut [u8], mut at: usize, value: usize) -> usize {
    if value >= 15 {
        let mut rest = value - 15;
        while rest >= 255 {
            out[at] = 255;
            at += 1;
            rest -= 255;
        }
        out[at] = rest as u8;
        at += 1;
    }
    at
}

/// Decompress `stream` into `out`; the decompressed length, or `None` if the
/// stream is malformed or does not fit.
pub fn decompress(stream: &[u8], out: &mut [u8]) -> Option<usize> {
    let mut read = 0;
    let mut written = 0;
    while read < stream.len() {
        let token = stream[read];
        read += 1;
        let literals = read_length(stream, &mut read, usize::from(token >> 4))?;
        let source = stream.get(read..read.checked_add(literals)?)?;
        out.get_mut(written..written + literals)?
            .copy_from_slice(source);
        read += literals;
        written += literals;
        if read == stream.len() {
            break;
        }
        let offset = usize::from(u16::from_le_bytes([
            *stream.get(read)?,
            *stream.get(read + 1)?,
        ]));
        read += 2;
        let length = read_length(stream, &mut read, usize::from(token & 0x0f))? + MIN_MATCH;
        if offset == 0 || offset > written || written + length > out.len() {
            return None;
        }
        // Byte by byte: a match may overlap the bytes it produces.
        for i in written..written + length {
            out[i] = out[i - offset];
        }
        written += length;
    }
    Some(written)
}

fn read_length(stream: &[u8], read: &mut usize, nibble: usize) -> Option<usize> {
    let mut length = nibble;
    if nibble == 15 {
        loop {
            let byte = *stream.get(*read)?;
            *read += 1;
            length = length.checked_add(usize::from(byte))?;
            if byte != 255 {
                break;
            }
        }
    }
    Some(length)
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec;
    use std::vec::Vec;

    fn round_trip(input: &[u8]) -> Vec<u8> {
        let mut compressed = vec![0; input.len() + input.len() / 255 + 16];
        let mut table = [0; 1 << HASH_BITS];
        let n = compress(input, &mut compressed, &mut table);
        let mut out = vec![0; input.len()];
        assert_eq!(decompress(&compressed[..n], &mut out), Some(input.len()));
        assert_eq!(out, input);
        compressed.truncate(n);
        compressed
    }

    #[test]
    fn round_trips_edge_cases() {
        round_trip(b"");
        round_trip(b"a");
        round_trip(b"abcd");
        round_trip(&[7; 1000]);
        round_trip(&(0..=255).cycle().take(5000).collect::<Vec<u8>>());
        let long_literals: Vec<u8> = {
            let mut rng = Prng::new(3);
            (0..3000).map(|_| rng.next_u32() as u8).collect()
        };
        round_trip(&long_literals);
    }

    #[test]
    fn text_compresses_well() {
        let mut text = vec![0; 16 << 10];
        generate_text(&mut text, 1);
        let compressed = round_trip(&text);
        assert!(
            compressed.len() * 2 < text.len(),
            "{} of {}",
            compressed.len(),
            text.len()
        );
    }

    #[test]
    fn a_run_compresses_to_one_match() {
        // "aaaa…": one literal, one match at offset 1 that overlaps its own
        // output up to the end, and an empty final sequence.
        let compressed = round_trip(&[b'a'; 100]);
        assert!(compressed.len() < 10, "{compressed:?}");
    }

    #[test]
    fn malformed_streams_are_refused() {
        let mut out = [0u8; 64];
        // Offset beyond what has been written.
        assert_eq!(decompress(&[0x10, b'x', 5, 0, 0x00], &mut out), None);
        // Zero offset.
        assert_eq!(decompress(&[0x10, b'x', 0, 0], &mut out), None);
        // Literal run past the end of the stream.
        assert_eq!(decompress(&[0x50, b'x'], &mut out), None);
        // Output too small.
        assert_eq!(decompress(&[0x1f, b'x', 1, 0, 200], &mut out), None);
    }

    #[test]
    fn run_reports_a_round_trip() {
        // Equal to the checksum of what compress produces.
        let mut text = vec![0; 999];
        generate_text(&mut text, 2);
        let mut sum = Checksum::new();
        sum.bytes(&round_trip(&text));
        assert_eq!(run(999, 2), sum.finish());
    }
}
