//! Renderings of a [`PeersView`], all from the one tree ([`crate::view`]): JSON is its serde
//! serialization (keys as in the struct definitions of `peers.rs`), CSV one
//! row per panel row, and a [`Document`] (text, Markdown, LaTeX) with one
//! table per panel.
//!
//! # CSV
//!
//! One row per (panel, row): `mode,group,experiment,config`, then for each
//! platform (`lab`, `guest`, `host`) its `mode`, `config`, `n`, `p25`,
//! `p50`, `p75` and `raises`, and `ratio,ratio_low,ratio_high`
//! (lab-kernel / linux-guest). Empty cells where a side or the ratio is
//! missing; `mode` is the panel's (lab-kernel and linux-guest), `host_mode`
//! the host peer's own.

use super::{Group, Panel, PeersView, Ratio, Row, Side, Stream};
use crate::mode::format_hz;
use crate::stats::IntervalMethod;
use crate::table::{Align, Document, Format, Section, Table};
use crate::view::{self, DASH, View, sig3};

/// Render `view` in `format`.
pub fn render(view: &PeersView, format: Format) -> String {
    view::render(view, format)
}

impl View for PeersView {
    fn document(&self) -> Document {
        document(self)
    }

    fn csv(&self) -> Table {
        csv(self)
    }
}

fn p50(s: &Option<Side>) -> String {
    s.as_ref()
        .and_then(|s| s.p50)
        .map_or_else(|| DASH.to_string(), |v| v.to_string())
}

fn ratio_text(r: Option<Ratio>) -> String {
    r.map_or_else(|| DASH.to_string(), |r| sig3(r.value))
}

fn interval_text(r: Option<Ratio>, method: IntervalMethod) -> String {
    match (r, method) {
        (None, _) => DASH.to_string(),
        (Some(_), IntervalMethod::Exact) => "exact".to_string(),
        (Some(r), IntervalMethod::Bootstrap) => format!("[{}, {}]", sig3(r.low), sig3(r.high)),
    }
}

/// `#PF / SIGSEGV`: what raised the row on the lab kernel and on Linux.
fn raises_text(row: &Row) -> String {
    let lab = row.lab_kernel.as_ref().and_then(|s| s.raises.as_deref());
    let linux = row
        .linux_guest
        .as_ref()
        .or(row.linux_host.as_ref())
        .and_then(|s| s.raises.as_deref());
    match (lab, linux) {
        (None, None) => DASH.to_string(),
        (a, b) => format!("{} / {}", a.unwrap_or(DASH), b.unwrap_or(DASH)),
    }
}

/// The config column: a wasm row's configuration, or a floor's per side.
fn config_text(row: &Row) -> String {
    if let Some(c) = &row.config {
        return c.clone();
    }
    let lab = row.lab_kernel.as_ref().map(|s| s.config.as_str());
    let linux = row
        .linux_guest
        .as_ref()
        .or(row.linux_host.as_ref())
        .map(|s| s.config.as_str());
    match (lab, linux) {
        (Some(a), Some(b)) if a != b => format!("{a} vs {b}"),
        (Some(a), _) => a.to_string(),
        (None, Some(b)) => b.to_string(),
        (None, None) => DASH.to_string(),
    }
}

fn stream_line(s: &Stream) -> String {
    let mut parts = vec![s.source.clone()];
    if let Some(c) = &s.commit {
        parts.push(format!(
            "commit {c}{}",
            if s.dirty { " (dirty)" } else { "" }
        ));
    }
    if let Some(os) = &s.os {
        parts.push(os.clone());
    }
    if let Some(w) = &s.wasmtime {
        parts.push(format!("wasmtime {w}"));
    }
    if let Some(hz) = s.tsc_hz {
        parts.push(format!("TSC {}", format_hz(hz)));
    }
    parts.push(format!("mode {}", s.mode));
    parts.push(format!("status {}", s.status));
    format!("{}: {}", s.platform, parts.join(" · "))
}

fn interval_caption(p: &Panel) -> String {
    match p.interval.method {
        IntervalMethod::Exact => {
            "exact ratio (deterministic mode: zero-width interval)".to_string()
        }
        IntervalMethod::Bootstrap => format!(
            "{}% percentile bootstrap of the ratio of medians ({} resamples, fixed seed)",
            p.interval.confidence * 100.0,
            p.interval.resamples
        ),
    }
}

