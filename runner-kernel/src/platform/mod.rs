//! The wasmtime custom-platform contract: the C-ABI `wasmtime_*` symbols
//! that wasmtime 48 calls when built with `custom-virtual-memory` and
//! `custom-native-signals` (declared in wasmtime's
//! `runtime/vm/sys/custom/capi.rs`). One module per part of the contract,
//! named after what it implements.

pub mod memory;
pub mod tls;
pub mod traps;
