/**
 * From an orphan runtime node (a container on Docker) back to the row that would make it (pure): the
 * inverse of nodeEnvironment / nodeSpec (src/nodes/node-spec.ts), read from what NodeRuntime.observe
 * reports. The reconciler adopts one only when this rebuilds the node completely, so a later
 * re-create gives the same node; otherwise it says why, and it is removed (its /vm disk stays).
 */
import { VM_MAC_ID_MAX, VM_MAC_ID_MIN } from '../../node-image/src/machine/vm-nics';
import type { PortRange } from '../config/app-config';
import type { ObservedNode } from '../runtime/node-runtime';
import { vmInterfaces } from '../nodes/node-spec';
import { LEASE_KIND_INFO, leaseRange } from '../nodes/lease-kinds';
import {
  BOOT_MODES,
  KVM_MODES,
  MACHINES,
  NODE_NAME_PATTERN,
  type BootMode,
  type KvmMode,
  type LeaseKind,
  type MachineKind,
} from '../nodes/node.model';


/** The agent's defaults (design.md section 1) for variables a container may lack. */
const AGENT_DEFAULTS = {
  MACHINE: 'qemu',
  VM_MEMORY: '2048',
  VM_CPUS: '2',
  VM_DISK_SIZE: '20G',
  VM_BOOT_MODE: 'bios',
  VM_BOOT_MENU_TIMEOUT: '0',
  ENABLE_KVM: 'auto',
  POWER_ON_AT_START: 'false',
  IPMI_USER: 'admin',
  IPMI_PASS: 'password',
} as const;

/** What adoption must not take from another node. */
export interface AdoptionContext {
  readonly fleetName: string;
  readonly ipmiPortRange: PortRange;
  readonly vncPortRange: PortRange;
  readonly redfishPortRange: PortRange;
  /** Node names that have a row. */
  readonly takenNames: ReadonlySet<string>;
  /** Runtime refs that have a row (rows made under another FLEET_NAME keep theirs). */
  readonly takenRefs: ReadonlySet<string>;
  /** Ports leased to rows on the runtime node's host (or on every host), by kind. */
  readonly leasedPorts: Readonly<Record<LeaseKind, ReadonlySet<number>>>;
}

/** The Node row (and its leases) an adopted runtime node gets. */
export interface AdoptedNode {
  readonly id: string;
  readonly name: string;
  readonly machine: MachineKind;
  readonly memoryMiB: number;
  readonly cpus: number;
  readonly diskSizeGiB: number;
  readonly cdrom: null;
  readonly bootMode: BootMode;
  readonly bootMenuTimeoutMs: number;
  readonly enableKvm: KvmMode;
  readonly powerOnAtStart: boolean;
  /** JSON arrays, as the row stores them. */
  readonly networks: string;
  readonly labInterfaces: string;
  readonly ipmiUser: string;
  readonly ipmiPassword: string;
  /** VNC_PASSWORD and BMC_USERS_RESET_ID as the container has them (null: not set). */
  readonly vncPassword: string | null;
  readonly bmcUsersResetId: string | null;
  /** VM_MAC_ID as the container has it (null: not set, a node made before MAC blocks). */
  readonly macId: number | null;
  readonly runtimeRef: string;
  readonly runtimeId: string;
  readonly host: string;
  /** Redfish absent: it was made before Redfish ports (its next re-create leases one). */
  readonly ports: Readonly<Record<'ipmi' | 'vnc', number>> & { readonly redfish?: number };
}

export type AdoptionDecision =
  | { readonly adoptable: true; readonly node: AdoptedNode }
  | { readonly adoptable: false; readonly reason: string };

/** Thrown inside this module only, turned into a reason. */
class NotAdoptable extends Error {}

function refuse(reason: string): never {
  throw new NotAdoptable(reason);
}

