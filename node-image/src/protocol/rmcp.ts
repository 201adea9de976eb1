/**
 * RMCP header (DMTF ASF 2.0 section 3.2.2; IPMI spec 13.1.3) and ASF Presence Ping/Pong
 * (ASF 2.0 section 3.2.4.3; reference section 1.2). ASF fields are big-endian.
 *
 * RMCP header: 0 version 0x06 | 1 reserved | 2 sequence (0xFF = no ACK) | 3 class (bit 7 ACK, bits 4:0 class)
 * ASF message: 4 IANA 4542 (u32be) | 8 message type | 9 tag | 10 reserved | 11 data length | 12.. data
 */
import { ProtocolError, ProtocolErrorCode } from './errors';
import { ByteReader } from './wire/byte-reader';
import { ByteWriter } from './wire/byte-writer';

export const RMCP_VERSION_1_0 = 0x06;
export const RMCP_HEADER_LENGTH = 4;
export const RMCP_SEQ_NO_ACK = 0xff;

export const RmcpClass = { Asf: 0x06, Ipmi: 0x07, Oem: 0x08 } as const;
const RMCP_CLASS_MASK = 0x1f;
const RMCP_ACK_FLAG = 0x80;

export const ASF_IANA = 4542;
export const AsfMessageType = { PresencePong: 0x40, PresencePing: 0x80 } as const;
/** Pong "supported entities": bit 7 IPMI supported, bits 3:0 = 1 (ASF version 1.0). */
const ASF_ENTITIES_IPMI_ASF1 = 0x81;
const ASF_PONG_DATA_LENGTH = 16;

export interface RmcpHeader {
  readonly kind: 'rmcp';
  readonly sequence: number;
  readonly rmcpClass: number;
  readonly isAck: boolean;
}

export function decodeRmcpHeader(r: ByteReader): RmcpHeader {
  const version = r.u8();
  if (version !== RMCP_VERSION_1_0) throw new ProtocolError(ProtocolErrorCode.Malformed, { field: 'rmcp.version', value: version });
  r.u8();
  const sequence = r.u8();
  const cls = r.u8();
  return { kind: 'rmcp', sequence, rmcpClass: cls & RMCP_CLASS_MASK, isAck: (cls & RMCP_ACK_FLAG) !== 0 };
}

export function encodeRmcpHeader(w: ByteWriter, rmcpClass: number, sequence = RMCP_SEQ_NO_ACK): void {
  w.u8(RMCP_VERSION_1_0).u8(0).u8(sequence).u8(rmcpClass);
}

export interface AsfMessage {
  readonly kind: 'asf';
  readonly iana: number;
  readonly messageType: number;
  readonly tag: number;
  readonly data: Buffer;
}

export function decodeAsfMessage(r: ByteReader): AsfMessage {
  const iana = r.u32be();
  const messageType = r.u8();
  const tag = r.u8();
  r.u8();
  const length = r.u8();
  return { kind: 'asf', iana, messageType, tag, data: r.bytes(length) };
}

/** The complete Presence Pong datagram answering a ping with this tag. */
export function encodePresencePong(tag: number): Buffer {
  const w = new ByteWriter(28);
  encodeRmcpHeader(w, RmcpClass.Asf);
  w.u32be(ASF_IANA).u8(AsfMessageType.PresencePong).u8(tag).u8(0).u8(ASF_PONG_DATA_LENGTH);
  w.u32be(ASF_IANA).u32be(0).u8(ASF_ENTITIES_IPMI_ASF1).u8(0).fill(0, 6);
  return w.toBuffer();
}

/** RMCP ACK for a message whose sequence is not 0xFF (ASF 3.2.2.3). */
export function encodeRmcpAck(sequence: number, rmcpClass: number): Buffer {
  const w = new ByteWriter(4);
  encodeRmcpHeader(w, rmcpClass | RMCP_ACK_FLAG, sequence);
  return w.toBuffer();
}
