/**
 * Bounded tables of sessions. Pure bookkeeping: the caller passes `now` and fresh random ids.
 *
 * - Half-open RMCP+ sessions: at most `maxHalfOpen`; when full the oldest one of the busiest
 *   sender is evicted: the address holding the most, and within it the port holding the most. So a
 *   flood cannot pin slots and cannot push out another console's handshake either, even when it
 *   comes from many ports of one address (a client may be descheduled between Open Session and
 *   RAKP1 while a flood goes on). They expire after `halfOpenTimeoutMs`.
 * - Established sessions: at most `maxSessions`; when full Open Session answers "insufficient
 *   resources". Idle ones expire after `idleTimeoutMs` (longer than ipmitool's 15 s SOL keep-alive).
 *   Slots are reserved by the user's privilege limit (IPMI v2.0 section 22.17 codes 82h/83h): a
 *   user limited to User or Callback may fill `maxSessions - reservedForOperator -
 *   reservedForAdministrator` slots, an Operator `maxSessions - reservedForAdministrator`, an
 *   Administrator all of them, so no lower-privilege account can take the sessions an
 *   administrator needs.
 * - IPMI 1.5 challenges: bounded, short-lived and evicted like half-open sessions.
 */
import { Privilege } from '../../protocol/errors';
import type { EstablishedSession, HalfOpenSession, PendingChallenge, Remote } from './session-types';

export interface SessionLimits {
  readonly maxSessions: number;
  /** Slots only users with an Administrator (or OEM) limit may fill. */
  readonly reservedForAdministrator: number;
  /** Further slots only users with an Operator limit or higher may fill. */
  readonly reservedForOperator: number;
  readonly maxHalfOpen: number;
  readonly halfOpenTimeoutMs: number;
  readonly idleTimeoutMs: number;
}

export const DEFAULT_SESSION_LIMITS: SessionLimits = {
  maxSessions: 16,
  reservedForAdministrator: 2,
  reservedForOperator: 2,
  maxHalfOpen: 256,
  halfOpenTimeoutMs: 5_000,
  idleTimeoutMs: 60_000,
};

export interface ExpiredEntries {
  readonly halfOpen: HalfOpenSession[];
  readonly established: EstablishedSession[];
}

/**
 * Entries keyed by session id, in insertion order, with counts per address and per address and
 * port: when full, the oldest entry of the busiest port of the busiest address gives way (plain
 * oldest-first when one remote holds them all, as in a single flood).
 */
class PerRemoteBoundedMap<T extends { readonly remote: Remote }> {
  // Allocated at the first entry: a BMC nobody talks to (thousands of them in a farm) holds none.
  private entries: Map<number, T> = NOTHING as unknown as Map<number, T>;
  private perRemote: Map<string, number> = NOTHING as unknown as Map<string, number>;
  private perAddress: Map<string, number> = NOTHING as unknown as Map<string, number>;

  constructor(private readonly max: () => number) {}

  get size(): number { return this.entries.size; }
  has(id: number): boolean { return this.entries.has(id); }
  get(id: number): T | undefined { return this.entries.get(id); }
  values(): IterableIterator<T> { return this.entries.values(); }

  /** Adds an entry, evicting one when full; returns the evicted entry. */
  add(id: number, v: T): T | undefined {
    let evicted: T | undefined;
    if (this.entries.size >= this.max() && !this.entries.has(id)) {
      const busiest = this.busiestRemote(this.busiest(this.perAddress));
      for (const [oldId, old] of this.entries) {
        if (keyOf(old.remote) === busiest) {
          evicted = old;
          this.delete(oldId);
          break;
        }
      }
    }
    this.set(id, v);
    return evicted;
  }

  /** Replaces an entry in place (its age is kept); no-op for an unknown id. */
  replace(id: number, v: T): void {
    if (this.entries.has(id)) this.set(id, v);
  }

  delete(id: number): T | undefined {
    const v = this.entries.get(id);
    if (!v) return undefined;
    this.entries.delete(id);
    this.count(v.remote, -1);
    return v;
  }

  clear(): void {
    if ((this.entries as ReadonlyMap<unknown, unknown>) === NOTHING) return;
    this.entries.clear();
    this.perRemote.clear();
    this.perAddress.clear();
  }

