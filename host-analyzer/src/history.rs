//! History across commits: for every stored run under a results folder, the
//! p50/p99 of each (experiment, configuration), one point per commit in
//! commit-date order, separately per measurement mode (modes are never
//! mixed), with change points naming the commit where a level shifted.
//!
//! Several runs of one commit are pooled by taking the median of their
//! per-run p50 and p99, which keeps one noisy run from faking a step.

use crate::ingest::Run;
use crate::mode::{Mode, Unit};
use crate::stats::{change_points, describe, median};
use crate::store::Meta;
use crate::table::{Align, Document, Section, Table};
use crate::view::View;

/// One commit's level for one series, cycles.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// `<short-commit>[-dirty]`.
    pub commit: String,
    /// Commit date when known, else the date the run was stored.
    pub date: String,
    pub runs: usize,
    pub p50: f64,
    pub p99: f64,
}

/// The history of one series in one mode.
#[derive(Debug, Clone, PartialEq)]
pub struct Track {
    pub mode: Mode,
    pub experiment: String,
    pub config: String,
    pub points: Vec<Point>,
    /// Indices into `points` where a new p50 level starts.
    pub changes: Vec<usize>,
}

impl Track {
    pub fn label(&self) -> String {
        format!("{}/{}", self.experiment, self.config)
    }
}

#[derive(Debug, Clone, Default)]
pub struct History {
    pub tracks: Vec<Track>,
    pub runs: usize,
    /// Smallest level change reported, as a fraction.
    pub min_step: f64,
}

/// Per-run levels of one series: (p50, p99) in cycles.
type Levels = (f64, f64);

/// Build the history of `runs`, which must already be in commit-date order
/// (as [`crate::store::discover`] returns them).
pub fn build(runs: &[(Meta, Run)], min_step: f64) -> History {
    // (mode, experiment, config) in first-seen order → per commit → levels.
    let mut keys: Vec<(Mode, String, String)> = Vec::new();
    let mut commits: Vec<(Mode, String, String)> = Vec::new(); // (mode, commit, date)
    let mut levels: std::collections::HashMap<(Mode, String, String, String), Vec<Levels>> =
        Default::default();
    for (meta, run) in runs {
        let mode = Mode::parse(&meta.mode);
        let commit = meta.commit_label();
        if !commits.iter().any(|(m, c, _)| *m == mode && *c == commit) {
            commits.push((mode.clone(), commit.clone(), meta.order_key()));
        }
        for s in &run.series {
            let Some(d) = describe(&s.total) else {
                continue;
            };
            let key = (mode.clone(), s.experiment.clone(), s.config.clone());
            if !keys.contains(&key) {
                keys.push(key);
            }
            levels
                .entry((
                    mode.clone(),
                    s.experiment.clone(),
                    s.config.clone(),
                    commit.clone(),
                ))
                .or_default()
                .push((d.p50 as f64, d.p99 as f64));
        }
    }
    let pooled = |v: &[Levels], pick: fn(&Levels) -> f64| {
        // Levels are cycle counts; round to keep `median` on integers.
        median(&v.iter().map(|l| pick(l).round() as u64).collect::<Vec<_>>())
    };
    let tracks = keys
        .into_iter()
        .map(|(mode, experiment, config)| {
            let points: Vec<Point> = commits
                .iter()
                .filter(|(m, _, _)| *m == mode)
                .filter_map(|(_, commit, date)| {
                    let v = levels.get(&(
                        mode.clone(),
                        experiment.clone(),
                        config.clone(),
                        commit.clone(),
                    ))?;
                    Some(Point {
                        commit: commit.clone(),
                        date: date.clone(),
                        runs: v.len(),
                        p50: pooled(v, |l| l.0),
                        p99: pooled(v, |l| l.1),
                    })
                })
                .collect();
            let changes =
                change_points(&points.iter().map(|p| p.p50).collect::<Vec<_>>(), min_step);
            Track {
                mode,
                experiment,
                config,
                points,
                changes,
            }
        })
        .collect();
    History {
        tracks,
        runs: runs.len(),
        min_step,
    }
}

/// `2026-11-27` from an ISO 8601 timestamp.
pub fn day(date: &str) -> &str {
    date.get(..10).unwrap_or(date)
}

fn change_text(before: f64, after: f64) -> String {
    let p = (after / before - 1.0) * 100.0;
    // Avoid "-0.0%": below display precision there is no sign to show.
    if p.abs() < 0.05 {
        "±0.0%".into()
    } else {
        format!("{p:+.1}%")
    }
}

