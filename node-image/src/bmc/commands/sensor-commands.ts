/**
 * Sensor commands (NetFn Sensor/Event 04h, IPMI v2.0 section 35); reference 7.13. Bytes count from
 * 0 after the command byte / after the completion code.
 *
 *   2Dh Get Sensor Reading       rq: 0 sensor number
 *       rs: 0 reading (raw; for discrete sensors the low state byte, which clients ignore or print)
 *           1 bit 7 event messages enabled, bit 6 scanning enabled, bit 5 reading unavailable
 *           2 threshold status (bit 0 ≤ lower NC … bit 5 ≥ upper NR) / discrete states 7:0
 *           3 80h (threshold) / 80h | states 14:8 (discrete)
 *   27h Get Sensor Thresholds    rq: 0 sensor number
 *       rs: 0 readable mask | 1 lower NC | 2 lower C | 3 lower NR | 4 upper NC | 5 upper C | 6 upper NR
 *   29h Get Sensor Event Enable  rq: 0 sensor number
 *       rs: 0 bit 7 event messages enabled, bit 6 scanning enabled | 1–2 assertion enables (LE)
 *           | 3–4 deassertion enables (LE)
 *
 * Unknown sensor numbers answer CBh; event-only sensors have no reading (CBh for Get Sensor
 * Reading), and only threshold sensors have thresholds (CDh otherwise). Threshold sensors generate
 * no event messages (their SDR says so), hence bit 7 clear; the discrete power unit does.
 *
 * Get Device SDR Info / Get Device SDR (20h/21h) are not provided: Get Device ID reports an SDR
 * repository and no device SDRs, so clients read the repository (reference 7.1) and the dispatcher
 * answers C1h.
 */
import { CompletionCode, Privilege } from '../../protocol/errors';
import { NetFn, SensorCmd } from '../../protocol/netfn';
import type { PowerState } from '../../machine/machine-control';
import type { SdrRepository } from '../inventory/sdr-repository';
import { readableThresholdMask, readSensor } from '../inventory/sensors';
import { type CommandDefinition, type CommandHandler, fail, ok } from './command-types';

export interface SensorCommandDeps {
  readonly sdr: SdrRepository;
  /** The machine's power state, read live at every request. */
  readonly powerState: () => Promise<PowerState>;
}

/** Get Sensor Reading byte 1 / Get Sensor Event Enable byte 0 flags (sections 35.14, 35.11). */
export const SensorFlag = {
  EventMessagesEnabled: 0x80,
  ScanningEnabled: 0x40,
  ReadingUnavailable: 0x20,
} as const;

/** Optional last byte of Get Sensor Reading: reserved bit 7 returned as 1b. */
const READING_BYTE_4_RESERVED = 0x80;
const DISCRETE_HIGH_STATES = 0x7f;

export function sensorCommands({ sdr, powerState }: SensorCommandDeps): CommandDefinition[] {
  const def = (cmd: number, name: string, handler: CommandHandler): CommandDefinition =>
    ({ netFn: NetFn.SensorEvent, cmd, name, privilege: Privilege.User, handler });

  const getSensorReading: CommandHandler = async (data, ctx) => {
    if (data.length !== 1) return fail(CompletionCode.RequestDataLengthInvalid);
    const sensor = sdr.readableSensor(data[0]!);
    if (!sensor) return fail(CompletionCode.NotPresent);
    const reading = readSensor(sensor, { power: await powerState(), nowMs: ctx.now });
    if (reading.kind === 'threshold') {
      return ok(Buffer.from([reading.raw, SensorFlag.ScanningEnabled, reading.status, READING_BYTE_4_RESERVED]));
    }
    const low = reading.states & 0xff;
    const high = (reading.states >> 8) & DISCRETE_HIGH_STATES;
    return ok(Buffer.from([low, SensorFlag.EventMessagesEnabled | SensorFlag.ScanningEnabled, low, READING_BYTE_4_RESERVED | high]));
  };

  const getSensorThresholds: CommandHandler = (data) => {
    if (data.length !== 1) return fail(CompletionCode.RequestDataLengthInvalid);
    const sensor = sdr.sensor(data[0]!);
    if (!sensor) return fail(CompletionCode.NotPresent);
    if (sensor.kind !== 'threshold') return fail(CompletionCode.IllegalForSensorOrRecord);
    const t = sensor.thresholds;
    return ok(Buffer.from([
      readableThresholdMask(t),
      t.lowerNonCritical ?? 0, t.lowerCritical ?? 0, t.lowerNonRecoverable ?? 0,
      t.upperNonCritical ?? 0, t.upperCritical ?? 0, t.upperNonRecoverable ?? 0,
    ]));
  };

  const getSensorEventEnable: CommandHandler = (data) => {
    if (data.length !== 1) return fail(CompletionCode.RequestDataLengthInvalid);
    const sensor = sdr.sensor(data[0]!);
    if (!sensor) return fail(CompletionCode.NotPresent);
    if (sensor.kind === 'threshold') return ok(Buffer.from([SensorFlag.ScanningEnabled, 0, 0, 0, 0]));
    const states = sensor.supportedStates;
    return ok(Buffer.from([
      SensorFlag.EventMessagesEnabled | SensorFlag.ScanningEnabled,
      states & 0xff, (states >> 8) & DISCRETE_HIGH_STATES, 0, 0,
    ]));
  };

  return [
    def(SensorCmd.GetSensorThresholds, 'Get Sensor Thresholds', getSensorThresholds),
    def(SensorCmd.GetSensorEventEnable, 'Get Sensor Event Enable', getSensorEventEnable),
    def(SensorCmd.GetSensorReading, 'Get Sensor Reading', getSensorReading),
  ];
}
