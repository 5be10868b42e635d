use super::run::histogram;
use super::*;
use crate::ingest::parse;
use crate::synth::{RunSpec, jsonl};

#[test]
fn a_run_gets_cdfs_stages_distribution_floor_and_histograms() {
    let run = parse("run", jsonl(&RunSpec::small("tcg", 100)).as_bytes());
    let figs = for_run(&run, Unit::Cycles).unwrap();
    let names: Vec<&str> = figs.iter().map(|f| f.name.as_str()).collect();
    for want in [
        "cdf-trap.oob_load",
        "cdf-trap.unreachable",
        "cdf-call.null",
        "cdf-raw",
        "stages-signals.bt_off",
        "stages-signals.bt_on",
        "distribution-signals.bt_off",
        "distribution-explicit.bt_off",
        "distribution-ring0",
        "floor",
    ] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
    assert_eq!(
        names.iter().filter(|n| n.starts_with("hist-")).count(),
        run.series.len()
    );
    assert!(
        figs.iter()
            .all(|f| f.caption.contains("mode: TCG real time"))
    );
}

#[test]
fn floor_rows_pair_each_trap_kind_with_the_raw_exception_it_raised() {
    let run = parse("run", jsonl(&RunSpec::small("tcg", 50)).as_bytes());
    let figs = for_run(&run, Unit::Cycles).unwrap();
    let FigureKind::Floor { rows, .. } = &figs.iter().find(|f| f.name == "floor").unwrap().kind
    else {
        panic!("floor figure has the wrong kind")
    };
    let labels: Vec<&str> = rows.iter().map(|r| r.label.as_str()).collect();
    assert_eq!(
        labels,
        ["trap.oob_load (#PF)", "trap.unreachable (#UD)", "call.null"],
        "{labels:#?}"
    );
    // oob_load: three configurations and the #PF floor (raw.pf, ~1.45k).
    assert_eq!(rows[0].marks.len(), 4);
    let floor = rows[0].marks.iter().find(|m| m.square).unwrap();
    assert!((1300.0..1600.0).contains(&floor.q[1]), "{:?}", floor.q);
}

#[test]
fn cdf_of_a_million_samples_stays_small_and_reaches_the_tail() {
    let v: Vec<u64> = (1..=1_000_000).collect();
    let pts = cdf_points(&v, 1.0);
    assert!(pts.len() < 1000, "{}", pts.len());
    assert!(pts.iter().any(|&(_, q)| q > 0.9999));
    assert!(pts.windows(2).all(|w| w[0].0 <= w[1].0 && w[0].1 <= w[1].1));
}

#[test]
fn histogram_bins_cover_the_range() {
    let v: Vec<u64> = (0..100).collect();
    let bins = histogram(&v, 1.0, 0.0, 99.0, 10);
    assert_eq!(bins.iter().map(|b| b.count).sum::<u64>(), 100);
    let constant = histogram(&[5, 5, 5], 1.0, 5.0, 5.0, 4);
    assert_eq!(constant.iter().map(|b| b.count).sum::<u64>(), 3);
}
