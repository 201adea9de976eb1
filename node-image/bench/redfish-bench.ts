/**
 * The Redfish part of `npm run bench`: requests per second of `GET /redfish/v1/Systems/1` on one
 * core with keep-alive, the agent against a bare Node.js HTTPS server answering the same bytes
 * (bare-https-server.ts, the floor), measured interleaved in one run; and the time of sushy's
 * login + GET System + Reset sequence (sushy-sequence.py, Debian's python3-sushy).
 *
 * "One core": each server is pinned to one CPU with taskset (when present) and the client runs in
 * this process. The figure that matters is the servers' CPU time per request (/proc schedstat),
 * which depends less on the client and the machine's other load than requests per second do.
 */
import { request, Agent } from 'node:https';
import { createServer } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { findExecutable, processCpuMs, runCommand, ProcessGroup } from './processes';
import { BENCH_PASSWORD, BENCH_USER } from './servers';
import { summarize, type Summary } from './stats';

export const REDFISH_RATIO_TARGET = 1.3;
export const SYSTEM_PATH = '/redfish/v1/Systems/1';

export interface RedfishCaseResult {
  readonly server: 'agent' | 'floor';
  readonly requests: number;
  readonly elapsedMs: number;
  readonly requestsPerSecond: number;
  readonly serverCpuUsPerRequest: number | undefined;
  readonly failures: number;
}

export interface RedfishBenchReport {
  readonly requests: number;
  readonly connections: number;
  readonly repeat: number;
  readonly pinned: string | undefined;
  readonly responseBytes: number;
  readonly runs: readonly RedfishCaseResult[];
  readonly sushy?: { readonly iterations: number; readonly login: Summary; readonly getSystem: Summary; readonly reset: Summary; readonly total: Summary } | { readonly error: string };
  readonly error?: string;
}

export interface RedfishBenchOptions {
  readonly agentMain: string;
  readonly benchDir: string;
  readonly repoRoot: string;
  readonly requests: number;
  readonly repeat: number;
  readonly connections: number;
  readonly sushyIterations: number;
  readonly progress: (msg: string) => void;
}

async function freeTcpPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
  const { port } = s.address() as { port: number };
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

