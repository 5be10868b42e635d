//! `traplab compare`: is the candidate slower or faster than the base?

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Args;

use super::{Exit, RESULTS_ENV, default_results, emit, load_usable};
use crate::compare::{CompareOptions, compare, default_threshold, render};
use crate::store;
use crate::table::Format;

/// Compare two runs (e.g. two commits): regressed, improved, unchanged or unsure.
///
/// Compares experiment by experiment: the ratio of medians
/// (candidate / base) with a confidence interval, and a verdict of
/// `regressed`, `improved`, `unchanged` or `unsure`.
///
/// The interval is a percentile bootstrap of the ratio of medians (10,000
/// resamples, fixed seed, so results are reproducible). In deterministic
/// (icount) runs there is no sampling noise: the interval is the exact ratio
/// with zero width. A change is called only when the whole interval lies
/// beyond the threshold; `unsure` means the data cannot decide. Runs from
/// different measurement modes are refused.
///
/// The two runs may be two platforms of one stored run, named
/// RUN@PLATFORM: `traplab compare RUN@lab-kernel RUN@linux-guest` compares
/// the lab kernel with its Linux guest peer as across commits (same mode
/// only; a floor raw.X pairs ring0 with ring3). `traplab peers RUN` shows
/// all platforms at once.
///
/// An incomplete run (no end record) or a damaged one (lost or corrupted
/// lines, gaps) is left out unless `--include-incomplete`, and so are two
/// runs of different suites unless `--any-suite`: the run left out is named
/// on stdout, and with nothing left to compare the exit status is 2.
///
/// Exits 1 when anything regressed beyond the threshold, 0 otherwise, 2 on
/// bad input.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// BASE and CAND (run files, stored run folders, RUN@PLATFORM for one
    /// platform's stream of a stored run — lab-kernel, linux-guest,
    /// linux-host —, or `-` for one of them); with --baseline, only CAND.
    #[arg(value_name = "BASE CAND", num_args = 1..=2, required = true)]
    pub runs: Vec<PathBuf>,
    /// Use the named baseline (saved with `traplab ingest --save-baseline`)
    /// as BASE.
    #[arg(long, value_name = "NAME")]
    pub baseline: Option<String>,
    /// Results folder holding the baselines.
    #[arg(long, value_name = "DIR", env = RESULTS_ENV, default_value_os_t = default_results())]
    pub results: PathBuf,
    /// Smallest change of the median that counts, in percent. Default: 5
    /// in real-time modes; 0 (any change) in deterministic modes (icount),
    /// where counts are exact and an A/A comparison is identical.
    #[arg(long, value_name = "PCT")]
    pub threshold: Option<f64>,
    /// Confidence level of the interval, in (0, 1).
    #[arg(long, value_name = "LEVEL", default_value_t = 0.99)]
    pub confidence: f64,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Compare incomplete and damaged runs too (the data that arrived).
    #[arg(long)]
    pub include_incomplete: bool,
    /// Compare runs of different suites.
    #[arg(long)]
    pub any_suite: bool,
}

/// Why `loaded` is left out of a comparison by default, if it is.
fn left_out(args: &CompareArgs, role: &str, run: &crate::ingest::Run) -> Option<String> {
    let status = store::stream_status(run);
    (!args.include_incomplete && !store::status_is_whole(status)).then(|| {
        format!(
            "left out: {role} {} ({status}, {} problem(s); --include-incomplete compares it)",
            run.source,
            run.diagnostics.len()
        )
    })
}

fn suite(run: &crate::ingest::Run) -> Option<&str> {
    run.header.as_ref().map(|h| h.config.suite.as_str())
}

pub fn run(args: CompareArgs) -> Result<Exit> {
    if let Some(t) = args.threshold
        && !(0.0..100.0).contains(&t)
    {
        bail!("--threshold must be a percentage in [0, 100), got {t}");
    }
    if !(args.confidence > 0.0 && args.confidence < 1.0) {
        bail!(
            "--confidence must lie strictly between 0 and 1 (e.g. 0.99), got {}",
            args.confidence
        );
    }
    let (base_path, cand_path) = match (&args.baseline, args.runs.as_slice()) {
        (Some(name), [cand]) => {
            store::check_baseline_name(name)?;
            let dir = store::baseline_dir(&args.results, name);
            if !dir.is_dir() {
                bail!("no baseline named {name:?} (looked for {})", dir.display());
            }
            (dir, cand.clone())
        }
        (Some(_), _) => bail!("with --baseline give only the candidate run"),
        (None, [base, cand]) => (base.clone(), cand.clone()),
        (None, _) => bail!("give BASE and CAND runs, or --baseline NAME and CAND"),
    };
    let base = load_usable(&base_path)?;
    let cand = load_usable(&cand_path)?;
    let mut out: Vec<String> = [("BASE", &base.run), ("CAND", &cand.run)]
        .into_iter()
        .filter_map(|(role, run)| left_out(&args, role, run))
        .collect();
    if !args.any_suite
        && let (Some(b), Some(c)) = (suite(&base.run), suite(&cand.run))
        && b != c
    {
        out.push(format!(
            "left out: CAND {} (suite {c}, BASE {} is suite {b}; --any-suite compares them)",
            cand.run.source, base.run.source
        ));
    }
    if !out.is_empty() {
        out.push("nothing compared".to_string());
        emit(&(out.join("\n") + "\n"))?;
        return Ok(Exit::BadInput);
    }
    let threshold = args
        .threshold
        .unwrap_or_else(|| default_threshold(&base.run.mode()));
    let options = CompareOptions {
        threshold: threshold / 100.0,
        confidence: args.confidence,
        ..Default::default()
    };
    let cmp = compare(&base.run, &cand.run, options)?;
    emit(&render(&cmp, &base.run, &cand.run, args.format))?;
    Ok(if cmp.any_regressed() {
        Exit::Findings
    } else {
        Exit::Clean
    })
}
