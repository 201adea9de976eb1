/**
 * `bmcfleet nodes ls` (alias `list`) with GET /api/v1/nodes's filters and pages, and
 * `bmcfleet nodes create-batch` (POST /api/v1/node-batches):
 *   nodes ls [--name PREFIX] [--machine qemu|sim] [--power-state on|off|unknown]
 *            [--limit N] [--cursor C]   one page; the next page's command goes to stderr
 *            [--all]                    every page, following nextCursor (pages of --limit, default 1000)
 *   nodes create-batch --prefix P --count N [--first-index I] [--ipmi-user U] [--ipmi-password PW] [--power-on]
 *                                        every node's name and addresses
 * Both speak only the HTTP contract (design.md section 3); the orchestrator checks the fields and
 * its 400 names the one that broke its rule.
 */
import { Command, Option } from 'commander';
import { MACHINES, type MachineKind, type NodeView, type PowerState } from '../nodes/node.model';
import { CliUsageError, parseInteger } from './cli-options';
import type { CreatedNodeBatch, CreateNodeBatchRequest, FleetApi, NodeListQuery } from './fleet-api';
import { formatEndpoint, formatJson, formatNodeTable, formatTable } from './node-format';

export const LIST_POWER_STATES = ['on', 'off', 'unknown'] as const satisfies readonly PowerState[];
/** The API's largest page (GET /api/v1/nodes?limit=): --all walks pages of this size unless --limit says less. */
export const LIST_PAGE_MAX = 1_000;

export interface ListCommandOptions {
  readonly name?: string;
  readonly machine?: MachineKind;
  readonly powerState?: PowerState;
  readonly limit?: string;
  readonly cursor?: string;
  readonly all?: boolean;
  readonly json?: boolean;
}

export interface BatchCommandOptions {
  readonly prefix: string;
  readonly count: string;
  readonly firstIndex?: string;
  readonly ipmiUser?: string;
  readonly ipmiPassword?: string;
  readonly powerOn?: boolean;
  readonly json?: boolean;
}

