/**
 * SolConsole: the pure console-side window (sequence numbers, ACKs, retransmission, partial ACK,
 * NACK, the BMC's retransmissions and its "deactivating" packet), the Activate Payload codecs, and
 * the console against an in-process agent (BmcAgent with the real SolManager) on loopback UDP with
 * an echoing machine: activation, output, keystrokes, break, close frees the payload, and a
 * takeover by another session ends the console.
 */
import { BmcAgent } from '../bmc/bmc-agent';
import { suiteById } from '../protocol/crypto/cipher-suites';
import { SolBmcStatus, SolConsoleOperation, SolPacket } from '../protocol/sol-packet';
import { AppCmd, NetFn } from '../protocol/netfn';
import { MemoryStateStore } from '../state/state-store';
import { silentLogger } from '../util/logger';
import { EchoMachine, Relay, until } from '../test-support/loopback-bmc';
import { IpmiClient } from './ipmi-client';
import {
  charactersPerPacket,
  decodeActivateSolResponse,
  encodeActivateSolRequest,
  encodeDeactivateSolRequest,
  SolConsole,
  SolConsoleEffect,
  SolConsoleError,
  SolConsoleErrorCode,
  SolConsoleWindow,
} from './sol-console';

const RETRY_MS = 1000;

function bmc(fields: Partial<Omit<SolPacket, 'kind'>>): SolPacket {
  return { kind: 'sol', packetSequenceNumber: 0, ackNackSequenceNumber: 0, acceptedCharacterCount: 0, operationStatus: 0, data: Buffer.alloc(0), ...fields };
}

/** The packets among the effects, as compact tuples [seq, ack, accepted, op, text]. */
function sent(effects: SolConsoleEffect[]): Array<[number, number, number, number, string]> {
  return effects.flatMap((e) => (e.kind === 'send'
    ? [[e.packet.packetSequenceNumber, e.packet.ackNackSequenceNumber, e.packet.acceptedCharacterCount, e.packet.operationStatus, e.packet.data.toString('latin1')] as [number, number, number, number, string]]
    : []));
}

function printed(effects: SolConsoleEffect[]): string {
  return effects.map((e) => (e.kind === 'output' ? e.data.toString('latin1') : '')).join('');
}

const ack = (seq: number, accepted: number, op = 0): SolPacket => bmc({ ackNackSequenceNumber: seq, acceptedCharacterCount: accepted, operationStatus: op });
const text = (s: string): Buffer => Buffer.from(s, 'latin1');

