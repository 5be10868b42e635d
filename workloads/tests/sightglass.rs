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
