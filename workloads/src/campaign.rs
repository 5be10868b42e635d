//! Fault-injection campaigns in the suite image: `build-suite --campaign
//! SPEC.toml` reads a campaign spec (`injectors/campaigns/README.md`),
//! checks it, and resolves every target against the suite being built into
//! a [`Campaign`] the kernel runs as is:
//!
//! - each target must be a compute workload of the suite;
//! - its arguments are the spec's `args` entry, else the workload's own;
//! - its golden result is what the compute module returns for those
//!   arguments on a host wasmtime engine (the reference for `masked` vs
//!   `corrupted`);
//! - its divisor table is the module's `TRAPLAB_DIVISORS` export, when it
//!   has one (the `divisor_zero` injector's target).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail, ensure};
use traplab_compute::ComputeKernel;
use traplab_compute::divmix::DIVISORS;
use traplab_injectors::CampaignSpec;
use traplab_suite::EngineVariant;
use traplab_suite::image::{Campaign, CampaignTarget};
use wasmtime::{Instance, Module, Store};

use crate::compute::{self, DIVISORS_EXPORT};
use crate::contract::into_anyhow;

/// The directory of the shipped campaign specs, relative to the workspace
/// root.
pub const CAMPAIGNS_DIR: &str = "injectors/campaigns";

/// A campaign spec and the file it came from (for error messages).
#[derive(Debug, Clone, PartialEq)]
pub struct SpecFile {
    pub path: PathBuf,
    pub spec: CampaignSpec,
}

/// The spec file a `--campaign` argument names: an existing file is
/// itself; a bare name (no `/`, no `.toml`) such as `default` or `smoke` is
/// the shipped spec `injectors/campaigns/<name>.toml`; anything else is a
/// path (and reading it will say it is missing).
pub fn spec_path(argument: &Path) -> PathBuf {
    let text = argument.to_string_lossy();
    if argument.is_file() || text.contains('/') || text.ends_with(".toml") {
        return argument.to_path_buf();
    }
    compute::workspace_root()
        .join(CAMPAIGNS_DIR)
        .join(format!("{text}.toml"))
}

/// Read, parse and check the campaign spec at `path`: TOML into
/// [`CampaignSpec`], then [`CampaignSpec::validate`] and the engine
/// configuration label. Every error names the file.
pub fn load_spec(path: &Path) -> Result<SpecFile> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the campaign spec {}", path.display()))?;
    let spec = parse_spec(&text).with_context(|| format!("campaign spec {}", path.display()))?;
    Ok(SpecFile {
        path: path.to_path_buf(),
        spec,
    })
}

/// Parse and check a campaign spec's text (see [`load_spec`]).
pub fn parse_spec(text: &str) -> Result<CampaignSpec> {
    let spec: CampaignSpec = toml::from_str(text).map_err(|error| {
        // toml's message carries the line, column and a snippet; keep it
        // on its own lines after the file name.
        anyhow::anyhow!("{}", error.to_string().trim_end())
    })?;
    spec.validate()
        .map_err(|error| anyhow::anyhow!("invalid: {error}"))?;
    ensure!(
        EngineVariant::from_label(&spec.config).is_some(),
        "invalid: config {:?}: not an engine configuration (use one of {})",
        spec.config,
        EngineVariant::ALL.map(|v| v.label()).join(", ")
    );
    Ok(spec)
}

/// Resolve `spec` against the compute workloads `kernels` of the suite
/// named `suite`, whose compute module is `wasm`.
pub fn resolve(
    spec: &SpecFile,
    suite: &str,
    kernels: &[ComputeKernel],
    wasm: Option<&[u8]>,
) -> Result<Campaign> {
    let path = spec.path.display();
    let spec = &spec.spec;
    let mut chosen = Vec::with_capacity(spec.targets.len());
    for target in &spec.targets {
        let Some(kernel) = kernels.iter().find(|k| k.name == *target) else {
            let names: Vec<&str> = kernels.iter().map(|k| k.name).collect();
            bail!(
                "campaign spec {path}: target `{target}` is not a compute workload of the {suite} suite ({})",
                if names.is_empty() {
                    "it has none".to_string()
                } else {
                    format!("choose from {}", names.join(", "))
                }
            );
        };
        ensure!(
            !chosen
                .iter()
                .any(|k: &&ComputeKernel| k.name == kernel.name),
            "campaign spec {path}: target `{target}` is listed twice"
        );
        chosen.push(kernel);
    }
    let wasm = wasm.context("the suite has no compute module to run a campaign in")?;
    let engine = compute::host_engine()?;
    let module = Module::new(&engine, wasm)
        .map_err(into_anyhow)
        .context("compiling the compute module for the host")?;
    let divisors = compute::divisor_table(wasm)
        .with_context(|| format!("the compute module ({})", compute::SOURCE_DIR))?;
    if let Some(offset) = divisors {
        check_divisor_table(&engine, &module, offset)?;
    }
    let mut targets = Vec::with_capacity(chosen.len());
    for kernel in chosen {
        let args = spec.args.get(kernel.name).copied().unwrap_or(kernel.args);
        let golden = compute::call_on(&engine, &module, kernel, args).with_context(|| {
            format!(
                "campaign spec {path}: the golden result of `{}`",
                kernel.name
            )
        })?;
        targets.push(CampaignTarget {
            workload: kernel.name.to_string(),
            args,
            golden,
            divisors: divisors.map(|offset| (offset, DIVISORS as u32)),
        });
    }
    Ok(Campaign {
        spec: spec.clone(),
        targets,
    })
}

/// The table at `offset` of a fresh instance's memory holds
/// [`DIVISORS`] non-zero `u32`s: the global points where the injector
/// will write.
fn check_divisor_table(engine: &wasmtime::Engine, module: &Module, offset: u64) -> Result<()> {
    let mut store = Store::new(engine, ());
    let instance = Instance::new(&mut store, module, &[])
        .map_err(into_anyhow)
        .context("instantiating the compute module")?;
    let memory = instance
        .get_memory(&mut store, "memory")
        .context("the compute module exports no `memory`")?;
    let mut bytes = [0u8; DIVISORS * 4];
    memory
        .read(&store, offset as usize, &mut bytes)
        .map_err(|_| {
            anyhow::anyhow!(
                "the compute module's `{DIVISORS_EXPORT}` ({offset:#x}) points outside its memory"
            )
        })?;
    let entries: Vec<u32> = bytes
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    ensure!(
        entries.iter().all(|&d| d != 0),
        "the compute module's `{DIVISORS_EXPORT}` ({offset:#x}) does not point at {DIVISORS} non-zero divisors: {entries:?}"
    );
    Ok(())
}
