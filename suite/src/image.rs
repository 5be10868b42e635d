//! Suite image layout, packing (host) and verification (kernel).
//!
//! ```text
//! offset  size  field
//! 0       8     magic "TLSUITE1"
//! 8       4     manifest length M (u32, little endian)
//! 12      32    SHA-256 of the manifest bytes
//! 44      M     manifest, JSON (see [`Manifest`])
//! 44+M    …     artifacts, back to back; each [`Artifact`] names its range
//!               (relative to the image start) and its own SHA-256
//! ```
//!
//! Hand-written rather than a generic archive format because it is tiny and
//! the kernel must verify every byte before wasmtime sees it:
//! `Module::deserialize` trusts its input completely.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::engine::{CodeTarget, EngineVariant, TrapMode};

pub const MAGIC: &[u8; 8] = b"TLSUITE1";
const HEADER_LEN: usize = 8 + 4 + 32;

/// What the suite contains. Written by the host packer, read by the kernel.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Manifest {
    /// Suite name (`default`, `quick`, …).
    pub suite: String,
    /// wasmtime version that compiled the artifacts.
    pub wasmtime: String,
    pub workloads: Vec<Workload>,
    /// Spec-style `.wast` scripts for conformance mode (see [`Script`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scripts: Vec<Script>,
    /// A fault-injection campaign to run (see the `injectors` crate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign: Option<Campaign>,
    /// The CPU profile the artifacts were compiled for ([`crate::cpu`]).
    /// Absent in suites built before profiles (SSE4.1 alone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<crate::cpu::CpuRecord>,
}

/// A campaign as the kernel runs it: the user's spec plus, per target,
/// what the host worked out (arguments, golden result, divisor table).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Campaign {
    pub spec: traplab_injectors::CampaignSpec,
    /// One per `spec.targets` entry, same order.
    pub targets: Vec<CampaignTarget>,
}

/// One campaign target, resolved on the host.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct CampaignTarget {
    /// The suite workload whose artifacts and export run (a compute
    /// workload).
    pub workload: String,
    /// Arguments of every campaign call (the spec's `args`, else the
    /// workload's own).
    pub args: [i32; 2],
    /// What the call returns with these arguments, computed by the host
    /// with wasmtime: the reference for `masked` vs `corrupted`.
    pub golden: i32,
    /// Linear-memory offset and entry count of the module's `u32` divisor
    /// table (the `TRAPLAB_DIVISORS` export), for `divisor_zero`.
    pub divisors: Option<(u64, u32)>,
}

/// A `.wast` script, compiled on the host: its modules are precompiled
/// artifacts, its assertions are data the kernel checks.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Script {
    /// File name, e.g. `traps.wast`.
    pub name: String,
    pub commands: Vec<Command>,
}

impl Script {
    /// The engine configurations every platform runs scripts under, in
    /// this order (the conformance table's columns): both trap modes,
    /// backtraces off.
    pub const VARIANTS: [EngineVariant; 2] = [
        EngineVariant {
            trap_mode: TrapMode::Signals,
            backtrace: false,
        },
        EngineVariant {
            trap_mode: TrapMode::Explicit,
            backtrace: false,
        },
    ];

    /// The script's name in a run's plan and in `only=`: `wast.<file>`.
    pub fn experiment(&self) -> String {
        alloc::format!("wast.{}", self.name)
    }

    /// The record name of one of its commands: `wast.<file>:<line>`.
    pub fn command_experiment(&self, command: &Command) -> String {
        alloc::format!("wast.{}:{}", self.name, command.line())
    }
}

