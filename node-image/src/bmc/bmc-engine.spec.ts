import { BmcEngine, DEFAULT_ENGINE_CONFIG } from './bmc-engine';
import { Dispatcher } from './dispatcher';
import { appCommands } from './commands/app-commands';
import { parseCipherSuiteList } from '../protocol/crypto/cipher-suites';
import { Privilege } from '../protocol/errors';
import { hex, loadVector, scriptedRandom } from '../test-support/vectors';
import { silentLogger } from '../util/logger';
import { authCode15 } from '../protocol/crypto/auth15';
import { ClientSession } from '../client/client-session';
import { randomBytes } from 'node:crypto';
import type { SessionUser, UserAuthority } from './session/session-types';

class TestUsers implements UserAuthority {
  failures = 0;
  locked = false;
  constructor(private readonly users: SessionUser[], private readonly limit = Privilege.Administrator) {}
  findByName(name: Buffer) { return this.users.find((u) => Buffer.from(u.name, 'latin1').equals(name)); }
  channelPrivilegeLimit() { return this.limit; }
  failureSources: string[] = [];
  checkLogin() { return { allowed: !this.locked }; }
  recordFailure(_id: number, source: string) { this.failures++; this.failureSources.push(source); }
  recordSuccess() {}
}

const ADMIN: SessionUser = { id: 2, name: 'admin', password: Buffer.from('password') };
const CLIENT = { address: '127.0.0.1', port: 44695 };

function makeEngine(opts: { suites: string; guid: Buffer; random: (n: number) => Buffer; users?: TestUsers }) {
  const sent: Buffer[] = [];
  const dispatcher = new Dispatcher(silentLogger);
  const engine: BmcEngine = new BmcEngine({
    config: { ...DEFAULT_ENGINE_CONFIG, cipherSuites: parseCipherSuiteList(opts.suites) },
    users: opts.users ?? new TestUsers([ADMIN]),
    guid: () => opts.guid,
    random: opts.random,
    send: (d) => sent.push(d),
    dispatcher,
    log: silentLogger,
  });
  dispatcher.register(appCommands({ sessions: engine, identity: { systemGuid: opts.guid, deviceGuid: opts.guid }, onReset: () => {} }));
  const exchange = async (req: Buffer, now = 1000): Promise<Buffer | undefined> => {
    sent.length = 0;
    await engine.handleDatagram(req, CLIENT, now);
    return sent[0];
  };
  return { engine, exchange, sent, dispatcher };
}

