import { SolBmcStatus, SolConsoleOperation, SolPacket, decodeSolPacket, encodeSolPacket } from '../protocol/sol-packet';
import { MemoryStateStore } from '../state/state-store';
import { DEFAULT_NACK_HOLDOFF_MS, SolChannel, SolChannelOptions, SolEffect } from './sol-channel';
import { SolConfig, SolParameter } from './sol-config';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const text = (s: string): Buffer => Buffer.from(s, 'latin1');
const pkt = (s: string): SolPacket => decodeSolPacket(hex(s));
/** A console→BMC payload from its fields, as the capture summaries print them. */
const consolePkt = (seq: number, ack: number, count: number, op: number, data = ''): SolPacket => ({
  kind: 'sol', packetSequenceNumber: seq, ackNackSequenceNumber: ack, acceptedCharacterCount: count, operationStatus: op, data: text(data),
});

/** The test BMC's settings (`sol info 1`, mini): 60 ms / 96 characters, 7 retries × 500 ms; 200-byte payloads. */
const BASE: SolChannelOptions = {
  outboundPayloadSize: 200,
  retryCount: 7,
  retryIntervalMs: 500,
  characterAccumulateIntervalMs: 60,
  characterSendThreshold: 96,
};
const mk = (o: Partial<SolChannelOptions> = {}): SolChannel => new SolChannel({ ...BASE, ...o });

const sends = (effects: readonly SolEffect[]): SolPacket[] =>
  effects.flatMap((e) => (e.kind === 'send' ? [e.packet] : []));
const sentHex = (effects: readonly SolEffect[]): string[] => sends(effects).map((p) => encodeSolPacket(p).toString('hex'));
const delivered = (effects: readonly SolEffect[]): string =>
  effects.flatMap((e) => (e.kind === 'deliver' ? [e.data.toString('latin1')] : [])).join('');
const ack = (seq: number, count: number): string => encodeSolPacket(consolePkt(0, seq, count, 0)).toString('hex');
const data = (seq: number, chars: string, status = 0): string => encodeSolPacket({ ...consolePkt(seq, 0, 0, status), data: text(chars) }).toString('hex');

