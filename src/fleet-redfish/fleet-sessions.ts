/**
 * Sessions of the fleet endpoint (DSP0266 section 13.3.4), pure: time and randomness come in. A
 * session holds the BMC credentials it was opened with, in memory only (never logged, never
 * stored), because every request made with its token goes on to a node's own BMC with them. It ends
 * on DELETE or after `timeoutMs` without a request; the timeout slides.
 */
import { timingSafeEqual } from 'node:crypto';
import { DEFAULT_SESSION_TIMEOUT_S } from '../../node-image/src/redfish/session-table';
import type { BmcCredentials } from './fleet-credentials';

export { DEFAULT_SESSION_TIMEOUT_S };
/** Room for one session per node and client (sushy caches one per address and credentials). */
export const MAX_FLEET_SESSIONS = 4096;
const TOKEN_BYTES = 16;
const ID_BYTES = 8;

export interface FleetSession {
  readonly id: string;
  readonly token: string;
  readonly credentials: BmcCredentials;
  readonly remote: string;
  readonly createdAt: number;
  lastUsedAt: number;
}

export class FleetSessions {
  private readonly sessions = new Map<string, FleetSession>();

  constructor(
    private readonly random: (bytes: number) => Buffer,
    readonly timeoutMs = DEFAULT_SESSION_TIMEOUT_S * 1000,
  ) {}

  /** A new session; undefined when MAX_FLEET_SESSIONS are open. */
  create(credentials: BmcCredentials, remote: string, now: number): FleetSession | undefined {
    this.expire(now);
    if (this.sessions.size >= MAX_FLEET_SESSIONS) return undefined;
    let id: string;
    do id = this.random(ID_BYTES).toString('hex'); while (this.sessions.has(id));
    const session: FleetSession = { id, token: this.random(TOKEN_BYTES).toString('hex'), credentials, remote, createdAt: now, lastUsedAt: now };
    this.sessions.set(id, session);
    return session;
  }

  /** The live session with this token; its timeout starts over. */
  authenticate(token: string, now: number): FleetSession | undefined {
    this.expire(now);
    const given = Buffer.from(token);
    for (const session of this.sessions.values()) {
      const own = Buffer.from(session.token);
      if (own.length === given.length && timingSafeEqual(own, given)) {
        session.lastUsedAt = now;
        return session;
      }
    }
    return undefined;
  }

  get(id: string, now: number): FleetSession | undefined {
    this.expire(now);
    return this.sessions.get(id);
  }

  /** Sessions opened with this user name. */
  ofUser(userName: string, now: number): FleetSession[] {
    this.expire(now);
    return [...this.sessions.values()].filter((session) => session.credentials.user === userName);
  }

  delete(id: string): boolean {
    return this.sessions.delete(id);
  }

  private expire(now: number): void {
    for (const [id, session] of this.sessions) if (now - session.lastUsedAt >= this.timeoutMs) this.sessions.delete(id);
  }
}