/// One script command, in order. `line` is 1-based in the source file.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Command {
    /// Instantiate this module, its imports resolved from `spectest` and
    /// the registered instances; later commands use it. With
    /// `expect_failure`, instantiating must fail that way instead (the
    /// script's `assert_unlinkable` / `assert_trap (module …)`).
    Module {
        line: u32,
        artifacts: Vec<Artifact>,
        /// The script's `$id` for it (invokes and `register` name it so).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expect_failure: Option<InstantiationFailure>,
    },
    /// Call and compare the results.
    AssertReturn {
        line: u32,
        invoke: Invoke,
        expected: Vec<Value>,
    },
    /// Call; it must trap, with a message containing `message`.
    AssertTrap {
        line: u32,
        invoke: Invoke,
        message: String,
    },
    /// Call for effect; it must not trap.
    Invoke { line: u32, invoke: Invoke },
    /// Read an exported global and compare it (`assert_return (get …)`).
    AssertGlobal {
        line: u32,
        /// The instance's `$id`; absent: the most recent module.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        module: Option<String>,
        global: String,
        expected: Value,
    },
    /// Make an instance's exports importable as module `name`.
    Register {
        line: u32,
        name: String,
        /// The instance's `$id`; absent: the most recent module.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        module: Option<String>,
    },
    /// Decided on the host, not run in the kernel (`assert_invalid`,
    /// `assert_malformed`: whether the engine configuration refuses a
    /// module is a host compile question). The kernel re-emits the verdict
    /// for its trap mode, saying it was checked on the host.
    HostChecked {
        line: u32,
        /// The directive, e.g. `assert_invalid`.
        directive: String,
        verdicts: Vec<HostVerdict>,
    },
    /// A command this mode does not run (kept so it is counted, never
    /// silently dropped).
    Unsupported { line: u32, what: String },
}

impl Command {
    pub fn line(&self) -> u32 {
        match self {
            Command::Module { line, .. }
            | Command::AssertReturn { line, .. }
            | Command::AssertTrap { line, .. }
            | Command::Invoke { line, .. }
            | Command::AssertGlobal { line, .. }
            | Command::Register { line, .. }
            | Command::HostChecked { line, .. }
            | Command::Unsupported { line, .. } => *line,
        }
    }
}

/// How instantiating a [`Command::Module`] must fail.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum InstantiationFailure {
    /// A link error (an import missing or of the wrong type), no trap.
    Unlinkable { message: String },
    /// It links, then traps (start function, segment out of bounds).
    Trap { message: String },
}

/// The host's verdict on a [`Command::HostChecked`] under one trap mode.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct HostVerdict {
    pub trap_mode: TrapMode,
    pub passed: bool,
    /// What the host saw (the refusal, or that the module was accepted).
    pub detail: String,
}

/// A call of an export of the current module (or of the instance `module`
/// names).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Invoke {
    /// The instance's `$id`; absent: the most recent module.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
    pub export: String,
    pub args: Vec<Value>,
}

/// A wasm value in a script; floats as bit patterns so NaN payloads survive.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Value {
    I32(i32),
    I64(i64),
    F32(u32),
    F64(u64),
    /// Expected results only: any canonical / arithmetic NaN.
    F32CanonicalNan,
    F32ArithmeticNan,
    F64CanonicalNan,
    F64ArithmeticNan,
}

#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum WorkloadKind {
    /// A call that must return normally (the null-call baseline).
    Call,
    /// A call that must trap with the expected code.
    Trap,
    /// A compute kernel that must return its golden result; timed cold
    /// (first call) and steady, and beside its native twin when the kernel
    /// links one (`traplab-compute`).
    Compute,
    /// A module following sightglass's benchmark ABI: `_start` export,
    /// `bench.start`/`bench.end` imports (each called once; the kernel
    /// timestamps them) and a WASI preview1 subset. Timed per fresh instance.
    Sightglass,
}

/// One workload: a wasm module whose `export` has type `(i32, i32) -> i32`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Workload {
    /// Experiment name, e.g. `trap.oob_load`.
    pub name: String,
    pub kind: WorkloadKind,
    pub export: String,
    pub args: [i32; 2],
    /// For [`WorkloadKind::Call`]: the value the call must return.
    pub expect_result: Option<i32>,
    /// wasmtime `Trap` variant the call must end in (its `Debug` name).
    pub expect_trap: Option<String>,
    /// CPU vector that must raise the trap under [`TrapMode::Signals`]; with
    /// explicit checks no exception is expected.
    pub expect_vector: Option<u8>,
    /// One precompiled artifact per trap mode and code target.
    pub artifacts: Vec<Artifact>,
    /// For [`WorkloadKind::Sightglass`]: the files that travel with the
    /// module (inputs, expected output).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sightglass: Option<SightglassFiles>,
}

