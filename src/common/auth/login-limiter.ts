/**
 * A log-in failure limit (pure; time comes in): after MAX_FAILURES wrong credentials in a row for one
 * user name from one address, that pair is refused without checking for LOCKOUT_MS. Per address, so a
 * stranger cannot lock a real user out. The fleet Redfish endpoint keys it by the BMC user name (the
 * nodes keep their own lockout too); the web UI's log-in by the API token's fixed name.
 */
export const MAX_FAILURES = 5;
export const LOCKOUT_MS = 60_000;
/** Pairs remembered at most (the oldest are forgotten first). */
const MAX_TRACKED = 10_000;

interface Failures {
  count: number;
  lockedUntil: number;
}

export class LoginLimiter {
  private readonly failures = new Map<string, Failures>();

  private static key(user: string, remote: string): string {
    return `${remote}\u0000${user}`;
  }

  isLocked(user: string, remote: string, now: number): boolean {
    const entry = this.failures.get(LoginLimiter.key(user, remote));
    return entry !== undefined && entry.lockedUntil > now;
  }

  failed(user: string, remote: string, now: number): void {
    const key = LoginLimiter.key(user, remote);
    const entry = this.failures.get(key) ?? { count: 0, lockedUntil: 0 };
    if (entry.lockedUntil !== 0 && entry.lockedUntil <= now) {
      entry.count = 0;
      entry.lockedUntil = 0;
    }
    entry.count += 1;
    if (entry.count >= MAX_FAILURES) entry.lockedUntil = now + LOCKOUT_MS;
    this.failures.delete(key);
    this.failures.set(key, entry);
    if (this.failures.size > MAX_TRACKED) {
      const oldest = this.failures.keys().next().value;
      if (oldest !== undefined) this.failures.delete(oldest);
    }
  }

  /** When a locked pair may try again (0 when it is not locked). */
  lockedUntil(user: string, remote: string, now: number): number {
    const entry = this.failures.get(LoginLimiter.key(user, remote));
    return entry !== undefined && entry.lockedUntil > now ? entry.lockedUntil : 0;
  }

  succeeded(user: string, remote: string): void {
    this.failures.delete(LoginLimiter.key(user, remote));
  }
}
