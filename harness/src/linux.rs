//! The Linux peers: the same suite run by `traplab-peer` (upstream wasmtime
//! with signal-based traps) as `/init` of a Linux guest booted in the same
//! QEMU profiles as the lab kernel (`linux-guest`), or directly on this
//! machine (`linux-host`).
//!
//! The guest kernel is Debian's cloud kernel, fetched (never installed) by
//! `traplab_ensure_linux_guest` in `scripts/lib/prereqs.sh` into
//! [`cache_dir`]; its initramfs holds the peer as `/init` and the suite
//! image as `/suite.img`, and the peer's options follow ` -- ` on the
//! kernel command line. The peer writes its records to COM1 and ends the
//! guest through the `isa-debug-exit` port, exactly as the lab kernel
//! does, so the capture and classification of [`crate::session`] apply
//! unchanged; on the host it writes them to its standard output and exits
//! with the status QEMU would have.

use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::build::{artifact_dir, fingerprint, fresh, remember, write_atomically};
use crate::qemu::{self, profile_args};

/// Values of `traplab-run --platform`.
pub const PLATFORMS: [&str; 3] = ["lab-kernel", "linux-guest", "linux-host"];

/// The `mode=` of runs on the host: no QEMU, real time on this machine.
pub const HOST_MODE: &str = "host";

/// The command that fetches the guest kernel (from the repository root).
pub const FETCH_COMMAND: &str = "bash -c '. scripts/lib/prereqs.sh && traplab_ensure_linux_guest'";

/// Where `traplab_ensure_linux_guest` unpacks guest kernels:
/// `$XDG_CACHE_HOME/traplab/linux` (default `~/.cache/traplab/linux`), one
/// folder per kernel release holding `boot/vmlinuz-<release>` and a file
/// `package` (Debian package name and version).
pub fn cache_dir() -> Option<PathBuf> {
    let base = match std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(std::env::var_os("HOME")?).join(".cache"),
    };
    Some(base.join("traplab").join("linux"))
}

/// The Linux kernel a guest boots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestKernel {
    /// The bzImage (`vmlinuz-<release>`).
    pub vmlinuz: PathBuf,
    /// The kernel release (`6.1.0-57-cloud-amd64`), from the file name
    /// (`unknown` when it does not say).
    pub release: String,
    /// The Debian package it came from, with its version
    /// (`linux-image-6.1.0-57-cloud-amd64 6.1.192-3`), when known.
    pub package: Option<String>,
}

impl GuestKernel {
    /// Describe the kernel at `vmlinuz` from its file name and the
    /// `package` file of its cache folder.
    pub fn at(vmlinuz: &Path) -> GuestKernel {
        let release = vmlinuz
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix("vmlinuz-"))
            .unwrap_or("unknown")
            .to_string();
        let package = vmlinuz
            .parent()
            .and_then(Path::parent)
            .and_then(|dir| std::fs::read_to_string(dir.join("package")).ok())
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty());
        GuestKernel {
            vmlinuz: vmlinuz.to_path_buf(),
            release,
            package,
        }
    }

    /// One line for logs: `6.1.0-57-cloud-amd64 (linux-image-… 6.1.192-3)`.
    pub fn describe(&self) -> String {
        match &self.package {
            Some(p) => format!("{} ({p})", self.release),
            None => self.release.clone(),
        }
    }
}

/// The guest kernel: `$TRAPLAB_LINUX_KERNEL`, else the newest release in
/// [`cache_dir`]; an error naming [`FETCH_COMMAND`] when there is none.
pub fn guest_kernel() -> Result<GuestKernel> {
    if let Some(path) = std::env::var_os("TRAPLAB_LINUX_KERNEL").filter(|v| !v.is_empty()) {
        let path = PathBuf::from(path);
        if !path.is_file() {
            bail!(
                "TRAPLAB_LINUX_KERNEL={} does not exist; unset it to use the cached kernel, or fetch one (from the repository root) with: {FETCH_COMMAND}",
                path.display()
            );
        }
        return Ok(GuestKernel::at(&path));
    }
    let cache = cache_dir().context("neither XDG_CACHE_HOME nor HOME is set")?;
    match newest_cached(&cache) {
        Some(vmlinuz) => Ok(GuestKernel::at(&vmlinuz)),
        None => bail!(
            "no Linux guest kernel in {} and TRAPLAB_LINUX_KERNEL is not set; fetch Debian's cloud kernel (from the repository root) with: {FETCH_COMMAND}",
            cache.display()
        ),
    }
}