async function waitForOutput(child: ChildProcess, needle: string, timeoutMs: number): Promise<string> {
  let out = '';
  child.stdout?.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr?.on('data', (d: Buffer) => { out += d.toString(); });
  const deadline = Date.now() + timeoutMs;
  while (!out.includes(needle)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`no "${needle}" from the server:\n${out}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return out;
}

/** Spawns `args` pinned to CPU `cpu` when taskset exists. */
function spawnPinned(group: ProcessGroup, taskset: string | undefined, cpu: number, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  return taskset ? group.spawn(taskset, ['-c', String(cpu), ...args], { env }) : group.spawn(args[0]!, args.slice(1), { env });
}

interface Reply { status: number; headers: Record<string, string>; body: string }

function get(port: number, ca: string, agent: Agent | false, headers: Record<string, string>): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: SYSTEM_PATH, method: 'GET', headers, ca, agent, timeout: 20_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers as Record<string, string>, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 20 s')));
    req.on('error', reject);
    req.end();
  });
}

/** `count` GETs over `connections` keep-alive connections; the server's CPU time over them. */
async function measure(server: 'agent' | 'floor', port: number, pid: number | undefined, ca: string, headers: Record<string, string>, count: number, connections: number): Promise<RedfishCaseResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  let next = 0;
  let failures = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      next++;
      try { if ((await get(port, ca, agent, headers)).status !== 200) failures++; } catch { failures++; }
    }
  };
  // Warm-up: connections open, code optimised.
  await Promise.all(Array.from({ length: connections }, async () => { for (let i = 0; i < 50; i++) await get(port, ca, agent, headers); }));
  const cpu0 = pid === undefined ? undefined : processCpuMs(pid);
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: connections }, worker));
  const elapsedMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpu1 = pid === undefined ? undefined : processCpuMs(pid);
  agent.destroy();
  return {
    server, requests: count, elapsedMs, requestsPerSecond: count / (elapsedMs / 1000), failures,
    serverCpuUsPerRequest: cpu0 !== undefined && cpu1 !== undefined ? ((cpu1 - cpu0) * 1000) / count : undefined,
  };
}

export async function runRedfishBench(group: ProcessGroup, o: RedfishBenchOptions): Promise<RedfishBenchReport> {
  const taskset = findExecutable('taskset');
  const base = { requests: o.requests, connections: o.connections, repeat: o.repeat, pinned: taskset ? 'taskset -c 1 (servers)' : undefined, responseBytes: 0, runs: [] as RedfishCaseResult[] };
  const stateDir = group.tempDir('bmcfleet-bench-redfish-');
  const redfishPort = await freeTcpPort();
  const ipmiPort = await freeTcpPort();
  const agentProc = spawnPinned(group, taskset, 1, [process.execPath, o.agentMain], {
    PATH: process.env.PATH ?? '', MACHINE: 'sim', IPMI_ADDRESS: '127.0.0.1', IPMI_PORT: String(ipmiPort), IPMI_USER: BENCH_USER, IPMI_PASS: BENCH_PASSWORD,
    BMC_STATE_DIR: stateDir, NODE_NAME: 'bench', REDFISH_PORT: String(redfishPort), SIM_POWER_DELAY_MS: '0',
  });
  let floorProc: ChildProcess | undefined;
  try {
    await waitForOutput(agentProc, '"Redfish listening"', 20_000);
    const ca = readFileSync(join(stateDir, 'redfish-cert.pem'), 'utf8');
    // A session, as clients that make many requests use (sushy, gofish): X-Auth-Token on every GET.
    const login = await new Promise<string>((resolve, reject) => {
      const body = JSON.stringify({ UserName: BENCH_USER, Password: BENCH_PASSWORD });
      const req = request({ host: '127.0.0.1', port: redfishPort, path: '/redfish/v1/SessionService/Sessions', method: 'POST', ca, agent: false, headers: { 'Content-Type': 'application/json', 'Content-Length': String(body.length) } }, (res) => {
        res.resume();
        res.on('end', () => (res.headers['x-auth-token'] ? resolve(String(res.headers['x-auth-token'])) : reject(new Error(`login: HTTP ${res.statusCode}`))));
      });
      req.on('error', reject);
      req.end(body);
    });
    const headers = { 'X-Auth-Token': login, Accept: 'application/json' };
    const sample = await get(redfishPort, ca, false, headers);
    if (sample.status !== 200) throw new Error(`GET ${SYSTEM_PATH}: HTTP ${sample.status}`);
    const recorded = { status: 200, headers: Object.fromEntries(Object.entries(sample.headers).filter(([k]) => !['date', 'connection', 'keep-alive'].includes(k))), body: sample.body };
    const responseFile = join(stateDir, 'floor-response.json');
    writeFileSync(responseFile, JSON.stringify(recorded));
    const floorPort = await freeTcpPort();
    floorProc = spawnPinned(group, taskset, 1, [process.execPath, join(o.benchDir, 'bare-https-server.js'), String(floorPort), join(stateDir, 'redfish-cert.pem'), join(stateDir, 'redfish-key.pem'), responseFile], { PATH: process.env.PATH ?? '' });
    await waitForOutput(floorProc, 'listening', 10_000);
    const runs: RedfishCaseResult[] = [];
    for (let i = 0; i < o.repeat; i++) {
      // Interleaved, alternating which goes first.
      const order: Array<'agent' | 'floor'> = i % 2 === 0 ? ['agent', 'floor'] : ['floor', 'agent'];
      for (const side of order) {
        const r = side === 'agent'
          ? await measure('agent', redfishPort, agentProc.pid, ca, headers, o.requests, o.connections)
          : await measure('floor', floorPort, floorProc.pid, ca, headers, o.requests, o.connections);
        o.progress(`  redfish ${side}: ${Math.round(r.requestsPerSecond)} req/s, server CPU ${r.serverCpuUsPerRequest?.toFixed(1) ?? '?'} µs per request, ${r.failures} failed`);
        runs.push(r);
      }
    }
    const sushy = o.sushyIterations > 0 ? await sushySequence(group, o, redfishPort, join(stateDir, 'redfish-cert.pem')) : undefined;
    return { ...base, responseBytes: Buffer.byteLength(sample.body), runs, ...(sushy ? { sushy } : {}) };
  } catch (err) {
    return { ...base, error: err instanceof Error ? err.message : String(err) };
  } finally {
    await group.stop(agentProc);
    if (floorProc) await group.stop(floorProc);
    group.removeDir(stateDir);
  }
}

async function sushySequence(group: ProcessGroup, o: RedfishBenchOptions, port: number, caFile: string): Promise<RedfishBenchReport['sushy']> {
  const script = join(o.repoRoot, 'node-image', 'bench', 'sushy-sequence.py');
  o.progress(`  sushy: login + GET System + Reset, ${o.sushyIterations} times`);
  const r = await runCommand(group, 'env', ['-u', 'REQUESTS_CA_BUNDLE', '-u', 'CURL_CA_BUNDLE', '/usr/bin/python3', script, `https://127.0.0.1:${port}`, caFile, BENCH_USER, BENCH_PASSWORD, String(o.sushyIterations)], 300_000);
  if (r.code !== 0) return { error: `sushy sequence failed (${r.code}): ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' ')}` };
  const rows = JSON.parse(r.stdout.trim().split('\n').pop()!) as Array<{ login: number; get: number; reset: number }>;
  const ms = (k: 'login' | 'get' | 'reset'): number[] => rows.map((x) => x[k] * 1000);
  return { iterations: rows.length, login: summarize(ms('login')), getSystem: summarize(ms('get')), reset: summarize(ms('reset')), total: summarize(rows.map((x) => (x.login + x.get + x.reset) * 1000)) };
}
