/**
 * The BMC's SDR repository (IPMI v2.0 section 33): a fixed, firmware-defined set of records built
 * once from the sensor definitions, plus the reservation the spec asks for around partial reads.
 *
 * Record order: MC Device Locator (the BMC itself), optionally a FRU Device Locator for FRU 0, a
 * full sensor record per threshold/discrete sensor, an event-only record per SEL-only sensor. Record
 * IDs run 1…N; never 0 records (ipmitool would try to "rebuild" an empty repository, reference 7.13).
 * FRU 0 needs no locator: `fru print` (ipmitool, FreeIPMI, pyghmi) reads it because Get Device ID
 * reports a FRU inventory device.
 *
 * The repository is read-only: Clear SDR Repository is accepted (reservation and "CLR" checked) and
 * reports "erasure completed", but the built-in records come straight back, as on BMCs that rebuild
 * their SDRs from firmware — only the erase/addition timestamps move.
 */
import { ByteReader } from '../../protocol/wire/byte-reader';
import {
  encodeEventOnlyRecord,
  encodeFruDeviceLocator,
  encodeFullSensorRecord,
  encodeMcDeviceLocator,
  decodeSdrHeader,
} from './sdr-record.codec';
import { EntityId } from './sensor-types';
import { defaultSensors, type SensorDefinition, type ThresholdSensor, type DiscreteSensor } from './sensors';

/** Record ID 0000h = first record, FFFFh = last record (section 33.12). */
export const SDR_FIRST_RECORD = 0x0000;
export const SDR_LAST_RECORD = 0xffff;
/** Timestamp value meaning "unspecified" (section 37). */
export const TIMESTAMP_UNSPECIFIED = 0xffffffff;
/** Get SDR "bytes to read" FFh = the entire record. */
export const SDR_READ_ENTIRE_RECORD = 0xff;
/** Largest Get SDR response body we return; every built-in record fits, so FFh always works. */
export const SDR_DEFAULT_MAX_READ = 64;
/** Allocation unit reported by Get SDR Repository Allocation Info. */
export const SDR_ALLOCATION_UNIT = 16;

/** Get Device ID byte 6 bits (section 20.1) this BMC reports; repeated in the MC Device Locator. */
export const DEFAULT_DEVICE_CAPABILITIES = 0x01 | 0x02 | 0x04 | 0x08 | 0x10 | 0x80;

export interface SdrRepositoryOptions {
  /** MC Device Locator ID string (≤ 16 characters). */
  readonly mcName?: string;
  /** Device capabilities byte of the MC Device Locator; keep it equal to Get Device ID byte 6. */
  readonly deviceCapabilities?: number;
  /**
   * When given, adds a FRU Device Locator for FRU 0 with this ID string. Off by default: ipmitool
   * skips such a record and FreeIPMI only takes its name, but pyghmi lists it as a second inventory
   * item beside FRU 0.
   */
  readonly fruLocatorName?: string;
  readonly sensors?: readonly SensorDefinition[];
  /** Largest chunk one Get SDR may return (0xCA above it). */
  readonly maxReadLength?: number;
  /** "Most recent addition" timestamp (seconds); defaults to one derived from the records' bytes. */
  readonly additionTimestamp?: number;
}

/** 2020-01-01T00:00:00Z and one year, the range of the content-derived addition timestamp. */
const CONTENT_TIMESTAMP_BASE = 1_577_836_800;
const CONTENT_TIMESTAMP_SPAN = 365 * 24 * 3600;

/**
 * A stable "most recent addition" time that changes whenever the records do: SDR caches (FreeIPMI
 * keys its cache on record count and these timestamps) then notice a new agent's repository.
 */
export function contentTimestamp(records: readonly Buffer[]): number {
  let hash = 0x811c9dc5; // FNV-1a, 32 bits
  for (const r of records) {
    for (const byte of r) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  }
  return CONTENT_TIMESTAMP_BASE + (hash % CONTENT_TIMESTAMP_SPAN);
}

export interface SdrRepositoryInfo {
  readonly recordCount: number;
  readonly freeSpace: number;
  readonly lastAddition: number;
  readonly lastErase: number;
}

export interface SdrAllocationInfo {
  readonly totalUnits: number;
  readonly unitSize: number;
  readonly freeUnits: number;
  readonly largestFreeBlock: number;
  readonly maxRecordUnits: number;
}

export type SdrReadResult =
  | { readonly ok: true; readonly nextRecordId: number; readonly data: Buffer }
  | { readonly ok: false; readonly error: 'reservation' | 'not-present' | 'offset' | 'too-long' };

/** What every repository built from the same options shares. */
interface SdrTemplate {
  readonly records: readonly Buffer[];
  readonly recordIds: readonly number[];
  readonly sensorsByNumber: ReadonlyMap<number, SensorDefinition>;
  readonly contentTimestamp: number;
}

const SHARED_TEMPLATES = new Map<string, SdrTemplate>();
/** Templates of repositories given the same sensor array (e.g. every BMC of a farm), by its other options. */
const TEMPLATES_BY_SENSORS = new WeakMap<readonly SensorDefinition[], Map<string, SdrTemplate>>();

