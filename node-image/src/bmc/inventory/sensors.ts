/**
 * The BMC's sensors: what each one is (the data its SDR record is built from) and what it reads for
 * a given machine power state and time.
 *
 * Analog readings follow the linear conversion of IPMI v2.0 section 36.3:
 *   y = (M * raw + B * 10^Bexp) * 10^Rexp
 * with raw an unsigned byte (analog data format 00b). Threshold status bits follow section 35.14
 * (Get Sensor Reading byte 4): a lower threshold is "crossed" when raw <= threshold, an upper one when
 * raw >= threshold.
 *
 * Readings are a pure function of (power state, now): small deterministic waves of a few minutes'
 * period, never random, so two reads in the same millisecond agree and tests can pin values.
 */
import type { PowerState } from '../../machine/machine-control';
import {
  EntityId,
  EventReadingType,
  PowerUnitOffset,
  SensorType,
  SensorUnit,
} from './sensor-types';

export interface SensorEnvironment {
  readonly power: PowerState;
  /** Milliseconds since the epoch (the command context's clock). */
  readonly nowMs: number;
}

/** y = (m * raw + b * 10^bExp) * 10^rExp (section 36.3); m and b are signed 10-bit, exponents signed 4-bit. */
export interface LinearConversion {
  readonly m: number;
  readonly b: number;
  readonly bExp: number;
  readonly rExp: number;
}

/** Threshold values in raw counts; an absent threshold is neither readable nor reported. */
export interface SensorThresholds {
  readonly lowerNonCritical?: number;
  readonly lowerCritical?: number;
  readonly lowerNonRecoverable?: number;
  readonly upperNonCritical?: number;
  readonly upperCritical?: number;
  readonly upperNonRecoverable?: number;
}

interface SensorBase {
  /** Sensor number, unique within the BMC (LUN 0). */
  readonly number: number;
  /** ID string, at most 16 characters (section 43.1 byte 48). */
  readonly name: string;
  readonly entityId: number;
  readonly entityInstance: number;
  readonly sensorType: number;
}

export interface ThresholdSensor extends SensorBase {
  readonly kind: 'threshold';
  readonly baseUnit: number;
  readonly conversion: LinearConversion;
  readonly nominal?: number;
  readonly normalMin?: number;
  readonly normalMax?: number;
  readonly sensorMin: number;
  readonly sensorMax: number;
  readonly thresholds: SensorThresholds;
  /** Positive/negative-going hysteresis in raw counts (0 = unspecified). */
  readonly hysteresis: number;
  /** The reading in the sensor's unit. */
  value(env: SensorEnvironment): number;
}

export interface DiscreteSensor extends SensorBase {
  readonly kind: 'discrete';
  readonly eventReadingType: number;
  /** Offsets (bit n = offset n, 0–14) the sensor can assert, for the SDR masks. */
  readonly supportedStates: number;
  /** Offsets asserted now. */
  states(env: SensorEnvironment): number;
}

/** A sensor that only names events in the SEL (SDR type 03h): no reading. */
export interface EventOnlySensor extends SensorBase {
  readonly kind: 'event-only';
  readonly eventReadingType: number;
  readonly supportedStates: number;
}

export type SensorDefinition = ThresholdSensor | DiscreteSensor | EventOnlySensor;

/** Threshold comparison status bits (Get Sensor Reading byte 4, section 35.14). */
export const ThresholdStatus = {
  LowerNonCritical: 0x01,
  LowerCritical: 0x02,
  LowerNonRecoverable: 0x04,
  UpperNonCritical: 0x08,
  UpperCritical: 0x10,
  UpperNonRecoverable: 0x20,
} as const;

const RAW_MIN = 0;
const RAW_MAX = 0xff;

/** Real value of a raw reading (section 36.3). */
export function rawToValue(c: LinearConversion, raw: number): number {
  return (c.m * raw + c.b * 10 ** c.bExp) * 10 ** c.rExp;
}

/** Nearest raw reading for a real value, clamped to the unsigned byte range. */
export function valueToRaw(c: LinearConversion, value: number): number {
  const raw = Math.round((value / 10 ** c.rExp - c.b * 10 ** c.bExp) / c.m);
  return Math.min(RAW_MAX, Math.max(RAW_MIN, raw));
}

export function thresholdStatus(t: SensorThresholds, raw: number): number {
  let status = 0;
  if (t.lowerNonCritical !== undefined && raw <= t.lowerNonCritical) status |= ThresholdStatus.LowerNonCritical;
  if (t.lowerCritical !== undefined && raw <= t.lowerCritical) status |= ThresholdStatus.LowerCritical;
  if (t.lowerNonRecoverable !== undefined && raw <= t.lowerNonRecoverable) status |= ThresholdStatus.LowerNonRecoverable;
  if (t.upperNonCritical !== undefined && raw >= t.upperNonCritical) status |= ThresholdStatus.UpperNonCritical;
  if (t.upperCritical !== undefined && raw >= t.upperCritical) status |= ThresholdStatus.UpperCritical;
  if (t.upperNonRecoverable !== undefined && raw >= t.upperNonRecoverable) status |= ThresholdStatus.UpperNonRecoverable;
  return status;
}

