//! `traplab ingest`: store a captured run under `results/`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use anyhow::{Context, Result, bail};
use clap::Args;
use traplab_wire::Platform;

use super::{Exit, RESULTS_ENV, default_results, emit, load_usable};
use crate::store::{self, Loaded, Meta, PeerMeta};

/// Store a captured run under the results folder.
///
/// Stores it as
/// `<results>/<short-commit>[-dirty]/<timestamp>-<suite>/run.jsonl` (byte for
/// byte, boot noise included) with a `meta.json` (commit, dirty flag, commit
/// date, store date, host, QEMU version, mode, platform, status). Prints the
/// run folder. A stored run is never overwritten. The same capture (the
/// same bytes: the SHA-256 of run.jsonl, kept in meta.json) is stored only
/// once: ingesting it again says "already stored as DIR" on stderr, prints
/// that folder and exits 0.
///
/// meta.json's `status` says what the stream says: complete, failed,
/// fault, panic, incomplete (no end record) or damaged (lost or corrupted
/// lines, gaps, counts that do not match).
///
/// With `--peer linux-guest=FILE` and/or `--peer linux-host=FILE` the Linux
/// peers' streams of the same suite are stored with the lab-kernel capture,
/// as `peers/<platform>.jsonl` in the same folder, each validated like the
/// capture and listed in `meta.json` (`peers`: platform, file, mode, os,
/// status, samples, problems). A peer's header must name the platform it
/// is given as. `traplab peers RUN` then shows ring 0 vs Linux, and
/// `RUN@linux-guest` names a peer's stream wherever a RUN is expected.
/// A Linux stream can also be ingested on its own (without `--peer`).
///
/// A damaged run is stored with a warning (its good data is still useful);
/// a run with no records or an unknown schema is refused, and so is a peer
/// that is unusable or names another platform (nothing is stored then).
#[derive(Debug, Args)]
pub struct IngestArgs {
    /// The captured serial output, or `-` for standard input.
    #[arg(value_name = "FILE|-")]
    pub run: PathBuf,
    /// Results folder.
    #[arg(long, value_name = "DIR", env = RESULTS_ENV, default_value_os_t = default_results())]
    pub results: PathBuf,
    /// Also save the run as the named baseline (results/baseline/NAME/),
    /// replacing an older one; compare against it with `--baseline NAME`.
    #[arg(long, value_name = "NAME")]
    pub save_baseline: Option<String>,
    /// Host name to record (default: this machine's).
    #[arg(long)]
    pub host: Option<String>,
    /// QEMU version to record (default: asked from qemu-system-x86_64 when the
    /// mode is not bare-metal).
    #[arg(long, value_name = "VERSION")]
    pub qemu_version: Option<String>,
    /// Committer date of the kernel commit (ISO 8601; default: asked from git
    /// in the current directory). Orders `history`.
    #[arg(long, value_name = "DATE")]
    pub commit_date: Option<String>,
    /// A Linux peer's stream of the same suite, stored with the capture:
    /// `linux-guest=FILE` or `linux-host=FILE` (repeatable, one per
    /// platform).
    #[arg(long = "peer", value_name = "PLATFORM=FILE", value_parser = parse_peer)]
    pub peers: Vec<(Platform, PathBuf)>,
}

