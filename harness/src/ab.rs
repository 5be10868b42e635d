//! A/B boots: two builds booted alternately (A, B, A, B…) under identical
//! QEMU conditions, each side's boots pooled into one run (see [`crate::pool`])
//! and compared with the analyzer library (`traplab compare`'s own
//! comparison, [`compare_report`]). Used by `traplab-ab` (and so
//! `scripts/compare-commits.sh`) and by `traplab-sensitivity`.
//!
//! Alternating matters under real-time TCG: the host's load drifts over
//! minutes (other processes, frequency scaling), and booting all of A and
//! then all of B would turn that drift into a difference between the sides.
//!
//! Both pooled sides carry one TSC frequency: the median of every boot's
//! calibration. `traplab compare` converts ratios to time when the two
//! headers' frequencies differ, which is right across machines but wrong
//! here: all boots ran on one host whose TSC rate did not change, and
//! under TCG the kernel's PIT calibration scatters by ±20 % from boot to
//! boot (2.52 to 3.04 GHz measured on a 2.5 GHz host), which would show up
//! as a ±20 % "change" of every experiment. The median of all boots is the
//! best estimate of the one true rate, and cycles are then compared as
//! cycles.
//!
//! With a Linux guest ([`Guest`], `traplab-ab --peers`), each round also
//! boots both sides' Linux peer (`traplab-peer` as `/init` of the Linux
//! guest, built from the side's own checkout, with the side's suite image)
//! in the same profile, A then B, right after the lab kernel's pair; those
//! captures go to `OUT/linux-guest/` and are pooled the same way, with a
//! TSC frequency of their own (the guest's boots, not the lab kernel's).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use traplab_analyzer::compare::{self, CompareOptions, CompareReport, CompareRow};
use traplab_analyzer::ingest::Run;
use traplab_analyzer::stats::Verdict;
use traplab_analyzer::store;
use traplab_analyzer::table::Format;
use traplab_analyzer::view;
use traplab_workloads::SuiteName;

use crate::linux::GuestLaunch;
use crate::qemu::Launch;
use crate::session::Target;
use crate::{Ending, build, linux, pool, session, workspace_root};

/// What one side boots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Side {
    /// The kernel and suite of this workspace (or of the pinned checkout).
    This,
    /// The same kernel built with N cycles of extra delay in exception
    /// dispatch (`runner-kernel/src/exceptions.rs`), and the same suite.
    Delay(u64),
    /// Another checkout (a git worktree of another commit): its kernel and
    /// its suite, built by its own code.
    Source(PathBuf),
}

impl Side {
    /// `this`, `delay:N` or `source:DIR`.
    pub fn parse(text: &str) -> Result<Side> {
        if text == "this" {
            return Ok(Side::This);
        }
        if let Some(n) = text.strip_prefix("delay:") {
            return Ok(Side::Delay(n.parse().with_context(|| {
                format!("{text}: N must be an unsigned integer")
            })?));
        }
        if let Some(dir) = text.strip_prefix("source:") {
            let dir = PathBuf::from(dir);
            if !dir.join("Cargo.toml").is_file() {
                bail!(
                    "{text}: {} is not a checkout of the project (no Cargo.toml)",
                    dir.display()
                );
            }
            return Ok(Side::Source(std::fs::canonicalize(&dir)?));
        }
        bail!("side {text:?}: expected `this`, `delay:N` or `source:DIR`")
    }
}

/// A built side: what to boot.
#[derive(Debug, Clone)]
pub struct Artifacts {
    pub kernel: PathBuf,
    pub suite: PathBuf,
}

/// Builds sides, either from this workspace or from one pinned checkout
/// (a worktree at a fixed commit, so that edits made in this workspace
/// while a long validation runs cannot reach one side only).
pub struct Builder {
    pinned: Option<PathBuf>,
    suite: SuiteName,
    /// The pinned checkout's suite image, built once and shared by every
    /// `this`/`delay:N` side (its manifest records compile times, so each
    /// rebuild would get a new identity).
    pinned_suite: Option<PathBuf>,
}

