import { Privilege } from '../protocol/errors';
import { MemoryStateStore } from '../state/state-store';
import { UserStore } from '../bmc/users/user-store';
import { MIN_PASSWORD_LENGTH, removesLastAdministrator, validPassword, validPasswordBytes } from './accounts';

const padded = (s: string, size = 16): Buffer => Buffer.concat([Buffer.from(s, 'latin1'), Buffer.alloc(size - s.length)]);

describe('the password policy (both protocols)', () => {
  it.each([
    ['7 characters', 'abcdefg', false],
    ['8 characters', 'abcdefgh', true],
    ['20 characters', 'a'.repeat(20), true],
    ['21 characters', 'a'.repeat(21), false],
    ['a space inside', 'pass word', true],
    ['a tab', 'pass\tword', false],
    ['non-ASCII', 'pässword', false],
  ])('%s: %s', (_what, password, valid) => {
    expect(validPassword(password)).toBe(valid);
    if (password.length <= 20) expect(validPasswordBytes(padded(password, 20))).toBe(valid);
  });

  it('reads IPMI bytes up to the NUL padding; a NUL inside is refused', () => {
    expect(MIN_PASSWORD_LENGTH).toBe(8);
    expect(validPasswordBytes(padded('password'))).toBe(true);
    expect(validPasswordBytes(Buffer.from('pass\0word\0\0\0\0\0\0\0'))).toBe(false);
    expect(validPasswordBytes(Buffer.alloc(16))).toBe(false);
  });
});

describe('removesLastAdministrator', () => {
  const store = () => new UserStore({ state: new MemoryStateStore(), adminName: 'admin', adminPassword: 'password' });

  it('protects the only enabled administrator against every change that ends its administration', () => {
    const users = store().list();
    expect(removesLastAdministrator(users, 2, { enabled: false })).toBe(true);
    expect(removesLastAdministrator(users, 2, { named: false })).toBe(true);
    expect(removesLastAdministrator(users, 2, { access: { privilegeLimit: Privilege.Operator } })).toBe(true);
    expect(removesLastAdministrator(users, 2, { access: { ipmiMessaging: false } })).toBe(true);
    expect(removesLastAdministrator(users, 2, { access: { callbackOnly: true } })).toBe(true);
    expect(removesLastAdministrator(users, 2, { access: { privilegeLimit: Privilege.Oem } })).toBe(false);
    expect(removesLastAdministrator(users, 2, { enabled: true })).toBe(false);
    expect(removesLastAdministrator(users, 3, { enabled: false })).toBe(false);
  });

  it('lets either of two administrators go, but not the second one afterwards', () => {
    const s = store();
    s.setName(3, Buffer.from('admin2'));
    s.setPassword(3, Buffer.from('admin2-pass'), 16);
    s.setAccess(3, Privilege.Administrator, { ipmiMessaging: true, linkAuth: true, callbackOnly: false });
    s.setEnabled(3, true);
    expect(removesLastAdministrator(s.list(), 2, { enabled: false })).toBe(false);
    s.setEnabled(2, false);
    expect(removesLastAdministrator(s.list(), 3, { access: { privilegeLimit: Privilege.User } })).toBe(true);
  });
});
