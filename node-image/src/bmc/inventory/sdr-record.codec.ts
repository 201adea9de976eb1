/**
 * Sensor Data Records (IPMI v2.0 section 43). Byte numbers below are the spec's, 1-based, within
 * the record; multi-byte fields are little-endian.
 *
 * Header (section 43, all types): 1–2 record ID | 3 SDR version 51h | 4 record type | 5 length of
 * the rest (bytes 6…).
 *
 * Full Sensor Record, type 01h (table 43-1):
 *   6 owner ID (20h = BMC) | 7 owner LUN | 8 sensor number | 9 entity ID | 10 entity instance
 *   11 sensor initialization | 12 sensor capabilities | 13 sensor type | 14 event/reading type
 *   15–16 assertion mask / lower threshold reading mask | 17–18 deassertion mask / upper threshold
 *   reading mask | 19–20 discrete reading mask / readable (19) and settable (20) threshold masks
 *   21 units 1 (bits 7:6 analog data format) | 22 base unit | 23 modifier unit | 24 linearization
 *   25 M low 8 bits | 26 M high 2 bits (7:6), tolerance (5:0) | 27 B low 8 bits | 28 B high 2 bits
 *   (7:6), accuracy low 6 bits | 29 accuracy high 4 bits (7:4), accuracy exp (3:2), direction (1:0)
 *   30 R exponent (7:4), B exponent (3:0), both signed 4-bit | 31 analog characteristic flags
 *   32 nominal | 33 normal max | 34 normal min | 35 sensor max | 36 sensor min
 *   37 upper NR | 38 upper C | 39 upper NC | 40 lower NR | 41 lower C | 42 lower NC thresholds
 *   43 positive hysteresis | 44 negative hysteresis | 45–46 reserved | 47 OEM
 *   48 ID string type/length (C0h | n = 8-bit ASCII) | 49… ID string (n ≤ 16)
 *
 * Event-Only Record, type 03h (table 43-3):
 *   6 owner ID | 7 owner LUN | 8 sensor number | 9 entity ID | 10 entity instance | 11 sensor type
 *   12 event/reading type | 13–14 record sharing | 15 reserved | 16 OEM | 17 ID type/length | 18… ID
 *
 * FRU Device Locator, type 11h (table 43-7):
 *   6 device access address (20h) | 7 FRU device ID | 8 bit 7 logical FRU, 4:3 LUN, 2:0 bus
 *   9 channel (7:4) | 10 reserved | 11 device type (10h = FRU inventory behind a controller)
 *   12 device type modifier | 13 FRU entity ID | 14 FRU entity instance | 15 OEM | 16 ID type/length
 *   17… ID string
 *
 * Management Controller Device Locator, type 12h (table 43-8):
 *   6 device slave address (20h) | 7 channel (3:0) | 8 power state notification / global init
 *   9 device capabilities (Get Device ID byte 6 bits) | 10–12 reserved | 13 entity ID
 *   14 entity instance | 15 OEM | 16 ID type/length | 17… ID string
 */
import { ByteReader } from '../../protocol/wire/byte-reader';
import { ByteWriter } from '../../protocol/wire/byte-writer';
import { ProtocolError, ProtocolErrorCode } from '../../protocol/errors';
import { EventReadingType } from './sensor-types';
import type { DiscreteSensor, EventOnlySensor, LinearConversion, SensorThresholds, ThresholdSensor } from './sensors';
import { readableThresholdMask } from './sensors';

export const SDR_VERSION = 0x51;
export const SDR_HEADER_LENGTH = 5;
export const SDR_ID_STRING_MAX = 16;
/** Owner ID / slave address of the BMC on the IPMB (section 5.5). */
export const BMC_SLAVE_ADDRESS = 0x20;

export const SdrRecordType = {
  FullSensor: 0x01,
  CompactSensor: 0x02,
  EventOnly: 0x03,
  FruDeviceLocator: 0x11,
  McDeviceLocator: 0x12,
} as const;

