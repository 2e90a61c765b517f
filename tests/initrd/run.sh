#!/usr/bin/env bash
# Boots the installed Debian kernel in qemu with an initrd holding busybox and a static
# baretpm, a fresh swtpm as the VM's TPM, and brings the guest's proof back to the host.
#
#   tests/initrd/run.sh OUT bios|uefi|initramfs-tools|dracut
#
# bios: SeaBIOS, pc machine, tpm-tis.  uefi: OVMF, q35 machine, tpm-crb.
# initramfs-tools: as bios, but the initrd is Debian's own, made by mkinitramfs with the hook
# and boot script of docs/hooks/initramfs-tools (the documented way to install baretpm) plus
# tests/initrd/premount-test.sh, which quotes and sends the files instead of mounting a root;
# and baretpm is the initrd build (feature `initrd`, dynamically linked), not the static one.
# dracut: as initramfs-tools, but the initramfs is made by dracut (dracut-core) with the module
# docs/hooks/dracut/90baretpm plus the test-only tests/initrd/dracut/99baretpm-test, from a
# copy of /usr/lib/dracut (dracutbasedir) and an empty configuration: the system is untouched.
# Leaves in OUT:
#   proof.json      the proof the guest wrote (quote of PCR0-7,14,15 over /dev/tpmrm0)
#   ak.pub          the AK as the host enrolled it from the same swtpm before the boot
#                   (TPM2B_PUBLIC); the guest's own copy is ak.guest.pub and must be equal
#   nonce           the host's challenge, hex, passed on the kernel command line
#   boot_log.bin    the firmware event log from securityfs (binary_bios_measurements)
#   pcr14.log       the guest's PCR14 event log (also inside the proof)
#   device.txt      what examples/initrd_device_probe.rs found about the kernel's TPM driver
#   initrd/         the initrd's files (init, etc/baretpm/initrd.conf: what PCR14 measured)
#   initrd.cpio.gz  the initrd itself
#   console.log     the guest's serial console (ttyS0)
#   transfer.txt    the raw second serial port (ttyS1): the framed files
#   timings         key=value lines: accel, build_s, boot_s, initrd_bytes, baretpm_bytes
# Then: baretpm verify OUT/proof.json --nonce "$(cat OUT/nonce)" --ak-pub OUT/ak.pub
#
# Environment: BARETPM_QEMU_ACCEL=kvm|tcg (default: kvm when /dev/kvm works, else tcg),
# BARETPM_QEMU_TIMEOUT (seconds for the boot, default 240), BARETPM_KERNEL (a vmlinuz;
# default the newest /boot/vmlinuz-*), BARETPM_OVMF_CODE / BARETPM_OVMF_VARS.
#
# Exit status: 0 the proof arrived complete; 1 a step failed; 2 usage or a missing tool.
set -euo pipefail

usage() { echo "usage: $0 OUT bios|uefi|initramfs-tools|dracut" >&2; exit 2; }
[ $# -eq 2 ] || usage
OUT=$1
MODE=$2
case "$MODE" in bios | uefi | initramfs-tools | dracut) ;; *) usage ;; esac

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
TARGET=x86_64-unknown-linux-gnu
BUILD_DIR=$ROOT/target/initrd
BIN=$BUILD_DIR/$TARGET/release/baretpm
PROBE=$BUILD_DIR/$TARGET/release/examples/initrd_device_probe
QEMU_TIMEOUT=${BARETPM_QEMU_TIMEOUT:-240}

say() { echo "initrd[$MODE]: $*" >&2; }
die() { say "error: $*"; exit 1; }
need() { command -v "$1" >/dev/null || { say "missing tool: $1 ($2)"; exit 2; }; }
need qemu-system-x86_64 "apt-get install qemu-system-x86"
need swtpm "apt-get install swtpm"
need swtpm_setup "apt-get install swtpm-tools"
need swtpm_ioctl "apt-get install swtpm-tools"
need cpio "apt-get install cpio"
need gzip "apt-get install gzip"
need base64 coreutils
need sha256sum coreutils
need timeout coreutils

