//! Suite images and the shared wasmtime configuration.
//!
//! A *suite image* is what the host hands the kernel: wasm workloads that the
//! host compiled with Cranelift for `x86_64-unknown-none`, plus a manifest
//! saying what each workload is and what it must do (which export to call,
//! with which arguments, which trap it must raise and through which CPU
//! vector). The kernel runs whatever the manifest lists; it hard-codes no
//! workload. See [`image`] for the byte layout.
//!
//! [`engine::engine_config`] is the single place that builds the wasmtime
//! `Config`, called by the host compiler and by the kernel loader alike, so
//! the settings `Module::deserialize` checks cannot disagree.
//!
//! `no_std` + `alloc`: the kernel links it.
#![cfg_attr(not(test), no_std)]

extern crate alloc;

pub mod cpu;
pub mod engine;
pub mod image;

pub use cpu::{CpuProfile, CpuRecord};
/// The runner's test hooks: host functions `() -> ()` a workload may
/// import from [`test_hooks::MODULE`] — and only the test-only `contain`
/// suite's do — each going wrong inside the call, so tests can show that
/// such a call fails its experiment and nothing else. Defined by the
/// runner core (`traplab_runner_core::wasm`), allowed by the workload
/// contract (`traplab_workloads::compile`).
pub mod test_hooks {
    /// The import module.
    pub const MODULE: &str = "traplab";
    /// Panics, as a bug in wasmtime or a host function would.
    pub const PANIC: &str = "panic";
    /// Reads an unmapped address in host code: a fault wasmtime does not
    /// claim.
    pub const FAULT: &str = "fault";
    pub const ALL: [&str; 2] = [PANIC, FAULT];
}

pub use engine::{CodeTarget, EngineVariant, TrapMode, engine_config};
pub use image::{
    Artifact, Campaign, CampaignTarget, Command, HostCompile, ImageError, Invoke, Manifest, Script,
    Suite, Value, Workload, WorkloadKind,
};
