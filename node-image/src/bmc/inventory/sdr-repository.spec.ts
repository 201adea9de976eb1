import { decodeSdrRecord } from './sdr-record.codec';
import { SDR_LAST_RECORD, SdrRepository } from './sdr-repository';
import { defaultSensors } from './sensors';

/** Reads every record the way ipmitool 1.8.19 does: 5-byte header at offset 0, then ≤ 32-byte chunks. */
function walk(sut: SdrRepository, chunk = 32): Buffer[] {
  const reservation = sut.reserve();
  const out: Buffer[] = [];
  let id = 0;
  for (let guard = 0; id !== SDR_LAST_RECORD; guard++) {
    if (guard > 100) throw new Error('no end');
    const head = sut.read(reservation, id, 0, 5);
    if (!head.ok) throw new Error(head.error);
    const parts = [head.data];
    const length = head.data[4]!;
    for (let off = 0; off < length; off += chunk) {
      const part = sut.read(reservation, head.data.readUInt16LE(0), 5 + off, Math.min(chunk, length - off));
      if (!part.ok) throw new Error(part.error);
      parts.push(part.data);
    }
    out.push(Buffer.concat(parts));
    id = head.nextRecordId;
  }
  return out;
}

describe('SdrRepository', () => {
  it('holds an MC locator and one record per sensor, IDs 1…N', () => {
    const sut = new SdrRepository();
    const records = walk(sut).map(decodeSdrRecord);
    expect(records.map((r) => r.recordId)).toEqual(records.map((_, i) => i + 1));
    expect(records[0]).toMatchObject({ kind: 'mc-locator', idString: 'bmcfleet BMC', slaveAddress: 0x20, capabilities: 0x9f });
    expect(records.slice(1).map((r) => ('idString' in r ? r.idString : '?'))).toEqual(defaultSensors().map((s) => s.name));
    expect(records.some((r) => r.kind === 'fru-locator')).toBe(false);
    expect(sut.info().recordCount).toBe(records.length);
  });

  it('adds a FRU locator for FRU 0 on request', () => {
    const sut = new SdrRepository({ fruLocatorName: 'System FRU', mcName: 'node-07 BMC' });
    const records = walk(sut).map(decodeSdrRecord);
    expect(records[0]).toMatchObject({ kind: 'mc-locator', idString: 'node-07 BMC' });
    expect(records[1]).toMatchObject({ kind: 'fru-locator', recordId: 2, fruDeviceId: 0, accessAddress: 0x20, logical: true, idString: 'System FRU' });
    expect(records).toHaveLength(defaultSensors().length + 2);
  });

  it('returns the same bytes whatever the chunk size, and for FFh (whole record)', () => {
    const sut = new SdrRepository();
    const by32 = walk(sut, 32);
    expect(walk(sut, 7)).toEqual(by32);
    const all = sut.allRecords();
    expect(by32).toEqual(all);
    const whole = sut.read(0, 3, 0, 0xff);
    expect(whole.ok && whole.data).toEqual(all[2]);
  });

  it('names record 0000h "first" and FFFFh "last", FFFFh as next after the last', () => {
    const sut = new SdrRepository();
    const first = sut.read(0, 0x0000, 0, 5);
    expect(first.ok && first.data.readUInt16LE(0)).toBe(1);
    expect(first.ok && first.nextRecordId).toBe(2);
    const last = sut.read(0, 0xffff, 0, 5);
    expect(last.ok && last.data.readUInt16LE(0)).toBe(sut.recordCount);
    expect(last.ok && last.nextRecordId).toBe(SDR_LAST_RECORD);
  });

  it('refuses unknown record IDs, offsets past the record and chunks over the limit', () => {
    const sut = new SdrRepository({ maxReadLength: 32 });
    const r = sut.reserve();
    expect(sut.read(r, 0x1234, 0, 5)).toEqual({ ok: false, error: 'not-present' });
    const len = sut.allRecords()[2]!.length;
    expect(sut.read(r, 3, len, 1)).toEqual({ ok: false, error: 'offset' });
    expect(sut.read(r, 3, 0, 0xff)).toEqual({ ok: false, error: 'too-long' });
    expect(sut.read(r, 3, 5, 33)).toEqual({ ok: false, error: 'too-long' });
    // Past the end is shortened to the end, not refused.
    const tail = sut.read(r, 3, len - 2, 10);
    expect(tail.ok && tail.data.length).toBe(2);
  });

  it('checks the reservation for reads at a non-zero offset only', () => {
    const sut = new SdrRepository();
    const old = sut.reserve();
    const current = sut.reserve();
    expect(current).not.toBe(old);
    expect(sut.read(old, 1, 5, 4)).toEqual({ ok: false, error: 'reservation' });
    expect(sut.read(0, 1, 5, 4)).toEqual({ ok: false, error: 'reservation' });
    expect(sut.read(current, 1, 5, 4).ok).toBe(true);
    expect(sut.read(old, 1, 0, 5).ok).toBe(true);
  });

  it('keeps its records through a clear, cancelling the reservation and stamping the time', () => {
    const sut = new SdrRepository();
    const before = sut.allRecords();
    const r = sut.reserve();
    expect(sut.info().lastErase).toBe(0xffffffff);
    sut.clear(1_780_000_000);
    expect(sut.allRecords()).toEqual(before);
    expect(sut.reservationValid(r)).toBe(false);
    expect(sut.info()).toMatchObject({ recordCount: before.length, lastErase: 1_780_000_000, lastAddition: 1_780_000_000 });
    // A new reservation is never the cancelled one.
    expect(sut.reserve()).not.toBe(r);
  });

  it('never hands out reservation 0, even after wrapping', () => {
    const sut = new SdrRepository();
    let last = 0;
    for (let i = 0; i < 0x10002; i++) {
      last = sut.reserve();
      if (last === 0) throw new Error('reservation 0');
    }
    expect(last).toBe(3); // 1…FFFFh, then 1, 2, 3
  });

  it('derives its addition timestamp from the records, so SDR caches see a changed repository', () => {
    const a = new SdrRepository().info().lastAddition;
    expect(new SdrRepository().info().lastAddition).toBe(a);
    expect(a).toBeGreaterThanOrEqual(1_577_836_800);
    expect(a).toBeLessThan(1_577_836_800 + 365 * 86400);
    expect(new SdrRepository({ mcName: 'other' }).info().lastAddition).not.toBe(a);
    expect(new SdrRepository({ additionTimestamp: 1234 }).info()).toMatchObject({ lastAddition: 1234, lastErase: 0xffffffff });
  });

  it('refuses two sensors with the same number', () => {
    const s = defaultSensors();
    expect(() => new SdrRepository({ sensors: [...s, s[0]!] })).toThrow(/defined twice/);
  });

  it('reports allocation in 16-byte units', () => {
    const sut = new SdrRepository();
    const a = sut.allocationInfo();
    expect(a.unitSize).toBe(16);
    expect(a.totalUnits).toBe(sut.allRecords().reduce((n, r) => n + Math.ceil(r.length / 16), 0));
    expect(a.maxRecordUnits).toBeLessThanOrEqual(4);
  });
});
