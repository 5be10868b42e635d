//! The `traplab` binary on committed fixture runs, good and hostile:
//! exit codes, `FILE:LINE: reason` diagnostics, and snapshots of every
//! export format.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The binary, run from the fixture folder so paths in output are short and
/// stable for snapshots.
fn traplab() -> Command {
    let mut c = Command::cargo_bin("traplab").expect("binary builds");
    c.current_dir(fixtures()).env_remove("TRAPLAB_RESULTS");
    c
}

fn stdout_of(args: &[&str], code: i32) -> String {
    let out = traplab()
        .args(args)
        .assert()
        .code(code)
        .get_output()
        .stdout
        .clone();
    String::from_utf8(out).expect("UTF-8 output")
}

#[test]
fn help_lists_every_subcommand_and_explains_exit_codes() {
    let help = stdout_of(&["--help"], 0);
    for cmd in [
        "validate", "summary", "compare", "ingest", "history", "plot", "report", "jit", "campaign",
    ] {
        assert!(help.contains(cmd), "{cmd} missing from --help:\n{help}");
    }
    assert!(help.contains("Exit codes"), "{help}");
    traplab().arg("bogus").assert().code(2);
}

#[test]
fn validate_good_run_is_clean() {
    let out = stdout_of(&["validate", "good.jsonl"], 0);
    assert_eq!(
        out,
        "good.jsonl: clean: 19 records, 8 series, 1200 samples, run complete, mode tcg, commit 3f2a9c1\n"
    );
}

#[test]
fn validate_skips_boot_noise() {
    stdout_of(&["validate", "boot_noise.jsonl"], 0);
}

#[test]
fn validate_reads_stdin() {
    let good = std::fs::read(fixtures().join("good.jsonl")).unwrap();
    traplab()
        .args(["validate", "-"])
        .write_stdin(good)
        .assert()
        .code(0)
        .stdout(predicate::str::starts_with("-: clean"));
}

#[test]
fn validate_hostile_runs_name_file_line_and_reason() {
    for name in [
        "truncated",
        "flipped",
        "garbage",
        "duplicate",
        "reordered",
        "missing_end",
        "wrong_types",
        "unknown_schema",
        "noise_only",
    ] {
        let file = format!("{name}.jsonl");
        let out = stdout_of(&["validate", &file], 1);
        assert!(
            out.lines().next().unwrap().starts_with(&format!("{file}:")),
            "{out}"
        );
        insta::assert_snapshot!(format!("validate_{name}"), out);
    }
}

#[test]
fn validate_missing_file_is_bad_input() {
    traplab()
        .args(["validate", "no-such-run.jsonl"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "traplab: error: reading no-such-run.jsonl: No such file",
        ));
}

#[test]
fn summary_snapshots_in_every_format() {
    for format in ["table", "md", "csv", "json", "latex"] {
        let out = stdout_of(&["summary", "good.jsonl", "--format", format], 0);
        insta::assert_snapshot!(format!("summary_{format}"), out);
    }
    insta::assert_snapshot!(
        "summary_table_ns",
        stdout_of(&["summary", "good.jsonl", "--unit", "ns"], 0)
    );
}

#[test]
fn summary_json_has_the_documented_fields() {
    let out = stdout_of(&["summary", "good.jsonl", "--format", "json"], 0);
    let rows: serde_json::Value = serde_json::from_str(&out).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 8);
    for key in [
        "experiment",
        "config",
        "n",
        "min",
        "p50",
        "p90",
        "p99",
        "p999",
        "max",
        "unit",
        "mode",
    ] {
        assert!(rows.iter().all(|r| r.get(key).is_some()), "{key} missing");
    }
    assert_eq!(rows[0]["stages"].as_array().unwrap().len(), 4);
}

#[test]
fn summary_of_damaged_run_warns_and_uses_what_arrived() {
    traplab()
        .args(["summary", "truncated.jsonl"])
        .assert()
        .code(0)
        .stderr(predicate::str::contains(
            "truncated.jsonl:18: error: truncated",
        ))
        .stdout(predicate::str::contains(
            "status damaged (2 problems; no end record)",
        ));
}

