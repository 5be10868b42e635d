//! `traplab campaign` (and the campaign parts of `plot` and `report`) on the
//! committed campaign fixtures (`examples/campaign_fixtures.rs`: synthetic
//! injections under a real kernel header): a finished campaign, a kernel
//! crash mid-campaign, a truncated injection line; exit codes, every
//! export format, and the figures.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use traplab_wire::Outcome;

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

fn json_of(args: &[&str], code: i32) -> serde_json::Value {
    let mut a = args.to_vec();
    a.extend(["--format", "json"]);
    serde_json::from_str(&stdout_of(&a, code)).expect("valid JSON")
}

/// Width and height of a PNG from its IHDR chunk.
fn png_size(path: &Path) -> (u32, u32) {
    let b = std::fs::read(path).unwrap();
    assert_eq!(&b[1..4], b"PNG", "{} is not a PNG", path.display());
    let be = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    (be(16), be(20))
}

#[test]
fn campaign_snapshots_in_every_format() {
    for format in ["table", "md", "csv", "json", "latex"] {
        let out = stdout_of(&["campaign", "campaign.jsonl", "--format", format], 0);
        insta::assert_snapshot!(format!("campaign_{format}"), out);
    }
    insta::assert_snapshot!(
        "campaign_table_ns",
        stdout_of(&["campaign", "campaign.jsonl", "--unit", "ns"], 0)
    );
}

#[test]
fn campaign_table_has_the_mode_every_section_and_a_passing_verdict() {
    let out = stdout_of(&["campaign", "campaign.jsonl"], 0);
    for want in [
        "mode   icount (deterministic",
        "outcomes per injector and target",
        "fault-injection summary (as in Theseus, OSDI'20)",
        "recovered/contained",
        "recovery latency (cycles)",
        "trap latency under injection (cycles)",
        "what the manifested faults raised",
        "sequence completeness",
        "verdict: pass: 180 injection(s), zero kernel crashes",
    ] {
        assert!(out.contains(want), "{want:?} missing:\n{out}");
    }
    for o in Outcome::ALL {
        assert!(out.contains(o.name()), "{} missing", o.name());
    }
}

#[test]
fn campaign_json_counts_every_outcome_and_sums_to_the_injections() {
    let v = json_of(&["campaign", "campaign.jsonl"], 0);
    assert_eq!(v["injections"], 180);
    let outcomes = v["outcomes"].as_object().unwrap();
    assert_eq!(outcomes.len(), Outcome::ALL.len());
    for o in Outcome::ALL {
        assert!(outcomes[o.name()].is_u64(), "{} missing", o.name());
    }
    let sum: u64 = outcomes.values().map(|x| x.as_u64().unwrap()).sum();
    assert_eq!(sum, 180);
    assert_eq!(v["outcomes"]["kernel_crash"], 0);
    assert_eq!(v["complete"], true);
    assert_eq!(v["verdict"], "pass");
    assert_eq!(v["mode"], "icount");
    let inj = v["per_injector"].as_array().unwrap();
    assert_eq!(inj.len(), 6);
    assert_eq!(inj[0]["injector"], "noop");
    assert_eq!(inj[0]["outcomes"]["masked"], 30);
    assert!(inj[1]["recovery"]["p50"].is_u64());
    assert!(inj[0]["recovery"].is_null());
    assert_eq!(v["campaigns"][0]["name"], "default");
    assert_eq!(v["campaigns"][0]["result"], "ok");
}

#[test]
fn kernel_crash_mid_campaign_is_counted_once_and_exits_1() {
    let v = json_of(&["campaign", "campaign_crash.jsonl"], 1);
    assert_eq!(v["injections"], 42);
    assert_eq!(v["outcomes"]["kernel_crash"], 1);
    assert_eq!(v["verdict"], "fail");
    let crash = &v["campaigns"][0]["kernel_crash"];
    assert_eq!(crash["index"], 41);
    assert_eq!(crash["injector"], "bit_flip_register");
    assert_eq!(crash["target"], "compute.sieve");
    traplab()
        .args(["campaign", "campaign_crash.jsonl"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "campaign default: kernel crash during injection 41 (bit_flip_register → compute.sieve), not resumed: kernel fault #PF",
        ))
        .stdout(predicate::str::contains("verdict: FAIL"))
        .stderr(predicate::str::contains(
            "campaign_crash.jsonl:43: warning: kernel fault #PF",
        ));
    insta::assert_snapshot!(
        "campaign_crash_table",
        stdout_of(&["campaign", "campaign_crash.jsonl"], 1)
    );
}

