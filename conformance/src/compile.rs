//! Scripts → suite image: each module precompiled for both trap modes on the
//! path build-suite uses, then packed with `pack_with_scripts`.
//!
//! No wasmtime option is set here: the engines are
//! [`traplab_workloads::compile::kernel_engine`], i.e.
//! `traplab_suite::engine_config` plus the kernel target, so an artifact
//! loads in the kernel exactly as a workload's does.

use anyhow::{Context, Result, bail};
use std::path::Path;
use traplab_suite::TrapMode;
use traplab_suite::image::{Manifest, pack_with_scripts};
use traplab_workloads::WASMTIME_VERSION;
use traplab_workloads::compile::kernel_engine;
use traplab_workloads::contract::into_anyhow;
use wasmtime::Engine;

use crate::script::{ConvertedScript, ModuleArtifact, ScriptError, convert, one_line};

/// The suite name conformance images carry.
pub const SUITE_NAME: &str = "wast";

/// One kernel compile engine per trap mode, in [`TrapMode::ALL`] order.
pub struct KernelCompiler {
    engines: Vec<(TrapMode, Engine)>,
}

impl KernelCompiler {
    pub fn new() -> Result<Self> {
        let engines = TrapMode::ALL
            .iter()
            .map(|&mode| Ok((mode, kernel_engine(mode, &traplab_suite::cpu::QEMU_MAX)?)))
            .collect::<Result<_>>()?;
        Ok(KernelCompiler { engines })
    }

    /// Precompile `wasm` once per trap mode: the artifact, or the reason
    /// that mode's engine refuses it (a proposal it leaves off, typically;
    /// for `assert_invalid`, the validation error).
    ///
    /// No host compile facts are recorded (`host: None`): a conformance
    /// run checks outcomes, not costs, and a module without functions has
    /// no code to measure anyway.
    pub fn compile(&self, wasm: &[u8]) -> Vec<(TrapMode, Result<ModuleArtifact, String>)> {
        self.engines
            .iter()
            .map(|(trap_mode, engine)| {
                let outcome = engine
                    .precompile_module(wasm)
                    .map(|bytes| ModuleArtifact {
                        trap_mode: *trap_mode,
                        bytes,
                        host: None,
                    })
                    .map_err(|e| one_line(&format!("{:#}", into_anyhow(e))));
                (*trap_mode, outcome)
            })
            .collect()
    }
}

/// Why scripts could not be loaded: a wrong script (exit status 2 in
/// `traplab-wast`, with file and line) or anything else.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Script(#[from] ScriptError),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// Read, convert and compile the scripts at `paths`, in order.
pub fn load_scripts(
    paths: &[impl AsRef<Path>],
    compiler: &KernelCompiler,
) -> Result<Vec<ConvertedScript>, LoadError> {
    let mut scripts: Vec<ConvertedScript> = Vec::with_capacity(paths.len());
    for path in paths {
        let path = path.as_ref();
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ScriptError {
            file: file.clone(),
            line: 1,
            column: 1,
            message: format!("cannot read it: {e}"),
        })?;
        let converted = convert(&file, &text, &mut |wasm, _| compiler.compile(wasm))?;
        if let Some(other) = scripts
            .iter()
            .find(|s| s.script.name == converted.script.name)
        {
            // Results are named `wast.<file name>:<line>`: two scripts with
            // one file name would be indistinguishable.
            return Err(ScriptError {
                file,
                line: 1,
                column: 1,
                message: format!(
                    "another script is also named {:?}; results are named by file name, so rename one",
                    other.script.name
                ),
            }
            .into());
        }
        scripts.push(converted);
    }
    Ok(scripts)
}

