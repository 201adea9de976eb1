/**
 * The session layer with the real user store: what a console's RAKP3 refusal counts for, slots
 * reserved by privilege, and user changes acting on open sessions at once.
 */
import { randomBytes } from 'node:crypto';
import { BmcEngine, DEFAULT_ENGINE_CONFIG } from './bmc-engine';
import { Dispatcher } from './dispatcher';
import { appCommands } from './commands/app-commands';
import { userCommands } from './commands/user-commands';
import { channelCommands } from './commands/channel-commands';
import { ChannelAccessStore } from './users/channel-access';
import { UserStore } from './users/user-store';
import { MemoryStateStore } from '../state/state-store';
import { parseCipherSuiteList } from '../protocol/crypto/cipher-suites';
import { Privilege } from '../protocol/errors';
import { ClientSession, ClientSessionError } from '../client/client-session';
import { silentLogger } from '../util/logger';
import type { Remote } from './session/session-types';

const SUITE = parseCipherSuiteList('17')[0]!;
const HERE: Remote = { address: '192.0.2.1', port: 40000 };
const THERE: Remote = { address: '192.0.2.2', port: 40000 };

function setUp() {
  const users = new UserStore({ state: new MemoryStateStore(), adminName: 'admin', adminPassword: 'password' });
  users.setName(3, Buffer.from('viewer'));
  users.setPassword(3, Buffer.from('viewpass1'), 16);
  users.setAccess(3, Privilege.User);
  users.setEnabled(3, true);
  const sent: Buffer[] = [];
  const dispatcher = new Dispatcher(silentLogger);
  const channelAccess = new ChannelAccessStore(new MemoryStateStore());
  const engine = new BmcEngine({
    config: { ...DEFAULT_ENGINE_CONFIG, cipherSuites: [SUITE] }, channelPrivilegeLimit: () => channelAccess.privilegeLimit(),
    users, guid: () => Buffer.alloc(16, 7), random: (n) => randomBytes(n), send: (d) => sent.push(d), dispatcher, log: silentLogger,
  });
  dispatcher.register(appCommands({ sessions: engine, identity: { systemGuid: Buffer.alloc(16, 7), deviceGuid: Buffer.alloc(16, 8) }, onReset: () => {} }));
  dispatcher.register(userCommands({ users, channel: 1 }));
  dispatcher.register(channelCommands({ channel: 1, access: channelAccess, activeSessionCount: () => engine.sessions.establishedCount }));
  const roundTrip = async (d: Buffer, from: Remote, now = 0): Promise<Buffer | undefined> => { sent.length = 0; await engine.handleDatagram(d, from, now); return sent[0]; };
  /** A full login; throws with the refusal when the BMC refuses. */
  const login = async (user: string, password: string, privilege: number, from: Remote = HERE): Promise<ClientSession> => {
    const c = new ClientSession({ userName: user, password, suite: SUITE, privilege });
    c.acceptOpenSessionResponse((await roundTrip(c.openSessionRequest(randomBytes(4).readUInt32LE(0) | 1), from))!);
    c.acceptRakp2((await roundTrip(c.rakp1(randomBytes(16)), from))!);
    c.acceptRakp4((await roundTrip(c.rakp3(), from))!);
    return c;
  };
  const call = async (c: ClientSession, netFn: number, cmd: number, data: number[] = [], from: Remote = HERE): Promise<number | undefined> => {
    const reply = await roundTrip(c.request(netFn, cmd, Buffer.from(data), { iv: randomBytes(16) }).datagram, from);
    return reply ? c.parseResponse(reply).completionCode : undefined;
  };
  return { users, engine, roundTrip, login, call };
}

