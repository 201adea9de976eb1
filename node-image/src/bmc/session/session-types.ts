/**
 * Session records of the BMC (IPMI v2.0 sections 6.12, 13.14–13.24). Half-open RMCP+ sessions
 * (between Open Session and a valid RAKP3) live apart from established ones so that a flood of
 * unauthenticated Open Session requests can never take an established slot.
 */
import type { CipherSuite } from '../../protocol/crypto/cipher-suites';
import type { RakpParticipants, SessionKeys } from '../../protocol/crypto/session-keys';
import type { SequenceWindow } from '../../protocol/session/sequence-window';

export interface Remote {
  readonly address: string;
  readonly port: number;
  /**
   * The BMC's own UDP port the remote's last datagram arrived on, when it listens on two (IPMI_PORT
   * and IPMI_SOL_PORT): replies and SOL output leave from it. A session may move between the two.
   */
  readonly localPort?: number;
}

export interface SessionUser {
  readonly id: number;
  readonly name: string;
  /** The user's password bytes (Kuid); never logged. */
  readonly password: Buffer;
  /** 16 or 20: the form the password was set in (IPMI 1.5 sessions can only use 16-byte passwords). */
  readonly passwordSize?: number;
}

/** What the session layer needs to know about users; the user store implements it. */
export interface UserAuthority {
  findByName(name: Buffer): SessionUser | undefined;
  /** The user's privilege limit on the LAN channel (Privilege.*; NoAccess = 0x0F). */
  channelPrivilegeLimit(userId: number): number;
  /** Lockout per user and source address (users/auth-lockout.ts). */
  checkLogin(userId: number, source: string, now: number): { readonly allowed: boolean };
  /** A password proven wrong (bad RAKP3 or IPMI 1.5 AuthCode). */
  recordFailure(userId: number, source: string, now: number): unknown;
  recordSuccess(userId: number, source: string, now: number): void;
  /** User changes, so that the user's open sessions can be ended or downgraded at once. */
  onChange?(listener: (change: { readonly userId: number; readonly kind: string }) => void): () => void;
}

export interface HalfOpenSession {
  readonly stage: 'awaiting-rakp1' | 'awaiting-rakp3';
  readonly bmcSessionId: number;
  readonly consoleSessionId: number;
  readonly suite: CipherSuite;
  /** Maximum privilege granted in the Open Session Response. */
  readonly maxPrivilege: number;
  readonly remote: Remote;
  readonly createdAt: number;
  /** Set after RAKP1 named a valid user. */
  readonly rakp?: {
    readonly participants: RakpParticipants;
    readonly user: SessionUser;
    readonly requestedPrivilege: number;
  };
}

interface EstablishedBase {
  readonly bmcSessionId: number;
  readonly handle: number;
  readonly userId: number;
  readonly userName: string;
  remote: Remote;
  /** Current operating privilege. */
  privilege: number;
  /** Highest privilege this session may raise itself to (lowered when the user's access is). */
  maxPrivilege: number;
  inbound: SequenceWindow;
  /** Last outbound sequence number used; the next packet uses +1. */
  outboundSequence: number;
  lastActivity: number;
  /** Last answered request, to resend instead of re-executing a client's retry. */
  lastReply?: { readonly key: string; readonly response: Buffer; readonly at: number };
  /** Requests being carried out right now (same key as lastReply). */
  inFlight?: Set<string>;
}

export interface RmcpPlusSession extends EstablishedBase {
  readonly protocol: 'rmcpplus';
  readonly consoleSessionId: number;
  readonly suite: CipherSuite;
  readonly keys: SessionKeys;
}

export interface Ipmi15Session extends EstablishedBase {
  readonly protocol: 'ipmi15';
  readonly authType: number;
  readonly password: Buffer;
}

export type EstablishedSession = RmcpPlusSession | Ipmi15Session;

/** A challenge handed out by Get Session Challenge, waiting for Activate Session. */
export interface PendingChallenge {
  readonly temporarySessionId: number;
  readonly challenge: Buffer;
  readonly authType: number;
  readonly user: SessionUser;
  readonly remote: Remote;
  readonly createdAt: number;
}