impl Builder {
    pub fn new(pinned: Option<&Path>, suite: SuiteName) -> Result<Builder> {
        let pinned = pinned
            .map(std::fs::canonicalize)
            .transpose()
            .context("the pinned checkout")?;
        Ok(Builder {
            pinned,
            suite,
            pinned_suite: None,
        })
    }

    /// Build (or reuse) the side's kernel and suite image. `label` names
    /// the side's artifact folder for `Side::Source`.
    pub fn build(&mut self, side: &Side, label: &str) -> Result<Artifacts> {
        let suite = self.suite;
        let delay = match side {
            Side::This => Some(0),
            Side::Delay(n) => Some(*n),
            Side::Source(_) => None,
        };
        if let (Some(n), Some(dir)) = (delay, self.pinned.clone()) {
            let out = build::artifact_dir().join("ab").join("pinned");
            let kernel = build::kernel_from(&dir, n, &out.join(format!("runner-kernel-delay{n}")))?;
            let image = match &self.pinned_suite {
                Some(image) => image.clone(),
                None => {
                    let image = build::suite_from(
                        &dir,
                        suite,
                        &out.join(format!("suite-{}-{}.img", suite.name(), std::process::id())),
                    )?;
                    self.pinned_suite = Some(image.clone());
                    image
                }
            };
            return Ok(Artifacts {
                kernel,
                suite: image,
            });
        }
        Ok(match side {
            Side::This => Artifacts {
                kernel: build::kernel(0)?,
                suite: build::suite(suite)?,
            },
            Side::Delay(n) => Artifacts {
                kernel: build::kernel(*n)?,
                suite: build::suite(suite)?,
            },
            Side::Source(dir) => {
                let out = build::artifact_dir().join("ab").join(label);
                eprintln!("traplab: building side {label} from {}", dir.display());
                let kernel = build::kernel_from(dir, 0, &out.join("runner-kernel"))?;
                let image = build::suite_from(
                    dir,
                    suite,
                    &out.join(format!("suite-{}.img", suite.name())),
                )?;
                Artifacts {
                    kernel,
                    suite: image,
                }
            }
        })
    }
}

impl Builder {
    /// The checkout a side is built from.
    pub fn checkout(&self, side: &Side) -> PathBuf {
        match side {
            Side::Source(dir) => dir.clone(),
            Side::This | Side::Delay(_) => self.pinned.clone().unwrap_or_else(workspace_root),
        }
    }

    /// Build (or reuse) the side's Linux peer from the side's own checkout
    /// and pack it with the side's suite image (`built.suite`, the image
    /// its lab kernel boots) into an initramfs for the Linux guest. `None`
    /// when the checkout has no Linux peer (a commit from before
    /// `peer-linux/` existed): see [`has_peer`].
    ///
    /// Call it right after [`Builder::build`] of the same side: another
    /// checkout's builds share one target directory, and a checkout taking
    /// it over has its sources touched (see `build::kernel_from`), so
    /// building each side's kernel, suite and peer together touches each
    /// checkout once.
    pub fn build_peer(
        &mut self,
        side: &Side,
        label: &str,
        built: &Artifacts,
    ) -> Result<Option<GuestArtifacts>> {
        let source = self.checkout(side);
        if !has_peer(&source) {
            return Ok(None);
        }
        let out = build::artifact_dir().join("ab").join(label);
        let peer = match (side, &self.pinned) {
            (Side::Source(dir), _) => {
                eprintln!(
                    "traplab: building side {label}'s Linux peer from {}",
                    dir.display()
                );
                build::peer_from(dir, &out.join("traplab-peer"))?
            }
            (_, Some(dir)) => build::peer_from(
                dir,
                &build::artifact_dir()
                    .join("ab")
                    .join("pinned")
                    .join("traplab-peer"),
            )?,
            (_, None) => build::peer()?,
        };
        let stem = built
            .suite
            .file_stem()
            .map_or_else(|| "suite".into(), |s| s.to_string_lossy().into_owned());
        let initramfs = linux::initramfs_at(
            &peer,
            &built.suite,
            &out.join(format!("initramfs-{stem}.cpio")),
        )?;
        Ok(Some(GuestArtifacts { peer, initramfs }))
    }
}

