//! The ring 0 vs Linux figure.

use super::*;

/// Palette index of the floor rows of the ring 0 vs Linux figure, after the
/// configurations.
const PEER_FLOOR_COLOR: usize = crate::peers::CONFIGS.len();

/// Palette index of the `i`-th configuration of the ring 0 vs Linux
/// figure: the floor's index is skipped.
fn peer_config_color(i: usize) -> usize {
    if i < PEER_FLOOR_COLOR { i } else { i + 1 }
}

/// The ring 0 vs Linux figure: per mode a panel with a row per trap kind,
/// `call.null` and floor, a bar per configuration for lab-kernel p50 /
/// linux-guest p50; `None` when no row of any panel has a ratio.
pub fn for_peers(view: &crate::peers::PeersView) -> Option<Figure> {
    use crate::peers::{CONFIGS, Group};
    let mut configs: Vec<String> = CONFIGS.map(String::from).to_vec();
    let mut panels = Vec::new();
    let mut floors = false;
    let mut deterministic = Vec::new();
    for p in &view.panels {
        let mut rows: Vec<RatioBarRow> = Vec::new();
        for (r, q) in p.ratios() {
            let color = match (&r.config, r.group) {
                (_, Group::Floor) | (None, _) => {
                    floors = true;
                    PEER_FLOOR_COLOR
                }
                (Some(c), _) => {
                    let i = configs.iter().position(|k| k == c).unwrap_or_else(|| {
                        configs.push(c.clone());
                        configs.len() - 1
                    });
                    peer_config_color(i)
                }
            };
            let bar = RatioBar {
                color,
                ratio: q.value,
                low: q.low,
                high: q.high,
            };
            match rows.iter_mut().find(|x| x.label == r.experiment) {
                Some(row) => row.bars.push(bar),
                None => rows.push(RatioBarRow {
                    label: r.experiment.clone(),
                    bars: vec![bar],
                }),
            }
        }
        if rows.is_empty() {
            continue;
        }
        if p.interval.method == crate::stats::IntervalMethod::Exact {
            deterministic.push(p.mode.clone());
        }
        let os = p
            .linux_guest
            .as_ref()
            .and_then(|g| g.os.clone())
            .map(|os| format!(", {os}"))
            .unwrap_or_default();
        panels.push(RatioPanel {
            title: format!("mode {}: {}{os}", p.mode, p.mode_caption),
            rows,
        });
    }
    if panels.is_empty() {
        return None;
    }
    let used = |i: usize| {
        panels
            .iter()
            .flat_map(|p| &p.rows)
            .flat_map(|r| &r.bars)
            .any(|b| b.color == i)
    };
    let mut legend: Vec<LegendEntry> = Vec::new();
    for (i, c) in configs.iter().enumerate() {
        if used(peer_config_color(i)) {
            legend.push((c.clone(), peer_config_color(i), false));
        }
    }
    if floors {
        legend.push((
            "floor: ring 0 (lab kernel) vs ring 3 signal (Linux)".into(),
            PEER_FLOOR_COLOR,
            true,
        ));
    }
    let lab = view
        .panels
        .iter()
        .find_map(|p| p.lab_kernel.as_ref())
        .map(|l| {
            format!(
                "; lab kernel commit {}{}",
                l.commit.as_deref().unwrap_or("unknown"),
                if l.dirty { "-dirty" } else { "" }
            )
        })
        .unwrap_or_default();
    let whiskers = if deterministic.is_empty() {
        "whiskers: 99 % bootstrap interval of the ratio of medians".to_string()
    } else {
        format!(
            "whiskers: 99 % bootstrap interval of the ratio of medians (none under {}: deterministic)",
            deterministic.join(", ")
        )
    };
    let rows: usize = panels.iter().map(|p| p.rows.len()).sum();
    let bars: usize = panels
        .iter()
        .flat_map(|p| &p.rows)
        .map(|r| r.bars.len())
        .sum();
    Some(Figure {
        name: "peers-ratios".into(),
        width: Width::TwoColumns,
        height_in: 1.0 + 0.5 * panels.len() as f64 + 0.07 * rows as f64 + 0.06 * bars as f64,
        caption: format!(
            "Ring 0 vs Linux: lab-kernel p50 over linux-guest p50, both measured in the panel's mode (never across modes); bars start at 1× (left of it the lab kernel is faster); {whiskers}{lab}"
        ),
        kind: FigureKind::RatioBars {
            x_label: "lab-kernel / linux-guest, ratio of p50s (log scale, 1 = parity)".into(),
            panels,
            legend,
        },
    })
}
