#!/usr/bin/env bash
# Compare two commits: build both, boot both alternately, say what regressed.
#
# Plumbing only: git worktrees hold the two commits; traplab-ab (harness)
# builds each commit's kernel and suite with that commit's own code, boots
# them A, B, A, B… under this checkout's QEMU profiles and pools each
# side; traplab ingest stores every boot under results/; traplab compare
# gives the verdicts.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
    cat <<'USAGE'
usage: scripts/compare-commits.sh A B [options]

Builds commits A (base) and B (candidate) in git worktrees under
~/.cache/traplab/worktrees/ ($TRAPLAB_WORKTREES; all worktrees share
one cargo target directory, <target>/checkouts, so wasmtime is compiled
once for them), boots them alternately A, B, A, B… so that
drift of the host hits both, stores every boot under results/<commit>/,
and prints `traplab compare` of A → B (all boots of a side pooled): per
experiment the ratio of medians with its confidence interval and a
verdict (regressed, improved, unchanged, unsure). A regression counts
only when the pooled comparison and every pair of one A boot and one B
boot agree, i.e. every B boot is slower than every A boot: under
real-time TCG a whole boot can run 2x slower or faster than the next
(measured here), which the per-sample statistics alone would call a
change. With R boots per side a false alarm then needs odds of at most
1 in C(2R,R) per experiment (1 in 252 for the default R = 5; 1 in 20
for R = 3).

options (as scripts/run-suite.sh where the name is the same):
  --repeat N          boots per side, alternating A, B, A, B…  (default: 5; 1 with --deterministic)
  --quick             quick suite, 100 samples, no heap check, 120 s bound per boot
  --suite NAME        default | quick                          (default: default)
  --samples N         timed samples per experiment             (default: 1000)
  --accel tcg|kvm     QEMU accelerator                         (default: tcg)
  --deterministic     QEMU -icount: exact, byte-identical boots
  --timeout S         kill a boot after S seconds              (default: 600)
  --boot-args "..."   extra kernel options for both sides
  --threshold PCT     smallest change that counts, for traplab compare (default: 5)
  --out DIR           keep the captures and the pooled runs in DIR
                      (default: target/traplab/compare/<A>-<B>/)
  -h, --help          this text

Commits need workloads/src/bin/build-suite.rs and runner-kernel/ (every
commit since the harness exists does). Both sides boot with this
checkout's harness and qemu/ profiles, so only the builds differ.

exit status: 0 no confirmed regression; 1 a confirmed regression; 2 bad
setup or a build failed; 3 a kernel crashed; 4 a boot timed out.
USAGE
}

commits=() repeat="" suite=default samples=1000 heap_traps=100000 accel=tcg deterministic=0
timeout=600 boot_args="" threshold="" out=""
need() { [ $# -ge 2 ] || { echo "error: $1 needs a value (see --help)" >&2; exit 2; }; }
while [ $# -gt 0 ]; do
    case "$1" in
        --repeat) need "$@"; repeat=$2; shift ;;
        --quick) suite=quick samples=100 heap_traps=0 timeout=120 ;;
        --suite) need "$@"; suite=$2; shift ;;
        --samples) need "$@"; samples=$2; shift ;;
        --accel) need "$@"; accel=$2; shift ;;
        --deterministic) deterministic=1 ;;
        --timeout) need "$@"; timeout=$2; shift ;;
        --boot-args) need "$@"; boot_args=$2; shift ;;
        --threshold) need "$@"; threshold=$2; shift ;;
        --out) need "$@"; out=$2; shift ;;
        -h|--help) usage; exit 0 ;;
        -*) echo "error: unknown option $1 (see --help)" >&2; exit 2 ;;
        *) commits+=("$1") ;;
    esac
    shift
done
[ ${#commits[@]} -eq 2 ] || { usage >&2; exit 2; }
case "$accel" in
    tcg) profile=tcg; [ "$deterministic" = 1 ] && profile=icount ;;
    kvm) [ "$deterministic" = 1 ] && { echo "error: --deterministic needs TCG (-icount), not KVM" >&2; exit 2; }
         profile=kvm ;;
    *) echo "error: --accel must be tcg or kvm, not $accel" >&2; exit 2 ;;
