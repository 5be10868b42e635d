//! The figures of one run: latency CDFs, where a trap's time goes,
//! distributions per configuration, trap vs explicit check vs the raw
//! floor, the compute ratios, and a histogram per series.

use super::*;

/// Every figure for one run.
pub fn for_run(run: &Run, unit: Unit) -> Result<Vec<Figure>, UnitError> {
    let k = unit.scale(run.tsc_hz())?;
    let u = unit_name(unit);
    let caption = run_caption(run);
    let series: Vec<&Series> = run.series.iter().filter(|s| !s.total.is_empty()).collect();
    // Colour per configuration, shared by all figures: configurations of
    // wasm experiments first (in first-seen order), those only raw floors use
    // (e.g. `ring0`) after, so trap configurations keep the same colours
    // whether or not a run measured raw exceptions first.
    let mut configs: Vec<&str> = Vec::new();
    for raw_pass in [false, true] {
        for s in &series {
            if s.experiment.starts_with("raw.") == raw_pass && !configs.contains(&s.config.as_str())
            {
                configs.push(&s.config);
            }
        }
    }
    let config_color = |c: &str| configs.iter().position(|x| *x == c).unwrap_or(0);
    let sorted_by: Vec<Vec<u64>> = series.iter().map(|s| sorted(&s.total)).collect();
    let mut figs = Vec::new();

    // CDF per trap kind (experiment); the raw floors share one figure.
    let mut experiments: Vec<&str> = Vec::new();
    for s in &series {
        let e = if s.experiment.starts_with("raw.") {
            "raw"
        } else {
            s.experiment.as_str()
        };
        if !experiments.contains(&e) {
            experiments.push(e);
        }
    }
    for e in experiments {
        let members: Vec<usize> = (0..series.len())
            .filter(|&i| {
                if e == "raw" {
                    series[i].experiment.starts_with("raw.")
                } else {
                    series[i].experiment == e
                }
            })
            .collect();
        let lines = members
            .iter()
            .enumerate()
            .map(|(j, &i)| Line {
                label: if e == "raw" {
                    series[i].experiment.clone()
                } else {
                    series[i].config.clone()
                },
                color: if e == "raw" {
                    j
                } else {
                    config_color(&series[i].config)
                },
                dash: j % 3,
                points: cdf_points(&sorted_by[i], k),
            })
            .collect();
        let what = if e == "raw" {
            format!("raw CPU exceptions ({})", floor_what(run))
        } else {
            e.to_string()
        };
        figs.push(Figure {
            name: format!("cdf-{}", stem(e)),
            width: Width::OneColumn,
            height_in: 2.5,
            caption: format!("CDF of round-trip latency, {what}; {caption}"),
            kind: FigureKind::Cdf {
                x_label: format!("round trip ({u}, log scale)"),
                y_label: "fraction of samples ≤ x".into(),
                lines,
            },
        });
    }

    // Stage breakdown, one figure per configuration.
    let staged: Vec<&Series> = series
        .iter()
        .copied()
        .filter(|s| !s.stages.is_empty())
        .collect();
    let mut stages: Vec<String> = Vec::new();
    for s in &staged {
        for st in &s.stages {
            if !stages.contains(&st.name) {
                stages.push(st.name.clone());
            }
        }
    }
    let overhead = run.header.as_ref().map_or(String::new(), |h| {
        format!(
            "; each stage includes a {}-cycle stamp overhead",
            h.stamp_overhead_cycles
        )
    });
    for config in &configs {
        let bars: Vec<StageBar> = staged
            .iter()
            .filter(|s| s.config == *config)
            .map(|s| {
                let medians: Vec<f64> = stages
                    .iter()
                    .map(|name| {
                        s.stages
                            .iter()
                            .find(|st| &st.name == name)
                            .map_or(0.0, |st| quantiles(&st.values, &[0.5], 1.0)[0])
                    })
                    .collect();
                let sum: f64 = medians.iter().sum();
                StageBar {
                    label: s.experiment.clone(),
                    shares: medians
                        .iter()
                        .map(|m| if sum > 0.0 { 100.0 * m / sum } else { 0.0 })
                        .collect(),
                    total: sum * k,
                }
            })
            .collect();
        if bars.is_empty() {
            continue;
        }
        figs.push(Figure {
            name: format!("stages-{}", stem(config)),
            width: Width::TwoColumns,
            height_in: 1.2 + 0.26 * bars.len() as f64,
            caption: format!(
                "Where a trap's time goes, {config}: each stage's median as a share of their sum (sum in {u} at the bar){overhead}; {caption}"
            ),
            kind: FigureKind::Stages { x_label: "share of the round trip (%)".into(), stages: stages.clone(), bars },
        });
    }

    // Distribution per configuration: one figure each, a row per experiment,
    // coloured by class.
    for config in &configs {
        let rows: Vec<BoxRow> = series
            .iter()
            .zip(&sorted_by)
            .filter(|(s, _)| s.config == *config)
            .map(|(s, v)| BoxRow {
                label: s.experiment.clone(),
                color: Class::of(&s.experiment, &s.config).color(),
                q: quantiles(v, &[0.01, 0.25, 0.5, 0.75, 0.99], k)
                    .try_into()
                    .expect("five quantiles"),
            })
            .collect();
        let legend = class_legend(
            series
                .iter()
                .filter(|s| s.config == *config)
                .map(|s| Class::of(&s.experiment, &s.config)),
        );
        figs.push(Figure {
            name: format!("distribution-{}", stem(config)),
            width: Width::TwoColumns,
            height_in: 1.0 + 0.22 * rows.len() as f64,
            caption: format!(
                "Distribution per experiment, {config}: box p25–p75, bar median, whiskers p1–p99; {caption}"
            ),
            kind: FigureKind::Boxes { x_label: format!("round trip ({u}, log scale)"), rows, legend },
        });
    }

    // Trap vs explicit check vs raw floor.
    if let Some(f) = floor_figure(
        &configs,
        &series,
        &sorted_by,
        k,
        u,
        &caption,
        floor_what(run),
    ) {
        figs.push(f);
    }

    if let Some(f) = ratio_figure(run, &caption) {
        figs.push(f);
    }

    let view = crate::campaign::analyze(run);
    if !view.is_empty() {
        figs.extend(for_campaign(run, &view, unit)?);
    }

    // Histograms.
    for (s, v) in series.iter().zip(&sorted_by) {
        let [lo, hi, median] = quantiles(v, &[0.001, 0.999, 0.5], k)
            .try_into()
            .expect("three quantiles");
        let bins = histogram(v, k, lo, hi, 40);
        let outside = v
            .iter()
            .filter(|&&x| (x as f64 * k) < lo || (x as f64 * k) > hi)
            .count();
        figs.push(Figure {
            name: format!("hist-{}-{}", stem(&s.experiment), stem(&s.config)),
            width: Width::OneColumn,
            height_in: 2.3,
            caption: format!(
                "{} · {}, n = {} ({outside} outside p0.1–p99.9 not shown), dashed: median; {caption}",
                s.experiment,
                s.config,
                v.len()
            ),
            kind: FigureKind::Histogram {
                x_label: format!("round trip ({u})"),
                bins,
                median,
                color: config_color(&s.config),
            },
        });
    }
    Ok(figs)
}

