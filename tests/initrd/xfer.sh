# Sourced by the test initrds' scripts (init.sh, premount-test.sh, dracut/99baretpm-test):
# frames files for the host's decode.sh. Each file: "FILE name bytes sha256", its base64,
# "END name"; the whole transfer between "BARETPM-XFER-BEGIN 1" and "BARETPM-XFER-DONE count".
send_all() {
    echo "BARETPM-XFER-BEGIN 1"
    n=0
    for f in "$@"; do
        echo "FILE ${f##*/} $(wc -c <"$f") $(sha256sum "$f" | cut -d' ' -f1)"
        base64 "$f"
        echo "END ${f##*/}"
        n=$((n + 1))
    done
    echo "BARETPM-XFER-DONE $n"
}

# The test step of the generator-made images (premount-test.sh for initramfs-tools,
# dracut/99baretpm-test for dracut), run after the documented hook measured into PCR14:
# quotes PCR0-7,14,15 with the host's nonce (baretpm.nonce=HEX on the kernel command line)
# and the hook's PCR14 log, then sends the files over /dev/ttyS1. The caller defines off(),
# its generator's way to power off; a failed step is reported on the same port, then off.
quote_and_send() {
    XFER=/dev/ttyS1
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
    grep -q " /sys/kernel/security " /proc/mounts ||
        mount -t securityfs securityfs /sys/kernel/security
    T=device:/dev/tpmrm0
    step ak-pub baretpm -T "$T" ak-pub --ak ecc -o /out/ak.pub
    step boot-log cp /sys/kernel/security/tpm0/binary_bios_measurements /out/boot_log.bin
    cp /run/baretpm/pcr14.log /out/pcr14.log
    step attest baretpm -T "$T" attest --log /out/pcr14.log --proof /out/proof.json \
        --nonce "$NONCE" --ak ecc --pcrs 0-7 --boot-log /out/boot_log.bin
    cat /proc/version >/out/device.txt
    ls -l "$(command -v baretpm)" /init >>/out/device.txt
    send_all /out/proof.json /out/ak.pub /out/pcr14.log /out/boot_log.bin /out/device.txt >"$XFER"
    echo "baretpm-initrd: sent the files"
}
