//! The on-disk layout of results (documented for users in
//! `results/README.md`):
//!
//! ```text
//! results/
//!   <short-commit>[-dirty]/<timestamp>-<suite>/run.jsonl   raw stream, byte for byte
//!   <short-commit>[-dirty]/<timestamp>-<suite>/meta.json   provenance (Meta)
//!   <short-commit>[-dirty]/<timestamp>-<suite>/peers/<platform>.jsonl
//!                                        the Linux peers' streams stored with it
//!                                        (`linux-guest`, `linux-host`), byte for byte
//!   baseline/<name>/run.jsonl + meta.json [+ peers/]       named baselines (copies)
//! ```
//!
//! `run.jsonl` is the lab kernel's stream when the folder holds peers (a
//! peer stream ingested on its own is stored as `run.jsonl` of a folder of
//! its own, its platform in `meta.json`). `meta.json` lists each peer with
//! its mode and status ([`PeerMeta`]).
//!
//! This module writes runs into that layout, names baselines, resolves the
//! RUN arguments of the commands (a file, `-`, a run folder, a baseline,
//! `RUN@PLATFORM` for one platform's stream of a stored run) and finds
//! every stored run under a folder. It does not interpret runs.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use traplab_wire::Platform;

use crate::ingest::{self, Run};

pub const RUN_FILE: &str = "run.jsonl";
pub const META_FILE: &str = "meta.json";
/// Folder of a stored run holding its peers' streams, one
/// `<platform>.jsonl` each.
pub const PEERS_DIR: &str = "peers";
/// Folder of named baselines inside the results folder. The repository's
/// .gitignore keeps `results/*/` out of git except this folder, so
/// baselines can be committed and used as regression gates.
pub const BASELINE_DIR: &str = "baseline";

/// Provenance of a stored run (`meta.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    /// Short commit of the kernel, from the run's header.
    pub commit: String,
    pub dirty: bool,
    /// Committer date of `commit` (ISO 8601), when git could tell; orders
    /// `history`.
    pub commit_date: Option<String>,
    /// When the run was stored (UTC, ISO 8601).
    pub date: String,
    pub host: Option<String>,
    pub qemu_version: Option<String>,
    /// Measurement mode from the header (`tcg`, `icount`, `kvm`, `bare-metal`).
    pub mode: String,
    pub suite: String,
    /// What the stream says ([`stream_status`]): complete | failed |
    /// fault | panic | incomplete (no end record) | damaged (lines lost,
    /// CRC errors, gaps, counts that do not match).
    pub status: String,
    pub samples: u64,
    /// Diagnostics found when the run was stored (0 = clean).
    pub problems: usize,
    /// SHA-256 of `run.jsonl` (lowercase hex): `ingest` recognises a run
    /// already stored by it. Absent in meta files from before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Version of the analyzer that stored it.
    pub analyzer: String,
    /// Platform that produced `run.jsonl` (`lab-kernel`, or a Linux peer
    /// ingested on its own); meta files from before peers existed lack it
    /// and are the lab kernel's.
    #[serde(default = "lab_kernel")]
    pub platform: String,
    /// Peer streams stored with the run, under `peers/`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub peers: Vec<PeerMeta>,
}

fn lab_kernel() -> String {
    Platform::LabKernel.name().to_string()
}

/// A peer stream stored with a run (`meta.json`'s `peers`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeerMeta {
    /// `linux-guest` or `linux-host`.
    pub platform: String,
    /// Path inside the run folder, e.g. `peers/linux-guest.jsonl`.
    pub file: String,
    /// Measurement mode from the peer's header (`tcg`, …, `host`).
    pub mode: String,
    /// The operating system under the peer, from its header.
    pub os: Option<String>,
    /// Commit the peer was built from, from its header.
    pub commit: String,
    pub dirty: bool,
    /// As [`Meta::status`].
    pub status: String,
    pub samples: u64,
    /// Diagnostics found when it was stored (0 = clean).
    pub problems: usize,
}

