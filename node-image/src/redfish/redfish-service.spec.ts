/**
 * The Redfish service without a socket: requests in, responses out, over a real core (users,
 * boot options, event log, power service) in front of a simulated machine.
 */
import { MemoryStateStore } from '../state/state-store';
import { UserStore } from '../bmc/users/user-store';
import { BootOptions } from '../bmc/chassis/boot-options';
import { ChassisState } from '../bmc/chassis/chassis-state';
import { SystemEventLog } from '../bmc/sel/system-event-log';
import { SimMachine } from '../machine/sim-machine';
import { Accounts } from '../core/accounts';
import { BootOverrideRecord, type BootMode } from '../core/boot-override';
import { EventLog } from '../core/event-log';
import { PowerService } from '../core/power-service';
import { VirtualMediaService } from '../core/virtual-media';
import { BmcEvents } from '../core/bmc-events';
import type { BmcCore } from '../core/bmc-core';
import { silentLogger } from '../util/logger';
import { Privilege } from '../protocol/errors';
import { RedfishService } from './redfish-service';
import type { RedfishRequest, RedfishResponse } from './http-types';

const T0 = 1_700_000_000_000;
const SYSTEM = '/redfish/v1/Systems/1';
const RESET = `${SYSTEM}/Actions/ComputerSystem.Reset`;
const basic = (user: string, password: string): Record<string, string> => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });
const ADMIN = basic('admin', 'password');

function setup(supportedModes?: BootMode[]) {
  let now = T0;
  const store = new MemoryStateStore();
  const clock = (): number => now;
  const users = new UserStore({ state: store, adminName: 'admin', adminPassword: 'password' });
  const boot = new BootOptions({ store, clock });
  const chassis = new ChassisState({ store });
  const eventLog = new EventLog(new SystemEventLog(store));
  const machine = new SimMachine({ boot, nodeName: 'n1', powerDelayMs: 0 });
  machine.on('power', (state) => eventLog.record(state === 'on' ? 'power-on' : 'power-off', now));
  const core: BmcCore = {
    machine, chassis, eventLog, clock, events: new BmcEvents(),
    virtualMedia: new VirtualMediaService({ store, drives: machine.media, probe: { probe: async () => ({ ok: true, sizeBytes: 1 }) } }),
    power: new PowerService({ machine, boot, chassis, eventLog }),
    bootOverride: new BootOverrideRecord({ boot, store, ...(supportedModes ? { supportedModes } : {}) }),
    accounts: new Accounts(users),
    systemUuid: '11111111-2222-4333-8444-555555555555',
    bmcUuid: '66666666-7777-4888-9999-000000000000',
    product: { manufacturer: 'bmcfleet', productName: 'bmcfleet virtual server', partNumber: 'BMCF-VS-1', serialNumber: 'n1' },
    nodeName: 'n1',
    firmwareVersion: '0.10',
    hardware: { cpus: 2, memoryMiB: 2048 },
  };
  let counter = 0;
  const random = (n: number): Buffer => Buffer.alloc(n, ++counter);
  const service = new RedfishService({ core, random, log: silentLogger });
  const send = (method: string, path: string, opts: { headers?: Record<string, string>; body?: unknown; raw?: string } = {}): Promise<RedfishResponse> => {
    const req: RedfishRequest = {
      method, path, remote: '192.0.2.1',
      headers: { ...(opts.body !== undefined || opts.raw !== undefined ? { 'content-type': 'application/json' } : {}), ...opts.headers },
      body: Buffer.from(opts.raw ?? (opts.body === undefined ? '' : JSON.stringify(opts.body))),
    };
    return service.handle(req, now);
  };
  return { core, users, boot, machine, service, send, advance: (ms: number) => { now += ms; } };
}

const errorCode = (r: RedfishResponse): string => ((r.body as { error: { code: string } }).error.code).replace(/^Base\.\d+\.\d+\.\d+\./, '');
/** The JSON body, read freely by the assertions. */
const json = (r: RedfishResponse): any => r.body;