#[test]
fn summary_refuses_unusable_runs() {
    for name in ["unknown_schema.jsonl", "noise_only.jsonl"] {
        traplab()
            .args(["summary", name])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("traplab: error:"));
    }
}

#[test]
fn summary_in_ns_needs_a_tsc_frequency() {
    // A run whose header was lost has no TSC frequency.
    let text = std::fs::read_to_string(fixtures().join("good.jsonl")).unwrap();
    let headless: String = text.lines().skip(1).map(|l| format!("{l}\n")).collect();
    traplab()
        .args(["summary", "-", "--unit", "ns"])
        .write_stdin(headless)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no TSC frequency"));
}

#[test]
fn compare_a_a_is_unchanged_and_exits_0() {
    let out = stdout_of(&["compare", "good.jsonl", "good_again.jsonl"], 0);
    assert!(
        out.contains("0 regressed, 0 improved, 8 unchanged, 0 unsure"),
        "{out}"
    );
    let out = stdout_of(&["compare", "good.jsonl", "good.jsonl"], 0);
    assert!(out.contains("8 unchanged"), "{out}");
}

#[test]
fn compare_ten_percent_slowdown_is_regressed_and_exits_1() {
    let out = stdout_of(&["compare", "good.jsonl", "slow.jsonl"], 1);
    assert!(out.contains("8 regressed"), "{out}");
    insta::assert_snapshot!("compare_table", out);
    let out = stdout_of(
        &["compare", "slow.jsonl", "good.jsonl", "--format", "json"],
        0,
    );
    let rows: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(
        rows.as_array()
            .unwrap()
            .iter()
            .all(|r| r["verdict"] == "improved"),
        "{out}"
    );
    // A threshold above the shift leaves it unsure or unchanged, never regressed.
    let out = stdout_of(
        &["compare", "good.jsonl", "slow.jsonl", "--threshold", "20"],
        0,
    );
    assert!(out.contains("0 regressed"), "{out}");
}

#[test]
fn compare_icount_identical_runs_is_unchanged_with_zero_width() {
    let out = stdout_of(&["compare", "icount.jsonl", "icount.jsonl"], 0);
    assert!(out.contains("8 unchanged"), "{out}");
    assert_eq!(out.matches("[±0.0%, ±0.0%]").count(), 8, "{out}");
    let out = stdout_of(
        &[
            "compare",
            "icount.jsonl",
            "icount_slow.jsonl",
            "--format",
            "csv",
        ],
        1,
    );
    insta::assert_snapshot!("compare_icount_csv", out);
    let args = [
        "compare",
        "icount.jsonl",
        "icount_slow.jsonl",
        "--format",
        "json",
    ];
    insta::assert_snapshot!("compare_icount_json", stdout_of(&args, 1));
    for format in ["md", "latex"] {
        let args = ["compare", "good.jsonl", "slow.jsonl", "--format", format];
        insta::assert_snapshot!(format!("compare_{format}"), stdout_of(&args, 1));
    }
}

