import { CompletionCode, Privilege } from '../../protocol/errors';
import { NetFn, StorageCmd } from '../../protocol/netfn';
import { checksumValid } from '../../protocol/wire/checksum';
import { MemoryStateStore } from '../../state/state-store';
import { decodeFruImage } from '../inventory/fru-image.codec';
import { FruInventory } from '../inventory/fru-inventory';
import { decodeSdrRecord } from '../inventory/sdr-record.codec';
import { SdrRepository } from '../inventory/sdr-repository';
import { defaultSensors } from '../inventory/sensors';
import { decodeSelRecord } from '../sel/sel-record.codec';
import { SystemEventLog } from '../sel/system-event-log';
import type { CommandContext, CommandDefinition, CommandResult } from './command-types';
import { storageCommands } from './storage-commands';

const T0 = Date.UTC(2026, 10, 24, 10, 0, 0);
const T0_SECONDS = T0 / 1000;
const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const u16 = (v: number): number[] => [v & 0xff, v >> 8];
const CLR = [0x43, 0x4c, 0x52];

const identity = { manufacturer: 'bmcfleet', productName: 'Simulated Server', partNumber: 'BF-QEMU-1', serialNumber: 'BF-node-07', assetTag: 'lab-a' };

function setup(options: { selCapacity?: number; sdrMaxRead?: number } = {}) {
  const store = new MemoryStateStore();
  const sdr = new SdrRepository(options.sdrMaxRead ? { maxReadLength: options.sdrMaxRead } : {});
  const fru = new FruInventory(identity);
  const sel = new SystemEventLog(store, options.selCapacity ? { capacity: options.selCapacity } : {});
  const defs = storageCommands({ sdr, fru, sel });
  const byCmd = new Map(defs.map((d) => [d.cmd, d]));
  let now = T0;
  const call = async (cmd: number, data: number[] | Buffer = []): Promise<CommandResult> => {
    const def = byCmd.get(cmd);
    if (!def) throw new Error(`no command 0x${cmd.toString(16)}`);
    const ctx: CommandContext = {
      session: { id: 1, handle: 1, protocol: 'rmcpplus', privilege: Privilege.Administrator, userId: 2, remoteAddress: '127.0.0.1', remotePort: 40000 },
      now,
    };
    return def.handler(Buffer.from(data), ctx);
  };
  /** Expects success and returns the response data. */
  const okData = async (cmd: number, data: number[] | Buffer = []): Promise<Buffer> => {
    const r = await call(cmd, data);
    expect(r.cc).toBe(CompletionCode.Ok);
    return r.data ?? Buffer.alloc(0);
  };
  return { store, sdr, fru, sel, defs, call, okData, setNow: (t: number) => { now = t; } };
}

