/**
 * The resources the fleet endpoint serves itself (pure): ServiceRoot, the Systems/Managers/Chassis
 * collections of the nodes a caller may see, the SessionService and its sessions, the OData service
 * document. Schema versions are the agent's (node-image/src/redfish/resources/paths.ts), so a client
 * sees one service whether it talks to a node or to the fleet.
 */
import { sessionResource as agentSessionResource } from '../../node-image/src/redfish/resources/sessions';
import type { JsonObject } from '../../node-image/src/redfish/http-types';
import { collection, idRef } from '../../node-image/src/redfish/router';
import { SCHEMA, typeOf } from '../../node-image/src/redfish/resources/paths';
import { REDFISH_VERSION } from '../../node-image/src/redfish/resources/service-root';
import { FLEET_PATHS, NODE_COLLECTIONS, ROOT, type NodeCollection } from './fleet-paths';

export const FLEET_PRODUCT = 'bmcfleet fleet Redfish endpoint';

const COLLECTION_TYPES: Readonly<Record<NodeCollection, { type: string; name: string }>> = {
  Systems: { type: 'ComputerSystemCollection', name: 'Computer System Collection' },
  Managers: { type: 'ManagerCollection', name: 'Manager Collection' },
  Chassis: { type: 'ChassisCollection', name: 'Chassis Collection' },
};

export function fleetServiceRoot(fleetUuid: string): JsonObject {
  return {
    '@odata.id': ROOT,
    '@odata.type': typeOf(SCHEMA.ServiceRoot),
    Id: 'RootService',
    Name: 'Root Service',
    RedfishVersion: REDFISH_VERSION,
    UUID: fleetUuid,
    Vendor: 'bmcfleet',
    Product: FLEET_PRODUCT,
    Systems: idRef(`${ROOT}/Systems`),
    Managers: idRef(`${ROOT}/Managers`),
    Chassis: idRef(`${ROOT}/Chassis`),
    SessionService: idRef(FLEET_PATHS.sessionService),
    Links: { Sessions: idRef(FLEET_PATHS.sessions) },
  };
}

/** The collection of the nodes' members, by node id (the caller's visible nodes only). */
export function nodeCollection(which: NodeCollection, nodeIds: readonly string[]): JsonObject {
  const { type, name } = COLLECTION_TYPES[which];
  return collection(`${ROOT}/${which}`, type, name, [...nodeIds].sort().map((id) => `${ROOT}/${which}/${id}`));
}

export function odataServiceDocument(): JsonObject {
  const singletons: Array<[string, string]> = [
    ...NODE_COLLECTIONS.map((name): [string, string] => [name, `${ROOT}/${name}`]),
    ['SessionService', FLEET_PATHS.sessionService],
  ];
  return {
    '@odata.context': FLEET_PATHS.metadata,
    value: [{ name: 'Service', kind: 'Singleton', url: `${ROOT}/` }, ...singletons.map(([name, url]) => ({ name, kind: 'Singleton', url }))],
  };
}

export interface FleetSessionView {
  readonly id: string;
  readonly userName: string;
  readonly createdAt: number;
  readonly remote: string;
}

export function sessionServiceResource(timeoutS: number): JsonObject {
  return {
    '@odata.id': FLEET_PATHS.sessionService,
    '@odata.type': typeOf(SCHEMA.SessionService),
    Id: 'SessionService',
    Name: 'Session Service',
    ServiceEnabled: true,
    SessionTimeout: timeoutS,
    Status: { State: 'Enabled', Health: 'OK' },
    Sessions: idRef(FLEET_PATHS.sessions),
  };
}

/** The fleet's sessions live at the agent's Sessions URI, so they are the agent's Session resource. */
export function sessionResource(s: FleetSessionView): JsonObject {
  return agentSessionResource(s);
}

export function sessionCollection(ids: readonly string[]): JsonObject {
  return collection(FLEET_PATHS.sessions, 'SessionCollection', 'Session Collection', ids.map((id) => `${FLEET_PATHS.sessions}/${id}`));
}
