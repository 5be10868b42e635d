use traplab_wire::{ExperimentResult, Metric, Status, TrapSignature, config};

use super::render::render;
use super::*;
use crate::ingest::parse;
use crate::mode::Unit;
use crate::synth::{RunSpec, jsonl};
use crate::table::Format;
use crate::view::sig3;

/// A run with a header (TSC 2 GHz) and no series; tests add their own.
fn empty_run(mode: &str) -> Run {
    let spec = RunSpec {
        series: Vec::new(),
        ..RunSpec::small(mode, 1)
    };
    parse("t", jsonl(&spec).as_bytes())
}

fn series(run: &mut Run, experiment: &str, config: &str, values: &[u64]) {
    run.series.push(Series {
        experiment: experiment.into(),
        config: config.into(),
        total: values.to_vec(),
        stages: Vec::new(),
        result: None,
    });
}

fn metric(run: &mut Run, name: &str, value: u64, context: &str) {
    run.metrics.push(Metric {
        name: name.into(),
        value,
        unit: "x".into(),
        context: context.into(),
    });
}

/// `compute.<name>` with constant samples under the three configurations.
fn workload(run: &mut Run, name: &str, s: u64, x: u64, n: u64, soft: Option<bool>) {
    let e = format!("compute.{name}");
    series(run, &e, SIGNALS, &[s; 5]);
    series(run, &e, EXPLICIT, &[x; 5]);
    series(run, &e, config::NATIVE, &[n; 5]);
    if let Some(soft) = soft {
        metric(
            run,
            "soft_float",
            u64::from(soft),
            &format!("{e} {}", config::NATIVE),
        );
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

#[test]
fn ratios_are_p50_over_p50_and_the_headline_geomean_leaves_soft_float_twins_out() {
    let mut run = empty_run("icount");
    workload(&mut run, "fib", 1200, 1300, 1000, Some(false));
    workload(&mut run, "sieve", 1500, 1500, 1000, Some(false));
    workload(&mut run, "matmul", 100, 50, 1000, Some(true));
    let v = analyze(&run);
    assert_eq!(v.compute.len(), 3);
    let fib = &v.compute[0];
    assert_eq!(fib.name, "fib");
    assert!(close(fib.wasm_native.unwrap().value, 1.2));
    assert!(close(fib.explicit_signals.unwrap().value, 1300.0 / 1200.0));
    // icount: the interval is exact, zero width.
    let r = fib.wasm_native.unwrap();
    assert_eq!((r.low, r.high), (r.value, r.value));
    let g = &v.geomean;
    let int = g.wasm_native_integer.as_ref().unwrap();
    assert!(close(int.value, (1.2f64 * 1.5).sqrt()), "{}", int.value);
    assert_eq!(int.workloads, ["fib", "sieve"]);
    let all = g.wasm_native_all.as_ref().unwrap();
    assert!(close(all.value, (1.2f64 * 1.5 * 0.1).cbrt()));
    assert_eq!(all.workloads.len(), 3);
    assert!(
        v.notes
            .iter()
            .any(|n| n.starts_with("soft-float native twins: matmul"))
    );
    // matmul is faster than native only because of soft floats: no note.
    assert!(
        !v.notes.iter().any(|n| n.starts_with("wasm faster")),
        "{:?}",
        v.notes
    );
    let faster = v
        .notes
        .iter()
        .find(|n| n.starts_with("explicit checks faster"))
        .unwrap();
    assert!(faster.contains("matmul (0.500)"), "{faster}");
}

#[test]
fn workloads_without_a_soft_float_metric_count_in_all_only() {
    let mut run = empty_run("tcg");
    workload(&mut run, "fib", 2000, 2000, 1000, None);
    workload(&mut run, "lz", 500, 600, 1000, Some(false));
    let v = analyze(&run);
    assert_eq!(
        v.geomean.wasm_native_integer.as_ref().unwrap().workloads,
        ["lz"]
    );
    assert_eq!(
        v.geomean.wasm_native_all.as_ref().unwrap().workloads.len(),
        2
    );
    assert!(
        v.notes
            .iter()
            .any(|n| n.contains("no soft_float metric for fib"))
    );
    assert!(
        v.notes
            .iter()
            .any(|n| n.contains("faster than its native twin (not soft-float): lz (0.500)"))
    );
    // tcg: a real bootstrap interval, which brackets a constant sample's ratio.
    let r = v.compute[1].wasm_native.unwrap();
    assert!(r.low <= r.value && r.value <= r.high);
}

#[test]
fn break_even_is_extra_check_cost_over_extra_trap_cost() {
    let cost = TrapCost {
        experiment: TRAP_COST_EXPERIMENT.into(),
        signals_p50: 5000,
        explicit_p50: 1000,
    };
    // (1500 − 1000) / (5000 − 1000) = 0.125 traps per call; at 1000 cycles a
    // call and 2 GHz that is 0.125 × 2e6 = 250,000 traps per second.
    assert_eq!(
        crossover(1000, 1500, &cost, Some(2_000_000_000)),
        Crossover::At {
            traps_per_call: 0.125,
            traps_per_second: Some(250_000.0)
        }
    );
    assert_eq!(
        crossover(1000, 1500, &cost, None),
        Crossover::At {
            traps_per_call: 0.125,
            traps_per_second: None
        }
    );
    assert_eq!(
        crossover(1000, 1000, &cost, None),
        Crossover::ExplicitNotSlower
    );
    assert_eq!(
        crossover(1000, 900, &cost, None),
        Crossover::ExplicitNotSlower
    );
    let cheap = TrapCost {
        signals_p50: 900,
        ..cost
    };
    assert_eq!(
        crossover(1000, 1500, &cheap, None),
        Crossover::SignalTrapsNotDearer
    );
    assert!(Crossover::ExplicitNotSlower.is_never());
}

#[test]
fn break_even_uses_oob_load_under_both_trap_modes_and_the_run_tsc() {
    let mut run = empty_run("tcg");
    workload(&mut run, "sieve", 1000, 1500, 900, Some(false));
    workload(&mut run, "matmul", 1000, 800, 900, Some(true));
    let v = analyze(&run);
    assert!(v.break_even.is_empty() && v.trap_cost.is_none());
    assert!(
        v.notes
            .iter()
            .any(|n| n.starts_with("no break-even trap rates"))
    );
    series(&mut run, TRAP_COST_EXPERIMENT, SIGNALS, &[5000; 3]);
    series(&mut run, TRAP_COST_EXPERIMENT, EXPLICIT, &[1000; 3]);
    let v = analyze(&run);
    assert_eq!(v.trap_cost.as_ref().unwrap().extra_per_trap(), 4000.0);
    assert_eq!(v.break_even.len(), 2);
    assert_eq!(
        v.break_even[0].crossover,
        Crossover::At {
            traps_per_call: 0.125,
            traps_per_second: Some(250_000.0)
        }
    );
    assert_eq!(v.break_even[1].extra_per_call(), -200.0);
    assert_eq!(v.break_even[1].crossover, Crossover::ExplicitNotSlower);
}

#[test]
fn load_metrics_are_per_configuration_and_may_be_missing() {
    let mut run = empty_run("tcg");
    workload(&mut run, "fib", 1000, 1100, 900, Some(false));
    workload(&mut run, "sieve", 1000, 1100, 900, Some(false));
    for w in ["fib", "sieve"] {
        let ctx = format!("compute.{w} {SIGNALS}");
        metric(&mut run, "deserialize_cycles", 77, &ctx);
        metric(&mut run, "host_compile_ns", 5_000_000, &ctx);
        metric(&mut run, "host_code_bytes", 4096, &ctx);
        metric(&mut run, "host_trap_sites", 12, &ctx);
    }
    let v = analyze(&run);
    let fib = &v.compute[0];
    let sig = fib.load(SIGNALS).unwrap();
    assert_eq!(sig.deserialize_cycles, Some(77));
    assert_eq!(sig.host_compile_ns, Some(5_000_000));
    assert_eq!(sig.first_call_cycles, None);
    // explicit.bt_off has samples but no metrics: present, all empty.
    let exp = fib.load(EXPLICIT).unwrap();
    assert!(!exp.has_metrics());
    assert!(
        v.notes
            .iter()
            .any(|n| n.contains("identical for all 2 workloads under signals.bt_off")),
        "{:?}",
        v.notes
    );
    // Without host metrics at all (a kernel from before they existed).
    run.metrics.retain(|m| !m.name.starts_with("host_"));
    let v = analyze(&run);
    assert!(
        v.notes
            .iter()
            .any(|n| n.starts_with("no host compile metrics"))
    );
    assert!(!v.notes.iter().any(|n| n.contains("identical")));
}

fn result(
    run: &mut Run,
    experiment: &str,
    config: &str,
    status: Status,
    vector: Option<u8>,
    message: Option<&str>,
) {
    let r = ExperimentResult {
        experiment: experiment.into(),
        config: config.into(),
        status,
        samples: 0,
        expected: None,
        observed: vector.map(|v| TrapSignature {
            trap: None,
            vector: Some(v),
            signal: None,
            si_code: None,
        }),
        message: message.map(str::to_string),
    };
    match run
        .series
        .iter_mut()
        .find(|s| s.experiment == experiment && s.config == config)
    {
        Some(s) => s.result = Some(r),
        None => run.series.push(Series {
            experiment: experiment.into(),
            config: config.into(),
            total: Vec::new(),
            stages: Vec::new(),
            result: Some(r),
        }),
    }
}

#[test]
fn cranelift_sizes_sort_numerically_and_faults_meet_their_floor() {
    let mut run = empty_run("tcg");
    for n in [10_000u64, 10, 1000, 100] {
        series(
            &mut run,
            &format!("jit.compile.n{n}"),
            "cranelift",
            &[n * 300; 3],
        );
        series(&mut run, &format!("jit.exec.n{n}"), "cranelift", &[n; 3]);
        metric(&mut run, "code_bytes", n * 5, &format!("jit.compile.n{n}"));
    }
    metric(&mut run, "cycles_per_clif_inst", 299, "jit.compile.n10");
    series(&mut run, "jit.trap.pf", "cranelift", &[2800; 3]);
    result(
        &mut run,
        "jit.trap.pf",
        "cranelift",
        Status::Ok,
        Some(14),
        None,
    );
    series(&mut run, "raw.pf", "ring0", &[2500; 3]);
    series(&mut run, "jit.trap.ud", "cranelift", &[2200; 3]);
    let c = analyze(&run).cranelift.unwrap();
    let ns: Vec<u64> = c.sizes.iter().map(|s| s.n).collect();
    assert_eq!(ns, [10, 100, 1000, 10_000]);
    assert_eq!(c.sizes[0].per_clif_inst, Some(299.0));
    assert!(!c.sizes[0].per_clif_inst_derived);
    assert_eq!(c.sizes[1].per_clif_inst, Some(300.0));
    assert!(c.sizes[1].per_clif_inst_derived);
    assert_eq!(c.sizes[3].code_bytes, Some(50_000));
    assert_eq!(c.sizes[3].exec.unwrap().p50, 10_000);
    assert_eq!(c.faults.len(), 2);
    assert_eq!(c.faults[0].vector, Some(14));
    assert_eq!(c.faults[0].raw.unwrap().p50, 2500);
    assert_eq!(c.faults[1].raw, None, "no raw.ud in this run");
}

#[test]
fn a_run_without_compute_or_jit_is_empty_and_never_breaks_rendering() {
    let run = parse("t", jsonl(&RunSpec::small("tcg", 20)).as_bytes());
    let v = analyze(&run);
    assert!(v.is_empty());
    for format in [
        Format::Table,
        Format::Md,
        Format::Csv,
        Format::Json,
        Format::Latex,
    ] {
        render(&run, &v, format, Unit::Cycles).unwrap();
    }
    let mut headless = empty_run("tcg");
    headless.header = None;
    assert!(render(&headless, &v, Format::Table, Unit::Ns).is_err());
}

#[test]
fn degenerate_numbers_render_without_panicking() {
    let mut run = empty_run("tcg");
    workload(&mut run, "zero", 0, 0, 0, Some(false));
    workload(&mut run, "one", 1, u64::MAX / 8, 1, None);
    series(&mut run, TRAP_COST_EXPERIMENT, SIGNALS, &[0]);
    series(&mut run, TRAP_COST_EXPERIMENT, EXPLICIT, &[0]);
    series(&mut run, "jit.compile.n0", "cranelift", &[5]);
    let v = analyze(&run);
    assert!(v.compute[0].wasm_native.is_none(), "0/0 is no ratio");
    for format in [
        Format::Table,
        Format::Md,
        Format::Csv,
        Format::Json,
        Format::Latex,
    ] {
        for unit in [Unit::Cycles, Unit::Ns] {
            render(&run, &v, format, unit).unwrap();
        }
    }
}

#[test]
fn sig3_keeps_three_significant_digits() {
    assert_eq!(sig3(0.125), "0.125");
    assert_eq!(sig3(31.24), "31.2");
    assert_eq!(sig3(342.4), "342");
    assert_eq!(sig3(8476.2), "8476");
    assert_eq!(sig3(236_412.0), "236k");
    assert_eq!(sig3(21_512.0), "21.5k");
    assert_eq!(sig3(1_334_000.0), "1.33M");
    assert_eq!(sig3(12_345_678.0), "12.3M");
    assert_eq!(sig3(2.5e9), "2.50G");
    assert_eq!(sig3(0.0), "0");
    assert_eq!(sig3(f64::INFINITY), "∞");
}

#[test]
fn geomean_ignores_non_positive_values() {
    assert_eq!(geomean(&[]), None);
    assert_eq!(geomean(&[0.0, f64::NAN]), None);
    assert!(close(geomean(&[2.0, 8.0]).unwrap(), 4.0));
}

/// JSON rows keep their keys whether or not a series has samples: a
/// workload without a native twin, and a load entry with metrics but no
/// samples, read `null` where the others read numbers.
#[test]
fn json_rows_keep_their_keys_without_samples() {
    let mut run = empty_run("icount");
    workload(&mut run, "fib", 1200, 1300, 1000, Some(false));
    let e = "compute.lonely";
    series(&mut run, e, SIGNALS, &[900; 5]);
    metric(&mut run, "host_code_bytes", 512, &format!("{e} {EXPLICIT}"));
    let v = analyze(&run);
    let out = render(&run, &v, Format::Json, Unit::Cycles).unwrap();
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let compute = json["compute"].as_array().unwrap();
    let keys = |v: &serde_json::Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&compute[0]), keys(&compute[1]));
    assert!(compute[1]["native_p50"].is_null());
    assert!(compute[1]["wasm_native"].is_null());
    assert_eq!(compute[1]["samples"]["native"], 0);
    let loads = compute[1]["load"].as_array().unwrap();
    assert_eq!(loads.len(), 2, "signals (samples) and explicit (a metric)");
    assert_eq!(keys(&loads[0]), keys(&loads[1]));
    assert_eq!(loads[0]["p50"], 900);
    assert!(loads[1]["p50"].is_null());
    assert_eq!(loads[1]["host_code_bytes"], 512);
    assert_eq!(keys(&compute[0]["load"][0]), keys(&loads[0]));
}
