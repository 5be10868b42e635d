//! Synthetic runs for tests, committed fixtures and benchmarks, written with
//! the wire crate's own encoder so they are byte-for-byte what a kernel would
//! stream.
//!
//! Nothing in the analyzer depends on these specifics: experiment names,
//! configurations and magnitudes here only mimic the shape of real data
//! (per DESIGN.md §7's peer numbers) so figures and tables look realistic.
//! Real captured runs replace them as fixtures once they exist.

use traplab_wire::{
    Cpu, End, EndStatus, ExperimentResult, Header, KernelBuild, MAX_BATCH, Memory, Metric, Planned,
    Record, RunConfig, SCHEMA_VERSION, Samples, Stage, Status, TRAP_STAGES, TrapSignature, Tsc,
    Unit, encode_line,
};

use crate::stats::Rng;

/// One synthetic series.
#[derive(Debug, Clone)]
pub struct SeriesSpec {
    pub experiment: &'static str,
    pub config: &'static str,
    /// Median total, cycles.
    pub median: f64,
    /// Log-scale spread (0.1 ≈ ±10 %).
    pub sigma: f64,
    /// Whether the kernel stamps trap stages for it.
    pub stages: bool,
    /// CPU vector the experiment raises, if any.
    pub vector: Option<u8>,
}

/// A whole synthetic run.
#[derive(Debug, Clone)]
pub struct RunSpec {
    pub commit: String,
    pub dirty: bool,
    pub mode: String,
    pub suite: String,
    pub tsc_hz: u64,
    pub samples: usize,
    pub seed: u64,
    /// Multiplies every median (1.10 = a 10 % slowdown).
    pub slowdown: f64,
    pub series: Vec<SeriesSpec>,
}

impl RunSpec {
    /// A small run covering trap, explicit-check, call and raw-floor series.
    pub fn small(mode: &str, samples: usize) -> RunSpec {
        RunSpec {
            commit: "3f2a9c1".into(),
            dirty: false,
            mode: mode.into(),
            suite: "traps".into(),
            tsc_hz: 2_000_000_000,
            samples,
            seed: 1,
            slowdown: 1.0,
            series: default_series(),
        }
    }
}

/// The default set: shapes after DESIGN.md §7 (peer numbers on this machine).
pub fn default_series() -> Vec<SeriesSpec> {
    let s = |experiment, config, median, sigma, stages, vector| SeriesSpec {
        experiment,
        config,
        median,
        sigma,
        stages,
        vector,
    };
    vec![
        s(
            "trap.oob_load",
            "signals.bt_off",
            7176.0,
            0.05,
            true,
            Some(14),
        ),
        s(
            "trap.oob_load",
            "signals.bt_on",
            20_100.0,
            0.06,
            true,
            Some(14),
        ),
        s("trap.oob_load", "explicit.bt_off", 312.0, 0.08, false, None),
        s(
            "trap.unreachable",
            "signals.bt_off",
            19_318.0,
            0.05,
            true,
            Some(6),
        ),
        s(
            "trap.unreachable",
            "explicit.bt_off",
            330.0,
            0.08,
            false,
            None,
        ),
        s("call.null", "signals.bt_off", 104.0, 0.04, false, None),
        s("raw.pf", "ring0", 1_450.0, 0.04, false, Some(14)),
        s("raw.ud", "ring0", 4_300.0, 0.04, false, Some(6)),
    ]
}

/// Fractions of a trap's total spent in each stage, in `TRAP_STAGES` order.
const STAGE_SHARES: [f64; 4] = [0.04, 0.01, 0.07, 0.88];

/// The run's records, header to end.
pub fn records(spec: &RunSpec) -> Vec<Record> {
    let mut rng = Rng::new(spec.seed);
    let deterministic = spec.mode == "icount";
    let mut out = vec![Record::Header(header(spec))];
    let (mut total_samples, mut ok) = (0u64, 0u32);
    for s in &spec.series {
        let median = s.median * spec.slowdown;
        let values: Vec<u64> = (0..spec.samples)
            .map(|i| {
                if deterministic {
                    // icount: the same instruction count every time, with a
                    // small fixed pattern (e.g. a cold first iteration).
                    (median + (i % 5) as f64).round() as u64
                } else {
                    (median * (s.sigma * rng.normal()).exp()).round().max(1.0) as u64
                }
            })
            .collect();
        for (b, chunk) in values.chunks(MAX_BATCH).enumerate() {
            let stages = if s.stages {
                TRAP_STAGES
                    .iter()
                    .zip(STAGE_SHARES)
                    .map(|(name, share)| Stage {
                        name: (*name).to_string(),
                        values: chunk
                            .iter()
                            .map(|&v| ((v as f64) * share).round() as u64)
                            .collect(),
                    })
                    .collect()
            } else {
                Vec::new()
            };
            out.push(Record::Samples(Samples {
                experiment: s.experiment.into(),
                config: s.config.into(),
                unit: Unit::Cycles,
                first: (b * MAX_BATCH) as u32,
                total: chunk.to_vec(),
                stages,
            }));
        }
        total_samples += values.len() as u64;
        ok += 1;
        let signature = TrapSignature {
            trap: s.experiment.strip_prefix("trap.").map(str::to_string),
            vector: s.vector,
        };
        out.push(Record::Result(ExperimentResult {
            experiment: s.experiment.into(),
            config: s.config.into(),
            status: Status::Ok,
            samples: values.len() as u32,
            expected: Some(signature.clone()),
            observed: Some(signature),
            message: None,
        }));
    }
    out.push(Record::Metric(Metric {
        name: "heap_used".into(),
        value: 1 << 20,
        unit: "bytes".into(),
        context: "end".into(),
    }));
    let records = out.len() as u64;
    out.push(Record::End(End {
        status: EndStatus::Complete,
        records,
        samples: total_samples,
        ok,
        failed: 0,
    }));
    out
}

