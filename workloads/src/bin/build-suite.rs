//! `build-suite`: compile the workloads of a suite for the kernel and write
//! the suite image.
//!
//! ```text
//! build-suite --suite default|quick --out PATH [--cpu-profile NAME] [--sightglass DIR]... [--campaign SPEC]
//! ```
//!
//! Prints one line on success: the path, the number of workloads, the image
//! size in bytes, the manifest SHA-256 (the suite's identity in run
//! headers) and, with `--campaign`, the campaign's name, injections and
//! targets.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Parser;
use traplab_suite::Suite;
use traplab_workloads::{SuiteName, build_suite_campaign, campaign, cpu_profile};

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
    /// A directory of sightglass-ABI benchmarks to add beside the shipped
    /// ones: sightglass's layout (`DIR/<name>/benchmark.wasm` beside its
    /// input and `*.expected` files, packed into the image) or flat
    /// `*.wasm`/`*.wat` files; repeatable.
    #[arg(long, value_name = "DIR")]
    sightglass: Vec<PathBuf>,
    /// A fault-injection campaign spec (TOML, see
    /// injectors/campaigns/README.md) to resolve into the manifest; a bare
    /// name such as `default` or `smoke` is the shipped spec
    /// injectors/campaigns/<name>.toml.
    #[arg(long, value_name = "SPEC")]
    campaign: Option<PathBuf>,
    /// The CPU profile compiled code may use (traplab_suite::cpu): qemu-max
    /// (QEMU TCG -cpu max, the tcg/icount/iso profiles), x86-64-v2
    /// (bare-metal baseline), x86-64-v3, sse4.1-only (suites before
    /// profiles), host (this machine, for KVM -cpu host here).
    #[arg(long, value_name = "NAME", default_value = "qemu-max", value_parser = traplab_workloads::CPU_PROFILE_NAMES)]
    cpu_profile: String,
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
    let spec = match &args.campaign {
        Some(argument) => Some(campaign::load_spec(&campaign::spec_path(argument))?),
        None => None,
    };
    let cpu = cpu_profile(&args.cpu_profile)?;
    let image = build_suite_campaign(args.suite, &cpu, &args.sightglass, spec.as_ref())?;
    // Parsing our own output checks the manifest checksum and JSON, and
    // yields the manifest hash that identifies the suite.
    let suite = Suite::parse(&image).context("the packed image does not parse back")?;
    write_atomically(&args.out, &image)?;
    let campaign = suite
        .manifest
        .campaign
        .as_ref()
        .map_or_else(String::new, |c| {
            let targets: Vec<&str> = c.targets.iter().map(|t| t.workload.as_str()).collect();
            format!(
                " campaign={} injections={} targets={}",
                c.spec.name,
                c.spec.count,
                targets.join(",")
            )
        });
    println!(
        "{} workloads={} cpu_profile={} bytes={} manifest_sha256={}{campaign}",
        args.out.display(),
        suite.manifest.workloads.len(),
        cpu.name,
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