/// What a sightglass benchmark brings beside its module, packed into the
/// image so the kernel needs no file system.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
pub struct SightglassFiles {
    /// Whether the module gets a read-only preopened directory (fd 3, named
    /// `.`) holding [`SightglassFiles::inputs`]: benchmarks in sightglass's
    /// folder layout do (sightglass preopens the benchmark's folder); flat
    /// modules do not.
    #[serde(default)]
    pub preopen: bool,
    /// The files of the preopened directory; `path` is relative to it,
    /// `/`-separated, sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<DataFile>,
    /// What `_start` must write to stdout (`path`: the expected file's name,
    /// for messages); absent: not checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdout_expected: Option<DataFile>,
    /// The same for stderr.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stderr_expected: Option<DataFile>,
}

impl SightglassFiles {
    /// Every data file, in image order (inputs, stdout, stderr).
    pub fn all(&self) -> impl Iterator<Item = &DataFile> {
        self.inputs
            .iter()
            .chain(&self.stdout_expected)
            .chain(&self.stderr_expected)
    }

    fn all_mut(&mut self) -> impl Iterator<Item = &mut DataFile> {
        self.inputs
            .iter_mut()
            .chain(&mut self.stdout_expected)
            .chain(&mut self.stderr_expected)
    }
}

/// A file carried in the image after the artifacts; like an [`Artifact`],
/// it names its range (relative to the image start) and its SHA-256.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct DataFile {
    pub path: String,
    pub offset: u64,
    pub len: u64,
    pub sha256: String,
}

impl DataFile {
    /// A file not yet placed in an image ([`pack_with_data`] places it).
    pub fn unplaced(path: String) -> DataFile {
        DataFile {
            path,
            offset: 0,
            len: 0,
            sha256: String::new(),
        }
    }
}

impl Workload {
    /// The artifact compiled for `target` under `mode`.
    pub fn artifact(&self, target: CodeTarget, mode: TrapMode) -> Option<&Artifact> {
        self.artifacts
            .iter()
            .find(|a| a.target == target && a.trap_mode == mode)
    }
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Artifact {
    pub trap_mode: TrapMode,
    /// The platform it was compiled for (absent: the lab kernel's).
    #[serde(default, skip_serializing_if = "CodeTarget::is_lab_kernel")]
    pub target: CodeTarget,
    pub offset: u64,
    pub len: u64,
    /// SHA-256 of the artifact bytes, lower-case hex.
    pub sha256: String,
    /// What compiling it cost on the host, when the packer measured it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<HostCompile>,
}

/// Host-side compile facts of one artifact (measured by the packer).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct HostCompile {
    /// Wall time of `Engine::precompile_module`, nanoseconds.
    pub compile_ns: u64,
    /// Bytes of machine code in the artifact's text section.
    pub code_bytes: u64,
    /// Instructions with a trap code (wasmtime's trap table entries).
    pub trap_sites: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageError {
    TooShort {
        len: usize,
    },
    BadMagic,
    ManifestOutOfBounds {
        len: u32,
        image: usize,
    },
    ManifestChecksum,
    ManifestInvalid(String),
    ArtifactOutOfBounds {
        workload: String,
        offset: u64,
        len: u64,
        image: usize,
    },
    ArtifactChecksum {
        workload: String,
        trap_mode: TrapMode,
    },
    DataFileChecksum {
        workload: String,
        path: String,
    },
}

impl fmt::Display for ImageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImageError::TooShort { len } => write!(f, "suite image too short ({len} bytes)"),
            ImageError::BadMagic => f.write_str("not a suite image (magic is not TLSUITE1)"),
            ImageError::ManifestOutOfBounds { len, image } => {
                write!(f, "manifest length {len} exceeds image of {image} bytes")
            }
            ImageError::ManifestChecksum => f.write_str("manifest SHA-256 does not match"),
            ImageError::ManifestInvalid(why) => write!(f, "manifest is not valid JSON: {why}"),
            ImageError::ArtifactOutOfBounds {
                workload,
                offset,
                len,
                image,
            } => write!(
                f,
                "artifact of {workload} at {offset}+{len} exceeds image of {image} bytes"
            ),
            ImageError::ArtifactChecksum {
                workload,
                trap_mode,
            } => write!(
                f,
                "artifact of {workload} ({}) fails its SHA-256 check",
                trap_mode.name()
            ),
            ImageError::DataFileChecksum { workload, path } => {
                write!(f, "file {path} of {workload} fails its SHA-256 check")
            }
        }
    }
}

