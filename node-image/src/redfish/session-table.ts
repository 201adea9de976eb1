/**
 * Redfish sessions (DSP0266 section 13.3.4): a 128-bit random token per session, given back in
 * X-Auth-Token; the session ends when DELETEd or after `timeoutMs` without a request (the timeout
 * slides with every authenticated request). Pure: time and randomness come in from outside.
 */

export interface RedfishSession {
  readonly id: string;
  readonly token: string;
  readonly userId: number;
  readonly userName: string;
  readonly remote: string;
  readonly createdAt: number;
  lastUsedAt: number;
}

export const DEFAULT_SESSION_TIMEOUT_S = 1800;
/** DSP0268 SessionService.SessionTimeout bounds. */
export const MIN_SESSION_TIMEOUT_S = 30;
export const MAX_SESSION_TIMEOUT_S = 86_400;
/** Enough for one cached session per Ironic conductor and short-lived ones per Rufio reconcile. */
export const MAX_SESSIONS = 64;

const TOKEN_BYTES = 16;
const ID_BYTES = 8;

export class SessionTable {
  private readonly sessions = new Map<string, RedfishSession>();
  timeoutMs = DEFAULT_SESSION_TIMEOUT_S * 1000;

  constructor(private readonly random: (n: number) => Buffer) {}

  /** A new session, or undefined when MAX_SESSIONS are open. */
  create(userId: number, userName: string, remote: string, now: number): RedfishSession | undefined {
    this.expire(now);
    if (this.sessions.size >= MAX_SESSIONS) return undefined;
    let id: string;
    do id = this.random(ID_BYTES).toString('hex'); while (this.sessions.has(id));
    const session: RedfishSession = { id, token: this.random(TOKEN_BYTES).toString('hex'), userId, userName, remote, createdAt: now, lastUsedAt: now };
    this.sessions.set(id, session);
    return session;
  }

  /** The live session with this token; its timeout starts over. */
  authenticate(token: string, now: number): RedfishSession | undefined {
    this.expire(now);
    for (const s of this.sessions.values()) {
      if (tokensEqual(s.token, token)) {
        s.lastUsedAt = now;
        return s;
      }
    }
    return undefined;
  }

  get(id: string, now: number): RedfishSession | undefined {
    this.expire(now);
    return this.sessions.get(id);
  }

  list(now: number): RedfishSession[] {
    this.expire(now);
    return [...this.sessions.values()];
  }

  delete(id: string): boolean {
    return this.sessions.delete(id);
  }

  /** Ends every session of a user (for example when the user is disabled or renamed). */
  deleteForUser(userId: number): void {
    for (const [id, s] of this.sessions) if (s.userId === userId) this.sessions.delete(id);
  }

  private expire(now: number): void {
    for (const [id, s] of this.sessions) if (now - s.lastUsedAt >= this.timeoutMs) this.sessions.delete(id);
  }
}

/** Constant-time for equal lengths (tokens are fixed-length hex). */
function tokensEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
