//! Synthetic runs for tests, committed fixtures and benchmarks, written with
//! the wire crate's own encoder so they are byte-for-byte what a kernel would
//! stream.
//!
//! Nothing in the analyzer depends on these specifics: experiment names,
//! configurations and magnitudes here only mimic the shape of real data
//! (per DESIGN.md §7's peer numbers) so figures and tables look realistic.
//! Real captured runs replace them as fixtures once they exist.

use traplab_wire::{
    Cpu, End, EndStatus, ExperimentResult, Fault, Header, Injection, InjectorKind, KernelBuild,
    MAX_BATCH, Memory, Metric, Outcome, Planned, Platform, Record, RunConfig, SCHEMA_VERSION,
    Samples, Stage, Status, TRAP_STAGES, TrapSignature, Trigger, Tsc, Unit, config, encode_line,
    signal,
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
    /// Which platform the run imitates: the lab kernel (CPU vectors, four
    /// stages) or a Linux peer (signals with `si_code`, the stages
    /// `call_to_handler` and `handler_to_return`, `os` in the header).
    pub platform: Platform,
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
            platform: Platform::LabKernel,
        }
    }

    /// A run of `platform` over the experiments a lab-kernel run and its
    /// Linux peers have in common — three trap kinds and `call.null` under
    /// `signals.bt_off`, `signals.bt_on` and `explicit.bt_off`, and the
    /// floors (lab kernel: `raw.pf|ud|de|gp|bp|pf_demand` under `ring0`;
    /// Linux: `raw.pf|ud|de|gp|bp|syscall` under `ring3`) — with magnitudes
    /// shaped after each platform (signal delivery and `sigreturn` cost a
    /// Linux guest several times a ring-0 round trip; the host peer runs
    /// on hardware). `mode` is the QEMU mode, `host` for the host peer.
    pub fn peer(platform: Platform, mode: &str, samples: usize) -> RunSpec {
        RunSpec {
            platform,
            suite: "peers".into(),
            seed: 7 + platform as u64,
            series: peer_series(platform),
            ..RunSpec::small(mode, samples)
        }
    }
}

/// The series of [`RunSpec::peer`] for `platform`.
pub fn peer_series(platform: Platform) -> Vec<SeriesSpec> {
    // (experiment, config, lab kernel, Linux guest, Linux host, vector)
    type Shape = (&'static str, &'static str, f64, f64, f64, Option<u8>);
    const TRAPS: [Shape; 9] = [
        (
            "trap.oob_load",
            config::SIGNALS_BT_OFF,
            7_176.0,
            41_000.0,
            9_800.0,
            Some(14),
        ),
        (
            "trap.oob_load",
            config::SIGNALS_BT_ON,
            20_100.0,
            58_000.0,
            16_500.0,
            Some(14),
        ),
        (
            "trap.oob_load",
            config::EXPLICIT_BT_OFF,
            312.0,
            330.0,
            95.0,
            None,
        ),
        (
            "trap.unreachable",
            config::SIGNALS_BT_OFF,
            19_318.0,
            52_000.0,
            10_200.0,
            Some(6),
        ),
        (
            "trap.unreachable",
            config::SIGNALS_BT_ON,
            31_000.0,
            69_000.0,
            17_000.0,
            Some(6),
        ),
        (
            "trap.unreachable",
            config::EXPLICIT_BT_OFF,
            330.0,
            345.0,
            98.0,
            None,
        ),
        (
            "trap.div_u_zero",
            config::SIGNALS_BT_OFF,
            8_900.0,
            44_000.0,
            10_400.0,
            Some(0),
        ),
        (
            "trap.div_u_zero",
            config::SIGNALS_BT_ON,
            21_500.0,
            61_000.0,
            17_200.0,
            Some(0),
        ),
        (
            "trap.div_u_zero",
            config::EXPLICIT_BT_OFF,
            340.0,
            352.0,
            101.0,
            None,
        ),
    ];
    const CALLS: [Shape; 3] = [
        (
            "call.null",
            config::SIGNALS_BT_OFF,
            104.0,
            112.0,
            31.0,
            None,
        ),
        ("call.null", config::SIGNALS_BT_ON, 105.0, 113.0, 31.0, None),
        (
            "call.null",
            config::EXPLICIT_BT_OFF,
            104.0,
            111.0,
            30.0,
            None,
        ),
    ];
    const FLOORS: [Shape; 7] = [
        ("raw.pf", "", 1_450.0, 9_600.0, 2_300.0, Some(14)),
        ("raw.ud", "", 4_300.0, 11_800.0, 2_600.0, Some(6)),
        ("raw.de", "", 1_500.0, 10_900.0, 2_500.0, Some(0)),
        ("raw.gp", "", 1_700.0, 12_400.0, 2_700.0, Some(13)),
        ("raw.bp", "", 1_300.0, 9_900.0, 2_200.0, Some(3)),
        ("raw.pf_demand", "", 3_900.0, 0.0, 0.0, Some(14)),
        ("raw.syscall", "", 0.0, 1_900.0, 180.0, None),
    ];
    let lab = platform == Platform::LabKernel;
    let floor = if lab { config::RING0 } else { config::RING3 };
    TRAPS
        .iter()
        .chain(&CALLS)
        .chain(&FLOORS)
        .filter_map(|&(experiment, config, l, g, h, vector)| {
            let median = match platform {
                Platform::LabKernel => l,
                Platform::LinuxGuest => g,
                Platform::LinuxHost => h,
            };
            (median > 0.0).then(|| SeriesSpec {
                experiment,
                config: if config.is_empty() { floor } else { config },
                median,
                sigma: if experiment.starts_with("raw.") {
                    0.04
                } else {
                    0.06
                },
                stages: experiment.starts_with("trap.") && vector.is_some(),
                vector,
            })
        })
        .collect()
}

