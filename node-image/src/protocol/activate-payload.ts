/**
 * Activate Payload response data, after the completion code: IPMI v2.0 section 24.1, table 24-2.
 *
 * 0   auxiliary response data   u32le, payload specific; 0 for SOL (no test mode, no extra data)
 * 4   inbound payload size      u16le, largest payload the remote console may send, header included
 * 6   outbound payload size     u16le, largest payload the BMC will send
 * 8   payload UDP port number   u16le, where the console sends this payload's packets ("LS byte first")
 * 10  payload VLAN number       u16le, 0xFFFF = no VLAN
 *
 * The port is what clients check: ipmitool 1.8.19 refuses SOL when it differs from the port it talks
 * to; FreeIPMI's ipmiconsole (1.6) starts its session again on that port when it talks to port 623,
 * and gives up on any other.
 */
import { ProtocolError, ProtocolErrorCode } from './errors';
import { ByteReader } from './wire/byte-reader';
import { ByteWriter } from './wire/byte-writer';

export const ACTIVATE_PAYLOAD_RESPONSE_LENGTH = 12;
/** Payload VLAN number when the payload is not on a VLAN (table 24-2). */
export const NO_VLAN = 0xffff;

const MAX_U16 = 0xffff;
const MAX_U32 = 0xffff_ffff;

export interface ActivatePayloadResponse {
  readonly kind: 'activate-payload-response';
  readonly auxiliaryResponseData: number;
  readonly inboundPayloadSize: number;
  readonly outboundPayloadSize: number;
  readonly payloadUdpPortNumber: number;
  readonly payloadVlanNumber: number;
}

export function decodeActivatePayloadResponse(data: Buffer): ActivatePayloadResponse {
  const r = new ByteReader(data);
  const response: ActivatePayloadResponse = {
    kind: 'activate-payload-response',
    auxiliaryResponseData: r.u32le(),
    inboundPayloadSize: r.u16le(),
    outboundPayloadSize: r.u16le(),
    payloadUdpPortNumber: r.u16le(),
    payloadVlanNumber: r.u16le(),
  };
  if (r.remaining !== 0) throw new ProtocolError(ProtocolErrorCode.Malformed, { field: 'length', value: data.length });
  return response;
}

function checkField(field: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) throw new ProtocolError(ProtocolErrorCode.Malformed, { field, value });
}

export function encodeActivatePayloadResponse(response: ActivatePayloadResponse): Buffer {
  checkField('auxiliaryResponseData', response.auxiliaryResponseData, 0, MAX_U32);
  checkField('inboundPayloadSize', response.inboundPayloadSize, 0, MAX_U16);
  checkField('outboundPayloadSize', response.outboundPayloadSize, 0, MAX_U16);
  // Port 0 would send the console nowhere: a BMC always names a real port.
  checkField('payloadUdpPortNumber', response.payloadUdpPortNumber, 1, MAX_U16);
  checkField('payloadVlanNumber', response.payloadVlanNumber, 0, MAX_U16);
  return new ByteWriter(ACTIVATE_PAYLOAD_RESPONSE_LENGTH)
    .u32le(response.auxiliaryResponseData)
    .u16le(response.inboundPayloadSize)
    .u16le(response.outboundPayloadSize)
    .u16le(response.payloadUdpPortNumber)
    .u16le(response.payloadVlanNumber)
    .toBuffer();
}