#[test]
fn truncated_injection_line_is_a_diagnostic_and_an_incomplete_sequence() {
    traplab()
        .args(["campaign", "campaign_truncated.jsonl"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "campaign_truncated.jsonl:22: error: truncated",
        ))
        .stdout(predicate::str::contains(
            "campaign default: 1 of 60 injection record(s) missing: index 20",
        ))
        .stdout(predicate::str::contains("sequence INCOMPLETE"));
    let v = json_of(&["campaign", "campaign_truncated.jsonl"], 1);
    assert_eq!(v["injections"], 59);
    assert_eq!(v["complete"], false);
    assert_eq!(v["campaigns"][0]["missing"], serde_json::json!([20]));
}

#[test]
fn hostile_injection_records_are_dropped_with_a_reason_never_a_panic() {
    let good = std::fs::read_to_string(fixtures().join("campaign_crash.jsonl")).unwrap();
    let mut lines: Vec<String> = good.lines().map(str::to_string).collect();
    // Intact on the wire (valid check), hostile in content: an outcome the
    // wire format does not have, and an index of the wrong type.
    let reframe = |line: &str, from: &str, to: &str| {
        let covered = &line[..line.len() - ",\"crc\":\"xxxxxxxx\"}".len()];
        assert!(covered.contains(from), "{from} not in {covered}");
        let covered = covered.replacen(from, to, 1);
        format!(
            "{covered},\"crc\":\"{:08x}\"}}",
            crc32fast::hash(covered.as_bytes())
        )
    };
    lines[3] = reframe(&lines[3], "\"outcome\":\"", "\"outcome\":\"exploded_");
    lines[4] = reframe(&lines[4], "\"index\":3", "\"index\":\"3\"");
    // Garbage in the middle of a campaign, and a cut final line.
    lines.insert(6, "\u{1b}[0m@@ noise @@".into());
    let last = lines.len() - 1;
    let half = lines[last].len() / 2;
    lines[last].truncate(half);
    let out = traplab()
        .args(["campaign", "-"])
        .write_stdin(lines.join("\n"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("-:4: error: invalid record"))
        .stderr(predicate::str::contains("-:5: error: invalid record"))
        .get_output()
        .stdout
        .clone();
    let out = String::from_utf8(out).unwrap();
    assert!(
        out.contains("2 of 42 injection record(s) missing: index 2, 3"),
        "{out}"
    );
    assert!(out.contains("no end record"), "{out}");
}

#[test]
fn campaign_without_injections_is_bad_input_naming_the_file() {
    traplab()
        .args(["campaign", "good.jsonl"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "traplab: error: good.jsonl: no fault-injection campaign",
        ));
    traplab()
        .args(["campaign", "noise_only.jsonl"])
        .assert()
        .code(2);
    traplab()
        .args(["campaign", "no-such-run.jsonl"])
        .assert()
        .code(2);
}

#[test]
fn campaign_reads_stdin_and_ns_needs_a_tsc_frequency() {
    let text = std::fs::read_to_string(fixtures().join("campaign.jsonl")).unwrap();
    traplab()
        .args(["campaign", "-", "--unit", "ns"])
        .write_stdin(text.clone())
        .assert()
        .code(0)
        .stdout(predicate::str::contains("recovery latency (ns)"));
    let no_tsc = text.replacen("\"hz\":1000000214", "\"hz\":0", 1);
    // The header's check no longer matches: the header is dropped and with
    // it the TSC frequency.
    traplab()
        .args(["campaign", "-", "--unit", "ns"])
        .write_stdin(no_tsc)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot show ns"));
}

#[test]
fn campaign_plot_writes_outcome_bars_and_recovery_cdf_at_paper_sizes() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("figs");
    traplab()
        .args(["campaign", "campaign_crash.jsonl", "--plot"])
        .arg(&out)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("campaign-default-outcomes.png"));
    for stem in [
        "campaign-default-outcomes",
        "campaign-default-outcomes-by-target",
        "campaign-default-recovery",
    ] {
        for ext in ["svg", "png"] {
            let f = out.join(format!("{stem}.{ext}"));
            assert!(f.is_file(), "{} missing", f.display());
        }
        let svg = std::fs::read_to_string(out.join(format!("{stem}.svg"))).unwrap();
        assert!(svg.contains("mode: icount"), "{stem}: no mode caption");
    }
    // One column is 3.5 in, two columns 7.16 in, at 300 dpi.
    assert_eq!(png_size(&out.join("campaign-default-outcomes.png")).0, 1050);
    assert_eq!(png_size(&out.join("campaign-default-recovery.png")).0, 1050);
    assert_eq!(
        png_size(&out.join("campaign-default-outcomes-by-target.png")).0,
        2148
    );
    let svg = std::fs::read_to_string(out.join("campaign-default-outcomes.svg")).unwrap();
    for o in Outcome::ALL {
        assert!(svg.contains(o.name()), "legend lacks {}", o.name());
    }
    let cdf = std::fs::read_to_string(out.join("campaign-default-recovery.svg")).unwrap();
    assert!(cdf.contains("recovery time (cycles, log scale)"));
}

