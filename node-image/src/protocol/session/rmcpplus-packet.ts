/**
 * IPMI 2.0 / RMCP+ session packet (IPMI v2.0 section 13.6, table 13-8; reference 1.4, 4.1).
 *
 * 0 RMCP header (4) | 4 auth type 0x06 | 5 payload type (bit7 encrypted, bit6 authenticated, 5:0 type)
 * [6 OEM IANA (4) + OEM payload id (2), payload type 0x02 only]
 * 6 session id (u32le) | 10 session sequence (u32le) | 14 payload length (u16le) | 16 payload
 * if authenticated: integrity pad 0xFF x (0..3) | pad length | next header 0x07 | AuthCode (12/16)
 * Integrity covers offset 4 .. next header; pad makes that a multiple of 4.
 */
import { timingSafeEqual } from 'node:crypto';
import { ProtocolError, ProtocolErrorCode } from '../errors';
import { ByteReader } from '../wire/byte-reader';
import { ByteWriter } from '../wire/byte-writer';
import { encodeRmcpHeader, RMCP_HEADER_LENGTH, RmcpClass } from '../rmcp';
import { PayloadType } from '../netfn';
import { hmac } from '../crypto/session-keys';
import type { IntegrityAlgorithmInfo } from '../crypto/cipher-suites';

export const AUTH_TYPE_RMCPPLUS = 0x06;
const PAYLOAD_ENCRYPTED = 0x80;
const PAYLOAD_AUTHENTICATED = 0x40;
const PAYLOAD_TYPE_MASK = 0x3f;
const NEXT_HEADER = 0x07;
const INTEGRITY_PAD_BYTE = 0xff;
/** auth type + payload type + session id + sequence + length. */
const SESSION_HEADER_LENGTH = 12;

export interface RmcpPlusPacket {
  readonly kind: 'rmcpplus';
  readonly encrypted: boolean;
  readonly authenticated: boolean;
  readonly payloadType: number;
  readonly sessionId: number;
  readonly sequence: number;
  /** Payload as sent (IV + ciphertext when encrypted). */
  readonly payload: Buffer;
  /** Bytes covered by the AuthCode (auth type .. next header); empty when not authenticated. */
  readonly integrityData: Buffer;
  /** Last bytes of the datagram when authenticated; length fixed by the session's algorithm. */
  readonly trailerAfterPayload: Buffer;
}

/**
 * Decodes the session header and payload. `datagram` is the whole UDP payload; `r` is positioned
 * after the RMCP header. The AuthCode is not checked here (its length depends on the session).
 */
export function decodeRmcpPlusPacket(datagram: Buffer, r: ByteReader): RmcpPlusPacket {
  const authType = r.u8();
  if (authType !== AUTH_TYPE_RMCPPLUS) throw new ProtocolError(ProtocolErrorCode.Malformed, { field: 'authType', value: authType });
  const pt = r.u8();
  const payloadType = pt & PAYLOAD_TYPE_MASK;
  if (payloadType === PayloadType.OemExplicit) r.skip(6);
  const sessionId = r.u32le();
  const sequence = r.u32le();
  const length = r.u16le();
  const payloadStart = r.offset;
  const payload = r.bytes(length);
  const authenticated = (pt & PAYLOAD_AUTHENTICATED) !== 0;
  const trailer = r.rest();
  return {
    kind: 'rmcpplus',
    encrypted: (pt & PAYLOAD_ENCRYPTED) !== 0,
    authenticated,
    payloadType,
    sessionId,
    sequence,
    payload,
    integrityData: authenticated ? Buffer.from(datagram.subarray(RMCP_HEADER_LENGTH, payloadStart + length)) : Buffer.alloc(0),
    trailerAfterPayload: trailer,
  };
}

/** Integrity pad length for a payload of this many bytes. */
export function integrityPadLength(payloadLength: number): number {
  return (4 - ((SESSION_HEADER_LENGTH + payloadLength + 2) % 4)) % 4;
}

/**
 * Verifies the AuthCode of an authenticated packet: trailer = pad (0xFF..) | pad length | 0x07 | AuthCode.
 * Constant-time comparison. Returns false on any structural mismatch.
 */
export function verifyIntegrity(p: RmcpPlusPacket, alg: IntegrityAlgorithmInfo, k1: Buffer): boolean {
  if (!alg.hash) return false;
  const t = p.trailerAfterPayload;
  const codeLength = alg.authCodeLength;
  const padLength = integrityPadLength(p.payload.length);
  if (t.length !== padLength + 2 + codeLength) return false;
  for (let i = 0; i < padLength; i++) if (t[i] !== INTEGRITY_PAD_BYTE) return false;
  if (t[padLength] !== padLength || t[padLength + 1] !== NEXT_HEADER) return false;
  const covered = Buffer.concat([p.integrityData, t.subarray(0, padLength + 2)]);
  const expected = hmac(alg.hash, k1, covered).subarray(0, codeLength);
  return timingSafeEqual(expected, t.subarray(padLength + 2));
}

export interface RmcpPlusOutbound {
  readonly payloadType: number;
  readonly sessionId: number;
  readonly sequence: number;
  /** Payload as it goes on the wire (already encrypted when `encrypted`). */
  readonly payload: Buffer;
  readonly encrypted: boolean;
  /** Integrity to apply, or null for an unauthenticated packet. */
  readonly integrity: { readonly alg: IntegrityAlgorithmInfo; readonly k1: Buffer } | null;
}

export function encodeRmcpPlusPacket(o: RmcpPlusOutbound): Buffer {
  const w = new ByteWriter(32 + o.payload.length);
  encodeRmcpHeader(w, RmcpClass.Ipmi);
  const authenticated = o.integrity !== null && o.integrity.alg.hash !== null;
  w.u8(AUTH_TYPE_RMCPPLUS)
    .u8((o.encrypted ? PAYLOAD_ENCRYPTED : 0) | (authenticated ? PAYLOAD_AUTHENTICATED : 0) | (o.payloadType & PAYLOAD_TYPE_MASK))
    .u32le(o.sessionId)
    .u32le(o.sequence)
    .u16le(o.payload.length)
    .bytes(o.payload);
  if (authenticated && o.integrity && o.integrity.alg.hash) {
    const pad = integrityPadLength(o.payload.length);
    w.fill(INTEGRITY_PAD_BYTE, pad).u8(pad).u8(NEXT_HEADER);
    const soFar = w.toBuffer();
    const code = hmac(o.integrity.alg.hash, o.integrity.k1, soFar.subarray(RMCP_HEADER_LENGTH)).subarray(0, o.integrity.alg.authCodeLength);
    w.bytes(code);
  }
  return w.toBuffer();
}
