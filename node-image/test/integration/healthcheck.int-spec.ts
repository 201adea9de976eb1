/**
 * The node image's HEALTHCHECK (node-image/dist/healthcheck.js) against the real agent process:
 * exit 0 while the agent answers, exit 1 with the reason once it is gone or when something on the
 * port stays silent, always within its time bound.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AGENT_MAIN, freeUdpPort, RunningAgent, startAgent } from '../support/agent-process';
import { probe } from '../../src/healthcheck';

const REPO_ROOT = join(__dirname, '..', '..', '..');
const HEALTHCHECK_MAIN = join(__dirname, '..', '..', 'dist', 'healthcheck.js');
const BUILD_TIMEOUT_MS = 180_000;
/** The Dockerfile's HEALTHCHECK --timeout. */
const DOCKER_TIMEOUT_MS = 5_000;

jest.setTimeout(30_000);

function runHealthcheck(port: number): { status: number | null; stdout: string; ms: number } {
  const started = Date.now();
  const r = spawnSync(process.execPath, [HEALTHCHECK_MAIN], {
    env: { PATH: process.env.PATH ?? '', IPMI_ADDRESS: '0.0.0.0', IPMI_PORT: String(port) },
    encoding: 'utf8',
    timeout: 2 * DOCKER_TIMEOUT_MS,
  });
  return { status: r.status, stdout: r.stdout, ms: Date.now() - started };
}

describe('healthcheck against the agent process', () => {
  let agent: RunningAgent | undefined;

  beforeAll(async () => {
    if (!existsSync(AGENT_MAIN) || !existsSync(HEALTHCHECK_MAIN)) {
      execFileSync('npm', ['run', 'build:agent', '--silent'], { cwd: REPO_ROOT, stdio: 'inherit', timeout: BUILD_TIMEOUT_MS });
    }
    // The image binds 0.0.0.0; the healthcheck then probes 127.0.0.1, where the test agent listens.
    agent = await startAgent({ IPMI_ADDRESS: '127.0.0.1' });
  }, BUILD_TIMEOUT_MS + 20_000);

  afterAll(async () => {
    await agent?.stop();
  });

  it('exits 0 while the agent answers', () => {
    const r = runHealthcheck(agent!.port);
    expect(r.stdout).toBe(`healthy: IPMI answers on 127.0.0.1:${agent!.port}\n`);
    expect(r.status).toBe(0);
    expect(r.ms).toBeLessThan(DOCKER_TIMEOUT_MS);
  });

  it('exits 1 with the reason once the agent has stopped', async () => {
    const port = agent!.port;
    await agent!.stop();
    const r = runHealthcheck(port);
    expect(r.stdout).toMatch(new RegExp(`^unhealthy: IPMI on 127\\.0\\.0\\.1:${port}: `));
    expect(r.status).toBe(1);
    expect(r.ms).toBeLessThan(DOCKER_TIMEOUT_MS);
  });

  it('exits 1 when the configuration is invalid', () => {
    const r = spawnSync(process.execPath, [HEALTHCHECK_MAIN], {
      env: { PATH: process.env.PATH ?? '', IPMI_PORT: 'not-a-port' },
      encoding: 'utf8',
      timeout: 2 * DOCKER_TIMEOUT_MS,
    });
    expect(r.stdout).toMatch(/^unhealthy: invalid configuration:[\s\S]*IPMI_PORT/);
    expect(r.status).toBe(1);
  });

  it('reports a peer that stays silent after every attempt, within attempts × timeout', async () => {
    const silent = createSocket('udp4');
    let received = 0;
    silent.on('message', () => { received++; });
    const port = await freeUdpPort();
    await new Promise<void>((resolve) => silent.bind(port, '127.0.0.1', () => resolve()));
    try {
      const started = Date.now();
      const problem = await probe({ address: '127.0.0.1', port }, { attempts: 2, attemptTimeoutMs: 200 });
      expect(problem).toBe('no answer within 200 ms');
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(received).toBe(2);
    } finally {
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});