describe('RedfishService', () => {
  let env: ReturnType<typeof setup>;
  beforeEach(() => { env = setup(); });
  afterEach(async () => { await env.machine.close(); });

  it('serves the root, /redfish and the OData documents without credentials; nothing else', async () => {
    for (const p of ['/redfish', '/redfish/v1', '/redfish/v1/', '/redfish/v1/odata', '/redfish/v1/$metadata']) expect([p, (await env.send('GET', p)).status]).toEqual([p, 200]);
    const r = await env.send('GET', '/redfish/v1/Systems');
    expect([r.status, r.headers['WWW-Authenticate'], errorCode(r)]).toEqual([401, 'Basic realm="Redfish"', 'NoValidSession']);
    // Unknown paths need credentials too: an anonymous client learns nothing about what exists.
    expect((await env.send('GET', '/redfish/v1/Nowhere')).status).toBe(401);
    expect((await env.send('GET', '/redfish/v1/Nowhere', { headers: ADMIN })).status).toBe(404);
    expect((await env.send('GET', '/redfish/v1/$metadata')).body).toMatch(/<edmx:Include Namespace="ComputerSystem.v1_27_0"\/>/);
  });

  it('gives every resource an ETag equal to its @odata.etag', async () => {
    const r = await env.send('GET', SYSTEM, { headers: ADMIN });
    expect(r.headers.ETag).toMatch(/^W\/"[0-9a-f]{16}"$/);
    expect(json(r)['@odata.etag']).toBe(r.headers.ETag);
  });

  it('sessions: 201 with token and Location, sliding timeout, 401 after it, DELETE of one\'s own', async () => {
    const created = await env.send('POST', '/redfish/v1/SessionService/Sessions', { body: { UserName: 'admin', Password: 'password' } });
    expect(created.status).toBe(201);
    const token = created.headers['X-Auth-Token']!;
    const location = created.headers.Location!;
    expect(location).toBe(`/redfish/v1/SessionService/Sessions/${json(created).Id}`);
    const auth = { 'x-auth-token': token };
    env.advance(1_799_000);
    expect((await env.send('GET', SYSTEM, { headers: auth })).status).toBe(200);
    env.advance(1_799_000); // slid: 1799 s after the last use
    expect((await env.send('GET', SYSTEM, { headers: auth })).status).toBe(200);
    env.advance(1_800_000);
    expect((await env.send('GET', SYSTEM, { headers: auth })).status).toBe(401);

    const again = await env.send('POST', '/redfish/v1/SessionService/Sessions', { body: { UserName: 'admin', Password: 'password' } });
    const auth2 = { 'x-auth-token': again.headers['X-Auth-Token']! };
    expect((await env.send('DELETE', again.headers.Location!, { headers: auth2 })).status).toBe(204);
    expect((await env.send('GET', SYSTEM, { headers: auth2 })).status).toBe(401);
  });

  it('refuses a session for wrong credentials, and names missing fields', async () => {
    const wrong = await env.send('POST', '/redfish/v1/SessionService/Sessions', { body: { UserName: 'admin', Password: 'nope' } });
    expect([wrong.status, errorCode(wrong)]).toEqual([401, 'ResourceAtUriUnauthorized']);
    const missing = await env.send('POST', '/redfish/v1/SessionService/Sessions', { body: { UserName: 'admin' } });
    expect([missing.status, errorCode(missing), JSON.stringify(missing.body)]).toEqual([400, 'PropertyMissing', expect.stringContaining('Password')]);
  });

  it('maps IPMI privileges to roles: a USER-level account reads but may not reset', async () => {
    env.users.setName(3, Buffer.from('viewer'));
    env.users.setPassword(3, Buffer.from('viewpass'), 16);
    env.users.setAccess(3, Privilege.User);
    env.users.setEnabled(3, true);
    const viewer = basic('viewer', 'viewpass');
    expect((await env.send('GET', SYSTEM, { headers: viewer })).status).toBe(200);
    const r = await env.send('POST', RESET, { headers: viewer, body: { ResetType: 'On' } });
    expect([r.status, errorCode(r)]).toEqual([403, 'InsufficientPrivilege']);
    expect(json(await env.send('GET', '/redfish/v1/AccountService/Accounts/3', { headers: viewer })).RoleId).toBe('ReadOnly');
  });

  it('a session follows its user as IPMI changes it: role at once; renamed, disabled or without access, it ends', async () => {
    const open = async (): Promise<Record<string, string>> => {
      env.users.setName(3, Buffer.from('viewer'));
      env.users.setPassword(3, Buffer.from('viewpass'), 16);
      env.users.setAccess(3, Privilege.Operator);
      env.users.setEnabled(3, true);
      const created = await env.send('POST', '/redfish/v1/SessionService/Sessions', { body: { UserName: 'viewer', Password: 'viewpass' } });
      return { 'x-auth-token': created.headers['X-Auth-Token']! };
    };
    const status = async (auth: Record<string, string>, method = 'GET', path = SYSTEM): Promise<number> => (await env.send(method, path, { headers: auth, ...(method === 'POST' ? { body: { ResetType: 'Nmi' } } : {}) })).status;
    let auth = await open();
    expect(await status(auth, 'POST', RESET)).toBe(409); // allowed (the machine is off)
    env.users.setAccess(3, Privilege.User);
    expect([await status(auth, 'POST', RESET), await status(auth)]).toEqual([403, 200]);
    env.users.setName(3, Buffer.from('viewer2'));
    expect(await status(auth)).toBe(401);
    auth = await open();
    env.users.setEnabled(3, false);
    expect(await status(auth)).toBe(401);
    auth = await open();
    env.users.setAccess(3, Privilege.NoAccess);
    expect(await status(auth)).toBe(401);
  });

  it('locks a user out after the IPMI lockout threshold of wrong passwords, the right one included', async () => {
    for (let i = 0; i < 5; i++) expect((await env.send('GET', SYSTEM, { headers: basic('admin', 'bad') })).status).toBe(401);
    expect((await env.send('GET', SYSTEM, { headers: ADMIN })).status).toBe(401);
    expect(env.users.checkLogin(2, '192.0.2.1', T0).allowed).toBe(false);
    // The lockout is the sender's: the same user from another address still gets in (IPMI's rule too).
    expect(env.users.checkLogin(2, '192.0.2.2', T0).allowed).toBe(true);
  });

  it('PATCH merges Boot, accepts the whole Boot sent back unchanged (bmclib), and reads back at once', async () => {
    const before = json(await env.send('GET', SYSTEM, { headers: ADMIN }));
    const whole = { ...before.Boot, BootSourceOverrideTarget: 'Pxe', BootSourceOverrideEnabled: 'Once', BootSourceOverrideMode: 'UEFI' };
    const r = await env.send('PATCH', SYSTEM, { headers: ADMIN, body: { Boot: whole } });
    expect(r.status).toBe(200);
    expect(json(r).Boot).toMatchObject({ BootSourceOverrideTarget: 'Pxe', BootSourceOverrideEnabled: 'Once', BootSourceOverrideMode: 'UEFI' });
    await env.send('PATCH', SYSTEM, { headers: ADMIN, body: { Boot: { BootSourceOverrideEnabled: 'Continuous' } } });
    expect(json(await env.send('GET', SYSTEM, { headers: ADMIN })).Boot).toMatchObject({ BootSourceOverrideTarget: 'Pxe', BootSourceOverrideEnabled: 'Continuous', BootSourceOverrideMode: 'UEFI' });
  });

  it('a System read again unchanged is the same answer; a change made elsewhere shows at once', async () => {
    const read = async (): Promise<RedfishResponse> => env.send('GET', SYSTEM, { headers: ADMIN });
    const shown = (r: RedfishResponse): unknown[] => [json(r).PowerState, json(r).Boot.BootSourceOverrideTarget, json(r).Boot.BootSourceOverrideEnabled, json(r).Boot.BootSourceOverrideMode];
    const first = await read();
    expect(await read()).toBe(first);
    const tags = new Set([first.headers.ETag]);
    const expectShown = async (want: unknown[]): Promise<RedfishResponse> => {
      const r = await read();
      expect(shown(r)).toEqual(want);
      expect(json(r)['@odata.etag']).toBe(r.headers.ETag);
      tags.add(r.headers.ETag);
      return r;
    };
    await expectShown(['Off', 'None', 'Disabled', 'Legacy']);
    // IPMI Set System Boot Options parameter 5 (IPMI v2.0 Table 28-14): valid, next boot only, EFI, PXE.
    const ipmiBootFlags = (byte1: number, byte2: number): void => { expect(env.boot.write(5, false, Buffer.from([byte1, byte2, 0, 0, 0]), env.core.clock()).ok).toBe(true); };
    ipmiBootFlags(0xa0, 0x04);
    await expectShown(['Off', 'Pxe', 'Once', 'UEFI']);
    ipmiBootFlags(0xc0, 0x08); // persistent, legacy, disk
    await expectShown(['Off', 'Hdd', 'Continuous', 'Legacy']);
    // The machine powers on (a guest or an IPMI chassis control, not Redfish): a persistent override stays.
    await env.machine.power('on');
    await expectShown(['On', 'Hdd', 'Continuous', 'Legacy']);
    ipmiBootFlags(0xa0, 0x14); // next boot only, EFI, CD
    await expectShown(['On', 'Cd', 'Once', 'UEFI']);
    // The IPMI valid bit expires 60 s after the Set (IPMI v2.0 section 28.12, parameter 3).
    env.advance(61_000);
    await expectShown(['On', 'None', 'Disabled', 'UEFI']);
    ipmiBootFlags(0xa0, 0x04);
    await env.machine.power('off');
    await env.machine.power('on');
    // That boot consumed the once-only override.
    const last = await expectShown(['On', 'None', 'Disabled', 'UEFI']);
    expect(await read()).toBe(last);
    expect(tags.size).toBe(6);
  });

  it('a UEFI-only machine answers Legacy with 400 PropertyValueNotInList, and bmclib\'s retry without Mode succeeds', async () => {
    await env.machine.close();
    env = setup(['uefi']);
    const r = await env.send('PATCH', SYSTEM, { headers: ADMIN, body: { Boot: { BootSourceOverrideTarget: 'Pxe', BootSourceOverrideEnabled: 'Once', BootSourceOverrideMode: 'Legacy' } } });
    expect([r.status, errorCode(r)]).toEqual([400, 'PropertyValueNotInList']);
    expect(JSON.stringify(r.body)).toContain('Boot/BootSourceOverrideMode');
    expect(json(await env.send('GET', SYSTEM, { headers: ADMIN })).Boot['BootSourceOverrideMode@Redfish.AllowableValues']).toEqual(['UEFI']);
    expect((await env.send('PATCH', SYSTEM, { headers: ADMIN, body: { Boot: { BootSourceOverrideTarget: 'Pxe', BootSourceOverrideEnabled: 'Once' } } })).status).toBe(200);
  });

  it('If-Match: the current tag (weak or strong) passes on PATCH and POST; a stale one is 412', async () => {
    const tag = (await env.send('GET', SYSTEM, { headers: ADMIN })).headers.ETag!;
    const stale = await env.send('POST', RESET, { headers: { ...ADMIN, 'if-match': 'W/"0123456789abcdef"' }, body: { ResetType: 'On' } });
    expect([stale.status, errorCode(stale)]).toEqual([412, 'PreconditionFailed']);
    expect((await env.send('PATCH', SYSTEM, { headers: { ...ADMIN, 'if-match': tag.replace(/^W\//, '') }, body: { Boot: { BootSourceOverrideTarget: 'Hdd' } } })).status).toBe(200);
    // The PATCH changed the resource: the old tag is stale now.
    expect((await env.send('PATCH', SYSTEM, { headers: { ...ADMIN, 'if-match': tag }, body: {} })).status).toBe(412);
  });

  it('Reset: powers on through the core, logs it, refuses unknown types and needs power for PowerCycle', async () => {
    const bad = await env.send('POST', RESET, { headers: ADMIN, body: { ResetType: 'Reboot' } });
    expect([bad.status, errorCode(bad)]).toEqual([400, 'ActionParameterNotSupported']);
    const cycle = await env.send('POST', RESET, { headers: ADMIN, body: { ResetType: 'PowerCycle' } });
    expect([cycle.status, errorCode(cycle)]).toEqual([409, 'OperationNotAllowed']);
    expect((await env.send('POST', RESET, { headers: ADMIN, body: { ResetType: 'ForceOff' } })).status).toBe(204); // already off
    expect((await env.send('POST', RESET, { headers: ADMIN, body: { ResetType: 'On' } })).status).toBe(204);
    expect(await env.machine.powerState()).toBe('on');
    expect(env.core.chassis.restartCause().cause).toBe(0x01); // chassis control command
    const entries = json(await env.send('GET', '/redfish/v1/Managers/1/LogServices/SEL/Entries', { headers: ADMIN })).Members;
    const last = json(await env.send('GET', entries[entries.length - 1]['@odata.id'], { headers: ADMIN }));
    expect(last).toMatchObject({ EntryType: 'SEL', Message: 'System powered on (S0/G0: working).' });
  });

  it('answers malformed bodies, wrong media types and wrong methods with their errors', async () => {
    const cases: Array<[string, string, { raw?: string; headers?: Record<string, string> }, number, string]> = [
      ['PATCH', SYSTEM, { raw: '{' }, 400, 'MalformedJSON'],
      ['PATCH', SYSTEM, { raw: '[1]' }, 400, 'MalformedJSON'],
      ['PATCH', SYSTEM, { raw: 'x=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, 415, 'UnsupportedMediaType'],
      ['PUT', SYSTEM, {}, 405, 'OperationNotAllowed'],
      ['PATCH', SYSTEM, { raw: '{"Boot":"Pxe"}' }, 400, 'PropertyValueTypeError'],
      ['PATCH', SYSTEM, { raw: '{"Boot":{"BootSourceOverrideEnabled":"Sometimes"}}' }, 400, 'PropertyValueNotInList'],
      ['PATCH', SYSTEM, { raw: '{"Boot":{"BootOrder":["x"]}}' }, 400, 'PropertyUnknown'],
    ];
    for (const [method, path, opts, status, code] of cases) {
      const r = await env.send(method, path, { ...opts, headers: { ...ADMIN, ...opts.headers } });
      expect([method, opts.raw, r.status, errorCode(r)]).toEqual([method, opts.raw, status, code]);
    }
    expect((await env.send('PUT', SYSTEM, { headers: ADMIN })).headers.Allow).toBe('GET, PATCH');
  });

  it('SessionService.SessionTimeout is PATCHable within 30..86400 s', async () => {
    expect((await env.send('PATCH', '/redfish/v1/SessionService', { headers: ADMIN, body: { SessionTimeout: 10 } })).status).toBe(400);
    expect(json(await env.send('PATCH', '/redfish/v1/SessionService', { headers: ADMIN, body: { SessionTimeout: 60 } })).SessionTimeout).toBe(60);
    expect(env.service.sessions.timeoutMs).toBe(60_000);
  });
});