/** Which thresholds exist, as the readable-threshold mask of section 43.1 byte 19 / section 35.9. */
export function readableThresholdMask(t: SensorThresholds): number {
  let mask = 0;
  if (t.lowerNonCritical !== undefined) mask |= ThresholdStatus.LowerNonCritical;
  if (t.lowerCritical !== undefined) mask |= ThresholdStatus.LowerCritical;
  if (t.lowerNonRecoverable !== undefined) mask |= ThresholdStatus.LowerNonRecoverable;
  if (t.upperNonCritical !== undefined) mask |= ThresholdStatus.UpperNonCritical;
  if (t.upperCritical !== undefined) mask |= ThresholdStatus.UpperCritical;
  if (t.upperNonRecoverable !== undefined) mask |= ThresholdStatus.UpperNonRecoverable;
  return mask;
}

export type SensorReading =
  | { readonly kind: 'threshold'; readonly raw: number; readonly status: number }
  | { readonly kind: 'discrete'; readonly states: number };

export function readSensor(sensor: ThresholdSensor | DiscreteSensor, env: SensorEnvironment): SensorReading {
  if (sensor.kind === 'discrete') return { kind: 'discrete', states: sensor.states(env) & 0x7fff };
  const raw = valueToRaw(sensor.conversion, sensor.value(env));
  return { kind: 'threshold', raw, status: thresholdStatus(sensor.thresholds, raw) };
}

/** A deterministic wave in [-1, 1] of the given period; phase in fractions of a period. */
export function wave(nowMs: number, periodMs: number, phase: number): number {
  return Math.sin(2 * Math.PI * (nowMs / periodMs + phase));
}

const MINUTE = 60_000;

/** Sensor numbers of the default set; the SEL helpers log against the discrete/event-only ones. */
export const SensorNumber = {
  InletTemp: 0x01,
  CpuTemp: 0x02,
  Fan1: 0x03,
  Fan2: 0x04,
  Volt12: 0x05,
  Volt3v3: 0x06,
  SystemPower: 0x07,
  AcpiState: 0x08,
  PowerButton: 0x09,
  SystemRestart: 0x0a,
  BmcStatus: 0x0b,
  SelStatus: 0x0c,
} as const;

const DEGREES: LinearConversion = { m: 1, b: 0, bExp: 0, rExp: 0 };
/** 50 RPM per count: 0–12 750 RPM. */
const FAN_RPM: LinearConversion = { m: 50, b: 0, bExp: 0, rExp: 0 };
/** 0.06 V per count: 0–15.30 V (raw 201 = 12.06 V). */
const VOLTS_12: LinearConversion = { m: 6, b: 0, bExp: 0, rExp: -2 };
/** 0.02 V per count: 0–5.10 V (raw 166 = 3.32 V). */
const VOLTS_3V3: LinearConversion = { m: 2, b: 0, bExp: 0, rExp: -2 };

const inletValue = (env: SensorEnvironment): number =>
  23 + (env.power === 'on' ? 1 : 0) + 0.8 * wave(env.nowMs, 7 * MINUTE, 0.1);

/**
 * The default sensors of a bmcfleet node. Temperatures and fans follow the power state: when the
 * machine is off the fans stop (0 RPM; they carry no lower thresholds, so a stopped fan of a
 * powered-off machine is not "critical") and the CPU sits one degree above the inlet air. The 12 V
 * and 3.3 V rails are measured on the standby side and stay in range in both states.
 */
