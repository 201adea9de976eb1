/**
 * RMCP+ session establishment, the engine's handshake half (IPMI v2.0 sections 13.17–13.20 and
 * 13.28): Open Session Request/Response (choosing the cipher suite), RAKP message 1 → 2 (user,
 * role and privilege checks, the BMC's random number and GUID, the RAKP2 HMAC) and RAKP 3 → 4 (the
 * console's AuthCode checked in constant time, session keys derived, the session established).
 * Socket-, clock- and randomness-free like the engine (bmc-engine.ts), which owns the session table
 * and the sending and hands them in through HandshakeContext.
 */
import { timingSafeEqual } from 'node:crypto';
import { Privilege, RakpStatus } from '../../protocol/errors';
import { PayloadType } from '../../protocol/netfn';
import { encodeOpenSessionResponse, type OpenSessionRequest } from '../../protocol/session/open-session';
import { decodeRakp1, decodeRakp3, encodeRakpReply, MAX_USER_NAME_LENGTH, RAKP_RANDOM_LENGTH, ROLE_NAME_ONLY_LOOKUP, ROLE_PRIVILEGE_MASK } from '../../protocol/session/rakp';
import { EMPTY_WINDOW } from '../../protocol/session/sequence-window';
import { type CipherSuite, findSuite, isKnownAuthAlgorithm, isKnownConfidentialityAlgorithm, isKnownIntegrityAlgorithm } from '../../protocol/crypto/cipher-suites';
import { deriveSessionKeys, rakp2Hmac, rakp3Hmac, rakp4Icv, type RakpParticipants } from '../../protocol/crypto/session-keys';
import type { DropReason, EngineConfig } from '../bmc-engine';
import type { Logger } from '../../util/logger';
import type { SessionTable } from './session-table';
import type { Remote, RmcpPlusSession, UserAuthority } from './session-types';

/** What the handshake uses of the engine. */
export interface HandshakeContext {
  readonly config: EngineConfig;
  readonly users: UserAuthority;
  /** The 16 GUID bytes (RAKP's GUIDc). */
  readonly guid: () => Buffer;
  readonly random: (n: number) => Buffer;
  readonly log: Logger;
  readonly sessions: SessionTable;
  /** The channel's privilege limit in force. */
  channelLimit(): number;
  /** The user's effective privilege limit on the channel. */
  userLimit(userId: number): number;
  freeSessionId(): number;
  drop(reason: DropReason, fields?: Record<string, unknown>): void;
  /** A refused login of an existing user (counted, logged in a digest). */
  refused(kind: string, now: number, fields: { user: string } & Record<string, unknown>): void;
  sendSessionless(payloadType: number, payload: Buffer, to: Remote): void;
}

export class RmcpPlusHandshake {
  constructor(private readonly ctx: HandshakeContext) {}

  openSession(req: OpenSessionRequest, from: Remote, now: number): void {
    const refuse = (status: number): void => {
      this.ctx.log.debug('open session refused', { status, remote: from.address });
      this.ctx.sendSessionless(PayloadType.OpenSessionResponse, encodeOpenSessionResponse({ tag: req.tag, status, maxPrivilege: 0, consoleSessionId: req.consoleSessionId }), from);
    };
    const suite = this.chooseSuite(req);
    if (typeof suite === 'number') return refuse(suite);
    if (req.requestedPrivilege > Privilege.Oem) return refuse(RakpStatus.InvalidRole);
    if (this.ctx.channelLimit() === Privilege.None || req.requestedPrivilege > this.ctx.channelLimit()) return refuse(RakpStatus.UnauthorizedRole);
    if (!this.ctx.sessions.hasEstablishedCapacity()) return refuse(RakpStatus.InsufficientResources);
    // "0" asks for the highest level the channel allows; the answer is never 0 (FreeIPMI requires it).
    const maxPrivilege = req.requestedPrivilege === Privilege.None ? this.ctx.channelLimit() : req.requestedPrivilege;
    const bmcSessionId = this.ctx.freeSessionId();
    const evicted = this.ctx.sessions.addHalfOpen({ stage: 'awaiting-rakp1', bmcSessionId, consoleSessionId: req.consoleSessionId, suite, maxPrivilege, remote: from, createdAt: now });
    if (evicted) this.ctx.drop('unknown-session', { evictedHalfOpen: evicted.bmcSessionId });
    this.ctx.sendSessionless(PayloadType.OpenSessionResponse, encodeOpenSessionResponse({
      tag: req.tag,
      status: RakpStatus.NoErrors,
      maxPrivilege,
      consoleSessionId: req.consoleSessionId,
      accepted: { bmcSessionId, auth: suite.auth.id, integrity: suite.integrity.id, confidentiality: suite.confidentiality.id },
    }), from);
  }

