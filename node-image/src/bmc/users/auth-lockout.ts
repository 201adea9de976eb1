/**
 * Lockout after repeated wrong passwords (IPMI v2.0 section 23.2, LAN configuration parameter 26
 * "Bad Password Threshold"), kept per user AND per source address so that a stranger cannot turn
 * it against a user. Protocol-neutral: any login path (RMCP+, IPMI 1.5, an HTTP API) calls
 * `checkLogin` before it proves anything, `recordFailure` only when a password was really shown
 * to be wrong, `recordSuccess` after a good login. Pure: time comes in as `now` (ms since the
 * epoch); nothing here starts a timer. State is in memory only: a BMC restart forgets it.
 *
 * Rules:
 * - Per source: `threshold` wrong passwords for one user from one address within
 *   `attemptWindowMs` lock that user out *from that address* for `lockoutMs` (0 = until the user is
 *   re-enabled). The same user logging in from another address is not affected.
 * - Per user, across sources (a guesser spread over many addresses): when the user's failures
 *   from all addresses within the window reach `GLOBAL_THRESHOLD_FACTOR × threshold`, the user is
 *   throttled for `lockoutMs` (at least GLOBAL_MIN_THROTTLE_MS): logins from addresses that are
 *   not familiar are refused. A familiar address is one this user logged in from successfully
 *   within FAMILIAR_SOURCE_MS; it keeps working (subject to its own per-source count), so the
 *   administrator's usual console is never locked out by others. A new address of the real user
 *   is refused while the throttle lasts (documented in docs/security.md).
 * - Threshold 0 turns both off.
 * - Bounded memory: at most MAX_TRACKED_SOURCES (user, address) entries; entries that hold no
 *   lockout and no failure inside the window go first, then the oldest.
 *
 * Parameter 26 layout (what Get/Set LAN Configuration Parameters carry, 6 bytes):
 *   byte 1      bit 0: generate a Session Audit event on lockout (not supported here: always 0)
 *   byte 2      bad password threshold (failures before lockout; 0 = lockout disabled)
 *   bytes 3..4  attempt count reset interval, LS byte first, in 10 s units (0 = count never resets)
 *   bytes 5..6  user lockout interval, LS byte first, in 10 s units (0 = locked until the user
 *               is re-enabled with Set User Password "enable user")
 */

export interface LockoutPolicy {
  /** Failures (per user and source address) that lock the user out from that address; 0 disables lockout. */
  readonly threshold: number;
  /** Failures older than this no longer count; 0 = they count until a success. */
  readonly attemptWindowMs: number;
  /** How long a lockout lasts; 0 = until the user is re-enabled. */
  readonly lockoutMs: number;
}

/** 5 wrong passwords within 60 s lock the user out (from that address) for 30 s. */
export const DEFAULT_LOCKOUT_POLICY: LockoutPolicy = { threshold: 5, attemptWindowMs: 60_000, lockoutMs: 30_000 };

/** Parameter 26 expresses both intervals in tens of seconds. */
export const LOCKOUT_INTERVAL_UNIT_MS = 10_000;
/** Largest interval parameter 26 can express (16-bit count of 10 s units). */
const MAX_INTERVAL_UNITS = 0xffff;

/** Failures of one user from all addresses that throttle unfamiliar addresses: this × threshold. */
export const GLOBAL_THRESHOLD_FACTOR = 4;
/** The window for the global count when the policy's reset interval is 0 (count forever). */
const GLOBAL_WINDOW_WHEN_UNBOUNDED_MS = 600_000;
/** Shortest throttle (also used when the policy's lockout lasts until re-enabled). */
const GLOBAL_MIN_THROTTLE_MS = 30_000;
/** How long a successful login makes its address familiar for that user. */
export const FAMILIAR_SOURCE_MS = 24 * 3600_000;
/** Familiar addresses remembered per user. */
const MAX_FAMILIAR_SOURCES = 16;
/** (user, address) entries kept at most. */
export const MAX_TRACKED_SOURCES = 4096;

export type LoginCheck =
  | { readonly allowed: true }
  /** `until`: when the refusal ends (Infinity = until the user is re-enabled). */
  | { readonly allowed: false; readonly reason: 'source-locked' | 'user-throttled'; readonly until: number };