/// The `si_code` Linux reports with the signal for an exception of
/// `vector` raised by the peer's code (x86-64: a guard page is mapped
/// PROT_NONE → `SEGV_ACCERR`; `ud2` → `ILL_ILLOPN`; `div` → `FPE_INTDIV`;
/// `#GP` and `int3` → `SI_KERNEL`).
pub fn si_code_for(vector: u8) -> i32 {
    match vector {
        14 => 2,
        6 => 2,
        0 => 1,
        _ => 0x80,
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
            config::SIGNALS_BT_OFF,
            7176.0,
            0.05,
            true,
            Some(14),
        ),
        s(
            "trap.oob_load",
            config::SIGNALS_BT_ON,
            20_100.0,
            0.06,
            true,
            Some(14),
        ),
        s(
            "trap.oob_load",
            config::EXPLICIT_BT_OFF,
            312.0,
            0.08,
            false,
            None,
        ),
        s(
            "trap.unreachable",
            config::SIGNALS_BT_OFF,
            19_318.0,
            0.05,
            true,
            Some(6),
        ),
        s(
            "trap.unreachable",
            config::EXPLICIT_BT_OFF,
            330.0,
            0.08,
            false,
            None,
        ),
        s(
            "call.null",
            config::SIGNALS_BT_OFF,
            104.0,
            0.04,
            false,
            None,
        ),
        s("raw.pf", config::RING0, 1_450.0, 0.04, false, Some(14)),
        s("raw.ud", config::RING0, 4_300.0, 0.04, false, Some(6)),
    ]
}

/// Fractions of a trap's total spent in each stage, in `TRAP_STAGES` order.
const STAGE_SHARES: [f64; 4] = [0.04, 0.01, 0.07, 0.88];

/// A Linux peer's stages (it cannot see the kernel's exception entry) and
/// their shares.
const LINUX_STAGES: [(&str, f64); 2] = [("call_to_handler", 0.55), ("handler_to_return", 0.45)];

/// Stage names and shares of `platform`.
fn stage_shares(platform: Platform) -> Vec<(&'static str, f64)> {
    match platform {
        Platform::LabKernel => TRAP_STAGES.into_iter().zip(STAGE_SHARES).collect(),
        Platform::LinuxGuest | Platform::LinuxHost => LINUX_STAGES.to_vec(),
    }
}

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
                stage_shares(spec.platform)
                    .into_iter()
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
        let trap = s.experiment.strip_prefix("trap.").map(str::to_string);
        let (expected, observed) = if spec.platform == Platform::LabKernel {
            let signature = TrapSignature::vector(trap, s.vector);
            (Some(signature.clone()), Some(signature))
        } else if trap.is_none() && s.vector.is_none() {
            // A call, or the system-call reference: nothing to expect.
            (None, None)
        } else {
            let expected = TrapSignature {
                trap,
                vector: None,
                signal: s.vector.and_then(signal::for_vector),
                si_code: None,
            };
            let observed = TrapSignature {
                si_code: s.vector.map(si_code_for),
                ..expected.clone()
            };
            (Some(expected), Some(observed))
        };
        out.push(Record::Result(ExperimentResult {
            experiment: s.experiment.into(),
            config: s.config.into(),
            status: Status::Ok,
            samples: values.len() as u32,
            expected,
            observed,
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
        contained_failures: 0,
    }));
    out
}