/// `linux-guest=FILE` → the platform and the file.
fn parse_peer(arg: &str) -> Result<(Platform, PathBuf), String> {
    let peers = || {
        Platform::ALL
            .iter()
            .filter(|p| **p != Platform::LabKernel)
            .map(|p| p.name())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let Some((name, file)) = arg.split_once('=') else {
        return Err(format!(
            "expected PLATFORM=FILE with PLATFORM one of {}",
            peers()
        ));
    };
    match Platform::from_name(name) {
        Some(Platform::LabKernel) => Err(format!(
            "the lab kernel's stream is the CAPTURE itself; --peer takes {}",
            peers()
        )),
        Some(p) if !file.is_empty() => Ok((p, PathBuf::from(file))),
        Some(_) => Err("no FILE after '='".to_string()),
        None => Err(format!(
            "unknown platform {name:?}; --peer takes {}",
            peers()
        )),
    }
}

/// Load a peer's stream and check that it is usable and is `platform`'s.
fn load_peer(platform: Platform, file: &Path) -> Result<Loaded> {
    let loaded = load_usable(file)?;
    match loaded.run.platform() {
        Some(p) if p == platform.name() => Ok(loaded),
        Some(other) => bail!(
            "{}: given as --peer {}=…, but its header names platform {other:?}",
            file.display(),
            platform.name()
        ),
        None => bail!(
            "{}: given as --peer {}=…, but its header was lost, so its platform cannot be confirmed",
            file.display(),
            platform.name()
        ),
    }
}

pub fn run(args: IngestArgs) -> Result<Exit> {
    if let Some(name) = &args.save_baseline {
        store::check_baseline_name(name)?;
    }
    let loaded = load_usable(&args.run)?;
    let sha = store::sha256_hex(&loaded.bytes);
    // The same capture with the same peers (none given: whatever peers it
    // was stored with) is already stored.
    let peer_files: Vec<(Platform, Vec<u8>)> = args
        .peers
        .iter()
        .map(|(p, f)| (*p, std::fs::read(f).unwrap_or_default()))
        .collect();
    let same_peers = |dir: &Path| {
        peer_files.is_empty()
            || (store::stored_peers(dir).len() == peer_files.len()
                && peer_files.iter().all(|(p, bytes)| {
                    std::fs::read(dir.join(store::peer_file(*p))).is_ok_and(|b| &b == bytes)
                }))
    };
    if let Some(dir) = store::find_stored(&args.results, &sha, loaded.bytes.len() as u64)
        .into_iter()
        .find(|d| same_peers(d))
    {
        eprintln!(
            "{}: already stored as {}; not stored again",
            args.run.display(),
            dir.display()
        );
        if let Some(name) = &args.save_baseline {
            let b = store::save_baseline(&args.results, name, &dir)?;
            eprintln!("saved as baseline {name:?} ({})", b.display());
        }
        emit(&format!("{}\n", dir.display()))?;
        return Ok(Exit::Clean);
    }
    let mut peers: Vec<(Platform, Loaded)> = Vec::new();
    if !args.peers.is_empty() {
        match loaded.run.platform() {
            Some(p) if p == Platform::LabKernel.name() => {}
            other => bail!(
                "{}: --peer stores Linux peers with a lab-kernel capture, but this capture's platform is {}",
                args.run.display(),
                other.map_or("unknown (header lost)".to_string(), |p| format!("{p:?}"))
            ),
        }
    }
    for (platform, file) in &args.peers {
        if peers.iter().any(|(p, _)| p == platform) {
            bail!("--peer {} given twice", platform.name());
        }
        peers.push((*platform, load_peer(*platform, file)?));
    }
    let now = SystemTime::now();
    let mut meta = Meta::from_run(&loaded.run, now);
    meta.sha256 = Some(sha);
    meta.peers = peers
        .iter()
        .map(|(p, l)| PeerMeta::from_run(*p, &l.run))
        .collect();
    meta.host = args.host.or_else(hostname);
    let in_qemu = |mode: &str| !matches!(mode, "bare-metal" | "host");
    let wants_qemu = in_qemu(&meta.mode) || meta.peers.iter().any(|p| in_qemu(&p.mode));
    meta.qemu_version = args
        .qemu_version
        .or_else(|| if wants_qemu { qemu_version() } else { None });
    meta.commit_date = args.commit_date.or_else(|| commit_date(&meta.commit));
    let peer_bytes: Vec<(Platform, &[u8])> = peers
        .iter()
        .map(|(p, l)| (*p, l.bytes.as_slice()))
        .collect();
    let dir = store::store_with_peers(&args.results, &loaded.bytes, &peer_bytes, &meta, now)
        .context("storing the run")?;
    let text = format!("{}\n", dir.display());
    if let Some(name) = &args.save_baseline {
        let b = store::save_baseline(&args.results, name, &dir)?;
        eprintln!("saved as baseline {name:?} ({})", b.display());
    }
    emit(&text)?;
    Ok(Exit::Clean)
}

fn hostname() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
}

/// First line of a command's stdout, if it ran and succeeded.
fn first_line(cmd: &mut Command) -> Option<String> {
    let out = cmd.stderr(std::process::Stdio::null()).output().ok()?;
    if !out.status.success() {
        return None;
    }
    String::from_utf8(out.stdout)
        .ok()?
        .lines()
        .next()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
}

fn qemu_version() -> Option<String> {
    first_line(Command::new("qemu-system-x86_64").arg("--version"))
}

fn commit_date(commit: &str) -> Option<String> {
    if commit == "unknown" {
        return None;
    }
    first_line(Command::new("git").args(["show", "-s", "--format=%cI", commit, "--"]))
}
