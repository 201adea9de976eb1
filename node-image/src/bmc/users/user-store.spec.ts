import { Privilege } from '../../protocol/errors';
import { MemoryStateStore, readJson, writeJson, type StateStore } from '../../state/state-store';
import { FarmDocuments } from '../../farm/farm-state-store';
import { ADMIN_USER_ID, MAX_USER_ID, NULL_USER_ID, USERS_DOCUMENT, UserStore, UserStoreError, UserStoreErrorCode } from './user-store';

const config = { adminName: 'admin', adminPassword: 'password' };
const make = (state: StateStore = new MemoryStateStore(), c: { adminName: string; adminPassword: string } = config) => new UserStore({ state, ...c });
const b = (s: string) => Buffer.from(s, 'latin1');

function expectCode(fn: () => unknown, code: string): void {
  let caught: unknown;
  try { fn(); } catch (err) { caught = err; }
  expect(caught).toBeInstanceOf(UserStoreError);
  expect((caught as UserStoreError).code).toBe(code);
}

/** A second user able to log in: name, password, privilege, enabled. */
function addOperator(sut: UserStore, id = 3, name = 'oper'): void {
  sut.setName(id, b(name));
  sut.setPassword(id, b('operpass'), 16);
  sut.setAccess(id, Privilege.Operator);
  sut.setEnabled(id, true);
}

describe('UserStore defaults', () => {
  it('has MAX_USER_ID slots, a disabled nameless null user and the configured administrator', () => {
    const sut = make();
    expect(sut.list()).toHaveLength(MAX_USER_ID);
    const nul = sut.get(NULL_USER_ID)!;
    expect(nul.enabled).toBe(false);
    expect(nul.nameBytes.length).toBe(0);
    expect(nul.access.privilegeLimit).toBe(Privilege.NoAccess);
    const admin = sut.get(ADMIN_USER_ID)!;
    expect(admin.name).toBe('admin');
    expect(admin.password.toString()).toBe('password');
    expect(admin.passwordSize).toBe(16);
    expect(admin.enabled).toBe(true);
    expect(admin.access).toEqual({ privilegeLimit: Privilege.Administrator, ipmiMessaging: true, linkAuth: true, callbackOnly: false, solPayload: true });
    expect(sut.get(3)!.access.privilegeLimit).toBe(Privilege.NoAccess);
    expect(sut.get(3)!.access.solPayload).toBe(false);
    expect(sut.get(0)).toBeUndefined();
    expect(sut.get(MAX_USER_ID + 1)).toBeUndefined();
    expect(sut.adminAppliedFromConfig).toBe(true);
  });

  it('remembers a password longer than 16 bytes as the 20-byte form', () => {
    const sut = make(undefined, { adminName: 'root', adminPassword: 'a-twenty-byte-secret' });
    expect(sut.get(ADMIN_USER_ID)!.passwordSize).toBe(20);
  });

  it.each([
    ['empty name', '', 'pw'],
    ['name over 16 bytes', 'abcdefghijklmnopq', 'pw'],
    ['control character in name', 'ad\nmin', 'pw'],
    ['empty password', 'admin', ''],
    ['password over 20 bytes', 'admin', 'abcdefghijklmnopqrstu'],
  ])('refuses a bad configuration: %s', (_what, adminName, adminPassword) => {
    expect(() => make(undefined, { adminName, adminPassword })).toThrow(/IPMI_(USER|PASS)/);
  });

  it('never shows the password when a user is logged or serialised', () => {
    const admin = make(undefined, { adminName: 'admin', adminPassword: 'Zq9secret' }).get(ADMIN_USER_ID)!;
    expect(admin.password.toString()).toBe('Zq9secret');
    expect(Object.keys(admin)).not.toContain('password');
    const bytes = [...Buffer.from('Zq9secret')].join(',');
    for (const text of [JSON.stringify(admin), require('node:util').inspect(admin, { depth: 5 })]) {
      expect(text).not.toContain('Zq9secret');
      expect(text).not.toContain(bytes);
      expect(text).not.toMatch(/password:/);
    }
  });
});

