//! One view, many renderings: what every table-producing command shares.
//!
//! A command's view is a typed tree that derives `Serialize` once (its
//! numbers already in the output unit, as [`Quantity`]s). The JSON format
//! is that serialization; the text, Markdown and LaTeX formats render the
//! [`Document`] the view builds from the same tree, and CSV the [`Table`]
//! it builds from it ([`View`], rendered by [`render`]). So no format can
//! show a number the tree does not hold, and none can drift from the
//! others (hyperfine's one exporter per format over one result type is the
//! model). The column/row model itself, and its text, Markdown, CSV and
//! LaTeX renderings, is [`crate::table`].
//!
//! Trees keep full precision; rounding for JSON happens at serialization
//! (the `ser_*` helpers), for text at formatting, so a JSON value and its
//! table cell are one number rounded two ways, never two computations.
//! Absent values are `null` in JSON (never a missing key): a row keeps its
//! keys whether or not its series has samples.

use std::fmt;

use serde::{Serialize, Serializer};

use crate::mode::Unit;
use crate::table::{Document, Format, Table};

/// What a table cell shows for a value that is not there.
pub const DASH: &str = "–";

/// A view renderable in every [`Format`].
pub trait View: Serialize {
    /// LaTeX label prefix of the view's tables (`tab:traplab`).
    const LATEX_LABEL: &'static str = "tab:traplab";

    /// The document the text, Markdown and LaTeX formats print.
    fn document(&self) -> Document;

    /// The CSV table (tidy or wide, as the view documents).
    fn csv(&self) -> Table;
}

/// Render `view` in `format`.
pub fn render<V: View>(view: &V, format: Format) -> String {
    match format {
        Format::Json => json(view),
        Format::Csv => view.csv().csv(),
        Format::Table => view.document().text(),
        Format::Md => view.document().markdown(),
        Format::Latex => view.document().latex(V::LATEX_LABEL),
    }
}

/// Pretty JSON with a closing newline.
pub fn json<T: Serialize + ?Sized>(tree: &T) -> String {
    let mut s = serde_json::to_string_pretty(tree).expect("a view tree always serializes");
    s.push('\n');
    s
}

/// A duration (or a per-something cost) in a view's output unit.
///
/// Serializes as integer cycles, or ns with one decimal; prints as
/// [`Unit::format`] does. `fine` quantities (a cost per CLIF instruction)
/// keep 4 decimals in JSON when in cycles.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quantity {
    /// In `unit`.
    pub value: f64,
    pub unit: Unit,
    pub fine: bool,
}

impl Quantity {
    /// `cycles` converted with `k` (from [`Unit::scale`]) into `unit`.
    pub fn new(cycles: f64, unit: Unit, k: f64) -> Quantity {
        Quantity {
            value: cycles * k,
            unit,
            fine: false,
        }
    }

    pub fn of(cycles: u64, unit: Unit, k: f64) -> Quantity {
        Quantity::new(cycles as f64, unit, k)
    }

    /// Like [`Quantity::new`], 4 decimals in JSON when in cycles.
    pub fn fine(cycles: f64, unit: Unit, k: f64) -> Quantity {
        Quantity {
            fine: true,
            ..Quantity::new(cycles, unit, k)
        }
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.unit.format(self.value))
    }
}

impl Serialize for Quantity {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.unit {
            Unit::Cycles if self.fine => s.serialize_f64(round4(self.value)),
            Unit::Cycles => s.serialize_i64(self.value.round() as i64),
            Unit::Ns => s.serialize_f64(round1(self.value)),
        }
    }
}

/// The value, or [`DASH`].
pub fn dash<T: fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| DASH.to_string(), |v| v.to_string())
}

pub fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

pub fn round4(v: f64) -> f64 {
    (v * 1e4).round() / 1e4
}

/// `serialize_with` for an `f64` kept at full precision in the tree.
pub fn ser_round4<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(round4(*v))
}

pub fn ser_round1<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(round1(*v))
}

pub fn ser_opt_round4<S: Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    v.map(round4).serialize(s)
}

pub fn ser_opt_round1<S: Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    v.map(round1).serialize(s)
}

pub fn ser_opt_round0<S: Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    v.map(f64::round).serialize(s)
}

/// At least three significant digits, no exponent; k above 10,000, M and G
/// above a million and a billion.
pub fn sig3(v: f64) -> String {
    if !v.is_finite() {
        return "∞".into();
    }
    let a = v.abs();
    let (scaled, suffix) = if a >= 1e9 {
        (v / 1e9, "G")
    } else if a >= 1e6 {
        (v / 1e6, "M")
    } else if a >= 1e4 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    let a = scaled.abs();
    let decimals = if a == 0.0 {
        0
    } else {
        (2 - a.log10().floor() as i32).max(0) as usize
    };
    format!("{scaled:.decimals$}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantity_serializes_as_its_cell_reads() {
        let c = Quantity::of(1234, Unit::Cycles, 1.0);
        assert_eq!(serde_json::to_string(&c).unwrap(), "1234");
        assert_eq!(c.to_string(), "1234");
        let n = Quantity::of(1234, Unit::Ns, 0.5);
        assert_eq!(serde_json::to_string(&n).unwrap(), "617.0");
        assert_eq!(n.to_string(), "617.0");
        let f = Quantity::fine(10.0 / 3.0, Unit::Cycles, 1.0);
        assert_eq!(serde_json::to_string(&f).unwrap(), "3.3333");
        assert_eq!(f.to_string(), "3");
    }
}
