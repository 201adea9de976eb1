/**
 * From a node row to the runtime-neutral NodeSpec that runs it (pure): the agent's environment
 * (design.md section 1), published ports, devices, capabilities, files and limits. Shared by every
 * runtime and the containerlab `linux` rendering, so all run the same node.
 */
import { basename } from 'node:path';
import { isoHostPath } from '../media/cdrom-path';
import type { NodeDevice, NodeLimits, NodeSpec, PortToPublish } from '../runtime/node-runtime';
import { LeaseKind, leasePort, leasePortOrNull, NodeWithLeases, parseNetworks } from './node.model';

/** Where the node's ISO (`cdrom`, a path inside ISO_DIR) appears inside the container. */
export const CDROM_DIR = '/iso';
const MIB = 1024 * 1024;
/**
 * Memory a QEMU node needs beyond its VM's: QEMU itself (device models, firmware, TCG's translated
 * code), the agent (Node.js) and tini. Measured: a 128 MiB TCG guest booted to its shell made the
 * container use 206 MiB in all, a 1024 MiB one 243 MiB; TCG's code cache grows with what the guest
 * runs, hence the margin (docs/security.md, "Node containers").
 */
export const QEMU_MEMORY_OVERHEAD_MIB = 512;
/** A simulated server (MACHINE=sim) is the agent alone: about 60 MiB resident. */
export const SIM_MEMORY_MIB = 256;
/** CPU beyond one per vCPU: the agent and QEMU's I/O thread. */
const CPU_OVERHEAD = 0.5;
const SIM_CPUS = 1;
/** Processes and threads: tini, the agent and its helpers, QEMU's workers; one more per vCPU thread. */
const PIDS_BASE = 512;
/** Capabilities a node keeps: NET_ADMIN (tap and bridge devices for VM_NETWORKS), NET_BIND_SERVICE (IPMI on 623, Redfish on 443 when run with the agent's defaults). */
export const NODE_CAPABILITIES = ['NET_ADMIN', 'NET_BIND_SERVICE'] as const;
/** Where the node's persistent disk is mounted (disk image, NVRAM, BMC state). */
export const DISK_PATH = '/vm';

/** The node's first interface (its default network); attached networks follow as eth1, eth2, … */
const FIRST_VM_INTERFACE = 1;

export interface NodeSpecContext {
  readonly image: string;
  readonly publishAddress: string;
  /** ISO_DIR: a node's `cdrom` is a path relative to it, shown from the same path on the node's host. */
  readonly isoDir: string;
  /** NODE_DEFAULTS_* (agent variable → value); the node's own settings win over them. */
  readonly nodeDefaults: Readonly<Record<string, string>>;
  /** Whether the runtime's host can give /dev/kvm (RuntimeHost.kvm): asked for unless enableKvm is false. */
  readonly kvmAvailable: boolean;
}

/** Names of the interfaces that carry the node's networks, in the order they are attached. */
export function vmInterfaces(networkCount: number): string[] {
  return Array.from({ length: networkCount }, (_, index) => `eth${FIRST_VM_INTERFACE + index}`);
}

/** A node port inside its container and on the host. */
export interface PortMapping {
  readonly containerPort: number;
  readonly hostPort: number;
}

