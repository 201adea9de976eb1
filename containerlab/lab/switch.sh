#!/bin/sh
# The example lab's switch (pxe-lab.clab.yml): a Linux bridge inside this container's own network
# namespace, so no host firewall sees the lab's frames. containerlab plugs the links (eth1, eth2, …)
# after the container starts: every ethN but eth0 (containerlab's management interface) joins the
# bridge as it appears. Runs until the container stops.
set -u
BRIDGE=br0
trap 'exit 0' TERM INT

ip link add "$BRIDGE" type bridge 2>/dev/null || true
# No spanning tree and no forwarding delay: a lab segment passes frames as soon as a port is up
# (a PXE client's first DHCP DISCOVER must not be lost while a port learns).
ip link set "$BRIDGE" type bridge stp_state 0 forward_delay 0
ip link set "$BRIDGE" up

while :; do
  for path in /sys/class/net/eth*; do
    [ -e "$path" ] || continue
    port="${path##*/}"
    [ "$port" = eth0 ] && continue
    [ -e "$path/master" ] && continue
    if ip link set "$port" master "$BRIDGE" && ip link set "$port" up; then
      echo "switch: $port joined $BRIDGE"
    fi
  done
  sleep 1
done