describe('BmcEngine with the user store', () => {
  it('does not count a RAKP3 with an error status, or an abandoned handshake, as a wrong password', async () => {
    const { engine, roundTrip, login } = setUp();
    for (let i = 0; i < 20; i++) {
      const c = new ClientSession({ userName: 'admin', password: 'not-the-password', suite: SUITE, privilege: Privilege.Administrator });
      c.acceptOpenSessionResponse((await roundTrip(c.openSessionRequest(i + 1), THERE))!);
      const rakp2 = (await roundTrip(c.rakp1(randomBytes(16)), THERE))!;
      let refusal: ClientSessionError | undefined;
      try { c.acceptRakp2(rakp2); } catch (err) { refusal = err as ClientSessionError; } // the HMAC does not fit the console's password
      expect(refusal?.reply).toBeDefined();
      if (i % 2 === 0) await roundTrip(refusal!.reply!, THERE); // RAKP3 with status 0Fh
    }
    engine.tick(10_000); // the abandoned ones expire
    expect(engine.drops.get('handshake-refused-by-console')).toBe(10);
    await expect(login('admin', 'password', Privilege.Administrator, THERE)).resolves.toBeDefined();
  });

  it('keeps 4 of 16 slots from a USER account and 2 from an OPERATOR one; RAKP2 status 01h when full for them', async () => {
    const { users, login } = setUp();
    for (let i = 0; i < 12; i++) await login('viewer', 'viewpass1', Privilege.User);
    await expect(login('viewer', 'viewpass1', Privilege.User)).rejects.toThrow(/insufficient resources/i);
    users.setName(4, Buffer.from('operator'));
    users.setPassword(4, Buffer.from('operpass1'), 16);
    users.setAccess(4, Privilege.Operator);
    users.setEnabled(4, true);
    for (let i = 0; i < 2; i++) await login('operator', 'operpass1', Privilege.Operator);
    await expect(login('operator', 'operpass1', Privilege.Operator)).rejects.toThrow(/insufficient resources/i);
    for (let i = 0; i < 2; i++) await login('admin', 'password', Privilege.User);
    await expect(login('admin', 'password', Privilege.Administrator)).rejects.toThrow(/insufficient resources/i);
  });

  it('ends the user\'s sessions at once when it is disabled, set to NO ACCESS or given a new password; keeps the session that did it', async () => {
    const { users, engine, login, call } = setUp();
    const count = (userId: number): number => engine.listSessions().filter((s) => s.userId === userId).length;
    for (const change of [() => users.setEnabled(3, false), () => users.setAccess(3, Privilege.NoAccess), () => users.setPassword(3, Buffer.from('newpass1'), 16)]) {
      users.setEnabled(3, true);
      users.setAccess(3, Privilege.User);
      users.setPassword(3, Buffer.from('viewpass1'), 16);
      await login('viewer', 'viewpass1', Privilege.User);
      expect(count(3)).toBe(1);
      change();
      expect(count(3)).toBe(0);
    }
    // The administrator changes its own password over its session: that session goes on, others end.
    const other = await login('admin', 'password', Privilege.Administrator);
    const self = await login('admin', 'password', Privilege.Administrator);
    expect(await call(self, 0x06, 0x3b, [Privilege.Administrator])).toBe(0);
    expect(await call(self, 0x06, 0x47, [2, 0x02, ...Buffer.from('newadmin1'.padEnd(16, '\0'))])).toBe(0);
    expect(await call(self, 0x06, 0x01)).toBe(0);
    expect(await call(other, 0x06, 0x01)).toBeUndefined();
  });

  it('lowers the privilege of the user\'s open sessions when its limit is lowered', async () => {
    const { users, engine, login, call } = setUp();
    users.setAccess(3, Privilege.Operator);
    const s = await login('viewer', 'viewpass1', Privilege.Operator);
    expect(await call(s, 0x06, 0x3b, [Privilege.Operator])).toBe(0);
    users.setAccess(3, Privilege.User);
    const session = engine.listSessions().find((x) => x.userId === 3)!;
    expect({ privilege: session.privilege, maxPrivilege: session.maxPrivilege }).toEqual({ privilege: Privilege.User, maxPrivilege: Privilege.User });
    expect(await call(s, 0x06, 0x3b, [Privilege.Operator])).toBe(0x81);
  });

  it('Set Channel Access lowering the channel privilege limit lowers the live sessions above it (section 22.22); 0xD4 for what they can no longer do', async () => {
    const { engine, login, call } = setUp();
    const admin = await login('admin', 'password', Privilege.Administrator);
    expect(await call(admin, 0x06, 0x3b, [Privilege.Administrator])).toBe(0);
    const viewer = await login('viewer', 'viewpass1', Privilege.User);
    // Channel 1, access byte untouched, volatile privilege limit (bits 7:6 = 10b) OPERATOR.
    expect(await call(admin, 0x06, 0x40, [0x01, 0x00, 0x80 | Privilege.Operator])).toBe(0);
    const privileges = () => engine.listSessions().map((x) => ({ user: x.userId, privilege: x.privilege, max: x.maxPrivilege })).sort((a, b) => a.user - b.user);
    // The request that made the change was answered at the old level; the next one of any session applies the limit.
    expect(await call(admin, 0x06, 0x44, [0x01, 0x02])).toBe(0);
    expect(privileges()).toEqual([{ user: 2, privilege: Privilege.Operator, max: Privilege.Operator }, { user: 3, privilege: Privilege.User, max: Privilege.User }]);
    // An Administrator-only command (Set User Name), and raising the session back, are refused.
    expect(await call(admin, 0x06, 0x45, [0x04, ...Buffer.from('someone'.padEnd(16, '\0'))])).toBe(0xd4);
    expect(await call(admin, 0x06, 0x3b, [Privilege.Administrator])).toBe(0x81);
    expect(await call(admin, 0x06, 0x44, [0x01, 0x02])).toBe(0);
    expect(await call(viewer, 0x06, 0x01)).toBe(0);
    // Raising the limit back needs Administrator, which the lowered session no longer has.
    expect(await call(admin, 0x06, 0x40, [0x01, 0x00, 0x80 | Privilege.Administrator])).toBe(0xd4);
  });
});