/**
 * Where a node's IPMI, VNC or Redfish port is: the leased port, inside the container as on the host.
 * Every published port and the agent's IPMI_PORT/VNC_PORT/REDFISH_PORT come from here, so they cannot
 * disagree.
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

/** The Redfish mapping, or null for a node made before Redfish ports (its agent keeps 443, unpublished). */
export function redfishMapping(node: NodeWithLeases): PortMapping | null {
  const port = leasePortOrNull(node, 'redfish');
  return port === null ? null : { containerPort: port, hostPort: port };
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
  const redfish = redfishMapping(node);
  // Same port inside and out: the agent's certificate and Location headers name the port clients use.
  if (redfish !== null) own['REDFISH_PORT'] = String(redfish.containerPort);
  // Without it the agent keeps VNC on the container's loopback (no published console).
  if (node.vncPassword !== null) own['VNC_PASSWORD'] = node.vncPassword;
  // The agent resets its users to IPMI_USER/IPMI_PASS once per distinct id (a kept disk's old users go).
  if (node.bmcUsersResetId !== null) own['BMC_USERS_RESET_ID'] = node.bmcUsersResetId;
  // The node's block of VM NIC MACs; a row made before it has none and keeps the MACs derived from its name.
  if (node.macId !== null) own['VM_MAC_ID'] = String(node.macId);
  if (node.cdrom !== null) {
    own['VM_CDROM'] = `${CDROM_DIR}/${basename(node.cdrom)}`;
  }
  const interfaces = [...vmInterfaces(networks.length), ...parseNetworks(node.labInterfaces)];
  if (interfaces.length > 0) {
    own['VM_NETWORKS'] = interfaces.join(',');
  }
  // Per-node secrets and ids come from the row only: a NODE_DEFAULTS_* of that name would be one for all.
  const { VNC_PASSWORD: _vnc, BMC_USERS_RESET_ID: _reset, VM_MAC_ID: _macId, ...defaults } = nodeDefaults;
  return { ...defaults, ...own };
}

/** Limits derived from the node: memory = VM memory + overhead, CPU = vCPUs + overhead, pids. */
export function nodeLimits(node: Pick<NodeWithLeases, 'machine' | 'memoryMiB' | 'cpus'>): NodeLimits {
  const sim = node.machine === 'sim';
  return {
    memoryBytes: (sim ? SIM_MEMORY_MIB : node.memoryMiB + QEMU_MEMORY_OVERHEAD_MIB) * MIB,
    cpus: sim ? SIM_CPUS : node.cpus + CPU_OVERHEAD,
    pids: PIDS_BASE + (sim ? 0 : node.cpus),
  };
}

/** The published ports in a fixed order: IPMI (UDP), VNC, then Redfish when leased (TCP). */
export function nodePorts(node: NodeWithLeases, publishAddress: string): PortToPublish[] {
  const port = (name: string, mapping: PortMapping, protocol: 'udp' | 'tcp'): PortToPublish =>
    ({ name, inside: mapping.containerPort, outside: mapping.hostPort, protocol, address: publishAddress });
  const redfish = redfishMapping(node);
  return [
    port('ipmi', portMapping(node, 'ipmi'), 'udp'),
    port('vnc', portMapping(node, 'vnc'), 'tcp'),
    ...(redfish === null ? [] : [port('redfish', redfish, 'tcp')]),
  ];
}

export function nodeSpec(node: NodeWithLeases, context: NodeSpecContext): NodeSpec {
  // true asks for KVM even where the runtime reports none (an orchestrator in a container cannot
  // see the host's /dev/kvm): the runtime then refuses or fails with its own clear message.
  const useKvm = node.enableKvm === 'true' || (node.enableKvm === 'auto' && context.kvmAvailable);
  const devices: NodeDevice[] = useKvm ? ['tun', 'kvm'] : ['tun'];
  return {
    nodeId: node.id,
    name: node.name,
    ref: node.runtimeRef,
    image: context.image,
    env: nodeEnvironment(node, context.nodeDefaults),
    ports: nodePorts(node, context.publishAddress),
    diskPath: DISK_PATH,
    // Exactly one file, read-only: the ISO the API checked inside ISO_DIR (never a directory).
    files: node.cdrom === null ? [] : [{ hostPath: isoHostPath(context.isoDir, node.cdrom), path: `${CDROM_DIR}/${basename(node.cdrom)}` }],
    devices,
    capabilities: [...NODE_CAPABILITIES],
    noNewPrivileges: true,
    networks: parseNetworks(node.networks),
    limits: nodeLimits(node),
    host: node.host,
  };
}
