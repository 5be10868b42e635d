//! `tokenizer`: a lexer for a C-like language over generated source text,
//! the branchy byte-at-a-time workload: character-class dispatch, keyword
//! matching, number parsing, strings with escapes, two kinds of comments.
//!
//! Each call generates the text from its seed (a stream of random tokens
//! and whitespace; about a fifth of the call's time), then tokenizes it and
//! hashes every token's kind, length and value.

use crate::checksum::Checksum;
use crate::prng::Prng;
use crate::scratch::Scratch;

/// The suite's text length: 32 KiB.
pub const SUITE_LEN: i32 = 32 << 10;
/// Capacity of the text; a longer length is clamped.
pub const MAX_LEN: usize = 64 << 10;

static SOURCE: Scratch<[u8; MAX_LEN]> = Scratch::new([0; MAX_LEN]);

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Identifier,
    Keyword,
    Number,
    String,
    Operator,
    Comment,
    /// A byte that starts no token (reported, then skipped).
    Unknown,
}

impl Kind {
    const COUNT: usize = 7;

    fn index(self) -> usize {
        self as usize
    }
}

/// One token: its kind, where it starts, its length, and a value (a
/// number's value, a hash of an identifier's or keyword's bytes, 0
/// otherwise).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub kind: Kind,
    pub start: u32,
    pub len: u32,
    pub value: u32,
}

/// Generate `len` bytes of source text (clamped to `0..=MAX_LEN`) from
/// `seed` and tokenize it; return a checksum of every token and of the
/// per-kind counts and line count.
pub fn run(len: i32, seed: i32) -> i32 {
    let len = len.clamp(0, MAX_LEN as i32) as usize;
    SOURCE.with(|source| {
        let source = &mut source[..len];
        generate_source(source, seed);
        let mut sum = Checksum::new();
        let mut counts = [0u32; Kind::COUNT];
        let lines = tokenize(source, |token| {
            sum.word(((token.kind as u32) << 24) | token.len);
            sum.word(token.value);
            counts[token.kind.index()] += 1;
        });
        counts.iter().for_each(|&count| sum.word(count));
        sum.word(lines);
        sum.finish()
    })
}

#[rustfmt::skip]
const KEYWORDS: [&[u8]; 10] = [
    b"if", b"else", b"while", b"for", b"return", b"fn", b"let", b"struct", b"break", b"match",
];
#[rustfmt::skip]
const NAMES: [&[u8]; 14] = [
    b"x", b"count", b"trap_code", b"page", b"vector", b"len", b"buffer", b"ip", b"handler",
    b"i", b"frame_ptr", b"_tmp", b"result", b"cr2",
];
#[rustfmt::skip]
const OPERATORS: [&[u8]; 24] = [
    b"+", b"-", b"*", b"/", b"%", b"=", b"==", b"!=", b"<", b"<=", b">", b">=", b"&&", b"||",
    b"!", b"(", b")", b"{", b"}", b"[", b"]", b";", b",", b"->",
];
const STRING_BODY: &[u8] = b"page fault at \\\"%x\\\"\\n trap ";
const COMMENT_BODY: &[u8] = b" the handler never returns here ";

/// Fill `out` with random tokens separated by whitespace.
pub fn generate_source(out: &mut [u8], seed: i32) {
    let mut rng = Prng::new(seed);
    let mut writer = Writer { out, at: 0 };
    while !writer.full() {
        match rng.below(16) {
            0..=3 => writer.put(NAMES[rng.below(NAMES.len() as u32) as usize]),
            4..=5 => writer.put(KEYWORDS[rng.below(KEYWORDS.len() as u32) as usize]),
            6..=10 => writer.put(OPERATORS[rng.below(OPERATORS.len() as u32) as usize]),
            11 => {
                let digits = 1 + rng.below(6);
                for _ in 0..digits {
                    writer.put(&[b'0' + rng.below(10) as u8]);
                }
            }
            12 => {
                writer.put(b"0x");
                for _ in 0..1 + rng.below(8) {
                    writer.put(&[b"0123456789abcdef"[rng.below(16) as usize]]);
                }
            }
            13 => {
                writer.put(b"\"");
                let cut = rng.below(STRING_BODY.len() as u32) as usize;
                writer.put(&STRING_BODY[..cut]);
                // Never end the body in the middle of an escape.
                if STRING_BODY[..cut]
                    .iter()
                    .rev()
                    .take_while(|&&b| b == b'\\')
                    .count()
                    % 2
                    == 1
                {
                    writer.put(b"\\");
                }
                writer.put(b"\"");
            }
            14 => {
                let cut = rng.below(COMMENT_BODY.len() as u32) as usize;
                if rng.below(2) == 0 {
                    writer.put(b"//");
                    writer.put(&COMMENT_BODY[..cut]);
                    writer.put(b"\n");
                } else {
                    writer.put(b"/*");
                    writer.put(&COMMENT_BODY[..cut]);
                    writer.put(b"*/");
                }
            }
            _ => writer.put(b"@"),
        }
        writer.put(match rng.below(8) {
            0..=4 => b" ",
            5 => b"\n",
            6 => b"\t",
            _ => b"\n    ",
        });
    }
}

