//! `traplab profile`: the instruction profiles `traplab-profile` wrote
//! (`traplab_wire::profile::Profile`), as tables and flame graphs.
//!
//! A profile counts every instruction of one call, so its numbers are
//! exact: the stage table sets each stage's stepped count beside the
//! difference of the call's own stamps (equal under icount, where the
//! TSC counts instructions), and the function table ranks functions by
//! the instructions executed in them (self) and under them (total).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Serialize;
use traplab_wire::profile::{CrateCount, FunctionCount, Profile, RunStage};

use crate::table::{Align, Document, Section, Table};
use crate::view::{DASH, View};

/// Read every profile named by `paths`: profile files, or folders holding
/// them directly or in `profile/` (a `traplab-profile --out` folder).
pub fn load(paths: &[PathBuf]) -> Result<Vec<Profile>> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let dir = if path.join("profile").is_dir() {
                path.join("profile")
            } else {
                path.clone()
            };
            let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
                .with_context(|| format!("reading {}", dir.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect();
            if found.is_empty() {
                bail!("{}: no profiles (*.json) in it", dir.display());
            }
            found.sort();
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    files.iter().map(|f| read(f)).collect()
}

fn read(path: &Path) -> Result<Profile> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("{}: not an instruction profile", path.display()))
}

/// The view: per profile, its stages and its top functions.
#[derive(Debug, Serialize)]
pub struct ProfileView {
    pub profiles: Vec<ProfileSummary>,
}

#[derive(Debug, Serialize)]
pub struct ProfileSummary {
    pub experiment: String,
    pub config: String,
    pub mode: String,
    pub instructions: u64,
    pub truncated: bool,
    pub stages: Vec<StageRow>,
    pub outside_stamps: u64,
    /// Every instruction by the crate that owns it (the innermost frame
    /// outside the standard library): who a trap's cost belongs to (the
    /// platform's kernel, its allocator, wasmtime, the workload's code).
    pub crates: Vec<CrateCount>,
    /// The `top` functions by self instructions.
    pub functions: Vec<FunctionCount>,
    /// Functions left out of `functions`.
    pub functions_omitted: usize,
}

#[derive(Debug, Serialize)]
pub struct StageRow {
    pub stage: String,
    pub instructions: u64,
    pub stamp_delta: Option<u64>,
    /// Instructions that raised an exception in the stage.
    pub exceptions: u64,
    /// The stage in the run without the stepper.
    pub run: Option<RunStage>,
    /// Whether the stepped count equals the stamps' difference, up to the
    /// instructions that raised an exception (`StageCount::agrees`);
    /// `null` outside icount, where the stamps count time, not
    /// instructions.
    pub agrees: Option<bool>,
}

/// The view of `profiles`, keeping the `top` functions of each.
pub fn build(profiles: &[Profile], top: usize) -> ProfileView {
    let profiles = profiles
        .iter()
        .map(|p| ProfileSummary {
            experiment: p.experiment.clone(),
            config: p.config.clone(),
            mode: p.mode.clone(),
            instructions: p.instructions,
            truncated: p.truncated,
            stages: p
                .stages
                .iter()
                .map(|s| StageRow {
                    stage: s.stage.clone(),
                    instructions: s.instructions,
                    stamp_delta: s.stamp_delta,
                    exceptions: s.exceptions,
                    run: s.run,
                    agrees: (p.mode == "icount").then(|| s.agrees()),
                })
                .collect(),
            outside_stamps: p.outside_stamps,
            crates: p.crates.clone(),
            functions: p.functions.iter().take(top).cloned().collect(),
            functions_omitted: p.functions.len().saturating_sub(top),
        })
        .collect();
    ProfileView { profiles }
}

impl ProfileView {
    /// Stepped counts that disagree with their stamps under icount: a
    /// wrong profile.
    pub fn disagreements(&self) -> usize {
        self.profiles
            .iter()
            .flat_map(|p| &p.stages)
            .filter(|s| s.agrees == Some(false))
            .count()
    }
}

fn opt(v: Option<u64>) -> String {
    v.map_or_else(|| DASH.to_string(), |v| v.to_string())
}

impl View for ProfileView {
    const LATEX_LABEL: &'static str = "tab:traplab-profile";

