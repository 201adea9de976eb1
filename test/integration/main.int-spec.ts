/**
 * Runs the compiled entry point (src/main.ts) as its own process, as `npm start` does: it must
 * refuse a bad environment before listening, serve /healthz, and stop cleanly on SIGTERM.
 * The build goes to .cache/ so it never races with a `npm start` that uses dist/.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const REPO_ROOT = join(__dirname, '..', '..');
const OUT_DIR = join(REPO_ROOT, '.cache', 'int-orchestrator');
const MAIN = join(OUT_DIR, 'src', 'main.js');
const BUILD_TIMEOUT_MS = 120_000;
const START_TIMEOUT_MS = 20_000;
const LISTENING = /listening on (http:\/\/127\.0\.0\.1:(\d+))/;
const FLEET_REDFISH_LISTENING = /fleet Redfish endpoint listening on https:\/\/127\.0\.0\.1:(\d+)\/redfish\/v1/;

interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The orchestrator's variables are replaced, so the runner's own environment cannot leak in. */
const DATA_DIR = mkdtempSync(join(tmpdir(), 'bmcfleet-main-'));
afterAll(() => rmSync(DATA_DIR, { recursive: true, force: true }));

function orchestratorEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const { PATH, HOME } = process.env;
  return { PATH, HOME, LOG_FORMAT: 'text', DATA_DIR, RECONCILE_INTERVAL_S: '0', FLEET_REDFISH_PORT: 'none', ...env };
}

function run(env: Record<string, string>): { child: ChildProcess; exited: Promise<Exit>; output: () => string } {
  const child = spawn(process.execPath, [MAIN], { cwd: REPO_ROOT, env: orchestratorEnv(env) });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<Exit>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, exited, output: () => stdout };
}

async function waitFor<T>(probe: () => T | null, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const found = probe();
    if (found !== null) {
      return found;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

describe('orchestrator entry point (dist main.js)', () => {
  const started: ChildProcess[] = [];

  beforeAll(() => {
    rmSync(OUT_DIR, { recursive: true, force: true });
    execFileSync(
      process.execPath,
      [
        require.resolve('typescript/bin/tsc'),
        '-p',
        join(REPO_ROOT, 'tsconfig.build.json'),
        '--outDir',
        OUT_DIR,
        '--tsBuildInfoFile',
        join(OUT_DIR, '.tsbuildinfo'),
      ],
      { cwd: REPO_ROOT, stdio: 'pipe', timeout: BUILD_TIMEOUT_MS },
    );
  }, BUILD_TIMEOUT_MS + 5_000);

  afterAll(() => {
    for (const child of started) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
      }
    }
  });

  it('starts on a free port, serves /healthz and the fleet Redfish endpoint (HTTPS, its generated certificate), and shuts down cleanly on SIGTERM', async () => {
    const { child, exited, output } = run({ PORT: '0', FLEET_REDFISH_PORT: '0' });
    started.push(child);
    const url = await waitFor(() => LISTENING.exec(output())?.[1] ?? null, START_TIMEOUT_MS, 'the listening line');

    const response = await fetch(`${url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ok' });

    const redfishPort = Number(await waitFor(() => FLEET_REDFISH_LISTENING.exec(output())?.[1] ?? null, START_TIMEOUT_MS, 'the fleet Redfish line'));
    const ca = readFileSync(join(DATA_DIR, 'fleet-redfish', 'redfish-cert.pem'), 'utf8');
    const root = await new Promise<{ status: number; body: { RedfishVersion?: string; Links?: unknown } }>((resolve, reject) => {
      const req = httpsRequest({ host: '127.0.0.1', port: redfishPort, path: '/redfish/v1', ca, agent: false, timeout: 10_000 }, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as { RedfishVersion?: string } }));
      });
      req.on('timeout', () => req.destroy(new Error('no answer within 10 s')));
      req.on('error', reject);
      req.end();
    });
    expect(root.status).toBe(200);
    expect(root.body).toMatchObject({ RedfishVersion: expect.stringMatching(/^1\.\d+\.\d+$/), Links: { Sessions: { '@odata.id': '/redfish/v1/SessionService/Sessions' } } });

    child.kill('SIGTERM');
    const exit = await exited;
    // Nest runs the shutdown hooks, then re-raises the signal so the parent sees how it ended.
    expect(exit.stdout).toContain('stopped on SIGTERM');
    expect([exit.code, exit.signal]).toEqual([null, 'SIGTERM']);
    expect(exit.stderr).toBe('');
  }, START_TIMEOUT_MS + 10_000);

  it('refuses a non-loopback BIND_ADDRESS without API_TOKEN, before listening', async () => {
    const { child, exited } = run({ PORT: '0', BIND_ADDRESS: '0.0.0.0' });
    started.push(child);
    const exit = await exited;
    expect(exit.code).toBe(1);
    expect(exit.stderr).toContain('refusing to start');
    expect(exit.stderr).toContain('API_TOKEN');
    expect(exit.stderr).toContain('not a loopback address');
    expect(exit.stdout).not.toMatch(/listening on/);
  }, START_TIMEOUT_MS);

  it('lists every bad variable at once and exits 1', async () => {
    const { child, exited } = run({ PORT: 'eighty', PUBLISH_ADDRESS: 'somewhere', VNC_PORT_RANGE: '9-1' });
    started.push(child);
    const exit = await exited;
    expect(exit.code).toBe(1);
    expect(exit.stderr).toContain('3 problems');
    for (const variable of ['PORT="eighty"', 'PUBLISH_ADDRESS="somewhere"', 'VNC_PORT_RANGE="9-1"']) {
      expect(exit.stderr).toContain(variable);
    }
  }, START_TIMEOUT_MS);
});
