//! Build script of the runner kernel: links it with its own linker script
//! and stamps the build's provenance (git commit, dirty flag, build options)
//! into the binary, because every run header must say what produced it.

include!("../runner-core/provenance.rs");

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap();
    println!("cargo:rustc-link-arg-bins=-T{dir}/linker.ld");
    println!("cargo:rustc-link-arg-bins=--no-pie");
    println!("cargo:rerun-if-changed=linker.ld");

    stamp_provenance(&dir);

    // Validation knob (see src/exceptions.rs): extra cycles spent in the
    // exception dispatch path, so a comparison can be shown to catch it.
    println!("cargo:rerun-if-env-changed=TRAPLAB_DISPATCH_DELAY_CYCLES");
    let delay = std::env::var("TRAPLAB_DISPATCH_DELAY_CYCLES").unwrap_or_else(|_| "0".into());
    let delay: u64 = delay
        .parse()
        .expect("TRAPLAB_DISPATCH_DELAY_CYCLES must be an unsigned integer");
    println!("cargo:rustc-env=TRAPLAB_DISPATCH_DELAY_CYCLES={delay}");
}
