//! `traplab plot`, `history` and `report` end to end on small runs: the files
//! exist, have paper sizes, carry the mode, and change points name the
//! commit that introduced a slowdown. Kept small because debug-build
//! rasterization is slow.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use traplab_analyzer::ingest::parse;
use traplab_analyzer::mode::Unit;
use traplab_analyzer::plot::{self, figures};
use traplab_analyzer::synth::{RunSpec, default_series, jsonl, subset};

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

/// `jit.jsonl` cut down to the experiments `keep` accepts: the full
/// fixture draws a hundred figures, which takes minutes in a debug build.
fn jit_subset(keep: fn(&str) -> bool) -> String {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/jit.jsonl");
    subset(&std::fs::read_to_string(fixture).unwrap(), keep)
}

#[test]
fn report_of_a_run_with_wast_results_has_the_wast_tables() {
    // Results without samples: the report has the tables and no figures.
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("report");
    traplab()
        .args(["report", "-", "--out"])
        .arg(&out)
        .write_stdin(jit_subset(|e| e.starts_with("wast.")))
        .assert()
        .code(0);
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("The run is clean"), "{md}");
    assert!(!md.contains("### JIT performance"), "{md}");
    assert!(md.contains("### .wast conformance"), "{md}");
    assert!(md.contains("10 passed, 0 failed, 12 unsupported"), "{md}");
    assert!(md.contains("LaTeX: `tables/wast.tex`"), "{md}");
    let tex = std::fs::read_to_string(out.join("tables/wast.tex")).unwrap();
    assert!(tex.contains("\\label{tab:traplab:wast}"), "{tex}");
    assert!(tex.contains("\\par\\smallskip 10 passed"), "{tex}");
    // `traplab jit` once showed these: it now says where they are.
    traplab()
        .args(["jit", "-"])
        .write_stdin(jit_subset(|e| e.starts_with("wast.")))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("its .wast results: traplab wast"));
}

#[test]
fn jit_ratio_figure_is_one_column_with_the_mode_and_soft_float_twins_marked() {
    // Drawn through the library: one figure instead of a whole `plot`
    // keeps the debug build fast.
    let run = parse("jit", jit_subset(|e| e.starts_with("compute.")).as_bytes());
    let figs = figures::for_run(&run, Unit::Cycles).unwrap();
    let fig = figs
        .iter()
        .find(|f| f.name == "jit-ratios")
        .expect("jit-ratios");
    let tmp = tempfile::tempdir().unwrap();
    plot::write(fig, tmp.path()).unwrap();
    assert_eq!(png_size(&tmp.path().join("jit-ratios.png")).0, 1050);
    let svg = std::fs::read_to_string(tmp.path().join("jit-ratios.svg")).unwrap();
    for want in [
        "mode: TCG real time",
        "matmul (soft-float twin)",
        "1×",
        "geomean, integer",
        "explicit / signals",
    ] {
        assert!(svg.contains(want), "{want} missing from the figure");
    }
}

/// One quantile definition: a figure's p50 is its table's p50 for the same
/// series (box plot, floor dot and histogram median line against the
/// summary table), with values above 32,768 where HdrHistogram buckets and
/// an exact order statistic can differ.
#[test]
fn a_figures_p50_equals_its_tables_p50() {
    let run = parse("t", small_run("3f2a9c1", 40.0, 7).as_bytes());
    let table = traplab_analyzer::summary::summarize(&run);
    let figs = figures::for_run(&run, Unit::Cycles).unwrap();
    let mut checked = 0;
    let mut bucketed = 0;
    for row in &table {
        let p50 = row.dist.as_ref().unwrap().p50 as f64;
        let series = run.find(&row.experiment, &row.config).unwrap();
        let mut sorted = series.total.clone();
        sorted.sort_unstable();
        let exact = sorted[sorted.len().div_ceil(2) - 1] as f64;
        bucketed += usize::from(exact != p50);
        for fig in &figs {
            match &fig.kind {
                figures::FigureKind::Boxes { rows, .. }
                    if fig.name == format!("distribution-{}", figures::stem(&row.config)) =>
                {
                    let b = rows.iter().find(|b| b.label == row.experiment).unwrap();
                    assert_eq!(b.q[2], p50, "{}: box median", fig.name);
                    checked += 1;
                }
                figures::FigureKind::Histogram { median, .. }
                    if fig.name
                        == format!(
                            "hist-{}-{}",
                            figures::stem(&row.experiment),
                            figures::stem(&row.config)
                        ) =>
                {
                    assert_eq!(*median, p50, "{}: median line", fig.name);
                    checked += 1;
                }
                _ => {}
            }
        }
    }
    assert!(checked >= 2 * table.len(), "every series checked twice");
    assert!(
        bucketed > 0,
        "some p50 differs from the exact order statistic, so agreement is not an accident"
    );
    // The floor figure's dots: p50 of each series it draws is a table p50.
    let p50s: Vec<f64> = table
        .iter()
        .map(|r| r.dist.as_ref().unwrap().p50 as f64)
        .collect();
    let dots = figs
        .iter()
        .find_map(|f| match &f.kind {
            figures::FigureKind::Floor { rows, .. } => Some(rows),
            _ => None,
        })
        .expect("a floor figure");
    for m in dots.iter().flat_map(|r| &r.marks) {
        assert!(p50s.contains(&m.q[1]), "dot p50 {} is a table p50", m.q[1]);
    }
}
