/**
 * Logins under attack from another host, with the real ipmitool as the administrator.
 *
 * The agent listens on 127.0.0.1; the administrator's ipmitool talks from 127.0.0.1, the attacker's
 * sockets are bound to other loopback addresses (127.0.0.2, 127.0.0.10.., all of 127/8 is
 * loopback), so the agent sees them as other hosts.
 *
 * - Strangers cannot lock the administrator out: handshakes naming `admin` that end in a RAKP3
 *   with an error status, abandoned handshakes, and real wrong-password RAKP3s from 127.0.0.2
 *   (sent all the while ipmitool runs) leave ipmitool from 127.0.0.1 working; guessing from
 *   127.0.0.2 is still slowed (that address is locked out, even with the right password).
 * - A USER-privilege account holding every session it can get (from 127.0.0.2) leaves slots for
 *   the administrator; the one too many gets RAKP2 status 01h "insufficient resources".
 * - User changes act at once: disabling the user, NO ACCESS, a new password end its sessions; a
 *   lowered privilege limit lowers the session's privilege.
 * - Unauthenticated junk does not turn into log lines (a digest instead).
 * - A guesser spread over 20 addresses throttles unfamiliar addresses for `admin`, while the
 *   administrator's familiar address keeps working.
 * - IPMI 1.5 straight password works only when IPMI_V15_AUTH_TYPES allows it.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AGENT_MAIN, RunningAgent, startAgent } from '../support/agent-process';
import { describeWithTools, ipmitoolArgs, run } from '../support/tools';
import { runAsync } from '../support/process-probe';
import { LoginRefused, openSessionReply, openSessionRequest, pongTag, presencePing, RawSession, RawUdp, rakp1Request, rakpReply } from '../support/rmcp-raw';
import { encodeRmcpPlusPacket } from '../../src/protocol/session/rmcpplus-packet';
import { encodeRakp3 } from '../../src/protocol/session/rakp';
import { suiteById } from '../../src/protocol/crypto/cipher-suites';
import { PayloadType } from '../../src/protocol/netfn';
import { Privilege, RakpStatus } from '../../src/protocol/errors';

const REPO_ROOT = join(__dirname, '..', '..', '..');
const BUILD_TIMEOUT_MS = 180_000;
const ADMIN = { user: 'admin', password: 'password' };
const VIEWER = { id: 3, user: 'viewer', password: 'viewpass1' };
const SUITE_17 = suiteById(17)!;
const ATTACKER = '127.0.0.2';
/** Slots a USER-privilege account may fill: 16 less 2 kept for Operator and 2 for Administrator. */
const USER_SLOTS = 12;

jest.setTimeout(120_000);

type Ending = 'rakp3-error-status' | 'abandoned' | 'wrong-password';

/** One RMCP+ handshake naming `user`; returns the RAKP2 status and, for a sent RAKP3 with a wrong AuthCode, the RAKP4 status. */
async function handshake(udp: RawUdp, user: string, ending: Ending): Promise<{ rakp2?: number; rakp4?: number }> {
  const consoleSessionId = (randomBytes(4).readUInt32LE(0) | 1) >>> 0;
  const opened = udp.waitFor((d) => { const r = openSessionReply(d); return r?.consoleSessionId === consoleSessionId ? r : undefined; }, 2000);
  udp.send(openSessionRequest({ consoleSessionId, suite: SUITE_17 }));
  const open = await opened;
  if (!open || open.status !== 0 || open.bmcSessionId === undefined) return {};
  const bmcSessionId = open.bmcSessionId;
  const rakp2 = udp.waitFor((d) => { const r = rakpReply(d); return r?.consoleSessionId === consoleSessionId || r?.consoleSessionId === 0 ? r.status : undefined; }, 2000);
  udp.send(rakp1Request({ bmcSessionId, userName: user, privilege: Privilege.Administrator }));
  const status2 = await rakp2;
  if (status2 !== 0 || ending === 'abandoned') return { rakp2: status2 };
  const status = ending === 'rakp3-error-status' ? RakpStatus.InvalidIntegrityCheckValue : 0;
  const rakp3 = encodeRmcpPlusPacket({ payloadType: PayloadType.Rakp3, sessionId: 0, sequence: 0, encrypted: false, integrity: null, payload: encodeRakp3({ tag: 1, status, bmcSessionId, authCode: status === 0 ? randomBytes(20) : Buffer.alloc(0) }) });
  if (ending === 'rakp3-error-status') { udp.send(rakp3); return { rakp2: status2 }; }
  const rakp4 = udp.waitFor((d) => rakpReply(d, PayloadType.Rakp4)?.status, 2000);
  udp.send(rakp3);
  return { rakp2: status2, rakp4: await rakp4 };
}

