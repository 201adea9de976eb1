/**
 * From a node row to the container that runs it (pure): the agent's environment (design.md section 1),
 * published ports, devices, capabilities and binds. Shared by the Docker path and the containerlab
 * `linux` rendering, so both run the same node.
 */
import { basename } from 'node:path';
import { isoHostPath } from '../media/cdrom-path';
import type { NodeContainerSpec } from '../docker/docker-adapter';
import { LABELS } from '../docker/docker-adapter';
import { LeaseKind, leasePort, NodeWithLeases, parseNetworks } from './node.model';

/** Where the node's ISO (`cdrom`, a path inside ISO_DIR) appears inside the container. */
export const CDROM_DIR = '/iso';
/** The first interface Docker gives a container; attached networks follow as eth1, eth2, … */
const FIRST_VM_INTERFACE = 1;

export interface ContainerSpecContext {
  readonly fleetId: string;
  readonly image: string;
  readonly publishAddress: string;
  /** ISO_DIR: a node's `cdrom` is a path relative to it, bound from the same path on the Docker host. */
  readonly isoDir: string;
  /** NODE_DEFAULTS_* (agent variable → value); the node's own settings win over them. */
  readonly nodeDefaults: Readonly<Record<string, string>>;
  /** Whether /dev/kvm exists on the Docker host (passed through unless enableKvm is false). */
  readonly kvmAvailable: boolean;
}

/** Names of the interfaces that carry the node's networks, in the order they are attached. */
export function vmInterfaces(networkCount: number): string[] {
  return Array.from({ length: networkCount }, (_, index) => `eth${FIRST_VM_INTERFACE + index}`);
}

export function nodeLabels(fleetId: string, node: { id: string; name: string }): Record<string, string> {
  return {
    [LABELS.managed]: 'true',
    [LABELS.fleet]: fleetId,
    [LABELS.node]: node.name,
    [LABELS.nodeId]: node.id,
    [LABELS.role]: 'node',
  };
}

/** A node port inside its container and on the host. */
export interface PortMapping {
  readonly containerPort: number;
  readonly hostPort: number;
}

/**
 * Where a node's IPMI or VNC port is: the leased port, inside the container as on the host. Every
 * published port and the agent's IPMI_PORT/VNC_PORT come from here, so they cannot disagree.
 */
export function portMapping(node: NodeWithLeases, kind: LeaseKind): PortMapping {
  const port = leasePort(node, kind);
  return { containerPort: port, hostPort: port };
}

/**
 * The agent's IPMI port variables for a mapping: IPMI_PORT, where it listens inside; and, whenever
 * the host port differs, IPMI_SOL_PORT, the port Activate Payload must name for SOL (ipmitool refuses
 * SOL on any other port than the one it talks to). Same-port mappings need none.
 */
export function ipmiPortEnvironment(mapping: PortMapping): Record<string, string> {
  return {
    IPMI_PORT: String(mapping.containerPort),
    ...(mapping.hostPort === mapping.containerPort ? {} : { IPMI_SOL_PORT: String(mapping.hostPort) }),
  };
}

export function nodeEnvironment(node: NodeWithLeases, nodeDefaults: Readonly<Record<string, string>>): Record<string, string> {
  const networks = parseNetworks(node.networks);
  const own: Record<string, string> = {
    NODE_NAME: node.name,
    MACHINE: node.machine,
    VM_MEMORY: String(node.memoryMiB),
    VM_CPUS: String(node.cpus),
    VM_DISK_SIZE: `${node.diskSizeGiB}G`,
    VM_BOOT_MODE: node.bootMode,
    VM_BOOT_MENU_TIMEOUT: String(node.bootMenuTimeoutMs),
    ENABLE_KVM: node.enableKvm,
    POWER_ON_AT_START: String(node.powerOnAtStart),
    IPMI_USER: node.ipmiUser,
    IPMI_PASS: node.ipmiPassword,
    ...ipmiPortEnvironment(portMapping(node, 'ipmi')),
    VNC_PORT: String(portMapping(node, 'vnc').containerPort),
  };
  if (node.cdrom !== null) {
    own['VM_CDROM'] = `${CDROM_DIR}/${basename(node.cdrom)}`;
  }
  const interfaces = [...vmInterfaces(networks.length), ...parseNetworks(node.labInterfaces)];
  if (interfaces.length > 0) {
    own['VM_NETWORKS'] = interfaces.join(',');
  }
  return { ...nodeDefaults, ...own };
}

export function nodeContainerSpec(node: NodeWithLeases, context: ContainerSpecContext): NodeContainerSpec {
  // true asks for KVM even where this process cannot see /dev/kvm (an orchestrator in a container):
  // Docker then fails the create with its own clear message if the host has none.
  const useKvm = node.enableKvm === 'true' || (node.enableKvm === 'auto' && context.kvmAvailable);
  const ipmi = portMapping(node, 'ipmi');
  const vnc = portMapping(node, 'vnc');
  return {
    name: node.containerName,
    image: context.image,
    labels: nodeLabels(context.fleetId, node),
    env: nodeEnvironment(node, context.nodeDefaults),
    ipmi: { hostIp: context.publishAddress, port: ipmi.hostPort, containerPort: ipmi.containerPort },
    vnc: { hostIp: context.publishAddress, port: vnc.hostPort, containerPort: vnc.containerPort },
    volumeName: node.volumeName,
    // Exactly one file, read-only: the ISO the API checked inside ISO_DIR (never a directory).
    readOnlyBinds: node.cdrom === null ? [] : [{ hostPath: isoHostPath(context.isoDir, node.cdrom), containerPath: `${CDROM_DIR}/${basename(node.cdrom)}` }],
    devices: useKvm ? ['/dev/net/tun', '/dev/kvm'] : ['/dev/net/tun'],
    capAdd: ['NET_ADMIN'],
  };
}
