#!/bin/bash
# Test-only dracut module (tests/initrd/run.sh OUT dracut): after docs/hooks/dracut/90baretpm
# measured, quotes and sends the files to the host, then powers off before dracut looks for a
# root device. BARETPM_XFER names tests/initrd/xfer.sh, the framing the host decodes.
# shellcheck disable=SC2154  # moddir, dfatal and the inst_* functions come from dracut

check() {
    return 255
}

depends() {
    echo baretpm
    return 0
}

install() {
    [[ -r ${BARETPM_XFER-} ]] || {
        dfatal "baretpm-test module: BARETPM_XFER (tests/initrd/xfer.sh) is not set"
        exit 1
    }
    inst_simple "$BARETPM_XFER" /lib/baretpm-xfer.sh
    inst_multiple cat cp ls mkdir mount grep timeout base64 sha256sum wc cut sync
    inst_hook pre-trigger 90 "$moddir/baretpm-test.sh"
}