#[test]
fn compare_in_icount_flags_any_change_by_default_and_a_threshold_still_applies() {
    // A 21-instruction detour on every sample of one trap with backtraces:
    // 0.1 % of it, invisible to a 5 % threshold, but an exact count.
    let text = std::fs::read_to_string(fixtures().join("icount.jsonl")).unwrap();
    let marker = r#""experiment":"trap.oob_load","config":"signals.bt_on","unit":"cycles""#;
    let slower: Vec<String> = text
        .lines()
        .map(|line| {
            if !line.contains(marker) {
                return line.to_string();
            }
            let covered = &line[..line.len() - ",\"crc\":\"xxxxxxxx\"}".len()];
            let start = covered.find("\"total\":[").unwrap() + "\"total\":[".len();
            let end = start + covered[start..].find(']').unwrap();
            let total: Vec<String> = covered[start..end]
                .split(',')
                .map(|v| (v.parse::<u64>().unwrap() + 21).to_string())
                .collect();
            let covered = format!(
                "{}{}{}",
                &covered[..start],
                total.join(","),
                &covered[end..]
            );
            format!(
                "{covered},\"crc\":\"{:08x}\"}}",
                crc32fast::hash(covered.as_bytes())
            )
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let cand = dir.path().join("detour.jsonl");
    std::fs::write(&cand, slower.join("\n") + "\n").unwrap();
    let cand = cand.to_str().unwrap();
    let out = stdout_of(&["compare", "icount.jsonl", cand, "--format", "csv"], 1);
    let regressed: Vec<&str> = out.lines().filter(|l| l.contains("regressed")).collect();
    assert_eq!(regressed.len(), 1, "{out}");
    assert!(
        regressed[0].starts_with("trap.oob_load,signals.bt_on"),
        "{out}"
    );
    assert!(
        out.contains("7 unchanged") || out.lines().filter(|l| l.contains("unchanged")).count() == 7,
        "{out}"
    );
    // A threshold given is a threshold: 0.1 % is under 5 %.
    let out = stdout_of(&["compare", "icount.jsonl", cand, "--threshold", "5"], 0);
    assert!(out.contains("0 regressed"), "{out}");
}

#[test]
fn compare_refuses_different_modes() {
    traplab()
        .args(["compare", "good.jsonl", "icount.jsonl"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "cannot compare across measurement modes: base is tcg, candidate is icount",
        ));
}

#[test]
fn compare_rejects_bad_options() {
    traplab()
        .args(["compare", "good.jsonl", "good.jsonl", "--confidence", "99"])
        .assert()
        .code(2);
    traplab().args(["compare", "good.jsonl"]).assert().code(2);
}

#[test]
fn ingest_stores_layout_and_baselines_work() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    let out = traplab()
        .args([
            "ingest",
            "good.jsonl",
            "--save-baseline",
            "main",
            "--host",
            "lab1",
            "--qemu-version",
            "QEMU 10.0.2",
        ])
        .args(["--commit-date", "2026-11-01T10:00:00+00:00"])
        .arg("--results")
        .arg(&results)
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let dir = PathBuf::from(String::from_utf8(out).unwrap().trim());
    assert_eq!(dir.parent().unwrap(), results.join("3f2a9c1"));
    let name = dir.file_name().unwrap().to_str().unwrap();
    assert!(
        name.ends_with("Z-traps") && name.len() == "20261127T173005Z-traps".len(),
        "{name}"
    );
    assert_eq!(
        std::fs::read(dir.join("run.jsonl")).unwrap(),
        std::fs::read(fixtures().join("good.jsonl")).unwrap()
    );
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("meta.json")).unwrap()).unwrap();
    assert_eq!(meta["commit"], "3f2a9c1");
    assert_eq!(meta["dirty"], false);
    assert_eq!(meta["mode"], "tcg");
    assert_eq!(meta["host"], "lab1");
    assert_eq!(meta["qemu_version"], "QEMU 10.0.2");
    assert_eq!(meta["status"], "complete");
    assert!(results.join("baseline/main/run.jsonl").is_file());

    // The stored folder is a valid RUN argument, and so is the baseline.
    traplab().args(["summary"]).arg(&dir).assert().code(0);
    traplab()
        .args(["compare", "--baseline", "main", "slow.jsonl", "--results"])
        .arg(&results)
        .assert()
        .code(1);
    traplab()
        .args([
            "compare",
            "--baseline",
            "main",
            "good_again.jsonl",
            "--results",
        ])
        .arg(&results)
        .assert()
        .code(0);
    traplab()
        .args(["compare", "--baseline", "nope", "good.jsonl", "--results"])
        .arg(&results)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no baseline named \"nope\""));
}

#[test]
fn ingest_refuses_bad_baseline_names_and_unusable_runs() {
    let tmp = tempfile::tempdir().unwrap();
    traplab()
        .args([
            "ingest",
            "good.jsonl",
            "--save-baseline",
            "../x",
            "--results",
        ])
        .arg(tmp.path())
        .assert()
        .code(2);
    traplab()
        .args(["ingest", "noise_only.jsonl", "--results"])
        .arg(tmp.path())
        .assert()
        .code(2);
    assert_eq!(
        std::fs::read_dir(tmp.path()).unwrap().count(),
        0,
        "nothing may be stored"
    );
}