impl PeerMeta {
    pub fn from_run(platform: Platform, run: &Run) -> PeerMeta {
        let (commit, dirty) = run
            .commit()
            .map_or(("unknown".to_string(), false), |(c, d)| (c.to_string(), d));
        PeerMeta {
            platform: platform.name().to_string(),
            file: peer_file(platform),
            mode: run.mode().as_str().to_string(),
            os: run.header.as_ref().and_then(|h| h.os.clone()),
            commit,
            dirty,
            status: stream_status(run).to_string(),
            samples: run.series.iter().map(|s| s.total.len() as u64).sum(),
            problems: run.diagnostics.len(),
        }
    }
}

/// What a stream says about itself: `damaged` when an error was found in it
/// (lost or corrupted lines, gaps, a lost header, counts that do not
/// match), else `incomplete` without an end record, else the end record's
/// status (`complete`, `failed`, `fault`, `panic`).
pub fn stream_status(run: &Run) -> &'static str {
    if run.error_count() > 0 {
        "damaged"
    } else {
        run.completion().as_str()
    }
}

/// Whether a stored status is one `history` and `compare` use by default:
/// the run reached its end record intact.
pub fn status_is_whole(status: &str) -> bool {
    !matches!(status, "damaged" | "incomplete")
}

/// `peers/<platform>.jsonl`: where a peer's stream lives in a run folder.
pub fn peer_file(platform: Platform) -> String {
    format!("{PEERS_DIR}/{}.jsonl", platform.name())
}

impl Meta {
    /// Build from a parsed run; host, QEMU version and commit date are the
    /// caller's to fill in.
    pub fn from_run(run: &Run, now: SystemTime) -> Meta {
        let (commit, dirty) = run
            .commit()
            .map_or(("unknown".to_string(), false), |(c, d)| (c.to_string(), d));
        Meta {
            commit,
            dirty,
            commit_date: None,
            date: iso8601(now),
            host: None,
            qemu_version: None,
            mode: run.mode().as_str().to_string(),
            suite: run
                .header
                .as_ref()
                .map_or("unknown".to_string(), |h| h.config.suite.clone()),
            status: stream_status(run).to_string(),
            samples: run.series.iter().map(|s| s.total.len() as u64).sum(),
            problems: run.diagnostics.len(),
            sha256: None,
            analyzer: env!("CARGO_PKG_VERSION").to_string(),
            platform: run.platform().unwrap_or("unknown").to_string(),
            peers: Vec::new(),
        }
    }

    /// `<short-commit>[-dirty]`.
    pub fn commit_label(&self) -> String {
        format!(
            "{}{}",
            sanitize(&self.commit, 12),
            if self.dirty { "-dirty" } else { "" }
        )
    }

    /// The key `history` sorts by: commit date when known, else store date,
    /// in UTC so dates written with different offsets (git's `%cI` keeps the
    /// committer's) sort correctly as strings.
    pub fn order_key(&self) -> String {
        let raw = self.commit_date.as_deref().unwrap_or(&self.date);
        to_utc(raw).unwrap_or_else(|| raw.to_string())
    }
}

/// Keep a name safe as a single path component.
fn sanitize(s: &str, max: usize) -> String {
    let out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .take(max)
        .collect();
    if out.is_empty() || out.chars().all(|c| c == '.') {
        "unknown".into()
    } else {
        out
    }
}

/// Write `bytes` (the raw stream, noise and all) and `meta` into a fresh run
/// folder under `results`; returns the folder.
pub fn store(results: &Path, bytes: &[u8], meta: &Meta, now: SystemTime) -> Result<PathBuf> {
    store_with_peers(results, bytes, &[], meta, now)
}

