#!/bin/sh
# The example lab's PXE server (pxe-lab.clab.yml): dnsmasq as DHCP and TFTP server (the image's
# entrypoint, bmcfleet/test-pxe) on the lab interface containerlab plugs after the container starts.
# Waits for that interface, gives it the server's address, then hands over to dnsmasq with the
# arguments given (the DHCP range).
#
# Environment: PXE_INTERFACE (default eth1), PXE_ADDRESS (e.g. 192.168.77.1/24, required),
# PXE_IPV6_ADDRESS (optional, see the image's entrypoint: router advertisements spare iPXE its wait
# for IPv6).
set -eu
iface="${PXE_INTERFACE:-eth1}"
address="${PXE_ADDRESS:?set PXE_ADDRESS, e.g. 192.168.77.1/24}"
WAIT_SECONDS=300

waited=0
until [ -e "/sys/class/net/$iface" ]; do
  if [ "$waited" -ge "$WAIT_SECONDS" ]; then
    echo "pxe: $iface did not appear within ${WAIT_SECONDS}s: is the link in the topology?" >&2
    exit 1
  fi
  sleep 1
  waited=$((waited + 1))
done
ip addr add "$address" dev "$iface"
ip link set "$iface" up
echo "pxe: serving on $iface ($address)"
export PXE_INTERFACE="$iface"
exec /usr/local/bin/pxe-server "$@"
