#!/bin/sh
# Test-only dracut pre-trigger hook (after docs/hooks/dracut/90baretpm/baretpm-measure.sh):
# quotes and sends the files (quote_and_send in xfer.sh), then powers off. dracut's init
# sources it.
off() {
    sync
    # Debian's poweroff needs systemd, which this image leaves out.
    echo o >/proc/sysrq-trigger
    sleep 30
}
# shellcheck source=tests/initrd/xfer.sh
. /lib/baretpm-xfer.sh
quote_and_send
off
