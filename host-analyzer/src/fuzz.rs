//! The fuzzing entry point, shared by the cargo-fuzz target
//! (`fuzz/fuzz_targets/parse_run.rs`) and the corpus replay test
//! (`tests/fuzz_corpus.rs`), so both exercise exactly the same code.

use crate::ingest::parse;
use crate::mode::Unit;
use crate::summary::{render, summarize};
use crate::table::Format;

/// Parse arbitrary bytes as a run and push whatever survives through the
/// summary, the JIT view and the campaign view in every format and unit,
/// and the figure preparation. Must never panic.
pub fn parse_and_summarize(data: &[u8]) {
    let run = parse("fuzz", data);
    let _ = run.diagnostic_lines().count();
    let _ = crate::cli::validate::verdict(&run);
    if run.usable().is_err() {
        return;
    }
    let rows = summarize(&run);
    for format in [
        Format::Table,
        Format::Md,
        Format::Csv,
        Format::Json,
        Format::Latex,
    ] {
        for unit in [Unit::Cycles, Unit::Ns] {
            let _ = render(&run, &rows, format, unit);
        }
    }
    let view = crate::jit::analyze(&run);
    for format in [
        Format::Table,
        Format::Md,
        Format::Csv,
        Format::Json,
        Format::Latex,
    ] {
        for unit in [Unit::Cycles, Unit::Ns] {
            let _ = crate::jit::render::render(&run, &view, format, unit);
        }
    }
    let campaign = crate::campaign::analyze(&run);
    for format in [
        Format::Table,
        Format::Md,
        Format::Csv,
        Format::Json,
        Format::Latex,
    ] {
        for unit in [Unit::Cycles, Unit::Ns] {
            let _ = crate::campaign::render::render(&run, &campaign, format, unit);
        }
    }
    if let Ok(figs) = crate::plot::figures::for_run(&run, Unit::Cycles) {
        let _ = figs.len();
    }
}
