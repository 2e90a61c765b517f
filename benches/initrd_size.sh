#!/usr/bin/env bash
# Builds the CLI in each way docs/initrd.md offers for an initramfs and prints its size
# (issue 13's target: at most 1.5 MiB for what goes into the initrd). Not part of CI: each
# variant is a full release build with LTO (a few minutes each on two cores).
#
#   bash benches/initrd_size.sh [TARGET_DIR]      (default target/size)
#
# The nightly variants need a nightly toolchain with rust-src (`rustup component add rust-src
# --toolchain nightly`); without one they are reported as not built.
set -uo pipefail
cd "$(dirname "$0")/.."
T=${1:-target/size}
mkdir -p "$T"
TRIPLE=x86_64-unknown-linux-gnu
FULL=""
SLIM="--no-default-features --features initrd"
STATIC='-C target-feature=+crt-static'
IMMEDIATE='-Zunstable-options -Cpanic=immediate-abort'
Z=(--config 'profile.release.opt-level="z"' --config 'profile.release.package.sha2.opt-level="z"'
    --config 'profile.release.package.sha1.opt-level="z"')
nightly=0
if cargo +nightly --version >/dev/null 2>&1 &&
    rustup component list --toolchain nightly 2>/dev/null | grep -q '^rust-src.*(installed)'; then
    nightly=1
fi

printf '| %-58s | %10s | %10s | %s |\n' variant bytes gzip-9 "shared libraries"
printf '|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..60})" ------------ ------------ ------------------
# build NAME TOOLCHAIN RUSTFLAGS FEATURES [EXTRA...]
build() {
    local name=$1 tc=$2 flags=$3 features=$4
    shift 4
    local dir="$T/$(echo "$name" | tr -c 'a-z0-9\n' '-')"
    local std=()
    if [ "$tc" = nightly ]; then
        if [ "$nightly" -ne 1 ]; then
            printf '| %-58s | %10s | %10s | %s |\n' "$name" "not built" "" "no nightly with rust-src"
            return
        fi
        std=(-Z build-std=std,panic_abort)
    fi
    # shellcheck disable=SC2086
    if ! RUSTFLAGS="$flags" CARGO_TARGET_DIR="$dir" cargo "+$tc" build -q --release --bin baretpm \
        --target "$TRIPLE" $features "${std[@]}" "$@" 2>"$dir.log"; then
        printf '| %-58s | %10s | %10s | %s |\n' "$name" "failed" "" "see $dir.log"
        return
    fi
    local bin="$dir/$TRIPLE/release/baretpm"
    local libs
    libs=$(ldd "$bin" 2>/dev/null | awk '/=>/ { print $1 }' | tr '\n' ' ')
    printf '| %-58s | %10s | %10s | %s |\n' "$name" "$(stat -c %s "$bin")" \
        "$(gzip -9c "$bin" | wc -c)" "${libs:-none (static)}"
}

build "full CLI, static (tests/initrd/run.sh bios/uefi)" stable "$STATIC" "$FULL"
build "full CLI, dynamic" stable "" "$FULL"
build "initrd feature, static" stable "$STATIC" "$SLIM"
build "initrd feature, dynamic (the initramfs-tools test)" stable "" "$SLIM"
build "full CLI, nightly build-std + immediate-abort, dynamic" nightly "$IMMEDIATE" "$FULL"
build "initrd feature, nightly build-std + immediate-abort, static" nightly "$IMMEDIATE $STATIC" "$SLIM"
build "initrd feature, nightly build-std + immediate-abort, dynamic" nightly "$IMMEDIATE" "$SLIM"
build "initrd feature, nightly build-std + immediate-abort + opt z, dynamic" nightly "$IMMEDIATE" "$SLIM" "${Z[@]}"