interface SourceFailures {
  /** Times of the failures still inside the window, oldest first. */
  failures: number[];
  /** Locked until this time; Infinity = until re-enabled; undefined = not locked. */
  lockedUntil?: number;
}

interface UserState {
  /** Times of failures from any address, oldest first (bounded by the global threshold). */
  failures: number[];
  throttledUntil?: number;
  /** address → time of the last successful login from it. */
  familiar: Map<string, number>;
}

const ALLOWED: LoginCheck = { allowed: true };

export class AuthLockout {
  private readonly bySource = new Map<string, SourceFailures>();
  private readonly byUser = new Map<number, UserState>();

  constructor(private policyValue: LockoutPolicy = DEFAULT_LOCKOUT_POLICY) {
    assertValidPolicy(policyValue);
  }

  get policy(): LockoutPolicy { return this.policyValue; }

  setPolicy(policy: LockoutPolicy): void {
    assertValidPolicy(policy);
    this.policyValue = policy;
  }

  /** Whether `userId` may try to log in from `source` now. Call it before any password check. */
  checkLogin(userId: number, source: string, now: number): LoginCheck {
    if (this.policyValue.threshold === 0) return ALLOWED;
    const until = this.bySource.get(key(userId, source))?.lockedUntil;
    if (until !== undefined && now < until) return { allowed: false, reason: 'source-locked', until };
    const user = this.byUser.get(userId);
    if (user?.throttledUntil !== undefined && now < user.throttledUntil && !this.isFamiliar(user, source, now)) {
      return { allowed: false, reason: 'user-throttled', until: user.throttledUntil };
    }
    return ALLOWED;
  }

  /**
   * Counts one wrong password of `userId` from `source`. Only a proven wrong password counts (a
   * bad RAKP3 or IPMI 1.5 AuthCode), never a handshake that was merely abandoned or refused.
   * Returns the state after it.
   */
  recordFailure(userId: number, source: string, now: number): LoginCheck {
    const { threshold, attemptWindowMs, lockoutMs } = this.policyValue;
    if (threshold === 0) return ALLOWED;
    const before = this.checkLogin(userId, source, now);
    if (!before.allowed && before.reason === 'source-locked') return before;

    const k = key(userId, source);
    const entry = this.bySource.get(k) ?? { failures: [] };
    entry.lockedUntil = undefined;
    entry.failures = attemptWindowMs === 0 ? entry.failures : entry.failures.filter((t) => now - t < attemptWindowMs);
    entry.failures.push(now);
    if (entry.failures.length >= threshold) {
      entry.lockedUntil = lockoutMs === 0 ? Infinity : now + lockoutMs;
      entry.failures = [];
    }
    this.bySource.delete(k); // re-inserted last: the map's order is the order of last use
    this.bySource.set(k, entry);
    this.trim(now);

    const user = this.userState(userId);
    const globalWindow = attemptWindowMs === 0 ? GLOBAL_WINDOW_WHEN_UNBOUNDED_MS : attemptWindowMs;
    const globalThreshold = threshold * GLOBAL_THRESHOLD_FACTOR;
    user.failures = user.failures.filter((t) => now - t < globalWindow).slice(-(globalThreshold - 1));
    user.failures.push(now);
    if (user.failures.length >= globalThreshold) {
      user.throttledUntil = now + Math.max(lockoutMs, GLOBAL_MIN_THROTTLE_MS);
      user.failures = [];
    }
    return this.checkLogin(userId, source, now);
  }

  /** A successful login forgets that address's failures and makes it familiar for the user. */
  recordSuccess(userId: number, source: string, now: number): void {
    const k = key(userId, source);
    const until = this.bySource.get(k)?.lockedUntil;
    if (until !== undefined && now < until) return; // a success cannot end a lockout: checkLogin first
    this.bySource.delete(k);
    const user = this.userState(userId);
    user.familiar.delete(source);
    user.familiar.set(source, now);
    if (user.familiar.size > MAX_FAMILIAR_SOURCES) user.familiar.delete(user.familiar.keys().next().value!);
  }

