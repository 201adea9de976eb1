import {
  defaultSensors,
  rawToValue,
  readableThresholdMask,
  readSensor,
  SensorNumber,
  type SensorDefinition,
  type ThresholdSensor,
  ThresholdStatus,
  thresholdStatus,
  valueToRaw,
} from './sensors';

const T0 = Date.UTC(2026, 10, 24, 12, 0, 0);

function sensor(number: number): SensorDefinition {
  const s = defaultSensors().find((x) => x.number === number);
  if (!s) throw new Error(`no sensor ${number}`);
  return s;
}

function threshold(number: number): ThresholdSensor {
  const s = sensor(number);
  if (s.kind !== 'threshold') throw new Error('not a threshold sensor');
  return s;
}

describe('linear conversion (section 36.3)', () => {
  it('reads 12.06 V from raw 201 with M=6, Rexp=-2', () => {
    const c = threshold(SensorNumber.Volt12).conversion;
    expect(rawToValue(c, 201)).toBeCloseTo(12.06, 10);
    expect(valueToRaw(c, 12.06)).toBe(201);
  });

  it('applies B and both exponents', () => {
    // (2 * 100 + 5 * 10^1) * 10^-1 = 25
    expect(rawToValue({ m: 2, b: 5, bExp: 1, rExp: -1 }, 100)).toBeCloseTo(25, 10);
    expect(valueToRaw({ m: 2, b: 5, bExp: 1, rExp: -1 }, 25)).toBe(100);
  });

  it('clamps raw values to one unsigned byte', () => {
    const c = { m: 1, b: 0, bExp: 0, rExp: 0 };
    expect(valueToRaw(c, -5)).toBe(0);
    expect(valueToRaw(c, 300)).toBe(255);
  });
});

describe('threshold status (section 35.14)', () => {
  const t = { lowerCritical: 180, lowerNonCritical: 190, upperNonCritical: 210, upperCritical: 220 };

  it('is 0 inside the thresholds', () => {
    expect(thresholdStatus(t, 200)).toBe(0);
  });

  it('sets "at or below" lower bits and "at or above" upper bits cumulatively', () => {
    expect(thresholdStatus(t, 190)).toBe(ThresholdStatus.LowerNonCritical);
    expect(thresholdStatus(t, 180)).toBe(ThresholdStatus.LowerNonCritical | ThresholdStatus.LowerCritical);
    expect(thresholdStatus(t, 210)).toBe(ThresholdStatus.UpperNonCritical);
    expect(thresholdStatus(t, 255)).toBe(ThresholdStatus.UpperNonCritical | ThresholdStatus.UpperCritical);
  });

  it('never reports a threshold the sensor does not have', () => {
    expect(thresholdStatus({}, 0)).toBe(0);
    expect(readableThresholdMask({})).toBe(0);
    expect(readableThresholdMask(t)).toBe(0x1b);
  });
});

describe('default sensors', () => {
  it('have unique numbers and ID strings of at most 16 characters', () => {
    const all = defaultSensors();
    expect(new Set(all.map((s) => s.number)).size).toBe(all.length);
    for (const s of all) expect(s.name.length).toBeLessThanOrEqual(16);
  });

  it('stop the fans and cool the CPU to near inlet temperature when the machine is off', () => {
    for (let i = 0; i < 50; i++) {
      const env = { power: 'off' as const, nowMs: T0 + i * 37_000 };
      const fan = readSensor(threshold(SensorNumber.Fan1), env);
      const cpu = readSensor(threshold(SensorNumber.CpuTemp), env);
      const inlet = readSensor(threshold(SensorNumber.InletTemp), env);
      expect(fan).toEqual({ kind: 'threshold', raw: 0, status: 0 });
      if (cpu.kind !== 'threshold' || inlet.kind !== 'threshold') throw new Error('kind');
      expect(cpu.raw - inlet.raw).toBeGreaterThanOrEqual(0);
      expect(cpu.raw - inlet.raw).toBeLessThanOrEqual(2);
    }
  });

  it('read plausible, in-range values when the machine is on, and never cross a threshold', () => {
    for (let i = 0; i < 200; i++) {
      const env = { power: 'on' as const, nowMs: T0 + i * 11_111 };
      for (const s of defaultSensors()) {
        if (s.kind !== 'threshold') continue;
        const r = readSensor(s, env);
        if (r.kind !== 'threshold') throw new Error('kind');
        expect(r.status).toBe(0);
        const v = rawToValue(s.conversion, r.raw);
        switch (s.number) {
          case SensorNumber.InletTemp: expect(v).toBeGreaterThanOrEqual(20); expect(v).toBeLessThanOrEqual(28); break;
          case SensorNumber.CpuTemp: expect(v).toBeGreaterThanOrEqual(38); expect(v).toBeLessThanOrEqual(55); break;
          case SensorNumber.Fan1: case SensorNumber.Fan2: expect(v).toBeGreaterThanOrEqual(4800); expect(v).toBeLessThanOrEqual(5800); break;
          case SensorNumber.Volt12: expect(v).toBeGreaterThanOrEqual(11.9); expect(v).toBeLessThanOrEqual(12.2); break;
          case SensorNumber.Volt3v3: expect(v).toBeGreaterThanOrEqual(3.26); expect(v).toBeLessThanOrEqual(3.38); break;
          default: throw new Error(`unexpected sensor ${s.name}`);
        }
      }
    }
  });

  it('are deterministic in time and vary across minutes', () => {
    const cpu = threshold(SensorNumber.CpuTemp);
    const at = (ms: number): unknown => readSensor(cpu, { power: 'on', nowMs: ms });
    expect(at(T0)).toEqual(at(T0));
    const values = new Set<number>();
    for (let i = 0; i < 30; i++) {
      const r = readSensor(cpu, { power: 'on', nowMs: T0 + i * 10_000 });
      if (r.kind === 'threshold') values.add(r.raw);
    }
    expect(values.size).toBeGreaterThan(3);
  });

  it('assert "Power off/down" on the power unit exactly when the machine is off', () => {
    const unit = sensor(SensorNumber.SystemPower);
    if (unit.kind !== 'discrete') throw new Error('kind');
    expect(readSensor(unit, { power: 'off', nowMs: T0 })).toEqual({ kind: 'discrete', states: 0x0001 });
    expect(readSensor(unit, { power: 'on', nowMs: T0 })).toEqual({ kind: 'discrete', states: 0 });
  });
});
