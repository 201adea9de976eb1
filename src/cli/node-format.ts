/**
 * What the CLI prints about nodes (pure): the `nodes ls` table, one node's details, power results.
 * Passwords never appear here: the API does not return them (except a generated one, once, which the
 * create command prints on its own line).
 */
import type { Endpoint, NodeView } from '../nodes/node.model';
import type { PowerResult } from './fleet-api';

const COLUMN_GAP = '  ';
export const NODE_TABLE_HEADERS = ['NAME', 'STATE', 'POWER', 'IPMI', 'VNC', 'REDFISH', 'MACHINE', 'HOST'] as const;

export function formatEndpoint(endpoint: Endpoint): string {
  // An IPv6 host needs brackets before the port.
  return endpoint.host.includes(':') ? `[${endpoint.host}]:${endpoint.port}` : `${endpoint.host}:${endpoint.port}`;
}

function formatRedfish(endpoint: Endpoint | null): string {
  return endpoint === null ? '-' : formatEndpoint(endpoint);
}

/** Left-aligned columns, two spaces apart, no trailing blanks. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(COLUMN_GAP).trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

export function formatNodeTable(nodes: readonly NodeView[]): string {
  if (nodes.length === 0) return 'no nodes\n';
  return formatTable(NODE_TABLE_HEADERS, nodes.map((n) => [n.name, n.state, n.powerState, formatEndpoint(n.ipmi), formatRedfish(n.vnc), formatRedfish(n.redfish), n.machine, n.host ?? '-']));
}

/** `nodes show` and the create answer: one "key: value" line each. */
export function formatNodeDetails(n: NodeView): string {
  const fields: Array<[string, string]> = [
    ['name', n.name],
    ['state', n.state],
    ['power', n.powerObservedAt ? `${n.powerState} (seen ${n.powerObservedAt})` : n.powerState],
    ['machine', n.machine],
    ['ipmi', `${formatEndpoint(n.ipmi)} user ${n.ipmi.user}`],
    ['vnc', formatRedfish(n.vnc)],
    ['redfish', n.redfish === null ? '- (made before Redfish ports; its next re-create leases one)' : `https://${formatEndpoint(n.redfish)}/redfish/v1`],
    ['memory', `${n.memoryMiB} MiB`],
    ['cpus', String(n.cpus)],
    ['disk', `${n.diskSizeGiB} GiB`],
    ['cdrom', n.cdrom ?? '-'],
    ['boot mode', n.bootMode],
    ['kvm', n.enableKvm],
    ['networks', n.networks.length > 0 ? n.networks.join(', ') : '-'],
    ['lab interfaces', n.labInterfaces.length > 0 ? n.labInterfaces.join(', ') : '-'],
    ['container', n.container.id ? `${n.container.name} (${n.container.id.slice(0, 12)})` : n.container.name],
    ['host', n.host ?? '-'],
  ];
  if (n.lastError) fields.push(['last error', n.lastError]);
  const width = Math.max(...fields.map(([k]) => k.length)) + 1;
  return fields.map(([k, v]) => `${`${k}:`.padEnd(width)} ${v}`).join('\n') + '\n';
}

export function formatPowerResult(name: string, result: PowerResult): string {
  return result.action ? `${name}: power ${result.action} done, power is ${result.powerState}\n` : `${name}: power is ${result.powerState}\n`;
}

export function formatJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
