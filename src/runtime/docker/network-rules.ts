/**
 * Which Docker networks a node may bridge into its VM (pure). A node's published IPMI and VNC ports
 * live on its first network (Docker's "bridge"); Docker moves a container's default gateway to a newly
 * connected network that is not internal and sorts first (dual-stack before IPv4-only, then by name).
 * The agent strips the addresses of VM_NETWORKS interfaces, so such a network would cut the node's
 * published ports off. Refused here with the fix spelled out.
 */
import type { NetworkInfo } from '../../docker/docker-adapter';

/** Docker's default network, which carries the published ports. */
const DEFAULT_NETWORK = 'bridge';

export function validateNetworks(network: NetworkInfo): string | null {
  if (network.name === DEFAULT_NETWORK || network.name === 'host' || network.name === 'none') {
    return `network ${network.name} cannot be bridged into a VM; use a network of your own (docker network create vmlan-a)`;
  }
  if (network.internal) return null;
  if (network.ipv6) {
    return `network ${network.name} is dual-stack and not internal: Docker would route the node through it and its published IPMI port would stop answering; use an IPv4-only network or --internal`;
  }
  if (network.name < DEFAULT_NETWORK) {
    return `network ${network.name} sorts before "${DEFAULT_NETWORK}" and is not internal: Docker would route the node through it and its published IPMI port would stop answering; rename it (e.g. vmlan-${network.name}) or create it with --internal`;
  }
  return null;
}