#[test]
fn real_captures_validate_clean_and_summarize() {
    // Real kernel captures dropped in as tests/fixtures/real-*.jsonl.
    for entry in std::fs::read_dir(fixtures()).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.starts_with("real-") && name.ends_with(".jsonl") {
            stdout_of(&["validate", &name], 0);
            stdout_of(&["summary", &name, "--format", "json"], 0);
        }
    }
}

/// The real capture the wire crate keeps (a kernel run under icount).
fn wire_capture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../wire/tests/fixtures/kernel-run.jsonl")
}

#[test]
fn real_kernel_capture_is_clean_and_identical_icount_runs_compare_unchanged() {
    let run = wire_capture();
    assert!(
        run.is_file(),
        "{} moved? point this test at the real capture",
        run.display()
    );
    traplab()
        .arg("validate")
        .arg(&run)
        .assert()
        .code(0)
        .stdout(predicate::str::contains(": clean:"));
    let out = traplab()
        .arg("summary")
        .arg(&run)
        .args(["--format", "json"])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let rows: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let rows = rows.as_array().unwrap();
    assert!(rows.len() > 10, "{} series", rows.len());
    assert!(rows.iter().all(|r| r["mode"] == "icount"));
    assert!(
        rows.iter()
            .any(|r| r["stages"].as_array().is_some_and(|s| s.len() == 4)),
        "no stage data"
    );
    // Deterministic mode: a run against itself is unchanged with zero width.
    let out = traplab()
        .arg("compare")
        .arg(&run)
        .arg(&run)
        .args(["--format", "json"])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let cmp: serde_json::Value = serde_json::from_slice(&out).unwrap();
    for r in cmp.as_array().unwrap() {
        assert_eq!(r["verdict"], "unchanged", "{r}");
        assert_eq!(
            (r["ci_low"].as_f64(), r["ci_high"].as_f64()),
            (Some(1.0), Some(1.0)),
            "{r}"
        );
        assert_eq!(r["method"], "exact");
    }
}

// `traplab jit` and `traplab wast` on `jit.jsonl`: a real TCG capture
// trimmed by `examples/jit_fixture.rs` (four compute workloads, the trap
// that prices the break-even, in-kernel Cranelift, raw floors) plus the
// results of a real `traplab-wast` run.

#[test]
fn jit_fixture_is_a_clean_run() {
    let out = stdout_of(&["validate", "jit.jsonl"], 0);
    assert!(out.contains(": clean:"), "{out}");
}

#[test]
fn jit_snapshots_in_every_format() {
    for format in ["table", "md", "csv", "json", "latex"] {
        let out = stdout_of(&["jit", "jit.jsonl", "--format", format], 0);
        insta::assert_snapshot!(format!("jit_{format}"), out);
    }
    insta::assert_snapshot!(
        "jit_table_ns",
        stdout_of(&["jit", "jit.jsonl", "--unit", "ns"], 0)
    );
}

#[test]
fn wast_snapshots_in_every_format() {
    for format in ["table", "md", "csv", "json", "latex"] {
        let out = stdout_of(&["wast", "jit.jsonl", "--format", format], 0);
        insta::assert_snapshot!(format!("wast_{format}"), out);
    }
}

#[test]
fn wast_table_ends_with_the_totals_and_jit_points_to_it() {
    let out = stdout_of(&["wast", "jit.jsonl"], 0);
    assert!(
        out.ends_with("\n10 passed, 0 failed, 12 unsupported\n"),
        "{out}"
    );
    let v: serde_json::Value =
        serde_json::from_str(&stdout_of(&["wast", "jit.jsonl", "--format", "json"], 0)).unwrap();
    assert_eq!(
        (&v["passed"], &v["failed"], &v["unsupported"]),
        (
            &serde_json::json!(10),
            &serde_json::json!(0),
            &serde_json::json!(12)
        )
    );
    let jit = stdout_of(&["jit", "jit.jsonl"], 0);
    assert!(
        jit.contains(".wast conformance results are in `traplab wast`"),
        "{jit}"
    );
    traplab()
        .args(["wast", "good.jsonl"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "good.jsonl: no .wast results: no wast.* experiments",
        ));
}