/// Whether the checkout at `dir` has the Linux peer (`peer-linux/`, package
/// `traplab-peer-linux`); commits from before it have none.
pub fn has_peer(dir: &Path) -> bool {
    dir.join("peer-linux").join("Cargo.toml").is_file()
}

/// A built side's Linux guest: the side's peer and the initramfs holding it
/// (as `/init`) with the side's suite image.
#[derive(Debug, Clone)]
pub struct GuestArtifacts {
    pub peer: PathBuf,
    pub initramfs: PathBuf,
}

/// Both sides' Linux guests, booted with one guest kernel.
#[derive(Debug, Clone)]
pub struct Guest {
    /// The guest kernel's bzImage ([`linux::guest_kernel`]).
    pub kernel: PathBuf,
    pub a: GuestArtifacts,
    pub b: GuestArtifacts,
}

/// The folder under the A/B output folder that holds the Linux guest's
/// captures and pooled runs.
pub const GUEST_DIR: &str = "linux-guest";

impl Drop for Builder {
    fn drop(&mut self) {
        if let Some(image) = &self.pinned_suite {
            let _ = std::fs::remove_file(image);
        }
    }
}

/// How to boot both sides.
#[derive(Debug, Clone)]
pub struct Plan {
    pub profile: String,
    /// Kernel options for every boot (`samples=… warmup=…`).
    pub boot_args: String,
    pub repeat: u32,
    pub timeout: Duration,
    pub progress: bool,
}

/// What [`run`] booted: the worst ending and every capture.
#[derive(Debug, Clone)]
pub struct Boots {
    /// The worst ending of any boot.
    pub worst: Ending,
    /// Every boot's capture, in boot order.
    pub captures: Vec<PathBuf>,
    /// `out/a.jsonl` and `out/b.jsonl`, when every boot succeeded.
    pub pooled: Option<(PathBuf, PathBuf)>,
}

/// Boot `a` and `b` alternately `plan.repeat` times each, writing
/// `out/a-<i>.jsonl`, `out/b-<i>.jsonl` and, if every boot succeeded, the
/// pooled `out/a.jsonl` and `out/b.jsonl`.
pub fn run(a: &Artifacts, b: &Artifacts, plan: &Plan, out: &Path) -> Result<Boots> {
    Ok(run_with_guest(a, b, None, plan, out)?.0)
}

/// [`run`], and with `guest` each round also boots the Linux guest of A and
/// of B (in that order, after the lab kernel's pair) in the same profile
/// and with the same options, into `out/linux-guest/` (same names). Returns
/// the lab kernel's outcome and, with `guest`, the Linux guest's; each is
/// pooled when all of its own boots succeeded.
pub fn run_with_guest(
    a: &Artifacts,
    b: &Artifacts,
    guest: Option<&Guest>,
    plan: &Plan,
    out: &Path,
) -> Result<(Boots, Option<Boots>)> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let lab = |artifacts: &Artifacts| {
        Target::LabKernel(Launch {
            kernel: artifacts.kernel.clone(),
            suite: Some(artifacts.suite.clone()),
            profile: plan.profile.clone(),
            boot_args: plan.boot_args.clone(),
        })
    };
    let mut lanes = vec![Lane {
        platform: None,
        dir: out.to_path_buf(),
        targets: [lab(a), lab(b)],
        per_side: [Vec::new(), Vec::new()],
        captures: Vec::new(),
        worst: Ending::Success,
    }];
    if let Some(guest) = guest {
        let dir = out.join(GUEST_DIR);
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let launch = |g: &GuestArtifacts| {
            Target::LinuxGuest(GuestLaunch {
                kernel: guest.kernel.clone(),
                initramfs: g.initramfs.clone(),
                profile: plan.profile.clone(),
                boot_args: plan.boot_args.clone(),
            })
        };
        lanes.push(Lane {
            platform: Some(GUEST_DIR),
            dir,
            targets: [launch(&guest.a), launch(&guest.b)],
            per_side: [Vec::new(), Vec::new()],
            captures: Vec::new(),
            worst: Ending::Success,
        });
    }
    let total = 2 * plan.repeat * lanes.len() as u32;
    let mut n = 0;
    for round in 1..=plan.repeat {
        for lane in &mut lanes {
            for (i, label) in ["a", "b"].into_iter().enumerate() {
                n += 1;
                let capture = lane.dir.join(format!("{label}-{round}.jsonl"));
                let report =
                    session::run_target(&lane.targets[i], &capture, plan.timeout, plan.progress)?;
                eprintln!(
                    "traplab: boot {n}/{total}, side {}{}: {} ({} records, {:.1}s) -> {}",
                    label.to_uppercase(),
                    lane.platform.map_or(String::new(), |p| format!(" ({p})")),
                    report.ending.describe(),
                    report.records,
                    report.elapsed.as_secs_f64(),
                    capture.display()
                );
                if report.ending.exit_code() > lane.worst.exit_code() {
                    lane.worst = report.ending;
                }
                lane.per_side[i].push(capture.clone());
                lane.captures.push(capture);
            }
        }
    }
    let mut outcomes = lanes
        .into_iter()
        .map(Lane::finish)
        .collect::<Result<Vec<_>>>()?
        .into_iter();
    let lab = outcomes.next().expect("the lab kernel's lane");
    Ok((lab, outcomes.next()))
}