describe('UserStore lookup by name', () => {
  it('finds enabled users by their exact, case-sensitive name bytes', () => {
    const sut = make();
    expect(sut.findByName(b('admin'))?.id).toBe(ADMIN_USER_ID);
    expect(sut.findByName(b('Admin'))).toBeUndefined();
    expect(sut.findByName(b('admin\0'))).toBeUndefined();
    expect(sut.findByName(b('adm'))).toBeUndefined();
    expect(sut.findByName(Buffer.alloc(0))).toBeUndefined();
  });

  it('finds a user by the NUL-padded 16-byte IPMI 1.5 field', () => {
    const field = Buffer.alloc(16);
    field.write('admin');
    expect(make().findByPaddedName(field)?.id).toBe(ADMIN_USER_ID);
  });

  it('hides users who are disabled, have no access, no IPMI messaging or no password', () => {
    const sut = make();
    addOperator(sut);
    expect(sut.findByName(b('oper'))?.id).toBe(3);
    sut.setEnabled(3, false);
    expect(sut.findByName(b('oper'))).toBeUndefined();
    sut.setEnabled(3, true);
    sut.setAccess(3, Privilege.NoAccess);
    expect(sut.findByName(b('oper'))).toBeUndefined();
    sut.setAccess(3, Privilege.User, { ipmiMessaging: false, linkAuth: false, callbackOnly: false });
    expect(sut.findByName(b('oper'))).toBeUndefined();
    sut.setAccess(3, Privilege.User, { ipmiMessaging: true, linkAuth: false, callbackOnly: false });
    expect(sut.findByName(b('oper'))?.id).toBe(3);

    sut.setName(4, b('nopass'));
    sut.setAccess(4, Privilege.User);
    sut.setEnabled(4, true);
    expect(sut.findByName(b('nopass'))).toBeUndefined();
  });

  it('reports the effective LAN privilege limit', () => {
    const sut = make();
    addOperator(sut);
    expect(sut.channelPrivilegeLimit(ADMIN_USER_ID)).toBe(Privilege.Administrator);
    expect(sut.channelPrivilegeLimit(3)).toBe(Privilege.Operator);
    sut.setAccess(3, Privilege.Operator, { ipmiMessaging: true, linkAuth: false, callbackOnly: true });
    expect(sut.channelPrivilegeLimit(3)).toBe(Privilege.Callback);
    sut.setEnabled(3, false);
    expect(sut.channelPrivilegeLimit(3)).toBe(Privilege.NoAccess);
    expect(sut.channelPrivilegeLimit(NULL_USER_ID)).toBe(Privilege.NoAccess);
    expect(sut.channelPrivilegeLimit(99)).toBe(Privilege.NoAccess);
  });
});

