//! `traplab profile`: instruction profiles as tables and flame graphs.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use super::{Exit, emit};
use crate::profile;
use crate::table::Format;
use crate::view;

/// Instruction profiles of single calls (written by `traplab-profile`, or
/// `scripts/run-suite.sh --profile`): every instruction between the call
/// and its return, stepped in QEMU, by stage and by function.
///
/// Per profile: the stages, each stepped count beside the difference of
/// the call's own stamps (under icount the two must be equal: the
/// profile is checked against the kernel's clock, and a disagreement
/// exits 1), and the functions by instructions executed in them (self,
/// also per stage) and under them (total). Inlined functions count as
/// themselves (`name [crate]`); `[jit code]` is the workload's compiled
/// wasm and wasmtime's trampolines.
///
/// `json` is the view: {profiles: [{experiment, config, mode,
/// instructions, truncated, stages: [{stage, instructions, stamp_delta, exceptions,
/// run: {samples, median, min, max},
/// agrees}], outside_stamps, crates: [{crate, instructions, by_stage}],
/// functions: [{function, crate, self_instructions,
/// total_instructions, self_by_stage}], functions_omitted}]}. `csv` has one
/// row per stage and per function.
#[derive(Debug, Args)]
pub struct ProfileArgs {
    /// Profile files (`*.json`), or folders holding them (a
    /// `traplab-profile --out` folder, or its `profile/`).
    #[arg(value_name = "PROFILE", required = true)]
    pub paths: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Functions shown per profile.
    #[arg(long, default_value_t = 20)]
    pub top: usize,
    /// Also draw each profile's flame graph (SVG) into DIR.
    #[arg(long, value_name = "DIR")]
    pub flamegraph: Option<PathBuf>,
}

pub fn run(args: ProfileArgs) -> Result<Exit> {
    let profiles = profile::load(&args.paths)?;
    let v = profile::build(&profiles, args.top);
    emit(&view::render(&v, args.format))?;
    if let Some(dir) = &args.flamegraph {
        for p in &profiles {
            let path = profile::flame_graph(p, dir)?;
            eprintln!("traplab profile: wrote {}", path.display());
        }
    }
    Ok(if v.disagreements() > 0 {
        Exit::Findings
    } else {
        Exit::Clean
    })
}