/// One platform's boots of both sides.
struct Lane {
    /// `None` for the lab kernel (named in messages only when a peer runs).
    platform: Option<&'static str>,
    dir: PathBuf,
    targets: [Target; 2],
    per_side: [Vec<PathBuf>; 2],
    captures: Vec<PathBuf>,
    worst: Ending,
}

impl Lane {
    /// The outcome, with `dir/a.jsonl` and `dir/b.jsonl` pooled if every
    /// boot succeeded.
    fn finish(self) -> Result<Boots> {
        if self.worst != Ending::Success {
            return Ok(Boots {
                worst: self.worst,
                captures: self.captures,
                pooled: None,
            });
        }
        let all: Vec<&Path> = self.captures.iter().map(PathBuf::as_path).collect();
        let common_hz = median_hz(pool::tsc_hz(&all)?);
        let mut pooled = Vec::new();
        for (label, files) in ["a", "b"].into_iter().zip(&self.per_side) {
            let paths: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
            let text = pool::pool(&paths, Some(common_hz))
                .with_context(|| format!("pooling side {label}"))?;
            let path = self.dir.join(format!("{label}.jsonl"));
            std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
            pooled.push(path);
        }
        let b = pooled.pop().expect("two sides");
        let a = pooled.pop().expect("two sides");
        Ok(Boots {
            worst: self.worst,
            captures: self.captures,
            pooled: Some((a, b)),
        })
    }
}

/// The TSC frequency both pooled sides carry: the median of every boot's
/// calibration (the upper one of an even count, as ever).
fn median_hz(mut rates: Vec<u64>) -> u64 {
    rates.sort_unstable();
    rates[rates.len() / 2]
}

/// One row of the analyzer's comparison (`traplab compare --format json`).
pub type Row = CompareRow;

/// `experiment config`, the row's name in messages.
pub fn label(row: &Row) -> String {
    format!("{} {}", row.experiment, row.config)
}

/// The analyzer's verdicts on an A/B outcome: on the pooled runs, and on
/// every cross pair of boots (each A boot against each B boot).
///
/// `traplab compare` bootstraps individual samples, which is right within
/// one boot but blind to shifts of a whole boot, and under real-time TCG
/// those dominate: the same kernel's `trap.unreachable` median was 6.6k
/// cycles in one boot and 15k in the next (measured on the development VM;
/// within a boot the spread is a few percent), so the pooled comparison of
/// two boots per side calls such a shift a change with high confidence.
/// A regression is therefore only *confirmed* when the pooled comparison
/// and every cross pair say `regressed`, that is when every B boot is
/// slower than every A boot beyond the threshold. If A and B do not differ,
/// the boots are exchangeable and that happens by chance with probability
/// at most 1 / C(2R, R) for R boots per side (1/2, 1/6, 1/20, 1/70, 1/252
/// for R = 1..5), before the threshold lowers it further: real-time
/// comparisons want `--repeat 5`. Under icount (exact,
/// byte-identical boots) one boot per side is the whole truth.
#[derive(Debug, Clone)]
pub struct Verdicts {
    pub pooled: Vec<Row>,
    pub pairs: Vec<Vec<Row>>,
}

