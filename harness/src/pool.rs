//! Pooling repeated boots of one build into one run, so `traplab compare`
//! judges all of a side's samples at once.
//!
//! `scripts/compare-commits.sh --repeat N` boots A, B, A, B… so that slow
//! drift of the host (other load, thermal state) hits both sides alike;
//! each side's N captures are then pooled here. The pooled stream is a
//! valid run in the wire format (fresh sequence numbers and checks): the
//! first boot's header with the plan's sample counts summed, a `log`
//! record naming the pooled captures, every sample batch of each series
//! (renumbered with `first` continuing across boots), one result per
//! series with the summed count, and an end record that matches.
//! Metrics and logs of the later boots are dropped (they describe one
//! boot, not a series).
//!
//! Only complete runs of the same platform (lab kernel, or a Linux peer:
//! `scripts/compare-commits.sh --peers` pools the Linux guest's boots the
//! same way), kernel (or peer) build, suite image and mode are pooled;
//! anything else is refused, because mixing them would hide the very
//! difference a comparison is after.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result, bail, ensure};
use traplab_wire::{
    End, EndStatus, ExperimentResult, Header, Log, Record, Samples, Status, decode_line,
    encode_line,
};

/// The records of one capture that passed their checks, in order.
struct Capture {
    name: String,
    header: Header,
    records: Vec<Record>,
}

fn read(path: &Path) -> Result<Capture> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let text = String::from_utf8_lossy(&bytes);
    let mut records = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let Some(at) = line.find("{\"seq\":") else {
            continue;
        };
        let frame = decode_line(line[at..].trim_end())
            .map_err(|e| anyhow::anyhow!("{}:{}: {e}", path.display(), n + 1))?;
        records.push(frame.record);
    }
    let header = match records.first() {
        Some(Record::Header(h)) => h.clone(),
        _ => bail!("{}: does not open with a header record", path.display()),
    };
    match records.last() {
        Some(Record::End(e)) if e.status == EndStatus::Complete => {}
        Some(Record::End(e)) => bail!(
            "{}: the run ended {:?}; only complete runs are pooled",
            path.display(),
            e.status
        ),
        _ => bail!(
            "{}: no end record (the run was cut off); only complete runs are pooled",
            path.display()
        ),
    }
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    Ok(Capture {
        name,
        header,
        records,
    })
}

type Series = (String, String);

/// The TSC frequency each capture's header reports (its calibration).
pub fn tsc_hz(inputs: &[&Path]) -> Result<Vec<u64>> {
    inputs.iter().map(|p| Ok(read(p)?.header.tsc.hz)).collect()
}