  /** Set User Password "enable user" (and any reset of the user) ends every lockout of the user. */
  clear(userId: number): void {
    const prefix = `${userId}/`;
    for (const k of [...this.bySource.keys()]) if (k.startsWith(prefix)) this.bySource.delete(k);
    const user = this.byUser.get(userId);
    if (user) { user.failures = []; user.throttledUntil = undefined; }
  }

  /**
   * No failure remembered and nothing locked or throttled: forgetting everything now (a BMC that
   * restarts) changes no answer, since remembered successes matter only while failures exist.
   */
  get quiet(): boolean {
    for (const e of this.bySource.values()) if (e.failures.length > 0 || e.lockedUntil !== undefined) return false;
    for (const u of this.byUser.values()) if (u.failures.length > 0 || u.throttledUntil !== undefined) return false;
    return true;
  }

  /** (user, address) entries held; for tests of the bound. */
  get trackedSources(): number { return this.bySource.size; }

  private isFamiliar(user: UserState, source: string, now: number): boolean {
    const at = user.familiar.get(source);
    return at !== undefined && now - at < FAMILIAR_SOURCE_MS;
  }

  private userState(userId: number): UserState {
    let u = this.byUser.get(userId);
    if (!u) { u = { failures: [], familiar: new Map() }; this.byUser.set(userId, u); }
    return u;
  }

  /**
   * Keeps at most MAX_TRACKED_SOURCES entries: stale ones go first, then the least recently used
   * of those without a lockout, then the least recently used.
   */
  private trim(now: number): void {
    const window = this.policyValue.attemptWindowMs;
    const isLocked = (e: SourceFailures): boolean => e.lockedUntil !== undefined && now < e.lockedUntil;
    const isRecent = (e: SourceFailures): boolean => (window === 0 ? e.failures.length > 0 : e.failures.some((t) => now - t < window));
    const passes: Array<(e: SourceFailures) => boolean> = [(e) => !isLocked(e) && !isRecent(e), (e) => !isLocked(e), () => true];
    for (const evictable of passes) {
      for (const [k, e] of this.bySource) {
        if (this.bySource.size <= MAX_TRACKED_SOURCES) return;
        if (evictable(e)) this.bySource.delete(k);
      }
    }
  }
}

const key = (userId: number, source: string): string => `${userId}/${source}`;

function assertValidPolicy(p: LockoutPolicy): void {
  const ok = Number.isInteger(p.threshold) && p.threshold >= 0 && p.threshold <= 0xff
    && isEncodableInterval(p.attemptWindowMs) && isEncodableInterval(p.lockoutMs);
  if (!ok) throw new Error(`invalid lockout policy ${JSON.stringify(p)}`);
}

function isEncodableInterval(ms: number): boolean {
  return Number.isInteger(ms) && ms >= 0 && ms % LOCKOUT_INTERVAL_UNIT_MS === 0 && ms / LOCKOUT_INTERVAL_UNIT_MS <= MAX_INTERVAL_UNITS;
}

export const BAD_PASSWORD_THRESHOLD_LENGTH = 6;

/** LAN parameter 26 data (without the revision byte). */
export function encodeBadPasswordThreshold(p: LockoutPolicy): Buffer {
  const out = Buffer.alloc(BAD_PASSWORD_THRESHOLD_LENGTH);
  out[0] = 0; // no Session Audit events
  out[1] = p.threshold;
  out.writeUInt16LE(p.attemptWindowMs / LOCKOUT_INTERVAL_UNIT_MS, 2);
  out.writeUInt16LE(p.lockoutMs / LOCKOUT_INTERVAL_UNIT_MS, 4);
  return out;
}

/** Parses LAN parameter 26; undefined when byte 1 asks for something unsupported (events, reserved bits). */
export function decodeBadPasswordThreshold(data: Buffer): LockoutPolicy | undefined {
  if (data.length !== BAD_PASSWORD_THRESHOLD_LENGTH || data[0] !== 0) return undefined;
  return {
    threshold: data[1]!,
    attemptWindowMs: data.readUInt16LE(2) * LOCKOUT_INTERVAL_UNIT_MS,
    lockoutMs: data.readUInt16LE(4) * LOCKOUT_INTERVAL_UNIT_MS,
  };
}
