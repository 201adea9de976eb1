import { createCipheriv, randomBytes } from 'node:crypto';
import { confidentialityTrailer, decryptAesCbc128, encryptAesCbc128, stripConfidentialityTrailer } from './confidentiality';
import { AUTH_ALGORITHMS, AuthAlgorithm, parseCipherSuiteList } from './cipher-suites';
import { deriveSessionKeys, rakp2Hmac, rakp3Hmac, rakp4Icv, RakpParticipants } from './session-keys';
import { authCode15 } from './auth15';
import { ProtocolError } from '../errors';
import { hex, loadVector } from '../../test-support/vectors';

const sha1 = AUTH_ALGORITHMS[AuthAlgorithm.HmacSha1]!;
const sha256 = AUTH_ALGORITHMS[AuthAlgorithm.HmacSha256]!;

// Vector 1 (suite 3) and Vector 2 (suite 17) of ipmi-captures.md, password "password".
const v1: RakpParticipants = {
  consoleSessionId: 0xa0a2a3a4, bmcSessionId: 0x202,
  consoleRandom: hex('53 40 67 71 c2 97 4e a7 db 5c 96 e0 72 b4 cb 11'),
  bmcRandom: hex('a7 5c 1f 51 69 4e c9 71 ac 06 de e9 ce 0f 7e 49'),
  bmcGuid: hex('a1 23 45 67 89 ab cd ef a1 23 45 67 89 ab cd ef'),
  role: 0x14, userName: Buffer.from('admin'),
};
const v2: RakpParticipants = {
  consoleSessionId: 0xa0a2a3a4, bmcSessionId: 0x1004,
  consoleRandom: hex('da 8c bc ee db 25 44 c6 70 25 33 81 ff 15 37 a4'),
  bmcRandom: hex('b2 0f 47 01 9c 29 e3 e9 72 ed c0 1e 96 f1 f8 e3'),
  bmcGuid: hex('00 11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff'),
  role: 0x14, userName: Buffer.from('admin'),
};
const password = Buffer.from('password');

describe('RAKP and session keys (reference 3.4–3.6)', () => {
  it('suite 3: RAKP2 HMAC, RAKP3 HMAC, SIK, K1, K2, RAKP4 ICV as captured', () => {
    expect(rakp2Hmac(sha1, password, v1)).toEqual(hex('68 39 04 d9 a6 fb 23 27 af 02 00 ba d4 c8 3c 06 cc 04 49 e9'));
    expect(rakp3Hmac(sha1, password, v1)).toEqual(hex('6f b8 f0 23 d8 7c 8e ee 6b 7b a7 aa 0d b6 d0 c8 b5 ed f6 92'));
    const k = deriveSessionKeys(sha1, password, null, v1);
    expect(k.sik).toEqual(hex('dc 80 82 54 3a e2 73 7c 73 eb d5 cb 9d cf 8c c1 cf 6d f7 65'));
    expect(k.k1).toEqual(hex('14 e8 63 9b bb 87 08 fa e1 c0 ab 83 31 1a bb 7c d5 bf 80 81'));
    expect(k.k2).toEqual(hex('1d a9 6c bc 8c 23 26 57 c2 87 b8 92 65 93 a2 e7 e9 21 19 c6'));
    expect(rakp4Icv(sha1, k.sik, v1)).toEqual(hex('34 6b bd 40 40 43 9f b9 7f da 7d 70'));
  });
  it('suite 17: 32-byte keys from 20-byte constants, 16-byte RAKP4 ICV', () => {
    expect(rakp2Hmac(sha256, password, v2)).toEqual(hex('9f 6e 28 cc c8 09 78 49 b3 79 0a 43 7e 71 b1 03 23 03 20 ee 85 5a 56 ba eb 32 20 76 ec b1 75 b6'));
    expect(rakp3Hmac(sha256, password, v2)).toEqual(hex('c1 46 35 47 f7 09 66 40 3a bb de ae d6 53 40 84 8c 05 e6 c1 b0 7d 9b 3d dd af 6e ae 7f 30 2d 87'));
    const k = deriveSessionKeys(sha256, password, null, v2);
    expect(k.sik).toEqual(hex('cb a1 c6 95 aa d5 13 b9 7f 13 fd 41 ad eb bb 30 a9 c1 37 57 e3 0c 60 3a f8 ec ee fd 27 2f d3 fa'));
    expect(k.k1).toEqual(hex('0b 7f 87 a8 ee 3b 48 97 5f 95 1a da 94 26 f5 3b f9 d1 45 4f 58 7b 72 7d fa b8 0c 80 d8 ee 58 3a'));
    expect(k.k2).toEqual(hex('a0 a0 6b 80 1a 3c 6f 96 65 7a 3f 13 f9 94 03 66 8a 35 f1 4e be 7b 5a ce 88 02 15 77 ee da 06 82'));
    expect(rakp4Icv(sha256, k.sik, v2)).toEqual(hex('99 94 23 a6 3e 2a 20 e0 42 db ce d0 c5 4f e7 d3'));
  });
  it('keys SIK with Kg when one is configured', () => {
    expect(deriveSessionKeys(sha1, password, Buffer.alloc(20, 7), v1).sik).not.toEqual(deriveSessionKeys(sha1, password, null, v1).sik);
  });
});

