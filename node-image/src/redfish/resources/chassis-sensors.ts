/**
 * Chassis Thermal (Thermal v1_7_3) and Power (Power v1_7_3): the threshold sensors of the IPMI SDR
 * (bmc/inventory/sensors.ts), read the way Get Sensor Reading reads them — the same (power state,
 * time) function, converted to raw counts and back (IPMI v2.0 section 36.3) — so `ipmitool sensor`
 * and these resources show the same values. One inventory, two views: temperatures and fans here,
 * voltages in Power. Thresholds are the SDR's, in the sensor's unit.
 */
import type { BmcCore } from '../../core/bmc-core';
import { rawToValue, readSensor, type ThresholdSensor } from '../../bmc/inventory/sensors';
import { SensorType } from '../../bmc/inventory/sensor-types';
import type { JsonObject } from '../http-types';
import { notFound } from '../errors';
import { resourceResponse, type Route } from '../router';
import { P, SCHEMA, typeOf } from './paths';

/** A threshold sensor's reading in its unit, and its thresholds (undefined when the SDR has none). */
export interface SensorValue {
  readonly sensor: ThresholdSensor;
  readonly reading: number;
  readonly threshold: (name: keyof ThresholdSensor['thresholds']) => number | undefined;
}

const round = (v: number): number => Math.round(v * 1000) / 1000;

export async function thresholdReadings(core: BmcCore, type: number, path: string): Promise<SensorValue[]> {
  if (!core.sensors) throw notFound(path);
  const power = await core.power.powerState();
  const nowMs = core.clock();
  return core.sensors
    .filter((s): s is ThresholdSensor => s.kind === 'threshold' && s.sensorType === type)
    .map((sensor) => {
      const r = readSensor(sensor, { power, nowMs });
      const raw = r.kind === 'threshold' ? r.raw : 0;
      return {
        sensor,
        reading: round(rawToValue(sensor.conversion, raw)),
        threshold: (name) => { const t = sensor.thresholds[name]; return t === undefined ? undefined : round(rawToValue(sensor.conversion, t)); },
      };
    });
}

/** Only the thresholds the SDR defines (a property with null would claim a reading). */
function thresholds(v: SensorValue, names: Readonly<Record<string, keyof ThresholdSensor['thresholds']>>): JsonObject {
  const out: JsonObject = {};
  for (const [property, name] of Object.entries(names)) {
    const t = v.threshold(name);
    if (t !== undefined) out[property] = t;
  }
  return out;
}

const THRESHOLD_PROPERTIES = {
  LowerThresholdNonCritical: 'lowerNonCritical', LowerThresholdCritical: 'lowerCritical', LowerThresholdFatal: 'lowerNonRecoverable',
  UpperThresholdNonCritical: 'upperNonCritical', UpperThresholdCritical: 'upperCritical', UpperThresholdFatal: 'upperNonRecoverable',
} as const;

function health(v: SensorValue): string {
  const critical = (['lowerCritical', 'lowerNonRecoverable'] as const).some((n) => v.threshold(n) !== undefined && v.reading <= v.threshold(n)!)
    || (['upperCritical', 'upperNonRecoverable'] as const).some((n) => v.threshold(n) !== undefined && v.reading >= v.threshold(n)!);
  if (critical) return 'Critical';
  const warning = (v.threshold('lowerNonCritical') !== undefined && v.reading <= v.threshold('lowerNonCritical')!)
    || (v.threshold('upperNonCritical') !== undefined && v.reading >= v.threshold('upperNonCritical')!);
  return warning ? 'Warning' : 'OK';
}

async function thermal(core: BmcCore, path: string): Promise<JsonObject> {
  const temps = await thresholdReadings(core, SensorType.Temperature, path);
  const fans = await thresholdReadings(core, SensorType.Fan, path);
  return {
    '@odata.id': P.thermal,
    '@odata.type': typeOf(SCHEMA.Thermal),
    Id: 'Thermal',
    Name: 'Thermal',
    Status: { State: 'Enabled', Health: 'OK' },
    Temperatures: temps.map((v, i) => ({
      '@odata.id': `${P.thermal}#/Temperatures/${i}`,
      MemberId: String(i),
      Name: v.sensor.name,
      SensorNumber: v.sensor.number,
      ReadingCelsius: v.reading,
      PhysicalContext: v.sensor.name.startsWith('CPU') ? 'CPU' : 'Intake',
      MinReadingRangeTemp: round(rawToValue(v.sensor.conversion, v.sensor.sensorMin)),
      MaxReadingRangeTemp: round(rawToValue(v.sensor.conversion, v.sensor.sensorMax)),
      ...thresholds(v, THRESHOLD_PROPERTIES),
      Status: { State: 'Enabled', Health: health(v) },
    })),
    Fans: fans.map((v, i) => ({
      '@odata.id': `${P.thermal}#/Fans/${i}`,
      MemberId: String(i),
      Name: v.sensor.name,
      SensorNumber: v.sensor.number,
      PhysicalContext: 'Fan',
      Reading: v.reading,
      ReadingUnits: 'RPM',
      ...thresholds(v, THRESHOLD_PROPERTIES),
      Status: { State: 'Enabled', Health: health(v) },
    })),
  };
}

async function power(core: BmcCore, path: string): Promise<JsonObject> {
  const volts = await thresholdReadings(core, SensorType.Voltage, path);
  return {
    '@odata.id': P.power,
    '@odata.type': typeOf(SCHEMA.Power),
    Id: 'Power',
    Name: 'Power',
    Voltages: volts.map((v, i) => ({
      '@odata.id': `${P.power}#/Voltages/${i}`,
      MemberId: String(i),
      Name: v.sensor.name,
      SensorNumber: v.sensor.number,
      ReadingVolts: v.reading,
      PhysicalContext: 'SystemBoard',
      ...thresholds(v, THRESHOLD_PROPERTIES),
      Status: { State: 'Enabled', Health: health(v) },
    })),
  };
}

export function chassisSensorRoutes(core: BmcCore): Route[] {
  return [
    { path: P.thermal, schema: SCHEMA.Thermal, ops: { GET: { privilege: 'Login', handle: async (ctx) => resourceResponse(await thermal(core, ctx.path)) } } },
    { path: P.power, schema: SCHEMA.Power, ops: { GET: { privilege: 'Login', handle: async (ctx) => resourceResponse(await power(core, ctx.path)) } } },
  ];
}
