/**
 * The HEALTHCHECK probe's bytes: the request is ipmitool's first datagram (ipmi-captures.md vector 1,
 * #1) and the answer ipmi_sim gave to it (#2) is healthy; anything else names what is wrong.
 */
import { checkProbeReply, encodeProbe, probeTarget } from './healthcheck';
import { ipmiChecksum } from './protocol/wire/checksum';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** Vector 1 #1: Get Channel Auth Caps, IPMI 1.5 framing, rqSeq 0, data 8E 04. */
const CAPTURED_REQUEST = hex('06 00 ff 07 00 00 00 00 00 00 00 00 00 09 20 18 c8 81 00 38 8e 04 b5');
/** Vector 1 #2: ipmi_sim's answer, completion code 00, data 01 97 06 03 00 00 00 00. */
const CAPTURED_REPLY = hex('06 00 ff 07 00 00 00 00 00 00 00 00 00 10 81 1c 63 20 00 38 00 01 97 06 03 00 00 00 00 07');

/** RMCP (4) + auth type (1) + session sequence (4) + session id (4) + message length (1). */
const IPMI15_HEADER_LENGTH = 14;
/** IPMI response header up to and including the completion code. */
const RESPONSE_HEADER_LENGTH = 7;

/**
 * The captured reply with message bytes changed, the data cut to `dataLength` (at most 8), both
 * checksums and the message length recomputed.
 */
function replyWith(changes: Record<number, number>, dataLength = 8): Buffer {
  const captured = CAPTURED_REPLY.subarray(IPMI15_HEADER_LENGTH);
  const message = Buffer.concat([captured.subarray(0, RESPONSE_HEADER_LENGTH + dataLength), Buffer.alloc(1)]);
  for (const [offset, value] of Object.entries(changes)) message[Number(offset)] = value;
  message[2] = ipmiChecksum(message, 0, 2);
  message[message.length - 1] = ipmiChecksum(message, 3, message.length - 1);
  const head = Buffer.from(CAPTURED_REPLY.subarray(0, IPMI15_HEADER_LENGTH));
  head[IPMI15_HEADER_LENGTH - 1] = message.length;
  return Buffer.concat([head, message]);
}

describe('healthcheck probe', () => {
  it('sends exactly what ipmitool lanplus sends first (rqSeq 0)', () => {
    expect(encodeProbe(0)).toEqual(CAPTURED_REQUEST);
  });

  it('puts the rqSeq in bits 7:2 of byte 4 of the message, modulo 64', () => {
    expect(encodeProbe(5)[18]).toBe(5 << 2);
    expect(encodeProbe(64 + 5)[18]).toBe(5 << 2);
  });

  it('accepts the captured answer', () => {
    expect(checkProbeReply(CAPTURED_REPLY, 0)).toBeNull();
  });

  it('accepts the re-encoded captured answer (the test helper changes nothing by itself)', () => {
    expect(replyWith({})).toEqual(CAPTURED_REPLY);
  });

  it('refuses an answer to another request', () => {
    expect(checkProbeReply(CAPTURED_REPLY, 1)).toMatch(/^rqSeq 0, expected 1/);
    expect(checkProbeReply(replyWith({ 5: 0x01 }), 0)).toMatch(/expected Get Channel Authentication Capabilities/);
  });

  it('refuses a non-zero completion code', () => {
    expect(checkProbeReply(replyWith({ 6: 0xc1 }), 0)).toBe('completion code 0xc1');
  });

  it('refuses a wrong data length', () => {
    expect(checkProbeReply(replyWith({}, 7), 0)).toBe('7 data bytes, expected 8');
  });

  it('refuses a broken checksum', () => {
    const bad = Buffer.from(CAPTURED_REPLY);
    bad[bad.length - 1] = CAPTURED_REPLY[CAPTURED_REPLY.length - 1]! ^ 0xff;
    expect(checkProbeReply(bad, 0)).toMatch(/^malformed answer/);
  });

  it('refuses every truncation without throwing', () => {
    for (let n = 0; n < CAPTURED_REPLY.length; n++) {
      expect(checkProbeReply(CAPTURED_REPLY.subarray(0, n), 0)).not.toBeNull();
    }
  });

  it('refuses an ASF presence pong and a session-bound answer', () => {
    const pong = hex('06 00 ff 06 00 00 11 be 40 00 00 10 00 00 11 be 00 00 00 00 81 00 00 00 00 00 00 00');
    expect(checkProbeReply(pong, 0)).toBe('RMCP class 6, expected IPMI');
    const inSession = Buffer.from(CAPTURED_REPLY);
    inSession.writeUInt32LE(0x1234, 9);
    expect(checkProbeReply(inSession, 0)).toBe(`session id ${0x1234}, expected 0`);
  });

  it('probes loopback when the agent binds every address, else the bound address', () => {
    expect(probeTarget('0.0.0.0', 623)).toEqual({ address: '127.0.0.1', port: 623 });
    expect(probeTarget('10.1.2.3', 16230)).toEqual({ address: '10.1.2.3', port: 16230 });
  });
});
