import { ProtocolError } from '../../protocol/errors';
import {
  decodeSelRecord,
  encodeSystemEventRecord,
  isSupportedType,
  isTimestampedType,
  SEL_RECORD_LENGTH,
} from './sel-record.codec';

describe('SEL record codec (table 32-1)', () => {
  const event = {
    recordId: 0x0102,
    timestamp: 0x6b04e695,
    generatorId: 0x0020,
    evmRev: 0x04,
    sensorType: 0x09,
    sensorNumber: 0x07,
    deassertion: false,
    eventType: 0x6f,
    eventData: [0x00, 0xff, 0xff] as const,
  };

  it('encodes the 16 bytes in spec order, little-endian', () => {
    expect(encodeSystemEventRecord(event).toString('hex')).toBe('020102' + '95e6046b' + '2000' + '04' + '09' + '07' + '6f' + '00ffff');
  });

  it('sets the direction bit for a deassertion', () => {
    expect(encodeSystemEventRecord({ ...event, deassertion: true })[12]).toBe(0xef);
  });

  it('round-trips', () => {
    const bytes = encodeSystemEventRecord(event);
    expect(bytes.length).toBe(SEL_RECORD_LENGTH);
    expect(decodeSelRecord(bytes)).toEqual({ kind: 'system-event', ...event, eventData: [0x00, 0xff, 0xff] });
  });

  it('keeps OEM records opaque', () => {
    const oem = Buffer.from('0300e0' + '0102030405060708090a0b0c0d', 'hex');
    expect(decodeSelRecord(oem)).toEqual({ kind: 'oem', recordId: 3, recordType: 0xe0, body: oem.subarray(3) });
  });

  it('throws on a record that is not 16 bytes', () => {
    expect(() => decodeSelRecord(Buffer.alloc(10, 0x02))).toThrow(ProtocolError);
    expect(() => decodeSelRecord(Buffer.alloc(17, 0x02))).toThrow(ProtocolError);
  });

  it('classifies record types (section 31.6)', () => {
    expect([0x02, 0xc0, 0xdf].every(isTimestampedType)).toBe(true);
    expect([0x00, 0x01, 0xe0, 0xff].some(isTimestampedType)).toBe(false);
    expect([0x02, 0xc0, 0xe0, 0xff].every(isSupportedType)).toBe(true);
    expect([0x00, 0x01, 0x03, 0xbf].some(isSupportedType)).toBe(false);
  });
});