/// [`store`], plus each peer's stream (raw bytes) as
/// `peers/<platform>.jsonl` in the same folder. The folder is always a new
/// one: a stored run is never overwritten or added to.
pub fn store_with_peers(
    results: &Path,
    bytes: &[u8],
    peers: &[(Platform, &[u8])],
    meta: &Meta,
    now: SystemTime,
) -> Result<PathBuf> {
    let parent = results.join(meta.commit_label());
    let base = format!("{}-{}", compact_stamp(now), sanitize(&meta.suite, 40));
    let mut dir = parent.join(&base);
    // Two runs stored within one second get -2, -3, … rather than merging.
    let mut k = 2;
    while dir.exists() {
        dir = parent.join(format!("{base}-{k}"));
        k += 1;
    }
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    fs::write(dir.join(RUN_FILE), bytes)
        .with_context(|| format!("writing {}", dir.join(RUN_FILE).display()))?;
    if !peers.is_empty() {
        fs::create_dir_all(dir.join(PEERS_DIR))
            .with_context(|| format!("creating {}", dir.join(PEERS_DIR).display()))?;
    }
    for (platform, peer) in peers {
        let file = dir.join(peer_file(*platform));
        fs::write(&file, peer).with_context(|| format!("writing {}", file.display()))?;
    }
    write_meta(&dir, meta)?;
    Ok(dir)
}

pub fn write_meta(dir: &Path, meta: &Meta) -> Result<()> {
    let mut json = serde_json::to_string_pretty(meta).expect("Meta always serializes");
    json.push('\n');
    fs::write(dir.join(META_FILE), json)
        .with_context(|| format!("writing {}", dir.join(META_FILE).display()))
}

pub fn read_meta(dir: &Path) -> Result<Meta> {
    let path = dir.join(META_FILE);
    let text = fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("{}: not a traplab meta.json", path.display()))
}

/// Baseline names are single path components: letters, digits, `.`, `_`, `-`.
pub fn check_baseline_name(name: &str) -> Result<()> {
    if name.is_empty()
        || name.starts_with('.')
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        bail!(
            "invalid baseline name {name:?}: use letters, digits, '.', '_' and '-' (not starting with '.')"
        );
    }
    Ok(())
}

pub fn baseline_dir(results: &Path, name: &str) -> PathBuf {
    results.join(BASELINE_DIR).join(name)
}

/// Copy a stored run into `results/baseline/<name>/`, replacing an older
/// baseline of that name (criterion-style).
pub fn save_baseline(results: &Path, name: &str, run_dir: &Path) -> Result<PathBuf> {
    check_baseline_name(name)?;
    let dir = baseline_dir(results, name);
    // Only the run's own files are replaced: a baseline folder also holds
    // what people wrote and made from it (its README, summaries, figures),
    // which must not vanish with the old run. What stays is named, since
    // what was derived from the old run needs making again.
    if dir.exists() {
        for f in [RUN_FILE, META_FILE] {
            let path = dir.join(f);
            if path.exists() {
                fs::remove_file(&path).with_context(|| format!("replacing {}", path.display()))?;
            }
        }
        let peers = dir.join(PEERS_DIR);
        if peers.exists() {
            fs::remove_dir_all(&peers).with_context(|| format!("replacing {}", peers.display()))?;
        }
        let mut kept: Vec<String> = fs::read_dir(&dir)
            .with_context(|| format!("listing {}", dir.display()))?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        kept.sort();
        if !kept.is_empty() {
            eprintln!(
                "{}: kept {} (not made from the run by ingest): regenerate what derives from the old run",
                dir.display(),
                kept.join(", ")
            );
        }
    }
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    for f in [RUN_FILE, META_FILE] {
        fs::copy(run_dir.join(f), dir.join(f))
            .with_context(|| format!("copying {f} into {}", dir.display()))?;
    }
    for platform in stored_peers(run_dir) {
        let f = peer_file(platform);
        fs::create_dir_all(dir.join(PEERS_DIR))
            .with_context(|| format!("creating {}", dir.join(PEERS_DIR).display()))?;
        fs::copy(run_dir.join(&f), dir.join(&f))
            .with_context(|| format!("copying {f} into {}", dir.display()))?;
    }
    Ok(dir)
}