function envOr(env: Readonly<Record<string, string>>, name: keyof typeof AGENT_DEFAULTS): string {
  return env[name] ?? AGENT_DEFAULTS[name];
}

function integerVariable(env: Readonly<Record<string, string>>, name: keyof typeof AGENT_DEFAULTS, min: number): number {
  const raw = envOr(env, name);
  if (!/^[0-9]+$/.test(raw) || Number(raw) < min) refuse(`${name}=${JSON.stringify(raw)} is not an integer >= ${min}`);
  return Number(raw);
}

/** VM_MAC_ID (vm-nics.ts): null when unset; a value the agent would refuse is refused here too. */
function macIdVariable(env: Readonly<Record<string, string>>): number | null {
  const raw = env['VM_MAC_ID'];
  if (raw === undefined || raw === '') return null;
  if (!/^[0-9]+$/.test(raw) || Number(raw) < VM_MAC_ID_MIN || Number(raw) > VM_MAC_ID_MAX) refuse(`VM_MAC_ID=${JSON.stringify(raw)} is not an integer from ${VM_MAC_ID_MIN} to ${VM_MAC_ID_MAX}`);
  return Number(raw);
}

function choiceVariable<T extends string>(env: Readonly<Record<string, string>>, name: keyof typeof AGENT_DEFAULTS, choices: readonly T[]): T {
  const raw = envOr(env, name);
  const found = choices.find((choice) => choice === raw);
  if (found === undefined) refuse(`${name}=${JSON.stringify(raw)} is not one of ${choices.join(', ')}`);
  return found;
}

function inRange(port: number, range: PortRange): boolean {
  return port >= range.first && port <= range.last;
}

/**
 * The port the agent listens on (IPMI_PORT / VNC_PORT / REDFISH_PORT) must be published on the same
 * host port, lie in the configured range and be leased to nobody else.
 */
function publishedPort(
  container: ObservedNode,
  kind: LeaseKind,
  context: AdoptionContext,
): number {
  const { agentVariable: variable, protocol, rangeVariable, title } = LEASE_KIND_INFO[kind];
  const range = leaseRange(context, kind);
  const raw = container.env[variable];
  if (raw === undefined || !/^[0-9]+$/.test(raw)) refuse(`${variable}=${JSON.stringify(raw ?? '')} is not a port number`);
  const port = Number(raw);
  const hostPort = container.published[`${port}/${protocol}`];
  if (hostPort !== port) {
    refuse(`${variable}=${port} is not published as ${port}:${port}/${protocol}${hostPort === undefined ? '' : ` (it is on host port ${hostPort})`}`);
  }
  if (!inRange(port, range)) refuse(`${title} port ${port} lies outside ${rangeVariable} ${range.first}-${range.last}`);
  if (context.leasedPorts[kind].has(port)) refuse(`${title} port ${port} is leased to another node`);
  return port;
}

/** Networks (eth1, eth2, … in VM_NETWORKS) and the lab interfaces that follow them. */
function interfaces(container: ObservedNode): { networks: string[]; labInterfaces: string[] } {
  // Attach order is what the runtime lists; nodes on one network (the common case) are unambiguous.
  const networks = [...container.networks];
  const listed = (container.env['VM_NETWORKS'] ?? '').split(',').filter((name) => name !== '');
  const expected = vmInterfaces(networks.length);
  if (expected.some((name, index) => listed[index] !== name)) {
    refuse(`attached to ${networks.length} network(s) (${networks.join(', ') || 'none'}) but VM_NETWORKS=${JSON.stringify(listed.join(','))} does not start with ${expected.join(',')}`);
  }
  return { networks, labInterfaces: listed.slice(expected.length) };
}

/** Rebuilds the node of an observed orphan runtime node, or says why it cannot. */
export function nodeFromContainer(container: ObservedNode, context: AdoptionContext): AdoptionDecision {
  try {
    return { adoptable: true, node: rebuild(container, context) };
  } catch (error) {
    if (error instanceof NotAdoptable) return { adoptable: false, reason: error.message };
    throw error;
  }
}

