/**
 * IpmiClient against the agent's real session layer (BmcEngine + application commands) served on a
 * loopback UDP socket, with a scripted chassis (test-support/session-layer-bmc.ts). The handler can drop
 * or alter datagrams to exercise retries, timeouts and integrity failures.
 */
import { CompletionCode, Privilege } from '../protocol/errors';
import { AppCmd, ChassisCmd, NetFn } from '../protocol/netfn';
import { IpmiClient, IpmiClientError, IpmiClientErrorCode, IpmiClientOptions, MAX_IN_FLIGHT } from './ipmi-client';
import { silentPort, startBmc, type TestBmc } from '../test-support/session-layer-bmc';

const opts = (bmc: { port: number }, extra: Partial<IpmiClientOptions> = {}): IpmiClientOptions =>
  ({ host: '127.0.0.1', port: bmc.port, user: 'admin', password: 'password', ...extra });

async function rejection(p: Promise<unknown>): Promise<IpmiClientError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof IpmiClientError) return err;
    throw err;
  }
  throw new Error('expected a rejection');
}

describe('IpmiClient against the agent session layer on loopback UDP', () => {
  let bmc: TestBmc;
  const clients: IpmiClient[] = [];
  const connect = async (o: IpmiClientOptions): Promise<IpmiClient> => {
    const c = await IpmiClient.connect(o);
    clients.push(c);
    return c;
  };

  beforeEach(async () => { bmc = await startBmc('1,2,3,15,16,17'); });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await bmc.close();
  });

  it.each([1, 2, 3, 15, 16, 17])('logs in with suite %i, reads and switches power, reads the device id, closes the session', async (suiteId) => {
    const c = await connect(opts(bmc, { cipherSuite: suiteId }));
    expect(bmc.engine.listSessions()).toHaveLength(1);
    expect(bmc.engine.listSessions()[0]).toMatchObject({ privilege: Privilege.Administrator, bmcSessionId: c.bmcSessionId });
    expect(await c.powerStatus()).toBe('off');
    await c.chassisControl('on');
    expect(await c.powerStatus()).toBe('on');
    expect(await c.getDeviceId()).toMatchObject({ deviceId: 0x20, firmwareRevision: '0.10', ipmiVersion: '2.0', manufacturerId: 32473, deviceAvailable: true });
    await c.close();
    expect(bmc.engine.listSessions()).toHaveLength(0);
    expect(c.isClosed).toBe(true);
    await c.close(); // idempotent
    await expect(c.powerStatus()).rejects.toMatchObject({ code: IpmiClientErrorCode.Closed });
  });

  it('stays at User privilege without Set Session Privilege Level when asked for User', async () => {
    const c = await connect(opts(bmc, { privilege: Privilege.User }));
    expect(bmc.engine.listSessions()[0]?.privilege).toBe(Privilege.User);
    const err = await rejection(c.chassisControl('off'));
    expect(err.message).toContain('0xD4 (insufficient privilege level)');
  });

  it('fails fast with a clear error on a wrong password, and tells the BMC with a RAKP3 rejection', async () => {
    const t0 = Date.now();
    const err = await rejection(IpmiClient.connect(opts(bmc, { password: 'wrong', timeoutMs: 2000 })));
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(err.code).toBe(IpmiClientErrorCode.Handshake);
    expect(err.message).toBe(`cannot log in to BMC at 127.0.0.1:${bmc.port} as "admin": wrong password or user: RAKP2 HMAC invalid`);
    // The BMC got our RAKP3 (status 0x0F) and dropped the half-open session; a console's refusal
    // proves nothing about a password, so it is not counted as a failure.
    await new Promise((r) => setTimeout(r, 20));
    expect(bmc.engine.sessions.halfOpenCount).toBe(0);
    expect(bmc.engine.drops.get('handshake-refused-by-console')).toBe(1);
    expect(bmc.users.failures).toBe(0);
  });

  it('names the RAKP2 status for an unknown user', async () => {
    const err = await rejection(IpmiClient.connect(opts(bmc, { user: 'nobody' })));
    expect(err.message).toContain('unauthorized name (0x0D)');
    expect(err.details.status).toBe(0x0d);
  });

  it('names the Open Session status for a suite the BMC does not offer', async () => {
    await bmc.close();
    bmc = await startBmc('3');
    const err = await rejection(IpmiClient.connect(opts(bmc, { cipherSuite: 17 })));
    expect(err.message).toContain('no matching cipher suite (0x11)');
  });

  it('refuses options it cannot use before opening a socket', async () => {
    await expect(IpmiClient.connect(opts(bmc, { cipherSuite: 0 }))).rejects.toThrow(/cipher suite 0 is not supported/);
    await expect(IpmiClient.connect(opts(bmc, { privilege: 1 }))).rejects.toThrow(/privilege 1/);
    await expect(IpmiClient.connect(opts(bmc, { port: 70000 }))).rejects.toThrow(/port 70000/);
  });

  it('restarts the handshake from Open Session when a step gets no answer', async () => {
    let dropped = 0;
    bmc.inbound = (d) => (d[5] === 0x12 && dropped++ === 0 ? 'drop' : 'pass'); // lose the first RAKP1
    const c = await connect(opts(bmc, { timeoutMs: 100 }));
    expect(c.stats.retransmits).toBe(1);
    expect(await c.powerStatus()).toBe('off');
  });

  it('retransmits a request with the same rqSeq and a new session sequence number', async () => {
    const c = await connect(opts(bmc, { cipherSuite: 16, timeoutMs: 100 })); // integrity only: rqSeq is readable
    let drops = 1;
    bmc.inbound = (d) => (d[5] === 0x40 && drops-- > 0 ? 'drop' : 'pass');
    const from = bmc.received.length;
    expect(await c.powerStatus()).toBe('off');
    const tries = bmc.received.slice(from);
    expect(tries).toHaveLength(2);
    const rqSeq = (d: Buffer): number => d[16 + 4]! >> 2;
    expect(rqSeq(tries[1]!)).toBe(rqSeq(tries[0]!));
    expect(tries[1]!.readUInt32LE(10)).toBe(tries[0]!.readUInt32LE(10) + 1);
    expect(c.stats.retransmits).toBe(1);
  });

  it('drops a response with a corrupted AuthCode and takes the answer to its retry', async () => {
    const c = await connect(opts(bmc, { timeoutMs: 100 }));
    let corrupt = 1;
    bmc.outbound = (d) => {
      if (corrupt-- <= 0) return d;
      const bad = Buffer.from(d);
      bad[bad.length - 1] = bad[bad.length - 1]! ^ 0x01;
      return bad;
    };
    expect(await c.powerStatus()).toBe('off');
    expect(c.stats.dropped).toBe(1);
    expect(c.stats.retransmits).toBe(1);
  });

  it('rejects after the last try with "no answer from BMC at host:port after N tries"', async () => {
    const c = await connect(opts(bmc, { timeoutMs: 40, retries: 2 }));
    bmc.inbound = () => 'drop';
    const err = await rejection(c.powerStatus());
    expect(err.code).toBe(IpmiClientErrorCode.Timeout);
    expect(err.message).toBe(`no answer from BMC at 127.0.0.1:${bmc.port} after 3 tries`);
  });

  it('names the completion code when Chassis Control is refused', async () => {
    const c = await connect(opts(bmc));
    const err = await rejection(c.chassisControl('diag'));
    expect(err.code).toBe(IpmiClientErrorCode.CompletionCode);
    expect(err.details.completionCode).toBe(0xd5);
    expect(err.message).toContain('Chassis Control "diag" failed');
    expect(err.message).toContain('0xD5 (command not supported in present state)');
  });

  it('keeps many requests in flight, matches them by rqSeq and reports the rate', async () => {
    const c = await connect(opts(bmc));
    const r = await c.requestMany(3000, NetFn.App, AppCmd.GetDeviceId, Buffer.alloc(0), 16);
    expect(r.count).toBe(3000);
    expect(r.completionCodes).toEqual({ 0: 3000 });
    expect(r.requestsPerSecond).toBeGreaterThan(0);
    expect(r.latencyMs.p50).toBeLessThanOrEqual(r.latencyMs.p99);
    expect(r.latencyMs.p99).toBeLessThanOrEqual(r.latencyMs.max);
    // Beyond MAX_IN_FLIGHT, plain request() calls queue instead of reusing a busy rqSeq.
    const answers = await Promise.all(Array.from({ length: MAX_IN_FLIGHT * 3 }, () => c.request(NetFn.Chassis, ChassisCmd.GetChassisStatus)));
    expect(answers.every((a) => a.completionCode === 0 && a.data.length === 3)).toBe(true);
    await expect(c.requestMany(1, NetFn.App, AppCmd.GetDeviceId, Buffer.alloc(0), MAX_IN_FLIGHT + 1)).rejects.toThrow(/concurrency/);
  }, 60_000); // 3,000 round trips: a loaded machine needs more than the default 5 s (the rate is reported, not judged)

  it('rejects requests still waiting when closed, and closes even when the BMC is gone', async () => {
    const c = await connect(opts(bmc, { timeoutMs: 50 }));
    bmc.inbound = () => 'drop';
    const waiting = c.powerStatus();
    const t0 = Date.now();
    await c.close();
    expect(Date.now() - t0).toBeLessThan(500);
    await expect(waiting).rejects.toMatchObject({ code: IpmiClientErrorCode.Closed });
  });
});

describe('IpmiClient without a BMC', () => {
  it('gives up the handshake after the configured tries', async () => {
    const silent = await silentPort();
    try {
      const t0 = Date.now();
      const err = await rejection(IpmiClient.connect({ host: '127.0.0.1', port: silent.port, user: 'admin', password: 'password', timeoutMs: 50, retries: 1 }));
      expect(err.code).toBe(IpmiClientErrorCode.Timeout);
      expect(err.message).toBe(`no answer from BMC at 127.0.0.1:${silent.port} after 2 tries`);
      expect(Date.now() - t0).toBeLessThan(1000);
    } finally {
      await new Promise<void>((r) => silent.socket.close(() => r()));
    }
  });

  it('reports a host name that does not resolve', async () => {
    const err = await rejection(IpmiClient.connect({ host: 'no-such-host.invalid', port: 623, user: 'admin', password: 'password', timeoutMs: 50, retries: 0 }));
    expect(err.code).toBe(IpmiClientErrorCode.Socket);
  });
});
