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
pub use engine::{CodeTarget, EngineVariant, TrapMode, engine_config};
pub use image::{
    Artifact, Campaign, CampaignTarget, Command, HostCompile, ImageError, Invoke, Manifest, Script,
    Suite, Value, Workload, WorkloadKind,
};
