//! The WAT workloads, their catalogue of expected traps and CPU vectors, and
//! the host-side compiler that turns them into a suite image for the kernel.
//!
//! - [`catalogue`]: what each workload is and what a call of it must end in.
//! - [`compile`]: WAT → wasm → Cranelift artifacts (one per trap mode) →
//!   [`traplab_suite::image::pack`].
//!
//! The image format and the shared wasmtime `Config` live in `traplab-suite`;
//! running the workloads is the kernel's job (this crate's tests also run them
//! on the host, to prove each WAT does what its name says).

pub mod catalogue;
pub mod compile;

pub use catalogue::{EXPORT, Expectation, SuiteName, WORKLOADS, WorkloadSpec};
pub use compile::{KERNEL_TARGET, WASMTIME_VERSION, build_suite};
