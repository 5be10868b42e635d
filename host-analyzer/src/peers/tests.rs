use traplab_wire::Platform;

use super::*;
use crate::ingest::parse;
use crate::synth::{RunSpec, jsonl};

fn run(platform: Platform, mode: &str) -> Run {
    let spec = RunSpec::peer(platform, mode, 60);
    parse(
        &format!("{}-{mode}.jsonl", platform.name()),
        jsonl(&spec).as_bytes(),
    )
}

fn inputs<'a>(runs: &[&'a Run]) -> Vec<Input<'a>> {
    runs.iter().map(|run| Input { run, group: None }).collect()
}

#[test]
fn synthetic_linux_streams_validate_clean() {
    for (platform, mode) in [
        (Platform::LinuxGuest, "tcg"),
        (Platform::LinuxGuest, "icount"),
        (Platform::LinuxHost, "host"),
        (Platform::LabKernel, "tcg"),
    ] {
        let r = run(platform, mode);
        assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
        assert_eq!(r.platform(), Some(platform.name()));
    }
    let g = run(Platform::LinuxGuest, "tcg");
    let t = g.find("trap.oob_load", "signals.bt_off").unwrap();
    let names: Vec<&str> = t.stages.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["call_to_handler", "handler_to_return"]);
}

#[test]
fn ratios_are_lab_over_guest_of_one_mode() {
    let (lab, guest, host) = (
        run(Platform::LabKernel, "tcg"),
        run(Platform::LinuxGuest, "tcg"),
        run(Platform::LinuxHost, "host"),
    );
    let view = build(&inputs(&[&lab, &guest, &host])).unwrap();
    assert_eq!(view.panels.len(), 1);
    let p = &view.panels[0];
    assert_eq!(p.mode, "tcg");
    assert_eq!(p.linux_host.as_ref().unwrap().mode, "host");
    assert_eq!(p.interval.method, IntervalMethod::Bootstrap);
    let oob = p
        .rows
        .iter()
        .find(|r| r.label() == "trap.oob_load/signals.bt_off")
        .unwrap();
    let r = oob.ratio.unwrap();
    let expect = crate::stats::median(&lab.find("trap.oob_load", "signals.bt_off").unwrap().total)
        / crate::stats::median(&guest.find("trap.oob_load", "signals.bt_off").unwrap().total);
    assert!((r.value - expect).abs() < 1e-4, "{r:?} vs {expect}");
    assert!(
        r.low <= r.value && r.value <= r.high && r.low < r.high,
        "{r:?}"
    );
    // Synthetic medians 7,176 vs 41,000: the lab kernel is about 5.7× faster.
    assert!((0.15..0.2).contains(&r.value), "{r:?}");
    assert_eq!(
        oob.lab_kernel.as_ref().unwrap().raises.as_deref(),
        Some("#PF")
    );
    assert_eq!(
        oob.linux_guest.as_ref().unwrap().raises.as_deref(),
        Some("SIGSEGV")
    );
    assert!(oob.linux_host.as_ref().unwrap().p50.is_some());
    // Floors pair ring0 with ring3; raw.syscall is Linux's only,
    // raw.pf_demand the lab kernel's only.
    let floor = |e: &str| p.rows.iter().find(|r| r.experiment == e).unwrap();
    let pf = floor("raw.pf");
    assert_eq!(pf.group, Group::Floor);
    assert_eq!(pf.config, None);
    assert_eq!(pf.lab_kernel.as_ref().unwrap().config, "ring0");
    assert_eq!(pf.linux_guest.as_ref().unwrap().config, "ring3");
    assert!(pf.ratio.is_some());
    let sys = floor("raw.syscall");
    assert!(sys.lab_kernel.is_none() && sys.ratio.is_none());
    assert!(sys.linux_guest.is_some() && sys.linux_host.is_some());
    let demand = floor("raw.pf_demand");
    assert!(demand.linux_guest.is_none() && demand.ratio.is_none());
    // Rows: 3 trap kinds × 3 configs, call.null × 3, 7 floors.
    assert_eq!(p.rows.len(), 9 + 3 + 7);
    assert_eq!(p.rows.iter().filter(|r| r.group == Group::Call).count(), 3);
    assert!(p.notes.is_empty(), "{:?}", p.notes);
}