BUSYBOX=""
for b in /bin/busybox /usr/bin/busybox; do
    if [ -x "$b" ] && file -b "$b" 2>/dev/null | grep -q 'statically linked'; then BUSYBOX=$b; break; fi
done
[ -n "$BUSYBOX" ] || { say "missing a static busybox (apt-get install busybox-static)"; exit 2; }

KERNEL=${BARETPM_KERNEL:-$(ls -1 /boot/vmlinuz-* 2>/dev/null | sort -V | tail -1)}
[ -n "$KERNEL" ] && [ -r "$KERNEL" ] || { say "missing a kernel in /boot (apt-get install linux-image-amd64)"; exit 2; }

if [ "$MODE" = initramfs-tools ]; then
    need mkinitramfs "apt-get install initramfs-tools-core"
    need lsinitramfs "apt-get install initramfs-tools-core"
    KVER=$(basename "$KERNEL" | sed 's/^vmlinuz-//')
    [ -d "/lib/modules/$KVER" ] || { say "missing /lib/modules/$KVER for mkinitramfs"; exit 2; }
fi
if [ "$MODE" = dracut ]; then
    need dracut "apt-get install dracut-core"
    need lsinitrd "apt-get install dracut-core"
    [ -d /usr/lib/dracut/modules.d ] || { say "missing /usr/lib/dracut/modules.d (dracut-core)"; exit 2; }
    KVER=$(basename "$KERNEL" | sed 's/^vmlinuz-//')
    [ -d "/lib/modules/$KVER" ] || { say "missing /lib/modules/$KVER for dracut"; exit 2; }
fi
if [ "$MODE" = uefi ]; then
    OVMF_CODE=${BARETPM_OVMF_CODE:-/usr/share/OVMF/OVMF_CODE_4M.fd}
    OVMF_VARS=${BARETPM_OVMF_VARS:-/usr/share/OVMF/OVMF_VARS_4M.fd}
    [ -r "$OVMF_CODE" ] && [ -r "$OVMF_VARS" ] || { say "missing OVMF (apt-get install ovmf)"; exit 2; }
fi

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
rm -rf "$OUT/initrd" "$OUT"/{proof.json,ak.pub,ak.guest.pub,nonce,boot_log.bin,pcr14.log,device.txt,console.log,transfer.txt,timings,initrd.cpio.gz,mkinitramfs.log,dracut.log}
W=$(mktemp -d /tmp/baretpm-initrd.XXXXXX)

SWTPM_PID=""
QEMU_PID=""
# Stops what this script started, on every exit path.
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    for pid in $QEMU_PID $SWTPM_PID; do
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
            for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -KILL "$pid" 2>/dev/null || true
        fi
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$W"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# Waits (bounded) for a Unix socket to appear, failing early if the process died.
wait_socket() {
    local path=$1 pid=$2 what=$3
    for _ in $(seq 1 100); do
        [ -S "$path" ] && return 0
        kill -0 "$pid" 2>/dev/null || die "$what exited at once: $(tail -5 "$W/$what.log" 2>/dev/null)"
        sleep 0.1
    done
    die "$what did not create $path within 10 s"
}

# --- 1. the CLI ---------------------------------------------------------------------------
t0=$(now)
if [ "$MODE" = initramfs-tools ] || [ "$MODE" = dracut ]; then
    # The initrd build (docs/initrd.md): the `initrd` feature set, linked dynamically against
    # the libc Debian's initramfs already holds; the hook's copy_exec brings its libraries.
    BUILD_DIR=$ROOT/target/initrd-slim
    BIN=$BUILD_DIR/release/baretpm
    say "building the initrd CLI (--no-default-features --features initrd, CARGO_TARGET_DIR=target/initrd-slim)"
    (cd "$ROOT" && CARGO_TARGET_DIR="$BUILD_DIR" timeout 1800 cargo build --quiet --release \
        --bin baretpm --no-default-features --features initrd) || die "initrd build failed"
    build_s=$(elapsed "$t0")