/// The document the text, Markdown and LaTeX formats print.
pub fn document(view: &PeersView) -> Document {
    let mut doc = Document {
        caption: vec![
            (
                "view".into(),
                "ring 0 (lab kernel) vs Linux (upstream wasmtime, signal handling): p50 per platform"
                    .into(),
            ),
            (
                "ratio".into(),
                "lab-kernel p50 / linux-guest p50 of one mode (below 1: the lab kernel is faster); never across modes; linux-host in its own mode, for scale"
                    .into(),
            ),
            (
                "unit".into(),
                format!("{} (under icount: guest instructions)", view.unit),
            ),
        ],
        ..Document::default()
    };
    for p in &view.panels {
        let host_mode = p
            .linux_host
            .as_ref()
            .map_or_else(|| "–".to_string(), |h| h.mode.clone());
        let lab_col = format!("lab-kernel p50 ({})", p.mode);
        let guest_col = format!("linux-guest p50 ({})", p.mode);
        let host_col = format!("linux-host p50 ({host_mode})");
        let mut t = Table::new(&[
            ("experiment", Align::Left),
            ("config", Align::Left),
            ("raises", Align::Left),
            (lab_col.as_str(), Align::Right),
            (guest_col.as_str(), Align::Right),
            ("lab/Linux", Align::Right),
            ("interval", Align::Right),
            (host_col.as_str(), Align::Right),
        ]);
        for r in &p.rows {
            t.push(vec![
                r.experiment.clone(),
                config_text(r),
                raises_text(r),
                p50(&r.lab_kernel),
                p50(&r.linux_guest),
                ratio_text(r.ratio),
                interval_text(r.ratio, p.interval.method),
                p50(&r.linux_host),
            ]);
        }
        let mut footer: Vec<String> = [&p.lab_kernel, &p.linux_guest, &p.linux_host]
            .into_iter()
            .flatten()
            .map(stream_line)
            .collect();
        footer.push(format!("interval: {}", interval_caption(p)));
        doc.sections.push(Section {
            title: format!(
                "ring 0 vs Linux, mode {}: {}; p50 (cycles), ratio lab-kernel / linux-guest",
                p.mode, p.mode_caption
            ),
            label: format!("peers-{}", p.mode),
            table: t,
            code_columns: 2,
            footer,
        });
        let several = view.panels.len() > 1;
        doc.notes.extend(p.notes.iter().map(|n| {
            if several {
                format!("{}: {n}", p.mode)
            } else {
                n.clone()
            }
        }));
    }
    doc.notes.extend(view.notes.iter().cloned());
    doc
}

fn group_name(g: Group) -> &'static str {
    match g {
        Group::Trap => "trap",
        Group::Call => "call",
        Group::Floor => "floor",
    }
}

fn csv(view: &PeersView) -> Table {
    let mut cols: Vec<String> = ["mode", "group", "experiment", "config"]
        .map(String::from)
        .to_vec();
    for side in ["lab", "guest", "host"] {
        for q in ["mode", "config", "n", "p25", "p50", "p75", "raises"] {
            cols.push(format!("{side}_{q}"));
        }
        if side == "guest" {
            cols.extend(["ratio", "ratio_low", "ratio_high"].map(String::from));
        }
    }
    let col_refs: Vec<(&str, Align)> = cols.iter().map(|c| (c.as_str(), Align::Left)).collect();
    let mut t = Table::new(&col_refs);
    let opt = |v: Option<u64>| v.map_or(String::new(), |v| v.to_string());
    for p in &view.panels {
        for r in &p.rows {
            let mut row = vec![
                p.mode.clone(),
                group_name(r.group).to_string(),
                r.experiment.clone(),
                r.config.clone().unwrap_or_default(),
            ];
            for (i, (side, stream)) in [
                (&r.lab_kernel, &p.lab_kernel),
                (&r.linux_guest, &p.linux_guest),
                (&r.linux_host, &p.linux_host),
            ]
            .into_iter()
            .enumerate()
            {
                match side {
                    Some(s) => row.extend([
                        stream.as_ref().map_or(String::new(), |s| s.mode.clone()),
                        s.config.clone(),
                        s.n.to_string(),
                        opt(s.p25),
                        opt(s.p50),
                        opt(s.p75),
                        s.raises.clone().unwrap_or_default(),
                    ]),
                    None => row.extend(std::iter::repeat_n(String::new(), 7)),
                }
                // The ratio follows the linux-guest columns it divides by.
                if i == 1 {
                    match r.ratio {
                        Some(q) => row.extend([
                            format!("{:.4}", q.value),
                            format!("{:.4}", q.low),
                            format!("{:.4}", q.high),
                        ]),
                        None => row.extend(std::iter::repeat_n(String::new(), 3)),
                    }
                }
            }
            t.push(row);
        }
    }
    t
}
