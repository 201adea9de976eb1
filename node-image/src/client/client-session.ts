/**
 * Client (remote console) side of an RMCP+ session: IPMI v2.0 sections 13.17–13.32 (Open Session,
 * RAKP 1–4, session keys), 13.28–13.29 (integrity, confidentiality) and 6.12.13 (sequence numbers);
 * reference sections 2, 3, 4 and 5.1. Built only from the agent's own codecs; no crypto of its own.
 *
 * Pure: no sockets, timers, clock or randomness. The caller supplies the console session id, Rm and
 * one IV per encrypted packet, and hands in every received datagram; each method returns the
 * datagram to send or throws ClientSessionError.
 *
 *   openSessionRequest(consoleSessionId) → acceptOpenSessionResponse(datagram)
 *   rakp1(Rm)                            → acceptRakp2(datagram)   verifies the BMC's HMAC (password)
 *   rakp3()                              → acceptRakp4(datagram)   verifies the ICV (SIK) → active
 *   request(netFn, cmd, data, { iv })    → parseResponse(datagram) verifies AuthCode, decrypts
 *
 * Outbound session packet: RMCP header | 06 | payload type (bit 7 encrypted, bit 6 authenticated)
 *   | BMC session id (u32le) | session sequence (u32le) | length (u16le) | [IV | AES-CBC] payload
 *   | integrity pad | pad length | 07 | AuthCode.
 * Sessionless helpers at the end: RMCP+ framed requests with session 0 (Get Channel Cipher Suites)
 * and IPMI 1.5 framed Get Channel Authentication Capabilities.
 */
import { timingSafeEqual } from 'node:crypto';
import { Privilege, ProtocolError, RakpStatus } from '../protocol/errors';
import { AppCmd, NetFn, PayloadType } from '../protocol/netfn';
import { decodeRmcpHeader, RmcpClass } from '../protocol/rmcp';
import { ByteReader } from '../protocol/wire/byte-reader';
import { BMC_SLAVE_ADDRESS, decodeIpmiResponse, encodeIpmiRequest, REMOTE_CONSOLE_SWID } from '../protocol/ipmi-message';
import { AUTH_TYPE_RMCPPLUS, decodeRmcpPlusPacket, encodeRmcpPlusPacket, RmcpPlusPacket, verifyIntegrity } from '../protocol/session/rmcpplus-packet';
import { decodeIpmi15Packet, encodeIpmi15Packet } from '../protocol/session/ipmi15-packet';
import { AlgorithmPayloadType, decodeOpenSessionResponse, encodeOpenSessionRequest } from '../protocol/session/open-session';
import { decodeRakpReply, encodeRakp1, encodeRakp3, GUID_LENGTH, MAX_USER_NAME_LENGTH, RAKP_RANDOM_LENGTH, ROLE_NAME_ONLY_LOOKUP, ROLE_PRIVILEGE_MASK } from '../protocol/session/rakp';
import { acceptSequence, EMPTY_WINDOW, nextOutboundSequence, SequenceWindow } from '../protocol/session/sequence-window';
import type { CipherSuite } from '../protocol/crypto/cipher-suites';
import { deriveSessionKeys, rakp2Hmac, rakp3Hmac, rakp4Icv, RakpParticipants, SessionKeys } from '../protocol/crypto/session-keys';
import { AES_BLOCK, decryptAesCbc128, encryptAesCbc128 } from '../protocol/crypto/confidentiality';
import { AuthType15 } from '../protocol/crypto/auth15';

/** IPMI 2.0 passwords are at most 20 bytes (section 13.31; Set User Password 20-byte form). */
export const MAX_PASSWORD_LENGTH = 20;
/** rqSeq is 6 bits (section 13.8). */
export const RQ_SEQ_MODULUS = 64;
/** "This channel" in channel-number fields (table 6-2 note). */
export const CURRENT_CHANNEL = 0x0e;
/** Get Channel Authentication Capabilities byte 1 bit 7: ask for the IPMI v2.0 extended data. */
const AUTH_CAPS_EXTENDED = 0x80;
/** Get Channel Cipher Suites byte 3 bit 7: list by cipher suite (not by algorithm). */
const CIPHER_LIST_BY_SUITE = 0x80;
const CIPHER_LIST_INDEX_MASK = 0x3f;
/** Cipher suite record start bytes (table 22-19). */
const CIPHER_RECORD_STANDARD = 0xc0;
const CIPHER_RECORD_OEM = 0xc1;
const CIPHER_ALGORITHM_MASK = 0x3f;
const OEM_IANA_LENGTH = 3;
const EMPTY = Buffer.alloc(0);

// ------------------------------------------------------------------ errors

