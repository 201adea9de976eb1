/**
 * Which host a new node goes on (pure), decided before its ports are leased, because leases are per
 * host (the same port may be leased on two hosts). A create may name the host (`host` in its body:
 * a host's name or the runtime's id of it); otherwise the node goes on the host taking new nodes
 * that holds the fewest of the fleet's nodes and is big enough for it (ties: by name).
 */
import type { RuntimeHost } from '../runtime/node-runtime';
import { nodeSizeProblems, type NodeSize } from './node-bounds';

/** Why a named host cannot take the node, or why no host can: a sentence for a 400 or a 503. */
export class HostPlacementError extends Error {
  constructor(
    message: string,
    /** unknown-host / host-not-accepting: the request named a host it cannot have (400); no-host: none takes nodes (503). */
    readonly reason: 'unknown-host' | 'host-not-accepting' | 'no-host',
  ) {
    super(message);
    this.name = 'HostPlacementError';
  }
}

function hostList(hosts: readonly RuntimeHost[]): string {
  if (hosts.length === 0) return 'none';
  return hosts.map((host) => (host.accepting ? host.name : `${host.name} (takes no new nodes)`)).join(', ');
}

/** The host a create body names, by name or id; a HostPlacementError naming the field and the hosts otherwise. */
export function namedHost(hosts: readonly RuntimeHost[], wanted: string): RuntimeHost {
  const host = hosts.find((candidate) => candidate.name === wanted) ?? hosts.find((candidate) => candidate.id === wanted);
  if (host === undefined) throw new HostPlacementError(`host must be one of the runtime's hosts: ${hostList(hosts)} (got ${JSON.stringify(wanted)})`, 'unknown-host');
  if (!host.accepting) {
    throw new HostPlacementError(`host ${host.name} takes no new nodes (it is down, paused or draining); choose another of: ${hostList(hosts.filter((h) => h.accepting))}`, 'host-not-accepting');
  }
  return host;
}

/**
 * The host for a new node: `wanted` when given (already checked by namedHost), else the accepting
 * host with the fewest nodes that is big enough for `size`. nodesPerHost counts the fleet's rows by
 * host name (rows of every state: a node being created counts too).
 */
export function placeNode(hosts: readonly RuntimeHost[], nodesPerHost: ReadonlyMap<string, number>, wanted: RuntimeHost | null, size: NodeSize, maxDiskGiB: number): RuntimeHost {
  if (wanted !== null) return wanted;
  const fitting = hosts.filter((host) => host.accepting && nodeSizeProblems(size, host, maxDiskGiB).length === 0);
  const chosen = [...fitting].sort((a, b) => (nodesPerHost.get(a.name) ?? 0) - (nodesPerHost.get(b.name) ?? 0) || a.name.localeCompare(b.name))[0];
  if (chosen === undefined) throw new HostPlacementError(`no host takes a node of this size now (hosts: ${hostList(hosts)})`, 'no-host');
  return chosen;
}
