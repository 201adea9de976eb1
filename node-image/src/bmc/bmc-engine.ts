/**
 * The BMC's session layer: takes one datagram at a time and answers through `send`. Socket-free,
 * clock-free and randomness-free: the shell passes `now`, a random source and a send function,
 * so every exchange can be replayed from captured byte vectors.
 *
 * Framings handled (reference sections 1–6): ASF presence ping; IPMI 1.5 (pre-session commands,
 * Get Session Challenge / Activate Session, MD5 or straight-password sessions); RMCP+ (pre-session
 * commands, Open Session, RAKP 1–4 (session/rmcpplus-handshake.ts), protected session traffic,
 * SOL payloads).
 */
import { timingSafeEqual } from 'node:crypto';
import { CompletionCode, Privilege, ProtocolError } from '../protocol/errors';
import { AppCmd, NetFn, PayloadType } from '../protocol/netfn';
import { decodeAsfMessage, decodeRmcpHeader, encodePresencePong, AsfMessageType, ASF_IANA, RmcpClass } from '../protocol/rmcp';
import { ByteReader } from '../protocol/wire/byte-reader';
import { decodeIpmiRequest, IpmiRequest, responseFor } from '../protocol/ipmi-message';
import { AUTH_TYPE_RMCPPLUS, decodeRmcpPlusPacket, encodeRmcpPlusPacket, RmcpPlusPacket, verifyIntegrity } from '../protocol/session/rmcpplus-packet';
import { decodeIpmi15Packet, encodeIpmi15Packet, Ipmi15Packet } from '../protocol/session/ipmi15-packet';
import { decodeOpenSessionRequest } from '../protocol/session/open-session';
import { acceptSequence, nextOutboundSequence } from '../protocol/session/sequence-window';
import type { CipherSuite } from '../protocol/crypto/cipher-suites';
import { decryptAesCbc128, encryptAesCbc128, AES_BLOCK } from '../protocol/crypto/confidentiality';
import { authCode15, AuthType15 } from '../protocol/crypto/auth15';
import type { CommandContext, SessionView } from './commands/command-types';
import type { Dispatcher } from './dispatcher';
import { SessionTable, SessionLimits, DEFAULT_SESSION_LIMITS } from './session/session-table';
import type { EstablishedSession, HalfOpenSession, Ipmi15Session, Remote, RmcpPlusSession, UserAuthority } from './session/session-types';
import type { Logger } from '../util/logger';
import { RmcpPlusHandshake } from './session/rmcpplus-handshake';
import { Ipmi15Activation } from './session/ipmi15-activation';
import { LogDigest } from '../util/log-digest';

export interface EngineConfig {
  readonly cipherSuites: readonly CipherSuite[];
  readonly ipmi15Enabled: boolean;
  /** IPMI 1.5 AuthCode types accepted (AuthType15.Md5, AuthType15.Password); never None. */
  readonly ipmi15AuthTypes: readonly number[];
  /** BMC key Kg; null = not configured (SIK keyed by the user's password). */
  readonly kg: Buffer | null;
  /** The LAN channel number (1). */
  readonly channel: number;
  /** Highest privilege the LAN channel allows. */
  readonly channelPrivilegeLimit: number;
  readonly limits: SessionLimits;
}

export const DEFAULT_ENGINE_CONFIG: Omit<EngineConfig, 'cipherSuites'> = {
  ipmi15Enabled: true,
  ipmi15AuthTypes: [AuthType15.Md5],
  kg: null,
  channel: 1,
  channelPrivilegeLimit: Privilege.Administrator,
  limits: DEFAULT_SESSION_LIMITS,
};

/** Receives SOL payloads and session ends; the SOL manager implements it. */
export interface PayloadSink {
  onSolPayload(session: RmcpPlusSession, payload: Buffer, now: number): void;
  onSessionClosed(session: EstablishedSession, reason: SessionEndReason, now: number): void;
}

export type SessionEndReason = 'closed' | 'closed-by-admin' | 'timeout' | 'bmc-reset' | 'user-changed';

