/**
 * How the agent refuses ipmitool 1.8.19: wrong passwords, unknown users, disabled cipher suites,
 * insufficient privilege, lockout after repeated failures, and malformed or unknown commands.
 *
 * Every refusal must be explicit and fast. That is shown structurally, never by timing: ipmitool's
 * -vvv trace prints one block per request it sends (and another per retry), so "one Open Session
 * Request" / "one request for this command" means the client got its answer the first time; the
 * message ipmitool prints is the one it derives from the agent's status or completion code; and the
 * agent's own log (DEBUG=true) shows what it refused and why.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AGENT_MAIN, RunningAgent, startAgent } from '../support/agent-process';
import { describeWithTools, RunResult } from '../support/tools';
import { agentLog, attempts, completionCodes, ipmitool, IpmitoolOptions, logMark, pollUntil, waitForLog } from '../support/ipmitool-runner';

const REPO_ROOT = join(__dirname, '..', '..', '..');
const BUILD_TIMEOUT_MS = 180_000;
const CHASSIS = 0x00;
const APP = 0x06;
const GROUP_EXTENSION = 0x2c;

jest.setTimeout(60_000);

function explain(r: RunResult): string {
  return `exit ${r.status}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

function expectOk(r: RunResult): RunResult {
  if (r.status !== 0) throw new Error(`ipmitool failed: ${explain(r)}`);
  return r;
}

/** How many RMCP+ handshakes ipmitool (-vvv) started: it restarts from Open Session on every retry. */
function openSessionRequests(verbose: string): number {
  return verbose.split('\n').filter((l) => l.trim() === '>> SENDING AN OPEN SESSION REQUEST').length;
}

const describeIpmitool = describeWithTools(['ipmitool']);