else
    say "building the static CLI (CARGO_TARGET_DIR=target/initrd)"
    # Two invocations: an example pulls in the dev-dependencies, whose features would otherwise
    # be unified into (and change) the CLI binary measured here.
    for what in "--bin baretpm" "--example initrd_device_probe"; do
        # shellcheck disable=SC2086
        (cd "$ROOT" && RUSTFLAGS='-C target-feature=+crt-static' CARGO_TARGET_DIR="$BUILD_DIR" \
            timeout 1800 cargo build --quiet --release --target "$TARGET" $what) ||
            die "static build ($what) failed"
    done
    build_s=$(elapsed "$t0")
    file -b "$BIN" | grep -Eq 'static(-pie)? linked|statically linked' || die "$BIN is not statically linked"
fi

# --- 2. the initrd -------------------------------------------------------------------------
R=$OUT/initrd
mkdir -p "$R/bin" "$R/lib" "$R/etc/baretpm" "$R/dev" "$R/proc" "$R/sys" "$R/tmp" "$R/out"
cat >"$R/etc/baretpm/initrd.conf" <<'EOF'
# baretpm initrd configuration, measured into PCR14 together with /init.
ak=ecc
pcrs=0-7
EOF
if [ "$MODE" = initramfs-tools ]; then
    # Debian's generator with a configuration of our own: the system's initramfs.conf with
    # only listed modules (the TPM drivers are built into Debian's kernel) and gzip, and the
    # documented hook and boot script, installed as a user would install them.
    C=$W/initramfs-tools
    H=$ROOT/docs/hooks/initramfs-tools
    mkdir -p "$C/hooks" "$C/scripts/init-premount" "$C/conf.d"
    sed -e 's/^MODULES=.*/MODULES=list/' -e 's/^COMPRESS=.*/COMPRESS=gzip/' \
        -e 's/^BUSYBOX=.*/BUSYBOX=y/' /etc/initramfs-tools/initramfs.conf >"$C/initramfs.conf"
    : >"$C/modules"
    install -m 755 "$H/hooks/baretpm" "$C/hooks/baretpm"
    install -m 755 "$H/scripts/init-premount/baretpm" "$C/scripts/init-premount/baretpm"
    install -m 755 "$HERE/premount-test.sh" "$C/scripts/init-premount/zz-baretpm-test"
    # The test script's framing helper goes in with a hook of the test's own.
    printf '%s\n' '#!/bin/sh' 'case "$1" in prereqs) exit 0 ;; esac' \
        'mkdir -p "$DESTDIR/lib" && cp "$BARETPM_XFER" "$DESTDIR/lib/baretpm-xfer.sh"' \
        >"$C/hooks/zz-baretpm-test"
    chmod 755 "$C/hooks/zz-baretpm-test"
    BARETPM_BIN=$BIN BARETPM_CONF=$R/etc/baretpm/initrd.conf BARETPM_XFER=$HERE/xfer.sh \
        timeout 600 mkinitramfs -d "$C" -o "$OUT/initrd.cpio.gz" "$KVER" >"$OUT/mkinitramfs.log" 2>&1 ||
        die "mkinitramfs failed: $(tail -5 "$OUT/mkinitramfs.log")"
    # The files the documented hook must have put in.
    lsinitramfs "$OUT/initrd.cpio.gz" >"$W/contents" || die "lsinitramfs failed"
    # bin/ and lib/ may be links into usr/ (merged /usr), so either place counts.
    for f in etc/baretpm/initrd.conf scripts/init-premount/baretpm '(usr/)?bin/baretpm' \
        '(usr/)?lib/baretpm-xfer.sh'; do
        grep -Eqx "$f" "$W/contents" || die "mkinitramfs left $f out of the initramfs"
    done
    # The /init the boot script measured, for the host's verify --input.
    need unmkinitramfs "apt-get install initramfs-tools-core"
    unmkinitramfs "$OUT/initrd.cpio.gz" "$W/unpacked" || die "unmkinitramfs failed"
    init=$(find "$W/unpacked" -maxdepth 2 -name init -type f | head -1)
    [ -n "$init" ] || die "no /init in the initramfs mkinitramfs made"
    cp "$init" "$R/init"
