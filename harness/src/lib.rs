//! Host side of a traplab run: builds the kernel and the suite image, boots
//! QEMU with a named profile (or reads a real serial port), captures the
//! serial stream and classifies how the run ended. The same suite also runs
//! on the Linux peers ([`linux`]): in a Linux guest in the same QEMU
//! profiles, or directly on this machine.
//!
//! The flow follows the data: [`build`] produces the two boot artifacts
//! (kernel ELF with its symbol table filled in by [`symbols`], suite image),
//! [`iso`] packs them into a GRUB image for bare metal, [`qemu`] turns a
//! profile from `qemu/` into a command line, [`session`] runs it (or opens
//! a serial device), tees the serial bytes into the capture file and
//! watches the records go by, and [`Ending`] says how it ended, in the
//! exit-status scheme of [`exit`]. [`preflight`] refuses a bad setup before
//! anything is built; [`child`] keeps QEMU from outliving the harness and
//! hears Ctrl-C. [`ab`]
//! boots two builds alternately and [`pool`] merges each side's boots for a
//! comparison. Storage, tables and
//! figures are the analyzer's (`traplab`), not this crate's.

pub mod ab;
pub mod build;
pub mod child;
pub mod exit;
pub mod iso;
pub mod linux;
pub mod pool;
pub mod preflight;
pub mod profile;
pub mod qemu;
pub mod session;
pub mod symbols;

pub use session::{Ending, RunReport, Target, run, run_target};

use std::path::PathBuf;

/// The repository root (this crate lives one level below it).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("harness/ has a parent")
        .to_path_buf()
}
