/**
 * The project's own IPMI client against the real agent process (node-image/dist/main.js, MACHINE=sim)
 * on a free loopback port with a temporary state directory: handshake with suites 3 and 17, power
 * status and control, refusals named by their RMCP+ status, and sessions really closed.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AGENT_MAIN, RunningAgent, startAgent } from '../support/agent-process';
import { IpmiClient, IpmiClientError, IpmiClientErrorCode, IpmiClientOptions } from '../../src/client';
import { AppCmd, NetFn } from '../../src/protocol/netfn';

const REPO_ROOT = join(__dirname, '..', '..', '..');
const BUILD_TIMEOUT_MS = 180_000;
/** More sessions than the agent's table holds (16): leaked sessions would make the last logins fail. */
const LOGIN_ROUNDS = 20;

jest.setTimeout(60_000);

async function rejection(p: Promise<unknown>): Promise<IpmiClientError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof IpmiClientError) return err;
    throw err;
  }
  throw new Error('expected a rejection');
}

async function until<T>(probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('IpmiClient against the agent process', () => {
  let agent: RunningAgent | undefined;
  const clients: IpmiClient[] = [];
  const opts = (extra: Partial<IpmiClientOptions> = {}): IpmiClientOptions =>
    ({ host: '127.0.0.1', port: agent!.port, user: 'admin', password: 'secret-pw', timeoutMs: 1000, retries: 1, ...extra });
  const connect = async (extra: Partial<IpmiClientOptions> = {}): Promise<IpmiClient> => {
    const c = await IpmiClient.connect(opts(extra));
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    if (!existsSync(AGENT_MAIN)) execFileSync('npm', ['run', 'build:agent', '--silent'], { cwd: REPO_ROOT, stdio: 'inherit', timeout: BUILD_TIMEOUT_MS });
    agent = await startAgent({ IPMI_USER: 'admin', IPMI_PASS: 'secret-pw', IPMI_CIPHER_SUITES: '3,17' });
  }, BUILD_TIMEOUT_MS + 20_000);

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });

  afterAll(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await agent?.stop();
  });

  it.each([3, 17])('logs in with suite %i, reads power status and the device id', async (cipherSuite) => {
    const c = await connect({ cipherSuite });
    expect(await c.powerStatus()).toBe('off'); // a node starts powered off unless POWER_ON_AT_START
    const id = await c.getDeviceId();
    expect(id.ipmiVersion).toBe('2.0');
    expect(id.deviceAvailable).toBe(true);
    await c.close();
    expect(c.isClosed).toBe(true);
  });

  it('powers the simulated machine on and off', async () => {
    const c = await connect();
    await c.chassisControl('on');
    expect(await until(() => c.powerStatus(), (s) => s === 'on', 5_000)).toBe('on');
    await c.chassisControl('off');
    expect(await until(() => c.powerStatus(), (s) => s === 'off', 5_000)).toBe('off');
  });

  it('fails fast with a clear error on a wrong password, and the right one still logs in', async () => {
    const t0 = Date.now();
    const err = await rejection(IpmiClient.connect(opts({ password: 'not-the-password', timeoutMs: 3000 })));
    expect(Date.now() - t0).toBeLessThan(1500);
    expect(err.code).toBe(IpmiClientErrorCode.Handshake);
    expect(err.message).toContain('wrong password or user: RAKP2 HMAC invalid');
    const c = await connect();
    expect(await c.powerStatus()).toBe('off');
  });

  it('names the refusal of an unknown user and of a suite the agent does not offer', async () => {
    expect((await rejection(IpmiClient.connect(opts({ user: 'nobody' })))).message).toContain('unauthorized name (0x0D)');
    expect((await rejection(IpmiClient.connect(opts({ cipherSuite: 16 })))).message).toContain('no matching cipher suite (0x11)');
  });

  it('closes its sessions: more logins in a row than the agent has session slots', async () => {
    for (let i = 0; i < LOGIN_ROUNDS; i++) {
      const c = await IpmiClient.connect(opts({ cipherSuite: i % 2 === 0 ? 17 : 3 }));
      try {
        expect(await c.powerStatus()).toBe('off');
      } finally {
        await c.close();
      }
    }
  });

  it('keeps requests in flight and gets every answer', async () => {
    const c = await connect();
    const r = await c.requestMany(2000, NetFn.App, AppCmd.GetDeviceId, Buffer.alloc(0), 16);
    expect(r.completionCodes).toEqual({ 0: 2000 });
  });
});