    fn document(&self) -> Document {
        let mut doc = Document::default();
        doc.caption.push((
            "unit".into(),
            "guest instructions, each counted once".into(),
        ));
        for p in &self.profiles {
            let name = format!("{} {}", p.experiment, p.config);
            let mut stages = Table::new(&[
                ("stage", Align::Left),
                ("instructions", Align::Right),
                ("stamps", Align::Right),
                ("raised", Align::Right),
                ("run p50 (min–max)", Align::Right),
            ]);
            for s in &p.stages {
                stages.push(vec![
                    s.stage.clone(),
                    s.instructions.to_string(),
                    opt(s.stamp_delta),
                    s.exceptions.to_string(),
                    s.run.map_or_else(
                        || DASH.to_string(),
                        |r| format!("{:.0} ({}–{})", r.median, r.min, r.max),
                    ),
                ]);
            }
            let staged: u64 = p.stages.iter().map(|s| s.instructions).sum();
            doc.sections.push(Section {
                title: format!(
                    "{name}: {} instructions stepped ({}){}",
                    p.instructions,
                    p.mode,
                    if p.truncated {
                        ", truncated at the bound"
                    } else {
                        ""
                    }
                ),
                label: format!("profile-stages-{}-{}", p.experiment, p.config),
                table: stages,
                code_columns: 1,
                footer: vec![format!(
                    "{staged} between the first and last stamp; {} around them (the runner's bookkeeping)",
                    p.outside_stamps
                )],
            });
            let mut columns = vec![("crate", Align::Left), ("instructions", Align::Right)];
            columns.extend(p.stages.iter().map(|s| (s.stage.as_str(), Align::Right)));
            let mut crates = Table::new(&columns);
            for c in &p.crates {
                let mut row = vec![c.krate.clone(), c.instructions.to_string()];
                row.extend(c.by_stage.iter().map(u64::to_string));
                crates.push(row);
            }
            doc.sections.push(Section {
                title: format!(
                    "{name}: instructions by owning crate (innermost frame outside the standard library), all and per stage"
                ),
                label: format!("profile-crates-{}-{}", p.experiment, p.config),
                table: crates,
                code_columns: 1,
                footer: Vec::new(),
            });
            let mut columns = vec![
                ("function", Align::Left),
                ("self", Align::Right),
                ("total", Align::Right),
            ];
            columns.extend(p.stages.iter().map(|s| (s.stage.as_str(), Align::Right)));
            let mut functions = Table::new(&columns);
            for f in &p.functions {
                let mut row = vec![
                    f.function.clone(),
                    f.self_instructions.to_string(),
                    f.total_instructions.to_string(),
                ];
                row.extend(f.self_by_stage.iter().map(u64::to_string));
                functions.push(row);
            }
            doc.sections.push(Section {
                title: format!("{name}: functions by instructions in them (self; per stage) and under them (total)"),
                label: format!("profile-functions-{}-{}", p.experiment, p.config),
                table: functions,
                code_columns: 1,
                footer: if p.functions_omitted > 0 {
                    vec![format!("{} more functions (--top)", p.functions_omitted)]
                } else {
                    Vec::new()
                },
            });
        }
        for p in &self.profiles {
            for s in p.stages.iter().filter(|s| s.agrees == Some(false)) {
                doc.notes.push(format!(
                    "{} {}: stage {} stepped {} instructions but its stamps differ by {}: the profile is wrong",
                    p.experiment,
                    p.config,
                    s.stage,
                    s.instructions,
                    opt(s.stamp_delta)
                ));
            }
        }
        doc
    }

    fn csv(&self) -> Table {
        let mut t = Table::new(&[
            ("experiment", Align::Left),
            ("config", Align::Left),
            ("kind", Align::Left),
            ("name", Align::Left),
            ("instructions", Align::Right),
            ("total_instructions", Align::Right),
        ]);
        for p in &self.profiles {
            for s in &p.stages {
                t.push(vec![
                    p.experiment.clone(),
                    p.config.clone(),
                    "stage".into(),
                    s.stage.clone(),
                    s.instructions.to_string(),
                    String::new(),
                ]);
            }
            for f in &p.functions {
                t.push(vec![
                    p.experiment.clone(),
                    p.config.clone(),
                    "function".into(),
                    f.function.clone(),
                    f.self_instructions.to_string(),
                    f.total_instructions.to_string(),
                ]);
            }
        }
        t
    }
}

/// Draw `profile` as a flame graph (SVG) into `dir`:
/// `flame-<experiment>@<config>.svg`.
pub fn flame_graph(profile: &Profile, dir: &Path) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(format!("flame-{}.svg", profile.file_stem()));
    let mut opts = inferno::flamegraph::Options::default();
    opts.title = format!("{} {}", profile.experiment, profile.config);
    opts.subtitle = Some(format!(
        "{} instructions, every one stepped ({}){}",
        profile.instructions,
        profile.mode,
        if profile.truncated {
            "; truncated at the bound"
        } else {
            ""
        }
    ));
    opts.count_name = "instructions".into();
    opts.deterministic = true;
    opts.hash = true;
    let folded = profile.folded_text();
    let file =
        std::fs::File::create(&path).with_context(|| format!("creating {}", path.display()))?;
    inferno::flamegraph::from_lines(&mut opts, folded.lines(), std::io::BufWriter::new(file))
        .with_context(|| format!("drawing {}", path.display()))?;
    Ok(path)
}
