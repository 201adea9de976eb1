import { Privilege } from '../../protocol/errors';
import { AppCmd, NetFn } from '../../protocol/netfn';
import { MemoryStateStore } from '../../state/state-store';
import { UserStore } from '../users/user-store';
import type { CommandContext, CommandResult } from './command-types';
import { userCommands } from './user-commands';

const ctx: CommandContext = {
  now: 0,
  session: { id: 0x0202, handle: 1, protocol: 'rmcpplus', privilege: Privilege.Administrator, userId: 2, remoteAddress: '127.0.0.1', remotePort: 40000 },
};
const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function setup() {
  const users = new UserStore({ state: new MemoryStateStore(), adminName: 'admin', adminPassword: 'password' });
  const defs = userCommands({ users, channel: 1 });
  const call = (cmd: number, data: string | Buffer): CommandResult => {
    const def = defs.find((d) => d.netFn === NetFn.App && d.cmd === cmd);
    if (!def) throw new Error(`cmd ${cmd} not registered`);
    return def.handler(typeof data === 'string' ? hex(data) : data, ctx) as CommandResult;
  };
  const rsp = (r: CommandResult) => ({ cc: r.cc, data: (r.data ?? Buffer.alloc(0)).toString('hex') });
  return { users, defs, call: (cmd: number, data: string | Buffer) => rsp(call(cmd, data)) };
}

describe('userCommands registration', () => {
  it('registers the seven user commands with the spec privileges', () => {
    const { defs } = setup();
    expect(defs.map((d) => [d.cmd, d.privilege]).sort((a, b) => a[0]! - b[0]!)).toEqual([
      [AppCmd.SetUserAccess, Privilege.Administrator],
      [AppCmd.GetUserAccess, Privilege.Operator],
      [AppCmd.SetUserName, Privilege.Administrator],
      [AppCmd.GetUserName, Privilege.Operator],
      [AppCmd.SetUserPassword, Privilege.Administrator],
      [AppCmd.SetUserPayloadAccess, Privilege.Administrator],
      [AppCmd.GetUserPayloadAccess, Privilege.Operator],
    ]);
    expect(defs.every((d) => !d.sessionless)).toBe(true);
  });
});

describe('Get User Access / Get User Name (ipmitool user list 1)', () => {
  it('answers the capture requests for the null user, the admin and an empty slot', () => {
    const { call } = setup();
    // 10 IDs; user 1 disabled (10b), 1 enabled ID, 1 fixed name; no flags, NO ACCESS.
    expect(call(AppCmd.GetUserAccess, '01 01')).toEqual({ cc: 0, data: '0a81010f' });
    expect(call(AppCmd.GetUserName, '01')).toEqual({ cc: 0, data: '00'.repeat(16) });
    // Admin: enabled (01b), link auth + IPMI messaging + ADMINISTRATOR = 0x34 as in the capture.
    expect(call(AppCmd.GetUserAccess, '01 02')).toEqual({ cc: 0, data: '0a410134' });
    expect(call(AppCmd.GetUserName, '02')).toEqual({ cc: 0, data: '61646d696e' + '00'.repeat(11) });
    // Empty slot: IPMI messaging on (so `user priv` alone can grant LAN access), NO ACCESS.
    expect(call(AppCmd.GetUserAccess, '01 0a')).toEqual({ cc: 0, data: '0a81011f' });
  });

  it('accepts 0x0E for the current channel', () => {
    expect(setup().call(AppCmd.GetUserAccess, '0e 02')).toEqual({ cc: 0, data: '0a410134' });
  });

  it.each([
    ['wrong length', AppCmd.GetUserAccess, '01', 0xc7],
    ['too long', AppCmd.GetUserAccess, '01 02 00', 0xc7],
    ['unknown channel', AppCmd.GetUserAccess, '02 02', 0xcc],
    ['reserved channel bits', AppCmd.GetUserAccess, '11 02', 0xcc],
    ['reserved user id bits', AppCmd.GetUserAccess, '01 42', 0xcc],
    ['user id 0', AppCmd.GetUserAccess, '01 00', 0xc9],
    ['user id above the maximum', AppCmd.GetUserAccess, '01 0b', 0xc9],
    ['name: wrong length', AppCmd.GetUserName, '', 0xc7],
    ['name: user id 0', AppCmd.GetUserName, '00', 0xc9],
    ['name: user id 11', AppCmd.GetUserName, '0b', 0xc9],
  ])('refuses %s', (_what, cmd, data, cc) => {
    expect(setup().call(cmd, data).cc).toBe(cc);
  });
});

