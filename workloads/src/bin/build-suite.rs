//! `build-suite`: compile the workloads of a suite for the kernel and write
//! the suite image.
//!
//! ```text
//! build-suite --suite default|quick --out PATH
//! ```
//!
//! Prints one line on success: the path, the number of workloads, the image
//! size in bytes and the manifest SHA-256 (the suite's identity in run
//! headers).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Parser;
use traplab_suite::Suite;
use traplab_workloads::{SuiteName, build_suite_with};

/// Compile the traplab workloads with Cranelift for x86_64-unknown-none and
/// pack them into a suite image.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// Which suite to pack (both list every workload today; the sample count
    /// is chosen when the kernel boots).
    #[arg(long, value_enum, default_value = "default")]
    suite: SuiteName,
    /// Where to write the image (replaced atomically).
    #[arg(long)]
    out: PathBuf,
    /// A directory of sightglass-ABI benchmarks (`*.wasm`, `*.wat`) to add
    /// beside the shipped ones; repeatable.
    #[arg(long, value_name = "DIR")]
    sightglass: Vec<PathBuf>,
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("build-suite: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<()> {
    let image = build_suite_with(args.suite, &args.sightglass)?;
    // Parsing our own output checks the manifest checksum and JSON, and
    // yields the manifest hash that identifies the suite.
    let suite = Suite::parse(&image).context("the packed image does not parse back")?;
    write_atomically(&args.out, &image)?;
    println!(
        "{} workloads={} bytes={} manifest_sha256={}",
        args.out.display(),
        suite.manifest.workloads.len(),
        image.len(),
        suite.manifest_sha256
    );
    Ok(())
}

/// Write `bytes` to a temporary file next to `path`, then rename it over
/// `path`, so a reader (QEMU, the harness) never sees a half-written image.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let file_name = path
        .file_name()
        .with_context(|| format!("{} does not name a file", path.display()))?;
    let mut temp_name = file_name.to_os_string();
    temp_name.push(format!(".tmp.{}", std::process::id()));
    let temp = path.with_file_name(temp_name);
    let result = (|| {
        let mut file =
            fs::File::create(&temp).with_context(|| format!("creating {}", temp.display()))?;
        file.write_all(bytes)
            .with_context(|| format!("writing {}", temp.display()))?;
        file.sync_all()
            .with_context(|| format!("flushing {}", temp.display()))?;
        fs::rename(&temp, path)
            .with_context(|| format!("renaming {} to {}", temp.display(), path.display()))
    })();
    if result.is_err() {
        // Best effort: the original error is the one worth reporting.
        let _ = fs::remove_file(&temp);
    }
    result
}
