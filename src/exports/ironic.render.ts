/**
 * The fleet as an Ironic resources file (pure), what `openstack baremetal create FILE.json` reads
 * (python-ironicclient ironicclient/v1/create_resources.py: an object with a "nodes" list; each node
 * is the body of POST /v1/nodes, with its "ports" posted after it, the node's UUID filled in).
 *
 * - driver ipmi: driver_info ipmi_address, ipmi_port, ipmi_username, ipmi_password (Ironic
 *   ironic/drivers/modules/ipmitool.py: ipmi_address required, the rest optional).
 * - driver redfish: redfish_address (the service root, https), redfish_system_id, redfish_username,
 *   redfish_password, redfish_verify_ca false for the node's self-signed certificate (Ironic
 *   ironic/drivers/modules/redfish/utils.py); redfish-virtualmedia is the redfish driver with
 *   boot_interface redfish-virtual-media, as Metal3 enrols it.
 * - properties cpus, memory_mb, local_gb, cpu_arch and capabilities boot_mode (what Ironic's
 *   scheduling and deploy read; inspection would find the same).
 * - uuid: the node's id in this fleet, the one the fleet Redfish endpoint serves it under.
 */
import { redfishBaseUrl, REDFISH_SYSTEM_PATH, type ExportDriver } from './bmc-address';
import type { ExportNode } from './export-node';
import { redfishOf, requireRedfish } from './redfish-endpoint';

export interface IronicPort {
  readonly address: string;
  readonly pxe_enabled: boolean;
  readonly extra: { readonly interface: string };
}

export type IronicDriverInfo = Readonly<Record<string, string | number | boolean>>;

export interface IronicNode {
  readonly name: string;
  readonly uuid: string;
  readonly driver: 'ipmi' | 'redfish';
  readonly driver_info: IronicDriverInfo;
  readonly boot_interface?: string;
  readonly properties: {
    readonly cpus: number;
    readonly memory_mb: number;
    readonly local_gb: number;
    readonly cpu_arch: string;
    readonly capabilities: string;
  };
  readonly extra: { readonly bmcfleet_machine: string };
  readonly ports: readonly IronicPort[];
}

export interface IronicResources {
  readonly nodes: readonly IronicNode[];
}

function driverInfo(node: ExportNode, driver: ExportDriver): IronicDriverInfo {
  const { user, password } = node.credentials;
  if (driver === 'ipmi') {
    return { ipmi_address: node.ipmi.host, ipmi_port: node.ipmi.port, ipmi_username: user, ipmi_password: password };
  }
  return {
    redfish_address: redfishBaseUrl(redfishOf(node)),
    redfish_system_id: REDFISH_SYSTEM_PATH,
    redfish_username: user,
    redfish_password: password,
    redfish_verify_ca: false,
  };
}

function ironicNode(node: ExportNode, driver: ExportDriver): IronicNode {
  return {
    name: node.name,
    uuid: node.id,
    driver: driver === 'ipmi' ? 'ipmi' : 'redfish',
    driver_info: driverInfo(node, driver),
    ...(driver === 'redfish-virtualmedia' ? { boot_interface: 'redfish-virtual-media' } : {}),
    properties: {
      cpus: node.cpus,
      memory_mb: node.memoryMiB,
      local_gb: node.diskSizeGiB,
      cpu_arch: 'x86_64',
      capabilities: `boot_mode:${node.bootMode === 'uefi' ? 'uefi' : 'bios'}`,
    },
    extra: { bmcfleet_machine: node.machine },
    ports: node.nics.map((nic, index) => ({ address: nic.mac, pxe_enabled: index === 0, extra: { interface: nic.name } })),
  };
}

export function renderIronic(nodes: readonly ExportNode[], driver: ExportDriver): IronicResources {
  if (driver !== 'ipmi') requireRedfish(nodes, driver);
  return { nodes: nodes.map((node) => ironicNode(node, driver)) };
}