/// The history as a document: one section per mode, plus the change points
/// as notes.
pub fn document(h: &History, source: &str, unit: Unit) -> Document {
    let mut modes: Vec<Mode> = Vec::new();
    for t in &h.tracks {
        if !modes.contains(&t.mode) {
            modes.push(t.mode.clone());
        }
    }
    let mut doc = Document {
        caption: vec![
            ("results".into(), format!("{source} · {} runs", h.runs)),
            (
                "modes".into(),
                modes
                    .iter()
                    .map(Mode::caption)
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            (
                "method".into(),
                format!(
                    "per commit: median over its runs of each run's p50/p99; change points: binary segmentation on log p50, steps ≥ {:.0}% and > 3σ of the noise",
                    h.min_step * 100.0
                ),
            ),
            ("unit".into(), unit.as_str().into()),
        ],
        ..Document::default()
    };
    for mode in &modes {
        let mut t = Table::new(&[
            ("experiment", Align::Left),
            ("config", Align::Left),
            ("commit", Align::Left),
            ("date", Align::Left),
            ("runs", Align::Right),
            ("p50", Align::Right),
            ("p99", Align::Right),
            ("Δp50", Align::Right),
            ("step", Align::Left),
        ]);
        for tr in h.tracks.iter().filter(|t| &t.mode == mode) {
            for (i, p) in tr.points.iter().enumerate() {
                let delta = if i == 0 {
                    String::new()
                } else {
                    change_text(tr.points[i - 1].p50, p.p50)
                };
                let step = if tr.changes.contains(&i) {
                    "◀ level shift"
                } else {
                    ""
                };
                t.push(vec![
                    tr.experiment.clone(),
                    tr.config.clone(),
                    p.commit.clone(),
                    day(&p.date).to_string(),
                    p.runs.to_string(),
                    unit.format(p.p50),
                    unit.format(p.p99),
                    delta,
                    step.to_string(),
                ]);
            }
        }
        doc.sections.push(Section {
            title: format!(
                "p50/p99 per commit, mode {} ({})",
                mode.as_str(),
                unit.as_str()
            ),
            label: format!("history-{}", mode.as_str()),
            table: t,
            code_columns: 3,
            footer: Vec::new(),
        });
    }
    for tr in &h.tracks {
        for &i in &tr.changes {
            let (b, a) = (&tr.points[i - 1], &tr.points[i]);
            doc.notes.push(format!(
                "change point [{}] {}: p50 {} at {} ({}), {} → {} {}",
                tr.mode,
                tr.label(),
                change_text(segment_level(tr, i, false), segment_level(tr, i, true)),
                a.commit,
                day(&a.date),
                unit.format(b.p50),
                unit.format(a.p50),
                unit.as_str()
            ));
        }
    }
    if doc.notes.is_empty() && !h.tracks.is_empty() {
        doc.notes.push("no change points".into());
    }
    doc
}

/// Median p50 of the segment that ends before (`after = false`) or starts at
/// (`after = true`) change point `i`: the level shift, not one commit's noise.
fn segment_level(tr: &Track, i: usize, after: bool) -> f64 {
    let pos = tr.changes.iter().position(|&c| c == i).unwrap_or(0);
    let (a, b) = if after {
        (
            i,
            tr.changes.get(pos + 1).copied().unwrap_or(tr.points.len()),
        )
    } else {
        (if pos == 0 { 0 } else { tr.changes[pos - 1] }, i)
    };
    median(
        &tr.points[a..b]
            .iter()
            .map(|p| p.p50.round() as u64)
            .collect::<Vec<_>>(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::parse;
    use crate::synth::{RunSpec, jsonl};
    use std::time::UNIX_EPOCH;

    fn stored(commit: &str, date: &str, slowdown: f64, seed: u64, mode: &str) -> (Meta, Run) {
        let spec = RunSpec {
            commit: commit.into(),
            slowdown,
            seed,
            ..RunSpec::small(mode, 200)
        };
        let run = parse("run.jsonl", jsonl(&spec).as_bytes());
        let mut meta = Meta::from_run(&run, UNIX_EPOCH);
        meta.commit_date = Some(date.into());
        (meta, run)
    }

    #[test]
    fn a_slowdown_is_attributed_to_the_commit_that_introduced_it() {
        let runs: Vec<_> = (0..8)
            .map(|i| {
                let slow = if i >= 5 { 1.15 } else { 1.0 };
                stored(
                    &format!("c{i}"),
                    &format!("2026-11-0{}T00:00:00Z", i + 1),
                    slow,
                    i as u64 + 1,
                    "tcg",
                )
            })
            .collect();
        let h = build(&runs, 0.05);
        let t = h
            .tracks
            .iter()
            .find(|t| t.experiment == "trap.oob_load" && t.config == "signals.bt_off")
            .unwrap();
        assert_eq!(t.points.len(), 8);
        assert_eq!(t.changes, vec![5]);
        let doc = document(&h, "results", Unit::Cycles);
        assert!(
            doc.notes.iter().any(|n| n
                .starts_with("change point [tcg] trap.oob_load/signals.bt_off: p50 +1")
                && n.contains("at c5 (2026-11-06)")),
            "{:#?}",
            doc.notes
        );
    }

    #[test]
    fn modes_are_kept_apart_and_runs_of_one_commit_pooled() {
        let runs = vec![
            stored("c0", "2026-11-01", 1.0, 1, "tcg"),
            stored("c0", "2026-11-01", 1.0, 2, "tcg"),
            stored("c0", "2026-11-01", 1.0, 1, "icount"),
            stored("c1", "2026-11-02", 1.0, 3, "tcg"),
        ];
        let h = build(&runs, 0.05);
        let tcg = h
            .tracks
            .iter()
            .find(|t| t.mode == Mode::Tcg && t.experiment == "raw.pf")
            .unwrap();
        assert_eq!(
            tcg.points
                .iter()
                .map(|p| (p.commit.as_str(), p.runs))
                .collect::<Vec<_>>(),
            [("c0", 2), ("c1", 1)]
        );
        let ic = h
            .tracks
            .iter()
            .find(|t| t.mode == Mode::Icount && t.experiment == "raw.pf")
            .unwrap();
        assert_eq!(ic.points.len(), 1);
        assert!(h.tracks.iter().all(|t| t.changes.is_empty()));
    }
}

/// A history as one tree: its JSON is the flat list of its points (one
/// object per commit of each series), its CSV the same list, and the
/// document ([`document`]) the same history grouped by mode.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(transparent)]
pub struct HistoryReport<'a> {
    pub points: Vec<HistoryPoint<'a>>,
    #[serde(skip)]
    pub history: &'a History,
    /// The results folder, for the caption.
    #[serde(skip)]
    pub source: String,
}

/// One element of the `json` format; a struct so keys keep this order.
#[derive(Debug, Clone, serde::Serialize)]
pub struct HistoryPoint<'a> {
    pub mode: &'a str,
    pub experiment: &'a str,
    pub config: &'a str,
    pub commit: &'a str,
    pub date: &'a str,
    pub runs: usize,
    /// Cycles.
    pub p50: f64,
    pub p99: f64,
    pub unit: &'static str,
    /// A new p50 level starts at this commit.
    pub change_point: bool,
}

/// Build the tree of `h`, read from `source`.
pub fn report<'a>(h: &'a History, source: &str) -> HistoryReport<'a> {
    HistoryReport {
        points: h
            .tracks
            .iter()
            .flat_map(|t| {
                t.points.iter().enumerate().map(move |(i, p)| HistoryPoint {
                    mode: t.mode.as_str(),
                    experiment: &t.experiment,
                    config: &t.config,
                    commit: &p.commit,
                    date: &p.date,
                    runs: p.runs,
                    p50: p.p50,
                    p99: p.p99,
                    unit: Unit::Cycles.as_str(),
                    change_point: t.changes.contains(&i),
                })
            })
            .collect(),
        history: h,
        source: source.to_string(),
    }
}

impl View for HistoryReport<'_> {
    fn document(&self) -> Document {
        document(self.history, &self.source, Unit::Cycles)
    }

    fn csv(&self) -> Table {
        let cols = [
            "mode",
            "experiment",
            "config",
            "commit",
            "date",
            "runs",
            "p50",
            "p99",
            "unit",
            "change_point",
        ];
        let mut t = Table::new(&cols.map(|c| (c, Align::Left)));
        for p in &self.points {
            t.push(vec![
                p.mode.into(),
                p.experiment.into(),
                p.config.into(),
                p.commit.into(),
                day(p.date).into(),
                p.runs.to_string(),
                format!("{:.0}", p.p50),
                format!("{:.0}", p.p99),
                p.unit.into(),
                p.change_point.to_string(),
            ]);
        }
        t
    }
}