export const ClientSessionErrorCode = {
  /** Open Session Response carried a non-zero RMCP+ status. */
  OpenSessionRefused: 'OPEN_SESSION_REFUSED',
  /** The BMC accepted algorithms other than the ones proposed. */
  AlgorithmMismatch: 'ALGORITHM_MISMATCH',
  /** RAKP2 carried a non-zero status (e.g. unknown user). */
  Rakp2Refused: 'RAKP2_REFUSED',
  /** RAKP2's key exchange HMAC does not match our password: wrong password (or user). */
  Rakp2HmacInvalid: 'RAKP2_HMAC_INVALID',
  /** RAKP4 carried a non-zero status (the BMC rejected our RAKP3). */
  Rakp4Refused: 'RAKP4_REFUSED',
  /** RAKP4's integrity check value does not match the session keys. */
  Rakp4IcvInvalid: 'RAKP4_ICV_INVALID',
  /** Not the message expected now: another payload type, tag, or console session id (ignorable). */
  UnexpectedMessage: 'UNEXPECTED_MESSAGE',
  /** A session packet addressed to another console session id (ignorable). */
  WrongSession: 'WRONG_SESSION',
  /** A session packet without the integrity or encryption the suite requires. */
  NotProtected: 'NOT_PROTECTED',
  /** The AuthCode of a session packet is wrong. */
  BadAuthCode: 'BAD_AUTHCODE',
  /** The payload does not decrypt to a valid confidentiality trailer. */
  BadPadding: 'BAD_PADDING',
  /** The BMC's session sequence number was already seen or is outside the window. */
  Replay: 'REPLAY',
  /** The datagram does not parse. */
  Malformed: 'MALFORMED',
  /** A method was called in the wrong handshake stage. */
  InvalidState: 'INVALID_STATE',
  /** A caller-supplied value is out of range. */
  InvalidArgument: 'INVALID_ARGUMENT',
} as const;
export type ClientSessionErrorCode = (typeof ClientSessionErrorCode)[keyof typeof ClientSessionErrorCode];

export class ClientSessionError extends Error {
  constructor(
    readonly code: ClientSessionErrorCode,
    message: string,
    /** The RMCP+ status code when the BMC refused a step. */
    readonly status?: number,
    /** A datagram the caller should still send to the BMC (e.g. RAKP3 carrying our rejection). */
    readonly reply?: Buffer,
  ) {
    super(message);
    this.name = 'ClientSessionError';
  }
}

/** Errors about a single stray datagram; a client keeps waiting for the right one. */
export function isIgnorableDatagramError(err: unknown): boolean {
  if (!(err instanceof ClientSessionError)) return false;
  const c = err.code;
  return c === ClientSessionErrorCode.UnexpectedMessage || c === ClientSessionErrorCode.WrongSession || c === ClientSessionErrorCode.Malformed
    || c === ClientSessionErrorCode.BadAuthCode || c === ClientSessionErrorCode.NotProtected || c === ClientSessionErrorCode.BadPadding
    || c === ClientSessionErrorCode.Replay;
}

/** RMCP+ status codes (table 13-15) in the words ipmitool prints. */
const RAKP_STATUS_TEXT: Readonly<Record<number, string>> = {
  [RakpStatus.InsufficientResources]: 'insufficient resources for session',
  [RakpStatus.InvalidSessionId]: 'invalid session ID',
  [RakpStatus.InvalidPayloadType]: 'invalid payload type',
  [RakpStatus.InvalidAuthAlgorithm]: 'invalid authentication algorithm',
  [RakpStatus.InvalidIntegrityAlgorithm]: 'invalid integrity algorithm',
  [RakpStatus.NoMatchingAuthPayload]: 'no matching authentication payload',
  [RakpStatus.NoMatchingIntegrityPayload]: 'no matching integrity payload',
  [RakpStatus.InactiveSessionId]: 'inactive session ID',
  [RakpStatus.InvalidRole]: 'invalid role',
  [RakpStatus.UnauthorizedRole]: 'unauthorized role or privilege level requested',
  [RakpStatus.InsufficientResourcesAtRole]: 'insufficient resources to create a session at the requested role',
  [RakpStatus.InvalidNameLength]: 'invalid name length',
  [RakpStatus.UnauthorizedName]: 'unauthorized name',
  [RakpStatus.UnauthorizedGuid]: 'unauthorized GUID',
  [RakpStatus.InvalidIntegrityCheckValue]: 'invalid integrity check value',
  [RakpStatus.InvalidConfidentialityAlgorithm]: 'invalid confidentiality algorithm',
  [RakpStatus.NoCipherSuiteMatch]: 'no matching cipher suite',
  [RakpStatus.IllegalParameter]: 'illegal or unrecognized parameter',
};

const hex2 = (v: number): string => `0x${v.toString(16).toUpperCase().padStart(2, '0')}`;

/** e.g. "no matching cipher suite (0x11)". */
export function rakpStatusText(status: number): string {
  return `${RAKP_STATUS_TEXT[status] ?? 'unknown status'} (${hex2(status)})`;
}

