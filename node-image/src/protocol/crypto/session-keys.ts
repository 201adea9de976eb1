/**
 * RAKP HMACs and session key derivation (IPMI v2.0 sections 13.28–13.32; reference 3.4–3.6).
 * The only place keys are derived.
 *
 * RAKP2 HMAC = H(Kuid, SIDm | SIDc | Rm | Rc | GUIDc | ROLEm | ULENm | UNAMEm)
 * RAKP3 HMAC = H(Kuid, Rc | SIDm | ROLEm | ULENm | UNAMEm)
 * SIK        = H(Kg or Kuid, Rm | Rc | ROLEm | ULENm | UNAMEm)
 * K1 = H(SIK, 0x01 x 20); K2 = H(SIK, 0x02 x 20)  (20 constant bytes also for SHA-256)
 * RAKP4 ICV  = H(SIK, Rm | SIDc | GUIDc) truncated to the auth algorithm's ICV length
 */
import { createHmac, type KeyObject } from 'node:crypto';
import { secretKey, sharedSecretKey } from './secret-keys';
import type { AuthAlgorithmInfo, HashName } from './cipher-suites';

const KEY_CONSTANT_LENGTH = 20;

export interface RakpParticipants {
  readonly consoleSessionId: number;
  readonly bmcSessionId: number;
  readonly consoleRandom: Buffer; // Rm, 16 bytes
  readonly bmcRandom: Buffer; // Rc, 16 bytes
  readonly bmcGuid: Buffer; // 16 bytes, as sent in Get System GUID
  readonly role: number; // the whole role byte of RAKP1
  readonly userName: Buffer; // exact bytes of RAKP1
}

export function hmac(hash: HashName, key: Buffer | KeyObject, ...parts: Buffer[]): Buffer {
  const h = createHmac(hash, Buffer.isBuffer(key) ? secretKey(key) : key);
  for (const p of parts) h.update(p);
  return h.digest();
}

function u32le(v: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32LE(v >>> 0, 0);
  return b;
}

function roleAndName(p: RakpParticipants): Buffer {
  return Buffer.concat([Buffer.from([p.role, p.userName.length]), p.userName]);
}

export function rakp2Hmac(auth: AuthAlgorithmInfo, kuid: Buffer, p: RakpParticipants): Buffer {
  return hmac(auth.hash, sharedSecretKey(kuid), u32le(p.consoleSessionId), u32le(p.bmcSessionId), p.consoleRandom, p.bmcRandom, p.bmcGuid, roleAndName(p));
}

export function rakp3Hmac(auth: AuthAlgorithmInfo, kuid: Buffer, p: RakpParticipants): Buffer {
  return hmac(auth.hash, sharedSecretKey(kuid), p.bmcRandom, u32le(p.consoleSessionId), roleAndName(p));
}

export interface SessionKeys {
  readonly sik: Buffer;
  readonly k1: Buffer;
  readonly k2: Buffer;
}

export function deriveSessionKeys(auth: AuthAlgorithmInfo, kuid: Buffer, kg: Buffer | null, p: RakpParticipants): SessionKeys {
  const sik = hmac(auth.hash, sharedSecretKey(kg ?? kuid), p.consoleRandom, p.bmcRandom, roleAndName(p));
  const k1 = hmac(auth.hash, sik, Buffer.alloc(KEY_CONSTANT_LENGTH, 0x01));
  const k2 = hmac(auth.hash, sik, Buffer.alloc(KEY_CONSTANT_LENGTH, 0x02));
  return { sik, k1, k2 };
}

export function rakp4Icv(auth: AuthAlgorithmInfo, sik: Buffer, p: RakpParticipants): Buffer {
  return hmac(auth.hash, sik, p.consoleRandom, u32le(p.bmcSessionId), p.bmcGuid).subarray(0, auth.rakp4IcvLength);
}