/// The suite image (suite `wast`, no workloads) for `scripts`.
pub fn pack(scripts: &[ConvertedScript]) -> Result<Vec<u8>> {
    if scripts.is_empty() {
        bail!("no scripts to pack");
    }
    let manifest = Manifest {
        suite: SUITE_NAME.to_string(),
        wasmtime: WASMTIME_VERSION.to_string(),
        workloads: Vec::new(),
        scripts: scripts.iter().map(|s| s.script.clone()).collect(),
        campaign: None,
        cpu: Some(traplab_suite::cpu::QEMU_MAX.record()),
    };
    let blobs: Vec<Vec<Vec<u8>>> = scripts
        .iter()
        .flat_map(|s| s.module_blobs.iter().cloned())
        .collect();
    Ok(pack_with_scripts(manifest, &[], &blobs))
}

/// [`load_scripts`] then [`pack`], writing the image to `out`.
pub fn build_image(
    paths: &[impl AsRef<Path>],
    out: &Path,
) -> Result<Vec<ConvertedScript>, LoadError> {
    let compiler = KernelCompiler::new()?;
    let scripts = load_scripts(paths, &compiler)?;
    let image = pack(&scripts)?;
    traplab_harness::build::write_atomically(out, &image)
        .with_context(|| format!("writing the suite image {}", out.display()))?;
    Ok(scripts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use traplab_suite::{Command, Suite};

    fn compiler() -> &'static KernelCompiler {
        static COMPILER: std::sync::OnceLock<KernelCompiler> = std::sync::OnceLock::new();
        COMPILER.get_or_init(|| KernelCompiler::new().expect("kernel engines"))
    }

    fn convert_with_engine(text: &str) -> ConvertedScript {
        convert("t.wast", text, &mut |wasm, _| compiler().compile(wasm)).unwrap()
    }

    /// The host verdicts of the script's host-checked commands, with the
    /// real engines: `(line, passed under each trap mode, details)`.
    fn host_verdicts(text: &str) -> Vec<(u32, Vec<bool>, Vec<String>)> {
        convert_with_engine(text)
            .script
            .commands
            .iter()
            .filter_map(|c| match c {
                Command::HostChecked { line, verdicts, .. } => Some((
                    *line,
                    verdicts.iter().map(|v| v.passed).collect(),
                    verdicts.iter().map(|v| v.detail.clone()).collect(),
                )),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_proposal_the_kernel_leaves_off_makes_assert_invalid_pass_only_if_refused() {
        // memory64 is off in the kernel's engine: its module is refused,
        // which is what assert_invalid asks, so this passes (the detail
        // names the reason, so a reader can tell it from a type error).
        let got = host_verdicts("(assert_invalid (module (memory i64 1)) \"x\")");
        assert_eq!(got[0].1, [true, true]);
        assert!(got[0].2[0].contains("memory64"), "{:?}", got[0].2);
    }

    #[test]
    fn each_module_gets_one_artifact_per_trap_mode() {
        let converted = convert_with_engine(
            "(module (func (export \"f\") (param i32 i32) (result i32) (i32.div_u (local.get 0) (local.get 1))))",
        );
        let Command::Module { artifacts, .. } = &converted.script.commands[0] else {
            panic!()
        };
        let modes: Vec<TrapMode> = artifacts.iter().map(|a| a.trap_mode).collect();
        assert_eq!(modes, TrapMode::ALL);
        assert_ne!(
            converted.module_blobs[0][0], converted.module_blobs[0][1],
            "the trap modes compile differently"
        );
    }

    #[test]
    fn a_module_needing_a_proposal_the_kernel_leaves_off_is_unsupported() {
        let converted =
            convert_with_engine("(module (memory i64 1))\n(module (func (export \"f\")))");
        let unsupported: Vec<_> = converted.unsupported().collect();
        assert_eq!(unsupported.len(), 1);
        assert_eq!(unsupported[0].0, 1);
        assert!(
            unsupported[0]
                .1
                .starts_with("module: the kernel's engine cannot compile it: "),
            "{}",
            unsupported[0].1
        );
        assert!(
            unsupported[0].1.contains("memory64"),
            "{}",
            unsupported[0].1
        );
        assert!(!unsupported[0].1.contains('\n'));
        assert_eq!(converted.module_blobs.len(), 1);
    }

    #[test]
    fn a_module_without_functions_compiles() {
        let converted = convert_with_engine("(module (memory 1))");
        assert!(matches!(
            converted.script.commands[0],
            Command::Module { .. }
        ));
    }

    #[test]
    fn packed_image_verifies_and_holds_every_module_artifact() {
        let a = convert_with_engine(
            "(module (func (export \"f\")))\n(invoke \"f\")\n(module (func (export \"g\")))",
        );
        let mut b = convert_with_engine(
            "(module (func (export \"h\") (result i32) (i32.const 7)))\n(assert_return (invoke \"h\") (i32.const 7))",
        );
        b.script.name = "u.wast".into();
        let image = pack(&[a.clone(), b.clone()]).unwrap();
        let suite = Suite::parse(&image).unwrap();
        assert_eq!(suite.manifest.suite, SUITE_NAME);
        assert!(suite.manifest.workloads.is_empty());
        assert_eq!(suite.manifest.scripts.len(), 2);
        let blobs: Vec<&Vec<u8>> = a
            .module_blobs
            .iter()
            .chain(&b.module_blobs)
            .flatten()
            .collect();
        let mut artifacts = Vec::new();
        for script in &suite.manifest.scripts {
            for command in &script.commands {
                if let Command::Module { artifacts: a, .. } = command {
                    artifacts.extend(
                        a.iter()
                            .map(|artifact| (script.name.clone(), artifact.clone())),
                    );
                }
            }
        }
        assert_eq!(artifacts.len(), 6);
        for ((owner, artifact), blob) in artifacts.iter().zip(blobs) {
            assert_eq!(suite.checked_bytes(owner, artifact).unwrap(), &blob[..]);
        }
        assert_eq!(suite.manifest.scripts[1].commands[1], b.script.commands[1]);
    }

    #[test]
    fn unreadable_and_same_named_scripts_are_refused_with_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.wast");
        let LoadError::Script(e) = load_scripts(&[&missing], compiler()).err().unwrap() else {
            panic!()
        };
        assert_eq!(e.file, missing.display().to_string());
        assert!(e.message.starts_with("cannot read it"), "{e}");

        std::fs::create_dir(dir.path().join("a")).unwrap();
        std::fs::create_dir(dir.path().join("b")).unwrap();
        for sub in ["a", "b"] {
            std::fs::write(dir.path().join(sub).join("x.wast"), "(module)").unwrap();
        }
        let paths = [dir.path().join("a/x.wast"), dir.path().join("b/x.wast")];
        let LoadError::Script(e) = load_scripts(&paths, compiler()).err().unwrap() else {
            panic!()
        };
        assert_eq!(e.file, paths[1].display().to_string());
        assert!(e.message.contains("also named \"x.wast\""), "{e}");
    }

    #[test]
    fn shipped_scripts_load_with_their_known_unsupported_commands() {
        let paths = crate::shipped_scripts().unwrap();
        let names: Vec<String> = paths
            .iter()
            .map(|p| crate::script::script_name(p))
            .collect();
        assert_eq!(
            names,
            [
                "control.wast",
                "float.wast",
                "int_div.wast",
                "memory.wast",
                "rounding.wast"
            ]
        );
        let scripts = load_scripts(&paths, compiler()).unwrap();
        let unsupported: Vec<String> = scripts
            .iter()
            .flat_map(|s| {
                s.unsupported().map(move |(line, what)| {
                    format!(
                        "{}:{line} {}",
                        s.script.name,
                        what.split(':').next().unwrap()
                    )
                })
            })
            .collect();
        assert_eq!(
            unsupported,
            [
                "control.wast:84 assert_return",
                "control.wast:85 assert_return",
            ]
        );
    }
}