export interface EngineDeps {
  readonly config: EngineConfig;
  readonly users: UserAuthority;
  /** The 16 GUID bytes as Get System GUID returns them (RAKP's GUIDc). */
  readonly guid: () => Buffer;
  readonly random: (n: number) => Buffer;
  readonly send: (datagram: Buffer, to: Remote) => void;
  readonly dispatcher: Dispatcher;
  readonly log: Logger;
  /** The channel's privilege limit in force (Set Channel Access may change it); defaults to the config's. */
  readonly channelPrivilegeLimit?: () => number;
}

export { ActivateSessionCode, ChallengeCode } from './session/ipmi15-activation';

/** Reasons a datagram was dropped without an answer; counted for metrics and tests. */
export type DropReason =
  | 'malformed' | 'not-ipmi' | 'bad-checksum' | 'unknown-session' | 'unauthenticated' | 'bad-authcode'
  | 'replay' | 'unencrypted' | 'bad-padding' | 'bad-payload-type' | 'ipmi15-disabled' | 'not-a-request'
  | 'duplicate-in-flight' | 'handshake-refused-by-console';

const RETRY_CACHE_MS = 10_000;

export class BmcEngine {
  readonly sessions: SessionTable;
  readonly drops = new Map<DropReason, number>();
  requestsHandled = 0;
  private payloadSink: PayloadSink | null = null;
  /** Refused logins and drops: a few lines with details, then counts (a stranger sets the rate). */
  private readonly digest: LogDigest;
  /** The session whose request is being dispatched (its own user changes do not end it). */
  private actingSessionId: number | null = null;
  /** The channel privilege limit last applied to the live sessions (enforceChannelLimit). */
  private enforcedChannelLimit: number | undefined;
  private lastNow = 0;
  /** RMCP+ Open Session and RAKP 1–4. */
  private readonly handshake: RmcpPlusHandshake;
  /** IPMI 1.5 Get Session Challenge and Activate Session. */
  private readonly activation: Ipmi15Activation;

  constructor(private readonly deps: EngineDeps) {
    this.sessions = new SessionTable(deps.config.limits);
    this.digest = new LogDigest(deps.log);
    this.handshake = new RmcpPlusHandshake({
      config: deps.config, users: deps.users, guid: deps.guid, random: deps.random, log: deps.log, sessions: this.sessions,
      channelLimit: () => this.channelLimit(),
      userLimit: (userId) => this.userLimit(userId),
      freeSessionId: () => this.freeSessionId(),
      drop: (reason, fields) => this.drop(reason, fields),
      refused: (kind, now, fields) => this.refused(kind, now, fields),
      sendSessionless: (payloadType, payload, to) => this.sendSessionless(payloadType, payload, to),
    });
    this.activation = new Ipmi15Activation({
      config: deps.config, users: deps.users, random: deps.random, log: deps.log, sessions: this.sessions, send: deps.send,
      userLimit: (userId) => this.userLimit(userId),
      freeSessionId: () => this.freeSessionId(),
      nonZeroU32: () => this.nonZeroU32(),
      drop: (reason, fields) => this.drop(reason, fields),
      refused: (kind, now, fields) => this.refused(kind, now, fields),
      decodeRequest: (message) => this.decodeRequest(message),
    });
    deps.users.onChange?.((change) => this.onUserChanged(change.userId, change.kind));
  }

  get config(): EngineConfig { return this.deps.config; }

  attachPayloadSink(sink: PayloadSink): void { this.payloadSink = sink; }

  private channelLimit(): number {
    const limit = this.deps.channelPrivilegeLimit?.() ?? this.config.channelPrivilegeLimit;
    return limit === Privilege.NoAccess ? Privilege.None : limit;
  }

  /** The user's effective limit on this channel; NoAccess (0x0F) must never win a Math.min. */
  private userLimit(userId: number): number {
    const u = this.deps.users.channelPrivilegeLimit(userId);
    if (u === Privilege.NoAccess || u === Privilege.None) return Privilege.None;
    return Math.min(u, this.channelLimit());
  }