/// The `boot/vmlinuz-*` of the newest release under `cache` (releases
/// compared as version strings: `6.1.0-57` after `6.1.0-9`).
fn newest_cached(cache: &Path) -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(cache)
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|release| {
            let boot = release.path().join("boot");
            std::fs::read_dir(&boot)
                .ok()?
                .filter_map(|e| e.ok())
                .find_map(|f| {
                    let name = f.file_name();
                    let name = name.to_str()?;
                    (name.starts_with("vmlinuz-") && f.path().is_file()).then(|| f.path())
                })
        })
        .collect();
    found.sort_by_key(|p| version_key(&p.file_name().unwrap_or_default().to_string_lossy()));
    found.pop()
}

/// A sort key comparing the digit runs of `name` as numbers.
fn version_key(name: &str) -> Vec<(u64, String)> {
    let mut key = Vec::new();
    let mut rest = name;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits > 0 {
            key.push((rest[..digits].parse().unwrap_or(u64::MAX), String::new()));
            rest = &rest[digits..];
        } else {
            let text = rest
                .find(|c: char| c.is_ascii_digit())
                .unwrap_or(rest.len());
            key.push((0, rest[..text].to_string()));
            rest = &rest[text..];
        }
    }
    key
}

/// The initramfs layout version, part of the freshness key: bump it when
/// [`write_initramfs`] changes what it writes.
const INITRAMFS_LAYOUT: &str = "initramfs layout 1";

/// Write the guest's initramfs for `peer` and `suite` into
/// `<artifact dir>/initramfs-<suite file stem>.cpio`, or reuse the one
/// there when neither input changed.
pub fn initramfs(peer: &Path, suite: &Path) -> Result<PathBuf> {
    let stem = suite
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "suite".into());
    initramfs_at(
        peer,
        suite,
        &artifact_dir().join(format!("initramfs-{stem}.cpio")),
    )
}

/// [`initramfs`] written to `out`.
pub fn initramfs_at(peer: &Path, suite: &Path, out: &Path) -> Result<PathBuf> {
    qemu::exists(peer)?;
    qemu::exists(suite)?;
    let key = format!(
        "{INITRAMFS_LAYOUT}; {} {}; {}",
        peer.display(),
        suite.display(),
        fingerprint(&[peer, suite])?
    );
    if fresh(out, &key) {
        return Ok(out.to_path_buf());
    }
    let peer_bytes = std::fs::read(peer).with_context(|| format!("reading {}", peer.display()))?;
    let suite_bytes =
        std::fs::read(suite).with_context(|| format!("reading {}", suite.display()))?;
    let mut archive = Vec::with_capacity(peer_bytes.len() + suite_bytes.len() + 4096);
    write_initramfs(&peer_bytes, &suite_bytes, &mut archive)?;
    write_atomically(out, &archive)?;
    remember(out, &key)?;
    Ok(out.to_path_buf())
}

/// One entry of the initramfs.
struct Entry<'a> {
    name: &'a str,
    mode: u32,
    /// Character device numbers (major, minor), for device nodes.
    rdev: (u32, u32),
    data: &'a [u8],
}

const S_IFDIR: u32 = 0o040_000;
const S_IFREG: u32 = 0o100_000;
const S_IFCHR: u32 = 0o020_000;

