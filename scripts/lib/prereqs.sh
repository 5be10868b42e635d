# Prerequisite checks shared by the entry scripts (sourced, not run).
#
# What a fresh Debian/Ubuntu machine lacks for traplab: QEMU (and, for ISOs,
# the GRUB tools: traplab_ensure_grub) from the distribution, and the Rust targets pinned in
# rust-toolchain.toml. As root these are installed; otherwise the exact
# command is printed and the script stops with exit status 2 (bad setup).

traplab_die_setup() {
    echo "error: $*" >&2
    exit 2
}

# traplab_ensure_packages WHAT:PACKAGE...  e.g. qemu-system-x86_64:qemu-system-x86
# WHAT is a command looked up in PATH, or an absolute path that must exist
# (for packages that install no command, such as GRUB's BIOS modules).
traplab_ensure_packages() {
    local missing=() pair what
    for pair in "$@"; do
        what=${pair%%:*}
        case "$what" in
            /*) [ -e "$what" ] || missing+=("${pair#*:}") ;;
            *) command -v "$what" >/dev/null 2>&1 || missing+=("${pair#*:}") ;;
        esac
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if ! command -v apt-get >/dev/null 2>&1; then
        traplab_die_setup "missing ${missing[*]} and no apt-get here; install the equivalent packages with your package manager"
    fi
    if [ "$(id -u)" -ne 0 ]; then
        traplab_die_setup "missing ${missing[*]}; install with: sudo apt-get update && sudo apt-get install -y ${missing[*]}"
    fi
    echo "installing ${missing[*]} (apt-get)..." >&2
    # apt-get update once per machine: its lists are kept across runs.
    if [ ! -e /var/lib/apt/periodic/traplab-updated ]; then
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || traplab_die_setup "apt-get update failed"
        mkdir -p /var/lib/apt/periodic && touch /var/lib/apt/periodic/traplab-updated
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2 \
        || traplab_die_setup "apt-get install ${missing[*]} failed"
}

traplab_ensure_rust() {
    command -v cargo >/dev/null 2>&1 || traplab_die_setup "cargo not found; install Rust with rustup (https://rustup.rs)"
    if command -v rustup >/dev/null 2>&1; then
        local installed
        installed=$(rustup target list --installed 2>/dev/null || true)
        for target in x86_64-unknown-none wasm32-unknown-unknown wasm32-wasip1; do
            if ! grep -qx "$target" <<<"$installed"; then
                rustup target add "$target" >&2 || traplab_die_setup "rustup target add $target failed"
            fi
        done
    fi
}

traplab_ensure_qemu() {
    traplab_ensure_packages qemu-system-x86_64:qemu-system-x86
}

# The instruction profiler (traplab-profile, run-suite.sh --profile) steps
# QEMU's gdb stub with Debian's gdb (and its embedded Python).
traplab_ensure_gdb() {
    traplab_ensure_packages gdb:gdb
}

# GRUB images (scripts/build-iso.sh, the iso and iso-uefi profiles):
# grub-mkrescue from grub-common, GRUB's BIOS modules from grub-pc-bin and
# its UEFI modules from grub-efi-amd64-bin (the image is hybrid: without
# either it does not boot on that kind of PC), and the ISO 9660 and FAT
# tools grub-mkrescue runs.
traplab_ensure_grub() {
    traplab_ensure_packages grub-mkrescue:grub-common /usr/lib/grub/i386-pc:grub-pc-bin \
        /usr/lib/grub/x86_64-efi:grub-efi-amd64-bin xorriso:xorriso mformat:mtools
}

# The UEFI firmware for QEMU (the iso-uefi profile): Debian's OVMF build.
traplab_ensure_ovmf() {
    traplab_ensure_packages /usr/share/OVMF/OVMF_CODE_4M.fd:ovmf
}

# The Linux guest of the peer runs (`traplab-run --platform linux-guest`,
# `run-suite.sh --peers`): Debian's cloud kernel (linux-image-cloud-amd64,
# the 6.1 series of bookworm), fetched with `apt-get download` and unpacked
# with `dpkg -x` into $XDG_CACHE_HOME/traplab/linux/<release>/ (default
# ~/.cache/...), never installed: /boot and the package database are left
# alone, so this needs no root unless apt's package lists are empty. Only boot/vmlinuz-<release> is kept (the guest loads no modules),
# with the Debian package name and version ("linux-image-6.1.0-57-cloud-amd64
# 6.1.192-3") in a file `package` beside boot/.
# Exports TRAPLAB_LINUX_KERNEL=<that vmlinuz>. An exported
# TRAPLAB_LINUX_KERNEL naming an existing file is used as it is.
traplab_linux_cache() {
    echo "${XDG_CACHE_HOME:-$HOME/.cache}/traplab/linux"
}

traplab_ensure_linux_guest() {
    if [ -n "${TRAPLAB_LINUX_KERNEL:-}" ]; then
        [ -f "$TRAPLAB_LINUX_KERNEL" ] \
            || traplab_die_setup "TRAPLAB_LINUX_KERNEL=$TRAPLAB_LINUX_KERNEL does not exist"
        export TRAPLAB_LINUX_KERNEL
        return 0
    fi
    local cache found
    cache=$(traplab_linux_cache)
    # Already fetched: the newest release in the cache.
    found=$(ls -1 "$cache"/*/boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -n "$found" ]; then
        export TRAPLAB_LINUX_KERNEL=$found
        return 0
    fi
    command -v apt-get >/dev/null 2>&1 && command -v dpkg >/dev/null 2>&1 \
        || traplab_die_setup "no Linux guest kernel in $cache and no apt-get/dpkg here; set TRAPLAB_LINUX_KERNEL to an x86-64 bzImage with the 8250 console, initramfs and ELF support built in"
    # Downloading and unpacking a package needs no root (nothing is
    # installed); only refreshing empty package lists does.
    local package
    package=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null \
        | sed -n 's/^ *Depends: \(linux-image-[0-9].*-cloud-amd64\)$/\1/p' | head -n 1)
    if [ -z "$package" ]; then
        [ "$(id -u)" -eq 0 ] \
            || traplab_die_setup "apt knows no linux-image-cloud-amd64 yet; run: sudo apt-get update (then this again)"
        # Empty package lists (a fresh container): update them once.
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || traplab_die_setup "apt-get update failed"
        package=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null \
            | sed -n 's/^ *Depends: \(linux-image-[0-9].*-cloud-amd64\)$/\1/p' | head -n 1)
    fi
    [ -n "$package" ] \
        || traplab_die_setup "apt-cache knows no linux-image-cloud-amd64 (is this Debian? add bookworm's main to the sources)"
    local release=${package#linux-image-}
    local work
    work=$(mktemp -d) || traplab_die_setup "mktemp failed"
    echo "fetching the Linux guest kernel $package (apt-get download)..." >&2
    # (apt warns that it downloads unsandboxed: its _apt user cannot write
    # into a root-owned temporary folder. Harmless.)
    if ! (cd "$work" && apt-get download -q "$package") >&2; then
        rm -rf "$work"
        traplab_die_setup "apt-get download $package failed"
    fi
    local deb
    deb=$(ls -1 "$work"/*.deb 2>/dev/null | head -n 1)
    if [ -z "$deb" ] || ! dpkg -x "$deb" "$work/root"; then
        rm -rf "$work"
        traplab_die_setup "unpacking $package failed"
    fi
    if [ ! -f "$work/root/boot/vmlinuz-$release" ]; then
        rm -rf "$work"
        traplab_die_setup "$package holds no boot/vmlinuz-$release"
    fi
    mkdir -p "$cache/$release/boot" || traplab_die_setup "cannot create $cache/$release"
    cp "$work/root/boot/vmlinuz-$release" "$cache/$release/boot/" \
        && echo "$package $(dpkg-deb -f "$deb" Version)" >"$cache/$release/package"
    local ok=$?
    rm -rf "$work"
    [ "$ok" -eq 0 ] || traplab_die_setup "copying the kernel into $cache/$release failed"
    export TRAPLAB_LINUX_KERNEL=$cache/$release/boot/vmlinuz-$release
    echo "Linux guest kernel: $TRAPLAB_LINUX_KERNEL" >&2
}

# The Linux peer is a static glibc executable (-C target-feature=+crt-static):
# linking it needs glibc's static archives.
traplab_ensure_peer_build() {
    traplab_ensure_packages /usr/lib/x86_64-linux-gnu/libc.a:libc6-dev
}
