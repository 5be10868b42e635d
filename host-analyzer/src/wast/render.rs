//! The `.wast` view's one tree, [`WastReport`], and its renderings: JSON is
//! its serde serialization; the [`Document`] (text, Markdown, LaTeX) and
//! the tidy CSV are functions over the same tree ([`crate::view`]).
//!
//! # JSON
//!
//! One object; keys in this order: `mode`, `commit`, `scripts` (`[{script,
//! config, passed, failed, unsupported, counted}]`), `passed`, `failed`,
//! `unsupported` (totals over (command, configuration) pairs),
//! `not_passed` (`[{command, config, status, message}]`) and `notes`.
//!
//! # CSV
//!
//! Tidy: one value per row, `section,item,config,quantity,value,unit,mode`
//! (the columns of `traplab jit`'s CSV): per script and configuration, then
//! the totals as item `total`.

use serde::Serialize;

use super::{WastCommand, WastScript, WastView};
use crate::ingest::Run;
use crate::mode::Unit;
use crate::summary::run_caption;
use crate::table::{Align, Document, Format, Section, Table};
use crate::view::{self, View};

/// Render `view` of `run` in `format`.
pub fn render(run: &Run, view: &WastView, format: Format) -> String {
    view::render(&report(run, view), format)
}

/// Everything the `wast` command shows: the one tree every format renders.
#[derive(Debug, Clone, Serialize)]
pub struct WastReport {
    pub mode: String,
    pub commit: Option<String>,
    pub scripts: Vec<WastScript>,
    pub passed: u64,
    pub failed: u64,
    pub unsupported: u64,
    pub not_passed: Vec<WastCommand>,
    pub notes: Vec<String>,
    /// Run caption (provenance, mode) heading the document; in JSON the
    /// top-level `mode` and `commit` say it.
    #[serde(skip)]
    pub caption: Vec<(String, String)>,
    /// The closing line, `N passed, M failed, K unsupported`.
    #[serde(skip)]
    pub totals_line: String,
}

/// The tree of `view` of `run`.
pub fn report(run: &Run, view: &WastView) -> WastReport {
    WastReport {
        mode: run.mode().as_str().to_string(),
        commit: run.commit().map(|(c, _)| c.to_string()),
        scripts: view.scripts.clone(),
        passed: view.passed,
        failed: view.failed,
        unsupported: view.unsupported,
        not_passed: view.not_passed.clone(),
        notes: view.notes.clone(),
        // Counts, not durations: the caption's unit line says cycles, the
        // unit every other view defaults to.
        caption: run_caption(run, Unit::Cycles),
        totals_line: view.totals_line(),
    }
}

impl View for WastReport {
    fn document(&self) -> Document {
        let mut doc = Document {
            caption: self.caption.clone(),
            ..Document::default()
        };
        let mut t = Table::new(&[
            ("script", Align::Left),
            ("config", Align::Left),
            ("passed", Align::Right),
            ("failed", Align::Right),
            ("unsupported", Align::Right),
        ]);
        let mut counted = false;
        for s in &self.scripts {
            counted |= s.counted;
            t.push(vec![
                format!("{}{}", s.script, if s.counted { "*" } else { "" }),
                s.config.clone(),
                s.passed.to_string(),
                s.failed.to_string(),
                s.unsupported.to_string(),
            ]);
        }
        if !self.not_passed.is_empty() {
            let mut np = Table::new(&[
                ("command", Align::Left),
                ("config", Align::Left),
                ("status", Align::Left),
                ("reason", Align::Left),
            ]);
            for c in &self.not_passed {
                np.push(vec![
                    c.command.clone(),
                    c.config.clone(),
                    c.status.into(),
                    c.message.clone(),
                ]);
            }
            doc.sections.push(Section {
                title: ".wast commands that did not pass".into(),
                label: "wast-not-passed".into(),
                table: np,
                code_columns: 2,
                footer: Vec::new(),
            });
        }
        let star = if counted {
            "; * counted from result records (the kernel's tally was lost)"
        } else {
            ""
        };
        doc.sections.push(Section {
            title: format!(".wast conformance: commands per script and configuration{star}"),
            label: "wast".into(),
            table: t,
            code_columns: 2,
            footer: vec![self.totals_line.clone()],
        });
        doc.notes = self.notes.clone();
        doc
    }

    fn csv(&self) -> Table {
        let mut t = Table::new(
            &[
                "section", "item", "config", "quantity", "value", "unit", "mode",
            ]
            .map(|c| (c, Align::Left)),
        );
        let mut row = |item: &str, config: &str, q: &str, value: u64| {
            t.push(vec![
                "wast".into(),
                item.into(),
                config.into(),
                q.into(),
                value.to_string(),
                "commands".into(),
                self.mode.clone(),
            ]);
        };
        for s in &self.scripts {
            for (q, v) in [
                ("passed", s.passed),
                ("failed", s.failed),
                ("unsupported", s.unsupported),
            ] {
                row(&s.script, &s.config, q, v);
            }
        }
        for (q, v) in [
            ("passed", self.passed),
            ("failed", self.failed),
            ("unsupported", self.unsupported),
        ] {
            row("total", "", q, v);
        }
        t
    }
}