fn header(spec: &RunSpec) -> Header {
    let linux = spec.platform != Platform::LabKernel;
    let host = spec.platform == Platform::LinuxHost;
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
        accel: if host {
            "none".into()
        } else if spec.mode == "kvm" {
            "kvm".into()
        } else {
            "tcg".into()
        },
        boot: if linux { "linux".into() } else { "pvh".into() },
        cmdline: format!("mode={}", spec.mode),
        config: RunConfig {
            suite: spec.suite.clone(),
            suite_sha256: "0".repeat(64),
            samples: spec.samples as u32,
            warmup: 100,
            mode: spec.mode.clone(),
            qemu_args: (!host).then(|| "-machine q35 -cpu max".into()),
            test: "none".into(),
            cpu_profile: Some("qemu-max".into()),
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
        platform: spec.platform.name().into(),
        os: linux.then(|| "Linux 6.1.0-28-cloud-amd64".into()),
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
        contained_failures: 0,
    }));
    out.iter()
        .enumerate()
        .map(|(i, r)| format!("{}\n", encode_line(i as u64, r)))
        .collect()
}

/// A synthetic fault-injection campaign. Outcome mixes per injector are
/// shaped after what each fault does (issue 6: a revoked page traps as an
/// out-of-bounds access, `ud2` in code without a trap code is contained, a
/// zeroed divisor traps, bit flips are mostly masked or corrupt the
/// result), latencies after icount magnitudes; real captures replace it
/// as fixtures once they exist.
#[derive(Debug, Clone)]
pub struct CampaignSpec {
    pub name: String,
    pub seed: u64,
    pub count: u32,
    pub targets: Vec<String>,
    pub config: String,
    /// The kernel dies while running this injection: its record is never
    /// written; a `fault` record and an end record with status `fault`
    /// follow the last injection record.
    pub crash_at: Option<u32>,
    /// Whether that fault record's `during` names the injection
    /// (`campaign <name> injection <i> <injector> <target>`) or only the
    /// campaign's experiment (an older kernel).
    pub crash_names_injection: bool,
}

impl CampaignSpec {
    pub fn small(count: u32) -> CampaignSpec {
        CampaignSpec {
            name: "default".into(),
            seed: 1,
            count,
            targets: vec!["compute.sieve".into(), "compute.divmix".into()],
            config: config::SIGNALS_BT_OFF.into(),
            crash_at: None,
            crash_names_injection: true,
        }
    }
}

/// Injectors round-robin, with their trigger, as a campaign spec listing
/// each once would plan them.
const CAMPAIGN_INJECTORS: [(&str, &str); 6] = [
    (InjectorKind::Noop.name(), Trigger::Sync.name()),
    (InjectorKind::PageRevoke.name(), Trigger::Sync.name()),
    (InjectorKind::CodePatch.name(), Trigger::Sync.name()),
    (InjectorKind::DivisorZero.name(), Trigger::Sync.name()),
    (InjectorKind::BitFlipMemory.name(), Trigger::Sync.name()),
    (InjectorKind::BitFlipRegister.name(), Trigger::Async.name()),
];

