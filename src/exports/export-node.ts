/**
 * A node as the provisioning hand-offs read it (pure): where its BMC answers (IPMI, and Redfish when
 * it has a Redfish port), the BMC credentials the orchestrator gave it, the VM's size and its NICs'
 * MACs. The MACs are the agent's own (node-image/src/machine/vm-nics.ts): one per VM interface, or
 * eth0 for a simulated machine without networks; the node's Redfish EthernetInterfaces report the same.
 */
import { vmNics } from '../../node-image/src/machine/vm-nics';
import type { BmcCredentials } from '../fleet-redfish/fleet-credentials';
import { vmInterfaces } from '../nodes/node-spec';
import {
  type BootMode, type Endpoint, leasePort, leasePortOrNull, type MachineKind, type NodeWithLeases, parseNetworks,
} from '../nodes/node.model';

export interface ExportNic {
  readonly name: string;
  readonly mac: string;
}

export interface ExportNode {
  readonly id: string;
  readonly name: string;
  readonly machine: MachineKind;
  readonly cpus: number;
  readonly memoryMiB: number;
  readonly diskSizeGiB: number;
  readonly bootMode: BootMode;
  readonly ipmi: Endpoint;
  /** null: the node was made before Redfish ports, until its container is made anew. */
  readonly redfish: Endpoint | null;
  readonly credentials: BmcCredentials;
  /** In the VM's order; the first is the one that boots from the network. */
  readonly nics: readonly ExportNic[];
}

/** The VM's NICs of a stored node, as its agent makes them. */
export function nicsOf(row: Pick<NodeWithLeases, 'name' | 'machine' | 'networks' | 'labInterfaces' | 'macId'>): ExportNic[] {
  const interfaces = [...vmInterfaces(parseNetworks(row.networks).length), ...parseNetworks(row.labInterfaces)];
  return vmNics(row.machine, interfaces, { nodeName: row.name, macId: row.macId });
}

/** `host` is where provisioning systems reach the node's published ports. */
export function exportNodeOf(row: NodeWithLeases, host: string): ExportNode {
  const redfishPort = leasePortOrNull(row, 'redfish');
  return {
    id: row.id,
    name: row.name,
    machine: row.machine as MachineKind,
    cpus: row.cpus,
    memoryMiB: row.memoryMiB,
    diskSizeGiB: row.diskSizeGiB,
    bootMode: row.bootMode as BootMode,
    ipmi: { host, port: leasePort(row, 'ipmi') },
    redfish: redfishPort === null ? null : { host, port: redfishPort },
    credentials: { user: row.ipmiUser, password: row.ipmiPassword },
    nics: nicsOf(row),
  };
}
