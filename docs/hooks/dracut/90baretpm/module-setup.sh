#!/bin/bash
# dracut module "baretpm": puts baretpm and its configuration into the initramfs, with a
# pre-trigger hook that measures the initramfs's /init and the config file into PCR14.
# Install this directory as /usr/lib/dracut/modules.d/90baretpm and enable it with
#   add_dracutmodules+=" baretpm "
# in /etc/dracut.conf.d/baretpm.conf. BARETPM_BIN and BARETPM_CONF in the environment of
# dracut override where the binary and the config file come from.
# shellcheck disable=SC2154  # moddir, dfatal and the inst_* functions come from dracut

# Only when asked for (add_dracutmodules, --add or --modules): never by default.
check() {
    return 255
}

depends() {
    return 0
}

# The TPM drivers, where the kernel has them as modules (Debian, Fedora and RHEL build
# tpm_tis and tpm_crb in; then this installs nothing). To have a modular driver loaded before
# the measuring hook runs, also set force_drivers+=" tpm_crb " (or tpm_tis) in dracut.conf.
installkernel() {
    instmods '=drivers/char/tpm'
}

install() {
    local bin=${BARETPM_BIN:-/usr/local/bin/baretpm}
    local conf=${BARETPM_CONF:-/etc/baretpm/initrd.conf}
    # A measured boot that silently lost its measuring tool would only be noticed by a
    # verifier later: fail the initramfs build instead.
    if [[ ! -f $bin || ! -x $bin ]]; then
        dfatal "baretpm module: $bin is not an executable file"
        exit 1
    fi
    if [[ ! -f $conf || ! -r $conf ]]; then
        dfatal "baretpm module: $conf is not a readable file"
        exit 1
    fi
    # inst_binary also installs the shared libraries a dynamically linked build needs.
    inst_binary "$bin" /usr/bin/baretpm || {
        dfatal "baretpm module: installing $bin failed"
        exit 1
    }
    inst_simple "$conf" /etc/baretpm/initrd.conf || {
        dfatal "baretpm module: installing $conf failed"
        exit 1
    }
    inst_multiple mkdir sleep
    inst_hook pre-trigger 10 "$moddir/baretpm-measure.sh"
}