fn header(spec: &RunSpec) -> Header {
    Header {
        schema: SCHEMA_VERSION,
        kernel: KernelBuild {
            commit: spec.commit.clone(),
            dirty: spec.dirty,
            profile: "release".into(),
            options: vec![],
        },
        wasmtime: "48.0.8".into(),
        cpu: Cpu {
            vendor: "GenuineIntel".into(),
            model: "QEMU Virtual CPU version 2.5+".into(),
            family: 6,
            model_id: 6,
            stepping: 3,
            features: vec!["sse4.1".into(), "invariant_tsc".into()],
        },
        tsc: Tsc {
            hz: spec.tsc_hz,
            source: "cpuid.15h".into(),
            invariant: true,
        },
        accel: if spec.mode == "kvm" {
            "kvm".into()
        } else {
            "tcg".into()
        },
        boot: "pvh".into(),
        cmdline: format!("mode={}", spec.mode),
        config: RunConfig {
            suite: spec.suite.clone(),
            suite_sha256: "0".repeat(64),
            samples: spec.samples as u32,
            warmup: 100,
            mode: spec.mode.clone(),
            qemu_args: Some("-machine q35 -cpu max".into()),
            test: "none".into(),
        },
        stamp_overhead_cycles: 24,
        memory: Memory {
            usable_bytes: 512 << 20,
            heap_bytes: 64 << 20,
        },
        plan: spec
            .series
            .iter()
            .map(|s| Planned {
                experiment: s.experiment.into(),
                config: s.config.into(),
                samples: spec.samples as u32,
            })
            .collect(),
    }
}

/// The run as framed lines, seq numbered from 0.
pub fn lines(spec: &RunSpec) -> Vec<String> {
    records(spec)
        .iter()
        .enumerate()
        .map(|(i, r)| encode_line(i as u64, r))
        .collect()
}

/// The run as one JSON Lines document (trailing newline included).
pub fn jsonl(spec: &RunSpec) -> String {
    let mut s = lines(spec).join("\n");
    s.push('\n');
    s
}

/// A clean run made of the records of `run` (framed lines, e.g. a real
/// capture) whose experiment — or, for metrics, context — `keep` accepts:
/// header (its plan filtered the same way), samples, results, metrics, then
/// an end record recounted for what was kept, all re-framed from seq 0.
/// Logs and undecodable lines are dropped. Tests use it to cut a real
/// capture down to the part they exercise.
pub fn subset(run: &str, keep: impl Fn(&str) -> bool) -> String {
    let mut out: Vec<Record> = run
        .lines()
        .filter_map(|l| traplab_wire::decode_line(l).ok())
        .filter_map(|f| match f.record {
            Record::Header(mut h) => {
                h.plan.retain(|p| keep(&p.experiment));
                Some(Record::Header(h))
            }
            Record::Samples(s) => keep(&s.experiment).then_some(Record::Samples(s)),
            Record::Result(r) => keep(&r.experiment).then_some(Record::Result(r)),
            Record::Metric(m) => keep(&m.context).then_some(Record::Metric(m)),
            _ => None,
        })
        .collect();
    let samples = out
        .iter()
        .map(|r| match r {
            Record::Samples(s) => s.total.len() as u64,
            _ => 0,
        })
        .sum();
    let count = |status: Status| {
        out.iter()
            .filter(|r| matches!(r, Record::Result(x) if x.status == status))
            .count() as u32
    };
    let (ok, failed) = (count(Status::Ok), count(Status::Failed));
    out.push(Record::End(End {
        status: EndStatus::Complete,
        records: out.len() as u64,
        samples,
        ok,
        failed,
    }));
    out.iter()
        .enumerate()
        .map(|(i, r)| format!("{}\n", encode_line(i as u64, r)))
        .collect()
}
