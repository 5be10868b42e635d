//! The Linux peers through the `traplab` binary: storing them with a run
//! (`ingest --peer`), the ring 0 vs Linux view (`peers`, every format and
//! the figure), `RUN@PLATFORM` in `compare`, `summary` and `validate`, the
//! report's section, and the refusals (a peer of the wrong platform,
//! modes that differ, a platform missing).
//!
//! The streams are the synthetic `peers-*.jsonl` fixtures
//! (`examples/peer_fixtures.rs`): a lab-kernel run and its Linux guest under
//! TCG and under icount, and the Linux host peer.

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

/// `traplab ingest` of the TCG lab-kernel fixture with its peers into
/// `results`; returns the run folder.
fn ingest_with_peers(results: &Path, peers: &[&str]) -> PathBuf {
    let mut cmd = traplab();
    cmd.args(["ingest", "peers-lab-tcg.jsonl", "--host", "lab1"])
        .args(["--qemu-version", "QEMU 10.0.2"])
        .args(["--commit-date", "2026-11-01T10:00:00+00:00"]);
    for p in peers {
        cmd.args(["--peer", p]);
    }
    let out = cmd
        .arg("--results")
        .arg(results)
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    PathBuf::from(String::from_utf8(out).unwrap().trim())
}

fn json(bytes: &[u8]) -> serde_json::Value {
    serde_json::from_slice(bytes).expect("JSON")
}

#[test]
fn peer_streams_validate_clean_on_their_own() {
    for name in [
        "peers-guest-tcg",
        "peers-guest-icount",
        "peers-host",
        "peers-lab-tcg",
    ] {
        let out = stdout_of(&["validate", &format!("{name}.jsonl")], 0);
        assert!(out.contains(": clean:"), "{out}");
    }
    let out = stdout_of(&["validate", "peers-host.jsonl"], 0);
    assert!(out.contains("mode host"), "{out}");
    // The summary names the platform and shows Linux's two stages.
    let out = stdout_of(&["summary", "peers-guest-tcg.jsonl"], 0);
    assert!(
        out.contains("platform linux-guest · Linux 6.1.0-28-cloud-amd64"),
        "{out}"
    );
    assert!(
        out.contains("call_to_handler") && out.contains("handler_to_return"),
        "{out}"
    );
    traplab()
        .args(["summary", "peers-guest-tcg.jsonl"])
        .assert()
        .stderr(predicate::str::is_empty());
}

#[test]
fn ingest_stores_peers_in_the_run_folder_and_meta() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    let dir = ingest_with_peers(
        &results,
        &[
            "linux-guest=peers-guest-tcg.jsonl",
            "linux-host=peers-host.jsonl",
        ],
    );
    assert_eq!(dir.parent().unwrap(), results.join("3f2a9c1"));
    for (stored, original) in [
        ("run.jsonl", "peers-lab-tcg.jsonl"),
        ("peers/linux-guest.jsonl", "peers-guest-tcg.jsonl"),
        ("peers/linux-host.jsonl", "peers-host.jsonl"),
    ] {
        assert_eq!(
            std::fs::read(dir.join(stored)).unwrap(),
            std::fs::read(fixtures().join(original)).unwrap(),
            "{stored}"
        );
    }
    let meta = json(&std::fs::read(dir.join("meta.json")).unwrap());
    assert_eq!(meta["platform"], "lab-kernel");
    assert_eq!(meta["mode"], "tcg");
    let peers = meta["peers"].as_array().unwrap();
    assert_eq!(peers.len(), 2);
    assert_eq!(peers[0]["platform"], "linux-guest");
    assert_eq!(peers[0]["file"], "peers/linux-guest.jsonl");
    assert_eq!(peers[0]["mode"], "tcg");
    assert_eq!(peers[0]["os"], "Linux 6.1.0-28-cloud-amd64");
    assert_eq!(peers[0]["status"], "complete");
    assert_eq!(peers[0]["problems"], 0);
    assert_eq!(peers[0]["samples"], 720);
    assert_eq!(peers[1]["platform"], "linux-host");
    assert_eq!(peers[1]["mode"], "host");

    // Storing again makes a new folder; nothing is overwritten.
    let again = ingest_with_peers(&results, &["linux-guest=peers-guest-tcg.jsonl"]);
    assert_ne!(again, dir);
    assert!(dir.join("peers/linux-host.jsonl").is_file());
    assert!(!again.join("peers/linux-host.jsonl").exists());

    // RUN@PLATFORM names each stream of the stored run.
    let at = |p: &str| format!("{}@{p}", dir.display());
    traplab()
        .args(["validate", &at("linux-guest")])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("linux-guest.jsonl: clean:"));
    traplab()
        .args(["validate", &at("lab-kernel")])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("run.jsonl: clean:"));
    traplab()
        .args(["summary", &at("linux-host"), "--format", "json"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("\"mode\": \"host\""));
    // Peers travel with a saved baseline.
    traplab()
        .args(["ingest", "peers-lab-tcg.jsonl", "--save-baseline", "peers"])
        .args(["--peer", "linux-guest=peers-guest-tcg.jsonl"])
        .args([
            "--qemu-version",
            "x",
            "--commit-date",
            "2026-11-01T10:00:00Z",
        ])
        .arg("--results")
        .arg(&results)
        .assert()
        .code(0);
    assert!(
        results
            .join("baseline/peers/peers/linux-guest.jsonl")
            .is_file()
    );
}

