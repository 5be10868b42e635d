//! Timelines across commits, change points marked.

use super::*;
use crate::history::History;

/// Timelines across commits: one figure per (mode, experiment), a line per
/// configuration, change points marked.
pub fn for_history(h: &History) -> Vec<Figure> {
    let mut figs = Vec::new();
    let mut groups: Vec<(String, String)> = Vec::new();
    for t in &h.tracks {
        let g = (t.mode.as_str().to_string(), t.experiment.clone());
        if !groups.contains(&g) {
            groups.push(g);
        }
    }
    for (mode, experiment) in groups {
        let tracks: Vec<_> = h
            .tracks
            .iter()
            .filter(|t| t.mode.as_str() == mode && t.experiment == experiment)
            .collect();
        let mut commits: Vec<String> = Vec::new();
        for t in &tracks {
            for p in &t.points {
                if !commits.contains(&p.commit) {
                    commits.push(p.commit.clone());
                }
            }
        }
        // Points of different configs can skip commits; order by the history's
        // own order (first seen in date order).
        let lines = tracks
            .iter()
            .enumerate()
            .map(|(j, t)| TimelineLine {
                label: t.config.clone(),
                color: j,
                dash: j % 3,
                // Relative to the oldest commit, so configurations that differ
                // by 60× share one axis and a 10 % step looks like one.
                points: t
                    .points
                    .iter()
                    .map(|p| {
                        let first = t
                            .points
                            .first()
                            .map_or(p.p50, |f| f.p50)
                            .max(f64::MIN_POSITIVE);
                        (
                            commits.iter().position(|c| *c == p.commit).unwrap_or(0),
                            100.0 * (p.p50 / first - 1.0),
                        )
                    })
                    .collect(),
                changes: t
                    .changes
                    .iter()
                    .map(|&i| {
                        commits
                            .iter()
                            .position(|c| *c == t.points[i].commit)
                            .unwrap_or(0)
                    })
                    .collect(),
            })
            .collect();
        let mode_caption = tracks[0].mode.caption();
        figs.push(Figure {
            name: format!("timeline-{}-{}", stem(&mode), stem(&experiment)),
            width: Width::TwoColumns,
            height_in: 2.6,
            caption: format!(
                "{experiment}: p50 per commit relative to the oldest (absolute values: traplab history), dotted lines mark change points; mode: {mode_caption}"
            ),
            kind: FigureKind::Timeline { y_label: "p50 change vs oldest commit".into(), commits, lines },
        });
    }
    figs
}
