/**
 * IPMI 1.5 session AuthCode (IPMI v2.0 section 22.17.1; reference 6.3).
 * straight password: the 16-byte NUL-padded password.
 * MD5/MD2: H(password16 | session id (u32le) | IPMI message | session sequence (u32le) | password16).
 */
import { createHash } from 'node:crypto';

export const AuthType15 = { None: 0x00, Md2: 0x01, Md5: 0x02, Password: 0x04, Oem: 0x05 } as const;
export const AUTH_CODE_15_LENGTH = 16;

export function password16(password: Buffer): Buffer {
  const p = Buffer.alloc(AUTH_CODE_15_LENGTH);
  password.copy(p, 0, 0, AUTH_CODE_15_LENGTH);
  return p;
}

/** Undefined for auth types this BMC does not accept (none, MD2, OEM). */
export function authCode15(authType: number, password: Buffer, sessionId: number, message: Buffer, sequence: number): Buffer | undefined {
  const pw = password16(password);
  if (authType === AuthType15.Password) return pw;
  if (authType !== AuthType15.Md5) return undefined;
  const ids = Buffer.allocUnsafe(8);
  ids.writeUInt32LE(sessionId >>> 0, 0);
  ids.writeUInt32LE(sequence >>> 0, 4);
  return createHash('md5').update(pw).update(ids.subarray(0, 4)).update(message).update(ids.subarray(4)).update(pw).digest();
}