/** Completion codes (table 5-2) as ipmitool words them. */
const COMPLETION_CODE_TEXT: Readonly<Record<number, string>> = {
  0x00: 'command completed normally',
  0xc0: 'node busy',
  0xc1: 'invalid command',
  0xc2: 'invalid command on LUN',
  0xc3: 'timeout',
  0xc4: 'out of space',
  0xc5: 'reservation cancelled or invalid',
  0xc6: 'request data truncated',
  0xc7: 'request data length invalid',
  0xc8: 'request data field length limit exceeded',
  0xc9: 'parameter out of range',
  0xca: 'cannot return number of requested data bytes',
  0xcb: 'requested sensor, data, or record not found',
  0xcc: 'invalid data field in request',
  0xcd: 'command illegal for specified sensor or record type',
  0xce: 'command response could not be provided',
  0xcf: 'cannot execute duplicated request',
  0xd0: 'SDR repository in update mode',
  0xd1: 'device in firmware update mode',
  0xd2: 'BMC initialization in progress',
  0xd3: 'destination unavailable',
  0xd4: 'insufficient privilege level',
  0xd5: 'command not supported in present state',
  0xd6: 'cannot execute command, command disabled',
  0xff: 'unspecified error',
};

/** e.g. "0xD5 (command not supported in present state)"; command-specific codes 0x80–0xBE have no fixed text. */
export function completionCodeText(cc: number): string {
  return `${hex2(cc)} (${COMPLETION_CODE_TEXT[cc] ?? 'command-specific error'})`;
}

// ------------------------------------------------------------------ configuration and results

export interface ClientSessionConfig {
  readonly userName: string | Buffer;
  readonly password: string | Buffer;
  readonly suite: CipherSuite;
  /** Privilege asked for in RAKP1's role byte (Privilege.User .. Privilege.Oem). */
  readonly privilege: number;
  /** RAKP1 role bit 4: name-only lookup (default true, as ipmitool and FreeIPMI send). */
  readonly nameOnlyLookup?: boolean;
  /**
   * Open Session "requested maximum privilege". Default as ipmitool: 0 ("highest matching") when
   * asking for Administrator, otherwise the privilege itself.
   */
  readonly openSessionPrivilege?: number;
  /** BMC key Kg, when the BMC has one configured; SIK is keyed with it instead of the password. */
  readonly kg?: Buffer | null;
  /** Message tag of the handshake messages (default 0). */
  readonly tag?: number;
  /** First outbound session sequence number (default 1; ipmitool's is 1 + its pre-session packets). */
  readonly initialSequence?: number;
  /** First rqSeq (default 1; cycles through 0..63). */
  readonly initialRqSeq?: number;
}

export type ClientStage =
  | 'initial' | 'awaiting-open-session-response' | 'awaiting-rakp1' | 'awaiting-rakp2'
  | 'awaiting-rakp3' | 'awaiting-rakp4' | 'active' | 'failed';

export interface RequestOptions {
  /** 16 fresh random bytes; required when the suite encrypts, ignored otherwise. */
  readonly iv?: Buffer;
  /** Reuse this rqSeq (a retransmission); otherwise the next one is allocated. */
  readonly rqSeq?: number;
  readonly rsAddr?: number;
  readonly rsLun?: number;
}

export interface OutboundRequest {
  readonly rqSeq: number;
  readonly netFn: number;
  readonly cmd: number;
  /** Session sequence number the datagram carries. */
  readonly sequence: number;
  readonly datagram: Buffer;
}

export interface ClientResponse {
  readonly rqSeq: number;
  /** The request's NetFn (even); the response bit is stripped so it matches the request. */
  readonly netFn: number;
  readonly cmd: number;
  readonly completionCode: number;
  readonly data: Buffer;
}

export interface InboundPayload {
  readonly payloadType: number;
  readonly sequence: number;
  /** Cleartext payload (decrypted when the suite encrypts). */
  readonly payload: Buffer;
}

/** Internal handshake state: a discriminated union, one shape per stage. */
type State =
  | { readonly stage: 'initial' }
  | { readonly stage: 'awaiting-open-session-response'; readonly consoleSessionId: number }
  | { readonly stage: 'awaiting-rakp1'; readonly consoleSessionId: number; readonly bmcSessionId: number }
  | { readonly stage: 'awaiting-rakp2'; readonly consoleSessionId: number; readonly bmcSessionId: number; readonly consoleRandom: Buffer }
  | { readonly stage: 'awaiting-rakp3'; readonly participants: RakpParticipants; readonly keys: SessionKeys }
  | { readonly stage: 'awaiting-rakp4'; readonly participants: RakpParticipants; readonly keys: SessionKeys }
  | { readonly stage: 'active'; readonly participants: RakpParticipants; readonly keys: SessionKeys }
  | { readonly stage: 'failed' };

