/**
 * The fault hooks in a BmcAgent on loopback UDP: raw RMCP presence pings (byte vectors) for the
 * datagram stage, the project's IPMI client for the command stage, power through the machine.
 */
import { createSocket, type Socket } from 'node:dgram';
import { BmcAgent } from '../bmc/bmc-agent';
import { suiteById } from '../protocol/crypto/cipher-suites';
import { MemoryStateStore } from '../state/state-store';
import { EchoMachine } from '../test-support/loopback-bmc';
import { createLogger } from '../util/logger';
import { IpmiClient } from '../client/ipmi-client';
import { parseFaultRule } from './fault-rules';
import { BmcFaults } from './bmc-faults';

/** RMCP presence ping (DSP0136 3.2.4.1): RMCP 06 00 FF 06, ASF IANA 4542, type 0x80, tag 0x2A. */
const PING = Buffer.from('0600ff06000011be802a0000', 'hex');

describe('fault hooks in the agent', () => {
  let agent: BmcAgent;
  let socket: Socket;
  const logLines: string[] = [];
  const received: Buffer[] = [];
  const add = (rule: unknown) => agent.faults.engine.add(parseFaultRule(rule), Date.now());
  const powerCalls: string[] = [];
  /** Sends a ping; waits (bounded) for `expected` answers, then a little longer for any extra one. */
  const pingAndCollect = async (expected: number): Promise<Buffer[]> => {
    received.length = 0;
    socket.send(PING, agent.port, '127.0.0.1');
    for (let i = 0; i < 100 && received.length < expected; i++) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 200));
    return [...received];
  };

  beforeAll(async () => {
    const log = createLogger({ debug: false, write: (line) => logLines.push(line) });
    agent = await BmcAgent.start({
      address: '127.0.0.1', port: 0, adminUser: 'admin', adminPassword: 'password',
      cipherSuites: [suiteById(3)!, suiteById(17)!], ipmi15: false, nodeName: 'faults-spec', store: new MemoryStateStore(),
      network: { ipv4: () => ({ interfaceName: 'lo', address: '127.0.0.1', netmask: '255.0.0.0', mac: '00:00:00:00:00:00' }) },
      createMachine: () => Object.assign(new EchoMachine(), { power: async (a: string) => { powerCalls.push(a); } }), powerOnAtStart: false, log, tickMs: 20,
      faults: new BmcFaults({ clock: Date.now, log, sleep: async () => {} }),
    });
    socket = createSocket('udp4');
    socket.on('message', (m) => received.push(m));
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  });
  afterAll(async () => { socket.close(); await agent.stop(); });
  afterEach(() => { agent.faults.engine.clear(); });

  it('answers a presence ping with one pong when no rule acts', async () => {
    const got = await pingAndCollect(1);
    expect(got).toHaveLength(1);
    // Pong: RMCP header, ASF IANA, type 0x40, the ping's tag 0x2A.
    expect(got[0]!.subarray(0, 10).toString('hex')).toBe('0600ff06000011be402a');
  });

  it('duplicate: the same pong bytes twice; drop: none', async () => {
    add({ match: { protocol: 'ipmi' }, action: { kind: 'duplicate' }, when: { maxTimes: 1 } });
    const twice = await pingAndCollect(2);
    expect(twice).toHaveLength(2);
    expect(twice[0]!.equals(twice[1]!)).toBe(true);
    add({ match: { protocol: 'ipmi' }, action: { kind: 'drop' }, when: { maxTimes: 1 } });
    expect(await pingAndCollect(0)).toHaveLength(0);
    expect(await pingAndCollect(1)).toHaveLength(1);
    expect(logLines.filter((l) => l.includes('"fault applied"'))).toEqual(expect.arrayContaining([expect.stringContaining('"action":"duplicate"'), expect.stringContaining('"action":"drop"')]));
  });

  it('stop answering silences the port for the window; clearing the rules ends it', async () => {
    add({ match: { protocol: 'ipmi' }, action: { kind: 'stop-answering', ms: 60_000 } });
    expect(await pingAndCollect(0)).toHaveLength(0);
    expect(await pingAndCollect(0)).toHaveLength(0);
    expect(agent.faults.engine.totals.get('silent')).toBeGreaterThan(0);
    agent.faults.engine.clear();
    expect(await pingAndCollect(1)).toHaveLength(1);
  });

  it('the project client sees 0xC0 twice, then the answer; a BMC reboot ends its session', async () => {
    const client = await IpmiClient.connect({ host: '127.0.0.1', port: agent.port, user: 'admin', password: 'password', timeoutMs: 300, retries: 1 });
    try {
      add({ match: { protocol: 'ipmi', netFn: 0, cmd: 1 }, action: { kind: 'completion-code', code: 0xc0 }, when: { maxTimes: 2 } });
      // Each is a new request (new rqSeq), so the BMC's retry cache does not answer it.
      expect((await client.request(0x00, 0x01)).completionCode).toBe(0xc0);
      expect((await client.request(0x00, 0x01)).completionCode).toBe(0xc0);
      expect((await client.request(0x00, 0x01)).completionCode).toBe(0x00);
      expect(agent.engine.sessions.establishedCount).toBe(1);
      add({ match: { protocol: 'ipmi', netFn: 6, cmd: 1 }, action: { kind: 'bmc-reboot' }, when: { maxTimes: 1 } });
      await expect(client.request(0x06, 0x01)).rejects.toThrow();
      expect(agent.engine.sessions.establishedCount).toBe(0);
    } finally {
      await client.close().catch(() => {});
    }
  });

  it('session expiry: the request is not answered and its session is gone; other sessions stay', async () => {
    const other = await IpmiClient.connect({ host: '127.0.0.1', port: agent.port, user: 'admin', password: 'password', timeoutMs: 300, retries: 1 });
    const client = await IpmiClient.connect({ host: '127.0.0.1', port: agent.port, user: 'admin', password: 'password', timeoutMs: 300, retries: 1 });
    try {
      expect(agent.engine.sessions.establishedCount).toBe(2);
      add({ match: { protocol: 'ipmi', netFn: 0, cmd: 1 }, action: { kind: 'session-expiry' }, when: { maxTimes: 1 } });
      await expect(client.request(0x00, 0x01)).rejects.toThrow();
      expect(agent.engine.sessions.establishedCount).toBe(1);
      expect((await other.request(0x00, 0x01)).completionCode).toBe(0x00);
    } finally {
      await client.close().catch(() => {});
      await other.close().catch(() => {});
    }
  });

  it('power stuck: the action is accepted and the machine is never asked', async () => {
    const machine = agent.machine;
    add({ match: { protocol: 'power', resetType: 'off' }, action: { kind: 'power-stuck' } });
    await machine.power('off');
    expect(powerCalls).toEqual([]);
    await machine.power('on');
    expect(powerCalls).toEqual(['on']);
    expect(agent.faults.engine.totals.get('power-stuck')).toBe(1);
  });
});
