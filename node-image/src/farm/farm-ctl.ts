/**
 * The managed farm's control client, run inside the farm (`docker exec <farm> node
 * /opt/bmcfleet/agent/farm/farm-ctl.js ...`):
 *   farm-ctl ls                                  every BMC with its power state
 *   farm-ctl add '{"bmcs":[...]}'                add BMCs (farm-control.ts for the fields)
 *   farm-ctl rm '{"bmcs":[{name,nodeId}],"purge":false}'
 *   farm-ctl faults <bmc> ls | add '<rule JSON>' | clear [ruleId]
 *   farm-ctl faults-all                          the rules of every BMC that has some, in one answer
 * It prints the farm's JSON answer on stdout. Exit 0 on 2xx, 1 when the farm refused (its answer
 * still on stdout), 2 when the socket cannot be reached or the arguments are wrong.
 */
import { unixSocketRequest } from '../util/unix-socket-request';
import { join } from 'node:path';

function socketPath(env: NodeJS.ProcessEnv): string {
  return env.FARM_CONTROL_SOCKET || join(env.BMC_STATE_DIR ?? '/vm/bmc', 'farm.sock');
}

function call(path: string, method: string, url: string, body?: string): Promise<{ status: number; text: string }> {
  return unixSocketRequest(path, method, url, body, { timeoutMs: 60_000, what: 'farm control socket' });
}

/** method, url and body for the arguments, or null when they are not a command. */
export function requestOf(argv: readonly string[]): { method: string; url: string; body?: string } | null {
  const [verb, a, b, c] = argv;
  if (verb === 'ls' && a === undefined) return { method: 'GET', url: '/bmcs' };
  if (verb === 'add' && a !== undefined && b === undefined) return { method: 'POST', url: '/bmcs', body: a };
  if (verb === 'faults-all' && a === undefined) return { method: 'GET', url: '/faults' };
  if (verb === 'rm' && a !== undefined && b === undefined) return { method: 'POST', url: '/bmcs/remove', body: a };
  if (verb === 'faults' && a !== undefined) {
    const base = `/bmcs/${encodeURIComponent(a)}/faults`;
    if (b === 'ls' && c === undefined) return { method: 'GET', url: base };
    if (b === 'add' && c !== undefined) return { method: 'POST', url: base, body: c };
    if (b === 'clear') return { method: 'DELETE', url: c === undefined ? base : `${base}/${encodeURIComponent(c)}` };
  }
  return null;
}

async function main(argv: string[]): Promise<number> {
  const r = requestOf(argv);
  if (r === null) {
    process.stderr.write('usage: farm-ctl ls | add \'{"bmcs":[...]}\' | rm \'{"bmcs":[{"name":..,"nodeId":..}],"purge":false}\' | faults <bmc> ls|add \'<rule>\'|clear [ruleId] | faults-all\n');
    return 2;
  }
  const path = socketPath(process.env);
  try {
    const answer = await call(path, r.method, r.url, r.body);
    process.stdout.write(answer.text + '\n');
    return answer.status >= 200 && answer.status < 300 ? 0 : 1;
  } catch (err) {
    process.stderr.write(`farm control socket ${path}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
}

if (require.main === module) void main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
