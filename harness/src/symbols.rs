//! Fill the kernel's `.traplab_symbols` section so fault records can name
//! the faulting function (`runner-kernel/src/symbols.rs` reads it).
//!
//! Table layout (little endian):
//!
//! ```text
//! 0   8   magic "TLSYMS01"
//! 8   4   entry count N
//! 12  4   string table length S
//! 16  16N entries sorted by address: {addr u64, size u32, name offset u32}
//! …   S   names, UTF-8, NUL-terminated, demangled without hashes
//! ```
//!
//! Patching the bytes of a reserved section in place, rather than linking
//! twice, keeps every code address identical to the unpatched build.

use std::path::Path;

use anyhow::{Context, Result, bail};
use object::{Object, ObjectSection, ObjectSymbol, SymbolKind};

const SECTION: &str = ".traplab_symbols";
const MAGIC: &[u8; 8] = b"TLSYMS01";
/// Longest name kept; longer (generic-heavy) names are cut at a char boundary.
const MAX_NAME: usize = 160;

/// Build the table for the ELF at `input`, write a patched copy to
/// `output`, and return the number of symbols embedded.
pub fn embed(input: &Path, output: &Path) -> Result<usize> {
    let mut bytes = std::fs::read(input).with_context(|| format!("reading {}", input.display()))?;
    let (offset, capacity, table, count) = {
        let file = object::File::parse(&*bytes)
            .with_context(|| format!("{}: not an ELF file", input.display()))?;
        let section = file.section_by_name(SECTION).with_context(|| {
            format!(
                "{}: no {SECTION} section (is it a runner-kernel?)",
                input.display()
            )
        })?;
        let (offset, capacity) = section
            .file_range()
            .context("symbol section has no file bytes")?;
        let mut symbols: Vec<(u64, u64, String)> = file
            .symbols()
            .filter(|s| s.kind() == SymbolKind::Text && s.address() != 0)
            .filter_map(|s| Some((s.address(), s.size(), demangle(s.name().ok()?))))
            .collect();
        symbols.sort_by_key(|s| s.0);
        symbols.dedup_by_key(|s| s.0);
        let (table, count) = encode(&symbols, capacity as usize)?;
        (offset as usize, capacity as usize, table, count)
    };
    debug_assert!(table.len() <= capacity);
    bytes[offset..offset + table.len()].copy_from_slice(&table);
    crate::build::write_atomically(output, &bytes)?;
    Ok(count)
}

fn demangle(name: &str) -> String {
    let mut text = format!("{:#}", rustc_demangle::demangle(name));
    if text.len() > MAX_NAME {
        let mut cut = MAX_NAME;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
    }
    text
}

fn encode(symbols: &[(u64, u64, String)], capacity: usize) -> Result<(Vec<u8>, usize)> {
    let mut entries = Vec::with_capacity(symbols.len() * 16);
    let mut strings = Vec::new();
    for (addr, size, name) in symbols {
        entries.extend_from_slice(&addr.to_le_bytes());
        entries.extend_from_slice(&(u32::try_from(*size).unwrap_or(u32::MAX)).to_le_bytes());
        entries.extend_from_slice(&(strings.len() as u32).to_le_bytes());
        strings.extend_from_slice(name.as_bytes());
        strings.push(0);
    }
    let mut table = Vec::with_capacity(16 + entries.len() + strings.len());
    table.extend_from_slice(MAGIC);
    table.extend_from_slice(&(symbols.len() as u32).to_le_bytes());
    table.extend_from_slice(&(strings.len() as u32).to_le_bytes());
    table.extend_from_slice(&entries);
    table.extend_from_slice(&strings);
    if table.len() > capacity {
        bail!(
            "symbol table needs {} bytes but {SECTION} holds {capacity}; raise SYMBOLS_CAPACITY in runner-kernel/src/symbols.rs",
            table.len()
        );
    }
    Ok((table, symbols.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_layout_matches_the_kernel_reader() {
        let (table, n) = encode(
            &[(0x1000, 0x20, "a".into()), (0x2000, 8, "bc".into())],
            1024,
        )
        .unwrap();
        assert_eq!(n, 2);
        assert_eq!(&table[..8], MAGIC);
        assert_eq!(u32::from_le_bytes(table[8..12].try_into().unwrap()), 2);
        assert_eq!(u32::from_le_bytes(table[12..16].try_into().unwrap()), 5);
        assert_eq!(
            u64::from_le_bytes(table[32..40].try_into().unwrap()),
            0x2000
        );
        assert_eq!(u32::from_le_bytes(table[44..48].try_into().unwrap()), 2);
        assert_eq!(&table[48..], b"a\0bc\0");
    }

    #[test]
    fn oversized_table_is_an_error_naming_the_fix() {
        let err = encode(&[(1, 1, "x".repeat(100))], 64).unwrap_err();
        assert!(err.to_string().contains("SYMBOLS_CAPACITY"), "{err}");
    }

    #[test]
    fn names_are_demangled_without_hash() {
        assert_eq!(
            demangle("_ZN13runner_kernel5fault3foo17h0123456789abcdefE"),
            "runner_kernel::fault::foo"
        );
    }
}