#[test]
fn plot_and_report_include_the_campaign() {
    let tmp = tempfile::tempdir().unwrap();
    let figs = tmp.path().join("figs");
    traplab()
        .args(["plot", "campaign.jsonl", "--unit", "ns", "--out"])
        .arg(&figs)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("campaign-default-outcomes.svg"));
    let cdf = std::fs::read_to_string(figs.join("campaign-default-recovery.svg")).unwrap();
    assert!(cdf.contains("recovery time (ns, log scale)"));

    let rep = tmp.path().join("report");
    traplab()
        .args(["report", "campaign_crash.jsonl", "--out"])
        .arg(&rep)
        .assert()
        .code(0);
    let md = std::fs::read_to_string(rep.join("report.md")).unwrap();
    for want in [
        "### Fault-injection campaign",
        "| bit_flip_register | compute.sieve |",
        "recovered/contained",
        "verdict: FAIL",
        "kernel crash during injection 41",
        "figures/campaign-default-outcomes.png",
        "figures/campaign-default-recovery.png",
        "tables/campaign.tex",
    ] {
        assert!(md.contains(want), "{want:?} missing from report.md");
    }
    let tex = std::fs::read_to_string(rep.join("tables/campaign.tex")).unwrap();
    assert!(tex.contains("\\begin{tabular}") && tex.contains("icount"));
    assert!(rep.join("figures/campaign-default-outcomes.png").is_file());
}

/// A real capture: the shipped smoke campaign streamed by the kernel under
/// QEMU `-icount` (`traplab-run --profile icount --campaign smoke
/// --boot-args "only=campaign. heap_traps=0"`), not synthesized.
#[test]
fn a_real_kernel_campaign_capture_passes_and_adds_up() {
    let json = json_of(&["campaign", "campaign_smoke_icount.jsonl"], 0);
    let total = json["injections"].as_u64().unwrap();
    assert_eq!(total, 132);
    let outcomes = json["outcomes"].as_object().unwrap();
    assert_eq!(outcomes.len(), Outcome::ALL.len());
    let sum: u64 = outcomes.values().map(|v| v.as_u64().unwrap()).sum();
    assert_eq!(sum, total, "every injection has exactly one outcome");
    assert_eq!(outcomes["kernel_crash"], 0);
    // Each injector manifests the way it is built to.
    let per: std::collections::BTreeMap<String, serde_json::Value> = json["per_injector"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["injector"].as_str().unwrap().to_string(),
                p["outcomes"].clone(),
            )
        })
        .collect();
    assert_eq!(per["noop"]["masked"], 24, "the baseline is always masked");
    assert!(per["divisor_zero"]["trapped"].as_u64().unwrap() > 0);
    assert!(per["page_revoke"]["trapped"].as_u64().unwrap() > 0);
    assert!(per["code_patch"]["contained"].as_u64().unwrap() > 0);
    let table = stdout_of(&["campaign", "campaign_smoke_icount.jsonl"], 0);
    assert!(table.contains("icount"), "the mode is named:\n{table}");
    assert!(table.contains("IntegerDivisionByZero"), "{table}");
}

/// A real capture (`harness/tests/campaign.rs`, smoke campaign under
/// icount with `crash_at=40 hang_at=90`): three boots joined by the
/// host's reboot records.
#[test]
fn crashes_resumed_by_reboots_are_outcomes_and_the_run_is_clean() {
    traplab()
        .args(["validate", "campaign_reboot_icount.jsonl"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("clean"));
    let v = json_of(&["campaign", "campaign_reboot_icount.jsonl"], 0);
    assert_eq!(v["verdict"], "pass", "{}", v["problems"]);
    assert_eq!(v["injections"], 132);
    assert_eq!(v["outcomes"]["kernel_crash"], 2);
    let c = &v["campaigns"][0];
    assert!(c["kernel_crash"].is_null(), "no crash ended the run");
    let crashes = c["kernel_crashes"].as_array().unwrap();
    let summary: Vec<(u64, &str, bool)> = crashes
        .iter()
        .map(|k| {
            (
                k["index"].as_u64().unwrap(),
                k["cause"].as_str().unwrap(),
                k["resumed"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(summary, [(40, "panic", true), (90, "hang", true)]);
    assert_eq!(c["reboot_ms"].as_array().unwrap().len(), 2);
    assert!(
        v["crash_sites"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["site"]
                .as_str()
                .is_some_and(|s| s.contains("campaign::run"))),
        "{}",
        v["crash_sites"]
    );
}