struct Writer<'a> {
    out: &'a mut [u8],
    at: usize,
}

impl Writer<'_> {
    fn full(&self) -> bool {
        self.at == self.out.len()
    }

    /// Append what fits of `bytes`.
    fn put(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            if self.full() {
                return;
            }
            self.out[self.at] = byte;
            self.at += 1;
        }
    }
}

/// FNV-1a offset basis and prime (32-bit): hashes identifier bytes.
const FNV_BASIS: u32 = 0x811c_9dc5;
const FNV_PRIME: u32 = 0x0100_0193;

/// Tokenize `source`, calling `emit` for each token in order; return the
/// number of lines (newlines + 1). Any byte sequence is accepted: an
/// unterminated string or block comment runs to the end of the text.
pub fn tokenize(source: &[u8], mut emit: impl FnMut(Token)) -> u32 {
    let mut lines = 1u32;
    let mut at = 0;
    let len = source.len();
    let peek = |i: usize| if i < len { source[i] } else { 0 };
    while at < len {
        let start = at;
        let byte = source[at];
        let (kind, value) = match byte {
            b'\n' => {
                lines += 1;
                at += 1;
                continue;
            }
            b' ' | b'\t' | b'\r' => {
                at += 1;
                continue;
            }
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                let mut hash = FNV_BASIS;
                while at < len
                    && matches!(source[at], b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_')
                {
                    hash = (hash ^ u32::from(source[at])).wrapping_mul(FNV_PRIME);
                    at += 1;
                }
                let word = &source[start..at];
                let kind = if is_keyword(word) {
                    Kind::Keyword
                } else {
                    Kind::Identifier
                };
                (kind, hash)
            }
            b'0'..=b'9' => {
                let mut value = 0u32;
                if byte == b'0' && matches!(peek(at + 1), b'x' | b'X') {
                    at += 2;
                    while at < len {
                        let digit = match source[at] {
                            d @ b'0'..=b'9' => d - b'0',
                            d @ b'a'..=b'f' => d - b'a' + 10,
                            d @ b'A'..=b'F' => d - b'A' + 10,
                            _ => break,
                        };
                        value = (value << 4) | u32::from(digit);
                        at += 1;
                    }
                } else {
                    while at < len && source[at].is_ascii_digit() {
                        value = value
                            .wrapping_mul(10)
                            .wrapping_add(u32::from(source[at] - b'0'));
                        at += 1;
                    }
                }
                (Kind::Number, value)
            }
            b'"' => {
                at += 1;
                while at < len && source[at] != b'"' {
                    // An escape consumes the next byte, whatever it is.
                    at += if source[at] == b'\\' { 2 } else { 1 };
                }
                at = (at + 1).min(len);
                (Kind::String, 0)
            }
            b'/' if peek(at + 1) == b'/' => {
                while at < len && source[at] != b'\n' {
                    at += 1;
                }
                (Kind::Comment, 0)
            }
            b'/' if peek(at + 1) == b'*' => {
                at += 2;
                while at < len && !(source[at] == b'*' && peek(at + 1) == b'/') {
                    if source[at] == b'\n' {
                        lines += 1;
                    }
                    at += 1;
                }
                at = (at + 2).min(len);
                (Kind::Comment, 0)
            }
            b'=' | b'!' | b'<' | b'>' => {
                at += if peek(at + 1) == b'=' { 2 } else { 1 };
                (Kind::Operator, 0)
            }
            b'&' | b'|' => {
                at += if peek(at + 1) == byte { 2 } else { 1 };
                (Kind::Operator, 0)
            }
            b'-' => {
                at += if peek(at + 1) == b'>' { 2 } else { 1 };
                (Kind::Operator, 0)
            }
            b'+' | b'*' | b'/' | b'%' | b'(' | b')' | b'{' | b'}' | b'[' | b']' | b';' | b','
            | b'.' => {
                at += 1;
                (Kind::Operator, 0)
            }
            _ => {
                at += 1;
                (Kind::Unknown, u32::from(byte))
            }
        };
        // A string's escape can step one past the end; `start..at` stays in
        // bounds for every other kind.
        at = at.min(len);
        emit(Token {
            kind,
            start: start as u32,
            len: (at - start) as u32,
            value,
        });
    }
    lines
}