describeIpmitool('ipmitool 1.8.19: refusals by the agent', () => {
  let agent: RunningAgent | undefined;
  const ipmi = (extra: string[], opts?: IpmitoolOptions): Promise<RunResult> => ipmitool(agent!.port, extra, opts);
  const activations = (mark: number, user?: string) =>
    agentLog(agent!, mark).filter((l) => l.msg === 'session activated' && (user === undefined || l.user === user));

  /** Creates an enabled user over IPMI, as an administrator would. */
  const createUser = async (id: number, name: string, password: string, privilege: number): Promise<void> => {
    expectOk(await ipmi(['user', 'set', 'name', String(id), name]));
    expectOk(await ipmi(['user', 'set', 'password', String(id), password]));
    expectOk(await ipmi(['user', 'priv', String(id), String(privilege), '1']));
    expectOk(await ipmi(['user', 'enable', String(id)]));
  };

  beforeAll(async () => {
    if (!existsSync(AGENT_MAIN)) execFileSync('npm', ['run', 'build:agent', '--silent'], { cwd: REPO_ROOT, stdio: 'inherit', timeout: BUILD_TIMEOUT_MS });
    agent = await startAgent({ DEBUG: 'true', IPMI_CIPHER_SUITES: '3,17' });
    await createUser(3, 'viewer', 'viewer-pw-1', 2); // USER privilege
    // Victims of the wrong-password tests, so that the administrator is never locked out here.
    await createUser(4, 'victim', 'victim-pw-1', 4);
    await createUser(5, 'locky', 'locky-pw-1', 4);
    await createUser(6, 'locky2', 'locky2-pw-1', 4);
  }, BUILD_TIMEOUT_MS + 30_000);

  afterAll(async () => {
    await agent?.stop();
  });

  describe('logins', () => {
    it('wrong password (RMCP+): ipmitool rejects RAKP 2 on its first handshake; no session is created', async () => {
      const mark = logMark(agent!);
      const r = await ipmi(['-vvv', 'power', 'status'], { user: 'victim', password: 'not-the-password' });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('> RAKP 2 HMAC is invalid');
      expect(r.stderr).toContain('Error: Unable to establish IPMI v2 / RMCP+ session');
      expect(openSessionRequests(r.stderr)).toBe(1);
      expect(r.stdout).not.toContain('Chassis Power');
      expect(activations(mark)).toEqual([]);
    });

    it('wrong password (IPMI 1.5): Activate Session is refused explicitly and the agent logs why', async () => {
      const mark = logMark(agent!);
      const r = await ipmi(['-vvv', 'power', 'status'], { iface: 'lan', user: 'victim', password: 'not-the-password' });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('Activate Session error:\tInvalid session ID in request');
      expect(r.stderr).toContain('Error: Unable to establish IPMI v1.5 / RMCP session');
      // One Activate Session request, answered with 0x85 (invalid session ID = wrong AuthCode).
      expect(completionCodes(r.stderr, APP, 0x3a)).toEqual([0x85]);
      const log = agentLog(agent!, mark);
      expect(log.filter((l) => l.msg === 'IPMI 1.5 activation refused: wrong password')).toEqual([expect.objectContaining({ user: 'victim', remote: '127.0.0.1' })]);
      expect(activations(mark)).toEqual([]);
    });

    it('unknown user: RAKP 2 carries "unauthorized name"; one handshake, no session', async () => {
      const mark = logMark(agent!);
      const r = await ipmi(['-vvv', 'power', 'status'], { user: 'nobody-here', password: 'password' });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('RAKP 2 message indicates an error : unauthorized name');
      expect(r.stderr).toContain('Error: Unable to establish IPMI v2 / RMCP+ session');
      expect(openSessionRequests(r.stderr)).toBe(1);
      expect(activations(mark)).toEqual([]);
    });

    it.each([0, 1, 2])('-C %i (not enabled): Open Session is answered "no matching cipher suite" once', async (suite) => {
      const mark = logMark(agent!);
      const r = await ipmi(['-C', String(suite), '-vvv', 'power', 'status']);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('Error in open session response message : no matching cipher suite');
      expect(r.stderr).toContain('Error: Unable to establish IPMI v2 / RMCP+ session');
      expect(openSessionRequests(r.stderr)).toBe(1);
      // RMCP+ status 0x11 = no cipher suite match.
      expect(agentLog(agent!, mark).filter((l) => l.msg === 'open session refused')).toEqual([expect.objectContaining({ status: 0x11 })]);
      expect(activations(mark)).toEqual([]);
    });
  });

  describe('privilege', () => {
    it('a USER-privilege user reads the power state but Chassis Control answers 0xD4', async () => {
      expect(expectOk(await ipmi(['-L', 'USER', 'power', 'status'], { user: 'viewer', password: 'viewer-pw-1' })).stdout).toContain('Chassis Power is off');

      const off = await ipmi(['-L', 'USER', '-vvv', 'power', 'off'], { user: 'viewer', password: 'viewer-pw-1' });
      expect(off.status).toBe(1);
      expect(off.stderr).toContain('Set Chassis Power Control to Down/Off failed: Insufficient privilege level');
      expect(attempts(off.stderr, CHASSIS, 0x02, [0x00])).toBe(1);
      expect(completionCodes(off.stderr, CHASSIS, 0x02)).toEqual([0xd4]);

      const raw = await ipmi(['-L', 'USER', 'raw', '0x00', '0x02', '0x01'], { user: 'viewer', password: 'viewer-pw-1' });
      expect(raw.status).toBe(1);
      expect(raw.stderr).toContain('rsp=0xd4): Insufficient privilege level');
      expect((await ipmi(['power', 'status'])).stdout).toContain('Chassis Power is off');
    });

    it('the USER-privilege user cannot open an ADMINISTRATOR session (ipmitool\'s default level)', async () => {
      const r = await ipmi(['-vvv', 'power', 'status'], { user: 'viewer', password: 'viewer-pw-1' });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('RAKP 2 message indicates an error : unauthorized role requested');
      expect(openSessionRequests(r.stderr)).toBe(1);
    });
  });

  describe('malformed and unknown commands', () => {
    it.each([
      { args: ['0x00', '0x02'], netFn: CHASSIS, cmd: 0x02, data: [], cc: 0xc7, ccHex: 'C7', text: 'Request data length invalid' },
      { args: ['0x00', '0x02', '0x09'], netFn: CHASSIS, cmd: 0x02, data: [0x09], cc: 0xcc, ccHex: 'CC', text: 'Invalid data field in request' },
      { args: ['0x06', '0x99'], netFn: APP, cmd: 0x99, data: [], cc: 0xc1, ccHex: 'C1', text: 'Invalid command' },
      { args: ['0x2c', '0x00', '0x00'], netFn: GROUP_EXTENSION, cmd: 0x00, data: [0x00], cc: 0xc1, ccHex: 'C1', text: 'Invalid command' },
    ])('raw $args → completion code $ccHex ($text), answered on the first try', async ({ args, netFn, cmd, data, cc, text }) => {
      const r = await ipmi(['-vvv', 'raw', ...args]);
      expect(r.status).toBe(1);
      const rsp = `0x${cc.toString(16)}`;
      expect(r.stderr).toContain(`cmd=0x${cmd.toString(16)} rsp=${rsp}): ${text}`);
      // ipmitool itself sends Group Extension 00/[00] once during its session setup (PICMG probe),
      // so that exact request appears twice for the last case; every other one exactly once.
      const setupProbes = netFn === GROUP_EXTENSION ? 1 : 0;
      expect(attempts(r.stderr, netFn, cmd, data)).toBe(1 + setupProbes);
      const codes = completionCodes(r.stderr, netFn, cmd);
      expect(codes[codes.length - 1]).toBe(cc);
      // The session itself was fine: ipmitool closed it normally afterwards.
      expect(r.stderr).toMatch(/Closed Session [0-9a-f]+/);
    });
  });

  describe('lockout', () => {
    /** One login attempt with ipmitool -v (its RAKP 2 diagnostics are on stderr). */
    const login = (user: string, password: string): Promise<RunResult> => ipmi(['-v', 'power', 'status'], { user, password });
    const refusedAsLocked = (r: RunResult): boolean => r.status === 1 && r.stderr.includes('RAKP 2 message indicates an error : unauthorized name');

    it('a wrong password over -I lanplus is not counted: ipmitool abandons the handshake after RAKP 2, which proves nothing', async () => {
      for (let i = 0; i < 6; i++) {
        const r = await login('locky', `wrong-${i}`);
        expect(r.status).toBe(1);
        expect(r.stderr).toContain('RAKP 2 HMAC is invalid');
      }
      // Let the abandoned handshakes expire (5 s; counting them there would have locked the user).
      await new Promise((r) => setTimeout(r, 7_000));
      expect(expectOk(await login('locky', 'locky-pw-1')).stdout).toContain('Chassis Power is off');
    });

    it('5 wrong passwords lock the user (even the right password is refused) until the lockout ends or an admin re-enables it', async () => {
      // A wrong IPMI 1.5 AuthCode (ipmitool -I lan) proves a wrong password and counts at once.
      for (let i = 0; i < 5; i++) {
        for (const user of ['locky', 'locky2']) {
          const r = await ipmi(['power', 'status'], { iface: 'lan', user, password: `wrong-${i}` });
          expect(r.status).toBe(1);
        }
      }
      for (const user of ['locky', 'locky2']) {
        const probe = await login(user, 'still-wrong');
        expect(probe.stderr).toContain('RAKP 2 message indicates an error : unauthorized name');
      }

      const mark = logMark(agent!);
      const right = await login('locky', 'locky-pw-1');
      expect(refusedAsLocked(right)).toBe(true);
      expect(right.stderr).toContain('Error: Unable to establish IPMI v2 / RMCP+ session');
      const rightLan = await ipmi(['power', 'status'], { iface: 'lan', user: 'locky', password: 'locky-pw-1' });
      expect(rightLan.status).toBe(1);
      const locked2 = await login('locky2', 'locky2-pw-1');
      expect(refusedAsLocked(locked2)).toBe(true);
      expect(await waitForLog(agent!, (l) => l.msg === 'login refused: user locked out from this address' && l.user === 'locky', { fromOffset: mark, timeoutMs: 2_000 })).toBeDefined();
      expect(await waitForLog(agent!, (l) => l.msg === 'login refused: user locked out from this address' && l.user === 'locky2', { fromOffset: mark, timeoutMs: 2_000 })).toBeDefined();
      expect(activations(mark)).toEqual([]);

      // Other users are not affected.
      expect(expectOk(await ipmi(['power', 'status'])).stdout).toContain('Chassis Power is off');

      // An administrator re-enabling the user ends its lockout at once; the other stays locked.
      expectOk(await ipmi(['user', 'enable', '6']));
      expect(expectOk(await login('locky2', 'locky2-pw-1')).stdout).toContain('Chassis Power is off');
      expect(refusedAsLocked(await login('locky', 'locky-pw-1'))).toBe(true);

      // The lockout interval (30 s, lan print "User Lockout Interval") ends by itself. Bounded probing.
      const unlocked = await pollUntil(() => login('locky', 'locky-pw-1'), (r) => r.status === 0, { attempts: 60, timeoutMs: 50_000, intervalMs: 1_000 });
      expect(explain(unlocked)).toContain('Chassis Power is off');
      expect(unlocked.status).toBe(0);
    }, 90_000);
  });
});
