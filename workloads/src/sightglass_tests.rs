//! The project's own sightglass benchmarks, for tests: Rust std programs
//! built for `wasm32-wasip1` from `workloads/sightglass-tests/` (its own
//! cargo workspace, like the compute module's wasm build but with WASI),
//! laid out the way sightglass lays out `benchmarks/`.
//!
//! [`layout`] writes two folders of benchmark folders:
//!
//! - `good/`: `read-input` (its checked-in inputs and expected files, the
//!   `benchmark.*.expected` names) and `big-input` (a generated input of
//!   [`BIG_INPUT_BYTES`] and a `default.stdout.expected` computed here, the
//!   fallback name); every one must pass.
//! - `wrong/`: `wrong-expected`, `read-input` with an expected stdout that
//!   is wrong in one line; it must fail with a diff naming that line.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::compute::{target_dir, workspace_root};

/// Where the programs' sources and checked-in benchmark files live.
pub const SOURCE_DIR: &str = "workloads/sightglass-tests";
/// The target they are built for.
pub const TARGET: &str = "wasm32-wasip1";
/// Size of `big-input`'s generated input: a few MiB, served from the suite
/// image without a copy.
pub const BIG_INPUT_BYTES: usize = 4 << 20;
/// The line of `read-input`'s expected stdout that `wrong-expected` alters,
/// and what it says instead.
pub const WRONG_LINE: (usize, &str) = (2, "sum: 5051");

/// The two folders [`layout`] writes.
#[derive(Debug, Clone)]
pub struct Layout {
    pub good: PathBuf,
    pub wrong: PathBuf,
}

/// Build the programs with cargo and return the folder holding
/// `<program>.wasm`. The build has its own target subdirectory
/// (`<target>/sightglass-tests`), so it never invalidates the host build.
pub fn build_programs() -> Result<PathBuf> {
    let root = workspace_root();
    let target = target_dir(&root).join("sightglass-tests");
    let manifest = root.join(SOURCE_DIR).join("Cargo.toml");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(&cargo)
        .current_dir(&root)
        .args(["build", "--release", "--locked", "--target", TARGET])
        .arg("--manifest-path")
        .arg(&manifest)
        .arg("--target-dir")
        .arg(&target)
        .output()
        .with_context(|| format!("running {} to build {SOURCE_DIR}", cargo.to_string_lossy()))?;
    if !output.status.success() {
        bail!(
            "`cargo build --release --locked --target {TARGET} --manifest-path {}` failed ({}); is the {TARGET} target installed (rustup target add {TARGET})?\n{}",
            manifest.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim_end()
        );
    }
    Ok(target.join(TARGET).join("release"))
}

/// Build the programs and write the layout of the module doc under `out`
/// (replacing what was there).
pub fn layout(out: &Path) -> Result<Layout> {
    let built = build_programs()?;
    let sources = workspace_root().join(SOURCE_DIR).join("benchmarks");
    let good = out.join("good");
    let wrong = out.join("wrong");
    for dir in [&good, &wrong] {
        if dir.exists() {
            std::fs::remove_dir_all(dir).with_context(|| format!("removing {}", dir.display()))?;
        }
    }
    let module = |program: &str| built.join(format!("{program}.wasm"));

    // read-input: the checked-in folder plus the module; its expected
    // stdout is pinned in the sources beside the program.
    let read_input = good.join("read-input");
    copy_tree(&sources.join("read-input"), &read_input)?;
    copy(&module("read-input"), &read_input.join("benchmark.wasm"))?;

    // big-input: a generated input and the expected output computed here.
    let big = good.join("big-input");
    std::fs::create_dir_all(&big).with_context(|| format!("creating {}", big.display()))?;
    copy(&module("big-input"), &big.join("benchmark.wasm"))?;
    let data = big_input();
    write(&big.join("big.bin"), &data)?;
    write(
        &big.join("default.stdout.expected"),
        format!("bytes: {}\nfnv1a: {:016x}\n", data.len(), fnv1a(&data)).as_bytes(),
    )?;

    // wrong-expected: read-input with one expected line altered.
    let wrong_dir = wrong.join("wrong-expected");
    copy_tree(&sources.join("read-input"), &wrong_dir)?;
    copy(&module("read-input"), &wrong_dir.join("benchmark.wasm"))?;
    let expected = wrong_dir.join("benchmark.stdout.expected");
    let text = std::fs::read_to_string(&expected)
        .with_context(|| format!("reading {}", expected.display()))?;
    let mut lines: Vec<&str> = text.lines().collect();
    let (line, replacement) = WRONG_LINE;
    if lines.get(line - 1).is_none_or(|l| *l == replacement) {
        bail!(
            "{}: line {line} is missing or already says {replacement:?}; the wrong-expected test needs another value there",
            expected.display()
        );
    }
    lines[line - 1] = replacement;
    write(&expected, format!("{}\n", lines.join("\n")).as_bytes())?;
    Ok(Layout { good, wrong })
}

/// `big-input`'s input: [`BIG_INPUT_BYTES`] from a fixed-seed xorshift, so
/// a byte lost, repeated or reordered changes the hash.
pub fn big_input() -> Vec<u8> {
    let mut x = 0x2545_f491_4f6c_dd1du64;
    (0..BIG_INPUT_BYTES)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// FNV-1a, 64 bits: what `big-input` prints.
pub fn fnv1a(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn copy(from: &Path, to: &Path) -> Result<()> {
    std::fs::copy(from, to)
        .map(|_| ())
        .with_context(|| format!("copying {} to {}", from.display(), to.display()))
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
}

fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    for entry in std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let path = entry
            .with_context(|| format!("reading {}", from.display()))?
            .path();
        let dest = to.join(path.file_name().expect("directory entries have names"));
        if path.is_dir() {
            copy_tree(&path, &dest)?;
        } else {
            copy(&path, &dest)?;
        }
    }
    Ok(())
}
