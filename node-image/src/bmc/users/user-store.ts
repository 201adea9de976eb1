/**
 * The BMC's user table (IPMI v2.0 sections 6.9 "user model", 22.26–22.30, 22.29b payload access).
 *
 * - User IDs 1..MAX_USER_ID. ID 1 is the null user (empty, fixed name): it stays disabled, gets no
 *   password, no name and no privilege, so there is no anonymous or null-user login.
 * - ID 2 is the administrator configured from IPMI_USER / IPMI_PASS. At start, when the configured
 *   credentials differ from the ones applied last time (compared by a SHA-256 fingerprint kept in
 *   users.json), user 2 is reset from them; otherwise what was changed over IPMI is kept.
 * - Everything is persisted in the StateStore document "users.json" after every change. The file
 *   holds the passwords themselves (RAKP needs the password as HMAC key, so it cannot be a hash).
 * - Only the LAN channel carries user access (one privilege limit and flag set per user).
 *
 * Passwords never leave this store except as the `password` property that the session layer uses
 * as key; that property is non-enumerable so logging or serialising a User does not show it.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { Privilege } from '../../protocol/errors';
import { type StateStore, readJson, writeJson } from '../../state/state-store';
import { AuthLockout, DEFAULT_LOCKOUT_POLICY, type LockoutPolicy, type LoginCheck } from './auth-lockout';

export const USERS_DOCUMENT = 'users.json';
/** Number of user IDs reported in Get User Access byte 2 (ipmitool `user list` walks them all). */
export const MAX_USER_ID = 10;
export const NULL_USER_ID = 1;
export const ADMIN_USER_ID = 2;
/** The channel users are configured for (LAN). */
export const LAN_CHANNEL = 1;
/** User names are up to 16 bytes (Set User Name, RAKP1 ULEN). */
export const USER_NAME_MAX_LENGTH = 16;
/** IPMI 1.5 passwords are 16 bytes, IPMI 2.0 passwords up to 20 (Set User Password bit 7). */
export const PASSWORD_SIZE_16 = 16;
export const PASSWORD_SIZE_20 = 20;
export type PasswordSize = typeof PASSWORD_SIZE_16 | typeof PASSWORD_SIZE_20;

/** What one user may do on the LAN channel (Get/Set User Access, Get/Set User Payload Access). */
export interface ChannelUserAccess {
  /** Privilege.* or Privilege.NoAccess (0x0F). */
  readonly privilegeLimit: number;
  readonly ipmiMessaging: boolean;
  readonly linkAuth: boolean;
  /** "User restricted to callback": on LAN such a user gets at most Callback privilege. */
  readonly callbackOnly: boolean;
  /** Standard payload type 1 (SOL) enabled for this user. */
  readonly solPayload: boolean;
}

/** A read-only snapshot of one user. Structurally a session-layer SessionUser. */
export interface User {
  readonly id: number;
  /** The name bytes as latin1 text (for logs and displays). */
  readonly name: string;
  /** The exact name bytes, no padding. */
  readonly nameBytes: Buffer;
  /** The password bytes without NUL padding (RAKP Kuid). Non-enumerable: never logged. */
  readonly password: Buffer;
  /** Whether the password was set in the 16- or the 20-byte form. */
  readonly passwordSize: PasswordSize;
  readonly enabled: boolean;
  readonly access: ChannelUserAccess;
}

export interface UserStoreOptions {
  readonly state: StateStore;
  /** IPMI_USER: 1..16 bytes (UTF-8), no control characters. */
  readonly adminName: string;
  /** IPMI_PASS: 1..20 bytes (UTF-8). */
  readonly adminPassword: string;
}

export const UserStoreErrorCode = {
  InvalidUserId: 'INVALID_USER_ID',
  /** The null user (ID 1) cannot be named, given a password, enabled or given access. */
  NullUserFixed: 'NULL_USER_FIXED',
  DuplicateName: 'DUPLICATE_NAME',
  InvalidName: 'INVALID_NAME',
  /** Empty (all NUL) or too long. */
  InvalidPassword: 'INVALID_PASSWORD',
  InvalidPrivilege: 'INVALID_PRIVILEGE',
} as const;
export type UserStoreErrorCode = (typeof UserStoreErrorCode)[keyof typeof UserStoreErrorCode];

export class UserStoreError extends Error {
  constructor(readonly code: UserStoreErrorCode) {
    super(code);
    this.name = 'UserStoreError';
  }
}

