/**
 * Storage commands (NetFn 0Ah): FRU (IPMI v2.0 section 34), SDR repository (section 33) and SEL
 * (section 31); reference 7.13–7.15. Request/response bytes below count from 0 after the command
 * byte / after the completion code.
 *
 * FRU
 *   10h Get FRU Inventory Area Info  rq: 0 FRU id            rs: 0–1 size (LE) | 2 bit 0 access by words (0)
 *   11h Read FRU Data                rq: 0 id | 1–2 offset | 3 count    rs: 0 count returned | 1… data
 *   12h Write FRU Data               rq: 0 id | 1–2 offset | 3… data    -> D5h: the inventory is read-only
 * SDR repository
 *   20h Get SDR Repository Info      rs: 0 version 51h | 1–2 records | 3–4 free | 5–8 addition ts
 *                                        | 9–12 erase ts | 13 operation support
 *   21h Get SDR Repository Allocation Info  rs: 0–1 units | 2–3 unit size | 4–5 free units
 *                                        | 6–7 largest free block | 8 max record size (units)
 *   22h Reserve SDR Repository       rs: 0–1 reservation ID
 *   23h Get SDR                      rq: 0–1 reservation | 2–3 record ID | 4 offset | 5 count (FFh all)
 *                                    rs: 0–1 next record ID | 2… record bytes
 *   27h Clear SDR Repository         rq: 0–1 reservation | 2–4 "CLR" | 5 AAh initiate / 00h status
 *                                    rs: 0 progress (01h = erasure completed). The built-in records
 *                                    stay (see inventory/sdr-repository.ts).
 * SEL
 *   40h Get SEL Info                 rs: 0 version 51h | 1–2 entries | 3–4 free bytes | 5–8 addition ts
 *                                        | 9–12 erase ts | 13 operation support
 *   41h Get SEL Allocation Info      rs: as 21h
 *   42h Reserve SEL                  rs: 0–1 reservation ID
 *   43h Get SEL Entry                rq: 0–1 reservation | 2–3 record ID | 4 offset | 5 count (FFh all)
 *                                    rs: 0–1 next record ID | 2… record bytes
 *   44h Add SEL Entry                rq: 0–15 record              rs: 0–1 record ID
 *   46h Delete SEL Entry             rq: 0–1 reservation | 2–3 record ID   rs: 0–1 deleted record ID
 *   47h Clear SEL                    rq: 0–1 reservation | 2–4 "CLR" | 5 AAh / 00h   rs: 0 progress
 *   48h Get SEL Time                 rs: 0–3 seconds (LE)
 *   49h Set SEL Time                 rq: 0–3 seconds (LE)
 *
 * Reads need User privilege; writes, deletes and clears need Operator (spec table G-1).
 */
import { CompletionCode, Privilege } from '../../protocol/errors';
import { NetFn, StorageCmd } from '../../protocol/netfn';
import { ByteReader } from '../../protocol/wire/byte-reader';
import { ByteWriter } from '../../protocol/wire/byte-writer';
import type { FruInventory } from '../inventory/fru-inventory';
import type { SdrRepository } from '../inventory/sdr-repository';
import { isSupportedType, SEL_RECORD_LENGTH } from '../sel/sel-record.codec';
import type { SystemEventLog } from '../sel/system-event-log';
import { type CommandDefinition, type CommandHandler, type CommandResult, fail, ok } from './command-types';

export interface StorageCommandDeps {
  readonly sdr: SdrRepository;
  readonly fru: FruInventory;
  readonly sel: SystemEventLog;
}

/** SDR / SEL version 51h: IPMI 1.5 format, v2.0 compliant (sections 33.9, 31.2). */
export const SDR_SEL_VERSION = 0x51;

/** Command-specific completion codes of the SEL commands (sections 31.6–31.9). */
export const SelCompletionCode = {
  RecordTypeNotSupported: 0x80,
} as const;

