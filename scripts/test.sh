#!/usr/bin/env bash
# The test command: every test of the project, from a fresh clone.
#
# Installs what the tests need (QEMU and the GRUB image tools; as root,
# else it says what to run), checks formatting, then runs `cargo test`
# over the host crates. The boot tests in harness/tests/ build the real
# kernel and boot it in QEMU. Release mode,
# because the kernel is built that way and wasmtime/Cranelift in debug make
# the host tests slow.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/prereqs.sh
traplab_ensure_rust
traplab_ensure_qemu
# The GRUB image test boots the multiboot2 path from a real ISO.
traplab_ensure_grub
# Formatting first: it takes a second and fails before the long build.
cargo fmt --all -- --check \
    || { echo "error: the code is not rustfmt-clean; run: cargo fmt --all" >&2; exit 1; }
exec cargo test --release --locked "$@"
