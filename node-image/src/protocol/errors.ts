/**
 * Protocol-level errors and the code tables of IPMI v2.0 rev 1.1:
 * completion codes (section 5.2, table 5-2) and RMCP+ status codes (section 13.24, table 13-15).
 */

export const ProtocolErrorCode = {
  /** A read ran past the end of the datagram. */
  Truncated: 'TRUNCATED',
  /** A field holds a value the format does not allow. */
  Malformed: 'MALFORMED',
  /** A checksum in an IPMI message does not add up. */
  BadChecksum: 'BAD_CHECKSUM',
  /** Confidentiality trailer or decryption failed. */
  BadPadding: 'BAD_PADDING',
} as const;
export type ProtocolErrorCode = (typeof ProtocolErrorCode)[keyof typeof ProtocolErrorCode];

export class ProtocolError extends Error {
  constructor(
    readonly code: ProtocolErrorCode,
    readonly details: Readonly<Record<string, number | string>> = {},
  ) {
    super(`${code} ${JSON.stringify(details)}`);
    this.name = 'ProtocolError';
  }
}

/** IPMI completion codes (spec table 5-2). */
export const CompletionCode = {
  Ok: 0x00,
  NodeBusy: 0xc0,
  InvalidCommand: 0xc1,
  InvalidForLun: 0xc2,
  Timeout: 0xc3,
  OutOfSpace: 0xc4,
  ReservationInvalid: 0xc5,
  RequestDataTruncated: 0xc6,
  RequestDataLengthInvalid: 0xc7,
  RequestDataFieldLengthExceeded: 0xc8,
  ParameterOutOfRange: 0xc9,
  CannotReturnRequestedBytes: 0xca,
  NotPresent: 0xcb,
  InvalidDataField: 0xcc,
  IllegalForSensorOrRecord: 0xcd,
  ResponseUnavailable: 0xce,
  DuplicateRequest: 0xcf,
  SdrInUpdateMode: 0xd0,
  FirmwareUpdateMode: 0xd1,
  InitializationInProgress: 0xd2,
  DestinationUnavailable: 0xd3,
  InsufficientPrivilege: 0xd4,
  NotSupportedInPresentState: 0xd5,
  ParameterDisabled: 0xd6,
  Unspecified: 0xff,
} as const;
export type CompletionCode = number;

/** RMCP+ and RAKP message status codes (spec table 13-15). */
export const RakpStatus = {
  NoErrors: 0x00,
  InsufficientResources: 0x01,
  InvalidSessionId: 0x02,
  InvalidPayloadType: 0x03,
  InvalidAuthAlgorithm: 0x04,
  InvalidIntegrityAlgorithm: 0x05,
  NoMatchingAuthPayload: 0x06,
  NoMatchingIntegrityPayload: 0x07,
  InactiveSessionId: 0x08,
  InvalidRole: 0x09,
  UnauthorizedRole: 0x0a,
  InsufficientResourcesAtRole: 0x0b,
  InvalidNameLength: 0x0c,
  UnauthorizedName: 0x0d,
  UnauthorizedGuid: 0x0e,
  InvalidIntegrityCheckValue: 0x0f,
  InvalidConfidentialityAlgorithm: 0x10,
  NoCipherSuiteMatch: 0x11,
  IllegalParameter: 0x12,
} as const;
export type RakpStatus = (typeof RakpStatus)[keyof typeof RakpStatus];

/** Privilege levels (spec table 6-1 / Appendix B of the reference). */
export const Privilege = {
  None: 0x0,
  Callback: 0x1,
  User: 0x2,
  Operator: 0x3,
  Administrator: 0x4,
  Oem: 0x5,
  NoAccess: 0xf,
} as const;
export type Privilege = number;

export function privilegeName(level: number): string {
  switch (level) {
    case Privilege.Callback: return 'CALLBACK';
    case Privilege.User: return 'USER';
    case Privilege.Operator: return 'OPERATOR';
    case Privilege.Administrator: return 'ADMINISTRATOR';
    case Privilege.Oem: return 'OEM';
    case Privilege.NoAccess: return 'NO ACCESS';
    default: return `0x${level.toString(16)}`;
  }
}