/** "CLR" (43h 4Ch 52h) followed by the action byte (sections 31.9, 33.13). */
const CLEAR_CONFIRMATION = Buffer.from('CLR', 'latin1');
const ClearAction = { GetStatus: 0x00, Initiate: 0xaa } as const;
const ERASURE_COMPLETED = 0x01;
const CLEAR_REQUEST_LENGTH = 6;

/** Get SDR Repository Info byte 13: Reserve and Get Allocation Info supported; update mode unspecified. */
const SdrSupport = { AllocationInfo: 0x01, Reserve: 0x02 } as const;
/** Get SEL Info byte 13 (section 31.2). */
const SelSupport = { AllocationInfo: 0x01, Reserve: 0x02, Delete: 0x08, Overflow: 0x80 } as const;

const READ_REQUEST_LENGTH = 6;
/** Get SDR / Get SEL Entry "bytes to read" FFh = the entire record. */
const READ_ENTIRE_RECORD = 0xff;
const FRU_READ_REQUEST_LENGTH = 4;
/** FRU id, offset (2) and at least one data byte. */
const FRU_WRITE_MIN_LENGTH = 4;
const FRU_ACCESS_BY_BYTES = 0x00;

const noData = (handler: (now: number) => CommandResult): CommandHandler =>
  (data, ctx) => (data.length === 0 ? handler(ctx.now) : fail(CompletionCode.RequestDataLengthInvalid));

/** Whether a clear request names the right reservation and says "CLR"; the result to send if not. */
function checkClearRequest(data: Buffer, reservationValid: (id: number) => boolean): CommandResult | { action: number } {
  if (data.length !== CLEAR_REQUEST_LENGTH) return fail(CompletionCode.RequestDataLengthInvalid);
  if (!reservationValid(data.readUInt16LE(0))) return fail(CompletionCode.ReservationInvalid);
  if (!data.subarray(2, 5).equals(CLEAR_CONFIRMATION)) return fail(CompletionCode.InvalidDataField);
  const action = data[5]!;
  if (action !== ClearAction.GetStatus && action !== ClearAction.Initiate) return fail(CompletionCode.InvalidDataField);
  return { action };
}

