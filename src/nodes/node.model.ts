/**
 * A node as the orchestrator knows it: the database row with its port leases, and the view the
 * API returns (no password, ever). Pure.
 */
import type { BmcTarget } from '../bmc/node-bmc';
import type { Node as NodeRow, PortLease } from '../generated/prisma/client';
import type { LeaseKind } from './lease-kinds';

export const MACHINES = ['qemu', 'sim'] as const;
export type MachineKind = (typeof MACHINES)[number];
export const BOOT_MODES = ['bios', 'uefi'] as const;
export type BootMode = (typeof BOOT_MODES)[number];
export const KVM_MODES = ['auto', 'true', 'false'] as const;
export type KvmMode = (typeof KVM_MODES)[number];
export const POWER_ACTIONS = ['on', 'off', 'cycle', 'reset', 'soft'] as const;
export type PowerActionName = (typeof POWER_ACTIONS)[number];

/** Lifecycle of a node row: creating → running; deleting until the container and leases are gone. */
export type NodeState = 'creating' | 'running' | 'deleting' | 'failed';
export type PowerState = 'on' | 'off' | 'unknown';
/** Whether a re-create on a kept disk reset the BMC's users to the node's credentials (BMC_USERS_RESET_ID). */
export type BmcUsersPolicy = 'reset' | 'kept';
export type { LeaseKind } from './lease-kinds';

/**
 * Node names become host names, runtime node names (Docker containers) and containerlab node names: lower-case
 * DNS labels (RFC 1123), at most 40 characters so `<fleet>-<name>` stays a short runtime name.
 */
export const NODE_NAME_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/;
export const NODE_NAME_RULE = 'a lower-case DNS label: 1–40 of a-z, 0-9 and "-", not starting or ending with "-"';

export type NodeWithLeases = NodeRow & { leases: PortLease[] };
/** What a view needs of a lease. */
export type LeaseRef = Pick<PortLease, 'kind' | 'port'>;
/** A row with (at least) its leases' kinds and ports: enough for a view. */
export type NodeWithLeaseRefs = NodeRow & { leases: readonly LeaseRef[] };

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

export interface NodeView {
  readonly id: string;
  readonly name: string;
  readonly state: NodeState;
  readonly powerState: PowerState;
  readonly powerObservedAt: string | null;
  readonly machine: MachineKind;
  readonly memoryMiB: number;
  readonly cpus: number;
  readonly diskSizeGiB: number;
  readonly cdrom: string | null;
  readonly bootMode: BootMode;
  readonly bootMenuTimeoutMs: number;
  readonly enableKvm: KvmMode;
  readonly powerOnAtStart: boolean;
  readonly networks: readonly string[];
  /** Interfaces others plug in after start (containerlab links), bridged into the VM as they appear. */
  readonly labInterfaces: readonly string[];
  readonly ipmi: Endpoint & { readonly user: string };
  /**
   * The VNC console; the password is never here: `passwordAt` is where to read it (null: none set).
   * null for a node whose BMC lives in a farm (a simulated machine has no screen).
   */
  readonly vnc: (Endpoint & { readonly passwordAt: string | null }) | null;
  /** The farm hosting the node's BMC (farm-1, …); null for a node that is its own runtime node. */
  readonly farm: string | null;
  /**
   * The node's Redfish service (HTTPS, the agent's own certificate) on its leased port; null for a node
   * made before Redfish ports, until its container is made anew.
   */
  readonly redfish: Endpoint | null;
  /** reset: the BMC's users were reset to `ipmi.user` and its password when the container was made. */
  readonly bmcUsers: BmcUsersPolicy;
  /** Whether the BMC answered the reconciler's last power check (null: not checked yet). */
  readonly bmcReachable: boolean | null;
  /** The node's runtime node: its name (a Docker container's) and the runtime's id of it (null until it first ran). */
  readonly container: { readonly name: string; readonly id: string | null };
  /** The host the node runs on, as its runtime names it (null until it first ran). */
  readonly host: string | null;
  readonly lastError: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export function leasePort(node: NodeWithLeaseRefs, kind: LeaseKind): number {
  const lease = node.leases.find((candidate) => candidate.kind === kind);
  if (lease === undefined) {
    throw new Error(`node ${node.name} has no ${kind} lease`);
  }
  return lease.port;
}

/** The port of that kind, or null when the node has no such lease (made before the kind existed). */
export function leasePortOrNull(node: NodeWithLeaseRefs, kind: LeaseKind): number | null {
  return node.leases.find((candidate) => candidate.kind === kind)?.port ?? null;
}

/** Where and as whom the orchestrator reaches a node's BMC: its leased port on the publish address. */
export function bmcTargetOf(node: NodeWithLeases, publishAddress: string): BmcTarget {
  return { host: publishAddress, port: leasePort(node, 'ipmi'), user: node.ipmiUser, password: node.ipmiPassword };
}

export function parseNetworks(json: string): string[] {
  const value: unknown = JSON.parse(json);
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

/** Where the API answers a node's VNC endpoint and password. */
export function vncPasswordPath(name: string): string {
  return `/api/v1/nodes/${name}/vnc`;
}

function endpointOrNull(host: string, port: number | null): Endpoint | null {
  return port === null ? null : { host, port };
}

/** The API's view of a node; publishAddress is where its ports are reachable. */
export function toNodeView(node: NodeWithLeaseRefs & { readonly farm?: { readonly name: string } | null }, publishAddress: string, farmName?: string | null): NodeView {
  const vncPort = leasePortOrNull(node, 'vnc');
  return {
    id: node.id,
    name: node.name,
    state: node.state as NodeState,
    powerState: node.powerState as PowerState,
    powerObservedAt: node.powerObservedAt?.toISOString() ?? null,
    machine: node.machine as MachineKind,
    memoryMiB: node.memoryMiB,
    cpus: node.cpus,
    diskSizeGiB: node.diskSizeGiB,
    cdrom: node.cdrom,
    bootMode: node.bootMode as BootMode,
    bootMenuTimeoutMs: node.bootMenuTimeoutMs,
    enableKvm: node.enableKvm as KvmMode,
    powerOnAtStart: node.powerOnAtStart,
    networks: parseNetworks(node.networks),
    labInterfaces: parseNetworks(node.labInterfaces),
    ipmi: { host: publishAddress, port: leasePort(node, 'ipmi'), user: node.ipmiUser },
    vnc: vncPort === null ? null : { host: publishAddress, port: vncPort, passwordAt: node.vncPassword === null ? null : vncPasswordPath(node.name) },
    farm: farmName ?? node.farm?.name ?? null,
    redfish: endpointOrNull(publishAddress, leasePortOrNull(node, 'redfish')),
    bmcUsers: node.bmcUsersResetId === null ? 'kept' : 'reset',
    bmcReachable: node.bmcReachable,
    container: { name: node.runtimeRef, id: node.runtimeId },
    host: node.host,
    lastError: node.lastError,
    createdAt: node.createdAt.toISOString(),
    updatedAt: node.updatedAt.toISOString(),
  };
}