/// The peers whose streams a run folder holds (`peers/<platform>.jsonl`),
/// in [`Platform::ALL`] order.
pub fn stored_peers(run_dir: &Path) -> Vec<Platform> {
    Platform::ALL
        .into_iter()
        .filter(|&p| p != Platform::LabKernel && run_dir.join(peer_file(p)).is_file())
        .collect()
}

/// A run named on the command line.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub run: Run,
    /// Present when the run came from a stored run folder.
    pub meta: Option<Meta>,
    pub bytes: Vec<u8>,
}

/// Split `RUN@PLATFORM` (a stored run folder and a platform name) when
/// `arg` is not itself an existing path.
pub fn split_platform(arg: &Path) -> Option<(PathBuf, Platform)> {
    if arg.exists() {
        return None;
    }
    let text = arg.to_str()?;
    let (run, platform) = text.rsplit_once('@')?;
    Some((PathBuf::from(run), Platform::from_name(platform)?))
}

/// The stream file of `platform` in the stored run folder `dir`:
/// `run.jsonl` when the folder's own run is that platform's, else
/// `peers/<platform>.jsonl`.
pub fn platform_file(dir: &Path, platform: Platform) -> Result<PathBuf> {
    if !dir.join(RUN_FILE).is_file() {
        bail!(
            "{}: not a stored run folder (no {RUN_FILE}); RUN@PLATFORM needs one",
            dir.display()
        );
    }
    let own = read_meta(dir).map_or_else(|_| lab_kernel(), |m| m.platform);
    if own == platform.name() {
        return Ok(dir.join(RUN_FILE));
    }
    let file = dir.join(peer_file(platform));
    if file.is_file() {
        return Ok(file);
    }
    let mut held = vec![own];
    held.extend(stored_peers(dir).iter().map(|p| p.name().to_string()));
    bail!(
        "{}: no {} stream in this run (it holds: {}); store peers with `traplab ingest CAPTURE --peer {}=FILE`",
        dir.display(),
        platform.name(),
        held.join(", "),
        platform.name()
    )
}

/// Read and parse a RUN argument: `-` (stdin), a `.jsonl` file, a run
/// folder holding `run.jsonl` (and usually `meta.json`), or
/// `RUN@PLATFORM`: the stream of `PLATFORM` (`lab-kernel`, `linux-guest`,
/// `linux-host`) stored in the run folder `RUN`.
pub fn load(arg: &Path) -> Result<Loaded> {
    if let Some((dir, platform)) = split_platform(arg) {
        let file = platform_file(&dir, platform)?;
        let bytes = fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
        let run = ingest::parse(&file.display().to_string(), &bytes);
        return Ok(Loaded {
            run,
            meta: None,
            bytes,
        });
    }
    if arg == Path::new("-") {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .context("reading the run from standard input")?;
        let run = ingest::parse("-", &bytes);
        return Ok(Loaded {
            run,
            meta: None,
            bytes,
        });
    }
    let (file, meta) = if arg.is_dir() {
        let file = arg.join(RUN_FILE);
        if !file.is_file() {
            bail!(
                "{}: not a run folder (no {RUN_FILE}); for a folder of runs use `traplab history`",
                arg.display()
            );
        }
        (file, read_meta(arg).ok())
    } else {
        (arg.to_path_buf(), None)
    };
    let bytes = fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
    let run = ingest::parse(&file.display().to_string(), &bytes);
    Ok(Loaded { run, meta, bytes })
}

/// A stored run found under a folder.
#[derive(Debug, Clone)]
pub struct StoredRun {
    pub dir: PathBuf,
    pub meta: Meta,
}

