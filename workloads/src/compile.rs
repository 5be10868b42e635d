//! Host-side compilation: WAT (and the compute module) → wasm → Cranelift
//! artifacts, one per trap mode and code target (the lab kernel's and the
//! Linux peer's), each with its host compile facts, packed with their
//! manifest into a suite image.
//!
//! The engines here are built from `traplab_suite::engine::compile_config`
//! (the shared `engine_config` plus the kernel target and ISA flags), so the
//! artifacts carry the same settings the kernel's engine checks in
//! `Module::deserialize`.

use std::time::Instant;

use anyhow::{Context, Result, bail, ensure};
use traplab_compute::ComputeKernel;
use traplab_suite::cpu::WasmUses;
use traplab_suite::image::{Artifact, HostCompile, Manifest, Workload, pack_with_data};
use traplab_suite::{CodeTarget, CpuProfile, EngineVariant, TrapMode, WorkloadKind};

use crate::sightglass;
use wasmtime::{Config, Engine};
use wasmtime_environ::iterate_traps;
use wasmtime_environ::obj::ELF_WASMTIME_TRAPS;
use wasmtime_environ::object::read::File as ElfFile;
use wasmtime_environ::object::{Object, ObjectSection, ObjectSymbol, SectionKind, SymbolKind};

use crate::campaign::{self, SpecFile};
use crate::catalogue::{EXPORT, Expectation, SuiteName, WorkloadSpec};
use crate::compute;
use crate::contract::{check_contract, into_anyhow};

/// The kernel's target triple.
///
/// Naming a target explicitly also keeps wasmtime from probing the build
/// machine's CPU: with a target given, wasmtime's `IsaBuilder` skips
/// `cranelift_native::infer_native_flags`: the ISA flags are exactly those
/// of the CPU profile the suite is built for (`traplab_suite::cpu`), never
/// the build machine's.
pub use traplab_suite::engine::KERNEL_TARGET;

/// The wasmtime version that compiles the artifacts, recorded in the manifest.
///
/// wasmtime has no public version constant (it uses its own
/// `CARGO_PKG_VERSION` internally), so this repeats the `=48.0.8` pin of the
/// workspace `Cargo.toml`; the `manifest_names_the_compiling_wasmtime` test
/// checks it against the version in `Cargo.lock` and the major version
/// wasmtime writes into every artifact (its unit of compatibility).
pub const WASMTIME_VERSION: &str = "48.0.8";

/// The engine variant used for compiling: `backtrace` is runtime-only (the
/// same artifact loads with either value), so one compile per trap mode
/// serves both backtrace settings.
pub fn compile_variant(trap_mode: TrapMode) -> EngineVariant {
    EngineVariant {
        trap_mode,
        backtrace: false,
    }
}

/// The `Config` that compiles artifacts for the kernel under `trap_mode`
/// for the CPU profile `cpu` (`traplab_suite::engine::compile_config`:
/// target and ISA flags on top of the shared engine configuration).
pub fn kernel_config(trap_mode: TrapMode, cpu: &CpuProfile) -> Result<Config> {
    target_config(trap_mode, CodeTarget::LabKernel, cpu)
}

/// The `Config` that compiles artifacts for `target` under `trap_mode`.
pub fn target_config(trap_mode: TrapMode, target: CodeTarget, cpu: &CpuProfile) -> Result<Config> {
    traplab_suite::engine::compile_config(trap_mode, target, cpu)
        .map_err(into_anyhow)
        .with_context(|| {
            format!(
                "building the compile configuration for {} (CPU profile {})",
                target.triple(),
                cpu.name
            )
        })
}

/// A Cranelift engine that compiles (but cannot run) kernel artifacts.
pub fn kernel_engine(trap_mode: TrapMode, cpu: &CpuProfile) -> Result<Engine> {
    target_engine(trap_mode, CodeTarget::LabKernel, cpu)
}

