//! Tables and their text renderings: aligned plain text for terminals,
//! Markdown for reports, CSV for spreadsheets and LaTeX (booktabs) snippets
//! for papers. JSON is not a table and is produced by each analysis itself.
//!
//! A [`Document`] is what a command prints: caption lines (run, mode, unit)
//! followed by one or more titled tables, so the mode travels with every
//! table in every format that can carry prose.

use std::fmt::Write as _;

/// Output formats shared by the table-producing commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned plain text.
    Table,
    /// GitHub-flavoured Markdown.
    Md,
    /// RFC 4180 CSV, one row per series, mode and unit in every row.
    Csv,
    /// A JSON array of objects.
    Json,
    /// LaTeX `table` environments using booktabs.
    Latex,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

#[derive(Debug, Clone, Default)]
pub struct Table {
    pub columns: Vec<(String, Align)>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(columns: &[(&str, Align)]) -> Table {
        Table {
            columns: columns.iter().map(|(n, a)| (n.to_string(), *a)).collect(),
            rows: Vec::new(),
        }
    }

    pub fn push(&mut self, row: Vec<String>) {
        debug_assert_eq!(row.len(), self.columns.len());
        self.rows.push(row);
    }

    pub fn text(&self) -> String {
        let widths: Vec<usize> = (0..self.columns.len())
            .map(|i| {
                self.rows
                    .iter()
                    .map(|r| r[i].chars().count())
                    .chain([self.columns[i].0.chars().count()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = String::new();
        let line = |cells: Vec<&str>, out: &mut String| {
            let mut s = String::new();
            for (i, c) in cells.iter().enumerate() {
                let pad = widths[i] - c.chars().count();
                if i > 0 {
                    s.push_str("  ");
                }
                match self.columns[i].1 {
                    Align::Left => {
                        s.push_str(c);
                        s.push_str(&" ".repeat(pad));
                    }
                    Align::Right => {
                        s.push_str(&" ".repeat(pad));
                        s.push_str(c);
                    }
                }
            }
            out.push_str(s.trim_end());
            out.push('\n');
        };
        line(
            self.columns.iter().map(|c| c.0.as_str()).collect(),
            &mut out,
        );
        line(
            widths
                .iter()
                .map(|&w| "─".repeat(w))
                .collect::<Vec<_>>()
                .iter()
                .map(String::as_str)
                .collect(),
            &mut out,
        );
        for r in &self.rows {
            line(r.iter().map(String::as_str).collect(), &mut out);
        }
        out
    }

    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let esc = |s: &str| s.replace('|', "\\|");
        out.push_str("| ");
        out.push_str(
            &self
                .columns
                .iter()
                .map(|c| esc(&c.0))
                .collect::<Vec<_>>()
                .join(" | "),
        );
        out.push_str(" |\n|");
        for (_, a) in &self.columns {
            out.push_str(match a {
                Align::Left => ":---|",
                Align::Right => "---:|",
            });
        }
        out.push('\n');
        for r in &self.rows {
            out.push_str("| ");
            out.push_str(&r.iter().map(|c| esc(c)).collect::<Vec<_>>().join(" | "));
            out.push_str(" |\n");
        }
        out
    }

    pub fn csv(&self) -> String {
        let mut out = String::new();
        let row = |cells: Vec<&str>, out: &mut String| {
            out.push_str(
                &cells
                    .iter()
                    .map(|c| csv_field(c))
                    .collect::<Vec<_>>()
                    .join(","),
            );
            out.push('\n');
        };
        row(
            self.columns.iter().map(|c| c.0.as_str()).collect(),
            &mut out,
        );
        for r in &self.rows {
            row(r.iter().map(String::as_str).collect(), &mut out);
        }
        out
    }

    /// A complete `table` float. Needs `\usepackage{booktabs}`. Cells are
    /// escaped; the first `code_columns` columns are set in `\texttt`.
    pub fn latex(&self, caption: &str, label: &str, code_columns: usize) -> String {
        let spec: String = self
            .columns
            .iter()
            .map(|(_, a)| match a {
                Align::Left => 'l',
                Align::Right => 'r',
            })
            .collect();
        let mut out = String::new();
        let _ = writeln!(out, "\\begin{{table}}[t]");
        let _ = writeln!(out, "  \\centering\\small");
        let _ = writeln!(out, "  \\caption{{{}}}", latex_escape(caption));
        let _ = writeln!(out, "  \\label{{{label}}}");
        let _ = writeln!(out, "  \\begin{{tabular}}{{{spec}}}");
        let _ = writeln!(out, "    \\toprule");
        let head: Vec<String> = self.columns.iter().map(|c| latex_escape(&c.0)).collect();
        let _ = writeln!(out, "    {} \\\\", head.join(" & "));
        let _ = writeln!(out, "    \\midrule");
        for r in &self.rows {
            let cells: Vec<String> = r
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    if i < code_columns {
                        format!("\\texttt{{{}}}", latex_escape(c))
                    } else {
                        latex_escape(c)
                    }
                })
                .collect();
            let _ = writeln!(out, "    {} \\\\", cells.join(" & "));
        }
        let _ = writeln!(out, "    \\bottomrule");
        let _ = writeln!(out, "  \\end{{tabular}}");
        let _ = writeln!(out, "\\end{{table}}");
        out
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Escape LaTeX's special characters in running text.
pub fn latex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\textbackslash{}"),
            '&' | '%' | '$' | '#' | '_' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            '~' => out.push_str("\\textasciitilde{}"),
            '^' => out.push_str("\\textasciicircum{}"),
            '×' => out.push_str("$\\times$"),
            '±' => out.push_str("$\\pm$"),
            '·' => out.push_str("\\textperiodcentered{}"),
            '–' => out.push_str("--"),
            // Not set up by LaTeX's default UTF-8 input encoding.
            '−' => out.push_str("$-$"),
            '…' => out.push_str("\\ldots{}"),
            '∞' => out.push_str("$\\infty$"),
            '→' => out.push_str("$\\rightarrow$"),
            _ => out.push(c),
        }
    }
    out
}

