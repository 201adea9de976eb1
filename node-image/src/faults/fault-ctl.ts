/**
 * The fault control client run inside a node (`docker exec <node> node /opt/bmcfleet/agent/faults/fault-ctl.js ...`):
 *   fault-ctl ls | add '<rule JSON>' | clear [ruleId]
 * It talks to the agent's fault control socket and prints the answer's JSON on stdout. Exit 0 on
 * 2xx, 1 when the agent refused (its answer still on stdout), 2 when the socket cannot be reached.
 */
import { unixSocketRequest } from '../util/unix-socket-request';

function socketPath(env: NodeJS.ProcessEnv): string {
  if (env.BMC_FAULTS_SOCKET && env.BMC_FAULTS_SOCKET !== 'none') return env.BMC_FAULTS_SOCKET;
  return `${(env.BMC_STATE_DIR ?? '/vm/bmc').replace(/\/+$/, '')}/faults.sock`;
}

function call(path: string, method: string, url: string, body?: string): Promise<{ status: number; text: string }> {
  return unixSocketRequest(path, method, url, body, { timeoutMs: 10_000, what: 'fault control socket' });
}

async function main(argv: string[]): Promise<number> {
  const [verb, arg] = argv;
  let method: string; let url = '/faults'; let body: string | undefined;
  if (verb === 'ls' && arg === undefined) method = 'GET';
  else if (verb === 'add' && arg !== undefined) { method = 'POST'; body = arg; }
  else if (verb === 'clear') { method = 'DELETE'; if (arg !== undefined) url += `/${encodeURIComponent(arg)}`; }
  else {
    process.stderr.write('usage: fault-ctl ls | add \'<rule JSON>\' | clear [ruleId]\n');
    return 2;
  }
  const path = socketPath(process.env);
  try {
    const r = await call(path, method, url, body);
    process.stdout.write(r.text + '\n');
    return r.status >= 200 && r.status < 300 ? 0 : 1;
  } catch (err) {
    process.stderr.write(`fault control socket ${path}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
}

void main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
