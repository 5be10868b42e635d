//! What the test scripts in `tests/wast/` say about themselves.

// Each test binary that includes this module uses only part of it.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;

/// `tests/wast/`: scripts whose commands are expected to pass unless their
/// first line says `;; expect: fail`.
pub fn test_scripts_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/wast")
}

/// `(script name, line)` → whether the command starting on that line must
/// pass, for every directive. The test scripts start each directive at
/// column 0 and indent its continuation lines.
pub fn expectations(name: &str, text: &str) -> BTreeMap<(String, u32), bool> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| line.starts_with('('))
        .map(|(i, line)| {
            let passes = !line.contains(";; expect: fail");
            ((name.to_string(), i as u32 + 1), passes)
        })
        .collect()
}

/// `;; vector N` notes: line → vector.
pub fn vector_notes(text: &str) -> BTreeMap<u32, u8> {
    text.lines()
        .enumerate()
        .filter_map(|(i, line)| {
            let (_, note) = line.rsplit_once(";; vector ")?;
            Some((i as u32 + 1, note.trim().parse().unwrap()))
        })
        .collect()
}
