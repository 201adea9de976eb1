/**
 * RMCP+ Open Session Request/Response (IPMI v2.0 section 13.17–13.18, tables 13-9, 13-10; reference 3.1–3.2).
 *
 * Request (32): 0 tag | 1 requested max privilege (3:0) | 2 reserved(2) | 4 console session id (u32le)
 *               8 auth payload | 16 integrity payload | 24 confidentiality payload
 *   each payload: 0 type (0 auth, 1 integ, 2 conf) | 1 reserved(2) | 3 length (8, or 0 = wildcard) | 4 algorithm (5:0) | 5 reserved(3)
 * Response (36, or 8 on error): 0 tag | 1 status | 2 max privilege | 3 reserved | 4 console session id
 *               8 BMC session id (u32le) | 12 auth payload | 20 integrity payload | 28 conf payload
 */
import { ProtocolError, ProtocolErrorCode } from '../errors';
import { ByteReader } from '../wire/byte-reader';
import { ByteWriter } from '../wire/byte-writer';

export const AlgorithmPayloadType = { Authentication: 0x00, Integrity: 0x01, Confidentiality: 0x02 } as const;
const ALGORITHM_PAYLOAD_LENGTH = 8;
const ALGORITHM_MASK = 0x3f;
const PRIVILEGE_MASK = 0x0f;

export interface AlgorithmProposal {
  readonly payloadType: number;
  /** null when the console sent a wildcard (length 0) record. */
  readonly algorithm: number | null;
}

export interface OpenSessionRequest {
  readonly kind: 'open-session-request';
  readonly tag: number;
  readonly requestedPrivilege: number;
  readonly consoleSessionId: number;
  readonly auth: AlgorithmProposal;
  readonly integrity: AlgorithmProposal;
  readonly confidentiality: AlgorithmProposal;
}

function decodeProposal(r: ByteReader): AlgorithmProposal {
  const payloadType = r.u8();
  r.skip(2);
  const length = r.u8();
  if (length === 0) {
    // Wildcard records still occupy 8 bytes in every client seen; accept the short form too.
    if (r.remaining >= 4) r.skip(4);
    return { payloadType, algorithm: null };
  }
  if (length !== ALGORITHM_PAYLOAD_LENGTH) throw new ProtocolError(ProtocolErrorCode.Malformed, { field: 'algorithm.length', value: length });
  const algorithm = r.u8() & ALGORITHM_MASK;
  r.skip(3);
  return { payloadType, algorithm };
}

export function decodeOpenSessionRequest(payload: Buffer): OpenSessionRequest {
  const r = new ByteReader(payload);
  const tag = r.u8();
  const requestedPrivilege = r.u8() & PRIVILEGE_MASK;
  r.skip(2);
  const consoleSessionId = r.u32le();
  return {
    kind: 'open-session-request',
    tag,
    requestedPrivilege,
    consoleSessionId,
    auth: decodeProposal(r),
    integrity: decodeProposal(r),
    confidentiality: decodeProposal(r),
  };
}

export interface OpenSessionResponse {
  readonly tag: number;
  readonly status: number;
  readonly maxPrivilege: number;
  readonly consoleSessionId: number;
  /** Present only when status is 0. */
  readonly accepted?: { readonly bmcSessionId: number; readonly auth: number; readonly integrity: number; readonly confidentiality: number };
}

function encodeProposal(w: ByteWriter, type: number, algorithm: number): void {
  w.u8(type).u8(0).u8(0).u8(ALGORITHM_PAYLOAD_LENGTH).u8(algorithm).u8(0).u8(0).u8(0);
}

export function encodeOpenSessionResponse(o: OpenSessionResponse): Buffer {
  const w = new ByteWriter(36);
  w.u8(o.tag).u8(o.status).u8(o.accepted ? o.maxPrivilege : 0).u8(0).u32le(o.consoleSessionId);
  if (o.accepted) {
    w.u32le(o.accepted.bmcSessionId);
    encodeProposal(w, AlgorithmPayloadType.Authentication, o.accepted.auth);
    encodeProposal(w, AlgorithmPayloadType.Integrity, o.accepted.integrity);
    encodeProposal(w, AlgorithmPayloadType.Confidentiality, o.accepted.confidentiality);
  }
  return w.toBuffer();
}

/** Client side (used by the project's own IPMI client and tests). */
export function encodeOpenSessionRequest(o: Omit<OpenSessionRequest, 'kind'>): Buffer {
  const w = new ByteWriter(32);
  w.u8(o.tag).u8(o.requestedPrivilege).u16le(0).u32le(o.consoleSessionId);
  encodeProposal(w, AlgorithmPayloadType.Authentication, o.auth.algorithm ?? 0);
  encodeProposal(w, AlgorithmPayloadType.Integrity, o.integrity.algorithm ?? 0);
  encodeProposal(w, AlgorithmPayloadType.Confidentiality, o.confidentiality.algorithm ?? 0);
  return w.toBuffer();
}

export function decodeOpenSessionResponse(payload: Buffer): OpenSessionResponse {
  const r = new ByteReader(payload);
  const tag = r.u8();
  const status = r.u8();
  const maxPrivilege = r.u8() & PRIVILEGE_MASK;
  r.skip(1);
  const consoleSessionId = r.u32le();
  if (status !== 0) return { tag, status, maxPrivilege, consoleSessionId };
  const bmcSessionId = r.u32le();
  const alg = (): number => { r.skip(4); const a = r.u8() & ALGORITHM_MASK; r.skip(3); return a; };
  return { tag, status, maxPrivilege, consoleSessionId, accepted: { bmcSessionId, auth: alg(), integrity: alg(), confidentiality: alg() } };
}
