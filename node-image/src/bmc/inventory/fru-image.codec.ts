/**
 * FRU inventory image (IPMI Platform Management FRU Information Storage Definition v1.0; IPMI v2.0
 * section 34 carries it; reference 7.14).
 *
 * Common header, 8 bytes (FRU spec section 8):
 *   0 format version 01h | 1 internal use offset | 2 chassis info offset | 3 board offset
 *   4 product offset | 5 multirecord offset (all in 8-byte units, 0 = absent) | 6 pad 00h
 *   7 zero checksum (the 8 bytes sum to 0 mod 256)
 * Chassis info area (section 10): 0 version 01h | 1 length/8 | 2 chassis type (17h rack mount)
 *   | part number | serial number | C1h end | 00h pad | checksum
 * Board area (section 11): 0 version 01h | 1 length/8 | 2 language (00h English) | 3–5 mfg date,
 *   minutes since 1996-01-01 00:00 UTC, LE (0 = unspecified) | manufacturer | product name
 *   | serial number | part number | FRU file ID | C1h | pad | checksum
 * Product area (section 12): 0 version 01h | 1 length/8 | 2 language | manufacturer | product name
 *   | part/model number | version | serial number | asset tag | FRU file ID | C1h | pad | checksum
 * Each field: type/length byte (bits 7:6 = 11b 8-bit ASCII, bits 5:0 length ≤ 63) then the bytes.
 * C1h is the end-of-fields marker, so a one-character 8-bit ASCII field cannot exist: such values
 * are padded with a space. Every area is padded to a multiple of 8 bytes including its checksum.
 */
import { ByteReader } from '../../protocol/wire/byte-reader';
import { ByteWriter } from '../../protocol/wire/byte-writer';
import { ipmiChecksum } from '../../protocol/wire/checksum';
import { ProtocolError, ProtocolErrorCode } from '../../protocol/errors';

export const FRU_FORMAT_VERSION = 0x01;
export const FRU_COMMON_HEADER_LENGTH = 8;
export const FRU_MULTIPLE = 8;
export const FRU_END_OF_FIELDS = 0xc1;
export const FRU_LANGUAGE_ENGLISH = 0x00;
/** Chassis type 17h "Rack Mount Chassis" (SMBIOS chassis types, FRU spec table 10-1). */
export const CHASSIS_TYPE_RACK_MOUNT = 0x17;
/** Manufacturing date 0 = unspecified. */
const MFG_DATE_UNSPECIFIED = 0;

const TYPE_8BIT_ASCII = 0xc0;
const TYPE_MASK = 0xc0;
const FIELD_LENGTH_MASK = 0x3f;
const FIELD_MAX_LENGTH = 63;

/** What the composition root knows about the machine; the serial usually derives from the node name. */
export interface FruIdentity {
  readonly manufacturer: string;
  readonly productName: string;
  readonly partNumber: string;
  readonly serialNumber: string;
  readonly assetTag?: string;
  /** Defaults to serialNumber. */
  readonly boardSerial?: string;
  /** Defaults to productName. */
  readonly boardProduct?: string;
  /** Defaults to partNumber. */
  readonly boardPartNumber?: string;
  /** Defaults to "1.0". */
  readonly productVersion?: string;
  /** Defaults to partNumber. */
  readonly chassisPartNumber?: string;
  /** Defaults to serialNumber. */
  readonly chassisSerial?: string;
  /** Defaults to 17h rack mount. */
  readonly chassisType?: number;
}

/** One 8-bit ASCII field: Latin-1, at most 63 bytes, never the single-byte C1h form. */
export function encodeFruField(text: string): Buffer {
  let bytes = Buffer.from(text.replace(/[^\x20-\x7e\xa0-\xff]/g, '?'), 'latin1').subarray(0, FIELD_MAX_LENGTH);
  if (bytes.length === 1) bytes = Buffer.concat([bytes, Buffer.from(' ')]);
  return Buffer.concat([Buffer.from([TYPE_8BIT_ASCII | bytes.length]), bytes]);
}

/** Closes an area: end marker, zero padding, length byte (byte 1) and the trailing checksum. */
function finishArea(head: ByteWriter, fields: readonly string[]): Buffer {
  for (const f of fields) head.bytes(encodeFruField(f));
  head.u8(FRU_END_OF_FIELDS);
  const unpadded = head.length + 1; // + checksum
  const total = Math.ceil(unpadded / FRU_MULTIPLE) * FRU_MULTIPLE;
  head.fill(0, total - unpadded);
  const area = Buffer.concat([head.toBuffer(), Buffer.alloc(1)]);
  area[1] = total / FRU_MULTIPLE;
  area[total - 1] = ipmiChecksum(area, 0, total - 1);
  return area;
}

export function encodeChassisArea(id: FruIdentity): Buffer {
  const head = new ByteWriter(64).u8(FRU_FORMAT_VERSION).u8(0).u8(id.chassisType ?? CHASSIS_TYPE_RACK_MOUNT);
  return finishArea(head, [id.chassisPartNumber ?? id.partNumber, id.chassisSerial ?? id.serialNumber]);
}

