//! The kernel's hardware boundary holds: inline assembly, naked functions
//! and the hardware crates (`x86_64`, `raw_cpuid`, `uart_16550`) appear in
//! `runner-kernel/src/arch/` and nowhere else in the kernel, as in Hermit.
//! The rest of the kernel calls `crate::arch::…`.
//!
//! A plain source scan rather than a clippy lint: `disallowed_macros`
//! cannot name `core::arch::asm!` reliably (a built-in macro) nor cover a
//! whole crate path, and the harness tests already run in every `test.sh`.
//! Comment lines are skipped, so module docs may name what they forbid.

use std::path::{Path, PathBuf};

/// What only `arch/` may use, and why each is a hardware detail.
const FORBIDDEN: &[(&str, &str)] = &[
    ("asm!", "inline assembly"),
    ("naked_asm!", "naked-function assembly"),
    ("global_asm!", "module-level assembly"),
    ("core::arch", "CPU intrinsics and assembly"),
    ("(naked)", "a naked function"),
    ("raw_cpuid", "the CPUID crate"),
    ("uart_16550", "the serial port crate"),
];

/// The `x86_64` crate (ports, MSRs, control registers, page tables), but
/// not the kernel's own `arch::x86_64` module path.
fn uses_x86_64_crate(line: &str) -> bool {
    line.match_indices("x86_64::").any(|(at, _)| {
        let before = &line[..at];
        !before.ends_with("arch::") && !before.ends_with(|c: char| c.is_alphanumeric() || c == '_')
    })
}

/// Each `(line number, what)` of `source` that crosses the boundary.
fn violations(source: &str) -> Vec<(usize, &'static str)> {
    let mut found = Vec::new();
    for (n, line) in source.lines().enumerate() {
        let code = line.trim_start();
        if code.starts_with("//") {
            continue;
        }
        // Trailing comments may name forbidden things too.
        let code = code.split("//").next().unwrap_or(code);
        if let Some((_, what)) = FORBIDDEN.iter().find(|(pat, _)| code.contains(pat)) {
            found.push((n + 1, *what));
        } else if uses_x86_64_crate(code) {
            found.push((n + 1, "the x86_64 crate"));
        }
    }
    found
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
    {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn asm_and_hardware_crates_stay_in_kernel_arch() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../runner-kernel/src");
    let arch = src.join("arch");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(
        files.len() > 10,
        "found only {} kernel sources under {}",
        files.len(),
        src.display()
    );
    let mut report = Vec::new();
    for file in files.iter().filter(|f| !f.starts_with(&arch)) {
        let source = std::fs::read_to_string(file).unwrap();
        for (line, what) in violations(&source) {
            let shown = file.strip_prefix(&src).unwrap_or(file).display();
            report.push(format!("runner-kernel/src/{shown}:{line}: {what}"));
        }
    }
    assert!(
        report.is_empty(),
        "hardware access outside runner-kernel/src/arch/ (move it behind crate::arch):\n{}",
        report.join("\n")
    );
}

#[test]
fn the_scan_sees_each_forbidden_form() {
    let source = "\
use core::arch::asm;
// asm!(\"in a comment\") is fine
    unsafe { asm!(\"ud2\") }
#[unsafe(naked)]
let x = 1; // naked_asm! in a trailing comment is fine
use x86_64::instructions::port::Port;
use crate::arch::x86_64::idt;
";
    let lines: Vec<usize> = violations(source).iter().map(|(n, _)| *n).collect();
    assert_eq!(lines, [1, 3, 4, 6]);
}