/// Pool the runs in `inputs` (at least one) into one stream, returned as
/// the text of a `.jsonl` file. `common_tsc_hz` replaces the header's TSC
/// frequency (see [`crate::ab`] for why a comparison wants one value for
/// both sides); the log record says so.
pub fn pool(inputs: &[&Path], common_tsc_hz: Option<u64>) -> Result<String> {
    ensure!(!inputs.is_empty(), "nothing to pool");
    let captures = inputs.iter().map(|p| read(p)).collect::<Result<Vec<_>>>()?;
    let first = &captures[0];
    for other in &captures[1..] {
        let (a, b) = (&first.header, &other.header);
        let same = |what: &str, x: &dyn std::fmt::Debug, y: &dyn std::fmt::Debug| -> Result<()> {
            let (x, y) = (format!("{x:?}"), format!("{y:?}"));
            ensure!(
                x == y,
                "{} and {} differ in {what} ({x} vs {y}); pool only boots of one build",
                first.name,
                other.name
            );
            Ok(())
        };
        same("platform", &a.platform, &b.platform)?;
        same("kernel build", &a.kernel, &b.kernel)?;
        same(
            "suite image",
            &a.config.suite_sha256,
            &b.config.suite_sha256,
        )?;
        same("measurement mode", &a.config.mode, &b.config.mode)?;
        same("boot protocol", &a.boot, &b.boot)?;
    }

    // Every capture's batches and result per series, in arrival order.
    let mut batches: BTreeMap<Series, Vec<Samples>> = BTreeMap::new();
    let mut results: BTreeMap<Series, Vec<ExperimentResult>> = BTreeMap::new();
    let mut series_of_first = Vec::new();
    for (i, capture) in captures.iter().enumerate() {
        let mut offset: BTreeMap<Series, u32> = BTreeMap::new();
        for record in &capture.records {
            match record {
                Record::Samples(s) => {
                    let key = (s.experiment.clone(), s.config.clone());
                    if i == 0 && !batches.contains_key(&key) {
                        series_of_first.push(key.clone());
                    }
                    let so_far = batches
                        .get(&key)
                        .map_or(0, |b| b.iter().map(|s| s.total.len() as u32).sum::<u32>());
                    let base = *offset.entry(key.clone()).or_insert(so_far);
                    let mut s = s.clone();
                    s.first += base;
                    batches.entry(key).or_default().push(s);
                }
                Record::Result(r) => results
                    .entry((r.experiment.clone(), r.config.clone()))
                    .or_default()
                    .push(r.clone()),
                _ => {}
            }
        }
    }
    for (key, rs) in &results {
        ensure!(
            rs.len() == captures.len(),
            "{} {} reported in {} of {} runs; pool only runs of the same plan",
            key.0,
            key.1,
            rs.len(),
            captures.len()
        );
    }

    let mut header = first.header.clone();
    for planned in &mut header.plan {
        let key = (planned.experiment.clone(), planned.config.clone());
        planned.samples = batches.get(&key).map_or(planned.samples, |b| {
            b.iter().map(|s| s.total.len() as u32).sum()
        });
    }
    header.config.samples = header.config.samples.saturating_mul(captures.len() as u32);
    let mut note = String::new();
    if let Some(hz) = common_tsc_hz {
        let calibrated: Vec<String> = captures
            .iter()
            .map(|c| c.header.tsc.hz.to_string())
            .collect();
        note = format!(
            "; tsc.hz is {hz}, shared by both sides of the comparison (these boots calibrated {} Hz)",
            calibrated.join(", ")
        );
        header.tsc.hz = hz;
    }

    let mut out = Writer::default();
    out.emit(&Record::Header(header));
    let names: Vec<&str> = captures.iter().map(|c| c.name.as_str()).collect();
    out.emit(&Record::Log(Log {
        level: "info".into(),
        message: format!(
            "pooled from {} boots of this build: {}{note}",
            captures.len(),
            names.join(", ")
        ),
    }));
    let (mut samples, mut ok, mut failed) = (0u64, 0u32, 0u32);
    let mut emitted_series = std::collections::BTreeSet::new();
    for record in &first.records {
        match record {
            Record::Header(_) | Record::End(_) => {}
            Record::Samples(s) => {
                let key = (s.experiment.clone(), s.config.clone());
                if emitted_series.insert(key.clone()) {
                    for batch in &batches[&key] {
                        samples += batch.total.len() as u64;
                        out.emit(&Record::Samples(batch.clone()));
                    }
                }
            }
            Record::Result(r) => {
                let rs = &results[&(r.experiment.clone(), r.config.clone())];
                let mut pooled = r.clone();
                pooled.samples = rs.iter().map(|r| r.samples).sum();
                pooled.status = rs
                    .iter()
                    .map(|r| r.status)
                    .max_by_key(|s| severity(*s))
                    .unwrap_or(r.status);
                match pooled.status {
                    Status::Ok => ok += 1,
                    Status::Failed => failed += 1,
                    Status::Skipped => {}
                }
                out.emit(&Record::Result(pooled));
            }
            other => out.emit(other),
        }
    }
    let status = if failed > 0 {
        EndStatus::Failed
    } else {
        EndStatus::Complete
    };
    let end = End {
        status,
        records: out.seq,
        samples,
        ok,
        failed,
        // Only complete runs are pooled (see `read`): nothing was contained.
        contained_failures: 0,
    };
    out.emit(&Record::End(end));
    debug_assert!(series_of_first.iter().all(|k| emitted_series.contains(k)));
    Ok(out.text)
}

/// Framed lines with consecutive sequence numbers.
#[derive(Default)]
struct Writer {
    text: String,
    seq: u64,
}

