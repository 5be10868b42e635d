//! "Honest statuses and nothing lost": an empty stream is not clean, every
//! file given to `validate` is checked, the same capture is stored once,
//! `meta.json` and the tables say what the stream says, `history` and
//! `compare` leave incomplete/damaged runs and other suites out (and say
//! so), and the exit codes follow the project's one scheme.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn traplab() -> Command {
    let mut c = Command::cargo_bin("traplab").expect("binary builds");
    c.current_dir(fixtures()).env_remove("TRAPLAB_RESULTS");
    c
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8 output")
}

/// `traplab ingest FIXTURE` into `results`; returns the run folder printed.
fn ingest(results: &Path, fixture: &str, date: &str) -> PathBuf {
    let out = traplab()
        .args([
            "ingest",
            fixture,
            "--host",
            "lab",
            "--qemu-version",
            "QEMU 10",
        ])
        .args(["--commit-date", date, "--results"])
        .arg(results)
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    PathBuf::from(text(&out).trim())
}

fn meta(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("meta.json")).unwrap()).unwrap()
}

#[test]
fn validate_of_an_empty_stream_is_not_clean() {
    let tmp = tempfile::tempdir().unwrap();
    let empty = tmp.path().join("empty.jsonl");
    std::fs::write(&empty, b"").unwrap();
    let out = traplab().arg("validate").arg(&empty).assert().code(1);
    assert_eq!(
        text(&out.get_output().stdout),
        format!("{}: no header record (empty stream)\n", empty.display())
    );
    traplab()
        .args(["validate", "-"])
        .write_stdin("")
        .assert()
        .code(1)
        .stdout("-: no header record (empty stream)\n");
}

#[test]
fn validate_checks_every_file_and_exits_with_the_worst_status() {
    let out = traplab()
        .args([
            "validate",
            "good.jsonl",
            "does-not-exist.jsonl",
            "missing_end.jsonl",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("does-not-exist.jsonl"))
        .get_output()
        .stdout
        .clone();
    let out = text(&out);
    assert!(out.contains("good.jsonl: clean:"), "{out}");
    assert!(out.contains("does-not-exist.jsonl: unreadable"), "{out}");
    // The file after the missing one was still checked.
    assert!(
        out.contains("missing_end.jsonl: 0 errors, 1 warning:"),
        "{out}"
    );
    // Problems but nothing unreadable: 1.
    traplab()
        .args(["validate", "good.jsonl", "missing_end.jsonl"])
        .assert()
        .code(1);
}

#[test]
fn ingest_of_the_same_capture_twice_stores_it_once() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    let first = ingest(&results, "good.jsonl", "2026-11-01T12:00:00Z");
    let sha = meta(&first)["sha256"].as_str().unwrap().to_string();
    assert_eq!(sha.len(), 64);
    let out = traplab()
        .args(["ingest", "good.jsonl", "--results"])
        .arg(&results)
        .assert()
        .code(0)
        .stderr(predicate::str::contains(format!(
            "already stored as {}",
            first.display()
        )))
        .get_output()
        .stdout
        .clone();
    assert_eq!(PathBuf::from(text(&out).trim()), first);
    // Also through stdin, and for a run stored before meta held sha256.
    let mut m = meta(&first);
    m.as_object_mut().unwrap().remove("sha256");
    std::fs::write(first.join("meta.json"), m.to_string()).unwrap();
    traplab()
        .args(["ingest", "-", "--results"])
        .arg(&results)
        .write_stdin(std::fs::read(fixtures().join("good.jsonl")).unwrap())
        .assert()
        .code(0)
        .stderr(predicate::str::contains("already stored as"));
    let commit_dir = first.parent().unwrap();
    assert_eq!(std::fs::read_dir(commit_dir).unwrap().count(), 1);
    // A different capture is still stored.
    let other = ingest(&results, "good_again.jsonl", "2026-11-01T12:00:00Z");
    assert_ne!(other, first);
}

#[test]
fn meta_status_says_what_the_stream_says() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    for (fixture, status) in [
        ("good.jsonl", "complete"),
        ("missing_end.jsonl", "incomplete"),
        ("truncated.jsonl", "damaged"),
        ("flipped.jsonl", "damaged"),
    ] {
        let dir = ingest(&results, fixture, "2026-11-01T12:00:00Z");
        assert_eq!(meta(&dir)["status"], status, "{fixture}");
    }
}

