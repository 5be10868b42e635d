#!/usr/bin/env bash
# How well `traplab compare` detects a slowdown: a commit against itself
# raises no alarm, and a known slowdown (the dispatch-delay knob) is caught.
# (`traplab validate` is another job: a stream's integrity.)
#
# Plumbing only: a git worktree pins the commit (so edits made here while
# the runs cannot reach one side only); traplab-sensitivity
# (harness) builds the kernel and its delay variants, boots A/A and
# A/delay pairs in each mode, asks traplab compare, and writes the tables.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
    cat <<'USAGE'
usage: scripts/compare-sensitivity.sh [COMMIT] [options]

For COMMIT (default HEAD), in deterministic (icount) and real-time (tcg)
QEMU modes:
  1. A/A: the commit against itself: no experiment may be `regressed`;
  2. the commit against itself built with TRAPLAB_DISPATCH_DELAY_CYCLES=N
     (N cycles of spinning in every exception dispatch) for each N: trap
     experiments that raise a CPU exception should be `regressed` once N
     is large enough; call.null, the explicit-check traps and the compute
     workloads (no exception) must never be.
Prints a table per mode with the smallest N detected and writes it to
target/traplab/sensitivity/<commit>-<profiles>/sensitivity.md.

options:
  --profiles LIST     QEMU profiles, comma-separated          (default: icount,tcg)
  --delays LIST       delays N to try, cycles, comma-separated
                      (default: 16,32,64,128,256,1024,4096,16384,65536)
  --repeat N          boots per side in real-time modes        (default: 5)
  --boot-args "..."   kernel options of every boot (default: samples=100 warmup=10 heap_traps=0 compute_samples=3)
  -h, --help          this text

Takes about 40 minutes with the defaults on a 2-core machine (each delay
is a kernel build; real-time modes boot 10 times per delay).
exit status: 0 no false alarm and no control regressed; 1 otherwise; 2 bad setup.
USAGE
}

commit=HEAD args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --profiles|--delays|--repeat|--boot-args)
            [ $# -ge 2 ] || { echo "error: $1 needs a value" >&2; exit 2; }
            args+=("$1" "$2"); shift ;;
        -h|--help) usage; exit 0 ;;
        -*) echo "error: unknown option $1 (see --help)" >&2; exit 2 ;;
        *) commit=$1 ;;
    esac
    shift
done

. scripts/lib/prereqs.sh
traplab_ensure_rust
traplab_ensure_qemu

sha=$(git rev-parse --verify --quiet "$commit^{commit}") \
    || { echo "error: $commit is not a commit of this repository" >&2; exit 2; }
# Outside this checkout, as in compare-commits.sh (cargo would merge this
# checkout's .cargo/config.toml into the worktree's).
worktrees=${TRAPLAB_WORKTREES:-${XDG_CACHE_HOME:-$HOME/.cache}/traplab/worktrees/$(printf %s "$PWD" | cksum | cut -d' ' -f1)}
wt="$worktrees/${sha:0:12}"
if [ "$(git -C "$wt" rev-parse HEAD 2>/dev/null)" != "$sha" ]; then
    git worktree remove --force "$wt" >/dev/null 2>&1 || rm -rf "$wt"
    git worktree prune
    git worktree add --detach --quiet "$wt" "$sha" >&2 || { echo "error: git worktree add failed" >&2; exit 2; }
fi

CARGO_TARGET_DIR=$(realpath -m "${CARGO_TARGET_DIR:-target}")
export CARGO_TARGET_DIR
cargo build --release --locked -q -p traplab-harness -p traplab-analyzer || exit 2
profiles=icount,tcg
for ((i = 0; i < ${#args[@]}; i += 2)); do
    [ "${args[i]}" = --profiles ] && profiles=${args[i+1]}
done
out="$CARGO_TARGET_DIR/traplab/sensitivity/${sha:0:12}-${profiles//,/-}"
rm -rf "$out"
exec "$CARGO_TARGET_DIR/release/traplab-sensitivity" --source "$wt" --out "$out" "${args[@]}"
