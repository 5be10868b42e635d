//! The one exit-status scheme of every traplab binary and script
//! (`traplab-run`, `traplab-serial`, `traplab-ab`, `traplab-wast`,
//! `scripts/run-suite.sh`, `scripts/capture-serial.sh`, and `traplab` for
//! its compare verdicts). README.md holds the same table.
//!
//! | code | meaning |
//! |---:|---|
//! | 0 | success: every experiment passed |
//! | 1 | an experiment failed (for a comparison: a regression) |
//! | 2 | bad setup or usage: nothing was measured, or the kernel/peer refused its setup (`setup.*` results) |
//! | 3 | kernel crash: a fault or panic record, or QEMU ended by itself with no end record (a crash during a campaign injection is resumed by a fresh boot instead, and the last boot decides) |
//! | 4 | timeout: stopped after the time bound; the capture is partial |
//! | 5 | interrupted: QEMU, the peer or the harness was stopped by a signal (Ctrl-C, `kill`); the capture is partial |
//!
//! When several platforms or boots make one result (`run-suite.sh
//! --peers`, `traplab-ab`), the highest code wins.
//!
//! These are the exit statuses of the *host* tools. The kernel's own exit
//! values (written to QEMU's debug-exit port, turned by QEMU into its exit
//! status) are `traplab_wire::exit`.

/// Every experiment ran and passed.
pub const SUCCESS: u8 = 0;
/// The run finished, but an experiment failed its checks (for a
/// comparison: a confirmed regression).
pub const FAILED: u8 = 1;
/// Bad setup or usage: a refused option, a missing tool, a build failure,
/// a suite image that does not verify, or setup problems the kernel or
/// peer reported in its stream (`setup.*` results).
pub const SETUP: u8 = 2;
/// The kernel crashed: a fault or panic record, or QEMU ended by itself
/// without an end record (triple fault). Not for a crash during a
/// campaign injection: `session::run_resuming` boots a fresh kernel at the
/// next index, and the last boot's ending is the run's.
pub const CRASH: u8 = 3;
/// The run was stopped at its time bound; the capture is partial.
pub const TIMEOUT: u8 = 4;
/// The run was stopped by a signal from outside (Ctrl-C, `kill` of QEMU,
/// the peer or the harness); the capture is partial.
pub const INTERRUPTED: u8 = 5;

/// Every code with its meaning, in order (for `--help` texts and tests).
pub const TABLE: [(u8, &str); 6] = [
    (SUCCESS, "success: every experiment passed"),
    (
        FAILED,
        "an experiment failed (for a comparison: a confirmed regression)",
    ),
    (
        SETUP,
        "bad setup or usage (nothing measured, or the kernel/peer refused its setup)",
    ),
    (
        CRASH,
        "kernel crash (fault or panic record, or QEMU ended with no end record)",
    ),
    (TIMEOUT, "timeout; the capture is partial"),
    (
        INTERRUPTED,
        "interrupted by a signal (Ctrl-C, kill); the capture is partial",
    ),
];

/// The meaning of `code` (one line), or `None` outside the scheme.
pub fn meaning(code: u8) -> Option<&'static str> {
    TABLE.iter().find(|(c, _)| *c == code).map(|(_, m)| *m)
}

/// The table as text for a `--help` footer: `exit status: 0 …; 1 …`.
pub fn help() -> String {
    let mut text = String::from("Exit status:\n");
    for (code, meaning) in TABLE {
        text.push_str(&format!("  {code}  {meaning}\n"));
    }
    text.push_str("The capture keeps whatever arrived, whatever the status.");
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_codes_are_distinct_and_ordered_by_severity() {
        let codes: Vec<u8> = TABLE.iter().map(|(c, _)| *c).collect();
        assert_eq!(codes, [0, 1, 2, 3, 4, 5]);
        assert_eq!(
            meaning(INTERRUPTED).map(|m| m.contains("signal")),
            Some(true)
        );
        assert_eq!(meaning(6), None);
        assert!(help().contains("  5  interrupted"));
    }
}
