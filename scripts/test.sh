#!/usr/bin/env bash
# The test command: every test of the project, from a fresh clone.
#
# Installs what the tests need (QEMU and the GRUB image tools; as root,
# else it says what to run) and fetches the Linux guest's kernel, checks
# formatting and lints (clippy, warnings as errors), builds the kernel
# and the Linux peer (warnings in the
# workspace's crates fail those builds), then runs `cargo test` over the
# host crates. The boot tests in harness/tests/ build the real kernel and
# boot it in QEMU; the peer tests build the Linux peer and boot it in a
# Linux guest. Release mode, because the kernel is built that way and
# wasmtime/Cranelift in debug make the host tests slow.
#
# Exit status (the scheme of every traplab tool, README.md "Exit status"):
# 0 every test passed; 1 a test failed or the code is not rustfmt-clean;
# 2 bad setup (missing prerequisites, a build that fails or warns);
# 5 interrupted (Ctrl-C, SIGTERM).
set -euo pipefail
cd "$(dirname "$0")/.."
interrupted=0
trap 'interrupted=1' INT TERM HUP
fail() {
    [ "$interrupted" = 1 ] && { echo "interrupted" >&2; exit 5; }
    exit "$1"
}
. scripts/lib/prereqs.sh
traplab_ensure_rust
traplab_ensure_qemu
# The GRUB image tests boot the multiboot2 path from a real hybrid ISO,
# under SeaBIOS and under UEFI firmware (OVMF).
traplab_ensure_grub
traplab_ensure_ovmf
# The profiler's boot test steps the kernel through QEMU's gdb stub.
traplab_ensure_gdb
# The peer tests boot the Linux peer in a Linux guest (Debian's cloud
# kernel, fetched into ~/.cache/traplab/linux/ once; exports
# TRAPLAB_LINUX_KERNEL) and link it statically.
traplab_ensure_linux_guest
traplab_ensure_peer_build
# Formatting first: it takes a second and fails before the long build.
cargo fmt --all -- --check \
    || { echo "error: the code is not rustfmt-clean; run: cargo fmt --all" >&2; fail 1; }
# Lints, warnings as errors: the host crates (tests included) and the
# kernel for its own target. (The peer's build fails on rustc warnings in
# the harness below; its clippy pass, `lint -p traplab-peer-linux --target
# x86_64-unknown-linux-gnu`, is left to developers: a third check build of
# wasmtime would cost CI minutes.)
lint() {
    cargo clippy --release --locked -q "$@" -- -D warnings \
        || { echo "error: clippy or rustc warns (cargo clippy $*)" >&2; fail 1; }
}
lint --all-targets
lint -p runner-kernel --target x86_64-unknown-none
# The kernel and the peer, through the harness that builds them for every
# run: a warning in a workspace crate fails here, named, before the tests.
cargo build --release --locked -q -p traplab-harness || fail 2
bin=${CARGO_TARGET_DIR:-target}/release
"$bin/traplab-run" --build-only >/dev/null || fail 2
"$bin/traplab-run" --platform linux-host --build-only >/dev/null || fail 2
# Building the tests apart from running them tells a build failure (2)
# from a failing test (1).
cargo test --release --locked --no-run "$@" || fail 2
cargo test --release --locked "$@" || fail 1
[ "$interrupted" = 1 ] && fail 5
exit 0
