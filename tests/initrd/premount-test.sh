#!/bin/sh
# Test-only initramfs-tools boot script (tests/initrd/run.sh OUT initramfs-tools installs it
# beside docs/hooks/initramfs-tools/scripts/init-premount/baretpm, after which it runs): quotes
# and sends the files (quote_and_send in xfer.sh), then powers off before the initramfs looks
# for a root file system.
PREREQ="baretpm"
prereqs() { echo "$PREREQ"; }
case "$1" in prereqs) prereqs; exit 0 ;; esac

off() {
    sync
    poweroff -f
    echo o >/proc/sysrq-trigger
}
# shellcheck source=tests/initrd/xfer.sh
. /lib/baretpm-xfer.sh
quote_and_send
off
