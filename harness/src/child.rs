//! Keeping QEMU (and the host peer) on a leash, and hearing Ctrl-C.
//!
//! - [`leash`]: the child gets `PR_SET_PDEATHSIG(SIGKILL)`, so it never
//!   outlives the harness (not even a `kill -9` of `traplab-run`), and a
//!   process group of its own, so a Ctrl-C typed at the terminal reaches
//!   the harness alone: the harness then stops the child itself and keeps
//!   the capture, instead of QEMU dying under it at the same moment.
//! - [`catch_interrupts`]: `SIGINT`, `SIGTERM` and `SIGHUP` to the harness
//!   set a flag ([`interrupt`]) that the capture loop polls; the run then
//!   ends as [`crate::Ending::Interrupted`] with whatever arrived kept.
//!
//! The few libc calls are declared here (std links libc already).

use std::os::raw::{c_int, c_ulong};
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::sync::atomic::{AtomicI32, Ordering};

// SAFETY: the declarations match glibc's prototypes (prctl is variadic).
unsafe extern "C" {
    fn prctl(option: c_int, ...) -> c_int;
    fn getppid() -> c_int;
    fn signal(signum: c_int, handler: extern "C" fn(c_int)) -> usize;
}

const PR_SET_PDEATHSIG: c_int = 1;
pub const SIGHUP: i32 = 1;
pub const SIGINT: i32 = 2;
pub const SIGKILL: i32 = 9;
pub const SIGTERM: i32 = 15;

/// Prepare `cmd` so that its process dies with the thread that spawns it
/// (`PR_SET_PDEATHSIG`: the kernel sends `SIGKILL` when the spawning
/// *thread* exits, so spawn from a thread that lives as long as the run,
/// as [`crate::session::run_command`] does) and runs in a process group of
/// its own.
pub fn leash(cmd: &mut Command) {
    let parent = std::process::id() as c_int;
    cmd.process_group(0);
    // SAFETY: the closure runs in the child between fork and exec and calls
    // only async-signal-safe functions (prctl, getppid); it allocates
    // nothing.
    unsafe {
        cmd.pre_exec(move || {
            if prctl(PR_SET_PDEATHSIG, SIGKILL as c_ulong) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // The harness may have died between fork and prctl: then the
            // signal will never come, so do not start at all (ESRCH; no
            // allocation after fork).
            if getppid() != parent {
                return Err(std::io::Error::from_raw_os_error(3));
            }
            Ok(())
        });
    }
}

/// The signal that interrupted the harness, 0 for none.
static INTERRUPT: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(sig: c_int) {
    // Only an atomic store: async-signal-safe. The first signal is kept.
    let _ = INTERRUPT.compare_exchange(0, sig, Ordering::SeqCst, Ordering::SeqCst);
}

/// Catch `SIGINT`, `SIGTERM` and `SIGHUP` from now on: they no longer end
/// the process but set [`interrupt`]. For the binaries (`traplab-run`,
/// `traplab-serial`); a library caller that does not call it keeps the
/// default dispositions.
pub fn catch_interrupts() {
    for sig in [SIGINT, SIGTERM, SIGHUP] {
        // SAFETY: `on_signal` is an `extern "C" fn(c_int)` that only stores
        // to an atomic; glibc's signal() installs it with BSD semantics
        // (SA_RESTART, stays installed).
        unsafe {
            signal(sig, on_signal);
        }
    }
}

/// The signal the harness received since [`catch_interrupts`], if any.
pub fn interrupt() -> Option<i32> {
    match INTERRUPT.load(Ordering::SeqCst) {
        0 => None,
        sig => Some(sig),
    }
}

/// A signal's name (`SIGTERM`), or `signal N`.
pub fn signal_name(sig: i32) -> String {
    const NAMES: [&str; 32] = [
        "",
        "SIGHUP",
        "SIGINT",
        "SIGQUIT",
        "SIGILL",
        "SIGTRAP",
        "SIGABRT",
        "SIGBUS",
        "SIGFPE",
        "SIGKILL",
        "SIGUSR1",
        "SIGSEGV",
        "SIGUSR2",
        "SIGPIPE",
        "SIGALRM",
        "SIGTERM",
        "SIGSTKFLT",
        "SIGCHLD",
        "SIGCONT",
        "SIGSTOP",
        "SIGTSTP",
        "SIGTTIN",
        "SIGTTOU",
        "SIGURG",
        "SIGXCPU",
        "SIGXFSZ",
        "SIGVTALRM",
        "SIGPROF",
        "SIGWINCH",
        "SIGIO",
        "SIGPWR",
        "SIGSYS",
    ];
    match usize::try_from(sig).ok().and_then(|i| NAMES.get(i)) {
        Some(name) if !name.is_empty() => (*name).to_string(),
        _ => format!("signal {sig}"),
    }
}

/// Whether a process that died of `sig` crashed by itself (a fault the
/// process raised: SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGSYS,
/// SIGTRAP) rather than being stopped from outside (SIGTERM, SIGKILL,
/// SIGINT, SIGHUP, …).
pub fn is_crash_signal(sig: i32) -> bool {
    matches!(sig, 4..=8 | 11 | 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_are_named_and_sorted_into_crashes_and_stops() {
        assert_eq!(signal_name(SIGTERM), "SIGTERM");
        assert_eq!(signal_name(SIGKILL), "SIGKILL");
        assert_eq!(signal_name(64), "signal 64");
        for sig in [SIGINT, SIGTERM, SIGKILL, SIGHUP] {
            assert!(!is_crash_signal(sig), "{}", signal_name(sig));
        }
        for sig in [4, 5, 6, 7, 8, 11, 31] {
            assert!(is_crash_signal(sig), "{}", signal_name(sig));
        }
    }
}