impl Verdicts {
    /// Rows regressed in the pooled comparison and in every cross pair.
    pub fn confirmed_regressions(&self) -> Vec<&Row> {
        self.pooled
            .iter()
            .filter(|r| {
                r.verdict == Verdict::Regressed.as_str()
                    && self.in_every_pair(r, Verdict::Regressed.as_str())
            })
            .collect()
    }

    /// Rows the pooled comparison calls regressed that some cross pair
    /// does not.
    pub fn unconfirmed_regressions(&self) -> Vec<&Row> {
        self.pooled
            .iter()
            .filter(|r| {
                r.verdict == Verdict::Regressed.as_str()
                    && !self.in_every_pair(r, Verdict::Regressed.as_str())
            })
            .collect()
    }

    /// Rows improved in the pooled comparison and in every cross pair (the
    /// mirror image of [`Verdicts::confirmed_regressions`]).
    pub fn confirmed_improvements(&self) -> Vec<&Row> {
        self.pooled
            .iter()
            .filter(|r| {
                r.verdict == Verdict::Improved.as_str()
                    && self.in_every_pair(r, Verdict::Improved.as_str())
            })
            .collect()
    }

    fn in_every_pair(&self, row: &Row, verdict: &str) -> bool {
        self.pairs.iter().all(|pair| {
            pair.iter().any(|p| {
                p.experiment == row.experiment && p.config == row.config && p.verdict == verdict
            })
        })
    }

    /// How the cross pairs judged one row, e.g. `regressed in 7 of 9 pairs`.
    pub fn pair_verdicts(&self, row: &Row) -> String {
        let regressed = self
            .pairs
            .iter()
            .filter(|pair| {
                pair.iter().any(|p| {
                    p.experiment == row.experiment
                        && p.config == row.config
                        && p.verdict == Verdict::Regressed.as_str()
                })
            })
            .count();
        format!("regressed in {regressed} of {} pairs", self.pairs.len())
    }
}

/// `traplab compare --threshold THRESHOLD BASE CAND` (threshold in percent)
/// through the analyzer library: the comparison's tree, whose rows are the
/// JSON format's and whose table is the default format's. Runs the
/// `traplab compare` command would leave out (incomplete, damaged, of
/// different suites) and runs it cannot compare are an error here, as its
/// exit status 2 was.
pub fn compare_report(base: &Path, cand: &Path, threshold: Option<f64>) -> Result<CompareReport> {
    let failed = || format!("traplab compare {} {}", base.display(), cand.display());
    if let Some(threshold) = threshold
        && !(0.0..100.0).contains(&threshold)
    {
        bail!("--threshold must be a percentage in [0, 100), got {threshold}");
    }
    let load = |role: &str, path: &Path| -> Result<Run> {
        let run = store::load(path)?.run;
        run.usable()?;
        let status = store::stream_status(&run);
        if !store::status_is_whole(status) {
            bail!(
                "left out: {role} {} ({status}, {} problem(s))",
                run.source,
                run.diagnostics.len()
            );
        }
        Ok(run)
    };
    let base_run = load("BASE", base).with_context(failed)?;
    let cand_run = load("CAND", cand).with_context(failed)?;
    let suite = |run: &Run| run.header.as_ref().map(|h| h.config.suite.clone());
    if let (Some(b), Some(c)) = (suite(&base_run), suite(&cand_run))
        && b != c
    {
        bail!(
            "{}: left out: CAND {} (suite {c}, BASE {} is suite {b})",
            failed(),
            cand_run.source,
            base_run.source
        );
    }
    let threshold = threshold.unwrap_or_else(|| compare::default_threshold(&base_run.mode()));
    let options = CompareOptions {
        threshold: threshold / 100.0,
        ..CompareOptions::default()
    };
    let cmp = compare::compare(&base_run, &cand_run, options).with_context(failed)?;
    Ok(compare::report(&cmp, &base_run, &cand_run))
}

/// The table `traplab compare BASE CAND` prints.
pub fn compare_table(base: &Path, cand: &Path, threshold: Option<f64>) -> Result<String> {
    Ok(view::render(
        &compare_report(base, cand, threshold)?,
        Format::Table,
    ))
}