function toBytes(v: string | Buffer): Buffer {
  return typeof v === 'string' ? Buffer.from(v, 'latin1') : Buffer.from(v);
}

function malformed(err: unknown): ClientSessionError {
  return new ClientSessionError(ClientSessionErrorCode.Malformed, `malformed datagram: ${err instanceof Error ? err.message : String(err)}`);
}

/** Parses a whole datagram as an RMCP+ packet; anything else is Malformed. */
function decodeRmcpPlusDatagram(datagram: Buffer): RmcpPlusPacket {
  try {
    const r = new ByteReader(datagram);
    const h = decodeRmcpHeader(r);
    if (h.isAck || h.rmcpClass !== RmcpClass.Ipmi || datagram[4] !== AUTH_TYPE_RMCPPLUS) {
      throw new ClientSessionError(ClientSessionErrorCode.Malformed, 'not an RMCP+ datagram');
    }
    return decodeRmcpPlusPacket(datagram, r);
  } catch (err) {
    if (err instanceof ClientSessionError) throw err;
    throw malformed(err);
  }
}

function u32le(v: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32LE(v >>> 0, 0);
  return b;
}

// ------------------------------------------------------------------ the session

export class ClientSession {
  private state: State = { stage: 'initial' };
  private readonly userName: Buffer;
  private readonly kuid: Buffer;
  private readonly role: number;
  private readonly tag: number;
  private outboundSequence: number;
  private nextRqSeq: number;
  private inbound: SequenceWindow = EMPTY_WINDOW;

  constructor(private readonly config: ClientSessionConfig) {
    this.userName = toBytes(config.userName);
    this.kuid = toBytes(config.password);
    if (this.userName.length > MAX_USER_NAME_LENGTH) throw invalidArgument(`user name longer than ${MAX_USER_NAME_LENGTH} bytes`);
    if (this.kuid.length > MAX_PASSWORD_LENGTH) throw invalidArgument(`password longer than ${MAX_PASSWORD_LENGTH} bytes`);
    if (config.privilege < Privilege.User || config.privilege > Privilege.Oem) throw invalidArgument(`privilege ${config.privilege} is not 2..5`);
    this.role = (config.privilege & ROLE_PRIVILEGE_MASK) | (config.nameOnlyLookup === false ? 0 : ROLE_NAME_ONLY_LOOKUP);
    this.tag = config.tag ?? 0;
    this.outboundSequence = config.initialSequence ?? 1;
    if (this.outboundSequence === 0) throw invalidArgument('session sequence 0 is never valid');
    this.nextRqSeq = config.initialRqSeq ?? 1;
    if (this.nextRqSeq < 0 || this.nextRqSeq >= RQ_SEQ_MODULUS) throw invalidArgument('rqSeq must be 0..63');
  }

  get stage(): ClientStage { return this.state.stage; }
  get suite(): CipherSuite { return this.config.suite; }

  /** The BMC's session id, once Open Session succeeded. */
  get bmcSessionId(): number | undefined {
    const s = this.state;
    if (s.stage === 'awaiting-rakp1' || s.stage === 'awaiting-rakp2') return s.bmcSessionId;
    if (s.stage === 'awaiting-rakp3' || s.stage === 'awaiting-rakp4' || s.stage === 'active') return s.participants.bmcSessionId;
    return undefined;
  }

  get consoleSessionId(): number | undefined {
    const s = this.state;
    if (s.stage === 'initial' || s.stage === 'failed') return undefined;
    if (s.stage === 'awaiting-rakp3' || s.stage === 'awaiting-rakp4' || s.stage === 'active') return s.participants.consoleSessionId;
    return s.consoleSessionId;
  }

  /** The session sequence number the next outbound session packet will carry. */
  get nextSequence(): number { return this.outboundSequence; }

  // -------------------------------------------------------------- handshake

  /** Open Session Request (payload 0x10). consoleSessionId: random, non-zero. */
  openSessionRequest(consoleSessionId: number): Buffer {
    this.expect('initial');
    if (consoleSessionId >>> 0 === 0) throw invalidArgument('console session id must be non-zero');
    const { suite } = this.config;
    const payload = encodeOpenSessionRequest({
      tag: this.tag,
      requestedPrivilege: this.config.openSessionPrivilege ?? (this.config.privilege === Privilege.Administrator ? Privilege.None : this.config.privilege),
      consoleSessionId: consoleSessionId >>> 0,
      auth: { payloadType: AlgorithmPayloadType.Authentication, algorithm: suite.auth.id },
      integrity: { payloadType: AlgorithmPayloadType.Integrity, algorithm: suite.integrity.id },
      confidentiality: { payloadType: AlgorithmPayloadType.Confidentiality, algorithm: suite.confidentiality.id },
    });
    this.state = { stage: 'awaiting-open-session-response', consoleSessionId: consoleSessionId >>> 0 };
    return sessionless(PayloadType.OpenSessionRequest, payload);
  }