  private drop(reason: DropReason, fields?: Record<string, unknown>): void {
    this.drops.set(reason, (this.drops.get(reason) ?? 0) + 1);
    this.digest.count(`dropped ${reason}`, this.lastNow);
    this.deps.log.debug('datagram dropped', { reason, ...fields });
  }

  /**
   * A refused login of an existing user: counted, and logged with its details only a few times per
   * interval and user (bounded: only configured users get here).
   */
  private refused(kind: string, now: number, fields: { user: string } & Record<string, unknown>): void {
    this.digest.note(`${kind} (${fields.user})`, now, kind, fields);
  }

  /** Entry point: one datagram from `from`. Never throws. */
  async handleDatagram(datagram: Buffer, from: Remote, now: number): Promise<void> {
    this.lastNow = now;
    try {
      const r = new ByteReader(datagram);
      const rmcp = decodeRmcpHeader(r);
      if (rmcp.isAck) return;
      if (rmcp.rmcpClass === RmcpClass.Asf) return this.handleAsf(r, from);
      if (rmcp.rmcpClass !== RmcpClass.Ipmi) return this.drop('not-ipmi');
      if (datagram.length > 4 && datagram[4] === AUTH_TYPE_RMCPPLUS) {
        return await this.handleRmcpPlus(decodeRmcpPlusPacket(datagram, r), from, now);
      }
      return await this.handleIpmi15(decodeIpmi15Packet(r), from, now);
    } catch (err) {
      if (err instanceof ProtocolError) return this.drop('malformed', { error: err.message });
      this.deps.log.error('unexpected error handling datagram', { error: err instanceof Error ? err.stack : String(err) });
    }
  }

  // ---------------------------------------------------------------- ASF

  private handleAsf(r: ByteReader, from: Remote): void {
    const msg = decodeAsfMessage(r);
    if (msg.iana !== ASF_IANA || msg.messageType !== AsfMessageType.PresencePing) return this.drop('not-ipmi');
    this.deps.send(encodePresencePong(msg.tag), from);
  }

  // ---------------------------------------------------------------- IPMI 1.5

  private async handleIpmi15(p: Ipmi15Packet, from: Remote, now: number): Promise<void> {
    if (p.sessionId === 0) {
      if (p.authType !== AuthType15.None) return this.drop('malformed', { why: 'auth code outside a session' });
      const req = this.decodeRequest(p.message);
      if (!req) return;
      const result = await this.dispatch(req, this.noSession(from), now);
      this.deps.send(encodeIpmi15Packet({ authType: AuthType15.None, sequence: 0, sessionId: 0, authCode: null, message: responseFor(req, result.cc, result.data) }), from);
      return;
    }
    if (!this.config.ipmi15Enabled) return this.drop('ipmi15-disabled');
    const session = this.sessions.getEstablished(p.sessionId);
    if (session?.protocol === 'ipmi15') return this.handleIpmi15Session(session, p, from, now);
    return this.activation.activateSession(p, from, now);
  }

  private async handleIpmi15Session(session: Ipmi15Session, p: Ipmi15Packet, from: Remote, now: number): Promise<void> {
    if (p.authType !== session.authType || !p.authCode) return this.drop('unauthenticated');
    const expected = authCode15(p.authType, session.password, session.bmcSessionId, p.message, p.sequence);
    if (!expected || !timingSafeEqual(expected, p.authCode)) return this.drop('bad-authcode');
    const window = acceptSequence(session.inbound, p.sequence);
    if (!window) return this.drop('replay', { sequence: p.sequence });
    session.inbound = window;
    session.lastActivity = now;
    session.remote = from;
    const req = this.decodeRequest(p.message);
    if (!req) return;
    const response = await this.answerInSession(session, req, now);
    if (!response) return;
    this.sendIpmi15(session, response.message);
    await response.after?.();
  }

