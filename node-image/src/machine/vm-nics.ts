/**
 * The VM's NICs as the BMC reports them (Redfish EthernetInterfaces) and provisioning systems enrol
 * them: which interfaces the machine has and the MAC of each. Pure, so the orchestrator derives the
 * same MACs from a node's settings without asking its BMC.
 *
 * MACs: a node with VM_MAC_ID (allocated by the orchestrator, unique in its fleet) has the block
 * 52:55:<id, 3 bytes>:<NIC index> — unique by construction for 16,777,215 nodes of 256 NICs each.
 * A node without it (made before VM_MAC_ID, or run by hand) keeps the MACs derived from its name,
 * 52:54:00 + 3 hash bytes, which stay as they were but may collide in a large fleet.
 */
import { nicMac } from './qemu-args';

/** The interface a simulated machine without VM_NETWORKS has, so that inventories find a MAC. */
export const SIM_DEFAULT_NIC = 'eth0';
/** VM_MAC_ID's range: three bytes of the MAC, 0 left out (never allocated). */
export const VM_MAC_ID_MIN = 1;
export const VM_MAC_ID_MAX = 0xff_ffff;
/** NICs one MAC block holds (the last byte). */
export const VM_MACS_PER_ID = 256;
/** Locally administered, unicast (IEEE 802 section 8.2.2: bit 1 of the first byte set, bit 0 clear); apart from QEMU's 52:54:00. */
const ALLOCATED_MAC_PREFIX = [0x52, 0x55] as const;

/**
 * The VM's NICs: one per VM_NETWORKS entry, in that order. A simulated machine (MACHINE=sim) without
 * VM_NETWORKS has one simulated NIC, eth0 (Ironic inspection and PXE-less enrolment need a MAC).
 */
export function vmNicNames(machine: string, networks: readonly string[]): readonly string[] {
  return machine === 'sim' && networks.length === 0 ? [SIM_DEFAULT_NIC] : networks;
}

/** The MAC derived from the node's name and `ifname` (nodes without VM_MAC_ID): the same across restarts and re-created containers. */
export function vmNicMac(nodeName: string, ifname: string): string {
  return nicMac(`${nodeName}/${ifname}`);
}

/** NIC `index` of the block `macId`: 52:55:<macId>:<index>. */
export function allocatedNicMac(macId: number, index: number): string {
  if (!Number.isInteger(macId) || macId < VM_MAC_ID_MIN || macId > VM_MAC_ID_MAX) throw new RangeError(`a MAC id is an integer from ${VM_MAC_ID_MIN} to ${VM_MAC_ID_MAX}, got ${macId}`);
  if (!Number.isInteger(index) || index < 0 || index >= VM_MACS_PER_ID) throw new RangeError(`a node has at most ${VM_MACS_PER_ID} NICs (index ${index})`);
  const bytes = [...ALLOCATED_MAC_PREFIX, (macId >> 16) & 0xff, (macId >> 8) & 0xff, macId & 0xff, index];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** Where a node's MACs come from: its allocated block, or (null/undefined) its name. */
export interface VmMacSource {
  readonly nodeName: string;
  readonly macId?: number | null;
}

/** The MAC of NIC `index` (named `ifname`) of a node. */
export function nodeNicMac(source: VmMacSource, ifname: string, index: number): string {
  return source.macId === undefined || source.macId === null ? vmNicMac(source.nodeName, ifname) : allocatedNicMac(source.macId, index);
}

/** The node's NICs with their MACs, in the VM's order. */
export function vmNics(machine: string, networks: readonly string[], source: VmMacSource): { name: string; mac: string }[] {
  return vmNicNames(machine, networks).map((name, index) => ({ name, mac: nodeNicMac(source, name, index) }));
}
