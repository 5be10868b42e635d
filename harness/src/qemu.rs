//! QEMU command lines from the profiles in `qemu/` (see `qemu/README.md`).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::workspace_root;

/// The QEMU binary: `$TRAPLAB_QEMU` or `qemu-system-x86_64` from `PATH`.
pub fn binary() -> String {
    std::env::var("TRAPLAB_QEMU").unwrap_or_else(|_| "qemu-system-x86_64".into())
}

/// Profiles with a mode label, as accepted by `--profile`.
pub const PROFILES: [&str; 5] = ["tcg", "icount", "kvm", "iso", "iso-uefi"];

/// The measurement mode a profile's numbers belong to (the kernel records
/// it from `mode=`). `iso` and `iso-uefi` boot the GRUB image under
/// real-time TCG, so their numbers are TCG numbers; the header's `boot`
/// field tells the paths apart.
pub fn mode(profile: &str) -> &str {
    match profile {
        "iso" | "iso-uefi" => "tcg",
        other => other,
    }
}

/// Whether the profile boots a GRUB image (multiboot2) rather than the
/// kernel directly (PVH).
pub fn boots_iso(profile: &str) -> bool {
    matches!(profile, "iso" | "iso-uefi")
}

/// The UEFI firmware `qemu/iso-uefi.args` loads (Debian's `ovmf` package):
/// its code, read-only, and the variable store it starts from (QEMU keeps
/// the variables' writes in a throw-away overlay, `snapshot=on`).
pub const OVMF_FILES: [&str; 2] = [
    "/usr/share/OVMF/OVMF_CODE_4M.fd",
    "/usr/share/OVMF/OVMF_VARS_4M.fd",
];

/// Read the flags of `qemu/<name>.args`.
pub fn profile_args(name: &str) -> Result<Vec<String>> {
    let path = workspace_root().join("qemu").join(format!("{name}.args"));
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("reading QEMU profile {}", path.display()))?;
    Ok(text
        .lines()
        .map(|line| line.split('#').next().unwrap_or(""))
        .flat_map(str::split_whitespace)
        .map(String::from)
        .collect())
}

/// Refuse the KVM profile early, with the reason, when /dev/kvm is unusable.
pub fn check_profile_usable(profile: &str) -> Result<()> {
    if !PROFILES.contains(&profile) {
        bail!(
            "unknown QEMU profile {profile:?}; expected one of {}",
            PROFILES.join(", ")
        );
    }
    if profile == "kvm" {
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/kvm")
            .context("--accel kvm needs a usable /dev/kvm (is the kvm module loaded and are you in the kvm group?)")?;
    }
    if profile == "iso-uefi"
        && let Some(missing) = OVMF_FILES.iter().find(|f| !Path::new(f).is_file())
    {
        bail!(
            "the iso-uefi profile boots QEMU with the UEFI firmware {missing}, which is missing; \
             install it with: apt-get install -y ovmf"
        );
    }
    Ok(())
}

/// Everything needed to boot one run.
#[derive(Debug, Clone)]
pub struct Launch {
    pub kernel: PathBuf,
    pub suite: Option<PathBuf>,
    pub profile: String,
    /// Boot options for the kernel (`samples=… warmup=…`); `mode=` and
    /// `qemu=` are added here.
    pub boot_args: String,
}

impl Launch {
    /// The QEMU command and, for the run header, the flags as one string.
    /// Profiles that boot a GRUB image get one built at `iso` (the caller
    /// removes it after the run).
    pub fn command(&self, iso: &Path) -> Result<(Command, String)> {
        let mut flags = profile_args("base")?;
        flags.extend(profile_args(&self.profile)?);
        let described = flags.join(" ");
        let mut cmd = Command::new(binary());
        cmd.args(&flags);
        if boots_iso(&self.profile) {
            // GRUB cannot pass a value with spaces through (see crate::iso),
            // so the QEMU flags stay out of the command line; the run's
            // meta.json still records the QEMU version.
            let cmdline = format!("{} mode={}", self.boot_args.trim(), mode(&self.profile));
            let suite = self
                .suite
                .as_deref()
                .context("a GRUB image needs a suite image")?;
            crate::iso::build(
                &crate::iso::IsoSpec {
                    kernel: &self.kernel,
                    suite,
                    cmdline: cmdline.trim(),
                },
                iso,
            )?;
            cmd.arg("-cdrom").arg(iso);
        } else {
            cmd.arg("-kernel").arg(&self.kernel);
            if let Some(suite) = &self.suite {
                cmd.arg("-initrd").arg(suite);
            }
            let append = format!(
                "{} mode={} qemu=\"{}\"",
                self.boot_args.trim(),
                mode(&self.profile),
                described
            );
            cmd.arg("-append").arg(append.trim());
        }
        Ok((cmd, described))
    }
}

/// `qemu-system-x86_64 --version`, first line, if QEMU runs at all.
pub fn version() -> Option<String> {
    let out = Command::new(binary()).arg("--version").output().ok()?;
    String::from_utf8(out.stdout)
        .ok()?
        .lines()
        .next()
        .map(String::from)
}

pub fn exists(path: &Path) -> Result<()> {
    if !path.is_file() {
        bail!("{} does not exist (build it first)", path.display());
    }
    Ok(())
}
