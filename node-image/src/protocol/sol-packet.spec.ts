import { ProtocolError, ProtocolErrorCode } from './errors';
import {
  SOL_HEADER_LENGTH,
  SolBmcStatus,
  SolConsoleOperation,
  SolPacket,
  decodeSolPacket,
  encodeSolPacket,
} from './sol-packet';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

interface Vector {
  readonly name: string;
  readonly hex: string;
  readonly decoded: Omit<SolPacket, 'kind' | 'data'> & { readonly data: string };
}

// Cleartext SOL payloads from ipmi-captures.md.
const vectors: readonly Vector[] = [
  {
    // Vector 4 #22, decrypted: the BMC's ACK of console packet 1 ('root').
    name: 'vector 4 #22 BMC ACK of console packet 1',
    hex: '00 01 04 00',
    decoded: { packetSequenceNumber: 0, ackNackSequenceNumber: 1, acceptedCharacterCount: 4, operationStatus: 0, data: '' },
  },
  {
    // Vector 4 #23, decrypted: the BMC's first data packet, the echo of 'root'.
    name: 'vector 4 #23 BMC data packet 1',
    hex: '01 00 00 00 72 6f 6f 74',
    decoded: { packetSequenceNumber: 1, ackNackSequenceNumber: 0, acceptedCharacterCount: 0, operationStatus: 0, data: 'root' },
  },
  {
    // "SOL against test BMC": ipmitool's ~B (generate break, no data).
    name: 'test BMC console break',
    hex: '03 00 00 10',
    decoded: { packetSequenceNumber: 3, ackNackSequenceNumber: 0, acceptedCharacterCount: 0, operationStatus: SolConsoleOperation.GenerateBreak, data: '' },
  },
  {
    name: 'test BMC banner',
    hex: '01 00 00 00' + Buffer.from('\r\nMiniBMC host console\r\nlogin: ', 'latin1').toString('hex'),
    decoded: { packetSequenceNumber: 1, ackNackSequenceNumber: 0, acceptedCharacterCount: 0, operationStatus: 0, data: '\r\nMiniBMC host console\r\nlogin: ' },
  },
  {
    name: 'test BMC ACK of the banner (31 characters)',
    hex: '00 01 1f 00',
    decoded: { packetSequenceNumber: 0, ackNackSequenceNumber: 1, acceptedCharacterCount: 31, operationStatus: 0, data: '' },
  },
  {
    name: 'deactivating packet',
    hex: '05 00 00 10',
    decoded: { packetSequenceNumber: 5, ackNackSequenceNumber: 0, acceptedCharacterCount: 0, operationStatus: SolBmcStatus.SolDeactivating, data: '' },
  },
  {
    name: 'NACK with overrun and sequence 15',
    hex: '0f 0e 02 48 41',
    decoded: { packetSequenceNumber: 15, ackNackSequenceNumber: 14, acceptedCharacterCount: 2, operationStatus: 0x48, data: 'A' },
  },
];

function expected(v: Vector): SolPacket {
  return { kind: 'sol', ...v.decoded, data: Buffer.from(v.decoded.data, 'latin1') };
}

describe('SOL packet codec', () => {
  describe.each(vectors)('$name', (v) => {
    it('decodes to the expected fields', () => {
      expect(decodeSolPacket(hex(v.hex))).toEqual(expected(v));
    });
    it('encodes to the captured bytes', () => {
      expect(encodeSolPacket(expected(v)).toString('hex')).toBe(hex(v.hex).toString('hex'));
    });
    it('round-trips', () => {
      const once = encodeSolPacket(decodeSolPacket(hex(v.hex)));
      expect(encodeSolPacket(decodeSolPacket(once))).toEqual(once);
    });
    it('throws TRUNCATED at every offset inside the header', () => {
      const full = hex(v.hex);
      for (let len = 0; len < SOL_HEADER_LENGTH; len++) {
        let caught: unknown;
        try {
          decodeSolPacket(full.subarray(0, len));
        } catch (e) {
          caught = e;
        }
        expect(caught).toBeInstanceOf(ProtocolError);
        expect((caught as ProtocolError).code).toBe(ProtocolErrorCode.Truncated);
        expect((caught as ProtocolError).details).toEqual({ offset: len, needed: 1 });
      }
    });
    it('treats every longer prefix as a packet with less data', () => {
      const full = hex(v.hex);
      for (let len = SOL_HEADER_LENGTH; len <= full.length; len++) {
        expect(decodeSolPacket(full.subarray(0, len)).data).toEqual(full.subarray(SOL_HEADER_LENGTH, len));
      }
    });
  });

  it('ignores the reserved high nibbles of the sequence bytes', () => {
    const p = decodeSolPacket(hex('f3 a2 05 00'));
    expect(p.packetSequenceNumber).toBe(3);
    expect(p.ackNackSequenceNumber).toBe(2);
  });

  it('copies the data, so the datagram buffer may be reused', () => {
    const buf = hex('01 00 00 00 61 62');
    const p = decodeSolPacket(buf);
    buf.fill(0);
    expect(p.data.toString('latin1')).toBe('ab');
  });

  it.each([
    ['packetSequenceNumber', { packetSequenceNumber: 16 }],
    ['ackNackSequenceNumber', { ackNackSequenceNumber: -1 }],
    ['acceptedCharacterCount', { acceptedCharacterCount: 256 }],
    ['operationStatus', { operationStatus: 0x100 }],
    ['data', { packetSequenceNumber: 0, data: Buffer.from('x') }],
    ['data.length', { data: Buffer.alloc(256) }],
  ])('refuses to encode an invalid %s', (field, patch) => {
    const base: SolPacket = { kind: 'sol', packetSequenceNumber: 1, ackNackSequenceNumber: 0, acceptedCharacterCount: 0, operationStatus: 0, data: Buffer.alloc(0) };
    expect(() => encodeSolPacket({ ...base, ...patch })).toThrow(ProtocolError);
    try {
      encodeSolPacket({ ...base, ...patch });
    } catch (e) {
      expect((e as ProtocolError).code).toBe(ProtocolErrorCode.Malformed);
      expect((e as ProtocolError).details['field']).toBe(field);
    }
  });

  it('encodes the largest packet (255 characters)', () => {
    const data = Buffer.alloc(255, 0x41);
    const out = encodeSolPacket({ kind: 'sol', packetSequenceNumber: 15, ackNackSequenceNumber: 15, acceptedCharacterCount: 255, operationStatus: 0xff, data });
    expect(out.length).toBe(259);
    expect(out.subarray(0, 4).toString('hex')).toBe('0f0fffff');
  });

  it('seeded fuzz: random datagrams decode or throw ProtocolError, never anything else', () => {
    let seed = 0x5eed;
    const rnd = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed >>> 8;
    };
    for (let i = 0; i < 5000; i++) {
      const buf = Buffer.alloc(rnd() % 12);
      for (let j = 0; j < buf.length; j++) buf[j] = rnd() & 0xff;
      try {
        const p = decodeSolPacket(buf);
        expect(p.data.length).toBe(buf.length - SOL_HEADER_LENGTH);
      } catch (e) {
        expect(e).toBeInstanceOf(ProtocolError);
        expect(buf.length).toBeLessThan(SOL_HEADER_LENGTH);
      }
    }
  });
});