/// A titled table inside a document.
#[derive(Debug, Clone)]
pub struct Section {
    pub title: String,
    /// LaTeX label suffix, e.g. `summary`.
    pub label: String,
    pub table: Table,
    /// Leading columns that hold identifiers (set in monospace in LaTeX).
    pub code_columns: usize,
    /// Lines that close the section right under its table (totals).
    pub footer: Vec<String>,
}

/// Caption lines plus sections: what a table-producing command prints.
#[derive(Debug, Clone, Default)]
pub struct Document {
    /// `(key, value)` lines such as `("mode", "icount (…)")`.
    pub caption: Vec<(String, String)>,
    pub sections: Vec<Section>,
    /// Trailing remarks (series only on one side, and the like).
    pub notes: Vec<String>,
}

impl Document {
    pub fn caption_line(&self) -> String {
        self.caption
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub fn text(&self) -> String {
        let mut out = String::new();
        let w = self.caption.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
        for (k, v) in &self.caption {
            let _ = writeln!(out, "{k:<w$}  {v}");
        }
        for s in &self.sections {
            out.push('\n');
            if !s.title.is_empty() {
                let _ = writeln!(out, "{}", s.title);
            }
            out.push_str(&s.table.text());
            for f in &s.footer {
                let _ = writeln!(out, "{f}");
            }
        }
        if !self.notes.is_empty() {
            out.push('\n');
            for n in &self.notes {
                let _ = writeln!(out, "note: {n}");
            }
        }
        out
    }

    pub fn markdown(&self) -> String {
        let mut out = String::new();
        for (k, v) in &self.caption {
            let _ = writeln!(out, "**{k}:** {v}  ");
        }
        for s in &self.sections {
            out.push('\n');
            if !s.title.is_empty() {
                let _ = writeln!(out, "*{}*\n", s.title);
            }
            out.push_str(&s.table.markdown());
            if !s.footer.is_empty() {
                let _ = writeln!(out, "\n{}", s.footer.join("  \n"));
            }
        }
        if !self.notes.is_empty() {
            out.push('\n');
            for n in &self.notes {
                let _ = writeln!(out, "- {n}");
            }
        }
        out
    }

    /// One `table` float per section; the caption carries the mode.
    pub fn latex(&self, label_prefix: &str) -> String {
        let mut out = String::from("% Generated by traplab; needs \\usepackage{booktabs}.\n");
        for s in &self.sections {
            let caption = format!("{}. {}.", s.title, self.caption_line());
            let mut table = s.table.latex(
                &caption,
                &format!("{label_prefix}:{}", s.label),
                s.code_columns,
            );
            if !s.footer.is_empty() {
                // Under the tabular, inside the float.
                let at = table.rfind("\\end{table}").unwrap_or(table.len());
                let lines: Vec<String> = s.footer.iter().map(|f| latex_escape(f)).collect();
                table.insert_str(
                    at,
                    &format!("  \\par\\smallskip {}\n", lines.join(" \\\\ ")),
                );
            }
            out.push_str(&table);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t() -> Table {
        let mut t = Table::new(&[("name", Align::Left), ("n", Align::Right)]);
        t.push(vec!["trap.oob_load".into(), "7".into()]);
        t.push(vec!["a,b \"q\"".into(), "1000".into()]);
        t
    }

    #[test]
    fn text_aligns_columns() {
        assert_eq!(
            t().text(),
            "name              n\n─────────────  ────\ntrap.oob_load     7\na,b \"q\"        1000\n"
        );
    }

    #[test]
    fn csv_quotes_what_needs_quoting() {
        assert_eq!(
            t().csv(),
            "name,n\ntrap.oob_load,7\n\"a,b \"\"q\"\"\",1000\n"
        );
    }

    #[test]
    fn latex_escapes_specials() {
        assert_eq!(
            latex_escape("a_b & 5% #x {y} ~^\\"),
            "a\\_b \\& 5\\% \\#x \\{y\\} \\textasciitilde{}\\textasciicircum{}\\textbackslash{}"
        );
        // Characters LaTeX's default UTF-8 input does not know.
        assert_eq!(latex_escape("X − S … ∞"), "X $-$ S \\ldots{} $\\infty$");
        assert_eq!(latex_escape("a → b"), "a $\\rightarrow$ b");
        assert!(
            t().latex("cap_1", "tab:x", 1)
                .contains("\\texttt{trap.oob\\_load} & 7 \\\\")
        );
    }
}