describe('Set User Name', () => {
  const name16 = (s: string) => Buffer.concat([Buffer.from(s), Buffer.alloc(16 - s.length)]).toString('hex');

  it('names a user (ipmitool user set name 3 oper)', () => {
    const { call, users } = setup();
    expect(call(AppCmd.SetUserName, '03' + name16('oper'))).toEqual({ cc: 0, data: '' });
    expect(users.get(3)!.name).toBe('oper');
    expect(call(AppCmd.GetUserName, '03')).toEqual({ cc: 0, data: name16('oper') });
  });

  it('accepts a full 16-byte name without NUL', () => {
    const { call, users } = setup();
    expect(call(AppCmd.SetUserName, '04' + Buffer.from('abcdefghijklmnop').toString('hex')).cc).toBe(0);
    expect(users.get(4)!.name).toBe('abcdefghijklmnop');
  });

  it.each([
    ['a duplicate name', '03' + name16('admin'), 0xcc],
    ['the null user', '01' + name16('anon'), 0xcc],
    ['bytes after the NUL padding', '03' + '61006200' + '00'.repeat(12), 0xcc],
    ['a control character', '03' + name16('a\tb'), 0xcc],
    ['user id 0', '00' + name16('x'), 0xc9],
    ['user id 11', '0b' + name16('x'), 0xc9],
    ['reserved user id bits', '83' + name16('x'), 0xcc],
    ['a short request', '03' + name16('x').slice(2), 0xc7],
  ])('refuses %s', (_what, data, cc) => {
    expect(setup().call(AppCmd.SetUserName, data).cc).toBe(cc);
  });
});

describe('Set User Password', () => {
  it('sets a password with the captured request (user set password 3 newpass123)', () => {
    const { call, users } = setup();
    expect(call(AppCmd.SetUserPassword, '03 02 6e 65 77 70 61 73 73 31 32 33 00 00 00 00 00 00')).toEqual({ cc: 0, data: '' });
    expect(users.get(3)!.password.toString()).toBe('newpass123');
    expect(users.get(3)!.passwordSize).toBe(16);
  });

  it('sets a 20-byte password with bit 7 and tests it in the same form only', () => {
    const { call, users } = setup();
    const pw20 = Buffer.from('a-twenty-byte-secret').toString('hex');
    expect(call(AppCmd.SetUserPassword, '83 02' + pw20).cc).toBe(0);
    expect(users.get(3)!.passwordSize).toBe(20);
    expect(call(AppCmd.SetUserPassword, '83 03' + pw20).cc).toBe(0);
    expect(call(AppCmd.SetUserPassword, '83 03' + pw20.replace(/^61/, '62')).cc).toBe(0x80);
    expect(call(AppCmd.SetUserPassword, '03 03' + pw20.slice(0, 32)).cc).toBe(0x81);
  });

  it('tests the admin password: match, mismatch', () => {
    const { call } = setup();
    const pw = (s: string) => Buffer.concat([Buffer.from(s), Buffer.alloc(16 - s.length)]).toString('hex');
    expect(call(AppCmd.SetUserPassword, '02 03' + pw('password')).cc).toBe(0);
    expect(call(AppCmd.SetUserPassword, '02 03' + pw('Password')).cc).toBe(0x80);
  });

  it('enables and disables users with or without the password field', () => {
    const { call, users } = setup();
    expect(call(AppCmd.SetUserPassword, '03 01').cc).toBe(0);
    expect(users.get(3)!.enabled).toBe(true);
    expect(call(AppCmd.SetUserPassword, '03 00' + '00'.repeat(16)).cc).toBe(0);
    expect(users.get(3)!.enabled).toBe(false);
    expect(call(AppCmd.SetUserPassword, '83 01' + '00'.repeat(20)).cc).toBe(0);
    expect(users.get(3)!.enabled).toBe(true);
    expect(call(AppCmd.GetUserAccess, '01 03')).toEqual({ cc: 0, data: '0a42011f' });
  });

  it('keeps the null user disabled and passwordless', () => {
    const { call, users } = setup();
    expect(call(AppCmd.SetUserPassword, '01 01').cc).toBe(0xcc);
    expect(call(AppCmd.SetUserPassword, '01 02' + '61'.repeat(16)).cc).toBe(0xcc);
    expect(call(AppCmd.SetUserPassword, '01 00').cc).toBe(0);
    expect(users.get(1)!.enabled).toBe(false);
    expect(users.get(1)!.password.length).toBe(0);
  });

  it.each([
    ['no operation byte', '03', 0xc7],
    ['set without a password', '03 02', 0xc7],
    ['a 16-byte password with bit 7 set', '83 02' + '61'.repeat(16), 0xc7],
    ['a 20-byte password without bit 7', '03 02' + '61'.repeat(20), 0xc7],
    ['enable with a stray byte', '03 01 00', 0xc7],
    ['an empty password', '03 02' + '00'.repeat(16), 0xcc],
    ['reserved bit 6', '43 02' + '61'.repeat(16), 0xcc],
    ['reserved operation bits', '03 06' + '61'.repeat(16), 0xcc],
    ['user id 0', '00 02' + '61'.repeat(16), 0xc9],
    ['user id 11', '0b 01', 0xc9],
  ])('refuses %s', (_what, data, cc) => {
    expect(setup().call(AppCmd.SetUserPassword, data).cc).toBe(cc);
  });

  it('never returns a password in any response', () => {
    const { call } = setup();
    const all = [call(AppCmd.GetUserName, '02'), call(AppCmd.GetUserAccess, '01 02'), call(AppCmd.GetUserPayloadAccess, '01 02'), call(AppCmd.SetUserPassword, '02 03' + '00'.repeat(16))];
    for (const r of all) expect(r.data).not.toContain(Buffer.from('password').toString('hex'));
  });
});