/// One way an injection can end: weight, outcome, vector, trap code.
type Ending = (u32, Outcome, Option<u8>, Option<&'static str>);

fn endings(injector: &str) -> &'static [Ending] {
    const PF: Option<u8> = Some(14);
    const OOB: Option<&str> = Some("MemoryOutOfBounds");
    match InjectorKind::from_name(injector) {
        Some(InjectorKind::PageRevoke) => &[
            (82, Outcome::Trapped, PF, OOB),
            (18, Outcome::Masked, None, None),
        ],
        Some(InjectorKind::CodePatch) => &[
            (70, Outcome::Contained, Some(6), None),
            (5, Outcome::Trapped, Some(6), Some("UnreachableCodeReached")),
            (3, Outcome::Hang, None, None),
            (22, Outcome::Masked, None, None),
        ],
        Some(InjectorKind::DivisorZero) => &[
            (80, Outcome::Trapped, Some(0), Some("IntegerDivisionByZero")),
            (8, Outcome::Trapped, Some(6), Some("IntegerDivisionByZero")),
            (12, Outcome::Masked, None, None),
        ],
        Some(InjectorKind::BitFlipMemory) => &[
            (62, Outcome::Masked, None, None),
            (28, Outcome::Corrupted, None, None),
            (6, Outcome::Trapped, PF, OOB),
            (4, Outcome::Hang, None, None),
        ],
        Some(InjectorKind::BitFlipRegister) => &[
            (48, Outcome::Masked, None, None),
            (17, Outcome::Corrupted, None, None),
            (14, Outcome::Trapped, PF, OOB),
            (9, Outcome::Contained, Some(13), None),
            (6, Outcome::Contained, PF, None),
            (6, Outcome::Hang, None, None),
        ],
        _ => &[(1, Outcome::Masked, None, None)],
    }
}

/// Golden result of a synthetic target.
fn golden(target: &str) -> i64 {
    if target.ends_with("sieve") {
        2262
    } else {
        733_591
    }
}

/// The `during` of a fault in the middle of injection `index`.
fn crash_during(spec: &CampaignSpec, index: u32) -> traplab_wire::During {
    let (injector, _) = CAMPAIGN_INJECTORS[index as usize % CAMPAIGN_INJECTORS.len()];
    let target = &spec.targets[(index as usize / CAMPAIGN_INJECTORS.len()) % spec.targets.len()];
    if spec.crash_names_injection {
        traplab_wire::During {
            experiment: Some(format!("campaign.{}", spec.name)),
            config: Some(spec.config.clone()),
            campaign: Some(spec.name.clone()),
            injection: Some(index),
            injector: Some(injector.to_string()),
            target: Some(target.clone()),
            ..traplab_wire::During::new()
        }
    } else {
        // An older kernel's text.
        traplab_wire::During::phase(&format!("campaign.{}/{}", spec.name, spec.config))
    }
}

/// A header for a campaign run of `mode`: the synthetic one, planning the
/// campaign alone.
pub fn campaign_header(spec: &CampaignSpec, mode: &str, tsc_hz: u64) -> Header {
    let mut h = header(&RunSpec {
        tsc_hz,
        suite: "campaign".into(),
        series: Vec::new(),
        ..RunSpec::small(mode, 0)
    });
    plan_campaign(&mut h, spec);
    h
}

/// Make `h` plan the campaign of `spec` and nothing else.
pub fn plan_campaign(h: &mut Header, spec: &CampaignSpec) {
    h.plan = vec![Planned {
        experiment: format!("campaign.{}", spec.name),
        config: spec.config.clone(),
        samples: 0,
    }];
}