esac
if [ -z "$repeat" ]; then
    repeat=5
    [ "$profile" = icount ] && repeat=1
fi

started=$SECONDS
. scripts/lib/prereqs.sh
traplab_ensure_rust
traplab_ensure_qemu

resolve() {
    git rev-parse --verify --quiet "$1^{commit}" \
        || { echo "error: $1 is not a commit of this repository" >&2; exit 2; }
}
sha_a=$(resolve "${commits[0]}") sha_b=$(resolve "${commits[1]}")

# One worktree per commit, reused by later comparisons (detached, so no
# branch is checked out twice). They live outside this checkout: cargo
# merges the .cargo/config.toml of every parent folder, and a worktree
# nested in here would get the kernel's rustflags twice, which changes
# the flags' hash and rebuilds wasmtime for nothing.
worktrees=${TRAPLAB_WORKTREES:-${XDG_CACHE_HOME:-$HOME/.cache}/traplab/worktrees/$(printf %s "$PWD" | cksum | cut -d' ' -f1)}
worktree() {
    local sha=$1 dir="$worktrees/${1:0:12}"
    if [ "$(git -C "$dir" rev-parse HEAD 2>/dev/null)" != "$sha" ]; then
        git worktree remove --force "$dir" >/dev/null 2>&1 || rm -rf "$dir"
        git worktree prune
        git worktree add --detach --quiet "$dir" "$sha" >&2 \
            || { echo "error: git worktree add $dir $sha failed" >&2; exit 2; }
    fi
    [ -f "$dir/workloads/src/bin/build-suite.rs" ] \
        || { echo "error: commit ${sha:0:12} predates build-suite; it cannot be built by this script" >&2; exit 2; }
    echo "$dir"
}
wt_a=$(worktree "$sha_a") wt_b=$(worktree "$sha_b")

# The host tools build in this checkout's target directory; the
# worktrees build in <target>/checkouts, one directory for all commits, so
# dependencies (wasmtime, Cranelift) are compiled once there. Not in this
# checkout's own: cargo would take one commit's crates for the other's
# (harness/src/build.rs, `cargo_in`, says why and how it is avoided).
# Absolute, because cargo runs in the worktrees too.
CARGO_TARGET_DIR=$(realpath -m "${CARGO_TARGET_DIR:-target}")
export CARGO_TARGET_DIR

echo "building host tools..." >&2
cargo build --release --locked -q -p traplab-harness -p traplab-analyzer || exit 2
bin=$CARGO_TARGET_DIR/release

out=${out:-$CARGO_TARGET_DIR/traplab/compare/${sha_a:0:12}-${sha_b:0:12}}
rm -f "$out"/[ab]-*.jsonl "$out"/[ab].jsonl
mkdir -p "$out"
echo "comparing ${sha_a:0:12} (A, base) -> ${sha_b:0:12} (B, candidate): $repeat boot(s) each, profile $profile, suite $suite" >&2

set +e
"$bin/traplab-ab" --a "source:$wt_a" --b "source:$wt_b" --out "$out" --repeat "$repeat" \
    --profile "$profile" --suite "$suite" --samples "$samples" --heap-traps "$heap_traps" \
    --timeout "$timeout" --boot-args "$boot_args" --compare ${threshold:+--threshold "$threshold"} \
    | tee "$out/compare.txt"
status=${PIPESTATUS[0]}
set -e

# Store every boot that produced records, whatever happened, for history.
if [ -f "$out/boots.txt" ]; then
    while read -r capture; do
        [ -s "$capture" ] || continue
        "$bin/traplab" ingest "$capture" >/dev/null 2>&1 \
            || echo "warning: could not store $capture" >&2
    done < "$out/boots.txt"
fi
echo "A = ${sha_a:0:12} ($(git log -1 --format=%s "$sha_a" | cut -c1-60))" >&2
echo "B = ${sha_b:0:12} ($(git log -1 --format=%s "$sha_b" | cut -c1-60))" >&2
echo "captures, pooled runs and the comparison: $out/ ($((SECONDS - started)) s)" >&2
exit "$status"
