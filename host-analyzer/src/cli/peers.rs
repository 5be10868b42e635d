//! `traplab peers`: ring 0 vs Linux.

use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::Args;

use super::{Exit, emit, load_usable};
use crate::ingest::Run;
use crate::peers::{self, Input, PeersView};
use crate::plot::{self, figures};
use crate::store::{self, RUN_FILE};
use crate::table::Format;

/// Ring 0 vs Linux: the lab kernel beside its Linux peers, per mode.
///
/// Rows: each trap kind under signals.bt_off, signals.bt_on and
/// explicit.bt_off; call.null per configuration; each floor raw.X (the lab
/// kernel's under ring0 beside Linux's signal under ring3; raw.syscall,
/// a trivial system call, is Linux's only). Columns: the lab-kernel p50,
/// the linux-guest p50, their ratio lab/Linux with a 99 % percentile
/// bootstrap interval of the ratio of medians (exact, zero width, under
/// icount), and the linux-host p50 — cycles, each with its mode. A ratio
/// only ever joins lab-kernel and linux-guest streams of one measurement
/// mode: streams are grouped into one panel per mode, and the command
/// refuses (exit 2) when no mode has both.
///
/// RUN is a stored run folder holding peers (`traplab ingest CAPTURE
/// --peer linux-guest=FILE --peer linux-host=FILE`: its run.jsonl and every
/// peers/*.jsonl), a stream file, `-`, or RUN@PLATFORM (one platform's
/// stream of a stored run). Give several (e.g. a TCG and an icount run) for
/// one panel per mode.
///
/// `json` is the view itself: {unit, panels: [{mode, mode_caption,
/// interval, lab_kernel, linux_guest, linux_host, rows: [{group,
/// experiment, config, lab_kernel, linux_guest, ratio, linux_host}],
/// notes}], notes}, each side {config, status, n, p25, p50, p75, raises},
/// each ratio {value, low, high}. `csv` has one row per panel row.
#[derive(Debug, Args)]
pub struct PeersArgs {
    /// Stored run folders, stream files, `-`, or RUN@PLATFORM.
    #[arg(value_name = "RUN", required = true)]
    pub runs: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Also draw the ratio figure (SVG + PNG, one panel per mode) into DIR.
    #[arg(long, value_name = "DIR")]
    pub plot: Option<PathBuf>,
}

/// Every stream named by `args`: a stored run folder gives its run.jsonl
/// and its peers (one group), anything else one stream of its own.
pub fn load_streams(args: &[PathBuf]) -> Result<Vec<(Run, Option<usize>)>> {
    let mut streams = Vec::new();
    for (i, arg) in args.iter().enumerate() {
        if store::split_platform(arg).is_none() && arg.is_dir() && arg.join(RUN_FILE).is_file() {
            streams.push((load_usable(arg)?.run, Some(i)));
            for p in store::stored_peers(arg) {
                let file = arg.join(store::peer_file(p));
                streams.push((load_usable(&file)?.run, Some(i)));
            }
        } else {
            streams.push((load_usable(arg)?.run, None));
        }
    }
    Ok(streams)
}

/// The view of the streams of `args`.
pub fn view(args: &[PathBuf]) -> Result<PeersView> {
    let streams = load_streams(args)?;
    let inputs: Vec<Input> = streams
        .iter()
        .map(|(run, group)| Input { run, group: *group })
        .collect();
    Ok(peers::build(&inputs)?)
}

/// Draw the view's figure into `dir`; returns the files written (none when
/// no row has a ratio).
pub fn draw(view: &PeersView, dir: &Path) -> Result<Vec<PathBuf>> {
    match figures::for_peers(view) {
        Some(f) => plot::write(&f, dir),
        None => Ok(Vec::new()),
    }
}

pub fn run(args: PeersArgs) -> Result<Exit> {
    let view = view(&args.runs)?;
    emit(&peers::render::render(&view, args.format))?;
    if let Some(dir) = &args.plot {
        for f in draw(&view, dir)? {
            eprintln!("wrote {}", f.display());
        }
    }
    Ok(Exit::Clean)
}