fn is_keyword(word: &[u8]) -> bool {
    // A match on the length first, then on the bytes: what a hand-written
    // lexer does, and a branchy path as intended.
    match word.len() {
        2 => matches!(word, b"if" | b"fn"),
        3 => matches!(word, b"for" | b"let"),
        4 => word == b"else",
        5 => matches!(word, b"while" | b"break" | b"match"),
        6 => matches!(word, b"return" | b"struct"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec;
    use std::vec::Vec;

    fn tokens(source: &[u8]) -> (Vec<(Kind, &[u8])>, u32) {
        let mut out = Vec::new();
        let lines = tokenize(source, |t| {
            out.push((
                t.kind,
                &source[t.start as usize..(t.start + t.len) as usize],
            ))
        });
        (out, lines)
    }

    #[test]
    fn lexes_a_small_program() {
        let src =
            b"fn f(x) {\n  // note\n  return x->len >= 0x1F && \"a\\\"b\" /* c\n */ != 42; @\n}";
        let (toks, lines) = tokens(src);
        use Kind::*;
        let expected: &[(Kind, &[u8])] = &[
            (Keyword, b"fn"),
            (Identifier, b"f"),
            (Operator, b"("),
            (Identifier, b"x"),
            (Operator, b")"),
            (Operator, b"{"),
            (Comment, b"// note"),
            (Keyword, b"return"),
            (Identifier, b"x"),
            (Operator, b"->"),
            (Identifier, b"len"),
            (Operator, b">="),
            (Number, b"0x1F"),
            (Operator, b"&&"),
            (String, b"\"a\\\"b\""),
            (Comment, b"/* c\n */"),
            (Operator, b"!="),
            (Number, b"42"),
            (Operator, b";"),
            (Unknown, b"@"),
            (Operator, b"}"),
        ];
        assert_eq!(toks, expected);
        assert_eq!(lines, 5);
    }

    #[test]
    fn numbers_carry_their_values() {
        let mut values = Vec::new();
        tokenize(b"0x1f 255 0 0xFFFFFFFF", |t| values.push(t.value));
        assert_eq!(values, [31, 255, 0, u32::MAX]);
    }

    #[test]
    fn every_keyword_is_recognised() {
        for keyword in KEYWORDS {
            let (toks, _) = tokens(keyword);
            assert_eq!(toks, [(Kind::Keyword, keyword)]);
        }
        let (toks, _) = tokens(b"iff fo structs");
        assert!(toks.iter().all(|(kind, _)| *kind == Kind::Identifier));
    }

    #[test]
    fn unterminated_constructs_stop_at_the_end() {
        for src in [
            &b"\"abc"[..],
            b"\"ab\\",
            b"/* abc",
            b"/*",
            b"// x",
            b"0x",
            b"-",
        ] {
            let (toks, _) = tokens(src);
            assert_eq!(toks.len(), 1, "{:?}", std::str::from_utf8(src));
            assert_eq!(toks[0].1, src);
        }
    }

    #[test]
    fn generated_text_has_every_kind_and_tokens_cover_it() {
        let mut text = vec![0; 8192];
        generate_source(&mut text, 5);
        let mut seen = [0u32; Kind::COUNT];
        let mut covered = 0;
        tokenize(&text, |t| {
            seen[t.kind.index()] += 1;
            covered += t.len;
        });
        assert!(seen.iter().all(|&n| n > 0), "{seen:?}");
        let whitespace = text.iter().filter(|b| b.is_ascii_whitespace()).count() as u32;
        // Whitespace inside strings and comments belongs to tokens.
        assert!(covered + whitespace >= text.len() as u32);
    }
}
