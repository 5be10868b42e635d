#!/usr/bin/env bash
# The test command: every test of the project, from a fresh clone.
#
# Installs what the tests need (QEMU and the GRUB image tools; as root,
# else it says what to run) and fetches the Linux guest's kernel, checks
# formatting, then runs `cargo test` over the host crates. The boot tests
# in harness/tests/ build the real kernel and boot it in QEMU; the peer
# tests build the Linux peer and boot it in a Linux guest. Release mode,
# because the kernel is built that way and wasmtime/Cranelift in debug make
# the host tests slow.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/prereqs.sh
traplab_ensure_rust
traplab_ensure_qemu
# The GRUB image test boots the multiboot2 path from a real ISO.
traplab_ensure_grub
# The peer tests boot the Linux peer in a Linux guest (Debian's cloud
# kernel, fetched into ~/.cache/traplab/linux/ once; exports
# TRAPLAB_LINUX_KERNEL) and link it statically.
traplab_ensure_linux_guest
traplab_ensure_peer_build
# Formatting first: it takes a second and fails before the long build.
cargo fmt --all -- --check \
    || { echo "error: the code is not rustfmt-clean; run: cargo fmt --all" >&2; exit 1; }
exec cargo test --release --locked "$@"
