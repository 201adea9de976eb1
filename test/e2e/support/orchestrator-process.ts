/**
 * The orchestrator as its users run it: `node dist/src/main.js` as a child process with its own
 * DATA_DIR, FLEET_NAME and port ranges, so several test files and a developer's own fleet never meet.
 * Killing it (SIGKILL included) and starting it again on the same DATA_DIR is how restart safety is
 * shown. Cleanup removes the fleet's containers and volumes by its FLEET_NAME prefix and fleet label.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const REPO_ROOT = join(__dirname, '..', '..', '..');
const MAIN = join(REPO_ROOT, 'dist', 'src', 'main.js');
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;

/** Compiles the orchestrator once per test file (tsc is incremental: a second build is quick). */
export function buildOrchestrator(): void {
  const result = spawnSync(process.execPath, [join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(REPO_ROOT, 'tsconfig.build.json')], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 300_000,
  });
  if (result.status !== 0 || !existsSync(MAIN)) throw new Error(`building the orchestrator failed:\n${result.stdout}${result.stderr}`);
}

export function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface FleetSettings {
  readonly dataDir: string;
  readonly fleetName: string;
  readonly ipmiRange: { first: number; last: number };
  readonly vncRange: { first: number; last: number };
  readonly redfishRange: { first: number; last: number };
  readonly env: Record<string, string>;
}

/**
 * A fresh fleet: its own data directory (made by start(), so a describe block whose tests are filtered
 * out leaves nothing behind), name and a random slice of high ports (size ports each).
 */
export function newFleetSettings(size: number, env: Record<string, string> = {}): FleetSettings {
  const base = randomInt(20_000, 60_000 - 3 * size);
  return {
    dataDir: join(tmpdir(), `bmcfleet-e2e-${randomBytes(6).toString('hex')}`),
    fleetName: `e2e${randomBytes(3).toString('hex')}`,
    ipmiRange: { first: base, last: base + size - 1 },
    vncRange: { first: base + size, last: base + 2 * size - 1 },
    redfishRange: { first: base + 2 * size, last: base + 3 * size - 1 },
    env,
  };
}

export class OrchestratorProcess {
  private child: ChildProcess | null = null;
  private output = '';
  url = '';

  constructor(readonly settings: FleetSettings) {}

  get log(): string {
    return this.output;
  }

  async start(): Promise<void> {
    // A test that failed before its stop() leaves its process running: never orphan it (jest would
    // then wait for it forever after the run).
    await this.stop('SIGKILL');
    const port = await freeTcpPort();
    const s = this.settings;
    mkdirSync(s.dataDir, { recursive: true, mode: 0o700 });
    const env = {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      DOCKER_HOST: process.env['DOCKER_HOST'] ?? '',
      PORT: String(port),
      DATA_DIR: s.dataDir,
      FLEET_NAME: s.fleetName,
      IPMI_PORT_RANGE: `${s.ipmiRange.first}-${s.ipmiRange.last}`,
      VNC_PORT_RANGE: `${s.vncRange.first}-${s.vncRange.last}`,
      REDFISH_PORT_RANGE: `${s.redfishRange.first}-${s.redfishRange.last}`,
      // Off unless a test asks for it (s.env): parallel orchestrators would all want 8443.
      FLEET_REDFISH_PORT: 'none',
      NODE_DEFAULTS_ENABLE_KVM: 'false',
      LOG_FORMAT: 'text',
      // The node image under test, as node-image/test/e2e/node-container.ts takes it (default: bmcfleet/node:latest).
      ...(process.env['BMCFLEET_NODE_IMAGE'] ? { NODE_IMAGE: process.env['BMCFLEET_NODE_IMAGE'] } : {}),
      ...s.env,
    };
    this.output = '';
    const child = spawn(process.execPath, [MAIN], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`orchestrator exited with ${child.exitCode}:\n${this.output}`);
      try {
        const response = await fetch(`${this.url}/healthz`);
        if (response.ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(`orchestrator did not answer /healthz within ${START_TIMEOUT_MS} ms:\n${this.output}`);
  }

  /** SIGTERM (graceful) or SIGKILL (a crash); resolves when the process is gone. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (child === null || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
    this.child = null;
  }

  async request<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text === '' ? null : JSON.parse(text);
    } catch {
      // YAML, metrics text
    }
    return { status: response.status, body: parsed as T };
  }

  /** Removes the fleet's containers and volumes (by name prefix) and its data directory. */
  async cleanup(): Promise<void> {
    await this.stop('SIGKILL');
    const prefix = `${this.settings.fleetName}-`;
    const containers = spawnSync('docker', ['ps', '-aq', '--filter', `name=^/${prefix}`], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean);
    if (containers.length > 0) spawnSync('docker', ['rm', '-f', '-v', ...containers], { encoding: 'utf8' });
    const volumes = spawnSync('docker', ['volume', 'ls', '-q', '--filter', `name=^${prefix}`], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean);
    if (volumes.length > 0) spawnSync('docker', ['volume', 'rm', '-f', ...volumes], { encoding: 'utf8' });
    rmSync(this.settings.dataDir, { recursive: true, force: true });
  }
}

/** Names of the fleet's containers the engine has (running or not). */
export function fleetContainers(fleetName: string): { name: string; state: string }[] {
  const out = spawnSync('docker', ['ps', '-a', '--filter', `name=^/${fleetName}-`, '--format', '{{.Names}} {{.State}}'], { encoding: 'utf8' }).stdout;
  return out.trim().split('\n').filter(Boolean).map((line) => {
    const [name = '', state = ''] = line.split(' ');
    return { name, state };
  });
}