  /** Checks the Open Session Response; a refusal names the RMCP+ status. */
  acceptOpenSessionResponse(datagram: Buffer): void {
    const s = this.expect('awaiting-open-session-response');
    const payload = this.handshakePayload(datagram, PayloadType.OpenSessionResponse);
    const m = parse(() => decodeOpenSessionResponse(payload));
    if (m.tag !== this.tag || m.consoleSessionId !== s.consoleSessionId) throw unexpected('Open Session Response for another request');
    if (m.status !== RakpStatus.NoErrors || !m.accepted) {
      this.state = { stage: 'failed' };
      throw new ClientSessionError(ClientSessionErrorCode.OpenSessionRefused, `Open Session refused: ${rakpStatusText(m.status)}`, m.status);
    }
    const { suite } = this.config;
    const a = m.accepted;
    if (a.auth !== suite.auth.id || a.integrity !== suite.integrity.id || a.confidentiality !== suite.confidentiality.id) {
      this.state = { stage: 'failed' };
      throw new ClientSessionError(ClientSessionErrorCode.AlgorithmMismatch,
        `BMC accepted other algorithms than proposed (auth ${a.auth}, integrity ${a.integrity}, confidentiality ${a.confidentiality})`);
    }
    if (a.bmcSessionId === 0) throw unexpected('Open Session Response with BMC session id 0');
    this.state = { stage: 'awaiting-rakp1', consoleSessionId: s.consoleSessionId, bmcSessionId: a.bmcSessionId };
  }

  /** RAKP Message 1 (payload 0x12). consoleRandom: Rm, 16 random bytes. */
  rakp1(consoleRandom: Buffer): Buffer {
    const s = this.expect('awaiting-rakp1');
    if (consoleRandom.length !== RAKP_RANDOM_LENGTH) throw invalidArgument(`Rm must be ${RAKP_RANDOM_LENGTH} bytes`);
    const rm = Buffer.from(consoleRandom);
    this.state = { stage: 'awaiting-rakp2', consoleSessionId: s.consoleSessionId, bmcSessionId: s.bmcSessionId, consoleRandom: rm };
    return sessionless(PayloadType.Rakp1, encodeRakp1({ tag: this.tag, bmcSessionId: s.bmcSessionId, consoleRandom: rm, role: this.role, userName: this.userName }));
  }

  /**
   * Checks RAKP2: status, then the key exchange HMAC keyed with our password. A mismatch means the
   * BMC holds another password for this user; the error carries a RAKP3 with status 0x0F to send.
   */
  acceptRakp2(datagram: Buffer): void {
    const s = this.expect('awaiting-rakp2');
    const payload = this.handshakePayload(datagram, PayloadType.Rakp2);
    const m = parse(() => decodeRakpReply(payload));
    if (m.tag !== this.tag) throw unexpected('RAKP2 with another message tag');
    if (m.status !== RakpStatus.NoErrors) {
      this.state = { stage: 'failed' };
      throw new ClientSessionError(ClientSessionErrorCode.Rakp2Refused, `RAKP2 refused: ${rakpStatusText(m.status)}`, m.status);
    }
    if (m.consoleSessionId !== s.consoleSessionId) throw unexpected('RAKP2 for another console session');
    const { auth } = this.config.suite;
    if (m.body.length !== RAKP_RANDOM_LENGTH + GUID_LENGTH + auth.hmacLength) throw unexpected(`RAKP2 of ${m.body.length + 8} bytes`);
    const participants: RakpParticipants = {
      consoleSessionId: s.consoleSessionId,
      bmcSessionId: s.bmcSessionId,
      consoleRandom: s.consoleRandom,
      bmcRandom: Buffer.from(m.body.subarray(0, RAKP_RANDOM_LENGTH)),
      bmcGuid: Buffer.from(m.body.subarray(RAKP_RANDOM_LENGTH, RAKP_RANDOM_LENGTH + GUID_LENGTH)),
      role: this.role,
      userName: this.userName,
    };
    const expected = rakp2Hmac(auth, this.kuid, participants);
    if (!timingSafeEqual(expected, m.body.subarray(RAKP_RANDOM_LENGTH + GUID_LENGTH))) {
      this.state = { stage: 'failed' };
      const reject = sessionless(PayloadType.Rakp3, encodeRakp3({ tag: this.tag, status: RakpStatus.InvalidIntegrityCheckValue, bmcSessionId: s.bmcSessionId, authCode: EMPTY }));
      throw new ClientSessionError(ClientSessionErrorCode.Rakp2HmacInvalid, 'wrong password or user: RAKP2 HMAC invalid', undefined, reject);
    }
    const keys = deriveSessionKeys(auth, this.kuid, this.config.kg ?? null, participants);
    this.state = { stage: 'awaiting-rakp3', participants, keys };
  }