impl Writer {
    fn emit(&mut self, record: &Record) {
        let _ = writeln!(self.text, "{}", encode_line(self.seq, record));
        self.seq += 1;
    }
}

fn severity(status: Status) -> u8 {
    match status {
        Status::Ok => 0,
        Status::Skipped => 1,
        Status::Failed => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real capture of the kernel (the wire crate's fixture).
    fn fixture() -> std::path::PathBuf {
        crate::workspace_root().join("wire/tests/fixtures/kernel-run.jsonl")
    }

    fn records(text: &str) -> Vec<Record> {
        text.lines()
            .map(|l| {
                decode_line(l)
                    .expect("every pooled line passes its check")
                    .record
            })
            .collect()
    }

    fn end(records: &[Record]) -> End {
        match records.last() {
            Some(Record::End(e)) => e.clone(),
            other => panic!("no end record: {other:?}"),
        }
    }

    #[test]
    fn pooling_one_run_keeps_its_series_and_counts() {
        let original: Vec<Record> = records(&std::fs::read_to_string(fixture()).unwrap());
        let pooled = records(&pool(&[&fixture()], None).unwrap());
        let (a, b) = (end(&original), end(&pooled));
        assert_eq!(
            (a.samples, a.ok, a.failed, a.status),
            (b.samples, b.ok, b.failed, b.status)
        );
        assert_eq!(b.records as usize, pooled.len() - 1);
        assert!(matches!(&pooled[1], Record::Log(l) if l.message.contains("pooled from 1 boots")));
    }

    #[test]
    fn a_common_tsc_frequency_replaces_the_calibration_and_is_logged() {
        let pooled = records(&pool(&[&fixture()], Some(2_500_000_000)).unwrap());
        let Record::Header(h) = &pooled[0] else {
            panic!("header first")
        };
        assert_eq!(h.tsc.hz, 2_500_000_000);
        assert!(matches!(&pooled[1], Record::Log(l) if l.message.contains("shared by both sides")));
    }

    #[test]
    fn pooling_two_boots_doubles_every_series_with_continuing_indices() {
        let single = records(&std::fs::read_to_string(fixture()).unwrap());
        let pooled = records(&pool(&[&fixture(), &fixture()], None).unwrap());
        assert_eq!(end(&pooled).samples, 2 * end(&single).samples);
        assert_eq!(end(&pooled).records as usize, pooled.len() - 1);
        // Per series: batches are contiguous, `first` runs 0, n, 2n… without
        // gaps, and the result record follows with the summed count.
        let mut next: BTreeMap<Series, u32> = BTreeMap::new();
        let mut results = 0;
        for r in &pooled {
            match r {
                Record::Samples(s) => {
                    let at = next
                        .entry((s.experiment.clone(), s.config.clone()))
                        .or_default();
                    assert_eq!(s.first, *at, "{} {}", s.experiment, s.config);
                    *at += s.total.len() as u32;
                }
                Record::Result(r) => {
                    results += 1;
                    let seen = next
                        .get(&(r.experiment.clone(), r.config.clone()))
                        .copied()
                        .unwrap_or(0);
                    assert_eq!(r.samples, seen, "{} {}", r.experiment, r.config);
                }
                _ => {}
            }
        }
        let single_results = single
            .iter()
            .filter(|r| matches!(r, Record::Result(_)))
            .count();
        assert_eq!(results, single_results, "one result per series");
        let Record::Header(h) = &pooled[0] else {
            panic!("header first")
        };
        let Record::Header(h1) = &single[0] else {
            panic!("header first")
        };
        assert_eq!(
            h.plan.iter().map(|p| p.samples).sum::<u32>(),
            2 * h1.plan.iter().map(|p| p.samples).sum::<u32>()
        );
    }

    /// A Linux guest's run (the analyzer's peer fixture: platform
    /// `linux-guest`, TCG).
    fn guest_fixture() -> std::path::PathBuf {
        crate::workspace_root().join("host-analyzer/tests/fixtures/peers-guest-tcg.jsonl")
    }

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("traplab-pool-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn header(records: &[Record]) -> &Header {
        match records.first() {
            Some(Record::Header(h)) => h,
            other => panic!("header first: {other:?}"),
        }
    }

    #[test]
    fn a_linux_guest_run_pools_like_the_lab_kernel_and_keeps_its_platform() {
        let single = records(&std::fs::read_to_string(guest_fixture()).unwrap());
        assert_eq!(header(&single).platform, "linux-guest");
        let pooled = records(
            &pool(
                &[&guest_fixture(), &guest_fixture(), &guest_fixture()],
                Some(2_000_000_000),
            )
            .unwrap(),
        );
        let h = header(&pooled);
        assert_eq!(h.platform, "linux-guest");
        assert_eq!(h.os, header(&single).os);
        assert_eq!(h.config.samples, 3 * header(&single).config.samples);
        let (one, three) = (end(&single), end(&pooled));
        assert_eq!(three.samples, 3 * one.samples);
        assert_eq!(
            (three.ok, three.failed, three.status),
            (one.ok, one.failed, one.status)
        );
        assert_eq!(three.records as usize, pooled.len() - 1);
        // Every result carries the summed count.
        for r in &pooled {
            if let Record::Result(r) = r {
                assert_eq!(r.samples % 3, 0, "{} {}", r.experiment, r.config);
            }
        }
    }

    #[test]
    fn a_lab_kernel_run_and_a_linux_guest_run_are_never_pooled() {
        let err = pool(&[&fixture(), &guest_fixture()], None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("platform"), "{err}");
        // Even with everything else equal: the guest run relabelled as the
        // lab kernel's differs in its platform alone.
        let dir = scratch("platform");
        let mut lines = records(&std::fs::read_to_string(guest_fixture()).unwrap());
        if let Record::Header(h) = &mut lines[0] {
            h.platform = "lab-kernel".into();
        }
        let relabelled: String = lines
            .iter()
            .enumerate()
            .map(|(i, r)| encode_line(i as u64, r) + "\n")
            .collect();
        let path = dir.join("relabelled.jsonl");
        std::fs::write(&path, relabelled).unwrap();
        let err = pool(&[&guest_fixture(), &path], None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("differ in platform"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn nothing_to_pool_and_a_run_that_failed_are_refused() {
        assert!(
            pool(&[], None)
                .unwrap_err()
                .to_string()
                .contains("nothing to pool")
        );
        let dir = scratch("failed");
        let mut lines = records(&std::fs::read_to_string(fixture()).unwrap());
        if let Some(Record::End(e)) = lines.last_mut() {
            e.status = EndStatus::Fault;
        }
        let text: String = lines
            .iter()
            .enumerate()
            .map(|(i, r)| encode_line(i as u64, r) + "\n")
            .collect();
        let path = dir.join("fault.jsonl");
        std::fs::write(&path, text).unwrap();
        let err = pool(&[&path], None).unwrap_err().to_string();
        assert!(err.contains("only complete runs are pooled"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_tsc_frequency_of_each_capture_is_read_from_its_header() {
        let hz = tsc_hz(&[&fixture(), &guest_fixture()]).unwrap();
        assert_eq!(hz[1], 2_000_000_000);
        assert_eq!(
            hz[0],
            header(&records(&std::fs::read_to_string(fixture()).unwrap()))
                .tsc
                .hz
        );
    }

    #[test]
    fn runs_of_different_builds_or_cut_off_runs_are_refused() {
        let dir = std::env::temp_dir().join(format!("traplab-pool-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let text = std::fs::read_to_string(fixture()).unwrap();
        let mut lines: Vec<Record> = records(&text);
        if let Record::Header(h) = &mut lines[0] {
            h.kernel.options = vec!["dispatch_delay_cycles=100".into()];
        }
        let other: String = lines
            .iter()
            .enumerate()
            .map(|(i, r)| encode_line(i as u64, r) + "\n")
            .collect();
        let other_path = dir.join("other.jsonl");
        std::fs::write(&other_path, other).unwrap();
        let err = pool(&[&fixture(), &other_path], None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("kernel build"), "{err}");

        let cut: String = text.lines().take(50).map(|l| format!("{l}\n")).collect();
        let cut_path = dir.join("cut.jsonl");
        std::fs::write(&cut_path, cut).unwrap();
        let err = pool(&[&fixture(), &cut_path], None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("no end record"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
