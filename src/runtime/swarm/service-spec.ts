/**
 * A runtime-neutral NodeSpec as a Docker Swarm service (pure): one replica pinned to one swarm node
 * (its /vm volume lives there), ports published in host mode with the same port inside and out (the
 * routing mesh needs IPVS, and SOL needs the port ipmitool talks to), every capability dropped and the
 * spec's added back with MKNOD (the agent makes /dev/net/tun itself: a swarm task cannot be given
 * devices, moby/swarmkit#1244), the fleet's and the node's labels on the service, its containers
 * and its volume.
 */
import type Dockerode from 'dockerode';
import { LABELS } from '../../docker/docker-adapter';
import type { NodeSpec } from '../node-runtime';
import { NodeSpecRefusedError } from '../runtime-errors';

/** Suffix of a node's /vm volume after its service name (as the Docker runtime names it). */
export const VOLUME_SUFFIX = '-vm';
/** Node label that overrides the address a host's published ports are reached at. */
export const ADDRESS_LABEL = 'io.bmcfleet.address';
/** A task that exits is started again on its host, after this long (ns). */
const RESTART_DELAY_NS = 2e9;
/** SIGTERM, then SIGKILL after this long (ns): the agent powers the VM off first. */
const STOP_GRACE_NS = 30e9;
/**
 * Swarm, unlike a plain engine, replaces a task whose health check fails, and counts a task as
 * running only once its first check passed. The image's check (5 s to answer, 3 failures) starts a
 * Node.js process, which a host busy with TCG guests can take longer than that to run: a VM would be
 * killed mid-boot. Here the first check still comes 10 s after the start, but a BMC is replaced only
 * after ten checks in a row found it silent for 30 s each (ns).
 */
export const NODE_HEALTH_CHECK = { Interval: 10e9, Timeout: 30e9, Retries: 10, StartPeriod: 60e9 } as const;
const LOG_MAX_SIZE = '10m';
const LOG_MAX_FILES = '3';
const NANO_CPUS_PER_CPU = 1e9;
/** The agent creates /dev/net/tun with it (node-image/src/network/tun-device.ts). */
const MKNOD = 'MKNOD';

export function volumeNameOf(ref: string): string {
  return `${ref}${VOLUME_SUFFIX}`;
}

export function nodeLabels(fleetId: string, spec: Pick<NodeSpec, 'nodeId' | 'name'>): Record<string, string> {
  return {
    [LABELS.managed]: 'true',
    [LABELS.fleet]: fleetId,
    [LABELS.node]: spec.name,
    [LABELS.nodeId]: spec.nodeId,
    [LABELS.role]: 'node',
  };
}

/** Refuses what no swarm task can have; names the reason and the way out. */
export function refuseUnrunnable(spec: NodeSpec): void {
  if (spec.devices.includes('kvm')) {
    throw new NodeSpecRefusedError(
      `node ${spec.name} asks for KVM, which a Docker Swarm task cannot have: swarm services take no devices ` +
        '(moby/swarmkit#1244), so /dev/kvm never reaches a node on a swarm. Create it with enableKvm "false" ' +
        '(QEMU under TCG) or machine "sim", or run it on a plain Docker engine (RUNTIME=docker).',
    );
  }
  if (spec.hostNetwork === true || spec.entrypoint !== undefined) {
    throw new NodeSpecRefusedError(
      `${spec.name} is a farm (host network, its own entry), which this runtime does not place on a swarm; ` +
        'set SIM_PLACEMENT=container to make sim nodes one task each, or run the fleet on a plain Docker engine (RUNTIME=docker).',
    );
  }
}

/** Where a service's task must run: the swarm node's id. */
export function placementConstraint(swarmNodeId: string): string {
  return `node.id==${swarmNodeId}`;
}

/** The swarm node id a service is pinned to, from its constraints; null when not pinned. */
export function pinnedNodeId(constraints: readonly string[] | undefined): string | null {
  for (const c of constraints ?? []) {
    const m = /^node\.id\s*==\s*(\S+)$/.exec(c);
    if (m) return m[1]!;
  }
  return null;
}

/**
 * The service for a node on swarm node `swarmNodeId`. A swarm task's networks become eth0, eth1, … in
 * the order given (Docker's gateway bridge, which carries host-mode ports, comes last), so the
 * fleet's own overlay `nodesNetwork` goes first as the node's default network (eth0) and the spec's
 * networks follow as eth1, eth2, …, the names VM_NETWORKS uses as on a plain engine.
 */
