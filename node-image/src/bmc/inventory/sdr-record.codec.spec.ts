import { ProtocolError } from '../../protocol/errors';
import {
  decodeSdrRecord,
  encodeEventOnlyRecord,
  encodeFruDeviceLocator,
  encodeFullSensorRecord,
  encodeMcDeviceLocator,
  SdrRecordType,
} from './sdr-record.codec';
import { EntityId, SensorType, SensorUnit } from './sensor-types';
import { defaultSensors, rawToValue, SensorNumber, type ThresholdSensor } from './sensors';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/**
 * Records reassembled from ipmi-captures.md Vector 5 (`sdr list`): the 5-byte header ipmitool reads
 * first, then the chunks that follow (next-record-ID bytes removed).
 */
const CAPTURE = {
  /** ipmi_sim record 1: MC Device Locator "IPMI sim1". */
  simMcLocator: hex('01 00 51 12 14' + '20 00 00 8f 00 00 00 07 01 00 c9 49 50 4d 49 20 73 69 6d 31'),
  /** ipmi_sim record 2: event-only "watchdog" (sensor type 23h Watchdog 2). */
  simEventOnly: hex('02 00 51 03 14' + '20 00 00 07 01 23 6f 00 00 00 00 c8 77 61 74 63 68 64 6f 67'),
  /** ipmi_sim record 3: full sensor "MBTemp" (reads 60h = 96 degrees C in the capture). */
  simFull: hex('03 00 51 01 31'
    + '20 00 01 07 01 45 00 01 01 00 00 00 00 00 00 00 01 00 00 01 00 00 01 01 00 00 00 00 00 ff 00 00'
    + '00 00 00 00 00 00 00 00 00 00 c6 4d 42 54 65 6d 70'),
  /** test BMC record 2: full sensor "Inlet Temp", thresholds 70/80/90 (reads 1Eh = 30 degrees C). */
  miniFull: hex('02 00 51 01 35'
    + '20 00 01 07 01 7f 68 01 01 00 00 00 00 3f 3f 00 01 00 00 01 00 00 00 00 00 00 00 00 00 ff 00 5a'
    + '50 46 00 00 00 02 02 00 00 00 ca 49 6e 6c 65 74 20 54 65 6d 70'),
};

describe('decodeSdrRecord on captured records', () => {
  it('decodes the MC Device Locator', () => {
    expect(decodeSdrRecord(CAPTURE.simMcLocator)).toMatchObject({
      kind: 'mc-locator', recordId: 1, version: 0x51, slaveAddress: 0x20, channel: 0, capabilities: 0x8f,
      entityId: 0x07, entityInstance: 1, idString: 'IPMI sim1',
    });
  });

  it('decodes the event-only record', () => {
    expect(decodeSdrRecord(CAPTURE.simEventOnly)).toMatchObject({
      kind: 'event-only', recordId: 2, sensorType: 0x23, eventReadingType: 0x6f, idString: 'watchdog',
    });
  });

  it('decodes both full sensor records and converts the captured readings', () => {
    const sim = decodeSdrRecord(CAPTURE.simFull);
    if (sim.kind !== 'full-sensor') throw new Error(sim.kind);
    expect(sim).toMatchObject({ sensorNumber: 1, sensorType: SensorType.Temperature, baseUnit: SensorUnit.DegreesC, idString: 'MBTemp' });
    expect(rawToValue(sim.conversion, 0x60)).toBe(96);

    const mini = decodeSdrRecord(CAPTURE.miniFull);
    if (mini.kind !== 'full-sensor') throw new Error(mini.kind);
    expect(mini).toMatchObject({
      idString: 'Inlet Temp', upperNonRecoverable: 90, upperCritical: 80, upperNonCritical: 70, readingMask: 0x3f3f,
      conversion: { m: 1, b: 0, bExp: 0, rExp: 0 },
    });
    expect(rawToValue(mini.conversion, 0x1e)).toBe(30);
  });

  it('rejects a record whose length byte disagrees with its size', () => {
    expect(() => decodeSdrRecord(CAPTURE.miniFull.subarray(0, 40))).toThrow(ProtocolError);
    expect(() => decodeSdrRecord(Buffer.concat([CAPTURE.simMcLocator, Buffer.from([0])]))).toThrow(ProtocolError);
  });
});