export type PasswordTestResult = 'match' | 'mismatch' | 'wrong-size';

/**
 * What changed about a user, told to listeners after the change is stored: sessions of the user
 * are ended or downgraded at once (disabled, password changed, access lowered).
 */
export interface UserChange {
  readonly userId: number;
  readonly kind: 'enabled' | 'disabled' | 'password' | 'access' | 'name' | 'payload-access';
}
export type UserChangeListener = (change: UserChange) => void;

interface UserRecord {
  name: Buffer;
  password: Buffer;
  passwordSize: PasswordSize;
  enabled: boolean;
  access: ChannelUserAccess;
}

interface StoredUser {
  readonly id: number;
  readonly name: string; // hex
  readonly password: string; // hex
  readonly passwordSize: number;
  readonly enabled: boolean;
  readonly access: ChannelUserAccess;
}

interface UsersDocument {
  readonly version: 1;
  /** SHA-256 over the configured administrator name and password last applied to user 2. */
  readonly configuredFingerprint: string;
  readonly lockoutPolicy: LockoutPolicy;
  readonly users: readonly StoredUser[];
}

const NO_ACCESS: ChannelUserAccess = { privilegeLimit: Privilege.NoAccess, ipmiMessaging: false, linkAuth: false, callbackOnly: false, solPayload: false };
/** New IDs: IPMI messaging on so that `user priv` alone (which cannot set the flag) grants LAN access. */
const UNUSED_ACCESS: ChannelUserAccess = { ...NO_ACCESS, ipmiMessaging: true };
const ADMIN_ACCESS: ChannelUserAccess = { privilegeLimit: Privilege.Administrator, ipmiMessaging: true, linkAuth: true, callbackOnly: false, solPayload: true };
const VALID_PRIVILEGE_LIMITS: readonly number[] = [Privilege.Callback, Privilege.User, Privilege.Operator, Privilege.Administrator, Privilege.Oem, Privilege.NoAccess];

export class UserStore {
  /** Index 0 is user ID 1. */
  private readonly records: UserRecord[];
  private readonly lockout: AuthLockout;
  private readonly listeners = new Set<UserChangeListener>();
  private readonly fingerprint: string;
  /** True when this start (re)applied IPMI_USER / IPMI_PASS to user 2; for a log line. */
  readonly adminAppliedFromConfig: boolean;
  /** Non-secret remarks about the start (e.g. an unreadable users.json); for log lines. */
  readonly startupNotes: readonly string[];

  /** No login failure remembered, nothing locked out (auth-lockout.ts). */
  get lockoutQuiet(): boolean { return this.lockout.quiet; }

  constructor(private readonly options: UserStoreOptions) {
    const adminName = Buffer.from(options.adminName, 'utf8');
    const adminPassword = Buffer.from(options.adminPassword, 'utf8');
    if (!isValidName(adminName) || adminName.length === 0) throw new Error(`IPMI_USER must be 1..${USER_NAME_MAX_LENGTH} bytes without control characters`);
    if (adminPassword.length === 0 || adminPassword.length > PASSWORD_SIZE_20 || adminPassword.includes(0)) throw new Error(`IPMI_PASS must be 1..${PASSWORD_SIZE_20} bytes without NUL`);
    this.fingerprint = configFingerprint(adminName, adminPassword);

    const notes: string[] = [];
    const loaded = loadDocument(options.state, notes);
    this.records = loaded?.records ?? defaultRecords();
    this.lockout = new AuthLockout(loaded?.lockoutPolicy ?? DEFAULT_LOCKOUT_POLICY);
    this.adminAppliedFromConfig = loaded?.configuredFingerprint !== this.fingerprint;
    if (this.adminAppliedFromConfig) {
      this.applyConfiguredAdmin(adminName, adminPassword, notes);
      this.persist();
    }
    this.startupNotes = notes;
  }

  get maxUsers(): number { return MAX_USER_ID; }
  get lockoutPolicy(): LockoutPolicy { return this.lockout.policy; }

  get(id: number): User | undefined {
    const r = this.record(id);
    return r && snapshot(id, r);
  }

  /** Whether user `id` is named exactly `name` (latin1 text), without taking a snapshot. */
  hasName(id: number, name: string): boolean {
    const r = this.record(id);
    return r !== undefined && r.name.length === name.length && r.name.toString('latin1') === name;
  }

  list(): User[] {
    return this.records.map((r, i) => snapshot(i + 1, r));
  }