/// A Cranelift engine that compiles (but cannot run) artifacts for `target`.
pub fn target_engine(trap_mode: TrapMode, target: CodeTarget, cpu: &CpuProfile) -> Result<Engine> {
    Engine::new(&target_config(trap_mode, target, cpu)?)
        .map_err(into_anyhow)
        .with_context(|| {
            format!(
                "creating the {} compile engine for {}",
                trap_mode.name(),
                target.triple()
            )
        })
}

/// Names `--cpu-profile` accepts: the profiles of `traplab_suite::cpu`,
/// and `host`.
pub const CPU_PROFILE_NAMES: [&str; 5] =
    ["qemu-max", "x86-64-v2", "x86-64-v3", "sse4.1-only", "host"];

/// The CPU profile named `name`: one of `traplab_suite::cpu::PROFILES`, or
/// `host`, the extensions of the machine running this (for KVM's
/// `-cpu host` on it; never for another machine).
pub fn cpu_profile(name: &str) -> Result<CpuProfile> {
    if name != "host" {
        return CpuProfile::by_name(name).map_err(anyhow::Error::msg);
    }
    fn detected(feature: &str) -> bool {
        match feature {
            "sse3" => std::arch::is_x86_feature_detected!("sse3"),
            "ssse3" => std::arch::is_x86_feature_detected!("ssse3"),
            "sse4.1" => std::arch::is_x86_feature_detected!("sse4.1"),
            "sse4.2" => std::arch::is_x86_feature_detected!("sse4.2"),
            "popcnt" => std::arch::is_x86_feature_detected!("popcnt"),
            "cmpxchg16b" => std::arch::is_x86_feature_detected!("cmpxchg16b"),
            "lzcnt" => std::arch::is_x86_feature_detected!("lzcnt"),
            "bmi1" => std::arch::is_x86_feature_detected!("bmi1"),
            "bmi2" => std::arch::is_x86_feature_detected!("bmi2"),
            "avx" => std::arch::is_x86_feature_detected!("avx"),
            "avx2" => std::arch::is_x86_feature_detected!("avx2"),
            "fma" => std::arch::is_x86_feature_detected!("fma"),
            _ => false,
        }
    }
    let features: Vec<_> = traplab_suite::cpu::ALL_FEATURES
        .into_iter()
        .filter(|f| detected(f.name))
        .collect();
    ensure!(
        features.contains(&traplab_suite::cpu::SSE41),
        "this machine lacks SSE4.1, which every CPU profile needs (see traplab_suite::cpu); choose a named profile"
    );
    Ok(CpuProfile {
        name: "host",
        describe: "the extensions of the machine that built the suite (KVM -cpu host there)",
        // Leaked once per build: profiles hold static feature lists.
        features: Vec::leak(features),
    })
}

/// The compile engines of a suite: one per (code target, trap mode), in the
/// order of [`unplaced_artifacts`], all for one CPU profile.
pub struct SuiteEngines {
    pub cpu: CpuProfile,
    pub engines: Vec<(CodeTarget, TrapMode, Engine)>,
}

/// The engines that compile a suite for the CPU profile `cpu`.
pub fn suite_engines(cpu: &CpuProfile) -> Result<SuiteEngines> {
    let engines = CodeTarget::ALL
        .iter()
        .flat_map(|&target| TrapMode::ALL.iter().map(move |&mode| (target, mode)))
        .map(|(target, mode)| Ok((target, mode, target_engine(mode, target, cpu)?)))
        .collect::<Result<_>>()?;
    Ok(SuiteEngines { cpu: *cpu, engines })
}