describe('SolConsoleWindow: keystrokes towards the BMC', () => {
  const window = (max = 8, retries = 2): SolConsoleWindow => new SolConsoleWindow({ maxCharactersPerPacket: max, retryIntervalMs: RETRY_MS, retries });

  it('sends one packet at a time, numbered from 1, and the queued keystrokes once the ACK comes', () => {
    const sut = window();
    expect(sent(sut.keystrokes(text('ls'), 0))).toEqual([[1, 0, 0, 0, 'ls']]);
    expect(sut.keystrokes(text(' -l'), 1)).toEqual([]);
    expect(sut.keystrokes(text('\r'), 2)).toEqual([]);
    expect(sut.queuedCharacters).toBe(4);
    expect(sent(sut.bmcPacket(ack(1, 2), 3))).toEqual([[2, 0, 0, 0, ' -l\r']]);
    expect(sent(sut.bmcPacket(ack(2, 4), 4))).toEqual([]);
    expect(sut.awaitingAck).toBe(false);
    expect(sut.counters.packetsSent).toBe(2);
  });

  it('splits input at the BMC inbound payload size and wraps sequence numbers 15 -> 1', () => {
    const sut = window(3);
    const seqs: number[] = [];
    let effects = sut.keystrokes(text('x'.repeat(3 * 17)), 0);
    for (let i = 0; i < 17; i++) {
      const packets = sent(effects);
      expect(packets).toHaveLength(1);
      expect(packets[0]![4]).toBe('xxx');
      seqs.push(packets[0]![0]);
      effects = sut.bmcPacket(ack(packets[0]![0], 3), i + 1);
    }
    expect(seqs).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 1, 2]);
    expect(sent(effects)).toEqual([]);
  });

  it('retransmits an unacknowledged packet with the same sequence number and characters, then gives it up', () => {
    const sut = window(8, 2);
    sut.keystrokes(text('abc'), 0);
    sut.keystrokes(text('d'), 10);
    expect(sut.nextDeadline()).toBe(RETRY_MS);
    expect(sut.tick(RETRY_MS - 1)).toEqual([]);
    expect(sent(sut.tick(RETRY_MS))).toEqual([[1, 0, 0, 0, 'abc']]);
    expect(sent(sut.tick(2 * RETRY_MS))).toEqual([[1, 0, 0, 0, 'abc']]);
    const givenUp = sut.tick(3 * RETRY_MS);
    expect(givenUp[0]).toEqual({ kind: 'lost', characters: 3 });
    // The window moves on with the next sequence number.
    expect(sent(givenUp)).toEqual([[2, 0, 0, 0, 'd']]);
    expect(sut.counters).toMatchObject({ retransmissions: 2, lostPackets: 1 });
  });

  it('a late ACK of the retransmitted packet settles it once; a second one is stale', () => {
    const sut = window();
    sut.keystrokes(text('abc'), 0);
    sut.tick(RETRY_MS);
    expect(sent(sut.bmcPacket(ack(1, 3), RETRY_MS + 5))).toEqual([]);
    expect(sut.bmcPacket(ack(1, 3), RETRY_MS + 6)).toEqual([]);
    expect(sut.counters.staleAcks).toBe(1);
    expect(sut.nextDeadline()).toBeUndefined();
  });

  it('a partial ACK sends the unaccepted tail at once in a new packet', () => {
    const sut = window();
    sut.keystrokes(text('hello'), 0);
    sut.keystrokes(text('!'), 1);
    expect(sent(sut.bmcPacket(ack(1, 2), 2))).toEqual([[2, 0, 0, 0, 'llo!']]);
    expect(sut.counters.partialAcks).toBe(1);
  });

  it('a NACK holds the characters back for one retry interval, then sends them in a new packet', () => {
    const sut = window();
    sut.keystrokes(text('abc'), 0);
    expect(sent(sut.bmcPacket(ack(1, 0, SolBmcStatus.Nack), 100))).toEqual([]);
    expect(sut.paused).toBe(true);
    expect(sut.nextDeadline()).toBe(100 + RETRY_MS);
    expect(sut.tick(100 + RETRY_MS - 1)).toEqual([]);
    expect(sent(sut.tick(100 + RETRY_MS))).toEqual([[2, 0, 0, 0, 'abc']]);
    expect(sut.counters.nacks).toBe(1);
  });

  it('a BMC packet without NACK ends the hold at once; "transfer unavailable" starts one', () => {
    const sut = window();
    sut.keystrokes(text('abc'), 0);
    sut.bmcPacket(ack(1, 1, SolBmcStatus.Nack), 10);
    expect(sent(sut.bmcPacket(bmc({ packetSequenceNumber: 1, data: text('$') }), 20))).toEqual([[0, 1, 1, 0, ''], [2, 0, 0, 0, 'bc']]);
    sut.bmcPacket(ack(2, 2), 30);
    expect(sut.bmcPacket(bmc({ operationStatus: SolBmcStatus.CharacterTransferUnavailable }), 40)).toEqual([]);
    expect(sut.keystrokes(text('z'), 50)).toEqual([]);
    expect(sent(sut.tick(40 + RETRY_MS))).toEqual([[3, 0, 0, 0, 'z']]);
  });

  it('a break goes as a control packet with its own sequence number and no characters', () => {
    const sut = window();
    expect(sent(sut.sendBreak(0))).toEqual([[1, 0, 0, SolConsoleOperation.GenerateBreak, '']]);
    sut.keystrokes(text('a'), 1);
    expect(sent(sut.bmcPacket(ack(1, 0), 2))).toEqual([[2, 0, 0, 0, 'a']]);
  });

  it('drops keystrokes beyond the input capacity and counts them', () => {
    const sut = new SolConsoleWindow({ maxCharactersPerPacket: 4, retryIntervalMs: RETRY_MS, retries: 0, inputCapacity: 6 });
    sut.keystrokes(text('abcd'), 0); // in flight
    sut.keystrokes(text('efghijkl'), 1); // 6 fit in the queue
    expect(sut.queuedCharacters).toBe(6);
    expect(sut.counters.droppedInput).toBe(2);
  });

  it('refuses impossible settings', () => {
    expect(() => new SolConsoleWindow({ maxCharactersPerPacket: 0, retryIntervalMs: 1, retries: 0 })).toThrow(RangeError);
    expect(() => new SolConsoleWindow({ maxCharactersPerPacket: 256, retryIntervalMs: 1, retries: 0 })).toThrow(RangeError);
    expect(() => new SolConsoleWindow({ maxCharactersPerPacket: 1, retryIntervalMs: 0, retries: 0 })).toThrow(RangeError);
    expect(() => new SolConsoleWindow({ maxCharactersPerPacket: 1, retryIntervalMs: 1, retries: -1 })).toThrow(RangeError);
  });
});

