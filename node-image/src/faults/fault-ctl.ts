/**
 * The fault control client run inside a node (`docker exec <node> node /opt/bmcfleet/agent/faults/fault-ctl.js ...`):
 *   fault-ctl ls | add '<rule JSON>' | clear [ruleId]
 * It talks to the agent's fault control socket and prints the answer's JSON on stdout. Exit 0 on
 * 2xx, 1 when the agent refused (its answer still on stdout), 2 when the socket cannot be reached.
 */
import { request } from 'node:http';

function socketPath(env: NodeJS.ProcessEnv): string {
  if (env.BMC_FAULTS_SOCKET && env.BMC_FAULTS_SOCKET !== 'none') return env.BMC_FAULTS_SOCKET;
  return `${(env.BMC_STATE_DIR ?? '/vm/bmc').replace(/\/+$/, '')}/faults.sock`;
}

function call(path: string, method: string, url: string, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: path, method, path: url, headers: body === undefined ? {} : { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('no answer from the fault control socket in 10 s')));
    req.end(body);
  });
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