#[test]
fn ingest_refuses_a_peer_of_another_platform_and_stores_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str); 5] = [
        (
            &[
                "ingest",
                "peers-lab-tcg.jsonl",
                "--peer",
                "linux-guest=peers-host.jsonl",
            ],
            "peers-host.jsonl: given as --peer linux-guest=…, but its header names platform \"linux-host\"",
        ),
        (
            &[
                "ingest",
                "peers-lab-tcg.jsonl",
                "--peer",
                "linux-guest=peers-guest-tcg.jsonl",
                "--peer",
                "linux-guest=peers-guest-icount.jsonl",
            ],
            "--peer linux-guest given twice",
        ),
        (
            &[
                "ingest",
                "peers-lab-tcg.jsonl",
                "--peer",
                "lab-kernel=peers-lab-icount.jsonl",
            ],
            "the lab kernel's stream is the CAPTURE itself",
        ),
        (
            &[
                "ingest",
                "peers-guest-tcg.jsonl",
                "--peer",
                "linux-host=peers-host.jsonl",
            ],
            "--peer stores Linux peers with a lab-kernel capture, but this capture's platform is \"linux-guest\"",
        ),
        (
            &[
                "ingest",
                "peers-lab-tcg.jsonl",
                "--peer",
                "linux-guest=noise_only.jsonl",
            ],
            "noise_only.jsonl: no records found",
        ),
    ];
    for (args, message) in cases {
        traplab()
            .args(args)
            .arg("--results")
            .arg(tmp.path())
            .assert()
            .code(2)
            .stderr(predicate::str::contains(message));
    }
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
}

#[test]
fn a_linux_stream_ingests_on_its_own_and_stays_out_of_history() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    for file in ["peers-guest-tcg.jsonl", "peers-lab-tcg.jsonl"] {
        traplab()
            .args(["ingest", file, "--qemu-version", "x"])
            .args(["--commit-date", "2026-11-01T10:00:00Z", "--results"])
            .arg(&results)
            .assert()
            .code(0);
    }
    let out = traplab()
        .arg("history")
        .arg(&results)
        .args(["--format", "csv"])
        .assert()
        .code(0)
        .stderr(predicate::str::contains(
            "a linux-guest run; history follows the lab kernel",
        ))
        .get_output()
        .stdout
        .clone();
    let csv = String::from_utf8(out).unwrap();
    // The lab kernel's raw.pf only (ring0); Linux's ring3 never got in.
    assert!(csv.contains("raw.pf,ring0"), "{csv}");
    assert!(!csv.contains("ring3"), "{csv}");
}