impl core::error::Error for ImageError {}

/// A parsed image whose manifest has been verified. Artifacts are verified
/// one by one by [`Suite::artifact_bytes`], right before they are used.
pub struct Suite<'a> {
    pub manifest: Manifest,
    /// SHA-256 of the manifest, hex: identifies the suite in run headers.
    pub manifest_sha256: String,
    image: &'a [u8],
}

impl<'a> Suite<'a> {
    pub fn parse(image: &'a [u8]) -> Result<Self, ImageError> {
        if image.len() < HEADER_LEN {
            return Err(ImageError::TooShort { len: image.len() });
        }
        if &image[..8] != MAGIC {
            return Err(ImageError::BadMagic);
        }
        let len = u32::from_le_bytes([image[8], image[9], image[10], image[11]]);
        let end = HEADER_LEN
            .checked_add(len as usize)
            .filter(|&end| end <= image.len())
            .ok_or(ImageError::ManifestOutOfBounds {
                len,
                image: image.len(),
            })?;
        let bytes = &image[HEADER_LEN..end];
        let digest: [u8; 32] = Sha256::digest(bytes).into();
        if digest[..] != image[12..HEADER_LEN] {
            return Err(ImageError::ManifestChecksum);
        }
        let manifest: Manifest = serde_json::from_slice(bytes).map_err(|e| {
            let mut why = String::new();
            let _ = fmt::write(&mut why, format_args!("{e}"));
            ImageError::ManifestInvalid(why)
        })?;
        Ok(Suite {
            manifest,
            manifest_sha256: hex(&digest),
            image,
        })
    }

    /// The bytes of `artifact` of `workload`, after checking bounds and
    /// SHA-256.
    pub fn artifact_bytes(
        &self,
        workload: &Workload,
        artifact: &Artifact,
    ) -> Result<&'a [u8], ImageError> {
        self.checked_bytes(&workload.name, artifact)
    }

    /// The bytes of `artifact`, owned by `owner` (a workload or script
    /// name, for error messages), after checking bounds and SHA-256.
    pub fn checked_bytes(&self, owner: &str, artifact: &Artifact) -> Result<&'a [u8], ImageError> {
        self.range(owner, artifact.offset, artifact.len, &artifact.sha256)
            .map_err(|e| match e {
                Some(e) => e,
                None => ImageError::ArtifactChecksum {
                    workload: owner.to_string(),
                    trap_mode: artifact.trap_mode,
                },
            })
    }

    /// The bytes of the data file `file` of `workload` (a slice of the
    /// image, never a copy), after checking bounds and SHA-256.
    pub fn data_bytes(&self, workload: &str, file: &DataFile) -> Result<&'a [u8], ImageError> {
        self.range(workload, file.offset, file.len, &file.sha256)
            .map_err(|e| match e {
                Some(e) => e,
                None => ImageError::DataFileChecksum {
                    workload: workload.to_string(),
                    path: file.path.clone(),
                },
            })
    }

    /// `offset..offset + len` of the image if in bounds and its SHA-256 is
    /// `sha256`; `Err(None)` for a checksum mismatch (the caller names it).
    fn range(
        &self,
        owner: &str,
        offset: u64,
        len: u64,
        sha256: &str,
    ) -> Result<&'a [u8], Option<ImageError>> {
        let out_of_bounds = || {
            Some(ImageError::ArtifactOutOfBounds {
                workload: owner.to_string(),
                offset,
                len,
                image: self.image.len(),
            })
        };
        let start = usize::try_from(offset).map_err(|_| out_of_bounds())?;
        let len = usize::try_from(len).map_err(|_| out_of_bounds())?;
        let end = start
            .checked_add(len)
            .filter(|&e| e <= self.image.len())
            .ok_or_else(out_of_bounds)?;
        let bytes = &self.image[start..end];
        if hex(&Sha256::digest(bytes)) != sha256 {
            return Err(None);
        }
        Ok(bytes)
    }
}