export function encodeBoardArea(id: FruIdentity): Buffer {
  const head = new ByteWriter(96).u8(FRU_FORMAT_VERSION).u8(0).u8(FRU_LANGUAGE_ENGLISH)
    .u8(MFG_DATE_UNSPECIFIED).u8(MFG_DATE_UNSPECIFIED).u8(MFG_DATE_UNSPECIFIED);
  return finishArea(head, [
    id.manufacturer,
    id.boardProduct ?? id.productName,
    id.boardSerial ?? id.serialNumber,
    id.boardPartNumber ?? id.partNumber,
    '', // FRU file ID
  ]);
}

export function encodeProductArea(id: FruIdentity): Buffer {
  const head = new ByteWriter(128).u8(FRU_FORMAT_VERSION).u8(0).u8(FRU_LANGUAGE_ENGLISH);
  return finishArea(head, [
    id.manufacturer,
    id.productName,
    id.partNumber,
    id.productVersion ?? '1.0',
    id.serialNumber,
    id.assetTag ?? '',
    '', // FRU file ID
  ]);
}

/** The whole FRU 0 image: common header, chassis, board and product areas. */
export function buildFruImage(id: FruIdentity): Buffer {
  const chassis = encodeChassisArea(id);
  const board = encodeBoardArea(id);
  const product = encodeProductArea(id);
  const chassisOffset = FRU_COMMON_HEADER_LENGTH;
  const boardOffset = chassisOffset + chassis.length;
  const productOffset = boardOffset + board.length;
  const header = Buffer.from([
    FRU_FORMAT_VERSION,
    0, // no internal use area
    chassisOffset / FRU_MULTIPLE,
    boardOffset / FRU_MULTIPLE,
    productOffset / FRU_MULTIPLE,
    0, // no multirecord area
    0,
    0,
  ]);
  header[FRU_COMMON_HEADER_LENGTH - 1] = ipmiChecksum(header, 0, FRU_COMMON_HEADER_LENGTH - 1);
  return Buffer.concat([header, chassis, board, product]);
}

// ---- decoding (used by the specs: what ipmitool's `fru print` would see) ----

export interface DecodedFruArea {
  readonly version: number;
  readonly length: number;
  /** Chassis type (chassis area) or language code (board, product). */
  readonly typeOrLanguage: number;
  readonly mfgDateMinutes?: number;
  readonly fields: readonly string[];
}

export interface DecodedFruImage {
  readonly offsets: { readonly internal: number; readonly chassis: number; readonly board: number; readonly product: number; readonly multi: number };
  readonly chassis?: DecodedFruArea;
  readonly board?: DecodedFruArea;
  readonly product?: DecodedFruArea;
}

function decodeArea(image: Buffer, offset: number, kind: 'chassis' | 'board' | 'product'): DecodedFruArea {
  const r = new ByteReader(image, offset);
  const version = r.u8();
  const length = r.u8() * FRU_MULTIPLE;
  if (length === 0 || offset + length > image.length) {
    throw new ProtocolError(ProtocolErrorCode.Malformed, { field: `${kind} area length`, length });
  }
  if (ipmiChecksum(image, offset, offset + length) !== 0) {
    throw new ProtocolError(ProtocolErrorCode.BadChecksum, { field: `${kind} area` });
  }
  const typeOrLanguage = r.u8();
  let mfgDateMinutes: number | undefined;
  if (kind === 'board') mfgDateMinutes = r.u8() | (r.u8() << 8) | (r.u8() << 16);
  const fields: string[] = [];
  const end = offset + length - 1;
  for (;;) {
    if (r.offset >= end) throw new ProtocolError(ProtocolErrorCode.Malformed, { field: `${kind} area end marker` });
    const typeLength = r.u8();
    if (typeLength === FRU_END_OF_FIELDS) break;
    if ((typeLength & TYPE_MASK) !== TYPE_8BIT_ASCII) {
      throw new ProtocolError(ProtocolErrorCode.Malformed, { field: `${kind} field type`, typeLength });
    }
    fields.push(r.bytes(typeLength & FIELD_LENGTH_MASK).toString('latin1'));
  }
  return { version, length, typeOrLanguage, ...(mfgDateMinutes !== undefined ? { mfgDateMinutes } : {}), fields };
}

export function decodeFruImage(image: Buffer): DecodedFruImage {
  if (image.length < FRU_COMMON_HEADER_LENGTH || ipmiChecksum(image, 0, FRU_COMMON_HEADER_LENGTH) !== 0) {
    throw new ProtocolError(ProtocolErrorCode.BadChecksum, { field: 'common header' });
  }
  if (image[0] !== FRU_FORMAT_VERSION) throw new ProtocolError(ProtocolErrorCode.Malformed, { field: 'format version' });
  const at = (i: number): number => image[i]! * FRU_MULTIPLE;
  const offsets = { internal: at(1), chassis: at(2), board: at(3), product: at(4), multi: at(5) };
  return {
    offsets,
    ...(offsets.chassis ? { chassis: decodeArea(image, offsets.chassis, 'chassis') } : {}),
    ...(offsets.board ? { board: decodeArea(image, offsets.board, 'board') } : {}),
    ...(offsets.product ? { product: decodeArea(image, offsets.product, 'product') } : {}),
  };
}