function rebuild(container: ObservedNode, context: AdoptionContext): AdoptedNode {
  const id = container.nodeId ?? '';
  if (id === '') refuse('it carries no node id');
  const name = container.nodeName ?? '';
  if (!NODE_NAME_PATTERN.test(name)) refuse(`its node name ${JSON.stringify(name)} is not a node name`);
  const runtimeRef = `${context.fleetName}-${name}`;
  if (container.ref !== runtimeRef) refuse(`its name ${container.ref} is not ${runtimeRef} (FLEET_NAME-node)`);
  if (context.takenNames.has(name)) refuse(`node name ${name} belongs to another node`);
  if (context.takenRefs.has(runtimeRef)) refuse(`name ${runtimeRef} belongs to another node`);
  const { env } = container;
  if (env['VM_CDROM'] !== undefined) {
    refuse(`it has a CD-ROM (VM_CDROM=${env['VM_CDROM']}) whose host path the runtime does not reveal`);
  }
  const diskSize = /^([1-9][0-9]*)G$/.exec(envOr(env, 'VM_DISK_SIZE'));
  if (diskSize?.[1] === undefined) refuse(`VM_DISK_SIZE=${JSON.stringify(envOr(env, 'VM_DISK_SIZE'))} is not a whole number of GiB (e.g. 20G)`);
  const powerOnAtStart = envOr(env, 'POWER_ON_AT_START');
  if (powerOnAtStart !== 'true' && powerOnAtStart !== 'false') refuse(`POWER_ON_AT_START=${JSON.stringify(powerOnAtStart)} is neither true nor false`);
  const ipmiUser = envOr(env, 'IPMI_USER');
  if (ipmiUser === '') refuse('IPMI_USER is empty');
  const { networks, labInterfaces } = interfaces(container);
  const ports = {
    ipmi: publishedPort(container, 'ipmi', context),
    vnc: publishedPort(container, 'vnc', context),
    // A container made before Redfish ports has no REDFISH_PORT (its agent serves 443, unpublished).
    ...(container.env['REDFISH_PORT'] === undefined ? {} : { redfish: publishedPort(container, 'redfish', context) }),
  };
  // Same-port nodes need no IPMI_SOL_PORT (a re-create sets none); one naming another port breaks SOL.
  const solPort = env['IPMI_SOL_PORT'];
  if (solPort !== undefined && solPort !== '' && solPort !== String(ports.ipmi)) {
    refuse(`IPMI_SOL_PORT=${JSON.stringify(solPort)} names another SOL port than the one its IPMI is published on (${ports.ipmi})`);
  }
  return {
    id,
    name,
    machine: choiceVariable(env, 'MACHINE', MACHINES),
    memoryMiB: integerVariable(env, 'VM_MEMORY', 1),
    cpus: integerVariable(env, 'VM_CPUS', 1),
    diskSizeGiB: Number(diskSize[1]),
    cdrom: null,
    bootMode: choiceVariable(env, 'VM_BOOT_MODE', BOOT_MODES),
    bootMenuTimeoutMs: integerVariable(env, 'VM_BOOT_MENU_TIMEOUT', 0),
    enableKvm: choiceVariable(env, 'ENABLE_KVM', KVM_MODES),
    powerOnAtStart: powerOnAtStart === 'true',
    networks: JSON.stringify(networks),
    labInterfaces: JSON.stringify(labInterfaces),
    ipmiUser,
    ipmiPassword: envOr(env, 'IPMI_PASS'),
    vncPassword: env['VNC_PASSWORD'] ?? null,
    bmcUsersResetId: env['BMC_USERS_RESET_ID'] ?? null,
    macId: macIdVariable(env),
    runtimeRef,
    runtimeId: container.runtimeId,
    host: container.host,
    ports,
  };
}