  /** The user who may log in with exactly these name bytes (case-sensitive), if any. */
  findByName(name: Buffer): User | undefined {
    if (name.length === 0) return undefined;
    const i = this.records.findIndex((r) => r.name.equals(name));
    const r = this.records[i];
    if (!r || !canLogIn(r)) return undefined;
    return snapshot(i + 1, r);
  }

  /** IPMI 1.5 carries the name NUL-padded to 16 bytes. */
  findByPaddedName(field: Buffer): User | undefined {
    return this.findByName(stripNulPadding(field));
  }

  /**
   * The highest privilege the user may use on the LAN channel: NoAccess (0x0F) for a disabled
   * user or one without IPMI messaging, Callback for a callback-only user, else the limit.
   * Note 0x0F is numerically above Administrator: compare against NoAccess before taking a min.
   */
  channelPrivilegeLimit(userId: number): number {
    const r = this.record(userId);
    if (!r || !canLogIn(r)) return Privilege.NoAccess;
    return r.access.callbackOnly ? Privilege.Callback : r.access.privilegeLimit;
  }

  /** Lockout (auth-lockout.ts), per user and source address, for every login protocol. */
  checkLogin(userId: number, source: string, now: number): LoginCheck { return this.lockout.checkLogin(userId, source, now); }
  /** Only a password proven wrong counts (a bad RAKP3 or IPMI 1.5 AuthCode, a bad HTTP password). */
  recordFailure(userId: number, source: string, now: number): LoginCheck { return this.lockout.recordFailure(userId, source, now); }
  recordSuccess(userId: number, source: string, now: number): void { this.lockout.recordSuccess(userId, source, now); }

  /** Registers a listener for user changes; returns the function that removes it. */
  onChange(listener: UserChangeListener): () => void {
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  }

  setLockoutPolicy(policy: LockoutPolicy): void {
    this.lockout.setPolicy(policy);
    this.persist();
  }

  countEnabled(): number { return this.records.filter((r) => r.enabled).length; }
  /** Only the null user has a fixed name. */
  countFixedNames(): number { return 1; }

  setName(id: number, name: Buffer): void {
    const r = this.mutable(id);
    if (!isValidName(name)) throw new UserStoreError(UserStoreErrorCode.InvalidName);
    if (name.length > 0 && this.records.some((other, i) => i + 1 !== id && other.name.equals(name))) {
      throw new UserStoreError(UserStoreErrorCode.DuplicateName);
    }
    r.name = Buffer.from(name);
    this.persist();
    this.emit(id, 'name');
  }

  /** `password` may carry NUL padding; it is stored without it. */
  setPassword(id: number, password: Buffer, size: PasswordSize): void {
    const r = this.mutable(id);
    const bare = stripNulPadding(password);
    if (bare.length === 0 || bare.length > size) throw new UserStoreError(UserStoreErrorCode.InvalidPassword);
    r.password = Buffer.from(bare);
    r.passwordSize = size;
    this.persist();
    this.emit(id, 'password');
  }

  /** Set User Password "test password": constant-time comparison of the padded forms. */
  testPassword(id: number, password: Buffer, size: PasswordSize): PasswordTestResult {
    const r = this.record(id);
    if (!r) throw new UserStoreError(UserStoreErrorCode.InvalidUserId);
    if (size !== r.passwordSize) return 'wrong-size';
    if (password.length > size) return 'mismatch';
    return timingSafeEqual(pad(password, size), pad(r.password, size)) ? 'match' : 'mismatch';
  }

  /** Set User Password "enable/disable user". Enabling also ends a lockout. The null user cannot be enabled. */
  setEnabled(id: number, enabled: boolean): void {
    const r = id === NULL_USER_ID && !enabled ? this.record(id) : this.mutable(id);
    if (!r) throw new UserStoreError(UserStoreErrorCode.InvalidUserId);
    r.enabled = enabled;
    if (enabled) this.lockout.clear(id);
    this.persist();
    this.emit(id, enabled ? 'enabled' : 'disabled');
  }

  /**
   * Set User Access. `flags` absent = keep the messaging/link/callback flags (request bit 7 clear).
   * The null user may only be given NoAccess.
   */
  setAccess(id: number, privilegeLimit: number, flags?: Pick<ChannelUserAccess, 'ipmiMessaging' | 'linkAuth' | 'callbackOnly'>): void {
    if (!VALID_PRIVILEGE_LIMITS.includes(privilegeLimit)) throw new UserStoreError(UserStoreErrorCode.InvalidPrivilege);
    const r = id === NULL_USER_ID && privilegeLimit === Privilege.NoAccess ? this.record(id) : this.mutable(id);
    if (!r) throw new UserStoreError(UserStoreErrorCode.InvalidUserId);
    r.access = { ...r.access, ...flags, privilegeLimit };
    this.persist();
    this.emit(id, 'access');
  }

