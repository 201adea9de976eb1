/**
 * RAKP messages 1–4 (IPMI v2.0 sections 13.20–13.23, tables 13-11 .. 13-14; reference 3.3–3.6).
 *
 * RAKP1 (28+ULEN): 0 tag | 1 reserved(3) | 4 BMC session id | 8 Rm(16) | 24 role | 25 reserved(2) | 27 ULEN | 28 name
 * RAKP2 (40+HMAC, 8 on error): 0 tag | 1 status | 2 reserved(2) | 4 console session id | 8 Rc(16) | 24 GUID(16) | 40 HMAC
 * RAKP3 (8+HMAC): 0 tag | 1 status | 2 reserved(2) | 4 BMC session id | 8 HMAC
 * RAKP4 (8+ICV): 0 tag | 1 status | 2 reserved(2) | 4 console session id | 8 ICV
 */
import { ByteReader } from '../wire/byte-reader';
import { ByteWriter } from '../wire/byte-writer';

export const RAKP_RANDOM_LENGTH = 16;
export const GUID_LENGTH = 16;
export const MAX_USER_NAME_LENGTH = 16;
/** Role byte bit 4: 1 = name-only lookup, 0 = name + privilege lookup. */
export const ROLE_NAME_ONLY_LOOKUP = 0x10;
export const ROLE_PRIVILEGE_MASK = 0x0f;

export interface Rakp1 {
  readonly kind: 'rakp1';
  readonly tag: number;
  readonly bmcSessionId: number;
  readonly consoleRandom: Buffer;
  readonly role: number;
  /** The declared length; may exceed the bytes present or 16 (the caller answers "invalid name length"). */
  readonly userNameLength: number;
  readonly userName: Buffer;
}

export function decodeRakp1(payload: Buffer): Rakp1 {
  const r = new ByteReader(payload);
  const tag = r.u8();
  r.skip(3);
  const bmcSessionId = r.u32le();
  const consoleRandom = r.bytes(RAKP_RANDOM_LENGTH);
  const role = r.u8();
  r.skip(2);
  const userNameLength = r.u8();
  const userName = r.bytes(Math.min(userNameLength, r.remaining));
  return { kind: 'rakp1', tag, bmcSessionId, consoleRandom, role, userNameLength, userName };
}

export interface Rakp3 {
  readonly kind: 'rakp3';
  readonly tag: number;
  readonly status: number;
  readonly bmcSessionId: number;
  readonly authCode: Buffer;
}

export function decodeRakp3(payload: Buffer): Rakp3 {
  const r = new ByteReader(payload);
  const tag = r.u8();
  const status = r.u8();
  r.skip(2);
  const bmcSessionId = r.u32le();
  return { kind: 'rakp3', tag, status, bmcSessionId, authCode: r.rest() };
}

/** RAKP2 and RAKP4 share their first 8 bytes; `body` follows (Rc|GUID|HMAC or ICV), absent on error. */
export function encodeRakpReply(tag: number, status: number, consoleSessionId: number, body: Buffer[] = []): Buffer {
  const w = new ByteWriter(80);
  w.u8(tag).u8(status).u16le(0).u32le(consoleSessionId);
  if (status === 0) for (const b of body) w.bytes(b);
  return w.toBuffer();
}

/** Client side (the project's own IPMI client and tests). */
export function encodeRakp1(o: Omit<Rakp1, 'kind' | 'userNameLength'>): Buffer {
  const w = new ByteWriter(44);
  w.u8(o.tag).fill(0, 3).u32le(o.bmcSessionId).bytes(o.consoleRandom).u8(o.role).u16le(0).u8(o.userName.length).bytes(o.userName);
  return w.toBuffer();
}

export function encodeRakp3(o: Omit<Rakp3, 'kind'>): Buffer {
  const w = new ByteWriter(48);
  w.u8(o.tag).u8(o.status).u16le(0).u32le(o.bmcSessionId).bytes(o.authCode);
  return w.toBuffer();
}

export interface RakpReply {
  readonly tag: number;
  readonly status: number;
  readonly consoleSessionId: number;
  readonly body: Buffer;
}

export function decodeRakpReply(payload: Buffer): RakpReply {
  const r = new ByteReader(payload);
  const tag = r.u8();
  const status = r.u8();
  r.skip(2);
  return { tag, status, consoleSessionId: r.u32le(), body: r.rest() };
}