/** Waits until the agent has read everything sent before (its answer to a presence ping). */
async function caughtUp(udp: RawUdp): Promise<void> {
  const tag = randomBytes(1)[0]!;
  const pong = udp.waitFor((d) => (pongTag(d) === tag ? true : undefined), 2000);
  udp.send(presencePing(tag));
  expect(await pong).toBe(true);
}

const describeIpmitool = describeWithTools(['ipmitool']);

describeIpmitool('logins under attack from another source address', () => {
  let agent: RunningAgent | undefined;
  const udps: RawUdp[] = [];
  const ipmi = (args: string[], o: { user?: string; password?: string; iface?: string } = {}) => run('ipmitool', ipmitoolArgs(agent!.port, args, { ...ADMIN, ...o }), { timeoutMs: 30_000 });
  const ipmiOk = (args: string[]): string => {
    const r = ipmi(args);
    if (r.status !== 0) throw new Error(`ipmitool ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
    return r.stdout;
  };
  const socket = async (bindAddress: string): Promise<RawUdp> => {
    const u = await RawUdp.open(agent!.port, { bindAddress });
    udps.push(u);
    return u;
  };
  const viewerLogin = async (udp: RawUdp, privilege: number = Privilege.User): Promise<RawSession> =>
    RawSession.open(udp, { user: VIEWER.user, password: VIEWER.password, suiteId: 17, privilege, tries: 1 });
  const answers = async (s: RawSession): Promise<boolean> => (await s.call(0x06, 0x01, undefined, { timeoutMs: 500, tries: 2 }))?.completionCode === 0;

  beforeAll(async () => {
    if (!existsSync(AGENT_MAIN)) execFileSync('npm', ['run', 'build:agent', '--silent'], { cwd: REPO_ROOT, stdio: 'inherit', timeout: BUILD_TIMEOUT_MS });
    agent = await startAgent({ IPMI_USER: ADMIN.user, IPMI_PASS: ADMIN.password, DEBUG: 'false' });
    ipmiOk(['user', 'set', 'name', String(VIEWER.id), VIEWER.user]);
    ipmiOk(['user', 'set', 'password', String(VIEWER.id), VIEWER.password]);
    ipmiOk(['user', 'priv', String(VIEWER.id), String(Privilege.User), '1']);
    ipmiOk(['user', 'enable', String(VIEWER.id)]);
  }, BUILD_TIMEOUT_MS + 30_000);

  afterAll(async () => {
    for (const u of udps.splice(0)) await u.close();
    await agent?.stop();
  });

  it('strangers at 127.0.0.2 naming admin do not lock out ipmitool at 127.0.0.1; their own guessing is locked out', async () => {
    const attacker = await socket(ATTACKER);
    // What kept admin locked out before: handshakes ending in a RAKP3 error status, or abandoned.
    for (let i = 0; i < 10; i++) await handshake(attacker, ADMIN.user, i % 2 === 0 ? 'rakp3-error-status' : 'abandoned');
    // Real password guesses from the attacker's address: refused (0Fh) until the address is locked out.
    const guesses: Array<{ rakp2?: number; rakp4?: number }> = [];
    for (let i = 0; i < 6; i++) guesses.push(await handshake(attacker, ADMIN.user, 'wrong-password'));
    expect(guesses.slice(0, 5).map((g) => g.rakp4)).toEqual(Array(5).fill(RakpStatus.InvalidIntegrityCheckValue));
    expect(guesses[5]).toEqual({ rakp2: RakpStatus.UnauthorizedName });
    // Locked out from 127.0.0.2 even with the right password: guessing there is slowed.
    await expect(RawSession.open(await socket(ATTACKER), { user: ADMIN.user, password: ADMIN.password, suiteId: 17, privilege: Privilege.Administrator, tries: 1 })).rejects.toThrow(LoginRefused);

    // The administrator's ipmitool, while the attack goes on (bounded).
    let sent = 0;
    let done = false;
    const tool = runAsync('ipmitool', ipmitoolArgs(agent!.port, ['power', 'status'], ADMIN), { timeoutMs: 60_000 }).finally(() => { done = true; });
    while (!done && sent < 300) { await handshake(attacker, ADMIN.user, sent % 2 === 0 ? 'rakp3-error-status' : 'wrong-password'); sent++; }
    const r = await tool;
    expect({ status: r.status, stdout: r.stdout.trim() }).toEqual({ status: 0, stdout: 'Chassis Power is off' });
    expect(sent).toBeGreaterThan(0);
    for (let i = 0; i < 3; i++) expect(ipmi(['power', 'status']).status).toBe(0);
  });

  it('a USER-privilege account cannot take the sessions the administrator needs; the one too many gets RAKP2 01h', async () => {
    const holder = await socket(ATTACKER);
    const held: RawSession[] = [];
    let refusal: unknown;
    for (let i = 0; i < 20 && refusal === undefined; i++) {
      try { held.push(await viewerLogin(holder)); } catch (err) { refusal = err; }
    }
    try {
      expect(held.length).toBe(USER_SLOTS);
      expect(refusal).toBeInstanceOf(LoginRefused);
      expect(String((refusal as Error).message)).toMatch(/insufficient resources|0x01/i);
      const r = ipmi(['power', 'status']);
      expect({ status: r.status, stdout: r.stdout.trim() }).toEqual({ status: 0, stdout: 'Chassis Power is off' });
    } finally {
      for (const s of held) await s.call(0x06, 0x3c, Buffer.from([s.bmcSessionId & 0xff, (s.bmcSessionId >>> 8) & 0xff, (s.bmcSessionId >>> 16) & 0xff, s.bmcSessionId >>> 24]));
    }
  });

  it('disabling the user, NO ACCESS or a new password end its open sessions at once', async () => {
    const udp = await socket('127.0.0.3');
    let s = await viewerLogin(udp);
    expect(await answers(s)).toBe(true);
    ipmiOk(['user', 'disable', String(VIEWER.id)]);
    expect(await answers(s)).toBe(false);
    ipmiOk(['user', 'enable', String(VIEWER.id)]);

    s = await viewerLogin(udp);
    ipmiOk(['user', 'priv', String(VIEWER.id), '15', '1']); // NO ACCESS
    expect(await answers(s)).toBe(false);
    ipmiOk(['user', 'priv', String(VIEWER.id), String(Privilege.User), '1']);

    s = await viewerLogin(udp);
    ipmiOk(['user', 'set', 'password', String(VIEWER.id), 'viewpass2']);
    expect(await answers(s)).toBe(false);
    ipmiOk(['user', 'set', 'password', String(VIEWER.id), VIEWER.password]);
    expect(await answers(await viewerLogin(udp))).toBe(true);
  });

  it('lowering the privilege limit lowers the open session\'s privilege at once', async () => {
    ipmiOk(['user', 'priv', String(VIEWER.id), String(Privilege.Operator), '1']);
    const s = await viewerLogin(await socket('127.0.0.4'), Privilege.Operator);
    expect((await s.call(0x06, 0x3b, Buffer.from([Privilege.Operator])))?.completionCode).toBe(0);
    // Chassis Identify needs Operator.
    expect((await s.call(0x00, 0x04, Buffer.from([0])))?.completionCode).toBe(0);
    ipmiOk(['user', 'priv', String(VIEWER.id), String(Privilege.User), '1']);
    expect((await s.call(0x00, 0x04, Buffer.from([0])))?.completionCode).toBe(0xd4);
    expect((await s.call(0x06, 0x3b, Buffer.from([Privilege.Operator])))?.completionCode).toBe(0x81);
    expect(await answers(s)).toBe(true);
  });

  it('logs no line per refused or unauthenticated datagram', async () => {
    const junk = await socket('127.0.0.5');
    const linesBefore = agent!.output().split('\n').length;
    for (let i = 0; i < 100; i++) {
      await handshake(junk, ADMIN.user, (['rakp3-error-status', 'abandoned', 'wrong-password'] as const)[i % 3]);
      await handshake(junk, 'nobody', 'abandoned');
      junk.send(randomBytes(40));
    }
    await caughtUp(junk);
    // The junk cannot open sessions: lines about sessions are the setup's, arriving late through the pipe.
    const newLines = agent!.output().split('\n').slice(linesBefore - 1).filter((l) => l.trim() !== '' && !/"msg":"session (activated|closed)"/.test(l));
    if (newLines.length > 10) process.stdout.write(`agent log lines for junk traffic: ${newLines.length}, e.g.\n${newLines.slice(0, 5).join('\n')}\n`);
    // A few detailed lines per kind of refusal, then only counts (a summary line per minute).
    expect(newLines.length).toBeLessThanOrEqual(10);
  });
});

describeIpmitool('a password guesser spread over many addresses', () => {
  let agent: RunningAgent | undefined;
  const udps: RawUdp[] = [];
  afterAll(async () => {
    for (const u of udps.splice(0)) await u.close();
    await agent?.stop();
  });

  it('20 wrong passwords from 20 addresses throttle unfamiliar addresses for admin; the administrator\'s familiar one keeps working', async () => {
    agent = await startAgent({ IPMI_USER: ADMIN.user, IPMI_PASS: ADMIN.password, DEBUG: 'false' });
    const ipmi = () => run('ipmitool', ipmitoolArgs(agent!.port, ['power', 'status'], ADMIN), { timeoutMs: 30_000 });
    expect(ipmi().status).toBe(0); // 127.0.0.1 becomes familiar for admin
    const socket = async (bindAddress: string): Promise<RawUdp> => { const u = await RawUdp.open(agent!.port, { bindAddress }); udps.push(u); return u; };
    // Each address stays below the per-address threshold (5); together they reach 4 × 5.
    for (let i = 0; i < 20; i++) {
      const g = await handshake(await socket(`127.0.0.${10 + i}`), ADMIN.user, 'wrong-password');
      expect(g.rakp4).toBe(RakpStatus.InvalidIntegrityCheckValue);
    }
    expect(await handshake(await socket('127.0.0.98'), ADMIN.user, 'wrong-password')).toEqual({ rakp2: RakpStatus.UnauthorizedName });
    await expect(RawSession.open(await socket('127.0.0.99'), { user: ADMIN.user, password: ADMIN.password, suiteId: 17, privilege: Privilege.Administrator, tries: 1 })).rejects.toThrow(LoginRefused);
    const r = ipmi();
    expect({ status: r.status, stdout: r.stdout.trim() }).toEqual({ status: 0, stdout: 'Chassis Power is off' });
  });
});

describeIpmitool('IPMI 1.5 straight password only when IPMI_V15_AUTH_TYPES allows it', () => {
  let agent: RunningAgent | undefined;
  afterAll(async () => { await agent?.stop(); });

  it('IPMI_V15_AUTH_TYPES=md5,password: ipmitool -A PASSWORD works and channel authcap lists MD5 PASSWORD', async () => {
    agent = await startAgent({ IPMI_USER: ADMIN.user, IPMI_PASS: ADMIN.password, IPMI_V15_AUTH_TYPES: 'md5,password' });
    const straight = run('ipmitool', ipmitoolArgs(agent.port, ['-A', 'PASSWORD', 'power', 'status'], { ...ADMIN, iface: 'lan' }));
    expect({ status: straight.status, stdout: straight.stdout.trim() }).toEqual({ status: 0, stdout: 'Chassis Power is off' });
    const caps = run('ipmitool', ipmitoolArgs(agent.port, ['channel', 'authcap', '1', '4'], ADMIN));
    expect(caps.stdout).toMatch(/IPMI v1.5 {2}auth types\s*:\s*MD5 PASSWORD/);
  });
});