/** Type/length byte of an 8-bit ASCII + Latin-1 ID string (section 43.15). */
const ID_TYPE_8BIT_ASCII = 0xc0;
const ID_LENGTH_MASK = 0x1f;

/** Sensor initialization byte 11 (table 43-1). */
const Init = {
  ScanningEnabled: 0x01,
  EventsEnabled: 0x02,
  InitSensorType: 0x04,
  InitHysteresis: 0x08,
  InitThresholds: 0x10,
  InitEvents: 0x20,
  InitScanning: 0x40,
} as const;

/** Sensor capabilities byte 12 (table 43-1). */
const Caps = {
  AutoRearm: 0x40,
  HysteresisReadable: 0x10,
  ThresholdsReadable: 0x04,
  /** Bits 1:0 = 11b: the sensor generates no event messages. */
  NoEvents: 0x03,
  /** Bits 1:0 = 01b: events enabled/disabled for the entire sensor only. */
  EntireSensorOnly: 0x01,
} as const;

/** Units 1 byte 21: analog data format bits 7:6 (00b unsigned, 11b no analog reading). */
const UNITS_UNSIGNED = 0x00;
const UNITS_NO_ANALOG = 0xc0;
const LINEAR = 0x00;
/** Analog characteristic flags byte 31. */
const AnalogFlag = { Nominal: 0x01, NormalMax: 0x02, NormalMin: 0x04 } as const;
/** Sensor direction "input" (byte 29 bits 1:0 = 01b). */
const DIRECTION_INPUT = 0x01;
/** Byte 16 / 18 bits 14:12 "threshold comparison returned" masks (as 16-bit words, bits 12–14). */
const COMPARISON_SHIFT = 12;

/** FRU Device Locator byte 8: logical FRU device; byte 11: device type 10h. */
const FRU_LOGICAL = 0x80;
export const FRU_DEVICE_TYPE_LOGICAL = 0x10;

export interface McLocatorInfo {
  readonly name: string;
  readonly capabilities: number;
  readonly entityId: number;
  readonly entityInstance: number;
}

export interface FruLocatorInfo {
  readonly name: string;
  readonly fruDeviceId: number;
  readonly entityId: number;
  readonly entityInstance: number;
}

function idString(name: string): Buffer {
  const text = Buffer.from(name, 'latin1').subarray(0, SDR_ID_STRING_MAX);
  return Buffer.concat([Buffer.from([ID_TYPE_8BIT_ASCII | text.length]), text]);
}

function withHeader(recordId: number, type: number, body: Buffer): Buffer {
  return new ByteWriter(SDR_HEADER_LENGTH + body.length)
    .u16le(recordId).u8(SDR_VERSION).u8(type).u8(body.length).bytes(body).toBuffer();
}

/** Signed 10-bit value split into 8 low bits and 2 high bits (bits 7:6 of the next byte). */
function tenBit(v: number): { low: number; high: number } {
  const u = v & 0x3ff;
  return { low: u & 0xff, high: (u >> 8) << 6 };
}

/** Lower/upper threshold reading masks (bytes 15–18) "comparison returned" bits for each threshold. */
function comparisonMasks(t: SensorThresholds): { lower: number; upper: number } {
  let lower = 0;
  let upper = 0;
  if (t.lowerNonCritical !== undefined) lower |= 1 << COMPARISON_SHIFT;
  if (t.lowerCritical !== undefined) lower |= 1 << (COMPARISON_SHIFT + 1);
  if (t.lowerNonRecoverable !== undefined) lower |= 1 << (COMPARISON_SHIFT + 2);
  if (t.upperNonCritical !== undefined) upper |= 1 << COMPARISON_SHIFT;
  if (t.upperCritical !== undefined) upper |= 1 << (COMPARISON_SHIFT + 1);
  if (t.upperNonRecoverable !== undefined) upper |= 1 << (COMPARISON_SHIFT + 2);
  return { lower, upper };
}

