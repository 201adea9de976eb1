/**
 * AES-CBC-128 confidentiality (IPMI v2.0 section 13.29, table 13-20; reference 4.2).
 * Payload field = IV(16) | AES-128-CBC(K2[0:16], IV, plaintext | 01 02 .. N | N); no PKCS#7.
 *
 * CBC is chained here over one AES-128-ECB cipher and decipher per K2, made at the key's first use
 * and kept as long as the key: a Node cipher cannot be given a new IV, and making one per packet
 * (OpenSSL setting up its context) costs more than the AES of a small IPMI packet. Without padding
 * and fed whole blocks, an ECB context holds nothing back between calls, so it can serve every
 * packet of a session.
 */
import { createCipheriv, createDecipheriv, type Cipher, type Decipher } from 'node:crypto';
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

interface BlockCiphers {
  readonly key: Buffer;
  readonly encrypt: Cipher;
  readonly decrypt: Decipher;
}

const blockCiphers = new WeakMap<Buffer, BlockCiphers>();

/** The ECB cipher pair of K2's first 16 bytes (remade when the Buffer was changed in place). */
function ciphersOf(k2: Buffer): BlockCiphers {
  const cached = blockCiphers.get(k2);
  if (cached !== undefined && cached.key.equals(k2.subarray(0, AES_KEY_LENGTH))) return cached;
  const key = secretKey(k2, AES_KEY_LENGTH);
  const encrypt = createCipheriv('aes-128-ecb', key, null);
  encrypt.setAutoPadding(false);
  const decrypt = createDecipheriv('aes-128-ecb', key, null);
  decrypt.setAutoPadding(false);
  const made: BlockCiphers = { key: Buffer.from(k2.subarray(0, AES_KEY_LENGTH)), encrypt, decrypt };
  blockCiphers.set(k2, made);
  return made;
}

export function encryptAesCbc128(k2: Buffer, iv: Buffer, plaintext: Buffer): Buffer {
  if (iv.length !== AES_BLOCK) throw new RangeError(`AES-CBC IV must be ${AES_BLOCK} bytes, not ${iv.length}`);
  const { encrypt } = ciphersOf(k2);
  const trailer = confidentialityTrailer(plaintext.length);
  const out = Buffer.allocUnsafe(AES_BLOCK + plaintext.length + trailer.length);
  iv.copy(out, 0);
  plaintext.copy(out, AES_BLOCK);
  trailer.copy(out, AES_BLOCK + plaintext.length);
  // C[i] = E(P[i] xor C[i-1]), C[-1] = IV: each block is XORed in place with the one before, then replaced by its cipher text.
  for (let at = AES_BLOCK; at < out.length; at += AES_BLOCK) {
    for (let i = 0; i < AES_BLOCK; i++) out[at + i]! ^= out[at - AES_BLOCK + i]!;
    encrypt.update(out.subarray(at, at + AES_BLOCK)).copy(out, at);
  }
  return out;
}

export function decryptAesCbc128(k2: Buffer, payload: Buffer): Buffer {
  if (payload.length < 2 * AES_BLOCK || payload.length % AES_BLOCK !== 0) {
    throw new ProtocolError(ProtocolErrorCode.BadPadding, { reason: 'length', length: payload.length });
  }
  // P[i] = D(C[i]) xor C[i-1], C[-1] = IV (the payload's first block).
  const padded = ciphersOf(k2).decrypt.update(payload.subarray(AES_BLOCK));
  for (let i = 0; i < padded.length; i++) padded[i]! ^= payload[i]!;
  return stripConfidentialityTrailer(padded);
}
