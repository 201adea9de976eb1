import type { PowerState } from '../../machine/machine-control';
import { CompletionCode, Privilege } from '../../protocol/errors';
import { NetFn, SensorCmd, StorageCmd } from '../../protocol/netfn';
import { MemoryStateStore } from '../../state/state-store';
import { FruInventory } from '../inventory/fru-inventory';
import { decodeSdrRecord, type DecodedSdr } from '../inventory/sdr-record.codec';
import { SdrRepository } from '../inventory/sdr-repository';
import { rawToValue, SensorNumber } from '../inventory/sensors';
import { SystemEventLog } from '../sel/system-event-log';
import type { CommandContext, CommandResult } from './command-types';
import { sensorCommands } from './sensor-commands';
import { storageCommands } from './storage-commands';

const T0 = Date.UTC(2026, 10, 24, 10, 0, 0);
const u16 = (v: number): number[] => [v & 0xff, v >> 8];

/** Base units ipmitool prints for the codes used here (table 43-15). */
const UNIT_NAMES: Record<number, string> = { 0x01: 'degrees C', 0x04: 'Volts', 0x12: 'RPM' };

function setup(initial: PowerState = 'on') {
  let power: PowerState = initial;
  let powerCalls = 0;
  const sdr = new SdrRepository();
  const storage = storageCommands({
    sdr,
    fru: new FruInventory({ manufacturer: 'bmcfleet', productName: 'Sim', partNumber: 'P', serialNumber: 'S' }),
    sel: new SystemEventLog(new MemoryStateStore()),
  });
  const sensor = sensorCommands({ sdr, powerState: async () => { powerCalls++; return power; } });
  const table = new Map([...storage, ...sensor].map((d) => [(d.netFn << 8) | d.cmd, d]));
  let now = T0;
  const call = async (netFn: number, cmd: number, data: number[] = []): Promise<CommandResult> => {
    const def = table.get((netFn << 8) | cmd);
    if (!def) throw new Error(`no command ${netFn}/${cmd}`);
    const ctx: CommandContext = {
      session: { id: 1, handle: 1, protocol: 'rmcpplus', privilege: Privilege.User, userId: 3, remoteAddress: '127.0.0.1', remotePort: 40000 },
      now,
    };
    return def.handler(Buffer.from(data), ctx);
  };
  const okData = async (netFn: number, cmd: number, data: number[] = []): Promise<Buffer> => {
    const r = await call(netFn, cmd, data);
    expect(r.cc).toBe(CompletionCode.Ok);
    return r.data ?? Buffer.alloc(0);
  };
  return {
    sensor, call, okData,
    setPower: (p: PowerState) => { power = p; },
    setNow: (t: number) => { now = t; },
    powerCalls: () => powerCalls,
  };
}

type Client = ReturnType<typeof setup>;

/** What `ipmitool sdr list` does: walk the repository, then Get Sensor Reading for each full record. */
async function sdrList(c: Client): Promise<Map<string, { record: DecodedSdr & { kind: 'full-sensor' }; reading: Buffer }>> {
  const resv = (await c.okData(NetFn.Storage, StorageCmd.ReserveSdrRepository)).readUInt16LE(0);
  const out = new Map<string, { record: DecodedSdr & { kind: 'full-sensor' }; reading: Buffer }>();
  let id = 0;
  while (id !== 0xffff) {
    const head = await c.okData(NetFn.Storage, StorageCmd.GetSdr, [...u16(resv), ...u16(id), 0, 5]);
    const length = head[6]!;
    const parts = [head.subarray(2)];
    for (let off = 0; off < length; off += 32) {
      parts.push((await c.okData(NetFn.Storage, StorageCmd.GetSdr, [...u16(resv), ...u16(head.readUInt16LE(2)), 5 + off, Math.min(32, length - off)])).subarray(2));
    }
    const record = decodeSdrRecord(Buffer.concat(parts));
    if (record.kind === 'full-sensor') {
      out.set(record.idString, { record, reading: await c.okData(NetFn.SensorEvent, SensorCmd.GetSensorReading, [record.sensorNumber]) });
    }
    id = head.readUInt16LE(0);
  }
  return out;
}

/** ipmitool's "%.*f" with 0 decimals for whole numbers, 2 otherwise, then the unit. */
function display(record: DecodedSdr & { kind: 'full-sensor' }, raw: number): string {
  const v = rawToValue(record.conversion, raw);
  return `${v === Math.trunc(v) ? v.toFixed(0) : v.toFixed(2)} ${UNIT_NAMES[record.baseUnit] ?? '?'}`;
}