export function encodeFullSensorRecord(recordId: number, s: ThresholdSensor | DiscreteSensor): Buffer {
  const w = new ByteWriter(64);
  w.u8(BMC_SLAVE_ADDRESS).u8(0).u8(s.number).u8(s.entityId).u8(s.entityInstance);
  if (s.kind === 'threshold') {
    const hasThresholds = readableThresholdMask(s.thresholds) !== 0;
    w.u8(Init.InitScanning | Init.InitEvents | (hasThresholds ? Init.InitThresholds : 0) | Init.ScanningEnabled);
    // Threshold sensors never generate event messages here; their thresholds are readable, not settable.
    w.u8(Caps.AutoRearm | (s.hysteresis ? Caps.HysteresisReadable : 0) | (hasThresholds ? Caps.ThresholdsReadable : 0) | Caps.NoEvents);
    w.u8(s.sensorType).u8(EventReadingType.Threshold);
    const { lower, upper } = comparisonMasks(s.thresholds);
    w.u16le(lower).u16le(upper);
    w.u8(readableThresholdMask(s.thresholds)).u8(0);
    w.u8(UNITS_UNSIGNED).u8(s.baseUnit).u8(0).u8(LINEAR);
    writeConversion(w, s.conversion);
    const flags = (s.nominal !== undefined ? AnalogFlag.Nominal : 0)
      | (s.normalMax !== undefined ? AnalogFlag.NormalMax : 0)
      | (s.normalMin !== undefined ? AnalogFlag.NormalMin : 0);
    w.u8(flags).u8(s.nominal ?? 0).u8(s.normalMax ?? 0).u8(s.normalMin ?? 0).u8(s.sensorMax).u8(s.sensorMin);
    const t = s.thresholds;
    w.u8(t.upperNonRecoverable ?? 0).u8(t.upperCritical ?? 0).u8(t.upperNonCritical ?? 0)
      .u8(t.lowerNonRecoverable ?? 0).u8(t.lowerCritical ?? 0).u8(t.lowerNonCritical ?? 0);
    w.u8(s.hysteresis).u8(s.hysteresis);
  } else {
    w.u8(Init.InitScanning | Init.InitEvents | Init.EventsEnabled | Init.ScanningEnabled);
    w.u8(Caps.AutoRearm | Caps.EntireSensorOnly);
    w.u8(s.sensorType).u8(s.eventReadingType);
    w.u16le(s.supportedStates).u16le(0).u16le(s.supportedStates);
    w.u8(UNITS_NO_ANALOG).u8(0).u8(0).u8(LINEAR);
    writeConversion(w, { m: 0, b: 0, bExp: 0, rExp: 0 });
    w.u8(0).u8(0).u8(0).u8(0).u8(0xff).u8(0);
    w.fill(0, 6).u8(0).u8(0);
  }
  w.u16le(0).u8(0); // reserved, OEM
  w.bytes(idString(s.name));
  return withHeader(recordId, SdrRecordType.FullSensor, w.toBuffer());
}

function writeConversion(w: ByteWriter, c: LinearConversion): void {
  const m = tenBit(c.m);
  const b = tenBit(c.b);
  w.u8(m.low).u8(m.high); // tolerance 0
  w.u8(b.low).u8(b.high); // accuracy 0
  w.u8(DIRECTION_INPUT);
  w.u8(((c.rExp & 0x0f) << 4) | (c.bExp & 0x0f));
}

export function encodeEventOnlyRecord(recordId: number, s: EventOnlySensor): Buffer {
  const body = new ByteWriter(32)
    .u8(BMC_SLAVE_ADDRESS).u8(0).u8(s.number).u8(s.entityId).u8(s.entityInstance)
    .u8(s.sensorType).u8(s.eventReadingType)
    .u16le(0) // record sharing: not shared
    .u8(0).u8(0) // reserved, OEM
    .bytes(idString(s.name))
    .toBuffer();
  return withHeader(recordId, SdrRecordType.EventOnly, body);
}

