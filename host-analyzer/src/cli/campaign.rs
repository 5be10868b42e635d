//! `traplab campaign`: the fault-injection view of a run.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Args;

use super::{Exit, emit, load_usable};
use crate::campaign::{analyze, render::render};
use crate::mode::Unit;
use crate::plot::{self, figures};
use crate::table::Format;

/// Tabulate a fault-injection campaign: outcomes, recovery and trap
/// latency, and whether every injection's record arrived.
///
/// Per campaign in the run: (1) per injector × target, with a total per
/// injector and overall: injected, fired, manifested (= not masked) and
/// each outcome (trapped, contained, hang, corrupted, masked, kernel_crash)
/// with its share; (2) the Theseus-style summary (OSDI'20): injected,
/// manifested, recovered/contained (= trapped + contained), hang,
/// corrupted, kernel crashes; (3) recovery latency p50/p90/p99/max per
/// injector (`recovery_cycles`); (4) trap latency under injection per
/// injector (`trap_cycles` of trapped and contained injections); (5) what
/// the manifested faults raised (vector, trap code); then the sequence
/// completeness and a verdict. The mode is printed with every table.
///
/// A `fault` or `panic` record counts as one `kernel_crash` for the
/// injection in flight (named by the record's `during`, else the one after
/// the last injection record).
///
/// Exit status: 0 when every campaign finished with zero kernel crashes and
/// a complete sequence (end record present, no lost or damaged line, every
/// injection index 0..n reported once, the `campaign.<name>` result `ok`);
/// 1 otherwise; 2 when the run holds no campaign at all.
#[derive(Debug, Args)]
pub struct CampaignArgs {
    /// A run file, a stored run folder, or `-` for standard input.
    #[arg(value_name = "RUN")]
    pub run: PathBuf,
    /// Output format. `json` is one object with at least `injections` (the
    /// total, kernel crashes included) and `outcomes` (every outcome name →
    /// count, 0 included); the other keys are documented in
    /// src/campaign/render.rs. `csv` is tidy, one value per row.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Unit of latencies; `ns` converts with the run's TSC frequency.
    #[arg(long, value_enum, default_value_t = Unit::Cycles)]
    pub unit: Unit,
    /// Also draw the campaign figures (outcome bars per injector and per
    /// target, recovery-latency CDF; SVG + PNG) into this folder.
    #[arg(long, value_name = "DIR")]
    pub plot: Option<PathBuf>,
}

pub fn run(args: CampaignArgs) -> Result<Exit> {
    let loaded = load_usable(&args.run)?;
    let view = analyze(&loaded.run);
    if view.is_empty() {
        bail!(
            "{}: no fault-injection campaign: no injection records, no campaign.* result and no kernel crash during a campaign",
            loaded.run.source
        );
    }
    emit(&render(&loaded.run, &view, args.format, args.unit)?)?;
    if let Some(dir) = &args.plot {
        for f in figures::for_campaign(&loaded.run, &view, args.unit)? {
            for p in plot::write(&f, dir)? {
                eprintln!("wrote {}", p.display());
            }
        }
    }
    Ok(if view.pass() {
        Exit::Clean
    } else {
        Exit::Findings
    })
}
