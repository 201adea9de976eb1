/**
 * `bmcfleet nodes faults`: a node's fault rules through POST/GET/DELETE /api/v1/nodes/:name/faults.
 *   nodes faults NAME                 (or: nodes faults ls NAME) the rules, their counts and status
 *   nodes faults add NAME --rule JSON (repeatable) or flags: --protocol ipmi --netfn 0x00 --cmd 0x01
 *                                     --action completion-code --code 0xC0 --max-times 2
 *   nodes faults clear NAME [ID]      one rule, or all
 * Rules are checked by the orchestrator; its 400 names the field (match.netFn, when.maxTimes, ...).
 */
import type { Command } from 'commander';
import { CliUsageError, checkNodeName } from './cli-options';
import type { FleetApi, NodeFaults } from './fleet-api';
import { formatJson } from './node-format';

/** Flags of `faults add` that build one rule (the API's field each fills). */
export interface FaultFlags {
  readonly rule?: string[];
  readonly protocol?: string;
  readonly netfn?: string;
  readonly cmd?: string;
  readonly method?: string;
  readonly path?: string;
  readonly resetType?: string;
  readonly action?: string;
  readonly ms?: string;
  readonly code?: string;
  readonly status?: string;
  readonly retryAfter?: string;
  readonly probability?: string;
  readonly seed?: string;
  readonly afterMatches?: string;
  readonly maxTimes?: string;
  readonly durationMs?: string;
}

const RULE_FLAGS: readonly (keyof FaultFlags)[] = ['protocol', 'netfn', 'cmd', 'method', 'path', 'resetType', 'action', 'ms', 'code', 'status', 'retryAfter', 'probability', 'seed', 'afterMatches', 'maxTimes', 'durationMs'];

/** A number as typed: decimal, or hex with 0x (kept as text: the API reads "0xC0"). */
function numeric(flag: string, text: string): number | string {
  if (/^0x[0-9a-f]+$/i.test(text)) return text;
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n)) throw new CliUsageError(`--${flag} must be a number (decimal, or hex as 0x..), got "${text}"`);
  return n;
}

/** The rules `faults add` sends: each --rule JSON, or the one rule the flags describe (not both). */
export function faultRulesFromFlags(o: FaultFlags): unknown[] {
  const flagged = RULE_FLAGS.filter((key) => o[key] !== undefined);
  if (o.rule !== undefined && o.rule.length > 0) {
    if (flagged.length > 0) throw new CliUsageError('give rules either as --rule JSON or as flags (--protocol, --action, ...), not both');
    return o.rule.map((text, i) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw new CliUsageError(`--rule ${o.rule!.length > 1 ? `#${i + 1} ` : ''}is not JSON: ${text}`);
      }
    });
  }
  if (o.protocol === undefined || o.action === undefined) throw new CliUsageError('faults add needs --rule JSON, or at least --protocol and --action');
  const match: Record<string, unknown> = { protocol: o.protocol };
  if (o.netfn !== undefined) match.netFn = numeric('netfn', o.netfn);
  if (o.cmd !== undefined) match.cmd = numeric('cmd', o.cmd);
  if (o.method !== undefined) match.method = o.method.toUpperCase();
  if (o.path !== undefined) match.path = o.path;
  if (o.resetType !== undefined) match.resetType = o.resetType;
  const action: Record<string, unknown> = { kind: o.action };
  if (o.ms !== undefined) action.ms = numeric('ms', o.ms);
  if (o.code !== undefined) action.code = numeric('code', o.code);
  if (o.status !== undefined) action.status = numeric('status', o.status);
  if (o.retryAfter !== undefined) action.retryAfter = numeric('retry-after', o.retryAfter);
  const when: Record<string, unknown> = {};
  if (o.probability !== undefined) when.probability = numeric('probability', o.probability);
  if (o.seed !== undefined) when.seed = numeric('seed', o.seed);
  if (o.afterMatches !== undefined) when.afterMatches = numeric('after-matches', o.afterMatches);
  if (o.maxTimes !== undefined) when.maxTimes = numeric('max-times', o.maxTimes);
  if (o.durationMs !== undefined) when.durationMs = numeric('duration-ms', o.durationMs);
  return [{ match, action, ...(Object.keys(when).length > 0 ? { when } : {}) }];
}

const brief = (o: Readonly<Record<string, unknown>>, skip: string): string =>
  Object.entries(o).filter(([k]) => k !== skip).map(([k, v]) => `${k}=${typeof v === 'number' && (k === 'netFn' || k === 'cmd' || k === 'code') ? `0x${v.toString(16).padStart(2, '0')}` : String(v)}`).join(' ');