describe('SolChannel', () => {
  describe('capture replays', () => {
    interface Step {
      readonly at: number;
      readonly console?: SolPacket;
      readonly host?: string;
      readonly tick?: boolean;
      readonly sent: readonly string[];
      readonly delivered?: string;
      readonly other?: readonly string[];
    }

    const replay = (sut: SolChannel, steps: readonly Step[]): void => {
      for (const step of steps) {
        let effects: SolEffect[] = [];
        if (step.console) effects = sut.consolePacket(step.console, step.at);
        else if (step.host !== undefined) effects = sut.hostOutput(text(step.host), step.at);
        else if (step.tick) effects = sut.tick(step.at);
        expect(sentHex(effects)).toEqual(step.sent.map((s) => s.replace(/\s+/g, '')));
        expect(delivered(effects)).toBe(step.delivered ?? '');
        expect(effects.filter((e) => e.kind !== 'send' && e.kind !== 'deliver').map((e) => e.kind)).toEqual(step.other ?? []);
      }
    };

    it('Vector 4 (ipmitool against ipmi_sim): root, Enter, abc, Enter', () => {
      const sut = mk();
      replay(sut, [
        // Console packet 1 'root' → ACK-only 00 01 04 00 (captured in full as #22), characters to the host.
        { at: 0, console: pkt('01 00 00 00 72 6f 6f 74'), sent: ['00 01 04 00'], delivered: 'root' },
        // The host echoes; under the threshold it waits for the accumulate interval …
        { at: 2, host: 'root', sent: [] },
        { at: 61, tick: true, sent: [] },
        // … and then goes out as BMC packet 1 (captured in full as #23).
        { at: 62, tick: true, sent: ['01 00 00 00 72 6f 6f 74'] },
        { at: 63, console: pkt('00 01 04 00'), sent: [] },
        { at: 1000, console: pkt('02 00 00 00 0d'), sent: ['00 02 01 00'], delivered: '\r' },
        { at: 1001, host: '\r\n', sent: [] },
        { at: 1061, tick: true, sent: ['02 00 00 00 0d 0a'] },
        { at: 1062, console: pkt('00 02 02 00'), sent: [] },
        { at: 20000, console: pkt('03 00 00 00 61 62 63 0d'), sent: ['00 03 04 00'], delivered: 'abc\r' },
        { at: 20001, host: 'abc\r\n', sent: [] },
        { at: 20061, tick: true, sent: ['03 00 00 00 61 62 63 0d 0a'] },
        { at: 20062, console: pkt('00 03 05 00'), sent: [] },
      ]);
      expect(sut.nextDeadline()).toBeUndefined();
      expect(sut.counters).toMatchObject({ packetsSent: 3, retransmissions: 0, staleAcks: 0, duplicatePackets: 0 });
    });

    it('test BMC (suite 17): banner, echo, break', () => {
      const banner = '\r\nMiniBMC host console\r\nlogin: ';
      const sut = mk();
      replay(sut, [
        { at: 0, host: banner, sent: [] },
        { at: 60, tick: true, sent: [data(1, banner)] },
        { at: 61, console: consolePkt(0, 1, 31, 0), sent: [] },
        { at: 3000, console: consolePkt(1, 0, 0, 0, 'root\r'), sent: [ack(1, 5)], delivered: 'root\r' },
        { at: 3001, host: 'root\r\n', sent: [] },
        { at: 3061, tick: true, sent: [data(2, 'root\r\n')] },
        { at: 3062, console: consolePkt(0, 2, 6, 0), sent: [] },
        { at: 5000, console: consolePkt(2, 0, 0, 0, 'x\r'), sent: [ack(2, 2)], delivered: 'x\r' },
        { at: 5001, host: 'x\r\n', sent: [] },
        { at: 5061, tick: true, sent: [data(3, 'x\r\n')] },
        { at: 5062, console: consolePkt(0, 3, 3, 0), sent: [] },
        // ~B: sequence 3, no data, generate break → ACK with count 0 and a break on the host port.
        { at: 8000, console: pkt('03 00 00 10'), sent: ['00 03 00 00'], other: ['break'] },
      ]);
    });

    it('FreeIPMI ipmiconsole exchange', () => {
      const sut = mk();
      replay(sut, [
        { at: 0, host: '\r\nMiniBMC host console\r\nlogin: ', sent: [] },
        { at: 60, tick: true, sent: [data(1, '\r\nMiniBMC host console\r\nlogin: ')] },
        { at: 70, console: consolePkt(0, 1, 31, 0), sent: [] },
        { at: 900, console: consolePkt(1, 0, 0, 0, 'hello\r'), sent: [ack(1, 6)], delivered: 'hello\r' },
        { at: 901, host: 'hello\r\n', sent: [] },
        { at: 961, tick: true, sent: [data(2, 'hello\r\n')] },
        { at: 970, console: consolePkt(0, 2, 7, 0), sent: [] },
      ]);
    });
  });

  describe('BMC → console', () => {
    it('sends at once when the send threshold is reached, capped at payload size − 4', () => {
      const sut = mk();
      const out = Buffer.alloc(500);
      for (let i = 0; i < out.length; i++) out[i] = i & 0xff;
      let effects = sut.hostOutput(out, 0);
      expect(sends(effects)).toHaveLength(1);
      expect(sends(effects)[0]!.data).toEqual(out.subarray(0, 196));
      // One packet outstanding: nothing more until the ACK, however much is buffered.
      expect(sut.hostOutput(Buffer.alloc(300, 1), 1)).toEqual([]);
      expect(sut.tick(100)).toEqual([]);
      effects = sut.consolePacket(consolePkt(0, 1, 196, 0), 200);
      expect(sends(effects).map((p) => [p.packetSequenceNumber, p.data.length])).toEqual([[2, 196]]);
      expect(sends(effects)[0]!.data).toEqual(out.subarray(196, 392));
      effects = sut.consolePacket(consolePkt(0, 2, 196, 0), 201);
      expect(sends(effects)[0]!.data).toEqual(Buffer.concat([out.subarray(392), Buffer.alloc(88, 1)]));
    });

    it('keeps order across thousands of one-byte writes and partial ACKs', () => {
      const sut = mk({ characterSendThreshold: 1, outboundPayloadSize: 20 });
      const source = Buffer.alloc(5000);
      for (let i = 0; i < source.length; i++) source[i] = (i * 7) & 0xff;
      const out: Buffer[] = [];
      let pending = sends(sut.hostOutput(source.subarray(0, 1), 0));
      for (let i = 1; i < source.length; i++) pending.push(...sends(sut.hostOutput(source.subarray(i, i + 1), i)));
      for (let n = 0; pending.length > 0; n++) {
        const p = pending.shift()!;
        const take = n % 3 === 0 ? Math.floor(p.data.length / 2) : p.data.length;
        out.push(p.data.subarray(0, take));
        pending.push(...sends(sut.consolePacket(consolePkt(0, p.packetSequenceNumber, take, 0), 10_000 + n)));
      }
      expect(Buffer.concat(out).equals(source)).toBe(true);
    });

    it('treats a send threshold of 0 as 1 and never waits for more than fits in a packet', () => {
      expect(sends(mk({ characterSendThreshold: 0 }).hostOutput(text('a'), 0))).toHaveLength(1);
      const small = mk({ outboundPayloadSize: 10, characterSendThreshold: 255 });
      expect(sends(small.hostOutput(text('123456'), 0)).map((p) => p.data.toString())).toEqual(['123456']);
    });

    it('wraps the sequence number 15 → 1 and never uses 0 for data', () => {
      const sut = mk({ characterSendThreshold: 1 });
      const seqs: number[] = [];
      for (let i = 0; i < 32; i++) {
        const [p] = sends(sut.hostOutput(text(`#${i}`), i * 10));
        expect(p).toBeDefined();
        seqs.push(p!.packetSequenceNumber);
        expect(sut.consolePacket(consolePkt(0, p!.packetSequenceNumber, p!.data.length, 0), i * 10 + 1)).toEqual([]);
      }
      expect(seqs).toEqual([...Array.from({ length: 15 }, (_, i) => i + 1), ...Array.from({ length: 15 }, (_, i) => i + 1), 1, 2]);
      expect(sentHex(sut.deactivate())).toEqual(['03000010']);
    });

    it('retransmits the same packet with the same sequence number every retry interval', () => {
      const sut = mk({ characterSendThreshold: 1 });
      expect(sentHex(sut.hostOutput(text('abc'), 1000))).toEqual([data(1, 'abc')]);
      expect(sut.nextDeadline()).toBe(1500);
      expect(sut.tick(1499)).toEqual([]);
      expect(sentHex(sut.tick(1500))).toEqual([data(1, 'abc')]);
      expect(sut.nextDeadline()).toBe(2000);
      // Newer characters ride along behind the original ones.
      expect(sut.hostOutput(text('def'), 1700)).toEqual([]);
      expect(sentHex(sut.tick(2000))).toEqual([data(1, 'abcdef')]);
      expect(sut.bufferedCharacters).toBe(0);
      // The console got 'abc' the first time and now accepts all six.
      expect(sut.consolePacket(consolePkt(0, 1, 6, 0), 2100)).toEqual([]);
      expect(sut.nextDeadline()).toBeUndefined();
      expect(sut.counters).toMatchObject({ packetsSent: 1, retransmissions: 2, droppedPackets: 0 });
    });

    it('appends on retransmission only up to the packet size', () => {
      const sut = mk({ outboundPayloadSize: 8, characterSendThreshold: 2 });
      expect(sentHex(sut.hostOutput(text('ab'), 0))).toEqual([data(1, 'ab')]);
      sut.hostOutput(text('cdefgh'), 10);
      expect(sentHex(sut.tick(500))).toEqual([data(1, 'abcd')]);
      expect(sut.bufferedCharacters).toBe(4);
      expect(sentHex(sut.consolePacket(consolePkt(0, 1, 4, 0), 600))).toEqual([data(2, 'efgh')]);
    });

    it('drops a packet after the configured retries and goes on with the next sequence number', () => {
      const sut = mk({ characterSendThreshold: 1 });
      sut.hostOutput(text('lost'), 0);
      const retransmitted: number[] = [];
      for (let t = 500; t <= 3500; t += 500) {
        const [p] = sends(sut.tick(t));
        retransmitted.push(p!.packetSequenceNumber);
      }
      expect(retransmitted).toEqual([1, 1, 1, 1, 1, 1, 1]);
      sut.hostOutput(text('next'), 3600);
      const effects = sut.tick(4000);
      expect(effects[0]).toEqual({ kind: 'packet-dropped', packetSequenceNumber: 1, characters: 4 });
      expect(sentHex(effects)).toEqual([data(2, 'next')]);
      expect(sut.counters).toMatchObject({ retransmissions: 7, droppedPackets: 1, droppedCharacters: 4, packetsSent: 2 });
      // A late ACK for the dropped packet is stale.
      expect(sut.consolePacket(consolePkt(0, 1, 4, 0), 4001)).toEqual([]);
      expect(sut.counters.staleAcks).toBe(1);
      expect(sut.awaitingAck).toBe(true);
    });

    it('with retry count 0 drops the packet at the first deadline', () => {
      const sut = mk({ retryCount: 0, retryIntervalMs: 100, characterSendThreshold: 1 });
      sut.hostOutput(text('x'), 0);
      expect(sut.tick(100)).toEqual([{ kind: 'packet-dropped', packetSequenceNumber: 1, characters: 1 }]);
      expect(sut.nextDeadline()).toBeUndefined();
    });

    it('on a partial ACK resends the unaccepted tail at once in a new packet, in front of newer output', () => {
      const sut = mk({ characterSendThreshold: 1 });
      sut.hostOutput(text('0123456789'), 0);
      sut.hostOutput(text('ABC'), 5);
      const effects = sut.consolePacket(consolePkt(0, 1, 4, 0), 10);
      expect(sentHex(effects)).toEqual([data(2, '456789ABC')]);
      expect(sut.counters.partialAcks).toBe(1);
    });

    it('treats an ACK count above what was sent as a full ACK', () => {
      const sut = mk({ characterSendThreshold: 1 });
      sut.hostOutput(text('abc'), 0);
      expect(sut.consolePacket(consolePkt(0, 1, 200, 0), 10)).toEqual([]);
      expect(sut.awaitingAck).toBe(false);
    });

    it('on a NACK pauses until the console sends a packet without the NACK bit', () => {
      const sut = mk({ characterSendThreshold: 1 });
      sut.hostOutput(text('hello'), 0);
      expect(sut.consolePacket(consolePkt(0, 1, 2, SolConsoleOperation.Nack), 10)).toEqual([]);
      expect(sut.paused).toBe(true);
      expect(sut.nextDeadline()).toBe(10 + DEFAULT_NACK_HOLDOFF_MS);
      expect(sut.hostOutput(text(' world'), 20)).toEqual([]);
      expect(sut.tick(500)).toEqual([]);
      // Still NACKing: stay paused.
      expect(sut.consolePacket(consolePkt(0, 0, 0, SolConsoleOperation.Nack), 600)).toEqual([]);
      // The console's next ordinary packet releases the pause; the 2 accepted characters are not resent.
      const effects = sut.consolePacket(consolePkt(0, 0, 0, 0), 700);
      expect(sentHex(effects)).toEqual([data(2, 'llo world')]);
      expect(sut.paused).toBe(false);
      expect(sut.counters.nacks).toBe(1);
    });

    it('resumes after the NACK hold-off when the console stays silent', () => {
      const sut = mk({ characterSendThreshold: 1, nackHoldoffMs: 300 });
      sut.hostOutput(text('abc'), 0);
      sut.consolePacket(consolePkt(0, 1, 0, SolConsoleOperation.Nack), 10);
      expect(sut.tick(309)).toEqual([]);
      expect(sentHex(sut.tick(310))).toEqual([data(2, 'abc')]);
    });

    it('reports an overrun on the next packet, keeping the newest characters', () => {
      const sut = mk({ characterSendThreshold: 1, bufferCapacity: 1000 });
      expect(sends(sut.hostOutput(Buffer.alloc(196, 0x61), 0))).toHaveLength(1);
      const burst = Buffer.alloc(1500);
      for (let i = 0; i < burst.length; i++) burst[i] = i % 251;
      expect(sut.hostOutput(burst, 1)).toEqual([]);
      expect(sut.bufferedCharacters).toBe(1000);
      expect(sut.counters.overrunCharacters).toBe(500);
      let [p] = sends(sut.consolePacket(consolePkt(0, 1, 196, 0), 2));
      expect(p!.operationStatus).toBe(SolBmcStatus.CharacterTransmitOverrun);
      expect(p!.data).toEqual(burst.subarray(500, 696));
      [p] = sends(sut.consolePacket(consolePkt(0, 2, 196, 0), 3));
      expect(p!.operationStatus).toBe(0);
      expect(p!.data).toEqual(burst.subarray(696, 892));
    });

    it('reports a host break in a control packet that needs an ACK', () => {
      const sut = mk();
      expect(sentHex(sut.hostBreak(0))).toEqual([data(1, '', SolBmcStatus.BreakDetected)]);
      expect(sut.awaitingAck).toBe(true);
      expect(sut.consolePacket(consolePkt(0, 1, 0, 0), 1)).toEqual([]);
      expect(sut.awaitingAck).toBe(false);
    });

    it('sends the deactivating packet with a new sequence number and then ignores everything', () => {
      const sut = mk({ characterSendThreshold: 1 });
      sut.hostOutput(text('a'), 0);
      sut.consolePacket(consolePkt(0, 1, 1, 0), 1);
      sut.hostOutput(text('b'), 2);
      expect(sentHex(sut.deactivate())).toEqual(['03 00 00 10'.replace(/ /g, '')]);
      expect(sut.isActive).toBe(false);
      expect(sut.deactivate()).toEqual([]);
      expect(sut.hostOutput(text('c'), 3)).toEqual([]);
      expect(sut.consolePacket(consolePkt(4, 0, 0, 0, 'x'), 4)).toEqual([]);
      expect(sut.tick(10_000)).toEqual([]);
      expect(sut.nextDeadline()).toBeUndefined();
      expect(sut.counters.ignoredPackets).toBe(1);
    });
  });

  describe('console → BMC', () => {
    it('delivers keystrokes once and re-ACKs a retransmission without delivering it again', () => {
      const sut = mk();
      let effects = sut.consolePacket(consolePkt(5, 0, 0, 0, 'ls'), 0);
      expect(sentHex(effects)).toEqual([ack(5, 2)]);
      expect(delivered(effects)).toBe('ls');
      effects = sut.consolePacket(consolePkt(5, 0, 0, 0, 'ls'), 500);
      expect(sentHex(effects)).toEqual([ack(5, 2)]);
      expect(delivered(effects)).toBe('');
      // A retransmission that grew: only the new characters reach the host.
      effects = sut.consolePacket(consolePkt(5, 0, 0, 0, 'ls -l'), 900);
      expect(sentHex(effects)).toEqual([ack(5, 5)]);
      expect(delivered(effects)).toBe(' -l');
      expect(sut.counters.duplicatePackets).toBe(2);
      // The next sequence number is new input even with the same characters.
      effects = sut.consolePacket(consolePkt(6, 0, 0, 0, 'ls'), 1000);
      expect(delivered(effects)).toBe('ls');
    });

    it('does not repeat a break when the break packet is retransmitted', () => {
      const sut = mk();
      expect(sut.consolePacket(pkt('03 00 00 10'), 0).map((e) => e.kind)).toEqual(['send', 'break']);
      expect(sut.consolePacket(pkt('03 00 00 10'), 100).map((e) => e.kind)).toEqual(['send']);
    });

    it('accepts at most 255 characters from one packet', () => {
      const sut = mk();
      const effects = sut.consolePacket({ ...consolePkt(1, 0, 0, 0), data: Buffer.alloc(300, 0x7a) }, 0);
      expect(sentHex(effects)).toEqual([ack(1, 255)]);
      expect(delivered(effects)).toHaveLength(255);
    });

    it('ignores characters in a packet with sequence number 0 and does not ACK it', () => {
      const sut = mk();
      expect(sut.consolePacket(consolePkt(0, 0, 0, 0, 'oops'), 0)).toEqual([]);
      expect(sut.counters.ignoredCharacters).toBe(4);
    });

    it('handles a piggy-backed ACK and new keystrokes in one packet', () => {
      const sut = mk({ characterSendThreshold: 1 });
      sut.hostOutput(text('login: '), 0);
      sut.hostOutput(text('more'), 1);
      const effects = sut.consolePacket(consolePkt(1, 1, 7, 0, 'r'), 10);
      expect(sentHex(effects)).toEqual([ack(1, 1), data(2, 'more')]);
      expect(delivered(effects)).toBe('r');
    });

    it('flush outbound drops buffered host output; flush inbound is passed to the shell', () => {
      const sut = mk({ characterSendThreshold: 1, bufferCapacity: 300 });
      sut.hostOutput(Buffer.alloc(196, 0x61), 0);
      sut.hostOutput(Buffer.alloc(400, 0x62), 1); // overflows too
      const effects = sut.consolePacket(consolePkt(2, 0, 0, SolConsoleOperation.FlushOutbound | SolConsoleOperation.FlushInbound), 2);
      expect(effects.map((e) => e.kind)).toEqual(['send', 'flush-inbound']);
      expect(sut.bufferedCharacters).toBe(0);
      expect(sut.counters.flushedCharacters).toBe(300);
      // The outstanding packet is still settled normally, and the overrun flag went with the data.
      expect(sut.consolePacket(consolePkt(0, 1, 196, 0), 3)).toEqual([]);
      const [p] = sends(sut.hostOutput(text('z'), 4));
      expect(p).toMatchObject({ packetSequenceNumber: 2, operationStatus: 0 });
    });

    it('ignores modem-control bits but still ACKs the packet', () => {
      const sut = mk();
      const op = SolConsoleOperation.DeassertCts | SolConsoleOperation.DeassertDcdDsr | SolConsoleOperation.RingWor;
      expect(sut.consolePacket(consolePkt(1, 0, 0, op), 0)).toEqual([{ kind: 'send', packet: decodeSolPacket(hex(ack(1, 0))) }]);
    });
  });

  describe('configuration', () => {
    it('takes retry and accumulate settings from the SOL configuration', () => {
      const config = new SolConfig({ store: new MemoryStateStore(), payloadPort: () => 623 });
      config.writeParameter(SolParameter.SolRetry, hex('02 0a'), 0); // 2 retries, 100 ms
      config.writeParameter(SolParameter.CharacterAccumulateIntervalAndSendThreshold, hex('04 08'), 0); // 20 ms, 8 chars
      const sut = SolChannel.fromConfig(config, { outboundPayloadSize: 200 });
      expect(sut.hostOutput(text('1234567'), 0)).toEqual([]);
      expect(sut.nextDeadline()).toBe(20);
      expect(sentHex(sut.tick(20))).toEqual([data(1, '1234567')]);
      expect(sut.nextDeadline()).toBe(120);
      expect(sends(sut.tick(120))).toHaveLength(1);
      expect(sends(sut.tick(220))).toHaveLength(1);
      expect(sut.tick(320)).toEqual([{ kind: 'packet-dropped', packetSequenceNumber: 1, characters: 7 }]);
      expect(sends(sut.hostOutput(text('12345678'), 400))).toHaveLength(1);
    });

    it.each([
      [{ outboundPayloadSize: 4 }],
      [{ outboundPayloadSize: 260 }],
      [{ outboundPayloadSize: 200.5 }],
      [{ retryCount: 8 }],
      [{ retryIntervalMs: -1 }],
      [{ bufferCapacity: 100 }],
    ])('refuses options %p', (o) => {
      expect(() => mk(o)).toThrow(RangeError);
    });
  });

  describe('1 MiB of host output through a console', () => {
    const MIB = 1 << 20;
    const CHUNK = 4096;

    function run(opts: { seed: number; loss: number; partial: number; nack: number }): { sut: SolChannel; received: Buffer; source: Buffer } {
      let seed = opts.seed;
      const rnd = (): number => {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        return (seed >>> 8) / 0x1000000;
      };
      const source = Buffer.alloc(MIB);
      for (let i = 0; i < MIB; i++) source[i] = Math.floor(rnd() * 256);

      const sut = mk();
      const capacity = 64 * 1024;
      const received: Buffer[] = [];
      let receivedLength = 0;
      const console = { lastSeq: 0, accepted: 0 };
      let now = 0;
      let written = 0;
      const inFlight: SolEffect[] = [];

      // A console like ipmitool/FreeIPMI/pyghmi: prints only characters beyond those it already
      // accepted from the same sequence number, and ACKs the total accepted for it.
      const consoleReceive = (p: SolPacket): SolPacket | undefined => {
        if (p.packetSequenceNumber === 0) return undefined;
        let fresh: Buffer;
        if (p.packetSequenceNumber === console.lastSeq) {
          fresh = p.data.subarray(console.accepted);
        } else {
          console.lastSeq = p.packetSequenceNumber;
          console.accepted = 0;
          fresh = p.data;
        }
        let take = fresh.length;
        let op = 0;
        const r = rnd();
        if (r < opts.nack) {
          take = 0;
          op = SolConsoleOperation.Nack;
        } else if (r < opts.nack + opts.partial && fresh.length > 1) {
          take = Math.floor(rnd() * fresh.length);
        }
        received.push(Buffer.from(fresh.subarray(0, take)));
        receivedLength += take;
        console.accepted += take;
        return consolePkt(0, p.packetSequenceNumber, console.accepted, op);
      };

      // The host writes whenever the buffer has room (a serial port is slower than the LAN).
      const hostWrites = (): void => {
        while (written < MIB && sut.bufferedCharacters + CHUNK <= capacity) {
          inFlight.push(...sut.hostOutput(source.subarray(written, written + CHUNK), now));
          written += CHUNK;
        }
      };

      for (let steps = 0; receivedLength < MIB; steps++) {
        if (steps > 2_000_000) throw new Error(`no progress: ${receivedLength} of ${MIB}`);
        hostWrites();
        while (inFlight.length > 0) {
          hostWrites();
          const e = inFlight.shift()!;
          if (e.kind === 'packet-dropped') throw new Error(`packet ${e.packetSequenceNumber} dropped at ${now}`);
          if (e.kind !== 'send' || rnd() < opts.loss) continue;
          const reply = consoleReceive(e.packet);
          if (reply && rnd() >= opts.loss) inFlight.push(...sut.consolePacket(reply, now + 1));
        }
        const deadline = sut.nextDeadline();
        if (deadline === undefined) {
          if (written < MIB) continue;
          break;
        }
        now = Math.max(now + 1, deadline);
        inFlight.push(...sut.tick(now));
      }
      return { sut, received: Buffer.concat(received), source };
    }

    it('arrives complete and in order over a clean link, in full packets', () => {
      const { sut, received, source } = run({ seed: 1, loss: 0, partial: 0, nack: 0 });
      expect(received.equals(source)).toBe(true);
      expect(sut.counters).toMatchObject({ packetsSent: Math.ceil(MIB / 196), retransmissions: 0, droppedPackets: 0, overrunCharacters: 0 });
    });

    it('arrives complete and in order despite lost packets, lost ACKs, partial ACKs and NACKs', () => {
      const { sut, received, source } = run({ seed: 42, loss: 0.08, partial: 0.1, nack: 0.02 });
      expect(received.length).toBe(source.length);
      expect(received.equals(source)).toBe(true);
      expect(sut.counters.droppedPackets).toBe(0);
      expect(sut.counters.overrunCharacters).toBe(0);
      expect(sut.counters.retransmissions).toBeGreaterThan(100);
      expect(sut.counters.partialAcks).toBeGreaterThan(100);
      expect(sut.counters.nacks).toBeGreaterThan(10);
      expect(sut.bufferedCharacters).toBe(0);
    });
  });
});
