import { redfishCore, errorCodeOf, basicAuth } from '../../test-support/redfish-core';
import { Privilege } from '../../protocol/errors';

const ACCOUNTS = '/redfish/v1/AccountService/Accounts';
const SERVICE = '/redfish/v1/AccountService';
const SYSTEM = '/redfish/v1/Systems/1';
/** The JSON body, read freely by the assertions. */
const json = (r: { body?: unknown }): any => r.body;

describe('AccountService writes', () => {
  let env: ReturnType<typeof redfishCore>;
  beforeEach(() => { env = redfishCore(); });
  afterEach(async () => { await env.machine.close(); });

  const create = (body: unknown) => env.send('POST', ACCOUNTS, { body });

  it('POST makes a user in the lowest free IPMI slot with the role\'s privilege; it logs in at once', async () => {
    const r = await create({ UserName: 'oper', Password: 'operpass', RoleId: 'Operator' });
    expect([r.status, r.headers.Location, json(r).UserName, json(r).RoleId, json(r).Enabled]).toEqual([201, `${ACCOUNTS}/3`, 'oper', 'Operator', true]);
    expect(json(r).Password).toBeNull();
    const user = env.users.get(3)!;
    expect([user.name, user.enabled, user.access.privilegeLimit, user.access.ipmiMessaging, user.access.solPayload]).toEqual(['oper', true, Privilege.Operator, true, true]);
    expect((await env.send('GET', SYSTEM, { headers: basicAuth('oper', 'operpass') })).status).toBe(200);
    const second = await create({ UserName: 'viewer', Password: 'viewpass1', RoleId: 'ReadOnly', Enabled: false });
    expect([second.headers.Location, env.users.get(4)!.access.privilegeLimit, env.users.get(4)!.enabled]).toEqual([`${ACCOUNTS}/4`, Privilege.User, false]);
  });

  it.each([
    [{ Password: 'operpass', RoleId: 'Operator' }, 400, 'PropertyMissing', 'UserName'],
    [{ UserName: 'x', RoleId: 'Operator' }, 400, 'PropertyMissing', 'Password'],
    [{ UserName: 'x', Password: 'operpass' }, 400, 'PropertyMissing', 'RoleId'],
    [{ UserName: 'x', Password: 'short', RoleId: 'Operator' }, 400, 'PropertyValueFormatError', '8 to 20'],
    [{ UserName: 'two words', Password: 'operpass', RoleId: 'Operator' }, 400, 'PropertyValueFormatError', 'UserName'],
    [{ UserName: 'x', Password: 'operpass', RoleId: 'Root' }, 400, 'PropertyValueNotInList', 'RoleId'],
    [{ UserName: 'x', Password: 'operpass', RoleId: 'Operator', Enabled: 'yes' }, 400, 'PropertyValueTypeError', 'Enabled'],
    [{ UserName: 'x', Password: 'operpass', RoleId: 'Operator', Shell: '/bin/sh' }, 400, 'PropertyUnknown', 'Shell'],
    [{ UserName: 'admin', Password: 'operpass', RoleId: 'Operator' }, 409, 'ResourceAlreadyExists', 'admin'],
  ])('refuses %j with %i %s naming %s', async (body, status, id, names) => {
    const r = await create(body);
    expect([r.status, errorCodeOf(r), JSON.stringify(r.body)]).toEqual([status, id, expect.stringContaining(names)]);
    expect(JSON.stringify(r.body)).not.toContain('operpass');
    expect(env.users.get(3)!.name).toBe('');
  });

  it('refuses a user when every IPMI user ID is taken', async () => {
    for (let i = 3; i <= 10; i++) expect((await create({ UserName: `u${i}`, Password: 'password1', RoleId: 'ReadOnly' })).status).toBe(201);
    const r = await create({ UserName: 'one-more', Password: 'password1', RoleId: 'ReadOnly' });
    expect([r.status, errorCodeOf(r)]).toEqual([400, 'CreateLimitReachedForResource']);
  });

  it('PATCH: own password with ConfigureSelf; role, name, others only with ConfigureUsers', async () => {
    await create({ UserName: 'viewer', Password: 'viewpass1', RoleId: 'ReadOnly' });
    const viewer = basicAuth('viewer', 'viewpass1');
    expect((await env.send('PATCH', `${ACCOUNTS}/3`, { headers: viewer, body: { Password: 'newpass12' } })).status).toBe(200);
    const newViewer = basicAuth('viewer', 'newpass12');
    expect((await env.send('GET', SYSTEM, { headers: newViewer })).status).toBe(200);
    const promote = await env.send('PATCH', `${ACCOUNTS}/3`, { headers: newViewer, body: { RoleId: 'Administrator' } });
    expect([promote.status, errorCodeOf(promote)]).toEqual([403, 'InsufficientPrivilege']);
    expect((await env.send('PATCH', `${ACCOUNTS}/2`, { headers: newViewer, body: { Password: 'hijacked1' } })).status).toBe(404);
    // The whole resource sent back with one change (read-only properties unchanged) is accepted.
    const current = json(await env.send('GET', `${ACCOUNTS}/3`));
    const r = await env.send('PATCH', `${ACCOUNTS}/3`, { body: { ...current, RoleId: 'Operator', UserName: 'oper' } });
    expect([r.status, json(r).RoleId, json(r).UserName, env.users.get(3)!.access.privilegeLimit]).toEqual([200, 'Operator', 'oper', Privilege.Operator]);
    const off = await env.send('PATCH', `${ACCOUNTS}/3`, { body: { Enabled: false } });
    expect([off.status, env.users.get(3)!.enabled]).toEqual([200, false]);
    expect((await env.send('GET', SYSTEM, { headers: basicAuth('oper', 'newpass12') })).status).toBe(401);
    const ro = await env.send('PATCH', `${ACCOUNTS}/3`, { body: { AccountTypes: ['Redfish'] } });
    expect([ro.status, errorCodeOf(ro)]).toEqual([400, 'PropertyNotWritable']);
    const short = await env.send('PATCH', `${ACCOUNTS}/3`, { body: { Password: 'abc' } });
    expect([short.status, errorCodeOf(short)]).toEqual([400, 'PropertyValueFormatError']);
  });

  it('Locked=false ends a lockout at once', async () => {
    await create({ UserName: 'oper', Password: 'operpass', RoleId: 'Operator' });
    for (let i = 0; i < 5; i++) await env.send('GET', SYSTEM, { headers: basicAuth('oper', 'wrong') });
    expect((await env.send('GET', SYSTEM, { headers: basicAuth('oper', 'operpass') })).status).toBe(401);
    expect((await env.send('PATCH', `${ACCOUNTS}/3`, { body: { Locked: false } })).status).toBe(200);
    expect((await env.send('GET', SYSTEM, { headers: basicAuth('oper', 'operpass') })).status).toBe(200);
    const lock = await env.send('PATCH', `${ACCOUNTS}/3`, { body: { Locked: true } });
    expect([lock.status, errorCodeOf(lock)]).toEqual([400, 'PropertyValueNotInList']);
  });

  it('DELETE frees the slot and ends the user\'s sessions; one\'s own account cannot be deleted', async () => {
    await create({ UserName: 'oper', Password: 'operpass', RoleId: 'Operator' });
    const login = await env.send('POST', '/redfish/v1/SessionService/Sessions', { headers: {}, body: { UserName: 'oper', Password: 'operpass' } });
    const token = { 'x-auth-token': login.headers['X-Auth-Token']! };
    expect((await env.send('DELETE', `${ACCOUNTS}/3`)).status).toBe(204);
    expect((await env.send('GET', `${ACCOUNTS}/3`)).status).toBe(404);
    expect((await env.send('GET', SYSTEM, { headers: token })).status).toBe(401);
    expect(env.users.get(3)!.access.privilegeLimit).toBe(Privilege.NoAccess);
    const self = await env.send('DELETE', `${ACCOUNTS}/2`);
    expect([self.status, errorCodeOf(self)]).toEqual([409, 'ResourceCannotBeDeleted']);
    expect((await env.send('DELETE', `${ACCOUNTS}/3`)).status).toBe(404);
  });

  it('the last enabled Administrator can be neither disabled, demoted nor deleted; with a second one it can', async () => {
    for (const body of [{ Enabled: false }, { RoleId: 'Operator' }]) {
      const r = await env.send('PATCH', `${ACCOUNTS}/2`, { body });
      expect([JSON.stringify(body), r.status, errorCodeOf(r)]).toEqual([JSON.stringify(body), 409, 'PropertyValueConflict']);
    }
    await create({ UserName: 'second', Password: 'second-pw', RoleId: 'Administrator' });
    const second = basicAuth('second', 'second-pw');
    expect((await env.send('PATCH', `${ACCOUNTS}/2`, { headers: second, body: { RoleId: 'Operator' } })).status).toBe(200);
    expect((await env.send('DELETE', `${ACCOUNTS}/2`, { headers: second })).status).toBe(204);
    const last = await env.send('PATCH', `${ACCOUNTS}/3`, { headers: second, body: { Enabled: false } });
    expect([last.status, errorCodeOf(last)]).toEqual([409, 'PropertyValueConflict']);
  });

  it('AccountService PATCH changes the lockout every protocol uses', async () => {
    const r = await env.send('PATCH', SERVICE, { body: { AccountLockoutThreshold: 3, AccountLockoutDuration: 120, AccountLockoutCounterResetAfter: 300 } });
    expect([r.status, json(r).AccountLockoutThreshold, json(r).AccountLockoutDuration, json(r).AccountLockoutCounterResetAfter]).toEqual([200, 3, 120, 300]);
    expect(env.users.lockoutPolicy).toEqual({ threshold: 3, lockoutMs: 120_000, attemptWindowMs: 300_000 });
    await create({ UserName: 'oper', Password: 'operpass', RoleId: 'Operator' });
    for (let i = 0; i < 3; i++) await env.send('GET', SYSTEM, { headers: basicAuth('oper', 'wrong') });
    expect((await env.send('GET', SYSTEM, { headers: basicAuth('oper', 'operpass') })).status).toBe(401);
    expect(json(await env.send('PATCH', SERVICE, { body: { AccountLockoutCounterResetEnabled: false } })).AccountLockoutCounterResetAfter).toBe(0);
    expect(env.users.lockoutPolicy.attemptWindowMs).toBe(0);
    expect(json(await env.send('GET', SERVICE))).toMatchObject({ MinPasswordLength: 8, MaxPasswordLength: 20, AccountLockoutCounterResetEnabled: false });
  });

  it.each([
    [{ AccountLockoutThreshold: 256 }, 'PropertyValueOutOfRange'],
    [{ AccountLockoutDuration: 15 }, 'PropertyValueOutOfRange'],
    [{ AccountLockoutDuration: 0 }, 'PropertyValueOutOfRange'],
    [{ AccountLockoutCounterResetAfter: '60' }, 'PropertyValueTypeError'],
    [{ MinPasswordLength: 4 }, 'PropertyNotWritable'],
  ])('refuses %j with %s and keeps the policy', async (body, id) => {
    const before = env.users.lockoutPolicy;
    const r = await env.send('PATCH', SERVICE, { body });
    expect([r.status, errorCodeOf(r)]).toEqual([400, id]);
    expect(env.users.lockoutPolicy).toEqual(before);
  });

  it('only ConfigureUsers may create, delete or change the lockout', async () => {
    await create({ UserName: 'oper', Password: 'operpass', RoleId: 'Operator' });
    const oper = basicAuth('oper', 'operpass');
    expect((await env.send('POST', ACCOUNTS, { headers: oper, body: { UserName: 'x', Password: 'password1', RoleId: 'Operator' } })).status).toBe(403);
    expect((await env.send('PATCH', SERVICE, { headers: oper, body: { AccountLockoutThreshold: 0 } })).status).toBe(403);
    expect((await env.send('DELETE', `${ACCOUNTS}/2`, { headers: oper })).status).toBe(403);
  });
});
