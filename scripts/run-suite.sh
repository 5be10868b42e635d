#!/usr/bin/env bash
# Run the traplab suite: build, boot in QEMU, capture, store, summarise.
#
# The logic lives in Rust (traplab-run boots and captures, traplab stores and
# analyses); this script checks prerequisites and strings them together.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
    cat <<'USAGE'
usage: scripts/run-suite.sh [options]

Builds the kernel and the suite image, boots them in QEMU, captures the
record stream, stores it under results/<commit>/<timestamp>-<suite>/ and
prints the summary table.

options:
  --quick             CI-sized run: 100 samples, 10,000-trap heap check, 120 s bound
  --suite NAME        suite image: default | quick            (default: default)
  --samples N         timed samples per experiment            (default: 1000)
  --accel tcg|kvm     QEMU accelerator                        (default: tcg)
  --deterministic     QEMU -icount shift=0,sleep=off: one TSC tick per guest
                      instruction, byte-identical reruns (mode "icount")
  --out DIR           write DIR/run.jsonl instead of a new folder under results/
  --timeout S         kill QEMU after S seconds               (default: 600)
  --boot-args "..."   extra kernel options (e.g. "only=trap. configs=signals.bt_off")
  -h, --help          this text

exit status: 0 success; 1 the kernel reported a failed experiment; 2 bad
setup; 3 kernel crash; 4 timeout. Whatever arrived is kept either way.
USAGE
}

suite=default samples=1000 heap_traps=100000 accel=tcg deterministic=0 out="" timeout=600 boot_args=""
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) suite=quick samples=100 heap_traps=10000 timeout=120 ;;
        --suite) suite=${2:?--suite needs a value}; shift ;;
        --samples) samples=${2:?--samples needs a value}; shift ;;
        --accel) accel=${2:?--accel needs a value}; shift ;;
        --deterministic) deterministic=1 ;;
        --out) out=${2:?--out needs a value}; shift ;;
        --timeout) timeout=${2:?--timeout needs a value}; shift ;;
        --boot-args) boot_args=${2:?--boot-args needs a value}; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "error: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
case "$accel" in
    tcg) profile=$([ "$deterministic" = 1 ] && echo icount || echo tcg) ;;
    kvm) [ "$deterministic" = 1 ] && { echo "error: --deterministic needs TCG (-icount), not KVM" >&2; exit 2; }
         profile=kvm ;;
    *) echo "error: --accel must be tcg or kvm, not $accel" >&2; exit 2 ;;
esac

. scripts/lib/prereqs.sh
traplab_ensure_rust
traplab_ensure_qemu

echo "building host tools (first build takes several minutes)..." >&2
cargo build --release --locked -q -p traplab-harness -p traplab-analyzer || exit 2
bin=target/release

if [ -n "$out" ]; then
    mkdir -p "$out"
    capture="$out/run.jsonl"
else
    mkdir -p results
    capture=$(mktemp results/.capture-XXXXXX.jsonl)
fi

set +e
"$bin/traplab-run" --capture "$capture" --suite "$suite" --profile "$profile" \
    --samples "$samples" --heap-traps "$heap_traps" --timeout "$timeout" --boot-args "$boot_args"
status=$?
set -e
[ "$status" -eq 2 ] && exit 2

run="$capture"
if [ -z "$out" ]; then
    if run=$("$bin/traplab" ingest "$capture"); then
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