#[test]
fn history_leaves_out_incomplete_damaged_and_other_suites_and_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    ingest(&results, "good.jsonl", "2026-11-01T12:00:00Z");
    let damaged = ingest(&results, "truncated.jsonl", "2026-11-02T12:00:00Z");
    let incomplete = ingest(&results, "missing_end.jsonl", "2026-11-02T13:00:00Z");
    let peers = ingest(&results, "peers-lab-tcg.jsonl", "2026-11-02T14:00:00Z");
    ingest(&results, "good_again.jsonl", "2026-11-03T12:00:00Z");
    let out = traplab()
        .arg("history")
        .arg(&results)
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let out = text(&out);
    assert!(
        out.contains(&format!("left out: {} (damaged,", damaged.display())),
        "{out}"
    );
    assert!(
        out.contains(&format!("left out: {} (incomplete,", incomplete.display())),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "left out: {} (suite peers, not traps;",
            peers.display()
        )),
        "{out}"
    );
    assert!(out.contains("2 runs"), "{out}");
    let all = traplab()
        .arg("history")
        .arg(&results)
        .arg("--include-incomplete")
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let all = text(&all);
    assert!(
        !all.contains("(damaged,") && !all.contains("(incomplete,"),
        "{all}"
    );
    assert!(all.contains("4 runs"), "{all}");
}

#[test]
fn compare_leaves_out_damaged_runs_and_other_suites_unless_asked() {
    traplab()
        .args(["compare", "good.jsonl", "truncated.jsonl"])
        .assert()
        .code(2)
        .stdout(predicate::str::contains(
            "left out: CAND truncated.jsonl (damaged, 2 problem(s); --include-incomplete compares it)",
        ));
    traplab()
        .args(["compare", "missing_end.jsonl", "good.jsonl"])
        .assert()
        .code(2)
        .stdout(predicate::str::contains(
            "left out: BASE missing_end.jsonl (incomplete,",
        ));
    traplab()
        .args([
            "compare",
            "good.jsonl",
            "truncated.jsonl",
            "--include-incomplete",
        ])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("left out").not());
    traplab()
        .args(["compare", "good.jsonl", "peers-lab-tcg.jsonl"])
        .assert()
        .code(2)
        .stdout(predicate::str::contains(
            "(suite peers, BASE good.jsonl is suite traps; --any-suite compares them)",
        ));
}

#[test]
fn summary_of_a_run_with_a_dropped_line_says_damaged() {
    let tmp = tempfile::tempdir().unwrap();
    let good = std::fs::read_to_string(fixtures().join("good.jsonl")).unwrap();
    // Drop line 2: the samples of trap.oob_load/signals.bt_off.
    let dropped: String = good
        .lines()
        .enumerate()
        .filter(|(i, _)| *i != 1)
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    let file = tmp.path().join("dropped.jsonl");
    std::fs::write(&file, dropped).unwrap();
    let out = traplab()
        .arg("summary")
        .arg(&file)
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let out = text(&out);
    assert!(out.contains("status damaged ("), "{out}");
    let row = out
        .lines()
        .find(|l| l.starts_with("trap.oob_load") && l.contains("signals.bt_off"))
        .unwrap_or_else(|| panic!("no row:\n{out}"));
    assert!(row.contains("damaged"), "{row}");
    assert!(!row.contains(" ok "), "{row}");
    // The other series arrived whole.
    let other = out
        .lines()
        .find(|l| l.starts_with("raw.pf"))
        .unwrap_or_else(|| panic!("no raw.pf row:\n{out}"));
    assert!(other.contains(" ok "), "{other}");
    // The same in json.
    let json = traplab()
        .arg("summary")
        .arg(&file)
        .args(["--format", "json"])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let rows: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(rows[0]["status"], "damaged");
}

#[test]
fn help_documents_the_projects_exit_codes() {
    let out = traplab()
        .arg("--help")
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let help = text(&out);
    for needle in [
        "harness/src/exit.rs",
        "0  success",
        "1  problems found",
        "2  bad setup or usage",
        "3 (kernel crash), 4 (timeout) and 5 (interrupted)",
    ] {
        assert!(help.contains(needle), "{needle} missing:\n{help}");
    }
    // Usage errors and a missing file are 2.
    traplab().arg("bogus").assert().code(2);
    traplab()
        .args(["summary", "does-not-exist.jsonl"])
        .assert()
        .code(2);
}
