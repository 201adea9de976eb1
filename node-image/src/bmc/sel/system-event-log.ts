/**
 * The System Event Log (IPMI v2.0 sections 31–32): a bounded list of 16-byte records kept in the
 * state store as "sel.json" (loaded in the constructor, written after every change).
 *
 * - Capacity: 1024 records by default (16 KiB). The SEL is not a ring: when it is full, new records
 *   are refused (Add SEL Entry answers "out of space") and events the BMC logs itself are dropped;
 *   either sets the overflow flag of Get SEL Info, which only Clear SEL resets (section 31.2).
 * - Record IDs: 0001h upwards, wrapping before FFFFh and skipping IDs still in use; 0000h and FFFFh
 *   are never assigned (they mean "first" and "last" in Get SEL Entry). Clear SEL starts again at 1.
 * - Reservations (section 31.4): Reserve SEL returns a new non-zero ID and cancels the previous one;
 *   Clear SEL cancels it too. Reservations are not persisted (a BMC restart cancels them).
 *   Deleting an entry does not cancel it, so `ipmitool sel delete 1 2 3` works with one reservation.
 * - Time: SEL time = the shell clock (ctx.now) + an offset that Set SEL Time adjusts and the store
 *   keeps. Timestamps are seconds; FFFFFFFFh means "unspecified" (section 37).
 */
import { readJson, type StateStore, writeJson } from '../../state/state-store';
import {
  BMC_GENERATOR_ID,
  encodeSystemEventRecord,
  EVENT_DATA_UNSPECIFIED,
  EVM_REV_IPMI_2_0,
  isTimestampedType,
  RECORD_ID_OFFSET,
  RECORD_TYPE_OFFSET,
  SEL_RECORD_LENGTH,
  TIMESTAMP_OFFSET,
} from './sel-record.codec';
import { BMC_EVENTS, type BmcEventKind, type EventSpec, POWER_EVENTS, type PowerEventKind } from './sel-events';

export const SEL_DOCUMENT = 'sel.json';
export const SEL_DEFAULT_CAPACITY = 1024;
export const SEL_FIRST_ENTRY = 0x0000;
export const SEL_LAST_ENTRY = 0xffff;
export const SEL_TIMESTAMP_UNSPECIFIED = 0xffffffff;
/** Get SEL Info reports free space in a 16-bit field; FFFFh = 65535 bytes or more. */
const FREE_SPACE_MAX = 0xffff;
const MAX_RECORD_ID = 0xfffe;
const DOCUMENT_VERSION = 1;

export interface SelOptions {
  readonly capacity?: number;
}

export interface SelInfo {
  readonly entries: number;
  readonly freeBytes: number;
  readonly lastAddition: number;
  readonly lastErase: number;
  readonly overflow: boolean;
}

export interface SelAllocationInfo {
  readonly totalUnits: number;
  readonly unitSize: number;
  readonly freeUnits: number;
  readonly largestFreeBlock: number;
  readonly maxRecordUnits: number;
}

export type SelAddResult = { readonly ok: true; readonly recordId: number } | { readonly ok: false; readonly error: 'full' };

interface StoredSel {
  version: number;
  nextRecordId: number;
  lastAddition: number;
  lastErase: number;
  overflow: boolean;
  timeOffset: number;
  /** Records as 32 hex digits each. */
  entries: string[];
}

const isU32 = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff;

export class SystemEventLog {
  readonly capacity: number;
  private entries: Buffer[] = [];
  private nextRecordId = 1;
  private lastAddition = SEL_TIMESTAMP_UNSPECIFIED;
  private lastErase = SEL_TIMESTAMP_UNSPECIFIED;
  private overflow = false;
  /** Seconds added to the shell clock to get SEL time. */
  private timeOffset = 0;
  private reservationCounter = 0;
  private activeReservation = 0;
  private addListeners: Array<(record: Buffer) => void> = [];

  constructor(private readonly store: StateStore, options: SelOptions = {}) {
    this.capacity = options.capacity ?? SEL_DEFAULT_CAPACITY;
    if (!Number.isInteger(this.capacity) || this.capacity < 1 || this.capacity > MAX_RECORD_ID) {
      throw new Error(`SEL capacity out of range: ${this.capacity}`);
    }
    this.load();
  }