/// The guest's root file system as an uncompressed `newc` cpio archive
/// (the kernel unpacks it into its rootfs before starting `/init`):
///
/// - `/init`: the peer (0755);
/// - `/suite.img`: the suite image (0644);
/// - `/dev`, `/proc`: mount points (the peer mounts devtmpfs and proc);
/// - `/dev/console` (char 5:1): the kernel opens it for `/init`'s standard
///   input, output and error before devtmpfs exists, as in every initramfs
///   the kernel's own `gen_init_cpio` makes; without it the peer would
///   start with those three closed.
///
/// Owners are root, times are 0: the same inputs give the same bytes.
pub fn write_initramfs(peer: &[u8], suite: &[u8], out: &mut impl Write) -> Result<()> {
    let entries = [
        Entry {
            name: "dev",
            mode: S_IFDIR | 0o755,
            rdev: (0, 0),
            data: &[],
        },
        Entry {
            name: "dev/console",
            mode: S_IFCHR | 0o600,
            rdev: (5, 1),
            data: &[],
        },
        Entry {
            name: "proc",
            mode: S_IFDIR | 0o555,
            rdev: (0, 0),
            data: &[],
        },
        Entry {
            name: "init",
            mode: S_IFREG | 0o755,
            rdev: (0, 0),
            data: peer,
        },
        Entry {
            name: "suite.img",
            mode: S_IFREG | 0o644,
            rdev: (0, 0),
            data: suite,
        },
    ];
    let mut sink = out;
    for (ino, entry) in entries.iter().enumerate() {
        let size = u32::try_from(entry.data.len())
            .with_context(|| format!("{} is too large for a cpio archive", entry.name))?;
        let nlink = if entry.mode & S_IFDIR != 0 { 2 } else { 1 };
        let mut writer = cpio::NewcBuilder::new(entry.name)
            .ino(ino as u32 + 1)
            .mode(entry.mode)
            .nlink(nlink)
            .rdev_major(entry.rdev.0)
            .rdev_minor(entry.rdev.1)
            .write(sink, size);
        std::io::copy(&mut Cursor::new(entry.data), &mut writer)
            .with_context(|| format!("writing {} into the initramfs", entry.name))?;
        sink = writer.finish()?;
    }
    cpio::newc::trailer(sink)?;
    Ok(())
}

/// Options for the Linux kernel itself, before the ` -- ` that starts the
/// peer's:
///
/// - `console=ttyS0`: the record stream's port is the console, so a kernel
///   panic (such as `/init` dying) is seen in the capture;
/// - `quiet loglevel=1`: only emergency messages, nothing to interleave
///   with the records;
/// - `sysctl.debug.exception-trace=0`: no `init[1]: segfault at …` and
///   `Code: …` lines per trap. The kernel logs a fault signal it considers
///   unhandled, and to pid 1 every signal counts as unhandled, at
///   `KERN_EMERG` for pid 1, which no `loglevel` silences (measured: nine
///   pairs of such lines, rate-limited, in a quick-suite capture, where
///   one landing inside a record would damage it);
/// - `panic=-1`: a panic ends the guest at once (it reboots, and
///   `-no-reboot` turns that into QEMU's exit with no end record: a crash).
pub const GUEST_KERNEL_OPTIONS: &str =
    "console=ttyS0 quiet loglevel=1 sysctl.debug.exception-trace=0 panic=-1";

/// The guest kernel's command line for the peer options `boot_args`: the
/// peer reads the part after ` -- ` from `/proc/cmdline`.
pub fn guest_append(boot_args: &str, mode: &str, qemu_flags: &str) -> String {
    let words = format!("{} mode={mode} qemu=\"{qemu_flags}\"", boot_args.trim());
    format!("{GUEST_KERNEL_OPTIONS} -- {}", words.trim())
}

/// Everything needed to boot the Linux guest once.
#[derive(Debug, Clone)]
pub struct GuestLaunch {
    /// The guest kernel's bzImage ([`guest_kernel`]).
    pub kernel: PathBuf,
    /// The initramfs holding the peer and the suite ([`initramfs`]).
    pub initramfs: PathBuf,
    /// A QEMU profile of `qemu/` (`tcg`, `icount`, `kvm`; not `iso` or
    /// `iso-uefi`).
    pub profile: String,
    /// The peer's options (`samples=… warmup=…`); `mode=` and `qemu=` are
    /// added here, as for the lab kernel.
    pub boot_args: String,
}

impl GuestLaunch {
    /// The QEMU command and, for the run header, the flags as one string.
    pub fn command(&self) -> Result<(Command, String)> {
        check_guest_profile(&self.profile)?;
        let mut flags = profile_args("base")?;
        flags.extend(profile_args(&self.profile)?);
        let described = flags.join(" ");
        let mut cmd = Command::new(qemu::binary());
        cmd.args(&flags)
            .arg("-kernel")
            .arg(&self.kernel)
            .arg("-initrd")
            .arg(&self.initramfs)
            .arg("-append")
            .arg(guest_append(
                &self.boot_args,
                qemu::mode(&self.profile),
                &described,
            ));
        Ok((cmd, described))
    }
}