const TCG: [&str; 3] = [
    "peers-lab-tcg.jsonl",
    "peers-guest-tcg.jsonl",
    "peers-host.jsonl",
];

#[test]
fn peers_snapshots_in_every_format() {
    for format in ["table", "md", "csv", "json", "latex"] {
        let mut args = vec!["peers"];
        args.extend(TCG);
        args.extend(["--format", format]);
        insta::assert_snapshot!(format!("peers_{format}"), stdout_of(&args, 0));
    }
    // Two modes: a panel each, the host peer beside both.
    let out = stdout_of(
        &[
            "peers",
            "peers-lab-tcg.jsonl",
            "peers-guest-tcg.jsonl",
            "peers-lab-icount.jsonl",
            "peers-guest-icount.jsonl",
            "peers-host.jsonl",
        ],
        0,
    );
    insta::assert_snapshot!("peers_two_modes_table", out);
}

#[test]
fn peers_json_is_the_view() {
    let mut args = vec!["peers"];
    args.extend(TCG);
    args.extend(["--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout_of(&args, 0)).unwrap();
    assert_eq!(v["unit"], "cycles");
    let p = &v["panels"][0];
    assert_eq!(p["mode"], "tcg");
    assert_eq!(p["interval"]["method"], "bootstrap");
    assert_eq!(p["interval"]["confidence"], 0.99);
    assert_eq!(p["lab_kernel"]["platform"], "lab-kernel");
    assert_eq!(p["linux_guest"]["mode"], "tcg");
    assert_eq!(p["linux_host"]["mode"], "host");
    let rows = p["rows"].as_array().unwrap();
    let row = |e: &str, c: Option<&str>| {
        rows.iter()
            .find(|r| r["experiment"] == e && c.is_none_or(|c| r["config"] == c))
            .unwrap_or_else(|| panic!("no row {e} {c:?}"))
    };
    let oob = row("trap.oob_load", Some("signals.bt_on"));
    assert_eq!(oob["group"], "trap");
    assert_eq!(oob["lab_kernel"]["raises"], "#PF");
    assert_eq!(oob["linux_guest"]["raises"], "SIGSEGV");
    let r = &oob["ratio"];
    let (lo, val, hi) = (
        r["low"].as_f64().unwrap(),
        r["value"].as_f64().unwrap(),
        r["high"].as_f64().unwrap(),
    );
    assert!(lo < val && val < hi && val < 1.0, "{r}");
    let pf = row("raw.pf", None);
    assert_eq!(pf["group"], "floor");
    assert_eq!(pf["config"], serde_json::Value::Null);
    assert_eq!(pf["lab_kernel"]["config"], "ring0");
    assert_eq!(pf["linux_guest"]["config"], "ring3");
    let sys = row("raw.syscall", None);
    assert_eq!(sys["lab_kernel"], serde_json::Value::Null);
    assert_eq!(sys["ratio"], serde_json::Value::Null);
    assert!(sys["linux_host"]["p50"].as_u64().unwrap() > 0);
    assert_eq!(row("call.null", Some("explicit.bt_off"))["group"], "call");
}

#[test]
fn peers_of_a_stored_run_and_its_figure() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = ingest_with_peers(
        &tmp.path().join("results"),
        &[
            "linux-guest=peers-guest-tcg.jsonl",
            "linux-host=peers-host.jsonl",
        ],
    );
    let figs = tmp.path().join("figs");
    let out = traplab()
        .arg("peers")
        .arg(&dir)
        .arg("--plot")
        .arg(&figs)
        .assert()
        .code(0)
        .stderr(predicate::str::contains("peers-ratios.png"))
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("linux-guest p50 (tcg)"), "{text}");
    assert!(text.contains("linux-host p50 (host)"), "{text}");
    let png = std::fs::read(figs.join("peers-ratios.png")).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    assert!(figs.join("peers-ratios.svg").is_file());
    // The same run given as its streams gives the same table.
    let at = |p: &str| format!("{}@{p}", dir.display());
    let by_stream = traplab()
        .args([
            "peers",
            &at("lab-kernel"),
            &at("linux-guest"),
            &at("linux-host"),
        ])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let strip = |s: &str| {
        s.lines()
            .filter(|l| !l.starts_with("lab-kernel:") && !l.starts_with("linux-"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(strip(&String::from_utf8(by_stream).unwrap()), strip(&text));
}

#[test]
fn peers_refuses_mixed_modes_and_names_what_is_missing() {
    traplab()
        .args(["peers", "peers-lab-tcg.jsonl", "peers-guest-icount.jsonl"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "cannot compare across measurement modes: lab-kernel is tcg, linux-guest is icount",
        ));
    // The host peer runs in its own mode: never a ratio partner.
    traplab()
        .args(["peers", "peers-lab-tcg.jsonl", "peers-host.jsonl"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "no linux-guest stream among peers-lab-tcg.jsonl (lab-kernel), peers-host.jsonl (linux-host)",
        ));
    traplab()
        .args(["peers", "peers-guest-tcg.jsonl"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no lab-kernel stream"));
    // A stored run without peers, and RUN@PLATFORM of a missing platform.
    let tmp = tempfile::tempdir().unwrap();
    let dir = ingest_with_peers(&tmp.path().join("results"), &[]);
    traplab()
        .arg("peers")
        .arg(&dir)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--peer linux-guest=FILE"));
    traplab()
        .args(["summary", &format!("{}@linux-guest", dir.display())])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "no linux-guest stream in this run (it holds: lab-kernel)",
        ));
    // A pair in one mode plus an unpaired stream: shown, flagged, no ratio.
    let out = stdout_of(
        &[
            "peers",
            "peers-lab-tcg.jsonl",
            "peers-guest-tcg.jsonl",
            "peers-lab-icount.jsonl",
        ],
        0,
    );
    assert!(
        out.contains(
            "note: icount: no linux-guest stream in mode icount (given in: tcg): no ratios in this panel"
        ),
        "{out}"
    );
}

#[test]
fn compare_across_platforms_of_one_run() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = ingest_with_peers(
        &tmp.path().join("results"),
        &[
            "linux-guest=peers-guest-tcg.jsonl",
            "linux-host=peers-host.jsonl",
        ],
    );
    let at = |p: &str| format!("{}@{p}", dir.display());
    let out = traplab()
        .args(["compare", &at("lab-kernel"), &at("linux-guest")])
        .assert()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("(commit 3f2a9c1, lab-kernel)"), "{text}");
    assert!(text.contains("(commit 3f2a9c1, linux-guest)"), "{text}");
    assert!(text.contains("raw.pf            ring0 vs ring3"), "{text}");
    // The Linux guest is slower everywhere here: every row regressed.
    assert!(text.contains("0 improved"), "{text}");
    assert!(
        text.contains("note: raw.pf_demand/ring0: only in base"),
        "{text}"
    );
    assert!(
        text.contains("note: raw.syscall/ring3: only in candidate"),
        "{text}"
    );
    // Never across modes.
    traplab()
        .args(["compare", &at("lab-kernel"), &at("linux-host")])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "cannot compare across measurement modes: base is tcg, candidate is host",
        ));
    traplab()
        .args(["compare", "--help"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("RUN@lab-kernel RUN@linux-guest"));
}