pub(super) fn histogram(sorted: &[u64], k: f64, lo: f64, hi: f64, n: usize) -> Vec<Bin> {
    let (lo, hi) = if hi > lo {
        (lo, hi)
    } else {
        (lo - 0.5, lo + 0.5)
    };
    let w = (hi - lo) / n as f64;
    let mut counts = vec![0u64; n];
    for &x in sorted {
        let x = x as f64 * k;
        if x < lo || x > hi {
            continue;
        }
        counts[(((x - lo) / w) as usize).min(n - 1)] += 1;
    }
    counts
        .into_iter()
        .enumerate()
        .map(|(i, count)| Bin {
            lo: lo + i as f64 * w,
            hi: lo + (i + 1) as f64 * w,
            count,
        })
        .collect()
}

/// CPU vector mnemonics for labels (the wire crate's table).
fn vector_name(v: u8) -> String {
    traplab_wire::vector::mnemonic(v).to_string()
}

/// What raised a series' trap or floor, from its result record (observed,
/// else expected): the CPU vector on the lab kernel (`#PF`), the signal on
/// a Linux peer (`SIGSEGV`).
fn raised_by(s: &Series) -> Option<String> {
    let r = s.result.as_ref()?;
    let name = |x: &traplab_wire::TrapSignature| {
        x.vector
            .map(vector_name)
            .or_else(|| x.signal.map(|g| traplab_wire::signal::name(g).to_string()))
    };
    r.observed
        .as_ref()
        .and_then(name)
        .or_else(|| r.expected.as_ref().and_then(name))
}