/// Which instructions of `wasm` the CPU profile's check asks about
/// ([`traplab_suite::cpu::unreachable_libcalls`]).
pub fn wasm_uses(wasm: &[u8]) -> Result<WasmUses> {
    use wasmparser::{Operator, Parser, Payload};
    let mut uses = WasmUses::default();
    for payload in Parser::new(0).parse_all(wasm) {
        let Payload::CodeSectionEntry(body) = payload? else {
            continue;
        };
        let mut ops = body.get_operators_reader()?;
        while !ops.eof() {
            match ops.read()? {
                Operator::I8x16Shuffle { .. } | Operator::I8x16Swizzle => {
                    uses.byte_shuffles = true;
                }
                Operator::F32Ceil
                | Operator::F32Floor
                | Operator::F32Trunc
                | Operator::F32Nearest
                | Operator::F64Ceil
                | Operator::F64Floor
                | Operator::F64Trunc
                | Operator::F64Nearest
                | Operator::F32x4Ceil
                | Operator::F32x4Floor
                | Operator::F32x4Trunc
                | Operator::F32x4Nearest
                | Operator::F64x2Ceil
                | Operator::F64x2Floor
                | Operator::F64x2Trunc
                | Operator::F64x2Nearest => uses.float_rounding = true,
                _ => {}
            }
        }
    }
    Ok(uses)
}

/// Refuse `wasm` (named `what`) on the host, before any boot, when code
/// compiled for `cpu` would call a wasmtime libcall the kernel cannot run.
pub fn check_runnable(cpu: &CpuProfile, wasm: &[u8], what: &str) -> Result<()> {
    let uses = wasm_uses(wasm).with_context(|| format!("reading the code of {what}"))?;
    let why = traplab_suite::cpu::unreachable_libcalls(cpu, &uses);
    ensure!(
        why.is_empty(),
        "{what} cannot run when compiled for CPU profile {}: {}; choose a CPU profile that has them (--cpu-profile x86-64-v2 or larger)",
        cpu.name,
        why.join("; ")
    );
    Ok(())
}

/// Parse the workload's WAT into a wasm binary and check its contract.
pub fn wasm_bytes(spec: &WorkloadSpec) -> Result<Vec<u8>> {
    let wasm = wat::parse_str(spec.source.text)
        .map_err(|mut error| {
            // Without a path, wat reports only line and column.
            error.set_path(spec.source.path);
            error
        })
        .with_context(|| format!("parsing the WAT of {}", spec.name))?;
    check_contract(&wasm).with_context(|| {
        format!(
            "{} ({}) breaks the workload contract",
            spec.name, spec.source.path
        )
    })?;
    Ok(wasm)
}

/// One artifact per code target and trap mode ([`CodeTarget::ALL`] ×
/// [`TrapMode::ALL`], the lab kernel's first), not yet placed: [`pack`]
/// fills in offsets and checksums, [`build_suite`] the host facts.
fn unplaced_artifacts() -> Vec<Artifact> {
    CodeTarget::ALL
        .iter()
        .flat_map(|&target| {
            TrapMode::ALL.iter().map(move |&trap_mode| Artifact {
                trap_mode,
                target,
                offset: 0,
                len: 0,
                sha256: String::new(),
                host: None,
            })
        })
        .collect()
}

/// The manifest entry of a WAT workload.
pub fn manifest_entry(spec: &WorkloadSpec) -> Workload {
    let (expect_result, expect_trap, expect_vector) = match spec.expect {
        Expectation::Returns(value) => (Some(value), None, None),
        // The manifest names the trap by its `Debug` name, which is what the
        // kernel compares against `format!("{trap:?}")`.
        Expectation::Traps { trap, vector } => (None, Some(format!("{trap:?}")), Some(vector)),
    };
    Workload {
        name: spec.name.to_string(),
        kind: spec.kind(),
        export: EXPORT.to_string(),
        args: spec.args,
        expect_result,
        expect_trap,
        expect_vector,
        artifacts: unplaced_artifacts(),
        sightglass: None,
    }
}

/// The manifest entry of a compute kernel: its export must return its
/// golden result, with no trap.
pub fn compute_manifest_entry(kernel: &ComputeKernel) -> Workload {
    Workload {
        name: kernel.name.to_string(),
        kind: WorkloadKind::Compute,
        export: kernel.export.to_string(),
        args: kernel.args,
        expect_result: Some(kernel.golden),
        expect_trap: None,
        expect_vector: None,
        artifacts: unplaced_artifacts(),
        sightglass: None,
    }
}

