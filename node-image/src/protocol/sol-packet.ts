/**
 * SOL payload (RMCP+ payload type 1): IPMI v2.0 section 15.9, table 15-2; reference 8.3.
 *
 * 0  packet sequence number   u8, bits 3:0; 1..15, 0 = carries no data and needs no ACK
 * 1  ACK/NACK sequence number u8, bits 3:0; sequence number being acknowledged, 0 = no ACK here
 * 2  accepted character count u8, characters accepted from the acknowledged packet
 * 3  operation/status         u8, console→BMC: SolConsoleOperation bits; BMC→console: SolBmcStatus bits
 * 4… character data           0 … (payload size − 4) bytes
 *
 * The reserved high nibbles of bytes 0 and 1 are ignored on decode and written as 0.
 */
import { ProtocolError, ProtocolErrorCode } from './errors';
import { ByteReader } from './wire/byte-reader';
import { ByteWriter } from './wire/byte-writer';

/** The four header bytes in front of the character data. */
export const SOL_HEADER_LENGTH = 4;
/** Sequence numbers live in bits 3:0. */
export const SOL_SEQUENCE_MASK = 0x0f;
/** Highest sequence number; after it the counter wraps to 1 (0 means "no sequence"). */
export const SOL_MAX_SEQUENCE_NUMBER = 0x0f;
/** The accepted character count is one byte, so no packet may carry more characters. */
export const SOL_MAX_CHARACTERS_PER_PACKET = 0xff;

/** Operation bits, remote console → BMC (table 15-2, byte 4). */
export const SolConsoleOperation = {
  /** The acknowledged packet was not accepted (retry later). */
  Nack: 0x40,
  /** Assert RI (ring indicate / wake on ring). */
  RingWor: 0x20,
  /** Generate a break on the system serial port. */
  GenerateBreak: 0x10,
  /** Deassert CTS to the system (pause the host's output). */
  DeassertCts: 0x08,
  /** Deassert DCD/DSR to the system. */
  DeassertDcdDsr: 0x04,
  /** Flush inbound: drop characters queued from the console towards the system. */
  FlushInbound: 0x02,
  /** Flush outbound: drop characters queued from the system towards the console. */
  FlushOutbound: 0x01,
} as const;

/** Status bits, BMC → remote console (table 15-2, byte 4). */
export const SolBmcStatus = {
  /** The acknowledged packet was not accepted. */
  Nack: 0x40,
  /** The BMC cannot take characters now; the console should pause. */
  CharacterTransferUnavailable: 0x20,
  /** SOL is being deactivated (the last packet of the payload instance). */
  SolDeactivating: 0x10,
  /** Characters from the system were dropped before they could be sent. */
  CharacterTransmitOverrun: 0x08,
  /** A break was detected on the system serial port. */
  BreakDetected: 0x04,
} as const;

export interface SolPacket {
  readonly kind: 'sol';
  readonly packetSequenceNumber: number;
  readonly ackNackSequenceNumber: number;
  readonly acceptedCharacterCount: number;
  /** SolConsoleOperation bits (inbound) or SolBmcStatus bits (outbound). */
  readonly operationStatus: number;
  readonly data: Buffer;
}

export function decodeSolPacket(payload: Buffer): SolPacket {
  const r = new ByteReader(payload);
  const packetSequenceNumber = r.u8() & SOL_SEQUENCE_MASK;
  const ackNackSequenceNumber = r.u8() & SOL_SEQUENCE_MASK;
  const acceptedCharacterCount = r.u8();
  const operationStatus = r.u8();
  return {
    kind: 'sol',
    packetSequenceNumber,
    ackNackSequenceNumber,
    acceptedCharacterCount,
    operationStatus,
    data: r.rest(),
  };
}

function checkField(field: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new ProtocolError(ProtocolErrorCode.Malformed, { field, value });
  }
}

export function encodeSolPacket(packet: SolPacket): Buffer {
  checkField('packetSequenceNumber', packet.packetSequenceNumber, SOL_MAX_SEQUENCE_NUMBER);
  checkField('ackNackSequenceNumber', packet.ackNackSequenceNumber, SOL_MAX_SEQUENCE_NUMBER);
  checkField('acceptedCharacterCount', packet.acceptedCharacterCount, 0xff);
  checkField('operationStatus', packet.operationStatus, 0xff);
  // Table 15-2: sequence number 0 means the packet carries no character data.
  if (packet.packetSequenceNumber === 0 && packet.data.length > 0) {
    throw new ProtocolError(ProtocolErrorCode.Malformed, { field: 'data', value: packet.data.length });
  }
  checkField('data.length', packet.data.length, SOL_MAX_CHARACTERS_PER_PACKET);
  return new ByteWriter(SOL_HEADER_LENGTH + packet.data.length)
    .u8(packet.packetSequenceNumber)
    .u8(packet.ackNackSequenceNumber)
    .u8(packet.acceptedCharacterCount)
    .u8(packet.operationStatus)
    .bytes(packet.data)
    .toBuffer();
}
