# Prerequisite checks shared by the entry scripts (sourced, not run).
#
# What a fresh Debian/Ubuntu machine lacks for traplab: QEMU (and, for ISOs,
# the GRUB tools: traplab_ensure_grub) from the distribution, and the two Rust targets pinned in
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
        for target in x86_64-unknown-none wasm32-unknown-unknown; do
            if ! grep -qx "$target" <<<"$installed"; then
                rustup target add "$target" >&2 || traplab_die_setup "rustup target add $target failed"
            fi
        done
    fi
}

traplab_ensure_qemu() {
    traplab_ensure_packages qemu-system-x86_64:qemu-system-x86
}

# GRUB images (scripts/build-iso.sh, the iso profile): grub-mkrescue from
# grub-common, GRUB's BIOS modules from grub-pc-bin (without them the image
# does not boot on a PC), and the ISO 9660 and FAT tools grub-mkrescue runs.
traplab_ensure_grub() {
    traplab_ensure_packages grub-mkrescue:grub-common /usr/lib/grub/i386-pc:grub-pc-bin \
        xorriso:xorriso mformat:mtools
}
