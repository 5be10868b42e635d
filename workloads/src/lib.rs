//! The workloads of the suite and the host-side compiler that turns them
//! into a suite image for the kernel.
//!
//! - [`catalogue`]: the WAT workloads, what each is and what a call of it
//!   must end in; which workloads each suite lists.
//! - [`compute`]: the compute workloads: the kernels of `traplab-compute`,
//!   built as one wasm module by cargo (`traplab-compute-wasm`) and checked
//!   against their golden results.
//! - [`contract`]: the workload contract check and wasmtime errors as
//!   `anyhow` errors, under every builder below.
//! - [`compile`]: wasm → Cranelift artifacts (one per trap mode, with host
//!   compile facts) → [`traplab_suite::image::pack`].
//! - [`campaign`]: fault-injection campaign specs (TOML), resolved against
//!   the suite's compute workloads into the manifest.
//! - [`sightglass`]: sightglass-ABI benchmarks (both layouts, their input
//!   and expected-output files); [`sightglass_tests`] builds the project's
//!   own test benchmarks (Rust → wasm32-wasip1) into that layout.
//!
//! The written workload contract is `workloads/README.md`. The image format
//! and the shared wasmtime `Config` live in `traplab-suite`; running the
//! workloads is the kernel's job (this crate's tests also run them on the
//! host, to prove each does what its name says).

pub mod campaign;
pub mod catalogue;
pub mod compile;
pub mod compute;
pub mod contract;
pub mod sightglass;
pub mod sightglass_tests;

pub use catalogue::{CONTAIN_WORKLOADS, EXPORT, Expectation, SuiteName, WORKLOADS, WorkloadSpec};
pub use compile::{
    CPU_PROFILE_NAMES, KERNEL_TARGET, WASMTIME_VERSION, build_suite, build_suite_campaign,
    build_suite_with, cpu_profile,
};
pub use traplab_compute::{ComputeKernel, KERNELS};
