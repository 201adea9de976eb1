/**
 * Bounded tables of sessions. Pure bookkeeping: the caller passes `now` and fresh random ids.
 *
 * - Half-open RMCP+ sessions: at most `maxHalfOpen`; when full the oldest is evicted (a flood
 *   cannot pin slots, and a legitimate handshake takes milliseconds), and they expire after
 *   `halfOpenTimeoutMs`.
 * - Established sessions: at most `maxSessions`; when full Open Session answers "insufficient
 *   resources". Idle ones expire after `idleTimeoutMs` (longer than ipmitool's 15 s SOL keep-alive).
 * - IPMI 1.5 challenges: bounded and short-lived like half-open sessions.
 */
import type { EstablishedSession, HalfOpenSession, PendingChallenge } from './session-types';

export interface SessionLimits {
  readonly maxSessions: number;
  readonly maxHalfOpen: number;
  readonly halfOpenTimeoutMs: number;
  readonly idleTimeoutMs: number;
}

export const DEFAULT_SESSION_LIMITS: SessionLimits = {
  maxSessions: 16,
  maxHalfOpen: 256,
  halfOpenTimeoutMs: 5_000,
  idleTimeoutMs: 60_000,
};

export interface ExpiredEntries {
  readonly halfOpen: HalfOpenSession[];
  readonly established: EstablishedSession[];
}

export class SessionTable {
  private readonly halfOpen = new Map<number, HalfOpenSession>();
  private readonly established = new Map<number, EstablishedSession>();
  private readonly challenges = new Map<number, PendingChallenge>();

  constructor(readonly limits: SessionLimits = DEFAULT_SESSION_LIMITS) {}

  /** True when the id is free in every table (ids must be unique and non-zero). */
  isFreeId(id: number): boolean {
    return id !== 0 && !this.halfOpen.has(id) && !this.established.has(id) && !this.challenges.has(id);
  }

  get establishedCount(): number { return this.established.size; }
  get halfOpenCount(): number { return this.halfOpen.size; }
  hasEstablishedCapacity(): boolean { return this.established.size < this.limits.maxSessions; }

  /** Adds a half-open session, evicting the oldest when full; returns the evicted one if any. */
  addHalfOpen(s: HalfOpenSession): HalfOpenSession | undefined {
    let evicted: HalfOpenSession | undefined;
    if (this.halfOpen.size >= this.limits.maxHalfOpen) {
      const oldestKey = this.halfOpen.keys().next().value as number; // Map keeps insertion order
      evicted = this.halfOpen.get(oldestKey);
      this.halfOpen.delete(oldestKey);
    }
    this.halfOpen.set(s.bmcSessionId, s);
    return evicted;
  }

  getHalfOpen(id: number): HalfOpenSession | undefined { return this.halfOpen.get(id); }
  replaceHalfOpen(s: HalfOpenSession): void { if (this.halfOpen.has(s.bmcSessionId)) this.halfOpen.set(s.bmcSessionId, s); }
  removeHalfOpen(id: number): void { this.halfOpen.delete(id); }

  /** Lowest free 1-based handle. */
  nextHandle(): number {
    const used = new Set([...this.established.values()].map((s) => s.handle));
    for (let h = 1; ; h++) if (!used.has(h)) return h;
  }

  addEstablished(s: EstablishedSession): void { this.established.set(s.bmcSessionId, s); }
  getEstablished(id: number): EstablishedSession | undefined { return this.established.get(id); }
  removeEstablished(id: number): EstablishedSession | undefined {
    const s = this.established.get(id);
    this.established.delete(id);
    return s;
  }
  listEstablished(): EstablishedSession[] {
    return [...this.established.values()].sort((a, b) => a.handle - b.handle);
  }

  addChallenge(c: PendingChallenge): void {
    if (this.challenges.size >= this.limits.maxHalfOpen) {
      const oldestKey = this.challenges.keys().next().value as number;
      this.challenges.delete(oldestKey);
    }
    this.challenges.set(c.temporarySessionId, c);
  }
  takeChallenge(id: number): PendingChallenge | undefined {
    const c = this.challenges.get(id);
    this.challenges.delete(id);
    return c;
  }

  /** Removes everything past its deadline and returns it, so the caller can count and notify. */
  expire(now: number): ExpiredEntries {
    const halfOpen: HalfOpenSession[] = [];
    for (const [id, s] of this.halfOpen) {
      if (now - s.createdAt >= this.limits.halfOpenTimeoutMs) { halfOpen.push(s); this.halfOpen.delete(id); }
    }
    for (const [id, c] of this.challenges) {
      if (now - c.createdAt >= this.limits.halfOpenTimeoutMs) this.challenges.delete(id);
    }
    const established: EstablishedSession[] = [];
    for (const [id, s] of this.established) {
      if (now - s.lastActivity >= this.limits.idleTimeoutMs) { established.push(s); this.established.delete(id); }
    }
    return { halfOpen, established };
  }

  /** The earliest time at which expire() would remove something, or null when nothing is pending. */
  nextDeadline(): number | null {
    let next: number | null = null;
    const consider = (t: number): void => { if (next === null || t < next) next = t; };
    for (const s of this.halfOpen.values()) consider(s.createdAt + this.limits.halfOpenTimeoutMs);
    for (const c of this.challenges.values()) consider(c.createdAt + this.limits.halfOpenTimeoutMs);
    for (const s of this.established.values()) consider(s.lastActivity + this.limits.idleTimeoutMs);
    return next;
  }

  clearAll(): EstablishedSession[] {
    const all = [...this.established.values()];
    this.halfOpen.clear();
    this.established.clear();
    this.challenges.clear();
    return all;
  }
}
