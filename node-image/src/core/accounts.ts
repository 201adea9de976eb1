/**
 * Users as every password-based protocol sees them: log-in by name and password text, with the
 * lockout counted per user and source address across protocols (bmc/users/auth-lockout.ts), and a role from the user's LAN privilege limit
 * (IPMI v2.0 section 6.8: Administrator, Operator, User; Redfish roles Administrator, Operator,
 * ReadOnly). This file is the only place outside the IPMI engine that calls the user store's
 * lockout methods.
 */
import { timingSafeEqual } from 'node:crypto';
import { Privilege } from '../protocol/errors';
import type { User, UserStore } from '../bmc/users/user-store';

export type Role = 'administrator' | 'operator' | 'read-only';

export interface Account {
  readonly id: number;
  readonly name: string;
  readonly enabled: boolean;
  /** undefined: the user has no access (no LAN privilege, or below User). */
  readonly role: Role | undefined;
  readonly locked: boolean;
}

export type LoginResult =
  | { readonly ok: true; readonly account: Account & { readonly role: Role } }
  | { readonly ok: false; readonly reason: 'unknown-user' | 'wrong-password' | 'locked-out' | 'no-access' };

export function roleOfPrivilege(privilege: number): Role | undefined {
  switch (privilege) {
    case Privilege.Administrator: case Privilege.Oem: return 'administrator';
    case Privilege.Operator: return 'operator';
    case Privilege.User: return 'read-only';
    default: return undefined;
  }
}

export class Accounts {
  constructor(private readonly users: UserStore) {}

  /**
   * Checks a name and password from `source` (the client's address, as IPMI counts it). A wrong
   * password counts toward that user's lockout from that address; a locked-out user is refused
   * even with the right password; success resets the count for that address.
   */
  login(name: string, password: string, source: string, now: number): LoginResult {
    const user = this.users.findByName(Buffer.from(name, 'utf8'));
    if (!user) return { ok: false, reason: 'unknown-user' };
    const from = normalizeSource(source);
    if (!this.users.checkLogin(user.id, from, now).allowed) return { ok: false, reason: 'locked-out' };
    if (!passwordMatches(user, Buffer.from(password, 'utf8'))) {
      this.users.recordFailure(user.id, from, now);
      return { ok: false, reason: 'wrong-password' };
    }
    this.users.recordSuccess(user.id, from, now);
    const account = this.describe(user, now);
    if (!account.role) return { ok: false, reason: 'no-access' };
    return { ok: true, account: { ...account, role: account.role } };
  }

  /** The current role of a user (changes through IPMI apply to open sessions at once). */
  role(userId: number): Role | undefined {
    return roleOfPrivilege(this.users.channelPrivilegeLimit(userId));
  }

  get(userId: number, now: number): Account | undefined {
    const user = this.users.get(userId);
    return user && user.name.length > 0 ? this.describe(user, now) : undefined;
  }

  /** Named users (the null user and empty slots are not accounts). */
  list(now: number): Account[] {
    return this.users.list().filter((u) => u.name.length > 0 && u.id !== 1).map((u) => this.describe(u, now));
  }

  get lockoutPolicy(): { readonly threshold: number; readonly lockoutMs: number; readonly attemptWindowMs: number } {
    return this.users.lockoutPolicy;
  }

  private describe(user: User, now: number): Account {
    // Locked as a Redfish account shows it: refused from an address it has never logged in from
    // (a lockout of one address, or the throttle against guessing spread over many).
    return { id: user.id, name: user.name, enabled: user.enabled, role: this.role(user.id), locked: !this.users.checkLogin(user.id, UNKNOWN_SOURCE, now).allowed };
  }
}

/** An address no client has: what an account's state looks like to a stranger. */
const UNKNOWN_SOURCE = '';

/** IPv4 clients of a dual-stack socket appear as ::ffff:a.b.c.d; IPMI (UDP on IPv4) sees a.b.c.d. */
export function normalizeSource(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice('::ffff:'.length) : address;
}

/** Constant-time comparison of the password with the stored one, both NUL-padded to the stored size. */
function passwordMatches(user: User, given: Buffer): boolean {
  if (given.length === 0 || given.length > user.passwordSize) return false;
  const a = Buffer.alloc(user.passwordSize);
  const b = Buffer.alloc(user.passwordSize);
  given.copy(a);
  user.password.copy(b);
  return timingSafeEqual(a, b);
}