interface Io {
  readonly api: () => FleetApi;
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

/** The list query of `nodes ls` options (limit and cursor only when given). */
export function listQueryOf(o: ListCommandOptions): NodeListQuery {
  if (o.name !== undefined && o.name === '') throw new CliUsageError('--name must not be empty (it is a name prefix)');
  if (o.cursor !== undefined && o.cursor === '') throw new CliUsageError('--cursor must not be empty (give the nextCursor of the previous page)');
  return {
    ...(o.name === undefined ? {} : { name: o.name }),
    ...(o.machine === undefined ? {} : { machine: o.machine }),
    ...(o.powerState === undefined ? {} : { powerState: o.powerState }),
    ...(o.limit === undefined ? {} : { limit: parseInteger('--limit', o.limit, 1, LIST_PAGE_MAX) }),
    ...(o.cursor === undefined ? {} : { cursor: o.cursor }),
  };
}

/** Every node matching `query`, page after page from its cursor (or the first page). */
export async function listAllPages(api: FleetApi, query: NodeListQuery): Promise<NodeView[]> {
  const nodes: NodeView[] = [];
  let cursor = query.cursor;
  const seen = new Set<string>();
  for (;;) {
    const page = await api.listNodePage({ ...query, limit: query.limit ?? LIST_PAGE_MAX, ...(cursor === undefined ? {} : { cursor }) });
    nodes.push(...page.items);
    if (page.nextCursor === null) return nodes;
    // A cursor seen before would loop for ever: the orchestrator's pages must move on.
    if (seen.has(page.nextCursor)) throw new Error('the orchestrator answered the same nextCursor twice; stopping');
    seen.add(page.nextCursor);
    cursor = page.nextCursor;
  }
}

/** The command that asks for the page after this one (printed on stderr, so stdout stays the list). */
function nextPageHint(o: ListCommandOptions, nextCursor: string): string {
  const flags = [
    o.name === undefined ? '' : ` --name ${o.name}`,
    o.machine === undefined ? '' : ` --machine ${o.machine}`,
    o.powerState === undefined ? '' : ` --power-state ${o.powerState}`,
    o.limit === undefined ? '' : ` --limit ${o.limit}`,
  ].join('');
  return `more nodes: bmcfleet nodes ls${flags} --cursor ${nextCursor}   (or --all for every page)\n`;
}

export function registerListCommand(nodes: Command, io: Io): void {
  nodes.command('ls').alias('list')
    .description('list the nodes: name, state, power, IPMI and VNC endpoints, machine (filters and pages for large fleets)')
    .option('--name <prefix>', 'only nodes whose name starts with this')
    .addOption(new Option('--machine <kind>', 'only nodes of this machine kind').choices(MACHINES))
    .addOption(new Option('--power-state <state>', 'only nodes in this power state (as last read from their BMC)').choices(LIST_POWER_STATES))
    .option('--limit <n>', `one page of at most n nodes (1-${LIST_PAGE_MAX}); the next page's command goes to stderr`)
    .option('--cursor <cursor>', 'the page after the one that gave this nextCursor (same filters)')
    .option('--all', `every page, following nextCursor (pages of --limit, default ${LIST_PAGE_MAX})`)
    .option('--json', 'print the API\'s JSON (with --limit or --cursor and without --all: { items, nextCursor })')
    .action(async (o: ListCommandOptions) => {
      const query = listQueryOf(o);
      const api = io.api();
      if (o.all === true) {
        const list = await listAllPages(api, query);
        return io.out(o.json ? formatJson(list) : formatNodeTable(list));
      }
      if (query.limit === undefined && query.cursor === undefined) {
        const list = await api.listNodes(query);
        return io.out(o.json ? formatJson(list) : formatNodeTable(list));
      }
      const page = await api.listNodePage(query);
      io.out(o.json ? formatJson(page) : formatNodeTable(page.items));
      if (page.nextCursor !== null && !o.json) io.err(nextPageHint(o, page.nextCursor));
    });
}

export function batchRequestOf(o: BatchCommandOptions): CreateNodeBatchRequest {
  if (o.prefix === '') throw new CliUsageError('--prefix must not be empty');
  return {
    namePrefix: o.prefix,
    count: parseInteger('--count', o.count, 1, Number.MAX_SAFE_INTEGER),
    machine: 'sim',
    ...(o.firstIndex === undefined ? {} : { firstIndex: parseInteger('--first-index', o.firstIndex, 0, Number.MAX_SAFE_INTEGER) }),
    ...(o.ipmiUser === undefined ? {} : { ipmiUser: o.ipmiUser }),
    ...(o.ipmiPassword === undefined ? {} : { ipmiPassword: o.ipmiPassword }),
    ...(o.powerOn === true ? { powerOnAtStart: true } : {}),
  };
}

export const BATCH_TABLE_HEADERS = ['NAME', 'IPMI', 'USER', 'REDFISH'] as const;

/** The created batch: one line per node with its addresses, then the count and any generated password. */
export function formatBatch(batch: CreatedNodeBatch): string {
  const table = formatTable(BATCH_TABLE_HEADERS, batch.nodes.map((n) => [n.name, formatEndpoint(n.ipmi), n.ipmi.user, n.redfish === null ? '-' : `https://${formatEndpoint(n.redfish)}/redfish/v1`]));
  const summary = `${batch.nodes.length} ${batch.machine} nodes created (${batch.namePrefix})\n`;
  const password = batch.generatedIpmiPassword ? `ipmi password: ${batch.generatedIpmiPassword} (generated, the same for every node of the batch; shown only now)\n` : '';
  return table + summary + password;
}

export function registerBatchCommand(nodes: Command, io: Io): void {
  nodes.command('create-batch')
    .description('create many simulated nodes (machine sim) in one call, named PREFIX-1 … PREFIX-N (zero-padded); prints every node\'s addresses')
    .requiredOption('--prefix <prefix>', 'name prefix: nodes are <prefix>-<n>')
    .requiredOption('--count <n>', 'how many nodes')
    .option('--first-index <n>', 'the first node\'s number (default 1; a second batch continues where the first ended)')
    .option('--ipmi-user <user>', 'every BMC\'s administrator (default admin)')
    .option('--ipmi-password <password>', 'every BMC administrator\'s password (generated when not given)')
    .option('--power-on', 'power every node on when it starts')
    .option('--json', 'print the API\'s JSON')
    .action(async (o: BatchCommandOptions) => {
      const batch = await io.api().createNodeBatch(batchRequestOf(o));
      io.out(o.json ? formatJson(batch) : formatBatch(batch));
    });
}