describe('AES-CBC-128 confidentiality (reference 4.2)', () => {
  const k2 = hex('1d a9 6c bc 8c 23 26 57 c2 87 b8 92 65 93 a2 e7');
  it('trailer is 01 02 .. N then N, to a multiple of 16', () => {
    expect(confidentialityTrailer(7)).toEqual(hex('01 02 03 04 05 06 07 08 08'));
    expect(confidentialityTrailer(15)).toEqual(hex('00'));
    for (let n = 0; n < 64; n++) expect((n + confidentialityTrailer(n).length) % 16).toBe(0);
  });
  it('decrypts the captured request (Vector 1 #9) and re-encrypts the captured reply (#10)', () => {
    const v = loadVector(1);
    const req = v.get(9)!.subarray(16, 48);
    expect(decryptAesCbc128(k2, req)).toEqual(hex('20 18 c8 81 04 3b 04 3c'));
    const reply = v.get(10)!.subarray(16, 48);
    expect(encryptAesCbc128(k2, reply.subarray(0, 16), hex('81 1c 63 20 04 3b 00 04 9d'))).toEqual(reply);
  });
  it('refuses a wrong trailer, a wrong length and an empty payload', () => {
    expect(() => stripConfidentialityTrailer(hex('aa 01 03 02'))).toThrow(ProtocolError);
    expect(() => stripConfidentialityTrailer(hex('aa 10'))).toThrow(ProtocolError);
    expect(() => decryptAesCbc128(k2, Buffer.alloc(17))).toThrow(ProtocolError);
    expect(() => decryptAesCbc128(k2, Buffer.alloc(16))).toThrow(ProtocolError);
    expect(() => stripConfidentialityTrailer(Buffer.alloc(0))).toThrow(ProtocolError);
  });
  it('equals OpenSSL\'s AES-128-CBC for every length, with keys used in turn and after a refused payload', () => {
    const keys = [randomBytes(20), randomBytes(20), randomBytes(32)];
    for (let length = 0; length < 70; length++) {
      for (const key of keys) {
        const iv = randomBytes(16);
        const plain = randomBytes(length);
        const ours = encryptAesCbc128(key, iv, plain);
        const openssl = createCipheriv('aes-128-cbc', key.subarray(0, 16), iv).setAutoPadding(false);
        const padded = Buffer.concat([plain, confidentialityTrailer(length)]);
        expect(ours).toEqual(Buffer.concat([iv, openssl.update(padded), openssl.final()]));
        expect(() => decryptAesCbc128(key, ours.subarray(0, 17))).toThrow(ProtocolError);
        expect(decryptAesCbc128(key, ours)).toEqual(plain);
      }
    }
  });
  it('follows a key Buffer changed in place', () => {
    const key = Buffer.alloc(20, 1);
    const iv = Buffer.alloc(16, 7);
    const before = encryptAesCbc128(key, iv, Buffer.from('same'));
    key.fill(2);
    const after = encryptAesCbc128(key, iv, Buffer.from('same'));
    expect(after).not.toEqual(before);
    expect(decryptAesCbc128(Buffer.alloc(20, 2), after)).toEqual(Buffer.from('same'));
  });
});

describe('IPMI 1.5 AuthCode (reference 6.3)', () => {
  it('verifies the captured MD5 AuthCode of Activate Session (Vector 3 #7)', () => {
    const pkt = loadVector(3).get(7)!;
    const sessionId = pkt.readUInt32LE(9);
    const sequence = pkt.readUInt32LE(5);
    const msgLen = pkt[29]!;
    const message = pkt.subarray(30, 30 + msgLen);
    expect(authCode15(2, password, sessionId, message, sequence)).toEqual(pkt.subarray(13, 29));
  });
  it('straight password is the NUL-padded password; none and MD2 are not accepted', () => {
    expect(authCode15(4, password, 1, Buffer.alloc(0), 1)).toEqual(Buffer.concat([password, Buffer.alloc(8)]));
    expect(authCode15(0, password, 1, Buffer.alloc(0), 1)).toBeUndefined();
    expect(authCode15(1, password, 1, Buffer.alloc(0), 1)).toBeUndefined();
  });
});

describe('IPMI_CIPHER_SUITES', () => {
  it('accepts the supported suites and refuses 0 and unknown ones with a reason', () => {
    expect(parseCipherSuiteList('3,17').map((s) => s.id)).toEqual([3, 17]);
    expect(parseCipherSuiteList(' 1, 2,3,15,16,17 ').map((s) => s.id)).toEqual([1, 2, 3, 15, 16, 17]);
    expect(() => parseCipherSuiteList('0,3')).toThrow(/suite 0/);
    expect(() => parseCipherSuiteList('3,6')).toThrow(/not supported/);
    expect(() => parseCipherSuiteList('x')).toThrow(/not a number/);
    expect(() => parseCipherSuiteList('')).toThrow(/empty/);
  });
});