/// Every stored run (a folder with `run.jsonl` and `meta.json`) under `root`,
/// skipping named baselines (copies of runs already counted). Unreadable
/// meta files are reported through `warn` and skipped.
pub fn discover(root: &Path, warn: &mut dyn FnMut(String)) -> Result<Vec<StoredRun>> {
    if !root.is_dir() {
        bail!("{}: not a folder", root.display());
    }
    let mut found = Vec::new();
    walk(root, 0, &mut found, warn)?;
    found.sort_by(|a: &StoredRun, b| {
        (a.meta.order_key(), &a.meta.date).cmp(&(b.meta.order_key(), &b.meta.date))
    });
    Ok(found)
}

/// results/<commit>/<run>/ is two levels deep; allow one more for a folder
/// that holds several results folders.
const MAX_DEPTH: usize = 3;

fn walk(
    dir: &Path,
    depth: usize,
    found: &mut Vec<StoredRun>,
    warn: &mut dyn FnMut(String),
) -> Result<()> {
    if dir.join(RUN_FILE).is_file() {
        match read_meta(dir) {
            Ok(meta) => found.push(StoredRun {
                dir: dir.to_path_buf(),
                meta,
            }),
            Err(e) => warn(format!("{e:#}; run skipped")),
        }
        return Ok(());
    }
    if depth >= MAX_DEPTH {
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .with_context(|| format!("listing {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir() && p.file_name().is_some_and(|n| n != BASELINE_DIR))
        .collect();
    entries.sort();
    for e in entries {
        walk(&e, depth + 1, found, warn)?;
    }
    Ok(())
}

/// The stored runs under `results` whose `run.jsonl` has SHA-256 `sha`
/// (lowercase hex): from its `meta.json`, or — for runs stored before meta
/// held it — hashed from the file when its size is `len`.
pub fn find_stored(results: &Path, sha: &str, len: u64) -> Vec<PathBuf> {
    if !results.is_dir() {
        return Vec::new();
    }
    let Ok(stored) = discover(results, &mut |_| {}) else {
        return Vec::new();
    };
    stored
        .into_iter()
        .filter_map(|s| {
            let same = match &s.meta.sha256 {
                Some(h) => h == sha,
                None => {
                    let file = s.dir.join(RUN_FILE);
                    fs::metadata(&file).is_ok_and(|m| m.len() == len)
                        && fs::read(&file).is_ok_and(|b| sha256_hex(&b) == sha)
                }
            };
            same.then_some(s.dir)
        })
        .collect()
}

/// SHA-256 (FIPS 180-4) of `data` as lowercase hex. Small and dependency
/// free: it only names stored runs, it protects nothing.
pub fn sha256_hex(data: &[u8]) -> String {
    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
    ];
    let mut h: [u32; 8] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
        0x5be0cd19,
    ];
    let mut msg = data.to_vec();
    let bits = (data.len() as u64).wrapping_mul(8);
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bits.to_be_bytes());
    for block in msg.chunks_exact(64) {
        let mut w = [0u32; 64];
        for (i, word) in block.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..64 {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16]
                .wrapping_add(s0)
                .wrapping_add(w[i - 7])
                .wrapping_add(s1);
        }
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut hh] = h;
        for i in 0..64 {
            let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
            let ch = (e & f) ^ (!e & g);
            let t1 = hh
                .wrapping_add(s1)
                .wrapping_add(ch)
                .wrapping_add(K[i])
                .wrapping_add(w[i]);
            let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
            let maj = (a & b) ^ (a & c) ^ (b & c);
            let t2 = s0.wrapping_add(maj);
            hh = g;
            g = f;
            f = e;
            e = d.wrapping_add(t1);
            d = c;
            c = b;
            b = a;
            a = t1.wrapping_add(t2);
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e, f, g, hh]) {
            *x = x.wrapping_add(y);
        }
    }
    h.iter().map(|x| format!("{x:08x}")).collect()
}

/// Days since 1970-01-01 → (year, month, day) in the proleptic Gregorian
/// calendar (Howard Hinnant's `civil_from_days`), to avoid a date crate for
/// one conversion.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn utc_parts(t: SystemTime) -> (i64, u32, u32, u64, u64, u64) {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    let s = secs % 86_400;
    (y, m, d, s / 3600, s / 60 % 60, s % 60)
}