  /** RAKP Message 3 (payload 0x14): proves we know the password. */
  rakp3(): Buffer {
    const s = this.expect('awaiting-rakp3');
    const authCode = rakp3Hmac(this.config.suite.auth, this.kuid, s.participants);
    this.state = { stage: 'awaiting-rakp4', participants: s.participants, keys: s.keys };
    return sessionless(PayloadType.Rakp3, encodeRakp3({ tag: this.tag, status: RakpStatus.NoErrors, bmcSessionId: s.participants.bmcSessionId, authCode }));
  }

  /** Checks RAKP4 and its ICV (proves the BMC derived the same SIK); the session is then active. */
  acceptRakp4(datagram: Buffer): void {
    const s = this.expect('awaiting-rakp4');
    const payload = this.handshakePayload(datagram, PayloadType.Rakp4);
    const m = parse(() => decodeRakpReply(payload));
    if (m.tag !== this.tag) throw unexpected('RAKP4 with another message tag');
    if (m.status !== RakpStatus.NoErrors) {
      this.state = { stage: 'failed' };
      throw new ClientSessionError(ClientSessionErrorCode.Rakp4Refused, `RAKP4 refused: ${rakpStatusText(m.status)}`, m.status);
    }
    if (m.consoleSessionId !== s.participants.consoleSessionId) throw unexpected('RAKP4 for another console session');
    const expected = rakp4Icv(this.config.suite.auth, s.keys.sik, s.participants);
    if (m.body.length !== expected.length || !timingSafeEqual(expected, m.body)) {
      this.state = { stage: 'failed' };
      throw new ClientSessionError(ClientSessionErrorCode.Rakp4IcvInvalid, 'RAKP4 integrity check value invalid: the BMC derived other session keys');
    }
    this.state = { stage: 'active', participants: s.participants, keys: s.keys };
  }

  // -------------------------------------------------------------- session traffic

  /** The next rqSeq (6-bit, cycling). */
  allocateRqSeq(): number {
    const v = this.nextRqSeq;
    this.nextRqSeq = (v + 1) % RQ_SEQ_MODULUS;
    return v;
  }

  /** An IPMI request inside the session, protected per the suite. */
  request(netFn: number, cmd: number, data: Buffer = EMPTY, opts: RequestOptions = {}): OutboundRequest {
    this.expect('active');
    const rqSeq = opts.rqSeq ?? this.allocateRqSeq();
    if (!Number.isInteger(rqSeq) || rqSeq < 0 || rqSeq >= RQ_SEQ_MODULUS) throw invalidArgument('rqSeq must be 0..63');
    const message = encodeIpmiRequest({
      rsAddr: opts.rsAddr ?? BMC_SLAVE_ADDRESS, netFn, rsLun: opts.rsLun ?? 0, rqAddr: REMOTE_CONSOLE_SWID, rqSeq, rqLun: 0, cmd, data,
    });
    const sequence = this.outboundSequence;
    return { rqSeq, netFn, cmd, sequence, datagram: this.payloadPacket(PayloadType.Ipmi, message, opts.iv) };
  }

  /** Close Session (NetFn App, cmd 0x3C) for this session. */
  closeSession(opts: RequestOptions = {}): OutboundRequest {
    const s = this.expect('active');
    return this.request(NetFn.App, AppCmd.CloseSession, u32le(s.participants.bmcSessionId), opts);
  }

  /** A SOL payload (type 1) in the session; `solPayload` is the raw SOL header + characters. */
  solPacket(solPayload: Buffer, iv?: Buffer): Buffer {
    this.expect('active');
    return this.payloadPacket(PayloadType.Sol, solPayload, iv);
  }

  /** Any payload type, protected per the suite; advances the outbound session sequence. */
  payloadPacket(payloadType: number, cleartext: Buffer, iv?: Buffer): Buffer {
    const s = this.expect('active');
    const { suite } = this.config;
    const encrypted = suite.confidentiality.cipher !== null;
    let payload = cleartext;
    if (encrypted) {
      if (!iv || iv.length !== AES_BLOCK) throw invalidArgument(`suite ${suite.id} encrypts: a ${AES_BLOCK}-byte IV is required`);
      payload = encryptAesCbc128(s.keys.k2, iv, cleartext);
    }
    const sequence = this.outboundSequence;
    this.outboundSequence = nextOutboundSequence(sequence);
    return encodeRmcpPlusPacket({
      payloadType,
      sessionId: s.participants.bmcSessionId,
      sequence,
      payload,
      encrypted,
      integrity: suite.integrity.hash ? { alg: suite.integrity, k1: s.keys.k1 } : null,
    });
  }

