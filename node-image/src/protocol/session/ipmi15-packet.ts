/**
 * IPMI 1.5 session packet (IPMI v2.0 section 13.6, table 13-4; reference 1.3).
 *
 * 0 RMCP header (4) | 4 auth type | 5 session sequence (u32le) | 9 session id (u32le)
 * [13 AuthCode (16), only when auth type != none] | message length | IPMI message | (legacy pad tolerated)
 */
import { ProtocolError, ProtocolErrorCode } from '../errors';
import { ByteReader } from '../wire/byte-reader';
import { ByteWriter } from '../wire/byte-writer';
import { encodeRmcpHeader, RmcpClass } from '../rmcp';
import { AUTH_CODE_15_LENGTH, AuthType15 } from '../crypto/auth15';

export interface Ipmi15Packet {
  readonly kind: 'ipmi15';
  readonly authType: number;
  readonly sequence: number;
  readonly sessionId: number;
  readonly authCode: Buffer | null;
  readonly message: Buffer;
}

const AUTH_TYPE_MASK = 0x3f;

export function decodeIpmi15Packet(r: ByteReader): Ipmi15Packet {
  const authType = r.u8() & AUTH_TYPE_MASK;
  if (authType > AuthType15.Oem || authType === 3) throw new ProtocolError(ProtocolErrorCode.Malformed, { field: 'authType', value: authType });
  const sequence = r.u32le();
  const sessionId = r.u32le();
  const authCode = authType === AuthType15.None ? null : r.bytes(AUTH_CODE_15_LENGTH);
  const length = r.u8();
  const message = r.bytes(length);
  return { kind: 'ipmi15', authType, sequence, sessionId, authCode, message };
}

export function encodeIpmi15Packet(p: Omit<Ipmi15Packet, 'kind'>): Buffer {
  const w = new ByteWriter(32 + p.message.length);
  encodeRmcpHeader(w, RmcpClass.Ipmi);
  w.u8(p.authType).u32le(p.sequence).u32le(p.sessionId);
  if (p.authType !== AuthType15.None) w.bytes(p.authCode ?? Buffer.alloc(AUTH_CODE_15_LENGTH));
  w.u8(p.message.length).bytes(p.message);
  return w.toBuffer();
}
