//! Paper figures: what to draw ([`figures`]: data prepared from a run or a
//! history, no drawing), how to draw it ([`draw`]: plotters, generic over the
//! backend), and how it looks (this module: sizes, fonts, palette, files).
//!
//! Every figure is written twice from the same drawing code: SVG at 96 px
//! per inch (vector, for LaTeX via svg→pdf or for the web) and PNG at 300 dpi
//! (for Word, slides, and for looking at). Sizes are physical: one column is
//! 3.5 in wide, two columns 7.16 in, so fonts given in points come out at
//! their nominal size when placed at 100 %.

pub mod draw;
pub mod figures;

use std::path::{Path, PathBuf};
use std::sync::Once;

use anyhow::{Result, anyhow};
use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};

pub use figures::{Figure, FigureKind};

/// Width of one column of a two-column paper (ACM/IEEE), inches.
pub const ONE_COLUMN_IN: f64 = 3.5;
/// Full text width of a two-column paper, inches.
pub const TWO_COLUMNS_IN: f64 = 7.16;

/// Okabe & Ito's colour-blind-safe palette (Color Universal Design, 2008),
/// black moved last so it is used only when the others run out.
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(230, 159, 0),   // orange
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(240, 228, 66),  // yellow
    RGBColor(0, 0, 0),       // black
];

pub fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// The font every figure uses, embedded so figures look the same on every
/// machine and no font lookup can fail at run time.
pub const FONT: &str = "sans-serif";

static FONTS: Once = Once::new();

fn register_fonts() {
    FONTS.call_once(|| {
        // DejaVu Sans ships inside the binary; a failure here would be a
        // build defect, and drawing would then fall back to no text.
        let _ = register_font(FONT, FontStyle::Normal, dejavu::sans::regular());
        let _ = register_font(FONT, FontStyle::Bold, dejavu::sans::bold());
        let _ = register_font(FONT, FontStyle::Oblique, dejavu::sans::oblique());
    });
}

/// Device scale of one rendering: converts points and inches to pixels.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    /// Pixels per inch of this rendering.
    pub dpi: f64,
}

impl Style {
    /// Points → pixels (1 pt = 1/72 in).
    pub fn pt(&self, pt: f64) -> f64 {
        pt * self.dpi / 72.0
    }

    pub fn px(&self, pt: f64) -> i32 {
        self.pt(pt).round() as i32
    }

    pub fn px_u(&self, pt: f64) -> u32 {
        self.pt(pt).round().max(1.0) as u32
    }

    /// Tick labels.
    pub fn tick_font(&self) -> TextStyle<'static> {
        (FONT, self.pt(7.0)).into_font().color(&BLACK)
    }

    /// Axis titles.
    pub fn label_font(&self) -> TextStyle<'static> {
        (FONT, self.pt(8.0)).into_font().color(&BLACK)
    }

    pub fn legend_font(&self) -> TextStyle<'static> {
        (FONT, self.pt(7.0)).into_font().color(&BLACK)
    }

    /// The caption line (mode and provenance).
    pub fn caption_font(&self) -> TextStyle<'static> {
        (FONT, self.pt(6.0))
            .into_font()
            .color(&RGBColor(60, 60, 60))
    }

    /// Line width of data series.
    pub fn line(&self) -> u32 {
        self.px_u(1.0)
    }
}

/// SVG resolution: CSS pixels.
const SVG_DPI: f64 = 96.0;
/// PNG resolution: print quality.
const PNG_DPI: f64 = 300.0;

/// Write `fig` as `<out>/<name>.svg` and `<out>/<name>.png`.
pub fn write(fig: &Figure, out: &Path) -> Result<Vec<PathBuf>> {
    register_fonts();
    std::fs::create_dir_all(out).map_err(|e| anyhow!("creating {}: {e}", out.display()))?;
    let (w, h) = fig.size_in();
    let svg = out.join(format!("{}.svg", fig.name));
    let png = out.join(format!("{}.png", fig.name));
    let px = |inches: f64, dpi: f64| (inches * dpi).round() as u32;
    {
        let style = Style { dpi: SVG_DPI };
        let root = SVGBackend::new(&svg, (px(w, SVG_DPI), px(h, SVG_DPI))).into_drawing_area();
        draw::figure(&root, fig, &style)
            .map_err(|e| anyhow!("drawing {}: {e:?}", svg.display()))?;
        root.present()
            .map_err(|e| anyhow!("writing {}: {e:?}", svg.display()))?;
    }
    {
        let style = Style { dpi: PNG_DPI };
        let root = BitMapBackend::new(&png, (px(w, PNG_DPI), px(h, PNG_DPI))).into_drawing_area();
        draw::figure(&root, fig, &style)
            .map_err(|e| anyhow!("drawing {}: {e:?}", png.display()))?;
        root.present()
            .map_err(|e| anyhow!("writing {}: {e:?}", png.display()))?;
    }
    Ok(vec![svg, png])
}