describe('storageCommands', () => {
  it('registers every storage command once, reads at User and changes at Operator', () => {
    const { defs } = setup();
    expect(new Set(defs.map((d) => d.cmd)).size).toBe(defs.length);
    expect(defs.every((d) => d.netFn === NetFn.Storage && !d.sessionless)).toBe(true);
    const privilege = (cmd: number): number | undefined => defs.find((d: CommandDefinition) => d.cmd === cmd)?.privilege;
    for (const cmd of [StorageCmd.GetFruInventoryAreaInfo, StorageCmd.ReadFruData, StorageCmd.GetSdrRepositoryInfo,
      StorageCmd.GetSdrRepositoryAllocationInfo, StorageCmd.ReserveSdrRepository, StorageCmd.GetSdr, StorageCmd.GetSelInfo,
      StorageCmd.GetSelAllocationInfo, StorageCmd.ReserveSel, StorageCmd.GetSelEntry, StorageCmd.GetSelTime]) {
      expect(privilege(cmd)).toBe(Privilege.User);
    }
    for (const cmd of [StorageCmd.WriteFruData, StorageCmd.ClearSdrRepository, StorageCmd.AddSelEntry,
      StorageCmd.DeleteSelEntry, StorageCmd.ClearSel, StorageCmd.SetSelTime]) {
      expect(privilege(cmd)).toBe(Privilege.Operator);
    }
  });

  describe('SDR repository', () => {
    it('answers Get SDR Repository Info', async () => {
      const { okData, sdr } = setup();
      const added = sdr.info().lastAddition;
      expect(await okData(StorageCmd.GetSdrRepositoryInfo)).toEqual(Buffer.from([
        0x51, ...u16(sdr.recordCount), 0x00, 0x00, ...u16(added & 0xffff), ...u16(added >>> 16), 0xff, 0xff, 0xff, 0xff, 0x03,
      ]));
      expect(sdr.recordCount).toBeGreaterThan(0);
    });

    it('gives out non-zero reservations, 0001h first as in the captures', async () => {
      const { okData } = setup();
      expect(await okData(StorageCmd.ReserveSdrRepository)).toEqual(hex('01 00'));
      expect(await okData(StorageCmd.ReserveSdrRepository)).toEqual(hex('02 00'));
    });

    it('serves the whole repository to an ipmitool-style walk (5-byte header, then 32-byte chunks)', async () => {
      const { okData, sdr } = setup();
      const resv = (await okData(StorageCmd.ReserveSdrRepository)).readUInt16LE(0);
      const records: Buffer[] = [];
      let id = 0x0000;
      while (id !== 0xffff && records.length < 50) {
        const head = await okData(StorageCmd.GetSdr, [...u16(resv), ...u16(id), 0, 5]);
        expect(head.length).toBe(2 + 5);
        const recordId = head.readUInt16LE(2);
        const length = head[6]!;
        const parts = [head.subarray(2)];
        for (let off = 0; off < length; off += 32) {
          const chunk = await okData(StorageCmd.GetSdr, [...u16(resv), ...u16(recordId), 5 + off, Math.min(32, length - off)]);
          expect(chunk.readUInt16LE(0)).toBe(head.readUInt16LE(0));
          parts.push(chunk.subarray(2));
        }
        records.push(Buffer.concat(parts));
        id = head.readUInt16LE(0);
      }
      expect(records).toEqual(sdr.allRecords());
      const decoded = records.map(decodeSdrRecord);
      expect(decoded[0]).toMatchObject({ kind: 'mc-locator', idString: 'bmcfleet BMC' });
      expect(decoded.slice(1).map((d) => ('idString' in d ? d.idString : ''))).toEqual(defaultSensors().map((s) => s.name));
    });

    it('answers the captured request `01 00 00 00 00 05` with the MC locator header', async () => {
      const { okData } = setup();
      await okData(StorageCmd.ReserveSdrRepository);
      const rsp = await okData(StorageCmd.GetSdr, hex('01 00 00 00 00 05'));
      expect(rsp.subarray(0, 6)).toEqual(hex('02 00 01 00 51 12'));
    });

    it('refuses bad lengths, unknown records, stale reservations, bad offsets and oversized chunks', async () => {
      const { call, okData } = setup({ sdrMaxRead: 32 });
      const resv = (await okData(StorageCmd.ReserveSdrRepository)).readUInt16LE(0);
      expect((await call(StorageCmd.GetSdr, [...u16(resv), 1, 0, 0])).cc).toBe(CompletionCode.RequestDataLengthInvalid);
      expect((await call(StorageCmd.GetSdr, [...u16(resv), 1, 0, 0, 5, 0])).cc).toBe(CompletionCode.RequestDataLengthInvalid);
      expect((await call(StorageCmd.GetSdrRepositoryInfo, [0])).cc).toBe(CompletionCode.RequestDataLengthInvalid);
      expect((await call(StorageCmd.ReserveSdrRepository, [0])).cc).toBe(CompletionCode.RequestDataLengthInvalid);
      expect((await call(StorageCmd.GetSdr, [...u16(resv), ...u16(0x0777), 0, 5])).cc).toBe(CompletionCode.NotPresent);
      expect((await call(StorageCmd.GetSdr, [...u16(resv), ...u16(3), 0xf0, 4])).cc).toBe(CompletionCode.ParameterOutOfRange);
      expect((await call(StorageCmd.GetSdr, [...u16(resv), ...u16(3), 0, 0xff])).cc).toBe(CompletionCode.CannotReturnRequestedBytes);
      await okData(StorageCmd.ReserveSdrRepository);
      expect((await call(StorageCmd.GetSdr, [...u16(resv), ...u16(3), 5, 16])).cc).toBe(CompletionCode.ReservationInvalid);
    });

    it('accepts Clear SDR Repository without losing the built-in records', async () => {
      const { call, okData, sdr } = setup();
      const before = sdr.allRecords();
      const resv = (await okData(StorageCmd.ReserveSdrRepository)).readUInt16LE(0);
      expect((await call(StorageCmd.ClearSdrRepository, [...u16(resv), ...CLR])).cc).toBe(CompletionCode.RequestDataLengthInvalid);
      expect((await call(StorageCmd.ClearSdrRepository, [...u16(resv + 1), ...CLR, 0xaa])).cc).toBe(CompletionCode.ReservationInvalid);
      expect((await call(StorageCmd.ClearSdrRepository, [...u16(resv), 0x43, 0x4c, 0x53, 0xaa])).cc).toBe(CompletionCode.InvalidDataField);
      expect((await call(StorageCmd.ClearSdrRepository, [...u16(resv), ...CLR, 0x55])).cc).toBe(CompletionCode.InvalidDataField);
      expect(await okData(StorageCmd.ClearSdrRepository, [...u16(resv), ...CLR, 0x00])).toEqual(Buffer.from([0x01]));
      expect(await okData(StorageCmd.ClearSdrRepository, [...u16(resv), ...CLR, 0xaa])).toEqual(Buffer.from([0x01]));
      expect(sdr.allRecords()).toEqual(before);
      const info = await okData(StorageCmd.GetSdrRepositoryInfo);
      expect(info.readUInt16LE(1)).toBe(before.length);
      expect(info.readUInt32LE(9)).toBe(T0_SECONDS);
      // The clear cancelled the reservation.
      expect((await call(StorageCmd.GetSdr, [...u16(resv), 1, 0, 5, 4])).cc).toBe(CompletionCode.ReservationInvalid);
    });

    it('answers Get SDR Repository Allocation Info', async () => {
      const { okData, sdr } = setup();
      const a = sdr.allocationInfo();
      expect(await okData(StorageCmd.GetSdrRepositoryAllocationInfo)).toEqual(Buffer.from([
        ...u16(a.totalUnits), 16, 0, 0, 0, 0, 0, a.maxRecordUnits,
      ]));
    });
  });

  describe('FRU', () => {
    it('reports FRU 0 by bytes and no other device', async () => {
      const { call, okData, fru } = setup();
      expect(await okData(StorageCmd.GetFruInventoryAreaInfo, [0])).toEqual(Buffer.from([...u16(fru.areaSize(0)!), 0x00]));
      expect((await call(StorageCmd.GetFruInventoryAreaInfo, [1])).cc).toBe(CompletionCode.NotPresent);
      expect((await call(StorageCmd.GetFruInventoryAreaInfo, [])).cc).toBe(CompletionCode.RequestDataLengthInvalid);
      expect((await call(StorageCmd.GetFruInventoryAreaInfo, [0, 0])).cc).toBe(CompletionCode.RequestDataLengthInvalid);
    });

    it('serves an ipmitool-style read (header, area length bytes, 32-byte chunks) with valid checksums', async () => {
      const { okData, fru } = setup();
      const size = (await okData(StorageCmd.GetFruInventoryAreaInfo, [0])).readUInt16LE(0);
      const read = async (offset: number, count: number): Promise<Buffer> => {
        const rsp = await okData(StorageCmd.ReadFruData, [0, ...u16(offset), count]);
        expect(rsp[0]).toBe(rsp.length - 1);
        return rsp.subarray(1);
      };
      const header = await read(0, 8);
      expect(header.length).toBe(8);
      expect(checksumValid(header, 0, 8)).toBe(true);
      const image = Buffer.alloc(size);
      header.copy(image, 0);
      for (const slot of [2, 3, 4]) {
        const offset = header[slot]! * 8;
        const lengthBytes = await read(offset, 2);
        const length = lengthBytes[1]! * 8;
        for (let off = 0; off < length; off += 32) (await read(offset + off, Math.min(32, length - off))).copy(image, offset + off);
        expect(checksumValid(image, offset, offset + length)).toBe(true);
      }
      expect(image).toEqual(fru.bytes());
      const d = decodeFruImage(image);
      expect(d.chassis?.typeOrLanguage).toBe(0x17);
      expect(d.board?.fields.slice(0, 4)).toEqual(['bmcfleet', 'Simulated Server', 'BF-node-07', 'BF-QEMU-1']);
      expect(d.product?.fields.slice(0, 6)).toEqual(['bmcfleet', 'Simulated Server', 'BF-QEMU-1', '1.0', 'BF-node-07', 'lab-a']);
    });

    it('shortens a read past the end and refuses bad requests', async () => {
      const { call, okData, fru } = setup();
      const size = fru.areaSize(0)!;
      expect((await okData(StorageCmd.ReadFruData, [0, ...u16(size - 4), 32]))[0]).toBe(4);
      expect((await call(StorageCmd.ReadFruData, [0, ...u16(size), 1])).cc).toBe(CompletionCode.ParameterOutOfRange);
      expect((await call(StorageCmd.ReadFruData, [0, 0, 0, 0])).cc).toBe(CompletionCode.InvalidDataField);
      expect((await call(StorageCmd.ReadFruData, [1, 0, 0, 8])).cc).toBe(CompletionCode.NotPresent);
      expect((await call(StorageCmd.ReadFruData, [0, 0, 0])).cc).toBe(CompletionCode.RequestDataLengthInvalid);
      expect((await call(StorageCmd.ReadFruData, [0, 0, 0, 8, 0])).cc).toBe(CompletionCode.RequestDataLengthInvalid);
    });

    it('refuses Write FRU Data: the inventory is read-only', async () => {
      const { call, fru } = setup();
      const before = fru.bytes();
      expect((await call(StorageCmd.WriteFruData, [0, 0, 0, 0x99])).cc).toBe(CompletionCode.NotSupportedInPresentState);
      expect((await call(StorageCmd.WriteFruData, [1, 0, 0, 0x99])).cc).toBe(CompletionCode.NotPresent);
      expect((await call(StorageCmd.WriteFruData, [0, 0, 0])).cc).toBe(CompletionCode.RequestDataLengthInvalid);
      expect(fru.bytes()).toEqual(before);
    });
  });

  describe('SEL', () => {
    const addRecord = (type = 0x02): number[] =>
      [0, 0, type, 0, 0, 0, 0, 0x41, 0x00, 0x04, 0x01, 0x05, 0x01, 0x57, 0x30, 0x40];

    it('answers Get SEL Info for an empty log like the capture, with Delete and allocation info supported', async () => {
      const { okData } = setup();
      // Captured from the test BMC: 51 00 00 00 40 ff ff ff ff ff ff ff ff 02 (Reserve only).
      expect(await okData(StorageCmd.GetSelInfo)).toEqual(hex('51 00 00 00 40 ff ff ff ff ff ff ff ff 0b'));
    });

    it('adds, reads, walks, deletes and clears with reservations', async () => {
      const { call, okData, setNow } = setup();
      expect(await okData(StorageCmd.AddSelEntry, addRecord())).toEqual(hex('01 00'));
      setNow(T0 + 2000);
      expect(await okData(StorageCmd.AddSelEntry, addRecord())).toEqual(hex('02 00'));
      expect(await okData(StorageCmd.AddSelEntry, addRecord(0xe0))).toEqual(hex('03 00'));

      const info = await okData(StorageCmd.GetSelInfo);
      expect(info.readUInt16LE(1)).toBe(3);
      expect(info.readUInt16LE(3)).toBe(16384 - 48);
      expect(info.readUInt32LE(5)).toBe(T0_SECONDS + 2);

      // Whole-record reads need no reservation (what `ipmitool sel list` sends after reserving).
      const first = await okData(StorageCmd.GetSelEntry, [0, 0, 0, 0, 0, 0xff]);
      expect(first.readUInt16LE(0)).toBe(2);
      const rec = decodeSelRecord(first.subarray(2));
      expect(rec).toMatchObject({ kind: 'system-event', recordId: 1, timestamp: T0_SECONDS, generatorId: 0x41, sensorType: 0x01, eventData: [0x57, 0x30, 0x40] });
      const last = await okData(StorageCmd.GetSelEntry, [0, 0, 0xff, 0xff, 0, 0xff]);
      expect(last.readUInt16LE(0)).toBe(0xffff);
      expect(last.readUInt16LE(2)).toBe(3);

      // Partial reads need the current reservation.
      expect((await call(StorageCmd.GetSelEntry, [0, 0, 1, 0, 2, 4])).cc).toBe(CompletionCode.ReservationInvalid);
      const resv = (await okData(StorageCmd.ReserveSel)).readUInt16LE(0);
      expect(resv).not.toBe(0);
      expect(await okData(StorageCmd.GetSelEntry, [...u16(resv), 1, 0, 2, 5])).toEqual(Buffer.concat([hex('02 00'), first.subarray(4, 9)]));
      expect(await okData(StorageCmd.GetSelEntry, [...u16(resv), 1, 0, 14, 0xff])).toEqual(Buffer.concat([hex('02 00'), first.subarray(16, 18)]));
      expect((await call(StorageCmd.GetSelEntry, [...u16(resv), 1, 0, 16, 1])).cc).toBe(CompletionCode.ParameterOutOfRange);
      expect((await call(StorageCmd.GetSelEntry, [...u16(resv), 9, 0, 0, 0xff])).cc).toBe(CompletionCode.NotPresent);

      // Delete needs the reservation; deleting does not cancel it.
      expect((await call(StorageCmd.DeleteSelEntry, [...u16(resv + 1), 2, 0])).cc).toBe(CompletionCode.ReservationInvalid);
      expect(await okData(StorageCmd.DeleteSelEntry, [...u16(resv), 2, 0])).toEqual(hex('02 00'));
      expect((await call(StorageCmd.DeleteSelEntry, [...u16(resv), 2, 0])).cc).toBe(CompletionCode.NotPresent);
      expect((await okData(StorageCmd.GetSelEntry, [0, 0, 1, 0, 0, 0xff])).readUInt16LE(0)).toBe(3);
      expect((await okData(StorageCmd.GetSelInfo)).readUInt32LE(9)).toBe(T0_SECONDS + 2);

      // Clear: "CLR" + AAh initiates, 00h asks for the status; both answer "erasure completed".
      const clearResv = (await okData(StorageCmd.ReserveSel)).readUInt16LE(0);
      expect((await call(StorageCmd.ClearSel, [...u16(resv), ...CLR, 0xaa])).cc).toBe(CompletionCode.ReservationInvalid);
      expect((await call(StorageCmd.ClearSel, [...u16(clearResv), 0x63, 0x6c, 0x72, 0xaa])).cc).toBe(CompletionCode.InvalidDataField);
      expect((await call(StorageCmd.ClearSel, [...u16(clearResv), ...CLR, 0x01])).cc).toBe(CompletionCode.InvalidDataField);
      expect((await call(StorageCmd.ClearSel, [...u16(clearResv), ...CLR])).cc).toBe(CompletionCode.RequestDataLengthInvalid);
      expect(await okData(StorageCmd.ClearSel, [...u16(clearResv), ...CLR, 0x00])).toEqual(Buffer.from([0x01]));
      expect((await okData(StorageCmd.GetSelInfo)).readUInt16LE(1)).toBe(2);
      expect(await okData(StorageCmd.ClearSel, [...u16(clearResv), ...CLR, 0xaa])).toEqual(Buffer.from([0x01]));
      expect((await okData(StorageCmd.GetSelInfo)).subarray(0, 3)).toEqual(hex('51 00 00'));
      expect((await call(StorageCmd.GetSelEntry, [0, 0, 0, 0, 0, 0xff])).cc).toBe(CompletionCode.NotPresent);
      // The clear cancelled the reservation.
      expect((await call(StorageCmd.ClearSel, [...u16(clearResv), ...CLR, 0xaa])).cc).toBe(CompletionCode.ReservationInvalid);
    });

    it('refuses bad lengths and unsupported record types', async () => {
      const { call } = setup();
      expect((await call(StorageCmd.AddSelEntry, addRecord().slice(0, 15))).cc).toBe(CompletionCode.RequestDataLengthInvalid);
      expect((await call(StorageCmd.AddSelEntry, [...addRecord(), 0])).cc).toBe(CompletionCode.RequestDataLengthInvalid);
      expect((await call(StorageCmd.AddSelEntry, addRecord(0x01))).cc).toBe(0x80);
      expect((await call(StorageCmd.GetSelEntry, [0, 0, 0, 0, 0])).cc).toBe(CompletionCode.RequestDataLengthInvalid);
      expect((await call(StorageCmd.DeleteSelEntry, [1, 0, 1])).cc).toBe(CompletionCode.RequestDataLengthInvalid);
      expect((await call(StorageCmd.GetSelInfo, [0])).cc).toBe(CompletionCode.RequestDataLengthInvalid);
      expect((await call(StorageCmd.GetSelTime, [0])).cc).toBe(CompletionCode.RequestDataLengthInvalid);
      expect((await call(StorageCmd.SetSelTime, [0, 0, 0])).cc).toBe(CompletionCode.RequestDataLengthInvalid);
      expect((await call(StorageCmd.ReserveSel, [0])).cc).toBe(CompletionCode.RequestDataLengthInvalid);
    });

    it('answers "out of space" when full and shows the overflow flag', async () => {
      const { call, okData } = setup({ selCapacity: 2 });
      await okData(StorageCmd.AddSelEntry, addRecord());
      await okData(StorageCmd.AddSelEntry, addRecord());
      expect((await call(StorageCmd.AddSelEntry, addRecord())).cc).toBe(CompletionCode.OutOfSpace);
      const info = await okData(StorageCmd.GetSelInfo);
      expect(info.readUInt16LE(3)).toBe(0);
      expect(info[13]).toBe(0x8b);
      expect(await okData(StorageCmd.GetSelAllocationInfo)).toEqual(Buffer.from([2, 0, 16, 0, 0, 0, 0, 0, 1]));
    });

    it('gets and sets SEL time', async () => {
      const { okData, setNow } = setup();
      expect((await okData(StorageCmd.GetSelTime)).readUInt32LE(0)).toBe(T0_SECONDS);
      expect(await okData(StorageCmd.SetSelTime, [0x00, 0xca, 0x9a, 0x3b])).toEqual(Buffer.alloc(0));
      setNow(T0 + 10_000);
      expect((await okData(StorageCmd.GetSelTime)).readUInt32LE(0)).toBe(1_000_000_010);
      expect((await okData(StorageCmd.AddSelEntry, addRecord())).readUInt16LE(0)).toBe(1);
      const e = await okData(StorageCmd.GetSelEntry, [0, 0, 1, 0, 0, 0xff]);
      expect(e.readUInt32LE(2 + 3)).toBe(1_000_000_010);
    });

    it('persists what the commands change through the state store', async () => {
      const { okData, store } = setup();
      await okData(StorageCmd.AddSelEntry, addRecord());
      await okData(StorageCmd.AddSelEntry, addRecord());
      const resv = (await okData(StorageCmd.ReserveSel)).readUInt16LE(0);
      await okData(StorageCmd.DeleteSelEntry, [...u16(resv), 1, 0]);
      const reloaded = new SystemEventLog(store);
      expect(reloaded.list().map((r) => r.readUInt16LE(0))).toEqual([2]);
    });
  });
});
