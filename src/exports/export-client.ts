/**
 * The export request as clients send it (pure): the query of GET /api/v1/exports/<format>. The CLI
 * builds its requests here, so the parameter names live next to the controller's.
 */
import type { MachineKind } from '../nodes/node.model';
import type { ExportDriver } from './bmc-address';
import { exportPath, type ExportFormat } from './exports.paths';

export interface ExportQuery {
  readonly driver?: ExportDriver;
  /** Name prefix. */
  readonly name?: string;
  readonly names?: readonly string[];
  readonly machine?: MachineKind;
  readonly namespace?: string;
  readonly online?: boolean;
  /** The BMCs' address as provisioning systems reach it. */
  readonly host?: string;
}

/** The path and query string of the export, from the server's root. */
export function exportRequestPath(format: ExportFormat, query: ExportQuery): string {
  const params = new URLSearchParams();
  if (query.driver !== undefined) params.set('driver', query.driver);
  if (query.name !== undefined) params.set('name', query.name);
  if (query.names !== undefined) params.set('names', query.names.join(','));
  if (query.machine !== undefined) params.set('machine', query.machine);
  if (query.namespace !== undefined) params.set('namespace', query.namespace);
  if (query.online !== undefined) params.set('online', String(query.online));
  if (query.host !== undefined) params.set('host', query.host);
  const text = params.toString();
  return text === '' ? exportPath(format) : `${exportPath(format)}?${text}`;
}