#[test]
fn jit_table_states_the_mode_and_the_break_even_inputs() {
    let out = stdout_of(&["jit", "jit.jsonl"], 0);
    assert!(
        out.contains("mode   TCG real time (emulation cost, not hardware cost)"),
        "{out}"
    );
    // The break-even names the trap experiment and configurations it used.
    assert!(
        out.contains("p50 of trap.oob_load under signals.bt_off and explicit.bt_off"),
        "{out}"
    );
    // matmul's explicit checks are faster than signals under TCG: never.
    let matmul = out
        .lines()
        .filter(|l| l.starts_with("matmul "))
        .nth(2)
        .unwrap();
    assert!(
        matmul.contains("never") && matmul.contains("explicit checks not slower"),
        "{matmul}"
    );
}

#[test]
fn jit_json_has_the_documented_keys() {
    let out = stdout_of(&["jit", "jit.jsonl", "--format", "json"], 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    for key in ["mode", "compute", "geomean", "break_even", "cranelift"] {
        assert!(keys.contains(&key), "{key} missing from {keys:?}");
    }
    assert_eq!(v["mode"], "tcg");
    let compute = v["compute"].as_array().unwrap();
    assert_eq!(compute.len(), 4);
    let fib = &compute[0];
    assert_eq!(fib["workload"], "fib");
    assert_eq!(fib["soft_float"], false);
    assert!(fib["wasm_native"].as_f64().unwrap() > 1.0);
    assert_eq!(fib["load"][0]["config"], "signals.bt_off");
    assert!(fib["load"][0]["host_compile_ms"].as_f64().unwrap() > 0.0);
    assert_eq!(
        v["geomean"]["wasm_native_integer"]["workloads"],
        serde_json::json!(["fib", "sieve"])
    );
    let be = v["break_even"].as_array().unwrap();
    assert_eq!(be.len(), 4);
    assert!(be[0]["traps_per_second"].as_f64().unwrap() > 0.0);
    assert_eq!(be[2]["never"], "explicit_not_slower");
    assert_eq!(v["cranelift"]["compile"].as_array().unwrap().len(), 4);
    assert_eq!(v["cranelift"]["faults"][0]["floor"], "raw.pf");
    assert!(v.get("wast").is_none(), "`.wast` is `traplab wast`'s");
}

#[test]
fn jit_without_jit_data_is_bad_input_and_ns_needs_a_tsc() {
    traplab()
        .args(["jit", "good.jsonl"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "good.jsonl: no JIT-performance data: no compute.* or jit.* experiments",
        ));
    let text = std::fs::read_to_string(fixtures().join("jit.jsonl")).unwrap();
    let headless: String = text.lines().skip(1).map(|l| format!("{l}\n")).collect();
    traplab()
        .args(["jit", "-", "--unit", "ns"])
        .write_stdin(headless.clone())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no TSC frequency"));
    // In cycles a headless run still works, without traps per second.
    traplab()
        .args(["jit", "-"])
        .write_stdin(headless)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("mode   unknown (header lost)"))
        .stdout(predicate::str::contains(
            "no TSC frequency in this run: no traps/s",
        ));
}

#[test]
fn saving_a_baseline_again_keeps_what_people_wrote_beside_it() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    let save = || {
        traplab()
            .args([
                "ingest",
                "good.jsonl",
                "--save-baseline",
                "main",
                "--results",
            ])
            .arg(&results)
            .assert()
            .code(0)
            .get_output()
            .stderr
            .clone()
    };
    save();
    let baseline = results.join("baseline").join("main");
    std::fs::write(baseline.join("README.md"), "how this baseline was made\n").unwrap();
    let stderr = String::from_utf8(save()).unwrap();
    assert_eq!(
        std::fs::read_to_string(baseline.join("README.md")).unwrap(),
        "how this baseline was made\n"
    );
    assert!(baseline.join("run.jsonl").is_file());
    assert!(stderr.contains("kept README.md"), "{stderr}");
}