  /** Validates the proposed algorithms against the enabled suites; a status code when none fits. */
  private chooseSuite(req: OpenSessionRequest): CipherSuite | number {
    const { auth, integrity, confidentiality } = req;
    if (auth.payloadType !== 0) return RakpStatus.NoMatchingAuthPayload;
    if (integrity.payloadType !== 1) return RakpStatus.NoMatchingIntegrityPayload;
    if (confidentiality.payloadType !== 2) return RakpStatus.IllegalParameter;
    if (auth.algorithm !== null && !isKnownAuthAlgorithm(auth.algorithm)) return RakpStatus.InvalidAuthAlgorithm;
    if (integrity.algorithm !== null && !isKnownIntegrityAlgorithm(integrity.algorithm)) return RakpStatus.InvalidIntegrityAlgorithm;
    if (confidentiality.algorithm !== null && !isKnownConfidentialityAlgorithm(confidentiality.algorithm)) return RakpStatus.InvalidConfidentialityAlgorithm;
    // Wildcards (null) take the strongest enabled suite that matches the named algorithms.
    const candidates = [...this.ctx.config.cipherSuites].reverse().filter((s) =>
      (auth.algorithm === null || s.auth.id === auth.algorithm) &&
      (integrity.algorithm === null || s.integrity.id === integrity.algorithm) &&
      (confidentiality.algorithm === null || s.confidentiality.id === confidentiality.algorithm));
    if (auth.algorithm !== null && integrity.algorithm !== null && confidentiality.algorithm !== null) {
      return findSuite(this.ctx.config.cipherSuites, auth.algorithm, integrity.algorithm, confidentiality.algorithm) ?? RakpStatus.NoCipherSuiteMatch;
    }
    return candidates[0] ?? RakpStatus.NoCipherSuiteMatch;
  }

  rakp1(payload: Buffer, from: Remote, now: number): void {
    const m = decodeRakp1(payload);
    const half = this.ctx.sessions.getHalfOpen(m.bmcSessionId);
    const reply = (status: number, consoleSessionId: number, body: Buffer[] = []): void =>
      this.ctx.sendSessionless(PayloadType.Rakp2, encodeRakpReply(m.tag, status, consoleSessionId, body), from);
    if (!half) {
      // The spec answers an unknown session id with status 0x02; the console id is unknown, so 0.
      return reply(RakpStatus.InvalidSessionId, 0);
    }
    const fail = (status: number): void => { this.ctx.sessions.removeHalfOpen(half.bmcSessionId); reply(status, half.consoleSessionId); };
    const requested = m.role & ROLE_PRIVILEGE_MASK;
    if (m.userNameLength > MAX_USER_NAME_LENGTH || m.userName.length !== m.userNameLength) return fail(RakpStatus.InvalidNameLength);
    if (requested === Privilege.None || requested > Privilege.Oem || (m.role & ~(ROLE_PRIVILEGE_MASK | ROLE_NAME_ONLY_LOOKUP)) !== 0) return fail(RakpStatus.InvalidRole);
    if (m.userNameLength === 0) return fail(RakpStatus.UnauthorizedName); // no null user
    const user = this.ctx.users.findByName(m.userName);
    if (!user) return fail(RakpStatus.UnauthorizedName);
    if (!this.ctx.users.checkLogin(user.id, from.address, now).allowed) {
      this.ctx.refused('login refused: user locked out from this address', now, { user: user.name, remote: from.address, protocol: 'rmcpplus' });
      return fail(RakpStatus.UnauthorizedName);
    }
    const userLimit = this.ctx.userLimit(user.id);
    if ((m.role & ROLE_NAME_ONLY_LOOKUP) === 0 && requested !== userLimit) return fail(RakpStatus.UnauthorizedName);
    if (requested < Privilege.User || requested > userLimit || requested > half.maxPrivilege) return fail(RakpStatus.UnauthorizedRole);
    // The slots left are reserved for higher privileges (session-table.ts).
    if (!this.ctx.sessions.admits(userLimit)) return fail(RakpStatus.InsufficientResources);
    const participants: RakpParticipants = {
      consoleSessionId: half.consoleSessionId,
      bmcSessionId: half.bmcSessionId,
      consoleRandom: m.consoleRandom,
      bmcRandom: this.ctx.random(RAKP_RANDOM_LENGTH),
      bmcGuid: this.ctx.guid(),
      role: m.role,
      userName: m.userName,
    };
    this.ctx.sessions.replaceHalfOpen({ ...half, stage: 'awaiting-rakp3', remote: from, rakp: { participants, user, requestedPrivilege: requested } });
    reply(RakpStatus.NoErrors, half.consoleSessionId, [participants.bmcRandom, participants.bmcGuid, rakp2Hmac(half.suite.auth, user.password, participants)]);
  }