  // ---- time ----

  /** SEL time in seconds (Get SEL Time). */
  time(nowMs: number): number {
    return Math.min(0xffffffff, Math.max(0, Math.floor(nowMs / 1000) + this.timeOffset));
  }

  /** Set SEL Time: later timestamps follow the given clock. */
  setTime(seconds: number, nowMs: number): void {
    this.timeOffset = seconds - Math.floor(nowMs / 1000);
    this.save();
  }

  // ---- reservations ----

  reserve(): number {
    this.reservationCounter = this.reservationCounter >= 0xffff ? 1 : this.reservationCounter + 1;
    this.activeReservation = this.reservationCounter;
    return this.activeReservation;
  }

  reservationValid(id: number): boolean {
    return id !== 0 && id === this.activeReservation;
  }

  // ---- reading ----

  info(): SelInfo {
    return {
      entries: this.entries.length,
      freeBytes: Math.min(FREE_SPACE_MAX, (this.capacity - this.entries.length) * SEL_RECORD_LENGTH),
      lastAddition: this.lastAddition,
      lastErase: this.lastErase,
      overflow: this.overflow,
    };
  }

  allocationInfo(): SelAllocationInfo {
    const free = this.capacity - this.entries.length;
    return { totalUnits: this.capacity, unitSize: SEL_RECORD_LENGTH, freeUnits: free, largestFreeBlock: free, maxRecordUnits: 1 };
  }

  /** The record with this ID (0000h first, FFFFh last) and the ID of the one after it (FFFFh at the end). */
  get(recordId: number): { readonly record: Buffer; readonly nextRecordId: number } | undefined {
    const index = this.indexOf(recordId);
    if (index === undefined) return undefined;
    const next = this.entries[index + 1];
    return { record: Buffer.from(this.entries[index]!), nextRecordId: next ? recordIdOf(next) : SEL_LAST_ENTRY };
  }

  /** All records in order (copies). */
  list(): Buffer[] {
    return this.entries.map((e) => Buffer.from(e));
  }

  // ---- changes ----

  /**
   * Add SEL Entry (section 31.6): the record ID field is replaced by the assigned ID, and for
   * types 02h and C0h–DFh the timestamp by the current SEL time.
   */
  add(record: Buffer, nowMs: number): SelAddResult {
    if (record.length !== SEL_RECORD_LENGTH) throw new Error(`SEL record must be ${SEL_RECORD_LENGTH} bytes`);
    if (this.entries.length >= this.capacity) {
      if (!this.overflow) {
        this.overflow = true;
        this.save();
      }
      return { ok: false, error: 'full' };
    }
    const now = this.time(nowMs);
    const recordId = this.allocateRecordId();
    const stored = Buffer.from(record);
    stored.writeUInt16LE(recordId, RECORD_ID_OFFSET);
    if (isTimestampedType(stored[RECORD_TYPE_OFFSET]!)) stored.writeUInt32LE(now, TIMESTAMP_OFFSET);
    this.entries.push(stored);
    this.lastAddition = now;
    this.save();
    for (const listener of this.addListeners) listener(Buffer.from(stored));
    return { ok: true, recordId };
  }

  /** Calls `listener` with each record stored from now on (as stored: ID and timestamp filled in). */
  onAdd(listener: (record: Buffer) => void): () => void {
    this.addListeners = [...this.addListeners, listener];
    return () => { this.addListeners = this.addListeners.filter((l) => l !== listener); };
  }

  /** Delete SEL Entry (section 31.8): the deleted record's ID, or undefined when absent. */
  delete(recordId: number, nowMs: number): number | undefined {
    const index = this.indexOf(recordId);
    if (index === undefined) return undefined;
    const [removed] = this.entries.splice(index, 1);
    this.lastErase = this.time(nowMs);
    this.save();
    return recordIdOf(removed!);
  }

  /** Clear SEL (section 31.9): empties the log, resets the overflow flag, cancels the reservation. */
  clear(nowMs: number): void {
    this.entries = [];
    this.nextRecordId = 1;
    this.overflow = false;
    this.activeReservation = 0;
    this.lastErase = this.time(nowMs);
    this.save();
  }