describe('sensorCommands', () => {
  it('registers three User-level sensor commands', () => {
    const { sensor } = setup();
    expect(sensor.map((d) => [d.netFn, d.cmd, d.privilege])).toEqual([
      [NetFn.SensorEvent, SensorCmd.GetSensorThresholds, Privilege.User],
      [NetFn.SensorEvent, SensorCmd.GetSensorEventEnable, Privilege.User],
      [NetFn.SensorEvent, SensorCmd.GetSensorReading, Privilege.User],
    ]);
  });

  it('lets an `sdr list` walk convert every reading with the record\'s own M, B and exponents', async () => {
    const c = setup('on');
    const list = await sdrList(c);
    expect([...list.keys()]).toEqual(['Inlet Temp', 'CPU Temp', 'Fan 1', 'Fan 2', '12V', '3.3V', 'System Power']);
    const shown = new Map([...list].filter(([, v]) => v.record.analogFormat !== 3).map(([name, v]) => [name, display(v.record, v.reading[0]!)]));
    expect(shown.get('Inlet Temp')).toMatch(/^2[2-5] degrees C$/);
    expect(shown.get('CPU Temp')).toMatch(/^(3\d|4\d|5[0-5]) degrees C$/);
    expect(shown.get('Fan 1')).toMatch(/^5\d{3} RPM$/);
    expect(shown.get('12V')).toMatch(/^1[12]\.\d\d Volts$/);
    expect(shown.get('3.3V')).toMatch(/^3\.3\d Volts$/);
    for (const [, v] of list) {
      expect(v.reading.length).toBe(4);
      expect(v.reading[2]).toBe(0); // no threshold crossed, no discrete state while on
    }
  });

  it('prints 12.06 Volts for the 12 V rail at the middle of its wave', async () => {
    const c = setup('on');
    // The 12 V wave has a 5-minute period and phase 0.5: sin is 0 at T = 0 (mod 150 s).
    c.setNow(150_000 * Math.round(T0 / 150_000));
    const list = await sdrList(c);
    const v = list.get('12V')!;
    expect(v.reading[0]).toBe(201);
    expect(display(v.record, v.reading[0]!)).toBe('12.06 Volts');
  });

  it('follows the power state: fans stop, the CPU cools, the power unit asserts "Power off/down"', async () => {
    const c = setup('on');
    const on = await sdrList(c);
    c.setPower('off');
    const off = await sdrList(c);
    expect(on.get('Fan 1')!.reading[0]).toBeGreaterThan(90);
    expect(off.get('Fan 1')!.reading).toEqual(Buffer.from([0x00, 0x40, 0x00, 0x80]));
    expect(off.get('CPU Temp')!.reading[0]! - off.get('Inlet Temp')!.reading[0]!).toBeLessThanOrEqual(2);
    expect(on.get('System Power')!.reading).toEqual(Buffer.from([0x00, 0xc0, 0x00, 0x80]));
    expect(off.get('System Power')!.reading).toEqual(Buffer.from([0x01, 0xc0, 0x01, 0x80]));
    expect(c.powerCalls()).toBeGreaterThan(0);
  });

  it('answers Get Sensor Thresholds consistently with the SDR and the status bits', async () => {
    const c = setup('on');
    expect(await c.okData(NetFn.SensorEvent, SensorCmd.GetSensorThresholds, [SensorNumber.Volt12]))
      .toEqual(Buffer.from([0x1b, 190, 180, 0, 210, 220, 0]));
    expect(await c.okData(NetFn.SensorEvent, SensorCmd.GetSensorThresholds, [SensorNumber.InletTemp]))
      .toEqual(Buffer.from([0x38, 0, 0, 0, 40, 45, 50]));
    // Fans have no thresholds: every column "na" in `sensor list`.
    expect(await c.okData(NetFn.SensorEvent, SensorCmd.GetSensorThresholds, [SensorNumber.Fan1]))
      .toEqual(Buffer.from([0, 0, 0, 0, 0, 0, 0]));
    expect((await c.call(NetFn.SensorEvent, SensorCmd.GetSensorThresholds, [SensorNumber.SystemPower])).cc).toBe(CompletionCode.IllegalForSensorOrRecord);
    expect((await c.call(NetFn.SensorEvent, SensorCmd.GetSensorThresholds, [0x99])).cc).toBe(CompletionCode.NotPresent);
    expect((await c.call(NetFn.SensorEvent, SensorCmd.GetSensorThresholds, [])).cc).toBe(CompletionCode.RequestDataLengthInvalid);
  });

  it('answers Get Sensor Event Enable', async () => {
    const c = setup();
    expect(await c.okData(NetFn.SensorEvent, SensorCmd.GetSensorEventEnable, [SensorNumber.CpuTemp])).toEqual(Buffer.from([0x40, 0, 0, 0, 0]));
    expect(await c.okData(NetFn.SensorEvent, SensorCmd.GetSensorEventEnable, [SensorNumber.SystemPower])).toEqual(Buffer.from([0xc0, 0x43, 0x00, 0, 0]));
    expect(await c.okData(NetFn.SensorEvent, SensorCmd.GetSensorEventEnable, [SensorNumber.AcpiState])).toEqual(Buffer.from([0xc0, 0xff, 0x0f, 0, 0]));
    expect((await c.call(NetFn.SensorEvent, SensorCmd.GetSensorEventEnable, [0x00])).cc).toBe(CompletionCode.NotPresent);
    expect((await c.call(NetFn.SensorEvent, SensorCmd.GetSensorEventEnable, [1, 2])).cc).toBe(CompletionCode.RequestDataLengthInvalid);
  });

  it('refuses unknown sensors, event-only sensors and bad lengths in Get Sensor Reading', async () => {
    const c = setup();
    expect((await c.call(NetFn.SensorEvent, SensorCmd.GetSensorReading, [0x99])).cc).toBe(CompletionCode.NotPresent);
    expect((await c.call(NetFn.SensorEvent, SensorCmd.GetSensorReading, [SensorNumber.AcpiState])).cc).toBe(CompletionCode.NotPresent);
    expect((await c.call(NetFn.SensorEvent, SensorCmd.GetSensorReading, [])).cc).toBe(CompletionCode.RequestDataLengthInvalid);
    expect((await c.call(NetFn.SensorEvent, SensorCmd.GetSensorReading, [1, 0])).cc).toBe(CompletionCode.RequestDataLengthInvalid);
    expect(c.powerCalls()).toBe(0);
  });
});