describe('UserStore changes', () => {
  it('refuses duplicate names but lets a user keep or clear its own', () => {
    const sut = make();
    addOperator(sut);
    expectCode(() => sut.setName(4, b('admin')), UserStoreErrorCode.DuplicateName);
    sut.setName(3, b('oper'));
    sut.setName(3, Buffer.alloc(0));
    sut.setName(4, Buffer.alloc(0)); // several empty names are fine
    expect(sut.get(3)!.nameBytes.length).toBe(0);
  });

  it('refuses names that are too long or carry control characters', () => {
    const sut = make();
    expectCode(() => sut.setName(3, b('x'.repeat(17))), UserStoreErrorCode.InvalidName);
    expectCode(() => sut.setName(3, b('a\x01b')), UserStoreErrorCode.InvalidName);
  });

  it('keeps the null user nameless, passwordless, disabled and without access', () => {
    const sut = make();
    expectCode(() => sut.setName(NULL_USER_ID, b('anon')), UserStoreErrorCode.NullUserFixed);
    expectCode(() => sut.setPassword(NULL_USER_ID, b('x'), 16), UserStoreErrorCode.NullUserFixed);
    expectCode(() => sut.setEnabled(NULL_USER_ID, true), UserStoreErrorCode.NullUserFixed);
    expectCode(() => sut.setAccess(NULL_USER_ID, Privilege.User), UserStoreErrorCode.NullUserFixed);
    expectCode(() => sut.setSolPayload(NULL_USER_ID, true), UserStoreErrorCode.NullUserFixed);
    sut.setEnabled(NULL_USER_ID, false);
    sut.setAccess(NULL_USER_ID, Privilege.NoAccess);
    sut.setSolPayload(NULL_USER_ID, false);
    expect(sut.get(NULL_USER_ID)!.enabled).toBe(false);
  });

  it('rejects invalid IDs and privilege values', () => {
    const sut = make();
    expectCode(() => sut.setName(0, b('x')), UserStoreErrorCode.InvalidUserId);
    expectCode(() => sut.setEnabled(MAX_USER_ID + 1, true), UserStoreErrorCode.InvalidUserId);
    expectCode(() => sut.setAccess(3, 0), UserStoreErrorCode.InvalidPrivilege);
    expectCode(() => sut.setAccess(3, 6), UserStoreErrorCode.InvalidPrivilege);
  });

  it('stores passwords without their NUL padding and refuses empty or oversized ones', () => {
    const sut = make();
    const padded = Buffer.alloc(16);
    padded.write('newpass123');
    sut.setPassword(3, padded, 16);
    expect(sut.get(3)!.password.toString()).toBe('newpass123');
    expectCode(() => sut.setPassword(3, Buffer.alloc(16), 16), UserStoreErrorCode.InvalidPassword);
    expectCode(() => sut.setPassword(3, b('x'.repeat(17)), 16), UserStoreErrorCode.InvalidPassword);
  });

  it('tests passwords by value and by the size they were set with', () => {
    const sut = make();
    sut.setPassword(3, b('secret'), 20);
    expect(sut.testPassword(3, b('secret'), 20)).toBe('match');
    expect(sut.testPassword(3, Buffer.concat([b('secret'), Buffer.alloc(14)]), 20)).toBe('match');
    expect(sut.testPassword(3, b('Secret'), 20)).toBe('mismatch');
    expect(sut.testPassword(3, b('secret'), 16)).toBe('wrong-size');
  });
});

