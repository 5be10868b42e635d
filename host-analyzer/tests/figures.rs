//! `traplab plot`, `history` and `report` end to end on small runs: the files
//! exist, have paper sizes, carry the mode, and change points name the
//! commit that introduced a slowdown. Kept small because debug-build
//! rasterization is slow.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use traplab_analyzer::synth::{RunSpec, default_series, jsonl};

fn traplab() -> Command {
    let mut c = Command::cargo_bin("traplab").expect("binary builds");
    c.env_remove("TRAPLAB_RESULTS");
    c
}

/// A run with one trap kind (with stages), its explicit-check twin and the
/// raw floor it maps to.
fn small_run(commit: &str, slowdown: f64, seed: u64) -> String {
    let keep = ["signals.bt_off", "explicit.bt_off", "ring0"];
    let series = default_series()
        .into_iter()
        .filter(|s| {
            (s.experiment == "trap.oob_load" && keep.contains(&s.config))
                || s.experiment == "raw.pf"
        })
        .collect();
    jsonl(&RunSpec {
        commit: commit.into(),
        slowdown,
        seed,
        series,
        ..RunSpec::small("tcg", 300)
    })
}

/// Width and height of a PNG from its IHDR chunk.
fn png_size(path: &Path) -> (u32, u32) {
    let b = std::fs::read(path).unwrap();
    assert_eq!(&b[1..4], b"PNG", "{} is not a PNG", path.display());
    let be = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    (be(16), be(20))
}

#[test]
fn plot_writes_svg_and_png_at_paper_sizes_with_the_mode() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("figs");
    let listed = traplab()
        .args(["plot", "-", "--out"])
        .arg(&out)
        .write_stdin(small_run("3f2a9c1", 1.0, 1))
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let listed = String::from_utf8(listed).unwrap();
    for stem in [
        "cdf-trap.oob_load",
        "cdf-raw",
        "stages-signals.bt_off",
        "distribution-signals.bt_off",
        "distribution-explicit.bt_off",
        "distribution-ring0",
        "floor",
        "hist-raw.pf-ring0",
    ] {
        for ext in ["svg", "png"] {
            let f = out.join(format!("{stem}.{ext}"));
            assert!(f.is_file(), "{} missing", f.display());
            assert!(listed.contains(&f.display().to_string()));
        }
    }
    // One column is 3.5 in and two columns 7.16 in, at 300 dpi.
    assert_eq!(png_size(&out.join("cdf-trap.oob_load.png")).0, 1050);
    assert_eq!(png_size(&out.join("distribution-ring0.png")).0, 2148);
    let svg = std::fs::read_to_string(out.join("floor.svg")).unwrap();
    assert!(
        svg.contains("mode: TCG real time"),
        "caption with the mode missing"
    );
    assert!(
        svg.contains("trap.oob_load (#PF)"),
        "the floor is matched through the vector: {svg}"
    );
}

fn store(results: &Path, run: String, date: &str) -> PathBuf {
    let out = traplab()
        .args([
            "ingest",
            "-",
            "--host",
            "lab",
            "--qemu-version",
            "QEMU 10",
            "--commit-date",
            date,
            "--results",
        ])
        .arg(results)
        .write_stdin(run)
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    PathBuf::from(String::from_utf8(out).unwrap().trim())
}

#[test]
fn history_names_the_commit_that_slowed_down_and_report_collects_everything() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    for (i, commit) in ["aaa0001", "aaa0002", "aaa0003", "bbb0004", "bbb0005"]
        .iter()
        .enumerate()
    {
        let slow = if commit.starts_with('b') { 1.12 } else { 1.0 };
        store(
            &results,
            small_run(commit, slow, i as u64 + 1),
            &format!("2026-11-0{}T12:00:00Z", i + 1),
        );
    }
    // A baseline copy must not count as another run.
    traplab()
        .args(["ingest", "-", "--save-baseline", "main", "--results"])
        .arg(&results)
        .arg("--commit-date")
        .arg("2026-11-01T12:00:00Z")
        .write_stdin(small_run("aaa0001", 1.0, 9))
        .assert()
        .code(0);

    let out = traplab()
        .arg("history")
        .arg(&results)
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let out = String::from_utf8(out).unwrap();
    assert!(out.contains("6 runs"), "{out}");
    assert!(
        out.contains("change point [tcg] trap.oob_load/signals.bt_off: p50 +1")
            && out.contains("at bbb0004 (2026-11-04)"),
        "{out}"
    );
    let csv = traplab()
        .arg("history")
        .arg(&results)
        .args(["--format", "csv"])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let csv = String::from_utf8(csv).unwrap();
    assert!(
        csv.starts_with("mode,experiment,config,commit,date,runs,p50,p99,unit,change_point\n"),
        "{csv}"
    );
    assert!(
        csv.contains("tcg,trap.oob_load,signals.bt_off,bbb0004,2026-11-04,1,"),
        "{csv}"
    );

    let report = tmp.path().join("report");
    traplab()
        .arg("report")
        .arg(&results)
        .arg("--out")
        .arg(&report)
        .assert()
        .code(0);
    let md = std::fs::read_to_string(report.join("report.md")).unwrap();
    assert!(md.contains("## History across commits"));
    assert!(md.contains("![timeline-tcg-trap.oob_load](figures/timeline-tcg-trap.oob_load.png)"));
    assert!(md.contains("## Newest tcg run"));
    assert!(md.contains("| trap.oob_load | signals.bt_off | ok | 300 |"));
    assert!(
        report
            .join("figures/timeline-tcg-trap.oob_load.svg")
            .is_file()
    );
    assert!(report.join("tables/history.tex").is_file());
    let tex = std::fs::read_to_string(report.join("tables/summary-tcg.tex")).unwrap();
    assert!(
        tex.contains("\\toprule") && tex.contains("mode: TCG real time"),
        "{tex}"
    );
}

#[test]
fn history_of_an_empty_folder_is_bad_input() {
    let tmp = tempfile::tempdir().unwrap();
    traplab()
        .arg("history")
        .arg(tmp.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no stored runs"));
}

#[test]
fn report_for_a_damaged_run_lists_its_problems() {
    let tmp = tempfile::tempdir().unwrap();
    let mut run = small_run("3f2a9c1", 1.0, 1);
    run.truncate(run.len() - 40); // cut inside the end record
    traplab()
        .args(["report", "-", "--out"])
        .arg(tmp.path())
        .write_stdin(run)
        .assert()
        .code(0);
    let md = std::fs::read_to_string(tmp.path().join("report.md")).unwrap();
    assert!(md.contains("problem(s) in the data"), "{md}");
    assert!(md.contains("-:") && md.contains("no end record"), "{md}");
}
