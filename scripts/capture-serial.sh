#!/usr/bin/env bash
# Capture a traplab run from a real serial port and store it under results/.
#
# Plumbing only: stty sets the line up, traplab-serial (harness) reads it
# until the run's end record, traplab ingest stores it, traplab summary
# prints it. The analyzer tolerates what a real link adds: noise before the
# first record (BIOS, GRUB), and it detects a damaged line by its CRC.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
    cat <<'USAGE'
usage: scripts/capture-serial.sh DEVICE [options]

Reads the record stream of a machine booted from scripts/build-iso.sh's
image on DEVICE (e.g. /dev/ttyUSB0, a null-modem cable to the machine's
COM1) at 115200 baud 8N1, raw. Start it, then power on or reset the
machine. Stops at the run's end record (or after --timeout), stores the
capture with `traplab ingest` under results/<commit>/<timestamp>-<suite>/
and prints the summary table. DEVICE may also be a FIFO (a console
server, socat, QEMU's `-serial pipe:`), read without stty.

options:
  --timeout S   give up after S seconds without an end record (default: 1800)
  --host NAME   name of the measured machine for meta.json (default: this machine's name)
  --out DIR     write DIR/run.jsonl instead of a new folder under results/
  -h, --help    this text

exit status: 0 success; 1 the kernel reported a failed experiment; 2 bad
setup; 3 kernel crash (fault or panic record); 4 timeout. What arrived is
kept either way.
USAGE
}

device="" timeout=1800 host="" out=""
while [ $# -gt 0 ]; do
    case "$1" in
        --timeout) timeout=${2:?--timeout needs a value}; shift ;;
        --host) host=${2:?--host needs a value}; shift ;;
        --out) out=${2:?--out needs a value}; shift ;;
        -h|--help) usage; exit 0 ;;
        -*) echo "error: unknown option $1 (see --help)" >&2; exit 2 ;;
        *) [ -z "$device" ] || { echo "error: one DEVICE only (see --help)" >&2; exit 2; }
           device=$1 ;;
    esac
    shift
done
[ -n "$device" ] || { usage >&2; exit 2; }
[ -e "$device" ] || { echo "error: $device does not exist" >&2; exit 2; }

. scripts/lib/prereqs.sh
traplab_ensure_rust

# The kernel's line: 115200 baud, 8 data bits, no parity, one stop bit
# (runner-kernel/src/arch/x86_64/serial.rs). Raw: no echo, no line editing,
# no CR/LF translation; clocal: ignore the modem lines of a 3-wire cable.
# A FIFO or a plain file (a console server's log, socat's output, QEMU's
# `-serial pipe:`) has no line to set up and is read as it is.
if [ -c "$device" ]; then
    stty -F "$device" 115200 cs8 -parenb -cstopb raw -echo clocal -crtscts \
        || { echo "error: cannot set up $device with stty (permissions? try the dialout group)" >&2; exit 2; }
else
    echo "capture-serial: $device is not a terminal device; reading it as it is (no stty)" >&2
fi

cargo build --release --locked -q -p traplab-harness -p traplab-analyzer || exit 2
bin=${CARGO_TARGET_DIR:-target}/release

if [ -n "$out" ]; then
    mkdir -p "$out"
    capture="$out/run.jsonl"
else
    mkdir -p results
    capture=$(mktemp results/.capture-XXXXXX.jsonl)
fi

set +e
"$bin/traplab-serial" "$device" --capture "$capture" --timeout "$timeout"
status=$?
set -e
[ "$status" -eq 2 ] && exit 2

run="$capture"
if [ -z "$out" ]; then
    if run=$("$bin/traplab" ingest ${host:+--host "$host"} "$capture"); then
        rm -f "$capture"
    else
        echo "warning: could not store the run; the raw capture is kept at $capture" >&2
        run="$capture"
    fi
fi
echo >&2
"$bin/traplab" summary "$run" || true
echo "run stored in: $run" >&2
exit "$status"