  /** Set User Payload Access for SOL; the null user can only have it disabled. */
  setSolPayload(id: number, enabled: boolean): void {
    const r = id === NULL_USER_ID && !enabled ? this.record(id) : this.mutable(id);
    if (!r) throw new UserStoreError(UserStoreErrorCode.InvalidUserId);
    r.access = { ...r.access, solPayload: enabled };
    this.persist();
    this.emit(id, 'payload-access');
  }

  private emit(userId: number, kind: UserChange['kind']): void {
    for (const l of [...this.listeners]) l({ userId, kind });
  }

  private record(id: number): UserRecord | undefined {
    return Number.isInteger(id) && id >= 1 ? this.records[id - 1] : undefined;
  }

  /** A record that may be changed: any valid ID except the null user. */
  private mutable(id: number): UserRecord {
    const r = this.record(id);
    if (!r) throw new UserStoreError(UserStoreErrorCode.InvalidUserId);
    if (id === NULL_USER_ID) throw new UserStoreError(UserStoreErrorCode.NullUserFixed);
    return r;
  }

  private applyConfiguredAdmin(name: Buffer, password: Buffer, notes: string[]): void {
    this.records.forEach((other, i) => {
      if (i + 1 !== ADMIN_USER_ID && other.name.equals(name)) {
        // Names must stay unique: the configured administrator wins over an IPMI-made namesake.
        other.name = Buffer.alloc(0);
        other.enabled = false;
        notes.push(`user ${i + 1} had the configured administrator's name; its name was cleared and it was disabled`);
      }
    });
    this.records[ADMIN_USER_ID - 1] = {
      name: Buffer.from(name),
      password: Buffer.from(password),
      passwordSize: password.length > PASSWORD_SIZE_16 ? PASSWORD_SIZE_20 : PASSWORD_SIZE_16,
      enabled: true,
      access: ADMIN_ACCESS,
    };
    this.lockout.clear(ADMIN_USER_ID);
    notes.push(`user ${ADMIN_USER_ID} set from the configured administrator credentials`);
  }

  private persist(): void {
    const doc: UsersDocument = {
      version: 1,
      configuredFingerprint: this.fingerprint,
      lockoutPolicy: this.lockout.policy,
      users: this.records.map((r, i) => ({
        id: i + 1,
        name: r.name.toString('hex'),
        password: r.password.toString('hex'),
        passwordSize: r.passwordSize,
        enabled: r.enabled,
        access: r.access,
      })),
    };
    writeJson(this.options.state, USERS_DOCUMENT, doc);
  }
}

function canLogIn(r: UserRecord): boolean {
  return r.enabled && r.name.length > 0 && r.password.length > 0 && r.access.ipmiMessaging && r.access.privilegeLimit !== Privilege.NoAccess;
}

function snapshot(id: number, r: UserRecord): User {
  const user = { id, name: r.name.toString('latin1'), nameBytes: Buffer.from(r.name), passwordSize: r.passwordSize, enabled: r.enabled, access: { ...r.access } };
  Object.defineProperty(user, 'password', { value: Buffer.from(r.password), enumerable: false });
  return Object.freeze(user) as User;
}

/** Empty names and passwords: zero bytes cannot be written to, so every empty slot shares one. */
const EMPTY = Buffer.alloc(0);

function defaultRecords(): UserRecord[] {
  return Array.from({ length: MAX_USER_ID }, (_, i) => ({
    name: EMPTY,
    password: EMPTY,
    passwordSize: PASSWORD_SIZE_16,
    enabled: false,
    access: i + 1 === NULL_USER_ID ? NO_ACCESS : UNUSED_ACCESS,
  }));
}

/** Names: up to 16 bytes, no NUL or other control characters (NUL is the padding). */
function isValidName(name: Buffer): boolean {
  return name.length <= USER_NAME_MAX_LENGTH && name.every((b) => b >= 0x20 && b !== 0x7f);
}

export function stripNulPadding(b: Buffer): Buffer {
  let end = b.length;
  while (end > 0 && b[end - 1] === 0) end--;
  return b.subarray(0, end);
}

