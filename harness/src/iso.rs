//! Bootable GRUB images: the kernel, the suite image as its first
//! multiboot2 module, and a `grub.cfg` that boots them at once with the
//! console on COM1, packed by `grub-mkrescue` into a hybrid ISO (a CD image
//! that also boots when written to a USB stick with `dd`).
//!
//! This is the bare-metal path; `qemu/iso.args` boots the same image in
//! QEMU so the path is tested before a real machine sees it.
//!
//! The kernel reads its options from the multiboot2 command line, which
//! GRUB rebuilds from the words of the `multiboot2` line: a word containing
//! a space comes out wrapped in double quotes as a whole (`"key=a b"`), a
//! form the kernel's parser does not take apart, so option values here
//! must not contain spaces (see [`check_cmdline`]).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

/// COM1's line rate, as the kernel programs it
/// (`runner-kernel/src/arch/x86_64/serial.rs`). GRUB's own console uses it
/// too, so one terminal setting shows the boot menu and the records.
pub const SERIAL_BAUD: u32 = 115_200;

/// The tools an ISO needs and the Debian packages that provide them
/// (GRUB's platform modules are in [`PLATFORM_MODULES`]).
pub const TOOLS: [(&str, &str); 3] = [
    ("grub-mkrescue", "grub-common"),
    ("xorriso", "xorriso"),
    ("mformat", "mtools"),
];
/// GRUB's modules for each platform the image boots on, and their Debian
/// packages: without `grub-pc-bin` the image does not boot on a BIOS PC,
/// without `grub-efi-amd64-bin` not on a UEFI one.
pub const PLATFORM_MODULES: [(&str, &str); 2] = [
    ("/usr/lib/grub/i386-pc", "grub-pc-bin"),
    ("/usr/lib/grub/x86_64-efi", "grub-efi-amd64-bin"),
];

/// What goes into an image.
#[derive(Debug, Clone)]
pub struct IsoSpec<'a> {
    pub kernel: &'a Path,
    pub suite: &'a Path,
    /// The kernel command line (`samples=… mode=…`).
    pub cmdline: &'a str,
}

/// The `grub.cfg` of an image: serial console first, no menu, no wait.
pub fn grub_cfg(cmdline: &str) -> String {
    let mut cfg = String::new();
    let _ = writeln!(cfg, "# traplab boot image (written by harness/src/iso.rs).");
    let _ = writeln!(
        cfg,
        "# COM1 at {SERIAL_BAUD} baud 8N1: GRUB's console and the kernel's record stream."
    );
    let _ = writeln!(
        cfg,
        "serial --unit=0 --speed={SERIAL_BAUD} --word=8 --parity=no --stop=1"
    );
    let _ = writeln!(cfg, "terminal_input serial console");
    let _ = writeln!(cfg, "terminal_output serial console");
    let _ = writeln!(cfg, "set timeout=0");
    let _ = writeln!(cfg, "set timeout_style=hidden");
    let _ = writeln!(cfg, "menuentry \"traplab\" {{");
    let _ = writeln!(
        cfg,
        "    # The kernel takes the first module as its suite image."
    );
    let _ = writeln!(cfg, "    multiboot2 /boot/runner-kernel {}", cmdline.trim());
    let _ = writeln!(cfg, "    module2 /boot/suite.img suite");
    let _ = writeln!(cfg, "    boot");
    let _ = writeln!(cfg, "}}");
    cfg
}

/// Refuse command lines GRUB would hand over in a form the kernel cannot
/// parse: quoted values (GRUB re-quotes the whole word) and characters
/// GRUB's script syntax gives a meaning to.
pub fn check_cmdline(cmdline: &str) -> Result<()> {
    if let Some(bad) = cmdline
        .chars()
        .find(|c| matches!(c, '"' | '\'' | '\\' | '$' | ';' | '{' | '}' | '#' | '\n'))
    {
        bail!(
            "kernel options for a GRUB image cannot contain {bad:?}: GRUB passes each word separately and \
             re-quotes words with spaces, so values must be single words ({cmdline:?})"
        );
    }
    Ok(())
}