/// An artifact and what compiling it cost.
#[derive(Debug, Clone)]
pub struct Compiled {
    pub artifact: Vec<u8>,
    pub host: HostCompile,
}

/// Compile `wasm` with `engine` (a [`kernel_engine`]) and measure it.
/// `what` names the module in errors.
pub fn compile(engine: &Engine, wasm: &[u8], what: &str) -> Result<Compiled> {
    let start = Instant::now();
    let artifact = engine
        .precompile_module(wasm)
        .map_err(into_anyhow)
        .with_context(|| format!("compiling {what}"))?;
    let compile_ns = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
    let (code_bytes, trap_sites) =
        artifact_facts(&artifact).with_context(|| format!("reading the artifact of {what}"))?;
    Ok(Compiled {
        artifact,
        host: HostCompile {
            compile_ns,
            code_bytes,
            trap_sites,
        },
    })
}

/// `(code bytes, trap sites)` of a wasmtime artifact (an ELF file).
///
/// Code bytes: the machine code of every function wasmtime put in the
/// artifact's one text section (wasm functions and trampolines), summed
/// from the sizes of their `FUNC` symbols. Not the section's size: wasmtime
/// pads the text section to a whole 4 KiB page, so every small module
/// would measure 4,096 bytes. Alignment padding between functions is not
/// counted either.
///
/// Trap sites: the entries of the trap table (`.wasmtime.traps`), one per
/// instruction that may trap with a trap code.
pub fn artifact_facts(artifact: &[u8]) -> Result<(u64, u64)> {
    let elf = ElfFile::parse(artifact).context("the artifact is not an ELF file")?;
    let mut text = elf
        .sections()
        .filter(|section| section.kind() == SectionKind::Text);
    let (Some(text), None) = (text.next(), text.next()) else {
        bail!("the artifact does not have exactly one text section");
    };
    let code_bytes: u64 = elf
        .symbols()
        .filter(|symbol| {
            symbol.kind() == SymbolKind::Text && symbol.section_index() == Some(text.index())
        })
        .map(|symbol| symbol.size())
        .sum();
    ensure!(
        code_bytes > 0,
        "the artifact's text section ({} bytes) has no function symbols to measure",
        text.size()
    );
    ensure!(
        code_bytes <= text.size(),
        "the artifact's function symbols ({code_bytes} bytes) overrun its text section ({} bytes)",
        text.size()
    );
    let traps = elf
        .section_by_name(ELF_WASMTIME_TRAPS)
        .with_context(|| format!("the artifact has no {ELF_WASMTIME_TRAPS} section"))?
        .data()
        .with_context(|| format!("reading {ELF_WASMTIME_TRAPS}"))?;
    let trap_sites = iterate_traps(traps)
        .with_context(|| format!("{ELF_WASMTIME_TRAPS} does not decode"))?
        .count();
    Ok((code_bytes, trap_sites as u64))
}

/// Compile `wasm` once per engine of [`suite_engines`], in its order,
/// after checking it can run under their CPU profile ([`check_runnable`]).
fn compile_all_modes(engines: &SuiteEngines, wasm: &[u8], what: &str) -> Result<Vec<Compiled>> {
    check_runnable(&engines.cpu, wasm, what)?;
    engines
        .engines
        .iter()
        .map(|(target, mode, engine)| {
            compile(
                engine,
                wasm,
                &format!("{what} with {} traps for {}", mode.name(), target.triple()),
            )
        })
        .collect()
}

/// Compile every workload of `suite` under both trap modes and pack the
/// suite image: the WAT workloads first, then the compute kernels.
///
/// The compute module is built with cargo ([`compute::build_module`]),
/// checked ([`compute::check_module`], [`compute::check_golden`]) and
/// compiled once per trap mode; every compute entry carries those two
/// artifacts.
///
/// The image is not byte-for-byte reproducible: each artifact records its
/// compile time (`host.compile_ns`). Everything else, the artifacts
/// included, is.
pub fn build_suite(suite: SuiteName, cpu: &CpuProfile) -> Result<Vec<u8>> {
    build_suite_with(suite, cpu, &[])
}