elif [ "$MODE" = dracut ]; then
    # dracut reads its modules from $dracutbasedir/modules.d: a private copy of the system's
    # dracut directory with the documented module and the test's added, no configuration
    # (--conf /dev/null, an empty --confdir), no host-only trimming, no systemd, gzip.
    D=$W/dracut
    cp -a /usr/lib/dracut "$D"
    cp -a "$ROOT/docs/hooks/dracut/90baretpm" "$HERE/dracut/99baretpm-test" "$D/modules.d/"
    mkdir -p "$W/dracut.conf.d" "$W/dracut.tmp"
    dracut_build() {
        dracutbasedir=$D BARETPM_XFER=$HERE/xfer.sh timeout 600 dracut --no-hostonly \
            --no-hostonly-cmdline --conf /dev/null --confdir "$W/dracut.conf.d" \
            --modules "base rootfs-block baretpm baretpm-test" --omit systemd --add-drivers "" \
            --no-early-microcode --gzip --tmpdir "$W/dracut.tmp" --force "$@" "$KVER"
    }
    # The module refuses to build an initramfs without its binary or its config file.
    # refused BIN CONF MESSAGE: the build must fail, say MESSAGE and write no image.
    refused() {
        local rc=0
        BARETPM_BIN=$1 BARETPM_CONF=$2 dracut_build "$W/refused.img" >"$W/refused.log" 2>&1 || rc=$?
        if [ "$rc" -eq 0 ] || [ -e "$W/refused.img" ] || ! grep -qF "baretpm module: $3" "$W/refused.log"; then
            die "dracut did not refuse ($3; status $rc): $(tail -3 "$W/refused.log")"
        fi
    }
    refused "$W/no-such-baretpm" "$R/etc/baretpm/initrd.conf" "$W/no-such-baretpm is not an executable file"
    refused "$BIN" "$W/no-such.conf" "$W/no-such.conf is not a readable file"
    BARETPM_BIN=$BIN BARETPM_CONF=$R/etc/baretpm/initrd.conf \
        dracut_build "$OUT/initrd.cpio.gz" >"$OUT/dracut.log" 2>&1 ||
        die "dracut failed: $(tail -5 "$OUT/dracut.log")"
    # The files the documented module must have put in (lsinitrd -1: names only).
    lsinitrd "$OUT/initrd.cpio.gz" | awk '{ print $NF }' >"$W/contents" || die "lsinitrd failed"
    for f in etc/baretpm/initrd.conf usr/bin/baretpm usr/lib/baretpm-xfer.sh \
        usr/lib/dracut/hooks/pre-trigger/10-baretpm-measure.sh \
        usr/lib/dracut/hooks/pre-trigger/90-baretpm-test.sh; do
        grep -qx "$f" "$W/contents" || die "dracut left $f out of the initramfs"
    done
    # The /init the hook measured (dracut's own init.sh), for the host's verify --input.
    lsinitrd -f init "$OUT/initrd.cpio.gz" >"$R/init" || die "lsinitrd -f init failed"
    [ -s "$R/init" ] || die "no /init in the initramfs dracut made"
else
    cp "$BUSYBOX" "$R/bin/busybox"
    cp "$BIN" "$R/bin/baretpm"
    cp "$PROBE" "$R/bin/device-probe"
    cp "$HERE/init.sh" "$R/init"
    cp "$HERE/xfer.sh" "$R/lib/baretpm-xfer.sh"
    chmod 755 "$R/init" "$R/bin/busybox" "$R/bin/baretpm" "$R/bin/device-probe"
    (cd "$R" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) |
        gzip -9 >"$OUT/initrd.cpio.gz"