/// How a run's floor is raised and resumed, for labels.
fn floor_what(run: &Run) -> &'static str {
    match run.platform() {
        Some(p) if p != traplab_wire::Platform::LabKernel.name() => {
            "ring 3 signal, resumed by the handler"
        }
        _ => "ring 0, iretq",
    }
}

fn class_legend(classes: impl Iterator<Item = Class>) -> Vec<LegendEntry> {
    let present: Vec<Class> = classes.collect();
    [
        Class::Signals,
        Class::Explicit,
        Class::RawFloor,
        Class::Other,
    ]
    .into_iter()
    .filter(|c| present.contains(c))
    .map(|c| (c.label().to_string(), c.color(), false))
    .collect()
}

/// One row per trap kind with a marker per configuration and the raw floor
/// of the CPU vector (or, on a Linux peer, the signal) it raised (matched
/// through the result records, not names); raw experiments not used as a
/// floor get rows of their own.
fn floor_figure(
    configs: &[&str],
    series: &[&Series],
    sorted_by: &[Vec<u64>],
    k: f64,
    u: &str,
    caption: &str,
    floor_what: &str,
) -> Option<Figure> {
    let is_raw = |s: &Series| Class::of(&s.experiment, &s.config) == Class::RawFloor;
    if !(series.iter().any(|s| is_raw(s)) && series.iter().any(|s| !is_raw(s))) {
        return None;
    }
    let q = |i: usize| {
        let v = &sorted_by[i];
        let [p10, p50, p90] = quantiles(v, &[0.10, 0.50, 0.90], k)
            .try_into()
            .expect("three quantiles");
        [p10, p50, p90]
    };
    // Palette indices: configurations first, the floor after them.
    let floor_color = configs.len();
    let mut rows = Vec::new();
    let mut used_floors = Vec::new();
    let mut kinds: Vec<&str> = Vec::new();
    for s in series {
        if !is_raw(s) && !kinds.contains(&s.experiment.as_str()) {
            kinds.push(&s.experiment);
        }
    }
    for kind in kinds {
        let members: Vec<usize> = (0..series.len())
            .filter(|&i| series[i].experiment == kind)
            .collect();
        let mut marks: Vec<Mark> = members
            .iter()
            .map(|&i| Mark {
                color: configs
                    .iter()
                    .position(|c| *c == series[i].config)
                    .unwrap_or(0),
                square: false,
                hollow: false,
                q: q(i),
            })
            .collect();
        let mut label = kind.to_string();
        let raised = members.iter().find_map(|&i| raised_by(series[i]));
        let floor = raised.as_ref().and_then(|v| {
            (0..series.len())
                .find(|&i| is_raw(series[i]) && raised_by(series[i]).as_ref() == Some(v))
        });
        if let (Some(v), Some(f)) = (raised, floor) {
            marks.push(Mark {
                color: floor_color,
                square: true,
                hollow: false,
                q: q(f),
            });
            label = format!("{kind} ({v})");
            used_floors.push(f);
        }
        rows.push(DotRow { label, marks });
    }
    for (i, s) in series.iter().enumerate() {
        if is_raw(s) && !used_floors.contains(&i) {
            rows.push(DotRow {
                label: s.experiment.clone(),
                marks: vec![Mark {
                    color: floor_color,
                    square: true,
                    hollow: false,
                    q: q(i),
                }],
            });
        }
    }
    let mut legend: Vec<LegendEntry> = configs
        .iter()
        .enumerate()
        .filter(|(_, c)| series.iter().any(|s| !is_raw(s) && s.config == **c))
        .map(|(i, c)| (c.to_string(), i, false))
        .collect();
    legend.push((
        format!("raw exception floor ({floor_what})"),
        floor_color,
        true,
    ));
    Some(Figure {
        name: "floor".into(),
        width: Width::TwoColumns,
        height_in: 1.2 + 0.22 * rows.len() as f64,
        caption: format!(
            "Trap via CPU exception vs explicit check vs the raw-exception floor of the same vector: marker p50, whiskers p10–p90; {caption}"
        ),
        kind: FigureKind::Floor {
            x_label: format!("round trip ({u}, log scale)"),
            rows,
            legend,
        },
    })
}