/// Pack `manifest` and the artifact bytes into an image. `blobs[i][j]` is the
/// artifact `manifest.workloads[i].artifacts[j]`; offsets, lengths and
/// checksums in the manifest are filled in here.
pub fn pack(manifest: Manifest, blobs: &[Vec<Vec<u8>>]) -> Vec<u8> {
    pack_with_scripts(manifest, blobs, &[])
}

/// [`pack`] for a manifest with scripts: `script_blobs[k][j]` is artifact `j`
/// of the `k`-th `Command::Module` over all scripts, in order.
pub fn pack_with_scripts(
    manifest: Manifest,
    blobs: &[Vec<Vec<u8>>],
    script_blobs: &[Vec<Vec<u8>>],
) -> Vec<u8> {
    pack_with_data(manifest, blobs, script_blobs, &[])
}

/// [`pack_with_scripts`] for a manifest whose workloads carry data files
/// ([`SightglassFiles`]): `data[k]` is the `k`-th data file over all
/// workloads, in order (each workload's [`SightglassFiles::all`]). They
/// follow the artifacts in the image.
pub fn pack_with_data(
    mut manifest: Manifest,
    blobs: &[Vec<Vec<u8>>],
    script_blobs: &[Vec<Vec<u8>>],
    data: &[Vec<u8>],
) -> Vec<u8> {
    assert_eq!(
        manifest.workloads.len(),
        blobs.len(),
        "one blob list per workload"
    );
    let flat: Vec<&Vec<u8>> = blobs.iter().chain(script_blobs).flatten().collect();
    // Offsets depend on the manifest length, which depends on the offsets'
    // digits: iterate until the length is stable (twice in practice).
    let mut manifest_len = 0usize;
    loop {
        let mut offset = (HEADER_LEN + manifest_len) as u64;
        let artifacts = artifacts_mut(&mut manifest);
        assert_eq!(artifacts.len(), flat.len(), "one blob per artifact");
        for (artifact, blob) in artifacts.into_iter().zip(&flat) {
            artifact.offset = offset;
            artifact.len = blob.len() as u64;
            artifact.sha256 = hex(&Sha256::digest(blob));
            offset += blob.len() as u64;
        }
        let files: Vec<&mut DataFile> = manifest
            .workloads
            .iter_mut()
            .filter_map(|w| w.sightglass.as_mut())
            .flat_map(SightglassFiles::all_mut)
            .collect();
        assert_eq!(files.len(), data.len(), "one blob per data file");
        for (file, blob) in files.into_iter().zip(data) {
            file.offset = offset;
            file.len = blob.len() as u64;
            file.sha256 = hex(&Sha256::digest(blob));
            offset += blob.len() as u64;
        }
        let json = serde_json::to_vec(&manifest).expect("manifest serializes");
        if json.len() == manifest_len {
            let mut image = Vec::with_capacity(offset as usize);
            image.extend_from_slice(MAGIC);
            image.extend_from_slice(&(json.len() as u32).to_le_bytes());
            image.extend_from_slice(&Sha256::digest(&json));
            image.extend_from_slice(&json);
            for blob in flat.iter().copied().chain(data) {
                image.extend_from_slice(blob);
            }
            return image;
        }
        manifest_len = json.len();
    }
}