fi
initrd_bytes=$(stat -c %s "$OUT/initrd.cpio.gz")
baretpm_bytes=$(stat -c %s "$BIN")
say "initrd $initrd_bytes bytes (baretpm $baretpm_bytes bytes, busybox $(stat -c %s "$BUSYBOX") bytes)"

# --- 3. a fresh TPM, and the host's enrollment of its AK -----------------------------------
S=$W/state
mkdir -p "$S"
timeout 60 swtpm_setup --tpm2 --tpmstate "$S" --pcr-banks sha256 --createek --create-ek-cert \
    >"$W/swtpm_setup.log" 2>&1 || die "swtpm_setup failed: $(tail -5 "$W/swtpm_setup.log")"

# Enrollment: the verifier learns the AK from the TPM itself, not from the guest's word.
swtpm socket --tpm2 --tpmstate "dir=$S" --server "type=unixio,path=$W/enroll.sock" \
    --ctrl "type=unixio,path=$W/enroll.ctrl" --flags not-need-init,startup-clear \
    --log "file=$W/enroll.log" &
SWTPM_PID=$!
wait_socket "$W/enroll.sock" "$SWTPM_PID" enroll
wait_socket "$W/enroll.ctrl" "$SWTPM_PID" enroll
timeout 30 "$BIN" -T "swtpm:path=$W/enroll.sock" ak-pub --ak ecc -o "$OUT/ak.pub" 2>"$W/enroll-ak.log" ||
    die "enrolling the AK failed: $(cat "$W/enroll-ak.log")"
timeout 10 swtpm_ioctl --unix "$W/enroll.ctrl" -s >/dev/null || die "swtpm_ioctl -s failed"
for _ in $(seq 1 50); do kill -0 "$SWTPM_PID" 2>/dev/null || break; sleep 0.1; done
wait "$SWTPM_PID" 2>/dev/null || true
SWTPM_PID=""

# The VM's TPM: same state, control channel for qemu; exits when qemu disconnects.
swtpm socket --tpm2 --tpmstate "dir=$S" --ctrl "type=unixio,path=$W/swtpm.sock" --terminate \
    --log "file=$W/swtpm.log" &
SWTPM_PID=$!
wait_socket "$W/swtpm.sock" "$SWTPM_PID" swtpm

# --- 4. boot -------------------------------------------------------------------------------
NONCE=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
printf '%s\n' "$NONCE" >"$OUT/nonce"

ACCEL=${BARETPM_QEMU_ACCEL:-}
if [ -z "$ACCEL" ]; then
    ACCEL=tcg
    # /dev/kvm may exist and still fail, or open and then make no progress (seen here under
    # nested virtualisation: qemu starts, the guest never runs). So boot the kernel with no
    # root for real: with working KVM it panics within a few seconds and qemu exits.
    if [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
        probe_rc=0
        timeout --kill-after=2 "${BARETPM_KVM_PROBE_TIMEOUT:-10}" qemu-system-x86_64 \
            -machine pc,accel=kvm -cpu host -m 256 -nodefaults -no-user-config -display none \
            -no-reboot -serial "file:$W/kvm-probe.log" -kernel "$KERNEL" \
            -append "console=ttyS0 panic=-1 root=/dev/nonexistent" >/dev/null 2>&1 || probe_rc=$?
        if [ "$probe_rc" -eq 0 ] && grep -q 'Linux version' "$W/kvm-probe.log"; then
            ACCEL=kvm
        else
            say "/dev/kvm is present but a KVM boot did not finish (status $probe_rc): using TCG"
        fi
    fi
fi
case "$ACCEL" in kvm | tcg) ;; *) say "BARETPM_QEMU_ACCEL must be kvm or tcg"; exit 2 ;; esac