/// The Linux guest boots with `-kernel`: every profile but `iso` and
/// `iso-uefi` (a GRUB image of the lab kernel).
pub fn check_guest_profile(profile: &str) -> Result<()> {
    if qemu::boots_iso(profile) {
        bail!(
            "the linux-guest platform boots Linux with -kernel; the {profile} profile boots the lab kernel's GRUB image and has no Linux counterpart (use tcg, icount or kvm)"
        );
    }
    qemu::check_profile_usable(profile)
}

/// Everything needed to run the peer on this machine once.
#[derive(Debug, Clone)]
pub struct HostLaunch {
    /// The peer executable ([`crate::build::peer`]).
    pub peer: PathBuf,
    pub suite: PathBuf,
    /// The peer's options (`samples=… warmup=…`); `mode=host` is added.
    pub boot_args: String,
}

impl HostLaunch {
    /// The command and, for the report, its arguments as one string.
    pub fn command(&self) -> (Command, String) {
        let words = host_words(&self.boot_args);
        let mut cmd = Command::new(&self.peer);
        cmd.args(["--platform", "linux-host", "--suite"])
            .arg(&self.suite)
            .args(&words);
        let described = format!(
            "{} --platform linux-host --suite {} {}",
            self.peer.display(),
            self.suite.display(),
            words.join(" ")
        );
        (cmd, described)
    }
}

/// The peer's option words for a host run: `boot_args` split as the
/// kernel command line is (whitespace, except inside double quotes), then
/// `mode=host`.
pub fn host_words(boot_args: &str) -> Vec<String> {
    let mut words = split_words(boot_args);
    words.push(format!("mode={HOST_MODE}"));
    words
}

