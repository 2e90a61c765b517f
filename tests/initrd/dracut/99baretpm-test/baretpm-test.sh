#!/bin/sh
# Test-only dracut pre-trigger hook (after docs/hooks/dracut/90baretpm/baretpm-measure.sh):
# quotes PCR0-7,14,15 with the host's nonce (baretpm.nonce=HEX on the kernel command line)
# and the PCR14 log the documented hook wrote, sends the files to the host over /dev/ttyS1
# framed as init.sh frames them, and powers off. dracut's init sources it.
XFER=/dev/ttyS1
off() {
    sync
    echo o >/proc/sysrq-trigger
    sleep 30
}
fail() {
    echo "baretpm-initrd: FAILED at $1 (status $2)"
    echo "BARETPM-XFER-FAIL $1 $2" >"$XFER"
    off
}
step() {
    name=$1
    shift
    echo "baretpm-initrd: $name: $*"
    timeout 60 "$@" || fail "$name" $?
}

NONCE=
# shellcheck disable=SC2013  # the command line is one line of words
for word in $(cat /proc/cmdline); do
    case "$word" in baretpm.nonce=*) NONCE=${word#baretpm.nonce=} ;; esac
done
[ -n "$NONCE" ] || fail nonce 2
[ -s /run/baretpm/pcr14.log ] || fail no-pcr14-log 1

mkdir -p /out /sys/kernel/security
grep -q " /sys/kernel/security " /proc/mounts || mount -t securityfs securityfs /sys/kernel/security
T=device:/dev/tpmrm0
step ak-pub baretpm -T "$T" ak-pub --ak ecc -o /out/ak.pub
step boot-log cp /sys/kernel/security/tpm0/binary_bios_measurements /out/boot_log.bin
cp /run/baretpm/pcr14.log /out/pcr14.log
step attest baretpm -T "$T" attest --log /out/pcr14.log --proof /out/proof.json \
    --nonce "$NONCE" --ak ecc --pcrs 0-7 --boot-log /out/boot_log.bin
cat /proc/version >/out/device.txt
ls -l /usr/bin/baretpm /init >>/out/device.txt

# shellcheck source=tests/initrd/xfer.sh
. /lib/baretpm-xfer.sh
send_all /out/proof.json /out/ak.pub /out/pcr14.log /out/boot_log.bin /out/device.txt >"$XFER"
echo "baretpm-initrd: sent the files"
off
