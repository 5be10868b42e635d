//! The sightglass-ABI check: the shipped module passes, modules that break
//! the ABI are refused with the rule they break.

use std::path::Path;

use traplab_workloads::sightglass::{check_abi, find_modules, load};

fn err(wat: &str) -> String {
    format!(
        "{:#}",
        check_abi(&wat::parse_str(wat).unwrap()).unwrap_err()
    )
}

#[test]
fn shipped_modules_follow_the_abi() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("sightglass");
    let modules = find_modules(&dir).unwrap();
    assert!(!modules.is_empty());
    for m in modules {
        load(&m).unwrap();
    }
}

#[test]
fn foreign_imports_are_refused() {
    let e = err(r#"(module (import "env" "f" (func)) (func (export "_start")))"#);
    assert_eq!(
        e,
        "it imports env.f; only bench.* and wasi_snapshot_preview1.* are provided"
    );
}

#[test]
fn start_must_exist_with_the_right_type() {
    assert_eq!(err("(module)"), "it does not export `_start`");
    let e = err(r#"(module (func (export "_start") (param i32)))"#);
    assert!(e.starts_with("its `_start` has type"), "{e}");
}

#[test]
fn wasi_users_must_export_memory() {
    let e = err(
        r#"(module (import "wasi_snapshot_preview1" "proc_exit" (func (param i32))) (func (export "_start")))"#,
    );
    assert_eq!(
        e,
        "it imports WASI but exports no `memory` for the host to read and write"
    );
}

fn scratch(name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("traplab-sightglass-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn binary_bytes_that_are_not_wasm_are_named_as_such_not_parsed_as_wat() {
    let path = scratch("x.wasm", b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x03\0>\0");
    let e = format!("{:#}", load(&path).unwrap_err());
    assert!(
        e.contains("x.wasm is neither a wasm binary") && e.contains("nor WAT"),
        "{e}"
    );
    assert!(!e.contains("expected `(`"), "{e}");

    let e = format!("{:#}", load(&scratch("empty.wasm", b"")).unwrap_err());
    assert!(e.contains("empty.wasm is empty"), "{e}");
}

#[test]
fn text_named_wasm_is_read_as_wat_and_a_real_binary_as_binary() {
    let wat = r#"(module (func (export "_start")))"#;
    let from_text = load(&scratch("text.wasm", wat.as_bytes())).unwrap();
    assert!(from_text.starts_with(b"\0asm"));
    let from_binary = load(&scratch("binary.wasm", &from_text)).unwrap();
    assert_eq!(from_binary, from_text);
    // Text that is not WAT either: both are named.
    let e = format!("{:#}", load(&scratch("notes.wasm", b"hello")).unwrap_err());
    assert!(
        e.contains("notes.wasm is neither a wasm binary (no \\0asm magic) nor WAT"),
        "{e}"
    );
    // A .wat file gets the WAT parser's own message, with its path.
    let e = format!(
        "{:#}",
        load(&scratch("bad.wat", b"(module (func")).unwrap_err()
    );
    assert!(e.contains("bad.wat"), "{e}");
}