export function serviceSpecOf(spec: NodeSpec, fleetId: string, swarmNodeId: string, nodesNetwork: string): Dockerode.CreateServiceOptions {
  refuseUnrunnable(spec);
  const labels = nodeLabels(fleetId, spec);
  const capabilities = [...new Set([...spec.capabilities, ...(spec.devices.includes('tun') ? [MKNOD] : [])])];
  return {
    Name: spec.ref,
    Labels: labels,
    TaskTemplate: {
      ContainerSpec: {
        Image: spec.image,
        Labels: labels,
        Hostname: spec.name,
        Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
        Mounts: [
          { Type: 'volume', Source: volumeNameOf(spec.ref), Target: spec.diskPath, VolumeOptions: { Labels: labels } },
          ...spec.files.map((f) => ({ Type: 'bind' as const, Source: f.hostPath, Target: f.path, ReadOnly: true })),
        ],
        CapabilityDrop: ['ALL'],
        CapabilityAdd: capabilities,
        StopGracePeriod: STOP_GRACE_NS,
        HealthCheck: { Test: ['CMD', 'node', '/opt/bmcfleet/agent/healthcheck.js'], ...NODE_HEALTH_CHECK },
      },
      Resources: {
        Limits: { MemoryBytes: spec.limits.memoryBytes, NanoCPUs: Math.round(spec.limits.cpus * NANO_CPUS_PER_CPU), Pids: spec.limits.pids },
      },
      RestartPolicy: { Condition: 'any', Delay: RESTART_DELAY_NS },
      Placement: { Constraints: [placementConstraint(swarmNodeId)] },
      Networks: [nodesNetwork, ...spec.networks].map((n) => ({ Target: n })),
      LogDriver: { Name: 'json-file', Options: { 'max-size': LOG_MAX_SIZE, 'max-file': LOG_MAX_FILES } },
    },
    Mode: { Replicated: { Replicas: 1 } },
    EndpointSpec: {
      Mode: 'dnsrr',
      Ports: spec.ports.map((p) => ({ Name: p.name, Protocol: p.protocol, TargetPort: p.inside, PublishedPort: p.outside, PublishMode: 'host' as const })),
    },
  } as Dockerode.CreateServiceOptions;
}

/** A swarm node as the adapter needs it. */
export interface SwarmHostInfo {
  readonly nodeId: string;
  readonly name: string;
  /** Ready and Active: new nodes may go there. */
  readonly schedulable: boolean;
  /** Its status is down or unknown (its tasks are unreachable). */
  readonly down: boolean;
  readonly address: string;
  readonly memoryBytes: number;
  readonly cpus: number;
}

interface SwarmNodeJson {
  ID?: string;
  Spec?: { Labels?: Record<string, string>; Availability?: string };
  Description?: { Hostname?: string; Resources?: { MemoryBytes?: number; NanoCPUs?: number } };
  Status?: { State?: string; Addr?: string };
  ManagerStatus?: { Addr?: string };
}

/**
 * From the Engine's node object: its name (host name), whether nodes may go there, and its address:
 * the ADDRESS_LABEL when set, else the address it advertises (a manager may report 0.0.0.0 there:
 * then its manager address without the port).
 */
export function swarmHostOf(node: unknown): SwarmHostInfo {
  const n = node as SwarmNodeJson;
  const state = n.Status?.State ?? 'unknown';
  const override = n.Spec?.Labels?.[ADDRESS_LABEL];
  let address = n.Status?.Addr ?? '';
  if ((address === '' || address === '0.0.0.0') && n.ManagerStatus?.Addr) address = n.ManagerStatus.Addr.replace(/:\d+$/, '');
  return {
    nodeId: n.ID ?? '',
    name: n.Description?.Hostname ?? n.ID ?? '',
    schedulable: state === 'ready' && (n.Spec?.Availability ?? 'active') === 'active',
    down: state !== 'ready',
    address: override !== undefined && override !== '' ? override : address,
    memoryBytes: n.Description?.Resources?.MemoryBytes ?? 0,
    cpus: (n.Description?.Resources?.NanoCPUs ?? 0) / NANO_CPUS_PER_CPU,
  };
}

/**
 * Where a new node goes: the host named in the spec (by name or swarm node id; refused when unknown or
 * not schedulable), else the schedulable host with the fewest of the fleet's nodes (ties: by name).
 */
export function chooseHost(hosts: readonly SwarmHostInfo[], nodesPerHost: ReadonlyMap<string, number>, wanted: string | null): SwarmHostInfo {
  if (wanted !== null) {
    const host = hosts.find((h) => h.name === wanted || h.nodeId === wanted);
    if (host === undefined) throw new NodeSpecRefusedError(`host ${wanted} is not in the swarm (hosts: ${hosts.map((h) => h.name).join(', ') || 'none'})`);
    if (!host.schedulable) throw new NodeSpecRefusedError(`host ${wanted} takes no new nodes (it is down, paused or draining)`);
    return host;
  }
  const candidates = hosts.filter((h) => h.schedulable);
  if (candidates.length === 0) throw new NodeSpecRefusedError('no swarm host takes new nodes (none is ready and active)');
  return [...candidates].sort((a, b) => (nodesPerHost.get(a.nodeId) ?? 0) - (nodesPerHost.get(b.nodeId) ?? 0) || a.name.localeCompare(b.name))[0]!;
}