/// [`build_suite`] plus the sightglass-ABI modules in `sightglass_dirs`
/// (beside the shipped ones in [`sightglass::SHIPPED_DIR`]).
pub fn build_suite_with(
    suite: SuiteName,
    cpu: &CpuProfile,
    sightglass_dirs: &[std::path::PathBuf],
) -> Result<Vec<u8>> {
    build_suite_campaign(suite, cpu, sightglass_dirs, None)
}

/// [`build_suite_with`] plus a fault-injection campaign, resolved against
/// this suite's compute workloads ([`campaign::resolve`]) into the
/// manifest's `campaign`.
pub fn build_suite_campaign(
    suite: SuiteName,
    cpu: &CpuProfile,
    sightglass_dirs: &[std::path::PathBuf],
    campaign: Option<&SpecFile>,
) -> Result<Vec<u8>> {
    let engines = suite_engines(cpu)?;
    let specs = suite.workloads();
    let kernels = suite.compute_kernels();
    let mut workloads = Vec::with_capacity(specs.len() + kernels.len());
    let mut blobs = Vec::with_capacity(specs.len() + kernels.len());
    let mut add = |mut workload: Workload, compiled: Vec<Compiled>| {
        let mut artifacts = Vec::with_capacity(compiled.len());
        for (artifact, compiled) in workload.artifacts.iter_mut().zip(compiled) {
            artifact.host = Some(compiled.host);
            artifacts.push(compiled.artifact);
        }
        workloads.push(workload);
        blobs.push(artifacts);
    };
    for spec in &specs {
        let wasm = wasm_bytes(spec)?;
        let what = format!("{} ({})", spec.name, spec.source.path);
        add(
            manifest_entry(spec),
            compile_all_modes(&engines, &wasm, &what)?,
        );
    }
    let mut compute_wasm = None;
    if !kernels.is_empty() {
        let wasm = compute::build_module()?;
        compute::check_module(&wasm)?;
        compute::check_golden(&wasm)?;
        let what = format!("the compute module ({})", compute::SOURCE_DIR);
        let compiled = compile_all_modes(&engines, &wasm, &what)?;
        for kernel in kernels {
            add(compute_manifest_entry(kernel), compiled.clone());
        }
        compute_wasm = Some(wasm);
    }
    let campaign = campaign
        .map(|spec| campaign::resolve(spec, suite.name(), kernels, compute_wasm.as_deref()))
        .transpose()?;
    let mut dirs = vec![crate::compute::workspace_root().join(sightglass::SHIPPED_DIR)];
    dirs.extend(sightglass_dirs.iter().cloned());
    let mut names = std::collections::BTreeSet::new();
    // The sightglass benchmarks' input and expected-output files, packed
    // after the artifacts (`pack_with_data`).
    let mut data = Vec::new();
    for dir in &dirs {
        for benchmark in sightglass::find_benchmarks(dir)? {
            let name = benchmark.name.clone();
            let path = &benchmark.module;
            ensure!(
                names.insert(name.clone()),
                "{}: a second module named {name}",
                path.display()
            );
            let wasm = sightglass::load(path)?;
            let compiled = compile_all_modes(&engines, &wasm, &path.display().to_string())?;
            let (files, bytes) = benchmark.files()?;
            data.extend(bytes);
            let mut entry = sightglass::manifest_entry(name, unplaced_artifacts());
            entry.sightglass = Some(files);
            add(entry, compiled);
        }
    }
    let manifest = Manifest {
        suite: suite.name().to_string(),
        wasmtime: WASMTIME_VERSION.to_string(),
        workloads,
        scripts: Vec::new(),
        campaign,
        cpu: Some(cpu.record()),
    };
    Ok(pack_with_data(manifest, &blobs, &[], &data))
}