describe('encoding', () => {
  const sensors = defaultSensors();
  const volt12 = sensors.find((s) => s.number === SensorNumber.Volt12) as ThresholdSensor;

  it('lays out a full threshold sensor record byte by byte (table 43-1)', () => {
    const r = encodeFullSensorRecord(7, volt12);
    expect(r.length).toBe(48 + '12V'.length);
    // Header: record ID 7, SDR 51h, type 01h, remaining length.
    expect(r.subarray(0, 5)).toEqual(Buffer.from([0x07, 0x00, 0x51, 0x01, r.length - 5]));
    // Bytes 6–14 (offsets 5–13): owner 20h, LUN 0, number, entity, instance, init, caps, type, threshold.
    expect([...r.subarray(5, 10)]).toEqual([0x20, 0x00, SensorNumber.Volt12, EntityId.SystemBoard, 1]);
    expect(r[12]).toBe(SensorType.Voltage);
    expect(r[13]).toBe(0x01);
    // Thresholds readable per mask (caps bits 3:2 = 01b), no events (bits 1:0 = 11b).
    expect(r[11]! & 0x0f).toBe(0x07);
    // Readable mask: lower NC, lower C, upper NC, upper C.
    expect(r[18]).toBe(0x1b);
    // Unsigned analog, base unit Volts, linear.
    expect([r[20], r[21], r[23]]).toEqual([0x00, SensorUnit.Volts, 0x00]);
    // M = 6 (bytes 25–26), B = 0 (27–28), R exp -2 / B exp 0 (byte 30 = E0h).
    expect([r[24], r[25], r[26], r[27], r[29]]).toEqual([6, 0, 0, 0, 0xe0]);
    // Thresholds bytes 37–42: UNR (none), UC 220, UNC 210, LNR (none), LC 180, LNC 190.
    expect([...r.subarray(36, 42)]).toEqual([0, 220, 210, 0, 180, 190]);
    // ID string: C0h | 3, "12V".
    expect(r.subarray(47)).toEqual(Buffer.from([0xc3, 0x31, 0x32, 0x56]));
  });

  it('round-trips every default sensor through the decoder', () => {
    sensors.forEach((s, i) => {
      const record = s.kind === 'event-only' ? encodeEventOnlyRecord(i + 1, s) : encodeFullSensorRecord(i + 1, s);
      const d = decodeSdrRecord(record);
      expect(d.recordId).toBe(i + 1);
      expect(d.version).toBe(0x51);
      if (d.kind !== 'full-sensor' && d.kind !== 'event-only') throw new Error(d.kind);
      expect(d.sensorNumber).toBe(s.number);
      expect(d.sensorType).toBe(s.sensorType);
      expect(d.idString).toBe(s.name);
      expect(d.entityId).toBe(s.entityId);
      if (s.kind === 'threshold' && d.kind === 'full-sensor') {
        expect(d.conversion).toEqual(s.conversion);
        expect(d.eventReadingType).toBe(0x01);
        expect(d.baseUnit).toBe(s.baseUnit);
      }
      if (s.kind === 'discrete' && d.kind === 'full-sensor') {
        expect(d.analogFormat).toBe(3); // no analog reading
        expect(d.assertionMask).toBe(s.supportedStates);
        expect(d.readingMask).toBe(s.supportedStates);
      }
    });
  });

  it('encodes negative M, B and exponents as two\'s complement', () => {
    const s: ThresholdSensor = {
      ...volt12, conversion: { m: -3, b: -100, bExp: -1, rExp: 2 },
    };
    const d = decodeSdrRecord(encodeFullSensorRecord(1, s));
    if (d.kind !== 'full-sensor') throw new Error(d.kind);
    expect(d.conversion).toEqual({ m: -3, b: -100, bExp: -1, rExp: 2 });
  });

  it('cuts ID strings to 16 characters', () => {
    const s: ThresholdSensor = { ...volt12, name: 'A very long sensor name indeed' };
    const d = decodeSdrRecord(encodeFullSensorRecord(1, s));
    if (d.kind !== 'full-sensor') throw new Error(d.kind);
    expect(d.idString).toBe('A very long sens');
    expect(d.length).toBe(43 + 16);
  });

  it('encodes the locator records', () => {
    expect(encodeMcDeviceLocator(1, { name: 'bmcfleet BMC', capabilities: 0x9f, entityId: 0x06, entityInstance: 1 }))
      .toEqual(Buffer.concat([hex('01 00 51 12 17 20 00 00 9f 00 00 00 06 01 00 cc'), Buffer.from('bmcfleet BMC')]));
    const fru = decodeSdrRecord(encodeFruDeviceLocator(2, { name: 'System FRU', fruDeviceId: 0, entityId: 0x07, entityInstance: 1 }));
    expect(fru).toMatchObject({
      kind: 'fru-locator', recordType: SdrRecordType.FruDeviceLocator, accessAddress: 0x20, fruDeviceId: 0, logical: true,
      deviceType: 0x10, deviceTypeModifier: 0x00, idString: 'System FRU',
    });
  });
});
