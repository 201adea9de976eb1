/** Byte vectors (from ipmi-captures.md via test/vectors) and truncation at every offset for each codec. */
import { ProtocolError } from './errors';
import { ByteReader } from './wire/byte-reader';
import { ByteWriter } from './wire/byte-writer';
import { decodeIpmiRequest, decodeIpmiResponse, encodeIpmiRequest, encodeIpmiResponse, responseFor } from './ipmi-message';
import { decodeAsfMessage, decodeRmcpHeader, encodePresencePong } from './rmcp';
import { decodeRmcpPlusPacket, encodeRmcpPlusPacket, integrityPadLength, verifyIntegrity } from './session/rmcpplus-packet';
import { decodeIpmi15Packet, encodeIpmi15Packet } from './session/ipmi15-packet';
import { decodeOpenSessionRequest, decodeOpenSessionResponse, encodeOpenSessionRequest, encodeOpenSessionResponse } from './session/open-session';
import { decodeRakp1, decodeRakp3, decodeRakpReply, encodeRakp1, encodeRakp3, encodeRakpReply } from './session/rakp';
import { INTEGRITY_ALGORITHMS, IntegrityAlgorithm } from './crypto/cipher-suites';
import { hex, loadVector } from '../test-support/vectors';

const v1 = loadVector(1);
const v3 = loadVector(3);

/** Every strict prefix must throw ProtocolError, never anything else and never succeed silently wrong. */
function expectTruncationsThrow(full: Buffer, decode: (b: Buffer) => unknown, minimum = full.length): void {
  for (let cut = 0; cut < minimum; cut++) {
    let error: unknown;
    try { decode(full.subarray(0, cut)); } catch (err) { error = err; }
    expect(error).toBeInstanceOf(ProtocolError);
  }
}

describe('IPMI message', () => {
  const setPriv = hex('20 18 c8 81 04 3b 04 3c');
  it('decodes ipmitool\'s Set Session Privilege request (reference 1.6)', () => {
    const r = decodeIpmiRequest(setPriv);
    expect(r).toMatchObject({ rsAddr: 0x20, netFn: 0x06, rqAddr: 0x81, rqSeq: 1, cmd: 0x3b });
    expect(r.data).toEqual(hex('04'));
  });
  it('encodes the captured response', () => {
    expect(responseFor(decodeIpmiRequest(setPriv), 0, hex('04'))).toEqual(hex('81 1c 63 20 04 3b 00 04 9d'));
  });
  it('round-trips requests and responses', () => {
    const req = { rsAddr: 0x20, netFn: 0x0c, rsLun: 0, rqAddr: 0x81, rqSeq: 63, rqLun: 2, cmd: 0x22, data: hex('01 02 03') };
    expect(decodeIpmiRequest(encodeIpmiRequest(req))).toMatchObject(req);
    const rsp = { rqAddr: 0x81, netFn: 0x0c, rqLun: 0, rsAddr: 0x20, rqSeq: 5, rsLun: 0, cmd: 0x22, completionCode: 0xc1, data: hex('') };
    expect(decodeIpmiResponse(encodeIpmiResponse(rsp))).toMatchObject(rsp);
  });
  it('rejects bad checksums', () => {
    const bad = Buffer.from(setPriv);
    bad[2]! ^= 1;
    expect(() => decodeIpmiRequest(bad)).toThrow(ProtocolError);
    const bad2 = Buffer.from(setPriv);
    bad2[7]! ^= 1;
    expect(() => decodeIpmiRequest(bad2)).toThrow(ProtocolError);
  });
  it('throws on every truncation', () => expectTruncationsThrow(setPriv, decodeIpmiRequest));
});

describe('RMCP and ASF', () => {
  const ping = v3.get(1)!;
  it('decodes the captured presence ping and answers the captured pong', () => {
    const r = new ByteReader(ping);
    expect(decodeRmcpHeader(r)).toMatchObject({ rmcpClass: 6, sequence: 0xff, isAck: false });
    const asf = decodeAsfMessage(r);
    expect(asf).toMatchObject({ iana: 4542, messageType: 0x80 });
    expect(encodePresencePong(asf.tag)).toEqual(v3.get(2));
  });
  it('throws on every truncation', () => expectTruncationsThrow(ping, (b) => { const r = new ByteReader(b); decodeRmcpHeader(r); return decodeAsfMessage(r); }));
  it('refuses other RMCP versions', () => expect(() => decodeRmcpHeader(new ByteReader(hex('05 00 ff 07')))).toThrow(ProtocolError));
});

describe('IPMI 1.5 session packet', () => {
  it('decodes the captured MD5 Activate Session request and re-encodes it byte for byte', () => {
    const pkt = v3.get(7)!;
    const r = new ByteReader(pkt);
    decodeRmcpHeader(r);
    const p = decodeIpmi15Packet(r);
    expect(p.authType).toBe(2);
    expect(p.authCode).toHaveLength(16);
    expect(encodeIpmi15Packet(p)).toEqual(pkt);
  });
  it('throws on every truncation of every captured 1.5 packet', () => {
    for (const i of [3, 4, 5, 6, 7, 8]) {
      expectTruncationsThrow(v3.get(i)!, (b) => { const r = new ByteReader(b); decodeRmcpHeader(r); return decodeIpmi15Packet(r); });
    }
  });
});

