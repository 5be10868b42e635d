#!/usr/bin/env bash
# Build a bootable GRUB image of the traplab kernel and suite for bare metal.
#
# The logic lives in Rust (harness/src/iso.rs, the traplab-iso binary);
# this script checks prerequisites and says what to do with the image.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
    cat <<'USAGE'
usage: scripts/build-iso.sh [options]

Builds the kernel and the suite image and packs them into a hybrid ISO
(GRUB for legacy BIOS and for UEFI): boot it from a CD, or write it to a
USB stick with dd, on either kind of PC (UEFI with Secure Boot off: the
image's GRUB is not signed).
GRUB boots the kernel at once through multiboot2 with the suite image as
its first module; GRUB's console and the kernel's record stream go to
COM1 at 115200 baud, 8N1. Capture the run with scripts/capture-serial.sh.

options:
  --out FILE          where to write the image     (default: target/traplab/traplab.iso)
  --suite NAME        suite image: default | quick (default: default)
  --samples N         timed samples per experiment (default: 1000)
  --heap-traps N      traps in the heap check      (default: 100000; 0 skips it)
  --mode NAME         mode in the run header       (default: bare-metal)
  --boot-args "..."   extra kernel options, single words (e.g. "only=trap. configs=signals.bt_off")
  --dispatch-delay N  the validation kernel, N extra cycles per exception dispatch
  -h, --help          this text

exit status: 0 image written; 2 bad setup (missing tools, build failure, bad options).
USAGE
}

args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --out|--suite|--samples|--heap-traps|--mode|--boot-args|--dispatch-delay)
            [ $# -ge 2 ] || { echo "error: $1 needs a value" >&2; exit 2; }
            args+=("$1" "$2"); shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "error: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

. scripts/lib/prereqs.sh
traplab_ensure_rust
traplab_ensure_grub

echo "building host tools (first build takes several minutes)..." >&2
cargo build --release --locked -q -p traplab-harness || exit 2
iso=$(target/release/traplab-iso "${args[@]}") || exit 2
cat >&2 <<NEXT

Next steps:
  write it to a USB stick:   sudo dd if=$iso of=/dev/sdX bs=4M conv=fsync status=progress
  the same path in QEMU:     scripts/run-suite.sh --iso            (an image of its own, mode tcg)
  this very image in QEMU:   qemu-system-x86_64 -cpu max -m 1G -display none -serial stdio -cdrom $iso
  ... from UEFI firmware:    add -bios /usr/share/ovmf/OVMF.fd   (Debian's ovmf package)
  capture the run:           scripts/capture-serial.sh /dev/ttyUSB0   (start it before powering on)
NEXT