/// Missing tools, as the packages to install.
pub fn missing_tools() -> Vec<&'static str> {
    let mut missing: Vec<&str> = TOOLS
        .iter()
        .filter(|(tool, _)| {
            Command::new(tool)
                .arg("--version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_err()
        })
        .map(|(_, package)| *package)
        .collect();
    for (dir, package) in PLATFORM_MODULES {
        if !Path::new(dir).is_dir() {
            missing.push(package);
        }
    }
    missing
}

/// Write a bootable image of `spec` to `out`.
pub fn build(spec: &IsoSpec<'_>, out: &Path) -> Result<PathBuf> {
    check_cmdline(spec.cmdline)?;
    let missing = missing_tools();
    if !missing.is_empty() {
        bail!(
            "building a GRUB image needs {}; install with: apt-get install -y {}",
            missing.join(", "),
            missing.join(" ")
        );
    }
    let staging = out.with_extension(format!("staging.{}", std::process::id()));
    let boot = staging.join("boot");
    std::fs::create_dir_all(boot.join("grub"))
        .with_context(|| format!("creating {}", boot.display()))?;
    let result = (|| {
        copy_kernel(spec.kernel, &boot.join("runner-kernel"))?;
        std::fs::copy(spec.suite, boot.join("suite.img"))
            .with_context(|| format!("copying {} into the image", spec.suite.display()))?;
        std::fs::write(boot.join("grub/grub.cfg"), grub_cfg(spec.cmdline))?;
        if let Some(dir) = out.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let output = Command::new("grub-mkrescue")
            .arg("-o")
            .arg(out)
            .arg(&staging)
            .stdin(Stdio::null())
            .output()
            .context("running grub-mkrescue")?;
        if !output.status.success() {
            bail!(
                "grub-mkrescue failed ({}):\n{}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim_end()
            );
        }
        Ok(out.to_path_buf())
    })();
    let _ = std::fs::remove_dir_all(&staging);
    result
}

/// Copy the kernel without its DWARF line tables (a quarter of the size,
/// so GRUB loads it faster from a slow medium): fault records name
/// functions from the `.traplab_symbols` table, which stays. Without
/// `objcopy` the kernel goes in unchanged.
fn copy_kernel(kernel: &Path, to: &Path) -> Result<()> {
    let stripped = Command::new("objcopy")
        .arg("--strip-debug")
        .arg(kernel)
        .arg(to)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !stripped {
        std::fs::copy(kernel, to)
            .with_context(|| format!("copying {} into the image", kernel.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grub_cfg_boots_at_once_on_com1_with_the_suite_as_first_module() {
        let cfg = grub_cfg("samples=10 mode=bare-metal");
        assert!(cfg.contains("serial --unit=0 --speed=115200 "), "{cfg}");
        assert!(cfg.contains("terminal_output serial console"));
        assert!(cfg.contains("set timeout=0"));
        let kernel = cfg
            .find("multiboot2 /boot/runner-kernel samples=10 mode=bare-metal\n")
            .expect("kernel line");
        let module = cfg.find("module2 /boot/suite.img").expect("module line");
        assert!(kernel < module);
        assert_eq!(cfg.matches("module2").count(), 1);
    }

    #[test]
    fn values_with_quotes_are_refused_with_the_reason() {
        assert!(
            check_cmdline(
                "samples=10 only=trap. configs=signals.bt_off,explicit.bt_off mode=bare-metal"
            )
            .is_ok()
        );
        let err = check_cmdline("qemu=\"-m 1G\"").unwrap_err().to_string();
        assert!(err.contains("re-quotes"), "{err}");
        assert!(check_cmdline("x=$y").is_err());
    }
}