machine=(-machine "pc,accel=$ACCEL" -device tpm-tis,tpmdev=tpm0)  # bios, initramfs-tools, dracut
if [ "$MODE" = uefi ]; then
    cp "$OVMF_VARS" "$W/OVMF_VARS.fd"
    machine=(-machine "q35,accel=$ACCEL" -device tpm-crb,tpmdev=tpm0
        -drive "if=pflash,format=raw,unit=0,readonly=on,file=$OVMF_CODE"
        -drive "if=pflash,format=raw,unit=1,file=$W/OVMF_VARS.fd")
fi
[ "$ACCEL" = kvm ] && machine+=(-cpu host)

# dracut's init stops at once without a root= it can handle; the test powers off before the
# root device is looked for. If it did not, a short rd.retry and no shell end the boot early.
extra_cmdline=""
[ "$MODE" = dracut ] && extra_cmdline="root=/dev/disk/by-label/baretpm-no-root rd.retry=10 rd.shell=0 "

say "booting $(basename "$KERNEL") ($ACCEL, timeout ${QEMU_TIMEOUT}s)"
t1=$(now)
timeout --kill-after=5 "$QEMU_TIMEOUT" qemu-system-x86_64 "${machine[@]}" -m 512 -smp 1 \
    -nodefaults -no-user-config -display none -no-reboot \
    -chardev "socket,id=chrtpm,path=$W/swtpm.sock" -tpmdev emulator,id=tpm0,chardev=chrtpm \
    -kernel "$KERNEL" -initrd "$OUT/initrd.cpio.gz" \
    -append "console=ttyS0 panic=-1 loglevel=4 ${extra_cmdline}baretpm.nonce=$NONCE" \
    -serial "file:$OUT/console.log" -serial "file:$W/xfer.txt" \
    2>"$W/qemu.log" &
QEMU_PID=$!
qemu_rc=0
wait "$QEMU_PID" || qemu_rc=$?
QEMU_PID=""
boot_s=$(elapsed "$t1")
say "qemu exited with status $qemu_rc after ${boot_s}s"
[ "$qemu_rc" -ne 124 ] && [ "$qemu_rc" -ne 137 ] ||
    die "the boot did not finish within ${QEMU_TIMEOUT}s; console tail: $(tail -20 "$OUT/console.log" 2>/dev/null | tr -cd '[:print:]\n')"
[ "$qemu_rc" -eq 0 ] || die "qemu failed ($qemu_rc): $(tail -5 "$W/qemu.log")"

# --- 5. unpack the transfer, checking it is complete ---------------------------------------
X=$W/xfer
mkdir -p "$X"
cp "$W/xfer.txt" "$OUT/transfer.txt"
bash "$HERE/decode.sh" "$W/xfer.txt" "$X" proof.json ak.pub pcr14.log boot_log.bin device.txt ||
    die "the transfer from the guest is incomplete (console tail: $(tail -20 "$OUT/console.log" | tr -cd '[:print:]\n'))"
mv "$X/proof.json" "$X/pcr14.log" "$X/boot_log.bin" "$X/device.txt" "$OUT/"
mv "$X/ak.pub" "$OUT/ak.guest.pub"
cmp -s "$OUT/ak.pub" "$OUT/ak.guest.pub" || die "the guest's AK differs from the one enrolled on the host"

cat >"$OUT/timings" <<EOF
mode=$MODE
accel=$ACCEL
kernel=$(basename "$KERNEL")
build_s=$build_s
boot_s=$boot_s
initrd_bytes=$initrd_bytes
baretpm_bytes=$baretpm_bytes
boot_log_bytes=$(stat -c %s "$OUT/boot_log.bin")
EOF
say "done: $(tr '\n' ' ' <"$OUT/timings")"
say "verify with: baretpm verify $OUT/proof.json --nonce $NONCE --ak-pub $OUT/ak.pub"