describe('UserStore persistence across restarts', () => {
  it('keeps what was changed over IPMI when the configured credentials did not change', () => {
    const state = new MemoryStateStore();
    const first = make(state);
    first.setPassword(ADMIN_USER_ID, b('changed'), 16);
    addOperator(first);
    first.setSolPayload(3, true);

    const second = make(state);
    expect(second.adminAppliedFromConfig).toBe(false);
    expect(second.get(ADMIN_USER_ID)!.password.toString()).toBe('changed');
    expect(second.findByName(b('oper'))?.access).toEqual({ privilegeLimit: Privilege.Operator, ipmiMessaging: true, linkAuth: false, callbackOnly: false, solPayload: true });
  });

  it('resets user 2 (only) when IPMI_USER or IPMI_PASS changed', () => {
    const state = new MemoryStateStore();
    const first = make(state);
    first.setPassword(ADMIN_USER_ID, b('changed'), 16);
    first.setEnabled(ADMIN_USER_ID, false);
    addOperator(first);

    const second = make(state, { adminName: 'admin', adminPassword: 'rotated' });
    expect(second.adminAppliedFromConfig).toBe(true);
    const admin = second.get(ADMIN_USER_ID)!;
    expect(admin.password.toString()).toBe('rotated');
    expect(admin.enabled).toBe(true);
    expect(second.findByName(b('oper'))?.id).toBe(3);
  });

  it('keeps names unique when the configured name was taken by another user', () => {
    const state = new MemoryStateStore();
    const first = make(state);
    addOperator(first, 3, 'ops');
    const second = make(state, { adminName: 'ops', adminPassword: 'password' });
    expect(second.findByName(b('ops'))?.id).toBe(ADMIN_USER_ID);
    expect(second.get(3)!.nameBytes.length).toBe(0);
    expect(second.get(3)!.enabled).toBe(false);
    expect(second.startupNotes.join(' ')).toMatch(/user 3/);
  });

  it('stores a fingerprint, not the configured password in clear, and no null user data', () => {
    const state = new MemoryStateStore();
    make(state, { adminName: 'admin', adminPassword: 'hunter22' });
    const text = state.read(USERS_DOCUMENT)!.toString();
    expect(text).not.toContain('hunter22');
    const doc = readJson<{ configuredFingerprint: string }>(state, USERS_DOCUMENT)!;
    expect(doc.configuredFingerprint).toMatch(/^[0-9a-f]{64}$/);
    // Same name, other password: a different fingerprint.
    const other = new MemoryStateStore();
    make(other, { adminName: 'admin', adminPassword: 'hunter23' });
    expect(readJson<{ configuredFingerprint: string }>(other, USERS_DOCUMENT)!.configuredFingerprint).not.toBe(doc.configuredFingerprint);
  });

  it('never enables the null user from a tampered file', () => {
    const state = new MemoryStateStore();
    make(state);
    const doc = readJson<{ users: Array<Record<string, unknown>> }>(state, USERS_DOCUMENT)!;
    doc.users[0] = { ...doc.users[0], enabled: true, name: Buffer.from('anon').toString('hex'), password: '', access: { privilegeLimit: 4, ipmiMessaging: true } };
    writeJson(state, USERS_DOCUMENT, doc);
    const sut = make(state);
    expect(sut.get(NULL_USER_ID)!.enabled).toBe(false);
    expect(sut.findByName(b('anon'))).toBeUndefined();
  });

  it('starts from the defaults when users.json is unreadable', () => {
    const state = new MemoryStateStore();
    state.write(USERS_DOCUMENT, Buffer.from('{ not json'));
    const sut = make(state);
    expect(sut.findByName(b('admin'))?.id).toBe(ADMIN_USER_ID);
    expect(sut.startupNotes.join(' ')).toMatch(/not valid JSON/);
    expect(() => JSON.parse(state.read(USERS_DOCUMENT)!.toString())).not.toThrow();
  });
});