/// Inverse of [`civil_from_days`] (Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `YYYY-MM-DDTHH:MM:SS` with `Z` or a `±HH:MM` offset → the same instant
/// as `YYYY-MM-DDTHH:MM:SSZ`; `None` for anything else.
pub fn to_utc(s: &str) -> Option<String> {
    let b = s.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    // Fractional seconds are dropped; they never decide commit order.
    let mut rest = &s[19..];
    if let Some(r) = rest.strip_prefix('.') {
        rest = r.trim_start_matches(|c: char| c.is_ascii_digit());
    }
    let offset = match rest {
        "Z" => 0,
        _ if rest.len() == 6
            && (rest.starts_with('+') || rest.starts_with('-'))
            && &rest[3..4] == ":" =>
        {
            let sign = if rest.starts_with('-') { -1 } else { 1 };
            sign * (rest[1..3].parse::<i64>().ok()? * 3600 + rest[4..6].parse::<i64>().ok()? * 60)
        }
        _ => return None,
    };
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    let secs = days_from_civil(y, mo as u32, d as u32) * 86_400 + h * 3600 + mi * 60 + sec - offset;
    let days = secs.div_euclid(86_400);
    let (y, mo, d) = civil_from_days(days);
    let t = secs.rem_euclid(86_400);
    Some(format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}Z",
        t / 3600,
        t / 60 % 60,
        t % 60
    ))
}

/// `2026-11-27T17:30:05Z`.
pub fn iso8601(t: SystemTime) -> String {
    let (y, mo, d, h, mi, s) = utc_parts(t);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

/// `20261127T173005Z`: sortable and free of `:` (which some file systems
/// refuse).
pub fn compact_stamp(t: SystemTime) -> String {
    let (y, mo, d, h, mi, s) = utc_parts(t);
    format!("{y:04}{mo:02}{d:02}T{h:02}{mi:02}{s:02}Z")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamps_are_utc_and_sortable() {
        let t = UNIX_EPOCH + Duration::from_secs(1_795_800_605); // 2026-11-27T17:30:05Z
        assert_eq!(iso8601(t), "2026-11-27T17:30:05Z");
        assert_eq!(compact_stamp(t), "20261127T173005Z");
        assert_eq!(
            iso8601(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "2000-02-29T00:00:00Z"
        );
    }

    #[test]
    fn commit_dates_with_offsets_sort_in_utc() {
        assert_eq!(
            to_utc("2026-11-27T18:30:05+01:00").as_deref(),
            Some("2026-11-27T17:30:05Z")
        );
        assert_eq!(
            to_utc("2026-11-27T17:30:05-08:00").as_deref(),
            Some("2026-11-28T01:30:05Z")
        );
        assert_eq!(
            to_utc("2026-11-27T17:30:05.123Z").as_deref(),
            Some("2026-11-27T17:30:05Z")
        );
        assert_eq!(
            to_utc("2026-03-01T00:30:00+01:00").as_deref(),
            Some("2026-02-28T23:30:00Z")
        );
        assert_eq!(to_utc("yesterday"), None);
        assert_eq!(to_utc("2026-13-01T00:00:00Z"), None);
    }

    #[test]
    fn sha256_matches_the_standard_vectors() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            sha256_hex(b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        );
    }

    #[test]
    fn names_are_single_path_components() {
        assert_eq!(sanitize("3f2a9c1", 12), "3f2a9c1");
        assert_eq!(sanitize("../etc/passwd", 40), ".._etc_passwd");
        assert_eq!(sanitize("..", 40), "unknown");
        assert_eq!(sanitize("", 40), "unknown");
        assert!(check_baseline_name("main-2026.1").is_ok());
        for bad in ["", "..", ".hidden", "a/b", "a b"] {
            assert!(check_baseline_name(bad).is_err(), "{bad:?}");
        }
    }
}