export function encodeMcDeviceLocator(recordId: number, mc: McLocatorInfo): Buffer {
  const body = new ByteWriter(32)
    .u8(BMC_SLAVE_ADDRESS).u8(0) // channel 0 (primary IPMB)
    .u8(0) // no ACPI notifications; global initialization: enable event generation and logging
    .u8(mc.capabilities)
    .fill(0, 3)
    .u8(mc.entityId).u8(mc.entityInstance).u8(0)
    .bytes(idString(mc.name))
    .toBuffer();
  return withHeader(recordId, SdrRecordType.McDeviceLocator, body);
}

export function encodeFruDeviceLocator(recordId: number, fru: FruLocatorInfo): Buffer {
  const body = new ByteWriter(32)
    .u8(BMC_SLAVE_ADDRESS).u8(fru.fruDeviceId).u8(FRU_LOGICAL).u8(0).u8(0)
    .u8(FRU_DEVICE_TYPE_LOGICAL).u8(0) // modifier 00h: IPMI FRU Inventory
    .u8(fru.entityId).u8(fru.entityInstance).u8(0)
    .bytes(idString(fru.name))
    .toBuffer();
  return withHeader(recordId, SdrRecordType.FruDeviceLocator, body);
}

// ---- decoding (what a client sees; used by the specs and for diagnostics) ----

export interface SdrHeader {
  readonly recordId: number;
  readonly version: number;
  readonly recordType: number;
  readonly length: number;
}

export type DecodedSdr =
  | (SdrHeader & {
    readonly kind: 'full-sensor';
    readonly ownerId: number; readonly sensorNumber: number; readonly entityId: number; readonly entityInstance: number;
    readonly initialization: number; readonly capabilities: number;
    readonly sensorType: number; readonly eventReadingType: number;
    readonly assertionMask: number; readonly deassertionMask: number; readonly readingMask: number;
    readonly analogFormat: number; readonly baseUnit: number; readonly linearization: number;
    readonly conversion: LinearConversion;
    readonly analogFlags: number; readonly nominal: number; readonly normalMax: number; readonly normalMin: number;
    readonly sensorMax: number; readonly sensorMin: number;
    readonly upperNonRecoverable: number; readonly upperCritical: number; readonly upperNonCritical: number;
    readonly lowerNonRecoverable: number; readonly lowerCritical: number; readonly lowerNonCritical: number;
    readonly positiveHysteresis: number; readonly negativeHysteresis: number;
    readonly idString: string;
  })
  | (SdrHeader & {
    readonly kind: 'event-only';
    readonly ownerId: number; readonly sensorNumber: number; readonly entityId: number; readonly entityInstance: number;
    readonly sensorType: number; readonly eventReadingType: number; readonly idString: string;
  })
  | (SdrHeader & {
    readonly kind: 'fru-locator';
    readonly accessAddress: number; readonly fruDeviceId: number; readonly logical: boolean;
    readonly deviceType: number; readonly deviceTypeModifier: number;
    readonly entityId: number; readonly entityInstance: number; readonly idString: string;
  })
  | (SdrHeader & {
    readonly kind: 'mc-locator';
    readonly slaveAddress: number; readonly channel: number; readonly capabilities: number;
    readonly entityId: number; readonly entityInstance: number; readonly idString: string;
  })
  | (SdrHeader & { readonly kind: 'other'; readonly body: Buffer });

/** Sign-extends an n-bit two's-complement value. */
function signed(v: number, bits: number): number {
  const sign = 1 << (bits - 1);
  return (v & (sign - 1)) - (v & sign);
}

function readIdString(r: ByteReader): string {
  const typeLength = r.u8();
  return r.bytes(typeLength & ID_LENGTH_MASK).toString('latin1');
}

export function decodeSdrHeader(r: ByteReader): SdrHeader {
  return { recordId: r.u16le(), version: r.u8(), recordType: r.u8(), length: r.u8() };
}