  private sendIpmi15(session: Ipmi15Session, message: Buffer): void {
    session.outboundSequence = nextOutboundSequence(session.outboundSequence);
    const authCode = authCode15(session.authType, session.password, session.bmcSessionId, message, session.outboundSequence) ?? null;
    this.deps.send(encodeIpmi15Packet({ authType: session.authType, sequence: session.outboundSequence, sessionId: session.bmcSessionId, authCode, message }), session.remote);
  }

  // ---------------------------------------------------------------- RMCP+

  private async handleRmcpPlus(p: RmcpPlusPacket, from: Remote, now: number): Promise<void> {
    if (p.sessionId === 0) return this.handleRmcpPlusSessionless(p, from, now);
    const session = this.sessions.getEstablished(p.sessionId);
    if (!session || session.protocol !== 'rmcpplus') return this.drop('unknown-session', { sessionId: p.sessionId });
    const integrity = session.suite.integrity;
    if (integrity.hash) {
      if (!p.authenticated) return this.drop('unauthenticated');
      if (!verifyIntegrity(p, integrity, session.keys.k1)) return this.drop('bad-authcode');
    } else if (p.authenticated) {
      return this.drop('malformed', { why: 'authenticated bit without negotiated integrity' });
    }
    const window = acceptSequence(session.inbound, p.sequence);
    if (!window) return this.drop('replay', { sequence: p.sequence });
    session.inbound = window;
    session.lastActivity = now;
    session.remote = from;
    let payload = p.payload;
    if (session.suite.confidentiality.cipher) {
      if (!p.encrypted) return this.drop('unencrypted');
      try {
        payload = decryptAesCbc128(session.keys.k2, p.payload);
      } catch {
        return this.drop('bad-padding');
      }
    } else if (p.encrypted) {
      return this.drop('malformed', { why: 'encrypted bit without negotiated confidentiality' });
    }
    if (p.payloadType === PayloadType.Sol) {
      this.payloadSink?.onSolPayload(session, payload, now);
      return;
    }
    if (p.payloadType !== PayloadType.Ipmi) return this.drop('bad-payload-type', { payloadType: p.payloadType });
    const req = this.decodeRequest(payload);
    if (!req) return;
    const response = await this.answerInSession(session, req, now);
    if (!response) return;
    this.sendPayload(session, PayloadType.Ipmi, response.message);
    await response.after?.();
  }

  /** Sends a payload inside an established RMCP+ session, with its keys and next sequence number. */
  sendPayload(session: RmcpPlusSession, payloadType: number, cleartext: Buffer): void {
    session.outboundSequence = nextOutboundSequence(session.outboundSequence);
    const encrypted = session.suite.confidentiality.cipher !== null;
    const payload = encrypted ? encryptAesCbc128(session.keys.k2, this.deps.random(AES_BLOCK), cleartext) : cleartext;
    this.deps.send(encodeRmcpPlusPacket({
      payloadType,
      sessionId: session.consoleSessionId,
      sequence: session.outboundSequence,
      payload,
      encrypted,
      integrity: session.suite.integrity.hash ? { alg: session.suite.integrity, k1: session.keys.k1 } : null,
    }), session.remote);
  }

  private sendSessionless(payloadType: number, payload: Buffer, to: Remote): void {
    this.deps.send(encodeRmcpPlusPacket({ payloadType, sessionId: 0, sequence: 0, payload, encrypted: false, integrity: null }), to);
  }

  private async handleRmcpPlusSessionless(p: RmcpPlusPacket, from: Remote, now: number): Promise<void> {
    if (p.encrypted || p.authenticated) return this.drop('malformed', { why: 'protected packet outside a session' });
    switch (p.payloadType) {
      case PayloadType.Ipmi: {
        const req = this.decodeRequest(p.payload);
        if (!req) return;
        const result = await this.dispatch(req, this.noSession(from), now);
        return this.sendSessionless(PayloadType.Ipmi, responseFor(req, result.cc, result.data), from);
      }
      case PayloadType.OpenSessionRequest:
        return this.handshake.openSession(decodeOpenSessionRequest(p.payload), from, now);
      case PayloadType.Rakp1:
        return this.handshake.rakp1(p.payload, from, now);
      case PayloadType.Rakp3:
        return this.handshake.rakp3(p.payload, from, now);
      default:
        return this.drop('bad-payload-type', { payloadType: p.payloadType });
    }
  }