function buildTemplate(options: SdrRepositoryOptions): SdrTemplate {
  const sensors = options.sensors ?? defaultSensors();
  const sensorsByNumber = new Map<number, SensorDefinition>();
  const records: Buffer[] = [];
  const nextId = (): number => records.length + 1;
  records.push(encodeMcDeviceLocator(nextId(), {
    name: options.mcName ?? 'bmcfleet BMC',
    capabilities: options.deviceCapabilities ?? DEFAULT_DEVICE_CAPABILITIES,
    entityId: EntityId.SystemManagementModule,
    entityInstance: 1,
  }));
  if (options.fruLocatorName !== undefined) {
    records.push(encodeFruDeviceLocator(nextId(), {
      name: options.fruLocatorName,
      fruDeviceId: 0,
      entityId: EntityId.SystemBoard,
      entityInstance: 1,
    }));
  }
  for (const s of sensors) {
    if (sensorsByNumber.has(s.number)) throw new Error(`sensor number 0x${s.number.toString(16)} defined twice`);
    sensorsByNumber.set(s.number, s);
    records.push(s.kind === 'event-only' ? encodeEventOnlyRecord(nextId(), s) : encodeFullSensorRecord(nextId(), s));
  }
  return { records, recordIds: records.map((r) => decodeSdrHeader(new ByteReader(r)).recordId), sensorsByNumber, contentTimestamp: contentTimestamp(records) };
}

export class SdrRepository {
  private readonly records: readonly Buffer[];
  private readonly recordIds: readonly number[];
  private readonly sensorsByNumber: ReadonlyMap<number, SensorDefinition>;
  private readonly maxReadLength: number;
  private reservationCounter = 0;
  /** The reservation that is valid now; 0 when none is. */
  private activeReservation = 0;
  private lastAddition: number;
  private lastErase = TIMESTAMP_UNSPECIFIED;

  constructor(options: SdrRepositoryOptions = {}) {
    this.maxReadLength = options.maxReadLength ?? SDR_DEFAULT_MAX_READ;
    // Firmware-defined records are the same for every BMC built with the default sensors: built once
    // per process and shared (read-only; reads return copies), so a farm of BMCs holds one set.
    // The same holds for repositories given one and the same sensor array.
    const key = `${options.mcName ?? ''}|${options.deviceCapabilities ?? ''}|${options.fruLocatorName ?? '\0'}`;
    let table = SHARED_TEMPLATES;
    if (options.sensors !== undefined) {
      table = TEMPLATES_BY_SENSORS.get(options.sensors) ?? new Map<string, SdrTemplate>();
      TEMPLATES_BY_SENSORS.set(options.sensors, table);
    }
    const shared = table.get(key);
    const template = shared ?? buildTemplate(options);
    if (!shared) table.set(key, template);
    this.records = template.records;
    this.recordIds = template.recordIds;
    this.sensorsByNumber = template.sensorsByNumber;
    this.lastAddition = options.additionTimestamp ?? template.contentTimestamp;
  }

  get recordCount(): number { return this.records.length; }

  /** All records in order (copies), e.g. for diagnostics. */
  allRecords(): Buffer[] { return this.records.map((r) => Buffer.from(r)); }

  /** The sensor with this number, if any (any kind). */
  sensor(number: number): SensorDefinition | undefined {
    return this.sensorsByNumber.get(number);
  }

  /** Sensors that have a reading (threshold or discrete). */
  readableSensor(number: number): ThresholdSensor | DiscreteSensor | undefined {
    const s = this.sensorsByNumber.get(number);
    return s && s.kind !== 'event-only' ? s : undefined;
  }

  info(): SdrRepositoryInfo {
    // Read-only repository: no free space for additions.
    return { recordCount: this.records.length, freeSpace: 0, lastAddition: this.lastAddition, lastErase: this.lastErase };
  }

  allocationInfo(): SdrAllocationInfo {
    const units = this.records.map((r) => Math.ceil(r.length / SDR_ALLOCATION_UNIT));
    return {
      totalUnits: units.reduce((a, b) => a + b, 0),
      unitSize: SDR_ALLOCATION_UNIT,
      freeUnits: 0,
      largestFreeBlock: 0,
      maxRecordUnits: Math.max(...units),
    };
  }

  /** A new reservation (non-zero), cancelling the previous one (section 33.11). */
  reserve(): number {
    this.reservationCounter = this.reservationCounter >= 0xffff ? 1 : this.reservationCounter + 1;
    this.activeReservation = this.reservationCounter;
    return this.activeReservation;
  }

  reservationValid(id: number): boolean {
    return id !== 0 && id === this.activeReservation;
  }

  /**
   * Get SDR (section 33.12). The reservation is only checked for reads at a non-zero offset, as the
   * spec says; `count` 0xFF reads the whole record. A count past the end is shortened to the end.
   */
  read(reservationId: number, recordId: number, offset: number, count: number): SdrReadResult {
    if (offset !== 0 && !this.reservationValid(reservationId)) return { ok: false, error: 'reservation' };
    const index = this.indexOf(recordId);
    if (index === undefined) return { ok: false, error: 'not-present' };
    const record = this.records[index]!;
    if (offset >= record.length) return { ok: false, error: 'offset' };
    const wanted = count === SDR_READ_ENTIRE_RECORD ? record.length - offset : count;
    const length = Math.min(wanted, record.length - offset);
    if (length > this.maxReadLength) return { ok: false, error: 'too-long' };
    const nextRecordId = this.recordIds[index + 1] ?? SDR_LAST_RECORD;
    return { ok: true, nextRecordId, data: Buffer.from(record.subarray(offset, offset + length)) };
  }

  /** Clear SDR Repository: see the file comment; timestamps are SEL-style seconds. */
  clear(nowSeconds: number): void {
    this.activeReservation = 0;
    this.lastErase = nowSeconds >>> 0;
    this.lastAddition = nowSeconds >>> 0;
  }

  private indexOf(recordId: number): number | undefined {
    if (recordId === SDR_FIRST_RECORD) return 0;
    if (recordId === SDR_LAST_RECORD) return this.records.length - 1;
    const index = this.recordIds.indexOf(recordId);
    return index >= 0 ? index : undefined;
  }
}