describe('Set User Access (user priv)', () => {
  it('applies the captured request user priv 3 4 1 and keeps the flags (bit 7 clear)', () => {
    const { call, users } = setup();
    expect(call(AppCmd.SetUserAccess, '01 03 04 00')).toEqual({ cc: 0, data: '' });
    expect(users.get(3)!.access).toMatchObject({ privilegeLimit: Privilege.Administrator, ipmiMessaging: true, linkAuth: false, callbackOnly: false });
  });

  it('changes the flags when bit 7 is set; the session limit byte is optional', () => {
    const { call } = setup();
    expect(call(AppCmd.SetUserAccess, 'e1 03 03').cc).toBe(0);
    expect(call(AppCmd.GetUserAccess, '01 03').data).toBe('0a810163');
    expect(call(AppCmd.SetUserAccess, '81 03 02').cc).toBe(0);
    expect(call(AppCmd.GetUserAccess, '01 03').data).toBe('0a810102');
  });

  it('gives the null user NO ACCESS only', () => {
    const { call } = setup();
    expect(call(AppCmd.SetUserAccess, '01 01 04 00').cc).toBe(0xcc);
    expect(call(AppCmd.SetUserAccess, '01 01 0f 00').cc).toBe(0);
  });

  it.each([
    ['a short request', '01 03', 0xc7],
    ['a long request', '01 03 04 00 00', 0xc7],
    ['privilege 0', '01 03 00', 0xcc],
    ['privilege 6', '01 03 06', 0xcc],
    ['reserved privilege bits', '01 03 14', 0xcc],
    ['a per-user session limit', '01 03 04 02', 0xcc],
    ['an unknown channel', '02 03 04', 0xcc],
    ['reserved user id bits', '01 43 04', 0xcc],
    ['user id 0', '01 00 04', 0xc9],
    ['user id 11', '01 0b 04', 0xc9],
  ])('refuses %s', (_what, data, cc) => {
    expect(setup().call(AppCmd.SetUserAccess, data).cc).toBe(cc);
  });
});