#[test]
fn report_has_a_ring_0_vs_linux_section_for_runs_with_peers() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = ingest_with_peers(
        &tmp.path().join("results"),
        &["linux-guest=peers-guest-tcg.jsonl"],
    );
    let out = tmp.path().join("report");
    traplab()
        .arg("report")
        .arg(&dir)
        .arg("--out")
        .arg(&out)
        .assert()
        .code(0);
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("### Ring 0 vs Linux"), "{md}");
    assert!(md.contains("| lab/Linux |"), "{md}");
    assert!(md.contains("figures/peers-ratios.png"), "{md}");
    assert!(out.join("figures/peers-ratios.png").is_file());
    assert!(out.join("tables/peers.tex").is_file());
    // A results folder: the newest lab-kernel run's section has it too.
    let out2 = tmp.path().join("report2");
    traplab()
        .arg("report")
        .arg(tmp.path().join("results"))
        .arg("--out")
        .arg(&out2)
        .assert()
        .code(0);
    let md = std::fs::read_to_string(out2.join("report.md")).unwrap();
    assert!(md.contains("### Ring 0 vs Linux"), "{md}");
    assert!(out2.join("figures/peers-ratios-tcg.png").is_file());
    // A run without peers has no such section.
    let out3 = tmp.path().join("report3");
    traplab()
        .args(["report", "peers-lab-tcg.jsonl", "--out"])
        .arg(&out3)
        .assert()
        .code(0);
    let md = std::fs::read_to_string(out3.join("report.md")).unwrap();
    assert!(!md.contains("Ring 0 vs Linux"), "{md}");
}