#[test]
fn deterministic_mode_gives_exact_zero_width_ratios() {
    let (lab, guest) = (
        run(Platform::LabKernel, "icount"),
        run(Platform::LinuxGuest, "icount"),
    );
    let view = build(&inputs(&[&lab, &guest])).unwrap();
    let p = &view.panels[0];
    assert_eq!(p.interval.method, IntervalMethod::Exact);
    assert!(p.linux_host.is_none());
    for (_, r) in p.ratios() {
        assert_eq!((r.low, r.high), (r.value, r.value));
    }
}

#[test]
fn modes_are_never_mixed_in_a_ratio() {
    let (lab, guest) = (
        run(Platform::LabKernel, "tcg"),
        run(Platform::LinuxGuest, "kvm"),
    );
    let err = build(&inputs(&[&lab, &guest])).unwrap_err();
    assert_eq!(
        err,
        PeersError::ModeMismatch {
            lab: "tcg".into(),
            guest: "kvm".into()
        }
    );
    assert!(
        err.to_string()
            .contains("cannot compare across measurement modes")
    );
    // With a pair in one mode, the unpaired stream gets a panel of its
    // own, flagged, without ratios.
    let lab_kvm = run(Platform::LabKernel, "icount");
    let guest_tcg = run(Platform::LinuxGuest, "tcg");
    let view = build(&inputs(&[&lab, &guest_tcg, &lab_kvm, &guest])).unwrap();
    let modes: Vec<&str> = view.panels.iter().map(|p| p.mode.as_str()).collect();
    assert_eq!(modes, ["tcg", "icount", "kvm"]);
    assert!(view.panels[0].ratios().count() > 0);
    for p in &view.panels[1..] {
        assert_eq!(p.ratios().count(), 0, "{}", p.mode);
        assert!(
            p.notes
                .iter()
                .any(|n| n.contains("no ratios in this panel")),
            "{:?}",
            p.notes
        );
    }
    assert!(
        view.panels[1].notes[0]
            .contains("no linux-guest stream in mode icount (given in: tcg, kvm)")
    );
    // The host peer never forms a ratio, whatever its mode.
    let host = run(Platform::LinuxHost, "host");
    let err = build(&inputs(&[&lab, &host])).unwrap_err();
    assert!(matches!(err, PeersError::NoLinuxGuest(_)), "{err}");
}

#[test]
fn missing_platforms_and_lost_headers_are_named() {
    let guest = run(Platform::LinuxGuest, "tcg");
    let err = build(&inputs(&[&guest])).unwrap_err();
    assert!(matches!(err, PeersError::NoLabKernel(_)));
    assert!(
        err.to_string()
            .contains("no lab-kernel stream among linux-guest-tcg.jsonl (linux-guest)"),
        "{err}"
    );
    let lab = run(Platform::LabKernel, "tcg");
    let err = build(&inputs(&[&lab])).unwrap_err();
    assert!(err.to_string().contains("--peer linux-guest=FILE"), "{err}");
    let mut headless = lab.clone();
    headless.header = None;
    let err = build(&inputs(&[&headless, &guest])).unwrap_err();
    assert!(matches!(err, PeersError::HeaderLost(_)), "{err}");
    let mut odd = guest.clone();
    odd.header.as_mut().unwrap().platform = "freebsd".into();
    let err = build(&inputs(&[&lab, &odd])).unwrap_err();
    assert!(
        err.to_string().contains("unknown platform \"freebsd\""),
        "{err}"
    );
    let err = build(&inputs(&[&lab, &guest, &guest])).unwrap_err();
    assert!(matches!(err, PeersError::Duplicate { .. }), "{err}");
}

#[test]
fn different_exceptions_and_failures_are_noted() {
    let lab = run(Platform::LabKernel, "tcg");
    let mut guest = run(Platform::LinuxGuest, "tcg");
    for s in &mut guest.series {
        if s.experiment == "raw.ud" {
            let r = s.result.as_mut().unwrap();
            r.observed.as_mut().unwrap().signal = Some(traplab_wire::signal::SIGSEGV);
            r.status = traplab_wire::Status::Failed;
            r.message = Some("wrong signal".into());
        }
    }
    let view = build(&inputs(&[&lab, &guest])).unwrap();
    let notes = &view.panels[0].notes;
    assert!(
        notes.contains(&"raw.ud: failed on linux-guest: wrong signal".to_string()),
        "{notes:?}"
    );
    assert!(
        notes.contains(
            &"raw.ud: the lab kernel raised #UD but linux-guest saw SIGSEGV: not the same exception"
                .to_string()
        ),
        "{notes:?}"
    );
}