/// Every artifact of the manifest in image order: workloads first, then the
/// modules of the scripts.
fn artifacts_mut(manifest: &mut Manifest) -> Vec<&mut Artifact> {
    let mut out: Vec<&mut Artifact> = manifest
        .workloads
        .iter_mut()
        .flat_map(|w| w.artifacts.iter_mut())
        .collect();
    for script in &mut manifest.scripts {
        for command in &mut script.commands {
            if let Command::Module { artifacts, .. } = command {
                out.extend(artifacts.iter_mut());
            }
        }
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 0xf) as usize] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn manifest() -> Manifest {
        Manifest {
            suite: "t".to_string(),
            wasmtime: "48.0.8".to_string(),
            workloads: vec![Workload {
                name: "trap.unreachable".to_string(),
                kind: WorkloadKind::Trap,
                export: "run".to_string(),
                args: [0, 0],
                expect_result: None,
                expect_trap: Some("UnreachableCodeReached".to_string()),
                expect_vector: Some(6),
                artifacts: TrapMode::ALL
                    .iter()
                    .map(|&trap_mode| Artifact {
                        trap_mode,
                        target: CodeTarget::LabKernel,
                        offset: 0,
                        len: 0,
                        sha256: String::new(),
                        host: None,
                    })
                    .collect(),
                sightglass: None,
            }],
            scripts: Vec::new(),
            campaign: None,
            cpu: Some(crate::cpu::X86_64_V2.record()),
        }
    }

    fn packed() -> Vec<u8> {
        pack(manifest(), &[vec![vec![1u8; 1000], vec![2u8; 7]]])
    }

    #[test]
    fn pack_then_parse_returns_each_artifact() {
        let image = packed();
        let suite = Suite::parse(&image).unwrap();
        let w = &suite.manifest.workloads[0];
        assert_eq!(
            suite
                .artifact_bytes(
                    w,
                    w.artifact(CodeTarget::LabKernel, TrapMode::Signals)
                        .unwrap()
                )
                .unwrap(),
            &[1u8; 1000][..]
        );
        assert_eq!(
            suite
                .artifact_bytes(
                    w,
                    w.artifact(CodeTarget::LabKernel, TrapMode::Explicit)
                        .unwrap()
                )
                .unwrap(),
            &[2u8; 7][..]
        );
    }

    #[test]
    fn corrupted_artifact_is_refused() {
        let mut image = packed();
        let last = image.len() - 1;
        image[last] ^= 0xff;
        let suite = Suite::parse(&image).unwrap();
        let w = &suite.manifest.workloads[0];
        let err = suite
            .artifact_bytes(
                w,
                w.artifact(CodeTarget::LabKernel, TrapMode::Explicit)
                    .unwrap(),
            )
            .unwrap_err();
        assert_eq!(
            err,
            ImageError::ArtifactChecksum {
                workload: w.name.clone(),
                trap_mode: TrapMode::Explicit
            }
        );
    }

    #[test]
    fn corrupted_manifest_is_refused() {
        let mut image = packed();
        image[HEADER_LEN + 3] ^= 0x20;
        assert_eq!(
            Suite::parse(&image).err(),
            Some(ImageError::ManifestChecksum)
        );
    }

    #[test]
    fn truncated_and_foreign_images_are_refused() {
        let image = packed();
        assert_eq!(
            Suite::parse(&image[..10]).err(),
            Some(ImageError::TooShort { len: 10 })
        );
        assert!(matches!(
            Suite::parse(&image[..60]).err(),
            Some(ImageError::ManifestOutOfBounds { .. })
        ));
        let mut foreign = image.clone();
        foreign[0] = b'X';
        assert_eq!(Suite::parse(&foreign).err(), Some(ImageError::BadMagic));
    }

    #[test]
    fn data_files_follow_the_artifacts_and_are_verified() {
        let mut m = manifest();
        m.workloads[0].sightglass = Some(SightglassFiles {
            preopen: true,
            inputs: vec![DataFile::unplaced("in.txt".to_string())],
            stdout_expected: Some(DataFile::unplaced("default.stdout.expected".to_string())),
            stderr_expected: None,
        });
        let blobs = [vec![vec![1u8; 10], vec![2u8; 7]]];
        let mut image = pack_with_data(m, &blobs, &[], &[b"input".to_vec(), b"ok\n".to_vec()]);
        let suite = Suite::parse(&image).unwrap();
        let files = suite.manifest.workloads[0].sightglass.clone().unwrap();
        let name = &suite.manifest.workloads[0].name;
        assert_eq!(suite.data_bytes(name, &files.inputs[0]).unwrap(), b"input");
        let out = files.stdout_expected.as_ref().unwrap();
        assert_eq!(suite.data_bytes(name, out).unwrap(), b"ok\n");
        assert_eq!(out.offset, files.inputs[0].offset + 5, "packed in order");
        let last = image.len() - 1;
        image[last] ^= 1;
        let suite = Suite::parse(&image).unwrap();
        assert_eq!(
            suite.data_bytes(name, out).unwrap_err().to_string(),
            "file default.stdout.expected of trap.unreachable fails its SHA-256 check"
        );
    }
}
