/**
 * The unauthenticated entry points (DSP0266 sections 9.2 and 13.3.1): `/redfish` (version map),
 * `/redfish/v1` (ServiceRoot), `/redfish/v1/odata` (OData service document) and
 * `/redfish/v1/$metadata` (CSDL naming the schemas used). Clients (sushy, gofish) read the root
 * before they log in.
 */
import type { BmcCore } from '../../core/bmc-core';
import type { JsonObject } from '../http-types';
import { idRef, resourceResponse, type Route } from '../router';
import { P, ROOT, SCHEMA, typeOf } from './paths';

/** DSP0266 version this service implements (Ironic's profile requires at least 1.6.0). */
export const REDFISH_VERSION = '1.21.0';

export function serviceRoot(core: BmcCore): JsonObject {
  return {
    '@odata.id': ROOT,
    '@odata.type': typeOf(SCHEMA.ServiceRoot),
    Id: 'RootService',
    Name: 'Root Service',
    RedfishVersion: REDFISH_VERSION,
    UUID: core.bmcUuid,
    Vendor: core.product.manufacturer,
    Product: core.product.productName,
    Systems: idRef(P.systems),
    Managers: idRef(P.managers),
    Chassis: idRef(P.chassisCollection),
    SessionService: idRef(P.sessionService),
    AccountService: idRef(P.accountService),
    EventService: idRef(P.eventService),
    Tasks: idRef(P.taskService),
    Links: { Sessions: idRef(P.sessions) },
  };
}

const SINGLETONS: ReadonlyArray<[string, string]> = [
  ['Systems', P.systems], ['Managers', P.managers], ['Chassis', P.chassisCollection],
  ['SessionService', P.sessionService], ['AccountService', P.accountService],
  ['EventService', P.eventService], ['Tasks', P.taskService],
];

/** Namespaces $metadata references: every versioned schema served, and the collections. */
function metadataXml(): string {
  const refs: string[] = [];
  const ref = (file: string, ns: readonly string[]): void => {
    refs.push(`  <edmx:Reference Uri="http://redfish.dmtf.org/schemas/v1/${file}_v1.xml">\n${ns.map((n) => `    <edmx:Include Namespace="${n}"/>`).join('\n')}\n  </edmx:Reference>`);
  };
  for (const versioned of Object.values(SCHEMA)) {
    const type = versioned.split('.')[0]!;
    ref(type, [type, versioned]);
  }
  for (const c of ['ComputerSystemCollection', 'ManagerCollection', 'ChassisCollection', 'SessionCollection', 'ManagerAccountCollection', 'RoleCollection', 'LogServiceCollection', 'LogEntryCollection',
    'EthernetInterfaceCollection', 'ProcessorCollection', 'MemoryCollection', 'StorageCollection', 'SimpleStorageCollection',
    'EventDestinationCollection', 'TaskCollection']) ref(c, [c]);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<edmx:Edmx xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx" Version="4.0">',
    ...refs,
    '  <edmx:DataServices>',
    '    <Schema xmlns="http://docs.oasis-open.org/odata/ns/edm" Namespace="Service">',
    `      <EntityContainer Name="Service" Extends="${SCHEMA.ServiceRoot}.ServiceContainer"/>`,
    '    </Schema>',
    '  </edmx:DataServices>',
    '</edmx:Edmx>',
    '',
  ].join('\n');
}

export function serviceRootRoutes(core: BmcCore): Route[] {
  const metadata = metadataXml();
  return [
    { path: '/redfish', schema: 'version map', ops: { GET: { privilege: 'none', handle: () => ({ status: 200, headers: {}, body: { v1: `${ROOT}/` } }) } } },
    { path: ROOT, schema: SCHEMA.ServiceRoot, ops: { GET: { privilege: 'none', handle: () => resourceResponse(serviceRoot(core)) } } },
    {
      path: `${ROOT}/odata`, schema: 'OData service document',
      ops: {
        GET: {
          privilege: 'none',
          handle: () => ({
            status: 200,
            headers: {},
            body: {
              '@odata.context': `${ROOT}/$metadata`,
              value: [{ name: 'Service', kind: 'Singleton', url: `${ROOT}/` }, ...SINGLETONS.map(([name, url]) => ({ name, kind: 'Singleton', url }))],
            },
          }),
        },
      },
    },
    { path: `${ROOT}/$metadata`, schema: 'OData CSDL ($metadata)', ops: { GET: { privilege: 'none', handle: () => ({ status: 200, headers: { 'Content-Type': 'application/xml' }, body: metadata }) } } },
  ];
}