function pad(b: Buffer, size: number): Buffer {
  const out = Buffer.alloc(size);
  b.copy(out, 0, 0, Math.min(b.length, size));
  return out;
}

/** The last fingerprint made: every BMC of a farm has the same configured administrator. */
let lastFingerprint: { readonly name: Buffer; readonly password: Buffer; readonly value: string } | undefined;

/** Length-prefixed so that ("ab","c") and ("a","bc") differ. */
function configFingerprint(name: Buffer, password: Buffer): string {
  const last = lastFingerprint;
  if (last && last.name.equals(name) && last.password.equals(password)) return last.value;
  const value = createHash('sha256').update(Buffer.from([name.length])).update(name).update(password).digest('hex');
  lastFingerprint = { name: Buffer.from(name), password: Buffer.from(password), value };
  return value;
}

interface LoadedUsers {
  readonly records: UserRecord[];
  readonly configuredFingerprint: string;
  readonly lockoutPolicy: LockoutPolicy;
}

/**
 * The last users document read from a store that keeps documents as text, and what it gave: the BMCs
 * of a farm mostly hold the very same users table, and one waking up need not decode it again.
 */
let lastLoaded: { readonly text: string; readonly loaded: LoadedUsers } | undefined;

/** Records of its own for each UserStore (their Buffers are replaced on change, never written to: shared). */
function ownCopy(loaded: LoadedUsers): LoadedUsers {
  return { ...loaded, records: loaded.records.map((r) => ({ ...r })) };
}

function loadDocument(state: StateStore, notes: string[]): LoadedUsers | undefined {
  const text = state.readJsonText?.(USERS_DOCUMENT);
  const last = lastLoaded;
  if (text !== undefined && last !== undefined && last.text === text) return ownCopy(last.loaded);
  let doc: UsersDocument | undefined;
  try {
    doc = text !== undefined ? JSON.parse(text) as UsersDocument : readJson<UsersDocument>(state, USERS_DOCUMENT);
  } catch {
    notes.push(`${USERS_DOCUMENT} is not valid JSON; starting from the default users`);
    return undefined;
  }
  if (!doc) return undefined;
  let loaded: LoadedUsers;
  try {
    loaded = { records: parseRecords(doc), configuredFingerprint: String(doc.configuredFingerprint), lockoutPolicy: parsePolicy(doc.lockoutPolicy) };
  } catch (err) {
    notes.push(`${USERS_DOCUMENT} is not usable (${err instanceof Error ? err.message : 'bad content'}); starting from the default users`);
    return undefined;
  }
  if (text === undefined) return loaded;
  lastLoaded = { text, loaded };
  return ownCopy(loaded);
}

function parseRecords(doc: UsersDocument): UserRecord[] {
  if (doc.version !== 1 || !Array.isArray(doc.users)) throw new Error('unknown version');
  const records = defaultRecords();
  const names = new Set<string>();
  for (const u of doc.users) {
    const r = records[u.id - 1];
    if (!r || u.id === NULL_USER_ID) continue; // the null user is never taken from the file
    const name = u.name === '' ? EMPTY : Buffer.from(String(u.name), 'hex');
    const password = u.password === '' ? EMPTY : Buffer.from(String(u.password), 'hex');
    const size = u.passwordSize === PASSWORD_SIZE_20 ? PASSWORD_SIZE_20 : PASSWORD_SIZE_16;
    const a = u.access;
    if (!isValidName(name) || password.length > size || !a || !VALID_PRIVILEGE_LIMITS.includes(a.privilegeLimit)) throw new Error(`user ${u.id}`);
    if (name.length > 0 && names.has(name.toString('hex'))) throw new Error(`user ${u.id}: duplicate name`);
    names.add(name.toString('hex'));
    records[u.id - 1] = {
      name, password, passwordSize: size, enabled: u.enabled === true,
      access: { privilegeLimit: a.privilegeLimit, ipmiMessaging: a.ipmiMessaging === true, linkAuth: a.linkAuth === true, callbackOnly: a.callbackOnly === true, solPayload: a.solPayload === true },
    };
  }
  return records;
}

function parsePolicy(p: LockoutPolicy | undefined): LockoutPolicy {
  if (!p) return DEFAULT_LOCKOUT_POLICY;
  new AuthLockout(p); // throws when out of range
  return { threshold: p.threshold, attemptWindowMs: p.attemptWindowMs, lockoutMs: p.lockoutMs };
}
