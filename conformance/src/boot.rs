//! One conformance boot: the kernel with the scripts' image, only the
//! `wast.` experiments, and the records read back from the capture.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use traplab_harness::qemu::Launch;
use traplab_harness::{Ending, RunReport, session};
use traplab_wire::{Record, decode_line};

use crate::table::Totals;

/// Kernel options for a conformance run: scripts only (`only=wast.` skips
/// the raw, JIT and workload experiments), one untimed pass, no heap check.
pub const BOOT_ARGS: &str = "samples=1 warmup=0 heap_traps=0 only=wast.";

/// Where `traplab-wast` writes its image and, by default, its capture.
pub fn image_path() -> PathBuf {
    traplab_harness::build::artifact_dir().join("wast.img")
}

pub fn default_capture_path() -> PathBuf {
    traplab_harness::build::artifact_dir().join("wast.jsonl")
}

/// What a boot produced.
#[derive(Debug)]
pub struct Boot {
    pub report: RunReport,
    pub records: Vec<Record>,
    pub damaged: Vec<DamagedLine>,
}

/// A capture line that looked like a record but failed its check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DamagedLine {
    /// 1-based line number in the capture.
    pub line: usize,
    pub reason: String,
}

/// Boot `kernel` with `image` under QEMU `profile`, capturing to `capture`.
pub fn boot(
    kernel: &Path,
    image: &Path,
    profile: &str,
    capture: &Path,
    timeout: Duration,
    progress: bool,
) -> Result<Boot> {
    let launch = Launch {
        kernel: kernel.to_path_buf(),
        suite: Some(image.to_path_buf()),
        profile: profile.to_string(),
        boot_args: BOOT_ARGS.to_string(),
    };
    let report = session::run(&launch, capture, timeout, progress)?;
    let (records, damaged) = read_capture(capture)?;
    Ok(Boot {
        report,
        records,
        damaged,
    })
}

/// Every record of a capture (boot noise before and around records is
/// skipped, as the harness does), and the lines that failed their check.
pub fn read_capture(path: &Path) -> Result<(Vec<Record>, Vec<DamagedLine>)> {
    let bytes =
        std::fs::read(path).with_context(|| format!("reading the capture {}", path.display()))?;
    let mut records = Vec::new();
    let mut damaged = Vec::new();
    for (i, line) in String::from_utf8_lossy(&bytes).lines().enumerate() {
        let Some(at) = line.find("{\"seq\":") else {
            continue;
        };
        match decode_line(&line[at..]) {
            Ok(frame) => records.push(frame.record),
            Err(e) => damaged.push(DamagedLine {
                line: i + 1,
                reason: format!("{e:?}"),
            }),
        }
    }
    Ok((records, damaged))
}

/// `traplab-wast`'s exit status: 0 iff no pair failed and the run ended
/// normally; otherwise the harness's status for how it ended (1 failures,
/// 2 setup problems the kernel reported, 3 crash, 4 timeout, 5
/// interrupted; `traplab_harness::exit`). 2 for bad input is decided
/// before booting.
pub fn exit_code(ending: Ending, totals: &Totals) -> u8 {
    match ending {
        Ending::Success if totals.failed == 0 => 0,
        Ending::Success | Ending::Failed => 1,
        other => other.exit_code() as u8,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_code_is_zero_only_for_a_clean_normal_run() {
        let clean = Totals {
            passed: 10,
            failed: 0,
            unsupported: 4,
        };
        let failed = Totals { failed: 1, ..clean };
        assert_eq!(exit_code(Ending::Success, &clean), 0);
        assert_eq!(exit_code(Ending::Success, &failed), 1);
        // The kernel saw a failure outside the scripts (setup, ...).
        assert_eq!(exit_code(Ending::Failed, &clean), 1);
        assert_eq!(exit_code(Ending::Failed, &failed), 1);
        assert_eq!(exit_code(Ending::Crashed, &clean), 3);
        assert_eq!(exit_code(Ending::TimedOut, &clean), 4);
        assert_eq!(exit_code(Ending::Setup, &clean), 2);
        assert_eq!(exit_code(Ending::Interrupted, &clean), 5);
    }

    #[test]
    fn damaged_lines_are_reported_and_noise_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.jsonl");
        let good = traplab_wire::encode_line(
            0,
            &Record::Log(traplab_wire::Log {
                level: "info".into(),
                message: "hi".into(),
            }),
        );
        let bad = good.replace("hi", "ho");
        std::fs::write(&path, format!("SeaBIOS noise\n{good}\n{bad}\n")).unwrap();
        let (records, damaged) = read_capture(&path).unwrap();
        assert_eq!(records.len(), 1);
        assert_eq!(damaged.len(), 1);
        assert_eq!(damaged[0].line, 3);
    }
}
