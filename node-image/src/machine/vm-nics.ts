/**
 * The VM's NICs as the BMC reports them (Redfish EthernetInterfaces) and provisioning systems enrol
 * them: which interfaces the machine has and the MAC of each. Pure, so the orchestrator derives the
 * same MACs from a node's settings without asking its BMC.
 */
import { nicMac } from './qemu-args';

/** The interface a simulated machine without VM_NETWORKS has, so that inventories find a MAC. */
export const SIM_DEFAULT_NIC = 'eth0';

/**
 * The VM's NICs: one per VM_NETWORKS entry, in that order. A simulated machine (MACHINE=sim) without
 * VM_NETWORKS has one simulated NIC, eth0 (Ironic inspection and PXE-less enrolment need a MAC).
 */
export function vmNicNames(machine: string, networks: readonly string[]): readonly string[] {
  return machine === 'sim' && networks.length === 0 ? [SIM_DEFAULT_NIC] : networks;
}

/** The VM NIC's MAC for `ifname` on node `nodeName`: the same across restarts and re-created containers. */
export function vmNicMac(nodeName: string, ifname: string): string {
  return nicMac(`${nodeName}/${ifname}`);
}