  rakp3(payload: Buffer, from: Remote, now: number): void {
    const m = decodeRakp3(payload);
    const half = this.ctx.sessions.getHalfOpen(m.bmcSessionId);
    if (!half || half.stage !== 'awaiting-rakp3' || !half.rakp) {
      return this.ctx.sendSessionless(PayloadType.Rakp4, encodeRakpReply(m.tag, RakpStatus.InvalidSessionId, 0), from);
    }
    const { participants, user, requestedPrivilege } = half.rakp;
    this.ctx.sessions.removeHalfOpen(half.bmcSessionId);
    const reply = (status: number, body: Buffer[] = []): void =>
      this.ctx.sendSessionless(PayloadType.Rakp4, encodeRakpReply(m.tag, status, half.consoleSessionId, body), from);
    if (m.status !== RakpStatus.NoErrors) {
      // The console rejected our RAKP2. Anyone can send this without knowing anything, so it
      // proves nothing about a password and is not counted against the user (only a wrong RAKP3
      // AuthCode is). A console with a wrong password learns nothing here it did not from RAKP2.
      return this.ctx.drop('handshake-refused-by-console', { status: m.status });
    }
    const expected = rakp3Hmac(half.suite.auth, user.password, participants);
    if (m.authCode.length !== expected.length || !timingSafeEqual(expected, m.authCode)) {
      this.ctx.users.recordFailure(user.id, from.address, now);
      this.ctx.refused('login refused: wrong password', now, { user: user.name, remote: from.address, protocol: 'rmcpplus' });
      return reply(RakpStatus.InvalidIntegrityCheckValue);
    }
    if (!this.ctx.sessions.admits(this.ctx.userLimit(user.id))) return reply(RakpStatus.InsufficientResources);
    const keys = deriveSessionKeys(half.suite.auth, user.password, this.ctx.config.kg, participants);
    const session: RmcpPlusSession = {
      protocol: 'rmcpplus',
      bmcSessionId: half.bmcSessionId,
      consoleSessionId: half.consoleSessionId,
      handle: this.ctx.sessions.nextHandle(),
      userId: user.id,
      userName: user.name,
      remote: from,
      privilege: Math.min(Privilege.User, requestedPrivilege),
      maxPrivilege: Math.min(requestedPrivilege, this.ctx.userLimit(user.id)),
      inbound: EMPTY_WINDOW,
      outboundSequence: 0,
      lastActivity: now,
      suite: half.suite,
      keys,
    };
    this.ctx.sessions.addEstablished(session);
    this.ctx.users.recordSuccess(user.id, from.address, now);
    reply(RakpStatus.NoErrors, [rakp4Icv(half.suite.auth, keys.sik, participants)]);
    this.ctx.log.info('session activated', { protocol: 'rmcpplus', suite: half.suite.id, user: user.name, remote: from.address, handle: session.handle });
  }
}