export function storageCommands({ sdr, fru, sel }: StorageCommandDeps): CommandDefinition[] {
  const def = (cmd: number, name: string, privilege: number, handler: CommandHandler): CommandDefinition =>
    ({ netFn: NetFn.Storage, cmd, name, privilege, handler });

  // ---- FRU ----

  const getFruInventoryAreaInfo: CommandHandler = (data) => {
    if (data.length !== 1) return fail(CompletionCode.RequestDataLengthInvalid);
    const size = fru.areaSize(data[0]!);
    if (size === undefined) return fail(CompletionCode.NotPresent);
    return ok(new ByteWriter(3).u16le(size).u8(FRU_ACCESS_BY_BYTES).toBuffer());
  };

  const readFruData: CommandHandler = (data) => {
    if (data.length !== FRU_READ_REQUEST_LENGTH) return fail(CompletionCode.RequestDataLengthInvalid);
    const r = new ByteReader(data);
    const result = fru.read(r.u8(), r.u16le(), r.u8());
    if (!result.ok) {
      switch (result.error) {
        case 'not-present': return fail(CompletionCode.NotPresent);
        case 'count': return fail(CompletionCode.InvalidDataField);
        case 'offset': return fail(CompletionCode.ParameterOutOfRange);
      }
    }
    return ok(Buffer.concat([Buffer.from([result.data.length]), result.data]));
  };

  const writeFruData: CommandHandler = (data) => {
    if (data.length < FRU_WRITE_MIN_LENGTH) return fail(CompletionCode.RequestDataLengthInvalid);
    if (fru.areaSize(data[0]!) === undefined) return fail(CompletionCode.NotPresent);
    return fail(CompletionCode.NotSupportedInPresentState);
  };

  // ---- SDR repository ----

  const getSdrRepositoryInfo = noData(() => {
    const info = sdr.info();
    return ok(new ByteWriter(14)
      .u8(SDR_SEL_VERSION).u16le(info.recordCount).u16le(info.freeSpace)
      .u32le(info.lastAddition).u32le(info.lastErase)
      .u8(SdrSupport.Reserve | SdrSupport.AllocationInfo)
      .toBuffer());
  });

  const getSdrRepositoryAllocationInfo = noData(() => {
    const a = sdr.allocationInfo();
    return ok(new ByteWriter(9)
      .u16le(a.totalUnits).u16le(a.unitSize).u16le(a.freeUnits).u16le(a.largestFreeBlock).u8(a.maxRecordUnits)
      .toBuffer());
  });

  const reserveSdrRepository = noData(() => ok(new ByteWriter(2).u16le(sdr.reserve()).toBuffer()));

  const getSdr: CommandHandler = (data) => {
    if (data.length !== READ_REQUEST_LENGTH) return fail(CompletionCode.RequestDataLengthInvalid);
    const r = new ByteReader(data);
    const result = sdr.read(r.u16le(), r.u16le(), r.u8(), r.u8());
    if (!result.ok) {
      switch (result.error) {
        case 'reservation': return fail(CompletionCode.ReservationInvalid);
        case 'not-present': return fail(CompletionCode.NotPresent);
        case 'offset': return fail(CompletionCode.ParameterOutOfRange);
        case 'too-long': return fail(CompletionCode.CannotReturnRequestedBytes);
      }
    }
    return ok(Buffer.concat([new ByteWriter(2).u16le(result.nextRecordId).toBuffer(), result.data]));
  };

  const clearSdrRepository: CommandHandler = (data, ctx) => {
    const checked = checkClearRequest(data, (id) => sdr.reservationValid(id));
    if (!('action' in checked)) return checked;
    if (checked.action === ClearAction.Initiate) sdr.clear(sel.time(ctx.now));
    return ok(Buffer.from([ERASURE_COMPLETED]));
  };

  // ---- SEL ----

  const getSelInfo = noData(() => {
    const info = sel.info();
    return ok(new ByteWriter(14)
      .u8(SDR_SEL_VERSION).u16le(info.entries).u16le(info.freeBytes)
      .u32le(info.lastAddition).u32le(info.lastErase)
      .u8((info.overflow ? SelSupport.Overflow : 0) | SelSupport.Delete | SelSupport.Reserve | SelSupport.AllocationInfo)
      .toBuffer());
  });

  const getSelAllocationInfo = noData(() => {
    const a = sel.allocationInfo();
    return ok(new ByteWriter(9)
      .u16le(a.totalUnits).u16le(a.unitSize).u16le(a.freeUnits).u16le(a.largestFreeBlock).u8(a.maxRecordUnits)
      .toBuffer());
  });

  const reserveSel = noData(() => ok(new ByteWriter(2).u16le(sel.reserve()).toBuffer()));

  const getSelEntry: CommandHandler = (data) => {
    if (data.length !== READ_REQUEST_LENGTH) return fail(CompletionCode.RequestDataLengthInvalid);
    const r = new ByteReader(data);
    const reservation = r.u16le();
    const recordId = r.u16le();
    const offset = r.u8();
    const count = r.u8();
    // The reservation only guards partial reads (section 31.5): a whole-record read ignores it.
    const whole = offset === 0 && (count === READ_ENTIRE_RECORD || count >= SEL_RECORD_LENGTH);
    if (!whole && !sel.reservationValid(reservation)) return fail(CompletionCode.ReservationInvalid);
    const entry = sel.get(recordId);
    if (!entry) return fail(CompletionCode.NotPresent);
    if (offset >= SEL_RECORD_LENGTH) return fail(CompletionCode.ParameterOutOfRange);
    const end = count === READ_ENTIRE_RECORD ? SEL_RECORD_LENGTH : Math.min(SEL_RECORD_LENGTH, offset + count);
    return ok(Buffer.concat([new ByteWriter(2).u16le(entry.nextRecordId).toBuffer(), entry.record.subarray(offset, end)]));
  };

  const addSelEntry: CommandHandler = (data, ctx) => {
    if (data.length !== SEL_RECORD_LENGTH) return fail(CompletionCode.RequestDataLengthInvalid);
    if (!isSupportedType(data[2]!)) return fail(SelCompletionCode.RecordTypeNotSupported);
    const result = sel.add(data, ctx.now);
    if (!result.ok) return fail(CompletionCode.OutOfSpace);
    return ok(new ByteWriter(2).u16le(result.recordId).toBuffer());
  };

  const deleteSelEntry: CommandHandler = (data, ctx) => {
    if (data.length !== 4) return fail(CompletionCode.RequestDataLengthInvalid);
    if (!sel.reservationValid(data.readUInt16LE(0))) return fail(CompletionCode.ReservationInvalid);
    const deleted = sel.delete(data.readUInt16LE(2), ctx.now);
    if (deleted === undefined) return fail(CompletionCode.NotPresent);
    return ok(new ByteWriter(2).u16le(deleted).toBuffer());
  };

  const clearSel: CommandHandler = (data, ctx) => {
    const checked = checkClearRequest(data, (id) => sel.reservationValid(id));
    if (!('action' in checked)) return checked;
    if (checked.action === ClearAction.Initiate) sel.clear(ctx.now);
    return ok(Buffer.from([ERASURE_COMPLETED]));
  };

  const getSelTime = noData((now) => ok(new ByteWriter(4).u32le(sel.time(now)).toBuffer()));

  const setSelTime: CommandHandler = (data, ctx) => {
    if (data.length !== 4) return fail(CompletionCode.RequestDataLengthInvalid);
    sel.setTime(data.readUInt32LE(0), ctx.now);
    return ok();
  };

  return [
    def(StorageCmd.GetFruInventoryAreaInfo, 'Get FRU Inventory Area Info', Privilege.User, getFruInventoryAreaInfo),
    def(StorageCmd.ReadFruData, 'Read FRU Data', Privilege.User, readFruData),
    def(StorageCmd.WriteFruData, 'Write FRU Data', Privilege.Operator, writeFruData),
    def(StorageCmd.GetSdrRepositoryInfo, 'Get SDR Repository Info', Privilege.User, getSdrRepositoryInfo),
    def(StorageCmd.GetSdrRepositoryAllocationInfo, 'Get SDR Repository Allocation Info', Privilege.User, getSdrRepositoryAllocationInfo),
    def(StorageCmd.ReserveSdrRepository, 'Reserve SDR Repository', Privilege.User, reserveSdrRepository),
    def(StorageCmd.GetSdr, 'Get SDR', Privilege.User, getSdr),
    def(StorageCmd.ClearSdrRepository, 'Clear SDR Repository', Privilege.Operator, clearSdrRepository),
    def(StorageCmd.GetSelInfo, 'Get SEL Info', Privilege.User, getSelInfo),
    def(StorageCmd.GetSelAllocationInfo, 'Get SEL Allocation Info', Privilege.User, getSelAllocationInfo),
    def(StorageCmd.ReserveSel, 'Reserve SEL', Privilege.User, reserveSel),
    def(StorageCmd.GetSelEntry, 'Get SEL Entry', Privilege.User, getSelEntry),
    def(StorageCmd.AddSelEntry, 'Add SEL Entry', Privilege.Operator, addSelEntry),
    def(StorageCmd.DeleteSelEntry, 'Delete SEL Entry', Privilege.Operator, deleteSelEntry),
    def(StorageCmd.ClearSel, 'Clear SEL', Privilege.Operator, clearSel),
    def(StorageCmd.GetSelTime, 'Get SEL Time', Privilege.User, getSelTime),
    def(StorageCmd.SetSelTime, 'Set SEL Time', Privilege.Operator, setSelTime),
  ];
}