/// wasm/native and explicit/signals per compute workload, plus their
/// geometric means; `None` when the run has no compute workloads.
fn ratio_figure(run: &Run, caption: &str) -> Option<Figure> {
    let view = crate::jit::analyze(run);
    let mark = |r: Option<crate::jit::Ratio>, color: usize, square: bool, hollow: bool| {
        r.map(|r| Mark {
            color,
            square,
            hollow,
            q: [r.low, r.value, r.high],
        })
    };
    let point = |v: f64| crate::jit::Ratio {
        value: v,
        low: v,
        high: v,
    };
    let mut rows: Vec<DotRow> = view
        .compute
        .iter()
        .filter_map(|w| {
            let soft = w.soft_float == Some(true);
            let marks: Vec<Mark> = [
                mark(w.wasm_native, 0, false, soft),
                mark(w.explicit_signals, 1, true, false),
            ]
            .into_iter()
            .flatten()
            .collect();
            (!marks.is_empty()).then(|| DotRow {
                label: if soft {
                    format!("{} (soft-float twin)", w.name)
                } else {
                    w.name.clone()
                },
                marks,
            })
        })
        .collect();
    if rows.is_empty() {
        return None;
    }
    let g = &view.geomean;
    let geo = |v: &Option<crate::jit::GeoValue>| v.as_ref().map(|v| point(v.value));
    for (label, marks) in [
        (
            "geomean, integer",
            vec![mark(geo(&g.wasm_native_integer), 0, false, false)],
        ),
        (
            "geomean, all",
            vec![
                mark(geo(&g.wasm_native_all), 0, false, false),
                mark(geo(&g.explicit_signals_all), 1, true, false),
            ],
        ),
    ] {
        let marks: Vec<Mark> = marks.into_iter().flatten().collect();
        if !marks.is_empty() {
            rows.push(DotRow {
                label: label.into(),
                marks,
            });
        }
    }
    let mut legend: Vec<MarkerEntry> = vec![("wasm / native".into(), 0, false, false)];
    if view.compute.iter().any(|w| w.soft_float == Some(true)) {
        legend.push(("wasm / native, soft-float twin".into(), 0, false, true));
    }
    legend.push(("explicit / signals".into(), 1, true, false));
    let interval = if run.mode().is_deterministic() {
        "whiskers: none, a deterministic mode has no sampling noise"
    } else {
        "whiskers: 99 % bootstrap interval of the ratio of medians"
    };
    Some(Figure {
        name: "jit-ratios".into(),
        width: Width::OneColumn,
        height_in: 1.3 + 0.24 * rows.len() as f64,
        caption: format!(
            "Compute workloads: wasm ({}) over the native twin, and explicit checks ({}) over signals; marker: ratio of p50s, {interval}; hollow: the native twin uses soft floats (not a code-quality figure; left out of the integer geomean); {caption}",
            crate::jit::SIGNALS,
            crate::jit::EXPLICIT,
        ),
        kind: FigureKind::Ratios {
            x_label: "ratio of p50s (log scale, 1 = parity)".into(),
            rows,
            legend,
        },
    })
}