export function defaultSensors(): SensorDefinition[] {
  return [
    {
      kind: 'threshold', number: SensorNumber.InletTemp, name: 'Inlet Temp',
      entityId: EntityId.AirInlet, entityInstance: 1, sensorType: SensorType.Temperature,
      baseUnit: SensorUnit.DegreesC, conversion: DEGREES,
      nominal: 23, normalMin: 10, normalMax: 35, sensorMin: 0, sensorMax: 127,
      thresholds: { upperNonCritical: 40, upperCritical: 45, upperNonRecoverable: 50 },
      hysteresis: 1,
      value: inletValue,
    },
    {
      kind: 'threshold', number: SensorNumber.CpuTemp, name: 'CPU Temp',
      entityId: EntityId.Processor, entityInstance: 1, sensorType: SensorType.Temperature,
      baseUnit: SensorUnit.DegreesC, conversion: DEGREES,
      nominal: 45, normalMin: 10, normalMax: 75, sensorMin: 0, sensorMax: 127,
      thresholds: { upperNonCritical: 85, upperCritical: 95, upperNonRecoverable: 100 },
      hysteresis: 2,
      value: (env) => env.power === 'on'
        ? 46 + 4 * wave(env.nowMs, 3 * MINUTE, 0.3) + 2 * wave(env.nowMs, 41_000, 0.7)
        : inletValue(env) + 1,
    },
    {
      kind: 'threshold', number: SensorNumber.Fan1, name: 'Fan 1',
      entityId: EntityId.CoolingDevice, entityInstance: 1, sensorType: SensorType.Fan,
      baseUnit: SensorUnit.Rpm, conversion: FAN_RPM,
      nominal: 108, sensorMin: 0, sensorMax: 0xff,
      thresholds: {},
      hysteresis: 0,
      value: (env) => env.power === 'on' ? 5400 + 300 * wave(env.nowMs, 3 * MINUTE, 0.3) : 0,
    },
    {
      kind: 'threshold', number: SensorNumber.Fan2, name: 'Fan 2',
      entityId: EntityId.CoolingDevice, entityInstance: 2, sensorType: SensorType.Fan,
      baseUnit: SensorUnit.Rpm, conversion: FAN_RPM,
      nominal: 105, sensorMin: 0, sensorMax: 0xff,
      thresholds: {},
      hysteresis: 0,
      value: (env) => env.power === 'on' ? 5250 + 300 * wave(env.nowMs, 3 * MINUTE, 0.35) : 0,
    },
    {
      kind: 'threshold', number: SensorNumber.Volt12, name: '12V',
      entityId: EntityId.SystemBoard, entityInstance: 1, sensorType: SensorType.Voltage,
      baseUnit: SensorUnit.Volts, conversion: VOLTS_12,
      nominal: 200, normalMin: 190, normalMax: 210, sensorMin: 0, sensorMax: 0xff,
      thresholds: { lowerCritical: 180, lowerNonCritical: 190, upperNonCritical: 210, upperCritical: 220 },
      hysteresis: 1,
      value: (env) => env.power === 'on' ? 12.06 + 0.06 * wave(env.nowMs, 5 * MINUTE, 0.5) : 12.12,
    },
    {
      kind: 'threshold', number: SensorNumber.Volt3v3, name: '3.3V',
      entityId: EntityId.SystemBoard, entityInstance: 1, sensorType: SensorType.Voltage,
      baseUnit: SensorUnit.Volts, conversion: VOLTS_3V3,
      nominal: 165, normalMin: 157, normalMax: 173, sensorMin: 0, sensorMax: 0xff,
      thresholds: { lowerCritical: 149, lowerNonCritical: 157, upperNonCritical: 173, upperCritical: 181 },
      hysteresis: 1,
      value: (env) => env.power === 'on' ? 3.32 + 0.02 * wave(env.nowMs, 5 * MINUTE, 0.8) : 3.34,
    },
    {
      kind: 'discrete', number: SensorNumber.SystemPower, name: 'System Power',
      entityId: EntityId.PowerUnit, entityInstance: 1, sensorType: SensorType.PowerUnit,
      eventReadingType: EventReadingType.SensorSpecific,
      supportedStates: bit(PowerUnitOffset.PowerOff) | bit(PowerUnitOffset.PowerCycle) | bit(PowerUnitOffset.FailureDetected),
      states: (env) => env.power === 'off' ? bit(PowerUnitOffset.PowerOff) : 0,
    },
    eventOnly(SensorNumber.AcpiState, 'ACPI State', EntityId.SystemChassis, SensorType.SystemAcpiPowerState, 0x0fff),
    eventOnly(SensorNumber.PowerButton, 'Power Button', EntityId.SystemChassis, SensorType.Button, 0x001f),
    eventOnly(SensorNumber.SystemRestart, 'System Restart', EntityId.SystemBoard, SensorType.SystemBootInitiated, 0x00ff),
    eventOnly(SensorNumber.BmcStatus, 'BMC Status', EntityId.SystemManagementModule, SensorType.SystemEvent, 0x003f),
    eventOnly(SensorNumber.SelStatus, 'SEL Status', EntityId.SystemManagementModule, SensorType.EventLoggingDisabled, 0x003f),
  ];
}

function bit(offset: number): number {
  return 1 << offset;
}

function eventOnly(number: number, name: string, entityId: number, sensorType: number, supportedStates: number): EventOnlySensor {
  return {
    kind: 'event-only', number, name, entityId, entityInstance: 1, sensorType,
    eventReadingType: EventReadingType.SensorSpecific, supportedStates,
  };
}