  private set(id: number, v: T): void {
    if ((this.entries as ReadonlyMap<unknown, unknown>) === NOTHING) {
      this.entries = new Map();
      this.perRemote = new Map();
      this.perAddress = new Map();
    }
    const before = this.entries.get(id);
    if (before) this.count(before.remote, -1);
    this.entries.set(id, v);
    this.count(v.remote, 1);
  }

  private count(remote: Remote, delta: number): void {
    bump(this.perRemote, keyOf(remote), delta);
    bump(this.perAddress, remote.address, delta);
  }

  private busiest(counts: Map<string, number>, accept: (key: string) => boolean = () => true): string | undefined {
    let best: string | undefined;
    let most = 0;
    for (const [key, n] of counts) {
      if (n > most && accept(key)) { best = key; most = n; }
    }
    return best;
  }

  /** The busiest address:port of `address`. */
  private busiestRemote(address: string | undefined): string | undefined {
    if (address === undefined) return undefined;
    return this.busiest(this.perRemote, (key) => key.slice(0, key.lastIndexOf(':')) === address);
  }
}

const keyOf = (r: Remote): string => `${r.address}:${r.port}`;

/** The empty map every PerRemoteBoundedMap reads until its first entry; never written to. */
const NOTHING: ReadonlyMap<unknown, unknown> = new Map<unknown, unknown>();

function bump(counts: Map<string, number>, key: string, delta: number): void {
  const n = (counts.get(key) ?? 0) + delta;
  if (n <= 0) counts.delete(key);
  else counts.set(key, n);
}

export class SessionTable {
  private readonly halfOpen: PerRemoteBoundedMap<HalfOpenSession>;
  private readonly established = new Map<number, EstablishedSession>();
  private readonly challenges: PerRemoteBoundedMap<PendingChallenge>;

  constructor(readonly limits: SessionLimits = DEFAULT_SESSION_LIMITS) {
    this.halfOpen = new PerRemoteBoundedMap(() => this.limits.maxHalfOpen);
    this.challenges = new PerRemoteBoundedMap(() => this.limits.maxHalfOpen);
  }

  /** True when the id is free in every table (ids must be unique and non-zero). */
  isFreeId(id: number): boolean {
    return id !== 0 && !this.halfOpen.has(id) && !this.established.has(id) && !this.challenges.has(id);
  }

  get establishedCount(): number { return this.established.size; }
  get halfOpenCount(): number { return this.halfOpen.size; }
  hasEstablishedCapacity(): boolean { return this.established.size < this.limits.maxSessions; }

  /** Established slots a user whose channel privilege limit is `limit` may fill (see above). */
  slotsFor(limit: number): number {
    const { maxSessions, reservedForAdministrator, reservedForOperator } = this.limits;
    if (limit >= Privilege.Administrator && limit <= Privilege.Oem) return maxSessions;
    if (limit === Privilege.Operator) return Math.max(0, maxSessions - reservedForAdministrator);
    return Math.max(0, maxSessions - reservedForAdministrator - reservedForOperator);
  }

  /** Whether one more session of a user with this privilege limit fits. */
  admits(limit: number): boolean { return this.established.size < this.slotsFor(limit); }

  /** Adds a half-open session, evicting one when full (see above); returns the evicted one if any. */
  addHalfOpen(s: HalfOpenSession): HalfOpenSession | undefined {
    return this.halfOpen.add(s.bmcSessionId, s);
  }

  getHalfOpen(id: number): HalfOpenSession | undefined { return this.halfOpen.get(id); }
  replaceHalfOpen(s: HalfOpenSession): void { this.halfOpen.replace(s.bmcSessionId, s); }
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
    this.challenges.add(c.temporarySessionId, c);
  }
  takeChallenge(id: number): PendingChallenge | undefined {
    return this.challenges.delete(id);
  }

  /** Removes everything past its deadline and returns it, so the caller can count and notify. */
  expire(now: number): ExpiredEntries {
    const halfOpen: HalfOpenSession[] = [];
    for (const s of [...this.halfOpen.values()]) {
      if (now - s.createdAt >= this.limits.halfOpenTimeoutMs) { halfOpen.push(s); this.halfOpen.delete(s.bmcSessionId); }
    }
    for (const c of [...this.challenges.values()]) {
      if (now - c.createdAt >= this.limits.halfOpenTimeoutMs) this.challenges.delete(c.temporarySessionId);
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
