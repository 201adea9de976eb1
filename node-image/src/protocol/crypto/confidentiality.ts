/**
 * AES-CBC-128 confidentiality (IPMI v2.0 section 13.29, table 13-20; reference 4.2).
 * Payload field = IV(16) | AES-128-CBC(K2[0:16], IV, plaintext | 01 02 .. N | N); no PKCS#7.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { ProtocolError, ProtocolErrorCode } from '../errors';
import { secretKey } from './secret-keys';

export const AES_BLOCK = 16;
export const AES_KEY_LENGTH = 16;

/** The spec's confidentiality trailer: pad bytes 1..N, then N, so the total is a multiple of 16. */
export function confidentialityTrailer(plaintextLength: number): Buffer {
  const n = (AES_BLOCK - ((plaintextLength + 1) % AES_BLOCK)) % AES_BLOCK;
  const t = Buffer.allocUnsafe(n + 1);
  for (let i = 0; i < n; i++) t[i] = i + 1;
  t[n] = n;
  return t;
}

/** Strips and checks the trailer; pad bytes must be exactly 1..N (clients abort on anything else). */
export function stripConfidentialityTrailer(padded: Buffer): Buffer {
  if (padded.length === 0) throw new ProtocolError(ProtocolErrorCode.BadPadding, { reason: 'empty' });
  const n = padded[padded.length - 1]!;
  if (n >= AES_BLOCK || n + 1 > padded.length) throw new ProtocolError(ProtocolErrorCode.BadPadding, { padLength: n });
  const start = padded.length - 1 - n;
  for (let i = 0; i < n; i++) {
    if (padded[start + i] !== i + 1) throw new ProtocolError(ProtocolErrorCode.BadPadding, { offset: start + i });
  }
  return padded.subarray(0, start);
}

export function encryptAesCbc128(k2: Buffer, iv: Buffer, plaintext: Buffer): Buffer {
  const c = createCipheriv('aes-128-cbc', secretKey(k2, AES_KEY_LENGTH), iv);
  c.setAutoPadding(false);
  const body = Buffer.concat([c.update(Buffer.concat([plaintext, confidentialityTrailer(plaintext.length)])), c.final()]);
  return Buffer.concat([iv, body]);
}

export function decryptAesCbc128(k2: Buffer, payload: Buffer): Buffer {
  if (payload.length < 2 * AES_BLOCK || payload.length % AES_BLOCK !== 0) {
    throw new ProtocolError(ProtocolErrorCode.BadPadding, { reason: 'length', length: payload.length });
  }
  const d = createDecipheriv('aes-128-cbc', secretKey(k2, AES_KEY_LENGTH), payload.subarray(0, AES_BLOCK));
  d.setAutoPadding(false);
  const padded = Buffer.concat([d.update(payload.subarray(AES_BLOCK)), d.final()]);
  return stripConfidentialityTrailer(padded);
}