/// Split `line` at whitespace outside double quotes (the quotes stay in
/// the word, as on the kernel command line: `qemu="-a b"` is one word).
fn split_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    for c in line.chars() {
        if c == '"' {
            quoted = !quoted;
        }
        if c.is_whitespace() && !quoted {
            if !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
        } else {
            word.push(c);
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Read a newc archive back with the same crate: (name, mode, rdev, data).
    /// One archive entry read back: name, mode, device numbers, data.
    type ReadEntry = (String, u32, (u32, u32), Vec<u8>);

    fn entries(archive: &[u8]) -> Vec<ReadEntry> {
        let mut out = Vec::new();
        let mut rest = Cursor::new(archive);
        loop {
            let mut reader = cpio::NewcReader::new(rest).unwrap();
            if reader.entry().is_trailer() {
                break;
            }
            let e = reader.entry();
            let (name, mode, rdev) = (
                e.name().to_string(),
                e.mode(),
                (e.rdev_major(), e.rdev_minor()),
            );
            let mut data = Vec::new();
            std::io::Read::read_to_end(&mut reader, &mut data).unwrap();
            out.push((name, mode, rdev, data));
            rest = reader.finish().unwrap();
        }
        out
    }

    #[test]
    fn the_initramfs_holds_init_the_suite_and_the_mount_points() {
        let mut archive = Vec::new();
        write_initramfs(b"\x7fELF peer", b"suite bytes!", &mut archive).unwrap();
        assert_eq!(archive.len() % 4, 0, "newc pads to 4 bytes");
        assert!(archive.starts_with(b"070701"), "newc magic");
        let got = entries(&archive);
        let names: Vec<&str> = got.iter().map(|e| e.0.as_str()).collect();
        assert_eq!(names, ["dev", "dev/console", "proc", "init", "suite.img"]);
        let find = |n: &str| got.iter().find(|e| e.0 == n).unwrap();
        assert_eq!(find("init").1, 0o100755);
        assert_eq!(find("init").3, b"\x7fELF peer");
        assert_eq!(find("suite.img").1, 0o100644);
        assert_eq!(find("suite.img").3, b"suite bytes!");
        assert_eq!(find("dev").1 & S_IFDIR, S_IFDIR);
        assert_eq!(find("proc").1 & S_IFDIR, S_IFDIR);
        assert_eq!(find("dev/console").1, S_IFCHR | 0o600);
        assert_eq!(find("dev/console").2, (5, 1));

        let mut again = Vec::new();
        write_initramfs(b"\x7fELF peer", b"suite bytes!", &mut again).unwrap();
        assert_eq!(archive, again, "reproducible");
    }

    #[test]
    fn the_guest_command_line_puts_the_peer_options_after_the_separator() {
        let append = guest_append(
            " samples=20 heap_traps=0 ",
            "icount",
            "-machine pc -icount shift=0,sleep=off",
        );
        assert_eq!(
            append,
            "console=ttyS0 quiet loglevel=1 sysctl.debug.exception-trace=0 panic=-1 -- samples=20 heap_traps=0 mode=icount qemu=\"-machine pc -icount shift=0,sleep=off\""
        );
        let (_, peer) = append.split_once(" -- ").unwrap();
        assert!(!peer.contains(" -- "));
    }

    #[test]
    fn the_guest_boots_every_direct_profile_but_refuses_iso() {
        let launch = GuestLaunch {
            kernel: PathBuf::from("/k/vmlinuz-6.1.0-57-cloud-amd64"),
            initramfs: PathBuf::from("/t/initramfs.cpio"),
            profile: "icount".into(),
            boot_args: "samples=5".into(),
        };
        let (cmd, described) = launch.command().unwrap();
        let args: Vec<String> = cmd
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert!(
            described.contains("-icount shift=0,sleep=off"),
            "{described}"
        );
        let at = |flag: &str| args.iter().position(|a| a == flag).unwrap();
        assert_eq!(args[at("-kernel") + 1], "/k/vmlinuz-6.1.0-57-cloud-amd64");
        assert_eq!(args[at("-initrd") + 1], "/t/initramfs.cpio");
        assert!(args[at("-append") + 1].ends_with(&format!("mode=icount qemu=\"{described}\"")));
        assert!(args.contains(&"isa-debug-exit,iobase=0xf4,iosize=0x04".to_string()));

        let iso = GuestLaunch {
            profile: "iso".into(),
            ..launch
        };
        let err = iso.command().unwrap_err().to_string();
        assert!(err.contains("iso profile"), "{err}");
    }

    #[test]
    fn the_host_peer_gets_its_options_as_words_and_mode_host() {
        let launch = HostLaunch {
            peer: PathBuf::from("/t/traplab-peer"),
            suite: PathBuf::from("/t/suite-quick.img"),
            boot_args: "samples=20 warmup=5  only=trap. qemu=\"a b\"".into(),
        };
        let (cmd, described) = launch.command();
        let args: Vec<String> = cmd
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            args,
            [
                "--platform",
                "linux-host",
                "--suite",
                "/t/suite-quick.img",
                "samples=20",
                "warmup=5",
                "only=trap.",
                "qemu=\"a b\"",
                "mode=host"
            ]
        );
        assert!(described.starts_with("/t/traplab-peer --platform linux-host"));
    }

    #[test]
    fn the_newest_cached_kernel_wins_and_names_its_release_and_package() {
        let dir = std::env::temp_dir().join(format!("traplab-linux-cache-{}", std::process::id()));
        for release in [
            "6.1.0-9-cloud-amd64",
            "6.1.0-57-cloud-amd64",
            "6.1.0-10-cloud-amd64",
        ] {
            let boot = dir.join(release).join("boot");
            std::fs::create_dir_all(&boot).unwrap();
            std::fs::write(boot.join(format!("vmlinuz-{release}")), b"bzImage").unwrap();
        }
        std::fs::write(
            dir.join("6.1.0-57-cloud-amd64/package"),
            "linux-image-6.1.0-57-cloud-amd64 6.1.192-3\n",
        )
        .unwrap();
        std::fs::create_dir_all(dir.join("empty")).unwrap();
        let newest = newest_cached(&dir).unwrap();
        let kernel = GuestKernel::at(&newest);
        assert_eq!(kernel.release, "6.1.0-57-cloud-amd64");
        assert_eq!(
            kernel.describe(),
            "6.1.0-57-cloud-amd64 (linux-image-6.1.0-57-cloud-amd64 6.1.192-3)"
        );
        assert_eq!(newest_cached(&dir.join("missing")), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