/// The rows of `traplab compare BASE CAND`.
pub fn compare_rows(base: &Path, cand: &Path, threshold: Option<f64>) -> Result<Vec<Row>> {
    Ok(compare_report(base, cand, threshold)?.rows)
}

/// The analyzer's verdicts on `outcome` (which must have pooled runs).
pub fn verdicts(outcome: &Boots, threshold: Option<f64>) -> Result<Verdicts> {
    let (a, b) = outcome
        .pooled
        .as_ref()
        .context("no pooled runs: not every boot succeeded")?;
    let pooled = compare_rows(a, b, threshold)?;
    // Captures are in boot order: a-1, b-1, a-2, b-2…
    let pairs = if outcome.captures.len() == 2 {
        vec![pooled.clone()]
    } else {
        let a_boots: Vec<&PathBuf> = outcome.captures.iter().step_by(2).collect();
        let b_boots: Vec<&PathBuf> = outcome.captures.iter().skip(1).step_by(2).collect();
        let mut pairs = Vec::with_capacity(a_boots.len() * b_boots.len());
        for a in &a_boots {
            for b in &b_boots {
                pairs.push(compare_rows(a, b, threshold)?);
            }
        }
        pairs
    };
    Ok(Verdicts { pooled, pairs })
}

#[cfg(test)]
mod tests {
    use traplab_analyzer::stats::IntervalMethod;
    use traplab_analyzer::synth::{self, RunSpec};

    use super::*;

    fn row(experiment: &str, verdict: &'static str) -> Row {
        Row {
            experiment: experiment.into(),
            config: "signals.bt_off".into(),
            mode: "icount".into(),
            base_n: 100,
            cand_n: 100,
            base_p50: 1000.0,
            cand_p50: 1000.0,
            unit: "cycles",
            ratio: 1.0,
            ci_low: 1.0,
            ci_high: 1.0,
            confidence: 0.99,
            method: IntervalMethod::Exact,
            threshold: 0.05,
            verdict,
        }
    }

    #[test]
    fn a_regression_is_confirmed_only_when_every_pair_agrees() {
        let v = Verdicts {
            pooled: vec![
                row("trap.a", "regressed"),
                row("trap.b", "regressed"),
                row("call.null", "unchanged"),
            ],
            pairs: vec![
                vec![
                    row("trap.a", "regressed"),
                    row("trap.b", "regressed"),
                    row("call.null", "unchanged"),
                ],
                vec![
                    row("trap.a", "regressed"),
                    row("trap.b", "unsure"),
                    row("call.null", "regressed"),
                ],
            ],
        };
        let confirmed: Vec<String> = v
            .confirmed_regressions()
            .iter()
            .map(|r| r.experiment.clone())
            .collect();
        assert_eq!(confirmed, ["trap.a"]);
        let unconfirmed: Vec<String> = v
            .unconfirmed_regressions()
            .iter()
            .map(|r| r.experiment.clone())
            .collect();
        assert_eq!(
            unconfirmed,
            ["trap.b"],
            "a pair alone never makes a regression"
        );
        assert_eq!(v.pair_verdicts(&v.pooled[1]), "regressed in 1 of 2 pairs");
    }

    #[test]
    fn an_improvement_is_confirmed_only_when_every_pair_agrees() {
        let v = Verdicts {
            pooled: vec![row("trap.a", "improved"), row("trap.b", "improved")],
            pairs: vec![
                vec![row("trap.a", "improved"), row("trap.b", "improved")],
                vec![row("trap.a", "improved"), row("trap.b", "unchanged")],
            ],
        };
        let confirmed: Vec<&str> = v
            .confirmed_improvements()
            .iter()
            .map(|r| r.experiment.as_str())
            .collect();
        assert_eq!(confirmed, ["trap.a"]);
        assert!(v.confirmed_regressions().is_empty());
    }

    #[test]
    fn the_common_tsc_frequency_is_the_median_of_all_boots() {
        assert_eq!(median_hz(vec![3, 1, 2]), 2);
        assert_eq!(median_hz(vec![2_500, 3_040, 2_520, 2_700]), 2_700);
        assert_eq!(median_hz(vec![7]), 7);
    }