  // ---------------------------------------------------------------- commands

  private decodeRequest(message: Buffer): IpmiRequest | undefined {
    try {
      const req = decodeIpmiRequest(message);
      if ((req.netFn & 1) !== 0) { this.drop('not-a-request'); return undefined; }
      return req;
    } catch (err) {
      this.drop(err instanceof ProtocolError && err.code === 'BAD_CHECKSUM' ? 'bad-checksum' : 'malformed');
      return undefined;
    }
  }

  private noSession(from: Remote): SessionView {
    return { id: 0, handle: 0, protocol: 'none', privilege: Privilege.None, userId: 0, remoteAddress: from.address, remotePort: from.port };
  }

  viewOf(s: EstablishedSession): SessionView {
    return { id: s.bmcSessionId, handle: s.handle, protocol: s.protocol, privilege: s.privilege, userId: s.userId, remoteAddress: s.remote.address, remotePort: s.remote.port };
  }

  private async dispatch(req: IpmiRequest, session: SessionView, now: number): Promise<{ cc: number; data?: Buffer; after?: () => void | Promise<void> }> {
    this.requestsHandled++;
    const ctx: CommandContext = { session, now };
    if (session.protocol === 'none' && req.netFn === NetFn.App && req.cmd === AppCmd.GetSessionChallenge) {
      if (req.data.length !== 17) return { cc: CompletionCode.RequestDataLengthInvalid };
      return this.activation.sessionChallenge(req.data[0]! & 0x0f, req.data.subarray(1), { address: session.remoteAddress, port: session.remotePort }, now);
    }
    return this.deps.dispatcher.dispatch(req.netFn, req.cmd, req.data, ctx);
  }

  /** Runs a request of an established session, resending the cached answer to a client's retry. */
  private async answerInSession(session: EstablishedSession, req: IpmiRequest, now: number): Promise<{ message: Buffer; after?: () => void | Promise<void> } | null> {
    const key = `${req.rqSeq}:${req.netFn}:${req.cmd}:${req.data.toString('hex')}`;
    if (session.lastReply && session.lastReply.key === key && now - session.lastReply.at < RETRY_CACHE_MS) {
      return { message: session.lastReply.response };
    }
    // A client's retry of a request still being carried out (e.g. a slow power action) is not run
    // twice: the answer to the first one is on its way and the client matches it by rqSeq.
    const inFlight = (session.inFlight ??= new Set<string>());
    if (inFlight.has(key)) {
      this.drop('duplicate-in-flight', { cmd: req.cmd });
      return null;
    }
    inFlight.add(key);
    this.enforceChannelLimit();
    try {
      // Handlers run synchronously up to their first await: user changes they make are told to
      // onUserChanged while actingSessionId still names this session.
      this.actingSessionId = session.bmcSessionId;
      const pending = this.dispatch(req, this.viewOf(session), now);
      this.actingSessionId = null;
      const result = await pending;
      const message = responseFor(req, result.cc, result.data);
      session.lastReply = { key, response: message, at: now };
      return result.after ? { message, after: result.after } : { message };
    } finally {
      inFlight.delete(key);
    }
  }

  // ---------------------------------------------------------------- session control (used by commands)

  getSession(id: number): EstablishedSession | undefined { return this.sessions.getEstablished(id); }
  listSessions(): EstablishedSession[] { return this.sessions.listEstablished(); }

  /** Ends a session: tells the SOL manager first (it may still send its goodbye), then forgets it. */
  closeSession(id: number, reason: SessionEndReason, now: number): boolean {
    const s = this.sessions.getEstablished(id);
    if (!s) return false;
    this.payloadSink?.onSessionClosed(s, reason, now);
    this.sessions.removeEstablished(id);
    this.deps.log.info('session closed', { handle: s.handle, user: s.userName, reason });
    return true;
  }

