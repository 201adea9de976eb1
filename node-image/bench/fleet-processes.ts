/**
 * What the fleet bench drives: the orchestrator as `node dist/src/main.js` (its own DATA_DIR,
 * FLEET_NAME and port ranges, so it never meets a developer's fleet), HTTP requests to it over one
 * keep-alive agent, the docker CLI, and the nodes' BMCs through the project's IPMI client.
 * Every child is a ProcessGroup member; docker objects are found again by name prefix for removal.
 */
import { ChildProcess, spawnSync } from 'node:child_process';
import { Agent, request } from 'node:http';
import { IpmiClient } from '../src/client/ipmi-client';
import { processCpuMs, ProcessGroup, runCommand, CommandResult } from './processes';

const START_TIMEOUT_MS = 60_000;
const HEALTH_POLL_MS = 200;
const BMC_POLL_MS = 250;
/** Per IPMI try while waiting for a BMC: short, the next poll follows anyway. */
const BMC_TRY_TIMEOUT_MS = 1_000;
const REMOVE_TIMEOUT_MS = 300_000;

export interface PortRange {
  readonly first: number;
  readonly last: number;
}

export interface OrchestratorSettings {
  readonly main: string;
  readonly cwd: string;
  readonly dataDir: string;
  readonly fleetName: string;
  readonly ipmiRange: PortRange;
  readonly vncRange: PortRange;
  readonly port: number;
  /** Added to (and overriding) the orchestrator's environment. */
  readonly env: Readonly<Record<string, string>>;
}

export interface HttpResult {
  readonly status: number;
  readonly body: string;
}

export class HttpClient {
  private readonly agent = new Agent({ keepAlive: true });

  constructor(readonly baseUrl: string) {}

  send(method: string, path: string, body?: unknown, timeoutMs = 180_000): Promise<HttpResult> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const req = request(`${this.baseUrl}${path}`, {
        method,
        agent: this.agent,
        timeout: timeoutMs,
        headers: payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {},
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

export class BenchOrchestrator {
  private child: ChildProcess | undefined;
  private lines: string[] = [];
  private partial = '';
  readonly http: HttpClient;

  constructor(private readonly group: ProcessGroup, readonly settings: OrchestratorSettings) {
    this.http = new HttpClient(`http://127.0.0.1:${settings.port}`);
  }

  get pid(): number | undefined { return this.child?.pid; }

  /** Log lines so far (stdout and stderr, in arrival order). */
  get log(): readonly string[] { return this.lines; }

  /** Lines logged from index `from` on. */
  logSince(from: number): string[] { return this.lines.slice(from); }

  cpuMs(): number | undefined {
    return this.child?.pid === undefined ? undefined : processCpuMs(this.child.pid);
  }

  async start(): Promise<void> {
    const s = this.settings;
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      ...(process.env.DOCKER_HOST ? { DOCKER_HOST: process.env.DOCKER_HOST } : {}),
      PORT: String(s.port),
      BIND_ADDRESS: '127.0.0.1',
      DATA_DIR: s.dataDir,
      FLEET_NAME: s.fleetName,
      IPMI_PORT_RANGE: `${s.ipmiRange.first}-${s.ipmiRange.last}`,
      VNC_PORT_RANGE: `${s.vncRange.first}-${s.vncRange.last}`,
      FLEET_REDFISH_PORT: 'none',
      ...s.env,
    };
    const child = this.group.spawn(process.execPath, [s.main], { cwd: s.cwd, env });
    this.child = child;
    const take = (chunk: Buffer): void => {
      const text = this.partial + chunk.toString('utf8');
      const parts = text.split('\n');
      this.partial = parts.pop() ?? '';
      this.lines.push(...parts.filter((l) => l !== ''));
    };
    child.stdout?.on('data', take);
    child.stderr?.on('data', take);
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the orchestrator exited (${child.exitCode ?? child.signalCode}): ${this.lines.slice(-5).join(' | ')}`);
      try {
        if ((await this.http.send('GET', '/healthz', undefined, 2_000)).status === 200) return;
      } catch {
        // not listening yet
      }
      await sleep(HEALTH_POLL_MS);
    }
    throw new Error(`the orchestrator did not answer /healthz within ${START_TIMEOUT_MS} ms: ${this.lines.slice(-5).join(' | ')}`);
  }

  async stop(): Promise<void> {
    this.http.close();
    if (this.child) await this.group.stop(this.child);
    this.child = undefined;
  }
}

// ------------------------------------------------------------------ docker CLI

export function docker(group: ProcessGroup, args: readonly string[], timeoutMs = 60_000): Promise<CommandResult> {
  return runCommand(group, 'docker', args, timeoutMs);
}

const lastLine = (text: string): string => text.trim().split('\n').slice(-1)[0] ?? '';

/** Removes every container and then every volume whose name starts with `prefix`; returns what failed. */
export async function removeByPrefix(group: ProcessGroup, prefix: string): Promise<string[]> {
  const problems: string[] = [];
  const containers = (await docker(group, ['ps', '-aq', '--filter', `name=^/${prefix}`])).stdout.split('\n').filter(Boolean);
  if (containers.length > 0) {
    const rm = await docker(group, ['rm', '-f', '-v', ...containers], REMOVE_TIMEOUT_MS);
    if (rm.code !== 0) problems.push(`docker rm: ${lastLine(rm.stderr)}`);
  }
  const volumes = (await docker(group, ['volume', 'ls', '-q', '--filter', `name=^${prefix}`])).stdout.split('\n').filter(Boolean);
  if (volumes.length > 0) {
    const rm = await docker(group, ['volume', 'rm', '-f', ...volumes], REMOVE_TIMEOUT_MS);
    if (rm.code !== 0) problems.push(`docker volume rm: ${lastLine(rm.stderr)}`);
  }
  return problems;
}

/** The same, synchronously, for exit paths that cannot wait (Ctrl-C, a crash). */
export function removeByPrefixNow(prefix: string): void {
  const run = (args: string[]): string => spawnSync('docker', args, { encoding: 'utf8', timeout: REMOVE_TIMEOUT_MS }).stdout ?? '';
  const containers = run(['ps', '-aq', '--filter', `name=^/${prefix}`]).split('\n').filter(Boolean);
  if (containers.length > 0) run(['rm', '-f', '-v', ...containers]);
  const volumes = run(['volume', 'ls', '-q', '--filter', `name=^${prefix}`]).split('\n').filter(Boolean);
  if (volumes.length > 0) run(['volume', 'rm', '-f', ...volumes]);
}

// ------------------------------------------------------------------ BMCs

export interface BmcCredentials {
  readonly user: string;
  readonly password: string;
}

/**
 * Polls a BMC on 127.0.0.1:port until it answers Get Chassis Status in a session (the project's
 * IPMI client, its default cipher suite); resolves with the epoch ms of the answer, or throws the
 * last error at the deadline (epoch ms).
 */
export async function waitForBmcAnswer(port: number, credentials: BmcCredentials, deadline: number): Promise<number> {
  let last = 'no answer';
  while (Date.now() < deadline) {
    let client: IpmiClient | undefined;
    try {
      client = await IpmiClient.connect({ host: '127.0.0.1', port, ...credentials, timeoutMs: BMC_TRY_TIMEOUT_MS, retries: 0 });
      await client.powerStatus();
      return Date.now();
    } catch (err) {
      last = (err as Error).message;
    } finally {
      await client?.close().catch(() => undefined);
    }
    await sleep(BMC_POLL_MS);
  }
  throw new Error(`BMC on port ${port} did not answer: ${last}`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