#[test]
fn a_folders_host_stream_goes_to_its_panel() {
    let (lab_t, guest_t, host_a) = (
        run(Platform::LabKernel, "tcg"),
        run(Platform::LinuxGuest, "tcg"),
        run(Platform::LinuxHost, "host"),
    );
    let (lab_i, guest_i) = (
        run(Platform::LabKernel, "icount"),
        run(Platform::LinuxGuest, "icount"),
    );
    let mut host_b = host_a.clone();
    host_b.source = "other-host.jsonl".into();
    let runs: Vec<Run> = vec![lab_t, guest_t, host_a, lab_i, guest_i, host_b];
    let groups = [0, 0, 0, 1, 1, 1];
    let inputs: Vec<Input> = runs
        .iter()
        .zip(groups)
        .map(|(run, g)| Input {
            run,
            group: Some(g),
        })
        .collect();
    let view = build(&inputs).unwrap();
    assert_eq!(view.panels.len(), 2);
    assert_eq!(
        view.panels[1].linux_host.as_ref().unwrap().source,
        "other-host.jsonl"
    );
    assert!(view.notes[0].contains("2 linux-host streams"));
}

#[test]
fn every_format_renders_from_the_one_view() {
    let (lab, guest, host) = (
        run(Platform::LabKernel, "tcg"),
        run(Platform::LinuxGuest, "tcg"),
        run(Platform::LinuxHost, "host"),
    );
    let view = build(&inputs(&[&lab, &guest, &host])).unwrap();
    let json: serde_json::Value =
        serde_json::from_str(&render::render(&view, crate::table::Format::Json)).unwrap();
    assert_eq!(json["panels"][0]["mode"], "tcg");
    assert_eq!(json["panels"][0]["linux_host"]["mode"], "host");
    assert_eq!(json["panels"][0]["rows"][0]["group"], "trap");
    let csv = render::render(&view, crate::table::Format::Csv);
    let mut lines = csv.lines();
    let head: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(head.len(), 4 + 3 * 7 + 3);
    assert_eq!(lines.count(), view.panels[0].rows.len());
    let text = render::render(&view, crate::table::Format::Table);
    assert!(text.contains("lab-kernel p50 (tcg)"), "{text}");
    assert!(text.contains("linux-host p50 (host)"), "{text}");
    assert!(text.contains("ring0 vs ring3"), "{text}");
    let tex = render::render(&view, crate::table::Format::Latex);
    assert!(tex.contains("\\label{tab:traplab:peers-tcg}"), "{tex}");
}

#[test]
fn the_figure_has_a_panel_per_mode_with_ratios() {
    use crate::plot::figures::{FigureKind, for_peers};
    let (lab, guest, lab_i, guest_i) = (
        run(Platform::LabKernel, "tcg"),
        run(Platform::LinuxGuest, "tcg"),
        run(Platform::LabKernel, "icount"),
        run(Platform::LinuxGuest, "icount"),
    );
    let view = build(&inputs(&[&lab, &guest, &lab_i, &guest_i])).unwrap();
    let fig = for_peers(&view).unwrap();
    let FigureKind::RatioBars { panels, legend, .. } = &fig.kind else {
        panic!("not ratio bars");
    };
    assert_eq!(panels.len(), 2);
    assert!(
        panels[0].title.starts_with("mode tcg: "),
        "{}",
        panels[0].title
    );
    // A row per trap kind, call.null and paired floor; a bar per config.
    let labels: Vec<&str> = panels[0].rows.iter().map(|r| r.label.as_str()).collect();
    assert_eq!(
        labels,
        [
            "trap.oob_load",
            "trap.unreachable",
            "trap.div_u_zero",
            "call.null",
            "raw.pf",
            "raw.ud",
            "raw.de",
            "raw.gp",
            "raw.bp"
        ]
    );
    assert_eq!(panels[0].rows[0].bars.len(), 3);
    assert_eq!(panels[0].rows[4].bars.len(), 1);
    // icount: exact ratios, zero-width whiskers.
    assert!(
        panels[1]
            .rows
            .iter()
            .flat_map(|r| &r.bars)
            .all(|b| b.low == b.high)
    );
    let names: Vec<&str> = legend.iter().map(|l| l.0.as_str()).collect();
    assert_eq!(names.len(), 4, "{names:?}");
    assert!(fig.caption.contains("none under icount"), "{}", fig.caption);
    // A panel without ratios draws nothing; panels with them still do.
    let view = build(&inputs(&[&lab, &guest, &lab_i])).unwrap();
    let fig = for_peers(&view).unwrap();
    let FigureKind::RatioBars { panels, .. } = &fig.kind else {
        panic!("not ratio bars");
    };
    assert_eq!(panels.len(), 1);
}