describe('RMCP+ session packet', () => {
  const k1 = hex('14 e8 63 9b bb 87 08 fa e1 c0 ab 83 31 1a bb 7c d5 bf 80 81');
  const sha1 = INTEGRITY_ALGORITHMS[IntegrityAlgorithm.HmacSha1_96]!;
  const decode = (b: Buffer) => { const r = new ByteReader(b); decodeRmcpHeader(r); return decodeRmcpPlusPacket(b, r); };
  it('verifies the captured AuthCode of the first protected request (Vector 1 #9)', () => {
    const p = decode(v1.get(9)!);
    expect(p).toMatchObject({ encrypted: true, authenticated: true, payloadType: 0, sessionId: 0x202, sequence: 3 });
    expect(verifyIntegrity(p, sha1, k1)).toBe(true);
  });
  it('rejects any single flipped bit in the covered bytes or the AuthCode', () => {
    const pkt = v1.get(9)!;
    for (let i = 4; i < pkt.length; i++) {
      const bad = Buffer.from(pkt);
      bad[i]! ^= 0x01;
      let ok = false;
      try { ok = verifyIntegrity(decode(bad), sha1, k1); } catch { ok = false; }
      expect(ok).toBe(false);
    }
  });
  it('re-encodes the captured packet from its parts (same IV and key)', () => {
    const p = decode(v1.get(9)!);
    const again = encodeRmcpPlusPacket({ payloadType: 0, sessionId: 0x202, sequence: 3, payload: p.payload, encrypted: true, integrity: { alg: sha1, k1 } });
    expect(again).toEqual(v1.get(9));
  });
  it('pads the integrity trailer to a multiple of 4 (reference 4.1)', () => {
    for (let len = 0; len < 40; len++) expect((12 + len + integrityPadLength(len) + 2) % 4).toBe(0);
  });
  it('throws on every truncation of the session header and payload', () => {
    for (const i of [3, 5, 7, 9]) {
      const pkt = v1.get(i)!;
      const payloadEnd = 16 + pkt.readUInt16LE(14);
      expectTruncationsThrow(pkt, decode, payloadEnd);
    }
  });
});

describe('Open Session and RAKP', () => {
  const payload = (i: number) => v1.get(i)!.subarray(16);
  it('decodes ipmitool\'s Open Session Request and RAKP1/RAKP3, and re-encodes them', () => {
    const os = decodeOpenSessionRequest(payload(3));
    expect(os).toMatchObject({ tag: 0, requestedPrivilege: 0, consoleSessionId: 0xa0a2a3a4, auth: { algorithm: 1 }, integrity: { algorithm: 1 }, confidentiality: { algorithm: 1 } });
    expect(encodeOpenSessionRequest(os)).toEqual(payload(3));
    const r1 = decodeRakp1(payload(5));
    expect(r1).toMatchObject({ bmcSessionId: 0x202, role: 0x14, userNameLength: 5 });
    expect(r1.userName.toString()).toBe('admin');
    expect(encodeRakp1(r1)).toEqual(payload(5));
    const r3 = decodeRakp3(payload(7));
    expect(r3.authCode).toHaveLength(20);
    expect(encodeRakp3(r3)).toEqual(payload(7));
  });
  it('encodes Open Session Response, RAKP2 and RAKP4 as captured', () => {
    const os = decodeOpenSessionResponse(payload(4));
    expect(os.accepted).toEqual({ bmcSessionId: 0x202, auth: 1, integrity: 1, confidentiality: 1 });
    expect(encodeOpenSessionResponse(os)).toEqual(payload(4));
    const r2 = decodeRakpReply(payload(6));
    expect(encodeRakpReply(r2.tag, r2.status, r2.consoleSessionId, [r2.body])).toEqual(payload(6));
    expect(encodeRakpReply(0, 0x0d, 0xa0a2a3a4)).toEqual(hex('00 0d 00 00 a4 a3 a2 a0'));
  });
  it('throws on every truncation', () => {
    expectTruncationsThrow(payload(3), decodeOpenSessionRequest);
    expectTruncationsThrow(payload(5), decodeRakp1, 28);
    expectTruncationsThrow(payload(7), decodeRakp3, 8);
    expectTruncationsThrow(payload(4), decodeOpenSessionResponse, 8);
  });
  it('reports a user name length longer than the bytes present instead of reading past the end', () => {
    const p = Buffer.from(payload(5));
    p[27] = 12;
    const r = decodeRakp1(p);
    expect(r.userNameLength).toBe(12);
    expect(r.userName.length).toBe(5);
  });
});

describe('ByteReader / ByteWriter', () => {
  it('names endianness and checks every read', () => {
    const b = new ByteWriter(2).u8(1).u16le(0x0302).u16be(0x0405).u32le(0x09080706).u32be(0x0a0b0c0d).toBuffer();
    const r = new ByteReader(b);
    expect([r.u8(), r.u16le(), r.u16be(), r.u32le(), r.u32be()]).toEqual([1, 0x0302, 0x0405, 0x09080706, 0x0a0b0c0d]);
    expect(() => r.u8()).toThrow(ProtocolError);
    expect(() => new ByteReader(hex('01')).u16le()).toThrow(ProtocolError);
    expect(() => new ByteReader(hex('01 02')).bytes(3)).toThrow(ProtocolError);
  });
});
