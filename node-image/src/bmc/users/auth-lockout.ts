/**
 * Lockout after repeated wrong passwords (IPMI v2.0 section 23.2, LAN configuration parameter 26
 * "Bad Password Threshold"). Pure: time comes in as `now` (ms since the epoch); nothing here
 * starts a timer. State is in memory only: a BMC restart forgets failures and lockouts.
 *
 * Parameter 26 layout (what Get/Set LAN Configuration Parameters carry, 6 bytes):
 *   byte 1      bit 0: generate a Session Audit event on lockout (not supported here: always 0)
 *   byte 2      bad password threshold (failures before lockout; 0 = lockout disabled)
 *   bytes 3..4  attempt count reset interval, LS byte first, in 10 s units (0 = count never resets)
 *   bytes 5..6  user lockout interval, LS byte first, in 10 s units (0 = locked until the user
 *               is re-enabled with Set User Password "enable user")
 */

export interface LockoutPolicy {
  /** Failures that lock the user; 0 disables lockout. */
  readonly threshold: number;
  /** Failures older than this no longer count; 0 = they count until a success. */
  readonly attemptWindowMs: number;
  /** How long a lockout lasts; 0 = until the user is re-enabled. */
  readonly lockoutMs: number;
}

/** 5 wrong passwords within 60 s lock the user out for 30 s. */
export const DEFAULT_LOCKOUT_POLICY: LockoutPolicy = { threshold: 5, attemptWindowMs: 60_000, lockoutMs: 30_000 };

/** Parameter 26 expresses both intervals in tens of seconds. */
export const LOCKOUT_INTERVAL_UNIT_MS = 10_000;
/** Largest interval parameter 26 can express (16-bit count of 10 s units). */
const MAX_INTERVAL_UNITS = 0xffff;

interface UserFailures {
  /** Times of the failures still inside the window, oldest first. */
  failures: number[];
  /** Locked until this time; Infinity = until re-enabled; undefined = not locked. */
  lockedUntil?: number;
}

export class AuthLockout {
  private readonly byUser = new Map<number, UserFailures>();

  constructor(private policyValue: LockoutPolicy = DEFAULT_LOCKOUT_POLICY) {
    assertValidPolicy(policyValue);
  }

  get policy(): LockoutPolicy { return this.policyValue; }

  setPolicy(policy: LockoutPolicy): void {
    assertValidPolicy(policy);
    this.policyValue = policy;
  }

  /** Counts one wrong password; returns true when the user is locked out after it. */
  recordFailure(userId: number, now: number): boolean {
    const { threshold, attemptWindowMs, lockoutMs } = this.policyValue;
    if (threshold === 0) return false;
    if (this.isLockedOut(userId, now)) return true;
    const entry = this.byUser.get(userId) ?? { failures: [] };
    entry.lockedUntil = undefined;
    entry.failures = attemptWindowMs === 0 ? entry.failures : entry.failures.filter((t) => now - t < attemptWindowMs);
    entry.failures.push(now);
    if (entry.failures.length >= threshold) {
      entry.lockedUntil = lockoutMs === 0 ? Infinity : now + lockoutMs;
      entry.failures = [];
    }
    this.byUser.set(userId, entry);
    return entry.lockedUntil !== undefined;
  }

  /** A successful login forgets earlier failures (it cannot end a lockout: check isLockedOut first). */
  recordSuccess(userId: number, now: number): void {
    if (this.isLockedOut(userId, now)) return;
    this.byUser.delete(userId);
  }

  isLockedOut(userId: number, now: number): boolean {
    const until = this.byUser.get(userId)?.lockedUntil;
    return until !== undefined && now < until;
  }

  /** Set User Password "enable user" (and any reset of the user) ends a lockout. */
  clear(userId: number): void {
    this.byUser.delete(userId);
  }
}

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