  /**
   * Verifies and opens a session datagram from the BMC: our console session id, the AuthCode,
   * the BMC's sequence number (sliding window), then decryption.
   */
  parsePayload(datagram: Buffer): InboundPayload {
    const s = this.expect('active');
    const p = decodeRmcpPlusDatagram(datagram);
    if (p.sessionId !== s.participants.consoleSessionId) {
      throw new ClientSessionError(ClientSessionErrorCode.WrongSession, `packet for session 0x${p.sessionId.toString(16)}`);
    }
    const { suite } = this.config;
    if (suite.integrity.hash) {
      if (!p.authenticated) throw new ClientSessionError(ClientSessionErrorCode.NotProtected, 'unauthenticated packet in an integrity-protected session');
      if (!verifyIntegrity(p, suite.integrity, s.keys.k1)) throw new ClientSessionError(ClientSessionErrorCode.BadAuthCode, 'invalid AuthCode');
    } else if (p.authenticated) {
      throw malformed('authenticated bit without negotiated integrity');
    }
    const encrypted = suite.confidentiality.cipher !== null;
    if (encrypted !== p.encrypted) {
      throw new ClientSessionError(ClientSessionErrorCode.NotProtected, encrypted ? 'unencrypted packet in an encrypted session' : 'encrypted bit without negotiated confidentiality');
    }
    const window = acceptSequence(this.inbound, p.sequence);
    if (!window) throw new ClientSessionError(ClientSessionErrorCode.Replay, `session sequence ${p.sequence} replayed or out of window`);
    let payload = p.payload;
    if (encrypted) {
      try {
        payload = decryptAesCbc128(s.keys.k2, p.payload);
      } catch (err) {
        throw new ClientSessionError(ClientSessionErrorCode.BadPadding, `payload does not decrypt: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    this.inbound = window;
    return { payloadType: p.payloadType, sequence: p.sequence, payload };
  }

  /** An IPMI response in the session. */
  parseResponse(datagram: Buffer): ClientResponse {
    const p = this.parsePayload(datagram);
    if (p.payloadType !== PayloadType.Ipmi) throw unexpected(`payload type ${p.payloadType}, not an IPMI message`);
    return decodeResponseMessage(p.payload);
  }

  // -------------------------------------------------------------- helpers

  private expect<S extends ClientStage>(stage: S): Extract<State, { stage: S }> {
    if (this.state.stage !== stage) {
      throw new ClientSessionError(ClientSessionErrorCode.InvalidState, `session is ${this.state.stage}, not ${stage}`);
    }
    return this.state as Extract<State, { stage: S }>;
  }

  private handshakePayload(datagram: Buffer, payloadType: number): Buffer {
    const p = decodeRmcpPlusDatagram(datagram);
    if (p.payloadType !== payloadType || p.sessionId !== 0 || p.encrypted || p.authenticated) {
      throw unexpected(`payload type 0x${p.payloadType.toString(16)} on session 0x${p.sessionId.toString(16)} while waiting for 0x${payloadType.toString(16)}`);
    }
    return p.payload;
  }
}

function invalidArgument(message: string): ClientSessionError {
  return new ClientSessionError(ClientSessionErrorCode.InvalidArgument, message);
}

function unexpected(message: string): ClientSessionError {
  return new ClientSessionError(ClientSessionErrorCode.UnexpectedMessage, message);
}

function parse<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ProtocolError) throw malformed(err);
    throw err;
  }
}

function sessionless(payloadType: number, payload: Buffer): Buffer {
  return encodeRmcpPlusPacket({ payloadType, sessionId: 0, sequence: 0, payload, encrypted: false, integrity: null });
}

/** An IPMI response message (not a request the BMC sent us, e.g. SOL Activating). */
export function decodeResponseMessage(message: Buffer): ClientResponse {
  const NETFN_SHIFT = 2;
  if (message.length >= 2 && ((message[1]! >> NETFN_SHIFT) & 1) === 0) throw unexpected('an IPMI request from the BMC, not a response');
  const r = parse(() => decodeIpmiResponse(message));
  return { rqSeq: r.rqSeq, netFn: r.netFn, cmd: r.cmd, completionCode: r.completionCode, data: r.data };
}

// ------------------------------------------------------------------ sessionless messages

export interface SessionlessRequest {
  readonly rqSeq: number;
  readonly netFn: number;
  readonly cmd: number;
  readonly data?: Buffer;
}

function requestMessage(r: SessionlessRequest): Buffer {
  return encodeIpmiRequest({ rsAddr: BMC_SLAVE_ADDRESS, netFn: r.netFn, rsLun: 0, rqAddr: REMOTE_CONSOLE_SWID, rqSeq: r.rqSeq, rqLun: 0, cmd: r.cmd, data: r.data ?? EMPTY });
}

/** An IPMI request outside any session, RMCP+ framed (auth type 06, payload 0, session 0, seq 0). */
export function encodeSessionlessRequest(r: SessionlessRequest): Buffer {
  return sessionless(PayloadType.Ipmi, requestMessage(r));
}

/** An IPMI request outside any session, IPMI 1.5 framed (auth type none, session 0, seq 0). */
export function encodeIpmi15SessionlessRequest(r: SessionlessRequest): Buffer {
  return encodeIpmi15Packet({ authType: AuthType15.None, sequence: 0, sessionId: 0, authCode: null, message: requestMessage(r) });
}

/** Get Channel Authentication Capabilities (NetFn App, 0x38) in IPMI 1.5 framing, as every client sends it first. */
export function encodeGetChannelAuthCapabilities(opts: { rqSeq?: number; channel?: number; privilege?: number; extended?: boolean } = {}): Buffer {
  const channel = (opts.channel ?? CURRENT_CHANNEL) | (opts.extended === false ? 0 : AUTH_CAPS_EXTENDED);
  return encodeIpmi15SessionlessRequest({
    rqSeq: opts.rqSeq ?? 0, netFn: NetFn.App, cmd: AppCmd.GetChannelAuthCapabilities,
    data: Buffer.from([channel, opts.privilege ?? Privilege.Administrator]),
  });
}

/** Get Channel Cipher Suites (NetFn App, 0x54), RMCP+ framed outside a session, listing by suite. */
export function encodeGetChannelCipherSuites(opts: { rqSeq: number; listIndex: number; channel?: number; payloadType?: number }): Buffer {
  return encodeSessionlessRequest({
    rqSeq: opts.rqSeq, netFn: NetFn.App, cmd: AppCmd.GetChannelCipherSuites,
    data: Buffer.from([opts.channel ?? CURRENT_CHANNEL, opts.payloadType ?? PayloadType.Ipmi, CIPHER_LIST_BY_SUITE | (opts.listIndex & CIPHER_LIST_INDEX_MASK)]),
  });
}

export interface SessionlessResponse extends ClientResponse {
  readonly framing: 'ipmi15' | 'rmcpplus';
}

/** A response to a sessionless request, in either framing. */
export function decodeSessionlessResponse(datagram: Buffer): SessionlessResponse {
  if (datagram.length > 4 && datagram[4] === AUTH_TYPE_RMCPPLUS) {
    const p = decodeRmcpPlusDatagram(datagram);
    if (p.sessionId !== 0 || p.payloadType !== PayloadType.Ipmi || p.encrypted || p.authenticated) throw unexpected('not a sessionless IPMI response');
    return { framing: 'rmcpplus', ...decodeResponseMessage(p.payload) };
  }
  const packet = parse(() => {
    const r = new ByteReader(datagram);
    const h = decodeRmcpHeader(r);
    if (h.isAck || h.rmcpClass !== RmcpClass.Ipmi) throw new ClientSessionError(ClientSessionErrorCode.Malformed, 'not an IPMI datagram');
    return decodeIpmi15Packet(r);
  });
  if (packet.sessionId !== 0) throw unexpected('IPMI 1.5 packet inside a session');
  return { framing: 'ipmi15', ...decodeResponseMessage(packet.message) };
}

export interface CipherSuiteRecord {
  readonly id: number;
  readonly auth: number;
  readonly integrity: number;
  readonly confidentiality: number;
  /** IANA number for OEM records (0xC1), else undefined. */
  readonly oemIana?: number;
}

/**
 * Cipher suite records (table 22-19) concatenated from all Get Channel Cipher Suites chunks
 * (each response's data after the channel byte). Standard: C0 id auth 0x40|integ 0x80|conf;
 * OEM: C1 id IANA(3, LE) auth integ conf. Stops at the first byte that starts no record.
 */
export function decodeCipherSuiteRecords(records: Buffer): CipherSuiteRecord[] {
  const out: CipherSuiteRecord[] = [];
  let i = 0;
  const alg = (b: number | undefined): number => (b ?? 0) & CIPHER_ALGORITHM_MASK;
  while (i < records.length) {
    const start = records[i]!;
    if (start === CIPHER_RECORD_STANDARD && i + 5 <= records.length) {
      out.push({ id: records[i + 1]!, auth: alg(records[i + 2]), integrity: alg(records[i + 3]), confidentiality: alg(records[i + 4]) });
      i += 5;
    } else if (start === CIPHER_RECORD_OEM && i + 5 + OEM_IANA_LENGTH <= records.length) {
      const oemIana = records.readUIntLE(i + 2, OEM_IANA_LENGTH);
      const a = i + 2 + OEM_IANA_LENGTH;
      out.push({ id: records[i + 1]!, oemIana, auth: alg(records[a]), integrity: alg(records[a + 1]), confidentiality: alg(records[a + 2]) });
      i = a + 3;
    } else {
      // A truncated record or a byte that starts none: nothing more can be read reliably.
      break;
    }
  }
  return out;
}
