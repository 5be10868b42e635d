//! `traplab jit`: the JIT-performance view of a run.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Args;

use super::{Exit, emit, load_usable};
use crate::jit::{analyze, render::render};
use crate::mode::Unit;
use crate::table::Format;

/// Show how Cranelift's code performs in the kernel: wasm vs native, explicit
/// checks vs signals, break-even trap rates, in-kernel Cranelift.
///
/// Sections, each with the measurement mode: (1) per compute workload the
/// wasm p50 (signals.bt_off), the native twin's p50, wasm/native and
/// explicit/signals ratios, host compile time, code bytes, trap sites,
/// deserialize, instantiate and first-call cycles and whether the native
/// twin used soft floats, then geometric means of wasm/native over integer
/// workloads (the headline) and over all; (2) the break-even trap rate per
/// workload: (X − S) / (Tsig − Texp) traps per call and × TSC Hz / S per
/// second, with Tsig, Texp the p50 of trap.oob_load under signals.bt_off and
/// explicit.bt_off ("never" when explicit checks are not slower); (3)
/// in-kernel Cranelift compile latency per function size and faults in JIT
/// code beside the raw-exception floors. `.wast` conformance results have
/// their own view, `traplab wast`.
///
/// Exits 2 when the run holds none of these experiments.
#[derive(Debug, Args)]
pub struct JitArgs {
    /// A run file, a stored run folder, or `-` for standard input.
    #[arg(value_name = "RUN")]
    pub run: PathBuf,
    /// Output format. `json` is one object with keys mode, unit, commit,
    /// compute, geomean, trap_cost, break_even, cranelift and notes
    /// (documented in src/jit/render.rs); `csv` is tidy, one value per row.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Unit of durations; `ns` converts with the run's TSC frequency.
    /// Compile time on the host is always in ms.
    #[arg(long, value_enum, default_value_t = Unit::Cycles)]
    pub unit: Unit,
}

pub fn run(args: JitArgs) -> Result<Exit> {
    let loaded = load_usable(&args.run)?;
    let view = analyze(&loaded.run);
    if view.is_empty() {
        // `traplab jit` once showed `.wast` results too: say where they went.
        let wast = if crate::wast::analyze(&loaded.run).is_empty() {
            ""
        } else {
            "; its .wast results: traplab wast"
        };
        bail!(
            "{}: no JIT-performance data: no compute.* or jit.* experiments in this run{wast}",
            loaded.run.source
        );
    }
    emit(&render(&loaded.run, &view, args.format, args.unit)?)?;
    Ok(Exit::Clean)
}
