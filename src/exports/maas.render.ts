/**
 * The fleet as MAAS machines (pure): per node the parameters of `maas $PROFILE machines create`
 * (MAAS src/maasserver/api/machines.py: architecture and mac_addresses required; hostname,
 * power_type, power_parameters_<name>) and the power parameters of its power driver (MAAS
 * src/provisioningserver/drivers/power/ipmi.py and redfish.py, `settings`):
 *
 * - ipmi: power_driver LAN_2_0 (RMCP+), power_address host:port (ipmipower's -h takes a port after
 *   the host), power_user, power_pass, cipher_suite_id 17, privilege_level ADMIN, power_boot_type
 *   efi or legacy as the node's firmware.
 * - redfish: power_address https://host:port, power_user, power_pass, node_id 1 (the system under
 *   /redfish/v1/Systems). MAAS has no virtual-media power type: redfish-virtualmedia is refused.
 *
 * MAAS needs a MAC per machine: a node whose VM has no NIC (a qemu node without networks) is refused
 * with its name.
 */
import { SYSTEM_ID } from '../../node-image/src/redfish/resources/paths';
import { hostPort, redfishBaseUrl, type ExportDriver } from './bmc-address';
import type { ExportNode } from './export-node';
import { ExportError, ExportErrorCode, namesText } from './export.error';
import { redfishOf, requireRedfish } from './redfish-endpoint';

/** MAAS architecture names are Debian's with a subarchitecture. */
export const MAAS_ARCHITECTURE = 'amd64/generic';

export type MaasPowerType = 'ipmi' | 'redfish';
export type MaasPowerParameters = Readonly<Record<string, string>>;

export interface MaasMachine {
  readonly hostname: string;
  readonly architecture: string;
  readonly mac_addresses: readonly string[];
  readonly power_type: MaasPowerType;
  readonly power_parameters: MaasPowerParameters;
}

export interface MaasMachines {
  readonly machines: readonly MaasMachine[];
}

function powerParameters(node: ExportNode, powerType: MaasPowerType): MaasPowerParameters {
  const { user, password } = node.credentials;
  if (powerType === 'ipmi') {
    return {
      power_driver: 'LAN_2_0',
      power_address: hostPort(node.ipmi),
      power_user: user,
      power_pass: password,
      cipher_suite_id: '17',
      privilege_level: 'ADMIN',
      power_boot_type: node.bootMode === 'uefi' ? 'efi' : 'legacy',
    };
  }
  return { power_address: redfishBaseUrl(redfishOf(node)), power_user: user, power_pass: password, node_id: SYSTEM_ID };
}

export function maasPowerType(driver: ExportDriver): MaasPowerType {
  if (driver === 'redfish-virtualmedia') {
    throw new ExportError(ExportErrorCode.UnsupportedDriver, 'MAAS has no virtual-media power type: use driver=redfish (MAAS boots its machines from the network) or driver=ipmi');
  }
  return driver;
}

export function renderMaas(nodes: readonly ExportNode[], driver: ExportDriver): MaasMachines {
  const powerType = maasPowerType(driver);
  if (powerType === 'redfish') requireRedfish(nodes, driver);
  const withoutNic = nodes.filter((node) => node.nics.length === 0).map((node) => node.name);
  if (withoutNic.length > 0) {
    throw new ExportError(ExportErrorCode.NoNic, `MAAS needs a MAC address per machine, and the VMs of these nodes have no NIC (create them with networks or labInterfaces, or leave them out): ${namesText(withoutNic)}`);
  }
  return {
    machines: nodes.map((node) => ({
      hostname: node.name,
      architecture: MAAS_ARCHITECTURE,
      mac_addresses: node.nics.map((nic) => nic.mac),
      power_type: powerType,
      power_parameters: powerParameters(node, powerType),
    })),
  };
}