/** Decodes one whole record; throws ProtocolError when the length byte disagrees with the bytes. */
export function decodeSdrRecord(record: Buffer): DecodedSdr {
  const r = new ByteReader(record);
  const header = decodeSdrHeader(r);
  if (r.remaining !== header.length) {
    throw new ProtocolError(ProtocolErrorCode.Malformed, { field: 'sdr length', declared: header.length, actual: r.remaining });
  }
  switch (header.recordType) {
    case SdrRecordType.FullSensor: {
      const ownerId = r.u8(); r.u8();
      const sensorNumber = r.u8(); const entityId = r.u8(); const entityInstance = r.u8();
      const initialization = r.u8(); const capabilities = r.u8();
      const sensorType = r.u8(); const eventReadingType = r.u8();
      const assertionMask = r.u16le(); const deassertionMask = r.u16le(); const readingMask = r.u16le();
      const units1 = r.u8(); const baseUnit = r.u8(); r.u8(); const linearization = r.u8();
      const mLow = r.u8(); const mHigh = r.u8(); const bLow = r.u8(); const bHigh = r.u8(); r.u8();
      const exps = r.u8();
      const conversion: LinearConversion = {
        m: signed(mLow | ((mHigh >> 6) << 8), 10),
        b: signed(bLow | ((bHigh >> 6) << 8), 10),
        rExp: signed(exps >> 4, 4),
        bExp: signed(exps & 0x0f, 4),
      };
      const analogFlags = r.u8(); const nominal = r.u8(); const normalMax = r.u8(); const normalMin = r.u8();
      const sensorMax = r.u8(); const sensorMin = r.u8();
      const upperNonRecoverable = r.u8(); const upperCritical = r.u8(); const upperNonCritical = r.u8();
      const lowerNonRecoverable = r.u8(); const lowerCritical = r.u8(); const lowerNonCritical = r.u8();
      const positiveHysteresis = r.u8(); const negativeHysteresis = r.u8();
      r.skip(3);
      return {
        ...header, kind: 'full-sensor', ownerId, sensorNumber, entityId, entityInstance, initialization, capabilities,
        sensorType, eventReadingType, assertionMask, deassertionMask, readingMask,
        analogFormat: units1 >> 6, baseUnit, linearization, conversion,
        analogFlags, nominal, normalMax, normalMin, sensorMax, sensorMin,
        upperNonRecoverable, upperCritical, upperNonCritical, lowerNonRecoverable, lowerCritical, lowerNonCritical,
        positiveHysteresis, negativeHysteresis, idString: readIdString(r),
      };
    }
    case SdrRecordType.EventOnly: {
      const ownerId = r.u8(); r.u8();
      const sensorNumber = r.u8(); const entityId = r.u8(); const entityInstance = r.u8();
      const sensorType = r.u8(); const eventReadingType = r.u8();
      r.skip(4);
      return { ...header, kind: 'event-only', ownerId, sensorNumber, entityId, entityInstance, sensorType, eventReadingType, idString: readIdString(r) };
    }
    case SdrRecordType.FruDeviceLocator: {
      const accessAddress = r.u8(); const fruDeviceId = r.u8(); const access = r.u8(); r.skip(2);
      const deviceType = r.u8(); const deviceTypeModifier = r.u8();
      const entityId = r.u8(); const entityInstance = r.u8(); r.u8();
      return {
        ...header, kind: 'fru-locator', accessAddress, fruDeviceId, logical: (access & FRU_LOGICAL) !== 0,
        deviceType, deviceTypeModifier, entityId, entityInstance, idString: readIdString(r),
      };
    }
    case SdrRecordType.McDeviceLocator: {
      const slaveAddress = r.u8(); const channel = r.u8() & 0x0f; r.u8();
      const capabilities = r.u8(); r.skip(3);
      const entityId = r.u8(); const entityInstance = r.u8(); r.u8();
      return { ...header, kind: 'mc-locator', slaveAddress, channel, capabilities, entityId, entityInstance, idString: readIdString(r) };
    }
    default:
      return { ...header, kind: 'other', body: r.rest() };
  }
}
