#!/bin/sh
# Entrypoint of the test PXE server (Dockerfile beside it): dnsmasq as DHCP and TFTP server on one
# interface, with the boot-file choice of node-image/test/guest/README.md. Arguments are passed on to
# dnsmasq (the test gives the DHCP range).
#
# Environment:
#   PXE_INTERFACE     interface to serve (default eth0)
#   PXE_IPV6_ADDRESS  e.g. fd5e:1:2::1/64: added to the interface, and dnsmasq then sends router
#                     advertisements (ra-only) for its prefix. iPXE configures IPv4 and IPv6 together
#                     and, on a link without router advertisements, waits about 13 s for IPv6 before it
#                     fetches boot.ipxe. Docker switches IPv6 off in containers on IPv4-only networks:
#                     run with --sysctl net.ipv6.conf.all.disable_ipv6=0
#                     --sysctl net.ipv6.conf.eth0.disable_ipv6=0 (and --cap-add NET_ADMIN, which
#                     dnsmasq's DHCP needs anyway).
set -eu
iface="${PXE_INTERFACE:-eth0}"
set -- --interface="$iface" --bind-interfaces "$@"
if [ -n "${PXE_IPV6_ADDRESS:-}" ]; then
  # nodad: the address is usable at once, so dnsmasq constructs its advertisement from the start.
  ip -6 addr add "$PXE_IPV6_ADDRESS" dev "$iface" nodad
  set -- "$@" --enable-ra --dhcp-range="::,constructor:$iface,ra-only"
fi
exec dnsmasq --no-daemon --port=0 --leasefile-ro --user=root --log-facility=- --log-dhcp \
  --enable-tftp --tftp-root=/tftp \
  --dhcp-userclass=set:ipxe,iPXE \
  --dhcp-match=set:efi64,option:client-arch,7 --dhcp-match=set:efi64,option:client-arch,9 \
  --dhcp-boot=tag:ipxe,boot.ipxe \
  --dhcp-boot=tag:!ipxe,tag:efi64,boot/grub/x86_64-efi/core.efi \
  --dhcp-boot=tag:!ipxe,tag:!efi64,boot/grub/i386-pc/core.0 \
  "$@"
