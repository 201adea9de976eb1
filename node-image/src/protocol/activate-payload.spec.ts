import { ProtocolError, ProtocolErrorCode } from './errors';
import {
  ACTIVATE_PAYLOAD_RESPONSE_LENGTH,
  ActivatePayloadResponse,
  decodeActivatePayloadResponse,
  encodeActivatePayloadResponse,
  NO_VLAN,
} from './activate-payload';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

interface Vector {
  readonly name: string;
  readonly hex: string;
  readonly decoded: Omit<ActivatePayloadResponse, 'kind'>;
}

const sol = (payloadUdpPortNumber: number): Omit<ActivatePayloadResponse, 'kind'> => ({
  auxiliaryResponseData: 0, inboundPayloadSize: 200, outboundPayloadSize: 200, payloadUdpPortNumber, payloadVlanNumber: NO_VLAN,
});

const vectors: readonly Vector[] = [
  // Captured from a test BMC listening on 9625 (ipmi reference 8.1).
  { name: 'SOL on the port the BMC listens on (9625)', hex: '00000000 c800 c800 9925 ffff', decoded: sol(9625) },
  { name: 'SOL on the standard port 623', hex: '00000000 c800 c800 6f02 ffff', decoded: sol(623) },
  // A BMC listening on 623 inside a container published as 9831:623/udp, told IPMI_SOL_PORT=9831.
  { name: 'SOL on a configured port 9831 (published host port)', hex: '00000000 c800 c800 6726 ffff', decoded: sol(9831) },
  { name: 'the highest port, a VLAN and auxiliary data', hex: '78563412 0401 ff00 ffff 0a00', decoded: { auxiliaryResponseData: 0x12345678, inboundPayloadSize: 0x104, outboundPayloadSize: 0xff, payloadUdpPortNumber: 65535, payloadVlanNumber: 10 } },
];

describe('Activate Payload response codec (table 24-2)', () => {
  describe.each(vectors)('$name', (v) => {
    const expected: ActivatePayloadResponse = { kind: 'activate-payload-response', ...v.decoded };
    it('encodes to the expected bytes', () => {
      expect(encodeActivatePayloadResponse(expected).toString('hex')).toBe(hex(v.hex).toString('hex'));
    });
    it('decodes to the expected fields', () => {
      expect(decodeActivatePayloadResponse(hex(v.hex))).toEqual(expected);
    });
    it('round-trips', () => {
      const once = encodeActivatePayloadResponse(decodeActivatePayloadResponse(hex(v.hex)));
      expect(once).toEqual(hex(v.hex));
    });
    it('throws TRUNCATED at every shorter length, MALFORMED when longer', () => {
      const full = hex(v.hex);
      for (let len = 0; len < ACTIVATE_PAYLOAD_RESPONSE_LENGTH; len++) {
        let caught: unknown;
        try {
          decodeActivatePayloadResponse(full.subarray(0, len));
        } catch (e) {
          caught = e;
        }
        expect(caught).toBeInstanceOf(ProtocolError);
        expect((caught as ProtocolError).code).toBe(ProtocolErrorCode.Truncated);
      }
      expect(() => decodeActivatePayloadResponse(Buffer.concat([full, hex('00')]))).toThrow(ProtocolErrorCode.Malformed);
    });
  });

  it('writes the port least significant byte first, as ipmitool reads it', () => {
    const bytes = encodeActivatePayloadResponse({ kind: 'activate-payload-response', ...sol(0x2667) });
    expect(bytes[8]).toBe(0x67);
    expect(bytes[9]).toBe(0x26);
  });

  it.each([
    ['payloadUdpPortNumber', { payloadUdpPortNumber: 0 }],
    ['payloadUdpPortNumber', { payloadUdpPortNumber: 65536 }],
    ['inboundPayloadSize', { inboundPayloadSize: -1 }],
    ['outboundPayloadSize', { outboundPayloadSize: 1.5 }],
    ['payloadVlanNumber', { payloadVlanNumber: 0x10000 }],
    ['auxiliaryResponseData', { auxiliaryResponseData: 2 ** 32 }],
  ])('refuses to encode an invalid %s', (field, patch) => {
    let caught: unknown;
    try {
      encodeActivatePayloadResponse({ kind: 'activate-payload-response', ...sol(623), ...patch });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(ProtocolError);
    expect((caught as ProtocolError).code).toBe(ProtocolErrorCode.Malformed);
    expect((caught as ProtocolError).details['field']).toBe(field);
  });
});
