//! The kernel's symbol table: written by the host into the kernel's ELF
//! after linking (`harness/src/symbols.rs`), read by the kernel to name the
//! function in fault and panic records (`runner-kernel/src/symbols.rs`).
//! The format is defined here only, so the writer and the reader cannot
//! drift apart.
//!
//! Layout (little endian):
//!
//! ```text
//! 0   8   magic "TLSYMS01"
//! 8   4   entry count N
//! 12  4   string table length S
//! 16  16N entries sorted by address: {addr u64, size u32, name offset u32}
//! …   S   names, UTF-8, NUL-terminated
//! ```
//!
//! A table that does not start with the magic (the kernel's unfilled,
//! all-zero section) yields no names.

use alloc::vec::Vec;

/// The ELF section that holds the table. (The kernel's `#[link_section]`
/// must spell it as a literal; the host refuses a kernel without it.)
pub const SECTION: &str = ".traplab_symbols";
/// First bytes of a filled table.
pub const MAGIC: &[u8; 8] = b"TLSYMS01";
/// Bytes before the first entry: magic, N, S.
const HEADER: usize = 16;
/// Bytes per entry: addr, size, name offset.
const ENTRY: usize = 16;

/// The table of `symbols` (start address, size in bytes, name), which must
/// be sorted by address. A size beyond `u32` is saturated: the lookup then
/// covers less than the function, never another one.
pub fn encode(symbols: &[(u64, u64, &str)]) -> Vec<u8> {
    let mut entries = Vec::with_capacity(symbols.len() * ENTRY);
    let mut strings = Vec::new();
    for &(addr, size, name) in symbols {
        entries.extend_from_slice(&addr.to_le_bytes());
        entries.extend_from_slice(&(u32::try_from(size).unwrap_or(u32::MAX)).to_le_bytes());
        entries.extend_from_slice(&(strings.len() as u32).to_le_bytes());
        strings.extend_from_slice(name.as_bytes());
        strings.push(0);
    }
    let mut table = Vec::with_capacity(HEADER + entries.len() + strings.len());
    table.extend_from_slice(MAGIC);
    table.extend_from_slice(&(symbols.len() as u32).to_le_bytes());
    table.extend_from_slice(&(strings.len() as u32).to_le_bytes());
    table.extend_from_slice(&entries);
    table.extend_from_slice(&strings);
    table
}

/// `(function name, offset into it)` for `addr` in `table`, if a symbol
/// covers it. Never panics on a damaged table: any out-of-range read is
/// `None`.
pub fn lookup(table: &[u8], addr: u64) -> Option<(&str, u64)> {
    if table.get(..MAGIC.len())? != MAGIC {
        return None;
    }
    let count = u32_at(table, 8)? as usize;
    let strings = HEADER + count * ENTRY;
    // Binary search for the last entry starting at or below `addr`.
    let (mut lo, mut hi) = (0usize, count);
    while lo < hi {
        let mid = (lo + hi) / 2;
        if u64_at(table, HEADER + mid * ENTRY)? <= addr {
            lo = mid + 1
        } else {
            hi = mid
        }
    }
    let at = HEADER + lo.checked_sub(1)? * ENTRY;
    let start = u64_at(table, at)?;
    let size = u64::from(u32_at(table, at + 8)?);
    // A zero-sized symbol (assembly labels) still names its first byte.
    if addr >= start + size.max(1) {
        return None;
    }
    let name_at = strings + u32_at(table, at + 12)? as usize;
    let len = table.get(name_at..)?.iter().position(|&b| b == 0)?;
    Some((
        core::str::from_utf8(&table[name_at..name_at + len]).ok()?,
        addr - start,
    ))
}

fn u32_at(t: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(t.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(t: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(t.get(at..at + 8)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SYMBOLS: [(u64, u64, &str); 3] =
        [(0x1000, 0x20, "a"), (0x2000, 8, "bc"), (0x3000, 0, "label")];

    #[test]
    fn what_encode_writes_lookup_reads() {
        let table = encode(&SYMBOLS);
        assert_eq!(lookup(&table, 0x1000), Some(("a", 0)));
        assert_eq!(lookup(&table, 0x101f), Some(("a", 0x1f)));
        assert_eq!(lookup(&table, 0x1020), None, "past the end of a");
        assert_eq!(lookup(&table, 0x2004), Some(("bc", 4)));
        assert_eq!(lookup(&table, 0x3000), Some(("label", 0)));
        assert_eq!(lookup(&table, 0x3001), None);
        assert_eq!(lookup(&table, 0xfff), None, "below every symbol");
    }

    #[test]
    fn table_layout_is_the_documented_one() {
        let table = encode(&SYMBOLS[..2]);
        assert_eq!(&table[..8], MAGIC);
        assert_eq!(u32_at(&table, 8), Some(2));
        assert_eq!(u32_at(&table, 12), Some(5));
        assert_eq!(u64_at(&table, 32), Some(0x2000));
        assert_eq!(u32_at(&table, 44), Some(2));
        assert_eq!(&table[48..], b"a\0bc\0");
    }

    #[test]
    fn an_unfilled_or_cut_table_names_nothing() {
        assert_eq!(lookup(&[0; 64], 0x1000), None);
        assert_eq!(lookup(&[], 0x1000), None);
        let table = encode(&SYMBOLS);
        assert_eq!(lookup(&table[..40], 0x2004), None);
    }
}
