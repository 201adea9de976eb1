/**
 * How each provisioning system names a node's BMC (pure). The Redfish system is the agent's only
 * ComputerSystem, /redfish/v1/Systems/1 (DSP0266 section 6, "Resource URIs"), served over HTTPS with
 * the node's own certificate (self-signed unless REDFISH_TLS_CERT is given), so every export turns
 * certificate verification off for it.
 */
import { P as REDFISH_PATHS } from '../../node-image/src/redfish/resources/paths';
import type { Endpoint } from '../nodes/node.model';

/**
 * ipmi: IPMI 2.0 over RMCP+ (UDP); redfish: Redfish power and boot with network boot;
 * redfish-virtualmedia: Redfish with the deploy image on the BMC's virtual CD.
 */
export const EXPORT_DRIVERS = ['ipmi', 'redfish', 'redfish-virtualmedia'] as const;
export type ExportDriver = (typeof EXPORT_DRIVERS)[number];
export const DEFAULT_EXPORT_DRIVER: ExportDriver = 'ipmi';

export const REDFISH_SYSTEM_PATH = REDFISH_PATHS.system;

/** A host as URLs write it: IPv6 addresses in brackets (RFC 3986 section 3.2.2). */
export function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** host:port, IPv6 in brackets (what FreeIPMI's -h and URLs accept). */
export function hostPort(endpoint: Endpoint): string {
  return `${urlHost(endpoint.host)}:${endpoint.port}`;
}

/** The node's Redfish service root, e.g. https://127.0.0.1:17000 (Ironic's redfish_address, MAAS's power_address). */
export function redfishBaseUrl(endpoint: Endpoint): string {
  return `https://${hostPort(endpoint)}`;
}

/**
 * Metal3's spec.bmc.address (baremetal-operator pkg/hardwareutils/bmc): ipmi://host:port, or
 * redfish[-virtualmedia]://host:port/redfish/v1/Systems/1 (https is the scheme it assumes).
 */
export function metal3BmcAddress(driver: ExportDriver, ipmi: Endpoint, redfish: Endpoint): string {
  if (driver === 'ipmi') return `ipmi://${hostPort(ipmi)}`;
  return `${driver}://${hostPort(redfish)}${REDFISH_SYSTEM_PATH}`;
}

/** Client addresses that mean "every interface" on a server: nothing can be reached there. */
export function isUnspecifiedAddress(host: string): boolean {
  return host === '0.0.0.0' || /^[0:]*:[0:]*$/.test(host);
}