    #[test]
    fn a_checkout_has_a_peer_when_it_has_peer_linux() {
        assert!(has_peer(&workspace_root()), "this checkout has peer-linux/");
        let dir = std::env::temp_dir().join(format!("traplab-ab-peer-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("peer-linux")).unwrap();
        assert!(
            !has_peer(&dir),
            "a folder without its Cargo.toml is no peer"
        );
        std::fs::write(dir.join("peer-linux/Cargo.toml"), "").unwrap();
        assert!(has_peer(&dir));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_checkout_of_a_side_is_its_source_or_the_pinned_one_or_this_one() {
        let here = Builder::new(None, SuiteName::Quick).unwrap();
        assert_eq!(here.checkout(&Side::This), workspace_root());
        assert_eq!(here.checkout(&Side::Delay(64)), workspace_root());
        let other = PathBuf::from("/elsewhere");
        assert_eq!(here.checkout(&Side::Source(other.clone())), other);
        let root = std::fs::canonicalize(workspace_root()).unwrap();
        let pinned = Builder::new(Some(&root.join("harness")), SuiteName::Quick).unwrap();
        assert_eq!(pinned.checkout(&Side::This), root.join("harness"));
        assert_eq!(pinned.checkout(&Side::Source(other.clone())), other);
    }

    #[test]
    fn sides_are_parsed_and_a_source_must_be_a_checkout() {
        assert_eq!(Side::parse("this").unwrap(), Side::This);
        assert_eq!(Side::parse("delay:64").unwrap(), Side::Delay(64));
        assert!(Side::parse("delay:x").is_err());
        let root = workspace_root();
        assert_eq!(
            Side::parse(&format!("source:{}", root.display())).unwrap(),
            Side::Source(std::fs::canonicalize(&root).unwrap())
        );
        let err = Side::parse(&format!("source:{}", root.join("harness/src").display()))
            .unwrap_err()
            .to_string();
        assert!(err.contains("no Cargo.toml"), "{err}");
        assert!(Side::parse("that").is_err());
    }

    /// Two synthetic runs (the wire crate's own encoder) written to files.
    fn runs(name: &str, cand: RunSpec) -> (PathBuf, PathBuf) {
        let dir = std::env::temp_dir().join(format!("traplab-ab-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (a, b) = (dir.join("a.jsonl"), dir.join("b.jsonl"));
        std::fs::write(&a, synth::jsonl(&RunSpec::small("icount", 50))).unwrap();
        std::fs::write(&b, synth::jsonl(&cand)).unwrap();
        (a, b)
    }

    #[test]
    fn the_analyzer_library_compares_the_files() {
        let slower = RunSpec {
            slowdown: 1.10,
            ..RunSpec::small("icount", 50)
        };
        let (a, b) = runs("compare", slower);
        let rows = compare_rows(&a, &b, Some(5.0)).unwrap();
        assert!(!rows.is_empty());
        for r in &rows {
            assert_eq!(r.verdict, "regressed", "{}", label(r));
            assert!((r.ratio - 1.10).abs() < 0.01, "{}: {}", label(r), r.ratio);
        }
        let same = compare_rows(&a, &a, Some(5.0)).unwrap();
        assert!(same.iter().all(|r| r.verdict == "unchanged"));
        let table = compare_table(&a, &b, Some(5.0)).unwrap();
        assert!(table.contains("regressed"), "{table}");
        assert!(
            compare_rows(&a, &b, Some(100.0)).is_err(),
            "a bad threshold"
        );
        std::fs::remove_dir_all(a.parent().unwrap()).unwrap();
    }

    #[test]
    fn runs_of_other_suites_are_not_compared() {
        let other = RunSpec {
            suite: "quick".into(),
            ..RunSpec::small("icount", 50)
        };
        let (a, b) = runs("suites", other);
        let err = format!("{:#}", compare_rows(&a, &b, Some(5.0)).unwrap_err());
        assert!(err.contains("left out: CAND"), "{err}");
        std::fs::remove_dir_all(a.parent().unwrap()).unwrap();
    }
}