describe('the password policy and the last administrator (rules shared with Redfish, core/accounts.ts)', () => {
  const pw16 = (s: string) => Buffer.concat([Buffer.from(s, 'latin1'), Buffer.alloc(16 - s.length)]).toString('hex');

  it.each([
    ['7 characters (below the AccountService MinPasswordLength 8)', '03 02' + pw16('seven77'), 0xcc],
    ['a control character', '03 02' + pw16('passw\tord'), 0xcc],
    ['a non-ASCII byte', '03 02' + pw16('pässword'), 0xcc],
    ['a NUL inside the password', '03 02' + pw16('pass\0word'), 0xcc],
    ['exactly 8 characters', '03 02' + pw16('eight888'), 0],
    ['20 characters in the 20-byte form', '83 02' + Buffer.from('x'.repeat(20)).toString('hex'), 0],
  ])('Set User Password with %s answers completion code %d', (_what, data, cc) => {
    const { call, users } = setup();
    expect(call(AppCmd.SetUserPassword, data).cc).toBe(cc);
    if (cc !== 0) expect(users.get(3)!.password.length).toBe(0);
  });

  it.each([
    ['Set User Password "disable user"', AppCmd.SetUserPassword, '02 00'],
    ['Set User Access to Operator', AppCmd.SetUserAccess, '01 02 03'],
    ['Set User Access to NO ACCESS', AppCmd.SetUserAccess, '01 02 0f'],
    ['Set User Access turning IPMI messaging off', AppCmd.SetUserAccess, 'a1 02 04'],
    ['Set User Access making it callback-only', AppCmd.SetUserAccess, 'f1 02 04'],
    ['Set User Name clearing the name', AppCmd.SetUserName, '02' + '00'.repeat(16)],
  ])('refuses %s for the only enabled administrator with 0xD5', (_what, cmd, data) => {
    const { call, users } = setup();
    const before = users.get(2)!;
    expect(call(cmd, data).cc).toBe(0xd5);
    expect(users.get(2)).toEqual(before);
    expect(users.channelPrivilegeLimit(2)).toBe(Privilege.Administrator);
  });

  it('allows the same changes once a second administrator exists, and then protects that one', () => {
    const { call, users } = setup();
    expect(call(AppCmd.SetUserName, '03' + Buffer.from('admin2').toString('hex') + '00'.repeat(10)).cc).toBe(0);
    expect(call(AppCmd.SetUserPassword, '03 02' + pw16('admin2-pass')).cc).toBe(0);
    expect(call(AppCmd.SetUserAccess, '01 03 04').cc).toBe(0);
    expect(call(AppCmd.SetUserPassword, '03 01').cc).toBe(0);
    expect(call(AppCmd.SetUserAccess, '01 02 03').cc).toBe(0);
    expect(users.channelPrivilegeLimit(2)).toBe(Privilege.Operator);
    expect(call(AppCmd.SetUserPassword, '03 00').cc).toBe(0xd5);
    expect(call(AppCmd.SetUserPassword, '02 00').cc).toBe(0);
    expect(call(AppCmd.SetUserAccess, '01 03 02').cc).toBe(0xd5);
  });
});

describe('Get/Set User Payload Access (sol payload status|enable|disable)', () => {
  it('reports SOL enabled for the admin, exactly 4 bytes (captured: 02 00 00 00)', () => {
    expect(setup().call(AppCmd.GetUserPayloadAccess, '01 02')).toEqual({ cc: 0, data: '02000000' });
  });

  it('enables and disables SOL for a user', () => {
    const { call, users } = setup();
    expect(call(AppCmd.GetUserPayloadAccess, '01 03').data).toBe('00000000');
    expect(call(AppCmd.SetUserPayloadAccess, '01 03 02 00 00 00').cc).toBe(0);
    expect(users.get(3)!.access.solPayload).toBe(true);
    expect(call(AppCmd.GetUserPayloadAccess, '01 03').data).toBe('02000000');
    expect(call(AppCmd.SetUserPayloadAccess, '01 43 02 00 00 00').cc).toBe(0);
    expect(users.get(3)!.access.solPayload).toBe(false);
    // No payload bit set: nothing changes.
    expect(call(AppCmd.SetUserPayloadAccess, '01 02 00 00 00 00').cc).toBe(0);
    expect(users.get(2)!.access.solPayload).toBe(true);
  });

  it.each([
    ['get: wrong length', AppCmd.GetUserPayloadAccess, '01', 0xc7],
    ['get: unknown channel', AppCmd.GetUserPayloadAccess, '03 02', 0xcc],
    ['get: user id 11', AppCmd.GetUserPayloadAccess, '01 0b', 0xc9],
    ['set: wrong length', AppCmd.SetUserPayloadAccess, '01 03 02 00 00', 0xc7],
    ['set: reserved operation', AppCmd.SetUserPayloadAccess, '01 83 02 00 00 00', 0xcc],
    ['set: the IPMI payload bit', AppCmd.SetUserPayloadAccess, '01 03 01 00 00 00', 0xcc],
    ['set: an OEM payload', AppCmd.SetUserPayloadAccess, '01 03 00 00 01 00', 0xcc],
    ['set: SOL for the null user', AppCmd.SetUserPayloadAccess, '01 01 02 00 00 00', 0xcc],
    ['set: user id 0', AppCmd.SetUserPayloadAccess, '01 00 02 00 00 00', 0xc9],
  ])('refuses %s', (_what, cmd, data, cc) => {
    expect(setup().call(cmd, data).cc).toBe(cc);
  });
});
