/**
 * IPMI LAN message (spec 13.8, figure 13-4; reference section 1.6): the body of IPMI 1.5 sessions
 * and of RMCP+ payload type 0.
 *
 * Request:  0 rsAddr | 1 netFn<<2|rsLUN | 2 chk1(0..1) | 3 rqAddr | 4 rqSeq<<2|rqLUN | 5 cmd | 6.. data | last chk2(3..last-1)
 * Response: 0 rqAddr | 1 (netFn|1)<<2|rqLUN | 2 chk1 | 3 rsAddr | 4 rqSeq<<2|rsLUN | 5 cmd | 6 completion code | 7.. data | last chk2
 */
import { ProtocolError, ProtocolErrorCode } from './errors';
import { checksumValid, ipmiChecksum } from './wire/checksum';

/** Smallest request: six header bytes plus the trailing checksum. */
export const IPMI_REQUEST_MIN_LENGTH = 7;
export const BMC_SLAVE_ADDRESS = 0x20;
/** rqAddr of remote console software (ipmitool, FreeIPMI). */
export const REMOTE_CONSOLE_SWID = 0x81;

export interface IpmiRequest {
  readonly kind: 'ipmi-request';
  readonly rsAddr: number;
  readonly netFn: number;
  readonly rsLun: number;
  readonly rqAddr: number;
  readonly rqSeq: number;
  readonly rqLun: number;
  readonly cmd: number;
  readonly data: Buffer;
}

export interface IpmiResponse {
  readonly kind: 'ipmi-response';
  readonly rqAddr: number;
  /** The request's NetFn (even); the encoder sets the response bit. */
  readonly netFn: number;
  readonly rqLun: number;
  readonly rsAddr: number;
  readonly rqSeq: number;
  readonly rsLun: number;
  readonly cmd: number;
  readonly completionCode: number;
  readonly data: Buffer;
}

export function decodeIpmiRequest(buf: Buffer): IpmiRequest {
  if (buf.length < IPMI_REQUEST_MIN_LENGTH) {
    throw new ProtocolError(ProtocolErrorCode.Truncated, { offset: buf.length, needed: IPMI_REQUEST_MIN_LENGTH });
  }
  if (!checksumValid(buf, 0, 3)) throw new ProtocolError(ProtocolErrorCode.BadChecksum, { which: 1 });
  if (!checksumValid(buf, 3, buf.length)) throw new ProtocolError(ProtocolErrorCode.BadChecksum, { which: 2 });
  const b1 = buf[1]!;
  const b4 = buf[4]!;
  return {
    kind: 'ipmi-request',
    rsAddr: buf[0]!,
    netFn: b1 >> 2,
    rsLun: b1 & 0x3,
    rqAddr: buf[3]!,
    rqSeq: b4 >> 2,
    rqLun: b4 & 0x3,
    cmd: buf[5]!,
    data: Buffer.from(buf.subarray(6, buf.length - 1)),
  };
}

export function encodeIpmiResponse(r: Omit<IpmiResponse, 'kind'>): Buffer {
  const out = Buffer.allocUnsafe(8 + r.data.length);
  out[0] = r.rqAddr;
  out[1] = (((r.netFn | 1) << 2) | (r.rqLun & 0x3)) & 0xff;
  out[2] = ipmiChecksum(out, 0, 2);
  out[3] = r.rsAddr;
  out[4] = ((r.rqSeq << 2) | (r.rsLun & 0x3)) & 0xff;
  out[5] = r.cmd;
  out[6] = r.completionCode;
  r.data.copy(out, 7);
  out[out.length - 1] = ipmiChecksum(out, 3, out.length - 1);
  return out;
}

/** The response skeleton for a request: addresses swapped, sequence and LUNs echoed. */
export function responseFor(req: IpmiRequest, completionCode: number, data: Buffer = Buffer.alloc(0)): Buffer {
  return encodeIpmiResponse({
    rqAddr: req.rqAddr,
    netFn: req.netFn & ~1,
    rqLun: req.rqLun,
    rsAddr: req.rsAddr,
    rqSeq: req.rqSeq,
    rsLun: req.rsLun,
    cmd: req.cmd,
    completionCode,
    data,
  });
}

/** A request, as a BMC sends one unsolicited (e.g. SOL Activating) or as a client sends one. */
export function encodeIpmiRequest(r: Omit<IpmiRequest, 'kind'>): Buffer {
  const out = Buffer.allocUnsafe(7 + r.data.length);
  out[0] = r.rsAddr;
  out[1] = ((r.netFn << 2) | (r.rsLun & 0x3)) & 0xff;
  out[2] = ipmiChecksum(out, 0, 2);
  out[3] = r.rqAddr;
  out[4] = ((r.rqSeq << 2) | (r.rqLun & 0x3)) & 0xff;
  out[5] = r.cmd;
  r.data.copy(out, 6);
  out[out.length - 1] = ipmiChecksum(out, 3, out.length - 1);
  return out;
}

/** Decodes a response (used by the project's own IPMI client and by tests). */
export function decodeIpmiResponse(buf: Buffer): IpmiResponse {
  if (buf.length < 8) throw new ProtocolError(ProtocolErrorCode.Truncated, { offset: buf.length, needed: 8 });
  if (!checksumValid(buf, 0, 3)) throw new ProtocolError(ProtocolErrorCode.BadChecksum, { which: 1 });
  if (!checksumValid(buf, 3, buf.length)) throw new ProtocolError(ProtocolErrorCode.BadChecksum, { which: 2 });
  return {
    kind: 'ipmi-response',
    rqAddr: buf[0]!,
    netFn: (buf[1]! >> 2) & ~1,
    rqLun: buf[1]! & 0x3,
    rsAddr: buf[3]!,
    rqSeq: buf[4]! >> 2,
    rsLun: buf[4]! & 0x3,
    cmd: buf[5]!,
    completionCode: buf[6]!,
    data: Buffer.from(buf.subarray(7, buf.length - 1)),
  };
}
