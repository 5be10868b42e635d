//! The kernel's own symbol table, for naming the function in fault records.
//!
//! The kernel cannot read its ELF file (the loader only maps segments), so
//! the host fills a zero-initialised section after linking
//! (`harness/src/symbols.rs`); the table's format, writer and reader are
//! `traplab_wire::symbols`. An unfilled table (all zeros) yields no names.

/// Bytes reserved for the table in the ELF.
pub const SYMBOLS_CAPACITY: usize = 4 << 20;

// The section name is `traplab_wire::symbols::SECTION`: the attribute takes
// only a literal, and the host refuses a kernel without that section.
#[used]
#[unsafe(link_section = ".traplab_symbols")]
static SYMBOLS: [u8; SYMBOLS_CAPACITY] = [0; SYMBOLS_CAPACITY];

fn table() -> &'static [u8] {
    // The bytes are patched after compilation: hide their initial value
    // from the optimiser so reads are not folded to zero.
    let ptr = core::hint::black_box(SYMBOLS.as_ptr());
    // SAFETY: `ptr` is the static above, SYMBOLS_CAPACITY bytes long.
    unsafe { core::slice::from_raw_parts(ptr, SYMBOLS_CAPACITY) }
}

/// `(function name, offset into it)` for `addr`, if a symbol covers it.
pub fn lookup(addr: u64) -> Option<(&'static str, u64)> {
    traplab_wire::symbols::lookup(table(), addr)
}
