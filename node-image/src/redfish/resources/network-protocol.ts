/**
 * The BMC's network services (ManagerNetworkProtocol v1_12_0), as the agent is configured: IPMI
 * over LAN (RMCP+, UDP) on IPMI_PORT, Redfish over HTTPS on REDFISH_PORT (off with `none`), the
 * VM's VNC console (RFB) on VNC_PORT where there is one; plain HTTP, SSH, Telnet, SNMP, SSDP and
 * the rest are not served. Read-only: the ports come from the agent's environment.
 */
import type { BmcCore, ManagerProtocols } from '../../core/bmc-core';
import type { JsonObject } from '../http-types';
import { notFound } from '../errors';
import { resourceResponse, type Route } from '../router';
import { P, SCHEMA, typeOf } from './paths';

const off = { ProtocolEnabled: false };
const served = (port: number | undefined): JsonObject => (port === undefined ? off : { ProtocolEnabled: true, Port: port });

export function networkProtocol(p: ManagerProtocols): JsonObject {
  return {
    '@odata.id': P.networkProtocol,
    '@odata.type': typeOf(SCHEMA.ManagerNetworkProtocol),
    Id: 'NetworkProtocol',
    Name: 'Manager Network Protocol',
    Description: 'The network services of this BMC',
    HostName: p.hostName,
    Status: { State: 'Enabled', Health: 'OK' },
    IPMI: served(p.ipmiPort),
    HTTPS: served(p.redfishPort),
    HTTP: off,
    RFB: served(p.vncPort),
    SSH: off,
    Telnet: off,
    SNMP: off,
    SSDP: off,
    KVMIP: off,
    VirtualMedia: off,
  };
}

export function networkProtocolRoutes(core: BmcCore): Route[] {
  return [{
    path: P.networkProtocol, schema: SCHEMA.ManagerNetworkProtocol,
    ops: {
      GET: {
        privilege: 'Login',
        handle: (ctx) => {
          if (!core.protocols) throw notFound(ctx.path);
          return resourceResponse(networkProtocol(core.protocols()));
        },
      },
    },
  }];
}