  /** Logs a power transition (see sel-events.ts for the sensor and offset of each kind). */
  recordPowerEvent(kind: PowerEventKind, nowMs: number): number | undefined {
    return this.logEvent(POWER_EVENTS[kind], nowMs);
  }

  /** Logs an event of the BMC itself (restart, clock sync, log cleared). */
  recordBmcEvent(kind: BmcEventKind, nowMs: number): number | undefined {
    return this.logEvent(BMC_EVENTS[kind], nowMs);
  }

  private logEvent(spec: EventSpec, nowMs: number): number | undefined {
    const record = encodeSystemEventRecord({
      recordId: 0,
      timestamp: 0,
      generatorId: BMC_GENERATOR_ID,
      evmRev: EVM_REV_IPMI_2_0,
      sensorType: spec.sensorType,
      sensorNumber: spec.sensorNumber,
      deassertion: false,
      eventType: spec.eventType,
      eventData: [spec.offset & 0x0f, EVENT_DATA_UNSPECIFIED, EVENT_DATA_UNSPECIFIED],
    });
    const result = this.add(record, nowMs);
    return result.ok ? result.recordId : undefined;
  }

  private indexOf(recordId: number): number | undefined {
    if (this.entries.length === 0) return undefined;
    if (recordId === SEL_FIRST_ENTRY) return 0;
    if (recordId === SEL_LAST_ENTRY) return this.entries.length - 1;
    const index = this.entries.findIndex((e) => recordIdOf(e) === recordId);
    return index >= 0 ? index : undefined;
  }

  private allocateRecordId(): number {
    const used = new Set(this.entries.map(recordIdOf));
    let id = this.nextRecordId;
    while (used.has(id)) id = id >= MAX_RECORD_ID ? 1 : id + 1;
    this.nextRecordId = id >= MAX_RECORD_ID ? 1 : id + 1;
    return id;
  }

  // ---- persistence ----

  private load(): void {
    let doc: Partial<StoredSel> | undefined;
    try {
      doc = readJson<Partial<StoredSel>>(this.store, SEL_DOCUMENT);
    } catch {
      doc = undefined; // unreadable document: start with an empty log rather than refuse to start
    }
    if (!doc || doc.version !== DOCUMENT_VERSION || !Array.isArray(doc.entries)) return;
    const seen = new Set<number>();
    for (const hex of doc.entries) {
      if (typeof hex !== 'string' || !/^[0-9a-f]{32}$/i.test(hex)) continue;
      const record = Buffer.from(hex, 'hex');
      const id = recordIdOf(record);
      // IDs 0000h/FFFFh mean first/last and duplicates would be unreachable: skip such records.
      if (id === SEL_FIRST_ENTRY || id === SEL_LAST_ENTRY || seen.has(id)) continue;
      seen.add(id);
      this.entries.push(record);
      if (this.entries.length >= this.capacity) break;
    }
    if (isU32(doc.lastAddition)) this.lastAddition = doc.lastAddition;
    if (isU32(doc.lastErase)) this.lastErase = doc.lastErase;
    this.overflow = doc.overflow === true;
    if (typeof doc.timeOffset === 'number' && Number.isInteger(doc.timeOffset)) this.timeOffset = doc.timeOffset;
    if (typeof doc.nextRecordId === 'number' && doc.nextRecordId >= 1 && doc.nextRecordId <= MAX_RECORD_ID) {
      this.nextRecordId = doc.nextRecordId;
    }
  }

  private save(): void {
    const doc: StoredSel = {
      version: DOCUMENT_VERSION,
      nextRecordId: this.nextRecordId,
      lastAddition: this.lastAddition,
      lastErase: this.lastErase,
      overflow: this.overflow,
      timeOffset: this.timeOffset,
      entries: this.entries.map((e) => e.toString('hex')),
    };
    writeJson(this.store, SEL_DOCUMENT, doc);
  }
}

function recordIdOf(record: Buffer): number {
  return record.readUInt16LE(RECORD_ID_OFFSET);
}
