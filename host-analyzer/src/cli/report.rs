//! `traplab report`: one Markdown file with tables and figures, plus LaTeX
//! table snippets, for a run or a results folder.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use traplab_wire::Platform;

use super::plot::is_results_folder;
use super::{Exit, emit, load_usable};
use crate::campaign;
use crate::history;
use crate::ingest::Run;
use crate::jit;
use crate::mode::Unit;
use crate::peers;
use crate::plot::{self, Figure, figures};
use crate::profile;
use crate::store;
use crate::summary::{render, summarize};
use crate::table::Format;
use crate::view;
use crate::wast;

/// Write a Markdown report with tables, figures and LaTeX snippets.
///
/// Writes `<out>/report.md` (summary and stage tables, the tables of
/// `traplab jit` when the run has compute or jit experiments, those of
/// `traplab wast` when it has `.wast` results, those
/// of `traplab campaign` when it has fault injections, a "Ring 0 vs Linux"
/// section — the table and figure of `traplab peers` — when the run folder
/// (or the folder of a `run.jsonl` given) holds peer streams, problems found in the data, every figure
/// with its caption), `<out>/figures/` (SVG +
/// PNG) and `<out>/tables/*.tex` (booktabs snippets for a paper).
///
/// For a results folder the report shows the history across commits (tables,
/// change points, timelines) followed by the newest run of each mode.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A run file, a stored run folder, `-`, or a results folder.
    #[arg(value_name = "RUN|DIR")]
    pub input: PathBuf,
    /// Folder to write the report into (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Unit of run tables and figures; `ns` uses the run's TSC frequency.
    #[arg(long, value_enum, default_value_t = Unit::Cycles)]
    pub unit: Unit,
    /// Smallest level shift reported as a change point, in percent.
    #[arg(long, value_name = "PCT", default_value_t = 5.0)]
    pub threshold: f64,
}

pub fn run(args: ReportArgs) -> Result<Exit> {
    let figs_dir = args.out.join("figures");
    let tables_dir = args.out.join("tables");
    fs::create_dir_all(&tables_dir)
        .with_context(|| format!("creating {}", tables_dir.display()))?;
    let mut md = String::from("# traplab report\n\n");
    if is_results_folder(&args.input) {
        let h = super::history::load(&args.input, args.threshold)?;
        let doc = history::document(&h, &args.input.display().to_string(), Unit::Cycles);
        md.push_str("## History across commits\n\n");
        md.push_str(&doc.markdown());
        write_tex(&tables_dir.join("history.tex"), &doc.latex("tab:traplab"))?;
        md.push('\n');
        figures_section(&mut md, &figures::for_history(&h), &figs_dir, &args.out)?;
        // The newest run of each mode, in full.
        let stored = store::discover(&args.input, &mut |w| eprintln!("{w}"))?;
        let mut modes: Vec<String> = Vec::new();
        for s in stored.iter().rev() {
            // A Linux peer stored on its own is not a lab-kernel run of
            // its mode; peers stored with a run show in its section.
            if modes.contains(&s.meta.mode) || s.meta.platform != Platform::LabKernel.name() {
                continue;
            }
            modes.push(s.meta.mode.clone());
            let loaded = load_usable(&s.dir)?;
            let _ = writeln!(md, "\n## Newest {} run: {}\n", s.meta.mode, s.dir.display());
            let suffix = format!("-{}", s.meta.mode);
            run_section(&mut md, &loaded.run, args.unit, &args.out, &suffix)?;
            peers_section(&mut md, &s.dir, &args.out, &suffix)?;
            profiles_section(&mut md, &s.dir, &args.out)?;
        }
    } else {
        let loaded = load_usable(&args.input)?;
        let _ = writeln!(md, "## Run {}\n", loaded.run.source);
        run_section(&mut md, &loaded.run, args.unit, &args.out, "")?;
        // A run folder, or the run.jsonl of one (`run-suite.sh --out DIR`
        // writes DIR/run.jsonl and DIR/peers/ without storing them).
        let folder = if args.input.is_dir() {
            Some(args.input.as_path())
        } else if args.input.file_name() == Some(std::ffi::OsStr::new(store::RUN_FILE)) {
            args.input.parent()
        } else {
            None
        };
        if let Some(dir) = folder {
            peers_section(&mut md, dir, &args.out, "")?;
            profiles_section(&mut md, dir, &args.out)?;
        }
    }
    let path = args.out.join("report.md");
    fs::write(&path, md).with_context(|| format!("writing {}", path.display()))?;
    emit(&format!("{}\n", path.display()))?;
    Ok(Exit::Clean)
}

fn write_tex(path: &Path, tex: &str) -> Result<()> {
    fs::write(path, tex).with_context(|| format!("writing {}", path.display()))
}

