#!/bin/busybox sh
# /init of the baretpm test initrd (copied in by tests/initrd/run.sh).
#
# Talks to the TPM only through /dev/tpmrm0: creates the standard attestation key, measures
# this script and its config file into PCR14, quotes PCR0-7,14,15 with the nonce the host put
# on the kernel command line (baretpm.nonce=HEX) with the firmware event log from securityfs in
# the proof, and sends the files to the host over the second serial port (/dev/ttyS1), each
# framed with its length and SHA-256. Then powers off. Any failed step is reported on the
# same channel (BARETPM-XFER-FAIL) so the host does not wait for its timeout.

B=/bin/busybox
$B mkdir -p /dev /proc /sys /tmp /out
$B mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
$B --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t securityfs securityfs /sys/kernel/security

XFER=/dev/ttyS1
STEP_TIMEOUT=60

finish() {
    sync
    poweroff -f
    # poweroff -f does not return; if it does, panic (panic=-1 reboots, qemu -no-reboot exits).
    exit 1
}

fail() {
    echo "baretpm-initrd: FAILED at $1 (status $2)"
    echo "BARETPM-XFER-FAIL $1 $2" >"$XFER"
    finish
}

# step NAME COMMAND...: runs COMMAND with a timeout, stops the boot on failure.
step() {
    name=$1
    shift
    echo "baretpm-initrd: $name: $*"
    timeout "$STEP_TIMEOUT" "$@"
    rc=$?
    [ "$rc" -eq 0 ] || fail "$name" "$rc"
}

# Configuration measured into PCR14 with this script.
CONF=/etc/baretpm/initrd.conf
AK=$(sed -n 's/^ak=\([a-z]*\)$/\1/p' "$CONF")
PCRS=$(sed -n 's/^pcrs=\([0-9,-]*\)$/\1/p' "$CONF")
[ -n "$AK" ] && [ -n "$PCRS" ] || fail config 2

NONCE=
for word in $(cat /proc/cmdline); do
    case "$word" in
    baretpm.nonce=*) NONCE=${word#baretpm.nonce=} ;;
    esac
done
[ -n "$NONCE" ] || fail nonce 2

# The TPM driver probes during boot; wait (bounded) for the resource manager's node.
i=0
while [ ! -c /dev/tpmrm0 ] && [ "$i" -lt 100 ]; do
    sleep 0.1
    i=$((i + 1))
done
[ -c /dev/tpmrm0 ] || fail no-tpmrm0 1
ls -l /dev/tpm0 /dev/tpmrm0

T=device:/dev/tpmrm0
step ak-pub baretpm -T "$T" ak-pub --ak "$AK" -o /out/ak.pub
step measure baretpm -T "$T" measure --pcr 14 --log /out/pcr14.log /init "$CONF"
step boot-log cp /sys/kernel/security/tpm0/binary_bios_measurements /out/boot_log.bin
# The proof carries the firmware log; the host's verify replays it against PCR0-7.
step attest baretpm -T "$T" attest --log /out/pcr14.log --proof /out/proof.json \
    --nonce "$NONCE" --ak "$AK" --pcrs "$PCRS" --boot-log /out/boot_log.bin
step pcrread baretpm -T "$T" pcrread sha256:0,1,2,3,4,5,6,7,14,15
# The kernel driver's behaviour seen by the device transport; reported, judged on the host.
timeout "$STEP_TIMEOUT" device-probe >/out/device.txt 2>&1
echo "device-probe exit $?" >>/out/device.txt
cat /out/device.txt

. /lib/baretpm-xfer.sh
FILES="/out/proof.json /out/ak.pub /out/pcr14.log /out/boot_log.bin /out/device.txt"
# shellcheck disable=SC2086
send_all $FILES >"$XFER"
echo "baretpm-initrd: sent $FILES"
finish