/** A table: ID STATUS MATCHES APPLIED MATCH ACTION WHEN, then the totals. */
export function formatFaults(faults: NodeFaults): string {
  if (faults.rules.length === 0) return `no fault rules on ${faults.name}\n`;
  const rows = [['ID', 'STATUS', 'MATCHES', 'APPLIED', 'MATCH', 'ACTION', 'WHEN']];
  for (const r of faults.rules) {
    rows.push([r.id, r.status, String(r.matches), String(r.applied), `${r.match.protocol} ${brief(r.match, 'protocol')}`.trim(), `${r.action.kind} ${brief(r.action, 'kind')}`.trim(), brief(r.when, '') || '-']);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  const lines = rows.map((row) => row.map((cell, c) => (c === row.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  '));
  const totals = Object.entries(faults.totals ?? {}).map(([k, v]) => `${k}=${v}`).join(' ');
  return `${lines.join('\n')}\n${totals === '' ? '' : `totals since the BMC started: ${totals}\n`}`;
}

export function registerFaultCommands(nodes: Command, api: () => FleetApi, out: (text: string) => void): void {
  const faults = nodes.command('faults').argument('[name]', 'the node whose fault rules to list')
    .description('fault rules acting on a node\'s BMC (IPMI, SOL, Redfish, power): list, add, clear')
    .option('--json', 'print the API\'s JSON')
    .action(async (name: string | undefined, o: { json?: boolean }) => {
      if (name === undefined) throw new CliUsageError('nodes faults needs a node name (or: add, clear, ls)');
      const list = await api().listFaults(checkNodeName(name));
      out(o.json ? formatJson(list) : formatFaults(list));
    });

  faults.command('ls').argument('<name>')
    .description('list the node\'s fault rules with how often each matched and acted')
    .option('--json', 'print the API\'s JSON')
    .action(async (name: string, o: { json?: boolean }) => {
      const list = await api().listFaults(checkNodeName(name));
      // `faults` has --json too: commander gives it the flag wherever it stands.
      const json = o.json === true || faults.opts<{ json?: boolean }>().json === true;
      out(json ? formatJson(list) : formatFaults(list));
    });

  faults.command('add').argument('<name>')
    .description('add fault rules: --rule JSON (repeatable), or one rule from flags')
    .option('--rule <json>', 'a rule { match, action, when } as JSON (repeatable; all are added or none)', (v: string, prev: string[] | undefined) => [...(prev ?? []), v])
    .option('--protocol <p>', 'match: ipmi, sol, redfish or power')
    .option('--netfn <n>', 'match (ipmi): network function, e.g. 0x00')
    .option('--cmd <n>', 'match (ipmi): command, e.g. 0x01')
    .option('--method <m>', 'match (redfish): HTTP method')
    .option('--path <p>', 'match (redfish): path; * is one segment, a final ** any rest')
    .option('--reset-type <t>', 'match (redfish, power): ResetType or power action, e.g. On')
    .option('--action <kind>', 'drop, delay, duplicate, completion-code, stop-answering, bmc-reboot, http-status, power-stuck, session-expiry, sol-deactivate')
    .option('--ms <ms>', 'action: milliseconds (delay, stop-answering, bmc-reboot)')
    .option('--code <cc>', 'action: completion code, e.g. 0xC0')
    .option('--status <http>', 'action: HTTP status (http-status)')
    .option('--retry-after <s>', 'action: Retry-After seconds (http-status)')
    .option('--probability <p>', 'when: chance per match, (0, 1]')
    .option('--seed <n>', 'when: seed of the random draws')
    .option('--after-matches <n>', 'when: matches let through first')
    .option('--max-times <n>', 'when: act at most this many times')
    .option('--duration-ms <ms>', 'when: act for this long after being added')
    .option('--json', 'print the API\'s JSON')
    .action(async (name: string, o: FaultFlags & { json?: boolean }) => {
      const rules = faultRulesFromFlags(o);
      const added = await api().addFaults(checkNodeName(name), rules);
      if (o.json === true || faults.opts<{ json?: boolean }>().json === true) return out(formatJson(added));
      for (const rule of added.rules) out(`fault rule ${rule.id} added to ${added.name}\n`);
    });

  faults.command('clear').argument('<name>').argument('[id]', 'the rule to remove, e.g. f1 (default: all)')
    .description('remove one fault rule, or all of them')
    .action(async (name: string, id: string | undefined) => {
      const removed = await api().clearFaults(checkNodeName(name), id);
      out(id === undefined ? `${removed} fault rule${removed === 1 ? '' : 's'} removed from ${name}\n` : `fault rule ${id} removed from ${name}\n`);
    });
}
