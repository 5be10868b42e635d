//! Build script of the Linux peer: stamps the same provenance as the lab
//! kernel's (git commit, dirty flag, wasmtime version) into the binary.

include!("../runner-core/provenance.rs");

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap();
    stamp_provenance(&dir);
}
