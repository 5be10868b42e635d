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
  --threshold PCT     smallest change that counts, for traplab compare (default: 5; 0, any change, with --deterministic)
  --out DIR           keep the captures and the pooled runs in DIR
                      (default: target/traplab/compare/<A>-<B>/)
  --peers             also boot each commit's Linux peer (traplab-peer built
                      from that commit's worktree, as /init of the Linux
                      guest, with that commit's suite image) in the same
                      profile and options, alternating like the lab kernel
                      (per round: lab A, lab B, guest A, guest B), and print
                      a second comparison, "linux-guest A vs B", and a
                      summary line saying whether the change moved the lab
                      kernel, the Linux peer, both or neither. Each lab boot
                      is stored with its guest boot as one run with peers
                      (traplab ingest --peer linux-guest=…). A commit that
                      predates the peer (no peer-linux/) skips the Linux
                      side, saying so. The guest kernel is fetched once as
                      by run-suite.sh --peers (~/.cache/traplab/linux/).
                      Under --deterministic the guest is not byte-identical
                      (its timer interrupts reach ring 3): --repeat 3 or
                      more confirms its changes.
  -h, --help          this text

Commits need workloads/src/bin/build-suite.rs and runner-kernel/ (every
commit since the harness exists does). Both sides boot with this
checkout's harness and qemu/ profiles, so only the builds differ. A or B
that does not name a commit stops the script at once (exit 2, naming it),
before anything is built.

exit status: 0 no confirmed regression; 1 a confirmed regression (with
--peers: of the lab kernel or of the Linux guest); 2 bad setup (a bad
commit name, usage) or a build failed; 3 a kernel crashed; 4 a boot timed
out; 5 a boot was interrupted (Ctrl-C, kill). The highest code of any boot
(with --peers: of both platforms) wins.
USAGE
}

commits=() repeat="" suite=default samples=1000 heap_traps=100000 accel=tcg deterministic=0
timeout=600 boot_args="" threshold="" out="" peers=0
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
        --peers) peers=1 ;;
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

# The two commits first: a name that is not a commit stops everything
# here, before prerequisites, builds or worktrees, and each one is checked
# on its own line (an assignment of two command substitutions takes the
# status of the last one only, which let a bad A through).
resolve() {
    local ref=$1 sha
    [ -n "$ref" ] || { echo "error: an empty commit name (give two commits, see --help)" >&2; return 2; }
    sha=$(git rev-parse --verify --quiet "$ref^{commit}" 2>/dev/null) \
        || { echo "error: $ref is not a commit of this repository" >&2; return 2; }
    [[ $sha =~ ^[0-9a-f]{40}([0-9a-f]{24})?$ ]] \
        || { echo "error: $ref resolved to '$sha', not a commit id" >&2; return 2; }
    echo "$sha"
}
sha_a=$(resolve "${commits[0]}") || exit 2
sha_b=$(resolve "${commits[1]}") || exit 2

started=$SECONDS
. scripts/lib/prereqs.sh
traplab_ensure_rust
traplab_ensure_qemu

# One worktree per commit, reused by later comparisons (detached, so no
# branch is checked out twice). They live outside this checkout: cargo
# merges the .cargo/config.toml of every parent folder, and a worktree
# nested in here would get the kernel's rustflags twice, which changes
# the flags' hash and rebuilds wasmtime for nothing.
worktrees=${TRAPLAB_WORKTREES:-${XDG_CACHE_HOME:-$HOME/.cache}/traplab/worktrees/$(printf %s "$PWD" | cksum | cut -d' ' -f1)}
[ -n "$worktrees" ] || { echo "error: no folder for the worktrees (TRAPLAB_WORKTREES is empty)" >&2; exit 2; }
worktrees=$(realpath -m -- "$worktrees")

