/**
 * The host serial console's recent output as a log service of the Manager (DSP0268 LogService
 * v1_9_0, LogEntry v1_21_0), like OpenBMC's host logger: one entry per console line, oldest first,
 * from the same history (console/serial-history.ts) a new /console0 viewer gets. Entry ids number
 * the lines the history holds now: older lines leave as new output arrives. The entries are OEM
 * records (EntryType Oem, OemRecordFormat "SerialConsole"): console text is no Redfish message.
 */
import type { SerialHistory } from '../../console/serial-history';
import type { JsonObject } from '../http-types';
import { notFound } from '../errors';
import { collection, resourceResponse, type Route } from '../router';
import { MANAGER_ID, ROOT, SCHEMA, typeOf } from './paths';

export const SERIAL_CONSOLE_LOG = {
  service: `${ROOT}/Managers/${MANAGER_ID}/LogServices/SerialConsole`,
  entries: `${ROOT}/Managers/${MANAGER_ID}/LogServices/SerialConsole/Entries`,
} as const;

function service(history: SerialHistory): JsonObject {
  return {
    '@odata.id': SERIAL_CONSOLE_LOG.service,
    '@odata.type': typeOf(SCHEMA.LogService),
    Id: 'SerialConsole',
    Name: 'Host serial console log',
    Description: `The last ${history.capacity} bytes of the host's serial console output, one entry per line`,
    ServiceEnabled: true,
    LogEntryType: 'OEM',
    OverWritePolicy: 'WrapsWhenFull',
    Status: { State: 'Enabled', Health: 'OK' },
    Entries: { '@odata.id': SERIAL_CONSOLE_LOG.entries },
  };
}

function entry(id: number, line: string): JsonObject {
  return {
    '@odata.id': `${SERIAL_CONSOLE_LOG.entries}/${id}`,
    '@odata.type': typeOf(SCHEMA.LogEntry),
    Id: String(id),
    Name: `Serial console line ${id}`,
    EntryType: 'Oem',
    OemRecordFormat: 'SerialConsole',
    Severity: 'OK',
    Message: line,
  };
}

export function serialConsoleLogRoutes(history: SerialHistory): Route[] {
  return [
    { path: SERIAL_CONSOLE_LOG.service, schema: SCHEMA.LogService, ops: { GET: { privilege: 'Login', handle: () => resourceResponse(service(history)) } } },
    {
      path: SERIAL_CONSOLE_LOG.entries, schema: 'LogEntryCollection',
      ops: {
        GET: {
          privilege: 'Login',
          handle: () => {
            // Members expanded (as bmcweb's log collections are): one request reads the whole history.
            const entries = history.lines().map((line, i) => entry(i + 1, line));
            const body = collection(SERIAL_CONSOLE_LOG.entries, 'LogEntryCollection', 'Serial console lines', []);
            return resourceResponse({ ...body, Members: entries, 'Members@odata.count': entries.length });
          },
        },
      },
    },
    {
      path: `${SERIAL_CONSOLE_LOG.entries}/{id}`, schema: SCHEMA.LogEntry,
      ops: {
        GET: {
          privilege: 'Login',
          handle: (ctx) => {
            const id = /^[1-9]\d{0,6}$/.test(ctx.params[0]!) ? Number(ctx.params[0]) : 0;
            const line = history.lines()[id - 1];
            if (line === undefined) throw notFound(ctx.path);
            return resourceResponse(entry(id, line));
          },
        },
      },
    },
  ];
}
