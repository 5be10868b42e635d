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

/// A scratch directory of its own for one test.
fn scratch_dir(test: &str) -> std::path::PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn sightglass_layout_names_benchmarks_by_folder_and_finds_inputs_and_expected_files() {
    use traplab_workloads::sightglass::find_benchmarks;
    let dir = scratch_dir("layout");
    let wasm = wat::parse_str(r#"(module (func (export "_start")))"#).unwrap();
    let bench = dir.join("benchmarks");
    let write = |rel: &str, bytes: &[u8]| {
        let path = bench.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    };
    // One folder as sightglass has most: benchmark.wasm, its own expected
    // stdout, an input, a nested input.
    write("alpha/benchmark.wasm", &wasm);
    write("alpha/benchmark.stdout.expected", b"a\n");
    write("alpha/default.input", b"1");
    write("alpha/sub/more.txt", b"22");
    // Several modules in one folder (like sightglass's shootout/): the
    // stem-named expected file first, else default.*.expected.
    write("multi/one.wasm", &wasm);
    write("multi/two.wasm", &wasm);
    write("multi/one.stdout.expected", b"1\n");
    write("multi/default.stdout.expected", b"d\n");
    write("multi/default.stderr.expected", b"e\n");
    // A folder without a module is not a benchmark.
    write("notes/README.md", b"notes");
    let found = find_benchmarks(&bench).unwrap();
    let names: Vec<&str> = found.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "sightglass.alpha",
            "sightglass.multi.one",
            "sightglass.multi.two"
        ]
    );
    let alpha = &found[0];
    let inputs: Vec<&str> = alpha.inputs.iter().map(|(rel, _)| rel.as_str()).collect();
    assert_eq!(inputs, ["default.input", "sub/more.txt"]);
    assert_eq!(
        alpha.stdout_expected.as_deref(),
        Some(bench.join("alpha/benchmark.stdout.expected").as_path())
    );
    assert_eq!(alpha.stderr_expected, None);
    let name = |b: &traplab_workloads::sightglass::Benchmark, p: &Option<std::path::PathBuf>| {
        p.as_ref()
            .map(|p| {
                p.strip_prefix(bench.join("multi"))
                    .unwrap()
                    .display()
                    .to_string()
            })
            .unwrap_or_else(|| format!("{} none", b.name))
    };
    assert_eq!(
        name(&found[1], &found[1].stdout_expected),
        "one.stdout.expected"
    );
    assert_eq!(
        name(&found[2], &found[2].stdout_expected),
        "default.stdout.expected"
    );
    assert_eq!(
        name(&found[2], &found[2].stderr_expected),
        "default.stderr.expected"
    );
    // Modules are not inputs of their neighbours.
    assert!(found[1].inputs.is_empty(), "{:?}", found[1].inputs);
    let (files, data) = alpha.files().unwrap();
    assert!(files.preopen);
    assert_eq!(data, [b"1".to_vec(), b"22".to_vec(), b"a\n".to_vec()]);
    assert_eq!(
        files.stdout_expected.unwrap().path,
        "benchmark.stdout.expected"
    );

    // One benchmark folder given directly is that benchmark.
    let one = find_benchmarks(&bench.join("alpha")).unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].name, "sightglass.alpha");

    // The flat layout: the file stem, no preopen, the same expected rule.
    let flat = find_benchmarks(&Path::new(env!("CARGO_MANIFEST_DIR")).join("sightglass")).unwrap();
    assert_eq!(flat[0].name, "sightglass.fib-wasi");
    assert!(flat[0].folder.is_none());
    assert!(flat[0].stdout_expected.is_some());

    let empty = scratch_dir("layout_empty");
    let e = format!("{:#}", find_benchmarks(&empty).unwrap_err());
    assert!(e.contains("holds no sightglass benchmark"), "{e}");
}
