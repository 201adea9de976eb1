import { MemoryStateStore, readJson, writeJson } from '../../state/state-store';
import { decodeSelRecord, encodeSystemEventRecord, type SystemEventRecord } from './sel-record.codec';
import { POWER_EVENTS, type PowerEventKind } from './sel-events';
import { SEL_DOCUMENT, SystemEventLog } from './system-event-log';

const T0 = Date.UTC(2026, 10, 24, 10, 0, 0);
const T0_SECONDS = T0 / 1000;

const oemRecord = (type: number, fill: number): Buffer => Buffer.concat([Buffer.from([0, 0, type]), Buffer.alloc(13, fill)]);

function event(sut: SystemEventLog, id: number): SystemEventRecord {
  const entry = sut.get(id);
  if (!entry) throw new Error(`no entry ${id}`);
  const d = decodeSelRecord(entry.record);
  if (d.kind !== 'system-event') throw new Error(d.kind);
  return d;
}

describe('SystemEventLog', () => {
  it('starts empty with unspecified timestamps and 16 KiB free', () => {
    const sut = new SystemEventLog(new MemoryStateStore());
    expect(sut.info()).toEqual({ entries: 0, freeBytes: 16384, lastAddition: 0xffffffff, lastErase: 0xffffffff, overflow: false });
    expect(sut.get(0)).toBeUndefined();
    expect(sut.get(0xffff)).toBeUndefined();
  });

  it('logs power events as standard sensor-specific system events from the BMC', () => {
    const sut = new SystemEventLog(new MemoryStateStore());
    const kinds: PowerEventKind[] = ['power-on', 'power-off', 'power-cycle', 'reset', 'soft-off', 'power-down-by-guest', 'failure'];
    kinds.forEach((kind, i) => expect(sut.recordPowerEvent(kind, T0 + i * 1000)).toBe(i + 1));
    kinds.forEach((kind, i) => {
      const e = event(sut, i + 1);
      const spec = POWER_EVENTS[kind];
      expect(e).toMatchObject({
        recordId: i + 1, timestamp: T0_SECONDS + i, generatorId: 0x0020, evmRev: 0x04,
        sensorType: spec.sensorType, sensorNumber: spec.sensorNumber, deassertion: false, eventType: 0x6f,
        eventData: [spec.offset, 0xff, 0xff],
      });
    });
    // Power Unit "Power off/down" and ACPI "S0/G0: working", as ipmitool decodes them.
    expect(event(sut, 2)).toMatchObject({ sensorType: 0x09, eventData: [0x00, 0xff, 0xff] });
    expect(event(sut, 1)).toMatchObject({ sensorType: 0x22, eventData: [0x00, 0xff, 0xff] });
    expect(sut.info()).toMatchObject({ entries: 7, freeBytes: 16384 - 7 * 16, lastAddition: T0_SECONDS + 6 });
  });

  it('logs BMC events', () => {
    const sut = new SystemEventLog(new MemoryStateStore());
    sut.recordBmcEvent('bmc-restart', T0);
    sut.recordBmcEvent('log-cleared', T0);
    expect(event(sut, 1)).toMatchObject({ sensorType: 0x12, eventData: [0x01, 0xff, 0xff] });
    expect(event(sut, 2)).toMatchObject({ sensorType: 0x10, eventData: [0x02, 0xff, 0xff] });
  });

  it('chains record IDs: 0000h first, FFFFh last, next FFFFh at the end', () => {
    const sut = new SystemEventLog(new MemoryStateStore());
    for (let i = 0; i < 3; i++) sut.recordPowerEvent('power-on', T0);
    expect(sut.get(0)?.nextRecordId).toBe(2);
    expect(sut.get(2)?.nextRecordId).toBe(3);
    expect(sut.get(3)?.nextRecordId).toBe(0xffff);
    expect(sut.get(0xffff)?.record.readUInt16LE(0)).toBe(3);
    expect(sut.get(4)).toBeUndefined();
  });

  it('assigns the record ID and timestamps types 02h and C0h–DFh on add, not E0h–FFh', () => {
    const sut = new SystemEventLog(new MemoryStateStore());
    const sys = encodeSystemEventRecord({
      recordId: 0x9999, timestamp: 1, generatorId: 0x41, evmRev: 4, sensorType: 1, sensorNumber: 1,
      deassertion: false, eventType: 1, eventData: [0x50, 0x20, 0x30],
    });
    expect(sut.add(sys, T0)).toEqual({ ok: true, recordId: 1 });
    expect(event(sut, 1)).toMatchObject({ recordId: 1, timestamp: T0_SECONDS, generatorId: 0x41, eventData: [0x50, 0x20, 0x30] });
    expect(sut.add(oemRecord(0xc5, 0xab), T0)).toEqual({ ok: true, recordId: 2 });
    expect(sut.get(2)?.record.readUInt32LE(3)).toBe(T0_SECONDS);
    expect(sut.add(oemRecord(0xe1, 0xab), T0)).toEqual({ ok: true, recordId: 3 });
    expect(sut.get(3)?.record.readUInt32LE(3)).toBe(0xabababab);
  });

  it('refuses new records when full, sets the overflow flag, and only Clear SEL resets it', () => {
    const store = new MemoryStateStore();
    const sut = new SystemEventLog(store, { capacity: 3 });
    for (let i = 0; i < 3; i++) expect(sut.recordPowerEvent('power-on', T0)).toBe(i + 1);
    expect(sut.info()).toMatchObject({ entries: 3, freeBytes: 0, overflow: false });
    expect(sut.recordPowerEvent('power-off', T0)).toBeUndefined();
    expect(sut.add(oemRecord(0xe0, 0), T0)).toEqual({ ok: false, error: 'full' });
    expect(sut.info()).toMatchObject({ entries: 3, overflow: true });
    // The oldest records are kept.
    expect(sut.get(0)?.record.readUInt16LE(0)).toBe(1);
    expect(sut.delete(1, T0)).toBe(1);
    expect(sut.info().overflow).toBe(true);
    sut.clear(T0 + 5000);
    expect(sut.info()).toEqual({ entries: 0, freeBytes: 48, lastAddition: T0_SECONDS, lastErase: T0_SECONDS + 5, overflow: false });
    expect(new SystemEventLog(store, { capacity: 3 }).info().overflow).toBe(false);
  });

  it('deletes by ID, first and last, and stamps the erase time', () => {
    const sut = new SystemEventLog(new MemoryStateStore());
    for (let i = 0; i < 4; i++) sut.recordPowerEvent('power-on', T0);
    expect(sut.delete(2, T0 + 1000)).toBe(2);
    expect(sut.get(1)?.nextRecordId).toBe(3);
    expect(sut.delete(0x0000, T0)).toBe(1);
    expect(sut.delete(0xffff, T0)).toBe(4);
    expect(sut.delete(2, T0)).toBeUndefined();
    expect(sut.list().map((r) => r.readUInt16LE(0))).toEqual([3]);
    expect(sut.info().lastErase).toBe(T0_SECONDS);
  });

  it('never reuses an ID still in use and restarts at 1 after a clear', () => {
    const sut = new SystemEventLog(new MemoryStateStore());
    sut.recordPowerEvent('power-on', T0);
    sut.recordPowerEvent('power-on', T0);
    sut.delete(2, T0);
    expect(sut.recordPowerEvent('power-on', T0)).toBe(3);
    sut.clear(T0);
    expect(sut.recordPowerEvent('power-on', T0)).toBe(1);
  });

  it('wraps record IDs before FFFFh, skipping IDs in use', () => {
    const store = new MemoryStateStore();
    const first = new SystemEventLog(store, { capacity: 10 });
    first.recordPowerEvent('power-on', T0); // ID 1 stays
    const doc = readJson<{ nextRecordId: number }>(store, SEL_DOCUMENT)!;
    writeJson(store, SEL_DOCUMENT, { ...doc, nextRecordId: 0xfffd });
    const sut = new SystemEventLog(store, { capacity: 10 });
    expect(sut.recordPowerEvent('power-on', T0)).toBe(0xfffd);
    expect(sut.recordPowerEvent('power-on', T0)).toBe(0xfffe);
    expect(sut.recordPowerEvent('power-on', T0)).toBe(2);
  });

  it('hands out non-zero reservations; a new one or a clear cancels the old one, a delete does not', () => {
    const sut = new SystemEventLog(new MemoryStateStore());
    const a = sut.reserve();
    expect(a).not.toBe(0);
    expect(sut.reservationValid(a)).toBe(true);
    expect(sut.reservationValid(0)).toBe(false);
    const b = sut.reserve();
    expect(sut.reservationValid(a)).toBe(false);
    sut.recordPowerEvent('power-on', T0);
    sut.delete(1, T0);
    expect(sut.reservationValid(b)).toBe(true);
    sut.clear(T0);
    expect(sut.reservationValid(b)).toBe(false);
  });

  it('keeps SEL time as an offset from the clock', () => {
    const store = new MemoryStateStore();
    const sut = new SystemEventLog(store);
    expect(sut.time(T0 + 999)).toBe(T0_SECONDS);
    sut.setTime(1_000_000_000, T0);
    expect(sut.time(T0 + 60_000)).toBe(1_000_000_060);
    expect(sut.recordPowerEvent('power-on', T0 + 5000)).toBe(1);
    expect(event(sut, 1).timestamp).toBe(1_000_000_005);
    expect(new SystemEventLog(store).time(T0)).toBe(1_000_000_000);
  });

  it('persists every change to sel.json and loads it back', () => {
    const store = new MemoryStateStore();
    const a = new SystemEventLog(store);
    a.recordPowerEvent('power-on', T0);
    a.recordPowerEvent('power-off', T0 + 1000);
    a.recordPowerEvent('reset', T0 + 2000);
    a.delete(2, T0 + 3000);
    const b = new SystemEventLog(store);
    expect(b.list()).toEqual(a.list());
    expect(b.info()).toEqual(a.info());
    expect(b.recordPowerEvent('power-on', T0)).toBe(4);
    expect(readJson<{ entries: string[] }>(store, SEL_DOCUMENT)?.entries).toHaveLength(3);
  });

  it('starts empty from a corrupt or foreign document and skips bad entries', () => {
    const store = new MemoryStateStore();
    store.write(SEL_DOCUMENT, Buffer.from('{not json'));
    expect(new SystemEventLog(store).info().entries).toBe(0);
    writeJson(store, SEL_DOCUMENT, { version: 99, entries: [] });
    expect(new SystemEventLog(store).info().entries).toBe(0);
    const good = encodeSystemEventRecord({
      recordId: 5, timestamp: 1, generatorId: 0x20, evmRev: 4, sensorType: 9, sensorNumber: 7,
      deassertion: false, eventType: 0x6f, eventData: [0, 0xff, 0xff],
    }).toString('hex');
    const zeroId = `0000${good.slice(4)}`;
    writeJson(store, SEL_DOCUMENT, { version: 1, entries: [good, 'zz', 42, zeroId, good] });
    const sut = new SystemEventLog(store);
    expect(sut.list().map((r) => r.toString('hex'))).toEqual([good]);
  });

  it('refuses a capacity outside 1…FFFEh', () => {
    expect(() => new SystemEventLog(new MemoryStateStore(), { capacity: 0 })).toThrow();
    expect(() => new SystemEventLog(new MemoryStateStore(), { capacity: 0xffff })).toThrow();
  });
});
