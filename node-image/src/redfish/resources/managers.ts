/**
 * The BMC as a Manager (DSP0268 Manager v1_24_0) and its SEL log service (LogService v1_9_0,
 * LogEntry v1_21_0): the entries are the core event log, the same records `ipmitool sel list` shows.
 */
import type { BmcCore } from '../../core/bmc-core';
import type { EventLogEntry } from '../../core/event-log';
import type { JsonObject } from '../http-types';
import { notFound } from '../errors';
import { collection, idRef, noContent, resourceResponse, type Route } from '../router';
import { CHASSIS_ID, MANAGER_ID, P, SCHEMA, typeOf } from './paths';

function manager(core: BmcCore): JsonObject {
  return {
    '@odata.id': P.manager,
    '@odata.type': typeOf(SCHEMA.Manager),
    Id: MANAGER_ID,
    Name: `BMC of ${core.nodeName}`,
    ManagerType: 'BMC',
    Manufacturer: core.product.manufacturer,
    Model: 'bmcfleet BMC',
    FirmwareVersion: core.firmwareVersion,
    UUID: core.bmcUuid,
    PowerState: 'On',
    Status: { State: 'Enabled', Health: 'OK' },
    LogServices: idRef(P.logServices),
    VirtualMedia: idRef(P.managerVirtualMedia),
    ...(core.protocols ? { NetworkProtocol: idRef(P.networkProtocol) } : {}),
    Links: { ManagerForServers: [idRef(P.system)], ManagerForChassis: [idRef(P.chassis)], ManagerInChassis: idRef(P.chassis) },
  };
}

function selService(core: BmcCore): JsonObject {
  return {
    '@odata.id': P.sel,
    '@odata.type': typeOf(SCHEMA.LogService),
    Id: 'SEL',
    Name: 'System Event Log',
    Description: 'The IPMI System Event Log',
    ServiceEnabled: true,
    LogEntryType: 'SEL',
    MaxNumberOfRecords: core.eventLog.capacity,
    // A full SEL refuses new entries (IPMI v2.0 section 31.6).
    OverWritePolicy: 'NeverOverWrites',
    Status: { State: 'Enabled', Health: 'OK' },
    Entries: idRef(P.selEntries),
    Actions: { '#LogService.ClearLog': { target: P.clearSel } },
  };
}

function entry(e: EventLogEntry): JsonObject {
  const body: JsonObject = {
    '@odata.id': `${P.selEntries}/${e.id}`,
    '@odata.type': typeOf(SCHEMA.LogEntry),
    Id: String(e.id),
    Name: `SEL entry ${e.id}`,
    EntryType: 'SEL',
    Severity: e.event === 'failure' ? 'Critical' : 'OK',
    Message: e.message,
    SensorNumber: e.sensorNumber ?? null,
  };
  // Generator ID: SEL record bytes 7-8 (IPMI v2.0 table 32-1); OEM records have none.
  if (e.sensorType !== undefined) body.GeneratorId = `0x${e.raw.readUInt16LE(7).toString(16).padStart(4, '0')}`;
  if (e.timestamp !== undefined && e.timestamp !== 0xffffffff) body.Created = new Date(e.timestamp * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return body;
}

/** `logServices`: further log services of the Manager, listed after the SEL (e.g. the serial console's). */
export function managerRoutes(core: BmcCore, logServices: readonly string[] = []): Route[] {
  return [
    { path: P.managers, schema: 'ManagerCollection', ops: { GET: { privilege: 'Login', handle: () => resourceResponse(collection(P.managers, 'ManagerCollection', 'Manager Collection', [P.manager])) } } },
    { path: P.manager, schema: SCHEMA.Manager, ops: { GET: { privilege: 'Login', handle: () => resourceResponse(manager(core)) } } },
    { path: P.logServices, schema: 'LogServiceCollection', ops: { GET: { privilege: 'Login', handle: () => resourceResponse(collection(P.logServices, 'LogServiceCollection', 'Log Service Collection', [P.sel, ...logServices])) } } },
    { path: P.sel, schema: SCHEMA.LogService, ops: { GET: { privilege: 'Login', handle: () => resourceResponse(selService(core)) } } },
    {
      path: P.selEntries, schema: 'LogEntryCollection',
      ops: { GET: { privilege: 'Login', handle: () => resourceResponse(collection(P.selEntries, 'LogEntryCollection', 'SEL Entries', core.eventLog.entries().map((e) => `${P.selEntries}/${e.id}`))) } },
    },
    {
      path: `${P.selEntries}/{id}`, schema: SCHEMA.LogEntry,
      ops: {
        GET: {
          privilege: 'Login',
          handle: (ctx) => {
            const e = core.eventLog.entries().find((x) => String(x.id) === ctx.params[0]);
            if (!e) throw notFound(ctx.path);
            return resourceResponse(entry(e));
          },
        },
      },
    },
    {
      path: P.clearSel, schema: '#LogService.ClearLog',
      ops: { POST: { privilege: 'ConfigureManager', etagOf: () => selService(core), handle: (ctx) => { core.eventLog.clear(ctx.now); return noContent(); } } },
    },
  ];
}

export function chassisRoutes(core: BmcCore): Route[] {
  const chassis = async (): Promise<JsonObject> => ({
    '@odata.id': P.chassis,
    '@odata.type': typeOf(SCHEMA.Chassis),
    Id: CHASSIS_ID,
    Name: `Chassis of ${core.nodeName}`,
    ChassisType: 'RackMount',
    Manufacturer: core.product.manufacturer,
    Model: core.product.productName,
    PartNumber: core.product.partNumber,
    SerialNumber: core.product.serialNumber,
    PowerState: (await core.power.powerState()) === 'on' ? 'On' : 'Off',
    Status: { State: 'Enabled', Health: 'OK' },
    ...(core.sensors ? { Thermal: idRef(P.thermal), Power: idRef(P.power) } : {}),
    Links: { ComputerSystems: [idRef(P.system)], ManagedBy: [idRef(P.manager)] },
  });
  return [
    { path: P.chassisCollection, schema: 'ChassisCollection', ops: { GET: { privilege: 'Login', handle: () => resourceResponse(collection(P.chassisCollection, 'ChassisCollection', 'Chassis Collection', [P.chassis])) } } },
    { path: P.chassis, schema: SCHEMA.Chassis, ops: { GET: { privilege: 'Login', handle: async () => resourceResponse(await chassis()) } } },
  ];
}
