/**
 * The BMC's identity: GUIDs (stable across restarts, kept in the state directory), device ID data.
 * GUIDs are RFC 4122 version-4 UUIDs sent byte-reversed, as IPMI encodes them (reference 7.2), so
 * ipmitool decodes them.
 */
import { readJson, StateStore, writeJson } from '../state/state-store';

export const IDENTITY_DOCUMENT = 'identity.json';

export interface BmcIdentity {
  /** Wire form (16 bytes, IPMI byte order) of the system GUID; also RAKP's GUIDc. */
  readonly systemGuid: Buffer;
  readonly deviceGuid: Buffer;
}

interface StoredIdentity {
  systemGuid: string; // RFC 4122 text
  deviceGuid: string;
}

/** A version-4 UUID text from 16 random bytes. */
export function uuidFromRandom(bytes: Buffer): string {
  const b = Buffer.from(bytes.subarray(0, 16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** IPMI sends the UUID fully byte-reversed relative to its text form. */
export function uuidToWire(uuid: string): Buffer {
  const b = Buffer.from(uuid.replace(/-/g, ''), 'hex');
  if (b.length !== 16) throw new Error(`not a UUID: ${uuid}`);
  return Buffer.from(b.reverse());
}

export function wireToUuid(wire: Buffer): string {
  const h = Buffer.from(wire).reverse().toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function loadOrCreateIdentity(store: StateStore, random: (n: number) => Buffer): BmcIdentity {
  let stored = readJson<StoredIdentity>(store, IDENTITY_DOCUMENT);
  if (!stored || !stored.systemGuid || !stored.deviceGuid) {
    stored = { systemGuid: uuidFromRandom(random(16)), deviceGuid: uuidFromRandom(random(16)) };
    writeJson(store, IDENTITY_DOCUMENT, stored);
  }
  return { systemGuid: uuidToWire(stored.systemGuid), deviceGuid: uuidToWire(stored.deviceGuid) };
}