  /**
   * A user was changed (by any protocol): disabled, NO ACCESS, a new password or a new name end
   * the user's sessions at once; a lowered privilege limit lowers theirs. The session that made
   * the change keeps running (its answer must reach the console) but is downgraded too.
   */
  private onUserChanged(userId: number, kind: string): void {
    const now = this.lastNow;
    const limit = this.userLimit(userId);
    const ends = kind === 'password' || kind === 'name' || kind === 'disabled' || limit === Privilege.None;
    for (const s of this.sessions.listEstablished()) {
      if (s.userId !== userId) continue;
      if (ends && s.bmcSessionId !== this.actingSessionId) {
        this.closeSession(s.bmcSessionId, 'user-changed', now);
        continue;
      }
      if (limit !== Privilege.None && s.maxPrivilege > limit) {
        s.maxPrivilege = limit;
        s.privilege = Math.min(s.privilege, limit);
        this.deps.log.info('session privilege lowered', { handle: s.handle, user: s.userName, privilege: s.privilege });
      }
    }
  }

  /**
   * The channel privilege limit (Set Channel Access, IPMI v2.0 section 22.22) caps the privilege of
   * every session on the channel (section 6.8: a session runs at most at the lower of the user's
   * and the channel's limit), live sessions included: once it is lowered, their privilege and the
   * level Set Session Privilege Level may raise them to are lowered too, so commands needing more
   * answer 0xD4. With the channel set to NO ACCESS only Callback-level commands (Close Session)
   * remain. Raising the limit again does not raise sessions opened under the lower one.
   */
  private enforceChannelLimit(): void {
    const limit = this.channelLimit();
    if (limit === this.enforcedChannelLimit) return;
    this.enforcedChannelLimit = limit;
    const ceiling = limit === Privilege.None ? Privilege.Callback : limit;
    for (const s of this.sessions.listEstablished()) {
      if (s.maxPrivilege <= ceiling) continue;
      s.maxPrivilege = ceiling;
      s.privilege = Math.min(s.privilege, ceiling);
      this.deps.log.info('session privilege lowered', { handle: s.handle, user: s.userName, privilege: s.privilege, cause: 'channel limit' });
    }
  }

  /** Expires half-open and idle sessions. Call at nextDeadline(). */
  tick(now: number): void {
    this.lastNow = Math.max(this.lastNow, now);
    this.digest.flush(now);
    // Established sessions first, through closeSession so SOL is told.
    for (const s of this.sessions.listEstablished()) {
      if (now - s.lastActivity >= this.config.limits.idleTimeoutMs) this.closeSession(s.bmcSessionId, 'timeout', now);
    }
    const expired = this.sessions.expire(now);
    for (const h of expired.halfOpen) this.onHalfOpenExpired(h, now);
  }

  nextDeadline(): number | null { return this.sessions.nextDeadline(); }

  private onHalfOpenExpired(h: HalfOpenSession, now: number): void {
    // RAKP2 was sent but no RAKP3 came (ipmitool does that when its password is wrong). Not a
    // password failure: anyone can start and abandon handshakes naming a user, and the RAKP2 HMAC
    // already allows offline guessing (CVE-2013-4786), which no lockout can slow.
    if (h.stage === 'awaiting-rakp3') this.digest.count('handshake abandoned after RAKP2', now);
  }

  /** Cold/warm reset: every session ends, as on a real BMC restart. */
  resetSessions(now: number): void {
    for (const s of this.sessions.listEstablished()) this.closeSession(s.bmcSessionId, 'bmc-reset', now);
    this.sessions.clearAll();
  }

  private freeSessionId(): number {
    for (;;) {
      const id = this.nonZeroU32();
      if (this.sessions.isFreeId(id)) return id;
    }
  }

  private nonZeroU32(): number {
    for (;;) {
      const v = this.deps.random(4).readUInt32LE(0);
      if (v !== 0) return v;
    }
  }
}
