/**
 * IPMI 1.5 session activation, the engine's other handshake (IPMI v2.0 sections 22.16 and 22.17):
 * Get Session Challenge (a temporary session id and a 16-byte challenge for a known user) and
 * Activate Session (the AuthCode checked in constant time, the challenge and privilege checked, the
 * session established with its sequence numbers). Socket-, clock- and randomness-free like the
 * engine (bmc-engine.ts), which owns the session table and the sending.
 */
import { timingSafeEqual } from 'node:crypto';
import { CompletionCode, Privilege } from '../../protocol/errors';
import { AppCmd, NetFn } from '../../protocol/netfn';
import { type IpmiRequest, responseFor } from '../../protocol/ipmi-message';
import { encodeIpmi15Packet, type Ipmi15Packet } from '../../protocol/session/ipmi15-packet';
import { EMPTY_WINDOW } from '../../protocol/session/sequence-window';
import { AUTH_CODE_15_LENGTH, authCode15, AuthType15 } from '../../protocol/crypto/auth15';
import type { DropReason, EngineConfig } from '../bmc-engine';
import type { Logger } from '../../util/logger';
import type { SessionTable } from './session-table';
import type { Ipmi15Session, Remote, UserAuthority } from './session-types';

const IPMI15_MAX_PRIVILEGE_MASK = 0x0f;

/** What the activation uses of the engine. */
export interface ActivationContext {
  readonly config: EngineConfig;
  readonly users: UserAuthority;
  readonly random: (n: number) => Buffer;
  readonly log: Logger;
  readonly sessions: SessionTable;
  readonly send: (datagram: Buffer, to: Remote) => void;
  /** The user's effective privilege limit on the channel. */
  userLimit(userId: number): number;
  freeSessionId(): number;
  nonZeroU32(): number;
  drop(reason: DropReason, fields?: Record<string, unknown>): void;
  /** A refused login of an existing user (counted, logged in a digest). */
  refused(kind: string, now: number, fields: { user: string } & Record<string, unknown>): void;
  /** The request in a message, or undefined (counted as a drop) when it is none. */
  decodeRequest(message: Buffer): IpmiRequest | undefined;
}

export class Ipmi15Activation {
  constructor(private readonly ctx: ActivationContext) {}

  async activateSession(p: Ipmi15Packet, from: Remote, now: number): Promise<void> {
    const pending = this.ctx.sessions.takeChallenge(p.sessionId);
    if (!pending) return this.ctx.drop('unknown-session');
    const req = this.ctx.decodeRequest(p.message);
    if (!req) return;
    if (req.netFn !== NetFn.App || req.cmd !== AppCmd.ActivateSession) return this.ctx.drop('unknown-session');
    const reply = (cc: number, data: Buffer = Buffer.alloc(0), authCode: Buffer | null = null, sequence = 0): void => {
      // A refusal carries a zeroed AuthCode: computing one with our password would hand the sender an oracle.
      this.ctx.send(encodeIpmi15Packet({ authType: p.authType, sequence, sessionId: p.sessionId, authCode: authCode ?? Buffer.alloc(AUTH_CODE_15_LENGTH), message: responseFor(req, cc, data) }), from);
    };
    if (p.authType !== pending.authType) return this.ctx.drop('bad-authcode');
    const expected = authCode15(p.authType, pending.user.password, p.sessionId, p.message, p.sequence);
    if (!expected || !p.authCode || !timingSafeEqual(expected, p.authCode)) {
      this.ctx.users.recordFailure(pending.user.id, from.address, now);
      this.ctx.refused('IPMI 1.5 activation refused: wrong password', now, { user: pending.user.name, remote: from.address });
      return reply(ActivateSessionCode.InvalidSessionId);
    }
    if (req.data.length !== 22) return reply(CompletionCode.RequestDataLengthInvalid);
    const authType = req.data[0]! & IPMI15_MAX_PRIVILEGE_MASK;
    const requestedPrivilege = req.data[1]! & IPMI15_MAX_PRIVILEGE_MASK;
    const challenge = req.data.subarray(2, 18);
    const initialOutbound = req.data.readUInt32LE(18);
    if (authType !== pending.authType || !timingSafeEqual(challenge, pending.challenge)) return reply(ActivateSessionCode.InvalidSessionId);
    const limit = this.ctx.userLimit(pending.user.id);
    if (requestedPrivilege < Privilege.Callback || requestedPrivilege > Privilege.Oem) return reply(CompletionCode.InvalidDataField);
    if (requestedPrivilege > limit) return reply(ActivateSessionCode.PrivilegeExceedsLimit);
    if (initialOutbound === 0) return reply(ActivateSessionCode.SequenceOutOfRange);
    if (!this.ctx.sessions.hasEstablishedCapacity()) return reply(ActivateSessionCode.NoSessionSlot);
    if (!this.ctx.sessions.admits(limit)) return reply(ActivateSessionCode.NoSlotAtPrivilege);
    const sessionId = this.ctx.freeSessionId();
    const initialInbound = this.ctx.nonZeroU32();
    const session: Ipmi15Session = {
      protocol: 'ipmi15',
      bmcSessionId: sessionId,
      handle: this.ctx.sessions.nextHandle(),
      userId: pending.user.id,
      userName: pending.user.name,
      remote: from,
      privilege: Math.min(Privilege.User, requestedPrivilege),
      maxPrivilege: requestedPrivilege,
      inbound: EMPTY_WINDOW,
      outboundSequence: initialOutbound,
      lastActivity: now,
      authType,
      password: pending.user.password,
    };
    // The console's next packet carries initialInbound; start the window just below it.
    session.inbound = { highest: (initialInbound - 1) >>> 0, seenBelow: 0 };
    this.ctx.sessions.addEstablished(session);
    this.ctx.users.recordSuccess(pending.user.id, from.address, now);
    const data = Buffer.alloc(10);
    data[0] = authType;
    data.writeUInt32LE(sessionId, 1);
    data.writeUInt32LE(initialInbound, 5);
    data[9] = requestedPrivilege;
    const message = responseFor(req, CompletionCode.Ok, data);
    const code = authCode15(authType, pending.user.password, p.sessionId, message, initialOutbound) ?? null;
    this.ctx.send(encodeIpmi15Packet({ authType, sequence: initialOutbound, sessionId: p.sessionId, authCode: code, message }), from);
    this.ctx.log.info('session activated', { protocol: 'ipmi15', user: pending.user.name, remote: from.address, handle: session.handle });
  }

