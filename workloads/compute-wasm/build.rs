//! Link settings for the wasm module (nothing on other targets).
//!
//! The shadow stack (the part of linear memory where Rust keeps what does not
//! fit in wasm locals) defaults to 1 MiB on wasm32-unknown-unknown. The
//! kernels keep their big buffers in statics and recurse at most a few dozen
//! frames deep, so 64 KiB is ample, and a smaller initial memory is less for
//! the kernel to map and copy on every instantiation. An overflow cannot
//! corrupt data: rustc links with `--stack-first`, so the stack grows down
//! towards address 0 and past it traps as out of bounds.

/// Bytes of shadow stack.
const STACK_BYTES: u32 = 64 << 10;

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        println!("cargo::rustc-link-arg-cdylib=-zstack-size={STACK_BYTES}");
    }
}
