/**
 * Users as every password-based protocol sees them: log-in by name and password text, with the
 * lockout counted per user and source address across protocols (bmc/users/auth-lockout.ts), and a role from the user's LAN privilege limit
 * (IPMI v2.0 section 6.8: Administrator, Operator, User; Redfish roles Administrator, Operator,
 * ReadOnly). This file is the only place outside the IPMI engine that calls the user store's
 * lockout methods.
 */
import { timingSafeEqual } from 'node:crypto';
import { Privilege } from '../protocol/errors';
import { UserStoreError, UserStoreErrorCode, MAX_USER_ID, NULL_USER_ID, PASSWORD_SIZE_16, PASSWORD_SIZE_20, type User, type UserStore } from '../bmc/users/user-store';
import type { LockoutPolicy } from '../bmc/users/auth-lockout';

export type Role = 'administrator' | 'operator' | 'read-only';

export interface Account {
  readonly id: number;
  readonly name: string;
  readonly enabled: boolean;
  /** undefined: the user has no access (no LAN privilege, or below User). */
  readonly role: Role | undefined;
  readonly locked: boolean;
}

/** The shortest password a user may be given here (the orchestrator's rule for IPMI passwords). */
export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = PASSWORD_SIZE_20;
export const MAX_USER_NAME_LENGTH = 16;

/** IPMI privilege limit of each role (IPMI v2.0 section 6.8). */
export const ROLE_PRIVILEGE: Readonly<Record<Role, number>> = {
  'administrator': Privilege.Administrator,
  'operator': Privilege.Operator,
  'read-only': Privilege.User,
};

export interface AccountChange {
  readonly name?: string;
  readonly password?: string;
  readonly role?: Role;
  readonly enabled?: boolean;
  /** false: end a lockout now. */
  readonly locked?: false;
}

export type AccountError = 'duplicate-name' | 'no-free-slot' | 'invalid-name' | 'invalid-password' | 'not-found' | 'last-administrator';

export type AccountResult = { readonly ok: true; readonly id: number } | { readonly ok: false; readonly error: AccountError };

/** A name a user can be given: 1 to 16 printable ASCII characters, no spaces. */
export const validUserName = (name: string): boolean => new RegExp(`^[\\x21-\\x7e]{1,${MAX_USER_NAME_LENGTH}}$`).test(name);
/** A password a user can be given: 8 to 20 printable ASCII characters. */
export const validPassword = (password: string): boolean => new RegExp(`^[\\x20-\\x7e]{${MIN_PASSWORD_LENGTH},${MAX_PASSWORD_LENGTH}}$`).test(password);

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

  /**
   * The role of the user a session was opened for, while that user still has it: named
   * `userName` (not renamed or replaced), enabled and with a role. Undefined otherwise.
   */
  sessionRole(userId: number, userName: string): Role | undefined {
    // A role implies an enabled user with a name (UserStore.channelPrivilegeLimit).
    const role = this.role(userId);
    return role !== undefined && this.users.hasName(userId, userName) ? role : undefined;
  }

  get(userId: number, now: number): Account | undefined {
    const user = this.users.get(userId);
    return user && user.name.length > 0 ? this.describe(user, now) : undefined;
  }

  /** Named users (the null user and empty slots are not accounts). */
  list(now: number): Account[] {
    return this.users.list().filter((u) => u.name.length > 0 && u.id !== 1).map((u) => this.describe(u, now));
  }

  get lockoutPolicy(): LockoutPolicy {
    return this.users.lockoutPolicy;
  }

  /** The lockout shared by every protocol (IPMI LAN parameter 26 shows the same policy). */
  setLockoutPolicy(policy: LockoutPolicy): void {
    this.users.setLockoutPolicy(policy);
  }

  /**
   * A new user in the lowest free user ID (a slot without a name), with IPMI messaging on the LAN
   * channel at the role's privilege; Administrators and Operators also get SOL.
   */
  create(change: Required<Pick<AccountChange, 'name' | 'password' | 'role'>> & { readonly enabled?: boolean }): AccountResult {
    if (!validUserName(change.name)) return { ok: false, error: 'invalid-name' };
    if (!validPassword(change.password)) return { ok: false, error: 'invalid-password' };
    if (this.users.list().some((u) => u.name === change.name)) return { ok: false, error: 'duplicate-name' };
    const free = this.users.list().find((u) => u.id !== NULL_USER_ID && u.id <= MAX_USER_ID && u.name.length === 0);
    if (!free) return { ok: false, error: 'no-free-slot' };
    return this.apply(free.id, { ...change, enabled: change.enabled ?? true });
  }

  /** Changes one named user; `not-found` for an empty slot or the null user. */
  update(id: number, change: AccountChange): AccountResult {
    const user = this.users.get(id);
    if (!user || id === NULL_USER_ID || user.name.length === 0) return { ok: false, error: 'not-found' };
    if (change.name !== undefined && !validUserName(change.name)) return { ok: false, error: 'invalid-name' };
    if (change.password !== undefined && !validPassword(change.password)) return { ok: false, error: 'invalid-password' };
    if (change.name !== undefined && change.name !== user.name && this.users.list().some((u) => u.name === change.name)) return { ok: false, error: 'duplicate-name' };
    const staysAdministrator = (change.enabled ?? user.enabled) && (change.role ?? this.role(id)) === 'administrator';
    if (!staysAdministrator && this.isLastAdministrator(id)) return { ok: false, error: 'last-administrator' };
    return this.apply(id, change);
  }

  /** Removes a user: disabled, no access, name cleared (the slot is free again). */
  remove(id: number): AccountResult {
    const user = this.users.get(id);
    if (!user || id === NULL_USER_ID || user.name.length === 0) return { ok: false, error: 'not-found' };
    if (this.isLastAdministrator(id)) return { ok: false, error: 'last-administrator' };
    this.users.setEnabled(id, false);
    this.users.setAccess(id, Privilege.NoAccess, { ipmiMessaging: false, linkAuth: false, callbackOnly: false });
    this.users.setSolPayload(id, false);
    this.users.setName(id, Buffer.alloc(0));
    return { ok: true, id };
  }

  /** Whether `id` is the only enabled user with the Administrator role (who must not be lost). */
  private isLastAdministrator(id: number): boolean {
    const admins = this.users.list().filter((u) => u.id !== NULL_USER_ID && u.name.length > 0 && u.enabled && this.role(u.id) === 'administrator');
    return admins.length === 1 && admins[0]!.id === id;
  }

  private apply(id: number, change: AccountChange): AccountResult {
    try {
      if (change.name !== undefined) this.users.setName(id, Buffer.from(change.name, 'latin1'));
      if (change.password !== undefined) {
        const bytes = Buffer.from(change.password, 'latin1');
        this.users.setPassword(id, bytes, bytes.length > PASSWORD_SIZE_16 ? PASSWORD_SIZE_20 : PASSWORD_SIZE_16);
      }
      if (change.role !== undefined) {
        this.users.setAccess(id, ROLE_PRIVILEGE[change.role], { ipmiMessaging: true, linkAuth: true, callbackOnly: false });
        this.users.setSolPayload(id, change.role !== 'read-only');
      }
      if (change.enabled !== undefined) this.users.setEnabled(id, change.enabled);
      // Enabling ends a lockout (as Set User Password "enable user" does).
      if (change.locked === false && this.users.get(id)?.enabled) this.users.setEnabled(id, true);
    } catch (err) {
      if (err instanceof UserStoreError && err.code === UserStoreErrorCode.DuplicateName) return { ok: false, error: 'duplicate-name' };
      throw err;
    }
    return { ok: true, id };
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