describe('SolConsoleWindow: console output from the BMC', () => {
  const sut = (): SolConsoleWindow => new SolConsoleWindow({ maxCharactersPerPacket: 8, retryIntervalMs: RETRY_MS, retries: 1 });

  it('ACKs every sequenced packet at once, accepting all its characters, and prints them', () => {
    const w = sut();
    const effects = w.bmcPacket(bmc({ packetSequenceNumber: 1, data: text('login: ') }), 0);
    expect(effects[0]).toEqual({ kind: 'send', packet: expect.objectContaining({ packetSequenceNumber: 0, ackNackSequenceNumber: 1, acceptedCharacterCount: 7 }) });
    expect(printed(effects)).toBe('login: ');
    expect(printed(w.bmcPacket(bmc({ packetSequenceNumber: 2, data: text('x') }), 1))).toBe('x');
  });

  it('prints a retransmission only beyond what that sequence number already printed, and re-ACKs it', () => {
    const w = sut();
    w.bmcPacket(bmc({ packetSequenceNumber: 4, data: text('abc') }), 0);
    const again = w.bmcPacket(bmc({ packetSequenceNumber: 4, data: text('abcde') }), 1);
    expect(sent(again)).toEqual([[0, 4, 5, 0, '']]);
    expect(printed(again)).toBe('de');
    const same = w.bmcPacket(bmc({ packetSequenceNumber: 4, data: text('abcde') }), 2);
    expect(sent(same)).toEqual([[0, 4, 5, 0, '']]);
    expect(printed(same)).toBe('');
    expect(w.counters.duplicatePackets).toBe(2);
    // After another number, the same number is new again (the BMC wrapped around).
    w.bmcPacket(bmc({ packetSequenceNumber: 5, data: text('f') }), 3);
    expect(printed(w.bmcPacket(bmc({ packetSequenceNumber: 4, data: text('g') }), 4))).toBe('g');
  });

  it('takes an ACK riding on a data packet', () => {
    const w = sut();
    w.keystrokes(text('ab'), 0);
    w.keystrokes(text('c'), 0);
    const effects = w.bmcPacket(bmc({ packetSequenceNumber: 1, ackNackSequenceNumber: 1, acceptedCharacterCount: 2, data: text('ab') }), 1);
    expect(sent(effects)).toEqual([[0, 1, 2, 0, ''], [2, 0, 0, 0, 'c']]);
    expect(printed(effects)).toBe('ab');
  });

  it('ends on "SOL deactivating": ACKs it, reports it, and ignores everything afterwards', () => {
    const w = sut();
    w.keystrokes(text('a'), 0);
    const effects = w.bmcPacket(bmc({ packetSequenceNumber: 3, operationStatus: SolBmcStatus.SolDeactivating }), 1);
    expect(sent(effects)).toEqual([[0, 3, 0, 0, '']]);
    expect(effects).toContainEqual({ kind: 'deactivated' });
    expect(w.isActive).toBe(false);
    expect(w.keystrokes(text('b'), 2)).toEqual([]);
    expect(w.tick(10 * RETRY_MS)).toEqual([]);
    expect(w.nextDeadline()).toBeUndefined();
  });

  it('counts overrun reports', () => {
    const w = sut();
    w.bmcPacket(bmc({ packetSequenceNumber: 1, operationStatus: SolBmcStatus.CharacterTransmitOverrun, data: text('x') }), 0);
    expect(w.counters.overruns).toBe(1);
  });
});

describe('Activate / Deactivate Payload codecs', () => {
  it('asks for the protection the cipher suite has (ipmitool sends c6 with suites 3 and 17)', () => {
    expect(encodeActivateSolRequest(suiteById(17)!).toString('hex')).toBe('0101c6000000');
    expect(encodeActivateSolRequest(suiteById(3)!).toString('hex')).toBe('0101c6000000');
    expect(encodeActivateSolRequest(suiteById(2)!).toString('hex')).toBe('010146000000');
    expect(encodeActivateSolRequest(suiteById(1)!).toString('hex')).toBe('010106000000');
    expect(encodeDeactivateSolRequest().toString('hex')).toBe('010100000000');
  });

  it('decodes the 12-byte activation answer (reference 8.1 example)', () => {
    const a = decodeActivateSolResponse(Buffer.from('00000000c800c8009925ffff', 'hex'));
    expect(a).toEqual({ inboundPayloadSize: 200, outboundPayloadSize: 200, port: 9625, vlan: 0xffff });
    expect(charactersPerPacket(a)).toBe(196);
    expect(charactersPerPacket({ ...a, inboundPayloadSize: 1000 })).toBe(255);
  });

  it('refuses an answer of another length or without room for characters', () => {
    const short = (): unknown => decodeActivateSolResponse(Buffer.from('00000000c800c8009925ff', 'hex'));
    expect(short).toThrow(SolConsoleError);
    expect(short).toThrow('11 data bytes, expected 12');
    expect(() => decodeActivateSolResponse(Buffer.from('000000000400c8009925ffff', 'hex'))).toThrow('leaves no room');
  });
});