describe('UserStore lockout', () => {
  const t0 = 1_700_000_000_000;
  const A = '192.0.2.1';
  const B = '192.0.2.2';
  const locked = (sut: UserStore, id: number, source: string, now: number): boolean => !sut.checkLogin(id, source, now).allowed;

  it('locks a user out from one address for 30 s after 5 failures from it within 60 s; other addresses and users are unaffected', () => {
    const sut = make();
    for (let i = 0; i < 4; i++) sut.recordFailure(ADMIN_USER_ID, A, t0 + i * 1000);
    expect(locked(sut, ADMIN_USER_ID, A, t0 + 4000)).toBe(false);
    sut.recordFailure(ADMIN_USER_ID, A, t0 + 4000);
    expect(locked(sut, ADMIN_USER_ID, A, t0 + 4000)).toBe(true);
    expect(locked(sut, ADMIN_USER_ID, A, t0 + 33_999)).toBe(true);
    expect(locked(sut, ADMIN_USER_ID, A, t0 + 34_000)).toBe(false);
    expect(locked(sut, ADMIN_USER_ID, B, t0 + 4000)).toBe(false);
    expect(locked(sut, 3, A, t0 + 4000)).toBe(false);
  });

  it('does not count failures older than the window', () => {
    const sut = make();
    for (let i = 0; i < 5; i++) sut.recordFailure(ADMIN_USER_ID, A, t0 + i * 20_000);
    expect(locked(sut, ADMIN_USER_ID, A, t0 + 80_000)).toBe(false);
  });

  it('forgets failures after a success and ends a lockout when the user is re-enabled', () => {
    const sut = make();
    for (let i = 0; i < 4; i++) sut.recordFailure(ADMIN_USER_ID, A, t0);
    sut.recordSuccess(ADMIN_USER_ID, A, t0);
    sut.recordFailure(ADMIN_USER_ID, A, t0);
    expect(locked(sut, ADMIN_USER_ID, A, t0)).toBe(false);
    for (let i = 0; i < 5; i++) sut.recordFailure(ADMIN_USER_ID, A, t0);
    expect(locked(sut, ADMIN_USER_ID, A, t0)).toBe(true);
    sut.setEnabled(ADMIN_USER_ID, true);
    expect(locked(sut, ADMIN_USER_ID, A, t0)).toBe(false);
  });

  it('persists a changed policy; threshold 0 disables lockout', () => {
    const state = new MemoryStateStore();
    make(state).setLockoutPolicy({ threshold: 0, attemptWindowMs: 0, lockoutMs: 0 });
    const sut = make(state);
    expect(sut.lockoutPolicy.threshold).toBe(0);
    for (let i = 0; i < 20; i++) sut.recordFailure(ADMIN_USER_ID, A, t0);
    expect(locked(sut, ADMIN_USER_ID, A, t0)).toBe(false);
  });
});

describe('UserStore change listeners', () => {
  it('tells listeners what changed after it is stored, and stops when unsubscribed', () => {
    const sut = make();
    const seen: string[] = [];
    const off = sut.onChange((c) => seen.push(`${c.userId}:${c.kind}:${sut.get(c.userId)!.enabled}`));
    sut.setName(3, Buffer.from('op'));
    sut.setPassword(3, Buffer.from('secret1'), 16);
    sut.setEnabled(3, true);
    sut.setAccess(3, Privilege.Operator);
    sut.setSolPayload(3, true);
    sut.setEnabled(3, false);
    off();
    sut.setEnabled(3, true);
    expect(seen).toEqual(['3:name:false', '3:password:false', '3:enabled:true', '3:access:true', '3:payload-access:true', '3:disabled:false']);
  });

  it('tells nothing about a change that was refused', () => {
    const sut = make();
    const seen: unknown[] = [];
    sut.onChange((c) => seen.push(c));
    expect(() => sut.setPassword(3, Buffer.alloc(0), 16)).toThrow(UserStoreError);
    expect(seen).toEqual([]);
  });
});

describe('UserStore over a store keeping documents as text (a farm)', () => {
  it('gives each BMC its own users when they start from the same stored table', () => {
    const docs = new FarmDocuments();
    const first = make(docs.forBmc(0));
    first.setName(3, b('shared'));
    // Every BMC starts from the same text, as a farm's BMCs do.
    docs.forBmc(1).writeJsonText!(USERS_DOCUMENT, docs.forBmc(0).readJsonText!(USERS_DOCUMENT)!);
    docs.forBmc(2).writeJsonText!(USERS_DOCUMENT, docs.forBmc(0).readJsonText!(USERS_DOCUMENT)!);
    const one = make(docs.forBmc(1));
    const two = make(docs.forBmc(2));
    one.setName(3, b('mine'));
    one.setPassword(ADMIN_USER_ID, b('other'), 16);
    expect(two.get(3)!.name).toBe('shared');
    expect(two.testPassword(ADMIN_USER_ID, b('password'), 16)).toBe('match');
    expect(make(docs.forBmc(2)).get(3)!.name).toBe('shared');
    expect(make(docs.forBmc(1)).get(3)!.name).toBe('mine');
    expect(make(docs.forBmc(1)).testPassword(ADMIN_USER_ID, b('other'), 16)).toBe('match');
  });
});