# Whether $1 is a linked worktree of this repository (the main checkout,
# always listed first, never counts): the only folders the script removes.
is_worktree() {
    local want line first=1
    want=$(realpath -m -- "$1")
    while IFS= read -r line; do
        case "$line" in
            "worktree "*)
                if [ "$first" = 1 ]; then first=0; continue; fi
                [ "$(realpath -m -- "${line#worktree }")" = "$want" ] && return 0 ;;
        esac
    done < <(git worktree list --porcelain)
    return 1
}

worktree() {
    local sha=$1 dir
    # A malformed id would make "$worktrees/${sha:0:12}" the cache root
    # itself, or a folder of someone else's.
    [[ $sha =~ ^[0-9a-f]{40}([0-9a-f]{24})?$ ]] \
        || { echo "error: refusing a worktree for the commit id '$sha' (empty or malformed)" >&2; return 2; }
    dir="$worktrees/${sha:0:12}"
    if ! { is_worktree "$dir" && [ "$(git -C "$dir" rev-parse HEAD 2>/dev/null)" = "$sha" ]; }; then
        if [ -e "$dir" ] || [ -L "$dir" ]; then
            if is_worktree "$dir"; then
                # This script's worktree, moved to another commit by hand:
                # made again.
                git worktree remove --force "$dir" >&2 \
                    || { echo "error: could not remove the stale worktree $dir (git worktree remove --force)" >&2; return 2; }
            else
                echo "error: $dir exists but is not a worktree of this repository; this script did not make it, so it is left alone (move it away, or set TRAPLAB_WORKTREES)" >&2
                return 2
            fi
        fi
        # A worktree whose folder was deleted is still registered.
        git worktree prune
        mkdir -p -- "$worktrees"
        git worktree add --detach --quiet "$dir" "$sha" >&2 \
            || { echo "error: git worktree add $dir $sha failed" >&2; return 2; }
    fi
    [ -f "$dir/workloads/src/bin/build-suite.rs" ] \
        || { echo "error: commit ${sha:0:12} predates build-suite; it cannot be built by this script" >&2; return 2; }
    echo "$dir"
}
wt_a=$(worktree "$sha_a") || exit 2
wt_b=$(worktree "$sha_b") || exit 2

# --peers: the guest kernel and the static C library of the peer's build,
# only when both commits have a peer (traplab-ab says so when one has not).
peer_args=()
if [ "$peers" = 1 ]; then
    peer_args=(--peers)
    if [ -f "$wt_a/peer-linux/Cargo.toml" ] && [ -f "$wt_b/peer-linux/Cargo.toml" ]; then
        traplab_ensure_linux_guest
        traplab_ensure_peer_build
    fi
fi

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
# An earlier comparison's captures in the same folder: only the files its
# boots.txt names there (written by traplab-ab) and the pooled runs beside
# them go, never anything else of the folder.
if [ -f "$out/boots.txt" ]; then
    while IFS=$'\t' read -r capture peer; do
        for file in "$capture" "${peer#*=}"; do
            case "$file" in
                "$out"/[ab]-[0-9]*.jsonl|"$out"/linux-guest/[ab]-[0-9]*.jsonl) rm -f -- "$file" ;;
            esac
        done
    done < "$out/boots.txt"
    rm -f -- "$out/boots.txt" "$out"/[ab].jsonl "$out"/linux-guest/[ab].jsonl
fi
mkdir -p "$out"
echo "comparing ${sha_a:0:12} (A, base) -> ${sha_b:0:12} (B, candidate): $repeat boot(s) each, profile $profile, suite $suite$([ "$peers" = 1 ] && echo ", with the Linux guest (--peers)")" >&2

set +e
"$bin/traplab-ab" --a "source:$wt_a" --b "source:$wt_b" --out "$out" --repeat "$repeat" \
    --profile "$profile" --suite "$suite" --samples "$samples" --heap-traps "$heap_traps" \
    --timeout "$timeout" --boot-args "$boot_args" --compare ${threshold:+--threshold "$threshold"} \
    "${peer_args[@]}" | tee "$out/compare.txt"
status=${PIPESTATUS[0]}
set -e

# Store every boot that produced records, whatever happened, for history;
# with --peers each lab boot together with its guest boot (one run with
# peers), or apart when they cannot be stored together.
store() {
    "$bin/traplab" ingest "$@" >/dev/null 2>&1
}
if [ -f "$out/boots.txt" ]; then
    while IFS=$'\t' read -r capture peer; do
        guest=${peer#linux-guest=}
        if [ -n "$peer" ] && [ -s "$capture" ] && [ -s "$guest" ]; then
            store "$capture" --peer "linux-guest=$guest" && continue
            echo "warning: could not store $capture with its Linux guest run $guest; storing them apart" >&2
        fi
        for file in "$capture" ${peer:+"$guest"}; do
            [ -s "$file" ] || continue
            store "$file" || echo "warning: could not store $file" >&2
        done
    done < "$out/boots.txt"
fi
echo "A = ${sha_a:0:12} ($(git log -1 --format=%s "$sha_a" | cut -c1-60))" >&2
echo "B = ${sha_b:0:12} ($(git log -1 --format=%s "$sha_b" | cut -c1-60))" >&2
echo "captures, pooled runs and the comparison: $out/ ($((SECONDS - started)) s)" >&2
exit "$status"