#[test]
fn a_run_suite_out_folder_without_meta_is_read_too() {
    // `run-suite.sh --out DIR` writes DIR/run.jsonl and DIR/peers/ as the
    // stored layout, without storing (no meta.json).
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    std::fs::create_dir_all(dir.join("peers")).unwrap();
    for (to, from) in [
        ("run.jsonl", "peers-lab-icount.jsonl"),
        ("peers/linux-guest.jsonl", "peers-guest-icount.jsonl"),
    ] {
        std::fs::copy(fixtures().join(from), dir.join(to)).unwrap();
    }
    let out = traplab()
        .arg("peers")
        .arg(&dir)
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("lab-kernel p50 (icount)"), "{text}");
    assert!(text.contains("exact ratio (deterministic mode"), "{text}");
    let report = tmp.path().join("report");
    traplab()
        .arg("report")
        .arg(dir.join("run.jsonl"))
        .arg("--out")
        .arg(&report)
        .assert()
        .code(0);
    let md = std::fs::read_to_string(report.join("report.md")).unwrap();
    assert!(md.contains("### Ring 0 vs Linux"), "{md}");
    traplab()
        .args(["compare", &format!("{}@lab-kernel", dir.display())])
        .arg(format!("{}@linux-guest", dir.display()))
        .assert()
        .stdout(predicate::str::contains("exact ratio"));
}

#[test]
fn help_lists_peers() {
    let help = stdout_of(&["--help"], 0);
    assert!(help.contains("peers"), "{help}");
    let help = stdout_of(&["ingest", "--help"], 0);
    assert!(help.contains("--peer <PLATFORM=FILE>"), "{help}");
    let help = stdout_of(&["peers", "--help"], 0);
    assert!(help.contains("--plot <DIR>"), "{help}");
}

#[test]
fn real_peer_captures_give_the_view() {
    // A real icount run with both peers, trimmed by
    // `examples/real_peer_fixtures.rs` (values unchanged).
    let real = [
        "real-peers-lab.jsonl",
        "real-peers-guest.jsonl",
        "real-peers-host.jsonl",
    ];
    for f in real {
        traplab()
            .args(["validate", f])
            .assert()
            .code(0)
            .stdout(predicate::str::contains(": clean:"));
    }
    let mut args = vec!["peers"];
    args.extend(real);
    insta::assert_snapshot!("peers_real_table", stdout_of(&args, 0));
    args.extend(["--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout_of(&args, 0)).unwrap();
    let p = &v["panels"][0];
    assert_eq!(p["mode"], "icount");
    assert_eq!(p["interval"]["method"], "exact");
    assert_eq!(p["linux_host"]["mode"], "host");
    for r in p["rows"].as_array().unwrap() {
        let signals = r["config"]
            .as_str()
            .is_some_and(|c| c.starts_with("signals"));
        let floor = r["group"] == "floor" && r["experiment"] != "raw.pf_demand";
        // Ring 0 beats a Linux signal round trip in every such row.
        if ((signals && r["group"] == "trap") || floor)
            && let Some(q) = r["ratio"]["value"].as_f64()
        {
            assert!(q < 1.0, "{r}");
            assert_eq!(r["ratio"]["low"], r["ratio"]["high"], "{r}");
        }
    }
}
