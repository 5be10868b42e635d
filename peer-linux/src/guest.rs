//! Duties of `/init` in the Linux guest: the file systems the peer needs,
//! its options from the kernel command line, the serial line the host
//! captures, and ending the guest with a status QEMU passes on.

use std::ffi::CString;
use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;

/// The serial port the host captures (COM1, the guest's console too).
const SERIAL: &str = "/dev/ttyS0";
/// QEMU's `isa-debug-exit` device (qemu/base.args): a value written here
/// ends QEMU with status `(value << 1) | 1`.
const DEBUG_EXIT_PORT: u16 = 0xf4;

pub struct Setup {
    /// The run options: what follows ` -- ` on the kernel command line.
    pub words: String,
    pub serial: File,
}

fn mount(source: &str, target: &str, fstype: &str) -> Result<(), String> {
    let _ = std::fs::create_dir_all(target);
    let c = |s: &str| CString::new(s).expect("no NUL in mount arguments");
    let (source_c, target_c, fstype_c) = (c(source), c(target), c(fstype));
    // SAFETY: valid NUL-terminated strings; no data argument.
    let rc = unsafe {
        libc::mount(
            source_c.as_ptr(),
            target_c.as_ptr(),
            fstype_c.as_ptr(),
            0,
            core::ptr::null(),
        )
    };
    if rc != 0 {
        let err = std::io::Error::last_os_error();
        // Already mounted (devtmpfs with CONFIG_DEVTMPFS_MOUNT) is fine.
        if err.raw_os_error() != Some(libc::EBUSY) {
            return Err(format!("mount {fstype} on {target}: {err}"));
        }
    }
    Ok(())
}

/// Mount `/proc` and `/dev`, read the options, open the serial line raw
/// (no `\n` → `\r\n`, no echo), so records go out byte for byte.
pub fn setup() -> Result<Setup, String> {
    mount("proc", "/proc", "proc")?;
    mount("devtmpfs", "/dev", "devtmpfs")?;
    let cmdline =
        std::fs::read_to_string("/proc/cmdline").map_err(|e| format!("/proc/cmdline: {e}"))?;
    let words = cmdline
        .split_once(" -- ")
        .map_or("", |(_, after)| after)
        .trim()
        .to_string();
    let serial = OpenOptions::new()
        .write(true)
        .open(SERIAL)
        .map_err(|e| format!("{SERIAL}: {e}"))?;
    // SAFETY: termios calls on the open serial fd with a valid struct.
    unsafe {
        let mut t: libc::termios = core::mem::zeroed();
        if libc::tcgetattr(serial.as_raw_fd(), &mut t) == 0 {
            libc::cfmakeraw(&mut t);
            libc::tcsetattr(serial.as_raw_fd(), libc::TCSANOW, &t);
        }
    }
    Ok(Setup { words, serial })
}

/// End the guest: the exit value through `isa-debug-exit` (QEMU exits with
/// the same status as after the lab kernel), else power off.
pub fn end(value: u32) -> ! {
    // SAFETY: sync has no preconditions.
    unsafe { libc::sync() };
    // SAFETY: ioperm grants this process the one port (it runs as root in
    // the guest); the write goes to QEMU's debug-exit device, which ends
    // the VM. Without the device the write is ignored.
    unsafe {
        if libc::ioperm(u64::from(DEBUG_EXIT_PORT), 4, 1) == 0 {
            core::arch::asm!("out dx, eax", in("dx") DEBUG_EXIT_PORT, in("eax") value,
                options(nomem, nostack));
        }
        libc::reboot(libc::RB_POWER_OFF);
    }
    // pid 1 must not return; reboot does not, but the type system wants it.
    loop {
        // SAFETY: pause has no preconditions.
        unsafe { libc::pause() };
    }
}