  /** Get Session Challenge (IPMI 1.5, section 22.16), answered outside a session. */
  sessionChallenge(authType: number, userName: Buffer, from: Remote, now: number): { cc: number; data?: Buffer } {
    if (!this.ctx.config.ipmi15Enabled) return { cc: CompletionCode.InvalidDataField };
    if (!this.ctx.config.ipmi15AuthTypes.includes(authType) || authType === AuthType15.None) return { cc: CompletionCode.InvalidDataField };
    const end = userName.indexOf(0);
    const name = end === -1 ? userName : userName.subarray(0, end);
    if (name.length === 0) return { cc: ChallengeCode.NullUserNameDisabled };
    const user = this.ctx.users.findByName(name);
    // A 20-byte password cannot key an IPMI 1.5 AuthCode (16 bytes); such users log in over RMCP+ only.
    if (!user || (user.passwordSize ?? 16) > AUTH_CODE_15_LENGTH) return { cc: ChallengeCode.InvalidUserName };
    if (!this.ctx.users.checkLogin(user.id, from.address, now).allowed) {
      this.ctx.refused('login refused: user locked out from this address', now, { user: user.name, remote: from.address, protocol: 'ipmi15' });
      return { cc: ChallengeCode.InvalidUserName };
    }
    const temporarySessionId = this.ctx.freeSessionId();
    const challenge = this.ctx.random(16);
    this.ctx.sessions.addChallenge({ temporarySessionId, challenge, authType, user, remote: from, createdAt: now });
    const data = Buffer.alloc(20);
    data.writeUInt32LE(temporarySessionId, 0);
    challenge.copy(data, 4);
    return { cc: CompletionCode.Ok, data };
  }
}

/** Activate Session completion codes (IPMI v2.0 section 22.17). */
export const ActivateSessionCode = {
  NoSessionSlot: 0x81,
  NoSlotForUser: 0x82,
  NoSlotAtPrivilege: 0x83,
  SequenceOutOfRange: 0x84,
  InvalidSessionId: 0x85,
  PrivilegeExceedsLimit: 0x86,
} as const;

/** Get Session Challenge completion codes (IPMI v2.0 section 22.16). */
export const ChallengeCode = {
  InvalidUserName: 0x81,
  NullUserNameDisabled: 0x82,
} as const;