/** A machine whose serial port answers every write with "<write>", and counts breaks. */
describe('SolConsole against an in-process agent on loopback UDP', () => {
  let agent: BmcAgent;
  let machine: EchoMachine;
  const consoles: SolConsole[] = [];

  beforeEach(async () => {
    machine = new EchoMachine();
    agent = await BmcAgent.start({
      address: '127.0.0.1',
      port: 0,
      adminUser: 'admin',
      adminPassword: 'password',
      cipherSuites: [suiteById(3)!, suiteById(17)!],
      ipmi15: false,
      nodeName: 'sol-console-spec',
      store: new MemoryStateStore(),
      network: { ipv4: () => ({ interfaceName: 'lo', address: '127.0.0.1', netmask: '255.0.0.0', mac: '00:00:00:00:00:00' }) },
      createMachine: () => machine,
      powerOnAtStart: false,
      log: silentLogger,
      tickMs: 20,
    });
  });

  afterEach(async () => {
    await Promise.all(consoles.splice(0).map((c) => c.close()));
    await agent.stop();
  });

  const open = async (onData: (d: Buffer) => void, cipherSuite = 17): Promise<SolConsole> => {
    const c = await SolConsole.open({ host: '127.0.0.1', port: agent.port, user: 'admin', password: 'password', cipherSuite, onData, timeoutMs: 500, retries: 1 });
    consoles.push(c);
    return c;
  };

  it.each([3, 17])('suite %i: activates, prints output, types, sends a break, and close() frees the payload', async (suite) => {
    let out = '';
    const c = await open((d) => { out += d.toString('latin1'); }, suite);
    expect(c.activation).toMatchObject({ port: agent.port, inboundPayloadSize: 200 });
    expect(agent.sol.activeSessionId).not.toBeNull();

    machine.emit(text('firmware banner\r\n'));
    await until(() => out.includes('firmware banner\r\n'), 'console output');
    expect(c.write('echo hi\r')).toBe(true);
    await until(() => out.includes('<echo hi\r>'), 'the echo of the keystrokes');
    expect(Buffer.concat(machine.writes).toString('latin1')).toBe('echo hi\r');

    // More than one packet of output, each character once and in order.
    const long = Array.from({ length: 40 }, (_, i) => `line ${i}\r\n`).join('');
    machine.emit(text(long));
    await until(() => out.includes('line 39\r\n'), 'a long output');
    expect(out).toContain(long);

    expect(c.sendBreak()).toBe(true);
    await until(() => machine.breaks === 1, 'the break');

    expect(await c.close()).toEqual({ kind: 'closed' });
    expect(await c.ended).toEqual({ kind: 'closed' });
    expect(agent.sol.activeSessionId).toBeNull();
    expect(c.write('x')).toBe(false);
    expect(agent.engine.listSessions()).toHaveLength(0);

    // The payload is free: another console activates at once.
    const again = await open(() => {});
    expect(agent.sol.activeSessionId).not.toBeNull();
    await again.close();
  });

  it('a second console is refused while SOL is active, with the reason', async () => {
    await open(() => {});
    const refused = SolConsole.open({ host: '127.0.0.1', port: agent.port, user: 'admin', password: 'password', onData: () => {}, timeoutMs: 500, retries: 1 });
    await expect(refused).rejects.toMatchObject({ code: SolConsoleErrorCode.ActivationRefused, completionCode: 0x80 });
    await expect(refused).rejects.toThrow('already active on another session');
    // The refused console closed its session.
    expect(agent.engine.listSessions()).toHaveLength(1);
  });

  it('ends with "lost" when the BMC stops answering the keep-alive', async () => {
    const relay = await Relay.start(agent.port);
    try {
      const c = await SolConsole.open({
        host: '127.0.0.1', port: relay.port, user: 'admin', password: 'password', onData: () => {}, timeoutMs: 100, retries: 0, keepAliveIntervalMs: 50,
      });
      consoles.push(c);
      relay.silent = true;
      const end = await c.ended;
      expect(end).toMatchObject({ kind: 'lost', message: expect.stringContaining('no answer to the keep-alive') });
      expect(c.write('x')).toBe(false);
    } finally {
      await relay.close();
    }
  });

  it('ends with "deactivated" when an administrator of another session takes SOL away', async () => {
    const c = await open(() => {});
    const admin = await IpmiClient.connect({ host: '127.0.0.1', port: agent.port, user: 'admin', password: 'password' });
    try {
      await admin.requestOk(NetFn.App, AppCmd.DeactivatePayload, encodeDeactivateSolRequest(), 'Deactivate Payload');
    } finally {
      await admin.close();
    }
    const end = await c.ended;
    expect(end).toMatchObject({ kind: 'deactivated' });
    expect(c.isActive).toBe(false);
    expect(await c.close()).toEqual(end);
  });
});