/// The campaign run's records, `header` first, end record last.
pub fn campaign_records(spec: &CampaignSpec, header: Header) -> Vec<Record> {
    let mut rng = Rng::new(spec.seed);
    let mut out = vec![Record::Header(header)];
    let lognormal = |rng: &mut Rng, median: f64, sigma: f64| {
        (median * (sigma * rng.normal()).exp()).round().max(1.0) as u64
    };
    let stop = spec.crash_at.unwrap_or(spec.count).min(spec.count);
    for index in 0..stop {
        let (injector, trigger) = CAMPAIGN_INJECTORS[index as usize % CAMPAIGN_INJECTORS.len()];
        let target =
            spec.targets[(index as usize / CAMPAIGN_INJECTORS.len()) % spec.targets.len()].clone();
        let table = endings(injector);
        let total: u32 = table.iter().map(|e| e.0).sum();
        let mut pick = (rng.uniform() * f64::from(total)) as u32;
        let &(_, outcome, vector, trap) = table
            .iter()
            .find(|e| {
                let hit = pick < e.0;
                pick = pick.saturating_sub(e.0);
                hit
            })
            .unwrap_or(&table[0]);
        // An async deadline after the call returned never fires.
        let fired = !(trigger == Trigger::Async.name()
            && outcome == Outcome::Masked
            && rng.uniform() < 0.2);
        let point = if trigger == Trigger::Async.name() {
            lognormal(&mut rng, 400_000.0, 0.5)
        } else {
            rng.next_u64() % 2
        };
        let offset = (rng.next_u64() % 64) * 0x1000;
        let site = match InjectorKind::from_name(injector) {
            Some(InjectorKind::Noop) => "-".to_string(),
            Some(InjectorKind::PageRevoke) => format!("linear+{offset:#x}"),
            Some(InjectorKind::CodePatch) => format!("text+{:#x}", rng.next_u64() % 0x3000),
            Some(InjectorKind::DivisorZero) => {
                format!("divisor[{}] linear+0x10000", rng.next_u64() % 16)
            }
            Some(InjectorKind::BitFlipMemory) => {
                format!("linear+{:#x} bit {}", offset + 0x40, rng.next_u64() % 8)
            }
            _ => format!(
                "{} bit {}",
                ["rax", "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r12"]
                    [(rng.next_u64() % 8) as usize],
                rng.next_u64() % 64
            ),
        };
        let golden = golden(&target);
        let (trap_cycles, recovery_cycles) = match outcome {
            Outcome::Trapped => (
                Some(lognormal(&mut rng, 9_200.0, 0.08)),
                Some(lognormal(&mut rng, 185_000.0, 0.15)),
            ),
            Outcome::Contained => (
                Some(lognormal(&mut rng, 14_500.0, 0.1)),
                Some(lognormal(&mut rng, 262_000.0, 0.2)),
            ),
            Outcome::Hang => (
                Some(lognormal(&mut rng, 6_100.0, 0.05)),
                Some(lognormal(&mut rng, 231_000.0, 0.15)),
            ),
            _ => (None, None),
        };
        let result = match outcome {
            Outcome::Masked => Some(golden),
            Outcome::Corrupted => Some(golden ^ (1 << (rng.next_u64() % 20))),
            _ => None,
        };
        let detail = match outcome {
            Outcome::Contained => Some(format!(
                "fault at wasm pc text+{:#x}, not a trap site; instance discarded",
                rng.next_u64() % 0x3000
            )),
            Outcome::Hang => Some("watchdog (epoch deadline)".to_string()),
            Outcome::Masked if !fired => Some("deadline after the call returned".to_string()),
            _ => None,
        };
        out.push(Record::Injection(Injection {
            campaign: spec.name.clone(),
            index,
            injector: injector.into(),
            target,
            config: spec.config.clone(),
            trigger: trigger.into(),
            point,
            site,
            fired,
            outcome,
            trap: trap.map(str::to_string),
            vector,
            result,
            detail,
            trap_cycles,
            recovery_cycles,
        }));
    }
    let status = match spec.crash_at {
        Some(i) if i < spec.count => {
            out.push(Record::Fault(Fault {
                vector: 14,
                exception: "#PF".into(),
                category: "invalid_address".into(),
                rip: 0xffff_ffff_8012_3456,
                rsp: 0xffff_ffff_8100_7e28,
                error_code: Some(2),
                cr2: Some(0x7f00_0004_2000),
                symbol: Some("runner::campaign::recover+0x5c".into()),
                during: crash_during(spec, i),
            }));
            EndStatus::Fault
        }
        _ => {
            out.push(Record::Result(ExperimentResult {
                experiment: format!("campaign.{}", spec.name),
                config: spec.config.clone(),
                status: Status::Ok,
                samples: 0,
                expected: None,
                observed: None,
                message: None,
            }));
            EndStatus::Complete
        }
    };
    let ok = u32::from(status == EndStatus::Complete);
    let records = out.len() as u64;
    out.push(Record::End(End {
        status,
        records,
        samples: 0,
        ok,
        failed: 0,
        contained_failures: 0,
    }));
    out
}

/// The campaign run as framed lines, seq numbered from 0.
pub fn campaign_lines(spec: &CampaignSpec, header: Header) -> Vec<String> {
    campaign_records(spec, header)
        .iter()
        .enumerate()
        .map(|(i, r)| encode_line(i as u64, r))
        .collect()
}

/// The campaign run as one JSON Lines document, with the synthetic header
/// of `mode`.
pub fn campaign_jsonl(spec: &CampaignSpec, mode: &str) -> String {
    let mut s = campaign_lines(spec, campaign_header(spec, mode, 2_000_000_000)).join("\n");
    s.push('\n');
    s
}
