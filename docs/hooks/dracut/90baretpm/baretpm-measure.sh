#!/bin/sh
# dracut pre-trigger hook of the baretpm module (module-setup.sh installs it): measures the
# initramfs's /init and baretpm's config file into PCR14, keeping the event log in
# /run/baretpm/pcr14.log (/run is moved into the real root, so `baretpm attest --log
# /run/baretpm/pcr14.log ...` can quote later with a verifier's nonce).
#
# pre-trigger runs once, after udevd started and before udev is told to add any device: so
# before a disk, a LUKS volume or the network is touched, and whether a root device is ever
# found or not (pre-mount runs only after the root device appeared). dracut's init sources
# this file: no exit, and only baretpm_* variables.

# The kernel's TPM driver probes before /init when built in; a modular one must have been
# loaded by force_drivers or rd.driver.pre=. Wait at most 5 s for the resource manager's node.
baretpm_i=0
while [ ! -c /dev/tpmrm0 ] && [ "$baretpm_i" -lt 50 ]; do
    sleep 0.1
    baretpm_i=$((baretpm_i + 1))
done
unset baretpm_i

mkdir -p /run/baretpm
if baretpm -T device:/dev/tpmrm0 measure --pcr 14 --log /run/baretpm/pcr14.log \
    /init /etc/baretpm/initrd.conf; then
    echo "dracut: baretpm: measured /init and /etc/baretpm/initrd.conf into PCR14"
else
    # Booting on is the distribution's choice; a verifier will refuse this boot's quotes.
    warn "baretpm: measuring into PCR14 failed"
fi
