/**
 * SEL records (IPMI v2.0 section 32, table 32-1 "SEL Event Records"), 16 bytes, little-endian:
 *
 *   0–1  record ID
 *   2    record type (02h system event; C0h–DFh OEM timestamped; E0h–FFh OEM non-timestamped)
 *   3–6  timestamp (seconds, section 37)
 *   7–8  generator ID: byte 7 bits 7:1 slave address or software ID, bit 0 (1 = software ID);
 *        byte 8 bits 7:4 channel, bits 1:0 IPMB LUN
 *   9    event message format revision (04h = IPMI 2.0 / 1.5)
 *   10   sensor type | 11 sensor number
 *   12   bit 7 event direction (1 = deassertion), bits 6:0 event/reading type
 *   13   event data 1 (bits 7:6 data 2 usage, 5:4 data 3 usage, 3:0 offset for discrete events)
 *   14   event data 2 | 15 event data 3
 */
import { ByteReader } from '../../protocol/wire/byte-reader';
import { ByteWriter } from '../../protocol/wire/byte-writer';
import { ProtocolError, ProtocolErrorCode } from '../../protocol/errors';

export const SEL_RECORD_LENGTH = 16;

export const SelRecordType = {
  SystemEvent: 0x02,
  OemTimestampedFirst: 0xc0,
  OemTimestampedLast: 0xdf,
  OemNonTimestampedFirst: 0xe0,
} as const;

/** Generator ID of events the BMC itself logs: its IPMB slave address 20h, channel 0, LUN 0. */
export const BMC_GENERATOR_ID = 0x0020;
/** Event Message revision for IPMI 2.0 (section 29.6). */
export const EVM_REV_IPMI_2_0 = 0x04;
export const EVENT_DIRECTION_DEASSERTION = 0x80;
/** Event data 2 and 3 "unspecified" (event data 1 bits 7:4 = 0). */
export const EVENT_DATA_UNSPECIFIED = 0xff;

export const RECORD_ID_OFFSET = 0;
export const RECORD_TYPE_OFFSET = 2;
export const TIMESTAMP_OFFSET = 3;

export interface SystemEventRecord {
  readonly kind: 'system-event';
  readonly recordId: number;
  readonly timestamp: number;
  readonly generatorId: number;
  readonly evmRev: number;
  readonly sensorType: number;
  readonly sensorNumber: number;
  readonly deassertion: boolean;
  readonly eventType: number;
  readonly eventData: readonly [number, number, number];
}

export interface OemSelRecord {
  readonly kind: 'oem';
  readonly recordId: number;
  readonly recordType: number;
  readonly body: Buffer;
}

export type SelRecord = SystemEventRecord | OemSelRecord;

export function encodeSystemEventRecord(e: Omit<SystemEventRecord, 'kind'>): Buffer {
  return new ByteWriter(SEL_RECORD_LENGTH)
    .u16le(e.recordId)
    .u8(SelRecordType.SystemEvent)
    .u32le(e.timestamp)
    .u16le(e.generatorId)
    .u8(e.evmRev)
    .u8(e.sensorType)
    .u8(e.sensorNumber)
    .u8((e.deassertion ? EVENT_DIRECTION_DEASSERTION : 0) | (e.eventType & 0x7f))
    .u8(e.eventData[0]).u8(e.eventData[1]).u8(e.eventData[2])
    .toBuffer();
}

export function decodeSelRecord(record: Buffer): SelRecord {
  if (record.length !== SEL_RECORD_LENGTH) {
    throw new ProtocolError(ProtocolErrorCode.Malformed, { field: 'sel record length', length: record.length });
  }
  const r = new ByteReader(record);
  const recordId = r.u16le();
  const recordType = r.u8();
  if (recordType !== SelRecordType.SystemEvent) return { kind: 'oem', recordId, recordType, body: r.rest() };
  const timestamp = r.u32le();
  const generatorId = r.u16le();
  const evmRev = r.u8();
  const sensorType = r.u8();
  const sensorNumber = r.u8();
  const dirType = r.u8();
  return {
    kind: 'system-event', recordId, timestamp, generatorId, evmRev, sensorType, sensorNumber,
    deassertion: (dirType & EVENT_DIRECTION_DEASSERTION) !== 0, eventType: dirType & 0x7f,
    eventData: [r.u8(), r.u8(), r.u8()],
  };
}

/** Record types the SEL Device timestamps itself on Add SEL Entry (section 31.6). */
export function isTimestampedType(recordType: number): boolean {
  return recordType === SelRecordType.SystemEvent
    || (recordType >= SelRecordType.OemTimestampedFirst && recordType <= SelRecordType.OemTimestampedLast);
}

/** Record types this SEL accepts: 02h and the OEM ranges C0h–FFh. */
export function isSupportedType(recordType: number): boolean {
  return recordType === SelRecordType.SystemEvent || recordType >= SelRecordType.OemTimestampedFirst;
}