/// Tables, problems and figures of one run. `suffix` keeps file names of
/// several runs in one report apart.
fn run_section(md: &mut String, run: &Run, unit: Unit, out: &Path, suffix: &str) -> Result<()> {
    let rows = summarize(run);
    md.push_str(&render(run, &rows, Format::Md, unit)?);
    write_tex(
        &out.join("tables").join(format!("summary{suffix}.tex")),
        &render(run, &rows, Format::Latex, unit)?,
    )?;
    let _ = writeln!(
        md,
        "\nLaTeX: `tables/summary{suffix}.tex` (needs `\\usepackage{{booktabs}}`).\n"
    );
    let view = jit::analyze(run);
    if !view.is_empty() {
        md.push_str("\n### JIT performance\n\n");
        md.push_str(&jit::render::render(run, &view, Format::Md, unit)?);
        write_tex(
            &out.join("tables").join(format!("jit{suffix}.tex")),
            &jit::render::render(run, &view, Format::Latex, unit)?,
        )?;
        let _ = writeln!(md, "\nLaTeX: `tables/jit{suffix}.tex`.\n");
    }
    let conformance = wast::analyze(run);
    if !conformance.is_empty() {
        md.push_str("\n### .wast conformance\n\n");
        md.push_str(&wast::render::render(run, &conformance, Format::Md));
        write_tex(
            &out.join("tables").join(format!("wast{suffix}.tex")),
            &wast::render::render(run, &conformance, Format::Latex),
        )?;
        let _ = writeln!(md, "\nLaTeX: `tables/wast{suffix}.tex`.\n");
    }
    let faults = campaign::analyze(run);
    if !faults.is_empty() {
        md.push_str("\n### Fault-injection campaign\n\n");
        md.push_str(&campaign::render::render(run, &faults, Format::Md, unit)?);
        write_tex(
            &out.join("tables").join(format!("campaign{suffix}.tex")),
            &campaign::render::render(run, &faults, Format::Latex, unit)?,
        )?;
        let _ = writeln!(md, "\nLaTeX: `tables/campaign{suffix}.tex`.\n");
    }
    if run.diagnostics.is_empty() {
        md.push_str("The run is clean: no integrity problems.\n\n");
    } else {
        let _ = writeln!(
            md,
            "**{} problem(s) in the data** (the data that arrived is used):\n",
            run.diagnostics.len()
        );
        md.push_str("```text\n");
        for l in run.diagnostic_lines() {
            md.push_str(&l);
            md.push('\n');
        }
        md.push_str("```\n\n");
    }
    let mut figs = figures::for_run(run, unit)?;
    for f in &mut figs {
        f.name.push_str(suffix);
    }
    figures_section(md, &figs, &out.join("figures"), out)
}

/// The ring 0 vs Linux table and figure of a stored run folder holding
/// peer streams; nothing for a folder without peers.
fn peers_section(md: &mut String, dir: &Path, out: &Path, suffix: &str) -> Result<()> {
    if store::stored_peers(dir).is_empty() {
        return Ok(());
    }
    md.push_str("\n### Ring 0 vs Linux\n\n");
    let view = match super::peers::view(&[dir.to_path_buf()]) {
        Ok(v) => v,
        Err(e) => {
            let _ = writeln!(
                md,
                "The run holds peer streams, but no ring 0 vs Linux view: {e:#}\n"
            );
            return Ok(());
        }
    };
    md.push_str(&peers::render::render(&view, Format::Md));
    write_tex(
        &out.join("tables").join(format!("peers{suffix}.tex")),
        &peers::render::render(&view, Format::Latex),
    )?;
    let _ = writeln!(md, "\nLaTeX: `tables/peers{suffix}.tex`.\n");
    if let Some(mut f) = figures::for_peers(&view) {
        f.name.push_str(suffix);
        figures_section(md, &[f], &out.join("figures"), out)?;
    }
    Ok(())
}

/// The instruction profiles kept in a run's folder (`<run>/profile/`,
/// from `traplab-profile --out RUN` or `run-suite.sh --profile`): their
/// stage and function tables and a flame graph each.
fn profiles_section(md: &mut String, dir: &Path, out: &Path) -> Result<()> {
    let folder = dir.join("profile");
    if !folder.is_dir() {
        return Ok(());
    }
    md.push_str("\n### Instruction profiles\n\n");
    let profiles = match profile::load(&[folder]) {
        Ok(p) => p,
        Err(e) => {
            let _ = writeln!(
                md,
                "The run's profile/ folder holds no usable profile: {e:#}\n"
            );
            return Ok(());
        }
    };
    md.push_str(
        "Every instruction of one call, stepped in QEMU (traplab-profile); each stage \
         beside the difference of the call's own stamps and the median of a run \
         of the same build without the stepper.\n\n",
    );
    md.push_str(&view::render(&profile::build(&profiles, 10), Format::Md));
    for p in &profiles {
        let svg = profile::flame_graph(p, &out.join("figures"))?;
        let rel = svg.strip_prefix(out).unwrap_or(&svg).display().to_string();
        let _ = writeln!(
            md,
            "\n![flame graph of {} {}]({rel})\n\n*{} {}: every instruction of one call ({}, {} instructions), by call stack; width is instructions.*\n",
            p.experiment, p.config, p.experiment, p.config, p.mode, p.instructions
        );
    }
    Ok(())
}

fn figures_section(md: &mut String, figs: &[Figure], dir: &Path, out: &Path) -> Result<()> {
    for f in figs {
        let files = plot::write(f, dir)?;
        let rel = |p: &Path| p.strip_prefix(out).unwrap_or(p).display().to_string();
        let png = files
            .iter()
            .find(|p| p.extension().is_some_and(|e| e == "png"))
            .map(|p| rel(p))
            .unwrap_or_default();
        let svg = files
            .iter()
            .find(|p| p.extension().is_some_and(|e| e == "svg"))
            .map(|p| rel(p))
            .unwrap_or_default();
        let _ = writeln!(
            md,
            "![{}]({png})\n\n*{}* ([SVG]({svg}))\n",
            f.name, f.caption
        );
    }
    Ok(())
}
