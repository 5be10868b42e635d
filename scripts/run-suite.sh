#!/usr/bin/env bash
# Run the traplab suite: build, boot in QEMU, capture, store, summarise,
# draw the figures and write the report.
#
# The logic lives in Rust (traplab-run boots and captures, traplab stores and
# analyses); this script checks prerequisites and strings them together.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
    cat <<'USAGE'
usage: scripts/run-suite.sh [options]

Builds the kernel and the suite image, boots them in QEMU, captures the
record stream, stores it under results/<commit>/<timestamp>-<suite>/,
prints the summary table and writes the report with its figures into the
run's folder (report/report.md, report/figures/, report/tables/).

options:
  --quick             CI-sized run: quick suite, 100 samples, 10,000-trap heap check, 120 s bound
  --suite NAME        suite image: default | quick            (default: default)
  --samples N         timed samples per experiment, N >= 1    (default: 1000)
  --accel tcg|kvm     QEMU accelerator                        (default: tcg)
  --deterministic     QEMU -icount shift=0,sleep=off: one TSC tick per guest
                      instruction, byte-identical reruns (mode "icount")
  --iso               boot through a GRUB image (multiboot2), as on bare metal
                      (scripts/build-iso.sh), under TCG, from SeaBIOS
  --uefi              --iso from UEFI firmware (OVMF) instead: the same hybrid
                      image, header boot "multiboot2-uefi"
  --out DIR           write DIR/run.jsonl (and DIR/report/) instead of a new
                      folder under results/; DIR must not hold a run already
                      (refused, nothing replaced)
  --timeout S         kill QEMU after S seconds, S >= 1       (default: 600)
  --budget S          at most S seconds per experiment and configuration (at
                      least one timed sample each; warm-up cut first): for
                      slow benchmarks (sightglass under TCG). --samples also
                      bounds compute and sightglass workloads (at most 30
                      samples, at most 3 warm-up calls, never more warm-up
                      than samples)
  --boot-args "..."   extra kernel options (e.g. "only=trap. configs=signals.bt_off")
  --no-report         skip the report and figures
  --cpu-profile NAME  the ISA extensions compiled code may use: qemu-max (TCG's
                      -cpu max: x86-64-v3), x86-64-v2, x86-64-v3, sse4.1-only,
                      host (this machine)  (default: host with --accel kvm,
                      else qemu-max); a module that would need a wasmtime
                      libcall the kernel lacks is refused before the boot
  --sightglass DIR    add DIR's sightglass benchmarks to the suite (repeatable):
                      sightglass's layout (DIR/<name>/benchmark.wasm beside its
                      input and *.expected files) or flat *.wasm/*.wat files
  --wast FILE|DIR...  conformance mode: run the .wast scripts in the
                      kernel instead of the suite (repeatable; a folder
                      means the *.wast files in it, sorted); prints a
                      pass/fail table ending "N passed, M failed, K unsupported"
  --peers             also run the same suite image, options and samples on the
                      Linux peers (traplab-peer: upstream wasmtime, Linux
                      signals): right after the lab kernel, as /init of a
                      Linux guest (Debian's cloud kernel, fetched into
                      ~/.cache/traplab/linux/ on first use) in the same QEMU
                      profile and mode, then directly on this machine (mode
                      "host"); stores ONE run holding the three streams
                      (peers/ in its folder; with --out: DIR/peers/*.jsonl)
                      and prints `traplab peers RUN` after the summary
  --no-host-peer      with --peers: skip the run on this machine
  --campaign SPEC     fault-injection mode: build the suite with the campaign
                      spec SPEC (a TOML file; "default" or "smoke" name the
                      shipped specs in injectors/campaigns/), boot with
                      only=campaign. so the kernel runs the campaign alone,
                      store the run, print `traplab campaign RUN`
                      (default timeout 1800 s)
  --profile SPEC      after the run, profile one call of each experiment SPEC
                      selects (EXPERIMENT[:CONFIG], a name or prefix; repeatable;
                      "traps" = one trap of each vector class, #PF #UD #DE,
                      under signals.bt_off and signals.bt_on): every
                      instruction stepped under icount through QEMU's gdb stub
                      (needs gdb: apt-get install -y gdb), into the run's
                      folder (profile/), shown by `traplab profile RUN` and in
                      the report with flame graphs (about 5-10 s per call)
  -h, --help          this text

Re-running does not redo work: cargo, the kernel's symbol table and the
suite image are rebuilt only when their inputs changed.

exit status (one scheme for every traplab tool; README.md, "Exit status"):
  0 success; 1 an experiment failed; 2 bad setup (bad options, a build that
  fails or warns, a suite image that does not verify, or setup problems the
  kernel reported); 3 kernel crash; 4 timeout; 5 interrupted (Ctrl-C,
  SIGTERM, or QEMU killed from outside).
Whatever arrived is kept and stored, a partial run said to be partial.
With --peers: the worst (highest) of the platforms' statuses, each
platform's ending printed as it finishes.
USAGE
}

sightglass=() wast=() profile_specs=()
suite=default samples=1000 heap_traps=100000 accel=tcg deterministic=0 iso=0 uefi=0 out="" timeout=600 boot_args="" report=1
campaign="" timeout_given=0 peers=0 host_peer=1 cpu_profile="" budget_s="" budget=()
need() { [ $# -ge 2 ] || { echo "error: $1 needs a value (see --help)" >&2; exit 2; }; }
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) suite=quick samples=100 heap_traps=10000 timeout=120 ;;
        --suite) need "$@"; suite=$2; shift ;;
        --samples) need "$@"; samples=$2; shift ;;
        --accel) need "$@"; accel=$2; shift ;;
        --deterministic) deterministic=1 ;;
        --iso) iso=1 ;;
        --uefi) iso=1 uefi=1 ;;
        --out) need "$@"; out=$2; shift ;;
        --timeout) need "$@"; timeout=$2 timeout_given=1; shift ;;
        --boot-args) need "$@"; boot_args=$2; shift ;;
        --no-report) report=0 ;;
        --cpu-profile) need "$@"; cpu_profile=$2; shift ;;
        --budget) need "$@"; budget_s=$2; shift ;;
        --sightglass) need "$@"; sightglass+=(--sightglass "$2"); shift ;;
        --wast) need "$@"; wast+=("$2"); shift
            # --wast FILE|DIR...: the paths up to the next option
            # (traplab-wast expands folders).
            while [ $# -gt 1 ] && [ "${2#-}" = "$2" ]; do wast+=("$2"); shift; done ;;
        --campaign) need "$@"; campaign=$2; shift ;;
        --profile) need "$@"
            if [ "$2" = traps ]; then
                for trap in trap.oob_load trap.unreachable trap.div_s_zero; do
                    profile_specs+=("$trap:signals.bt_off" "$trap:signals.bt_on")
                done
            else
                profile_specs+=("$2")
            fi
            shift ;;
        --peers) peers=1 ;;
        --no-host-peer) host_peer=0 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "error: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
case "$suite" in
    default|quick) ;;
    *) echo "error: --suite must be default or quick, not $suite" >&2; exit 2 ;;
esac
# Counts are positive integers: 0 samples measures nothing, and a 0 s
# bound would kill QEMU before it boots.
positive() {
    [[ $2 =~ ^[0-9]+$ ]] && [ "$((10#$2))" -ge 1 ] \
        || { echo "error: $1 must be a whole number of at least 1, not '$2'" >&2; exit 2; }
}
case "$cpu_profile" in
    "") [ "$accel" = kvm ] && cpu_profile=host || cpu_profile=qemu-max ;;
    qemu-max|x86-64-v2|x86-64-v3|sse4.1-only|host) ;;
    *) echo "error: --cpu-profile must be qemu-max, x86-64-v2, x86-64-v3, sse4.1-only or host, not $cpu_profile" >&2; exit 2 ;;
esac
positive --samples "$samples"
positive --timeout "$timeout"
if [ -n "$budget_s" ]; then
    positive --budget "$budget_s"
    budget=(--budget "$budget_s")
fi
# --out: a folder to create or an empty one, never a file, never a folder
# that already holds a run (its run.jsonl would be replaced without a word).
if [ -n "$out" ]; then
    if [ -e "$out" ] && [ ! -d "$out" ]; then
        echo "error: --out $out is a file, not a folder" >&2; exit 2
    fi
    held=()
    for file in "$out/run.jsonl" "$out"/peers/*.jsonl; do
        [ -s "$file" ] && held+=("$file")
    done
    if [ ${#held[@]} -gt 0 ]; then
        echo "error: --out $out already holds a run (${held[*]}); choose another folder or remove it first" >&2
        exit 2
    fi
fi
if [ -n "$campaign" ]; then
    [ ${#wast[@]} -gt 0 ] && { echo "error: --campaign and --wast are different modes; choose one" >&2; exit 2; }
    # A campaign of 10,000 injections runs for minutes under TCG.
    [ "$timeout_given" = 1 ] || timeout=1800
    # The heap-stability check is not selected by only=; it is not part
    # of a campaign.
    heap_traps=0
fi
if [ "$peers" = 1 ]; then
    [ -n "$campaign" ] && { echo "error: --peers runs the suite; fault-injection campaigns are the lab kernel's alone" >&2; exit 2; }
    [ ${#wast[@]} -gt 0 ] && { echo "error: --peers runs the suite; --wast is the lab kernel's conformance mode" >&2; exit 2; }
    [ "$iso" = 1 ] && { echo "error: --peers boots the Linux guest with -kernel; --iso (GRUB) has no Linux counterpart" >&2; exit 2; }
elif [ "$host_peer" = 0 ]; then
    echo "error: --no-host-peer only makes sense with --peers" >&2; exit 2
fi
case "$accel" in
    tcg) profile=tcg
         [ "$deterministic" = 1 ] && profile=icount
         if [ "$iso" = 1 ]; then
             [ "$deterministic" = 1 ] && { echo "error: --iso boots under real-time TCG; it does not combine with --deterministic" >&2; exit 2; }
             profile=iso
             [ "$uefi" = 1 ] && profile=iso-uefi
         fi ;;
    kvm) [ "$deterministic" = 1 ] && { echo "error: --deterministic needs TCG (-icount), not KVM" >&2; exit 2; }
         [ "$iso" = 1 ] && { echo "error: --iso boots under TCG; it does not combine with --accel kvm" >&2; exit 2; }
         profile=kvm ;;
    *) echo "error: --accel must be tcg or kvm, not $accel" >&2; exit 2 ;;
esac

started=$SECONDS
# Ctrl-C, SIGTERM, SIGHUP: a running traplab-run is told (it stops QEMU and
# keeps the capture), what arrived is stored, and the script exits 5.
interrupted=0 child_pid="" waited_signal=0
on_signal() {
    interrupted=1 waited_signal=1
    [ -z "$child_pid" ] || kill -TERM "$child_pid" 2>/dev/null || true
}
trap on_signal INT TERM HUP
# A step before the run failed: bad setup (2), or interrupted (5).
setup_failed() {
    [ "$interrupted" = 1 ] && { echo "interrupted before the run; nothing captured" >&2; exit 5; }
    exit 2
}
# Run a command in the background and wait for it, so that a signal to this
# script reaches it (on_signal) while the script waits; returns its status.
run_child() {
    "$@" &
    child_pid=$!
    local got
    while :; do
        waited_signal=0
        wait "$child_pid" && got=0 || got=$?
        # wait returns early (> 128) when a trapped signal arrives: wait
        # again for the child's own status.
        [ "$waited_signal" = 1 ] && [ "$got" -gt 128 ] && continue
        break
    done
    child_pid=""
    return "$got"
}
. scripts/lib/prereqs.sh
traplab_ensure_rust
traplab_ensure_qemu
case "$profile" in iso|iso-uefi) traplab_ensure_grub ;; esac
[ "$profile" = iso-uefi ] && traplab_ensure_ovmf
[ ${#profile_specs[@]} -gt 0 ] && traplab_ensure_gdb
# The Linux guest's kernel (exports TRAPLAB_LINUX_KERNEL for traplab-run).
if [ "$peers" = 1 ]; then
    traplab_ensure_linux_guest
    traplab_ensure_peer_build
fi

echo "building host tools (first build takes several minutes)..." >&2
cargo build --release --locked -q -p traplab-harness -p traplab-analyzer || setup_failed
bin=${CARGO_TARGET_DIR:-target}/release
peer_bin=()
if [ "$peers" = 1 ]; then
    # Built here, before the lab kernel boots, and handed to both peer runs
    # (--peer), so the lab and guest runs follow each other without
    # compiling between them and both peers run the same binary. Built by
    # the harness (build::peer: static, and warnings fail it, as they fail
    # the kernel's build).
    echo "building the Linux peer (static; its first build compiles wasmtime once more)..." >&2
    peer_path=$("$bin/traplab-run" --platform linux-host --build-only) || setup_failed
    peer_bin=(--peer "${peer_path#peer=}")
fi

if [ ${#wast[@]} -gt 0 ]; then
    cargo build --release --locked -q -p traplab-conformance || setup_failed
    trap - INT TERM HUP
    exec "$bin/traplab-wast" --profile "$profile" --timeout "$timeout" "${wast[@]}"
fi
suite_args=()
if [ -n "$campaign" ]; then
    # build-suite resolves the spec against the suite (errors name the spec
    # file and the problem); the kernel finds the campaign in the manifest.
    cargo build --release --locked -q -p traplab-workloads --bin build-suite || setup_failed
    name=$(basename "$campaign" .toml)
    # Not the name traplab-run --campaign caches its own build under.
    image=${CARGO_TARGET_DIR:-target}/traplab/run-suite-$suite-campaign-$name.img
    mkdir -p "$(dirname "$image")"
    "$bin/build-suite" --suite "$suite" --cpu-profile "$cpu_profile" --out "$image" --campaign "$campaign" "${sightglass[@]}" >&2 || setup_failed
    suite_args=(--suite-image "$image")
    boot_args="only=campaign. $boot_args"
elif [ ${#sightglass[@]} -gt 0 ]; then
    cargo build --release --locked -q -p traplab-workloads --bin build-suite || setup_failed
    image=${CARGO_TARGET_DIR:-target}/traplab/suite-$suite-sightglass.img
    "$bin/build-suite" --suite "$suite" --cpu-profile "$cpu_profile" --out "$image" "${sightglass[@]}" >&2 || setup_failed
    suite_args=(--suite-image "$image")
fi
# Every platform runs the same code: one profile for the lab kernel and
# both peers (the host peer would otherwise get its own default).
[ ${#suite_args[@]} -eq 0 ] && suite_args=(--cpu-profile "$cpu_profile")

# The Linux peers (--peers) run after the lab kernel, one after the other
# (two runs at once would measure each other), with the same options.
peer_platforms=()
if [ "$peers" = 1 ]; then
    peer_platforms=(linux-guest)
    [ "$host_peer" = 1 ] && peer_platforms+=(linux-host)
fi
declare -A peer_capture=()
if [ -n "$out" ]; then
    mkdir -p "$out"
    capture="$out/run.jsonl"
    # The layout of a stored run folder, so `traplab peers DIR` reads it.
    [ "$peers" = 1 ] && mkdir -p "$out/peers"
    for platform in "${peer_platforms[@]}"; do
        peer_capture[$platform]="$out/peers/$platform.jsonl"
    done
else
    mkdir -p results
    capture=$(mktemp results/.capture-XXXXXX.jsonl)
    for platform in "${peer_platforms[@]}"; do
        peer_capture[$platform]=$(mktemp "results/.capture-$platform-XXXXXX.jsonl")
    done
fi
remove_empty_captures() {
    [ -z "$out" ] || return 0
    local file
    for file in "$capture" "${peer_capture[@]}"; do
        [ -s "$file" ] || rm -f "$file"
    done
}

status=0
run_child "$bin/traplab-run" --capture "$capture" --suite "$suite" --profile "$profile" "${budget[@]}" \
    --samples "$samples" --heap-traps "$heap_traps" --timeout "$timeout" --boot-args "$boot_args" \
    "${suite_args[@]}" || status=$?
if [ ! -s "$capture" ]; then
    # Nothing arrived (bad setup before the boot, an interruption before
    # it, QEMU that did not start): there is no run to store or show.
    remove_empty_captures
    [ -n "$out" ] && rm -f "$capture"
    [ "$interrupted" = 1 ] && [ "$status" -lt 5 ] && status=5
    echo "nothing was captured (exit status $status): the empty capture $capture is removed; no run stored" >&2
    exit "$status"
fi
# The kernel refused its setup (2), or the run was interrupted (5): the
# capture is stored, but the peers do not run.
if [ "$status" -eq 2 ] || [ "$status" -eq 5 ] || [ "$interrupted" = 1 ]; then
    peer_platforms=()
fi

# Each peer: its own status; the script's is the worst of them all. A
# peer that could not start (status 2: no guest kernel, the peer did not
# build) has no stream to store, but the lab kernel's run is stored anyway.
declare -A peer_status=()
stored_peers=()
for platform in "${peer_platforms[@]}"; do
    echo "running the suite on the Linux peer, platform $platform..." >&2
    platform_args=(--platform "$platform")
    [ "$platform" = linux-guest ] && platform_args+=(--profile "$profile")
    peer_status[$platform]=0
    run_child "$bin/traplab-run" --capture "${peer_capture[$platform]}" --suite "$suite" "${platform_args[@]}" "${peer_bin[@]}" "${budget[@]}" \
        --samples "$samples" --heap-traps "$heap_traps" --timeout "$timeout" --boot-args "$boot_args" \
        "${suite_args[@]}" || peer_status[$platform]=$?
    [ "${peer_status[$platform]}" -gt "$status" ] && status=${peer_status[$platform]}
    if [ -s "${peer_capture[$platform]}" ]; then
        stored_peers+=(--peer "$platform=${peer_capture[$platform]}")
    else
        echo "warning: the $platform peer left no stream (status ${peer_status[$platform]})" >&2
    fi
    [ "$interrupted" = 1 ] && break
done
# A partial run is stored like any other (meta.json says incomplete), and
# said to be partial here.
case "$status" in
    4) partial="timed out" ;;
    5) partial="interrupted" ;;
    *) partial="" ;;
esac
if [ "$interrupted" = 1 ] && [ "$status" -lt 5 ]; then
    status=5 partial=${partial:-interrupted}
fi

run="$capture" folder="$out"
if [ -z "$out" ]; then
    if run=$("$bin/traplab" ingest "$capture" "${stored_peers[@]}"); then
        rm -f "$capture" "${peer_capture[@]}"
        folder="$run"
    else
        remove_empty_captures
        kept=()
        for file in "$capture" "${peer_capture[@]}"; do
            [ -s "$file" ] && kept+=("$file")
        done
        echo "warning: could not store the run; the raw captures are kept: ${kept[*]}" >&2
        run="$capture" folder=""
    fi
fi
[ -n "$partial" ] && echo "note: the run is partial ($partial): what arrived before it stopped" >&2
echo >&2
has_command() { "$bin/traplab" help "$1" >/dev/null 2>&1; }
if [ -n "$campaign" ]; then
    # The campaign's outcome tables and verdict (printed whether or not the
    # campaign passed; this script's exit status already says how the run
    # ended). An older analyzer without `campaign`: the plain summary.
    if has_command campaign; then
        "$bin/traplab" campaign "$run" || echo "note: the campaign's verdict is not a pass (see above)" >&2
    else
        echo "note: this analyzer has no 'campaign' command; the summary instead" >&2
        "$bin/traplab" summary "$run" || true
        report=0
    fi
else
    "$bin/traplab" summary "$run" || true
fi
if [ "$peers" = 1 ] && [ ${#peer_platforms[@]} -eq 0 ]; then
    echo "note: the Linux peers did not run (the lab kernel's run ended with status $status)" >&2
elif [ "$peers" = 1 ]; then
    for platform in "${peer_platforms[@]}"; do
        echo "peer $platform: exit status ${peer_status[$platform]}" >&2
    done
    echo >&2
    peers_run="$run"
    [ -n "$out" ] && peers_run="$out"
    if [ -z "$folder" ]; then
        echo "note: the run is not stored, so there is no peers view (captures: $capture ${peer_capture[*]})" >&2
    elif has_command peers; then
        "$bin/traplab" peers "$peers_run" || echo "warning: traplab peers failed (see above)" >&2
    else
        echo "note: this analyzer has no 'peers' command; compare the platforms by hand, e.g. traplab summary $peers_run@linux-guest" >&2
    fi
fi

# Instruction profiles (--profile): boots of their own under icount (one
# without the stepper, one stepped per profiled call), same kernel and
# suite, into the run's folder, where the report finds them.
if [ ${#profile_specs[@]} -gt 0 ]; then
    if [ -z "$folder" ] || [ "$interrupted" = 1 ]; then
        echo "note: no profiles: the run is not stored" >&2
    else
        [ -z "$out" ] || folder=$out
        image_args=()
        [ ${#suite_args[@]} -gt 0 ] && [ "${suite_args[0]}" = --suite-image ] && image_args=("${suite_args[@]}")
        for spec in "${profile_specs[@]}"; do
            pstatus=0
            run_child "$bin/traplab-profile" "$spec" --out "$folder" --suite "$suite" "${image_args[@]}" || pstatus=$?
            [ "$pstatus" -gt "$status" ] && status=$pstatus
            [ "$interrupted" = 1 ] && break
        done
        [ -d "$folder/profile" ] && { "$bin/traplab" profile "$folder" --top 15 || true; }
    fi
fi

# The report (tables, every figure, LaTeX snippets) goes into the run's
# folder. Older analyzers lack `report` or `plot`: say so and go on.
if [ "$report" = 1 ] && [ -n "$folder" ]; then
    if has_command report; then
        if "$bin/traplab" report "$run" --out "$folder/report" >/dev/null; then
            echo "report: $folder/report/report.md (figures in $folder/report/figures/)" >&2
        else
            echo "warning: traplab report failed; the run itself is stored" >&2
        fi
    elif has_command plot; then
        "$bin/traplab" plot "$run" --out "$folder/figures" >/dev/null \
            && echo "figures: $folder/figures/" >&2 \
            || echo "warning: traplab plot failed; the run itself is stored" >&2
    else
        echo "note: this analyzer has neither 'report' nor 'plot'; no figures written" >&2
    fi
fi
if [ -n "$folder" ]; then
    echo "run stored in: $run${partial:+ (partial: $partial)}" >&2
else
    echo "run NOT stored; raw capture: $run${partial:+ (partial: $partial)}" >&2
fi
if [ -n "$campaign" ]; then
    echo "finished in $((SECONDS - started)) s (profile $profile, suite $suite, campaign $campaign)" >&2
elif [ "$peers" = 1 ]; then
    echo "finished in $((SECONDS - started)) s (profile $profile, suite $suite, $samples samples; lab-kernel ${peer_platforms[*]})" >&2
else
    echo "finished in $((SECONDS - started)) s (profile $profile, suite $suite, $samples samples)" >&2
fi
# Interrupted while the run was being stored or shown.
[ "$interrupted" = 1 ] && [ "$status" -lt 5 ] && status=5
exit "$status"