describe('BmcEngine against ipmitool captures', () => {
  it('reproduces the BMC side of Vector 1 (suite 3) byte for byte', async () => {
    const v = loadVector(1);
    const { exchange } = makeEngine({
      suites: '3',
      guid: hex('a1 23 45 67 89 ab cd ef a1 23 45 67 89 ab cd ef'),
      random: scriptedRandom([
        hex('02 02 00 00'), // BMC session id 0x202
        hex('a7 5c 1f 51 69 4e c9 71 ac 06 de e9 ce 0f 7e 49'), // Rc
        hex('a6 b9 79 a0 d6 d1 b4 b0 91 d1 f7 bb ed 6f 83 be'), // IV of the Set Session Privilege reply
      ]),
    });
    const authCaps = await exchange(v.get(1)!);
    // Our answer advertises MD5 only (straight password is off by default, "none" never on), v2.0 + v1.5, non-null user names.
    expect(authCaps!.subarray(14).toString('hex')).toBe('811c632000380001840403000000001c');
    // ipmi_sim echoed max privilege 0 in Open Session Response; this BMC answers 4 (FreeIPMI requires it).
    const expectedOpen = Buffer.from(v.get(4)!);
    expectedOpen[16 + 2] = Privilege.Administrator;
    expect(await exchange(v.get(3)!)).toEqual(expectedOpen);
    expect(await exchange(v.get(5)!)).toEqual(v.get(6));
    expect(await exchange(v.get(7)!)).toEqual(v.get(8));
    expect(await exchange(v.get(9)!)).toEqual(v.get(10));
  });

  it('reproduces Vector 2 (no -C: cipher suite query, then suite 17) byte for byte', async () => {
    const v = loadVector(2);
    const { exchange } = makeEngine({
      suites: '1,2,3,17',
      guid: hex('00 11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff'),
      random: scriptedRandom([
        hex('04 10 00 00'),
        hex('b2 0f 47 01 9c 29 e3 e9 72 ed c0 1e 96 f1 f8 e3'),
        v.get(14)!.subarray(16, 32), // the IV the test BMC used for its first protected reply
      ]),
    });
    await exchange(v.get(1)!);
    expect(await exchange(v.get(3)!)).toEqual(v.get(4));
    expect(await exchange(v.get(5)!)).toEqual(v.get(6));
    expect(await exchange(v.get(7)!)).toEqual(v.get(8));
    expect(await exchange(v.get(9)!)).toEqual(v.get(10));
    expect(await exchange(v.get(11)!)).toEqual(v.get(12));
    expect(await exchange(v.get(13)!)).toEqual(v.get(14));
  });

  it('answers every truncation of the captured requests without throwing', async () => {
    for (const n of [1, 2, 3]) {
      const v = loadVector(n);
      const { engine } = makeEngine({ suites: '3,17', guid: Buffer.alloc(16, 1), random: (k) => Buffer.alloc(k, 7) });
      for (const [, pkt] of v) {
        for (let cut = 0; cut < pkt.length; cut++) {
          await expect(engine.handleDatagram(pkt.subarray(0, cut), CLIENT, 0)).resolves.toBeUndefined();
        }
      }
    }
  });

  it('refuses an unknown user with RAKP2 status 0x0D and counts no success', async () => {
    const v = loadVector(1);
    const users = new TestUsers([{ id: 3, name: 'other', password: Buffer.from('x') }]);
    const { exchange } = makeEngine({ suites: '3', guid: Buffer.alloc(16), users, random: scriptedRandom([hex('02 02 00 00')]) });
    await exchange(v.get(3)!);
    const rakp2 = await exchange(v.get(5)!);
    expect(rakp2!.subarray(16).toString('hex')).toBe('000d0000a4a3a2a0');
  });

  it('refuses suite 3 when only 17 is enabled: status 0x11 (no cipher suite match)', async () => {
    const v = loadVector(1);
    const { exchange } = makeEngine({ suites: '17', guid: Buffer.alloc(16), random: (k) => Buffer.alloc(k, 9) });
    const reply = await exchange(v.get(3)!);
    expect(reply!.subarray(16).toString('hex')).toBe('00110000a4a3a2a0');
  });

  it('answers RAKP4 0x0F and records a failure when RAKP3 carries a wrong HMAC', async () => {
    const v = loadVector(1);
    const users = new TestUsers([ADMIN]);
    const { exchange } = makeEngine({
      suites: '3', guid: hex('a1 23 45 67 89 ab cd ef a1 23 45 67 89 ab cd ef'), users,
      random: scriptedRandom([hex('02 02 00 00'), hex('a7 5c 1f 51 69 4e c9 71 ac 06 de e9 ce 0f 7e 49')]),
    });
    await exchange(v.get(3)!);
    await exchange(v.get(5)!);
    const bad = Buffer.from(v.get(7)!);
    bad[bad.length - 1]! ^= 0x01;
    const rakp4 = await exchange(bad);
    expect(rakp4!.subarray(16).toString('hex')).toBe('000f0000a4a3a2a0');
    expect(users.failures).toBe(1);
    expect(users.failureSources).toEqual([CLIENT.address]);
  });

  it('drops a replayed packet and a packet whose AuthCode was tampered with', async () => {
    const v = loadVector(1);
    const { exchange, engine } = makeEngine({
      suites: '3', guid: hex('a1 23 45 67 89 ab cd ef a1 23 45 67 89 ab cd ef'),
      random: scriptedRandom([hex('02 02 00 00'), hex('a7 5c 1f 51 69 4e c9 71 ac 06 de e9 ce 0f 7e 49'), Buffer.alloc(16)]),
    });
    for (const i of [3, 5, 7, 9]) await exchange(v.get(i)!);
    expect(await exchange(v.get(9)!)).toBeUndefined();
    expect(engine.drops.get('replay')).toBe(1);
    const tampered = Buffer.from(v.get(11)!);
    tampered[20]! ^= 0x80;
    expect(await exchange(tampered)).toBeUndefined();
    expect(engine.drops.get('bad-authcode')).toBe(1);
  });

  it('drops an unauthenticated packet inside an integrity-protected session', async () => {
    const v = loadVector(1);
    const { exchange, engine } = makeEngine({
      suites: '3', guid: hex('a1 23 45 67 89 ab cd ef a1 23 45 67 89 ab cd ef'),
      random: scriptedRandom([hex('02 02 00 00'), hex('a7 5c 1f 51 69 4e c9 71 ac 06 de e9 ce 0f 7e 49')]),
    });
    for (const i of [3, 5, 7]) await exchange(v.get(i)!);
    // Session 0x202, payload type 0 without the authenticated/encrypted bits, a plain Get Device ID.
    const plain = hex('06 00 ff 07 06 00 02 02 00 00 05 00 00 00 07 00 20 18 c8 81 08 01 76');
    expect(await exchange(plain)).toBeUndefined();
    expect(engine.drops.get('unauthenticated')).toBe(1);
  });

  it('reproduces the IPMI 1.5 MD5 login of Vector 3 (ipmitool -I lan) byte for byte', async () => {
    const v = loadVector(3);
    const { exchange } = makeEngine({
      suites: '3', guid: Buffer.alloc(16),
      random: scriptedRandom([
        hex('05 00 00 00'), // temporary session id
        hex('35 08 d8 60 57 45 6d 51 3b 48 08 56 49 c0 d0 29'), // challenge
        hex('82 11 00 00'), // session id 0x1182
        hex('66 d1 9b 9a'), // initial inbound sequence 0x9a9bd166
      ]),
    });
    expect(await exchange(v.get(5)!)).toEqual(v.get(6));
    expect(await exchange(v.get(7)!)).toEqual(v.get(8));
    // Set Session Privilege: same answer as ipmi_sim, but our outbound sequence moves on by one
    // (ipmi_sim reused the Activate Session number), so the AuthCode differs; check it ourselves.
    const reply = (await exchange(v.get(9)!))!;
    expect(reply.readUInt32LE(5)).toBe(0x401add92);
    expect(reply.readUInt32LE(9)).toBe(0x1182);
    const message = reply.subarray(30);
    expect(message).toEqual(v.get(10)!.subarray(30)); // the same IPMI message ipmi_sim sent
    expect(reply.subarray(13, 29)).toEqual(authCode15(2, Buffer.from('password'), 0x1182, message, 0x401add92));
    // A replay of the same packet is dropped, as is the Activate Session replayed after the challenge was used.
    expect(await exchange(v.get(9)!)).toBeUndefined();
    expect(await exchange(v.get(7)!)).toBeUndefined();
  });

  it('refuses IPMI 1.5 Activate Session with a wrong password: 0x85 with a zeroed AuthCode, and counts the failure', async () => {
    const v = loadVector(3);
    const users = new TestUsers([{ id: 2, name: 'admin', password: Buffer.from('other') }]);
    const { exchange } = makeEngine({
      suites: '3', guid: Buffer.alloc(16), users,
      random: scriptedRandom([hex('05 00 00 00'), hex('35 08 d8 60 57 45 6d 51 3b 48 08 56 49 c0 d0 29')]),
    });
    await exchange(v.get(5)!);
    const reply = (await exchange(v.get(7)!))!;
    expect(reply.subarray(13, 29)).toEqual(Buffer.alloc(16));
    expect(reply[30 + 6]).toBe(0x85);
    expect(users.failures).toBe(1);
  });

  it('does not run a retry of a request that is still being carried out, and answers it once', async () => {
    let release: () => void = () => {};
    let runs = 0;
    const { engine, sent, dispatcher } = makeEngine({ suites: '17', guid: Buffer.alloc(16, 3), random: (k) => randomBytes(k) });
    dispatcher.register([{ netFn: 0x2e, cmd: 0x01, name: 'slow test command', privilege: Privilege.User, handler: async () => { runs++; await new Promise<void>((r) => { release = r; }); return { cc: 0 }; } }]);
    const client = new ClientSession({ userName: 'admin', password: 'password', suite: parseCipherSuiteList('17')[0]!, privilege: Privilege.Administrator });
    const roundTrip = async (d: Buffer): Promise<Buffer> => { sent.length = 0; await engine.handleDatagram(d, CLIENT, 0); return sent[0]!; };
    client.acceptOpenSessionResponse(await roundTrip(client.openSessionRequest(0x11223344)));
    client.acceptRakp2(await roundTrip(client.rakp1(randomBytes(16))));
    client.acceptRakp4(await roundTrip(client.rakp3()));
    sent.length = 0;
    const first = client.request(0x2e, 0x01, Buffer.alloc(0), { iv: randomBytes(16) });
    const retry = client.request(0x2e, 0x01, Buffer.alloc(0), { rqSeq: first.rqSeq, iv: randomBytes(16) });
    const pending = engine.handleDatagram(first.datagram, CLIENT, 0);
    await engine.handleDatagram(retry.datagram, CLIENT, 0);
    expect(engine.drops.get('duplicate-in-flight')).toBe(1);
    release();
    await pending;
    expect(runs).toBe(1);
    expect(sent).toHaveLength(1);
    expect(client.parseResponse(sent[0]!)).toMatchObject({ rqSeq: first.rqSeq, completionCode: 0 });
  });

  it('answers an ASF presence ping with the pong ipmi_sim sends', async () => {
    const v = loadVector(3);
    const { exchange } = makeEngine({ suites: '3', guid: Buffer.alloc(16), random: (k) => Buffer.alloc(k) });
    expect(await exchange(v.get(1)!)).toEqual(v.get(2));
  });
});
