//! The kernel's own symbol table, for naming the function in fault records.
//!
//! The kernel cannot read its ELF file (the loader only maps segments), so
//! the host fills a zero-initialised section after linking
//! (`harness/src/symbols.rs` writes it; the layout is defined there and
//! mirrored here):
//!
//! ```text
//! 0   8   magic "TLSYMS01"
//! 8   4   entry count N (u32 LE)
//! 12  4   string table length S
//! 16  16N entries sorted by address: {addr u64, size u32, name offset u32}
//! …   S   names, UTF-8, each NUL-terminated
//! ```
//! An unfilled table (all zeros) simply yields no names.

/// Bytes reserved for the table in the ELF.
pub const SYMBOLS_CAPACITY: usize = 4 << 20;

#[used]
#[unsafe(link_section = ".traplab_symbols")]
static SYMBOLS: [u8; SYMBOLS_CAPACITY] = [0; SYMBOLS_CAPACITY];

const MAGIC: &[u8; 8] = b"TLSYMS01";

fn table() -> &'static [u8] {
    // The bytes are patched after compilation: hide their initial value
    // from the optimiser so reads are not folded to zero.
    let ptr = core::hint::black_box(SYMBOLS.as_ptr());
    // SAFETY: `ptr` is the static above, SYMBOLS_CAPACITY bytes long.
    unsafe { core::slice::from_raw_parts(ptr, SYMBOLS_CAPACITY) }
}

fn u32_at(t: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(t.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(t: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(t.get(at..at + 8)?.try_into().ok()?))
}

/// `(function name, offset into it)` for `addr`, if a symbol covers it.
pub fn lookup(addr: u64) -> Option<(&'static str, u64)> {
    let t = table();
    if &t[..8] != MAGIC {
        return None;
    }
    let count = u32_at(t, 8)? as usize;
    let entries = 16;
    let strings = entries + count * 16;
    // Binary search for the last entry starting at or below `addr`.
    let (mut lo, mut hi) = (0usize, count);
    while lo < hi {
        let mid = (lo + hi) / 2;
        if u64_at(t, entries + mid * 16)? <= addr {
            lo = mid + 1
        } else {
            hi = mid
        }
    }
    let index = lo.checked_sub(1)?;
    let at = entries + index * 16;
    let start = u64_at(t, at)?;
    let size = u32_at(t, at + 8)? as u64;
    if addr >= start + size.max(1) {
        return None;
    }
    let name_at = strings + u32_at(t, at + 12)? as usize;
    let len = t.get(name_at..)?.iter().position(|&b| b == 0)?;
    Some((
        core::str::from_utf8(&t[name_at..name_at + len]).ok()?,
        addr - start,
    ))
}
