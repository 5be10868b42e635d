//! Fill the kernel's symbol section so fault records can name the faulting
//! function (`runner-kernel/src/symbols.rs` reads it). The table's format
//! is `traplab_wire::symbols`; this module only gathers the symbols.
//!
//! Patching the bytes of a reserved section in place, rather than linking
//! twice, keeps every code address identical to the unpatched build.

use std::path::Path;

use anyhow::{Context, Result, bail};
use object::{Object, ObjectSection, ObjectSymbol, SymbolKind};
use traplab_wire::symbols::{SECTION, encode};

/// Longest name kept; longer (generic-heavy) names are cut at a char boundary.
const MAX_NAME: usize = 160;

/// The ELF at `input` with its symbol section filled, and the number of
/// symbols embedded. Writing it is the caller's (the build's) job.
pub fn embed(input: &Path) -> Result<(Vec<u8>, usize)> {
    let mut bytes = std::fs::read(input).with_context(|| format!("reading {}", input.display()))?;
    let (offset, table, count) = {
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
        let table = table(&symbols, capacity as usize)?;
        (offset as usize, table, symbols.len())
    };
    bytes[offset..offset + table.len()].copy_from_slice(&table);
    Ok((bytes, count))
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

/// The encoded table, if it fits the section's `capacity` bytes.
fn table(symbols: &[(u64, u64, String)], capacity: usize) -> Result<Vec<u8>> {
    let symbols: Vec<(u64, u64, &str)> = symbols
        .iter()
        .map(|(addr, size, name)| (*addr, *size, name.as_str()))
        .collect();
    let table = encode(&symbols);
    if table.len() > capacity {
        bail!(
            "symbol table needs {} bytes but {SECTION} holds {capacity}; raise SYMBOLS_CAPACITY in runner-kernel/src/symbols.rs",
            table.len()
        );
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oversized_table_is_an_error_naming_the_fix() {
        let err = table(&[(1, 1, "x".repeat(100))], 64).unwrap_err();
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
